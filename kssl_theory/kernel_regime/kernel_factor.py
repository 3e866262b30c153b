r"""Factorisation of the training Gram matrix :math:`K` and the operators built on it.

The solvers never form :math:`K^{-1}` explicitly. A :class:`KernelFactor` holds either a
Cholesky factor (when :math:`K` is numerically positive definite) or an eigendecomposition
(when it is singular or too ill-conditioned for Cholesky to be trusted; with ``defer=True`` made
on first use, so a path that needs only :math:`K`'s leading eigenpairs never pays for it) and applies

- :math:`K^+ B` (``solve``): two triangular solves, or :math:`U_r \Lambda_r^{-1} U_r^T B`;
- :math:`P B = KK^+ B` (``project``): the identity when :math:`K \succ 0`, else :math:`U_rU_r^TB`;
- :math:`RB`, :math:`R^TB` and :math:`(R^T)^+B` (``root``, ``root_t``, ``root_t_solve``) for a root
  :math:`K = RR^T`: the Cholesky factor when :math:`K \succ 0` (triangular products and solves),
  else :math:`R = U_r\Lambda_r^{1/2}` (``N x r``, so :math:`R^TB` has ``r`` rows).

Numerical rank and cut-off (docs/theory.md §1, :math:`P`)
----------------------------------------------------
Eigenvalues :math:`\lambda_i \le \text{rtol}\,\lambda_{\max}` count as zero, with
``rtol = N * eps`` by default (the round-off level of a symmetric eigensolver). Cholesky is
used when it succeeds *and* the condition number (LAPACK's ``pocon`` estimate on NumPy,
exact eigenvalues on other backends) is below ``1 / rtol``;
otherwise the eigendecomposition path is taken. When the condition
number of the retained spectrum :math:`\kappa = \lambda_{\max}/\lambda_{\min>\text{cut-off}}`
exceeds :math:`10^{10}` an :class:`~kssl_theory.errors.IllConditionedWarning` states the
expected relative accuracy :math:`\kappa\,\varepsilon` of quantities that apply :math:`K^+`.
"""

from __future__ import annotations

import math
import warnings
from functools import cached_property
from typing import Any, cast

import numpy as np
from array_api_compat import is_numpy_namespace

from .. import backend as B
from ..errors import IllConditionedWarning, InputError, NotPositiveDefiniteError, stacklevel_outside_package
from ..protocols import Array
from ..validation import block_elements

__all__ = ["KernelFactor", "EigenCoordinates", "RootMajorant", "EigenRootMajorant", "NormBounds", "ILL_CONDITIONED"]

#: Condition number above which :class:`KernelFactor` warns (THEORY-independent numerics).
ILL_CONDITIONED = 1e10


class KernelFactor:
    """Factor a symmetric PSD Gram matrix once and apply :math:`K^+`, :math:`P`, :math:`K^{\\pm 1/2}`.

    Parameters
    ----------
    K : array, shape (N, N)
        Symmetric positive semi-definite Gram matrix (validated by the caller).
    rtol : float, optional
        Relative eigenvalue cut-off for the numerical rank; default ``N * eps``.
    psd_tol : float, optional
        ``K`` is rejected when :math:`\\lambda_{\\min} < -\\text{psd\\_tol}\\,\\lambda_{\\max}`;
        default ``100 * N * eps`` (round-off of a Gram matrix computed by products).
    defer : bool, optional
        Postpone the factorisation until something needs it: the Cholesky attempt until
        :attr:`is_pd` is first read, and, when it fails (or is too ill-conditioned), the
        eigendecomposition — and with it the PSD check, :attr:`rank`, the condition numbers and the
        :class:`~kssl_theory.errors.IllConditionedWarning`. For a path that needs neither
        (:func:`kssl_theory.solve`'s kernel-PCA path, which certifies :math:`K \\succeq 0` itself),
        this saves one :math:`O(N^3)` factorisation.
    """

    def __init__(
        self, K: Array, *, rtol: float | None = None, psd_tol: float | None = None, defer: bool = False
    ) -> None:
        xp = B.namespace(K)
        self.K = K
        self.n: int = K.shape[0]
        self.rtol = B.default_rtol(self.n, K.dtype, xp) if rtol is None else float(rtol)
        self._default_rtol = rtol is None
        self._dropped_max = 0.0  # largest eigenvalue below the cut-off (set by the eigendecomposition)
        self.psd_tol = 100 * B.default_rtol(self.n, K.dtype, xp) if psd_tol is None else float(psd_tol)
        self._chol: B.CholeskyFactor | None = None
        self._eig: tuple[Array, Array, Array] | None = None
        self._rank: int | None = None
        self._pd: bool | None = None  # not yet tried
        if not defer and not self.is_pd:
            self._eigendecompose()

    def __setstate__(self, state: dict[str, Any]) -> None:
        # Pickles from before the Cholesky attempt was deferred (2026-12-04) stored the verdict as ``is_pd``.
        if "is_pd" in state:
            state["_pd"] = state.pop("is_pd")
        self.__dict__.update(state)

    @property
    def is_pd(self) -> bool:
        """Whether :math:`K` is numerically positive definite: its Cholesky factorisation succeeds and the
        estimated condition number times ``rtol`` is below 1 (tried on first read; warns when ill-conditioned)."""
        if self._pd is None:
            self._try_cholesky()
            self._pd = self._chol is not None
            if self._pd:
                self._warn_if_ill_conditioned()
        return self._pd

    @property
    def rank(self) -> int:
        """Numerical rank of :math:`K` (``N`` when positive definite; eigendecomposes a deferred factor)."""
        if self._rank is None and not self.is_pd:  # the Cholesky attempt first, as an eager factor makes it
            self._eigendecompose()
        return cast(int, self._rank)

    @property
    def cond(self) -> float:
        """Condition number of :math:`K` (``inf`` when singular; eigendecomposes a deferred factor)."""
        self.rank  # noqa: B018 - sets it
        return self._cond

    @property
    def effective_cond(self) -> float:
        r"""Condition number of the retained spectrum, :math:`\lambda_{\max}/\lambda_{\min > \text{cut-off}}`."""
        self.rank  # noqa: B018 - sets it
        return self._effective_cond

    @property
    def _w_r(self) -> Array:
        self.ensure_eigendecomposition()
        return self._retained[0]

    @property
    def _V_r(self) -> Array:
        self.ensure_eigendecomposition()
        return self._retained[1]

    def _drops_resolvable_eigenvalues(self, wmax: float) -> bool:
        r"""Whether the default cut-off dropped eigenvalues above :math:`100\,\varepsilon\lambda_{\max}`, a hundred
        times the backward error of a stable eigensolver: K's spectrum there is resolved in its dtype, and the
        solution is that of a truncation of K, not of K. In float32 the default cut-off :math:`N\varepsilon`
        does this to a positive definite K with a 1e-2 ridge (N = 400: rank 132 of 400) while the retained
        condition number stays far below :data:`ILL_CONDITIONED` (tests/test_numerical_robustness.py)."""
        eps = B.eps(self.K.dtype, self.xp)
        return self._default_rtol and self._dropped_max > 100 * eps * wmax

    def _warn_if_ill_conditioned(self, wmax: float | None = None) -> None:
        truncated = wmax is not None and self._drops_resolvable_eigenvalues(wmax)
        if not (self._effective_cond > ILL_CONDITIONED or truncated):
            return
        eps = B.eps(self.K.dtype, self.xp)
        rank_note = (
            ""
            if self._rank == self.n
            else (
                f" K is numerically singular (rank {self._rank} of {self.n} at cut-off {self.rtol:.1e} x "
                f"largest eigenvalue), so the pseudo-inverse path is used;"
            )
        )
        if truncated:
            rank_note += (
                f" the cut-off drops eigenvalues up to {self._dropped_max:.2e}, above {100 * eps:.1e} x the largest "
                f"eigenvalue, which {str(self.K.dtype).rsplit('.', 1)[-1]} resolves: the solution is that of K's rank-"
                f"{self._rank} truncation. Pass kernel_rtol= to kt.solve (e.g. {10 * eps:.1e}) to keep them, or use "
                "float64;"
            )
        above = f" > {ILL_CONDITIONED:.0e}" if self._effective_cond > ILL_CONDITIONED else ""
        warnings.warn(
            f"K is ill-conditioned:{rank_note} the retained spectrum has condition number "
            f"{self._effective_cond:.2e}{above}. "
            f"Coefficients C* = K^+ Z*, out-of-sample "
            f"embeddings and the induced kernel are accurate to about {min(self._effective_cond * eps, 1.0):.1e} "
            f"relative. The optimum's spectrum (training Gram matrix, loss) is computed in K's eigenbasis, "
            f"where the reg term is diagonal, and its error is bounded a posteriori: see "
            f"Solution.eigenvalue_error and Solution.loss_error. Add a small ridge to K or increase the "
            f"bandwidth for more accurate coefficients.",
            IllConditionedWarning,
            stacklevel=stacklevel_outside_package(),
        )

    @property
    def xp(self) -> Any:
        """The array namespace of ``K`` (derived, not stored: a namespace module cannot be pickled)."""
        return B.namespace(self.K)

    def _try_cholesky(self) -> None:
        try:
            factor = B.cholesky(self.K)
        except NotPositiveDefiniteError:
            return
        cond = self._cond_from_cholesky(factor)
        if not cond * self.rtol < 1:
            return
        self._chol = factor
        self._rank = self.n
        self._cond = cond
        self._effective_cond = cond

    def _cond_from_cholesky(self, factor: B.CholeskyFactor) -> float:
        """Condition number of ``K`` in the 1-norm, estimated from the factor: LAPACK's ``pocon`` on NumPy, the
        same Hager-Higham estimator (:func:`~kssl_theory.backend.inverse_norm1_estimate`) on other libraries.

        It costs O(N^2) given the factor and is within a factor ~N of the 2-norm condition number; a
        ratio of the factor's diagonal entries is not a usable estimate (it misses near-rank-deficiency
        entirely). Other libraries used to compute K's eigenvalues here: on an H200 at N = 10,000 that
        eigendecomposition was 0.84 s of a 1.43 s clique solve (third GPU run).
        """
        if is_numpy_namespace(self.xp):
            rcond, info = B.pocon(factor, self.norm_inf)
            return float("inf") if info != 0 or rcond <= 0 else 1.0 / float(rcond)
        inverse_norm = B.inverse_norm1_estimate(factor)
        return self.norm_inf * inverse_norm if math.isfinite(inverse_norm) else float("inf")

    @property
    def norm_inf(self) -> float:
        r""":math:`\|K\|_\infty`, the largest absolute row sum (also the 1-norm: :math:`K` is symmetric).

        Computed once, row block by row block (no ``N x N`` temporary).
        """
        if "_norm_inf" not in self.__dict__:
            xp = self.xp
            step = max(1, block_elements(xp) // max(self.n, 1))
            rows = [
                xp.max(xp.sum(xp.abs(self.K[i : min(i + step, self.n), :]), axis=1)) for i in range(0, self.n, step)
            ]
            self._norm_inf = float(xp.max(xp.stack(rows)))  # one transfer to the host
        return self._norm_inf

    def _eigendecompose(self) -> None:
        xp = self.xp
        pd = self.is_pd  # decided before: the rank and condition numbers of a positive definite K are its factor's
        w, V = B.eigh(self.K)
        wmax = float(w[-1]) if self.n else 0.0
        wmin = float(w[0])
        if wmin < -self.psd_tol * max(abs(wmax), np.finfo(np.float64).tiny):
            raise InputError(
                f"K is not positive semi-definite: smallest eigenvalue {wmin:.3g} < -{self.psd_tol:.1g} x "
                f"largest ({wmax:.3g}). Check the kernel (is it a valid PSD kernel?) or add a ridge "
                f"K + eps*I."
            )
        if wmax <= 0:
            raise InputError("K is numerically zero (largest eigenvalue <= 0); the kernel carries no information.")
        keep = w > self.rtol * wmax
        rank = int(xp.sum(xp.astype(keep, xp.int64)))
        self._eig = (w, V, keep)
        self._retained = (xp.take(w, xp.nonzero(keep)[0]), xp.take(V, xp.nonzero(keep)[0], axis=1))
        self._rank = rank
        self._effective_cond = float(wmax / float(xp.min(w[keep])))
        self._cond = self._effective_cond if rank == self.n else float("inf")
        if rank < self.n:
            self._dropped_max = float(xp.max(xp.take(w, xp.nonzero(~keep)[0])))
        if not pd:  # a positive definite K was judged (and warned about) from its Cholesky factor
            self._warn_if_ill_conditioned(wmax)

    @property
    def range_basis(self) -> Array:
        """Orthonormal basis :math:`U_r` of range(K), shape ``(N, rank)``; identity when PD."""
        if self.is_pd:
            return self.xp.eye(self.n, dtype=self.K.dtype, device=B.device(self.K))
        return self._V_r

    def solve(self, Bm: Array) -> Array:
        """Apply the pseudo-inverse: :math:`K^+ B` (Cholesky solve when :math:`K \\succ 0`)."""
        if self.is_pd:
            return B.cho_solve(cast(B.CholeskyFactor, self._chol), Bm)  # is_pd: the Cholesky factor is set
        V, w = self._V_r, self._w_r
        return V @ ((V.T @ Bm) / w[:, None])

    def solve_scaled_identity(self, c: float) -> Array:
        r""":math:`K^+(cI) = cK^+` as a matrix, by a solve; zeros without any solve when ``c == 0``.

        The generated targets call it for their :math:`-\tfrac{\lambda}{2}K^+` terms, so the
        unregularised objectives (:math:`\lambda = 0`) cost no :math:`O(N^3)` solve.
        """
        xp = self.xp
        if c == 0:
            return xp.zeros((self.n, self.n), dtype=self.K.dtype, device=B.device(self.K))
        return c * self.solve(xp.eye(self.n, dtype=self.K.dtype, device=B.device(self.K)))

    def solve_scaled(self, c: float, Bm: Array) -> Array:
        r""":math:`cK^+B`; zeros without any solve when ``c == 0`` (the generated ``*_apply`` call it)."""
        return self.xp.zeros_like(Bm) if c == 0 else c * self.solve(Bm)

    def project(self, Bm: Array) -> Array:
        """Apply the projector onto range(K): :math:`P B = K K^+ B` (a no-op when :math:`K \\succ 0`)."""
        if self.is_pd:
            return Bm
        V = self._V_r
        return V @ (V.T @ Bm)

    def ensure_eigendecomposition(self) -> None:
        """Eigendecompose :math:`K` now if that has not happened (a deferred, or positive definite, factor)."""
        if self._eig is None:
            self._eigendecompose()

    def root(self, Bm: Array) -> Array:
        r"""Apply the root :math:`R` of :math:`K = RR^T`: the Cholesky factor, or :math:`U_r\Lambda_r^{1/2}`.

        For a singular ``K`` the root is ``N x r``, so ``Bm`` has ``r`` rows.
        """
        if self.is_pd:
            return B.triangular_multiply(cast(B.CholeskyFactor, self._chol).lower, Bm, lower=True)
        return self._V_r @ (Bm * self.xp.sqrt(self._w_r)[:, None])

    def root_t(self, Bm: Array) -> Array:
        r"""Apply :math:`R^T` (the transpose of :meth:`root`'s root; ``r`` rows out when ``K`` is singular)."""
        if self.is_pd:
            return B.triangular_multiply(cast(B.CholeskyFactor, self._chol).lower, Bm, lower=True, trans=True)
        return (self._V_r.T @ Bm) * self.xp.sqrt(self._w_r)[:, None]

    def root_t_solve(self, Bm: Array) -> Array:
        r"""Apply :math:`(R^T)^+`: :math:`L^{-T}B` (a triangular solve), or :math:`U_r\Lambda_r^{-1/2}B`."""
        if self.is_pd:
            return B.solve_triangular(cast(B.CholeskyFactor, self._chol).lower, Bm, lower=True, trans=True)
        return self._V_r @ (Bm / self.xp.sqrt(self._w_r)[:, None])

    def majorant(self) -> RootMajorant | EigenRootMajorant:
        r"""Entrywise majorants of this factor's operators, for rounding bounds.

        :class:`RootMajorant` (:math:`|L|`) when ``K`` is positive definite, else
        :class:`EigenRootMajorant` (:math:`|U_r|\Lambda_r^{1/2}`).
        """
        if self.is_pd:
            return RootMajorant(cast(B.CholeskyFactor, self._chol).lower)
        return EigenRootMajorant(self.xp.abs(self._V_r), self.xp.sqrt(self._w_r))

    def root_norm_bound(self) -> float:
        r"""An upper bound of :math:`\|R\|_2 = \|K\|_2^{1/2}`.

        The largest retained eigenvalue's root when ``K`` was eigendecomposed, else the root of
        ``K``'s largest absolute row sum (a symmetric matrix's 2-norm is at most that sum).
        """
        if self.is_pd:
            return math.sqrt(self.norm_inf)
        return math.sqrt(float(self.xp.max(self._w_r)))

    def eigen_coordinates(self) -> tuple[EigenCoordinates, Array]:
        r""":math:`K` in its own eigenbasis: ``(coords, U_r)`` with :math:`K = U_r\,\mathrm{diag}(\mu)\,U_r^T`.

        ``coords`` is the factor of :math:`\mathrm{diag}(\mu)` (an :class:`EigenCoordinates`), so a
        generated target evaluated on ``(U_r^T A U_r, coords)`` is :math:`U_r^T T U_r`. There
        :math:`K^+` is the exact diagonal :math:`\mathrm{diag}(1/\mu)`: no solve mixes its huge
        entries into the well-scaled part of the target (docs/theory.md §3; :mod:`kssl_theory.kernel_regime.accuracy`).
        """
        self.ensure_eigendecomposition()
        return EigenCoordinates(self._w_r), self._V_r

    def ones_outside_range(self) -> Array:
        r""":math:`q = (I - P)\mathbf 1`, the part of the all-ones vector outside range(K).

        Computed from the eigenvectors of the discarded spectrum (no cancellation), so it is
        accurate to :math:`O(N\varepsilon)` relative; exactly zero when :math:`K \succ 0`.
        """
        xp = self.xp
        ones = xp.ones((self.n,), dtype=self.K.dtype, device=B.device(self.K))
        if self.is_pd or self.rank == self.n:
            return xp.zeros_like(ones)
        w, V, keep = cast("tuple[Array, Array, Array]", self._eig)  # not PD: the eigendecomposition is set
        V0 = xp.take(V, xp.nonzero(~keep)[0], axis=1)
        return V0 @ (V0.T @ ones)


class _PositiveDefiniteBound:
    """The part shared by :class:`RootMajorant` and :class:`NormBounds` (bounds for a positive definite or
    penalty-free operator): :math:`P` is kept as it is (``|PX| = |X|`` for :math:`K \\succ 0`; an orthogonal
    projector has norm at most 1) and :math:`cK^+` is bounded only for ``c == 0``."""

    def project(self, X: Array) -> Array:
        """``X``."""
        return X

    def solve_scaled(self, c: float, X: Array) -> Array:
        r"""Zeros for ``c == 0``; a nonzero multiple of :math:`K^+` has no bound here."""
        if c != 0:
            raise InputError("no bound of c K^+ (c != 0) is available; use a formed spectral matrix.")
        return B.namespace(X).zeros_like(X)


class RootMajorant(_PositiveDefiniteBound):
    r"""Entrywise majorants of a positive definite factor's operators: :math:`|L|`, :math:`|L|^T`, :math:`P = I`.

    Evaluated by a generated ``*_apply_majorant`` on :math:`|X|`, it bounds every product the
    matching ``*_apply`` computes (:math:`|LX| \le |L||X|` entrywise). A term :math:`cK^+X` has no
    cheap majorant; it only appears with ``c == 0`` on the paths that use this class.

    Parameters
    ----------
    lower : array, shape (N, N)
        The Cholesky factor :math:`L`; its entrywise absolute value :math:`|L|` is formed on the
        first product (the O1–O3 operators never ask for it: only O4 applies the root).
    """

    is_pd = True

    def __init__(self, lower: Array) -> None:
        self._lower = lower
        self.n: int = lower.shape[0]

    @cached_property
    def _abs_lower(self) -> Array:
        return B.namespace(self._lower).abs(self._lower)

    def root(self, X: Array) -> Array:
        r""":math:`|L|X`."""
        return B.triangular_multiply(self._abs_lower, X, lower=True)

    def root_t(self, X: Array) -> Array:
        r""":math:`|L|^TX`."""
        return B.triangular_multiply(self._abs_lower, X, lower=True, trans=True)


class EigenRootMajorant:
    r"""Entrywise majorants of a singular factor's root :math:`R = U_r\Lambda_r^{1/2}` (``N x r``).

    :math:`|RX| \le |U_r|\Lambda_r^{1/2}|X|` and :math:`|R^TX| \le \Lambda_r^{1/2}|U_r|^T|X|` entrywise.
    Only the whitened form takes the operator path with a singular ``K``
    (:meth:`~kssl_theory.kernel_regime.objectives.Objective.operator`), and its generated
    ``*_apply_majorant`` calls ``root`` and ``root_t`` only. The diagonal scalings add one rounding
    each (:math:`\varepsilon`, not :math:`N\varepsilon`), inside the ``depth * N * eps`` bound for
    :math:`N \ge 3`.

    Parameters
    ----------
    abs_basis : array, shape (N, r)
        :math:`|U_r|`, the entrywise absolute value of the retained eigenvectors of :math:`K`.
    root_eigenvalues : array, shape (r,)
        :math:`\Lambda_r^{1/2}`, the square roots of the retained eigenvalues.
    """

    is_pd = False

    def __init__(self, abs_basis: Array, root_eigenvalues: Array) -> None:
        self._abs_basis = abs_basis
        self._root = root_eigenvalues

    def root(self, X: Array) -> Array:
        r""":math:`|U_r|\Lambda_r^{1/2}X` (``X`` has ``r`` rows)."""
        return self._abs_basis @ (X * self._root[:, None])

    def root_t(self, X: Array) -> Array:
        r""":math:`\Lambda_r^{1/2}|U_r|^TX` (``r`` rows out)."""
        return (self._abs_basis.T @ X) * self._root[:, None]


class NormBounds(_PositiveDefiniteBound):
    r"""A factor's operators replaced by bounds of their 2-norms, acting on ``1 x 1`` blocks.

    Evaluated by a generated ``*_apply_majorant`` on ``X = [[1]]`` (with each graph operand replaced by
    a bound of its norm), it bounds :math:`\|S\|_2` by submultiplicativity and the triangle
    inequality: :math:`\|R\|_2, \|R^T\|_2 \le` ``root_norm`` and :math:`\|P\|_2 \le 1`.

    Parameters
    ----------
    root_norm : float
        An upper bound of :math:`\|R\|_2` (:meth:`KernelFactor.root_norm_bound`).
    """

    def __init__(self, root_norm: float) -> None:
        self.root_norm = root_norm

    def root(self, X: Array) -> Array:
        """``root_norm * X``."""
        return self.root_norm * X

    root_t = root


class EigenCoordinates:
    r"""The factor of :math:`\mathrm{diag}(\mu)`, the Gram matrix in its own eigenbasis (``r x r``).

    Implements the operations the generated targets call (:mod:`kssl_theory._generated.targets`):
    ``project`` is the identity (the coordinates span range(K) only), ``solve`` divides by
    :math:`\mu`, ``solve_scaled_identity(c)`` is :math:`\mathrm{diag}(c/\mu)`, and ``root`` and
    ``root_t`` multiply by :math:`\sqrt\mu` (the root :math:`\mathrm{diag}(\sqrt\mu)`). Every
    operation is elementwise, hence exact to one rounding.

    Parameters
    ----------
    mu : array, shape (r,)
        The retained (positive) eigenvalues of :math:`K`.
    """

    is_pd = True

    def __init__(self, mu: Array) -> None:
        self.mu = mu
        self.n: int = mu.shape[0]

    @property
    def xp(self) -> Any:
        """The array namespace of ``mu``."""
        return B.namespace(self.mu)

    def project(self, X: Array) -> Array:
        """:math:`P X = X` (every coordinate lies in range(K))."""
        return X

    def solve(self, X: Array) -> Array:
        r""":math:`\mathrm{diag}(1/\mu)\,X`."""
        return X / self.mu[:, None]

    def solve_scaled(self, c: float, X: Array) -> Array:
        r""":math:`c\,\mathrm{diag}(1/\mu)\,X`; zeros when ``c == 0``."""
        return self.xp.zeros_like(X) if c == 0 else c * self.solve(X)

    def penalty_diagonal(self, c: float) -> Array:
        r"""The diagonal :math:`c/\mu` of :math:`cK^+` in these coordinates."""
        return c / self.mu

    def solve_scaled_identity(self, c: float) -> Array:
        r""":math:`cK^+ = \mathrm{diag}(c/\mu)`; zeros when ``c == 0``."""
        xp = self.xp
        if c == 0:
            return xp.zeros((self.n, self.n), dtype=self.mu.dtype, device=B.device(self.mu))
        idx = xp.arange(self.n, device=B.device(self.mu))
        D = xp.zeros((self.n, self.n), dtype=self.mu.dtype, device=B.device(self.mu))
        return xp.where(idx[:, None] == idx[None, :], self.penalty_diagonal(c)[None, :], D)

    def root(self, X: Array) -> Array:
        r""":math:`\mathrm{diag}(\sqrt\mu)\,X` (the symmetric root, so ``root_t`` is the same)."""
        return X * self.xp.sqrt(self.mu)[:, None]

    root_t = root
