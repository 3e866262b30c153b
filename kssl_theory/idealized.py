r"""Idealized representations [IR]: conditions, probes, counting, sample efficiency, codes.

THEORY.md §5 (and the bridge of §6, which calls these functions on kernel-regime optima).
Setting: finitely many inputs (views) with codes :math:`z_i = \phi(x_i) \in \mathbb R^d`, an
equivalence relation given by ``groups`` (view ``i`` belongs to class ``groups[i]``) with
:math:`C` classes; the tasks are all labellings constant on classes.

- **Conditions.** :func:`class_codes`, :func:`affine_rank`, :func:`is_idealized`: invariance
  (:math:`x \sim x' \Rightarrow \phi(x) = \phi(x')`, with a tolerance) and affine independence
  of the class codes, :math:`\operatorname{rank}[Z \mid \mathbf 1] = C`.
- **Probes.** :func:`affine_probe` solves :math:`[Z \mid \mathbf 1]\theta = Y` exactly;
  :func:`separability` decides by linear programming whether an affine argmax probe labels
  given points correctly; :func:`radon_partition` is the explicit witness task that no affine
  probe solves when the codes are affinely dependent; :func:`linear_span_counterexample`.
- **Counting.** :func:`cover_count` (Cover's function-counting theorem) and the brute force
  :func:`task_census` / :func:`count_separable_dichotomies`.
- **Sample efficiency.** :func:`expected_worst_case_erm_risk` (exact enumeration),
  :func:`monte_carlo_worst_case_erm_risk`, :func:`absent_class_risk` and
  :func:`uniform_worst_case_risk` :math:`(1 - 1/C)^n`, :func:`invariant_and_split_encoders`.
- **Codes.** :func:`simplex_etf`, :func:`relu_probe` (the d = 1 universal probe).

Host-only parts
---------------
Linear programs run on ``scipy.optimize.linprog`` (HiGHS), which is host-only: the LP-based
functions (:func:`separability`, :func:`task_census`, :func:`count_separable_dichotomies`,
the ERM enumeration) and the tiny certificate :func:`radon_partition` accept any array-API
array, copy it to NumPy with :func:`~kssl_theory.backend.to_numpy` and return NumPy results.
Everything else stays in the input's namespace and on its device.

Tolerances
----------
Decisions on computed codes (invariance, affine rank, distinctness) compare against
``atol + rtol * scale`` with ``scale`` the largest code norm and ``rtol`` defaulting to
:math:`\sqrt{\varepsilon}` of the dtype (1.5e-8 for float64, 3.5e-4 for float32): codes that come out
of an eigensolver carry errors of order :math:`\varepsilon/\text{gap}`, so exact equalities hold
only to well above machine precision. LP decisions use points centred and scaled to
:math:`\max|x| = 1` and call a task separable when the optimal margin exceeds ``tol = 1e-6``,
ten times HiGHS's primal feasibility tolerance (1e-7).
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass
from typing import NamedTuple

import array_api_compat
import numpy as np

from .backend import namespace, to_numpy
from .errors import InputError, NumericalError
from .graphs import group_structure, indicators
from .validation import check_groups, check_nonnegative, check_points

__all__ = [
    "ClassCodes",
    "class_codes",
    "affine_rank",
    "IdealizationReport",
    "is_idealized",
    "AffineProbe",
    "affine_probe",
    "Separability",
    "separability",
    "RadonPartition",
    "radon_partition",
    "SpanCounterexample",
    "linear_span_counterexample",
    "TaskCensus",
    "task_census",
    "cover_count",
    "count_separable_dichotomies",
    "absent_class_risk",
    "uniform_worst_case_risk",
    "expected_worst_case_erm_risk",
    "MonteCarloEstimate",
    "monte_carlo_worst_case_erm_risk",
    "EncoderPair",
    "invariant_and_split_encoders",
    "simplex_etf",
    "ReLUProbe",
    "relu_probe",
]

LP_TOL = 1e-6
_MAX_ENUMERATION = 1 << 16


# ---------------------------------------------------------------------------------------------
# Conditions
# ---------------------------------------------------------------------------------------------


class ClassCodes(NamedTuple):
    """Class codes of an encoder and how far it is from invariance (THEORY.md §5).

    Attributes
    ----------
    codes : array, shape (C, d)
        Mean code of each class, classes in order of first appearance in ``groups``.
    spread : array, shape (C,)
        :math:`\\max_{i \\in c}\\|z_i - \\bar z_c\\|`, zero for every class iff the encoder is invariant.
    labels : numpy.ndarray, shape (N,)
        Class index ``0..C-1`` of every view.
    """

    codes: object
    spread: object
    labels: np.ndarray


def _default_rtol(dtype, xp) -> float:
    return math.sqrt(float(xp.finfo(dtype).eps))


def _scale(Z, xp) -> float:
    return float(xp.max(xp.sqrt(xp.sum(Z * Z, axis=1))))


def _labels_or_identity(groups, n: int) -> np.ndarray:
    if groups is None:
        return np.arange(n)
    return group_structure(check_groups(groups, n=n)).labels


def class_codes(codes, groups=None) -> ClassCodes:
    r"""Class means :math:`\bar z_c = \frac{1}{|c|}\sum_{i \in c} z_i` and within-class spreads.

    Parameters
    ----------
    codes : array, shape (N, d)
        One code per view (1-D input is one feature).
    groups : array_like of int, shape (N,), optional
        Class (base sample) of each view; ``None`` makes every row its own class.

    Returns
    -------
    ClassCodes
        Means and spreads in the namespace of ``codes`` (THEORY.md §5).
    """
    Z = check_points("codes", codes)
    xp = namespace(Z)
    labels = _labels_or_identity(groups, Z.shape[0])
    E = indicators(labels, like=Z)
    means = (E.T @ Z) / xp.sum(E, axis=0)[:, None]
    resid = Z - E @ means
    dist = xp.sqrt(xp.sum(resid * resid, axis=1))
    spread = xp.max(E * dist[:, None], axis=0)
    return ClassCodes(means, spread, labels)


def _affine_singular_values(Zc, xp):
    centred = Zc - xp.mean(Zc, axis=0, keepdims=True)
    return xp.linalg.svdvals(centred)


def _affine_rank_and_margin(Zc, xp, cutoff: float) -> tuple[int, float]:
    """Affine rank and :math:`\\sigma_{C-1}(HZ)` (``inf`` for one class, 0 when ``d < C - 1``)."""
    C = Zc.shape[0]
    if C == 1:
        return 1, math.inf
    sv = _affine_singular_values(Zc, xp)
    rank = 1 + int(xp.sum(xp.astype(sv > cutoff, xp.int64)))
    margin = float(sv[C - 2]) if C - 2 < sv.shape[0] else 0.0
    return min(rank, C), margin


def affine_rank(class_codes, *, rtol: float | None = None, atol: float = 0.0) -> int:
    r"""Affine rank :math:`\operatorname{rank}[Z \mid \mathbf 1]` of class codes (THEORY.md §5).

    Computed as :math:`1 + \operatorname{rank}(HZ)` with :math:`H = I - \mathbf 1\mathbf 1^T/C`
    (column operations on :math:`[Z \mid \mathbf 1]` subtract the mean row, and the columns of
    :math:`HZ` are orthogonal to :math:`\mathbf 1`), which is invariant to translating and
    scaling the codes. Singular values of :math:`HZ` count when above
    ``atol + rtol * max_i ||z_i||``.

    Parameters
    ----------
    class_codes : array, shape (C, d)
        One code per class.
    rtol : float, optional
        Relative cut-off; defaults to :math:`\sqrt{\varepsilon}` of the dtype.
    atol : float, default 0
        Absolute cut-off added to the relative one.

    Returns
    -------
    int
        The affine rank, at most ``min(C, d + 1)``; the codes are affinely independent iff it equals ``C``.
    """
    Z = check_points("class_codes", class_codes)
    xp = namespace(Z)
    rtol = _default_rtol(Z.dtype, xp) if rtol is None else check_nonnegative("rtol", rtol)
    atol = check_nonnegative("atol", atol)
    return _affine_rank_and_margin(Z, xp, atol + rtol * _scale(Z, xp))[0]


@dataclass(frozen=True)
class IdealizationReport:
    """Which conditions of an idealized representation hold (THEORY.md §5).

    Attributes
    ----------
    idealized : bool
        Every condition required for ``probe`` holds.
    probe : str
        ``"linear"`` (affine argmax probes) or ``"universal"`` (any function of the code).
    invariant : bool
        Every within-class spread is at most the tolerance.
    affinely_independent : bool
        ``affine_rank == n_classes``.
    distinct : bool
        Class codes pairwise farther apart than the tolerance.
    affine_rank, n_classes, dim : int
        :math:`\\operatorname{rank}[Z \\mid \\mathbf 1]` of the class means, ``C`` and ``d``.
    max_within_class_spread : float
        :math:`\\max_c \\max_{i \\in c}\\|z_i - \\bar z_c\\|`.
    affine_margin : float
        :math:`\\sigma_{C-1}(HZ)`, the distance from affine dependence (0 when ``d < C - 1``).
    min_code_distance : float
        Smallest distance between two class means (``inf`` for one class).
    tolerance : float
        ``atol + rtol * scale`` used for all three decisions.
    failing : tuple of str
        One human-readable line per failed condition that ``probe`` needs.
    """

    idealized: bool
    probe: str
    invariant: bool
    affinely_independent: bool
    distinct: bool
    affine_rank: int
    n_classes: int
    dim: int
    max_within_class_spread: float
    affine_margin: float
    min_code_distance: float
    tolerance: float
    failing: tuple[str, ...]

    def __bool__(self) -> bool:
        return self.idealized


def _min_pairwise_distance(Zc, xp) -> float:
    C = Zc.shape[0]
    if C < 2:
        return math.inf
    diff = Zc[:, None, :] - Zc[None, :, :]
    dist = xp.sqrt(xp.sum(diff * diff, axis=2))
    eye = xp.eye(C, dtype=xp.bool, device=array_api_compat.device(Zc))
    return float(xp.min(xp.where(eye, xp.full_like(dist, math.inf), dist)))


def is_idealized(codes, groups=None, *, probe: str = "linear", rtol: float | None = None,
                 atol: float = 0.0) -> IdealizationReport:
    r"""Test whether an encoder is idealized for linear or universal probes (THEORY.md §5).

    Linear (affine argmax) probes solve every invariant task with zero error for an *invariant*
    encoder iff the class codes are affinely independent, :math:`\operatorname{rank}[Z \mid
    \mathbf 1] = C` (so :math:`d \ge C - 1`). Universal probes need only distinct class codes.
    Invariance is required in both cases: it is what makes the worst empirical-risk minimiser
    err only on unseen classes (:func:`expected_worst_case_erm_risk`). It is *not* needed for a
    zero-error probe to exist: a non-invariant encoder can still solve every task (see
    :func:`invariant_and_split_encoders` and :func:`task_census`).

    Parameters
    ----------
    codes : array, shape (N, d)
        Code of every view.
    groups : array_like of int, shape (N,), optional
        Class of every view; ``None`` treats each row as one class (codes already per class).
    probe : {"linear", "universal"}
        Probe family the representation should be idealized for.
    rtol, atol : float
        Tolerance ``atol + rtol * max_i ||z_i||`` for all decisions; ``rtol`` defaults to
        :math:`\sqrt{\varepsilon}` of the dtype.

    Returns
    -------
    IdealizationReport
        The verdict, every condition, the measured margins and the failing conditions.
    """
    if probe not in ("linear", "universal"):
        raise InputError(f"probe must be 'linear' or 'universal'; got {probe!r}.")
    cc = class_codes(codes, groups)
    Zc = cc.codes
    xp = namespace(Zc)
    rtol = _default_rtol(Zc.dtype, xp) if rtol is None else check_nonnegative("rtol", rtol)
    atol = check_nonnegative("atol", atol)
    Z = check_points("codes", codes)
    tol = atol + rtol * _scale(Z, xp)
    C, d = Zc.shape
    spread = float(xp.max(cc.spread))
    rank, margin = _affine_rank_and_margin(Zc, xp, tol)
    min_dist = _min_pairwise_distance(Zc, xp)
    invariant = spread <= tol
    independent = rank == C
    distinct = min_dist > tol
    failing = []
    if not invariant:
        worst = int(xp.argmax(cc.spread))
        failing.append(f"invariance: class {worst} has within-class spread {spread:.3g} > tolerance {tol:.3g}")
    if probe == "linear" and not independent:
        failing.append(
            f"affine independence: rank [Z | 1] = {rank} < C = {C} (sigma_(C-1)(HZ) = {margin:.3g}, "
            f"tolerance {tol:.3g}; needs d >= C - 1 = {C - 1}, have d = {d})"
        )
    if probe == "universal" and not distinct:
        failing.append(f"distinct codes: two classes are {min_dist:.3g} apart <= tolerance {tol:.3g}")
    return IdealizationReport(not failing, probe, invariant, independent, distinct, rank, C, d, spread,
                              margin, min_dist, tol, tuple(failing))


# ---------------------------------------------------------------------------------------------
# Probes
# ---------------------------------------------------------------------------------------------


def _check_labels(labels, n: int, name: str = "labels", n_labels: int | None = None) -> tuple[np.ndarray, int]:
    """Validate ``n`` non-negative integer labels; return them (int64) and the label count ``K``."""
    if labels is None:
        raise InputError(f"{name} is None; pass one non-negative integer label per point.")
    y = to_numpy(labels) if array_api_compat.is_array_api_obj(labels) else np.asarray(labels)
    if y.ndim != 1 or y.shape[0] != n:
        raise InputError(f"{name} must have shape ({n},) (one label per point); got shape {y.shape}.")
    if y.dtype == bool or not np.issubdtype(y.dtype, np.integer):
        if not (np.issubdtype(y.dtype, np.floating) and np.all(np.isfinite(y)) and np.all(y == np.round(y))):
            raise InputError(f"{name} must hold non-negative integers; got dtype {y.dtype}.")
    y = y.astype(np.int64)
    if n and y.min() < 0:
        raise InputError(f"{name} must be non-negative; got minimum {y.min()}.")
    k = int(y.max()) + 1 if n else 1
    if n_labels is not None:
        if isinstance(n_labels, bool) or not isinstance(n_labels, (int, np.integer)) or n_labels < 1:
            raise InputError(f"n_labels must be a positive integer; got {n_labels!r}.")
        if n_labels < k:
            raise InputError(f"{name} uses label {k - 1} but n_labels = {n_labels}; labels must be < n_labels.")
        k = int(n_labels)
    return y, k


class AffineProbe(NamedTuple):
    r"""An affine argmax classifier :math:`\hat y(z) = \arg\max_k (z W + b)_k`.

    Attributes
    ----------
    weight : array, shape (d, K)
    bias : array, shape (K,)
    """

    weight: object
    bias: object

    def scores(self, codes):
        """Scores :math:`z W + b`, shape ``(N, K)``."""
        Z = check_points("codes", codes)
        return Z @ self.weight + self.bias[None, :]

    def predict(self, codes):
        """Predicted labels :math:`\\arg\\max_k (zW + b)_k`, shape ``(N,)``."""
        xp = namespace(self.weight)
        return xp.argmax(self.scores(codes), axis=1)


def _one_hot(y: np.ndarray, k: int, like):
    xp = namespace(like)
    Y = np.zeros((y.size, k))
    Y[np.arange(y.size), y] = 1.0
    return xp.asarray(Y, dtype=like.dtype, device=array_api_compat.device(like))


def affine_probe(class_codes, labels=None, *, n_labels: int | None = None, rtol: float | None = None) -> AffineProbe:
    r"""The exact affine probe for a labelling of affinely independent class codes (THEORY.md §5).

    Solves :math:`[Z \mid \mathbf 1]\,\theta = Y` with :math:`Y` the one-hot matrix of
    ``labels``; the minimum-norm solution is exact when :math:`\operatorname{rank}[Z \mid
    \mathbf 1] = C`, so every class scores exactly 1 on its label and 0 elsewhere. The system
    is solved on centred codes scaled to unit size (SVD), then mapped back.

    Parameters
    ----------
    class_codes : array, shape (C, d)
        One code per class, affinely independent.
    labels : array_like of int, shape (C,), optional
        Label of each class; default ``0..C-1`` (every class its own label, the hardest task).
    n_labels : int, optional
        Number of output labels ``K``; default ``max(labels) + 1``.
    rtol : float, optional
        Cut-off of the affine-independence check (see :func:`affine_rank`).

    Returns
    -------
    AffineProbe
        ``weight`` (d, K) and ``bias`` (K,) in the namespace of ``class_codes``.

    Raises
    ------
    InputError
        If the codes are affinely dependent: then some task has no affine probe at all
        (:func:`radon_partition` constructs one).
    """
    Z = check_points("class_codes", class_codes)
    xp = namespace(Z)
    C, d = Z.shape
    y, k = _check_labels(np.arange(C) if labels is None else labels, C, n_labels=n_labels)
    rank = affine_rank(Z, rtol=rtol)
    if rank < C:
        raise InputError(
            f"class_codes are affinely dependent (rank [Z | 1] = {rank} < C = {C}); no affine probe "
            "solves every labelling. radon_partition(class_codes) gives a task no affine probe solves."
        )
    mean = xp.mean(Z, axis=0, keepdims=True)
    s = max(float(xp.max(xp.abs(Z - mean))), float(xp.finfo(Z.dtype).smallest_normal))
    A = xp.concat([(Z - mean) / s, xp.ones((C, 1), dtype=Z.dtype, device=array_api_compat.device(Z))], axis=1)
    U, S, Vt = xp.linalg.svd(A, full_matrices=False)
    theta = Vt.T @ ((U.T @ _one_hot(y, k, Z)) / S[:, None])
    weight = theta[:d, :] / s
    bias = theta[d, :] - (mean @ weight)[0, :]
    return AffineProbe(weight, bias)


class Separability(NamedTuple):
    """Result of the max-margin LP of :func:`separability`.

    Attributes
    ----------
    separable : bool
        ``margin > tol``.
    margin : float
        Optimal margin on the normalised points (centred, :math:`\\max|x| = 1`, weights and
        biases in [-1, 1]), capped at 1; 0 (up to solver tolerance) when not separable.
    weight : numpy.ndarray, shape (d, K)
    bias : numpy.ndarray, shape (K,)
        The optimal probe in the original coordinates.
    """

    separable: bool
    margin: float
    weight: np.ndarray
    bias: np.ndarray


def _max_margin(P: np.ndarray, y: np.ndarray, k: int) -> tuple[float, np.ndarray]:
    """Max-margin LP on normalised points; returns (margin, theta of shape (K, d+1))."""
    from scipy.optimize import linprog

    n, d = P.shape
    width = d + 1
    if k == 1:
        return 1.0, np.zeros((1, width))
    Xa = np.hstack([P, np.ones((n, 1))])
    rows = np.repeat(np.arange(n), k)
    others = np.tile(np.arange(k), n)
    keep = others != y[rows]
    rows, others = rows[keep], others[keep]
    m = rows.size
    A = np.zeros((m, k * width + 1))
    block = np.arange(width)[None, :]
    r = np.arange(m)[:, None]
    A[r, others[:, None] * width + block] = Xa[rows]
    A[r, y[rows][:, None] * width + block] = -Xa[rows]
    A[:, -1] = 1.0
    c = np.zeros(k * width + 1)
    c[-1] = -1.0
    bounds = [(-1.0, 1.0)] * (k * width) + [(None, 1.0)]
    res = linprog(c, A_ub=A, b_ub=np.zeros(m), bounds=bounds, method="highs")
    if res.status != 0:
        raise NumericalError(f"the separability LP did not solve (HiGHS status {res.status}: {res.message}).")
    return float(-res.fun), res.x[:-1].reshape(k, width)


def _normalise(X: np.ndarray) -> tuple[np.ndarray, np.ndarray, float]:
    centre = X.mean(axis=0)
    s = float(np.max(np.abs(X - centre)))
    s = s if s > 0 else 1.0
    return (X - centre) / s, centre, s


def separability(points, labels, *, n_labels: int | None = None, tol: float = LP_TOL) -> Separability:
    r"""Decide by linear programming whether an affine argmax probe labels ``points`` correctly.

    Solves (host-side, ``scipy.optimize.linprog``) the max-margin problem

    .. math:: \max_{W, b, t}\ t \quad\text{s.t.}\quad (w_{y_i} - w_k)^T x_i + b_{y_i} - b_k \ge t
              \ \ \forall i,\ k \ne y_i, \qquad |W|, |b| \le 1,\ t \le 1,

    on points centred and scaled to :math:`\max|x| = 1` (separability is affine-invariant).
    A probe with strictly correct argmax exists iff the optimum is positive. For two labels
    this is ordinary affine separability of a dichotomy (THEORY.md §5).

    Parameters
    ----------
    points : array, shape (N, d)
        Codes to classify (any namespace; copied to NumPy).
    labels : array_like of int, shape (N,)
        Target label of each point.
    n_labels : int, optional
        Number of labels ``K`` the probe outputs; default ``max(labels) + 1``.
    tol : float, default 1e-6
        Margin threshold (10x HiGHS's feasibility tolerance on unit-scaled data).

    Returns
    -------
    Separability
        Verdict, margin and the optimal probe in original coordinates (NumPy).
    """
    X = to_numpy(check_points("points", points)).astype(np.float64)
    y, k = _check_labels(labels, X.shape[0], n_labels=n_labels)
    tol = check_nonnegative("tol", tol)
    P, centre, s = _normalise(X)
    margin, theta = _max_margin(P, y, k)
    weight = theta[:, :-1].T / s
    bias = theta[:, -1] - centre @ weight
    return Separability(margin > tol, margin, weight, bias)


class RadonPartition(NamedTuple):
    r"""A Radon partition of affinely dependent codes: a binary task no affine probe solves.

    With an affine dependence :math:`\sum_i \lambda_i z_i = 0`, :math:`\sum_i \lambda_i = 0`,
    :math:`\lambda \ne 0`, normalised so that :math:`\sum_{\lambda_i > 0} \lambda_i = 1`, the
    point :math:`p = \sum_{i \in I} \lambda_i z_i = \sum_{j \in J} (-\lambda_j) z_j` lies in
    both convex hulls, :math:`I = \{\lambda_i > 0\}`, :math:`J = \{\lambda_i \le 0\}`. Any affine
    :math:`f` positive on :math:`I` and negative on :math:`J` would have :math:`f(p) > 0` and
    :math:`f(p) < 0`.

    Attributes
    ----------
    labels : numpy.ndarray of int, shape (C,)
        The witness task: 1 on ``I``, 0 on ``J``.
    coefficients : numpy.ndarray, shape (C,)
        :math:`\lambda`.
    point : numpy.ndarray, shape (d,)
        :math:`p`, the common point of the two hulls.
    residual : float
        :math:`\|\sum_i \lambda_i z_i\|` (round-off size).
    """

    labels: np.ndarray
    coefficients: np.ndarray
    point: np.ndarray
    residual: float


def radon_partition(class_codes, *, rtol: float | None = None) -> RadonPartition:
    r"""The Radon partition of affinely dependent class codes (THEORY.md §5, necessity).

    The affine dependence :math:`\lambda` is the right singular vector of
    :math:`[Z \mid \mathbf 1]^T` (normalised codes) with the smallest singular value. Host-side.

    Parameters
    ----------
    class_codes : array, shape (C, d)
        Affinely dependent codes (``affine_rank < C``).
    rtol : float, optional
        Cut-off of the dependence check (see :func:`affine_rank`).

    Returns
    -------
    RadonPartition
        The witness task, the coefficients and the common point.

    Raises
    ------
    InputError
        If the codes are affinely independent (then every task has an exact probe).
    """
    Z = check_points("class_codes", class_codes)
    C = Z.shape[0]
    rank = affine_rank(Z, rtol=rtol)
    if rank == C:
        raise InputError(
            f"class_codes are affinely independent (rank [Z | 1] = C = {C}); every task has an exact "
            "affine probe (affine_probe), so no Radon partition exists."
        )
    X = to_numpy(Z).astype(np.float64)
    P, _, _ = _normalise(X)
    M = np.vstack([P.T, np.ones((1, C))])
    lam = np.linalg.svd(M, full_matrices=True)[2][-1]
    lam = lam / lam[lam > 0].sum()
    labels = (lam > 0).astype(np.int64)
    point = lam[lam > 0] @ X[lam > 0]
    residual = float(np.linalg.norm(lam @ X))
    return RadonPartition(labels, lam, point, residual)


class SpanCounterexample(NamedTuple):
    """The counterexample to the linear-span reading of the condition (THEORY.md §5).

    Attributes
    ----------
    codes : numpy.ndarray, shape (3, 2)
        (1, 0), (0, 1), (1/2, 1/2).
    linear_span_dim : int
        2 = C - 1: the linear-span condition holds.
    affine_rank : int
        2 < C = 3: the codes are affinely dependent (the third is the midpoint of the others).
    witness_labels : numpy.ndarray
        (0, 0, 1): the midpoint against the two ends, which no affine probe separates.
    """

    codes: np.ndarray
    linear_span_dim: int
    affine_rank: int
    witness_labels: np.ndarray


def linear_span_counterexample() -> SpanCounterexample:
    r"""Codes with :math:`\dim\operatorname{span} = C - 1` that are not idealized (THEORY.md §5).

    :math:`z_1 = (1, 0)`, :math:`z_2 = (0, 1)`, :math:`z_3 = (\tfrac12, \tfrac12)`: the linear
    span is :math:`\mathbb R^2`, but :math:`z_3 = \tfrac12 z_1 + \tfrac12 z_2`, so the task
    "class 3 against classes 1 and 2" is not affinely separable. The right reading is the
    affine one, :math:`\operatorname{rank}[Z \mid \mathbf 1] = C` (equivalently, the span of the
    *centred* codes has dimension :math:`C - 1`).

    Returns
    -------
    SpanCounterexample
    """
    Z = np.array([[1.0, 0.0], [0.0, 1.0], [0.5, 0.5]])
    return SpanCounterexample(Z, int(np.linalg.matrix_rank(Z)), affine_rank(Z), np.array([0, 0, 1]))


# ---------------------------------------------------------------------------------------------
# Counting
# ---------------------------------------------------------------------------------------------


class TaskCensus(NamedTuple):
    """Brute-force census of the class labellings an affine probe solves.

    Attributes
    ----------
    n_tasks : int
        Number of labellings enumerated, ``K**C``.
    n_solvable : int
        How many an affine argmax probe on the views' codes solves with zero error.
    unsolvable : numpy.ndarray of int, shape (n_tasks - n_solvable, C)
        The class labellings no affine probe solves.
    """

    n_tasks: int
    n_solvable: int
    unsolvable: np.ndarray


def task_census(codes, groups=None, *, n_labels: int = 2, tol: float = LP_TOL) -> TaskCensus:
    r"""Enumerate every labelling of the classes and test each by LP (host-side).

    A class labelling :math:`y_c` is lifted to the views (:math:`y_i = y_{g_i}`) and tested with
    :func:`separability` on *all* view codes, so non-invariant encoders are handled too. For two
    labels the complement symmetry (a probe for :math:`y` negated solves :math:`1 - y`) halves
    the number of LPs. THEORY.md §5: with an invariant encoder, every task is solvable iff
    :math:`\operatorname{rank}[Z \mid \mathbf 1] = C`.

    Parameters
    ----------
    codes : array, shape (N, d)
        Code of every view.
    groups : array_like of int, shape (N,), optional
        Class of every view; ``None`` makes every row its own class.
    n_labels : int, default 2
        Number of labels ``K``; ``K**C`` tasks are enumerated (at most 65536).
    tol : float, default 1e-6
        LP margin threshold (see :func:`separability`).

    Returns
    -------
    TaskCensus
    """
    X = to_numpy(check_points("codes", codes)).astype(np.float64)
    labels = _labels_or_identity(groups, X.shape[0])
    C = int(labels.max()) + 1
    if isinstance(n_labels, bool) or not isinstance(n_labels, int) or n_labels < 1:
        raise InputError(f"n_labels must be a positive integer; got {n_labels!r}.")
    if n_labels**C > _MAX_ENUMERATION:
        raise InputError(f"n_labels**C = {n_labels}**{C} tasks exceed the enumeration limit {_MAX_ENUMERATION}.")
    P, _, _ = _normalise(X)
    binary = n_labels == 2
    unsolvable = []
    solvable = 0
    for task in itertools.product(range(n_labels), repeat=C):
        if binary and task[0] == 1:
            continue
        y = np.asarray(task)
        ok = _max_margin(P, y[labels], n_labels)[0] > tol
        copies = [y, 1 - y] if binary else [y]
        if ok:
            solvable += len(copies)
        else:
            unsolvable.extend(copies)
    bad = np.array(unsolvable, dtype=np.int64).reshape(-1, C)
    return TaskCensus(n_labels**C, solvable, bad)


def cover_count(n_points: int, dim: int) -> int:
    r"""Cover's function-counting theorem for affine dichotomies (THEORY.md §5).

    :math:`C` points in general position in :math:`\mathbb R^d` (every :math:`d + 1` of them
    affinely independent) have

    .. math:: \mathcal C(C, d) = 2 \sum_{k=0}^{d} \binom{C - 1}{k}

    affinely separable dichotomies (Cover 1965, applied to the lifted points
    :math:`(x, 1) \in \mathbb R^{d+1}`); this equals :math:`2^C` iff :math:`d \ge C - 1`.

    Parameters
    ----------
    n_points : int
        :math:`C \ge 1`.
    dim : int
        :math:`d \ge 0`.

    Returns
    -------
    int
    """
    for name, v, lo in (("n_points", n_points, 1), ("dim", dim, 0)):
        if isinstance(v, bool) or not isinstance(v, (int, np.integer)) or v < lo:
            raise InputError(f"{name} must be an integer >= {lo}; got {v!r}.")
    return 2 * sum(math.comb(int(n_points) - 1, k) for k in range(int(dim) + 1))


def count_separable_dichotomies(points, *, tol: float = LP_TOL) -> int:
    """Brute-force count of the affinely separable dichotomies of ``points`` (host-side LPs).

    Enumerates all :math:`2^C` labellings (half of them, by complement symmetry) and solves
    one LP each (:func:`task_census`). Equals :func:`cover_count` for points in general
    position (THEORY.md §5); fewer for degenerate points.

    Parameters
    ----------
    points : array, shape (C, d)
    tol : float, default 1e-6

    Returns
    -------
    int
    """
    return task_census(points, None, n_labels=2, tol=tol).n_solvable


# ---------------------------------------------------------------------------------------------
# Sample efficiency
# ---------------------------------------------------------------------------------------------


def _check_int(name: str, v, lo: int) -> int:
    if isinstance(v, bool) or not isinstance(v, (int, np.integer)) or v < lo:
        raise InputError(f"{name} must be an integer >= {lo}; got {v!r}.")
    return int(v)


def _check_probs(probs, n: int, name: str = "probs") -> np.ndarray:
    if probs is None:
        return np.full(n, 1.0 / n)
    p = to_numpy(check_points(name, probs)).reshape(-1).astype(np.float64)
    if p.size != n:
        raise InputError(f"{name} has {p.size} entries; pass one probability per input ({n}).")
    if np.any(p < 0) or abs(p.sum() - 1.0) > 1e-9:
        raise InputError(f"{name} must be non-negative and sum to 1; got sum {p.sum():.12g}.")
    return p


def absent_class_risk(probs, n: int) -> float:
    r"""Expected worst-case ERM risk of an invariant idealized encoder: :math:`\sum_c p_c (1 - p_c)^n`.

    The worst empirical-risk minimiser errs exactly on the classes absent from the sample
    (:func:`expected_worst_case_erm_risk`), so its risk is the mass of absent classes and its
    expectation is :math:`\sum_c p_c \Pr[c \notin S] = \sum_c p_c (1 - p_c)^n` (THEORY.md §5).

    Parameters
    ----------
    probs : array_like, shape (C,)
        Class probabilities.
    n : int
        Sample size.

    Returns
    -------
    float
    """
    n = _check_int("n", n, 0)
    p = np.asarray(to_numpy(check_points("probs", probs))).reshape(-1)
    p = _check_probs(p, p.size)
    return float(np.sum(p * (1.0 - p) ** n))


def uniform_worst_case_risk(n_classes: int, n: int) -> float:
    r""":math:`(1 - 1/C)^n`, the expected worst-case ERM risk for :math:`C` uniform classes (THEORY.md §5).

    Both the probability that a given class is absent from ``n`` draws and, for uniform
    classes, :math:`\sum_c \tfrac1C (1 - \tfrac1C)^n`; increasing in :math:`C`, so coarser
    augmentations (fewer classes) need fewer samples.

    Parameters
    ----------
    n_classes : int
    n : int

    Returns
    -------
    float
    """
    C = _check_int("n_classes", n_classes, 1)
    return (1.0 - 1.0 / C) ** _check_int("n", n, 0)


def _hypothesis_errors(codes, classes, task, n_labels, tol) -> np.ndarray:
    """Error pattern (H x M, bool) of every labelling of the inputs an affine probe realises."""
    X = to_numpy(check_points("codes", codes)).astype(np.float64)
    M = X.shape[0]
    cls = group_structure(check_groups(classes, n=M)).labels
    C = int(cls.max()) + 1
    y_class, k = _check_labels(task, C, name="task", n_labels=n_labels)
    k = max(k, 2) if n_labels is None else k
    uniq, inverse = np.unique(X, axis=0, return_inverse=True)
    inverse = inverse.reshape(-1)
    if k ** uniq.shape[0] > _MAX_ENUMERATION:
        raise InputError(
            f"{k}**{uniq.shape[0]} labellings of the distinct codes exceed the enumeration limit {_MAX_ENUMERATION}."
        )
    P, _, _ = _normalise(uniq)
    realisable = [np.asarray(h) for h in itertools.product(range(k), repeat=uniq.shape[0])
                  if _max_margin(P, np.asarray(h), k)[0] > tol]
    H = np.array(realisable)[:, inverse]
    return H != y_class[cls][None, :]


def _worst_erm(errors: np.ndarray, counts: np.ndarray, q: np.ndarray) -> np.ndarray:
    """Worst true risk over the empirical-risk minimisers, one value per row of ``counts``."""
    emp = errors.astype(np.float64) @ counts.T.astype(np.float64)
    is_erm = emp <= emp.min(axis=0, keepdims=True) + 0.5
    risk = errors.astype(np.float64) @ q
    return np.max(np.where(is_erm, risk[:, None], -np.inf), axis=0)


def expected_worst_case_erm_risk(codes, classes, task, n: int, *, probs=None, n_labels: int | None = None,
                                 tol: float = LP_TOL) -> float:
    r"""Exact expected risk of the worst empirical-risk minimiser, by enumeration (THEORY.md §5).

    Definitions. Inputs :math:`x_1..x_M` with probabilities :math:`q` and classes ``classes``;
    a task :math:`y` constant on classes with values in :math:`\{0..K-1\}`; the hypothesis class
    :math:`\mathcal H_\phi` of labellings :math:`h(x) = \arg\max_k (W\phi(x) + b)_k` realised by
    an affine probe *with a strict argmax* (found by enumerating all :math:`K^M` labellings of
    the distinct codes, one LP each). For a sample :math:`S` of ``n`` i.i.d. inputs, the
    empirical risk is :math:`\hat R_S(h) = \frac1n\sum_{x \in S}[h(x) \ne y(x)]`; the
    empirical-risk minimisers are :math:`\mathcal E_S = \arg\min_{h \in \mathcal H_\phi} \hat
    R_S(h)`; the *worst* minimiser is the adversarial choice in :math:`\mathcal E_S` with the
    largest true risk :math:`R(h) = \sum_x q(x)[h(x) \ne y(x)]`. This function returns
    :math:`\mathbb E_S \max_{h \in \mathcal E_S} R(h)`, summing over all count vectors of the
    sample with their multinomial probabilities.

    For an invariant encoder with affinely independent class codes and :math:`K \ge 2`,
    :math:`\mathcal H_\phi` is every class labelling, :math:`\mathcal E_S` every labelling
    correct on the classes seen in :math:`S`, and the worst one is wrong on every unseen class:
    :math:`\max_{\mathcal E_S} R = \sum_{c \notin S} p_c`, whose expectation is
    :func:`absent_class_risk`, :math:`(1 - 1/C)^n` for uniform classes. An encoder that splits a
    class can be wrong on unseen *inputs* of seen classes too, which is strictly worse
    (:func:`invariant_and_split_encoders`). Host-side.

    Parameters
    ----------
    codes : array, shape (M, d)
        Code of every input.
    classes : array_like of int, shape (M,)
        Class of every input.
    task : array_like of int, shape (C,)
        Label of every class (classes numbered in order of first appearance).
    n : int
        Sample size.
    probs : array_like, shape (M,), optional
        Input probabilities; uniform by default.
    n_labels : int, optional
        Labels the probe can output; default ``max(max(task) + 1, 2)``.
    tol : float, default 1e-6
        LP margin threshold.

    Returns
    -------
    float
    """
    n = _check_int("n", n, 0)
    E = _hypothesis_errors(codes, classes, task, n_labels, check_nonnegative("tol", tol))
    M = E.shape[1]
    q = _check_probs(probs, M)
    n_vectors = math.comb(n + M - 1, M - 1)
    if n_vectors > _MAX_ENUMERATION * 16:
        raise InputError(f"{n_vectors} samples (count vectors) exceed the enumeration limit; reduce n or M.")
    counts = np.array([np.diff(np.concatenate([[-1], bars, [n + M - 1]])) - 1
                       for bars in itertools.combinations(range(n + M - 1), M - 1)]).reshape(-1, M)
    with np.errstate(divide="ignore"):
        logq = np.where(q > 0, np.log(np.where(q > 0, q, 1.0)), -np.inf)
    log_mult = math.lgamma(n + 1) - np.sum([[math.lgamma(c + 1) for c in row] for row in counts], axis=1)
    logp = log_mult + np.sum(np.where(counts > 0, counts * logq[None, :], 0.0), axis=1)
    return float(np.sum(np.exp(logp) * _worst_erm(E, counts, q)))


class MonteCarloEstimate(NamedTuple):
    """Mean of i.i.d. draws and its standard error ``std / sqrt(n_trials)``."""

    mean: float
    stderr: float
    n_trials: int


def monte_carlo_worst_case_erm_risk(codes, classes, task, n: int, *, probs=None, n_labels: int | None = None,
                                    n_trials: int = 2000, seed: int = 0, tol: float = LP_TOL) -> MonteCarloEstimate:
    r"""Monte-Carlo estimate of :func:`expected_worst_case_erm_risk` (draws samples, same definitions).

    Each trial draws ``n`` inputs from ``probs`` with ``numpy.random.default_rng(seed)`` and
    computes the worst empirical-risk minimiser's risk exactly. Host-side.

    Parameters
    ----------
    codes, classes, task, n, probs, n_labels, tol
        As in :func:`expected_worst_case_erm_risk`.
    n_trials : int, default 2000
    seed : int, default 0

    Returns
    -------
    MonteCarloEstimate
    """
    n = _check_int("n", n, 0)
    n_trials = _check_int("n_trials", n_trials, 2)
    E = _hypothesis_errors(codes, classes, task, n_labels, check_nonnegative("tol", tol))
    q = _check_probs(probs, E.shape[1])
    counts = np.random.default_rng(seed).multinomial(n, q, size=n_trials)
    worst = _worst_erm(E, counts, q)
    return MonteCarloEstimate(float(worst.mean()), float(worst.std(ddof=1) / math.sqrt(n_trials)), n_trials)


class EncoderPair(NamedTuple):
    """An invariant idealized encoder and a non-invariant one on the same inputs.

    Attributes
    ----------
    classes : numpy.ndarray of int, shape (C * m,)
        Class of every input (``m`` inputs per class).
    invariant : array, shape (C * m, C - 1)
        Every input coded by its class's simplex-ETF vertex.
    split : array, shape (C * m, C * m - 1)
        Every input its own simplex-ETF vertex: affinely independent, not invariant.
    """

    classes: np.ndarray
    invariant: object
    split: object


def invariant_and_split_encoders(n_classes: int, views_per_class: int = 2, *, xp=None, dtype=None,
                                 device=None) -> EncoderPair:
    r"""The pair of encoders that shows invariance is what gives sample efficiency (THEORY.md §5).

    Both solve every invariant task with zero error (the split encoder's codes are affinely
    independent, so even every labelling of the *inputs* is solvable). The worst
    empirical-risk minimiser of the invariant one errs only on unseen classes, expected risk
    :math:`(1 - 1/C)^n` for uniform inputs; the split one errs on every unseen input,
    :math:`(1 - 1/(Cm))^n`, strictly larger for :math:`n \ge 1`, :math:`m \ge 2`.

    Parameters
    ----------
    n_classes : int
        :math:`C \ge 2`.
    views_per_class : int, default 2
        :math:`m \ge 1` inputs per class.
    xp, dtype, device
        Output namespace (NumPy by default), dtype (float64) and device.

    Returns
    -------
    EncoderPair
    """
    C = _check_int("n_classes", n_classes, 2)
    m = _check_int("views_per_class", views_per_class, 1)
    classes = np.repeat(np.arange(C), m)
    inv = simplex_etf(C, xp=xp, dtype=dtype, device=device)
    xp_ = namespace(inv)
    idx = xp_.asarray(classes, device=array_api_compat.device(inv))
    split = simplex_etf(C * m, xp=xp, dtype=dtype, device=device)
    return EncoderPair(classes, xp_.take(inv, idx, axis=0), split)


# ---------------------------------------------------------------------------------------------
# Codes
# ---------------------------------------------------------------------------------------------


def simplex_etf(n_classes: int, *, xp=None, dtype=None, device=None):
    r"""The simplex equiangular tight frame: :math:`C` unit vectors in :math:`\mathbb R^{C-1}` (THEORY.md §5).

    Rows of :math:`\sqrt{C/(C-1)}\,V` with :math:`V` the Helmert basis of
    :math:`\mathbf 1^\perp` (column :math:`k`: :math:`1/\sqrt{k(k+1)}` on the first :math:`k`
    entries, :math:`-k/\sqrt{k(k+1)}` on entry :math:`k+1`). Then :math:`Z Z^T = \frac{C}{C-1}
    (I - \mathbf 1\mathbf 1^T/C)`: unit norms, pairwise cosine :math:`-1/(C-1)`, zero sum and
    affine rank :math:`C` in the least dimension :math:`d = C - 1` that allows it.

    Parameters
    ----------
    n_classes : int
        :math:`C \ge 2`.
    xp : namespace, optional
        Output namespace; NumPy (array-api-compat) by default.
    dtype, device
        Output dtype (float64 by default) and device.

    Returns
    -------
    array, shape (C, C - 1)
    """
    C = _check_int("n_classes", n_classes, 2)
    if xp is None:
        import array_api_compat.numpy as xp
    dtype = xp.float64 if dtype is None else dtype
    i = xp.reshape(xp.arange(C, dtype=dtype, device=device), (C, 1))
    k = xp.reshape(xp.arange(1, C, dtype=dtype, device=device), (1, C - 1))
    norm = xp.sqrt(k * (k + 1))
    zeros = xp.zeros((C, C - 1), dtype=dtype, device=device)
    V = xp.where(i < k, 1 / norm + zeros, xp.where(i == k, -k / norm + zeros, zeros))
    return V * math.sqrt(C / (C - 1))


class ReLUProbe(NamedTuple):
    r"""One-hidden-layer ReLU network :math:`f(z) = b + \sum_k a_k\,\mathrm{relu}(z - s_k)` on scalar codes.

    Attributes
    ----------
    knots : array, shape (H,)
        Hidden biases :math:`s_k` (hidden weights are all 1).
    output_weight : array, shape (H, K)
        :math:`a_k`.
    output_bias : array, shape (K,)
        :math:`b`.
    """

    knots: object
    output_weight: object
    output_bias: object

    def __call__(self, codes):
        """Outputs :math:`f(z)`, shape ``(N, K)``, for codes of shape ``(N,)`` or ``(N, 1)``."""
        z = check_points("codes", codes)
        if z.shape[1] != 1:
            raise InputError(f"codes must be scalar (shape (N,) or (N, 1)); got shape {tuple(z.shape)}.")
        xp = namespace(z)
        hidden = z - self.knots[None, :]
        hidden = xp.where(hidden > 0, hidden, xp.zeros_like(hidden))
        return hidden @ self.output_weight + self.output_bias[None, :]

    def predict(self, codes):
        """Argmax of :meth:`__call__`, shape ``(N,)``."""
        xp = namespace(self.output_bias)
        return xp.argmax(self(codes), axis=1)


def relu_probe(codes, labels, *, n_labels: int | None = None, rtol: float | None = None) -> ReLUProbe:
    r"""Universal probe for :math:`d = 1`: a ReLU network interpolating any labelling (THEORY.md §5).

    With distinct scalar class codes sorted :math:`s_1 < \dots < s_C` and one-hot targets
    :math:`y_1..y_C`, the piecewise-linear interpolant

    .. math:: f(z) = y_1 + \sum_{k=1}^{C-1} (m_k - m_{k-1})\,\mathrm{relu}(z - s_k),
              \qquad m_k = \frac{y_{k+1} - y_k}{s_{k+1} - s_k},\ m_0 = 0,

    has :math:`C - 1` hidden units and :math:`f(s_c) = y_c` exactly, so its argmax solves every
    task: richer probes need only distinct codes, not :math:`d \ge C - 1`.

    Parameters
    ----------
    codes : array, shape (C,) or (C, 1)
        Distinct scalar class codes.
    labels : array_like of int, shape (C,)
        Label of each class.
    n_labels : int, optional
        Number of outputs ``K``; default ``max(labels) + 1``.
    rtol : float, optional
        Codes closer than ``rtol * max|z|`` count as equal; default :math:`\sqrt{\varepsilon}`.

    Returns
    -------
    ReLUProbe
        In the namespace of ``codes``.
    """
    z = check_points("codes", codes)
    if z.shape[1] != 1:
        raise InputError(f"codes must be scalar (shape (C,) or (C, 1)); got shape {tuple(z.shape)}.")
    xp = namespace(z)
    C = z.shape[0]
    y, k = _check_labels(labels, C, n_labels=n_labels)
    rtol = _default_rtol(z.dtype, xp) if rtol is None else check_nonnegative("rtol", rtol)
    order = xp.argsort(z[:, 0])
    s = xp.take(z[:, 0], order)
    Y = xp.take(_one_hot(y, k, z), order, axis=0)
    gaps = s[1:] - s[:-1]
    if C > 1 and float(xp.min(gaps)) <= rtol * float(xp.max(xp.abs(s))):
        raise InputError(
            f"codes must be distinct: two codes are {float(xp.min(gaps)):.3g} apart; no function of the "
            "code can give them different labels."
        )
    if C == 1:
        return ReLUProbe(s[:0], xp.zeros((0, k), dtype=z.dtype, device=array_api_compat.device(z)), Y[0, :])
    slopes = (Y[1:, :] - Y[:-1, :]) / gaps[:, None]
    prev = xp.concat([xp.zeros_like(slopes[:1, :]), slopes[:-1, :]], axis=0)
    return ReLUProbe(s[:-1], slopes - prev, Y[0, :])
