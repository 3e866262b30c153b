r"""The generic spectral engine: objective → spectral matrix → :math:`G^*, Z^*, C^*` (THEORY.md §3).

:func:`solve` validates the inputs, factors :math:`K` once (:class:`KernelFactor`), asks the
objective for its spectral matrix, eigendecomposes it, applies the objective's spectral rule and
returns a :class:`Solution` with the optimum, its loss, uniqueness diagnostics and the
out-of-sample extension (the induced kernel :math:`k^*(x,x') = k_x^T C^* C^{*T} k_{x'}`).

Uniqueness (THEORY.md §3): with the spectral-rule eigenvalues ordered
:math:`\lambda_1 \ge \lambda_2 \ge \dots` (ascending for the ``bottom`` rule), the optimum is
unique iff the cut does not split a tie, i.e. :math:`|\lambda_d - \lambda_{d+1}| > \tau`, or
(soft rules) :math:`\lambda_{d+1} \le \tau`, where :math:`\tau = \text{tie\_rtol}\cdot\max|\lambda|`
and ``tie_rtol = 1000 * N * eps`` by default: eigenvalues of an exactly tied matrix computed in
floating point differ by a few ``N * eps * ||M||``, and a thousandfold margin keeps round-off
from hiding a tie while real gaps of ``1e-10`` relative are still resolved.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from typing import Callable

import numpy as np
from array_api_compat import is_cupy_namespace, is_numpy_namespace

from . import backend as B
from .errors import InputError
from .graphs import RelationGraph
from .kernel_factor import KernelFactor
from .objectives import Objective, get_objective, parse_options
from .validation import check_choice, check_dim, check_matrix, check_nonnegative, check_same_namespace, check_seed

__all__ = ["Solution", "solve", "loss", "METHODS"]


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
        The attained minimum, from the closed form of THEORY.md §3.
    eigenvalues : array
        Spectrum of the spectral matrix in the rule's order (descending for ``psd-top``/``top``,
        ascending for ``bottom``): all of it on the ``dense`` and ``structured`` paths, the
        leading ``d + 1`` on the ``subset`` and ``iterative`` paths.
    is_unique : bool
        Whether :math:`G^*` (and :math:`k^*`) is unique (module docstring).
    gap : float
        :math:`|\lambda_d - \lambda_{d+1}|` (``inf`` when ``d`` equals the feasible dimension).
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
    options: dict
    dim: int
    embedding: object
    coef: object
    loss: object
    eigenvalues: object
    is_unique: bool
    gap: float
    rank: int
    hs_norm: object
    method: str
    rule: str
    _vectors: Callable = field(repr=False, default=None)
    _basis: object = field(repr=False, default=None)
    _factor: KernelFactor = field(repr=False, default=None)
    _rel: RelationGraph = field(repr=False, default=None)
    _tie_tol: float = field(repr=False, default=0.0)

    @cached_property
    def gram(self):
        r"""Optimal training Gram matrix :math:`G^* = Z^*Z^{*T}`, shape ``(N, N)`` (computed on first use)."""
        return self.embedding @ self.embedding.T

    def transform(self, K_new):
        r"""Embed new points: :math:`f(x) = C^{*T}k_x`, i.e. ``K_new @ coef``.

        Parameters
        ----------
        K_new : array, shape (M, N)
            Cross-kernel block :math:`k(X_{\text{new}}, X_{\text{train}})`.
        """
        K_new = check_matrix("K_new", K_new, square=False, cols=self.coef.shape[0])
        check_same_namespace(K_new=K_new, coef=self.coef)
        return K_new @ self.coef

    def induced_kernel(self, K_1X, K_2X=None):
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
            PSD (when ``K_2X`` is omitted) with rank at most ``d`` (THEORY.md §3, "Induced kernel").
        """
        F1 = self.transform(K_1X)
        F2 = F1 if K_2X is None else self.transform(K_2X)
        return F1 @ F2.T

    def tied_indices(self):
        """Indices (in the rule's order) of the computed eigenvalues tied with the ``d``-th one."""
        xp = B.namespace(self.eigenvalues)
        w = self.eigenvalues
        tied = xp.abs(w - w[self.dim - 1]) <= self._tie_tol
        if self.rule == "psd-top":
            tied = tied & (w > self._tie_tol)
        return [int(i) for i in B.to_numpy(xp.nonzero(tied)[0])]

    def alternative(self, seed: int):
        """Another optimum: a random orthonormal basis of the tied eigenspace replaces the chosen one.

        Returns ``self`` when the optimum is unique. The returned solution attains the same
        loss; for a split tie its training Gram matrix, embedding and out-of-sample induced
        kernel generally differ (THEORY.md §3 "Uniqueness", §6). On the partial paths the
        tie may extend past the computed eigenpairs, so the problem is re-solved densely first.
        """
        seed = check_seed("seed", seed)
        if self.is_unique:
            return self
        if self.method in ("subset", "iterative"):
            return solve(self.objective, self._factor.K, self._rel.A, self.dim, method="dense",
                         **self.options).alternative(seed)
        xp = B.namespace(self.eigenvalues)
        tied = self.tied_indices()
        first = tied[0]
        block = self._vectors(tied)
        rng = np.random.default_rng(seed)
        Q, _ = np.linalg.qr(rng.standard_normal((len(tied), len(tied))))
        rotated = block @ xp.asarray(Q[:, : self.dim - first], dtype=block.dtype, device=_device(block))
        V = xp.concat([self._vectors(list(range(first))), rotated], axis=1)
        return _assemble(self.objective, self.options, self.dim, self._factor, self._rel, self.eigenvalues,
                         self._vectors, V, self._basis, self.is_unique, self.gap, self._tie_tol, self.method)


def _device(x):
    from array_api_compat import device

    return device(x)


def _uniqueness(rule: str, w, dim: int, tie_rtol: float, feasible: int):
    xp = B.namespace(w)
    scale = float(xp.max(xp.abs(w))) if w.shape[0] else 0.0
    tol = float(tie_rtol * max(scale, np.finfo(np.float64).tiny))
    if dim >= feasible:
        return True, float("inf"), tol
    gap = abs(float(w[dim - 1]) - float(w[dim]))
    unique = gap > tol
    if rule == "psd-top" and float(w[dim]) <= tol:
        unique = True
    return unique, gap, tol


def _assemble(objective, opts, dim, kf, rel, w, vectors, V_sel, basis, unique, gap, tol, method, norm_A=None):
    U = V_sel if basis is None else basis @ V_sel
    w_sel = w[:dim]
    rule = objective.spectral_rule(opts)
    if rule == "psd-top":
        # Eigenvalues within round-off of zero are zero: keeping them would add columns of size
        # sqrt(eps) along arbitrary (for singular K, unreachable) directions.
        xp = B.namespace(w_sel)
        w_sel = xp.where(w_sel > tol, w_sel, xp.zeros_like(w_sel))
    Z, C = objective.embed(kf, rel, U, w_sel, opts)
    xp = B.namespace(Z)
    loss_value = objective.minimum(rel.A if norm_A is None else norm_A, w_sel, dim, opts)
    if not (bool(xp.all(xp.isfinite(Z))) and bool(xp.all(xp.isfinite(C))) and bool(xp.isfinite(loss_value))):
        raise InputError(
            "the optimum overflows the range of the dtype (entries of K or A near the largest representable "
            "number, or K's retained spectrum spanning more than the dtype can hold); rescale K and A."
        )
    return Solution(
        objective=objective,
        options=opts,
        dim=dim,
        embedding=Z,
        coef=C,
        loss=loss_value,
        eigenvalues=w,
        is_unique=unique,
        gap=gap,
        rank=kf.rank,
        hs_norm=xp.sum(Z * C),
        method=method,
        rule=rule,
        _vectors=vectors,
        _basis=basis,
        _factor=kf,
        _rel=rel,
        _tie_tol=tol,
    )


# --- eigenpair strategies -------------------------------------------------------------------------

def _rule_order(rule: str, w, V):
    """Reorder ascending eigenpairs into the rule's order (descending unless ``bottom``)."""
    xp = B.namespace(w)
    if rule == "bottom":
        return w, V
    idx = xp.arange(w.shape[0] - 1, -1, -1)
    return xp.take(w, idx), xp.take(V, idx, axis=1)


def _dense_eigenpairs(rule, M, dim):
    w, V = _rule_order(rule, *B.eigh(M))
    return w, V


def _subset_eigenpairs(rule, M, dim):
    """Leading ``dim + 1`` eigenpairs by LAPACK's ``evr`` driver (NumPy only)."""
    import scipy.linalg

    n = M.shape[0]
    k = min(dim + 1, n)
    lo, hi = (0, k - 1) if rule == "bottom" else (n - k, n - 1)
    w, V = scipy.linalg.eigh(B.symmetrize(M), subset_by_index=[lo, hi], driver="evr", check_finite=False)
    return _rule_order(rule, w, B.fix_signs(V))


def _sparse_linalg(xp):
    if is_numpy_namespace(xp):
        import scipy.sparse.linalg as spla

        return spla
    if is_cupy_namespace(xp):
        import cupyx.scipy.sparse.linalg as spla

        return spla
    return None


def _iterative_eigenpairs(rule, M, dim):
    r"""Leading ``dim + 1`` eigenpairs by Lanczos (ARPACK ``eigsh``, or CuPy's), checked.

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
    S = B.symmetrize(M)
    which = "SA" if rule == "bottom" else "LA"
    # A fixed start vector makes the run deterministic (ARPACK draws a random one otherwise).
    v0 = xp.asarray(np.random.default_rng(0).standard_normal(n), dtype=S.dtype, device=_device(S))
    try:
        w, V = spla.eigsh(S, k=k, which=which, tol=0.0, v0=v0)
    except Exception:  # noqa: BLE001 - ARPACK non-convergence: fall back to dense
        return None
    norm = float(xp.linalg.matrix_norm(S))  # Frobenius norm, a cheap upper bound on ||M||_2
    resid = float(xp.max(xp.linalg.vector_norm(S @ V - V * w[None, :], axis=0)))
    if resid > ITERATIVE_RTOL * max(norm, np.finfo(np.float64).tiny):
        return None
    sign = -1.0 if rule == "bottom" else 1.0
    edge = float(xp.min(sign * w))
    deflated = S - (V * (w + sign * (abs(edge) + norm + 1.0))[None, :]) @ V.T
    try:
        w_rest = spla.eigsh(deflated, k=1, which=which, tol=0.0, v0=v0, return_eigenvectors=False)
    except Exception:  # noqa: BLE001
        return None
    if sign * float(w_rest[0]) > edge + ITERATIVE_RTOL * norm:
        return None
    w, V = _rule_order(rule, *_ascending(w, B.fix_signs(V)))
    return w, V


def _ascending(w, V):
    xp = B.namespace(w)
    order = xp.argsort(w)
    return xp.take(w, order), xp.take(V, order, axis=1)


#: Residual bound of the iterative path relative to ``||M||_2`` (float64 Lanczos reaches ~1e-13).
ITERATIVE_RTOL = 1e-9


class _BlockRelation:
    """Diagonal stand-in for a clique graph: one entry per (group size, indicator / zero-sum) block.

    On a union of cliques, :math:`A`, :math:`L` and :math:`D` act as scalars on each group's
    indicator and on its within-group zero-sum vectors, so any matrix function of them (every
    spectral matrix whose objective has ``structured_ok``) is diagonal in that basis and its
    eigenvalues are the same function of these scalars.
    """

    def __init__(self, a, lap, deg, xp, dtype):
        self.A = xp.asarray(np.diag(a), dtype=dtype)
        self.laplacian = xp.asarray(np.diag(lap), dtype=dtype)
        self.degree = xp.asarray(deg, dtype=dtype)


class _IdentityFactor:
    """The kernel factor of :math:`K = I` (``P = I``, ``K^+ = I``) for block evaluation."""

    is_pd = True

    def __init__(self, n, xp, dtype):
        self.n, self.xp, self.dtype = n, xp, dtype

    def solve(self, X):
        return X

    def solve_scaled_identity(self, c):
        return c * self.xp.eye(self.n, dtype=self.dtype)

    def project(self, X):
        return X


def _clique_vectors(structure, slots, xp, dtype, device):
    """Orthonormal eigenvectors for ``slots``: ``(group, 0)`` indicator, ``(group, j>=1)`` Helmert vector j."""
    n = structure.n_views
    members = [np.flatnonzero(structure.labels == g) for g in range(structure.n_groups)]
    U = np.zeros((n, len(slots)))
    for col, (g, j) in enumerate(slots):
        idx = members[g]
        if j == 0:
            U[idx, col] = 1 / np.sqrt(idx.size)
        else:
            U[idx[:j], col] = 1 / np.sqrt(j * (j + 1))
            U[idx[j], col] = -j / np.sqrt(j * (j + 1))
    return xp.asarray(U, dtype=dtype, device=device)


def _structured(obj, opts, dim, kf, rel, tie_rtol):
    r"""Clique fast path: the spectrum from group sizes, eigenvectors from indicators (no N x N eigh).

    For group ``g`` of size :math:`m_g` and self-loop value ``s``: on the indicator,
    :math:`A \to m_g + s - 1`, :math:`L \to 0`; on within-group zero-sum vectors,
    :math:`A \to s - 1`, :math:`L \to m_g`; :math:`D \to m_g + s - 1` on both (THEORY.md §1).
    """
    structure, s = rel.cliques
    xp = B.namespace(kf.K)
    dtype = kf.K.dtype
    sizes = np.unique(structure.sizes)
    a = np.concatenate([sizes + s - 1, np.full(sizes.size, s - 1)])
    lap = np.concatenate([np.zeros(sizes.size), sizes.astype(float)])
    deg = np.concatenate([sizes + s - 1, sizes + s - 1])
    M, _ = obj.spectral(_IdentityFactor(a.size, xp, dtype), _BlockRelation(a, lap, deg, xp, dtype), opts)
    block_values = B.to_numpy(xp.linalg.diagonal(M))
    value_of = dict(zip([(int(m), 0) for m in sizes] + [(int(m), 1) for m in sizes], block_values))
    slots, values = [], []
    for g, m in enumerate(structure.sizes):
        slots.append((g, 0))
        values.append(value_of[(int(m), 0)])
        for j in range(1, int(m)):
            slots.append((g, j))
            values.append(value_of[(int(m), 1)])
    values = np.asarray(values)
    rule = obj.spectral_rule(opts)
    order = np.argsort(values if rule == "bottom" else -values, kind="stable")
    w = xp.asarray(values[order], dtype=dtype, device=_device(kf.K))
    ordered = [slots[i] for i in order]

    def vectors(indices):
        return _clique_vectors(structure, [ordered[i] for i in indices], xp, dtype, _device(kf.K))

    spectrum_A = xp.asarray(np.concatenate([np.full(int(m) - 1, s - 1.0) for m in structure.sizes]
                                           + [structure.sizes + s - 1.0]), dtype=dtype)
    unique, gap, tol = _uniqueness(rule, w, dim, tie_rtol, structure.n_views)
    return _assemble(obj, opts, dim, kf, rel, w, vectors, vectors(list(range(dim))), None, unique, gap, tol,
                     "structured", norm_A=spectrum_A)


METHODS = ("auto", "dense", "subset", "iterative", "structured")


def _choose_method(method, obj, opts, kf, rel, dim, xp):
    method = check_choice("method", method, METHODS)
    structured_ok = obj.structured_ok(opts) and kf.is_pd and rel.cliques is not None
    if method == "structured" and not structured_ok:
        raise InputError(
            "method='structured' needs a union-of-cliques relation graph, a positive definite K and an "
            f"objective whose spectral matrix depends on the graph only ({obj.name!r} with {opts}); use 'auto'."
        )
    if method == "subset" and not is_numpy_namespace(xp):
        raise InputError("method='subset' uses LAPACK's evr driver and needs NumPy arrays; use 'dense'.")
    if method != "auto":
        return method
    if structured_ok:
        return "structured"
    if is_numpy_namespace(xp) and rel.n >= SUBSET_MIN_N and (dim + 1) * SUBSET_FRACTION <= rel.n:
        return "subset"
    return "dense"


#: ``auto`` computes only the leading ``d + 1`` eigenpairs when ``N >= SUBSET_MIN_N`` and
#: ``(d + 1) * SUBSET_FRACTION <= N``; below that size a full eigendecomposition costs
#: milliseconds and gives the whole spectrum.
SUBSET_FRACTION = 10
SUBSET_MIN_N = 400


def solve(objective, K, A, dim: int, *, method: str = "auto", **options) -> Solution:
    r"""Closed-form optimum of a kernel-regime SSL objective (THEORY.md §3).

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
    method : {"auto", "dense", "subset", "structured"}
        How the eigenpairs are computed. ``dense``: all eigenpairs (SciPy ``evd`` on NumPy).
        ``subset``: the leading ``d + 1`` only (LAPACK ``evr``, NumPy only). ``iterative``: the
        leading ``d + 1`` by Lanczos with a residual and a deflation check, falling back to
        ``dense`` when a check fails (``Solution.method`` tells which ran). ``structured``: no
        eigendecomposition at all — for a union of cliques, a positive definite ``K`` and
        ``reg = 0`` (O1, plain O2, O3) the spectrum follows from the group sizes and the cost is
        one Cholesky of ``K``. ``auto`` picks ``structured`` when it applies, else ``subset``
        on NumPy when ``N >= SUBSET_MIN_N`` and ``(d + 1) * SUBSET_FRACTION <= N``, else ``dense``.
    **options
        Objective options (``reg``; ``beta``, ``centred``, ``c``; ``normalized``; ``laplacian``)
        and engine options ``kernel_rtol`` (default ``N * eps``) and ``tie_rtol``
        (default ``1000 * N * eps``).

    Returns
    -------
    Solution

    Examples
    --------
    >>> import numpy as np, kssl_theory as kt
    >>> X = np.random.default_rng(0).normal(size=(6, 2)); groups = [0, 0, 1, 1, 2, 2]
    >>> sol = kt.solve("contrastive", kt.kernels.rbf(X, bandwidth=1.0), kt.graphs.adjacency(groups), dim=3)
    >>> round(float(sol.loss), 12)   # G* = A when K > 0 and d >= n (THEORY.md §4)
    0.0
    """
    obj = get_objective(objective)
    options = dict(options)
    kernel_rtol, tie_rtol = _split_engine_options(options)
    opts = parse_options(obj, options)
    K = check_matrix("K", K, symmetric=True)
    n = K.shape[0]
    rel = A if isinstance(A, RelationGraph) else RelationGraph(check_matrix("A", A, symmetric=True, rows=n))
    if rel.n != n:
        raise InputError(f"the relation graph has {rel.n} views but K is {n} x {n}.")
    if rel._A is not None:
        xp = check_same_namespace(K=K, A=rel._A)
        if rel._A.dtype != K.dtype:
            rel = RelationGraph(xp.astype(rel._A, K.dtype))
    xp = B.namespace(K)
    dim = check_dim(dim, n)
    if tie_rtol is None:
        tie_rtol = 1000 * B.default_rtol(n, K.dtype, xp)
    kf = KernelFactor(K, rtol=kernel_rtol)
    chosen = _choose_method(method, obj, opts, kf, rel, dim, xp)
    if chosen == "structured":
        return _structured(obj, opts, dim, kf, rel, tie_rtol)
    M, basis = obj.spectral(kf, rel, opts)
    feasible = M.shape[0]
    if dim > feasible:
        raise InputError(
            f"dim = {dim} exceeds the dimension {feasible} of the feasible subspace (numerical rank of "
            f"K) for the hard-constrained objective {obj.name!r}; lower dim or use a full-rank kernel."
        )
    rule = obj.spectral_rule(opts)
    pairs = None
    if chosen == "iterative":
        pairs = _iterative_eigenpairs(rule, M, dim)
        if pairs is None:
            chosen = "dense"
    if pairs is None:
        pairs = (_subset_eigenpairs if chosen == "subset" else _dense_eigenpairs)(rule, M, dim)
    w, V = pairs
    unique, gap, tol = _uniqueness(rule, w, dim, tie_rtol, feasible)

    def vectors(indices):
        return xp.take(V, xp.asarray(indices, dtype=xp.int64), axis=1)

    return _assemble(obj, opts, dim, kf, rel, w, vectors, V[:, :dim], basis, unique, gap, tol, chosen)


def _split_engine_options(options: dict):
    """Pop and validate the engine options ``kernel_rtol`` (in [0, 1)) and ``tie_rtol`` (>= 0)."""
    kernel_rtol = options.pop("kernel_rtol", None)
    tie_rtol = options.pop("tie_rtol", None)
    if kernel_rtol is not None:
        kernel_rtol = check_nonnegative("kernel_rtol", kernel_rtol)
        if kernel_rtol >= 1:
            raise InputError(f"kernel_rtol must be < 1 (a cut-off relative to the largest eigenvalue); got {kernel_rtol}.")
    if tie_rtol is not None:
        tie_rtol = check_nonnegative("tie_rtol", tie_rtol)
    return kernel_rtol, tie_rtol


def loss(objective, Z, A, *, K=None, coef=None, **options):
    r"""Loss of any candidate representation, computed from its definition (THEORY.md §3).

    Unlike :attr:`Solution.loss`, this never uses a target or a spectrum, so it serves as an
    oracle. For O4 the value is :math:`-\operatorname{tr}(Z^TAZ)` (``laplacian=True``:
    :math:`+\operatorname{tr}(Z^TLZ)`) with :math:`Z = KC`; constraints of O3/O4 are not checked.

    Parameters
    ----------
    objective : str or Objective
    Z : array, shape (N, d)
        Candidate training embeddings.
    A : array, shape (N, N)
        Relation matrix.
    K, coef : arrays, optional
        Gram matrix and coefficients (``Z = K coef``); required when ``reg > 0``.
    **options
        The objective's options.
    """
    obj = get_objective(objective)
    opts = parse_options(obj, options)
    Z = check_matrix("Z", Z, square=False)
    A = check_matrix("A", A, symmetric=True, rows=Z.shape[0])
    if obj.needs_coef(opts):
        if K is None or coef is None:
            raise InputError(f"reg = {opts['reg']} > 0 needs K= and coef= to evaluate tr(C^T K C).")
        K = check_matrix("K", K, symmetric=True, rows=Z.shape[0])
        coef = check_matrix("coef", coef, square=False, rows=Z.shape[0])
    check_same_namespace(Z=Z, A=A, K=K, coef=coef)
    return obj.loss(Z, RelationGraph(A), K, coef, opts)
