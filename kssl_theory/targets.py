r"""Target and spectral-matrix builders of the objectives (THEORY.md §3), written by hand.

This is the swappable table of formulas: every target :math:`T` and minimum-value formula the
solvers use lives here and nowhere else. Each builder receives the data matrices, the scalar
options and ``kf``, a :class:`~kssl_theory.kernel_factor.KernelFactor` that applies
:math:`K^+` (``kf.solve``), the projector :math:`P = KK^+` (``kf.project``) and
:math:`K^{1/2}` (``kf.sqrt``) without forming explicit inverses.
"""

from __future__ import annotations

from .backend import namespace


def _eye_like(M):
    xp = namespace(M)
    return xp.eye(M.shape[0], dtype=M.dtype)


def _sandwich(kf, M):
    """:math:`P M P` for symmetric ``M``."""
    return kf.project(kf.project(M).T)


def contrastive_target(A, kf, reg):
    r"""O1 target :math:`T = PAP - \tfrac{\lambda}{2}K^+`."""
    return _sandwich(kf, A) - (reg / 2) * kf.solve(_eye_like(A))


def contrastive_minimum(A, top):
    r"""O1 minimum :math:`\|A\|_F^2 - \sum_{i\le d}\max(\lambda_i(T),0)^2`."""
    xp = namespace(A, top)
    return xp.sum(A * A) - xp.sum(xp.clip(top, 0, None) ** 2)


def vicreg_target(L, kf, beta, reg):
    r"""O2 target :math:`T = P(I - \tfrac{\beta}{2}L)P - \tfrac{\lambda}{2}K^+`."""
    return _sandwich(kf, _eye_like(L) - (beta / 2) * L) - (reg / 2) * kf.solve(_eye_like(L))


def vicreg_centred_target(L, beta, c):
    r"""Centred O2 target :math:`T = H - \tfrac{\beta}{2c}L` with :math:`H = I - \mathbf 1\mathbf 1^T/N`."""
    xp = namespace(L)
    n = L.shape[0]
    H = _eye_like(L) - xp.ones((n, n), dtype=L.dtype) / n
    return H - (beta / (2 * c)) * L


def vicreg_minimum(dim, top):
    r"""O2 minimum :math:`d - \sum_{i\le d}\max(\lambda_i(T),0)^2` (plain and centred)."""
    xp = namespace(top)
    return dim - xp.sum(xp.clip(top, 0, None) ** 2)


def whitened_matrix(M, kf):
    r"""O4 spectral matrix :math:`S = K^{1/2} M K^{1/2}` (``M = A``, or ``L`` for the Laplacian twin)."""
    return kf.sqrt(kf.sqrt(M).T)
