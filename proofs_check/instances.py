r"""THE instance generator of the verification stack (claims of :mod:`proofs_check` and ``tests/``).

Nothing draws matrices from Hypothesis directly. Hypothesis draws a small, readable,
JSON-serialisable **parameter dict** and :func:`build` turns it into matrices with
``numpy.random.default_rng(params["seed"])``; a counterexample is therefore just that dict.
Parameter strategies: :func:`instances` (the ranges of the claims), :func:`solver_instances` (the
ranges of the pytest solver suite: up to :data:`MAX_N` views, spectra with ties and planted
zeros, rank-deficient linear kernels); :func:`psd_matrices` (a PSD matrix with its exact
eigendecomposition), :func:`group_vectors` (group labels) and :func:`invariant_views` ([IR]
invariant encoders) are the other generators of the stack. Relation matrices are built here from
the labels in plain NumPy (:func:`adjacency`, :func:`clique_adjacency`), independently of
:mod:`kssl_theory.graphs`.

Parameters (all optional except ``seed``)
-----------------------------------------
``seed``
    NumPy seed for everything random in the instance.
``sizes``
    Views per base sample (group sizes), e.g. ``[3, 3, 3]`` for ``n = 3`` groups of ``m = 3``.
``shuffle``
    Views in random order instead of sorted by group.
``kernel``
    A kernel of :mod:`kssl_theory.kernels` by its function name, on drawn points: ``rbf``,
    ``laplace``, ``polynomial``, ``arccos``, ``relu_nngp``, ``relu_ntk``, ``linear``; or a matrix
    kind: ``spectrum`` (``K = Q diag(λ) Qᵀ`` with log-uniform ``λ`` in ``[10^-log10_cond, 1]``) or
    ``lowrank`` (``K = F Fᵀ`` with ``F`` of rank ``rank``, singular on purpose). The names
    ``arccos1``, ``nngp``, ``ntk`` of older reports are read as ``arccos`` (``order=1``),
    ``relu_nngp`` and ``relu_ntk`` (``bias_var=0.1``).
``bandwidth`` or ``bandwidth_factor``, ``degree``, ``coef0``, ``order``, ``depth``, ``bias_var``
    Kernel parameters, passed to the kernel function (absent: the function's default);
    ``bandwidth_factor`` (rbf, laplace) is a multiple of the median pairwise distance of the
    training points (computed here), so the bandwidth is on the scale of the data.
``p``, ``noise``, ``scale``, ``points``
    Input dimension of the points, the augmentation noise (view = base point + ``noise`` ×
    standard normal; base points are standard normal in ``R^p``) and a factor multiplying every
    point. ``points="gaussian"``: ``N`` independent standard normal points instead (no group
    structure; with ``linear`` and ``p < N`` a kernel of rank ``p`` exactly).
``ridge``
    A fixed ridge :math:`\delta I` added to the kernel (a white-noise term), before any cap.
``log10_cond``
    Cap on :math:`\log_{10}\kappa(K)`: a ridge :math:`\delta I` is added when needed (a white-noise
    kernel term, so ``k(x, x')`` for new points is unchanged); ``None``: no ridge. It is further
    capped per dtype (:attr:`proofs_check.checking.Context.max_log10_cond`).
    The adversarial kinds ``graded`` (``λ_i = 10^{-log10_cond·i/(N-1)}``, exactly graded),
    ``near_duplicates`` (RBF, pairs of views ``1e-6``–``1e-3`` apart), ``rbf_wide`` (RBF with
    bandwidth 3–30) and ``lowrank_ridge`` (rank ``rank`` plus ``10^-log10_cond`` times the largest
    eigenvalue) are capped at :data:`ADVERSARIAL_LOG10_COND` instead.
``rank``, ``tie``, ``scale``, ``exact_cond`` (``spectrum``)
    ``N - rank`` eigenvalues exactly 0 (planted zeros; no ridge then); the ``tie`` largest
    eigenvalues equal (a tie of that multiplicity at the top); eigenvalues multiplied by ``scale``;
    ``exact_cond``: the smallest non-zero eigenvalue is exactly ``10^-log10_cond`` times the largest
    (and no ridge is added).
``self_loops``, ``weighted``, ``weight_range``, ``normalized``
    Graph options: diagonal of ``A`` 1 or 0; edge weights uniform in ``weight_range`` (default
    ``[0.5, 2]``), symmetrised; symmetric normalisation :math:`D^{-1/2}AD^{-1/2}`.
``graph_kind``, ``edge_prob``
    ``cliques`` (default: ``A_ij = 1`` iff same group), ``knn`` (symmetrised 2-nearest-neighbour
    graph of random points), ``sparse`` (each pair an edge with probability ``edge_prob``, default
    0.3), ``random`` (``sparse`` plus the group cliques, so no view is isolated), ``disconnected``
    (a random graph on each half of the views, nothing between them) or ``isolated`` (cliques with
    one or two views cut off: zero rows) or ``signed`` (cliques with weights uniform in
    ``[-1, 1]``: the closed forms of O1–O3 hold for any symmetric ``A``); weights and self-loops
    as above.
``d``, ``reg``, ``beta``, ...
    Objective options, passed through.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace

import numpy as np
from hypothesis import strategies as st

from .checking import Context
from .oracles import random_orthogonal

__all__ = [
    "MAX_N",
    "KERNEL_FUNCTIONS",
    "SUITE_KERNELS",
    "HOST",
    "POINT_KERNELS",
    "ALL_KERNELS",
    "ADVERSARIAL_KERNELS",
    "ADVERSARIAL_LOG10_COND",
    "GRAPH_KINDS",
    "seeds",
    "instances",
    "Instance",
    "build",
    "solver_instances",
    "PSDMatrix",
    "psd_matrices",
    "group_vectors",
    "clique_adjacency",
    "invariant_views",
    "adjacency",
]

#: The kernels on points the claims draw from (the names of :mod:`kssl_theory.kernels` functions).
POINT_KERNELS = ("rbf", "laplace", "polynomial", "arccos", "relu_nngp", "relu_ntk")
#: Every kernel function of :mod:`kssl_theory.kernels` :func:`build` evaluates on points.
KERNEL_FUNCTIONS = POINT_KERNELS + ("linear",)
#: Kernel kinds :func:`solver_instances` draws from by default (the pytest solver suite).
SUITE_KERNELS = ("rbf", "laplace", "polynomial", "arccos", "relu_ntk", "linear", "spectrum")
#: Largest number of views of :func:`solver_instances`: keeps dense N x N algebra and L-BFGS cheap.
MAX_N = 30
#: Host float64 NumPy context (the test-suite's instances).
HOST = Context("numpy", "float64")
#: Kernel names of older reports, read by :func:`build` (replay of old counterexamples).
LEGACY_KERNELS = {
    "arccos1": ("arccos", {"order": 1}),
    "nngp": ("relu_nngp", {"bias_var": 0.1}),
    "ntk": ("relu_ntk", {"bias_var": 0.1}),
}
#: Ill-conditioned kernels where users live (docs/theory.md §3 accuracy; the trust issue): a geometric
#: (graded) spectrum, RBF on near-duplicate points, a wide-bandwidth RBF and a rank-deficient
#: kernel plus a tiny ridge. Their condition number reaches ``10^log10_cond`` up to
#: :data:`ADVERSARIAL_LOG10_COND` of the dtype (not the ordinary per-dtype cap).
ADVERSARIAL_KERNELS = ("graded", "near_duplicates", "rbf_wide", "lowrank_ridge")
#: Largest log10 condition number of the adversarial kernels, per dtype.
ADVERSARIAL_LOG10_COND = {"float64": 12.0, "float32": 5.0}
#: Relation graphs beyond the clique graph (``graph_kind``).
GRAPH_KINDS = ("cliques", "knn", "sparse", "disconnected", "isolated", "signed")
#: Every ``graph_kind`` :func:`adjacency` builds.
ALL_GRAPH_KINDS = GRAPH_KINDS + ("random",)
ALL_KERNELS = POINT_KERNELS + ("spectrum",)

seeds = st.integers(min_value=0, max_value=2**32 - 1)


def _floats(lo, hi):
    return st.floats(min_value=lo, max_value=hi, allow_nan=False, allow_infinity=False)


def _value(draw, spec, default=None):
    """Draw from a spec: a strategy, a ``(lo, hi)`` float/int range, a list of choices or a constant."""
    if spec is None:
        return default
    if isinstance(spec, st.SearchStrategy):
        return draw(spec)
    if isinstance(spec, tuple) and len(spec) == 2:
        lo, hi = spec
        if isinstance(lo, int) and isinstance(hi, int) and not isinstance(lo, bool):
            return draw(st.integers(lo, hi))
        return draw(_floats(float(lo), float(hi)))
    if isinstance(spec, list):
        return draw(st.sampled_from(spec))
    return spec


@st.composite
def instances(
    draw,
    *,
    n=(2, 4),
    m=(1, 3),
    balanced=None,
    kernels=ALL_KERNELS,
    graph="any",
    d="any",
    log10_cond=(0.5, 6.0),
    shuffle=True,
    positive_degree=False,
    **extra,
):
    """Strategy of parameter dicts for a kernel-regime instance.

    Parameters
    ----------
    n, m : (int, int)
        Ranges of the number of groups and of views per group.
    balanced : bool or None
        ``True``: all groups of equal size ``m``; ``None``: drawn.
    kernels : sequence of str
        Kernel kinds to draw from (see the module docstring).
    graph : {"any", "clique", "weighted"}
        ``clique``: self-loops, unit weights, unnormalised (the clique graph of docs/theory.md §1).
        ``weighted``: random positive weights, self-loops drawn. ``any``: all options drawn.
    d : str, (int, int) or callable
        ``"any"`` (``1..N``), ``"ge_n"`` (``n..N``), ``"le_n"``, ``"lt_n"``, ``"gt_n"``, ``"n-1"``,
        or a callable ``(n, N, sizes) -> strategy``.
    positive_degree : bool
        Force self-loops when a group has a single view, so every view has positive degree.
    **extra
        Further entries, each a spec for :func:`_value`.
    """
    params = {"seed": draw(seeds)}
    n_groups = draw(st.integers(*n))
    is_balanced = draw(st.booleans()) if balanced is None else balanced
    if is_balanced:
        sizes = [draw(st.integers(*m))] * n_groups
    else:
        sizes = [draw(st.integers(*m)) for _ in range(n_groups)]
    params["sizes"] = sizes
    N = sum(sizes)
    if shuffle is True:
        params["shuffle"] = draw(st.booleans())
    kind = draw(st.sampled_from(list(kernels)))
    params["kernel"] = kind
    if kind in ("rbf", "laplace"):
        params["bandwidth"] = draw(_floats(0.3, 3.0))
    if kind == "polynomial":
        params["degree"] = draw(st.integers(1, 4))
    if kind == "arccos":
        params["order"] = 1
    if kind in ("relu_nngp", "relu_ntk"):
        params["bias_var"] = 0.1
    if kind in POINT_KERNELS:
        params["p"] = draw(st.integers(1, 5))
        params["noise"] = draw(_floats(0.01, 0.5))
    if kind == "lowrank":
        params["rank"] = draw(st.integers(1, max(1, N - 1)))
    if log10_cond is not None:
        params["log10_cond"] = _value(draw, log10_cond)
    if graph == "clique":
        params.update(self_loops=True, weighted=False, normalized=False)
    elif graph == "weighted":
        params.update(self_loops=draw(st.booleans()), weighted=True, normalized=False)
    elif graph == "any":
        params.update(self_loops=draw(st.booleans()), weighted=draw(st.booleans()), normalized=draw(st.booleans()))
    elif isinstance(graph, dict):
        params.update({k: _value(draw, v) for k, v in graph.items()})
    if positive_degree and not params.get("self_loops", True) and min(sizes) == 1:
        # A view alone in its group and without a self-loop has degree 0; keep degrees positive.
        params["self_loops"] = True
    if d is not None:
        params["d"] = draw(_dim_strategy(d, n_groups, N, sizes))
    for key, spec in extra.items():
        if callable(spec) and not isinstance(spec, st.SearchStrategy):
            spec = spec(n_groups, N, sizes)
        params[key] = _value(draw, spec)
    return params


def _dim_strategy(d, n, N, sizes):
    if callable(d) and not isinstance(d, st.SearchStrategy):
        return d(n, N, sizes)
    if isinstance(d, tuple):
        return st.integers(max(1, d[0]), min(N, d[1]))
    table = {
        "any": (1, N),
        "ge_n": (n, N),
        "gt_n": (min(n + 1, N), N),
        "le_n": (1, n),
        "lt_n": (1, max(1, n - 1)),
        "n-1": (max(1, n - 1), max(1, n - 1)),
    }
    lo, hi = table[d]
    return st.integers(lo, hi)


# --------------------------------------------------------------------------- the pytest suite's ranges


def _draw_sizes(draw, *, min_groups, max_groups, min_size, max_size, max_views, balanced):
    """Group sizes: ``n`` groups of sizes in ``[min_size, max_size]``, at most ``max_views`` views in all."""
    n = draw(st.integers(min_groups, max(min_groups, min(max_groups, max_views // max(min_size, 1)))))
    if balanced:
        m = draw(st.integers(min_size, max(min_size, min(max_size, max_views // n))))
        return [m] * n
    sizes = []
    for g in range(n):
        room = max_views - sum(sizes) - min_size * (n - g - 1)
        sizes.append(draw(st.integers(min_size, max(min_size, min(max_size, room)))))
    return sizes


def _suite_kernel_params(draw, kind):
    """Kernel parameters of the solver suite (bandwidths relative to the data's median distance)."""
    if kind in ("rbf", "laplace"):
        return {"bandwidth_factor": draw(_floats(0.3, 3.0))}
    if kind == "polynomial":
        return {"degree": draw(st.integers(1, 4)), "coef0": draw(st.sampled_from([0.5, 1.0, 2.0]))}
    if kind == "arccos":
        return {"order": draw(st.sampled_from([0, 1]))}
    if kind in ("relu_nngp", "relu_ntk"):
        return {"depth": draw(st.integers(1, 3)), "bias_var": draw(st.sampled_from([0.0, 0.1, 1.0]))}
    return {}


@st.composite
def solver_instances(
    draw,
    *,
    kinds=SUITE_KERNELS,
    min_views: int = 2,
    max_views: int = MAX_N,
    max_cond: float = 1e6,
    singular: bool | None = False,
    graphs=("cliques",),
    self_loops: bool | None = True,
    balanced: bool | None = None,
    shuffle: bool | None = None,
    min_size: int = 1,
    max_size: int = 5,
    max_groups: int = 8,
    dim: str = "any",
) -> dict:
    """Parameter dicts with the ranges of the pytest solver suite (build them with :func:`build`).

    Parameters
    ----------
    kinds : iterable of str
        Kernel kinds (:data:`SUITE_KERNELS`); ``singular=True`` restricts to ``linear`` (``p < N``
        Gaussian features, ``points="gaussian"``) and ``spectrum`` (with planted zero eigenvalues).
    max_views : int
        At most this many views (up to ``max_groups`` groups of ``min_size..max_size`` views); at
        least ``min_views`` (singleton groups are added).
    max_cond : float
        Cap on cond(K) (of its non-zero part when singular). Spectra draw cond log-uniformly in
        ``[1, max_cond]`` (smallest non-zero eigenvalue hit exactly, scale 1e-3, 1 or 1e3, a tie at
        the top sometimes); kernels on points get a ridge capping cond(K) at a level drawn
        log-uniformly in ``[1e2, max_cond]``; the singular linear kernel has no ridge (the caller
        filters on ``cond <= max_cond``).
    singular : bool or None
        Rank-deficient ``K`` (True), full rank (False) or either (None).
    graphs : tuple of str
        ``"cliques"`` (unweighted), ``"weighted"`` (cliques with weights uniform in ``[0.2, 1.5]``)
        or ``"random"`` (:func:`adjacency`'s ``random``: each pair an edge with probability 0.51,
        plus the cliques, weights in ``[0.2, 1.5]``).
    self_loops, balanced, shuffle : bool or None
        ``None``: drawn.
    dim : {"any", "rank", "below_groups", "at_least_groups"}
        ``1..N``; ``1..rank(K)`` (hard-constrained objectives); ``1..n-1`` (split ties on
        cliques; needs ``n >= 2``); ``n..N``.
    """
    balanced = draw(st.booleans()) if balanced is None else balanced
    shuffle = draw(st.booleans()) if shuffle is None else shuffle
    sizes = _draw_sizes(
        draw,
        min_groups=2 if dim == "below_groups" else 1,
        max_groups=max_groups,
        min_size=min_size,
        max_size=max_size,
        max_views=max_views,
        balanced=balanced,
    )
    if sum(sizes) < min_views:
        sizes = sizes + [1] * (min_views - sum(sizes))
    N, n = sum(sizes), len(sizes)
    params = {"seed": draw(seeds), "sizes": sizes, "shuffle": shuffle}
    deficient = draw(st.booleans()) if singular is None else singular
    if deficient and N < 2:
        deficient = False
    if deficient:
        kinds = [k for k in kinds if k in ("linear", "spectrum")] or ["linear"]
    kind = draw(st.sampled_from(tuple(kinds)))
    params["kernel"] = kind
    params.update(_suite_kernel_params(draw, kind))
    log10_max = float(np.log10(max_cond))
    if kind == "spectrum":
        rank = draw(st.integers(1, N - 1)) if deficient else N
        params.update(
            rank=rank,
            log10_cond=draw(_floats(0.0, log10_max)),
            scale=draw(st.sampled_from([1e-3, 1.0, 1e3])),
            exact_cond=True,
        )
        if rank > 2 and draw(st.booleans()):
            params["tie"] = draw(st.integers(2, rank))
    elif deficient:
        rank = draw(st.integers(1, max(1, N // 2)))
        params.update(points="gaussian", p=rank, scale=10 ** draw(_floats(-1.0, 1.0)), log10_cond=None)
    else:
        rank = N
        params.update(p=draw(st.integers(1, 5)), scale=10 ** draw(_floats(-1.0, 1.0)), noise=draw(_floats(0.05, 0.6)))
        # Cap drawn log-uniformly in [1e2, max_cond], so capped instances vary in conditioning.
        params["log10_cond"] = draw(_floats(2.0, log10_max)) if max_cond > 1e2 else log10_max
    graph = draw(st.sampled_from(tuple(graphs)))
    loops = draw(st.booleans()) if self_loops is None else self_loops
    params.update(
        graph_kind="cliques" if graph in ("cliques", "weighted") else graph,
        self_loops=loops,
        weighted=graph != "cliques",
    )
    if graph != "cliques":
        params["weight_range"] = [0.2, 1.5]
    if graph == "random":
        params["edge_prob"] = 0.51  # an edge either way with probability 0.3: 1 - 0.7^2
    if dim == "any":
        params["d"] = draw(st.integers(1, N))
    elif dim == "rank":
        params["d"] = draw(st.integers(1, rank))
    elif dim == "below_groups":
        params["d"] = draw(st.integers(1, max(1, n - 1)))
    elif dim == "at_least_groups":
        params["d"] = draw(st.integers(min(n, N), N))
    else:
        raise ValueError(f"unknown dim mode {dim!r}")
    return params


# --------------------------------------------------------------------------- building


@dataclass(eq=False)
class Instance:
    """The matrices of one instance, on the backend (``K``, ``A``) and as host float64 (``Kh``, ``Ah``).

    ``Kh``/``Ah`` are the backend matrices read back, i.e. exactly what the package sees (for
    :data:`HOST`, ``K is``-equal to ``Kh``). ``rank`` is the rank of ``K`` by construction where the
    parameters plant exact zeros (``spectrum`` with ``rank``, ``points="gaussian"``), otherwise the
    number of eigenvalues above ``10 N eps`` of the largest; ``cond`` is the condition number of
    ``K`` on those ``rank`` leading eigenvalues.
    """

    params: dict
    ctx: Context
    rng: np.random.Generator
    labels: np.ndarray
    sizes: np.ndarray
    n: int
    N: int
    X: np.ndarray | None
    base: np.ndarray | None
    K: object
    Kh: np.ndarray
    A: object
    Ah: np.ndarray
    ridge: float
    cond: float
    rank: int
    kernel_fn: Callable | None
    #: The kernel's parameters as passed to it (``bandwidth`` resolved from ``bandwidth_factor``).
    kernel_params: dict = field(default_factory=dict)
    #: ``F`` with ``K = F Fᵀ`` from the construction (host float64, before rounding to the dtype).
    construction_factor: np.ndarray | None = field(default=None, repr=False)

    @property
    def d(self) -> int:
        return int(self.params["d"])

    @property
    def seed(self) -> int:
        return int(self.params["seed"])

    @property
    def is_pd(self) -> bool:
        return self.rank == self.N

    @property
    def self_loops(self) -> bool:
        return bool(self.params.get("self_loops", True))

    @property
    def factor(self) -> np.ndarray:
        r"""``F`` with ``K = F Fᵀ``: the construction's (:math:`Q\Lambda^{1/2}` for spectra, the features
        for ``points="gaussian"``, ``F`` for ``lowrank``) when it has one and no ridge was added,
        else the Cholesky factor of ``Kh``. An independent square root for oracles."""
        if self.construction_factor is not None and self.ridge == 0:
            return self.construction_factor
        return np.linalg.cholesky(self.Kh)

    def with_d(self, d: int) -> Instance:
        """The same instance with objective dimension ``d``."""
        return replace(self, params={**self.params, "d": int(d)})

    def cross(self, Xnew):
        """Backend block :math:`k(X_{new}, X_{train})` of the same kernel (no ridge: new points are new)."""
        if self.kernel_fn is None:
            raise ValueError(f"kernel {self.params['kernel']!r} has no out-of-sample extension")
        ctx = self.ctx
        return self.kernel_fn(ctx.put(Xnew), ctx.put(self.X))

    def fresh_views(self, per_group: int):
        """New augmentations of the base samples: ``(points, labels)``."""
        labels = np.repeat(np.arange(self.n), per_group)
        noise = self.params.get("noise", 0.1)
        pts = self.base[labels] + noise * self.rng.standard_normal((labels.size, self.base.shape[1]))
        return pts, labels

    def test_points(self, m: int, seed: int, spread: float = 0.5) -> np.ndarray:
        """``m`` new points: training points jittered by ``spread`` x their RMS spread (own generator from ``seed``)."""
        rng = np.random.default_rng(seed)
        X = self.X
        s = float(np.sqrt(((X - X.mean(0)) ** 2).sum(1).mean())) or 1.0
        base = X[rng.integers(0, X.shape[0], size=m)]
        return base + spread * s * rng.standard_normal(base.shape) / np.sqrt(X.shape[1])

    def indicators(self) -> np.ndarray:
        E = np.zeros((self.N, self.n))
        E[np.arange(self.N), self.labels] = 1.0
        return E

    def __repr__(self):
        return (
            f"Instance(N={self.N}, rank={self.rank}, cond={self.cond:.3g}, ridge={self.ridge:.3g}, "
            f"ctx={self.ctx.backend}/{self.ctx.dtype}, params={self.params})"
        )


def make_labels(params, rng) -> np.ndarray:
    sizes = params["sizes"]
    labels = np.repeat(np.arange(len(sizes)), sizes)
    if params.get("shuffle"):
        labels = labels[rng.permutation(labels.size)]
    return labels


_KERNEL_KEYS = {
    "rbf": ("bandwidth",),
    "laplace": ("bandwidth",),
    "polynomial": ("degree", "coef0"),
    "arccos": ("order",),
    "relu_nngp": ("depth", "bias_var"),
    "relu_ntk": ("depth", "bias_var"),
    "linear": (),
}


def _canonical(params: dict) -> dict:
    """``params`` with a legacy kernel name (:data:`LEGACY_KERNELS`) replaced by the package's name."""
    kind = params.get("kernel")
    if kind in LEGACY_KERNELS:
        name, extra = LEGACY_KERNELS[kind]
        return {**params, **extra, "kernel": name}
    return params


def _kernel_function(params, X=None):
    """``(k, kwargs)``: ``k(X, Y=None)`` evaluating the kernel of :mod:`kssl_theory.kernels` named by ``params``."""
    import kssl_theory as kt

    kind = params["kernel"]
    if kind not in _KERNEL_KEYS:
        return None, {}
    kwargs = {key: params[key] for key in _KERNEL_KEYS[kind] if key in params}
    if "bandwidth_factor" in params:
        dist = np.sqrt(((X[:, None, :] - X[None, :, :]) ** 2).sum(-1))
        iu = np.triu_indices(X.shape[0], 1)
        med = float(np.median(dist[iu])) if iu[0].size else 1.0
        kwargs["bandwidth"] = params["bandwidth_factor"] * (med if med > 0 else 1.0)
    fn = getattr(kt.kernels, kind)
    return (lambda X, Y=None: fn(X, Y, **kwargs)), kwargs


def ridge_for(w: np.ndarray, log10_cond: float) -> float:
    """Smallest ridge ``δ >= 0`` with ``(λmax + δ) / (λmin + δ) <= 10^log10_cond``."""
    cap = 10.0 ** max(log10_cond, 0.1)
    lmin, lmax = float(w[0]), float(w[-1])
    if lmax <= 0:
        return 1.0
    if lmin > 0 and lmax / lmin <= cap:
        return 0.0
    return max((lmax - cap * lmin) / (cap - 1), 0.0)


def spectrum_factors(params: dict, rng, N: int, log10_cond: float):
    """Eigenvalues (construction order: non-zero ones first) and Haar eigenvectors of a ``spectrum`` kernel.

    ``λ = scale · 10^(-log10_cond · u)`` with ``u`` uniform, the largest exactly ``scale``; options
    ``exact_cond`` (smallest non-zero one exactly ``scale · 10^-log10_cond``), ``tie`` (the ``tie``
    largest equal) and ``rank`` (``N - rank`` exact zeros appended).
    """
    r = int(params.get("rank", N))
    u = rng.uniform(0, 1, r)
    u[np.argmin(u)] = 0.0
    if params.get("exact_cond") and r > 1:
        u[np.argmax(u)] = 1.0
    tie = int(params.get("tie", 0))
    if tie > 1:
        u[np.argsort(u)[:tie]] = 0.0
    lam = 10.0 ** (-log10_cond * u)
    if "scale" in params:
        lam = params["scale"] * lam
    lam = np.concatenate([lam, np.zeros(N - r)])
    return lam, random_orthogonal(rng, N)


def build(params: dict, ctx: Context, *, with_graph: bool = True) -> Instance:
    """Build the instance described by ``params`` on ``ctx``'s backend (see the module docstring)."""
    params = _canonical(params)
    rng = np.random.default_rng(params["seed"])
    labels = make_labels(params, rng)
    sizes = np.asarray(params["sizes"], dtype=np.int64)
    n, N = len(sizes), labels.size
    kind = params["kernel"]
    X = base = None
    kernel_fn, kernel_params = None, {}
    factor = None
    exact_rank = None
    xp = ctx.xp
    if kind in KERNEL_FUNCTIONS:
        p = params.get("p", 2)
        if params.get("points") == "gaussian":
            X = rng.standard_normal((N, p))
            if kind == "linear":
                exact_rank = min(p, N)
        else:
            base = rng.standard_normal((n, p))
            X = base[labels] + params.get("noise", 0.1) * rng.standard_normal((N, p))
        if "scale" in params:
            X = params["scale"] * X
        kernel_fn, kernel_params = _kernel_function(params, X)
        K = kernel_fn(ctx.put(X))
        if kind == "linear" and exact_rank is not None and p <= N:
            factor = X  # K = X Xᵀ with X of full column rank p: a thin factor (else Cholesky, see Instance.factor)
    elif kind == "spectrum":
        lc = min(params.get("log10_cond", 3.0), ctx.max_log10_cond)
        lam, Q = spectrum_factors(params, rng, N, lc)
        K = ctx.put((Q * lam) @ Q.T)
        r = int(params.get("rank", N))
        factor = Q[:, :r] * np.sqrt(lam[:r])
        if "rank" in params:
            exact_rank = r
    elif kind == "lowrank":
        r = int(params.get("rank", max(1, N // 2)))
        F = random_orthogonal(rng, N)[:, :r] * rng.uniform(0.3, 1.0, r)
        K = ctx.put(F @ F.T)
        factor = F
    elif kind in ADVERSARIAL_KERNELS:
        Kad, factor = _adversarial_kernel(kind, params, rng, labels, n, N, ctx)
        K = ctx.put(Kad)
    else:
        raise ValueError(f"unknown kernel kind {kind!r}")
    K = (K + K.T) / 2
    ridge = 0.0
    if params.get("ridge"):
        ridge = float(params["ridge"])  # a fixed white-noise term, before any cap
        K = K + ridge * xp.eye(N, dtype=K.dtype)
    w = np.linalg.eigvalsh(ctx.get(K))
    if kind in ("near_duplicates", "rbf_wide"):
        cap = ADVERSARIAL_LOG10_COND[ctx.dtype]
        extra = ridge_for(w, min(params.get("log10_cond", cap), cap))
        if extra > 0:
            ridge += extra
            K = K + extra * xp.eye(N, dtype=K.dtype)
            w = np.linalg.eigvalsh(ctx.get(K))
    elif kind in ("lowrank", "graded", "lowrank_ridge") or params.get("log10_cond", 0.0) is None:
        pass
    elif kind == "spectrum" and (exact_rank is not None or params.get("exact_cond")):
        pass  # the construction fixes the condition number (and planted zeros must stay zeros)
    else:
        lc = min(params.get("log10_cond", ctx.max_log10_cond), ctx.max_log10_cond)
        extra = ridge_for(w, lc)
        if extra > 0:
            ridge += extra
            K = K + extra * xp.eye(N, dtype=K.dtype)
            w = np.linalg.eigvalsh(ctx.get(K))
    if ridge > 0:
        exact_rank = None  # a ridge fills the planted zeros
    if exact_rank is None:
        positive = w[w > 10 * N * ctx.eps * w[-1]]
        cond = float(w[-1] / positive[0])
        rank = int(positive.size)
    else:
        rank = exact_rank
        cond = float(w[-1] / w[N - rank])
    Kh = ctx.get(K)
    if with_graph:
        Ah_exact = adjacency(labels, params, rng)
        A = ctx.put(Ah_exact)
        Ah = ctx.get(A)
    else:
        A, Ah = None, None
    return Instance(
        params,
        ctx,
        rng,
        labels,
        sizes,
        n,
        N,
        X,
        base,
        K,
        Kh,
        A,
        Ah,
        ridge,
        cond,
        rank,
        kernel_fn,
        kernel_params,
        factor,
    )


def _adversarial_kernel(kind, params, rng, labels, n, N, ctx):
    """Host float64 Gram matrix of an adversarial kind (module docstring) and its construction factor (or None)."""
    cap = ADVERSARIAL_LOG10_COND[ctx.dtype]
    lc = min(float(params.get("log10_cond", cap)), cap)
    if kind == "graded":
        lam = 10.0 ** (-lc * np.arange(N) / max(N - 1, 1))
        Q = random_orthogonal(rng, N)
        return (Q * lam) @ Q.T, Q * np.sqrt(lam)
    if kind == "lowrank_ridge":
        r = int(params.get("rank", max(1, N // 2)))
        F = random_orthogonal(rng, N)[:, :r] * rng.uniform(0.3, 1.0, r)
        K = F @ F.T
        return K + 10.0 ** (-lc) * np.linalg.eigvalsh(K)[-1] * np.eye(N), None
    p = params.get("p", 2)
    base = rng.standard_normal((n, p))
    X = base[labels] + params.get("noise", 0.1) * rng.standard_normal((N, p))
    if kind == "near_duplicates":
        # Every second view is a near copy of the one before it.
        gaps = 10.0 ** rng.uniform(-6, -3, N // 2)
        X[1::2][: gaps.size] = X[0::2][: gaps.size] + gaps[:, None] * rng.standard_normal((gaps.size, p))
        bandwidth = 1.0
    else:
        bandwidth = 10.0 ** rng.uniform(np.log10(3.0), np.log10(30.0))
    sq = np.sum((X[:, None, :] - X[None, :, :]) ** 2, axis=-1)
    return np.exp(-sq / (2 * bandwidth**2)), None


def clique_adjacency(groups, *, self_loops: bool = True) -> np.ndarray:
    """:math:`A_{ij} = [g_i = g_j]` (diagonal 0 without self-loops), in plain NumPy (docs/theory.md §1)."""
    g = np.asarray(groups)
    A = (g[:, None] == g[None, :]).astype(np.float64)
    if not self_loops:
        np.fill_diagonal(A, 0.0)
    return A


def _graph_pattern(labels: np.ndarray, kind: str, rng, edge_prob: float = 0.3) -> np.ndarray:
    """0/1 edge pattern (with unit diagonal) of a ``graph_kind`` (module docstring)."""
    N = labels.size
    same = clique_adjacency(labels)
    if kind == "cliques":
        return same
    if kind == "isolated":
        cut = rng.choice(N, size=min(N - 1, int(rng.integers(1, 3))), replace=False) if N > 1 else []
        same[cut, :] = 0.0
        same[:, cut] = 0.0
        return same
    if kind == "knn":
        P = rng.standard_normal((N, 2))
        dist = np.sum((P[:, None] - P[None, :]) ** 2, axis=-1)
        np.fill_diagonal(dist, np.inf)
        A = np.eye(N)
        for i in range(N):
            A[i, np.argsort(dist[i])[: min(2, N - 1)]] = 1.0
        return np.maximum(A, A.T)
    if kind in ("sparse", "disconnected", "random"):
        E = (rng.uniform(size=(N, N)) < edge_prob).astype(np.float64)
        E = np.triu(E, 1)
        E = E + E.T + np.eye(N)
        if kind == "disconnected":
            half = np.arange(N) < N // 2
            E = E * (half[:, None] == half[None, :])
        if kind == "random":
            E = np.maximum(E, same)
        return E
    raise ValueError(f"unknown graph_kind {kind!r}")


def adjacency(labels: np.ndarray, params: dict, rng) -> np.ndarray:
    """Host oracle for the relation matrix (independent of :mod:`kssl_theory.graphs`)."""
    kind = params.get("graph_kind", "cliques")
    A = _graph_pattern(labels, "cliques" if kind == "signed" else kind, rng, params.get("edge_prob", 0.3))
    if kind == "signed":
        W = rng.uniform(-1.0, 1.0, A.shape)
        A = A * (W + W.T) / 2
    if params.get("weighted"):
        lo, hi = params.get("weight_range", (0.5, 2.0))
        W = rng.uniform(lo, hi, A.shape)
        A = A * (W + W.T) / 2
    if not params.get("self_loops", True):
        np.fill_diagonal(A, 0.0)
    if params.get("normalized"):
        deg = A.sum(axis=1)
        s = np.where(deg > 0, 1 / np.sqrt(np.where(deg > 0, deg, 1)), 0.0)
        A = s[:, None] * A * s[None, :]
    return A


# --------------------------------------------------------------------------- PSD matrices, labels, views


@dataclass(frozen=True, eq=False)
class PSDMatrix:
    """A PSD matrix ``M = Q diag(w) Q^T`` with its exact eigendecomposition (``w`` descending).

    ``M`` is symmetrised after the product (the product alone is symmetric only to round-off).
    """

    M: np.ndarray
    w: np.ndarray
    Q: np.ndarray
    rank: int
    seed: int
    params: dict = field(default_factory=dict, repr=False)

    @property
    def cond(self) -> float:
        """Condition number of the non-zero part."""
        return float(self.w[0] / self.w[self.rank - 1])

    def __repr__(self):
        return f"PSDMatrix(n={self.M.shape[0]}, rank={self.rank}, cond={self.cond:.3g}, params={self.params})"


def build_psd(params: dict) -> PSDMatrix:
    """The :class:`PSDMatrix` of a ``spectrum`` parameter dict (``sizes`` gives ``n``; float64, no cap)."""
    rng = np.random.default_rng(params["seed"])
    n = int(sum(params["sizes"]))
    lam, Q = spectrum_factors(params, rng, n, float(params["log10_cond"]))
    order = np.argsort(-lam, kind="stable")
    w, Q = lam[order], Q[:, order]
    M = (Q * w[None, :]) @ Q.T
    return PSDMatrix((M + M.T) / 2, w, Q, int(params.get("rank", n)), int(params["seed"]), params)


@st.composite
def psd_matrices(
    draw,
    *,
    min_n: int = 1,
    max_n: int = MAX_N,
    n: int | None = None,
    max_cond: float = 1e6,
    rank_deficient: bool | None = False,
) -> PSDMatrix:
    """Random PSD matrix :math:`Q\\Lambda Q^T` (``spectrum`` parameters); ``rank_deficient=None`` draws either kind.

    cond(non-zero part) log-uniform in ``[1, max_cond]``, hit exactly; eigenvalue scale 1e-3, 1 or
    1e3; sometimes a tie at the top; rank-deficient: ``1..n-1`` non-zero eigenvalues.
    """
    n = draw(st.integers(min_n, max_n)) if n is None else n
    deficient = draw(st.booleans()) if rank_deficient is None else rank_deficient
    rank = draw(st.integers(1, n - 1)) if deficient and n > 1 else n
    params = {
        "seed": draw(seeds),
        "sizes": [n],
        "kernel": "spectrum",
        "rank": rank,
        "log10_cond": draw(_floats(0.0, float(np.log10(max_cond)))),
        "scale": draw(st.sampled_from([1e-3, 1.0, 1e3])),
        "exact_cond": True,
    }
    if rank > 2 and draw(st.booleans()):
        params["tie"] = draw(st.integers(2, rank))
    return build_psd(params)


@st.composite
def group_vectors(
    draw,
    *,
    min_groups: int = 1,
    max_groups: int = 8,
    min_size: int = 1,
    max_size: int = 5,
    max_views: int = MAX_N,
    balanced: bool | None = None,
    shuffle: bool | None = None,
) -> np.ndarray:
    """Group labels (one per view): ``n`` groups of sizes in ``[min_size, max_size]``, ``N <= max_views``.

    ``balanced=True`` gives equal sizes (cliques of size ``m``); ``False`` independent sizes
    (possibly equal by chance); ``None`` either. Labels are sorted by group unless ``shuffle``,
    in which case views are permuted and labels are arbitrary non-negative integers (not 0..n-1).
    """
    balanced = draw(st.booleans()) if balanced is None else balanced
    shuffle = draw(st.booleans()) if shuffle is None else shuffle
    sizes = _draw_sizes(
        draw,
        min_groups=min_groups,
        max_groups=max_groups,
        min_size=min_size,
        max_size=max_size,
        max_views=max_views,
        balanced=balanced,
    )
    labels = np.repeat(np.arange(len(sizes)), sizes)
    if shuffle:
        rng = np.random.default_rng(draw(seeds))
        names = rng.choice(1000, size=len(sizes), replace=False)
        labels = names[labels][rng.permutation(labels.size)]
    return labels.astype(np.int64)


def invariant_views(class_codes: np.ndarray, m: int, rng) -> tuple[np.ndarray, np.ndarray]:
    """[IR] An invariant encoder's views: every class code replicated ``m`` times, views shuffled.

    Returns ``(codes of the views, their class labels)``.
    """
    C = class_codes.shape[0]
    groups = np.repeat(np.arange(C), m)
    perm = rng.permutation(groups.size)
    return class_codes[groups[perm]], groups[perm]
