r"""Idealized codes [IR]: the simplex ETF and the universal probe for scalar codes (docs/theory.md §5).

- :func:`simplex_etf`: :math:`C` affinely independent unit codes in the least dimension
  :math:`d = C - 1`, the minimal code that is idealized for linear probes
  (:func:`~kssl_theory.idealized.is_idealized`).
- :func:`relu_probe` (the d = 1 universal probe): a one-hidden-layer ReLU network that
  interpolates any labelling of distinct scalar codes, so richer probes need only distinct codes.

Both stay in the input's (or the requested) namespace and on its device.
"""

from __future__ import annotations

import math
from typing import Any, NamedTuple

import array_api_compat

from ..backend import namespace
from ..errors import InputError
from ..protocols import Array
from ..validation import check_allocation, check_int, check_nonnegative, check_points
from ._shared import check_labels, one_hot_like, sqrt_eps_rtol

__all__ = [
    "simplex_etf",
    "ReLUProbe",
    "relu_probe",
]


def simplex_etf(n_classes: int, *, xp: Any = None, dtype: Any = None, device: Any = None) -> Array:
    r"""The simplex equiangular tight frame: :math:`C` unit vectors in :math:`\mathbb R^{C-1}` (docs/theory.md §5).

    Rows of :math:`\sqrt{C/(C-1)}\,V` with :math:`V` the Helmert basis of
    :math:`\mathbf 1^\perp` (column :math:`k`: :math:`1/\sqrt{k(k+1)}` on the first :math:`k`
    entries, :math:`-k/\sqrt{k(k+1)}` on entry :math:`k+1`). Then :math:`Z Z^T = \frac{C}{C-1}
    (I - \mathbf 1\mathbf 1^T/C)`: unit norms, pairwise cosine :math:`-1/(C-1)`, zero sum and
    affine rank :math:`C` in the least dimension :math:`d = C - 1` that allows it.

    Parameters
    ----------
    n_classes : int
        :math:`C \ge 2`.
    xp : namespace, optional
        Output namespace; NumPy (array-api-compat) by default.
    dtype, device
        Output dtype (float64 by default) and device.

    Returns
    -------
    array, shape (C, C - 1)
    """
    C = check_int("n_classes", n_classes, 2)
    check_allocation("simplex_etf(n_classes)", (3, C, C - 1))  # V and two same-size temporaries
    if xp is None:
        import array_api_compat.numpy as xp
    dtype = xp.float64 if dtype is None else dtype
    i = xp.reshape(xp.arange(C, dtype=dtype, device=device), (C, 1))
    k = xp.reshape(xp.arange(1, C, dtype=dtype, device=device), (1, C - 1))
    norm = xp.sqrt(k * (k + 1))
    zeros = xp.zeros((C, C - 1), dtype=dtype, device=device)
    V = xp.where(i < k, 1 / norm + zeros, xp.where(i == k, -k / norm + zeros, zeros))
    return V * math.sqrt(C / (C - 1))


class ReLUProbe(NamedTuple):
    r"""One-hidden-layer ReLU network :math:`f(z) = b + \sum_k a_k\,\mathrm{relu}(z - s_k)` on scalar codes.

    Attributes
    ----------
    knots : array, shape (H,)
        Hidden biases :math:`s_k` (hidden weights are all 1).
    output_weight : array, shape (H, K)
        :math:`a_k`.
    output_bias : array, shape (K,)
        :math:`b`.
    """

    knots: Array
    output_weight: Array
    output_bias: Array

    def __call__(self, codes: Array) -> Array:
        """Outputs :math:`f(z)`, shape ``(N, K)``, for codes of shape ``(N,)`` or ``(N, 1)``."""
        z = check_points("codes", codes)
        if z.shape[1] != 1:
            raise InputError(f"codes must be scalar (shape (N,) or (N, 1)); got shape {tuple(z.shape)}.")
        xp = namespace(z)
        hidden = z - self.knots[None, :]
        hidden = xp.where(hidden > 0, hidden, xp.zeros_like(hidden))
        return hidden @ self.output_weight + self.output_bias[None, :]

    def predict(self, codes: Array) -> Array:
        """Argmax of :meth:`__call__`, shape ``(N,)``."""
        xp = namespace(self.output_bias)
        return xp.argmax(self(codes), axis=1)


def relu_probe(codes: Array, labels: Array, *, n_labels: int | None = None, rtol: float | None = None) -> ReLUProbe:
    r"""Universal probe for :math:`d = 1`: a ReLU network interpolating any labelling (docs/theory.md §5).

    With distinct scalar class codes sorted :math:`s_1 < \dots < s_C` and one-hot targets
    :math:`y_1..y_C`, the piecewise-linear interpolant

    .. math:: f(z) = y_1 + \sum_{k=1}^{C-1} (m_k - m_{k-1})\,\mathrm{relu}(z - s_k),
              \qquad m_k = \frac{y_{k+1} - y_k}{s_{k+1} - s_k},\ m_0 = 0,

    has :math:`C - 1` hidden units and :math:`f(s_c) = y_c` exactly, so its argmax solves every
    task: richer probes need only distinct codes, not :math:`d \ge C - 1`.

    Parameters
    ----------
    codes : array, shape (C,) or (C, 1)
        Distinct scalar class codes.
    labels : array_like of int, shape (C,)
        Label of each class.
    n_labels : int, optional
        Number of outputs ``K``; default ``max(labels) + 1``.
    rtol : float, optional
        Codes closer than ``rtol * max|z|`` count as equal; default :math:`\sqrt{\varepsilon}`.

    Returns
    -------
    ReLUProbe
        In the namespace of ``codes``.
    """
    z = check_points("codes", codes)
    if z.shape[1] != 1:
        raise InputError(f"codes must be scalar (shape (C,) or (C, 1)); got shape {tuple(z.shape)}.")
    xp = namespace(z)
    C = z.shape[0]
    y, k = check_labels(labels, C, n_labels=n_labels, per="class")
    rtol = sqrt_eps_rtol(z.dtype, xp) if rtol is None else check_nonnegative("rtol", rtol)
    order = xp.argsort(z[:, 0])
    s = xp.take(z[:, 0], order)
    Y = xp.take(one_hot_like(y, k, z), order, axis=0)
    gaps = s[1:] - s[:-1]
    if C > 1 and float(xp.min(gaps)) <= rtol * float(xp.max(xp.abs(s))):
        raise InputError(
            f"codes must be distinct: two codes are {float(xp.min(gaps)):.3g} apart; no function of the "
            "code can give them different labels."
        )
    if C == 1:
        return ReLUProbe(s[:0], xp.zeros((0, k), dtype=z.dtype, device=array_api_compat.device(z)), Y[0, :])
    slopes = (Y[1:, :] - Y[:-1, :]) / gaps[:, None]
    prev = xp.concat([xp.zeros_like(slopes[:1, :]), slopes[:-1, :]], axis=0)
    return ReLUProbe(s[:-1], slopes - prev, Y[0, :])
