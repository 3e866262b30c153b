"""The downstream study's data sets (issue 17, item 1): balanced, seeded, offline, grouped views.

Oracles: the data sets' definitions (class counts, feature counts, sizes of the bundled sets), the
grouping contract of the views (rows ``i*m .. (i+1)*m - 1`` come from ``X[i]``), and, for MNIST-1D,
the package's own transformation functions.
"""

from __future__ import annotations

import importlib
import random
import socket
import subprocess
import sys
from contextlib import contextmanager

import numpy as np
import pytest

from kssl_theory.errors import InputError
from kssl_theory.experiments import study_datasets as sd

NAMES = ["digits", "mnist1d", "moons", "circles", "s_curve", "wine"]
#: Classes and features of each data set, from its definition.
SHAPES = {
    "digits": (10, 64),
    "mnist1d": (10, 40),
    "moons": (2, 2),
    "circles": (2, 2),
    "s_curve": (4, 3),
    "wine": (3, 13),
}
N, M = 60, 3


def _data(name, seed=0, n=N):
    return sd.get_study_dataset(name).load(n, seed)


def test_registry_lists_the_data_sets_in_order():
    assert list(sd.STUDY_DATASETS) == NAMES
    for name, d in sd.STUDY_DATASETS.items():
        assert d.name == name and (d.n_classes, d.n_features) == SHAPES[name]
        assert sd.get_study_dataset(name) is d
        assert d.description and "\n" not in d.description


@pytest.mark.parametrize("name", NAMES)
def test_load_shapes_dtypes_and_balanced_labels(name):
    d = sd.get_study_dataset(name)
    X, y = d.load(N, 0)
    assert X.shape == (N, d.n_features) and X.dtype == np.float64
    assert y.shape == (N,) and y.dtype == np.int64
    assert np.all(np.isfinite(X))
    counts = np.bincount(y, minlength=d.n_classes)
    assert counts.size == d.n_classes  # labels in 0 .. n_classes - 1
    assert counts.max() - counts.min() <= 1, counts
    # n not a multiple of the classes: still as balanced as possible
    _, y_odd = d.load(N + 1, 0)
    counts = np.bincount(y_odd, minlength=d.n_classes)
    assert counts.size == d.n_classes and counts.max() - counts.min() <= 1 and counts.sum() == N + 1


@pytest.mark.parametrize("name", NAMES)
def test_load_and_augment_are_deterministic_given_the_seed(name):
    d = sd.get_study_dataset(name)
    (X1, y1), (X2, y2), (X3, _) = d.load(N, 5), d.load(N, 5), d.load(N, 6)
    np.testing.assert_array_equal(X1, X2)
    np.testing.assert_array_equal(y1, y2)
    assert not np.array_equal(X1, X3)
    V1, V2, V3 = d.augment(X1, M, 7), d.augment(X1, M, 7), d.augment(X1, M, 8)
    np.testing.assert_array_equal(V1, V2)
    assert not np.array_equal(V1, V3)
    # One stream per view index: drawing more views keeps the first ones.
    np.testing.assert_array_equal(d.augment(X1, M + 1, 7).reshape(N, M + 1, -1)[:, :M], V1.reshape(N, M, -1))


@pytest.mark.parametrize("name", NAMES)
def test_views_are_grouped_by_sample_and_change_the_points(name):
    """Each view stays near its own base point, at the scale of the data.

    Statistic: for every view, its distance to its own base point against the *median* of its
    distances to the other base points (the typical distance from that view to a sample that is not
    its own). Small augmentations keep the first below the second; we require it for at least 95%
    of the views. Per view and rank-based, so a rare large draw (a big crop of a digit, a steep
    shear of a signal) cannot fail the test and a few large views cannot hide a wrong grouping;
    the median rather than the nearest other sample because natural augmentations may move a view
    farther than its nearest neighbour (digits: 1.8 against 1.2). Measured at 500 samples x 4
    views, the fraction is 0.99 or more for every data set. Views that did not come from their row
    (a wrong grouping) would pass only about half the time.
    """
    d = sd.get_study_dataset(name)
    X, _ = d.load(N, 1)
    V = d.augment(X, M, 2)
    assert V.shape == (N * M, d.n_features) and V.dtype == np.float64
    dist = np.linalg.norm(V[:, None, :] - X[None, :, :], axis=-1)  # (N M, N)
    own = dist[np.arange(N * M), np.repeat(np.arange(N), M)]
    others = np.where(np.repeat(np.eye(N, dtype=bool), M, axis=0), np.nan, dist)
    assert np.mean(own < np.nanmedian(others, axis=1)) >= 0.95
    # The augmentations change every point, and the views of one sample differ from each other.
    assert np.all(own > 0)
    per_sample = V.reshape(N, M, -1)
    assert np.all(np.linalg.norm(per_sample[:, 0] - per_sample[:, 1], axis=-1) > 0)
    # A wrong grouping fails the statistic: pair the views with the base points shifted by one.
    shifted = dist[np.arange(N * M), (np.repeat(np.arange(N), M) + 1) % N]
    assert np.mean(shifted < np.nanmedian(others, axis=1)) < 0.8


@pytest.mark.parametrize("name", NAMES)
def test_no_network_access(name, monkeypatch):
    def refuse(*args, **kwargs):
        raise AssertionError("network access attempted")

    monkeypatch.setattr(socket, "socket", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)
    d = sd.get_study_dataset(name)
    X, _ = d.load(20, 3)
    d.augment(X, 2, 3)


def test_mnist1d_leaves_the_global_random_state_alone():
    """``mnist1d.data.make_dataset`` seeds NumPy's and Python's global generators; load restores them."""
    np.random.seed(123)  # noqa: NPY002
    random.seed(123)
    before_np, before_py = np.random.get_state(), random.getstate()  # noqa: NPY002
    _data("mnist1d", n=20)
    after_np = np.random.get_state()  # noqa: NPY002
    assert random.getstate() == before_py
    assert all(np.array_equal(a, b) for a, b in zip(before_np, after_np))


def test_importing_the_module_loads_neither_mnist1d_nor_scikit_learn():
    code = (
        "import sys, kssl_theory.experiments.study_datasets\n"
        "heavy = [m for m in ('mnist1d', 'requests', 'matplotlib', 'sklearn') if m in sys.modules]\n"
        "assert not heavy, heavy\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


# --- what each data set is ---------------------------------------------------------------------------


def test_digits_are_the_bundled_images():
    X, y = _data("digits", n=1797)
    assert X.min() == 0.0 and X.max() == 1.0
    np.testing.assert_array_equal(np.bincount(y), [178, 182, 177, 183, 181, 182, 181, 179, 174, 180])


def test_wine_is_z_scored_on_its_samples_and_balanced_as_far_as_possible():
    X, y = _data("wine", n=178)
    np.testing.assert_allclose(X.mean(axis=0), 0.0, atol=1e-12)
    np.testing.assert_allclose(X.std(axis=0), 1.0)
    np.testing.assert_array_equal(np.bincount(y), [59, 71, 48])  # all of it
    _, y = _data("wine", n=160)  # class 2 has only 48: the others share the rest
    np.testing.assert_array_equal(np.bincount(y), [56, 56, 48])


def test_s_curve_classes_are_segments_of_the_curve():
    """The classes are consecutive segments of the curve parameter t (cut at its quartiles), so two
    classes that are not neighbours along the curve are apart in space: their closest points are
    more than 0.3 apart (about 1.4 without noise; the noise is 0.05)."""
    X, y = _data("s_curve", n=400)
    for a, b in [(0, 2), (0, 3), (1, 3)]:
        gap = np.linalg.norm(X[y == a][:, None] - X[y == b][None], axis=-1).min()
        assert gap > 0.3


@contextmanager
def _global_numpy_seed(seed):
    """Seed NumPy's global generator (the mnist1d package draws from it), then restore it."""
    state = np.random.get_state()  # noqa: NPY002
    np.random.seed(seed)  # noqa: NPY002
    try:
        yield
    finally:
        np.random.set_state(state)  # noqa: NPY002


def test_mnist1d_views_use_the_package_transformations():
    """With the other magnitudes zero, a view is the signal itself (identity), a circular shift of it by
    at most ``max_shift`` (as the package's ``translate``, a circular roll), or the signal minus a
    linear ramp (as the package's ``shear``)."""
    transform = importlib.import_module("mnist1d.transform")
    X, _ = _data("mnist1d", n=10)
    ramp = np.linspace(-0.5, 0.5, X.shape[1])
    off = dict(max_shift=0, scale_coeff=0.0, corr_noise_scale=0.0, iid_noise_scale=0.0, shear_scale=0.0)
    np.testing.assert_array_equal(sd.Mnist1dAugmentation(**off)(X, 0), X)

    shifted = sd.Mnist1dAugmentation(**{**off, "max_shift": 2})(X, 1)
    for x, v in zip(X, shifted):
        assert any(np.array_equal(v, np.roll(x, k)) for k in range(-2, 3))
    with _global_numpy_seed(4):
        rolled = transform.translate(X[0], 5)
    assert any(np.array_equal(rolled, np.roll(X[0], k)) for k in range(5))

    sheared = sd.Mnist1dAugmentation(**{**off, "shear_scale": 0.75})(X, 2)
    coeff = (X - sheared) @ ramp / (ramp @ ramp)
    np.testing.assert_allclose(X - sheared, coeff[:, None] * ramp, atol=1e-12)
    assert np.all(np.abs(coeff) <= 0.75 / 2 / sd.MNIST1D_RAW_STD) and np.ptp(coeff) > 0
    with _global_numpy_seed(5):
        package = X[0] - transform.shear(X[0], 0.75)
    np.testing.assert_allclose(package, (package @ ramp / (ramp @ ramp)) * ramp, atol=1e-12)


# --- errors ------------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", NAMES)
def test_too_many_or_too_few_samples_are_refused(name):
    d = sd.get_study_dataset(name)
    with pytest.raises(InputError, match=f"at most {d.max_samples}"):
        d.load(d.max_samples + 1, 0)
    with pytest.raises(InputError, match=f"at least {d.n_classes}"):
        d.load(d.n_classes - 1, 0)
    with pytest.raises(InputError, match="n_samples"):
        d.load(10.0, 0)
    with pytest.raises(InputError, match="seed"):
        d.load(20, -1)


def test_maximum_sizes():
    assert sd.get_study_dataset("wine").max_samples == 178
    assert sd.get_study_dataset("digits").max_samples == 1797
    with pytest.raises(InputError, match="178"):
        sd.get_study_dataset("wine").load(500, 0)


def test_unknown_name_suggests_the_closest():
    with pytest.raises(InputError, match="did you mean 'digits'"):
        sd.get_study_dataset("digit")
    with pytest.raises(InputError, match="did you mean 's_curve'"):
        sd.get_study_dataset("scurve")


@pytest.mark.parametrize(
    "X, n_views, match",
    [
        (np.zeros((4, 3)), 2, "shape"),
        (np.zeros(2), 2, "shape"),
        (np.zeros((0, 2)), 2, "shape"),
        (np.zeros((4, 2)), 0, "n_views"),
        (np.full((4, 2), np.nan), 2, "NaN"),
    ],
)
def test_augment_refuses_bad_input(X, n_views, match):
    with pytest.raises(InputError, match=match):
        sd.get_study_dataset("moons").augment(X, n_views, 0)
