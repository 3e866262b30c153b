r"""The generic spectral engine: objective → spectral matrix → :math:`G^*, Z^*, C^*` (docs/theory.md §3).

:func:`solve` validates the inputs, factors :math:`K` once (:class:`KernelFactor`), asks the
objective for its spectral matrix, eigendecomposes it, applies the objective's spectral rule and
returns a :class:`Solution` with the optimum, its loss, uniqueness diagnostics and the
out-of-sample extension (the induced kernel :math:`k^*(x,x') = k_x^T C^* C^{*T} k_{x'}`).

Accuracy and uniqueness (docs/theory.md §3, :mod:`kssl_theory.kernel_regime.accuracy`): every solve bounds the
absolute error :math:`e` of the leading ``d + 1`` eigenvalues a posteriori, from the residuals of
the computed eigenpairs (``Solution.eigenvalue_error``). With the rule's eigenvalues ordered
:math:`\lambda_1 \ge \lambda_2 \ge \dots` (ascending for ``bottom``):

- ``psd-top`` keeps :math:`\lambda_i` when :math:`\lambda_i > e` (certified positive);
- the optimum is reported unique iff uniqueness is certified: :math:`|\lambda_d - \lambda_{d+1}| > 2e`,
  or (soft rules) :math:`\lambda_{d+1} \le e`; a reported tie is a tie at that precision.

No cut-off is relative to :math:`\max|\lambda(T)|`: with a penalty that maximum is
:math:`\approx \lambda/(2\mu_{\min}(K))`, unrelated to the eigenvalues that decide the optimum.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any, cast

import numpy as np
from array_api_compat import is_cupy_namespace, is_numpy_namespace

from .. import backend as B
from ..errors import InputError, NotPositiveDefiniteError, NumericalError
from ..graphs import GroupStructure, RelationGraph, check_sparse_relation, group_sums, is_sparse
from ..protocols import Array, KernelFactorOperators, RelationOperators
from ..validation import (
    check_choice,
    check_dim,
    check_matrix,
    check_nonnegative,
    check_same_namespace,
    check_seed,
    check_symmetric,
)
from .accuracy import (
    SpectralMatrix,
    deflate_penalty,
    eigenpair_error,
    literal_loss_tolerance,
    loss_error,
    refine_penalised,
)
from .kernel_factor import ILL_CONDITIONED, KernelFactor
from .objectives import Objective, SpectralOperator, document_options, get_objective, parse_options

__all__ = ["Solution", "solve", "loss", "METHODS"]


@dataclass(frozen=True)
class _ComputedVectors:
    """Eigenvectors of the spectral matrix as computed, columns in the rule's order."""

    V: Array

    def columns(self, indices: Sequence[int]) -> Array:
        xp = B.namespace(self.V)
        return xp.take(self.V, xp.asarray(indices, dtype=xp.int64, device=B.device(self.V)), axis=1)


@dataclass(frozen=True)
class _CliqueVectors:
    """Eigenvectors of a clique graph's spectral matrix, built on demand from the group structure.

    ``slots[i]`` is the ``i``-th eigenvector in the rule's order: ``(g, 0)`` the normalised indicator
    of group ``g``, ``(g, j)`` (``j >= 1``) its ``j``-th Helmert (within-group zero-sum) vector.
    ``like`` is any array of the solve: the vectors take its namespace, dtype and device.
    """

    structure: GroupStructure
    slots: tuple[tuple[int, int], ...]
    like: Array

    def columns(self, indices: Sequence[int]) -> Array:
        r"""The eigenvectors ``indices``, built on the device of ``like``.

        With :math:`r_i` the rank of view :math:`i` among its group's members (index order), column
        ``(g, 0)`` is :math:`1/\sqrt{m_g}` on the group, and column ``(g, j)`` is :math:`1/\sqrt{j(j+1)}`
        where :math:`r_i < j`, :math:`-j/\sqrt{j(j+1)}` where :math:`r_i = j`, 0 elsewhere. Only the labels and
        ranks (vectors of length N) and the per-column values are copied to the device.
        """
        xp, device = B.namespace(self.like), B.device(self.like)
        st = self.structure
        g = np.asarray([self.slots[i][0] for i in indices], dtype=np.int64)
        j = np.asarray([self.slots[i][1] for i in indices], dtype=np.int64)
        m = st.sizes[g]
        jj = np.maximum(j, 1)
        # an indicator column is the "first" value on every rank below m_g and has no rank-j entry
        cut = np.where(j == 0, m, j)
        first = np.where(j == 0, 1 / np.sqrt(m), 1 / np.sqrt(jj * (jj + 1)))
        at_cut = np.where(j == 0, 0.0, -jj / np.sqrt(jj * (jj + 1)))

        def dev(a: np.ndarray, dtype: Any = None) -> Array:
            return xp.asarray(a, dtype=dtype, device=device)

        labels, ranks = dev(st.labels)[:, None], dev(st.member_ranks())[:, None]
        member = labels == dev(g)[None, :]
        dt = self.like.dtype
        zero = xp.zeros((1, 1), dtype=dt, device=device)
        U = xp.where(member & (ranks < dev(cut)[None, :]), dev(first, dt)[None, :], zero)
        return xp.where(member & (ranks == dev(cut)[None, :]), dev(at_cut, dt)[None, :], U)


@dataclass(frozen=True)
class _Spectrum:
    r"""The engine's result before an optimum is assembled from it; :meth:`Solution.alternative` re-uses it.

    Attributes
    ----------
    eigenvalues : array
        In the rule's order (:attr:`Solution.eigenvalues`).
    vectors : _ComputedVectors, _CliqueVectors or _KernelEigenvectors
        The matching eigenvectors, in the coordinates of ``basis``.
    basis : array or None
        Orthonormal basis of the feasible subspace the spectral matrix lives on (``None``: standard).
    is_unique, gap : bool, float
        Certified uniqueness and the gap (:func:`_uniqueness`).
    tie_tol : float
        The certified eigenvalue error (ties and the zero cut use it).
    method : str
        The eigenpair path that ran.
    norm_A : array or None
        What the objective's ``minimum`` reads :math:`\|A\|_F` from, when not ``rel.A`` (the
        clique path passes A's spectrum, so A is never formed).
    """

    eigenvalues: Array
    vectors: _ComputedVectors | _CliqueVectors | _KernelEigenvectors
    basis: Array
    is_unique: bool
    gap: float
    tie_tol: float
    method: str
    norm_A: Array = None


@dataclass(frozen=True)
class Solution:
    r"""Optimum of a kernel-regime SSL objective (returned by :func:`solve`).

    Attributes
    ----------
    objective : Objective
        The objective solved.
    options : dict
        The options used, defaults filled in.
    dim : int
        Embedding dimension ``d``.
    embedding : array, shape (N, d)
        :math:`Z^* = U\Lambda^{1/2}` (soft rules) or the constrained optimum (O3, O4);
        unique up to :math:`Z^*Q`, :math:`Q\in O(d)`. Columns beyond the number of positive
        target eigenvalues are zero.
    coef : array, shape (N, d)
        Minimum-norm coefficients, :math:`Z^* = KC^*`.
    loss : scalar array
        The attained minimum, from the closed form of docs/theory.md §3.
    eigenvalues : array
        Spectrum of the spectral matrix in the rule's order (descending for ``psd-top``/``top``,
        ascending for ``bottom``): all of it on the ``dense`` and ``structured`` paths, the
        leading ``d + 1`` on the ``subset`` and ``iterative`` paths. The spectral matrix lives on
        the feasible subspace: for a singular ``K`` or a penalty, range(K) (minus the deflated
        penalty directions, which carry only negative eigenvalues); the target's eigenvalues 0
        on the complement are not listed.
    is_unique : bool
        Whether :math:`G^*` (and :math:`k^*`) is certified unique (module docstring).
    gap : float
        :math:`|\lambda_d - \lambda_{d+1}|` (``inf`` when ``d`` reaches the feasible dimension).
    eigenvalue_error : float
        Bound on the absolute error of the leading ``d + 1`` eigenvalues (for ``psd-top``: of those
        that may be non-negative, the only ones that decide the optimum);
        :func:`kssl_theory.kernel_regime.accuracy.eigenpair_error` plus the penalty-deflation bound.
    loss_error : float
        Bound on the error of ``loss`` implied by ``eigenvalue_error``
        (:func:`kssl_theory.kernel_regime.accuracy.loss_error`).
    rank : int
        Numerical rank of :math:`K` (cut-off ``kernel_rtol``).
    hs_norm : scalar array
        :math:`\|W^*\|_{HS}^2 = \operatorname{tr}(C^{*T}KC^*)`.
    method : str
        The path that computed the eigenpairs: ``"dense"``, ``"subset"``, ``"iterative"`` or
        ``"structured"``.
    rule : str
        The spectral rule applied (``"psd-top"``, ``"top"`` or ``"bottom"``).
    """

    objective: Objective
    options: dict[str, Any]
    dim: int
    embedding: Array
    coef: Array
    loss: Array
    eigenvalues: Array
    is_unique: bool
    gap: float
    eigenvalue_error: float
    loss_error: float
    hs_norm: Array
    method: str
    rule: str
    _spectrum: _Spectrum = field(repr=False)
    _factor: KernelFactorOperators = field(repr=False)
    _rel: RelationOperators = field(repr=False)

    @property
    def rank(self) -> int:
        """Numerical rank of :math:`K` (cut-off ``kernel_rtol``), from the factor of :math:`K` on first use.

        The kernel-PCA path factors neither a singular nor a positive definite :math:`K` (only :math:`K + \\tau I`);
        asking for the rank does: a Cholesky attempt, and an eigendecomposition when it fails.
        """
        return self._factor.rank

    @cached_property
    def gram(self) -> Array:
        r"""Optimal training Gram matrix :math:`G^* = Z^*Z^{*T}`, shape ``(N, N)`` (computed on first use)."""
        return B.gram(self.embedding)

    def transform(self, K_new: Array) -> Array:
        r"""Embed new points: :math:`f(x) = C^{*T}k_x`, i.e. ``K_new @ coef``.

        Parameters
        ----------
        K_new : array, shape (M, N)
            Cross-kernel block :math:`k(X_{\text{new}}, X_{\text{train}})`.

        Returns
        -------
        array, shape (M, d)

        Raises
        ------
        InputError
            If ``K_new`` is not a finite real matrix with ``N`` columns in the namespace of ``coef``.
        """
        return self._embed("K_new", K_new)

    def _embed(self, name: str, block: Array) -> Array:
        """``block @ coef`` for a cross-kernel block validated under its parameter's ``name``."""
        block = check_matrix(name, block, square=False, cols=self.coef.shape[0])
        check_same_namespace(**{name: block, "coef": self.coef})
        return block @ self.coef

    def induced_kernel(self, K_1X: Array, K_2X: Array | None = None) -> Array:
        r"""Induced kernel block :math:`k^*(X_1, X_2) = K_{1X} C^* C^{*T} K_{X2}`.

        Parameters
        ----------
        K_1X : array, shape (M1, N)
            :math:`k(X_1, X_{\text{train}})`.
        K_2X : array, shape (M2, N), optional
            :math:`k(X_2, X_{\text{train}})`; defaults to ``K_1X``.

        Returns
        -------
        array, shape (M1, M2)
            PSD (when ``K_2X`` is omitted) with rank at most ``d`` (docs/theory.md §3, "Induced kernel").

        Raises
        ------
        InputError
            If ``K_1X`` or ``K_2X`` is not a finite real matrix with ``N`` columns in the namespace of
            ``coef`` (the message names the argument).
        """
        F1 = self._embed("K_1X", K_1X)
        F2 = F1 if K_2X is None else self._embed("K_2X", K_2X)
        return F1 @ F2.T

    def tied_indices(self) -> list[int]:
        """Indices (in the rule's order) of the computed eigenvalues tied with the ``d``-th one."""
        xp = B.namespace(self.eigenvalues)
        w = self.eigenvalues
        if self.dim > w.shape[0]:
            return []
        tol = self._spectrum.tie_tol
        tied = xp.abs(w - w[self.dim - 1]) <= 2 * tol
        if self.rule == "psd-top":
            tied = tied & (w > tol)
        return [int(i) for i in B.to_numpy(xp.nonzero(tied)[0])]

    def alternative(self, seed: int) -> Solution:
        """Another optimum: a random orthonormal basis of the tied eigenspace replaces the chosen one.

        Returns ``self`` when the optimum is unique. For a split tie the training Gram matrix,
        embedding and out-of-sample induced kernel generally differ (docs/theory.md §3 "Uniqueness",
        §6). The alternative's loss is recomputed from the definition (:func:`loss`) at its
        coefficients; it must equal ``self.loss`` within
        :func:`kssl_theory.kernel_regime.accuracy.literal_loss_tolerance`, else :class:`NumericalError` is
        raised instead of returning a solution that is not optimal. On the partial paths the
        tie may extend past the computed eigenpairs, so the problem is re-solved densely first.

        Raises
        ------
        NumericalError
            The rotated basis does not attain the optimum at the reported precision.
        """
        seed = check_seed("seed", seed)
        if self.is_unique:
            return self
        if self.method in ("subset", "iterative"):
            return solve(
                self.objective, self._factor.K, self._rel.A, self.dim, method="dense", **self.options
            ).alternative(seed)
        xp = B.namespace(self.eigenvalues)
        tied = self.tied_indices()
        first = tied[0]
        vectors = self._spectrum.vectors
        block = vectors.columns(tied)
        rng = np.random.default_rng(seed)
        Q, _ = B.qr(rng.standard_normal((len(tied), len(tied))))
        rotated = block @ xp.asarray(Q[:, : self.dim - first], dtype=block.dtype, device=B.device(block))
        V = xp.concat([vectors.columns(list(range(first))), rotated], axis=1)
        alt = _assemble(self.objective, self.options, self.dim, self._factor, self._rel, self._spectrum, V)
        literal = float(self.objective.loss(alt.embedding, self._rel, self._factor.K, alt.coef, self.options))
        tol = literal_loss_tolerance(alt, self._rel.A, self._factor.K)
        if not abs(literal - float(self.loss)) <= tol:
            raise NumericalError(
                f"the alternative optimum's loss recomputed from its definition is {literal!r}, but the reported "
                f"minimum is {float(self.loss)!r} (allowed difference {tol:.3g}): the tie between eigenvalues "
                f"{self.tied_indices()} is not exact enough to rotate within; no alternative is returned."
            )
        return alt


def _uniqueness(
    rule: str, w: Array, dim: int, err: float, feasible: int, tie_rtol: float | None
) -> tuple[bool, float, float]:
    """``(is_unique, gap, tol)`` from the certified eigenvalue error ``err`` (module docstring).

    ``tie_rtol`` (user option) widens the band to ``tie_rtol`` times the largest eigenvalue the
    rule uses among the leading ``d + 1`` (non-negative ones only for ``psd-top``).
    """
    xp = B.namespace(w)
    tol = float(err)
    k = min(dim + 1, w.shape[0])
    if tie_rtol is not None and k:
        lead = w[:k]
        scale = float(xp.max(xp.clip(lead, 0, None) if rule == "psd-top" else xp.abs(lead)))
        tol = max(tol, float(tie_rtol) * scale)
    if dim >= feasible:
        return True, float("inf"), tol
    gap = abs(float(w[dim - 1]) - float(w[dim]))
    unique = gap > 2 * tol
    if rule == "psd-top" and float(w[dim]) <= tol:
        unique = True
    return unique, gap, tol


def _assemble(
    objective: Objective,
    opts: dict[str, Any],
    dim: int,
    kf: KernelFactorOperators,
    rel: RelationOperators,
    spectrum: _Spectrum,
    V_sel: Array,
) -> Solution:
    """The :class:`Solution` whose optimum is built from the eigenvectors ``V_sel`` (the ``d`` chosen ones)."""
    xp = B.namespace(V_sel)
    rule = objective.spectral_rule(opts)
    w, tol, basis = spectrum.eigenvalues, spectrum.tie_tol, spectrum.basis
    w_sel = w[: min(dim, w.shape[0])]
    if rule == "psd-top":
        # Only certified-positive eigenvalues are kept (module docstring). w always holds at least d
        # entries here: the complement of the feasible subspace contributes its zeros and the penalty
        # deflation keeps d + 1 coordinates, so no column is missing.
        w_sel = xp.where(w_sel > tol, w_sel, xp.zeros_like(w_sel))
    U = V_sel if basis is None else basis @ V_sel
    Z, C = objective.embed(kf, rel, U, w_sel, opts)
    return _solution(objective, opts, dim, kf, rel, spectrum, w_sel, Z, C)


def _solution(
    objective: Objective,
    opts: dict[str, Any],
    dim: int,
    kf: KernelFactorOperators,
    rel: RelationOperators,
    spectrum: _Spectrum,
    w_sel: Array,
    Z: Array,
    C: Array,
) -> Solution:
    """The :class:`Solution` with optimum ``Z = KC`` built from the used eigenvalues ``w_sel``: loss, its error."""
    xp = B.namespace(Z)
    rule = objective.spectral_rule(opts)
    w, tol, norm_A = spectrum.eigenvalues, spectrum.tie_tol, spectrum.norm_A
    loss_value = objective.minimum(rel.A if norm_A is None else norm_A, w_sel, dim, opts)
    if not (bool(xp.all(xp.isfinite(Z))) and bool(xp.all(xp.isfinite(C))) and bool(xp.isfinite(loss_value))):
        raise InputError(
            "the optimum overflows the range of the dtype (entries of K or A near the largest representable "
            "number, or K's retained spectrum spanning more than the dtype can hold); rescale K and A."
        )
    eps = B.eps(Z.dtype, xp)
    w_used = B.to_numpy(w_sel)
    const = float(loss_value) + (float((w_used.clip(0) ** 2).sum()) if rule == "psd-top" else 0.0)
    return Solution(
        objective=objective,
        options=opts,
        dim=dim,
        embedding=Z,
        coef=C,
        loss=loss_value,
        eigenvalues=w,
        is_unique=spectrum.is_unique,
        gap=spectrum.gap,
        eigenvalue_error=float(tol),
        loss_error=loss_error(rule, w_sel, tol, const, kf.n, eps),
        hs_norm=xp.sum(Z * C),
        method=spectrum.method,
        rule=rule,
        _spectrum=spectrum,
        _factor=kf,
        _rel=rel,
    )


# --- eigenpair strategies -------------------------------------------------------------------------


def _rule_order(rule: str, w: Array, V: Array) -> tuple[Array, Array]:
    """Reorder ascending eigenpairs into the rule's order (descending unless ``bottom``)."""
    xp = B.namespace(w)
    if rule == "bottom":
        return w, V
    idx = xp.arange(w.shape[0] - 1, -1, -1, device=B.device(w))
    return xp.take(w, idx), xp.take(V, idx, axis=1)


def _dense_eigenpairs(rule: str, M: Array, dim: int) -> tuple[Array, Array]:
    w, V = _rule_order(rule, *B.eigh(M))
    return w, V


def _subset_eigenpairs(rule: str, M: Array, dim: int) -> tuple[Array, Array]:
    """Leading ``dim + 1`` eigenpairs by LAPACK's ``evr`` driver (NumPy only)."""
    n = M.shape[0]
    k = min(dim + 1, n)
    lo, hi = (0, k - 1) if rule == "bottom" else (n - k, n - 1)
    w, V = B.eigh_subset(M, lo, hi)
    return _rule_order(rule, w, B.fix_signs(V))


def _sparse_linalg(xp: Any) -> Any:
    if is_numpy_namespace(xp):
        import scipy.sparse.linalg as spla

        return spla
    if is_cupy_namespace(xp):
        import cupyx.scipy.sparse.linalg as spla

        return spla
    return None


def _eigsh(
    spla: Any, op: Any, k: int, which: str, v0: Array, scale: float, tol: float = 0.0, vectors: bool = True
) -> Any:
    r"""``eigsh`` of SciPy (ARPACK) or CuPy with one stopping rule: each Ritz pair's residual within ``tol``
    (machine precision when 0) of ``scale``, an upper bound on the operator's norm, and at most
    ``ITERATIVE_MAXITER`` restarts.

    ARPACK's ``tol`` is relative to each Ritz value and its ``maxiter`` counts restarts; CuPy's thick-restart
    Lanczos stops on an *absolute* bound of the norm of all ``k`` residuals and counts single Lanczos steps
    (``ncv - k`` per restart), so both are translated: ``tol * scale * sqrt(k)`` and
    ``ncv + ITERATIVE_MAXITER * (ncv - k)``. (Passed through unchanged, CuPy's run stopped after its first
    ``ncv`` steps, uncertified, and every solve fell back to the dense path: the first GPU run, 2026-12-04.)

    Raises ``ArithmeticError`` when the result is not finite: CuPy's Lanczos divides by the next residual
    norm without a breakdown test, so an invariant Krylov subspace (a clique graph's highly repeated
    eigenvalues) gives NaN pairs, which the residual checks of a ``psd-top`` rule would not reject (second
    GPU run: a certified NaN spectrum, caught only by the solution's own overflow check).
    """
    if not spla.__name__.startswith("cupyx"):
        out = spla.eigsh(op, k=k, which=which, tol=tol, v0=v0, maxiter=ITERATIVE_MAXITER, return_eigenvectors=vectors)
    else:
        n = op.shape[0]
        ncv = min(max(2 * k, k + 32), n - 1)
        rel = tol if tol > 0 else float(np.finfo(op.dtype).eps)
        out = spla.eigsh(
            op,
            k=k,
            which=which,
            v0=v0,
            ncv=ncv,
            maxiter=ncv + ITERATIVE_MAXITER * (ncv - k),
            tol=rel * scale * math.sqrt(k),
            return_eigenvectors=vectors,
        )
    xp = B.namespace(v0)
    if not all(bool(xp.all(xp.isfinite(part))) for part in (out if vectors else (out,))):
        raise ArithmeticError("Lanczos returned non-finite eigenpairs (a breakdown)")
    return out


def _iterative_eigenpairs(rule: str, M: Array, dim: int, *, symmetric: bool = False) -> tuple[Array, Array] | None:
    r"""Leading ``dim + 1`` eigenpairs by Lanczos (ARPACK ``eigsh``, or CuPy's), checked, of the symmetric part of
    ``M`` (``symmetric``: ``M`` is exactly symmetric, and no symmetrised copy is made).

    Two checks guard against the silent failure modes of Krylov methods: every returned pair
    must have residual :math:`\|Mv - \lambda v\| \le \text{ITERATIVE\_RTOL}\,\|M\|_F`, and
    a second Lanczos run on :math:`M` deflated by the returned vectors must find no eigenvalue
    beyond the last returned one (Lanczos can miss copies of a repeated eigenvalue). When either
    fails, or the backend has no Lanczos solver, the dense path is used and ``None`` is returned
    as the method's marker.
    """
    xp = B.namespace(M)
    spla = _sparse_linalg(xp)
    n = M.shape[0]
    k = dim + 1
    if spla is None or k >= n - 1:
        return None
    S = M if symmetric else B.symmetrize(M)
    which = "SA" if rule == "bottom" else "LA"
    # A fixed start vector makes the run deterministic (ARPACK draws a random one otherwise).
    v0 = xp.asarray(np.random.default_rng(0).standard_normal(n), dtype=S.dtype, device=B.device(S))
    norm = float(xp.linalg.matrix_norm(S))  # Frobenius norm, a cheap upper bound on ||M||_2
    try:
        w, V = _eigsh(spla, S, k, which, v0, norm)
    except Exception:
        return None
    resid = float(xp.max(xp.linalg.vector_norm(S @ V - V * w[None, :], axis=0)))
    if resid > ITERATIVE_RTOL * max(norm, np.finfo(np.float64).tiny):
        return None
    sign = -1.0 if rule == "bottom" else 1.0
    edge = float(xp.min(sign * w))
    shifts = w + sign * (abs(edge) + norm + 1.0)

    def deflated(x: Array) -> Array:  # S minus the found pairs, shifted beyond the far end; never formed
        X = xp.reshape(x, (n, -1))
        return (S @ X - V @ (shifts[:, None] * (V.T @ X)))[:, 0]

    try:
        w_rest = _eigsh(
            spla,
            spla.LinearOperator((n, n), matvec=deflated, dtype=S.dtype),
            1,
            which,
            v0,
            abs(edge) + 2 * norm + 1.0,
            tol=ITERATIVE_RTOL,  # the Ritz value to within ITERATIVE_RTOL * |value|: the margin of the test below
            vectors=False,
        )
    except Exception:
        return None
    if sign * float(w_rest[0]) > edge + 2 * ITERATIVE_RTOL * norm:
        return None
    w, V = _rule_order(rule, *_ascending(w, B.fix_signs(V)))
    return w, V


def _ascending(w: Array, V: Array) -> tuple[Array, Array]:
    xp = B.namespace(w)
    order = xp.argsort(w)
    return xp.take(w, order), xp.take(V, order, axis=1)


#: Residual bound of the iterative path relative to ``||M||_2`` (float64 Lanczos reaches ~1e-13).
ITERATIVE_RTOL = 1e-9
#: Restarts ARPACK may take before the iterative path gives up and forms the matrix (ARPACK's own
#: default, 10 N, spends minutes on a degenerate cluster it cannot resolve). Measured at
#: N = 3,000, d = 32 on a 5-NN graph: O1 converges within 30 restarts, O2 and O3 need 30-60.
ITERATIVE_MAXITER = 60


def _operator_eigenpairs(
    rule: str,
    operator: SpectralOperator,
    n: int,
    dim: int,
    dtype: Any,
    xp: Any,
) -> tuple[Array, Array, float] | None:
    r"""Leading ``dim + 1`` eigenpairs of a spectral matrix that is only applied, never formed.

    ``operator`` (:meth:`Objective.operator`) applies :math:`S`, ``size x size`` (``N``, or the rank of a
    singular ``K`` for O4); its products have inner dimension at most ``n = N``. Lanczos (ARPACK
    ``eigsh``) runs on :math:`X \mapsto SX`. The result is certified as on the formed
    paths (:func:`~kssl_theory.kernel_regime.accuracy.eigenpair_error`), with the rounding term
    of the product taken from the generated majorant: for each computed pair,

    .. math:: e_i = \frac{\|Sv_i - w_iv_i\|_2 + \text{depth}\,N\varepsilon\,\|\bar S|v_i|\|_2}{\|v_i\|_2},

    and :math:`\|S\|_2 \le \text{norm} = \min(\|\bar S\mathbf 1\|_\infty, \text{norm\_bound})` (a symmetric
    matrix's 2-norm is at most its largest absolute row sum, :math:`\bar S \ge |S|` entrywise, and the
    operator's ``norm_bound`` multiplies bounds of its factors' norms). ``None`` (the caller
    forms :math:`S`) when Lanczos fails or exceeds ``ITERATIVE_MAXITER`` restarts, a residual
    exceeds ``ITERATIVE_RTOL`` times that norm bound, or a second Lanczos run on :math:`S`
    deflated by the returned pairs finds an eigenvalue beyond the last one returned (a missed
    copy of a repeated eigenvalue).
    """
    spla = _sparse_linalg(xp)
    apply, apply_majorant, depth, size = operator.apply, operator.apply_majorant, operator.depth, operator.size
    k = dim + 1
    if spla is None or k >= size - 1:
        return None
    device = B.device(xp.zeros(1, dtype=dtype))
    norm = min(float(xp.max(apply_majorant(xp.ones((size, 1), dtype=dtype, device=device)))), operator.norm_bound())
    if not norm > 0:
        return None
    # Lanczos on the shifted operator sign * S + norm * I (spectrum in [0, 2 norm]), wanted pairs at
    # its top: ARPACK's stopping test is relative to the Ritz value, which is then about norm,
    # never ~0 (the zero eigenvalues of a Laplacian would otherwise never pass it).
    sign = -1.0 if rule == "bottom" else 1.0

    def shifted(X: Array) -> Array:
        return sign * apply(X) + norm * X

    def matvec(x: Array) -> Array:
        return shifted(xp.reshape(x, (size, 1)))[:, 0]

    v0 = xp.asarray(np.random.default_rng(0).standard_normal(size), dtype=dtype, device=device)
    S = spla.LinearOperator((size, size), matvec=matvec, matmat=shifted, dtype=dtype)
    try:
        theta, V = _eigsh(spla, S, k, "LA", v0, 2 * norm)  # the shifted spectrum lies in [0, 2 norm]
    except Exception:
        return None
    w, V = _rule_order(rule, *_ascending(sign * (theta - norm), B.fix_signs(V)))
    eps = B.eps(dtype, xp)
    residual = xp.linalg.vector_norm(apply(V) - V * w[None, :], axis=0)
    rounding = depth * n * eps * xp.linalg.vector_norm(apply_majorant(xp.abs(V)), axis=0)
    errors = (residual + rounding) / xp.linalg.vector_norm(V, axis=0)
    if rule == "psd-top":  # as eigenpair_error(nonnegative_only=True): negative pairs decide nothing
        errors = xp.where(w + errors >= 0, errors, xp.zeros_like(errors))
    err = float(xp.max(errors))
    if not err <= ITERATIVE_RTOL * norm:
        return None
    theta_found = sign * w + norm  # the shifted values, in the rule's order (descending)
    edge = float(theta_found[-1])

    def deflated(x: Array) -> Array:  # the found pairs moved to 0, the bottom of the shifted spectrum
        X = xp.reshape(x, (size, 1))
        return (shifted(X) - V @ (theta_found[:, None] * (V.T @ X)))[:, 0]

    try:
        rest = _eigsh(
            spla,
            spla.LinearOperator((size, size), matvec=deflated, dtype=dtype),
            1,
            "LA",
            v0,
            2 * norm,
            # Its Ritz value is within ||r|| <= tol * value of an eigenvalue: ITERATIVE_RTOL keeps that below
            # the margin of the test below (tol = 0 would chase machine precision on a cluster it need not resolve).
            tol=ITERATIVE_RTOL,
            vectors=False,
        )
    except Exception:
        return None
    if float(rest[0]) > edge + 2 * err + 2 * ITERATIVE_RTOL * norm:
        return None
    return w, V, err


def _frobenius_source(rel: RelationGraph) -> Array:
    r"""What an objective's ``minimum`` reads :math:`\|A\|_F` from without forming :math:`A` (``None``: ``rel.A``):
    one entry, :math:`\|A\|_F` (:attr:`RelationGraph.frobenius_squared`)."""
    if rel.stored_A is not None:
        return None
    return np.asarray([np.sqrt(rel.frobenius_squared)])


class _BlockRelation:
    """A clique graph in its block basis (a :class:`~kssl_theory.protocols.RelationOperators`): diagonal,
    one entry per (group size, indicator / zero-sum) block.

    On a union of cliques, :math:`A`, :math:`L` and :math:`D` act as scalars on each group's
    indicator and on its within-group zero-sum vectors, so any matrix function of them (every
    spectral matrix whose objective has ``structured_ok``) is diagonal in that basis and its
    eigenvalues are the same function of these scalars.
    """

    def __init__(self, a: np.ndarray, lap: np.ndarray, deg: np.ndarray, xp: Any, dtype: Any, device: Any) -> None:
        self.A = xp.asarray(np.diag(a), dtype=dtype, device=device)
        self.laplacian = xp.asarray(np.diag(lap), dtype=dtype, device=device)
        self.degree = xp.asarray(deg, dtype=dtype, device=device)


class _IdentityFactor:
    """The factor of :math:`K = I` (``P = I``, ``K^+ = I``, a :class:`~kssl_theory.protocols.FactorOperators`)
    for evaluating a target on the clique blocks."""

    is_pd = True

    def __init__(self, n: int, xp: Any, dtype: Any, device: Any) -> None:
        self.n, self.xp, self.dtype, self.device = n, xp, dtype, device

    def solve(self, X: Array) -> Array:
        return X

    def solve_scaled_identity(self, c: float) -> Array:
        return c * self.xp.eye(self.n, dtype=self.dtype, device=self.device)

    def solve_scaled(self, c: float, X: Array) -> Array:
        return c * X

    def project(self, X: Array) -> Array:
        return X

    def root(self, X: Array) -> Array:
        return X

    root_t = root


def _structured(
    obj: Objective,
    opts: dict[str, Any],
    dim: int,
    kf: KernelFactorOperators,
    rel: RelationGraph,
    tie_rtol: float | None,
) -> Solution:
    r"""Clique fast path: the spectrum from group sizes, eigenvectors from indicators (no N x N eigh).

    For group ``g`` of size :math:`m_g` and self-loop value ``s``: on the indicator,
    :math:`A \to m_g + s - 1`, :math:`L \to 0`; on within-group zero-sum vectors,
    :math:`A \to s - 1`, :math:`L \to m_g`; :math:`D \to m_g + s - 1` on both (docs/theory.md §1).
    """
    structure, s = cast("tuple[GroupStructure, float]", rel.cliques)  # _choose_method checked it is not None
    xp = B.namespace(kf.K)
    dtype, device = kf.K.dtype, B.device(kf.K)
    sizes = np.unique(structure.sizes)
    a = np.concatenate([sizes + s - 1, np.full(sizes.size, s - 1)])
    lap = np.concatenate([np.zeros(sizes.size), sizes.astype(float)])
    deg = np.concatenate([sizes + s - 1, sizes + s - 1])
    # The identity factor has only the FactorOperators part of a KernelFactorOperators: enough here, since
    # a structured_ok objective with a positive definite factor uses no other member (is_pd is True).
    identity = cast(KernelFactorOperators, _IdentityFactor(a.size, xp, dtype, device))
    M = obj.spectral(identity, _BlockRelation(a, lap, deg, xp, dtype, device), opts).matrix
    block_values = B.to_numpy(xp.linalg.diagonal(M))
    value_of = dict(zip([(int(m), 0) for m in sizes] + [(int(m), 1) for m in sizes], block_values))
    slots: list[tuple[int, int]] = []
    slot_values: list[float] = []
    for g, m in enumerate(structure.sizes):
        slots.append((g, 0))
        slot_values.append(value_of[(int(m), 0)])
        for j in range(1, int(m)):
            slots.append((g, j))
            slot_values.append(value_of[(int(m), 1)])
    values = np.asarray(slot_values)
    rule = obj.spectral_rule(opts)
    order = np.argsort(values if rule == "bottom" else -values, kind="stable")
    w = xp.asarray(values[order], dtype=dtype, device=device)
    vectors = _CliqueVectors(structure, tuple(slots[i] for i in order), w)
    spectrum_A = xp.asarray(
        np.concatenate([np.full(int(m) - 1, s - 1.0) for m in structure.sizes] + [structure.sizes + s - 1.0]),
        dtype=dtype,
        device=device,
    )
    # Each block value is the generated target evaluated on exact small integers (group sizes,
    # self-loop value) and the options: a handful of roundings, each of relative eps, on terms no
    # larger than max(|values|, |a|, |lap| * options); 8 eps times that bounds them.
    eps = B.eps(dtype, xp)
    terms = max(
        float(np.max(np.abs(block_values))),
        float(np.max(np.abs(a))),
        float(np.max(lap)) * max([1.0] + [abs(float(v)) for v in opts.values() if not isinstance(v, bool)]),
    )
    unique, gap, tol = _uniqueness(rule, w, dim, 8 * eps * terms, structure.n_views, tie_rtol)
    spectrum = _Spectrum(w, vectors, None, unique, gap, tol, "structured", norm_A=spectrum_A)
    return _assemble(obj, opts, dim, kf, rel, spectrum, vectors.columns(list(range(dim))))


def _o4_groups(obj: Objective, opts: dict[str, Any], rel: RelationGraph) -> GroupStructure | None:
    """The groups when the objective is O4 (top rule) and the graph a union of cliques with self-loops
    (:math:`A = EE^T`), else ``None``: what the O4 group and kernel-PCA paths both need."""
    cliques = rel.cliques
    if obj.variant(opts).form != "whitened" or obj.spectral_rule(opts) != "top" or cliques is None:
        return None
    return cliques[0] if cliques[1] == 1.0 else None


def _grouped_whitened_ok(obj: Objective, opts: dict[str, Any], kf: KernelFactor, rel: RelationGraph, dim: int) -> bool:
    """Whether :func:`_grouped_whitened` applies: O4 (top rule), K > 0, a union of cliques with
    self-loops (A = EE^T) and ``dim`` below the number of groups."""
    groups = _o4_groups(obj, opts, rel)
    return groups is not None and kf.is_pd and dim < groups.n_groups


def _grouped_whitened(
    obj: Objective,
    opts: dict[str, Any],
    dim: int,
    kf: KernelFactor,
    rel: RelationGraph,
    tie_rtol: float | None,
    k_symmetric: bool,
) -> Solution:
    r"""O4 on a union of cliques with self-loops: the spectral problem of the ``n x n`` matrix :math:`E^TKE`.

    With the group indicator :math:`E` (``N x n``), :math:`A = EE^T`, so :math:`S = R^TEE^TR = M^TM` with
    :math:`M = E^TR`: its nonzero eigenvalues are those of :math:`W = MM^T = E^TKE` (group sums of
    :math:`K`, formed in :math:`O(N^2)`), and :math:`W = Y\Theta Y^T` gives the orthonormal eigenvectors
    :math:`v = R^TEy/\sqrt\theta` of :math:`S` (docs/theory.md §3 O4); the remaining :math:`N - n` eigenvalues of
    :math:`S` are 0 and are not listed. No ``N x N`` eigendecomposition: :math:`Z = RV = KEY\Theta^{-1/2}`,
    :math:`C = (R^T)^{-1}V = EY\Theta^{-1/2}` through the factor's root as on every O4 path. :math:`W` is
    positive definite (K > 0, E of full column rank). Its leading ``d + 1`` eigenpairs come from Lanczos
    (checked as on the formed path; ``method`` "iterative") or LAPACK's ``evr`` ("subset") when ``d`` is
    small against ``n``, else from a full eigendecomposition ("structured"); their error is certified on
    :math:`W` (:func:`~kssl_theory.kernel_regime.accuracy.eigenpair_error`). Other array libraries than
    NumPy have no ``evr``: where Lanczos is not certified they take the full eigendecomposition of :math:`W`.
    """
    structure, _ = cast("tuple[GroupStructure, float]", rel.cliques)
    xp = B.namespace(kf.K)
    n_views, n_groups = structure.n_views, structure.n_groups
    W_symmetric = True
    if n_groups == n_views:  # singletons (A = I): labels are 0..N-1 in order, E = I and W = K (kernel PCA)
        W, W_symmetric = kf.K, k_symmetric
    else:  # E^T K E, (n, n): group sums of K's rows, then of the result's rows (K symmetric), on K's device
        W = B.symmetrize(group_sums(structure, group_sums(structure, kf.K).T))
    method, pairs = "structured", None
    if n_groups >= SUBSET_MIN_N and (dim + 1) * SUBSET_FRACTION <= n_groups:
        method, pairs = "iterative", _iterative_eigenpairs("top", W, dim, symmetric=W_symmetric)
        if pairs is None and is_numpy_namespace(xp):
            method, pairs = "subset", _subset_eigenpairs("top", W, dim)
        elif pairs is None:
            method = "structured"
    if pairs is None:
        pairs = _dense_eigenpairs("top", W, dim)
    w, Y = pairs
    err = eigenpair_error(W, w, Y, dim + 1)
    unique, gap, tol = _uniqueness("top", w, dim, err, n_groups, tie_rtol)
    # W > 0: the clip only guards round-off
    root_theta = xp.sqrt(xp.clip(w, float(xp.finfo(w.dtype).smallest_normal), None))
    labels = xp.asarray(structure.labels, device=B.device(kf.K))  # one N-vector to the device
    V = kf.root_t(xp.take(Y, labels, axis=0) / root_theta[None, :])
    spectrum = _Spectrum(w, _ComputedVectors(V), None, unique, gap, tol, method)
    return _assemble(obj, opts, dim, kf, rel, spectrum, V[:, :dim])


def _kernel_pca_ok(obj: Objective, opts: dict[str, Any], method: str, rel: RelationGraph, dim: int, xp: Any) -> bool:
    """Whether :func:`_kernel_pca` may run: O4 (top rule) with :math:`A = I`, ``method`` "auto" or "iterative",
    a library with Lanczos (NumPy, CuPy) and ``d`` small against ``N``. ``K`` may be singular or not: the path
    reads neither its Cholesky factor nor its eigendecomposition, so it runs before either is tried."""
    groups = _o4_groups(obj, opts, rel)
    return (
        method in ("auto", "iterative")
        and groups is not None
        and groups.n_groups == rel.n
        and _sparse_linalg(xp) is not None
        and rel.n >= SUBSET_MIN_N
        and (dim + 1) * SUBSET_FRACTION <= rel.n
    )


@dataclass(frozen=True)
class _KernelEigenvectors:
    r"""Eigenvectors :math:`v = R^Ty/\sqrt\theta` of :math:`S = R^TR` from those of :math:`K`, built on demand.

    Forming them needs a root of :math:`K` (its Cholesky factor, or its eigendecomposition when singular),
    which the kernel-PCA path exists to avoid; nothing on that path reads them.
    """

    kf: KernelFactor
    Y: Array
    theta: Array

    def columns(self, indices: Sequence[int]) -> Array:
        xp = B.namespace(self.Y)
        idx = xp.asarray(np.asarray(indices, dtype=np.int64), device=B.device(self.Y))
        return self.kf.root_t(xp.take(self.Y, idx, axis=1) / xp.sqrt(xp.take(self.theta, idx))[None, :])


def _kernel_pca(
    obj: Objective,
    opts: dict[str, Any],
    dim: int,
    kf: KernelFactor,
    rel: RelationGraph,
    tie_rtol: float | None,
    k_symmetric: bool,
) -> Solution | None:
    r"""O4 with :math:`A = I` (kernel PCA), from the leading eigenpairs of :math:`K` alone, whether :math:`K` is
    singular or not; ``None`` when a check fails, and the caller takes the general path (which factors
    :math:`K`).

    With :math:`A = I`, :math:`S = R^TR` for any root :math:`K = RR^T` has the nonzero spectrum of
    :math:`K`, and :math:`Ky = \theta y`, :math:`\theta > 0`, gives the unit eigenvector
    :math:`v = R^Ty/\sqrt\theta` of :math:`S`; then :math:`Z = Rv = \sqrt\theta\,y` and
    :math:`C = (R^T)^+v = Py/\sqrt\theta = y/\sqrt\theta` (:math:`y \in \mathrm{range}(K)`), so
    :math:`C^TKC = I` and :math:`C \perp \mathrm{null}(K)` (docs/theory.md §3 O4). The leading ``d + 1``
    eigenpairs of :math:`K` come from Lanczos with the checks of :func:`_iterative_eigenpairs` and
    their error is certified on :math:`K` (:func:`~kssl_theory.kernel_regime.accuracy.eigenpair_error`).
    What the eigendecomposition of the general path would have checked is checked here instead:

    - :math:`K \succeq 0`: the Cholesky factorisation of :math:`K + \tau I`,
      :math:`\tau = \text{psd\_tol}\cdot\theta_1`, must succeed (the general path rejects
      :math:`\lambda_{\min} < -\text{psd\_tol}\,\lambda_{\max}`; a borderline :math:`K` goes there);
    - ``d`` within the numerical rank: :math:`\theta_{d+1} - e > \text{rtol}\,(\theta_1 + e)`, so the
      cut-off cannot fall among the used eigenvalues;
    - conditioning: :math:`C` applies only :math:`\theta_1 \ldots \theta_d`, so it is accurate when
      :math:`\theta_1/\theta_d \le 10^{10}`; above that the general path runs (and warns).

    One Cholesky factorisation in all (that of :math:`K + \tau I`): the factor of :math:`K` stays deferred
    (``KernelFactor(defer=True)``), neither its Cholesky factorisation nor its eigendecomposition tried;
    :attr:`Solution.rank` and :meth:`Solution.alternative` compute them when asked.
    """
    K = kf.K
    pairs = _iterative_eigenpairs("top", K, dim, symmetric=k_symmetric)  # K itself when exactly symmetric
    if pairs is None:
        return None
    w, Y = pairs
    err = eigenpair_error(K, w, Y, dim + 1)
    theta_1, theta_cut, theta_d = float(w[0]), float(w[dim]), float(w[dim - 1])
    if not theta_cut - err > kf.rtol * (theta_1 + err) or theta_1 > ILL_CONDITIONED * theta_d:
        return None
    try:
        B.cholesky(B.add_to_diagonal(K, kf.psd_tol * theta_1))
    except NotPositiveDefiniteError:
        return None
    unique, gap, tol = _uniqueness("top", w, dim, err, K.shape[0], tie_rtol)
    spectrum = _Spectrum(w, _KernelEigenvectors(kf, Y, w), None, unique, gap, tol, "iterative")
    root_theta = B.namespace(w).sqrt(w[:dim])
    Z, C = Y[:, :dim] * root_theta[None, :], Y[:, :dim] / root_theta[None, :]
    return _solution(obj, opts, dim, kf, rel, spectrum, w[:dim], Z, C)


METHODS = ("auto", "dense", "subset", "iterative", "structured")


def _choose_method(
    method: str,
    obj: Objective,
    opts: dict[str, Any],
    kf: KernelFactor,
    rel: RelationGraph,
    dim: int,
    xp: Any,
) -> str:
    method = check_choice("method", method, METHODS)
    structured_ok = (obj.structured_ok(opts) and kf.is_pd and rel.cliques is not None) or _grouped_whitened_ok(
        obj, opts, kf, rel, dim
    )
    if method == "structured" and not structured_ok:
        raise InputError(
            "method='structured' needs a union-of-cliques relation graph, a positive definite K and an "
            f"objective whose spectral matrix depends on the graph only, or O4 on cliques with self-loops "
            f"({obj.name!r} with {opts}); use 'auto'."
        )
    if method == "subset" and not is_numpy_namespace(xp):
        raise InputError("method='subset' uses LAPACK's evr driver and needs NumPy arrays; use 'dense'.")
    if method != "auto":
        return method
    if structured_ok:
        return "structured"
    partial = rel.n >= SUBSET_MIN_N and (dim + 1) * SUBSET_FRACTION <= rel.n
    # The bottom of the whitened Laplacian twin R^T L R clusters near 0 relative to its norm: on a
    # 5-NN graph at N = 3,000 Lanczos had not converged after 120 restarts (benchmarks/run.py), so
    # auto never starts it there; method="iterative" still tries (and falls back).
    slow = obj.variant(opts).form == "whitened" and obj.spectral_rule(opts) == "bottom"
    lanczos_first = partial and (
        is_numpy_namespace(xp)
        or (rel.n >= DEVICE_ITERATIVE_MIN_N and obj.name in DEVICE_ITERATIVE_OBJECTIVES and rel.stored_A is not None)
    )
    if lanczos_first and not slow and not _laplacian_tie(obj, opts, rel, dim):
        if _sparse_linalg(xp) is not None and obj.operator(kf, rel, opts) is not None:
            return "iterative"
    if is_numpy_namespace(xp) and partial:
        return "subset"
    return "dense"


def _laplacian_tie(obj: Objective, opts: dict[str, Any], rel: RelationGraph, dim: int) -> bool:
    """Whether the spectral matrix is built on L and L's zero eigenvalue (one per connected component of the
    graph) is tied across the cut at ``dim``: Lanczos cannot certify such a tie, the formed path can."""
    variant = obj.variant(opts)
    return "L" in variant.arguments.get("apply", ()) and rel.n_components > dim


#: ``auto`` computes only the leading ``d + 1`` eigenpairs when ``N >= SUBSET_MIN_N`` and
#: ``(d + 1) * SUBSET_FRACTION <= N`` (matrix-free Lanczos when the objective has an operator,
#: else LAPACK's ``evr``); below that size a full eigendecomposition costs milliseconds and
#: gives the whole spectrum.
SUBSET_FRACTION = 10
SUBSET_MIN_N = 400

#: On other libraries than NumPy (a GPU), ``auto`` starts matrix-free Lanczos only for these objectives
#: and from this many views: on an H200 (benchmarks/gpu-h200/RESULTS.md) it took 0.18 s against 1.0 s dense
#: for O4 and 0.44-0.62 s against 0.97 s for O1 at N = 10,000, but was slower at N = 3,000 (O1: 0.43-0.49 s
#: against 0.16-0.17 s) and for O2 and O3 at both sizes (or not certified, then dense on top). Lanczos on a
#: formed K or E^T K E (the kernel-PCA and O4 group paths) starts from SUBSET_MIN_N on every library: the
#: products are one dense matrix, fast on a GPU (O4 on cliques at N = 3,000: 0.068 s against 0.161 s dense).
DEVICE_ITERATIVE_MIN_N = 10_000
DEVICE_ITERATIVE_OBJECTIVES = ("contrastive", "whitened")


#: The options :func:`solve` takes besides the objective's (:func:`_split_engine_options`).
_ENGINE_OPTIONS = ("kernel_rtol", "tie_rtol")


@document_options
def solve(
    objective: str | Objective,
    K: Array,
    A: Array | RelationGraph,
    dim: int,
    *,
    method: str = "auto",
    **options: Any,
) -> Solution:
    r"""Closed-form optimum of a kernel-regime SSL objective (docs/theory.md §3).

    Parameters
    ----------
    objective : str or Objective
        ``"contrastive"`` (O1), ``"vicreg"`` (O2), ``"laplacian_eigenmaps"`` (O3),
        ``"whitened"`` (O4), an alias (``"O1"`` …) or an :class:`Objective`.
    K : array, shape (N, N)
        Symmetric PSD training Gram matrix (all views). Singular ``K`` uses the pseudo-inverse
        formulas with :math:`P = KK^+` and the relative cut-off ``kernel_rtol``.
    A : array, shape (N, N), or RelationGraph
        Symmetric relation matrix (:func:`kssl_theory.graphs.adjacency`), or a
        :class:`~kssl_theory.graphs.RelationGraph` (e.g. ``RelationGraph.from_groups(groups)``,
        which never materialises ``A`` on the clique path).
    dim : int
        Embedding dimension ``1 <= d <= N`` (``<= rank(K)`` for the hard-constrained O3/O4).
    method : {"auto", "dense", "subset", "iterative", "structured"}
        How the eigenpairs are computed. ``dense``: all eigenpairs (SciPy ``evd`` on NumPy).
        ``subset``: the leading ``d + 1`` only (LAPACK ``evr``, NumPy only). ``iterative``: the
        leading ``d + 1`` by Lanczos with a certified residual and a deflation check — on the
        spectral matrix applied as an operator, never formed, when :meth:`Objective.operator`
        allows, else on the formed matrix — falling back to ``dense`` when a check fails
        (``Solution.method`` tells which ran). ``structured``: no
        eigendecomposition at all — for a union of cliques, a positive definite ``K`` and
        ``reg = 0`` (O1, plain O2, O3) the spectrum follows from the group sizes and the cost is
        one Cholesky of ``K``; for O4 on cliques with self-loops (:math:`A = EE^T`, e.g. ``A = I``)
        only the ``n x n`` group matrix :math:`E^TKE` is eigendecomposed (:func:`_grouped_whitened`).
        ``auto`` picks ``structured`` when it applies; else, on NumPy when ``N >= SUBSET_MIN_N``
        and ``(d + 1) * SUBSET_FRACTION <= N``, ``iterative`` when the
        spectral matrix can be applied without forming it (:meth:`Objective.operator`: positive
        definite ``K``, ``reg = 0``, not the centred or normalised variants; a sparse or clique
        graph then stays sparse) and ``subset`` otherwise; on other libraries (CuPy) ``iterative``
        only for O1 and O4 from ``N >= DEVICE_ITERATIVE_MIN_N`` (where it measured faster on a GPU);
        else ``dense``. An ``iterative`` path whose Lanczos run is not certified forms the matrix.
    **options
        The objective's options (name, type and range, default, meaning; generated from the
        declarations in :mod:`kssl_theory.kernel_regime.objectives`); an option left out takes its
        default, one the objective does not declare is refused:

        <objective options>

        and two engine options, for every objective:

        - ``kernel_rtol`` (float in [0, 1), default ``None``: ``N * eps`` of ``K``'s dtype): the
          relative cut-off below which eigenvalues of ``K`` count as zero (its numerical rank).
        - ``tie_rtol`` (float >= 0, default ``None``: ties and the zero cut use the certified
          eigenvalue error alone): widens the tie band to ``tie_rtol`` times the largest eigenvalue
          the rule uses (module docstring).

    Returns
    -------
    Solution

    Raises
    ------
    InputError
        For invalid input: an unknown objective, method or option name (with the closest valid
        names: "did you mean ...?"), an option value out of its range or not of the selected
        variant, ``K`` or ``A`` not finite, real, square, symmetric or of matching size, ``K`` not
        PSD, arrays from different array libraries, ``dim`` outside ``1..N`` (``1..rank(K)`` for
        O3/O4), a ``method`` that does not apply to the problem, or an optimum beyond the dtype's
        range.
    NumericalError
        If an eigensolver fails on valid input (:class:`~kssl_theory.errors.NumericalError`).

    Warns
    -----
    IllConditionedWarning
        When ``K``'s retained spectrum has condition number above ``1e10`` (coefficients and
        out-of-sample values lose accuracy; the message says how much).

    Examples
    --------
    >>> import numpy as np, kssl_theory as kt
    >>> X = np.random.default_rng(0).normal(size=(6, 2)); groups = [0, 0, 1, 1, 2, 2]
    >>> sol = kt.solve("contrastive", kt.kernels.rbf(X, bandwidth=1.0), kt.graphs.adjacency(groups), dim=3)
    >>> round(float(sol.loss), 12)   # G* = A when K > 0 and d >= n (docs/theory.md §4)
    0.0
    """
    obj = get_objective(objective)
    options = dict(options)
    kernel_rtol, tie_rtol = _split_engine_options(options)
    opts = parse_options(obj, options, also_valid=("method", *_ENGINE_OPTIONS))
    K, k_symmetric = check_symmetric("K", K)  # exactly symmetric: Lanczos may read K itself
    n = K.shape[0]
    if isinstance(A, RelationGraph):
        rel = A
    else:  # validated once, by RelationGraph (dense or sparse)
        rel = RelationGraph(A, rows=n)
    if rel.n != n:
        raise InputError(f"the relation graph has {rel.n} views but K is {n} x {n}.")
    rel = rel.on_device_of(K)  # a scipy.sparse graph: kept sparse on NumPy, built dense on a CuPy device
    if rel.stored_A is not None:
        xp = check_same_namespace(K=K, A=rel.stored_A)
        if rel.stored_A.dtype != K.dtype:
            rel = RelationGraph(xp.astype(rel.stored_A, K.dtype))
    xp = B.namespace(K)
    dim = check_dim(dim, n)
    kf = KernelFactor(K, rtol=kernel_rtol, defer=True)
    if _kernel_pca_ok(obj, opts, method, rel, dim, xp):
        kernel_pca = _kernel_pca(obj, opts, dim, kf, rel, tie_rtol, k_symmetric)
        if kernel_pca is not None:
            return kernel_pca
    if not kf.is_pd:  # every other path needs the spectrum of a K whose Cholesky factorisation failed
        kf.ensure_eigendecomposition()
    chosen = _choose_method(method, obj, opts, kf, rel, dim, xp)
    if chosen == "structured":
        if _grouped_whitened_ok(obj, opts, kf, rel, dim):
            return _grouped_whitened(obj, opts, dim, kf, rel, tie_rtol, k_symmetric)
        return _structured(obj, opts, dim, kf, rel, tie_rtol)
    rule = obj.spectral_rule(opts)
    # The graph operators of a sparse or clique graph are host SciPy objects: other array libraries use the
    # operator path only with a dense A in their own namespace (certified on CuPy since 2026-12-04, README).
    host_graph = rel.stored_A is None
    operator = (
        obj.operator(kf, rel, opts) if chosen == "iterative" and (is_numpy_namespace(xp) or not host_graph) else None
    )
    if operator is not None:
        found = _operator_eigenpairs(rule, operator, n, dim, K.dtype, xp)
        if found is None:  # not certified: form the matrix and take every eigenpair (as the formed path does)
            chosen = "dense"
        else:
            w, V, err = found
            unique, gap, tol = _uniqueness(rule, w, dim, err, operator.size, tie_rtol)
            norm_A = _frobenius_source(rel)
            if norm_A is not None:
                norm_A = xp.asarray(norm_A, dtype=K.dtype, device=B.device(K))
            spectrum = _Spectrum(w, _ComputedVectors(V), None, unique, gap, tol, "iterative", norm_A=norm_A)
            return _assemble(obj, opts, dim, kf, rel, spectrum, V[:, :dim])
    spectral = obj.spectral(kf, rel, opts)
    if spectral.penalty is not None:
        spectral = _deflate_penalty_directions(spectral, dim + 1)
    M, basis = spectral.matrix, spectral.basis
    feasible = M.shape[0]
    if dim > feasible and rule != "psd-top":
        raise InputError(
            f"dim = {dim} exceeds the dimension {feasible} of the feasible subspace (numerical rank of "
            f"K) for the hard-constrained objective {obj.name!r}; lower dim or use a full-rank kernel."
        )
    pairs: tuple[Array, Array] | None = None
    if chosen == "iterative" and operator is None:
        pairs = _iterative_eigenpairs(rule, M, dim)
        if pairs is None:
            chosen = "dense"
    if pairs is None:
        pairs = (_subset_eigenpairs if chosen == "subset" else _dense_eigenpairs)(rule, M, dim)
    w, V = pairs
    if spectral.penalty is not None and rule == "psd-top":
        w, V = refine_penalised(spectral.free_part, spectral.penalty, w, V, dim + 1)
    if rule == "psd-top" and basis is not None:
        w, V = _with_complement_zeros(w, V, n - basis.shape[1] - _deflated(spectral, kf))
        feasible = n - _deflated(spectral, kf)
        if chosen != "dense":
            k = min(dim + 1, w.shape[0])
            w, V = w[:k], V[:, :k]
    err = eigenpair_error(M, w, V, dim + 1, nonnegative_only=rule == "psd-top") + spectral.deflation_error
    unique, gap, tol = _uniqueness(rule, w, dim, err, feasible, tie_rtol)
    spectrum = _Spectrum(w, _ComputedVectors(V), basis, unique, gap, tol, chosen)
    return _assemble(obj, opts, dim, kf, rel, spectrum, V[:, : min(dim, V.shape[1])])


def _deflate_penalty_directions(spectral: SpectralMatrix, keep_at_least: int) -> SpectralMatrix:
    r"""Drop the eigen-coordinates whose penalty cannot matter (:func:`.accuracy.deflate_penalty`).

    At least ``keep_at_least = d + 1`` coordinates stay, so :math:`\lambda_{d+1}` (which decides the
    gap and uniqueness) is computed, never hidden among the dropped directions.
    """
    T, free, penalty, U = spectral.matrix, spectral.free_part, spectral.penalty, spectral.basis
    keep, bound = deflate_penalty(T, free, penalty, keep_at_least)
    if keep.size < T.shape[0]:
        xp = B.namespace(T)
        idx = xp.asarray(keep, dtype=xp.int64, device=B.device(T))
        T, free = (xp.take(xp.take(X, idx, axis=0), idx, axis=1) for X in (T, free))
        U, penalty = xp.take(U, idx, axis=1), xp.take(penalty, idx)
    return SpectralMatrix(T, U, bound, free_part=free, penalty=penalty)


def _deflated(spectral: SpectralMatrix, kf: KernelFactorOperators) -> int:
    """How many penalty directions of range(K) the spectral matrix dropped (their eigenvalues are not listed)."""
    if spectral.penalty is None:
        return 0
    return int(kf.rank - spectral.basis.shape[1])


def _with_complement_zeros(w: Array, V: Array, count: int) -> tuple[Array, Array]:
    r"""Insert the ``count`` zero eigenvalues a soft target has off its feasible subspace (descending order).

    A target :math:`T = PBP - \tfrac{\lambda}{2}K^+` vanishes on the complement of range(K) (of
    range(HK) for the centred O2), so its spectrum there is exactly 0; the matching eigenvectors
    are never used (``psd-top`` drops zeros), so zero columns stand in for them.
    """
    if count <= 0:
        return w, V
    xp = B.namespace(w)
    w_all = xp.concat([w, xp.zeros((count,), dtype=w.dtype, device=B.device(w))])
    V_all = xp.concat([V, xp.zeros((V.shape[0], count), dtype=V.dtype, device=B.device(V))], axis=1)
    order = xp.argsort(-w_all, stable=True)
    return xp.take(w_all, order), xp.take(V_all, order, axis=1)


def _split_engine_options(options: dict[str, Any]) -> tuple[float | None, float | None]:
    """Pop and validate the engine options ``kernel_rtol`` (in [0, 1)) and ``tie_rtol`` (>= 0)."""
    kernel_rtol = options.pop("kernel_rtol", None)
    tie_rtol = options.pop("tie_rtol", None)
    if kernel_rtol is not None:
        kernel_rtol = check_nonnegative("kernel_rtol", kernel_rtol)
        if kernel_rtol >= 1:
            raise InputError(
                f"kernel_rtol must be < 1 (a cut-off relative to the largest eigenvalue); got {kernel_rtol}."
            )
    if tie_rtol is not None:
        tie_rtol = check_nonnegative("tie_rtol", tie_rtol)
    return kernel_rtol, tie_rtol


@document_options
def loss(
    objective: str | Objective,
    Z: Array,
    A: Array,
    *,
    K: Array | None = None,
    coef: Array | None = None,
    **options: Any,
) -> Array:
    r"""Loss of any candidate representation, computed from its definition (docs/theory.md §3).

    Unlike :attr:`Solution.loss`, this never uses a target or a spectrum, so it serves as an
    oracle. For O4 the value is :math:`-\operatorname{tr}(Z^TAZ)` (``laplacian=True``:
    :math:`+\operatorname{tr}(Z^TLZ)`) with :math:`Z = KC`; constraints of O3/O4 are not checked.

    Parameters
    ----------
    objective : str or Objective
        A name or alias of :func:`solve`'s objectives, or an :class:`Objective`.
    Z : array, shape (N, d)
        Candidate training embeddings.
    A : array, shape (N, N), or scipy.sparse matrix
        Symmetric relation matrix.
    K, coef : arrays, optional
        Gram matrix, shape (N, N), and coefficients, shape (N, d) (``Z = K coef``); required by the
        terms in :math:`C` (``reg > 0``), which :math:`Z` alone does not determine.
    **options
        The objective's options (as for :func:`solve`; generated from the declarations), each
        defaulting to its declared default:

        <objective options>

    Returns
    -------
    scalar array
        The loss, in the namespace and dtype of ``Z``.

    Raises
    ------
    InputError
        For an unknown objective or option name (with the closest valid names), an option value out
        of its range, ``Z``, ``A``, ``K`` or ``coef`` not finite, real, of matching shape (``A`` and
        ``K`` symmetric), arrays from different array libraries, or a term in :math:`C` without
        ``K`` and ``coef``.
    """
    obj = get_objective(objective)
    opts = parse_options(obj, options, also_valid=("K", "coef"))
    Z = check_matrix("Z", Z, square=False)
    if is_sparse(A):  # the loss is a dense computation: N x N like G = ZZ^T
        A = RelationGraph(check_sparse_relation("A", A, rows=Z.shape[0]).astype(Z.dtype)).A
    else:
        A = check_matrix("A", A, symmetric=True, rows=Z.shape[0])
    if K is not None:
        K = check_matrix("K", K, symmetric=True, rows=Z.shape[0])
    if coef is not None:
        coef = check_matrix("coef", coef, square=False, rows=Z.shape[0])
    check_same_namespace(Z=Z, A=A, K=K, coef=coef)
    return obj.loss(Z, RelationGraph(A), K, coef, opts)
