r"""Relation graphs built from augmentation groups (docs/theory.md §1).

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

import os
from dataclasses import dataclass
from typing import Any, cast

import numpy as np
from array_api_compat import is_cupy_namespace, is_numpy_namespace

from .backend import device, namespace
from .errors import InputError
from .protocols import Array
from .validation import check_bool, check_groups, check_matrix

__all__ = [
    "GroupStructure",
    "group_structure",
    "indicators",
    "group_sums",
    "adjacency",
    "degree",
    "laplacian",
    "normalize_adjacency",
    "RelationGraph",
    "CliqueOperator",
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

    def sorted_views(self) -> tuple[np.ndarray, np.ndarray]:
        """``(order, starts)``: the views sorted by group (stable: index order within a group) and the first
        sorted position of each group, so group ``g`` is ``order[starts[g] : starts[g] + m_g]``."""
        return np.argsort(self.labels, kind="stable"), np.concatenate([[0], np.cumsum(self.sizes)[:-1]])

    def member_ranks(self) -> np.ndarray:
        """Position of each view among the members of its group, in index order (``0..m_g - 1``), shape ``(N,)``."""
        order, starts = self.sorted_views()
        ranks = np.empty(self.n_views, dtype=np.int64)
        ranks[order] = np.arange(self.n_views) - starts[self.labels[order]]
        return ranks


def group_structure(groups: Array) -> GroupStructure:
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


def _like(like: Array | None, dtype: Any) -> tuple[Any, Any]:
    xp: Any
    if like is None:
        import array_api_compat.numpy as xp

        return xp, xp.float64 if dtype is None else dtype
    xp = namespace(like)
    return xp, (like.dtype if dtype is None else dtype)


def indicators(groups: Array, *, like: Array | None = None, dtype: Any = None) -> Array:
    """Group indicator matrix ``E`` of shape ``(N, n)``: ``E[i, g] = 1`` iff view ``i`` is in group ``g``.

    ``like`` (an array) selects the output namespace, device and dtype; NumPy float64 otherwise. It is
    built where it lives: only the labels (one vector) are copied to ``like``'s device.
    """
    s = group_structure(groups)
    xp, dt = _like(like, dtype)
    labels = _to(xp, s.labels, None, like)
    ids = xp.arange(s.n_groups, device=device(labels))
    return xp.astype(labels[:, None] == ids[None, :], dt)


def group_sums(structure: GroupStructure, X: Array) -> Array:
    r""":math:`E^TX`, the sum of ``X``'s rows over each group, shape ``(n, k)``, on ``X``'s device.

    NumPy and CuPy multiply by the sparse ``n x N`` indicator (SciPy's CSR product; cuSPARSE on the device,
    deterministic), which reads ``X`` in place when it is C-ordered (at N = 3,000 for :math:`E^TKE`: 0.019 s
    against 0.106 s with ``reduceat`` on rows copied in group order); NumPy dtypes SciPy's sparse products do
    not take (float16, bool) sum sorted rows with ``reduceat``. Other libraries multiply by dense blocks of
    the indicator built on their device (exact, :math:`O(Nnk)` work). Only the labels (one vector) are copied.
    """
    xp = namespace(X)
    n, n_groups = structure.n_views, structure.n_groups
    if is_numpy_namespace(xp):
        if X.dtype in (np.float32, np.float64, np.int32, np.int64):
            import scipy.sparse as sp

            Et = sp.csr_array((np.ones(n, dtype=X.dtype), (structure.labels, np.arange(n))), shape=(n_groups, n))
            return np.asarray(Et @ X)
        order, starts = structure.sorted_views()
        return np.add.reduceat(X[order], starts, axis=0)
    labels = xp.asarray(structure.labels, device=device(X))
    if is_cupy_namespace(xp):
        import cupyx.scipy.sparse as csp

        ones = xp.ones(n, dtype=X.dtype, device=device(X))
        Et = csp.csr_matrix((ones, (labels, xp.arange(n, device=device(X)))), shape=(n_groups, n))
        return Et @ X
    block = max(1, 2**22 // n)  # indicator blocks of at most ~4M entries
    parts = []
    for start in range(0, n_groups, block):
        ids = xp.arange(start, min(start + block, n_groups), device=device(X))
        parts.append(xp.astype(labels[:, None] == ids[None, :], X.dtype).T @ X)
    return xp.concat(parts, axis=0)


def _to(xp: Any, arr: np.ndarray, dtype: Any, like: Array | None) -> Array:
    if like is None:
        return xp.asarray(arr, dtype=dtype)
    return xp.asarray(arr, dtype=dtype, device=device(like))


def _group_mask(s: GroupStructure, self_loops: bool, xp: Any, dtype: Any, like: Array | None) -> Array:
    """:math:`[g_i = g_j]` (diagonal 0 without self-loops) in ``xp`` on ``like``'s device, built there from the
    labels (the only copy: one vector)."""
    labels = _to(xp, s.labels, None, like)
    same = labels[:, None] == labels[None, :]
    if not self_loops:
        idx = xp.arange(s.n_views, device=device(labels))
        same = same & (idx[:, None] != idx[None, :])
    return xp.astype(same, dtype)


def adjacency(
    groups: Array,
    *,
    self_loops: bool = True,
    weights: Array | None = None,
    normalized: bool = False,
    like: Array | None = None,
    dtype: Any = None,
    sparse: bool = False,
) -> Any:
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
    sparse : bool, default False
        Return a ``scipy.sparse.csr_array`` with :math:`\sum_g m_g^2` stored entries (group sizes
        :math:`m_g`) instead of a dense :math:`N \times N` array; every solver path accepts it.

    Returns
    -------
    A : array or scipy.sparse.csr_array, shape (N, N)
        Symmetric relation matrix (docs/theory.md §1).

    Raises
    ------
    InputError
        If the dense matrix would not fit in this machine's memory (use ``sparse=True`` or
        :meth:`RelationGraph.from_groups`), or on bad ``weights``.
    """
    s = group_structure(groups)
    if check_bool("sparse", sparse):
        if weights is not None or like is not None:
            raise InputError("sparse=True builds a scipy.sparse matrix on the host; it takes no weights= or like=.")
        A = _sparse_cliques(s, 1.0 if check_bool("self_loops", self_loops) else 0.0, dtype or np.float64)
        return _normalize_sparse(A) if check_bool("normalized", normalized) else A
    _check_dense_fits(s.n_views)
    loops = check_bool("self_loops", self_loops)
    if weights is not None:
        W = check_matrix("weights", weights, symmetric=True, rows=s.n_views)
        xp = namespace(W)
        if bool(xp.any(W < 0)):
            raise InputError("weights must be non-negative; got negative entries.")
        A = W * _group_mask(s, loops, xp, W.dtype, W)
    else:
        xp, dt = _like(like, dtype)
        A = _group_mask(s, loops, xp, dt, like)
    return normalize_adjacency(A) if check_bool("normalized", normalized) else A


def _physical_memory() -> int | None:
    try:
        return int(os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE"))
    except (ValueError, OSError, AttributeError):  # not a POSIX system
        return None


def _check_dense_fits(n: int, copies: int = 2) -> None:
    """Refuse, before allocating, ``copies`` dense float64 ``n x n`` arrays larger than the machine's memory
    (``adjacency`` holds the mask and the output: 2; densifying a sparse graph: 1)."""
    need = copies * 8 * n * n
    total = _physical_memory()
    if total is not None and need > total:
        raise InputError(
            f"a dense {n} x {n} relation matrix needs about {need / 2**30:.1f} GiB, more than this machine's "
            f"{total / 2**30:.1f} GiB; pass sparse=True (a scipy.sparse matrix with one entry per related pair) "
            "or use kt.graphs.RelationGraph.from_groups(groups), which never forms it."
        )


def _sparse_cliques(s: GroupStructure, self_loop: float, dtype: Any) -> Any:
    r"""The clique graph :math:`\sum_g \mathbf 1_g\mathbf 1_g^T + (s - 1)I` as a CSR array, built entry by entry.

    Row :math:`i` holds the members of its group: with the views sorted by group (``perm``) and
    ``starts[g]`` the first sorted position of group ``g``, its entries are
    ``perm[starts[g] : starts[g] + m_g]``; :math:`\sum_g m_g^2` entries in all, no product formed.
    """
    import scipy.sparse as sp

    n = s.n_views
    perm, starts = s.sorted_views()
    per_row = s.sizes[s.labels]
    rows = np.repeat(np.arange(n), per_row)
    offset = np.arange(rows.size) - np.repeat(np.cumsum(per_row) - per_row, per_row)
    cols = perm[starts[s.labels[rows]] + offset]
    if self_loop != 1.0:
        keep = rows != cols
        rows, cols = rows[keep], cols[keep]
    A = sp.csr_array((np.ones(rows.size, dtype=dtype), (rows, cols)), shape=(n, n))
    A.sort_indices()
    return A


def _normalize_sparse(A: Any) -> Any:
    import scipy.sparse as sp

    deg = np.asarray(A.sum(axis=1)).ravel()
    if np.any(deg < 0):
        raise InputError("A has rows with negative degree; a relation matrix must have non-negative row sums.")
    inv_sqrt = np.where(deg > 0, 1 / np.sqrt(np.where(deg > 0, deg, 1.0)), 0.0)
    D = sp.diags_array(inv_sqrt)
    return (D @ A @ D).tocsr()


def is_sparse(A: object) -> bool:
    """Whether ``A`` is a ``scipy.sparse`` matrix or array (SciPy is imported only for objects from its modules;
    a ``scipy.sparse.linalg.LinearOperator`` is not a matrix)."""
    if not type(A).__module__.startswith("scipy.sparse"):
        return False
    import scipy.sparse as sp

    return bool(sp.issparse(A))


def check_sparse_relation(name: str, A: Any, *, rows: int | None = None) -> Any:
    r"""Validate a ``scipy.sparse`` relation matrix: square, real, finite stored entries, symmetric.

    The same conditions and tolerances as :func:`kssl_theory.validation.check_matrix` (symmetry:
    :math:`\max|A - A^T| \le \text{rtol}\max|A|`, rtol 1e-8 in float64, 1e-4 in float32), in
    :math:`O(\text{nnz})` time. Returns a CSR array of a float dtype.
    """
    import scipy.sparse as sp

    A = sp.csr_array(A, copy=True)  # a copy: the caller's matrix is never reordered or pruned
    A.sum_duplicates()
    A.eliminate_zeros()  # stored zeros are not edges (they would break the clique detection)
    if A.shape[0] == 0 or A.shape[1] == 0:
        raise InputError(f"{name} is empty (shape {tuple(A.shape)}).")
    if A.shape[0] != A.shape[1]:
        raise InputError(f"{name} must be square; got shape {tuple(A.shape)}.")
    if rows is not None and A.shape[0] != rows:
        raise InputError(f"{name} must have {rows} rows to match the other inputs; got shape {tuple(A.shape)}.")
    if A.dtype.kind == "c":
        raise InputError(f"{name} must be real; got complex dtype {A.dtype}.")
    if A.dtype.kind in "biu":
        A = A.astype(np.float64)
    elif A.dtype not in (np.float32, np.float64):
        raise InputError(f"{name} must be a real numeric sparse matrix; got dtype {A.dtype}.")
    if not np.all(np.isfinite(A.data)):
        raise InputError(f"{name} contains NaN or infinite entries; pass a finite matrix.")
    rtol = 1e-8 if A.dtype == np.float64 else 1e-4
    scale = float(abs(A).max()) if A.nnz else 0.0
    diff = abs(A - A.T)
    asym = float(diff.max()) if diff.nnz else 0.0
    if asym > rtol * max(scale, np.finfo(np.float64).tiny):
        raise InputError(
            f"{name} is not symmetric: max|M - M^T| = {asym:.3g} exceeds {rtol:g} x max|M| = {rtol * scale:.3g}; "
            "pass a symmetric matrix (e.g. (M + M.T) / 2, or M.maximum(M.T) for a kNN graph)."
        )
    A.sort_indices()
    return A


def degree(A: Array) -> Array:
    r"""Degree vector :math:`D\mathbf 1 = A\mathbf 1` of a relation matrix (``D = diag(degree(A))``)."""
    A = check_matrix("A", A)
    xp = namespace(A)
    return xp.sum(A, axis=1)


def normalize_adjacency(A: Array) -> Array:
    r"""Symmetric normalisation :math:`D^{-1/2} A D^{-1/2}`; rows of zero degree stay zero."""
    A = check_matrix("A", A, symmetric=True)
    xp = namespace(A)
    deg = xp.sum(A, axis=1)
    if bool(xp.any(deg < 0)):
        raise InputError("A has rows with negative degree; a relation matrix must have non-negative row sums.")
    inv_sqrt = xp.where(deg > 0, 1 / xp.sqrt(xp.where(deg > 0, deg, xp.ones_like(deg))), xp.zeros_like(deg))
    return inv_sqrt[:, None] * A * inv_sqrt[None, :]


def laplacian(A: Array, *, normalized: bool = False) -> Array:
    r"""Graph Laplacian of a relation matrix.

    Unnormalised: :math:`L = D - A` (so :math:`L\mathbf 1 = 0`, :math:`L \succeq 0` for
    non-negative :math:`A`). Normalised: :math:`I - D^{-1/2} A D^{-1/2}` (isolated views get
    :math:`L_{ii} = 1`, the usual convention). Self-loops cancel in :math:`D - A`.
    """
    A = check_matrix("A", A, symmetric=True)
    xp = namespace(A)
    n = A.shape[0]
    eye = xp.eye(n, dtype=A.dtype, device=device(A))
    if check_bool("normalized", normalized):
        return eye - normalize_adjacency(A)
    return eye * xp.sum(A, axis=1)[None, :] - A


#: A dense NumPy relation matrix with at most this fraction of nonzero entries is applied through a CSR copy
#: (:meth:`RelationGraph.operator`): a product then costs O(nnz) instead of O(N^2). Measured at N = 3,000 with
#: 0.2 % nonzeros (clique + 3-NN graph): 67x faster per vector, 37x per block of 33.
SPARSE_OPERATOR_DENSITY = 1 / 16


class RelationGraph:
    r"""A relation graph with its degree and Laplacian computed once and its clique structure.

    Build it from a dense or ``scipy.sparse`` relation matrix (``RelationGraph(A)``: a sparse one
    is kept sparse and densified only when a dense solver path needs it; pass ``laplacian=`` for a
    projected graph :math:`(Q^TAQ, Q^TLQ)` whose Laplacian is not :math:`D - A`) or lazily from group labels
    (``RelationGraph.from_groups(groups, like=K)``): then the dense :math:`A` is only
    materialised when a dense solver path needs it, which keeps the clique fast path of
    :func:`kssl_theory.solve` at :math:`O(N)` memory beyond :math:`K`.

    Parameters
    ----------
    A : array or scipy.sparse matrix, optional
        The relation matrix (validated here: finite, real, square, symmetric; a dense exact clique pattern is
        recognised first and needs no further pass).
    groups : array, optional
        Group labels instead of ``A`` (with ``self_loops``, ``like`` and ``dtype`` as in
        :func:`adjacency`).
    laplacian : array, optional
        The Laplacian of a projected graph (dense ``A`` only).
    rows : int, optional
        The number of views ``A`` must have (an ``InputError`` names the mismatch).

    Attributes
    ----------
    n : int
        Number of views ``N``.
    """

    def __init__(
        self,
        A: Any = None,
        *,
        groups: Array | None = None,
        self_loops: bool = True,
        like: Array | None = None,
        dtype: Any = None,
        laplacian: Array | None = None,
        rows: int | None = None,
    ) -> None:
        if (A is None) == (groups is None):
            raise InputError("RelationGraph needs exactly one of A (a relation matrix) or groups.")
        self._A: Array | None = None
        self._sparse: Any = None
        self._cliques: tuple[GroupStructure, float] | None = None
        self._given_laplacian = False
        if A is not None and is_sparse(A):
            if laplacian is not None:
                raise InputError("a sparse relation matrix takes no laplacian=; it is D - A.")
            self._sparse = check_sparse_relation("A", A, rows=rows)
            self.n: int = self._sparse.shape[0]
            self._cliques_known: bool = False
        elif A is not None and laplacian is None:
            # A union of cliques is recognised first: an exact 0/1 clique pattern is symmetric and finite, so a
            # matrix that passes needs no symmetry pass of its own (one O(N^2) pass instead of two); any other
            # matrix, NaN and infinities included, fails the recognition and gets the full check.
            dense = check_matrix("A", A, rows=rows, entries=False)
            self._cliques = _detect_cliques(dense)
            self._A = dense if self._cliques is not None else check_matrix("A", dense, symmetric=True)
            self.n = self._A.shape[0]
            self._cliques_known = True
        elif A is not None:
            self._A = check_matrix("A", A, symmetric=True, rows=rows)
            self.n = self._A.shape[0]
            # A graph given with its own Laplacian is a projection Q^T A Q of a larger graph:
            # its A and L are no longer related by L = D - A, and it is never a union of cliques.
            self._cliques_known = self._given_laplacian = True
            self._laplacian: Array = check_matrix("laplacian", laplacian, symmetric=True, rows=self.n)
        else:
            s = group_structure(groups)
            self.n = s.n_views
            self._cliques = (s, 1.0 if check_bool("self_loops", self_loops) else 0.0)
            self._cliques_known = True
            self._groups, self._self_loops, self._like, self._dtype = groups, self_loops, like, dtype

    @classmethod
    def from_groups(
        cls, groups: Array, *, self_loops: bool = True, like: Array | None = None, dtype: Any = None
    ) -> RelationGraph:
        """Relation graph of a grouping of views (a union of cliques), dense A built on demand."""
        return cls(groups=groups, self_loops=self_loops, like=like, dtype=dtype)

    @property
    def A(self) -> Array:
        """The dense relation matrix :math:`A` (built on first use from groups or a sparse matrix)."""
        if self._A is None:
            if self._sparse is not None:
                _check_dense_fits(self.n, copies=1)
                self._A = self._sparse.toarray()
            else:
                self._A = adjacency(self._groups, self_loops=self._self_loops, like=self._like, dtype=self._dtype)
        return self._A

    @property
    def sparse(self) -> Any:
        """The ``scipy.sparse`` CSR relation matrix when the graph was given sparse, else ``None``."""
        return self._sparse

    def on_device_of(self, like: Array) -> RelationGraph:
        """This graph for computations in ``like``'s array library: a ``scipy.sparse`` graph with CuPy becomes a
        dense :math:`A` built on ``like``'s device from the CSR arrays (copied there, ``O(nnz)``: the matrix is
        never densified on the host), in ``like``'s dtype; NumPy keeps it sparse (``like``'s dtype); any other
        graph is returned as it is. Other libraries have no sparse format to build it with: InputError."""
        xp = namespace(like)
        if self._sparse is None:
            return self
        if is_numpy_namespace(xp):
            return self.astype(like.dtype)
        if not is_cupy_namespace(xp):
            raise InputError(
                "a scipy.sparse relation matrix needs NumPy or CuPy K (it is densified on a CuPy device from its "
                "CSR arrays); pass a dense A in K's array library instead."
            )
        import cupyx.scipy.sparse as csp

        S, dev = self._sparse, device(like)
        csr = csp.csr_matrix(
            (
                xp.asarray(S.data, dtype=like.dtype, device=dev),
                xp.asarray(S.indices, device=dev),
                xp.asarray(S.indptr, device=dev),
            ),
            shape=S.shape,
        )
        return RelationGraph(csr.toarray())

    def astype(self, dtype: Any) -> RelationGraph:
        """This graph with a sparse matrix converted to ``dtype`` (NumPy); others are returned as they are."""
        if self._sparse is None or self._sparse.dtype == dtype:
            return self
        return RelationGraph(self._sparse.astype(dtype))

    @property
    def stored_A(self) -> Array | None:
        """The dense :math:`A` if it is in memory (given, or already built), else ``None``; builds nothing."""
        return self._A

    @property
    def degree(self) -> Array:
        r"""Degrees :math:`A\mathbf 1`."""
        if "_degree" not in self.__dict__:
            if self._sparse is not None and self._A is None:
                self._degree: Array = np.asarray(self._sparse.sum(axis=1)).ravel()
            else:
                self._degree = degree(self.A)
        return self._degree

    @property
    def laplacian(self) -> Array:
        """Unnormalised Laplacian :math:`L = D - A`."""
        if "_laplacian" not in self.__dict__:
            self._laplacian = laplacian(self.A)
        return self._laplacian

    def operator(self, *, laplacian: bool = False, majorant: bool = False) -> Any:
        r""":math:`A` (or :math:`L = D - A`) as an object that multiplies a block of vectors, ``op @ X``.

        Nothing ``N x N`` is formed unless it is already in memory: a union of cliques is applied
        through its ``N x n`` group indicator (:class:`CliqueOperator`, :math:`O(Nk)` per block of
        ``k`` vectors) — built from groups, or a dense NumPy :math:`A` whose clique structure
        :attr:`cliques` has already detected —, a sparse matrix stays sparse (:math:`L` as a
        sparse matrix), a dense NumPy :math:`A` with at most :data:`SPARSE_OPERATOR_DENSITY`
        nonzero entries is applied through a CSR copy (made once; not with a given Laplacian),
        and any other dense :math:`A` is used as it is (with its dense Laplacian). Every form
        holds the same entries, so products differ only in the order of their sums.

        Parameters
        ----------
        laplacian : bool
            :math:`L` instead of :math:`A`.
        majorant : bool
            An entrywise majorant instead: :math:`|A|`, :math:`|L|` (for rounding-error bounds of
            products with the operator).
        """
        known_cliques = self._cliques_known and self._cliques is not None
        S = self._sparse
        if S is None and self._A is not None and not (known_cliques and isinstance(self._A, np.ndarray)):
            S = None if laplacian and self._given_laplacian else self._sparse_copy()
            if S is None:
                M = self.laplacian if laplacian else self.A
                return namespace(M).abs(M) if majorant else M
        if S is not None and not known_cliques:
            import scipy.sparse as sp

            M = sp.diags(np.asarray(S.sum(axis=1)).ravel()).tocsr() - S if laplacian else S
            return abs(M) if majorant else M
        structure, loops = cast("tuple[GroupStructure, float]", self._cliques)
        sizes = structure.sizes[structure.labels].astype(float)
        if laplacian:  # L = D - A: diagonal m_g - 1, -1 between distinct views of a group
            return CliqueOperator(structure, sizes - 1, 1.0 if majorant else -1.0)
        return CliqueOperator(structure, np.full(structure.n_views, loops), 1.0)

    def _sparse_copy(self) -> Any:
        """A CSR copy of a dense NumPy :math:`A` with few nonzeros (decided once, in O(N^2)), else ``None``."""
        if "_csr" not in self.__dict__:
            A = self._A
            self._csr: Any = None
            if isinstance(A, np.ndarray) and np.count_nonzero(A) <= SPARSE_OPERATOR_DENSITY * A.size:
                import scipy.sparse as sp

                self._csr = sp.csr_matrix(A)
        return self._csr

    def norm_bound(self, *, laplacian: bool) -> float:
        r"""An upper bound of :math:`\|A\|_2` (or :math:`\|L\|_2`): the largest row sum of :math:`|A|` (:math:`|L|`).

        A symmetric matrix's 2-norm is at most its largest absolute row sum. Computed through
        :meth:`operator`, so nothing ``N x N`` is formed for a sparse or clique graph.
        """
        M = self.operator(laplacian=laplacian, majorant=True)
        if isinstance(M, CliqueOperator) or is_sparse(M):
            return float(np.max(M @ np.ones((self.n, 1))))
        xp = namespace(M)
        return float(xp.max(xp.sum(M, axis=1)))

    @property
    def frobenius_squared(self) -> float:
        r""":math:`\|A\|_F^2` without forming a dense :math:`A`: from a sparse matrix's stored values, or for a
        union of cliques :math:`\sum_g m_g(m_g - 1) + Ns^2` (the ones between distinct views, then the diagonal)."""
        if self._A is not None:
            return float(namespace(self._A).sum(self._A * self._A))
        if self._sparse is not None:
            return float(np.sum(self._sparse.data**2))
        structure, s = cast("tuple[GroupStructure, float]", self._cliques)
        sizes = structure.sizes.astype(float)
        return float(np.sum(sizes * (sizes - 1)) + structure.n_views * s * s)

    @property
    def n_components(self) -> int:
        """Number of connected components (views linked by a nonzero weight), computed once in O(nnz).

        It is the multiplicity of the eigenvalue 0 of :math:`L` (non-negative weights).
        """
        if "_n_components" not in self.__dict__:
            if self._A is None and self._sparse is None:
                structure, _ = cast("tuple[GroupStructure, float]", self._cliques)
                self._n_components: int = structure.n_groups
            else:
                import scipy.sparse as sp
                from scipy.sparse.csgraph import connected_components

                M = self._sparse if self._sparse is not None else sp.csr_matrix(np.asarray(self._A) != 0)
                self._n_components = int(connected_components(M, directed=False)[0])
        return self._n_components

    @property
    def cliques(self) -> tuple[GroupStructure, float] | None:
        r"""``(GroupStructure, s)`` when :math:`A = \sum_g \mathbf 1_g\mathbf 1_g^T + (s-1)I` with
        self-loop value ``s`` in {0, 1} (a union of cliques), else ``None``.

        A dense ``A`` is recognised when the graph is built (:math:`O(N^2)` on the array's device, in place
        of the symmetry pass a matrix that matches does not need); a sparse one on first use, in :math:`O(nnz)`.
        """
        if not self._cliques_known:
            self._cliques = _detect_cliques(self._A) if self._sparse is None else _detect_sparse_cliques(self._sparse)
            self._cliques_known = True
        return self._cliques


class CliqueOperator:
    r"""A matrix of a union of cliques, applied without forming it: :math:`M = \mathrm{diag}(a) + \sigma(EE^T - I)`.

    :math:`E` is the ``N x n`` group indicator (sparse), so :math:`MX = a\circ X + \sigma(E(E^TX) - X)`
    costs :math:`O(Nk)` for ``k`` columns: :math:`A` is ``a = s`` (the self-loop value),
    ``sigma = 1``; :math:`L = D - A` is ``a = m_g - 1``, ``sigma = -1`` (docs/theory.md §1).

    Parameters
    ----------
    structure : GroupStructure
    diagonal : numpy.ndarray, shape (N,)
        :math:`a`.
    off_diagonal : float
        :math:`\sigma`, the entry between two distinct views of a group.
    """

    def __init__(self, structure: GroupStructure, diagonal: np.ndarray, off_diagonal: float) -> None:
        import scipy.sparse as sp

        n = structure.n_views
        self.shape = (n, n)
        self._E = sp.csr_array((np.ones(n), (np.arange(n), structure.labels)), shape=(n, structure.n_groups))
        self._diagonal, self._sigma = diagonal, off_diagonal

    def __matmul__(self, X: Array) -> Array:
        X2 = X[:, None] if X.ndim == 1 else X
        out = self._diagonal[:, None] * X2 + self._sigma * (self._E @ (self._E.T @ X2) - X2)
        out = out.astype(X.dtype, copy=False)
        return out[:, 0] if X.ndim == 1 else out


def _detect_cliques(A: Array) -> tuple[GroupStructure, float] | None:
    """``(structure, s)`` when ``A + (1 - s) I`` is the 0/1 matrix "same group" (a union of cliques), else ``None``.

    Row block by row block (temporaries of :func:`~kssl_theory.validation.block_elements` entries):
    a row's label is its first nonzero column (the diagonal counted as one), and every row must
    equal the indicator of the columns that share its label. NumPy stops at the first block that
    fails; elsewhere the blocks' verdicts stay on the device and are read once.
    """
    from .backend import to_numpy
    from .validation import block_elements

    xp = namespace(A)
    n = A.shape[0]
    diag = xp.linalg.diagonal(A)
    s = float(diag[0])
    if s not in (0.0, 1.0) or not bool(xp.all(diag == s)):
        return None
    step = max(1, block_elements(xp) // n)
    cols = xp.arange(n, device=device(A))
    blocks = [(i, min(i + step, n)) for i in range(0, n, step)]

    def eye(i: int, j: int) -> Array:
        return cols[i:j, None] == cols[None, :]

    labels = xp.concat([xp.argmax(xp.astype((A[i:j, :] != 0) | eye(i, j), xp.int8), axis=1) for i, j in blocks])
    verdicts = []
    for i, j in blocks:
        same = xp.astype(labels[i:j, None] == labels[None, :], A.dtype)
        verdicts.append(xp.all(A[i:j, :] == same - (1 - s) * xp.astype(eye(i, j), A.dtype)))
        if is_numpy_namespace(xp) and not bool(verdicts[-1]):
            return None
    if not bool(xp.all(xp.stack(verdicts))):
        return None
    return group_structure(to_numpy(labels)), s


def _detect_sparse_cliques(S: Any) -> tuple[GroupStructure, float] | None:
    """:func:`_detect_cliques` for a CSR matrix, in O(nnz)."""
    diag = S.diagonal()
    s = float(diag[0])
    if s not in (0.0, 1.0) or not np.all(diag == s):
        return None
    import scipy.sparse as sp

    n = S.shape[0]
    B = (S + (1 - s) * sp.eye_array(n, format="csr")).tocsr() if s != 1.0 else S
    B.sort_indices()
    counts = np.diff(B.indptr)
    if np.any(counts == 0):
        return None
    labels = B.indices[B.indptr[:-1]]  # smallest related index of each row: the same within a clique
    structure = group_structure(labels)
    if (B != _sparse_cliques(structure, 1.0, B.dtype)).nnz:
        return None
    return structure, s
