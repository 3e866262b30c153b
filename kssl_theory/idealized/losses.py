r"""The self-supervised objectives of [IR] as functions of head outputs (docs/theory.md §5).

- :func:`cissl_loss`: contrastive ISSL with asymmetric heads (linear student, MLP teacher) and
  the ½/½ target over the view itself and its positive; the self column is *not* masked.
- :func:`simclr_loss`: the SimCLR / InfoNCE baseline, one shared head, self column masked.
- :func:`dissl_loss` / :func:`dissl_loss_from_probabilities`: distillation ISSL with the
  maximality entropy term and the teacher-invariance term, decomposed into KL and entropy
  terms; :func:`dissl_reference_values` gives the bounds and reference values of docs/theory.md §5.
- :func:`linear_head`, :func:`mlp_head`: the two head shapes, for building inputs.

Batches
-------
Rows are views. ``groups[i]`` is the image view ``i`` came from; two views are positives when
they share an image. ``groups=None`` means the usual layout of ``2B`` rows: view 1 of images
``0..B-1`` then view 2 of the same images, so ``pos(i) = (i + B) mod 2B``. Every image needs at
least two views. All functions are array-API: results are 0-d (or 1-d) arrays of the inputs'
namespace and device.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any, NamedTuple, TypeVar

import array_api_compat
import numpy as np

from ..backend import gram, namespace
from ..errors import InputError
from ..graphs import adjacency, group_structure
from ..protocols import Array
from ..validation import (
    check_choice,
    check_groups,
    check_nonnegative,
    check_points,
    check_positive,
    check_same_namespace,
)

__all__ = [
    "linear_head",
    "mlp_head",
    "ContrastiveLoss",
    "cissl_loss",
    "simclr_loss",
    "DISSLLoss",
    "DISSL_MARGINALS",
    "dissl_loss",
    "dissl_loss_from_probabilities",
    "DISSLReference",
    "dissl_reference_values",
]


def linear_head(z: Array, weight: Array, bias: Array | None = None) -> Array:
    r"""Linear head :math:`h(z) = z W + b` (the CISSL student).

    Parameters
    ----------
    z : array, shape (N, d)
    weight : array, shape (d, k)
    bias : array, shape (k,), optional

    Returns
    -------
    array, shape (N, k)
    """
    Z = check_points("z", z)
    W = check_points("weight", weight)
    if W.shape[0] != Z.shape[1]:
        raise InputError(f"weight must have {Z.shape[1]} rows to match z; got shape {tuple(W.shape)}.")
    check_same_namespace(z=Z, weight=W)
    out = Z @ W
    if bias is None:
        return out
    b = check_points("bias", bias)
    if tuple(b.shape) != (W.shape[1], 1):  # check_points reads a vector as one column
        raise InputError(f"bias must be a vector of length {W.shape[1]} (one per output); got shape {tuple(b.shape)}.")
    check_same_namespace(z=Z, bias=b)
    return out + b[:, 0][None, :]


def mlp_head(z: Array, weights: Sequence[Array], biases: Sequence[Array]) -> Array:
    r"""ReLU MLP head :math:`h(z) = W_L\,\mathrm{relu}(\dots\mathrm{relu}(z W_1 + b_1)\dots) + b_L` (the CISSL teacher).

    Parameters
    ----------
    z : array, shape (N, d)
    weights : sequence of arrays
        Layer matrices, shapes ``(d, h_1), (h_1, h_2), ..., (h_{L-1}, k)``.
    biases : sequence of arrays
        One bias vector per layer.

    Returns
    -------
    array, shape (N, k)
    """
    if not isinstance(weights, (list, tuple)) or not isinstance(biases, (list, tuple)):
        raise InputError(
            f"weights and biases must be lists of arrays (one per layer); got {type(weights).__name__} "
            f"and {type(biases).__name__}."
        )
    if len(weights) != len(biases) or not weights:
        raise InputError(
            f"weights and biases must be non-empty and of equal length; got {len(weights)} and {len(biases)}."
        )
    h = check_points("z", z)
    xp = namespace(h)
    for layer, (W, b) in enumerate(zip(weights, biases)):
        if layer:
            h = xp.where(h > 0, h, xp.zeros_like(h))
        h = linear_head(h, W, b)
    return h


def _matching_pair(name_a: str, a: Array, name_b: str, b: Array) -> tuple[Array, Array, Any]:
    """Validate two arrays of outputs of the same batch: finite, 2-D, one namespace, one shape."""
    A, B = check_points(name_a, a), check_points(name_b, b)
    xp = check_same_namespace(**{name_a: A, name_b: B})
    if A.shape != B.shape:
        raise InputError(f"{name_a} and {name_b} must have the same shape; got {tuple(A.shape)} and {tuple(B.shape)}.")
    return A, B, xp


def _batch_groups(groups: Array | None, n: int) -> np.ndarray:
    """The image of every row (NumPy ints), checked: ``groups=None`` is the ``2B`` layout; every image has two views."""
    if groups is None:
        if n % 2:
            raise InputError(
                f"groups=None needs an even number of rows (2B views: view 1 of B images, then view 2); got {n}. "
                "Pass groups for other layouts."
            )
        g = np.arange(n) % (n // 2)
    else:
        g = check_groups(groups, n=n)
    sizes = group_structure(g).sizes
    if np.any(sizes < 2):
        raise InputError(
            f"every image needs at least two views (a positive pair); {int(np.sum(sizes < 2))} group(s) have one."
        )
    return g


def _pair_mask(groups: Array | None, n: int, like: Array) -> Array:
    """Relation matrix with self-loops of the batch (N x N, float, in ``like``'s namespace)."""
    return adjacency(_batch_groups(groups, n), self_loops=True, like=like)


def _view_averages(g: np.ndarray, like: Array) -> Array:
    r"""The ``(V, N)`` matrix whose row ``k`` averages the ``k``-th views of all images.

    The ``k``-th view of an image is its ``k``-th row in batch order; with ``groups=None`` (the
    ``2B`` layout) view 1 is rows ``0..B-1`` and view 2 rows ``B..2B-1``, the two halves that the
    authors' code takes with ``chunk(2)``. Every image must have the same number ``V`` of views.
    """
    s = group_structure(g)
    if not s.is_balanced:
        raise InputError(
            "marginal='per_view' needs every image to have the same number of views (the k-th view of every "
            f"image forms view k); got images with {int(s.sizes.min())} to {int(s.sizes.max())} views. "
            "Pass a batch with equal group sizes, or use marginal='pooled'."
        )
    view = s.member_ranks()  # the k-th view of its image
    W = np.zeros((int(s.sizes[0]), s.n_views))
    W[view, np.arange(s.n_views)] = 1.0 / s.n_groups
    xp = namespace(like)
    return xp.asarray(W, dtype=like.dtype, device=array_api_compat.device(like))


def _normalise_rows(name: str, X: Array, xp: Any) -> Array:
    norms = xp.sqrt(xp.sum(X * X, axis=1, keepdims=True))
    if bool(xp.any(norms == 0)):
        raise InputError(f"{name} has an all-zero row, which cannot be normalised; check the head outputs.")
    return X / norms


def _log_softmax(logits: Array, xp: Any) -> Array:
    m = xp.max(logits, axis=1, keepdims=True)
    shifted = logits - m
    return shifted - xp.log(xp.sum(xp.exp(shifted), axis=1, keepdims=True))


class ContrastiveLoss(NamedTuple):
    """A contrastive loss and its per-row terms.

    Attributes
    ----------
    value : array, shape ()
        Mean of ``per_row``.
    per_row : array, shape (N,)
        Loss of each view (anchor).
    """

    value: Array
    per_row: Array


def cissl_loss(
    student: Array, teacher: Array, groups: Array | None = None, *, temperature: float = 0.07
) -> ContrastiveLoss:
    r"""CISSL: contrastive ISSL with asymmetric heads (docs/theory.md §5).

    With :math:`u_i = h_S(z_i)/\|h_S(z_i)\|` (linear student head) and
    :math:`w_j = h_T(z_j)/\|h_T(z_j)\|` (MLP teacher head),

    .. math:: q(j \mid i) = \frac{\exp(u_i \cdot w_j/\tau)}{\sum_{l=1}^{N} \exp(u_i \cdot w_l/\tau)},
              \qquad \ell_i = -\frac{1}{|g_i|}\sum_{j:\,g_j = g_i} \log q(j \mid i),

    the cross-entropy to the uniform target over the view itself and its positives (½/½ for two
    views); no column is masked. Since :math:`\sum_{j \in g_i} q(j\mid i) \le 1`, Jensen gives
    :math:`\ell_i \ge \log |g_i|` (:math:`\log 2` for pairs), with equality iff
    :math:`q(\cdot\mid i)` is exactly that target, which finite logits reach only when the
    batch is a single image.

    Parameters
    ----------
    student : array, shape (N, k)
        Student head outputs :math:`h_S(z_i)` (normalised here).
    teacher : array, shape (N, k)
        Teacher head outputs :math:`h_T(z_j)` (normalised here).
    groups : array_like of int, shape (N,), optional
        Image of every view; default: ``2B`` rows, view ``i`` paired with ``i + B``.
    temperature : float, default 0.07
        :math:`\tau` (the default of the authors' ``BaseContrastiveISSL``).

    Returns
    -------
    ContrastiveLoss
    """
    U, W, xp = _matching_pair("student", student, "teacher", teacher)
    tau = check_positive("temperature", temperature)
    A = _pair_mask(groups, U.shape[0], U)
    logq = _log_softmax((_normalise_rows("student", U, xp) @ _normalise_rows("teacher", W, xp).T) / tau, xp)
    target = A / xp.sum(A, axis=1, keepdims=True)
    per_row = -xp.sum(target * logq, axis=1)
    return _finite("CISSL", ContrastiveLoss(xp.mean(per_row), per_row), "temperature")


def simclr_loss(outputs: Array, groups: Array | None = None, *, temperature: float = 0.07) -> ContrastiveLoss:
    r"""SimCLR / InfoNCE baseline: one shared head, self column masked (docs/theory.md §5).

    With :math:`h_i` the normalised head outputs,

    .. math:: q(j \mid i) = \frac{\exp(h_i \cdot h_j/\tau)}{\sum_{l \ne i} \exp(h_i \cdot h_l/\tau)}
              \ (j \ne i), \qquad \ell_i = -\frac{1}{|g_i| - 1}\sum_{j \ne i:\, g_j = g_i} \log q(j \mid i),

    the usual NT-Xent loss for two views. :math:`\ell_i \ge \log(|g_i| - 1) \ge 0`.

    Parameters
    ----------
    outputs : array, shape (N, k)
        Shared head outputs (normalised here).
    groups : array_like of int, shape (N,), optional
        Image of every view; default: ``2B`` rows, view ``i`` paired with ``i + B``.
    temperature : float, default 0.07
        :math:`\tau`.

    Returns
    -------
    ContrastiveLoss
    """
    H = check_points("outputs", outputs)
    xp = namespace(H)
    tau = check_positive("temperature", temperature)
    n = H.shape[0]
    A = _pair_mask(groups, n, H)
    Hn = _normalise_rows("outputs", H, xp)
    eye = xp.eye(n, dtype=xp.bool, device=array_api_compat.device(H))
    logits = xp.where(eye, xp.full_like(A, -math.inf), gram(Hn) / tau)
    logq = _log_softmax(logits, xp)
    positives = xp.where(eye, xp.zeros_like(A), A)
    picked = xp.where(positives > 0, logq, xp.zeros_like(logq))
    per_row = -xp.sum(picked, axis=1) / xp.sum(positives, axis=1)
    return _finite("SimCLR", ContrastiveLoss(xp.mean(per_row), per_row), "temperature")


class DISSLLoss(NamedTuple):
    r"""The DISSL loss and its decomposition (docs/theory.md §5); every field is a 0-d array.

    Expectations :math:`\mathbb E` are means over ordered pairs :math:`(i, j)`, :math:`i \ne j`,
    of views of one image.

    Attributes
    ----------
    value : array
        :math:`\mathbb E[\mathrm{CE}(t_i, s_j)] - \lambda H[\hat M] + \beta\,\mathbb E[\mathrm{CE}(t_i, t_j)]`.
    distillation : array
        :math:`\mathbb E[\mathrm{CE}(t_i, s_j)]`.
    invariance : array
        :math:`\mathbb E[\mathrm{CE}(t_i, t_j)]`.
    marginal_entropy : array
        :math:`H[\hat M]`, the entropy of the teacher's batch-mean distribution, estimated as the
        ``marginal`` option of :func:`dissl_loss` says: ``"pooled"``, the entropy of the mean over
        all rows :math:`\hat M = \frac1N\sum_i t_i`; ``"per_view"``, the mean over the views of the
        entropy of each view's mean.
    conditional_entropy : array
        :math:`H[\hat M \mid Z] = \mathbb E[H(t_i)]`, the pair-averaged teacher entropy (the
        plain mean over views when all images have the same number of views).
    kl_student : array
        :math:`\mathbb E[\mathrm{KL}(t_i \| s_j)]`.
    kl_teacher : array
        :math:`\mathbb E[\mathrm{KL}(t_i \| t_j)]`.
    """

    value: Array
    distillation: Array
    invariance: Array
    marginal_entropy: Array
    conditional_entropy: Array
    kl_student: Array
    kl_teacher: Array


def _entropy_terms(p: Array, logp: Array, xp: Any) -> Array:
    """:math:`p \\log p` with :math:`0 \\log 0 = 0` (``logp`` may be ``-inf`` where ``p = 0``)."""
    return p * xp.where(p > 0, logp, xp.zeros_like(logp))


def _cross_entropy_matrix(p: Array, logq: Array, xp: Any) -> Array:
    r""":math:`\mathrm{CE}_{ij} = -\sum_k p_{ik}\log q_{jk}`, ``+inf`` where :math:`p_{ik} > 0 = q_{jk}`."""
    missing = xp.isinf(logq)
    finite = xp.where(missing, xp.zeros_like(logq), logq)
    ce = -(p @ finite.T)
    support = xp.astype(p > 0, p.dtype) @ xp.astype(missing, p.dtype).T
    return xp.where(support > 0, xp.full_like(ce, math.inf), ce)


#: Valid values of the ``marginal`` option of :func:`dissl_loss` (the first is the default).
DISSL_MARGINALS = ("pooled", "per_view")


def _entropy_of_rows(P: Array, xp: Any) -> Array:
    r"""Entropy of every row of ``P`` (probability vectors), with :math:`0 \log 0 = 0`."""
    logP = xp.log(xp.where(P > 0, P, xp.ones_like(P)))
    return -xp.sum(_entropy_terms(P, logP, xp), axis=1)


def _dissl(
    t: Array,
    log_t: Array,
    s: Array,
    log_s: Array,
    groups: Array | None,
    lam: float,
    beta: float,
    xp: Any,
    marginal: str = "pooled",
) -> DISSLLoss:
    n = t.shape[0]
    g = _batch_groups(groups, n)
    A = adjacency(g, self_loops=True, like=t)
    eye = xp.eye(n, dtype=t.dtype, device=array_api_compat.device(t))
    pairs = A - eye
    weights = pairs / xp.sum(pairs)

    def pair_mean(X: Array) -> Array:
        return xp.sum(xp.where(pairs > 0, X, xp.zeros_like(X)) * weights)

    h = -xp.sum(_entropy_terms(t, log_t, xp), axis=1)
    ce_ts = _cross_entropy_matrix(t, log_s, xp)
    ce_tt = _cross_entropy_matrix(t, log_t, xp)
    if marginal == "per_view":
        h_marginal = xp.mean(_entropy_of_rows(_view_averages(g, t) @ t, xp))
    else:
        m_hat = xp.mean(t, axis=0)
        log_m = xp.log(xp.where(m_hat > 0, m_hat, xp.ones_like(m_hat)))
        h_marginal = -xp.sum(_entropy_terms(m_hat, log_m, xp))
    distillation = pair_mean(ce_ts)
    invariance = pair_mean(ce_tt)
    value = distillation - lam * h_marginal
    if beta > 0:  # skip at beta = 0 so that an infinite cross-entropy does not give 0 * inf = nan
        value = value + beta * invariance
    return DISSLLoss(
        value,
        distillation,
        invariance,
        h_marginal,
        pair_mean(h[:, None] * xp.ones_like(ce_ts)),
        pair_mean(ce_ts - h[:, None]),
        pair_mean(ce_tt - h[:, None]),
    )


#: The loss tuple :func:`_finite` checks and returns unchanged.
_Loss = TypeVar("_Loss", ContrastiveLoss, DISSLLoss)


def _finite(name: str, loss: _Loss, knobs: str) -> _Loss:
    """Return ``loss`` if its value is finite; otherwise the inputs overflowed float arithmetic.

    From logits or embeddings every term of these losses is finite mathematically, so an
    infinite or NaN value can only come from overflow (e.g. logits of 1e150 make a
    cross-entropy of 1e149, and beta = 1e300 times that is inf).
    """
    value = float(loss.value)
    if not math.isfinite(value):
        raise InputError(
            f"the {name} loss overflows floating point ({value}); the {knobs} are too extreme: "
            "rescale them (logits of order one, temperatures not below ~1e-3 of the logit scale)."
        )
    return loss


def _check_weights(lam: float, beta: float) -> tuple[float, float]:
    return check_nonnegative("lam", lam), check_nonnegative("beta", beta)


def _check_marginal(marginal: object) -> str:
    """``marginal`` if it is one of :data:`DISSL_MARGINALS`; :class:`InputError` listing them otherwise."""
    return check_choice("marginal", marginal, DISSL_MARGINALS)


def dissl_loss(
    teacher_logits: Array,
    student_logits: Array,
    groups: Array | None = None,
    *,
    lam: float = 2.3,
    beta: float = 0.8,
    tau_t: float = 0.5,
    tau_s: float = 1.0,
    marginal: str = "pooled",
) -> DISSLLoss:
    r"""DISSL: distillation ISSL with maximality and teacher invariance (docs/theory.md §5).

    Teacher :math:`t_i = \operatorname{softmax}(h_T(z_i)/\tau_t)`, student
    :math:`s_i = \operatorname{softmax}(h_S(z_i)/\tau_s)` over :math:`C'` clusters, and over
    ordered pairs :math:`i \ne j` of views of one image

    .. math:: \mathcal L = \mathbb E[\mathrm{CE}(t_i, s_j)] - \lambda H[\hat M]
              + \beta\,\mathbb E[\mathrm{CE}(t_i, t_j)]
              = \mathbb E[\mathrm{KL}(t_i\|s_j)] + \beta\,\mathbb E[\mathrm{KL}(t_i\|t_j)]
              + (1 + \beta) H[\hat M \mid Z] - \lambda H[\hat M],

    with :math:`\hat M = \frac1N\sum_i t_i` and :math:`H[\hat M\mid Z] = \mathbb E[H(t_i)]`
    (because :math:`\mathrm{CE}(p, q) = H(p) + \mathrm{KL}(p\|q)`). For :math:`\lambda, \beta
    \ge 0`: :math:`\mathcal L \ge -\lambda\log C'` under either ``marginal`` below. See
    :func:`dissl_reference_values` for when the bound is attained.

    **The marginal entropy** :math:`H[\hat M]` estimates the entropy of the teacher's population
    marginal :math:`p(M)` from the batch, in one of two ways (``marginal``):

    ``"pooled"`` (default; the convention of docs/theory.md §5 and of the verification claims)
        The entropy of the mean over all :math:`N` rows,

        .. math:: H[\hat M] = H\Big(\frac1N \sum_{i=1}^{N} t_i\Big).

    ``"per_view"`` (the authors' reference code, ``issl/losses/dissl.py``)
        With :math:`V` views of each of :math:`B` images (the :math:`k`-th view of an image is
        its :math:`k`-th row in batch order; with ``groups=None`` rows :math:`0..B-1` and
        :math:`B..2B-1`, the halves the authors' ``chunk(2)`` takes), the mean over the views of
        the entropy of each view's mean,

        .. math:: H[\hat M] = \frac1V \sum_{k=1}^{V} H\Big(\frac1B \sum_{i \in \text{view } k} t_i\Big).

        Every image must have the same number of views.

    Both estimate the same population quantity. The pooled mean is the mean of the view means, so
    pooled minus per-view is the Jensen–Shannon divergence of the :math:`V` view means: between 0
    and :math:`\log V`, zero iff every view has the same mean teacher distribution (e.g. a
    view-invariant teacher, :math:`t_i = t_j` for the views of one image). The per-view loss is
    therefore larger by :math:`\lambda` times that divergence, up to :math:`\lambda \log 2
    \approx 1.6` nats for two views at the default :math:`\lambda = 2.3`; small batches of
    confident, view-dependent teachers come close to it. The identity above, the bound and the
    values of :func:`dissl_reference_values` hold for either; in the conditions for attaining the
    bound (:class:`DISSLReference`), "batch mean uniform" reads "every view's mean uniform" under
    ``"per_view"``, which is the same for a view-invariant teacher.

    Parameters
    ----------
    teacher_logits, student_logits : array, shape (N, C')
        Head outputs :math:`h_T(z_i)` and :math:`h_S(z_i)` (finite).
    groups : array_like of int, shape (N,), optional
        Image of every view; default: ``2B`` rows, view ``i`` paired with ``i + B``.
    lam, beta : float, defaults 2.3 and 0.8
        :math:`\lambda \ge 0` (maximality) and :math:`\beta \ge 0` (teacher invariance).
    tau_t, tau_s : float, defaults 0.5 and 1
        Teacher and student temperatures (defaults of the authors' code).
    marginal : {"pooled", "per_view"}, default "pooled"
        How :math:`H[\hat M]` is estimated from the batch; see above.

    Returns
    -------
    DISSLLoss

    Raises
    ------
    InputError
        Bad logits, weights or temperatures; ``marginal`` not one of :data:`DISSL_MARGINALS`
        (the message lists them); ``marginal="per_view"`` with images of different numbers of
        views.
    """
    T, S, xp = _matching_pair("teacher_logits", teacher_logits, "student_logits", student_logits)
    lam, beta = _check_weights(lam, beta)
    marginal = _check_marginal(marginal)
    log_t = _log_softmax(T / check_positive("tau_t", tau_t), xp)
    log_s = _log_softmax(S / check_positive("tau_s", tau_s), xp)
    loss = _dissl(xp.exp(log_t), log_t, xp.exp(log_s), log_s, groups, lam, beta, xp, marginal)
    return _finite("DISSL", loss, "logits, tau_t, tau_s, lam or beta")


def _check_simplex_rows(name: str, P: Array, xp: Any) -> Array:
    tol = math.sqrt(float(xp.finfo(P.dtype).eps)) * P.shape[1]
    if bool(xp.any(P < 0)) or float(xp.max(xp.abs(xp.sum(P, axis=1) - 1))) > tol:
        raise InputError(f"{name} must hold probability vectors (non-negative rows summing to 1).")
    return P


def dissl_loss_from_probabilities(
    teacher: Array,
    student: Array,
    groups: Array | None = None,
    *,
    lam: float = 2.3,
    beta: float = 0.8,
    marginal: str = "pooled",
) -> DISSLLoss:
    r"""DISSL from teacher and student probabilities, exact zeros allowed (docs/theory.md §5).

    The same loss as :func:`dissl_loss` with :math:`t_i`, :math:`s_i` given directly, so that
    one-hot teachers (the ideal, collapsed and swapped reference points, which softmax of
    finite logits only approaches) can be evaluated exactly. Conventions: :math:`0 \log 0 = 0`;
    :math:`\mathrm{CE}(p, q) = +\infty` when :math:`q` misses part of :math:`p`'s support.

    Parameters
    ----------
    teacher, student : array, shape (N, C')
        Rows are probability vectors.
    groups : array_like of int, shape (N,), optional
        Image of every view; default: ``2B`` rows, view ``i`` paired with ``i + B``.
    lam, beta : float, defaults 2.3 and 0.8
    marginal : {"pooled", "per_view"}, default "pooled"
        How :math:`H[\hat M]` is estimated from the batch, as in :func:`dissl_loss`: the entropy
        of the mean over all rows, or (the authors' code) the mean over views of the entropy of
        each view's mean.

    Returns
    -------
    DISSLLoss

    Raises
    ------
    InputError
        Rows that are not probability vectors; bad weights; ``marginal`` not one of
        :data:`DISSL_MARGINALS`; ``marginal="per_view"`` with images of different numbers of views.
    """
    T, S, xp = _matching_pair("teacher", teacher, "student", student)
    T = _check_simplex_rows("teacher", T, xp)
    S = _check_simplex_rows("student", S, xp)
    lam, beta = _check_weights(lam, beta)
    marginal = _check_marginal(marginal)

    def log(P: Array) -> Array:
        safe = xp.log(xp.where(P > 0, P, xp.ones_like(P)))
        return xp.where(P > 0, safe, xp.full_like(P, -math.inf))

    return _dissl(T, log(T), S, log(S), groups, lam, beta, xp, marginal)


class DISSLReference(NamedTuple):
    r"""Reference values of the DISSL loss for :math:`C'` clusters (docs/theory.md §5).

    Attributes
    ----------
    lower_bound : float
        :math:`-\lambda\log C'`: the infimum for :math:`\lambda, \beta \ge 0`. Attained
        (with probabilities; logits only approach it) by a one-hot, view-invariant teacher
        whose batch mean is uniform (so :math:`C'` divides the number of views) and a student
        equal to it on every paired view. These conditions are also necessary when
        :math:`\lambda > 0` and either :math:`\beta > 0` or every image has at least three
        views; with :math:`\beta = 0` and two views a teacher that *swaps* clusters between
        the views, with the student swapped back, attains it too, and with :math:`\lambda = 0`
        a collapsed teacher does.
    collapsed : float
        0: every view one-hot on the same cluster and the student equal to the teacher.
    uniform : float
        :math:`(1 + \beta - \lambda)\log C'`: uniform teacher *and* uniform student (a uniform
        teacher with any other student adds :math:`\mathbb E[\mathrm{KL}(u\|s_j)] > 0`).
    """

    lower_bound: float
    collapsed: float
    uniform: float


def dissl_reference_values(n_clusters: int, *, lam: float = 2.3, beta: float = 0.8) -> DISSLReference:
    r"""The bound and reference values of DISSL (docs/theory.md §5); see :class:`DISSLReference`.

    Parameters
    ----------
    n_clusters : int
        :math:`C' \ge 1`.
    lam, beta : float, defaults 2.3 and 0.8

    Returns
    -------
    DISSLReference
    """
    if isinstance(n_clusters, bool) or not isinstance(n_clusters, (int, np.integer)) or n_clusters < 1:
        raise InputError(f"n_clusters must be a positive integer; got {n_clusters!r}.")
    lam, beta = _check_weights(lam, beta)
    log_c = math.log(int(n_clusters))
    return DISSLReference(-lam * log_c, 0.0, (1.0 + beta - lam) * log_c)
