r"""Nyström approximation: the kernel-regime optimum for ``N`` beyond dense memory.

With ``m`` landmark points :math:`\tilde X` the kernel is replaced by
:math:`\tilde K = FF^T`, :math:`F = K_{N m}K_{mm}^{-1/2}`, i.e. by the explicit features
:math:`\tilde\varphi(x) = K_{mm}^{-1/2}k(\tilde X, x) \in \mathbb R^m`. Everything then lives
in the ``m``-dimensional range of :math:`F = QR` (thin QR): with
:math:`K_m = RR^T`, :math:`A_m = Q^TAQ` and :math:`L_m = Q^TLQ`, the projector
:math:`P = QQ^T` and :math:`\tilde K^+ = QK_m^{-1}Q^T` turn every spectral matrix of
docs/theory.md §3 into :math:`Q M_m Q^T`, where :math:`M_m` is the same formula evaluated on
:math:`(K_m, A_m, L_m)`. So :func:`solve_nystrom` calls the ordinary engine on ``m x m``
matrices and lifts: :math:`Z^* = QZ_m^*`, :math:`C^* = QC_m^*`, and a new point is embedded
by :math:`f(x) = C_m^{*T} R\,\tilde\varphi(x)`. Cost :math:`O(Nm^2)` time and :math:`O(Nm)` memory.

The approximation error is reported as :math:`\operatorname{tr}(K - \tilde K)/\operatorname{tr}K`,
the relative nuclear-norm error (exact, since :math:`K - \tilde K \succeq 0`), from the
diagonal of ``K`` only. The normalised Laplacian eigenmaps (a generalised constraint
:math:`Z^TDZ = I` that does not restrict to :math:`Q`) and the centred VICReg variant are not
available on this path.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
from array_api_compat import is_numpy_namespace

from .. import backend as B
from ..errors import InputError
from ..graphs import RelationGraph, group_sums
from ..protocols import Array
from ..validation import check_choice, check_int, check_points, check_seed
from .engine import Solution, solve
from .objectives import Objective, get_objective

__all__ = [
    "LANDMARK_RULES",
    "NystromFeatures",
    "nystrom_features",
    "rpcholesky_landmarks",
    "LowRankEmbedding",
    "NystromSolution",
    "solve_nystrom",
]


@dataclass(frozen=True)
class NystromFeatures:
    r"""Explicit Nyström features :math:`\tilde\varphi(x) = K_{mm}^{-1/2}k(\tilde X, x)`.

    Attributes
    ----------
    landmarks : array, shape (m, n_features)
    features : array, shape (N, m)
        :math:`F`, the training features.
    relative_trace_error : float
        :math:`\operatorname{tr}(K - FF^T)/\operatorname{tr}K` on the training points.
    """

    kernel: Callable[..., Array]
    landmarks: Array
    whitening: Array
    features: Array
    relative_trace_error: float

    def transform(self, X: Array) -> Array:
        r""":math:`\tilde\varphi(X)`, shape ``(M, m)``."""
        return self.kernel(X, self.landmarks) @ self.whitening


#: Landmark rules of :func:`nystrom_features`.
LANDMARK_RULES = ("uniform", "rpcholesky")


def nystrom_features(
    kernel: Callable[..., Array], X: Array, n_landmarks: int, *, seed: int = 0, rule: str = "uniform"
) -> NystromFeatures:
    r"""Nyström features of ``X`` with ``n_landmarks`` landmarks.

    Parameters
    ----------
    kernel : callable
        ``kernel(X, Y=None)``.
    X : array, shape (N, n_features)
    n_landmarks : int
        :math:`m`, between 1 and :math:`N`.
    seed : int
        Seed of the landmark draw.
    rule : {"uniform", "rpcholesky"}
        ``"uniform"``: :math:`m` distinct points drawn uniformly. ``"rpcholesky"``: randomly
        pivoted Cholesky (Chen, Epperly, Tropp, Webber 2022; :func:`rpcholesky_landmarks`), which
        draws each landmark with probability proportional to the diagonal of the current
        residual :math:`K - \tilde K`, so it avoids redundant landmarks; it costs
        :math:`O(Nm^2)` time and :math:`m` kernel columns.

    Notes
    -----
    :math:`K_{mm}^{-1/2}` uses the pseudo-inverse square root with the default cut-off, so
    duplicated landmarks are harmless.
    """
    if not callable(kernel):
        raise InputError(
            f"kernel must be callable as kernel(X, Y=None), e.g. kssl_theory.kernels.get_kernel('rbf'); got {kernel!r}."
        )
    X = check_points("X", X)
    xp = B.namespace(X)
    n = X.shape[0]
    n_landmarks = check_int("n_landmarks", n_landmarks, 1, n)
    rule = check_choice("rule", rule, LANDMARK_RULES)
    rng = np.random.default_rng(check_seed("seed", seed))
    if rule == "uniform":
        idx = np.sort(rng.choice(n, size=n_landmarks, replace=False))
    else:
        idx = np.sort(rpcholesky_landmarks(kernel, X, n_landmarks, rng))
    landmarks = xp.take(X, xp.asarray(idx, device=B.device(X)), axis=0)
    whitening = B.psd_inv_sqrt(kernel(landmarks))
    F = kernel(X, landmarks) @ whitening
    trace_K = _kernel_trace(kernel, X)
    err = (trace_K - float(xp.sum(F * F))) / trace_K if trace_K > 0 else 0.0  # K = 0 is represented exactly
    return NystromFeatures(kernel, landmarks, whitening, F, max(err, 0.0))


def rpcholesky_landmarks(kernel: Callable[..., Array], X: Array, m: int, rng: np.random.Generator) -> np.ndarray:
    r"""Indices of ``m`` landmarks by randomly pivoted Cholesky (Chen, Epperly, Tropp, Webber 2022).

    Keeps the partial Cholesky factor :math:`G` (:math:`N \times i`) of :math:`K` on the pivots so far
    and the residual diagonal :math:`r = \operatorname{diag}(K - GG^T) \ge 0`; the next pivot is drawn
    with probability :math:`r_s/\sum r` (inverse CDF: the first :math:`s` whose cumulative residual exceeds
    :math:`u\sum r`, :math:`u` uniform from ``rng``), then :math:`g = (k(X, x_s) - GG_{s,:}^T)/\sqrt{g_s}` is
    appended. A pivot already taken has :math:`r_s = 0` and is never drawn again. When the residual
    vanishes (rank of :math:`K` reached), the remaining landmarks are drawn uniformly from the
    points not taken. Everything of size N stays on ``X``'s device (float64); per pivot, three scalars
    (the residual total, the drawn index, :math:`g_s`) come to the host.
    """
    xp, device = B.namespace(X), B.device(X)
    n = X.shape[0]
    resid = xp.astype(_kernel_diagonal(kernel, X), xp.float64)
    if is_numpy_namespace(xp):  # columns contiguous: G[:, :i] @ x is one gemv, G[:, i] one contiguous write
        G = np.zeros((n, m), order="F")
    else:
        G = xp.zeros((n, m), dtype=xp.float64, device=device)
    taken: list[int] = []
    total0 = float(xp.sum(resid))
    while len(taken) < m:
        i = len(taken)
        weights = xp.clip(resid, min=0.0)
        cumulative = xp.cumulative_sum(weights)
        total = float(cumulative[-1])
        if total <= 1e-14 * max(total0, np.finfo(np.float64).tiny):
            rest = np.setdiff1d(np.arange(n), taken)
            taken += [int(j) for j in rng.choice(rest, size=m - i, replace=False)]
            break
        target = xp.asarray([rng.random() * total], dtype=xp.float64, device=device)
        s = min(int(xp.searchsorted(cumulative, target, side="right")[0]), n - 1)
        column = xp.astype(kernel(X, X[s : s + 1, ...])[:, 0], xp.float64)
        g = column - G[:, :i] @ G[s, :i]
        resid[s] = 0.0
        g_s = float(g[s])
        if g_s <= 0:  # round-off left a positive residual where the exact one is 0: not a new direction
            continue
        G[:, i] = g / math.sqrt(g_s)
        resid = resid - G[:, i] ** 2
        resid[s] = 0.0
        taken.append(s)
    return np.asarray(taken, dtype=np.int64)


def _kernel_diagonal(kernel: Callable[..., Array], X: Array, chunk: int = 2048) -> Array:
    r""":math:`k(x_i, x_i)` for every row of ``X``, on its device, without forming ``K`` (diagonals of small blocks)."""
    xp = B.namespace(X)
    n = X.shape[0]
    return xp.concat([xp.linalg.diagonal(kernel(X[a : min(a + chunk, n), ...])) for a in range(0, n, chunk)])


def _kernel_trace(kernel: Callable[..., Array], X: Array) -> float:
    r""":math:`\sum_i k(x_i, x_i)` without forming ``K``."""
    return float(B.namespace(X).sum(_kernel_diagonal(kernel, X)))


class LowRankEmbedding:
    """What the Nyström solutions share: uniqueness of the reduced optimum and the induced kernel of ``transform``."""

    reduced: Solution

    def transform(self, X: Array) -> Array:
        raise NotImplementedError

    @property
    def is_unique(self) -> bool:
        """Uniqueness of the reduced optimum (docs/theory.md §3)."""
        return self.reduced.is_unique

    def induced_kernel(self, X1: Array, X2: Array | None = None) -> Array:
        r"""Induced kernel :math:`k^*(X_1, X_2) = f(X_1)f(X_2)^T` under the Nyström kernel."""
        F1 = self.transform(X1)
        return F1 @ (F1 if X2 is None else self.transform(X2)).T


@dataclass(frozen=True)
class NystromSolution(LowRankEmbedding):
    r"""Optimum of an objective under the Nyström kernel :math:`\tilde K = FF^T`.

    Attributes
    ----------
    features : NystromFeatures
    reduced : Solution
        The ``m x m`` problem on :math:`(K_m, A_m, L_m)` (its ``eigenvalues``, ``is_unique`` and
        ``gap`` are those of the full problem restricted to range(F)).
    embedding : array, shape (N, d)
        :math:`Z^* = QZ_m^*`.
    feature_coef : array, shape (m, d)
        :math:`R^TC_m^*`: ``features.transform(X) @ feature_coef`` embeds new points.
    loss : float
        The attained minimum of the full-size objective under :math:`\tilde K`.
    """

    features: NystromFeatures
    reduced: Solution
    embedding: Array
    feature_coef: Array
    loss: float

    def transform(self, X: Array) -> Array:
        r"""Embed points: :math:`f(x) = C_m^{*T}R\,\tilde\varphi(x)`."""
        return self.features.transform(X) @ self.feature_coef


def _project_relation(rel: RelationGraph, Q: Array) -> tuple[Array, Array, float]:
    r""":math:`A_m = Q^TAQ`, :math:`L_m = Q^TLQ` and :math:`\|A\|_F^2`, in O(Nm) memory for cliques and
    sparse graphs."""
    xp = B.namespace(Q)
    cliques = rel.cliques
    if cliques is not None and rel.stored_A is None:  # on Q's device; only the labels and degrees are copied
        structure, s = cliques
        S = group_sums(structure, Q)  # E^T Q, one row per group
        A_m = S.T @ S + (s - 1) * xp.eye(Q.shape[1], dtype=Q.dtype, device=B.device(Q))
        deg = xp.asarray((structure.sizes + s - 1)[structure.labels], dtype=Q.dtype, device=B.device(Q))
        L_m = Q.T @ (deg[:, None] * Q) - A_m
        return A_m, L_m, rel.frobenius_squared
    if rel.sparse is not None and rel.stored_A is None:  # O(nnz m), nothing N x N
        S = rel.sparse
        Qh = B.to_numpy(Q)
        A_m = Qh.T @ (S @ Qh)
        L_m = Qh.T @ (rel.degree[:, None] * Qh) - A_m
        return (
            xp.asarray(A_m, dtype=Q.dtype, device=B.device(Q)),
            xp.asarray(L_m, dtype=Q.dtype, device=B.device(Q)),
            rel.frobenius_squared,
        )
    A = rel.A
    A_m = Q.T @ (A @ Q)
    L_m = Q.T @ (rel.laplacian @ Q)
    return A_m, L_m, rel.frobenius_squared


def solve_nystrom(
    objective: str | Objective, features: NystromFeatures, relation: RelationGraph, dim: int, **options: Any
) -> NystromSolution:
    r"""Solve ``objective`` under the Nyström kernel of ``features`` (module docstring).

    Parameters
    ----------
    objective : str or Objective
    features : NystromFeatures
        From :func:`nystrom_features`.
    relation : RelationGraph
        The graph of the ``N`` training views (``RelationGraph.from_groups`` keeps memory O(N)).
    dim : int
        ``1 <= dim <= m``.
    **options
        Objective options as for :func:`kssl_theory.solve`.
    """
    obj = get_objective(objective)
    if not isinstance(features, NystromFeatures):
        raise InputError(f"features must come from nystrom_features(); got {type(features).__name__}.")
    if not isinstance(relation, RelationGraph):
        raise InputError(
            f"relation must be a RelationGraph (e.g. RelationGraph.from_groups(groups)); got {type(relation).__name__}."
        )
    if options.get("normalized") or options.get("centred"):
        raise InputError(
            "the normalised eigenmaps and centred VICReg variants are not available with "
            "Nystrom features (their constraint does not restrict to range(F)); use the dense solver."
        )
    F = features.features
    xp = B.namespace(F)
    if relation.n != F.shape[0]:
        raise InputError(f"the relation graph has {relation.n} views but the features have {F.shape[0]} rows.")
    Q, R = B.qr(F)
    A_m, L_m, norm2 = _project_relation(relation, Q)
    K_m = B.gram(R)
    reduced = solve(obj, K_m, RelationGraph(A_m, laplacian=L_m), dim, method="dense", **options)
    loss = float(
        obj.minimum(
            xp.asarray([norm2**0.5], dtype=F.dtype, device=B.device(F)), reduced.eigenvalues[:dim], dim, reduced.options
        )
    )
    return NystromSolution(features, reduced, Q @ reduced.embedding, R.T @ reduced.coef, loss)
