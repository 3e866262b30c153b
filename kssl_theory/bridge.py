r"""Bridge between the kernel regime [KR] and idealized representations [IR] (docs/theory.md §6).

These statements are new (no paper makes them): they ask whether the closed-form optimum of a
kernel-regime objective, read as an encoder of the training views, is *idealized* for linear
probes — invariant on each augmentation group, with affinely independent group codes.

- :func:`idealization` runs :func:`kssl_theory.idealized.is_idealized` on a solution's
  training embedding.
- :func:`contrastive_codes_with_normal` builds, for O1 on ``n`` equal cliques with
  :math:`K \succ 0` and ``d = n - 1``, the optimum whose group codes are the projections of
  an orthonormal set onto :math:`u^\perp`: the codes are affinely independent iff
  :math:`u^T\mathbf 1 \ne 0`, so one choice of ``u`` gives an idealized optimum and another a
  non-idealized one at the same loss (the optimum is not unique, docs/theory.md §3).
"""

from __future__ import annotations

import numpy as np

from . import backend as B
from .errors import InputError
from .graphs import group_structure
from .idealized import IdealizationReport, is_idealized
from .kernel_regime.engine import Solution
from .protocols import Array
from .validation import as_array

__all__ = ["idealization", "contrastive_codes_with_normal"]


def idealization(solution: Solution, groups: Array, *, rtol: float | None = None) -> IdealizationReport:
    r"""Idealization status of ``solution.embedding`` on its training views (docs/theory.md §6).

    Parameters
    ----------
    solution : Solution
        A kernel-regime optimum from :func:`kssl_theory.solve`.
    groups : array_like of int, shape (N,)
        Group (base sample) of each training view: the classes of [IR].
    rtol : float, optional
        Relative tolerance of the invariance and rank decisions (default :math:`\sqrt{\varepsilon}`).
    """
    return is_idealized(solution.embedding, groups, probe="linear", rtol=rtol)


def contrastive_codes_with_normal(groups: Array, u: Array, *, like: Array | None = None) -> Array:
    r"""An O1 optimum for ``n`` equal cliques, ``K`` ≻ 0, ``reg = 0`` and ``d = n - 1`` (docs/theory.md §6).

    With ``n`` groups of ``m`` views, :math:`T = A` has eigenvalue ``m`` on the normalised group
    indicators :math:`E/\sqrt m` and 0 elsewhere, so every
    :math:`G = m\,(E/\sqrt m) VV^T (E/\sqrt m)^T` with :math:`V \in \mathbb R^{n\times(n-1)}`
    orthonormal is optimal. Choosing :math:`V` as a basis of :math:`u^\perp` gives
    :math:`Z = EV`: view ``i`` gets code :math:`V_{g_i,:}`, the projection of :math:`e_{g_i}`
    onto :math:`u^\perp` (in the basis ``V``).

    Parameters
    ----------
    groups : array_like of int, shape (N,)
        Balanced group labels (every group the same size).
    u : array_like, shape (n,)
        Normal of the discarded direction; need not be normalised, must be non-zero.
    like : array, optional
        Output namespace, device and dtype (NumPy float64 otherwise).

    Returns
    -------
    Z : array, shape (N, n - 1)
        Training embedding; coefficients follow as ``C = K^{-1} Z``.
    """
    s = group_structure(groups)
    if not s.is_balanced:
        raise InputError("contrastive_codes_with_normal needs equal group sizes (a tie among all n groups).")
    if s.n_groups < 2:
        raise InputError("contrastive_codes_with_normal needs at least 2 groups (d = n - 1 >= 1).")
    u = B.to_numpy(as_array("u", u))
    if u.ndim != 1 or u.dtype.kind not in "biuf" or u.shape[0] != s.n_groups:
        raise InputError(f"u must be a real vector of length n = {s.n_groups}; got shape {u.shape}, dtype {u.dtype}.")
    u = u.astype(np.float64)
    if not np.all(np.isfinite(u)) or not np.any(u):
        raise InputError("u must be finite and non-zero (it is the normal of the discarded direction).")
    u = u / np.max(np.abs(u))  # only its direction matters; avoids overflow in the QR for |u| ~ 1e300
    full, _ = B.qr(np.column_stack([u, np.eye(s.n_groups)]))
    V = full[:, 1 : s.n_groups]
    Z = V[s.labels]
    if like is None:
        return Z
    xp = B.namespace(like)
    from array_api_compat import device

    return xp.asarray(Z, dtype=like.dtype, device=device(like))
