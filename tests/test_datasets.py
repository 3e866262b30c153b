"""Data sets and augmentations: determinism, shapes, group labels, label preservation."""

from __future__ import annotations

import numpy as np
import pytest

from kssl_theory.errors import InputError
from kssl_theory.experiments import datasets as ds


@pytest.mark.parametrize("maker", [ds.make_blobs, ds.make_moons, ds.make_circles])
def test_synthetic_sets_are_seeded(maker):
    X1, y1 = maker(60, seed=3)
    X2, y2 = maker(60, seed=3)
    X3, _ = maker(60, seed=4)
    assert X1.shape == (60, 2) and y1.shape == (60,)
    np.testing.assert_array_equal(X1, X2)
    np.testing.assert_array_equal(y1, y2)
    assert not np.array_equal(X1, X3)
    assert set(np.unique(y1)) <= set(range(3))


def test_blobs_are_balanced_and_separated():
    X, y = ds.make_blobs(90, n_classes=3, n_features=5, spread=0.1, separation=5.0, seed=0)
    assert X.shape == (90, 5)
    np.testing.assert_array_equal(np.bincount(y), [30, 30, 30])
    # Tight blobs: every point is closest to its own class mean.
    means = np.stack([X[y == c].mean(0) for c in range(3)])
    assert np.all(np.argmin(((X[:, None] - means[None]) ** 2).sum(-1), axis=1) == y)


def test_load_digits_is_the_bundled_set():
    images, labels = ds.load_digits()
    assert images.shape == (1797, 8, 8) and labels.shape == (1797,)
    assert images.min() == 0.0 and images.max() == 1.0
    np.testing.assert_array_equal(np.unique(labels), np.arange(10))


def test_shift_moves_pixels_and_fills_zeros():
    img = np.zeros((1, 4, 4))
    img[0, 1, 2] = 1.0
    out = ds.shift_images(img, [[1, -1]])
    assert out[0, 2, 1] == 1.0 and out.sum() == 1.0
    # Shifting a pixel off the border drops it (no wrap-around).
    assert ds.shift_images(img, [[0, 2]]).sum() == 0.0


def test_identity_transforms_are_identities():
    images, _ = ds.load_digits()
    batch = images[:5]
    np.testing.assert_allclose(ds.rotate_images(batch, np.zeros(5)), batch, atol=1e-12)
    np.testing.assert_allclose(ds.crop_resize_images(batch, np.tile([0.0, 0.0, 8.0], (5, 1))), batch, atol=1e-12)
    np.testing.assert_array_equal(ds.shift_images(batch, np.zeros((5, 2), int)), batch)


def test_each_augmentation_changes_images():
    images, _ = ds.load_digits()
    batch = images[:20]
    rng = np.random.default_rng(0)
    assert np.all(np.abs(ds.rotate_images(batch, np.full(20, 15.0)) - batch).sum(axis=(1, 2)) > 0.1)
    assert np.all(np.abs(ds.shift_images(batch, np.ones((20, 2), int)) - batch).sum(axis=(1, 2)) > 0.1)
    crops = np.tile([1.0, 1.0, 6.0], (20, 1))
    assert np.all(np.abs(ds.crop_resize_images(batch, crops) - batch).sum(axis=(1, 2)) > 0.1)
    noisy = ds.add_noise(batch, 0.1, rng)
    assert np.all(np.abs(noisy - batch).sum(axis=(1, 2)) > 0.1)
    assert noisy.min() >= 0.0 and noisy.max() <= 1.0


def test_augmentation_is_deterministic_and_strength_scales():
    images, _ = ds.load_digits()
    aug = ds.ImageAugmentation()
    a, b = aug(images[:10], seed=5), aug(images[:10], seed=5)
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, aug(images[:10], seed=6))
    assert ds.ImageAugmentation().scaled(0) == ds.ImageAugmentation(0, 0.0, 0.0, 0.0)
    np.testing.assert_array_equal(ds.ImageAugmentation().scaled(0)(images[:4], seed=1), images[:4])
    weak = np.abs(aug.scaled(0.25)(images[:50], seed=0) - images[:50]).mean()
    strong = np.abs(aug.scaled(2.0)(images[:50], seed=0) - images[:50]).mean()
    assert strong > weak > 0


def test_make_views_layout_and_labels():
    images, labels = ds.load_digits()
    base, lab = images[:7], labels[:7]
    v = ds.make_views(base, 3, ds.ImageAugmentation(), labels=lab, seed=1)
    assert v.X.shape == (21, 64) and v.n_views == 3 and v.n_groups == 7
    np.testing.assert_array_equal(v.groups, np.repeat(np.arange(7), 3))
    np.testing.assert_array_equal(v.labels, np.repeat(lab, 3))
    # Views of one image differ from each other and from the clean image.
    X = v.X.reshape(7, 3, 64)
    assert np.all(np.abs(X[:, 0] - X[:, 1]).sum(1) > 0)
    assert np.all(np.abs(X - base.reshape(7, 1, 64)).sum(2) > 0)
    with_orig = ds.make_views(base, 3, ds.ImageAugmentation(), labels=lab, include_original=True, seed=1)
    np.testing.assert_array_equal(with_orig.X.reshape(7, 3, 64)[:, 0], base.reshape(7, 64))


def test_augmented_views_stay_closest_to_their_own_class_on_average():
    """Label preservation, measured: a view is nearer (on average) to its own class's clean mean."""
    images, labels = ds.load_digits()
    v = ds.make_views(images[:400], 2, ds.ImageAugmentation(), labels=labels[:400], seed=0)
    means = np.stack([images[labels == c].reshape(-1, 64).mean(0) for c in range(10)])
    nearest = np.argmin(((v.X[:, None] - means[None]) ** 2).sum(-1), axis=1)
    # 92% on clean images, about 75% on default views (ImageAugmentation's docstring).
    assert np.mean(nearest == v.labels) > 0.6


def test_point_augmentation():
    X, _ = ds.make_moons(30, seed=0)
    v = ds.make_views(X, 4, ds.PointAugmentation(0.05), seed=2)
    assert v.X.shape == (120, 2) and v.labels is None
    d = np.linalg.norm(v.X.reshape(30, 4, 2) - X[:, None], axis=2)
    assert 0 < d.mean() < 0.2


def test_stratified_split_is_disjoint_balanced_and_seeded():
    _, labels = ds.load_digits()
    tr, te = ds.stratified_split(labels, 300, 200, seed=0)
    assert tr.size == 300 and te.size == 200 and not set(tr) & set(te)
    # Proportional quotas (largest remainders): the 10 classes have 174..183 images.
    assert np.all(np.abs(np.bincount(labels[tr]) - 30) <= 1) and np.bincount(labels[tr]).sum() == 300
    tr2, te2 = ds.stratified_split(labels, 300, 200, seed=0)
    np.testing.assert_array_equal(tr, tr2)
    np.testing.assert_array_equal(te, te2)
    with pytest.raises(InputError):
        ds.stratified_split(labels, 1700, 200)


def test_digits_split_is_deterministic_and_strength_keeps_split():
    a = ds.digits_split(50, 40, n_views=2, seed=9)
    b = ds.digits_split(50, 40, n_views=2, seed=9)
    np.testing.assert_array_equal(a.views.X, b.views.X)
    np.testing.assert_array_equal(a.test_images, b.test_images)
    assert a.views.X.shape == (100, 64) and a.train_X.shape == (50, 64) and a.test_X.shape == (40, 64)
    np.testing.assert_array_equal(a.views.labels, np.repeat(a.train_labels, 2))
    c = ds.digits_split(50, 40, n_views=2, strength=2.0, seed=9)
    np.testing.assert_array_equal(a.train_images, c.train_images)
    assert not np.array_equal(a.views.X, c.views.X)


def test_invalid_arguments():
    with pytest.raises(InputError):
        ds.ImageAugmentation(crop=1.5)
    with pytest.raises(InputError):
        ds.make_views(np.zeros((3, 2)), 0, ds.PointAugmentation())
    with pytest.raises(InputError):
        ds.shift_images(np.zeros((3, 3)), [[0, 0]])


def test_translate_matches_integer_shift_and_keeps_border_pixels():
    images, _ = ds.load_digits()
    batch = images[:10]
    offsets = np.random.default_rng(0).integers(-1, 2, size=(10, 2))
    np.testing.assert_allclose(ds.translate_images(batch, offsets), ds.shift_images(batch, offsets), atol=1e-12)
    # Regression: SciPy's mode="constant" wipes border rows for a tiny rotation; "grid-constant" must not.
    tiny = ds.rotate_images(batch, np.full(10, 0.001))
    assert np.max(np.abs(tiny - batch)) < 1e-3
    assert np.max(np.abs(ds.translate_images(batch, np.full((10, 2), 1e-4)) - batch)) < 1e-3
