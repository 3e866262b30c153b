"""Hypothesis strategies shared by the test-suite and the verification runner.

Strategies draw *parameters* (sizes, spectra, condition numbers, bandwidths, group sizes,
seeds) and build structured matrices from them with a seeded NumPy generator, never raw
matrix entries (DESIGN.md, "Tests"). Everything returned is NumPy float64; tests convert to
other namespaces themselves.

Building blocks
---------------
:func:`orthogonal`            Haar-distributed orthogonal matrix from a seed (QR of a Gaussian).
:func:`spectra`               eigenvalues with a capped condition number, optionally with zeros.
:func:`psd_matrices`          :math:`Q\\Lambda Q^T` with such a spectrum (:class:`PSDMatrix`).
:func:`kernel_specs`          a kernel kind of :mod:`kssl_theory.kernels` and its parameters.
:func:`group_vectors`         group labels: balanced cliques, unbalanced, singletons, shuffled.
:func:`invariant_views`       every class code repeated ``m`` times, shuffled: an invariant encoder ([IR]).
:func:`instances`             a whole solver instance (:class:`Instance`): ``K``, ``A``, groups, ``d``.

The graph matrices are built here from the labels with plain NumPy (:func:`clique_adjacency`,
:func:`np_laplacian`), independently of :mod:`kssl_theory.graphs`, so that solver tests do not
inherit a bug of the graph module (``tests/test_graphs.py`` compares the two).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable

import numpy as np
from hypothesis import assume
from hypothesis import strategies as st

__all__ = [
    "EPS",
    "MAX_N",
    "KERNEL_KINDS",
    "POINT_KERNELS",
    "orthogonal",
    "spectra",
    "PSDMatrix",
    "psd_matrices",
    "KernelSpec",
    "kernel_specs",
    "kernel_function",
    "group_vectors",
    "clique_adjacency",
    "np_laplacian",
    "invariant_views",
    "Instance",
    "instances",
]

EPS = float(np.finfo(np.float64).eps)

#: Largest number of views an instance has: keeps dense N x N linear algebra and L-BFGS cheap.
MAX_N = 30

#: Kernel kinds :func:`kernel_specs` draws from. ``spectrum`` is a random :math:`Q\Lambda Q^T`
#: without points (no out-of-sample extension); the others are evaluated on drawn points.
KERNEL_KINDS = ("rbf", "laplace", "polynomial", "arccos", "relu_ntk", "linear", "spectrum")
POINT_KERNELS = tuple(k for k in KERNEL_KINDS if k != "spectrum")


def _seeds():
    return st.integers(min_value=0, max_value=2**32 - 1)


def orthogonal(n: int, seed: int) -> np.ndarray:
    """Haar-distributed ``n x n`` orthogonal matrix: QR of a seeded Gaussian, signs fixed by ``diag(R) > 0``."""
    rng = np.random.default_rng(seed)
    Q, R = np.linalg.qr(rng.standard_normal((n, n)))
    return Q * np.where(np.diag(R) < 0, -1.0, 1.0)[None, :]


@st.composite
def spectra(draw, n: int, *, max_cond: float = 1e6, rank: int | None = None, scale=None) -> np.ndarray:
    """Eigenvalues (descending) of an ``n x n`` PSD matrix with condition number ``<= max_cond``.

    The ``rank`` leading values are ``scale * cond**(-u)`` with ``u`` in ``[0, 1]`` and the extreme
    values hit exactly (so the non-zero part has condition number ``cond``, drawn log-uniformly
    in ``[1, max_cond]``); the remaining ``n - rank`` values are exactly 0. A cluster of equal
    values is drawn sometimes, to exercise ties.
    """
    r = n if rank is None else rank
    cond = 10 ** draw(st.floats(0.0, float(np.log10(max_cond))))
    scale = draw(st.sampled_from([1e-3, 1.0, 1e3])) if scale is None else scale
    seed = draw(_seeds())
    u = np.random.default_rng(seed).uniform(0.0, 1.0, size=r)
    u[0] = 0.0
    if r > 1:
        u[-1] = 1.0
    if r > 2 and draw(st.booleans()):
        k = draw(st.integers(2, r))
        u[:k] = u[0]  # a tie of multiplicity k at the top
    vals = np.sort(scale * cond ** (-u))[::-1]
    return np.concatenate([vals, np.zeros(n - r)])


@dataclass(frozen=True, eq=False)
class PSDMatrix:
    """A PSD matrix ``M = Q diag(w) Q^T`` with its exact eigen-decomposition.

    ``M`` is symmetrised after the product (the product alone is symmetric only to round-off).
    """

    M: np.ndarray
    w: np.ndarray
    Q: np.ndarray
    rank: int
    seed: int

    @property
    def cond(self) -> float:
        """Condition number of the non-zero part."""
        return float(self.w[0] / self.w[self.rank - 1])

    def __repr__(self):
        return f"PSDMatrix(n={self.M.shape[0]}, rank={self.rank}, cond={self.cond:.3g}, seed={self.seed})"


@st.composite
def psd_matrices(draw, *, min_n: int = 1, max_n: int = MAX_N, n: int | None = None, max_cond: float = 1e6,
                 rank_deficient: bool | None = False) -> PSDMatrix:
    """Random PSD matrix :math:`Q\\Lambda Q^T`; ``rank_deficient=None`` draws either kind."""
    n = draw(st.integers(min_n, max_n)) if n is None else n
    deficient = draw(st.booleans()) if rank_deficient is None else rank_deficient
    rank = draw(st.integers(1, n - 1)) if deficient and n > 1 else n
    w = draw(spectra(n, max_cond=max_cond, rank=rank))
    seed = draw(_seeds())
    Q = orthogonal(n, seed)
    M = (Q * w[None, :]) @ Q.T
    return PSDMatrix((M + M.T) / 2, w, Q, rank, seed)


# --- kernels on points -----------------------------------------------------------------------------

@dataclass(frozen=True)
class KernelSpec:
    """A kernel kind of :mod:`kssl_theory.kernels` with its parameters.

    ``bandwidth_factor`` (rbf, laplace) multiplies the median pairwise distance of the training
    points, so the bandwidth is on the scale of the data whatever the point cloud.
    """

    kind: str
    params: tuple = ()
    bandwidth_factor: float | None = None

    def describe(self) -> str:
        extra = dict(self.params)
        if self.bandwidth_factor is not None:
            extra["bandwidth"] = f"{self.bandwidth_factor:.3g} x median"
        return f"{self.kind}{extra if extra else ''}"


def kernel_specs(kinds=KERNEL_KINDS):
    """Strategy for a :class:`KernelSpec` among ``kinds``."""
    kinds = tuple(kinds)
    options = {
        "rbf": st.builds(lambda f: KernelSpec("rbf", (), f), st.floats(0.3, 3.0)),
        "laplace": st.builds(lambda f: KernelSpec("laplace", (), f), st.floats(0.3, 3.0)),
        "polynomial": st.builds(
            lambda p, c: KernelSpec("polynomial", (("degree", p), ("coef0", c))),
            st.integers(1, 4), st.sampled_from([0.5, 1.0, 2.0]),
        ),
        "arccos": st.builds(lambda o: KernelSpec("arccos", (("order", o),)), st.sampled_from([0, 1])),
        "relu_ntk": st.builds(
            lambda L, b: KernelSpec("relu_ntk", (("depth", L), ("bias_var", b))),
            st.integers(1, 3), st.sampled_from([0.0, 0.1, 1.0]),
        ),
        "linear": st.just(KernelSpec("linear")),
        "spectrum": st.just(KernelSpec("spectrum")),
    }
    return st.one_of([options[k] for k in kinds])


def kernel_function(spec: KernelSpec, X_train: np.ndarray) -> Callable:
    """``k(X, Y=None)`` for ``spec``; a bandwidth is fixed from ``X_train`` once, so cross blocks agree."""
    from kssl_theory import kernels

    params = dict(spec.params)
    if spec.bandwidth_factor is not None:
        d = np.sqrt(((X_train[:, None, :] - X_train[None, :, :]) ** 2).sum(-1))
        iu = np.triu_indices(X_train.shape[0], 1)
        med = float(np.median(d[iu])) if iu[0].size else 1.0
        params["bandwidth"] = spec.bandwidth_factor * (med if med > 0 else 1.0)
    fn = getattr(kernels, spec.kind)

    def k(X, Y=None):
        return fn(X, Y, **params)

    k.params = params  # the resolved parameters (bandwidth included), for tests that need them
    return k


# --- groups and graphs ---------------------------------------------------------------------------

@st.composite
def group_vectors(draw, *, min_groups: int = 1, max_groups: int = 8, min_size: int = 1, max_size: int = 5,
                  max_views: int = MAX_N, balanced: bool | None = None, shuffle: bool | None = None) -> np.ndarray:
    """Group labels (one per view): ``n`` groups of sizes in ``[min_size, max_size]``, ``N <= max_views``.

    ``balanced=True`` gives equal sizes (cliques of size ``m``); ``False`` independent sizes
    (possibly equal by chance); ``None`` either. Labels are sorted by group unless ``shuffle``,
    in which case views are permuted and labels are arbitrary non-negative integers (not 0..n-1).
    """
    balanced = draw(st.booleans()) if balanced is None else balanced
    shuffle = draw(st.booleans()) if shuffle is None else shuffle
    n = draw(st.integers(min_groups, max(min_groups, min(max_groups, max_views // max(min_size, 1)))))
    if balanced:
        m = draw(st.integers(min_size, max(min_size, min(max_size, max_views // n))))
        sizes = [m] * n
    else:
        sizes = []
        for g in range(n):
            room = max_views - sum(sizes) - min_size * (n - g - 1)
            sizes.append(draw(st.integers(min_size, max(min_size, min(max_size, room)))))
    labels = np.repeat(np.arange(n), sizes)
    if shuffle:
        seed = draw(_seeds())
        rng = np.random.default_rng(seed)
        names = rng.choice(1000, size=n, replace=False)
        labels = names[labels][rng.permutation(labels.size)]
    return labels.astype(np.int64)


def clique_adjacency(groups, *, self_loops: bool = True) -> np.ndarray:
    """:math:`A_{ij} = [g_i = g_j]` (diagonal 0 without self-loops), in plain NumPy."""
    g = np.asarray(groups)
    A = (g[:, None] == g[None, :]).astype(np.float64)
    if not self_loops:
        np.fill_diagonal(A, 0.0)
    return A


def np_laplacian(A: np.ndarray) -> np.ndarray:
    """:math:`L = \\operatorname{diag}(A\\mathbf 1) - A` in plain NumPy."""
    return np.diag(A.sum(axis=1)) - A


def invariant_views(class_codes: np.ndarray, m: int, rng) -> tuple[np.ndarray, np.ndarray]:
    """Replicate every class code ``m`` times and shuffle the views (an invariant encoder)."""
    C = class_codes.shape[0]
    groups = np.repeat(np.arange(C), m)
    perm = rng.permutation(groups.size)
    return class_codes[groups[perm]], groups[perm]


# --- whole instances ------------------------------------------------------------------------------

@dataclass(frozen=True, eq=False)
class Instance:
    """One solver instance: training Gram ``K``, relation matrix ``A``, labels, dimension ``d``.

    Attributes
    ----------
    K, A : numpy.ndarray, shape (N, N)
    groups : numpy.ndarray, shape (N,)
    dim : int
    seed : int
        Seed of the generator that built the points / spectrum.
    description : str
        One line saying how the instance was built (shown by Hypothesis on failure).
    factor : numpy.ndarray, shape (N, rank)
        ``K = factor @ factor.T`` exactly up to round-off, from the construction (Cholesky of
        ``K`` for full-rank kernels, the features for ``linear``, :math:`Q\\Lambda^{1/2}` for
        spectra): an independent square root for oracles.
    rank : int
        Rank of ``K`` by construction.
    cond : float
        Condition number of the non-zero part of ``K`` (from ``numpy.linalg.eigvalsh``).
    X : numpy.ndarray or None
        Training points (``None`` for ``spectrum`` kernels).
    kernel : callable or None
        ``kernel(X1, X2)`` gives cross blocks; ``cross(X_new)`` is ``k(X_new, X)``.
    nugget : float
        Ridge added to the kernel's Gram matrix to cap its condition number (0 if none). It is
        a valid PSD kernel term :math:`\\tau[x = x']` that leaves cross blocks unchanged.
    graph : str
        ``"cliques"`` (unweighted), ``"weighted"`` (random within-group weights) or
        ``"random"`` (a dense random weighted graph, not block structured).
    self_loops : bool
    """

    K: np.ndarray
    A: np.ndarray
    groups: np.ndarray
    dim: int
    seed: int
    description: str
    factor: np.ndarray
    rank: int
    cond: float
    X: np.ndarray | None = None
    kernel: Callable | None = field(default=None, repr=False)
    nugget: float = 0.0
    graph: str = "cliques"
    self_loops: bool = True
    kind: str = "spectrum"

    @property
    def N(self) -> int:
        return self.K.shape[0]

    @property
    def sizes(self) -> np.ndarray:
        """Group sizes, in order of first appearance."""
        _, first, counts = np.unique(self.groups, return_index=True, return_counts=True)
        return counts[np.argsort(first)]

    @property
    def n_groups(self) -> int:
        return int(np.unique(self.groups).size)

    @property
    def is_pd(self) -> bool:
        return self.rank == self.N

    @property
    def kernel_params(self) -> dict:
        """Resolved kernel parameters (``bandwidth`` for rbf/laplace); empty for spectra."""
        return dict(getattr(self.kernel, "params", {}))

    def cross(self, X_new: np.ndarray) -> np.ndarray:
        """Cross-kernel block :math:`k(X_{new}, X_{train})`, shape ``(M, N)``."""
        if self.kernel is None:
            raise ValueError("this instance has no points (spectrum kernel); no out-of-sample block")
        return self.kernel(X_new, self.X)

    def test_points(self, m: int, seed: int, spread: float = 0.5) -> np.ndarray:
        """``m`` new points: training points jittered by ``spread`` x their RMS spread, plus fresh draws."""
        rng = np.random.default_rng(seed)
        X = self.X
        s = float(np.sqrt(((X - X.mean(0)) ** 2).sum(1).mean())) or 1.0
        base = X[rng.integers(0, X.shape[0], size=m)]
        return base + spread * s * rng.standard_normal(base.shape) / np.sqrt(X.shape[1])

    def with_dim(self, dim: int) -> "Instance":
        from dataclasses import replace

        return replace(self, dim=dim, description=self.description.rsplit(" d=", 1)[0] + f" d={dim}")

    def __repr__(self):
        return f"Instance({self.description})"


def _cap_condition(K: np.ndarray, max_cond: float):
    """Add the smallest ridge ``tau * I`` that brings cond(K) to ``<= max_cond``."""
    w = np.linalg.eigvalsh(K)
    lmax, lmin = float(w[-1]), float(w[0])
    if lmin > 0 and lmax / lmin <= max_cond:
        return K, 0.0
    tau = max((lmax - max_cond * lmin) / (max_cond - 1), 0.0) * (1 + 1e-9) + 1e-300
    K = K + tau * np.eye(K.shape[0])
    return K, tau


def _random_graph(groups, rng, *, self_loops: bool, kind: str) -> np.ndarray:
    n = len(groups)
    if kind == "cliques":
        return clique_adjacency(groups, self_loops=self_loops)
    W = rng.uniform(0.2, 1.5, size=(n, n))
    W = (W + W.T) / 2
    if kind == "weighted":
        A = W * clique_adjacency(groups, self_loops=True)
    else:
        # Sparse-ish random graph over all views, plus the group cliques so no view is isolated.
        keep = rng.uniform(size=(n, n)) < 0.3
        keep = keep | keep.T | (np.asarray(groups)[:, None] == np.asarray(groups)[None, :])
        A = W * keep
    if not self_loops:
        np.fill_diagonal(A, 0.0)
    return A


@st.composite
def instances(draw, *, kinds=KERNEL_KINDS, min_views: int = 2, max_views: int = MAX_N, max_cond: float = 1e6,
              singular: bool | None = False, graphs=("cliques",), self_loops: bool | None = True,
              balanced: bool | None = None, shuffle: bool | None = None, min_size: int = 1, max_size: int = 5,
              max_groups: int = 8, dim: str = "any") -> Instance:
    """A solver instance with ``N <= max_views`` views.

    Parameters
    ----------
    kinds : iterable of str
        Kernel kinds (:data:`KERNEL_KINDS`); ``singular=True`` restricts to ``linear`` (fewer
        features than points) and ``spectrum`` (with zero eigenvalues).
    max_cond : float
        Cap on cond(K) (of its non-zero part when singular); full-rank kernels above it get a
        nugget ridge (:attr:`Instance.nugget`).
    singular : bool or None
        Rank-deficient ``K`` (True), full rank (False) or either (None).
    graphs : tuple of str
        Graph kinds to draw from: ``"cliques"``, ``"weighted"``, ``"random"``.
    self_loops : bool or None
    dim : {"any", "rank", "below_groups", "at_least_groups"}
        ``1..N``; ``1..rank(K)`` (hard-constrained objectives); ``1..n-1`` (split ties on
        cliques; needs ``n >= 2``); ``n..N``.
    """
    groups = draw(group_vectors(min_groups=2 if dim == "below_groups" else 1, max_groups=max_groups,
                                min_size=min_size, max_size=max_size, max_views=max_views, balanced=balanced,
                                shuffle=shuffle))
    N = groups.size
    if N < min_views:
        extra = np.arange(groups.max() + 1, groups.max() + 1 + (min_views - N))
        groups = np.concatenate([groups, extra])
        N = groups.size
    deficient = draw(st.booleans()) if singular is None else singular
    if deficient and N < 2:
        deficient = False
    if deficient:
        kinds = [k for k in kinds if k in ("linear", "spectrum")] or ["linear"]
    spec = draw(kernel_specs(kinds))
    seed = draw(_seeds())
    rng = np.random.default_rng(seed)
    X = kernel = None
    nugget = 0.0
    if spec.kind == "spectrum":
        rank = draw(st.integers(1, N - 1)) if deficient else N
        w = draw(spectra(N, max_cond=max_cond, rank=rank))
        Q = orthogonal(N, seed)
        K = (Q * w[None, :]) @ Q.T
        K = (K + K.T) / 2
        factor = Q[:, :rank] * np.sqrt(w[:rank])[None, :]
    elif deficient:
        # linear kernel with p < N Gaussian features: rank p, well-conditioned non-zero part.
        p = draw(st.integers(1, max(1, N // 2)))
        X = 10 ** draw(st.floats(-1.0, 1.0)) * rng.standard_normal((N, p))
        kernel = kernel_function(spec, X)
        K = np.asarray(kernel(X))
        rank = p
        factor = X.copy()
        s = np.linalg.svd(X, compute_uv=False)
        assume(s[-1] > 0 and (s[0] / s[-1]) ** 2 <= max_cond)
    else:
        # Views of one base sample are jittered copies of it (augmentations), at a drawn scale.
        p = draw(st.integers(1, 5))
        scale = 10 ** draw(st.floats(-1.0, 1.0))
        jitter = draw(st.floats(0.05, 0.6))
        uniq, inv = np.unique(groups, return_inverse=True)
        base = rng.standard_normal((uniq.size, p))
        X = scale * (base[inv] + jitter * rng.standard_normal((N, p)))
        kernel = kernel_function(spec, X)
        K = np.asarray(kernel(X))
        # Cap drawn log-uniformly in [1e2, max_cond], so capped instances vary in conditioning.
        cap = 10 ** draw(st.floats(2.0, float(np.log10(max_cond)))) if max_cond > 1e2 else max_cond
        K, nugget = _cap_condition((K + K.T) / 2, cap)
        rank = N
        factor = np.linalg.cholesky(K)
    w = np.linalg.eigvalsh(K)
    cond = float(w[-1] / w[N - rank]) if rank else float("inf")
    graph = draw(st.sampled_from(tuple(graphs)))
    loops = draw(st.booleans()) if self_loops is None else self_loops
    A = _random_graph(groups, rng, self_loops=loops, kind=graph)
    n_groups = int(np.unique(groups).size)
    if dim == "any":
        d = draw(st.integers(1, N))
    elif dim == "rank":
        d = draw(st.integers(1, rank))
    elif dim == "below_groups":
        d = draw(st.integers(1, max(1, n_groups - 1)))
    elif dim == "at_least_groups":
        d = draw(st.integers(min(n_groups, N), N))
    else:
        raise ValueError(f"unknown dim mode {dim!r}")
    sizes = np.bincount(np.unique(groups, return_inverse=True)[1])
    desc = (f"N={N} sizes={sizes.tolist()} graph={graph} self_loops={loops} kernel={spec.describe()} "
            f"rank={rank} cond={cond:.2e} nugget={nugget:.2e} seed={seed} d={d}")
    return Instance(K=K, A=A, groups=groups, dim=d, seed=seed, description=desc, factor=factor, rank=rank,
                    cond=cond, X=X, kernel=kernel, nugget=nugget, graph=graph, self_loops=loops, kind=spec.kind)
