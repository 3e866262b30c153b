r"""Target and spectral-matrix builders of the objectives (THEORY.md §3). GENERATED: do not edit.

Every function here is printed by :mod:`kssl_theory.symbolic.codegen` from an expression that
:mod:`kssl_theory.symbolic.derive` derives from a loss written once in
:mod:`kssl_theory.symbolic.objectives` (completing the square for the soft objectives, a Ky Fan
reduction for the whitened map). Regenerate with

    python -m kssl_theory.symbolic.codegen

and check freshness with ``python -m kssl_theory.symbolic.codegen --check`` (a test does).

``kf`` is a :class:`~kssl_theory.kernel_factor.KernelFactor`: ``kf.solve(X)`` applies
:math:`K^+`, ``kf.solve_scaled_identity(c)`` is :math:`cK^+` (no solve when ``c == 0``), ``kf.project(X)``
the projector :math:`P = KK^+` and ``kf.sqrt(X)`` :math:`K^{1/2}`; no inverse is ever formed.
Arrays may come from any array-API namespace.
"""

from __future__ import annotations

from ..backend import device, namespace

__all__ = [
    "contrastive_target",
    "contrastive_minimum",
    "vicreg_target",
    "vicreg_centred_target",
    "vicreg_minimum",
    "whitened_matrix",
]


def contrastive_target(A, kf, reg):
    r"""O1 spectral contrastive target (THEORY.md §3).

    .. math:: T = P A P - \frac{\lambda}{2} K^{+}

    Parameters
    ----------
    A : array, shape (N, N)
        Relation matrix :math:`A` (symmetric).
    kf : KernelFactor
        Factorisation of the Gram matrix :math:`K` (applies :math:`K^+`, :math:`P`, :math:`K^{1/2}`).
    reg : float
        :math:`\lambda \ge 0`, weight of the penalty :math:`\operatorname{tr}(C^TKC)`.

    Returns
    -------
    array, shape (N, N)
        The target :math:`T`; the optimal Gram matrix is :math:`[T]_{+,d}`.
    """
    return kf.project(kf.project(A).T) - kf.solve_scaled_identity(reg/2)


def contrastive_minimum(A, top):
    r"""O1 optimal loss from the top eigenvalues of its target.

    .. math:: \min \mathcal{L} = \left\|A\right\|_F^{2} - \sum_{i=1}^{d} \max\left(\lambda_i\left(T\right), 0\right)^{2}

    Parameters
    ----------
    A : array, shape (N, N)
        Relation matrix :math:`A` (symmetric).
    top : array, shape (d,)
        The :math:`d` largest eigenvalues of the target :math:`T`.

    Returns
    -------
    scalar array
        The optimal loss.
    """
    xp = namespace(A, top)
    return xp.sum(A * A) - xp.sum(xp.clip(top, 0, None) ** 2)


def vicreg_target(L, kf, beta, reg):
    r"""O2 VICReg-like (soft) target (THEORY.md §3).

    .. math:: T = P \left(I - \frac{\beta}{2} L\right) P - \frac{\lambda}{2} K^{+}

    Parameters
    ----------
    L : array, shape (N, N)
        Graph Laplacian :math:`L` (symmetric, :math:`L\mathbf 1 = 0`).
    kf : KernelFactor
        Factorisation of the Gram matrix :math:`K` (applies :math:`K^+`, :math:`P`, :math:`K^{1/2}`).
    beta : float
        :math:`\beta \ge 0`, weight of :math:`\operatorname{tr}(Z^TLZ)`.
    reg : float
        :math:`\lambda \ge 0`, weight of the penalty :math:`\operatorname{tr}(C^TKC)`.

    Returns
    -------
    array, shape (N, N)
        The target :math:`T`; the optimal Gram matrix is :math:`[T]_{+,d}`.
    """
    xp = namespace(L)
    n = L.shape[0]
    return (
        kf.project(kf.project(xp.eye(n, dtype=L.dtype, device=device(L)) - (beta/2) * L).T)
        - kf.solve_scaled_identity(reg/2)
    )


def vicreg_centred_target(L, beta, c):
    r"""Centred O2 target, for :math:`cHZZ^TH` (THEORY.md §3).

    .. math:: T = H - \frac{\beta}{2 c} L

    Parameters
    ----------
    L : array, shape (N, N)
        Graph Laplacian :math:`L` (symmetric, :math:`L\mathbf 1 = 0`).
    beta : float
        :math:`\beta \ge 0`, weight of :math:`\operatorname{tr}(Z^TLZ)`.
    c : float
        :math:`c > 0`, scale in :math:`\|c\,Z^THZ - I_d\|_F^2`.

    Returns
    -------
    array, shape (N, N)
        The target :math:`T`; the optimal Gram matrix is :math:`[T]_{+,d}`.
    """
    xp = namespace(L)
    n = L.shape[0]
    return (
        (xp.eye(n, dtype=L.dtype, device=device(L)) - xp.ones((n, n), dtype=L.dtype, device=device(L)) / n)
        - (beta/(2*c)) * L
    )


def vicreg_minimum(dim, top):
    r"""O2 optimal loss (plain and centred) from the top eigenvalues of its target.

    .. math:: \min \mathcal{L} = d - \sum_{i=1}^{d} \max\left(\lambda_i\left(T\right), 0\right)^{2}

    Parameters
    ----------
    dim : int
        The embedding dimension :math:`d`.
    top : array, shape (d,)
        The :math:`d` largest eigenvalues of the target :math:`T`.

    Returns
    -------
    scalar array
        The optimal loss.
    """
    xp = namespace(top)
    return dim - xp.sum(xp.clip(top, 0, None) ** 2)


def whitened_matrix(M, kf):
    r"""O4 spectral matrix; its top (bottom for M = L) eigenvectors solve O4.

    .. math:: S = K^{1/2} M K^{1/2}

    Parameters
    ----------
    M : array, shape (N, N)
        Symmetric matrix: :math:`A` for O4, :math:`L` for its Laplacian twin.
    kf : KernelFactor
        Factorisation of the Gram matrix :math:`K` (applies :math:`K^+`, :math:`P`, :math:`K^{1/2}`).

    Returns
    -------
    array, shape (N, N)
        :math:`S`; with :math:`V_d` its top-:math:`d` eigenvectors, :math:`C = (K^+)^{1/2}V_d`.
    """
    return kf.sqrt(kf.sqrt(M).T)
