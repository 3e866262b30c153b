r"""Helpers shared by the [IR] modules of :mod:`kssl_theory.idealized` (not part of the public API).

They are public names here so that :mod:`~kssl_theory.idealized.conditions`,
:mod:`~kssl_theory.idealized.probes`, :mod:`~kssl_theory.idealized.sample_efficiency` and
:mod:`~kssl_theory.idealized.codes` import them from one place rather than each other's private
names; the package does not re-export them.

- Tolerances and scaling: :func:`sqrt_eps_rtol` (the :math:`\sqrt{\varepsilon}` default of every
  [IR] decision on computed codes; not :func:`kssl_theory.backend.default_rtol`, which is
  :math:`N\varepsilon`), :func:`unit_scaled`, :func:`normalise`.
- Labels: :func:`labels_or_identity`, :func:`check_labels`, :func:`one_hot_like`.
- Linear programs: :func:`max_margin` (the max-margin LP behind separability and the ERM
  enumeration), :func:`check_margin_tol`, :data:`MAX_ENUMERATION`.
"""

from __future__ import annotations

import math
from typing import Any

import array_api_compat
import numpy as np

from ..backend import namespace
from ..errors import InputError, NumericalError
from ..graphs import group_structure
from ..protocols import Array
from ..validation import check_allocation, check_groups, check_int, check_nonnegative

__all__ = [
    "MAX_ENUMERATION",
    "sqrt_eps_rtol",
    "unit_scaled",
    "normalise",
    "labels_or_identity",
    "check_labels",
    "one_hot_like",
    "max_margin",
    "check_margin_tol",
]

#: Most labellings (or samples) an exact enumeration visits.
MAX_ENUMERATION = 1 << 16


# ---------------------------------------------------------------------------------------------
# Tolerances and scaling
# ---------------------------------------------------------------------------------------------


def sqrt_eps_rtol(dtype: Any, xp: Any) -> float:
    r""":math:`\sqrt{\varepsilon}` of ``dtype`` (1.5e-8 for float64, 3.5e-4 for float32).

    The default relative tolerance of the [IR] decisions on computed codes (invariance, affine
    rank, distinctness): codes out of an eigensolver carry errors of order
    :math:`\varepsilon/\text{gap}`, so exact equalities hold only well above machine precision.
    """
    return math.sqrt(float(xp.finfo(dtype).eps))


def unit_scaled(Z: Array, xp: Any) -> tuple[Array, float]:
    """``(Z / s, s)`` with ``s = max|Z|`` (1 for a zero array).

    Norms, means and singular values are computed on ``Z / s`` and multiplied back by ``s``, so
    codes of size up to the largest float neither overflow (``1e300**2 = inf``) nor underflow.
    """
    s = float(xp.max(xp.abs(Z)))
    s = s if s > 0 else 1.0
    return Z / s, s


def normalise(X: np.ndarray) -> tuple[np.ndarray, np.ndarray, float]:
    """``(P, centre, s)`` with ``X = centre + s P`` and ``max|P| = 1``, computed without overflow."""
    Y, m = unit_scaled(X, np)
    centre = Y.mean(axis=0)
    s = float(np.max(np.abs(Y - centre)))
    s = s if s > 0 else 1.0
    return (Y - centre) / s, centre * m, s * m


# ---------------------------------------------------------------------------------------------
# Labels
# ---------------------------------------------------------------------------------------------


def labels_or_identity(groups: Array | None, n: int) -> np.ndarray:
    """Class index ``0..C-1`` of each of ``n`` views (first appearance order); ``None``: every view its own class."""
    if groups is None:
        return np.arange(n)
    return group_structure(check_groups(groups, n=n)).labels


def check_labels(
    labels: Array, n: int, name: str = "labels", n_labels: int | None = None, per: str = "point"
) -> tuple[np.ndarray, int]:
    """Validate ``n`` non-negative integer labels (one per ``per``); return them (int64) and the label count ``K``."""
    y = check_groups(labels, n=n, name=name, per=per)
    k = int(y.max()) + 1
    if n_labels is not None:
        n_labels = check_int("n_labels", n_labels, 1)
        if n_labels < k:
            raise InputError(f"{name} uses label {k - 1} but n_labels = {n_labels}; labels must be < n_labels.")
        k = int(n_labels)
    return y, k


def one_hot_like(y: np.ndarray, k: int, like: Array) -> Array:
    """One-hot matrix ``Y[i, y[i]] = 1``, shape ``(n, k)``, in the namespace, dtype and device of ``like``.

    ``y`` and ``k`` come from :func:`check_labels` (so ``y < k``). Builds the same matrix as
    :func:`kssl_theory.experiments.probes.one_hot`, without importing the experiments package.
    """
    check_allocation("one_hot(labels, n_classes)", (y.size, k))
    Y = np.zeros((y.size, k))
    Y[np.arange(y.size), y] = 1.0
    xp = namespace(like)
    return xp.asarray(Y, dtype=like.dtype, device=array_api_compat.device(like))


# ---------------------------------------------------------------------------------------------
# Linear programs
# ---------------------------------------------------------------------------------------------


def max_margin(P: np.ndarray, y: np.ndarray, k: int) -> tuple[float, np.ndarray]:
    """Max-margin LP on normalised points; returns (margin, theta of shape (K, d+1))."""
    from scipy.optimize import linprog

    n, d = P.shape
    width = d + 1
    if k == 1:
        return 1.0, np.zeros((1, width))
    # One constraint row per (point, other label) and k (d + 1) + 1 variables.
    check_allocation("the separability LP (points x n_labels rows, n_labels x (d + 1) columns)", (n * k, k * width + 1))
    Xa = np.hstack([P, np.ones((n, 1))])
    rows = np.repeat(np.arange(n), k)
    others = np.tile(np.arange(k), n)
    keep = others != y[rows]
    rows, others = rows[keep], others[keep]
    m = rows.size
    A = np.zeros((m, k * width + 1))
    block = np.arange(width)[None, :]
    r = np.arange(m)[:, None]
    A[r, others[:, None] * width + block] = Xa[rows]
    A[r, y[rows][:, None] * width + block] = -Xa[rows]
    A[:, -1] = 1.0
    c = np.zeros(k * width + 1)
    c[-1] = -1.0
    bounds = [(-1.0, 1.0)] * (k * width) + [(None, 1.0)]
    res = linprog(c, A_ub=A, b_ub=np.zeros(m), bounds=bounds, method="highs")
    if res.status != 0:
        raise NumericalError(f"the separability LP did not solve (HiGHS status {res.status}: {res.message}).")
    return float(-res.fun), res.x[:-1].reshape(k, width)


def check_margin_tol(tol: float) -> float:
    """Validate an LP margin threshold: ``0 <= tol < 1`` (margins are normalised to at most 1)."""
    tol = check_nonnegative("tol", tol)
    if tol >= 1:
        raise InputError(
            f"tol must be < 1: LP margins are normalised to at most 1, so tol = {tol:g} would "
            "declare every labelling unsolvable; the default is 1e-6."
        )
    return tol
