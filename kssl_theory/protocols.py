r"""The interfaces the spectral engine and the generated code program against (docs/theory.md §3).

The engine never needs to know *which* factor of :math:`K` or which relation graph it holds:

- :class:`FactorOperators` is what the generated target builders
  (:mod:`kssl_theory._generated.targets`) apply to :math:`K`. Three classes implement it:
  :class:`~kssl_theory.kernel_regime.kernel_factor.KernelFactor` (a Gram matrix in the standard basis),
  :class:`~kssl_theory.kernel_regime.kernel_factor.EigenCoordinates` (:math:`K` in its own eigenbasis, where
  :math:`K^+` is an exact diagonal) and the clique fast path's identity factor
  (:mod:`kssl_theory.kernel_regime.engine`).
- :class:`KernelFactorOperators` adds what the objectives use on the dense path (the rank, a basis
  of range(K), :math:`(K^+)^{1/2}`, the eigen-coordinates); only ``KernelFactor`` implements it.
- :class:`RelationOperators` is what the objectives read of the relation graph: :math:`A`,
  :math:`L = D - A` and the degrees. :class:`~kssl_theory.graphs.RelationGraph` implements it, and
  so does the clique fast path's block relation, whose entries are the scalars :math:`A`,
  :math:`L`, :math:`D` take on each group's indicator and zero-sum vectors.

:data:`Array` is the annotation for arrays of any namespace. The protocols are
``runtime_checkable``, so ``isinstance(obj, FactorOperators)`` checks the method names (not their
signatures).
"""

from __future__ import annotations

from typing import Any, Protocol, TypeAlias, runtime_checkable

__all__ = ["Array", "FactorOperators", "KernelFactorOperators", "RelationOperators"]

#: An array of any array-API namespace (NumPy, CuPy, array-api-strict, ...): the package accepts
#: and returns whichever namespace it is given, so annotations cannot name one array class.
Array: TypeAlias = Any


@runtime_checkable
class FactorOperators(Protocol):
    r"""Operators of a PSD Gram matrix :math:`K` (``n x n``) that the generated targets apply."""

    n: int

    @property
    def is_pd(self) -> bool:
        """Whether :math:`K` is numerically positive definite (a factor may decide it on first read)."""
        ...

    def solve(self, X: Any) -> Any:
        r""":math:`K^+X`."""
        ...

    def solve_scaled_identity(self, c: float) -> Any:
        r""":math:`cK^+` as a matrix (zeros, without a solve, when ``c == 0``)."""
        ...

    def solve_scaled(self, c: float, X: Any) -> Any:
        r""":math:`cK^+X` (zeros, without a solve, when ``c == 0``)."""
        ...

    def project(self, X: Any) -> Any:
        r""":math:`PX = KK^+X`, the projection onto range(K)."""
        ...

    def root(self, X: Any) -> Any:
        r""":math:`RX` for a root :math:`K = RR^T` (the Cholesky factor when :math:`K \succ 0`)."""
        ...

    def root_t(self, X: Any) -> Any:
        r""":math:`R^TX` (the same root as :meth:`root`)."""
        ...


@runtime_checkable
class KernelFactorOperators(FactorOperators, Protocol):
    r""":class:`FactorOperators` plus what the objectives use for a singular :math:`K` or a penalty."""

    K: Any

    @property
    def rank(self) -> int:
        """The numerical rank of :math:`K`."""
        ...

    @property
    def xp(self) -> Any:
        """The array namespace of ``K``."""
        ...

    @property
    def range_basis(self) -> Any:
        r"""Orthonormal basis :math:`U_r` of range(K), shape ``(n, rank)``."""
        ...

    def root_t_solve(self, X: Any) -> Any:
        r""":math:`(R^T)^+X`, the minimum-norm solution of :math:`R^TC = X` (same root as :meth:`root`)."""
        ...

    def eigen_coordinates(self) -> tuple[FactorOperators, Any]:
        r"""``(coords, U_r)``: the factor of :math:`\mathrm{diag}(\mu)` with :math:`K = U_r\mathrm{diag}(\mu)U_r^T`."""
        ...

    def ones_outside_range(self) -> Any:
        r""":math:`(I - P)\mathbf 1`."""
        ...


@runtime_checkable
class RelationOperators(Protocol):
    r"""What the objectives read of a relation graph: :math:`A`, :math:`L = D - A`, :math:`D\mathbf 1`."""

    @property
    def A(self) -> Any:
        """The relation matrix :math:`A`."""
        ...

    @property
    def laplacian(self) -> Any:
        """The Laplacian :math:`L` (``D - A``, or given with a projected graph)."""
        ...

    @property
    def degree(self) -> Any:
        r"""The degrees :math:`A\mathbf 1`."""
        ...
