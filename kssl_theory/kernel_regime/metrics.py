r"""Alignment and decorrelation of an induced kernel (docs/theory.md §4).

:func:`alignment` and :func:`decorrelation` summarise an induced Gram matrix by cosines
:math:`\cos_{ij} = k^*_{ij}/\sqrt{k^*_{ii}k^*_{jj}}`: the mean within-group cosine over pairs
:math:`i \ne j` (1 when views of one sample share one embedding direction) and the mean absolute
between-group cosine (0 when different samples are orthogonal).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .. import backend as B
from ..errors import InputError
from ..protocols import Array
from ..validation import check_groups, check_matrix

__all__ = ["alignment", "decorrelation", "cosine_matrix"]


def cosine_matrix(Kstar: Array) -> Array:
    r"""Cosine matrix :math:`k^*_{ij}/\sqrt{k^*_{ii}k^*_{jj}}` of a PSD Gram matrix.

    Rows of zero norm (points the representation maps to 0) get cosine 0 with everything.
    """
    Kstar = check_matrix("Kstar", Kstar, symmetric=True)
    xp = B.namespace(Kstar)
    diag = xp.clip(xp.linalg.diagonal(Kstar), 0, None)
    scale = float(xp.max(diag)) if diag.shape[0] else 0.0
    zero = diag <= B.eps(Kstar.dtype, xp) * max(scale, np.finfo(np.float64).tiny)
    inv = xp.where(zero, xp.zeros_like(diag), 1 / xp.sqrt(xp.where(zero, xp.ones_like(diag), diag)))
    return xp.clip(inv[:, None] * Kstar * inv[None, :], -1, 1)


def _pair_masks(groups: Array, xp: Any, like: Array) -> tuple[Array, Array]:
    """Masks of the within-group pairs ``i != j`` and of the between-group pairs, built on ``like``'s device from
    the labels (the only copy: one vector)."""
    g = xp.asarray(check_groups(groups, like.shape[0]), device=B.device(like))
    same = g[:, None] == g[None, :]
    index = xp.arange(g.shape[0], device=B.device(like))
    return same & (index[:, None] != index[None, :]), ~same


def _masked_mean(values: Array, mask: Array, what: str) -> float:
    xp = B.namespace(values)
    count = int(xp.sum(xp.astype(mask, xp.int64)))
    if count == 0:
        raise InputError(
            f"no {what} pairs in groups; alignment needs a group with >= 2 views and decorrelation needs >= 2 groups."
        )
    return float(xp.sum(xp.where(mask, values, xp.zeros_like(values)))) / count


def alignment(Kstar: Array, groups: Array) -> float:
    r"""Mean cosine over pairs of distinct views of the same sample (docs/theory.md §4).

    :math:`\frac{1}{|\mathcal P|}\sum_{(i,j)\in\mathcal P}\cos_{ij}`, :math:`\mathcal P = \{i\ne j: g_i = g_j\}`.
    Equals 1 exactly when all views of each sample share one embedding direction.
    """
    C = cosine_matrix(Kstar)
    within, _ = _pair_masks(groups, B.namespace(C), C)
    return _masked_mean(C, within, "within-group")


def decorrelation(Kstar: Array, groups: Array) -> float:
    r"""Mean absolute cosine over pairs of views of different samples (docs/theory.md §4).

    :math:`\frac{1}{|\mathcal Q|}\sum_{(i,j)\in\mathcal Q}|\cos_{ij}|`, :math:`\mathcal Q = \{(i,j): g_i \ne g_j\}`.
    Equals 0 exactly when different samples have orthogonal embeddings.
    """
    C = cosine_matrix(Kstar)
    xp = B.namespace(C)
    _, between = _pair_masks(groups, xp, C)
    return _masked_mean(xp.abs(C), between, "between-group")
