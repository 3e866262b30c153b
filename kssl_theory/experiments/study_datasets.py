r"""Small data sets with their natural augmentations, for the downstream study (issue 17).

"When does the induced kernel help downstream?" compares the base kernel with induced kernels on
several small data sets. Each is a :class:`StudyDataset`: :meth:`~StudyDataset.load` gives
class-balanced base points ``(X, y)`` and :meth:`~StudyDataset.augment` gives ``n_views`` random
augmentations of every base point, grouped by sample (rows ``i*m .. i*m+m-1`` are the views of
``X[i]``), ready for a relation graph that relates views of the same base sample.

Every data set installs from the package registry (scikit-learn's bundled data, the ``mnist1d``
package, generators); nothing is downloaded at run time. Everything is deterministic from the
integer ``seed`` (NumPy ``default_rng`` / :class:`numpy.random.SeedSequence`, never NumPy's or
Python's global random state): :meth:`~StudyDataset.load` draws from its own stream of ``seed``,
independent of the view streams :meth:`~StudyDataset.augment` spawns from the same ``seed``
(:func:`kssl_theory.experiments.datasets.make_views`: one stream per view index, so the first
``m`` views of a sample do not change when more are drawn).

The data sets (:data:`STUDY_DATASETS`, in this order):

``digits``
    scikit-learn's 8×8 handwritten digits (1,797 images bundled with scikit-learn), flattened to 64
    features in ``[0, 1]``; 10 classes. Views: the project's default
    :class:`~kssl_theory.experiments.datasets.ImageAugmentation` (a random crop of up to 20% of the
    side resized back, a rotation of up to ±10°, a sub-pixel shift of up to ±0.5 px and pixel noise
    of standard deviation 0.05, clipped to ``[0, 1]``).
``mnist1d``
    MNIST-1D (Greydanus & Steinbach; the ``mnist1d`` package), generated locally by
    ``mnist1d.data.make_dataset`` with the package's default arguments (40 features, standardised
    by the package to zero mean and unit variance over the generated set); 10 classes. Views: the
    package's own nuisance transformations (``mnist1d/transform.py``) applied to the signal itself —
    see :class:`Mnist1dAugmentation`.
``moons``, ``circles``
    scikit-learn's two interleaving half circles (noise :data:`MOONS_NOISE`) and two concentric
    circles (noise :data:`CIRCLES_NOISE`, radius ratio 0.5); 2 classes, 2 features. Views:
    isotropic Gaussian jitter (:class:`~kssl_theory.experiments.datasets.PointAugmentation`) of
    standard deviation 10% of the generating distribution's RMS spread (:data:`JITTER_FRACTION`):
    the classes are 1-D manifolds that a local base kernel sees only locally, and the jitter is
    small next to the gap between them but larger than the spacing of a few hundred samples, so
    views of neighbouring samples overlap.
``s_curve``
    scikit-learn's S-curve (a 2-D sheet in 3-D, noise :data:`S_CURVE_NOISE`), in
    :data:`S_CURVE_CLASSES` classes: consecutive segments of the curve's parameter ``t`` cut at the
    loaded samples' quantiles (so the classes are balanced). Views: jitter as for ``moons``.
``wine``
    scikit-learn's wine recognition data (178 samples, 13 chemical measurements, 3 cultivars),
    z-scored with the mean and standard deviation of the loaded samples only. Views: Gaussian
    feature noise and feature dropout (:class:`FeatureNoiseDropout`) — augmentations that carry
    little information about the classes. Chosen over ``breast_cancer`` because its classes are
    nearly balanced (59/71/48 against 212/357, so every ``n`` up to 144 is exactly balanced) and it
    has 3 classes, like the other multi-class sets of the study.

Sizes: the bundled sets refuse more samples than they hold (1,797 digits, 178 wines); the
generated ones are capped at :data:`MAX_GENERATED` base samples (the study's kernel matrices have
``(n m)^2`` entries, so larger sets are beyond its reach anyway; generating 10,000 MNIST-1D
signals takes a few seconds).
"""

from __future__ import annotations

import importlib
import random
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import cache
from typing import Any

import numpy as np

from ..errors import BackendUnavailableError, InputError
from ..validation import check_choice, check_int
from .datasets import ImageAugmentation, PointAugmentation, load_digits, make_circles, make_moons, make_views

__all__ = [
    "StudyDataset",
    "STUDY_DATASETS",
    "get_study_dataset",
    "Mnist1dAugmentation",
    "FeatureNoiseDropout",
    "MAX_GENERATED",
    "MOONS_NOISE",
    "CIRCLES_NOISE",
    "S_CURVE_NOISE",
    "S_CURVE_CLASSES",
    "JITTER_FRACTION",
    "MNIST1D_RAW_STD",
]

#: Most base samples a generated data set (``mnist1d``, ``moons``, ``circles``, ``s_curve``) gives.
MAX_GENERATED = 10_000
#: Standard deviation of the Gaussian noise scikit-learn adds to the moons.
MOONS_NOISE = 0.1
#: Standard deviation of the Gaussian noise scikit-learn adds to the circles (radii 1 and 0.5).
CIRCLES_NOISE = 0.05
#: Standard deviation of the Gaussian noise scikit-learn adds to the S-curve.
S_CURVE_NOISE = 0.05
#: Classes of ``s_curve``: segments of the curve parameter ``t``.
S_CURVE_CLASSES = 4
#: Jitter standard deviation of the point sets, as a fraction of the RMS spread of their generating
#: distribution (the square root of the total variance, measured on 10^6 samples: moons 1.007,
#: circles 0.794, S-curve 1.663).
JITTER_FRACTION = 0.1
_RMS_SPREAD = {"moons": 1.007, "circles": 0.794, "s_curve": 1.663}
#: Standard deviation of MNIST-1D signals before the package standardises them (its default data
#: set, seed 42, 5,000 samples: 0.1547; 0.154–0.155 for other seeds): converts the package's
#: transformation magnitudes, stated in raw units, to the standardised units of the loaded signals.
MNIST1D_RAW_STD = 0.155

#: ``load`` draws from the child of ``SeedSequence(seed)`` with this spawn key; ``augment``'s views
#: use the children ``0 .. n_views - 1`` (and their descendants), so the streams never coincide.
_LOAD_STREAM = 2**31


# --- the data set record ---------------------------------------------------------------------------


@dataclass(frozen=True)
class StudyDataset:
    """A data set of the downstream study: balanced base points and their random views.

    Attributes
    ----------
    name : str
        Key in :data:`STUDY_DATASETS`.
    description : str
        One line: what it is and its augmentations.
    n_classes : int
        Labels are ``0 .. n_classes - 1``.
    n_features : int
        Columns ``p`` of the base points and of the views.
    max_samples : int
        Most base samples :meth:`load` gives.
    loader : callable
        ``loader(n_samples, seed_sequence) -> (X, y)`` (validated arguments); use :meth:`load`.
    augmentation : callable
        ``augmentation(batch, seed) -> batch``: one random view of every row of ``batch``; use
        :meth:`augment`.
    """

    name: str
    description: str
    n_classes: int
    n_features: int
    max_samples: int
    loader: Callable[[int, np.random.SeedSequence], tuple[np.ndarray, np.ndarray]] = field(repr=False, compare=False)
    augmentation: Callable[[np.ndarray, Any], np.ndarray] = field(repr=False, compare=False)

    def load(self, n_samples: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
        """Base points and labels: ``n_samples`` class-balanced samples, deterministic given ``seed``.

        Class counts differ by at most one whenever every class has enough samples (always for the
        generated sets); otherwise the short classes are used up and the rest shared as evenly as
        possible. Samples come in random order.

        Parameters
        ----------
        n_samples : int
            Base samples ``n``, from ``n_classes`` to ``max_samples``.
        seed : int
            Non-negative.

        Returns
        -------
        X : ndarray of float64, shape (n_samples, n_features)
        y : ndarray of int64, shape (n_samples,)

        Raises
        ------
        InputError
            If ``n_samples`` is not an integer, is below ``n_classes`` or above ``max_samples`` (the
            message names the maximum), or ``seed`` is not a non-negative integer.
        """
        if isinstance(n_samples, bool) or not isinstance(n_samples, (int, np.integer)):
            raise InputError(f"n_samples must be an integer; got {n_samples!r}.")
        if n_samples < self.n_classes:
            raise InputError(
                f"n_samples = {n_samples} is below the {self.n_classes} classes of {self.name!r}; "
                f"pass at least {self.n_classes} so that every class has a sample."
            )
        if n_samples > self.max_samples:
            raise InputError(
                f"n_samples = {n_samples} exceeds the {self.max_samples} samples {self.name!r} provides; "
                f"pass at most {self.max_samples}."
            )
        n = int(n_samples)
        seed = check_int("seed", seed, 0)
        X, y = self.loader(n, np.random.SeedSequence(seed, spawn_key=(_LOAD_STREAM,)))
        return np.ascontiguousarray(X, dtype=np.float64), np.ascontiguousarray(y, dtype=np.int64)

    def augment(self, X: np.ndarray, n_views: int, seed: int) -> np.ndarray:
        """``n_views`` independent random augmentations of every row of ``X``, grouped by sample.

        Parameters
        ----------
        X : ndarray, shape (n, n_features)
            Base points (as :meth:`load` gives them).
        n_views : int
            Views per base point ``m >= 1``.
        seed : int
            Non-negative; view ``v`` of every sample uses the ``v``-th stream spawned from it.

        Returns
        -------
        ndarray of float64, shape (n * n_views, n_features)
            Rows ``i*m .. (i+1)*m - 1`` are the views of ``X[i]``.

        Raises
        ------
        InputError
            If ``X`` is not a finite real 2-D array with ``n_features`` columns and at least one row,
            ``n_views`` is not a positive integer or ``seed`` not a non-negative integer.
        """
        arr = np.asarray(X)
        if arr.ndim != 2 or arr.shape[1] != self.n_features or arr.shape[0] == 0:
            raise InputError(
                f"X must have shape (n, {self.n_features}) with n >= 1 (the base points of {self.name!r}); "
                f"got shape {arr.shape}."
            )
        seed = check_int("seed", seed, 0)
        return np.ascontiguousarray(make_views(arr, n_views, self.augmentation, seed=seed).X, dtype=np.float64)


# --- helpers ---------------------------------------------------------------------------------------


def _balanced_indices(labels: np.ndarray, n: int, n_classes: int, rng: np.random.Generator) -> np.ndarray:
    """``n`` indices into ``labels``, class counts as equal as the class sizes allow, in random order.

    Water-filling: every class gets the same quota until a class runs out, the remainder is shared
    among the others; the few classes that get one extra sample are drawn at random.
    """
    members = [np.flatnonzero(labels == c) for c in range(n_classes)]
    sizes = np.array([m.size for m in members])
    quota = np.zeros(n_classes, dtype=np.int64)
    remaining = n
    while remaining > 0:
        open_ = np.flatnonzero(quota < sizes)
        share = remaining // open_.size
        if share == 0:
            quota[rng.choice(open_, size=remaining, replace=False)] += 1
            break
        add = np.minimum(share, sizes[open_] - quota[open_])
        quota[open_] += add
        remaining -= int(add.sum())
    picked = np.concatenate([rng.permutation(m)[:q] for m, q in zip(members, quota)])
    return picked[rng.permutation(picked.size)]


def _int_seed(seq: np.random.SeedSequence) -> int:
    """A 32-bit integer seed (scikit-learn's ``random_state``, NumPy's legacy seeding) from a sequence."""
    return int(seq.generate_state(1)[0])


@contextmanager
def _global_random_state_restored() -> Iterator[None]:
    """Run code that seeds NumPy's and Python's global generators, then put both back as they were."""
    np_state = np.random.get_state()  # noqa: NPY002 (saving the legacy global state is the point)
    py_state = random.getstate()
    try:
        yield
    finally:
        np.random.set_state(np_state)  # noqa: NPY002
        random.setstate(py_state)


def _import_mnist1d(module: str) -> Any:
    """``mnist1d.data`` or ``mnist1d.transform``, imported on first use.

    The package imports ``requests`` (for its optional download, which this module never calls) and
    matplotlib's pyplot when imported, so it is loaded only by the ``mnist1d`` data set. (The
    attribute ``mnist1d.transform`` is the package's ``transform`` function, not the module.)
    """
    try:
        return importlib.import_module(f"mnist1d.{module}")
    except ImportError as exc:  # mnist1d comes with the `experiments` (and `test`) extra
        raise BackendUnavailableError(
            f"the 'mnist1d' data set needs the mnist1d package ({exc}); install it with "
            "`pip install 'kssl-theory[experiments]'` (or `pip install mnist1d`)."
        ) from exc


# --- loaders ---------------------------------------------------------------------------------------


def _load_digits(n: int, seq: np.random.SeedSequence) -> tuple[np.ndarray, np.ndarray]:
    images, labels = load_digits()
    idx = _balanced_indices(labels, n, 10, np.random.default_rng(seq))
    return images[idx].reshape(n, -1), labels[idx]


def _load_mnist1d(n: int, seq: np.random.SeedSequence) -> tuple[np.ndarray, np.ndarray]:
    """Generate ``ceil(n / 10)`` signals per class with the package's defaults, keep ``n``, balanced.

    ``make_dataset`` seeds NumPy's and Python's global generators (``mnist1d.utils.set_seed``);
    their states are restored afterwards (so two threads must not load it at the same time; processes
    may). Its train/test split is switched off (``train_split=1``)
    and ``get_dataset`` (which may download) is never called.
    """
    mnist1d_data = _import_mnist1d("data")
    gen_seq, pick_seq = seq.spawn(2)
    args = mnist1d_data.get_dataset_args()
    args.num_samples = 10 * -(-n // 10)
    args.train_split = 1.0
    args.seed = _int_seed(gen_seq)
    with _global_random_state_restored():
        data = mnist1d_data.make_dataset(args)
    x, y = np.asarray(data["x"], dtype=np.float64), np.asarray(data["y"], dtype=np.int64)
    idx = _balanced_indices(y, n, 10, np.random.default_rng(pick_seq))
    return x[idx], y[idx]


def _load_moons(n: int, seq: np.random.SeedSequence) -> tuple[np.ndarray, np.ndarray]:
    # scikit-learn draws n // 2 and n - n // 2 points per class, shuffled.
    X, y = make_moons(n, noise=MOONS_NOISE, seed=seq)
    return np.asarray(X), np.asarray(y)


def _load_circles(n: int, seq: np.random.SeedSequence) -> tuple[np.ndarray, np.ndarray]:
    X, y = make_circles(n, noise=CIRCLES_NOISE, factor=0.5, seed=seq)  # n // 2 and n - n // 2 per class
    return np.asarray(X), np.asarray(y)


def _load_s_curve(n: int, seq: np.random.SeedSequence) -> tuple[np.ndarray, np.ndarray]:
    from sklearn.datasets import make_s_curve

    X, t = make_s_curve(n, noise=S_CURVE_NOISE, random_state=_int_seed(seq))
    rank = np.argsort(np.argsort(t, kind="stable"), kind="stable")
    return X, (rank * S_CURVE_CLASSES) // n


def _load_wine(n: int, seq: np.random.SeedSequence) -> tuple[np.ndarray, np.ndarray]:
    from sklearn.datasets import load_wine

    data = load_wine()
    idx = _balanced_indices(data.target, n, 3, np.random.default_rng(seq))
    X = data.data[idx].astype(np.float64)
    std = X.std(axis=0)
    return (X - X.mean(axis=0)) / np.where(std > 0, std, 1.0), data.target[idx]


# --- augmentations ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class _FlatImages:
    """Apply an image augmentation to flattened square images ``(n, side * side)``."""

    augmentation: ImageAugmentation
    side: int

    def __call__(self, batch: np.ndarray, seed: Any) -> np.ndarray:
        images = batch.reshape(batch.shape[0], self.side, self.side)
        return np.asarray(self.augmentation(images, seed)).reshape(batch.shape[0], -1)


@cache
def _mnist1d_subsample(n_in: int, n_out: int) -> np.ndarray:
    """The package's linear resampling (``mnist1d.transform.interpolate``) from ``n_in`` to ``n_out`` points.

    As an ``(n_out, n_in)`` matrix: the resampled rows of a batch ``B`` are ``B @ matrix.T``.
    """
    return np.asarray(_import_mnist1d("transform").interpolate(np.eye(n_in), n_out), dtype=np.float64)


@dataclass(frozen=True)
class Mnist1dAugmentation:
    r"""Random views of MNIST-1D signals with the package's own transformations (``mnist1d/transform.py``).

    The package makes a signal from a digit's template by padding and dilating it to
    ``L = template_len + padding[1] = 72`` points, scaling, circularly translating, filling the
    background with correlated noise, adding i.i.d. noise, shearing, and resampling to 40 points.
    A view of a loaded (standardised) signal ``x`` applies the same families to ``x`` itself, in the
    package's order, with the package's default magnitudes (``get_dataset_args``) converted to
    standardised units by :data:`MNIST1D_RAW_STD`, except where stated:

    1. scale: ``x * (1 + scale_coeff (u - 1/2))``, ``u ~ U(0, 1)``, ``scale_coeff = 0.4`` (±20%;
       the package's ``new_x *= 1 + scale_coeff (rand() - 0.5)``);
    2. translation: a circular shift by ``k`` points, ``k`` uniform in ``{-max_shift, ..., max_shift}``
       (``max_shift = 2`` of 40, 5% of the length) — the package's ``translate`` is a circular roll,
       but by up to 48 of 72 points, a random phase that makes two signals of one digit differ; a
       view keeps only a small shift;
    3. noise: ``corr_noise_scale = 0.25 / 4`` times white noise on the ``L``-point grid smoothed by
       ``gaussian_filter(·, 2)`` (``corr_noise_like``), plus ``iid_noise_scale = 0.02`` times white
       noise (``iid_noise_like``), resampled to 40 points with the package's ``interpolate`` (as the
       package's noise is) and added everywhere — the package fills only the background with the
       correlated noise, which ``x`` no longer marks, so it is added on top at a quarter of the
       package's amplitude instead of replacing anything;
    4. shear: ``x - c * linspace(-1/2, 1/2, 40)``, ``c = shear_scale (u - 1/2)``, ``shear_scale = 0.75``
       (the package's ``shear``; a linear ramp resamples to the same ramp).

    All draws come from one ``numpy.random.Generator`` per call (the package's functions draw from
    NumPy's global generator, so only its deterministic ``interpolate`` is called). With these
    magnitudes the median distance from a view to its signal is about 5.4 against 8.5 between two
    signals (the scale of the standardised signals: norm about 6); translation by ±1 point alone
    moves a signal by about 3.6.
    """

    max_shift: int = 2
    scale_coeff: float = 0.4
    corr_noise_scale: float = 0.25 / 4
    iid_noise_scale: float = 0.02
    shear_scale: float = 0.75
    grid: int = 72
    smoothing: float = 2.0

    def __call__(self, batch: np.ndarray, seed: Any) -> np.ndarray:
        from scipy.ndimage import gaussian_filter1d

        rng = np.random.default_rng(seed)
        n, p = batch.shape
        out = batch * (1 + self.scale_coeff * (rng.uniform(size=(n, 1)) - 0.5))
        k = rng.integers(-self.max_shift, self.max_shift + 1, size=(n, 1))
        out = np.take_along_axis(out, (np.arange(p)[None, :] - k) % p, axis=1)  # np.roll of each row by k
        corr = gaussian_filter1d(self.corr_noise_scale * rng.standard_normal((n, self.grid)), self.smoothing, axis=1)
        noise = corr + self.iid_noise_scale * rng.standard_normal((n, self.grid))
        out = out + noise @ _mnist1d_subsample(self.grid, p).T / MNIST1D_RAW_STD
        coeff = self.shear_scale * (rng.uniform(size=(n, 1)) - 0.5)
        return np.asarray(out - coeff * np.linspace(-0.5, 0.5, p) / MNIST1D_RAW_STD)


@dataclass(frozen=True)
class FeatureNoiseDropout:
    r"""Gaussian feature noise, then feature dropout, for standardised tabular features.

    Each feature of each row gets :math:`N(0, \text{noise}^2)` noise — ``noise`` in units of the
    feature's standard deviation, which :meth:`StudyDataset.load` scales to 1 — and is then, with
    probability ``dropout``, set to 0 (the feature's mean after standardisation). Neither encodes
    anything about the classes: the views only teach the representation to be smooth at the scale of
    the noise and robust to a missing measurement.
    """

    noise: float = 0.1
    dropout: float = 0.1

    def __call__(self, batch: np.ndarray, seed: Any) -> np.ndarray:
        rng = np.random.default_rng(seed)
        out = batch + self.noise * rng.standard_normal(batch.shape)
        return np.where(rng.uniform(size=batch.shape) < self.dropout, 0.0, out)


def _jitter(name: str) -> PointAugmentation:
    return PointAugmentation(scale=round(JITTER_FRACTION * _RMS_SPREAD[name], 3))


# --- the registry ----------------------------------------------------------------------------------

_DIGITS_AUG = ImageAugmentation()
_MNIST1D_AUG = Mnist1dAugmentation()
_WINE_AUG = FeatureNoiseDropout()

#: The study's data sets by name: digits, mnist1d, moons, circles, s_curve, wine.
STUDY_DATASETS: dict[str, StudyDataset] = {
    d.name: d
    for d in (
        StudyDataset(
            "digits",
            "scikit-learn 8x8 digits (1797 images, 64 pixels in [0, 1]); views: crop <= 20% resized, "
            "rotation <= 10 deg, shift <= 0.5 px, pixel noise sd 0.05",
            10,
            64,
            1797,
            _load_digits,
            _FlatImages(_DIGITS_AUG, 8),
        ),
        StudyDataset(
            "mnist1d",
            "MNIST-1D signals (40 points, generated by the mnist1d package); views: the package's scale "
            "+-20%, circular shift <= 2 points, correlated + iid noise, shear",
            10,
            40,
            MAX_GENERATED,
            _load_mnist1d,
            _MNIST1D_AUG,
        ),
        StudyDataset(
            "moons",
            f"two interleaving half circles (2-D, noise {MOONS_NOISE}); views: Gaussian jitter sd "
            f"{_jitter('moons').scale} (10% of the RMS spread)",
            2,
            2,
            MAX_GENERATED,
            _load_moons,
            _jitter("moons"),
        ),
        StudyDataset(
            "circles",
            f"two concentric circles (2-D, radii 1 and 0.5, noise {CIRCLES_NOISE}); views: Gaussian jitter sd "
            f"{_jitter('circles').scale} (10% of the RMS spread)",
            2,
            2,
            MAX_GENERATED,
            _load_circles,
            _jitter("circles"),
        ),
        StudyDataset(
            "s_curve",
            f"S-curve sheet in 3-D (noise {S_CURVE_NOISE}), {S_CURVE_CLASSES} classes by quantiles of the "
            f"curve parameter; views: Gaussian jitter sd {_jitter('s_curve').scale} (10% of the RMS spread)",
            S_CURVE_CLASSES,
            3,
            MAX_GENERATED,
            _load_s_curve,
            _jitter("s_curve"),
        ),
        StudyDataset(
            "wine",
            f"scikit-learn wine (178 samples, 13 features z-scored on the loaded samples); views: feature "
            f"noise sd {_WINE_AUG.noise} (in feature sds) and dropout to the mean with probability {_WINE_AUG.dropout}",
            3,
            13,
            178,
            _load_wine,
            _WINE_AUG,
        ),
    )
}


def get_study_dataset(name: str) -> StudyDataset:
    """The study data set called ``name`` (a key of :data:`STUDY_DATASETS`).

    Raises
    ------
    InputError
        For an unknown name, listing the valid ones and suggesting the closest.
    """
    return STUDY_DATASETS[check_choice("dataset", name, STUDY_DATASETS)]
