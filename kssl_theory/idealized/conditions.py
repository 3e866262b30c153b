r"""Idealized representations [IR]: the conditions (invariance, affine independence).

docs/theory.md §5 (and the bridge of §6, which calls these functions on kernel-regime optima).
Setting: finitely many inputs (views) with codes :math:`z_i = \phi(x_i) \in \mathbb R^d`, an
equivalence relation given by ``groups`` (view ``i`` belongs to class ``groups[i]``) with
:math:`C` classes; the tasks are all labellings constant on classes.

- **Conditions.** :func:`class_codes`, :func:`affine_rank`, :func:`is_idealized`: invariance
  (:math:`x \sim x' \Rightarrow \phi(x) = \phi(x')`, with a tolerance) and affine independence
  of the class codes, :math:`\operatorname{rank}[Z \mid \mathbf 1] = C`.

The rest of §5 builds on these: probes and counting in :mod:`kssl_theory.idealized.probes`, sample
efficiency in :mod:`kssl_theory.idealized.sample_efficiency`, codes in
:mod:`kssl_theory.idealized.codes`; the helpers they share are in ``kssl_theory.idealized._shared``.
Everything here stays in the input's namespace and on its device.

Tolerances
----------
Decisions on computed codes (invariance, affine rank, distinctness) compare against
``atol + rtol * scale`` with ``scale`` the largest code norm and ``rtol`` defaulting to
:math:`\sqrt{\varepsilon}` of the dtype (1.5e-8 for float64, 3.5e-4 for float32): codes that come out
of an eigensolver carry errors of order :math:`\varepsilon/\text{gap}`, so exact equalities hold
only to well above machine precision.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, NamedTuple

import array_api_compat
import numpy as np

from ..backend import namespace, svdvals
from ..graphs import indicators
from ..protocols import Array
from ..validation import check_choice, check_nonnegative, check_points
from ._shared import labels_or_identity, sqrt_eps_rtol, unit_scaled

__all__ = [
    "ClassCodes",
    "class_codes",
    "affine_rank",
    "IdealizationReport",
    "is_idealized",
]


# ---------------------------------------------------------------------------------------------
# Conditions
# ---------------------------------------------------------------------------------------------


class ClassCodes(NamedTuple):
    """Class codes of an encoder and how far it is from invariance (docs/theory.md §5).

    Attributes
    ----------
    codes : array, shape (C, d)
        Mean code of each class, classes in order of first appearance in ``groups``.
    spread : array, shape (C,)
        :math:`\\max_{i \\in c}\\|z_i - \\bar z_c\\|`, zero for every class iff the encoder is invariant.
    labels : numpy.ndarray, shape (N,)
        Class index ``0..C-1`` of every view.
    """

    codes: Array
    spread: Array
    labels: np.ndarray


def _scale(Z: Array, xp: Any) -> float:
    r""":math:`\max_i \|z_i\|` without overflow."""
    Zs, s = unit_scaled(Z, xp)
    return s * float(xp.max(xp.sqrt(xp.sum(Zs * Zs, axis=1))))


def class_codes(codes: Array, groups: Array | None = None) -> ClassCodes:
    r"""Class means :math:`\bar z_c = \frac{1}{|c|}\sum_{i \in c} z_i` and within-class spreads.

    Parameters
    ----------
    codes : array, shape (N, d)
        One code per view (1-D input is one feature).
    groups : array_like of int, shape (N,), optional
        Class (base sample) of each view; ``None`` makes every row its own class.

    Returns
    -------
    ClassCodes
        Means and spreads in the namespace of ``codes`` (docs/theory.md §5).
    """
    Z = check_points("codes", codes)
    xp = namespace(Z)
    labels = labels_or_identity(groups, Z.shape[0])
    E = indicators(labels, like=Z)
    Zs, s = unit_scaled(Z, xp)
    means = (E.T @ Zs) / xp.sum(E, axis=0)[:, None]
    resid = Zs - E @ means
    dist = xp.sqrt(xp.sum(resid * resid, axis=1))
    spread = xp.max(E * dist[:, None], axis=0)
    return ClassCodes(means * s, spread * s, labels)


def _affine_singular_values(Zc: Array, xp: Any) -> Array:
    Zs, s = unit_scaled(Zc, xp)
    centred = Zs - xp.mean(Zs, axis=0, keepdims=True)
    return svdvals(centred) * s


def _affine_rank_and_margin(Zc: Array, xp: Any, cutoff: float) -> tuple[int, float]:
    """Affine rank and :math:`\\sigma_{C-1}(HZ)` (``inf`` for one class, 0 when ``d < C - 1``)."""
    C = Zc.shape[0]
    if C == 1:
        return 1, math.inf
    sv = _affine_singular_values(Zc, xp)
    rank = 1 + int(xp.sum(xp.astype(sv > cutoff, xp.int64)))
    margin = float(sv[C - 2]) if C - 2 < sv.shape[0] else 0.0
    return min(rank, C), margin


def affine_rank(class_codes: Array, *, rtol: float | None = None, atol: float = 0.0) -> int:
    r"""Affine rank :math:`\operatorname{rank}[Z \mid \mathbf 1]` of class codes (docs/theory.md §5).

    Computed as :math:`1 + \operatorname{rank}(HZ)` with :math:`H = I - \mathbf 1\mathbf 1^T/C`
    (column operations on :math:`[Z \mid \mathbf 1]` subtract the mean row, and the columns of
    :math:`HZ` are orthogonal to :math:`\mathbf 1`), which is invariant to translating and
    scaling the codes. Singular values of :math:`HZ` count when above
    ``atol + rtol * max_i ||z_i||``.

    Parameters
    ----------
    class_codes : array, shape (C, d)
        One code per class.
    rtol : float, optional
        Relative cut-off; defaults to :math:`\sqrt{\varepsilon}` of the dtype.
    atol : float, default 0
        Absolute cut-off added to the relative one.

    Returns
    -------
    int
        The affine rank, at most ``min(C, d + 1)``; the codes are affinely independent iff it equals ``C``.
    """
    Z = check_points("class_codes", class_codes)
    xp = namespace(Z)
    rtol = sqrt_eps_rtol(Z.dtype, xp) if rtol is None else check_nonnegative("rtol", rtol)
    atol = check_nonnegative("atol", atol)
    return _affine_rank_and_margin(Z, xp, atol + rtol * _scale(Z, xp))[0]


@dataclass(frozen=True)
class IdealizationReport:
    """Which conditions of an idealized representation hold (docs/theory.md §5).

    Attributes
    ----------
    idealized : bool
        Every condition required for ``probe`` holds.
    probe : str
        ``"linear"`` (affine argmax probes) or ``"universal"`` (any function of the code).
    invariant : bool
        Every within-class spread is at most the tolerance.
    affinely_independent : bool
        ``affine_rank == n_classes``.
    distinct : bool
        Class codes pairwise farther apart than the tolerance.
    affine_rank, n_classes, dim : int
        :math:`\\operatorname{rank}[Z \\mid \\mathbf 1]` of the class means, ``C`` and ``d``.
    max_within_class_spread : float
        :math:`\\max_c \\max_{i \\in c}\\|z_i - \\bar z_c\\|`.
    affine_margin : float
        :math:`\\sigma_{C-1}(HZ)`, the distance from affine dependence (0 when ``d < C - 1``).
    min_code_distance : float
        Smallest distance between two class means (``inf`` for one class).
    tolerance : float
        ``atol + rtol * scale`` used for all three decisions.
    failing : tuple of str
        One human-readable line per failed condition that ``probe`` needs.
    """

    idealized: bool
    probe: str
    invariant: bool
    affinely_independent: bool
    distinct: bool
    affine_rank: int
    n_classes: int
    dim: int
    max_within_class_spread: float
    affine_margin: float
    min_code_distance: float
    tolerance: float
    failing: tuple[str, ...]

    def __bool__(self) -> bool:
        return self.idealized


def _min_pairwise_distance(Zc: Array, xp: Any) -> float:
    C = Zc.shape[0]
    if C < 2:
        return math.inf
    Zs, s = unit_scaled(Zc, xp)
    diff = Zs[:, None, :] - Zs[None, :, :]
    dist = xp.sqrt(xp.sum(diff * diff, axis=2)) * s
    eye = xp.eye(C, dtype=xp.bool, device=array_api_compat.device(Zc))
    return float(xp.min(xp.where(eye, xp.full_like(dist, math.inf), dist)))


def is_idealized(
    codes: Array, groups: Array | None = None, *, probe: str = "linear", rtol: float | None = None, atol: float = 0.0
) -> IdealizationReport:
    r"""Test whether an encoder is idealized for linear or universal probes (docs/theory.md §5).

    Linear (affine argmax) probes solve every invariant task with zero error for an *invariant*
    encoder iff the class codes are affinely independent, :math:`\operatorname{rank}[Z \mid
    \mathbf 1] = C` (so :math:`d \ge C - 1`). Universal probes need only distinct class codes.
    Invariance is required in both cases: it is what makes the worst empirical-risk minimiser
    err only on unseen classes
    (:func:`~kssl_theory.idealized.sample_efficiency.expected_worst_case_erm_risk`). It is *not* needed
    for a zero-error probe to exist: a non-invariant encoder can still solve every task (see
    :func:`~kssl_theory.idealized.sample_efficiency.invariant_and_split_encoders` and
    :func:`~kssl_theory.idealized.probes.task_census`).

    Parameters
    ----------
    codes : array, shape (N, d)
        Code of every view.
    groups : array_like of int, shape (N,), optional
        Class of every view; ``None`` treats each row as one class (codes already per class).
    probe : {"linear", "universal"}
        Probe family the representation should be idealized for.
    rtol, atol : float
        Tolerance ``atol + rtol * max_i ||z_i||`` for all decisions; ``rtol`` defaults to
        :math:`\sqrt{\varepsilon}` of the dtype.

    Returns
    -------
    IdealizationReport
        The verdict, every condition, the measured margins and the failing conditions.
    """
    probe = check_choice("probe", probe, ("linear", "universal"))
    cc = class_codes(codes, groups)
    Zc = cc.codes
    xp = namespace(Zc)
    rtol = sqrt_eps_rtol(Zc.dtype, xp) if rtol is None else check_nonnegative("rtol", rtol)
    atol = check_nonnegative("atol", atol)
    Z = check_points("codes", codes)
    tol = atol + rtol * _scale(Z, xp)
    C, d = Zc.shape
    spread = float(xp.max(cc.spread))
    rank, margin = _affine_rank_and_margin(Zc, xp, tol)
    min_dist = _min_pairwise_distance(Zc, xp)
    invariant = spread <= tol
    independent = rank == C
    distinct = min_dist > tol
    failing = []
    if not invariant:
        worst = int(xp.argmax(cc.spread))
        failing.append(f"invariance: class {worst} has within-class spread {spread:.3g} > tolerance {tol:.3g}")
    if probe == "linear" and not independent:
        failing.append(
            f"affine independence: rank [Z | 1] = {rank} < C = {C} (sigma_(C-1)(HZ) = {margin:.3g}, "
            f"tolerance {tol:.3g}; needs d >= C - 1 = {C - 1}, have d = {d})"
        )
    if probe == "universal" and not distinct:
        failing.append(f"distinct codes: two classes are {min_dist:.3g} apart <= tolerance {tol:.3g}")
    return IdealizationReport(
        not failing, probe, invariant, independent, distinct, rank, C, d, spread, margin, min_dist, tol, tuple(failing)
    )
