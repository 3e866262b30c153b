r"""Linear probes and counting for idealized representations [IR] (docs/theory.md §5).

Setting as in :mod:`kssl_theory.idealized`: codes :math:`z_i = \phi(x_i) \in \mathbb R^d` of
views grouped into :math:`C` classes; the tasks are all labellings constant on classes.

- **Probes.** :func:`affine_probe` solves :math:`[Z \mid \mathbf 1]\theta = Y` exactly;
  :func:`separability` decides by linear programming whether an affine argmax probe labels
  given points correctly; :func:`radon_partition` is the explicit witness task that no affine
  probe solves when the codes are affinely dependent; :func:`linear_span_counterexample`.
- **Counting.** :func:`cover_count` (Cover's function-counting theorem) and the brute force
  :func:`task_census` / :func:`count_separable_dichotomies`.

Host-only parts
---------------
Linear programs run on ``scipy.optimize.linprog`` (HiGHS), which is host-only: the LP-based
functions (:func:`separability`, :func:`task_census`, :func:`count_separable_dichotomies`)
and the tiny certificate :func:`radon_partition` accept any array-API array, copy it to NumPy
with :func:`~kssl_theory.backend.to_numpy` and return NumPy results. :func:`affine_probe`
stays in the input's namespace and on its device.

Tolerances
----------
Affine-rank decisions use the tolerances of :mod:`kssl_theory.idealized.conditions`. LP decisions use
points centred and scaled to :math:`\max|x| = 1` and call a task separable when the optimal
margin exceeds ``tol = LP_TOL = 1e-6``, ten times HiGHS's primal feasibility tolerance (1e-7).
"""

from __future__ import annotations

import itertools
from typing import NamedTuple

import array_api_compat
import numpy as np

from ..backend import namespace, svd, to_numpy
from ..errors import InputError
from ..protocols import Array
from ..validation import check_int, check_points
from ._shared import (
    MAX_ENUMERATION,
    check_labels,
    check_margin_tol,
    labels_or_identity,
    max_margin,
    normalise,
    one_hot_like,
    unit_scaled,
)
from .conditions import affine_rank

__all__ = [
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
]

LP_TOL = 1e-6


# ---------------------------------------------------------------------------------------------
# Probes
# ---------------------------------------------------------------------------------------------


class AffineProbe(NamedTuple):
    r"""An affine argmax classifier :math:`\hat y(z) = \arg\max_k (z W + b)_k`.

    Attributes
    ----------
    weight : array, shape (d, K)
    bias : array, shape (K,)
    """

    weight: Array
    bias: Array

    def scores(self, codes: Array) -> Array:
        """Scores :math:`z W + b`, shape ``(N, K)``."""
        Z = check_points("codes", codes)
        return Z @ self.weight + self.bias[None, :]

    def predict(self, codes: Array) -> Array:
        """Predicted labels :math:`\\arg\\max_k (zW + b)_k`, shape ``(N,)``."""
        xp = namespace(self.weight)
        return xp.argmax(self.scores(codes), axis=1)


def affine_probe(
    class_codes: Array, labels: Array | None = None, *, n_labels: int | None = None, rtol: float | None = None
) -> AffineProbe:
    r"""The exact affine probe for a labelling of affinely independent class codes (docs/theory.md §5).

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
        Cut-off of the affine-independence check (see :func:`~kssl_theory.idealized.affine_rank`).

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
    y, k = check_labels(np.arange(C) if labels is None else labels, C, n_labels=n_labels, per="class")
    rank = affine_rank(Z, rtol=rtol)
    if rank < C:
        raise InputError(
            f"class_codes are affinely dependent (rank [Z | 1] = {rank} < C = {C}); no affine probe "
            "solves every labelling. radon_partition(class_codes) gives a task no affine probe solves."
        )
    mean = xp.mean(Z, axis=0, keepdims=True)
    s = max(float(xp.max(xp.abs(Z - mean))), float(xp.finfo(Z.dtype).smallest_normal))
    A = xp.concat([(Z - mean) / s, xp.ones((C, 1), dtype=Z.dtype, device=array_api_compat.device(Z))], axis=1)
    U, S, Vt = svd(A, full_matrices=False)
    theta = Vt.T @ ((U.T @ one_hot_like(y, k, Z)) / S[:, None])
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


def separability(points: Array, labels: Array, *, n_labels: int | None = None, tol: float = LP_TOL) -> Separability:
    r"""Decide by linear programming whether an affine argmax probe labels ``points`` correctly.

    Solves (host-side, ``scipy.optimize.linprog``) the max-margin problem

    .. math:: \max_{W, b, t}\ t \quad\text{s.t.}\quad (w_{y_i} - w_k)^T x_i + b_{y_i} - b_k \ge t
              \ \ \forall i,\ k \ne y_i, \qquad |W|, |b| \le 1,\ t \le 1,

    on points centred and scaled to :math:`\max|x| = 1` (separability is affine-invariant).
    A probe with strictly correct argmax exists iff the optimum is positive. For two labels
    this is ordinary affine separability of a dichotomy (docs/theory.md §5).

    Parameters
    ----------
    points : array, shape (N, d)
        Codes to classify (any namespace; copied to NumPy).
    labels : array_like of int, shape (N,)
        Target label of each point.
    n_labels : int, optional
        Number of labels ``K`` the probe outputs; default ``max(labels) + 1``.
    tol : float, default 1e-6
        Margin threshold in ``[0, 1)`` (10x HiGHS's feasibility tolerance on unit-scaled data; margins
        are normalised to at most 1).

    Returns
    -------
    Separability
        Verdict, margin and the optimal probe in original coordinates (NumPy).
    """
    X = to_numpy(check_points("points", points)).astype(np.float64)
    y, k = check_labels(labels, X.shape[0], n_labels=n_labels)
    tol = check_margin_tol(tol)
    P, centre, s = normalise(X)
    margin, theta = max_margin(P, y, k)
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


def radon_partition(class_codes: Array, *, rtol: float | None = None) -> RadonPartition:
    r"""The Radon partition of affinely dependent class codes (docs/theory.md §5, necessity).

    The affine dependence :math:`\lambda` is the right singular vector of
    :math:`[Z \mid \mathbf 1]^T` (normalised codes) with the smallest singular value. Host-side.

    Parameters
    ----------
    class_codes : array, shape (C, d)
        Affinely dependent codes (``affine_rank < C``).
    rtol : float, optional
        Cut-off of the dependence check (see :func:`~kssl_theory.idealized.affine_rank`).

    Returns
    -------
    RadonPartition
        The witness task, the coefficients and the common point.

    Raises
    ------
    InputError
        If the codes are affinely independent (then every task has an exact probe), or if a
        loose ``rtol`` declared them dependent while the nearest dependence has
        :math:`\sum_i \lambda_i` as large as either part (no two hulls meet).
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
    P, _, _ = normalise(X)
    M = np.vstack([P.T, np.ones((1, C))])
    lam = svd(M, full_matrices=True)[2][-1]
    positive, negative = lam[lam > 0].sum(), -lam[lam < 0].sum()
    if min(positive, negative) <= abs(positive - negative):
        # Not a dependence (sum lambda = 0 fails beyond the size of either side): rtol declared
        # codes dependent that are far from it, so no two hulls meet.
        raise InputError(
            f"class_codes are not affinely dependent enough for a Radon partition: the nearest dependence has "
            f"sum(lambda) = {positive - negative:.3g} against parts of size {positive:.3g} and {negative:.3g}; "
            f"the rank test with rtol = {rtol!r} declared them dependent, pass a smaller rtol."
        )
    lam = lam / positive
    labels = (lam > 0).astype(np.int64)
    Xs, m = unit_scaled(X, np)  # combinations of X / m cannot overflow
    point = m * (lam[lam > 0] @ Xs[lam > 0])
    residual = m * float(np.linalg.norm(lam @ Xs))
    return RadonPartition(labels, lam, point, residual)


class SpanCounterexample(NamedTuple):
    """The counterexample to the linear-span reading of the condition (docs/theory.md §5).

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
    r"""Codes with :math:`\dim\operatorname{span} = C - 1` that are not idealized (docs/theory.md §5).

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


def task_census(codes: Array, groups: Array | None = None, *, n_labels: int = 2, tol: float = LP_TOL) -> TaskCensus:
    r"""Enumerate every labelling of the classes and test each by LP (host-side).

    A class labelling :math:`y_c` is lifted to the views (:math:`y_i = y_{g_i}`) and tested with
    :func:`separability` on *all* view codes, so non-invariant encoders are handled too. For two
    labels the complement symmetry (a probe for :math:`y` negated solves :math:`1 - y`) halves
    the number of LPs. docs/theory.md §5: with an invariant encoder, every task is solvable iff
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
        LP margin threshold in ``[0, 1)`` (see :func:`separability`).

    Returns
    -------
    TaskCensus
    """
    X = to_numpy(check_points("codes", codes)).astype(np.float64)
    labels = labels_or_identity(groups, X.shape[0])
    C = int(labels.max()) + 1
    n_labels = check_int("n_labels", n_labels, 1)
    tol = check_margin_tol(tol)
    if n_labels**C > MAX_ENUMERATION:
        raise InputError(f"n_labels**C = {n_labels}**{C} tasks exceed the enumeration limit {MAX_ENUMERATION}.")
    P, _, _ = normalise(X)
    binary = n_labels == 2
    unsolvable = []
    solvable = 0
    for task in itertools.product(range(n_labels), repeat=C):
        if binary and task[0] == 1:
            continue
        y = np.asarray(task)
        ok = max_margin(P, y[labels], n_labels)[0] > tol
        copies = [y, 1 - y] if binary else [y]
        if ok:
            solvable += len(copies)
        else:
            unsolvable.extend(copies)
    bad = np.array(unsolvable, dtype=np.int64).reshape(-1, C)
    return TaskCensus(n_labels**C, solvable, bad)


#: Largest ``n_points`` :func:`cover_count` accepts: the count has up to ~30,000 decimal digits
#: and takes up to 5·10^4 big-integer steps (0.7 s measured for ``cover_count(100_000, 50_000)``).
_MAX_COVER_POINTS = 100_000


def cover_count(n_points: int, dim: int) -> int:
    r"""Cover's function-counting theorem for affine dichotomies (docs/theory.md §5).

    :math:`C` points in general position in :math:`\mathbb R^d` (every :math:`d + 1` of them
    affinely independent) have

    .. math:: \mathcal C(C, d) = 2 \sum_{k=0}^{d} \binom{C - 1}{k}

    affinely separable dichotomies (Cover 1965, applied to the lifted points
    :math:`(x, 1) \in \mathbb R^{d+1}`); this equals :math:`2^C` iff :math:`d \ge C - 1`.

    Parameters
    ----------
    n_points : int
        :math:`1 \le C \le 100{,}000` (the count has up to ~30,000 digits).
    dim : int
        :math:`d \ge 0`.

    Returns
    -------
    int

    Raises
    ------
    InputError
        If an argument is not an integer in range.
    """
    C = check_int("n_points", n_points, 1, _MAX_COVER_POINTS)
    d = check_int("dim", dim, 0)
    n = C - 1
    if d >= n:
        return int(2**C)  # every binomial term is present: 2 * 2**(C - 1)
    # Sum the shorter side of the binomial row incrementally (binom(n, k+1) = binom(n, k)(n-k)/(k+1));
    # for d > (n - 1)/2 the sum up to d is 2**n minus the mirror-image sum up to n - d - 1.
    m = min(d, n - d - 1)
    term = total = 1
    for k in range(m):
        term = term * (n - k) // (k + 1)
        total += term
    return 2 * total if m == d else 2 * (2**n - total)


def count_separable_dichotomies(points: Array, *, tol: float = LP_TOL) -> int:
    """Brute-force count of the affinely separable dichotomies of ``points`` (host-side LPs).

    Enumerates all :math:`2^C` labellings (half of them, by complement symmetry) and solves
    one LP each (:func:`task_census`). Equals :func:`cover_count` for points in general
    position (docs/theory.md §5); fewer for degenerate points.

    Parameters
    ----------
    points : array, shape (C, d)
    tol : float, default 1e-6

    Returns
    -------
    int
    """
    return task_census(points, None, n_labels=2, tol=tol).n_solvable
