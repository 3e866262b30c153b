r"""Parameter strategies and the instance builder shared by the kernel-regime claims.

A claim never draws matrices from Hypothesis directly. Hypothesis draws a small, readable,
JSON-serialisable **parameter dict** and :func:`build` turns it into matrices with
``numpy.random.default_rng(params["seed"])``; a counterexample is therefore just that dict.

Parameters (all optional except ``seed``)
-----------------------------------------
``seed``
    NumPy seed for everything random in the instance.
``sizes``
    Views per base sample (group sizes), e.g. ``[3, 3, 3]`` for ``n = 3`` groups of ``m = 3``.
``shuffle``
    Views in random order instead of sorted by group.
``kernel``
    ``rbf``, ``laplace``, ``polynomial``, ``arccos1``, ``nngp``, ``ntk`` (on drawn points),
    ``spectrum`` (``K = Q diag(λ) Qᵀ`` with log-uniform ``λ`` in ``[10^-log10_cond, 1]``) or
    ``lowrank`` (``K = F Fᵀ`` with ``F`` of rank ``rank``, singular on purpose).
``bandwidth``, ``degree``, ``p``, ``noise``
    Kernel bandwidth (RBF, Laplace), polynomial degree, input dimension of the points, and the
    augmentation noise: view = base point + ``noise`` × standard normal (base points are
    standard normal in ``R^p``).
``log10_cond``
    Cap on :math:`\log_{10}\kappa(K)`: a ridge :math:`\delta I` is added when needed (a white-noise
    kernel term, so ``k(x, x')`` for new points is unchanged). It is further capped per dtype
    (:attr:`proofs_check.checking.Context.max_log10_cond`).
    The adversarial kinds ``graded`` (``λ_i = 10^{-log10_cond·i/(N-1)}``, exactly graded),
    ``near_duplicates`` (RBF, pairs of views ``1e-6``–``1e-3`` apart), ``rbf_wide`` (RBF with
    bandwidth 3–30) and ``lowrank_ridge`` (rank ``rank`` plus ``10^-log10_cond`` times the largest
    eigenvalue) are capped at :data:`ADVERSARIAL_LOG10_COND` instead.
``self_loops``, ``weighted``, ``normalized``
    Graph options: diagonal of ``A`` 1 or 0; edge weights uniform in ``[0.5, 2]``; symmetric
    normalisation :math:`D^{-1/2}AD^{-1/2}`.
``graph_kind``
    ``cliques`` (default: ``A_ij = 1`` iff same group), ``knn`` (symmetrised 2-nearest-neighbour
    graph of random points), ``sparse`` (each pair an edge with probability 0.3), ``disconnected``
    (a random graph on each half of the views, nothing between them) or ``isolated`` (cliques with
    one or two views cut off: zero rows) or ``signed`` (cliques with weights uniform in
    ``[-1, 1]``: the closed forms of O1–O3 hold for any symmetric ``A``); weights and self-loops
    as above.
``d``, ``reg``, ``beta``, ...
    Objective options, passed through.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import numpy as np
from hypothesis import strategies as st

from .checking import Context

__all__ = [
    "POINT_KERNELS",
    "ALL_KERNELS",
    "ADVERSARIAL_KERNELS",
    "ADVERSARIAL_LOG10_COND",
    "GRAPH_KINDS",
    "seeds",
    "instances",
    "Instance",
    "build",
]

POINT_KERNELS = ("rbf", "laplace", "polynomial", "arccos1", "nngp", "ntk")
#: Ill-conditioned kernels where users live (THEORY.md §3 accuracy; the trust issue): a geometric
#: (graded) spectrum, RBF on near-duplicate points, a wide-bandwidth RBF and a rank-deficient
#: kernel plus a tiny ridge. Their condition number reaches ``10^log10_cond`` up to
#: :data:`ADVERSARIAL_LOG10_COND` of the dtype (not the ordinary per-dtype cap).
ADVERSARIAL_KERNELS = ("graded", "near_duplicates", "rbf_wide", "lowrank_ridge")
#: Largest log10 condition number of the adversarial kernels, per dtype.
ADVERSARIAL_LOG10_COND = {"float64": 12.0, "float32": 5.0}
#: Relation graphs beyond the clique graph (``graph_kind``).
GRAPH_KINDS = ("cliques", "knn", "sparse", "disconnected", "isolated", "signed")
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
def instances(draw, *, n=(2, 4), m=(1, 3), balanced=None, kernels=ALL_KERNELS, graph="any",
              d="any", log10_cond=(0.5, 6.0), shuffle=True, positive_degree=False, **extra):
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
        ``clique``: self-loops, unit weights, unnormalised (the clique graph of THEORY.md §1).
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
        params.update(self_loops=draw(st.booleans()), weighted=draw(st.booleans()),
                      normalized=draw(st.booleans()))
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


# --------------------------------------------------------------------------- building


@dataclass
class Instance:
    """The matrices of one instance, on the backend (``K``, ``A``) and as host float64 (``Kh``, ``Ah``).

    ``Kh``/``Ah`` are the backend matrices read back, i.e. exactly what the package sees.
    ``cond`` is the condition number of ``K`` on its range (eigenvalues above ``10 N eps``
    of the largest) and ``rank`` the number of those eigenvalues.
    """

    params: dict
    ctx: Context
    rng: np.random.Generator
    labels: np.ndarray
    sizes: list
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

    @property
    def d(self) -> int:
        return int(self.params["d"])

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

    def indicators(self) -> np.ndarray:
        E = np.zeros((self.N, self.n))
        E[np.arange(self.N), self.labels] = 1.0
        return E


def make_labels(params, rng) -> np.ndarray:
    sizes = params["sizes"]
    labels = np.repeat(np.arange(len(sizes)), sizes)
    if params.get("shuffle"):
        labels = labels[rng.permutation(labels.size)]
    return labels


def _kernel_function(params):
    import kssl_theory as kt

    kind = params["kernel"]
    if kind == "rbf":
        return lambda X, Y=None: kt.kernels.rbf(X, Y, bandwidth=params["bandwidth"])
    if kind == "laplace":
        return lambda X, Y=None: kt.kernels.laplace(X, Y, bandwidth=params["bandwidth"])
    if kind == "polynomial":
        return lambda X, Y=None: kt.kernels.polynomial(X, Y, degree=params["degree"])
    if kind == "arccos1":
        return lambda X, Y=None: kt.kernels.arccos(X, Y, order=1)
    if kind == "nngp":
        return lambda X, Y=None: kt.kernels.relu_nngp(X, Y, bias_var=0.1)
    if kind == "ntk":
        return lambda X, Y=None: kt.kernels.relu_ntk(X, Y, bias_var=0.1)
    return None


def ridge_for(w: np.ndarray, log10_cond: float) -> float:
    """Smallest ridge ``δ >= 0`` with ``(λmax + δ) / (λmin + δ) <= 10^log10_cond``."""
    cap = 10.0 ** max(log10_cond, 0.1)
    lmin, lmax = float(w[0]), float(w[-1])
    if lmax <= 0:
        return 1.0
    if lmin > 0 and lmax / lmin <= cap:
        return 0.0
    return max((lmax - cap * lmin) / (cap - 1), 0.0)


def build(params: dict, ctx: Context, *, with_graph: bool = True) -> Instance:
    """Build the instance described by ``params`` on ``ctx``'s backend (see the module docstring)."""
    rng = np.random.default_rng(params["seed"])
    labels = make_labels(params, rng)
    sizes = list(params["sizes"])
    n, N = len(sizes), labels.size
    kind = params["kernel"]
    X = base = None
    kernel_fn = _kernel_function(params)
    xp = ctx.xp
    if kind in POINT_KERNELS:
        p = params.get("p", 2)
        base = rng.standard_normal((n, p))
        X = base[labels] + params.get("noise", 0.1) * rng.standard_normal((N, p))
        K = kernel_fn(ctx.put(X))
    elif kind == "spectrum":
        lc = min(params.get("log10_cond", 3.0), ctx.max_log10_cond)
        lam = 10.0 ** (-lc * rng.uniform(0, 1, N))
        lam[np.argmax(lam)] = 1.0
        Q = _orth(rng, N)
        K = ctx.put((Q * lam) @ Q.T)
    elif kind == "lowrank":
        r = int(params.get("rank", max(1, N // 2)))
        F = _orth(rng, N)[:, :r] * rng.uniform(0.3, 1.0, r)
        K = ctx.put(F @ F.T)
    elif kind in ADVERSARIAL_KERNELS:
        K = ctx.put(_adversarial_kernel(kind, params, rng, labels, n, N, ctx))
    else:
        raise ValueError(f"unknown kernel kind {kind!r}")
    K = (K + K.T) / 2
    ridge = 0.0
    w = np.linalg.eigvalsh(ctx.get(K))
    if kind in ("near_duplicates", "rbf_wide"):
        cap = ADVERSARIAL_LOG10_COND[ctx.dtype]
        ridge = ridge_for(w, min(params.get("log10_cond", cap), cap))
        if ridge > 0:
            K = K + ridge * xp.eye(N, dtype=K.dtype)
            w = np.linalg.eigvalsh(ctx.get(K))
    elif kind not in ("lowrank", "graded", "lowrank_ridge"):
        lc = min(params.get("log10_cond", ctx.max_log10_cond), ctx.max_log10_cond)
        ridge = ridge_for(w, lc)
        if ridge > 0:
            K = K + ridge * xp.eye(N, dtype=K.dtype)
            w = np.linalg.eigvalsh(ctx.get(K))
    positive = w[w > 10 * N * ctx.eps * w[-1]]
    cond = float(w[-1] / positive[0])
    rank = int(positive.size)
    Kh = ctx.get(K)
    if with_graph:
        Ah_exact = adjacency(labels, params, rng)
        A = ctx.put(Ah_exact)
        Ah = ctx.get(A)
    else:
        A, Ah = None, None
    return Instance(params, ctx, rng, labels, sizes, n, N, X, base, K, Kh, A, Ah, ridge, cond, rank, kernel_fn)


def _adversarial_kernel(kind, params, rng, labels, n, N, ctx) -> np.ndarray:
    """Host float64 Gram matrix of an adversarial kind (module docstring)."""
    cap = ADVERSARIAL_LOG10_COND[ctx.dtype]
    lc = min(float(params.get("log10_cond", cap)), cap)
    if kind == "graded":
        lam = 10.0 ** (-lc * np.arange(N) / max(N - 1, 1))
        Q = _orth(rng, N)
        return (Q * lam) @ Q.T
    if kind == "lowrank_ridge":
        r = int(params.get("rank", max(1, N // 2)))
        F = _orth(rng, N)[:, :r] * rng.uniform(0.3, 1.0, r)
        K = F @ F.T
        return K + 10.0 ** (-lc) * np.linalg.eigvalsh(K)[-1] * np.eye(N)
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
    return np.exp(-sq / (2 * bandwidth**2))


def _orth(rng, n):
    Q, R = np.linalg.qr(rng.standard_normal((n, n)))
    return Q * np.sign(np.diag(R))


def _graph_pattern(labels: np.ndarray, kind: str, rng) -> np.ndarray:
    """0/1 edge pattern (with unit diagonal) of a ``graph_kind`` (module docstring)."""
    N = labels.size
    same = (labels[:, None] == labels[None, :]).astype(np.float64)
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
    if kind in ("sparse", "disconnected"):
        E = (rng.uniform(size=(N, N)) < 0.3).astype(np.float64)
        E = np.triu(E, 1)
        E = E + E.T + np.eye(N)
        if kind == "disconnected":
            half = np.arange(N) < N // 2
            E = E * (half[:, None] == half[None, :])
        return E
    raise ValueError(f"unknown graph_kind {kind!r}")


def adjacency(labels: np.ndarray, params: dict, rng) -> np.ndarray:
    """Host oracle for the relation matrix (independent of :mod:`kssl_theory.graphs`)."""
    kind = params.get("graph_kind", "cliques")
    A = _graph_pattern(labels, "cliques" if kind == "signed" else kind, rng)
    if kind == "signed":
        W = rng.uniform(-1.0, 1.0, A.shape)
        A = A * (W + W.T) / 2
    if params.get("weighted"):
        W = rng.uniform(0.5, 2.0, A.shape)
        A = A * (W + W.T) / 2
    if not params.get("self_loops", True):
        np.fill_diagonal(A, 0.0)
    if params.get("normalized"):
        deg = A.sum(axis=1)
        s = np.where(deg > 0, 1 / np.sqrt(np.where(deg > 0, deg, 1)), 0.0)
        A = s[:, None] * A * s[None, :]
    return A
