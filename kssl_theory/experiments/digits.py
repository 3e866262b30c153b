r"""The digits SSL task shared by the digits experiments and notebook 5.

One *task* is a seeded split of scikit-learn's digits into training and test base images, ``m``
augmented views of every training image (the SSL training set, ``N = n m`` rows), a base kernel
fixed on the training views only (RBF with the median-heuristic bandwidth times a factor, or the
ReLU NTK), and the relation graphs:

- ``"clique"``: the augmentation graph of docs/theory.md §1 (views of one image are positives);
- ``"knn"``: the clique graph plus edges between *all views* of base images that are mutual or
  one-sided ``k``-nearest neighbours under the base kernel on clean training images — a richer
  graph that uses unlabelled structure only.

A :class:`Config` names one representation (the base kernel, or an objective O1–O4 with ``d``,
``λ``, ``β`` and a graph). :func:`evaluate` fits it with :func:`kssl_theory.solve` and probes it
with ``k`` labelled training images per class (:mod:`kssl_theory.experiments.probes`); the test images are
touched only to score predictions.
"""

from __future__ import annotations

import time
import warnings
from dataclasses import dataclass, field

import numpy as np

from .. import kernels as _kernels
from ..errors import InputError
from ..graphs import adjacency, indicators
from ..kernel_regime.engine import solve
from . import probes as _probes
from .datasets import DigitsSplit, digits_split

__all__ = [
    "Config",
    "DigitsTask",
    "make_task",
    "knn_graph",
    "solve_config",
    "fit",
    "label_seed",
    "krr_accuracies",
    "evaluate",
    "LABELS_PER_CLASS",
]

#: Labelled training images per class used by the probes.
LABELS_PER_CLASS = (1, 2, 5, 10, 20)

_OBJ_SHORT = {"contrastive": "O1", "vicreg": "O2", "laplacian_eigenmaps": "O3", "whitened": "O4"}


@dataclass(frozen=True)
class Config:
    """One representation to probe.

    Attributes
    ----------
    objective : str or None
        ``None`` for the base kernel itself, else an objective name of :func:`kssl_theory.solve`.
    dim : int or "n"
        Embedding dimension; ``"n"`` means the number of training images (``d = n``).
    reg, beta : float
        ``λ`` (O1, O2) and ``β`` (O2).
    graph : {"clique", "knn"}
        Relation graph.
    views_in_probe : bool
        Base kernel only: label the training views of the labelled images too (the labelled set
        then has ``1 + m`` rows per labelled image).
    random_optimum : bool
        When the optimum is not unique, use ``Solution.alternative(seed)`` — a uniformly random
        orthonormal basis of the tied eigenspace, equally optimal — instead of the solver's
        deterministic pick (which, for a clique graph, is the indicators of the first ``d`` groups).
    """

    objective: str | None = None
    dim: int | str = "n"
    reg: float = 0.0
    beta: float = 1.0
    graph: str = "clique"
    views_in_probe: bool = False
    random_optimum: bool = False

    @property
    def label(self) -> str:
        """Short human-readable name, e.g. ``"O1 clique d=n λ=0"``."""
        if self.objective is None:
            return "base kernel + labelled views" if self.views_in_probe else "base kernel"
        parts = [_OBJ_SHORT.get(self.objective, self.objective), self.graph, f"d={self.dim}"]
        if self.objective in ("contrastive", "vicreg"):
            parts.append(f"λ={self.reg:g}")
        if self.objective == "vicreg":
            parts.append(f"β={self.beta:g}")
        if self.random_optimum:
            parts.append("(random optimum)")
        return " ".join(parts)

    def options(self) -> dict:
        """Objective options for :func:`kssl_theory.solve`."""
        if self.objective in ("contrastive",):
            return {"reg": self.reg}
        if self.objective == "vicreg":
            return {"reg": self.reg, "beta": self.beta}
        return {}


@dataclass
class DigitsTask:
    """Everything one seed of a digits experiment needs (built by :func:`make_task`)."""

    split: DigitsSplit
    kernel_name: str
    kernel: object
    bandwidth: float | None
    K: np.ndarray  # views × views
    K_train: np.ndarray  # clean train images × views
    K_test: np.ndarray  # test images × views
    Kb_train: np.ndarray  # clean train × clean train
    Kb_test: np.ndarray  # test × clean train
    graphs: dict = field(default_factory=dict)
    graph_info: dict = field(default_factory=dict)

    @property
    def n(self) -> int:
        return self.split.train_images.shape[0]


def knn_graph(Kb_train, groups, k: int, *, weight: float = 1.0):
    r"""Clique graph plus kernel-``k``-NN edges between base images, spread to all their views.

    With :math:`B_{ab} = 1` when image ``b`` is among the ``k`` most similar images to ``a``
    (or vice versa) under the base kernel on clean training images, returns
    :math:`A = A_{\text{clique}} + w\,E B E^T` (``E`` the view-to-image indicator matrix).
    No label is used.

    Returns
    -------
    A : ndarray, shape (N, N)
    B : ndarray, shape (n, n)
        The symmetric image-level neighbour graph.
    """
    S = np.array(Kb_train, dtype=np.float64, copy=True)
    n = S.shape[0]
    np.fill_diagonal(S, -np.inf)
    nn = np.argsort(-S, axis=1, kind="stable")[:, :k]
    B = np.zeros((n, n))
    B[np.repeat(np.arange(n), k), nn.ravel()] = 1.0
    B = np.maximum(B, B.T)
    E = indicators(groups)
    return adjacency(groups) + weight * (E @ B @ E.T), B


def make_task(
    seed: int,
    *,
    kernel: str = "rbf",
    n_train: int = 300,
    n_test: int = 500,
    n_views: int = 3,
    strength: float = 1.0,
    bandwidth_factor: float = 1.0,
    include_original: bool = False,
    knn: int = 10,
) -> DigitsTask:
    """Build the split, views, kernel blocks and graphs of one seed (test images enter no choice)."""
    split = digits_split(
        n_train, n_test, n_views=n_views, strength=strength, include_original=include_original, seed=seed
    )
    X = split.views.X
    bandwidth = None
    if kernel == "rbf":
        bandwidth = bandwidth_factor * _kernels.median_bandwidth(X)
        fn = _kernels.get_kernel("rbf", bandwidth=bandwidth)
    elif kernel == "ntk":
        fn = _kernels.get_kernel("ntk", depth=1)
    else:
        fn = _kernels.get_kernel(kernel)
    task = DigitsTask(
        split=split,
        kernel_name=kernel,
        kernel=fn,
        bandwidth=bandwidth,
        K=fn(X),
        K_train=fn(split.train_X, X),
        K_test=fn(split.test_X, X),
        Kb_train=fn(split.train_X),
        Kb_test=fn(split.test_X, split.train_X),
    )
    task.graphs["clique"] = adjacency(split.views.groups)
    A, B = knn_graph(task.Kb_train, split.views.groups, knn)
    task.graphs["knn"] = A
    y = split.train_labels
    i, j = np.nonzero(np.triu(B, 1))
    task.graph_info["knn"] = {
        "k": knn,
        "image_edges": int(i.size),
        "same_class_fraction": float(np.mean(y[i] == y[j])) if i.size else float("nan"),
    }
    return task


def solve_config(K, A, n: int, config: Config, seed: int = 0):
    """Solve one configuration on a Gram matrix ``K`` and graph ``A``; returns ``(solution, info)``.

    ``config.dim == "n"`` means ``d = n`` (the number of training base samples). ``info`` records
    the solver's diagnostics: uniqueness, gap, numerical rank of ``K``, the number of positive
    eigenvalues of the spectral matrix, warnings raised and the solve time. Shared by :func:`fit`
    and the multi-data-set study (:mod:`kssl_theory.experiments.study`).
    """
    if config.objective is None:
        raise InputError("the base-kernel configuration (objective None) has no SSL optimum to solve.")
    dim = n if config.dim == "n" else int(config.dim)
    t0 = time.perf_counter()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        sol = solve(config.objective, K, A, dim, **config.options())
        if config.random_optimum and not sol.is_unique:
            sol = sol.alternative(seed)
    info = {
        "dim": dim,
        "is_unique": bool(sol.is_unique),
        "gap": float(sol.gap),
        "kernel_rank": int(sol.rank),
        "positive_eigenvalues": int(
            np.sum(np.asarray(sol.eigenvalues) > 1e-9 * float(np.max(np.abs(sol.eigenvalues))))
        ),
        "hs_norm": float(sol.hs_norm),
        "loss": float(sol.loss),
        "seconds": round(time.perf_counter() - t0, 3),
        "warnings": sorted({str(w.message).split(";")[0] for w in caught}),
    }
    return sol, info


def fit(task: DigitsTask, config: Config, seed: int = 0):
    """Fit a configuration; returns ``(F_train, F_test, F_views, info)`` (``None`` features for the base kernel).

    ``info`` is that of :func:`solve_config`.
    """
    if config.objective is None:
        return None, None, None, {}
    sol, info = solve_config(task.K, task.graphs[config.graph], task.n, config, seed)
    return sol.transform(task.K_train), sol.transform(task.K_test), sol.embedding, info


def label_seed(seed: int, k: int, draw: int = 0) -> int:
    """Seed of the labelled draw of ``k`` per class in run ``seed``: the same for every representation."""
    return 10_000 * seed + 100 * k + draw


def krr_accuracies(blocks, train_labels, test_labels, seed: int, *, ks, n_classes: int, rel_ridge="loo") -> dict:
    """Kernel-ridge probe accuracy for each label budget ``k`` per class.

    Parameters
    ----------
    blocks : callable
        ``blocks(idx) -> (K_ll, K_tl, y_l)``: the kernel among the labelled rows, between the test
        points and the labelled rows, and the labels of the labelled rows, for the labelled
        training samples ``idx`` (drawn with :func:`label_seed`, so every representation of one
        run sees the same labelled samples).
    train_labels, test_labels : array of int
        Labels of the training base samples (to draw ``idx``) and of the test points (to score).
    seed : int
        The run's seed.
    ks : sequence of int
        Labelled samples per class.
    n_classes : int
    rel_ridge : float or "loo"
        Of :func:`kssl_theory.experiments.probes.kernel_ridge_probe`.

    Returns
    -------
    dict
        ``{k: accuracy}``.
    """
    out = {}
    for k in ks:
        idx = _probes.sample_labelled(train_labels, k, seed=label_seed(seed, k))
        K_ll, K_tl, y_l = blocks(idx)
        out[k] = _probes.kernel_ridge_probe(K_ll, y_l, K_tl, test_labels, rel_ridge=rel_ridge, n_classes=n_classes)
    return out


def evaluate(
    task: DigitsTask, config: Config, seed: int, *, ks=LABELS_PER_CLASS, linear: bool = True, rel_ridge="loo"
) -> dict:
    """Probe one configuration on one task: accuracies per ``k`` for the KRR and linear probes.

    The labelled images of ``k`` per class are drawn with a seed that depends on ``(seed, k)``
    only, so every configuration of a seed sees the same labelled images.

    Returns
    -------
    dict
        ``{"krr": {k: acc}, "linear": {k: acc} or {}, "info": {...}}``.
    """
    split = task.split
    y_tr, y_te = split.train_labels, split.test_labels
    F_tr, F_te, F_views, info = fit(task, config, seed)
    out = {"krr": {}, "linear": {}, "info": info}
    groups = split.views.groups

    def blocks(idx):
        if config.objective is None and config.views_in_probe:
            rows = np.flatnonzero(np.isin(groups, idx))
            K_ll = np.block(
                [
                    [task.Kb_train[np.ix_(idx, idx)], task.K_train[np.ix_(idx, rows)]],
                    [task.K_train[np.ix_(idx, rows)].T, task.K[np.ix_(rows, rows)]],
                ]
            )
            K_tl = np.hstack([task.Kb_test[:, idx], task.K_test[:, rows]])
            view_labels = split.views.labels
            assert view_labels is not None  # digits views always carry their image's label
            return K_ll, K_tl, np.concatenate([y_tr[idx], view_labels[rows]])
        if config.objective is None:
            return task.Kb_train[np.ix_(idx, idx)], task.Kb_test[:, idx], y_tr[idx]
        assert F_tr is not None and F_te is not None  # fit returns embeddings whenever an objective is set
        return F_tr[idx] @ F_tr[idx].T, F_te @ F_tr[idx].T, y_tr[idx]

    out["krr"] = krr_accuracies(blocks, y_tr, y_te, seed, ks=ks, n_classes=10, rel_ridge=rel_ridge)
    if linear and F_tr is not None:
        for k in ks:
            idx = _probes.sample_labelled(y_tr, k, seed=label_seed(seed, k))
            out["linear"][k] = _probes.linear_probe(F_tr[idx], y_tr[idx], F_te, y_te, F_unlabelled=F_views)
    return out


def pixel_linear_probe(task: DigitsTask, seed: int, *, ks=LABELS_PER_CLASS) -> dict:
    """Linear-probe reference on raw pixels (same labelled draws as :func:`evaluate`)."""
    split = task.split
    out = {}
    for k in ks:
        idx = _probes.sample_labelled(split.train_labels, k, seed=label_seed(seed, k))
        out[k] = _probes.linear_probe(
            split.train_X[idx], split.train_labels[idx], split.test_X, split.test_labels, F_unlabelled=split.views.X
        )
    return out
