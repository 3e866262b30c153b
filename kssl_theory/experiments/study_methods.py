r"""Building blocks of the downstream study (:mod:`kssl_theory.experiments.study`).

One *task* (:func:`make_study_task`) is one data set and one seed: a class-balanced draw of base
points, a stratified split into training and test base points, ``m`` augmented views of every
training point (the SSL training set, ``N = n m`` rows), a base kernel fixed on the training views
(RBF with the median-heuristic bandwidth ``h``), the three relation graphs, and *fresh* views of
test points drawn with a seed disjoint from the training views (for the alignment metrics).

One *method* (:class:`Method`) is one representation of the predeclared grid (:func:`method_grid`):
the base kernel, kernel PCA, LabelSpreading, an SSL optimum of O1–O4 (docs/theory.md §3), or
one of the two theorem checks. :func:`run_method` computes one method on one task and returns a
JSON-ready dict; the study caches these dicts per (data set, seed, method).

Quantities (docs/theory.md §3, §4, §6) computed for every representation:

- *alignment* and *decorrelation* (:mod:`kssl_theory.kernel_regime.metrics`) of the representation's
  kernel on fresh test-time views;
- *idealized* (docs/theory.md §6, :func:`kssl_theory.bridge.idealization`): training codes invariant on
  each augmentation group with affinely independent group codes;
- the *effective rank* of the training Gram matrix (:func:`effective_rank`);
- the spectrum of the objective's target / spectral matrix (``Solution.eigenvalues``), its
  relative gap at the cut ``d`` (:func:`relative_gap`) and the number of dimensions the optimum
  actually uses (the soft objectives zero the columns beyond the positive target eigenvalues,
  docs/theory.md §3, "From G* to a representation").

Statistics: :func:`paired_ci` (paired differences with a t-interval over seeds) and
:func:`spearman` (rank correlation across configurations).
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import pathlib
import tempfile
import time
import warnings
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np

from .. import backend as _backend
from .. import kernels as _kernels
from ..bridge import idealization
from ..errors import InputError
from ..graphs import adjacency, indicators
from ..idealized import is_idealized
from ..kernel_regime.metrics import alignment, decorrelation
from . import probes as _probes
from .datasets import stratified_split
from .digits import LABELS_PER_CLASS, Config, knn_graph, krr_accuracies, label_seed, solve_config

__all__ = [
    "LABELS_PER_CLASS",
    "OBJECTIVES",
    "GRAPHS",
    "DIMS",
    "RHO",
    "LABEL_SPREADING",
    "Method",
    "method_grid",
    "StudyTask",
    "make_study_task",
    "penalty_for_rule",
    "kernel_pca",
    "effective_rank",
    "relative_gap",
    "paired_ci",
    "spearman",
    "run_method",
    "cache_key",
    "cache_path",
    "read_cache",
    "write_cache",
]

#: SSL objectives of the grid: (short name, objective, option preset). ``reg="rule"`` is the
#: penalty of :func:`penalty_for_rule`; ``beta`` is a multiple of ``1/m``.
OBJECTIVES: tuple[tuple[str, str, dict[str, float | str]], ...] = (
    ("O1", "contrastive", {"reg": 0.0}),
    ("O1", "contrastive", {"reg": "rule"}),
    ("O2", "vicreg", {"reg": 0.0, "beta": "1/m"}),
    ("O2", "vicreg", {"reg": 0.0, "beta": "4/m"}),
    ("O3", "laplacian_eigenmaps", {}),
    ("O4", "whitened", {}),
)
#: Relation graphs: augmentation cliques, the kernel-kNN graph between base samples spread to all
#: their views, and their union.
GRAPHS = ("clique", "knn", "union")
#: Embedding dimensions, as a rule of the number of classes ``C`` and of training base samples ``n``.
DIMS = ("C", "4C", "n")
#: ``ρ`` of the penalty rule (:func:`penalty_for_rule`), fixed before any run.
RHO = 1e-3
#: LabelSpreading's settings (scikit-learn's defaults, not tuned).
LABEL_SPREADING = {"alpha": 0.2, "max_iter": 30}
#: Version of the computation of one cached result; bump it when :func:`run_method` changes.
CACHE_VERSION = 2


@dataclass(frozen=True)
class Method:
    """One representation (or theorem check) of the study's grid.

    Attributes
    ----------
    kind : {"base", "kpca", "label_spreading", "ssl", "check"}
    objective : str or None
        ``kind == "ssl"``: an objective of :func:`kssl_theory.solve`; ``kind == "check"``: the
        check's name (``"duality"`` or ``"kernel_independence"``).
    graph : str or None
        One of :data:`GRAPHS` (SSL only).
    dim : str or None
        One of :data:`DIMS` (SSL and kernel PCA).
    reg : float or "rule"
        ``λ`` of O1/O2; ``"rule"`` is :func:`penalty_for_rule`.
    beta : str or None
        ``β`` of O2 as ``"1/m"`` or ``"4/m"``.
    """

    kind: str
    objective: str | None = None
    graph: str | None = None
    dim: str | None = None
    reg: float | str = 0.0
    beta: str | None = None

    @property
    def short(self) -> str:
        """``O1`` … ``O4`` for an SSL method, else ``""``."""
        return next((s for s, obj, _ in OBJECTIVES if obj == self.objective), "") if self.kind == "ssl" else ""

    @property
    def label(self) -> str:
        """Row name in the tables, e.g. ``"O1 clique d=n λ=0"`` or ``"O2 knn d=C β=4/m"``."""
        if self.kind == "base":
            return "base kernel"
        if self.kind == "kpca":
            return f"KernelPCA d={self.dim}"
        if self.kind == "label_spreading":
            return (
                "LabelSpreading (transductive)" if self.graph is None else f"LabelSpreading {self.graph} (transductive)"
            )
        if self.kind == "check":
            return f"check: {self.objective}"
        if self.kind != "ssl":
            return self.kind
        parts = [self.short, str(self.graph), f"d={self.dim}"]
        if self.objective == "contrastive":
            parts.append("λ=0" if self.reg == 0 else f"λ={self.reg}")
        if self.objective == "vicreg":
            parts.append(f"β={self.beta}")
        return " ".join(parts)

    @property
    def slug(self) -> str:
        """File-name-safe form of :attr:`label`."""
        table = {"λ": "lam", "β": "beta", "=": "", "/": "_", " ": "-", "(": "", ")": "", ":": ""}
        return "".join(table.get(ch, ch) for ch in self.label)

    def spec(self) -> dict:
        """Every field, for the cache key."""
        return asdict(self)


def method_grid() -> list[Method]:
    """The predeclared grid: references, every SSL combination, and the two theorem checks.

    References: the base kernel, kernel PCA at every ``d`` of :data:`DIMS`, LabelSpreading. SSL:
    every objective preset of :data:`OBJECTIVES` × graph of :data:`GRAPHS` × dimension of
    :data:`DIMS` (6 × 3 × 3 = 54). Checks: ``duality`` (docs/theory.md §3 O2) and
    ``kernel_independence`` (docs/theory.md §2).
    """
    grid = [
        Method("base"),
        *(Method("kpca", dim=d) for d in DIMS),
        Method("label_spreading"),
        Method("label_spreading", graph="knn"),
    ]
    for _, objective, preset in OBJECTIVES:
        beta = preset.get("beta")
        for graph in GRAPHS:
            for d in DIMS:
                grid.append(
                    Method("ssl", objective, graph, d, preset.get("reg", 0.0), None if beta is None else str(beta))
                )
    grid += [Method("check", "duality"), Method("check", "kernel_independence")]
    return grid


# --------------------------------------------------------------------------------------------------
# the task of one (data set, seed)


@dataclass
class StudyTask:
    """Everything one (data set, seed) needs; built by :func:`make_study_task`.

    Kernel blocks use the base kernel :math:`k` (RBF, bandwidth ``h``): ``K`` views × views (the
    SSL Gram matrix of docs/theory.md §1), ``K_train`` clean training points × views, ``K_test`` test
    points × views, ``K_fresh`` fresh test views × views, ``Kb_*`` among base points, ``Kf_fresh``
    fresh views × fresh views.
    """

    dataset: str
    seed: int
    n_classes: int
    n_views: int
    X_train: np.ndarray
    y_train: np.ndarray
    X_test: np.ndarray
    y_test: np.ndarray
    views: np.ndarray
    groups: np.ndarray
    fresh: np.ndarray
    fresh_groups: np.ndarray
    bandwidth: float
    K: np.ndarray
    K_train: np.ndarray
    K_test: np.ndarray
    K_fresh: np.ndarray
    Kb_train: np.ndarray
    Kb_test: np.ndarray
    Kf_fresh: np.ndarray
    ks: tuple[int, ...]
    graphs: dict = field(default_factory=dict)
    info: dict = field(default_factory=dict)

    @property
    def n(self) -> int:
        """Number of training base samples."""
        return int(self.X_train.shape[0])

    def dim(self, rule: str) -> int:
        """The dimension of a :data:`DIMS` rule: ``C``, ``4C`` or ``n``."""
        return {"C": self.n_classes, "4C": 4 * self.n_classes, "n": self.n}[rule]


def _child_seeds(seed: int, count: int) -> list[int]:
    """``count`` independent integer seeds spawned from ``seed`` (disjoint streams)."""
    return [int(s.generate_state(1)[0]) for s in np.random.SeedSequence(seed).spawn(count)]


def penalty_for_rule(K_eigenvalues, A, rho: float = RHO) -> float:
    r"""The penalty :math:`\lambda = 2\rho\,\lambda_{\max}(A)\,\lambda_{\max}(K)` of the grid's λ > 0 rows.

    With :math:`T = PAP - \tfrac{\lambda}{2}K^+` (docs/theory.md §3 O1), a unit vector ``u`` in the span of
    the eigenvectors of ``K`` with eigenvalues :math:`\mu < \rho\,\lambda_{\max}(K)` has
    :math:`u^\top Tu \le \lambda_{\max}(A) - \lambda/(2\mu) < 0`; by Courant–Fischer the target then
    has at most :math:`\#\{i : \mu_i \ge \rho\,\lambda_{\max}(K)\}` positive eigenvalues. So the rule
    reads: *kernel directions whose eigenvalue is below the fraction ρ of the largest are priced out*,
    whatever the scale of ``K`` or ``A`` (the rule is invariant to rescaling either). It uses
    training views and the graph only.
    """
    w_max = float(np.max(K_eigenvalues))
    a_max = float(_backend.eigvalsh(np.asarray(A, dtype=np.float64))[-1])
    return 2.0 * rho * a_max * w_max


def make_study_task(
    dataset,
    seed: int,
    *,
    n_train: int,
    n_test: int,
    n_views: int,
    n_fresh: int,
    fresh_views: int,
    knn: int,
    ks=LABELS_PER_CLASS,
    rho: float = RHO,
) -> StudyTask:
    """Build the split, views, kernel blocks and graphs of one (data set, seed).

    ``dataset`` has the interface of :mod:`kssl_theory.experiments.study_datasets`
    (``load(n, seed)``, ``augment(X, m, seed)``, ``n_classes``, ``name``). Seeds: the draw uses
    ``seed``; the split, the training views and the fresh test views use three independent child
    seeds of ``seed``, so the fresh views never share a random stream with the training views. The
    bandwidth ``h`` is the median pairwise distance of the training views. Budgets ``k`` larger than
    the smallest training class are dropped (reported as skipped by the study). Test points enter
    no choice: they are only embedded and scored.
    """
    split_seed, view_seed, fresh_seed = _child_seeds(seed, 3)
    X, y = dataset.load(n_train + n_test, seed)
    X, y = np.asarray(X, dtype=np.float64), np.asarray(y, dtype=np.int64)
    train, test = stratified_split(y, n_train, n_test, seed=split_seed)
    X_tr, y_tr, X_te, y_te = X[train], y[train], X[test], y[test]
    V = np.asarray(dataset.augment(X_tr, n_views, view_seed), dtype=np.float64)
    groups = np.repeat(np.arange(n_train, dtype=np.int64), n_views)
    n_f = min(n_fresh, n_test)
    F = np.asarray(dataset.augment(X_te[:n_f], fresh_views, fresh_seed), dtype=np.float64)
    fresh_groups = np.repeat(np.arange(n_f, dtype=np.int64), fresh_views)
    h = float(_kernels.median_bandwidth(V))

    def k(P, Q=None):
        return np.asarray(_kernels.rbf(P, Q, bandwidth=h))

    K = k(V)
    smallest = int(np.bincount(y_tr, minlength=dataset.n_classes).min())
    task = StudyTask(
        dataset=dataset.name,
        seed=seed,
        n_classes=int(dataset.n_classes),
        n_views=n_views,
        X_train=X_tr,
        y_train=y_tr,
        X_test=X_te,
        y_test=y_te,
        views=V,
        groups=groups,
        fresh=F,
        fresh_groups=fresh_groups,
        bandwidth=h,
        K=K,
        K_train=k(X_tr, V),
        K_test=k(X_te, V),
        K_fresh=k(F, V),
        Kb_train=k(X_tr),
        Kb_test=k(X_te, X_tr),
        Kf_fresh=k(F),
        ks=tuple(kk for kk in ks if kk <= smallest),
    )
    A_clique = np.asarray(adjacency(groups), dtype=np.float64)
    A_union, B = knn_graph(task.Kb_train, groups, knn)
    E = np.asarray(indicators(groups), dtype=np.float64)
    task.graphs = {"clique": A_clique, "knn": E @ B @ E.T, "union": np.asarray(A_union)}
    w = _backend.eigvalsh(K)
    N = K.shape[0]
    retained = w[w > N * np.finfo(np.float64).eps * w[-1]]
    i, j = np.nonzero(np.triu(B, 1))
    task.info = {
        "n_train": n_train,
        "n_test": n_test,
        "N": N,
        "n_fresh_points": n_f,
        "bandwidth": h,
        "kernel_rank": int(retained.size),
        "kernel_positive_definite": bool(retained.size == N),
        "kernel_condition": float(retained[-1] / retained[0]),
        "kernel_lambda_max": float(w[-1]),
        "kernel_eigs_above_rho": int(np.sum(w >= rho * w[-1])),
        "penalty": {g: penalty_for_rule(w, A, rho) for g, A in task.graphs.items()},
        "ks": list(task.ks),
        "ks_skipped": [kk for kk in ks if kk > smallest],
        "smallest_training_class": smallest,
        "knn": {
            "k": knn,
            "base_edges": int(i.size),
            # labels are read here for this diagnostic only
            "same_class_fraction": float(np.mean(y_tr[i] == y_tr[j])) if i.size else math.nan,
        },
    }
    return task


# --------------------------------------------------------------------------------------------------
# quantities and statistics


def effective_rank(eigenvalues) -> float:
    r"""Effective rank of a PSD matrix from its eigenvalues (Roy & Vetterli, 2007).

    :math:`\operatorname{erank} = \exp\bigl(-\sum_i p_i\log p_i\bigr)` with
    :math:`p_i = \mu_i/\sum_j\mu_j` the normalised eigenvalues (negative round-off clipped to 0,
    :math:`0\log 0 = 0`): ``r`` for ``r`` equal positive eigenvalues, between 1 and the rank
    otherwise; 0 for the zero matrix.
    """
    w = np.clip(np.asarray(eigenvalues, dtype=np.float64).ravel(), 0.0, None)
    total = float(w.sum())
    if not total > 0:
        return 0.0
    p = w[w > 0] / total
    return float(np.exp(-np.sum(p * np.log(p))))


def relative_gap(eigenvalues, dim: int, gap: float) -> float:
    r"""Gap at the cut relative to the leading spectrum, :math:`|\lambda_d - \lambda_{d+1}|/\max_{i\le d+1}|\lambda_i|`.

    ``eigenvalues`` in the rule's order (``Solution.eigenvalues``), ``gap`` is ``Solution.gap``
    (``inf`` when ``d`` reaches the feasible dimension, kept as ``inf``). Scale-free, so comparable
    across objectives whose targets have different scales (docs/theory.md §3, "Uniqueness").
    """
    if not math.isfinite(gap):
        return math.inf
    if gap == 0:  # an exact tie, also where the leading eigenvalues are all 0 (O3 on cliques)
        return 0.0
    w = np.abs(np.asarray(eigenvalues, dtype=np.float64)[: dim + 1])
    scale = float(w.max()) if w.size else 0.0
    return float(gap / scale) if scale > 0 else math.nan


def paired_ci(values, reference, level: float = 0.95) -> dict:
    r"""Paired difference ``values − reference`` over seeds with a Student-t confidence interval.

    With per-seed differences :math:`\delta_s` (:math:`s = 1..n`), mean :math:`\bar\delta` and
    sample standard deviation :math:`s_\delta`, the interval is
    :math:`\bar\delta \pm t_{(1+\text{level})/2,\,n-1}\,s_\delta/\sqrt n`. Pairs where either
    value is missing (``None`` or NaN) are dropped.

    Returns
    -------
    dict
        ``mean``, ``lo``, ``hi`` (NaN when fewer than 2 pairs), ``n`` and ``wins`` (pairs with
        :math:`\delta_s > 0`).
    """
    from scipy import stats

    a = np.array([math.nan if v is None else v for v in values], dtype=np.float64)
    b = np.array([math.nan if v is None else v for v in reference], dtype=np.float64)
    ok = np.isfinite(a) & np.isfinite(b)
    d = a[ok] - b[ok]
    n = int(d.size)
    if n == 0:
        return {"mean": math.nan, "lo": math.nan, "hi": math.nan, "n": 0, "wins": 0}
    mean = float(d.mean())
    if n < 2:
        return {"mean": mean, "lo": math.nan, "hi": math.nan, "n": n, "wins": int(np.sum(d > 0))}
    half = float(stats.t.ppf((1 + level) / 2, n - 1)) * float(d.std(ddof=1)) / math.sqrt(n)
    return {"mean": mean, "lo": mean - half, "hi": mean + half, "n": n, "wins": int(np.sum(d > 0))}


def spearman(x, y) -> dict:
    """Spearman rank correlation of two sequences (pairs with a NaN dropped), with its p-value.

    Returns ``{"rho", "p", "n"}``; ``rho`` and ``p`` are NaN with fewer than 3 pairs or a constant
    sequence. ``inf`` values are ranked (largest), as :func:`scipy.stats.rankdata` does.
    """
    from scipy import stats

    a, b = np.asarray(x, dtype=np.float64), np.asarray(y, dtype=np.float64)
    ok = ~(np.isnan(a) | np.isnan(b))
    a, b = a[ok], b[ok]
    n = int(a.size)
    if n < 3 or np.all(a == a[0]) or np.all(b == b[0]):
        return {"rho": math.nan, "p": math.nan, "n": n}
    res = stats.spearmanr(a, b)
    return {"rho": float(res.statistic), "p": float(res.pvalue), "n": n}


# --------------------------------------------------------------------------------------------------
# representations


def kernel_pca(K, dim: int):
    r"""Kernel PCA on the centred training kernel :math:`HKH`; returns ``(embed, eigenvalues)``.

    With :math:`HKH = U\Lambda U^\top` (top ``dim`` eigenpairs), a point with kernel row
    :math:`k_x` is embedded as :math:`f(x) = \Lambda^{-1/2}U^\top\tilde k_x`,
    :math:`\tilde k_x = k_x - K\mathbf 1/N - (\mathbf 1^\top k_x/N)\mathbf 1 + (\mathbf 1^\top K\mathbf 1/N^2)\mathbf 1`
    (the feature-space centring of scikit-learn's ``KernelPCA``); the training views get
    :math:`U\Lambda^{1/2}`. ``embed(K_rows)`` maps rows :math:`k(X_{new}, X_{train})`.

    Raises
    ------
    InputError
        If ``dim`` exceeds the numerical rank of :math:`HKH` (eigenvalues above
        :math:`N\varepsilon\lambda_{\max}`, the solver's rule, docs/theory.md §1).
    """
    K = np.asarray(K, dtype=np.float64)
    N = K.shape[0]
    col = K.mean(axis=0)
    total = float(col.mean())
    Kc = K - col[None, :] - col[:, None] + total
    w, U = _backend.eigh((Kc + Kc.T) / 2)
    w, U = w[::-1], U[:, ::-1]
    rank = int(np.sum(w > N * np.finfo(np.float64).eps * w[0]))
    if dim > rank:
        raise InputError(f"dim = {dim} exceeds the numerical rank {rank} of the centred kernel HKH.")
    scale = U[:, :dim] / np.sqrt(w[:dim])

    def embed(K_rows):
        K_rows = np.asarray(K_rows, dtype=np.float64)
        centred = K_rows - col[None, :] - K_rows.mean(axis=1, keepdims=True) + total
        return centred @ scale

    return embed, w[:dim]


def _fresh_metrics(Kstar, groups) -> dict:
    return {"alignment": float(alignment(Kstar, groups)), "decorrelation": float(decorrelation(Kstar, groups))}


def _feature_blocks(F_tr, F_te, y_tr):
    def blocks(idx):
        return F_tr[idx] @ F_tr[idx].T, F_te @ F_tr[idx].T, y_tr[idx]

    return blocks


def _accuracies(task: StudyTask, blocks) -> dict:
    return {
        str(k): acc
        for k, acc in krr_accuracies(
            blocks, task.y_train, task.y_test, task.seed, ks=task.ks, n_classes=task.n_classes
        ).items()
    }


def _skipped(reason: str) -> dict:
    return {"status": "skipped", "reason": reason}


def _run_base(task: StudyTask) -> dict:
    def blocks(idx):
        return task.Kb_train[np.ix_(idx, idx)], task.Kb_test[:, idx], task.y_train[idx]

    return {
        "status": "ok",
        "acc": _accuracies(task, blocks),
        "quantities": {
            **_fresh_metrics(task.Kf_fresh, task.fresh_groups),
            "effective_rank": effective_rank(_backend.eigvalsh(task.K)),
        },
    }


def _run_kpca(task: StudyTask, method: Method) -> dict:
    d = task.dim(str(method.dim))
    try:
        embed, w = kernel_pca(task.K, d)
    except InputError as exc:
        return _skipped(str(exc))
    F_tr, F_te, F_fr = embed(task.K_train), embed(task.K_test), embed(task.K_fresh)
    Z = embed(task.K)
    report = is_idealized(Z, task.groups)
    return {
        "status": "ok",
        "dim": d,
        "acc": _accuracies(task, _feature_blocks(F_tr, F_te, task.y_train)),
        "quantities": {
            **_fresh_metrics(_backend.gram(F_fr), task.fresh_groups),
            "idealized": bool(report.idealized),
            "invariant": bool(report.invariant),
            "effective_rank": effective_rank(w),
        },
    }


def _run_label_spreading(task: StudyTask, method: Method) -> dict:
    """LabelSpreading on train ∪ test base points: RBF with the base kernel's bandwidth, or (``graph="knn"``)
    scikit-learn's kNN affinity with the study's ``k`` (the rule of the kNN graph)."""
    from sklearn.semi_supervised import LabelSpreading

    if method.graph == "knn":
        affinity: dict = {"kernel": "knn", "n_neighbors": int(task.info["knn"]["k"])}
    else:
        affinity = {"kernel": "rbf", "gamma": 1.0 / (2.0 * task.bandwidth**2)}

    X_all = np.vstack([task.X_train, task.X_test])
    n = task.n
    acc, notes = {}, set()
    for k in task.ks:
        idx = _probes.sample_labelled(task.y_train, k, seed=label_seed(task.seed, k))
        y_all = np.full(X_all.shape[0], -1, dtype=np.int64)
        y_all[idx] = task.y_train[idx]
        model = LabelSpreading(**affinity, **LABEL_SPREADING)
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            model.fit(X_all, y_all)
        notes |= {str(w.message).split(".")[0] for w in caught}
        acc[str(k)] = _probes.accuracy(model.transduction_[n:], task.y_test)
    return {"status": "ok", "acc": acc, "quantities": {}, "info": {"warnings": sorted(notes)}}


def _ssl_config(task: StudyTask, method: Method) -> Config:
    graph = str(method.graph)
    reg = task.info["penalty"][graph] if method.reg == "rule" else float(method.reg)
    beta = {"1/m": 1.0, "4/m": 4.0}[method.beta] / task.n_views if method.beta else 1.0
    return Config(method.objective, task.dim(str(method.dim)), reg=reg, beta=beta, graph=graph)


def _run_ssl(task: StudyTask, method: Method) -> dict:
    config = _ssl_config(task, method)
    if int(config.dim) > task.n:
        return _skipped(f"d = {config.dim} exceeds the n = {task.n} training base samples.")
    try:
        sol, info = solve_config(task.K, task.graphs[config.graph], task.n, config)
    except InputError as exc:
        return _skipped(str(exc).split(";")[0])
    F_tr, F_te, F_fr = sol.transform(task.K_train), sol.transform(task.K_test), sol.transform(task.K_fresh)
    Z = np.asarray(sol.embedding)
    report = idealization(sol, task.groups)
    eigs = np.asarray(sol.eigenvalues, dtype=np.float64)
    info.update(
        {
            "path": sol.method,
            "reg": config.reg,
            "beta": config.beta if method.objective == "vicreg" else None,
            "eigenvalue_error": float(sol.eigenvalue_error),
            "eigenvalues_computed": int(eigs.size),
            "certified_positive": int(np.sum(eigs > sol.eigenvalue_error)),
            "top_eigenvalues": eigs[:10].tolist(),
        }
    )
    return {
        "status": "ok",
        "dim": int(config.dim),
        "acc": _accuracies(task, _feature_blocks(F_tr, F_te, task.y_train)),
        "quantities": {
            **_fresh_metrics(_backend.gram(F_fr), task.fresh_groups),
            "idealized": bool(report.idealized),
            "invariant": bool(report.invariant),
            "effective_rank": effective_rank(_backend.eigvalsh(Z.T @ Z)),
            "relative_gap": relative_gap(eigs, int(config.dim), float(sol.gap)),
            "unique": bool(sol.is_unique),
            # soft objectives leave the columns beyond the positive target eigenvalues exactly zero
            "active_dims": int(np.count_nonzero(np.any(Z != 0, axis=0))),
        },
        "info": info,
    }


def _rel(a, b) -> float:
    """``‖a − b‖_F / ‖b‖_F``."""
    den = float(np.linalg.norm(b))
    return float(np.linalg.norm(a - b)) / den if den > 0 else math.nan


def _check_duality(task: StudyTask) -> dict:
    r"""docs/theory.md §3 O2: on a clique graph with ``K ≻ 0``, ``λ = 0`` and ``d = n``, ``G*_{O2} = G*_{O1}/m``.

    O2's target is :math:`T_2 = I - \tfrac\beta2 L = (1 - \tfrac{\beta m}2)I + \tfrac\beta2 A` for
    :math:`L = mI - A`, which has eigenvalue 1 on the group indicators and
    :math:`1 - \beta m/2 < 1` on the within-group directions; O1's target :math:`A` has ``m`` and 0
    on the same spaces. With ``d = n`` both keep exactly the group space: :math:`G^*_{O2} = A/m`,
    :math:`G^*_{O1} = A`, so :math:`k^*_{O2} = k^*_{O1}/m` everywhere and the (scale-free) probe
    gives equal accuracy — for every ``β > 0``.
    """
    m, n, A = task.n_views, task.n, task.graphs["clique"]
    o1, _ = solve_config(task.K, A, n, Config("contrastive", "n", 0.0))
    k1_fresh = o1.induced_kernel(task.K_fresh)
    k1_test = o1.induced_kernel(task.K_test)
    out: dict[str, Any] = {}
    for name, beta in (("1/m", 1.0 / m), ("4/m", 4.0 / m)):
        o2, _ = solve_config(task.K, A, n, Config("vicreg", "n", 0.0, beta=beta))
        out[f"beta={name}"] = {
            "fresh_views": _rel(m * o2.induced_kernel(task.K_fresh), k1_fresh),
            "test_points": _rel(m * o2.induced_kernel(task.K_test), k1_test),
            "training_gram": _rel(m * np.asarray(o2.gram), np.asarray(o1.gram)),
        }
    return {"status": "ok", "check": out}


def _check_kernel_independence(task: StudyTask) -> dict:
    r"""docs/theory.md §2: O1, clique graph, ``λ = 0``, ``d = n``, ``K ≻ 0`` gives ``G* = A`` for every kernel.

    Compares the induced kernel on the training views, :math:`k^*(X, X) = KC^*C^{*\top}K`, with
    ``A`` for the study's kernel (bandwidth ``h``) and for a second positive definite kernel (RBF,
    bandwidth ``2h``), and measures how much the two differ *out of sample* (on the fresh test
    views), where the lemma predicts nothing.
    """
    A, n = task.graphs["clique"], task.n
    K2 = np.asarray(_kernels.rbf(task.views, bandwidth=2 * task.bandwidth))
    K2_fresh = np.asarray(_kernels.rbf(task.fresh, task.views, bandwidth=2 * task.bandwidth))
    s1, _ = solve_config(task.K, A, n, Config("contrastive", "n", 0.0))
    s2, _ = solve_config(K2, A, n, Config("contrastive", "n", 0.0))
    G1, G2 = s1.induced_kernel(task.K), s2.induced_kernel(K2)
    w2 = _backend.eigvalsh(K2)
    N = K2.shape[0]
    kept2 = w2[w2 > N * np.finfo(np.float64).eps * w2[-1]]
    return {
        "status": "ok",
        "check": {
            "training_vs_A": _rel(G1, A),
            "training_vs_A_kernel2": _rel(G2, A),
            "training_kernel1_vs_kernel2": float(np.linalg.norm(G1 - G2) / np.linalg.norm(A)),
            "fresh_kernel1_vs_kernel2": _rel(s2.induced_kernel(K2_fresh), s1.induced_kernel(task.K_fresh)),
            "kernel2_rank": int(kept2.size),
            "kernel2_positive_definite": bool(kept2.size == N),
            "kernel2_condition": float(kept2[-1] / kept2[0]),
        },
    }


def run_method(task: StudyTask, method: Method) -> dict:
    """Compute one method on one task; a JSON-ready dict with ``status`` ``"ok"`` or ``"skipped"``.

    ``"ok"`` results carry ``acc`` (``{str(k): accuracy}``), ``quantities`` and ``info``;
    skipped ones a ``reason`` (an invalid combination: ``d`` beyond ``n`` or beyond the rank the
    objective needs). ``seconds`` is the wall time.
    """
    t0 = time.perf_counter()
    if method.kind == "base":
        res = _run_base(task)
    elif method.kind == "kpca":
        res = _run_kpca(task, method)
    elif method.kind == "label_spreading":
        res = _run_label_spreading(task, method)
    elif method.kind == "ssl":
        res = _run_ssl(task, method)
    elif method.objective == "duality":
        res = _check_duality(task)
    else:
        res = _check_kernel_independence(task)
    res["seconds"] = round(time.perf_counter() - t0, 3)
    return res


# --------------------------------------------------------------------------------------------------
# cache


def cache_key(settings: dict, dataset, seed: int, method: Method) -> dict:
    """Everything a cached result depends on: study settings, data set, seed, method, probe, versions."""
    return {
        "cache_version": CACHE_VERSION,
        "dataset": dataset.name,
        "dataset_description": getattr(dataset, "description", ""),
        "seed": seed,
        "settings": settings,
        "method": method.spec(),
        "probe": {"rel_ridge": "loo", "ridge_grid": list(_probes.RIDGE_GRID), "labels": "label_seed(seed, k)"},
        "label_spreading": LABEL_SPREADING if method.kind == "label_spreading" else None,
        "rho": RHO,
    }


def _digest(key: dict) -> str:
    return hashlib.sha256(json.dumps(key, sort_keys=True, default=str).encode()).hexdigest()[:16]


def cache_path(folder: pathlib.Path, key: dict, method: Method) -> pathlib.Path:
    """``folder/DATASET/seedS/SLUG-HASH.json``: the hash covers the whole key."""
    return pathlib.Path(folder) / str(key["dataset"]) / f"seed{key['seed']}" / f"{method.slug}-{_digest(key)}.json"


def read_cache(path: pathlib.Path, key: dict) -> dict | None:
    """The cached result at ``path`` if its stored key equals ``key``, else ``None``."""
    try:
        stored = json.loads(pathlib.Path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if stored.get("key") != json.loads(json.dumps(key, default=str)):
        return None
    return stored.get("result")


def write_cache(path: pathlib.Path, key: dict, result: dict) -> None:
    """Write ``{"key", "result"}`` atomically (a temporary file renamed into place)."""
    from ._common import jsonable

    path = pathlib.Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-", suffix=".json")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            json.dump(jsonable({"key": json.loads(json.dumps(key, default=str)), "result": result}), fh)
        os.replace(tmp, path)
    except BaseException:
        pathlib.Path(tmp).unlink(missing_ok=True)
        raise
