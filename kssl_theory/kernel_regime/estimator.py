r"""The induced kernel as a scikit-learn estimator (docs/theory.md §3 "Induced kernel").

:class:`KernelSSL` fits the closed-form optimum of an objective on training views and extends
it out of sample: ``transform`` gives :math:`f(x) = C^{*T}k_x` and ``induced_kernel`` gives
:math:`k^*(x,x') = k_x^T C^* C^{*T} k_{x'}`. It follows the scikit-learn estimator protocol
(it is a scikit-learn ``BaseEstimator``: ``get_params``/``set_params``, ``sklearn.base.clone``,
``Pipeline``, where the group labels travel as ``y``).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
from sklearn.base import BaseEstimator, ClassNamePrefixFeaturesOutMixin, TransformerMixin
from sklearn.exceptions import NotFittedError as _SklearnNotFittedError

from ..backend import device, namespace
from ..errors import InputError
from ..graphs import RelationGraph
from ..kernels import get_kernel, median_bandwidth
from ..protocols import Array
from ..validation import check_nonnegative, check_points, encode_labels
from .engine import Solution, solve
from .nystrom import NystromSolution, nystrom_features, solve_nystrom
from .objectives import built_in_option_defaults, document_options, get_objective
from .streaming import DEFAULT_BLOCK_ROWS, StreamedNystrom, solve_streaming

try:  # scikit-learn >= 1.6
    from sklearn.utils.validation import validate_data as _validate_data
except ImportError:  # pragma: no cover - scikit-learn 1.5: no feature names; fit records n_features_in_ itself

    def _validate_data(estimator: Any, /, X: Any, *, reset: bool, skip_check_array: bool) -> Any:
        return X


__all__ = ["KernelSSL", "NotFittedError", "SKLEARN_EXPECTED_FAILED_CHECKS"]

_BANDWIDTH_KERNELS = {"rbf", "gaussian", "laplace", "laplacian"}


#: The checks of :func:`sklearn.utils.estimator_checks.check_estimator` that :class:`KernelSSL` does not
#: pass, each with the reason (pass it as ``expected_failed_checks``; listed in KernelSSL's Notes).
SKLEARN_EXPECTED_FAILED_CHECKS: dict[str, str] = {
    "check_fit1d": (
        "a 1-D X is read as N views of one feature, as everywhere in the package "
        "(kssl_theory.validation.check_points, the kernels), not refused; transform still says 'Reshape "
        "your data' when a 1-D X meets a model fitted on several features"
    ),
    "check_dtype_object": (
        "object arrays of numbers are accepted, but an entry that is not a number raises the package's "
        "InputError (a ValueError) rather than the TypeError NumPy raises"
    ),
}


class NotFittedError(InputError, _SklearnNotFittedError):
    """A fitted-model method of :class:`KernelSSL` was called before ``fit``.

    Both the package's :class:`~kssl_theory.errors.InputError` and scikit-learn's
    :class:`sklearn.exceptions.NotFittedError`, so scikit-learn's tools recognise it.
    """


@document_options
class KernelSSL(ClassNamePrefixFeaturesOutMixin, TransformerMixin, BaseEstimator):
    r"""Kernel-regime SSL estimator: closed-form optimum on views, induced kernel out of sample.

    Parameters
    ----------
    objective : str, default "contrastive"
        ``"contrastive"`` (O1), ``"vicreg"`` (O2), ``"laplacian_eigenmaps"`` (O3), ``"whitened"`` (O4),
        an alias (``"O1"`` …) or the name of an objective registered at run time; case-insensitive.
    kernel : str or callable, default "rbf"
        Kernel name of :data:`kssl_theory.kernels.KERNELS` or a callable ``(X, Y=None) -> K``.
    dim : int, default 8
        Embedding dimension ``d``, ``1 <= d <= N`` (``<= rank(K)`` for O3/O4).
    bandwidth : float > 0, optional
        For ``rbf``/``laplace``: fixed at fit time to the median heuristic of the training views
        when ``None`` (stored as ``bandwidth_``), so ``transform`` uses the same kernel.
    kernel_params : dict, optional
        Other kernel parameters (``degree``, ``depth``, …).
    <objective option parameters>
    options : dict, optional
        Any other option of the objective, e.g. one of an objective declared with
        :func:`kssl_theory.symbolic.codegen.register_objective` (an option given here must not also be
        set by name). The named options above are the options of the built-in objectives, generated
        from their declarations (:func:`kssl_theory.solve` lists them per objective); an option the
        chosen objective does not have must stay ``None``.
    self_loops : bool, default True
        Relation graph with or without self-loops.
    ridge : float >= 0, default 0.0
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
    method : {"auto", "dense", "subset", "iterative", "structured"}, default "auto"
        Eigen-solver path of :func:`kssl_theory.solve` (its ``method``; dense path only, i.e.
        without ``n_landmarks``).

    Attributes
    ----------
    solution_ : Solution, NystromSolution or StreamedNystrom
        The fitted optimum.
    X_train_ : array
        The training views.
    groups_ : numpy.ndarray
        The group label of each training view, as given (any hashable labels).
    bandwidth_ : float or None
        Bandwidth actually used.
    kernel_ : callable
        The kernel with its parameters bound, ``(X, Y=None) -> K``.
    n_features_in_ : int
        Number of features of the training views.
    feature_names_in_ : ndarray of str
        Names of the features, when the training views had string column names (a DataFrame).

    Raises
    ------
    InputError
        From :meth:`fit`, for invalid parameters (an unknown objective, kernel, option or method
        name, with the closest valid names; an option out of range or not of the objective) or
        data (see :meth:`fit`).
    NotFittedError
        From :meth:`transform`, :meth:`induced_kernel` and :meth:`get_feature_names_out` before
        :meth:`fit` (both :class:`~kssl_theory.errors.InputError` and scikit-learn's
        ``NotFittedError``).

    Notes
    -----
    ``KernelSSL`` follows the scikit-learn conventions: the group labels may be any hashable
    values (strings, integers, tuples; not ``None`` or NaN), ``get_feature_names_out`` names the
    ``d`` output columns ``kernelssl0``, ``kernelssl1`` …, ``set_output`` chooses the container of
    ``transform``'s output, and fitting requires the labels (the tag ``target_tags.required``).
    It passes :func:`sklearn.utils.estimator_checks.check_estimator` except for these checks,
    which do not apply (:data:`SKLEARN_EXPECTED_FAILED_CHECKS`, to pass as
    ``expected_failed_checks``):

    <expected failed checks>

    Examples
    --------
    >>> import numpy as np, kssl_theory as kt
    >>> X = np.random.default_rng(0).normal(size=(12, 3)); groups = np.repeat(np.arange(4), 3)
    >>> model = kt.KernelSSL("contrastive", dim=4, bandwidth=1.0).fit(X, groups)
    >>> model.transform(X).shape
    (12, 4)
    >>> kt.KernelSSL(dim=2, bandwidth=1.0).fit(X, np.repeat(list("abcd"), 3)).get_feature_names_out()
    array(['kernelssl0', 'kernelssl1'], dtype=object)
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
            All training views (a 1-D ``X`` is read as one feature).
        y, groups : array-like of hashable labels, shape (N,)
            Base-sample label of each view: integers, strings, tuples … (only which views share a
            label matters); ``groups`` takes precedence over ``y``.

        Returns
        -------
        KernelSSL
            ``self``, fitted.

        Raises
        ------
        InputError
            If no labels are given, a label is missing (``None``, NaN) or unhashable, the labels do
            not match ``X``'s rows, ``X`` is not a finite real (or sparse) array, or a parameter is
            invalid (see the class's Raises).
        """
        X_given = X
        X = check_points("X", X)
        labels = groups if groups is not None else y
        if labels is None:
            raise InputError(
                "KernelSSL requires y to be passed, but the target y is None: fit needs the group labels; pass "
                "groups=... (or y=... inside a Pipeline)."
            )
        codes, classes = encode_labels(labels, X.shape[0], name="groups" if groups is not None else "y")
        opts = self._objective_options()
        kernel, bandwidth = self._make_kernel(X)
        ridge = check_nonnegative("ridge", self.ridge)
        if self.n_landmarks is None and (self.block_rows is not None or self.scheduler is not None):
            raise InputError("block_rows= and scheduler= stream a Nystrom solve: set n_landmarks as well.")
        if self.n_landmarks is None:
            K = kernel(X)
            if ridge:
                xp = namespace(K)
                K = K + ridge * xp.eye(K.shape[0], dtype=K.dtype, device=device(K))
            relation = RelationGraph.from_groups(codes, self_loops=self.self_loops, like=K)
            solution: Solution | NystromSolution | StreamedNystrom = solve(
                self.objective, K, relation, self.dim, method=self.method, **opts
            )
        elif self.block_rows is not None or self.scheduler is not None:
            if ridge:
                raise InputError("ridge applies to the dense solver only; the Nystrom kernel is low-rank by design.")
            if self.landmark_rule != "uniform":
                raise InputError(
                    "streaming (block_rows= or scheduler=) draws landmarks uniformly: randomly pivoted Cholesky "
                    "keeps an N x n_landmarks factor. Pass landmark_rule='uniform'."
                )
            solution = solve_streaming(
                self.objective,
                kernel,
                X,
                codes,
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
            relation = RelationGraph.from_groups(codes, self_loops=self.self_loops, like=features.features)
            solution = solve_nystrom(self.objective, features, relation, self.dim, **opts)
        # Feature names (a DataFrame's columns) are read from the data as given; its shape was checked above.
        _validate_data(self, X=X_given if getattr(X_given, "ndim", 0) == 2 else X, reset=True, skip_check_array=True)
        self.n_features_in_ = int(X.shape[1])
        self.solution_ = solution
        self.bandwidth_ = bandwidth
        self.kernel_ = kernel
        self.X_train_ = X
        self.groups_ = classes[codes]
        return self

    def __sklearn_tags__(self) -> Any:
        tags = super().__sklearn_tags__()
        tags.target_tags.required = True  # the group labels travel as y
        return tags

    def __sklearn_is_fitted__(self) -> bool:
        return hasattr(self, "solution_")

    def _check_fitted(self) -> None:
        if not hasattr(self, "solution_"):
            raise NotFittedError("this KernelSSL is not fitted yet; call fit(X, groups) before using this estimator.")

    @property
    def _n_features_out(self) -> int:
        """Number of output features ``d`` (scikit-learn's feature-name machinery reads it)."""
        self._check_fitted()
        if isinstance(self.solution_, Solution):
            return int(self.solution_.coef.shape[1])
        return int(self.solution_.feature_coef.shape[1])

    def get_feature_names_out(self, input_features: Any = None) -> np.ndarray:
        """Names of the ``d`` output features: ``kernelssl0``, ``kernelssl1`` …

        Parameters
        ----------
        input_features : array-like of str, optional
            Only checked against the feature names seen in :meth:`fit`.

        Returns
        -------
        numpy.ndarray of str objects, shape (d,)

        Raises
        ------
        NotFittedError
            Before :meth:`fit`.
        """
        self._check_fitted()
        return np.asarray(super().get_feature_names_out(input_features))

    def _checked_points(self, name: str, X: Array) -> Array:
        """``X`` validated as points with the training views' feature count, errors naming ``name``."""
        self._check_fitted()
        X_given = X
        X = check_points(name, X)
        n_in = self.X_train_.shape[1]
        if X.shape[1] != n_in:
            reshape = (
                f"; {name} is 1-D, so it was read as {X.shape[0]} views of one feature: Reshape your data, e.g. "
                f"{name}.reshape(1, -1) for a single view"
                if getattr(X_given, "ndim", 2) == 1
                else ""
            )
            raise InputError(
                f"{name} has {X.shape[1]} features, but KernelSSL is expecting {n_in} features as input (it was "
                f"fitted on {n_in}){reshape}."
            )
        if getattr(X_given, "ndim", 0) == 2:  # feature names of a DataFrame against those seen in fit
            _validate_data(self, X=X_given, reset=False, skip_check_array=True)
        return X

    def _embed(self, name: str, X: Array) -> Array:
        X = self._checked_points(name, X)
        if isinstance(self.solution_, (NystromSolution, StreamedNystrom)):
            return self.solution_.transform(X)  # it holds the landmarks and applies the kernel itself
        return self.solution_.transform(self.kernel_(X, self.X_train_))

    def transform(self, X: Array) -> Array:
        r"""Embed points: :math:`f(x) = C^{*T}k_x`, shape ``(M, d)``.

        Parameters
        ----------
        X : array, shape (M, n_features)
            Points (views) to embed.

        Returns
        -------
        array, shape (M, d)
            In ``X``'s array namespace (or the container chosen with ``set_output``).

        Raises
        ------
        NotFittedError
            Before :meth:`fit`.
        InputError
            If ``X`` is not a finite real array with the training views' number of features.
        """
        return self._embed("X", X)

    def fit_transform(self, X: Array, y: Array | None = None, groups: Array | None = None) -> Array:
        """Fit, then return the training embedding :math:`Z^*` (``solution_.embedding``; streamed: ``transform(X)``).

        Parameters and errors as :meth:`fit`.
        """
        solution = self.fit(X, y, groups).solution_
        if isinstance(solution, StreamedNystrom):
            return self.transform(X)
        return solution.embedding

    def induced_kernel(self, X1: Array, X2: Array | None = None) -> Array:
        r"""Induced kernel block :math:`k^*(X_1, X_2)`; ``X2=None`` means ``X1``.

        Parameters
        ----------
        X1 : array, shape (M1, n_features)
        X2 : array, shape (M2, n_features), optional

        Returns
        -------
        array, shape (M1, M2)

        Raises
        ------
        NotFittedError
            Before :meth:`fit`.
        InputError
            If ``X1`` or ``X2`` is not a finite real array with the training views' number of
            features (the message names the argument).
        """
        F1 = self._embed("X1", X1)
        F2 = F1 if X2 is None else self._embed("X2", X2)
        return F1 @ F2.T


if KernelSSL.__doc__:  # None under python -OO
    KernelSSL.__doc__ = KernelSSL.__doc__.replace(
        "    <expected failed checks>",
        "\n".join(f"    - ``{name}``: {reason}." for name, reason in SKLEARN_EXPECTED_FAILED_CHECKS.items()),
    )
