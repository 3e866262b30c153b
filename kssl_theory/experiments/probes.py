r"""Downstream probes: how much a (base or induced) kernel helps a few-label task (docs/theory.md §3–§4).

The SSL representation is evaluated the way [KR] and the SSL literature do: freeze it, train a
small supervised model on ``k`` labelled training images per class, and measure accuracy on
held-out test images. Two probes:

- :func:`kernel_ridge_probe`: kernel ridge regression on one-hot targets with a precomputed
  kernel (the base kernel :math:`k` or an induced kernel :math:`k^*`), predictions by argmax.
  With training block :math:`K_{ll}` and cross block :math:`K_{tl}`, scores are
  :math:`K_{tl}(K_{ll} + \rho I)^{-1}Y`, exactly scikit-learn's
  ``KernelRidge(kernel="precomputed", alpha=rho)``. The ridge is *relative*:
  :math:`\rho = \text{rel\_ridge}\cdot\operatorname{mean}\operatorname{diag}K_{ll}`, so one
  setting is scale-free and is the same for every kernel compared.
- :func:`linear_probe`: an affine probe on embeddings :math:`f(x)` — one-hot least squares with a
  bias (closed form, default) or multinomial logistic regression — after standardising features
  with statistics of *unlabelled training* embeddings (never of test points, never of labels).

:func:`sample_labelled` draws the ``k``-per-class labelled subsets (seeded) and
:func:`summarize` reduces accuracies over seeds to mean ± standard deviation. No function here
looks at test labels except to score final predictions.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..backend import eigh, gram, solve_pos, to_numpy
from ..errors import InputError
from ..validation import (
    as_array,
    check_allocation,
    check_choice,
    check_groups,
    check_int,
    check_matrix,
    check_points,
    check_positive,
    check_seed,
)

__all__ = [
    "one_hot",
    "sample_labelled",
    "RIDGE_GRID",
    "loo_ridge",
    "kernel_ridge_predict",
    "kernel_ridge_probe",
    "linear_probe",
    "accuracy",
    "Summary",
    "summarize",
]


def one_hot(labels, n_classes: int | None = None) -> np.ndarray:
    """One-hot matrix ``Y[i, labels[i]] = 1`` of shape ``(n, n_classes)``."""
    labels = check_groups(labels, name="labels", per="example")
    needed = int(labels.max()) + 1
    n_classes = needed if n_classes is None else check_int("n_classes", n_classes, needed)
    check_allocation("one_hot(labels, n_classes)", (labels.size, n_classes))
    Y = np.zeros((labels.size, n_classes))
    Y[np.arange(labels.size), labels] = 1.0
    return Y


def sample_labelled(labels, k: int, *, seed=0) -> np.ndarray:
    """Indices of ``k`` randomly chosen examples of every class (sorted), seeded.

    Raises
    ------
    InputError
        If some class has fewer than ``k`` examples.
    """
    labels = check_groups(labels, name="labels", per="example")
    k = check_int("k", k, 1)
    rng = np.random.default_rng(check_seed("seed", seed))
    chosen = []
    for c in np.unique(labels):
        idx = np.flatnonzero(labels == c)
        if idx.size < k:
            raise InputError(f"class {c} has only {idx.size} examples; cannot label k = {k} of them.")
        chosen.append(rng.choice(idx, size=k, replace=False))
    return np.sort(np.concatenate(chosen))


def accuracy(pred, labels) -> float:
    """Fraction of ``pred == labels`` (both 1-D integer labels of the same length)."""
    pred = check_groups(pred, name="pred", per="example")
    labels = check_groups(labels, n=pred.size, name="labels", per="prediction")
    return float(np.mean(pred == labels))


#: Relative ridges searched by :func:`loo_ridge` (a fixed grid, never adapted to the test set).
RIDGE_GRID = tuple(10.0 ** np.arange(-6, 1.5, 0.5))


def loo_ridge(K_ll, y_l, *, grid=RIDGE_GRID, n_classes: int | None = None) -> float:
    r"""Relative ridge that minimises the leave-one-out squared error on the labelled set.

    For a ridge :math:`\rho` the hat matrix is :math:`H = K(K + \rho I)^{-1}` and the
    leave-one-out residuals have the closed form :math:`(Y - HY)_i / (1 - H_{ii})`; one
    eigendecomposition of :math:`K_{ll}` serves the whole grid. Only labelled *training*
    examples enter, so the choice is legitimate for a few-label probe. It matters: with a tiny
    fixed ridge a rank-``d`` induced kernel shows an interpolation peak (double descent) when
    the number of labels approaches ``d``.

    Returns
    -------
    float
        The chosen ``rel_ridge`` (ties go to the larger ridge).
    """
    K_ll = _host_matrix("K_ll", K_ll, symmetric=True)
    Y = one_hot(check_groups(y_l, n=K_ll.shape[0], name="y_l", per="labelled example"), n_classes)
    grid = [check_positive("grid value", g) for g in _as_list("grid", grid)]
    scale = float(np.mean(np.diag(K_ll)))
    if not scale > 0:
        return float(grid[-1])
    w, U = eigh(K_ll)
    w = np.clip(w, 0, None)
    UY = U.T @ Y
    best, best_err = float(grid[-1]), np.inf
    for rel in sorted(grid, reverse=True):
        shrink = w / (w + rel * scale)
        H_diag = np.einsum("ij,j,ij->i", U, shrink, U)
        # 1 - H_ii >= rel*scale / (w_max + rel*scale) > 0 in exact arithmetic; the clip only stops a
        # round-off zero (rel below ~eps * w_max / scale) from dividing the residual by 0.
        resid = (Y - U @ (shrink[:, None] * UY)) / np.clip(1 - H_diag, 1e-12, None)[:, None]
        err = float(np.mean(resid**2))
        # Errors within 1e-9 relative are a tie (a mean of n_l squares rounds at ~n_l eps, 2e-11 for
        # n_l = 1e5): ties go to the larger ridge, the more stable choice.
        if err < best_err * (1 - 1e-9):
            best, best_err = float(rel), err
    return best


def kernel_ridge_predict(K_ll, y_l, K_tl, *, rel_ridge: float | str = 1e-3, n_classes: int | None = None):
    r"""Kernel ridge regression on one-hot targets: scores :math:`K_{tl}(K_{ll} + \rho I)^{-1}Y`.

    Parameters
    ----------
    K_ll : array, shape (n_l, n_l)
        Kernel between the labelled examples (symmetric PSD).
    y_l : array of int, shape (n_l,)
        Their labels.
    K_tl : array, shape (n_t, n_l)
        Kernel between evaluation points and labelled examples.
    rel_ridge : float or "loo", default 1e-3
        :math:`\rho / \operatorname{mean}\operatorname{diag}K_{ll}`, must be > 0 (an induced
        kernel has rank <= d, so :math:`K_{ll}` may be singular); ``"loo"`` picks it with
        :func:`loo_ridge` on the labelled examples.
    n_classes : int, optional

    Returns
    -------
    scores : ndarray, shape (n_t, n_classes)
        Argmax gives the predicted class.
    """
    K_ll = _host_matrix("K_ll", K_ll, symmetric=True)
    n_l = K_ll.shape[0]
    K_tl = _host_matrix("K_tl", K_tl, cols=n_l)
    Y = one_hot(check_groups(y_l, n=n_l, name="y_l", per="labelled example"), n_classes)
    if isinstance(rel_ridge, str):
        if rel_ridge != "loo":
            raise InputError(f"rel_ridge must be a positive number or 'loo'; got {rel_ridge!r}.")
        rel_ridge = loo_ridge(K_ll, y_l, n_classes=n_classes)
    rel_ridge = check_positive("rel_ridge", rel_ridge)
    scale = float(np.mean(np.diag(K_ll)))
    if not scale > 0:
        # A kernel that maps every labelled point to 0 carries no information: predict by ties.
        return np.zeros((K_tl.shape[0], Y.shape[1]))
    rho = rel_ridge * scale
    alpha = solve_pos((K_ll + K_ll.T) / 2 + rho * np.eye(n_l), Y)
    return K_tl @ alpha


def kernel_ridge_probe(K_ll, y_l, K_tl, y_t, *, rel_ridge: float | str = 1e-3, n_classes: int | None = None) -> float:
    """Test accuracy of :func:`kernel_ridge_predict` (argmax of the one-hot regression)."""
    scores = kernel_ridge_predict(K_ll, y_l, K_tl, rel_ridge=rel_ridge, n_classes=n_classes)
    return accuracy(np.argmax(scores, axis=1), y_t)


def linear_probe(
    F_l,
    y_l,
    F_t,
    y_t,
    *,
    F_unlabelled=None,
    method: str = "ridge",
    rel_ridge="loo",
    C: float = 1.0,
    max_iter: int = 500,
) -> float:
    r"""Test accuracy of a linear (affine) probe on frozen embeddings.

    Features are first standardised with the mean and standard deviation of *unlabelled
    training* embeddings ``F_unlabelled`` (default: of ``F_l``); test embeddings never enter.

    ``method="ridge"`` (default; closed form, fast and deterministic): least squares on one-hot
    targets with a bias, i.e. :func:`kernel_ridge_predict` with the kernel
    :math:`\tilde f(x)^T\tilde f(x') + 1` of the standardised features, ridge by leave-one-out
    on the labelled set (``rel_ridge="loo"``) or fixed. ``method="logistic"``: scikit-learn's
    multinomial ``LogisticRegression(C=C)`` (L-BFGS; slower).

    Parameters
    ----------
    F_l : array, shape (n_l, d)
        Embeddings :math:`f(x)` of the labelled training examples.
    y_l : array of int, shape (n_l,)
    F_t : array, shape (n_t, d)
        Embeddings of the evaluation points; ``y_t`` their labels (used only for scoring).
    F_unlabelled : array, shape (n_u, d), optional
        Embeddings of unlabelled training data for the standardisation.
    method : {"ridge", "logistic"}
    rel_ridge : float or "loo"
        Ridge of the ``"ridge"`` probe (see :func:`kernel_ridge_predict`).
    C, max_iter :
        Of the ``"logistic"`` probe (fixed, not tuned).
    """
    method = check_choice("method", method, ("ridge", "logistic"))
    F_l = _host_points("F_l", F_l)
    d = F_l.shape[1]
    F_t = _host_points("F_t", F_t, cols=d)
    ref = F_l if F_unlabelled is None else _host_points("F_unlabelled", F_unlabelled, cols=d)
    y_l = check_groups(y_l, n=F_l.shape[0], name="y_l", per="labelled embedding")
    y_t = check_groups(y_t, n=F_t.shape[0], name="y_t", per="test embedding")
    if np.unique(y_l).size < 2:
        raise InputError("the linear probe needs labelled examples of at least two classes.")
    # Standardising is invariant to one common scale factor, so divide everything by the largest
    # magnitude first: means and variances of huge or tiny embeddings then neither overflow nor underflow.
    m = max(float(np.abs(F).max()) for F in (F_l, F_t, ref)) or 1.0
    F_l, F_t, ref = F_l / m, F_t / m, ref / m
    mu = ref.mean(axis=0)
    sd = ref.std(axis=0)
    # A feature whose spread is below 1e-12 of the largest one is constant up to the rounding of its
    # mean (~n eps relative, 1e-12 at n = 5,000 after the rescaling above); dividing by it would only
    # amplify round-off, so it is centred but not scaled.
    sd = np.where(sd > 1e-12 * max(float(sd.max(initial=0.0)), 1e-300), sd, 1.0)
    S_l, S_t = (F_l - mu) / sd, (F_t - mu) / sd
    if not (np.all(np.isfinite(S_l)) and np.all(np.isfinite(S_t))):
        raise InputError(
            "standardised embeddings overflow: some embeddings lie ~1e300 standard deviations from "
            "the unlabelled training embeddings; check the embeddings' scale."
        )
    if method == "ridge":
        n_classes = int(max(y_l.max(), y_t.max()) + 1)
        scores = kernel_ridge_predict(gram(S_l) + 1.0, y_l, S_t @ S_l.T + 1.0, rel_ridge=rel_ridge, n_classes=n_classes)
        return accuracy(np.argmax(scores, axis=1), y_t)
    from sklearn.linear_model import LogisticRegression  # method == "logistic" (checked above)

    clf = LogisticRegression(C=check_positive("C", C), max_iter=check_int("max_iter", max_iter, 1))
    clf.fit(S_l, y_l)
    return accuracy(clf.predict(S_t), y_t)


def _host_points(name: str, X, cols: int | None = None) -> np.ndarray:
    """Validated finite float64 NumPy rows (1-D input is one feature), optionally with ``cols`` columns."""
    X = to_numpy(check_points(name, X)).astype(np.float64)
    if cols is not None and X.shape[1] != cols:
        raise InputError(f"{name} has {X.shape[1]} features but the labelled embeddings have {cols}.")
    return X


def _host_matrix(name: str, M, **kwargs) -> np.ndarray:
    """Validated finite float64 NumPy matrix (:func:`~kssl_theory.validation.check_matrix` options)."""
    square = kwargs.pop("square", "cols" not in kwargs)
    return to_numpy(check_matrix(name, M, square=square, **kwargs)).astype(np.float64)


def _as_list(name: str, values) -> list:
    arr = to_numpy(as_array(name, values)).ravel()
    if arr.size == 0:
        raise InputError(f"{name} is empty; pass at least one value.")
    return arr.tolist()


@dataclass(frozen=True)
class Summary:
    """Mean and sample standard deviation (``ddof=1``; 0 for one value) of accuracies over seeds."""

    mean: float
    std: float
    n: int

    def __str__(self) -> str:
        return f"{100 * self.mean:.1f} ± {100 * self.std:.1f}"


def summarize(values) -> Summary:
    """Reduce a list of accuracies to :class:`Summary` (``str`` gives percent ``mean ± std``)."""
    v = _host_points("values", values).ravel()
    return Summary(float(v.mean()), float(v.std(ddof=1)) if v.size > 1 else 0.0, int(v.size))
