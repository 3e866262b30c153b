r"""Kernel functions: Gram blocks :math:`k(X, Y)` for any array-API input.

Every kernel takes points as rows (``X`` of shape ``(N, d)``, ``Y`` of shape ``(M, d)``;
``Y=None`` means ``Y = X``) and returns the ``N x M`` block :math:`K_{ij} = k(x_i, y_j)` of
docs/theory.md §1, in the namespace, device and floating dtype of the input (float64 by default,
float32 accepted, integer and boolean input promoted to float64). Only array API standard
operations are used, so one code path serves NumPy, CuPy and array-api-strict.

When ``Y`` is ``None`` (or the very object ``X``) the block is exactly symmetric and every
squared distance and angle on its diagonal is exactly zero.

Numerical accuracy
------------------
Squared distances are summed from explicit differences :math:`x - y` (in blocks of rows), so
they are accurate to a few eps *relative* even for near-duplicate points, where the GEMM
expansion :math:`\|x\|^2 + \|y\|^2 - 2\langle x, y\rangle` would lose everything and a small
bandwidth would then make the RBF Gram matrix indefinite. They are taken in units of a power of
two near the bandwidth (an exact scaling), so the RBF and Laplace kernels and
:func:`median_bandwidth` are scale-invariant over the whole float range (points and bandwidths
from 1e-300 to 1e300), and a bandwidth far outside the points' scale saturates to exactly
:math:`I` or :math:`\mathbf{1}\mathbf{1}^T`. The kernels whose values grow with the points
(linear, polynomial, order-1 arc-cosine, NNGP, NTK) raise :class:`InputError` when an entry
overflows, without NumPy's overflow warnings. Angles use :math:`\cos\theta = \langle x, y\rangle /
\sqrt{\|x\|^2 \|y\|^2}`; :math:`|\cos\theta| \ge 1 - 4(d + 2)\,\text{eps}` is snapped to
:math:`\pm 1` (exact duplicates and collinear points would otherwise get a spurious angle of
order :math:`\sqrt{d\,\text{eps}}`, about 1e-8, and an indefinite Gram matrix). Near
:math:`\theta \in \{0, \pi\}` the angle is only known to about :math:`\sqrt{d\,\text{eps}}`,
which limits the order-0 arc-cosine kernel and the NTK's derivative term (infinite slope in
:math:`\cos\theta` there); the order-1 kernel and the NNGP are smooth in :math:`\cos\theta`.
"""

from __future__ import annotations

import functools
import inspect
import math
from collections.abc import Callable
from typing import Any, ParamSpec, TypeVar

import numpy as np
from array_api_compat import device

from .backend import eigvalsh, eps, gram, namespace, symmetrize
from .errors import InputError
from .protocols import Array
from .validation import (
    check_int,
    check_matrix,
    check_nonnegative,
    check_points,
    check_positive,
    check_same_namespace,
    close_matches,
    unknown_name_message,
)

__all__ = [
    "linear",
    "polynomial",
    "rbf",
    "laplace",
    "arccos",
    "relu_nngp",
    "relu_ntk",
    "precomputed",
    "median_bandwidth",
    "get_kernel",
    "KERNELS",
]

_P = ParamSpec("_P")
_R = TypeVar("_R")


def _pair(X: Array, Y: Array | None) -> tuple[Array, Array, Any, bool]:
    """Validate ``X`` and ``Y``; return them, their namespace and whether ``Y`` is ``X``."""
    same = Y is None or Y is X
    X = check_points("X", X)
    if same:
        return X, X, namespace(X), True
    Y = check_points("Y", Y)
    xp = check_same_namespace(X=X, Y=Y)
    if X.shape[1] != Y.shape[1]:
        raise InputError(
            f"X has shape {tuple(X.shape)} and Y has shape {tuple(Y.shape)}: the feature counts "
            f"differ ({X.shape[1]} vs {Y.shape[1]}); pass points with the same number of columns."
        )
    return X, Y, xp, False


def _eye(A: Array) -> Array:
    """Boolean mask of the diagonal of ``A``."""
    xp, dev = namespace(A), device(A)
    return xp.arange(A.shape[0], device=dev)[:, None] == xp.arange(A.shape[1], device=dev)[None, :]


def _diag(A: Array) -> Array:
    xp = namespace(A)
    return xp.sum(xp.where(_eye(A), A, xp.zeros_like(A)), axis=1)


def _inner(X: Array, Y: Array, same: bool) -> Array:
    """``X Y^T``, symmetrised when ``Y`` is ``X`` so everything derived from it is exactly symmetric."""
    return symmetrize(gram(X)) if same else X @ Y.T


def _sq_norms(X: Array, Y: Array, G: Array, same: bool) -> tuple[Array, Array]:
    """Squared row norms; from ``diag(G)`` when ``Y`` is ``X`` so duplicate rows match the diagonal."""
    if same:
        d = _diag(G)
        return d, d
    xp = namespace(X, Y)
    return xp.sum(X * X, axis=1), xp.sum(Y * Y, axis=1)


#: Elements per block of pairwise differences in :func:`_scaled_sq_dists` (32 MiB of float64).
_DIFF_BLOCK = 1 << 22


def _power_of_two_near(scale: float, dtype: Any, xp: Any) -> float:
    r"""A power of two :math:`q` with :math:`q \le` ``scale`` :math:`< 2q`, clamped so that
    :math:`q` and :math:`2/q` are normal numbers of ``dtype``.

    Multiplying by :math:`1/q` or :math:`2/q` is then exact (no rounding, and the factors
    themselves are finite).
    The clamp only acts for a ``scale`` outside the dtype's normal range (e.g. a bandwidth of
    1e-300 with float32 points); :math:`r = \text{scale}/q` is then far from 1, which the
    callers handle.
    """
    emax = math.frexp(float(xp.finfo(dtype).max))[1] - 1  # 1023 for float64, 127 for float32
    k = min(max(math.frexp(scale)[1] - 1, 1 - emax), emax)
    return math.ldexp(1.0, k)


def _scaled_sq_dists(X: Array, Y: Array, scale: float) -> tuple[Array, float]:
    r"""Squared Euclidean distances in units of an exact power of two near ``scale``.

    Returns ``(D, q)`` with :math:`D_{ij} = \|x_i - y_j\|^2 / q^2` for the power of two
    :math:`q` of :func:`_power_of_two_near`, so that
    :math:`\|x_i - y_j\|^2/\text{scale}^2 = D_{ij} / r^2` with :math:`r = \text{scale}/q \in [1, 2)`
    unless clamped. The points are divided by :math:`q` first (exact: a power of two) and the
    differences taken explicitly, so that:

    - they are accurate to a few eps *relative* even for near-duplicate points, where the
      expansion :math:`\|x\|^2 + \|y\|^2 - 2\langle x, y\rangle` (one GEMM) would lose
      everything and a small bandwidth would then make the RBF Gram matrix indefinite;
    - squares neither overflow nor underflow for points and bandwidths anywhere in the float
      range (unscaled squared distances overflow beyond 1e154 and underflow below 1e-154). An
      entry of :math:`D` is +inf only for a distance beyond :math:`10^{154}` bandwidths, where the
      kernels are 0 anyway. Points beyond (max float) :math:`\cdot q` (a tiny bandwidth with
      huge points) are halved before subtracting and scaled after, so :math:`x - y` stays finite
      and the diagonal stays 0;
    - the block is exactly symmetric with a zero diagonal when ``Y`` is ``X``.

    Costs O(N M d) in blocks of ``_DIFF_BLOCK`` elements. (Coordinates below (min normal)
    :math:`\cdot q` lose low bits in the scaling; their share of :math:`D` is below 1e-300.)
    """
    xp = namespace(X, Y)
    q = _power_of_two_near(scale, X.dtype, xp)
    Xs, Ys = X * (1.0 / q), Y * (1.0 / q)
    factor = 1.0
    if not (bool(xp.all(xp.isfinite(Xs))) and bool(xp.all(xp.isfinite(Ys)))):
        Xs, Ys, factor = X * 0.5, Y * 0.5, 2.0 / q
    rows = max(1, _DIFF_BLOCK // max(1, Y.shape[0] * X.shape[1]))
    blocks = []
    n = X.shape[0]
    for start in range(0, n, rows):
        diff = Xs[start : min(start + rows, n), None, :] - Ys[None, :, :]
        if factor != 1.0:
            diff = diff * factor
        blocks.append(xp.sum(diff * diff, axis=2))
    return (blocks[0] if len(blocks) == 1 else xp.concat(blocks, axis=0)), q


def _decay_rate(power: int, r: float, dtype: Any, xp: Any) -> float:
    r""":math:`1/(p\,r^p)` for the exponent :math:`-D\cdot(\ldots)` of the RBF (:math:`p = 2`) or
    :math:`-\sqrt{D}\cdot(\ldots)` of the Laplace kernel (:math:`p = 1`), capped at the
    dtype's largest value.

    For an unclamped :math:`r \in [1, 2)` this is ordinary arithmetic. For a bandwidth far below
    the dtype's range :math:`r^p` underflows: the cap keeps ``0 * rate = 0`` on the diagonal
    (so :math:`k(x, x) = 1`) while every nonzero distance gives :math:`e^{-\infty} = 0`.
    """
    rp = r if power == 1 else r * r  # a float product overflows to inf; ** would raise
    return min(math.inf if rp == 0 else 1.0 / (power * rp), float(xp.finfo(dtype).max))


def _quiet_overflow(kernel: Callable[_P, _R]) -> Callable[_P, _R]:
    """Run ``kernel`` without NumPy's overflow/invalid warnings.

    Every kernel either refuses a non-finite result with :class:`InputError` (:func:`_finite`) or
    saturates on purpose (an RBF exponent of -inf is exactly 0), so the warnings only repeat it.
    """

    @functools.wraps(kernel)
    def quiet(*args: _P.args, **kwargs: _P.kwargs) -> _R:
        with np.errstate(over="ignore", invalid="ignore", under="ignore"):
            return kernel(*args, **kwargs)

    return quiet


def _cosine(S: Array, sx: Array, sy: Array, d: int) -> tuple[Array, Array]:
    r"""Return :math:`\cos\theta = S / \sqrt{s_x s_y}` and :math:`\sqrt{s_x s_y}`.

    The cosine is 0 where :math:`s_x s_y = 0` (see :func:`arccos`) and snapped to :math:`\pm 1`
    within :math:`4(d + 2)\,\text{eps}` of it (see the module docstring), which also clips it.
    """
    xp = namespace(S)
    scale = xp.sqrt(sx[:, None] * sy[None, :])
    nonzero = scale > 0
    c = S / xp.where(nonzero, scale, xp.ones_like(scale))
    c = xp.where(xp.abs(c) >= 1 - 4 * (d + 2) * eps(S.dtype, xp), xp.sign(c), c)
    return xp.where(nonzero, c, xp.zeros_like(c)), scale


def _finite(name: str, K: Array) -> Array:
    """Return ``K``, or raise when finite inputs produced overflow (values beyond float range)."""
    xp = namespace(K)
    if not bool(xp.all(xp.isfinite(K))):
        raise InputError(
            f"the {name} kernel overflowed the range of {K.dtype} on these inputs (entries of size "
            f"~sqrt(max float) or larger); rescale the points (e.g. standardise the features)."
        )
    return K


def _j1(c: Array, theta: Array) -> Array:
    r""":math:`J_1(\theta) = \sin\theta + (\pi - \theta)\cos\theta`, with :math:`\sin\theta = \sqrt{(1-c)(1+c)}`."""
    xp = namespace(c)
    return xp.sqrt((1 - c) * (1 + c)) + (math.pi - theta) * c


def median_bandwidth(X: Array) -> float:
    r"""Median heuristic bandwidth: the median Euclidean distance between two rows of ``X``.

    :math:`\sigma = \operatorname{median}\{\|x_i - x_j\| : i < j\}` over all :math:`N(N-1)/2`
    pairs of rows of ``X`` (pairs of duplicated rows count, with distance 0). The kernels use
    it when ``bandwidth=None``, always computed on ``X`` (the first argument), also for a
    cross block :math:`k(X, Y)`. See docs/theory.md §1.

    Returns
    -------
    float
        The bandwidth :math:`\sigma > 0`.

    Raises
    ------
    InputError
        If ``X`` has fewer than 2 rows, or the median is 0 (half the pairs or more coincide).
    """
    X = check_points("X", X)
    n = X.shape[0]
    if n < 2:
        raise InputError(f"X has {n} sample (row); the median heuristic needs at least 2 points, or pass bandwidth.")
    xp = namespace(X)
    # The sorted N^2 distances are the N diagonal zeros followed by every pair twice; a
    # multiset repeated twice has the same median, so no boolean indexing is needed.
    # Distances in units of a power of two near max|x|: no overflow or underflow at any scale.
    largest = float(xp.max(xp.abs(X)))
    if largest == 0:
        raise InputError("the median pairwise distance of X is 0 (all points are 0); pass bandwidth > 0.")
    D, q = _scaled_sq_dists(X, X, largest)
    d = xp.sort(xp.reshape(xp.sqrt(D), (-1,)))[n:]
    m = d.shape[0]
    med = float((d[(m - 1) // 2] + d[m // 2]) / 2) * q
    if not med > 0:
        raise InputError("the median pairwise distance of X is 0 (most points coincide); pass bandwidth > 0.")
    if not math.isfinite(med):
        raise InputError(f"the median pairwise distance of X ({med}) is beyond the float range; rescale the points.")
    return med


def _bandwidth(X: Array, bandwidth: float | None) -> float:
    return median_bandwidth(X) if bandwidth is None else check_positive("bandwidth", bandwidth)


@_quiet_overflow
def linear(X: Array, Y: Array | None = None) -> Array:
    r"""Linear kernel :math:`k(x, y) = \langle x, y\rangle`, i.e. :math:`K = X Y^T` (docs/theory.md §1).

    Parameters
    ----------
    X : array, shape (N, d)
        Points as rows (1-D input is read as one feature).
    Y : array, shape (M, d), optional
        Second set of points; ``None`` means ``X``.

    Returns
    -------
    array, shape (N, M)
        The Gram block, in the namespace and dtype of the input.
    """
    X, Y, _, same = _pair(X, Y)
    return _finite("linear", _inner(X, Y, same))


@_quiet_overflow
def polynomial(
    X: Array, Y: Array | None = None, *, degree: int = 3, gamma: float | None = None, coef0: float = 1.0
) -> Array:
    r"""Polynomial kernel :math:`k(x, y) = (\gamma\langle x, y\rangle + c_0)^p` (docs/theory.md §1).

    Parameters
    ----------
    X, Y : array
        As in :func:`linear`.
    degree : int
        The power :math:`p \ge 1`.
    gamma : float, optional
        :math:`\gamma > 0`; ``None`` means ``1 / d`` (the scikit-learn default).
    coef0 : float
        :math:`c_0 \ge 0`; a negative offset can make the kernel indefinite.
    """
    degree = check_int("degree", degree, 1)
    coef0 = check_nonnegative("coef0", coef0)
    X, Y, _, same = _pair(X, Y)
    gamma = 1.0 / X.shape[1] if gamma is None else check_positive("gamma", gamma)
    return _finite("polynomial", (gamma * _inner(X, Y, same) + coef0) ** degree)


@_quiet_overflow
def rbf(X: Array, Y: Array | None = None, *, bandwidth: float | None = None) -> Array:
    r"""Gaussian (RBF) kernel :math:`k(x, y) = \exp(-\|x - y\|^2 / (2\sigma^2))` (docs/theory.md §1).

    Parameters
    ----------
    X, Y : array
        As in :func:`linear`.
    bandwidth : float, optional
        :math:`\sigma > 0`; ``None`` means :func:`median_bandwidth` of ``X``.
        scikit-learn's ``rbf_kernel`` uses ``gamma = 1 / (2 sigma^2)``.
    """
    X, Y, xp, _ = _pair(X, Y)
    s = _bandwidth(X, bandwidth)
    D, q = _scaled_sq_dists(X, Y, s)
    return _finite("rbf", xp.exp(-D * _decay_rate(2, s / q, X.dtype, xp)))


@_quiet_overflow
def laplace(X: Array, Y: Array | None = None, *, bandwidth: float | None = None) -> Array:
    r"""Laplace kernel :math:`k(x, y) = \exp(-\|x - y\|_2 / \sigma)` (Euclidean norm; docs/theory.md §1).

    Not scikit-learn's ``laplacian_kernel``, which uses the L1 distance.

    Parameters
    ----------
    X, Y : array
        As in :func:`linear`.
    bandwidth : float, optional
        :math:`\sigma > 0`; ``None`` means :func:`median_bandwidth` of ``X``.
    """
    X, Y, xp, _ = _pair(X, Y)
    s = _bandwidth(X, bandwidth)
    D, q = _scaled_sq_dists(X, Y, s)
    return _finite("laplace", xp.exp(-xp.sqrt(D) * _decay_rate(1, s / q, X.dtype, xp)))


@_quiet_overflow
def arccos(X: Array, Y: Array | None = None, *, order: int = 1) -> Array:
    r"""Arc-cosine kernel of Cho & Saul (2009) (docs/theory.md §1).

    .. math::
        k_n(x, y) = \frac{1}{\pi}\|x\|^n\|y\|^n J_n(\theta), \quad
        J_0 = \pi - \theta, \quad J_1 = \sin\theta + (\pi - \theta)\cos\theta,

    with :math:`\theta` the angle between ``x`` and ``y``. Equivalently
    :math:`k_n(x, y) = 2\,\mathbb{E}_{w \sim N(0, I)}[\Theta(w^T x)\Theta(w^T y)(w^T x)^n (w^T y)^n]`
    (step function for ``n = 0``, ReLU for ``n = 1``).

    A zero vector has no angle. Here :math:`\cos\theta := 0` for any pair involving one, which
    is the expectation above with :math:`\Theta(0) = 1/2`: order 0 gives
    :math:`k_0(0, y) = k_0(0, 0) = 1/2`, order 1 gives 0. This keeps the kernel PSD (a
    genuine feature map), which the limit along a direction (it depends on the direction)
    would not.

    Parameters
    ----------
    X, Y : array
        As in :func:`linear`.
    order : {0, 1}
        The order :math:`n`.
    """
    order = check_int("order", order, 0)
    if order > 1:
        raise InputError(f"order must be 0 or 1; got {order}.")
    X, Y, xp, same = _pair(X, Y)
    # The angle is scale-invariant: rescale by the largest entry so that squared norms neither
    # overflow nor underflow, and restore the factor ||x|| ||y|| afterwards for order 1.
    s = max(float(xp.max(xp.abs(X))), float(xp.max(xp.abs(Y)))) or 1.0
    X, Y = X / s, (X / s if same else Y / s)
    G = _inner(X, Y, same)
    c, scale = _cosine(G, *_sq_norms(X, Y, G, same), X.shape[1])
    theta = xp.acos(c)
    if order == 0:
        return (math.pi - theta) / math.pi
    return _finite("arccos", (s * s) * (scale * _j1(c, theta) / math.pi))


def _relu_kernels(X: Array, Y: Array | None, depth: int, weight_var: float, bias_var: float) -> tuple[Array, Array]:
    """Return the NNGP and NTK blocks, both from one pass of the arc-cosine recursion."""
    depth = check_int("depth", depth, 1)
    weight_var = check_positive("weight_var", weight_var)
    bias_var = check_nonnegative("bias_var", bias_var)
    X, Y, xp, same = _pair(X, Y)
    G = _inner(X, Y, same)
    S, sx, sy = (weight_var * A / X.shape[1] + bias_var for A in (G, *_sq_norms(X, Y, G, same)))
    T = S
    for _ in range(depth):
        c, scale = _cosine(S, sx, sy, X.shape[1])
        theta = xp.acos(c)
        S_dot = weight_var * (math.pi - theta) / (2 * math.pi)
        S = weight_var * scale * _j1(c, theta) / (2 * math.pi) + bias_var
        T = S + T * S_dot
        # The diagonal of the new layer is sigma_w^2 / 2 * s + sigma_b^2 (theta = 0).
        sx, sy = (_diag(S),) * 2 if same else (weight_var * s / 2 + bias_var for s in (sx, sy))
    return _finite("ReLU NNGP/NTK", S), _finite("ReLU NNGP/NTK", T)


@_quiet_overflow
def relu_nngp(
    X: Array, Y: Array | None = None, *, depth: int = 1, weight_var: float = 2.0, bias_var: float = 0.0
) -> Array:
    r"""NNGP kernel of an infinitely wide fully connected ReLU network (docs/theory.md §1).

    Network (``depth`` = :math:`L` hidden ReLU layers of width :math:`n \to \infty`, then a
    linear readout; NTK parameterisation, all weights and biases i.i.d. :math:`N(0, 1)`, as
    Jacot et al. (2018) and neural-tangents' ``stax.serial(*[Dense(n, W_std=sigma_w,
    b_std=sigma_b), Relu()] * L, Dense(1, W_std=sigma_w, b_std=sigma_b))``):
    :math:`h^1 = \sigma_w W^1 x / \sqrt{d} + \sigma_b b^1`,
    :math:`h^{\ell+1} = \sigma_w W^{\ell+1}\operatorname{relu}(h^\ell) / \sqrt{n} + \sigma_b b^{\ell+1}`,
    :math:`f = h^{L+1}`. With :math:`\Sigma^0 = \Theta^0 = \sigma_w^2 \langle x, y\rangle/d + \sigma_b^2`
    and, for :math:`\ell = 1..L`, :math:`\theta^\ell` the angle of :math:`\Sigma^{\ell-1}`,

    .. math::
        \Sigma^\ell &= \frac{\sigma_w^2}{2\pi}\sqrt{\Sigma^{\ell-1}_{xx}\Sigma^{\ell-1}_{yy}}
            \bigl(\sin\theta^\ell + (\pi - \theta^\ell)\cos\theta^\ell\bigr) + \sigma_b^2, \\
        \dot\Sigma^\ell &= \sigma_w^2 \frac{\pi - \theta^\ell}{2\pi}, \qquad
        \Theta^\ell = \Sigma^\ell + \Theta^{\ell-1}\dot\Sigma^\ell.

    The NNGP :math:`\Sigma^L` is the covariance of the output :math:`f` (readout included);
    the NTK :math:`\Theta^L` is :math:`\sum_p \partial_p f(x)\,\partial_p f(y)` over all
    parameters. Zero variances follow :func:`arccos` (:math:`\cos\theta := 0`, i.e.
    :math:`\operatorname{relu}'(0) = 1/2`).

    Parameters
    ----------
    X, Y : array
        As in :func:`linear`.
    depth : int
        Number of hidden layers :math:`L \ge 1`.
    weight_var : float
        :math:`\sigma_w^2 > 0` (2 preserves the diagonal through layers when :math:`\sigma_b = 0`).
    bias_var : float
        :math:`\sigma_b^2 \ge 0`.
    """
    return _relu_kernels(X, Y, depth, weight_var, bias_var)[0]


@_quiet_overflow
def relu_ntk(
    X: Array, Y: Array | None = None, *, depth: int = 1, weight_var: float = 2.0, bias_var: float = 0.0
) -> Array:
    r"""Neural tangent kernel :math:`\Theta^L` of the network of :func:`relu_nngp` (docs/theory.md §1).

    :math:`\Theta^L(x, y) = \sum_p \partial_p f(x)\,\partial_p f(y)` over all weights and biases
    in the infinite-width limit; the recursion and parameters are those of :func:`relu_nngp`.
    """
    return _relu_kernels(X, Y, depth, weight_var, bias_var)[1]


def precomputed(K: Array) -> Array:
    r"""Validate a user-supplied Gram matrix and return it (docs/theory.md §1: :math:`K \succeq 0`).

    ``K`` must be square, finite, symmetric (see :func:`~kssl_theory.validation.check_matrix`)
    and PSD up to round-off: :math:`\lambda_{\min}(K) \ge -100\,N\,\text{eps}\,\|K\|_2`, the
    eigensolver's backward error with a safety factor of 100.

    Raises
    ------
    InputError
        Naming the smallest eigenvalue when ``K`` is not PSD.
    """
    K = check_matrix("K", K, symmetric=True)
    xp = namespace(K)
    w = eigvalsh(K)
    tol = 100 * K.shape[0] * eps(K.dtype, xp) * float(xp.max(xp.abs(w)))
    lam = float(xp.min(w))
    if lam < -tol:
        raise InputError(
            f"K is not positive semi-definite: its smallest eigenvalue is {lam:.3g} < -{tol:.3g} "
            f"(-100 N eps ||K||); add a ridge, e.g. K + {-lam:.3g} * I, or check how K was built."
        )
    return K


KERNELS: dict[str, Callable[..., Array]] = {
    "linear": linear,
    "polynomial": polynomial,
    "poly": polynomial,
    "rbf": rbf,
    "gaussian": rbf,
    "laplace": laplace,
    "laplacian": laplace,
    "arccos0": functools.partial(arccos, order=0),
    "arccos1": functools.partial(arccos, order=1),
    "nngp": relu_nngp,
    "ntk": relu_ntk,
}
"""Kernel names accepted by :func:`get_kernel` (aliases included) and their functions."""


def get_kernel(kernel: str | Callable[..., Array], **params: Any) -> Callable[..., Array]:
    """Return a callable ``(X, Y=None) -> Gram block`` for a kernel name or callable.

    Parameters
    ----------
    kernel : str or callable
        A key of :data:`KERNELS` (case-insensitive) or a function ``(X, Y=None, **params)``.
    **params
        Keyword parameters bound to the kernel (e.g. ``bandwidth=1.0``), checked against its
        signature now.

    Raises
    ------
    InputError
        For an unknown name (listing the valid ones), a non-callable, or unknown parameters.
    """
    if isinstance(kernel, str):
        if kernel.lower() not in KERNELS:
            raise InputError(
                unknown_name_message(
                    "kernel", kernel, sorted(KERNELS), label="valid names", suffix=" (or pass a callable)"
                )
            )
        fn = KERNELS[kernel.lower()]
    elif callable(kernel):
        fn = kernel
    else:
        raise InputError(f"kernel must be a name or a callable; got {type(kernel).__name__}.")
    signature = inspect.signature(fn)
    try:
        signature.bind(None, None, **params)
    except TypeError as exc:
        accepted = [
            name
            for name, p in list(signature.parameters.items())[2:]
            if p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)
        ]
        hints = [
            f"{close_matches(name, accepted)[0]!r} for {name!r}" for name in params if close_matches(name, accepted)
        ]
        hint = f" (did you mean {', '.join(hints)}?)" if hints else ""
        raise InputError(
            f"invalid parameters {sorted(params)} for kernel {kernel!r}: {exc}{hint}; its parameters: {accepted}."
        ) from exc
    return functools.partial(fn, **params)
