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

from dataclasses import dataclass, field, replace

import numpy as np

from . import backend as B
from .errors import InputError
from .kernel_factor import KernelFactor
from .objectives import Objective, get_objective, parse_options
from .validation import check_dim, check_matrix, check_same_namespace

__all__ = ["Solution", "solve", "loss"]


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
    gram : array, shape (N, N)
        Optimal training Gram matrix :math:`G^* = Z^*Z^{*T}`.
    embedding : array, shape (N, d)
        :math:`Z^* = U\Lambda^{1/2}` (soft rules) or the constrained optimum (O3, O4);
        unique up to :math:`Z^*Q`, :math:`Q\in O(d)`. Columns beyond the number of positive
        target eigenvalues are zero.
    coef : array, shape (N, d)
        Minimum-norm coefficients, :math:`Z^* = KC^*`.
    loss : scalar array
        The attained minimum, from the closed form of THEORY.md §3.
    eigenvalues : array
        Full spectrum of the spectral matrix in the rule's order (descending for
        ``psd-top``/``top``, ascending for ``bottom``).
    is_unique : bool
        Whether :math:`G^*` (and :math:`k^*`) is unique (module docstring).
    gap : float
        :math:`|\lambda_d - \lambda_{d+1}|` (``inf`` when ``d`` equals the feasible dimension).
    rank : int
        Numerical rank of :math:`K` (cut-off ``kernel_rtol``).
    hs_norm : scalar array
        :math:`\|W^*\|_{HS}^2 = \operatorname{tr}(C^{*T}KC^*)`.
    """

    objective: Objective
    options: dict
    dim: int
    gram: object
    embedding: object
    coef: object
    loss: object
    eigenvalues: object
    is_unique: bool
    gap: float
    rank: int
    hs_norm: object
    _vectors: object = field(repr=False, default=None)
    _basis: object = field(repr=False, default=None)
    _factor: KernelFactor = field(repr=False, default=None)
    _A: object = field(repr=False, default=None)
    _tie_tol: float = field(repr=False, default=0.0)

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
        """Indices (in the rule's order) of the eigenvalues tied with the ``d``-th one."""
        xp = B.namespace(self.eigenvalues)
        w = self.eigenvalues
        tied = xp.abs(w - w[self.dim - 1]) <= self._tie_tol
        if self.objective.rule == "psd-top":
            tied = tied & (w > self._tie_tol)
        return [int(i) for i in B.to_numpy(xp.nonzero(tied)[0])]

    def alternative(self, seed: int):
        """Another optimum: a random orthonormal basis of the tied eigenspace replaces the chosen one.

        Returns ``self`` when the optimum is unique. The returned solution attains the same
        loss; for a split tie its training Gram matrix, embedding and out-of-sample induced kernel
        generally differ (THEORY.md §3 "Uniqueness", §6).
        """
        if self.is_unique:
            return self
        xp = B.namespace(self.eigenvalues)
        tied = self.tied_indices()
        first = tied[0]
        keep = self.dim - first
        block = xp.take(self._vectors, xp.asarray(tied), axis=1)
        rng = np.random.default_rng(seed)
        Q, _ = np.linalg.qr(rng.standard_normal((len(tied), len(tied))))
        rotated = block @ xp.asarray(Q[:, :keep], dtype=block.dtype, device=_device(block))
        head = self._vectors[:, :first]
        V = xp.concat([head, rotated], axis=1)
        return _assemble(self.objective, self.options, self.dim, self._factor, self._A, self.eigenvalues,
                         self._vectors, V, self._basis, self.is_unique, self.gap, self._tie_tol)


def _device(x):
    from array_api_compat import device

    return device(x)


def _select(rule: str, w, V):
    """Reorder eigenpairs (ascending from eigh) into the rule's order."""
    xp = B.namespace(w)
    if rule == "bottom":
        return w, V
    idx = xp.arange(w.shape[0] - 1, -1, -1)
    return xp.take(w, idx), xp.take(V, idx, axis=1)


def _uniqueness(rule: str, w, dim: int, tie_rtol: float):
    scale = float(B.namespace(w).max(B.namespace(w).abs(w))) if w.shape[0] else 0.0
    tol = tie_rtol * max(scale, np.finfo(np.float64).tiny)
    if dim >= w.shape[0]:
        return True, float("inf"), tol
    gap = abs(float(w[dim - 1]) - float(w[dim]))
    unique = gap > tol
    if rule == "psd-top" and float(w[dim]) <= tol:
        unique = True
    return unique, gap, tol


def _assemble(objective, opts, dim, kf, A, w, V_all, V_sel, basis, unique, gap, tol):
    U = V_sel if basis is None else basis @ V_sel
    w_sel = w[:dim]
    Z, C = objective.embed(kf, A, U, w_sel, opts)
    xp = B.namespace(Z)
    return Solution(
        objective=objective,
        options=opts,
        dim=dim,
        gram=Z @ Z.T,
        embedding=Z,
        coef=C,
        loss=objective.minimum(A, w_sel, dim, opts),
        eigenvalues=w,
        is_unique=unique,
        gap=gap,
        rank=kf.rank,
        hs_norm=xp.sum(Z * C),
        _vectors=V_all,
        _basis=basis,
        _factor=kf,
        _A=A,
        _tie_tol=tol,
    )


def _split_engine_options(options: dict):
    engine = {k: options.pop(k) for k in ("kernel_rtol", "tie_rtol") if k in options}
    return engine.get("kernel_rtol"), engine.get("tie_rtol")


def solve(objective, K, A, dim: int, **options) -> Solution:
    r"""Closed-form optimum of a kernel-regime SSL objective (THEORY.md §3).

    Parameters
    ----------
    objective : str or Objective
        ``"contrastive"`` (O1), ``"vicreg"`` (O2), ``"laplacian_eigenmaps"`` (O3),
        ``"whitened"`` (O4), an alias (``"O1"`` …) or an :class:`Objective`.
    K : array, shape (N, N)
        Symmetric PSD training Gram matrix (all views). Singular ``K`` uses the pseudo-inverse
        formulas with :math:`P = KK^+` and the relative cut-off ``kernel_rtol``.
    A : array, shape (N, N)
        Symmetric relation matrix (:func:`kssl_theory.graphs.adjacency`).
    dim : int
        Embedding dimension ``1 <= d <= N`` (``<= rank(K)`` for the hard-constrained O3/O4).
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
    >>> float(sol.loss) < 1e-10   # G* = A when K > 0 and d >= n (THEORY.md §4)
    True
    """
    obj = get_objective(objective)
    options = dict(options)
    kernel_rtol, tie_rtol = _split_engine_options(options)
    opts = parse_options(obj, options)
    K = check_matrix("K", K, symmetric=True)
    A = check_matrix("A", A, symmetric=True, rows=K.shape[0])
    xp = check_same_namespace(K=K, A=A)
    n = K.shape[0]
    dim = check_dim(dim, n)
    if A.dtype != K.dtype:
        A = xp.astype(A, K.dtype)
    kf = KernelFactor(K, rtol=kernel_rtol)
    M, basis = obj.spectral(kf, A, opts)
    if basis is not None and dim > basis.shape[1]:
        raise InputError(
            f"dim = {dim} exceeds the dimension {basis.shape[1]} of the feasible subspace (numerical rank of "
            f"K) for the hard-constrained objective {obj.name!r}; lower dim or use a full-rank kernel."
        )
    w, V = _select(obj.rule, *B.eigh(M))
    if tie_rtol is None:
        tie_rtol = 1000 * B.default_rtol(n, K.dtype, xp)
    unique, gap, tol = _uniqueness(obj.rule, w, dim, tie_rtol)
    return _assemble(obj, opts, dim, kf, A, w, V, V[:, :dim], basis, unique, gap, tol)


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
    return obj.loss(Z, A, K, coef, opts)
