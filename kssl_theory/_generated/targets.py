r"""The objectives' functions and declaration records (docs/theory.md §3). GENERATED: do not edit.

Every function here is printed by :mod:`kssl_theory.symbolic.codegen` from an expression that
:mod:`kssl_theory.symbolic.derive` derives from a loss written once in
:mod:`kssl_theory.symbolic.objectives` (completing the square for the soft objectives, a Ky Fan
reduction for the hard-constrained ones), or from the loss itself (``*_loss``). ``DECLARATIONS``
holds one record per declaration (names, options, form, rule, functions), from which
:mod:`kssl_theory.kernel_regime.objectives` builds the objectives. Regenerate with

    python -m kssl_theory.symbolic.codegen

and check freshness with ``python -m kssl_theory.symbolic.codegen --check`` (a test does).

``kf`` is a :class:`~kssl_theory.kernel_factor.KernelFactor`: ``kf.solve(X)`` applies
:math:`K^+`, ``kf.solve_scaled_identity(c)`` is :math:`cK^+` (no solve when ``c == 0``), ``kf.project(X)``
the projector :math:`P = KK^+`, and ``kf.root(X)``, ``kf.root_t(X)`` a root :math:`R` of
:math:`K = RR^T` and its transpose (the Cholesky factor when :math:`K \succ 0`); no inverse is
ever formed.
Arrays may come from any array-API namespace.
"""

from __future__ import annotations

from ..backend import device, gram, namespace
from ..errors import InputError

__all__ = [
    "contrastive_target",
    "contrastive_minimum",
    "contrastive_free",
    "contrastive_penalty",
    "contrastive_apply",
    "contrastive_apply_majorant",
    "contrastive_loss",
    "vicreg_target",
    "vicreg_minimum",
    "vicreg_free",
    "vicreg_penalty",
    "vicreg_apply",
    "vicreg_apply_majorant",
    "vicreg_loss",
    "vicreg_centred_target",
    "vicreg_centred_minimum",
    "vicreg_centred_scale",
    "vicreg_centred_loss",
    "laplacian_eigenmaps_matrix",
    "laplacian_eigenmaps_apply",
    "laplacian_eigenmaps_apply_majorant",
    "laplacian_eigenmaps_loss",
    "whitened_matrix",
    "whitened_apply",
    "whitened_apply_majorant",
    "whitened_loss",
    "whitened_laplacian_matrix",
    "whitened_laplacian_apply",
    "whitened_laplacian_apply_majorant",
    "whitened_laplacian_loss",
    "DECLARATIONS",
]


def contrastive_target(A, kf, reg):
    r"""O1 spectral contrastive: target (docs/theory.md §3).

    .. math:: T = P A P - \frac{\lambda}{2} K^{+}

    Parameters
    ----------
    A : array, shape (N, N)
        Relation matrix :math:`A` (symmetric).
    kf : KernelFactor
        Factorisation of the Gram matrix :math:`K` (applies :math:`K^+`, :math:`P`, a root :math:`R` of :math:`K = RR^T`).
    reg : float
        :math:`\lambda \ge 0`, weight of the penalty :math:`\operatorname{tr}(C^TKC)`.

    Returns
    -------
    array, shape (N, N)
        The target :math:`T`; the optimal Gram matrix is :math:`[T]_{+,d}`.
    """
    return kf.project(kf.project(A).T) - kf.solve_scaled_identity(reg/2)


def contrastive_minimum(A, top):
    r"""O1 spectral contrastive: optimal loss from the top eigenvalues of its target.

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


def contrastive_free(A, kf):
    r"""O1 spectral contrastive: the target without its penalty, :math:`T + pK^+`.

    .. math:: T + p K^{+} = P A P

    Parameters
    ----------
    A : array, shape (N, N)
        Relation matrix :math:`A` (symmetric).
    kf : KernelFactor
        Factorisation of the Gram matrix :math:`K` (applies :math:`K^+`, :math:`P`, a root :math:`R` of :math:`K = RR^T`).

    Returns
    -------
    array, shape (N, N)
    """
    return kf.project(kf.project(A).T)


def contrastive_penalty(reg):
    r"""O1 spectral contrastive: the weight :math:`p` of :math:`-pK^+` in the target.

    .. math:: p = \frac{\lambda}{2}

    Parameters
    ----------
    reg : float
        :math:`\lambda \ge 0`, weight of the penalty :math:`\operatorname{tr}(C^TKC)`.

    Returns
    -------
    float
    """
    return reg/2


def contrastive_apply(X, A, kf, reg):
    r"""O1 spectral contrastive: the target applied to a block of vectors, never formed.

    .. math:: T X = P A P X - \frac{\lambda}{2} K^{+} X

    Parameters
    ----------
    X : array, shape (N, k)
        Block of vectors (columns) to apply the matrix to.
    A : array, shape (N, N)
        Relation matrix :math:`A` (symmetric).
    kf : KernelFactor
        Factorisation of the Gram matrix :math:`K` (applies :math:`K^+`, :math:`P`, a root :math:`R` of :math:`K = RR^T`).
    reg : float
        :math:`\lambda \ge 0`, weight of the penalty :math:`\operatorname{tr}(C^TKC)`.

    Returns
    -------
    array, shape (N, k)
    """
    return kf.project(A @ kf.project(X)) - kf.solve_scaled(reg/2, X)


def contrastive_apply_majorant(X, A, kf, reg):
    r"""O1 spectral contrastive: entrywise majorant of ``contrastive_apply`` (every term added), for its rounding bound.

    .. math:: \overline{T} X = \frac{\lambda}{2} K^{+} X + P A P X

    Parameters
    ----------
    X : array, shape (N, k)
        Block of vectors (columns) to apply the matrix to.
    A : array, shape (N, N)
        Relation matrix :math:`A` (symmetric).
    kf : KernelFactor
        Factorisation of the Gram matrix :math:`K` (applies :math:`K^+`, :math:`P`, a root :math:`R` of :math:`K = RR^T`).
    reg : float
        :math:`\lambda \ge 0`, weight of the penalty :math:`\operatorname{tr}(C^TKC)`.

    Returns
    -------
    array, shape (N, k)
        On :math:`|X|` and majorants of the operands, an entrywise bound on the product.
    """
    return kf.solve_scaled(reg/2, X) + kf.project(A @ kf.project(X))


def contrastive_loss(Z, A, reg, K=None, C=None):
    r"""O1 spectral contrastive: the loss of any candidate, from its definition (docs/theory.md §3).

    .. math:: \mathcal{L} = \left\|Z Z^{T} - A\right\|_F^{2} + \lambda \operatorname{tr}\left(C^{T} K C \right)

    Parameters
    ----------
    Z : array, shape (N, d)
        Embeddings :math:`Z` of the training views (rows).
    A : array, shape (N, N)
        Relation matrix :math:`A` (symmetric).
    reg : float
        :math:`\lambda \ge 0`, weight of the penalty :math:`\operatorname{tr}(C^TKC)`.
    K : array, shape (N, N), optional
        Gram matrix :math:`K` (needed by the terms in :math:`C`).
    C : array, shape (N, d), optional
        Coefficients :math:`C` with :math:`Z = KC`.

    Returns
    -------
    scalar array
        The loss (for a maximisation, minus the objective).
    """
    xp = namespace(Z, A)
    value = xp.linalg.matrix_norm(gram(Z) - A) ** 2
    if reg != 0:
        if K is None or C is None:
            raise InputError(f"reg = {reg} != 0 needs K= and coef= to evaluate Trace(C.T*K*C).")
        value = value + reg * xp.linalg.trace(C.T @ K @ C)
    return value


def vicreg_target(L, kf, beta, reg):
    r"""O2 VICReg-like (soft): target (docs/theory.md §3).

    .. math:: T = P \left(I - \frac{\beta}{2} L\right) P - \frac{\lambda}{2} K^{+}

    Parameters
    ----------
    L : array, shape (N, N)
        Graph Laplacian :math:`L` (symmetric, :math:`L\mathbf 1 = 0`).
    kf : KernelFactor
        Factorisation of the Gram matrix :math:`K` (applies :math:`K^+`, :math:`P`, a root :math:`R` of :math:`K = RR^T`).
    beta : float
        :math:`\beta \ge 0`, weight of the invariance term :math:`\operatorname{tr}(Z^TLZ)`.
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


def vicreg_minimum(dim, top):
    r"""O2 VICReg-like (soft): optimal loss from the top eigenvalues of its target.

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


def vicreg_free(L, kf, beta):
    r"""O2 VICReg-like (soft): the target without its penalty, :math:`T + pK^+`.

    .. math:: T + p K^{+} = P \left(I - \frac{\beta}{2} L\right) P

    Parameters
    ----------
    L : array, shape (N, N)
        Graph Laplacian :math:`L` (symmetric, :math:`L\mathbf 1 = 0`).
    kf : KernelFactor
        Factorisation of the Gram matrix :math:`K` (applies :math:`K^+`, :math:`P`, a root :math:`R` of :math:`K = RR^T`).
    beta : float
        :math:`\beta \ge 0`, weight of the invariance term :math:`\operatorname{tr}(Z^TLZ)`.

    Returns
    -------
    array, shape (N, N)
    """
    xp = namespace(L)
    n = L.shape[0]
    return kf.project(kf.project(xp.eye(n, dtype=L.dtype, device=device(L)) - (beta/2) * L).T)


def vicreg_penalty(reg):
    r"""O2 VICReg-like (soft): the weight :math:`p` of :math:`-pK^+` in the target.

    .. math:: p = \frac{\lambda}{2}

    Parameters
    ----------
    reg : float
        :math:`\lambda \ge 0`, weight of the penalty :math:`\operatorname{tr}(C^TKC)`.

    Returns
    -------
    float
    """
    return reg/2


def vicreg_apply(X, L, kf, beta, reg):
    r"""O2 VICReg-like (soft): the target applied to a block of vectors, never formed.

    .. math:: T X = \left(P\right)^{2} X - \frac{\lambda}{2} K^{+} X - \frac{\beta}{2} P L P X

    Parameters
    ----------
    X : array, shape (N, k)
        Block of vectors (columns) to apply the matrix to.
    L : array, shape (N, N)
        Graph Laplacian :math:`L` (symmetric, :math:`L\mathbf 1 = 0`).
    kf : KernelFactor
        Factorisation of the Gram matrix :math:`K` (applies :math:`K^+`, :math:`P`, a root :math:`R` of :math:`K = RR^T`).
    beta : float
        :math:`\beta \ge 0`, weight of the invariance term :math:`\operatorname{tr}(Z^TLZ)`.
    reg : float
        :math:`\lambda \ge 0`, weight of the penalty :math:`\operatorname{tr}(C^TKC)`.

    Returns
    -------
    array, shape (N, k)
    """
    return (
        kf.project(kf.project(X))
        - kf.solve_scaled(reg/2, X)
        - (beta/2) * kf.project(L @ kf.project(X))
    )


def vicreg_apply_majorant(X, L, kf, beta, reg):
    r"""O2 VICReg-like (soft): entrywise majorant of ``vicreg_apply`` (every term added), for its rounding bound.

    .. math:: \overline{T} X = \left(P\right)^{2} X + \frac{\lambda}{2} K^{+} X + \frac{\beta}{2} P L P X

    Parameters
    ----------
    X : array, shape (N, k)
        Block of vectors (columns) to apply the matrix to.
    L : array, shape (N, N)
        Graph Laplacian :math:`L` (symmetric, :math:`L\mathbf 1 = 0`).
    kf : KernelFactor
        Factorisation of the Gram matrix :math:`K` (applies :math:`K^+`, :math:`P`, a root :math:`R` of :math:`K = RR^T`).
    beta : float
        :math:`\beta \ge 0`, weight of the invariance term :math:`\operatorname{tr}(Z^TLZ)`.
    reg : float
        :math:`\lambda \ge 0`, weight of the penalty :math:`\operatorname{tr}(C^TKC)`.

    Returns
    -------
    array, shape (N, k)
        On :math:`|X|` and majorants of the operands, an entrywise bound on the product.
    """
    return (
        kf.project(kf.project(X))
        + kf.solve_scaled(reg/2, X)
        + (beta/2) * kf.project(L @ kf.project(X))
    )


def vicreg_loss(Z, L, beta, reg, K=None, C=None):
    r"""O2 VICReg-like (soft): the loss of any candidate, from its definition (docs/theory.md §3).

    .. math:: \mathcal{L} = \left(\left\|Z^{T} Z - I_{d}\right\|_F^{2} + \beta \operatorname{tr}\left(Z^{T} L Z \right)\right) + \lambda \operatorname{tr}\left(C^{T} K C \right)

    Parameters
    ----------
    Z : array, shape (N, d)
        Embeddings :math:`Z` of the training views (rows).
    L : array, shape (N, N)
        Graph Laplacian :math:`L` (symmetric, :math:`L\mathbf 1 = 0`).
    beta : float
        :math:`\beta \ge 0`, weight of the invariance term :math:`\operatorname{tr}(Z^TLZ)`.
    reg : float
        :math:`\lambda \ge 0`, weight of the penalty :math:`\operatorname{tr}(C^TKC)`.
    K : array, shape (N, N), optional
        Gram matrix :math:`K` (needed by the terms in :math:`C`).
    C : array, shape (N, d), optional
        Coefficients :math:`C` with :math:`Z = KC`.

    Returns
    -------
    scalar array
        The loss (for a maximisation, minus the objective).
    """
    xp = namespace(Z, L)
    dim = Z.shape[1]
    value = xp.linalg.matrix_norm(Z.T @ Z - xp.eye(dim, dtype=Z.dtype, device=device(Z))) ** 2 + beta*xp.linalg.trace(Z.T @ L @ Z)
    if reg != 0:
        if K is None or C is None:
            raise InputError(f"reg = {reg} != 0 needs K= and coef= to evaluate Trace(C.T*K*C).")
        value = value + reg * xp.linalg.trace(C.T @ K @ C)
    return value


def vicreg_centred_target(L, beta, c):
    r"""O2 VICReg-like, centred: target (docs/theory.md §3).

    .. math:: T = H - \frac{\beta}{2 c} L

    Parameters
    ----------
    L : array, shape (N, N)
        Graph Laplacian :math:`L` (symmetric, :math:`L\mathbf 1 = 0`).
    beta : float
        :math:`\beta \ge 0`, weight of the invariance term :math:`\operatorname{tr}(Z^TLZ)`.
    c : float
        :math:`c > 0`, scale of the covariance in :math:`\|c\,Z^THZ - I_d\|_F^2`.

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


def vicreg_centred_minimum(dim, top):
    r"""O2 VICReg-like, centred: optimal loss from the top eigenvalues of its target.

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


def vicreg_centred_scale(c):
    r"""O2 VICReg-like, centred: the factor :math:`s` in :math:`G = s\,YY^T` (optimal :math:`Y = U\Lambda^{1/2}/\sqrt s`).

    .. math:: s = c

    Parameters
    ----------
    c : float
        :math:`c > 0`, scale of the covariance in :math:`\|c\,Z^THZ - I_d\|_F^2`.

    Returns
    -------
    float
    """
    return c


def vicreg_centred_loss(Z, L, beta, c):
    r"""O2 VICReg-like, centred: the loss of any candidate, from its definition (docs/theory.md §3).

    .. math:: \mathcal{L} = \left\|c Z^{T} H Z - I_{d}\right\|_F^{2} + \beta \operatorname{tr}\left(Z^{T} L Z \right)

    Parameters
    ----------
    Z : array, shape (N, d)
        Embeddings :math:`Z` of the training views (rows).
    L : array, shape (N, N)
        Graph Laplacian :math:`L` (symmetric, :math:`L\mathbf 1 = 0`).
    beta : float
        :math:`\beta \ge 0`, weight of the invariance term :math:`\operatorname{tr}(Z^TLZ)`.
    c : float
        :math:`c > 0`, scale of the covariance in :math:`\|c\,Z^THZ - I_d\|_F^2`.

    Returns
    -------
    scalar array
        The loss (for a maximisation, minus the objective).
    """
    xp = namespace(Z, L)
    n = Z.shape[0]
    dim = Z.shape[1]
    return (
        xp.linalg.matrix_norm(c * (Z.T @ (xp.eye(n, dtype=Z.dtype, device=device(Z)) - xp.ones((n, n), dtype=Z.dtype, device=device(Z)) / n) @ Z) - xp.eye(dim, dtype=Z.dtype, device=device(Z))) ** 2
        + beta*xp.linalg.trace(Z.T @ L @ Z)
    )


def laplacian_eigenmaps_matrix(L):
    r"""O3 Laplacian eigenmaps: spectral matrix; its bottom-d eigenvectors solve it (Ky Fan).

    .. math:: S = L

    Parameters
    ----------
    L : array, shape (N, N)
        Graph Laplacian :math:`L` (symmetric, :math:`L\mathbf 1 = 0`).

    Returns
    -------
    array, shape (N, N)
        :math:`S`.
    """
    return L


def laplacian_eigenmaps_apply(X, L):
    r"""O3 Laplacian eigenmaps: the spectral matrix applied to a block of vectors, never formed.

    .. math:: S X = L X

    Parameters
    ----------
    X : array, shape (N, k)
        Block of vectors (columns) to apply the matrix to.
    L : array, shape (N, N)
        Graph Laplacian :math:`L` (symmetric, :math:`L\mathbf 1 = 0`).

    Returns
    -------
    array, shape (N, k)
    """
    return L @ X


def laplacian_eigenmaps_apply_majorant(X, L):
    r"""O3 Laplacian eigenmaps: entrywise majorant of ``laplacian_eigenmaps_apply`` (every term added), for its rounding bound.

    .. math:: \overline{S} X = L X

    Parameters
    ----------
    X : array, shape (N, k)
        Block of vectors (columns) to apply the matrix to.
    L : array, shape (N, N)
        Graph Laplacian :math:`L` (symmetric, :math:`L\mathbf 1 = 0`).

    Returns
    -------
    array, shape (N, k)
        On :math:`|X|` and majorants of the operands, an entrywise bound on the product.
    """
    return L @ X


def laplacian_eigenmaps_loss(Z, L):
    r"""O3 Laplacian eigenmaps: the loss of any candidate, from its definition (docs/theory.md §3).

    .. math:: \mathcal{L} = \operatorname{tr}\left(Z^{T} L Z \right)

    Parameters
    ----------
    Z : array, shape (N, d)
        Embeddings :math:`Z` of the training views (rows).
    L : array, shape (N, N)
        Graph Laplacian :math:`L` (symmetric, :math:`L\mathbf 1 = 0`).

    Returns
    -------
    scalar array
        The loss (for a maximisation, minus the objective).
    """
    xp = namespace(Z, L)
    return xp.linalg.trace(Z.T @ L @ Z)


def whitened_matrix(A, kf):
    r"""O4 whitened map: spectral matrix; its top-d eigenvectors solve it (Ky Fan).

    .. math:: S = R^{T} A R

    Parameters
    ----------
    A : array, shape (N, N)
        Relation matrix :math:`A` (symmetric).
    kf : KernelFactor
        Factorisation of the Gram matrix :math:`K` (applies :math:`K^+`, :math:`P`, a root :math:`R` of :math:`K = RR^T`).

    Returns
    -------
    array, shape (N, N)
        :math:`S`.
    """
    return kf.root_t(kf.root_t(A).T)


def whitened_apply(X, A, kf):
    r"""O4 whitened map: the spectral matrix applied to a block of vectors, never formed.

    .. math:: S X = R^{T} A R X

    Parameters
    ----------
    X : array, shape (N, k)
        Block of vectors (columns) to apply the matrix to.
    A : array, shape (N, N)
        Relation matrix :math:`A` (symmetric).
    kf : KernelFactor
        Factorisation of the Gram matrix :math:`K` (applies :math:`K^+`, :math:`P`, a root :math:`R` of :math:`K = RR^T`).

    Returns
    -------
    array, shape (N, k)
    """
    return kf.root_t(A @ kf.root(X))


def whitened_apply_majorant(X, A, kf):
    r"""O4 whitened map: entrywise majorant of ``whitened_apply`` (every term added), for its rounding bound.

    .. math:: \overline{S} X = R^{T} A R X

    Parameters
    ----------
    X : array, shape (N, k)
        Block of vectors (columns) to apply the matrix to.
    A : array, shape (N, N)
        Relation matrix :math:`A` (symmetric).
    kf : KernelFactor
        Factorisation of the Gram matrix :math:`K` (applies :math:`K^+`, :math:`P`, a root :math:`R` of :math:`K = RR^T`).

    Returns
    -------
    array, shape (N, k)
        On :math:`|X|` and majorants of the operands, an entrywise bound on the product.
    """
    return kf.root_t(A @ kf.root(X))


def whitened_loss(Z, A):
    r"""O4 whitened map: the loss of any candidate, from its definition (docs/theory.md §3).

    .. math:: \mathcal{L} = - \operatorname{tr}\left(Z^{T} A Z \right)

    Parameters
    ----------
    Z : array, shape (N, d)
        Embeddings :math:`Z` of the training views (rows).
    A : array, shape (N, N)
        Relation matrix :math:`A` (symmetric).

    Returns
    -------
    scalar array
        The loss (for a maximisation, minus the objective).
    """
    xp = namespace(Z, A)
    return -xp.linalg.trace(Z.T @ A @ Z)


def whitened_laplacian_matrix(L, kf):
    r"""O4 whitened map, Laplacian twin: spectral matrix; its bottom-d eigenvectors solve it (Ky Fan).

    .. math:: S = R^{T} L R

    Parameters
    ----------
    L : array, shape (N, N)
        Graph Laplacian :math:`L` (symmetric, :math:`L\mathbf 1 = 0`).
    kf : KernelFactor
        Factorisation of the Gram matrix :math:`K` (applies :math:`K^+`, :math:`P`, a root :math:`R` of :math:`K = RR^T`).

    Returns
    -------
    array, shape (N, N)
        :math:`S`.
    """
    return kf.root_t(kf.root_t(L).T)


def whitened_laplacian_apply(X, L, kf):
    r"""O4 whitened map, Laplacian twin: the spectral matrix applied to a block of vectors, never formed.

    .. math:: S X = R^{T} L R X

    Parameters
    ----------
    X : array, shape (N, k)
        Block of vectors (columns) to apply the matrix to.
    L : array, shape (N, N)
        Graph Laplacian :math:`L` (symmetric, :math:`L\mathbf 1 = 0`).
    kf : KernelFactor
        Factorisation of the Gram matrix :math:`K` (applies :math:`K^+`, :math:`P`, a root :math:`R` of :math:`K = RR^T`).

    Returns
    -------
    array, shape (N, k)
    """
    return kf.root_t(L @ kf.root(X))


def whitened_laplacian_apply_majorant(X, L, kf):
    r"""O4 whitened map, Laplacian twin: entrywise majorant of ``whitened_laplacian_apply`` (every term added), for its rounding bound.

    .. math:: \overline{S} X = R^{T} L R X

    Parameters
    ----------
    X : array, shape (N, k)
        Block of vectors (columns) to apply the matrix to.
    L : array, shape (N, N)
        Graph Laplacian :math:`L` (symmetric, :math:`L\mathbf 1 = 0`).
    kf : KernelFactor
        Factorisation of the Gram matrix :math:`K` (applies :math:`K^+`, :math:`P`, a root :math:`R` of :math:`K = RR^T`).

    Returns
    -------
    array, shape (N, k)
        On :math:`|X|` and majorants of the operands, an entrywise bound on the product.
    """
    return kf.root_t(L @ kf.root(X))


def whitened_laplacian_loss(Z, L):
    r"""O4 whitened map, Laplacian twin: the loss of any candidate, from its definition (docs/theory.md §3).

    .. math:: \mathcal{L} = \operatorname{tr}\left(Z^{T} L Z \right)

    Parameters
    ----------
    Z : array, shape (N, d)
        Embeddings :math:`Z` of the training views (rows).
    L : array, shape (N, N)
        Graph Laplacian :math:`L` (symmetric, :math:`L\mathbf 1 = 0`).

    Returns
    -------
    scalar array
        The loss (for a maximisation, minus the objective).
    """
    xp = namespace(Z, L)
    return xp.linalg.trace(Z.T @ L @ Z)


#: One record per declaration of :mod:`kssl_theory.symbolic.objectives`: names, options
#: (name, default, kind, doc), numeric form, spectral rule and the functions above.
DECLARATIONS = (
    {
        'key': 'contrastive',
        'family': 'contrastive',
        'title': 'O1 spectral contrastive',
        'aliases': ('spectral_contrastive', 'O1'),
        'switch': None,
        'options': (('reg', 0.0, 'nonnegative', ':math:`\\lambda \\ge 0`, weight of the penalty :math:`\\operatorname{tr}(C^TKC)`'),),
        'form': 'penalised',
        'rule': 'psd-top',
        'apply_depth': 5,
        'target': contrastive_target,
        'minimum': contrastive_minimum,
        'free': contrastive_free,
        'penalty': contrastive_penalty,
        'apply': contrastive_apply,
        'apply_majorant': contrastive_apply_majorant,
        'loss': contrastive_loss,
        'arguments': {'target': ('A', 'kf', 'reg'), 'minimum': ('A', 'top'), 'free': ('A', 'kf'), 'penalty': ('reg',), 'apply': ('X', 'A', 'kf', 'reg'), 'apply_majorant': ('X', 'A', 'kf', 'reg'), 'loss': ('Z', 'A', 'reg', 'K', 'C')},
    },
    {
        'key': 'vicreg',
        'family': 'vicreg',
        'title': 'O2 VICReg-like (soft)',
        'aliases': ('O2',),
        'switch': None,
        'options': (('beta', 1.0, 'nonnegative', ':math:`\\beta \\ge 0`, weight of the invariance term :math:`\\operatorname{tr}(Z^TLZ)`'), ('reg', 0.0, 'nonnegative', ':math:`\\lambda \\ge 0`, weight of the penalty :math:`\\operatorname{tr}(C^TKC)`')),
        'form': 'penalised',
        'rule': 'psd-top',
        'apply_depth': 6,
        'target': vicreg_target,
        'minimum': vicreg_minimum,
        'free': vicreg_free,
        'penalty': vicreg_penalty,
        'apply': vicreg_apply,
        'apply_majorant': vicreg_apply_majorant,
        'loss': vicreg_loss,
        'arguments': {'target': ('L', 'kf', 'beta', 'reg'), 'minimum': ('dim', 'top'), 'free': ('L', 'kf', 'beta'), 'penalty': ('reg',), 'apply': ('X', 'L', 'kf', 'beta', 'reg'), 'apply_majorant': ('X', 'L', 'kf', 'beta', 'reg'), 'loss': ('Z', 'L', 'beta', 'reg', 'K', 'C')},
    },
    {
        'key': 'vicreg_centred',
        'family': 'vicreg',
        'title': 'O2 VICReg-like, centred',
        'aliases': (),
        'switch': ('centred', False, 'bool', 'use the centred variant :math:`\\|c\\,Z^THZ - I_d\\|_F^2` (no ``reg``)'),
        'options': (('beta', 1.0, 'nonnegative', ':math:`\\beta \\ge 0`, weight of the invariance term :math:`\\operatorname{tr}(Z^TLZ)`'), ('c', 1.0, 'positive', ':math:`c > 0`, scale of the covariance in :math:`\\|c\\,Z^THZ - I_d\\|_F^2`')),
        'form': 'centred',
        'rule': 'psd-top',
        'target': vicreg_centred_target,
        'minimum': vicreg_centred_minimum,
        'scale': vicreg_centred_scale,
        'loss': vicreg_centred_loss,
        'arguments': {'target': ('L', 'beta', 'c'), 'minimum': ('dim', 'top'), 'scale': ('c',), 'loss': ('Z', 'L', 'beta', 'c')},
    },
    {
        'key': 'laplacian_eigenmaps',
        'family': 'laplacian_eigenmaps',
        'title': 'O3 Laplacian eigenmaps',
        'aliases': ('eigenmaps', 'O3'),
        'switch': None,
        'options': (('normalized', False, 'bool', 'use the normalised constraint :math:`Z^TDZ = I_d` (needs every degree positive)'),),
        'form': 'orthonormal',
        'rule': 'bottom',
        'apply_depth': 2,
        'matrix': laplacian_eigenmaps_matrix,
        'apply': laplacian_eigenmaps_apply,
        'apply_majorant': laplacian_eigenmaps_apply_majorant,
        'loss': laplacian_eigenmaps_loss,
        'arguments': {'matrix': ('L',), 'apply': ('X', 'L'), 'apply_majorant': ('X', 'L'), 'loss': ('Z', 'L')},
    },
    {
        'key': 'whitened',
        'family': 'whitened',
        'title': 'O4 whitened map',
        'aliases': ('O4',),
        'switch': None,
        'options': (),
        'form': 'whitened',
        'rule': 'top',
        'apply_depth': 4,
        'matrix': whitened_matrix,
        'apply': whitened_apply,
        'apply_majorant': whitened_apply_majorant,
        'loss': whitened_loss,
        'arguments': {'matrix': ('A', 'kf'), 'apply': ('X', 'A', 'kf'), 'apply_majorant': ('X', 'A', 'kf'), 'loss': ('Z', 'A')},
    },
    {
        'key': 'whitened_laplacian',
        'family': 'whitened',
        'title': 'O4 whitened map, Laplacian twin',
        'aliases': (),
        'switch': ('laplacian', False, 'bool', 'minimise the Laplacian twin :math:`\\operatorname{tr}(C^TKLKC)` instead of maximising :math:`\\operatorname{tr}(C^TKAKC)`'),
        'options': (),
        'form': 'whitened',
        'rule': 'bottom',
        'apply_depth': 4,
        'matrix': whitened_laplacian_matrix,
        'apply': whitened_laplacian_apply,
        'apply_majorant': whitened_laplacian_apply_majorant,
        'loss': whitened_laplacian_loss,
        'arguments': {'matrix': ('L', 'kf'), 'apply': ('X', 'L', 'kf'), 'apply_majorant': ('X', 'L', 'kf'), 'loss': ('Z', 'L')},
    },
)
