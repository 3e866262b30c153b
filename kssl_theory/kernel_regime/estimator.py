r"""The induced kernel as a scikit-learn estimator (THEORY.md §3 "Induced kernel").

:class:`KernelSSL` fits the closed-form optimum of an objective on training views and extends
it out of sample: ``transform`` gives :math:`f(x) = C^{*T}k_x` and ``induced_kernel`` gives
:math:`k^*(x,x') = k_x^T C^* C^{*T} k_{x'}`. It follows the scikit-learn estimator protocol
(it is a scikit-learn ``BaseEstimator``: ``get_params``/``set_params``, ``sklearn.base.clone``,
``Pipeline``, where the group labels travel as ``y``).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.exceptions import NotFittedError as _SklearnNotFittedError

from ..backend import device, namespace
from ..errors import InputError
from ..graphs import RelationGraph
from ..kernels import get_kernel, median_bandwidth
from ..protocols import Array
from ..validation import check_groups, check_nonnegative, check_points
from .engine import Solution, solve
from .nystrom import NystromSolution, nystrom_features, solve_nystrom
from .objectives import built_in_option_defaults, get_objective
from .streaming import DEFAULT_BLOCK_ROWS, StreamedNystrom, solve_streaming

__all__ = ["KernelSSL", "NotFittedError"]

_BANDWIDTH_KERNELS = {"rbf", "gaussian", "laplace", "laplacian"}


class NotFittedError(InputError, _SklearnNotFittedError):
    """A fitted-model method of :class:`KernelSSL` was called before ``fit``.

    Both the package's :class:`~kssl_theory.errors.InputError` and scikit-learn's
    :class:`sklearn.exceptions.NotFittedError`, so scikit-learn's tools recognise it.
    """


class KernelSSL(TransformerMixin, BaseEstimator):
    r"""Kernel-regime SSL estimator: closed-form optimum on views, induced kernel out of sample.

    Parameters
    ----------
    objective : str, default "contrastive"
        ``"contrastive"`` (O1), ``"vicreg"`` (O2), ``"laplacian_eigenmaps"`` (O3), ``"whitened"`` (O4).
    kernel : str or callable, default "rbf"
        Kernel name of :data:`kssl_theory.kernels.KERNELS` or a callable ``(X, Y=None) -> K``.
    dim : int, default 8
        Embedding dimension ``d``.
    bandwidth : float, optional
        For ``rbf``/``laplace``: fixed at fit time to the median heuristic of the training views
        when ``None`` (stored as ``bandwidth_``), so ``transform`` uses the same kernel.
    kernel_params : dict, optional
        Other kernel parameters (``degree``, ``depth``, …).
    reg, beta, centred, c, normalized, laplacian : optional
        Options of the built-in objectives (THEORY.md §3; meanings and defaults in ``docs/objectives.md``
        and each declaration). ``None`` (the default): the chosen objective's declared default. An option
        the chosen objective does not have must stay ``None``.
    options : dict, optional
        Any other option of the objective, e.g. one of an objective declared with
        :func:`kssl_theory.symbolic.codegen.register_objective` (an option given here must not also be
        set by name).
    self_loops : bool, default True
        Relation graph with or without self-loops.
    ridge : float, default 0.0
        Added to the diagonal of the training Gram matrix, :math:`K + \text{ridge}\,I` (the
        kernel of :math:`\varphi \oplus \sqrt{\text{ridge}}\,e_x`, so out-of-sample blocks are
        unchanged). A small ridge keeps large RBF Gram matrices, which are numerically singular,
        on the Cholesky and clique fast paths (see :class:`~kssl_theory.kernel_regime.kernel_factor.KernelFactor`).
    n_landmarks : int, optional
        Use a Nyström approximation of the kernel with this many landmarks
        (:mod:`kssl_theory.kernel_regime.nystrom`): :math:`O(Nm^2)` time and :math:`O(Nm)` memory instead of
        :math:`O(N^3)` and :math:`O(N^2)`; ``solution_`` is then a
        :class:`~kssl_theory.kernel_regime.nystrom.NystromSolution`.
    landmark_rule : {"rpcholesky", "uniform"}, default "rpcholesky"
        How the Nyström landmarks are drawn (:func:`~kssl_theory.kernel_regime.nystrom.nystrom_features`):
        randomly pivoted Cholesky (more accurate at equal ``n_landmarks``) or uniformly.
    block_rows : int, optional
        With ``n_landmarks``: stream the Nyström solve over blocks of about this many rows
        (:func:`~kssl_theory.kernel_regime.streaming.solve_streaming`), never holding the
        ``N x m`` features; needs ``landmark_rule="uniform"`` (randomly pivoted Cholesky keeps an
        ``N x m`` factor). ``solution_`` is then a
        :class:`~kssl_theory.kernel_regime.streaming.StreamedNystrom`.
    scheduler : optional
        With ``n_landmarks``: sum the blocks with Dask on this scheduler (``"threads"``,
        ``"processes"``, a ``distributed.Client`` or a scheduler address ``"tcp://host:port"``);
        implies streaming (``block_rows`` defaults to
        :data:`~kssl_theory.kernel_regime.streaming.DEFAULT_BLOCK_ROWS`).
    random_state : int, default 0
        Seed of the landmark draw.
    method : str, default "auto"
        Eigen-solver path of :func:`kssl_theory.solve` (dense path only).

    Attributes
    ----------
    solution_ : Solution, NystromSolution or StreamedNystrom
        The fitted optimum.
    X_train_ : array
        The training views.
    bandwidth_ : float or None
        Bandwidth actually used.

    Examples
    --------
    >>> import numpy as np, kssl_theory as kt
    >>> X = np.random.default_rng(0).normal(size=(12, 3)); groups = np.repeat(np.arange(4), 3)
    >>> model = kt.KernelSSL("contrastive", dim=4, bandwidth=1.0).fit(X, groups)
    >>> model.transform(X).shape
    (12, 4)
    """

    solution_: Solution | NystromSolution | StreamedNystrom  # set by fit

    def __init__(
        self,
        objective: str = "contrastive",
        *,
        kernel: str | Callable[..., Array] = "rbf",
        dim: int = 8,
        bandwidth: float | None = None,
        kernel_params: dict[str, Any] | None = None,
        reg: float | None = None,
        beta: float | None = None,
        centred: bool | None = None,
        c: float | None = None,
        normalized: bool | None = None,
        laplacian: bool | None = None,
        self_loops: bool = True,
        ridge: float = 0.0,
        n_landmarks: int | None = None,
        random_state: int = 0,
        landmark_rule: str = "rpcholesky",
        block_rows: int | None = None,
        scheduler: Any = None,
        method: str = "auto",
        options: dict[str, Any] | None = None,
    ) -> None:
        self.objective = objective
        self.kernel = kernel
        self.dim = dim
        self.bandwidth = bandwidth
        self.kernel_params = kernel_params
        self.reg = reg
        self.beta = beta
        self.centred = centred
        self.c = c
        self.normalized = normalized
        self.laplacian = laplacian
        self.self_loops = self_loops
        self.ridge = ridge
        self.n_landmarks = n_landmarks
        self.block_rows = block_rows
        self.scheduler = scheduler
        self.random_state = random_state
        self.landmark_rule = landmark_rule
        self.method = method
        self.options = options

    def _objective_options(self) -> dict[str, Any]:
        obj = get_objective(self.objective)
        named = {name: getattr(self, name) for name in built_in_option_defaults()}
        extra = dict(self.options or {})
        clash = sorted(name for name in extra if named.get(name) is not None)
        if clash:
            raise InputError(f"options={extra!r} repeats the named parameter(s) {clash}; set each once.")
        opts: dict[str, Any] = {}
        for name, value in named.items():
            if value is None:  # not set: the objective's declared default applies
                continue
            if name not in obj.defaults:
                raise InputError(
                    f"option {name}={value!r} does not apply to objective {obj.name!r} (its options: "
                    f"{sorted(obj.defaults)}); leave it unset (None)."
                )
            opts[name] = value
        opts.update(extra)
        return opts

    def _make_kernel(self, X: Array) -> tuple[Callable[..., Array], float | None]:
        params = dict(self.kernel_params or {})
        get_kernel(self.kernel)  # an unknown name is reported before any parameter check
        is_bw = isinstance(self.kernel, str) and self.kernel.lower() in _BANDWIDTH_KERNELS
        bandwidth: float | None = None
        if is_bw:
            bandwidth = median_bandwidth(X) if self.bandwidth is None else self.bandwidth
            params["bandwidth"] = bandwidth
        elif self.bandwidth is not None:
            raise InputError(f"bandwidth applies to rbf/laplace kernels only, not {self.kernel!r}.")
        return get_kernel(self.kernel, **params), bandwidth

    def fit(self, X: Array, y: Array | None = None, groups: Array | None = None) -> KernelSSL:
        """Fit on training views ``X`` with group labels ``groups`` (or ``y``, for Pipelines).

        Parameters
        ----------
        X : array, shape (N, n_features)
            All training views.
        y, groups : array of int, shape (N,)
            Base-sample label of each view; ``groups`` takes precedence over ``y``.
        """
        X = check_points("X", X)
        labels = groups if groups is not None else y
        if labels is None:
            raise InputError("fit needs the group labels: pass groups=... (or y=... inside a Pipeline).")
        labels = check_groups(labels, X.shape[0])
        opts = self._objective_options()
        kernel, self.bandwidth_ = self._make_kernel(X)
        ridge = check_nonnegative("ridge", self.ridge)
        if self.n_landmarks is None and (self.block_rows is not None or self.scheduler is not None):
            raise InputError("block_rows= and scheduler= stream a Nystrom solve: set n_landmarks as well.")
        if self.n_landmarks is None:
            K = kernel(X)
            if ridge:
                xp = namespace(K)
                K = K + ridge * xp.eye(K.shape[0], dtype=K.dtype, device=device(K))
            relation = RelationGraph.from_groups(labels, self_loops=self.self_loops, like=K)
            self.solution_ = solve(self.objective, K, relation, self.dim, method=self.method, **opts)
        elif self.block_rows is not None or self.scheduler is not None:
            if ridge:
                raise InputError("ridge applies to the dense solver only; the Nystrom kernel is low-rank by design.")
            if self.landmark_rule != "uniform":
                raise InputError(
                    "streaming (block_rows= or scheduler=) draws landmarks uniformly: randomly pivoted Cholesky "
                    "keeps an N x n_landmarks factor. Pass landmark_rule='uniform'."
                )
            self.solution_ = solve_streaming(
                self.objective,
                kernel,
                X,
                labels,
                self.dim,
                n_landmarks=self.n_landmarks,
                self_loops=self.self_loops,
                block_rows=DEFAULT_BLOCK_ROWS if self.block_rows is None else self.block_rows,
                seed=self.random_state,
                scheduler=self.scheduler,
                **opts,
            )
        else:
            if ridge:
                raise InputError("ridge applies to the dense solver only; the Nystrom kernel is low-rank by design.")
            features = nystrom_features(kernel, X, self.n_landmarks, seed=self.random_state, rule=self.landmark_rule)
            relation = RelationGraph.from_groups(labels, self_loops=self.self_loops, like=features.features)
            self.solution_ = solve_nystrom(self.objective, features, relation, self.dim, **opts)
        self.kernel_ = kernel
        self.X_train_ = X
        self.groups_ = labels
        return self

    def _check_fitted(self) -> None:
        if not hasattr(self, "solution_"):
            raise NotFittedError("this KernelSSL is not fitted yet; call fit(X, groups) first.")

    def transform(self, X: Array) -> Array:
        r"""Embed points: :math:`f(x) = C^{*T}k_x`, shape ``(M, d)``."""
        self._check_fitted()
        X = check_points("X", X)
        if X.shape[1] != self.X_train_.shape[1]:
            raise InputError(f"X has {X.shape[1]} features but the model was fitted on {self.X_train_.shape[1]}.")
        if isinstance(self.solution_, (NystromSolution, StreamedNystrom)):
            return self.solution_.transform(X)  # it holds the landmarks and applies the kernel itself
        return self.solution_.transform(self.kernel_(X, self.X_train_))

    def fit_transform(self, X: Array, y: Array | None = None, groups: Array | None = None) -> Array:
        """Fit, then return the training embedding :math:`Z^*` (``solution_.embedding``; streamed: ``transform(X)``)."""
        solution = self.fit(X, y, groups).solution_
        if isinstance(solution, StreamedNystrom):
            return self.transform(X)
        return solution.embedding

    def induced_kernel(self, X1: Array, X2: Array | None = None) -> Array:
        r"""Induced kernel block :math:`k^*(X_1, X_2)`; ``X2=None`` means ``X1``."""
        self._check_fitted()
        F1 = self.transform(X1)
        F2 = F1 if X2 is None else self.transform(X2)
        return F1 @ F2.T
