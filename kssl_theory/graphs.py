r"""Relation graphs built from augmentation groups (THEORY.md §1).

View ``i`` came from base sample ``groups[i]``; two views are related (a positive pair) when
they share a base sample. This module builds the relation matrix :math:`A`, the degree
:math:`D = \operatorname{diag}(A\mathbf 1)`, the Laplacian :math:`L = D - A`, their symmetric
normalisations, and a :class:`GroupStructure` summary that fast paths use.

With self-loops and ``n`` groups of ``m`` views each (sorted),
:math:`A = I_n \otimes \mathbf 1_m \mathbf 1_m^T` has eigenvalue ``m`` (multiplicity ``n``,
eigenvectors the group indicators) and 0; :math:`L = mI - A` has eigenvalue 0 on group
indicators and ``m`` on within-group zero-sum vectors.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .backend import namespace
from .errors import InputError
from .validation import check_groups, check_matrix

__all__ = [
    "GroupStructure",
    "group_structure",
    "indicators",
    "adjacency",
    "degree",
    "laplacian",
    "normalize_adjacency",
]


@dataclass(frozen=True)
class GroupStructure:
    """Summary of a grouping of ``N`` views into ``n`` base samples.

    Attributes
    ----------
    labels : numpy.ndarray
        Group labels relabelled to ``0..n-1`` in order of first appearance, shape ``(N,)``.
    sizes : numpy.ndarray
        Number of views per group, shape ``(n,)``.
    n_views, n_groups : int
        ``N`` and ``n``.
    is_balanced : bool
        All groups have the same size ``m``.
    """

    labels: np.ndarray
    sizes: np.ndarray
    n_views: int
    n_groups: int
    is_balanced: bool

    @property
    def group_size(self) -> int | None:
        """The common size ``m`` when balanced, else ``None``."""
        return int(self.sizes[0]) if self.is_balanced else None


def group_structure(groups) -> GroupStructure:
    """Describe the grouping: relabelled labels, sizes, balance.

    An adjacency built from groups is always a union of cliques (one per group); the summary
    lets solvers use the analytic spectrum of such graphs.
    """
    g = check_groups(groups)
    _, first, inverse = np.unique(g, return_index=True, return_inverse=True)
    order = np.argsort(first)
    rank = np.empty_like(order)
    rank[order] = np.arange(order.size)
    labels = rank[inverse]
    sizes = np.bincount(labels)
    return GroupStructure(labels, sizes, int(g.size), int(sizes.size), bool(np.all(sizes == sizes[0])))


def _like(like, dtype):
    if like is None:
        import array_api_compat.numpy as xp

        return xp, xp.float64 if dtype is None else dtype
    xp = namespace(like)
    return xp, (like.dtype if dtype is None else dtype)


def indicators(groups, *, like=None, dtype=None):
    """Group indicator matrix ``E`` of shape ``(N, n)``: ``E[i, g] = 1`` iff view ``i`` is in group ``g``.

    ``like`` (an array) selects the output namespace, device and dtype; NumPy float64 otherwise.
    """
    s = group_structure(groups)
    xp, dt = _like(like, dtype)
    E = np.zeros((s.n_views, s.n_groups))
    E[np.arange(s.n_views), s.labels] = 1.0
    return _to(xp, E, dt, like)


def _to(xp, arr: np.ndarray, dtype, like):
    device = None
    if like is not None:
        from array_api_compat import device as _device

        device = _device(like)
    out = xp.asarray(arr, dtype=dtype, device=device) if device is not None else xp.asarray(arr, dtype=dtype)
    return out


def adjacency(groups, *, self_loops: bool = True, weights=None, normalized: bool = False, like=None, dtype=None):
    r"""Relation matrix :math:`A_{ij} = w_{ij}\,[g_i = g_j]` of the augmentation graph.

    Parameters
    ----------
    groups : array_like of int, shape (N,)
        Base-sample label of each view.
    self_loops : bool, default True
        Keep :math:`A_{ii}` (1, or :math:`w_{ii}`); ``False`` sets the diagonal to 0.
    weights : array, shape (N, N), optional
        Non-negative symmetric edge weights multiplied elementwise into the group mask.
    normalized : bool, default False
        Return :math:`D^{-1/2} A D^{-1/2}` instead (isolated views keep a zero row).
    like : array, optional
        Output namespace, device and dtype (``weights``' namespace if given, else NumPy float64).

    Returns
    -------
    A : array, shape (N, N)
        Symmetric relation matrix (THEORY.md §1).
    """
    s = group_structure(groups)
    mask = (s.labels[:, None] == s.labels[None, :]).astype(np.float64)
    if not self_loops:
        np.fill_diagonal(mask, 0.0)
    if weights is not None:
        W = check_matrix("weights", weights, symmetric=True, rows=s.n_views)
        xp = namespace(W)
        if bool(xp.any(W < 0)):
            raise InputError("weights must be non-negative; got negative entries.")
        A = W * _to(xp, mask, W.dtype, W)
    else:
        xp, dt = _like(like, dtype)
        A = _to(xp, mask, dt, like)
    return normalize_adjacency(A) if normalized else A


def degree(A):
    r"""Degree vector :math:`D\mathbf 1 = A\mathbf 1` of a relation matrix (``D = diag(degree(A))``)."""
    A = check_matrix("A", A)
    xp = namespace(A)
    return xp.sum(A, axis=1)


def normalize_adjacency(A):
    r"""Symmetric normalisation :math:`D^{-1/2} A D^{-1/2}`; rows of zero degree stay zero."""
    A = check_matrix("A", A, symmetric=True)
    xp = namespace(A)
    deg = xp.sum(A, axis=1)
    if bool(xp.any(deg < 0)):
        raise InputError("A has rows with negative degree; a relation matrix must have non-negative row sums.")
    inv_sqrt = xp.where(deg > 0, 1 / xp.sqrt(xp.where(deg > 0, deg, xp.ones_like(deg))), xp.zeros_like(deg))
    return inv_sqrt[:, None] * A * inv_sqrt[None, :]


def laplacian(A, *, normalized: bool = False):
    r"""Graph Laplacian of a relation matrix.

    Unnormalised: :math:`L = D - A` (so :math:`L\mathbf 1 = 0`, :math:`L \succeq 0` for
    non-negative :math:`A`). Normalised: :math:`I - D^{-1/2} A D^{-1/2}` (isolated views get
    :math:`L_{ii} = 1`, the usual convention). Self-loops cancel in :math:`D - A`.
    """
    A = check_matrix("A", A, symmetric=True)
    xp = namespace(A)
    n = A.shape[0]
    eye = xp.eye(n, dtype=A.dtype)
    if normalized:
        return eye - normalize_adjacency(A)
    return eye * xp.sum(A, axis=1)[None, :] - A
