r"""Nyström end to end over row blocks: millions of views without an ``N x m`` matrix in memory.

:func:`~kssl_theory.kernel_regime.nystrom.solve_nystrom` holds the features
:math:`F = K_{Nm}K_{mm}^{-1/2}` (``N x m``) and their QR factorisation. The reduced problem needs
only ``m x m`` sums over the rows of :math:`F`:

.. math:: G = F^TF,\qquad M_A = F^TAF,\qquad M_D = F^TDF\quad(M_L = M_D - M_A).

For a union of cliques :math:`A = EE^T + (s-1)I` (docs/theory.md §1, ``E`` the group indicator), so
:math:`M_A = \sum_g \sigma_g\sigma_g^T + (s-1)G` with :math:`\sigma_g = \sum_{i\in g}F_{i,:}`: a
block of rows that holds whole groups contributes its own terms, and the blocks can be summed in
any order, by a loop here or by Dask (``scheduler=``). With :math:`G = V\Lambda V^T` and
:math:`T = V_r\Lambda_r^{-1/2}` (``r`` the numerical rank of :math:`G`), :math:`Q = FT` is an
orthonormal basis of range(F), and in it

.. math:: K_m = Q^TFF^TQ = \Lambda_r,\qquad A_m = T^TM_AT,\qquad L_m = T^TM_LT,

the reduced problem of :func:`~kssl_theory.kernel_regime.nystrom.solve_nystrom` up to a rotation of
the basis, which the engine solves (docs/theory.md §3). A point is embedded by
:math:`f(x) = C_m^T(Q^TF)\tilde\varphi(x)` with :math:`Q^TF = \Lambda_r^{1/2}V_r^T`.

Accuracy: forming :math:`G` squares the condition number of :math:`F`; eigenvalues of :math:`G`
below ``m * eps`` times the largest are dropped, i.e. directions whose share of the Nyström
kernel's trace is at most :math:`m^2\varepsilon` (reported as ``dropped_trace``). Only clique
graphs (:meth:`RelationGraph.from_groups`) stream: a general graph couples rows of different
blocks (use :func:`~kssl_theory.kernel_regime.nystrom.solve_nystrom`).
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import numpy as np

from .. import backend as B
from ..errors import InputError
from ..graphs import RelationGraph
from ..protocols import Array
from ..validation import check_int, check_points, check_seed
from .engine import Solution, solve
from .nystrom import LowRankEmbedding
from .objectives import Objective, get_objective

__all__ = ["StreamedNystrom", "solve_streaming", "DEFAULT_BLOCK_ROWS"]

#: Rows per block: the block's ``rows x m`` kernel and feature matrices are the peak working memory.
DEFAULT_BLOCK_ROWS = 8192


@dataclass(frozen=True)
class StreamedNystrom(LowRankEmbedding):
    r"""Optimum under the Nyström kernel, computed over row blocks (:func:`solve_streaming`).

    Attributes
    ----------
    kernel : callable
    landmarks : array, shape (m, n_features)
    whitening : array, shape (m, m)
        :math:`K_{mm}^{-1/2}`.
    feature_coef : array, shape (m, d)
        :math:`V_r\Lambda_r^{1/2}C_m^*`: ``kernel(X, landmarks) @ whitening @ feature_coef`` embeds ``X``.
    reduced : Solution
        The ``r x r`` problem on :math:`(\Lambda_r, A_m, L_m)`.
    loss : float
        The attained minimum of the full-size objective under the Nyström kernel.
    relative_trace_error : float
        :math:`\operatorname{tr}(K - FF^T)/\operatorname{tr}K` on the training points.
    dropped_trace : float
        Share of :math:`\operatorname{tr}(FF^T)` in the directions dropped by the rank cut of :math:`G`.
    block_rows : int
        Rows per block used by :meth:`transform`.
    """

    kernel: Callable[..., Array]
    landmarks: Array
    whitening: Array
    feature_coef: Array
    reduced: Solution
    loss: float
    relative_trace_error: float
    dropped_trace: float
    block_rows: int

    def transform(self, X: Array) -> Array:
        r"""Embed points, block by block: :math:`f(x) = C_m^{*T}(Q^TF)\tilde\varphi(x)`, shape ``(M, d)``."""
        X = check_points("X", X)  # at least one row, so there is at least one block
        project = self.whitening @ self.feature_coef
        parts = [
            self.kernel(X[i : i + self.block_rows, ...], self.landmarks) @ project
            for i in range(0, X.shape[0], self.block_rows)
        ]
        return B.namespace(X).concat(parts, axis=0)


def _blocks(sizes_sorted: np.ndarray, block_rows: int) -> list[tuple[int, int]]:
    """Row ranges ``[start, stop)`` of the group-sorted views, cut only between groups, about ``block_rows`` each."""
    ends = np.cumsum(sizes_sorted)
    out, start = [], 0
    while start < ends[-1]:
        # the last group end at or before start + block_rows; at least one whole group
        i = int(np.searchsorted(ends, start + block_rows, side="right")) - 1
        stop = int(ends[i]) if i >= 0 and ends[i] > start else int(ends[np.searchsorted(ends, start, side="right")])
        out.append((start, stop))
        start = stop
    return out


def _block_statistics(
    X_block: np.ndarray, group_starts: np.ndarray, degrees: np.ndarray, loops: float, features: Callable
) -> np.ndarray:
    r"""The block's share of :math:`(G, M_A, M_D)` and of :math:`\operatorname{tr}(F^TF)`, stacked into one vector.

    ``group_starts`` are the block-local first rows of its groups (all rows of a group are in the block).
    Each Gram matrix is one ``syrk`` (:func:`kssl_theory.backend.gram`, half a ``gemm``), and
    :math:`M_D = \sum_v v\,F_v^TF_v` over the rows of each degree ``v`` shares them with :math:`G`.
    The last entry is left for the caller (the trace of ``K`` over the block).
    """
    F = features(X_block)  # (rows, m)
    m = F.shape[1]
    G = np.zeros((m, m))
    M_D = np.zeros((m, m))
    for v in np.unique(degrees):
        mask = degrees == v
        rows = F if mask.all() else F[mask]
        G_v = B.gram(rows.T)
        G += G_v
        M_D += v * G_v
    sigma = np.add.reduceat(F, group_starts, axis=0)  # one row per group: the sum of its features
    M_A = B.gram(sigma.T) + (loops - 1.0) * G
    return np.concatenate([G.ravel(), M_A.ravel(), M_D.ravel(), [float(np.trace(G)), 0.0]])


def solve_streaming(
    objective: str | Objective,
    kernel: Callable[..., Array],
    X: Array,
    groups: Array,
    dim: int,
    *,
    n_landmarks: int,
    self_loops: bool = True,
    block_rows: int = DEFAULT_BLOCK_ROWS,
    seed: int = 0,
    scheduler: Any = None,
    progress: bool = True,
    **options: Any,
) -> StreamedNystrom:
    r"""Solve ``objective`` on the clique graph of ``groups`` under a Nyström kernel, streaming over rows.

    Parameters
    ----------
    objective : str or Objective
        As for :func:`kssl_theory.solve` (not the normalised or centred variants).
    kernel : callable
        ``kernel(X, Y=None)``, e.g. :func:`kssl_theory.kernels.get_kernel` ``("rbf", bandwidth=...)``.
    X : array, shape (N, n_features)
        The views (NumPy).
    groups : array of int, shape (N,)
        Base sample of each view: the relation graph is the union of cliques of
        :meth:`RelationGraph.from_groups` (``self_loops`` as there).
    dim : int
        ``1 <= dim <= n_landmarks``.
    n_landmarks : int
        :math:`m`, drawn uniformly without replacement (``seed``).
    block_rows : int
        About this many rows per block (blocks hold whole groups); the working memory is about
        ``3 * block_rows * m`` floats plus the ``m x m`` sums.
    scheduler : optional
        ``None``: a loop in this process, with a progress bar. Otherwise the blocks are summed by
        ``dask.array`` and computed with ``dask.compute(scheduler=scheduler)``: ``"threads"``,
        ``"processes"``, ``"synchronous"``, a ``distributed.Client``, or the address of a Dask
        scheduler (``"tcp://host:8786"``; a client is connected for the call).
    progress : bool
        Show a progress bar on stderr (loop only).
    **options
        Objective options.

    Raises
    ------
    InputError
        Bad inputs, a normalised or centred variant, or ``dim`` above the rank of the features.
    """
    obj = get_objective(objective)
    if options.get("normalized") or options.get("centred"):
        raise InputError(
            "the normalised eigenmaps and centred VICReg variants are not available with Nystrom features "
            "(their constraint does not restrict to range(F)); use the dense solver."
        )
    if not callable(kernel):
        raise InputError(f"kernel must be callable as kernel(X, Y=None); got {kernel!r}.")
    X = check_points("X", X)
    if not isinstance(X, np.ndarray):
        raise InputError("solve_streaming takes NumPy views; for other array libraries use solve_nystrom.")
    n = X.shape[0]
    relation = RelationGraph.from_groups(groups, self_loops=self_loops)
    if relation.n != n:
        raise InputError(f"groups has {relation.n} entries but X has {n} rows.")
    structure, loops = relation.cliques  # type: ignore[misc]  # from_groups always knows its cliques
    m = check_int("n_landmarks", n_landmarks, 1, n)
    dim = check_int("dim", dim, 1, m)
    block_rows = check_int("block_rows", block_rows, 1, None)
    rng = np.random.default_rng(check_seed("seed", seed))
    landmarks = X[np.sort(rng.choice(n, size=m, replace=False))]
    whitening = B.psd_inv_sqrt(kernel(landmarks))

    def features(X_block: np.ndarray) -> np.ndarray:
        return kernel(X_block, landmarks) @ whitening

    order = np.argsort(structure.labels, kind="stable")
    sizes_sorted = structure.sizes  # labels are 0..n-1 in order of first appearance: sorted order is label order
    degrees_sorted = (structure.sizes + loops - 1.0)[structure.labels[order]]
    ranges = _blocks(sizes_sorted, block_rows)
    group_ends = np.cumsum(sizes_sorted)

    def local_starts(start: int, stop: int) -> np.ndarray:
        first = np.searchsorted(group_ends, start, side="right")
        last = np.searchsorted(group_ends, stop, side="left")
        return np.concatenate([[0], group_ends[first:last] - start])

    def block(i: int) -> np.ndarray:
        start, stop = ranges[i]
        stats = _block_statistics(
            X[order[start:stop]], local_starts(start, stop), degrees_sorted[start:stop], loops, features
        )
        stats[-1] = _trace_of_kernel(kernel, X[order[start:stop]])
        return stats

    total = _sum_blocks(block, len(ranges), 3 * m * m + 2, scheduler, progress)
    G, M_A, M_D = (total[k * m * m : (k + 1) * m * m].reshape(m, m) for k in range(3))
    trace_F, trace_K = float(total[-2]), float(total[-1])
    reduced, QtF, loss, dropped = _reduced_solution(obj, G, M_A, M_D, trace_F, relation.frobenius_squared, dim, options)
    return StreamedNystrom(
        kernel=kernel,
        landmarks=landmarks,
        whitening=whitening,
        feature_coef=QtF.T @ reduced.coef,
        reduced=reduced,
        loss=loss,
        relative_trace_error=max((trace_K - trace_F) / trace_K, 0.0) if trace_K > 0 else 0.0,
        dropped_trace=dropped,
        block_rows=block_rows,
    )


def _trace_of_kernel(kernel: Callable[..., Array], X_block: np.ndarray, chunk: int = 2048) -> float:
    """:math:`\\sum_i k(x_i, x_i)` over the block, from ``chunk x chunk`` diagonal blocks."""
    return float(sum(np.trace(kernel(X_block[i : i + chunk])) for i in range(0, X_block.shape[0], chunk)))


def _sum_blocks(
    block: Callable[[int], np.ndarray], count: int, size: int, scheduler: Any, progress: bool
) -> np.ndarray:
    """``sum(block(i) for i in range(count))`` (vectors of ``size``): a loop with a progress bar, or Dask."""
    if scheduler is None:
        total = np.zeros(size)
        for i in _progress(range(count), progress):
            total += block(i)
        return total
    import dask
    import dask.array as da

    parts = [da.from_delayed(dask.delayed(block)(i), shape=(size,), dtype=np.float64) for i in range(count)]
    summed = da.stack(parts).sum(axis=0)
    if isinstance(scheduler, str) and "://" in scheduler:
        from distributed import Client

        with Client(scheduler) as client:
            return np.asarray(summed.compute(scheduler=client))
    return np.asarray(summed.compute(scheduler=scheduler))


def _reduced_solution(
    obj: Objective,
    G: np.ndarray,
    M_A: np.ndarray,
    M_D: np.ndarray,
    trace_F: float,
    norm2_A: float,
    dim: int,
    options: dict[str, Any],
) -> tuple[Solution, np.ndarray, float, float]:
    r"""Solve the reduced problem from the sums (module docstring): ``(reduced, Q^TF, loss, dropped_trace)``."""
    m = G.shape[0]
    lam, V = B.eigh(G)  # symmetrised, ascending
    keep = lam > m * np.finfo(np.float64).eps * max(float(lam[-1]), np.finfo(np.float64).tiny)
    r = int(keep.sum())
    if dim > r:
        raise InputError(
            f"dim = {dim} exceeds the numerical rank {r} of the Nystrom features; lower dim or add landmarks."
        )
    lam_r, V_r = lam[keep], V[:, keep]
    T = V_r / np.sqrt(lam_r)[None, :]
    A_m = T.T @ M_A @ T
    L_m = T.T @ (M_D - M_A) @ T
    reduced = solve(
        obj,
        np.diag(lam_r),
        RelationGraph((A_m + A_m.T) / 2, laplacian=(L_m + L_m.T) / 2),
        dim,
        method="dense",
        **options,
    )
    loss = float(obj.minimum(np.asarray([norm2_A**0.5]), reduced.eigenvalues[:dim], dim, reduced.options))
    dropped = float(lam[~keep].clip(0).sum()) / max(trace_F, np.finfo(np.float64).tiny)
    return reduced, (V_r * np.sqrt(lam_r)[None, :]).T, loss, dropped


def _progress(iterable: range, enabled: bool) -> Iterator[int]:
    from tqdm.auto import tqdm

    return iter(tqdm(iterable, desc="Nystrom blocks", file=sys.stderr, disable=not enabled, leave=False))
