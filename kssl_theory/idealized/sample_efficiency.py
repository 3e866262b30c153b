r"""Sample efficiency of idealized representations [IR] (docs/theory.md §5).

The worst empirical-risk minimiser over affine probes on an encoder's codes (setting and
probes as in :mod:`kssl_theory.idealized` and :mod:`kssl_theory.idealized.probes`):
:func:`expected_worst_case_erm_risk` (exact enumeration),
:func:`monte_carlo_worst_case_erm_risk`, :func:`absent_class_risk` and
:func:`uniform_worst_case_risk` :math:`(1 - 1/C)^n`, :func:`invariant_and_split_encoders`.

Host-only parts
---------------
The ERM enumeration solves one linear program per labelling on ``scipy.optimize.linprog``
(HiGHS), which is host-only: :func:`expected_worst_case_erm_risk` and
:func:`monte_carlo_worst_case_erm_risk` accept any array-API array, copy it to NumPy with
:func:`~kssl_theory.backend.to_numpy` and return host results. :func:`invariant_and_split_encoders`
returns codes in the requested namespace and on its device.
"""

from __future__ import annotations

import itertools
import math
from typing import Any, NamedTuple

import array_api_compat
import numpy as np

from ..backend import namespace, to_numpy
from ..errors import InputError
from ..graphs import group_structure
from ..protocols import Array
from ..validation import check_allocation, check_groups, check_int, check_points, check_seed
from ._shared import MAX_ENUMERATION, check_labels, check_margin_tol, max_margin, normalise
from .codes import simplex_etf
from .probes import LP_TOL

__all__ = [
    "absent_class_risk",
    "uniform_worst_case_risk",
    "expected_worst_case_erm_risk",
    "MonteCarloEstimate",
    "monte_carlo_worst_case_erm_risk",
    "EncoderPair",
    "invariant_and_split_encoders",
]


def _check_probs(probs: Array | None, n: int, name: str = "probs") -> np.ndarray:
    if probs is None:
        return np.full(n, 1.0 / n)
    p = to_numpy(check_points(name, probs)).reshape(-1).astype(np.float64)
    if p.size != n:
        raise InputError(f"{name} has {p.size} entries; pass one probability per input ({n}).")
    # The sum of M float64 probabilities rounds by at most ~M eps (2e-12 for M = 1e4); 1e-9 also
    # accepts probabilities typed with 9-10 significant digits, and still rejects any real mistake.
    if np.any(p < 0) or abs(p.sum() - 1.0) > 1e-9:
        raise InputError(f"{name} must be non-negative and sum to 1; got sum {p.sum():.12g}.")
    return p


def absent_class_risk(probs: Array, n: int) -> float:
    r"""Expected worst-case ERM risk of an invariant idealized encoder: :math:`\sum_c p_c (1 - p_c)^n`.

    The worst empirical-risk minimiser errs exactly on the classes absent from the sample
    (:func:`expected_worst_case_erm_risk`), so its risk is the mass of absent classes and its
    expectation is :math:`\sum_c p_c \Pr[c \notin S] = \sum_c p_c (1 - p_c)^n` (docs/theory.md §5).

    Parameters
    ----------
    probs : array_like, shape (C,)
        Class probabilities.
    n : int
        Sample size.

    Returns
    -------
    float
    """
    n = check_int("n", n, 0)
    p = np.asarray(to_numpy(check_points("probs", probs))).reshape(-1)
    p = _check_probs(p, p.size)
    return float(np.sum(p * (1.0 - p) ** n))


def uniform_worst_case_risk(n_classes: int, n: int) -> float:
    r""":math:`(1 - 1/C)^n`, the expected worst-case ERM risk for :math:`C` uniform classes (docs/theory.md §5).

    Both the probability that a given class is absent from ``n`` draws and, for uniform
    classes, :math:`\sum_c \tfrac1C (1 - \tfrac1C)^n`; increasing in :math:`C`, so coarser
    augmentations (fewer classes) need fewer samples.

    Parameters
    ----------
    n_classes : int
    n : int

    Returns
    -------
    float
    """
    C = check_int("n_classes", n_classes, 1)
    return (1.0 - 1.0 / C) ** check_int("n", n, 0)


def _hypothesis_errors(codes: Array, classes: Array, task: Array, n_labels: int | None, tol: float) -> np.ndarray:
    """Error pattern (H x M, bool) of every labelling of the inputs an affine probe realises."""
    X = to_numpy(check_points("codes", codes)).astype(np.float64)
    M = X.shape[0]
    cls = group_structure(check_groups(classes, n=M)).labels
    C = int(cls.max()) + 1
    y_class, k = check_labels(task, C, name="task", n_labels=n_labels, per="class")
    k = max(k, 2) if n_labels is None else k
    uniq, inverse = np.unique(X, axis=0, return_inverse=True)
    inverse = inverse.reshape(-1)
    if k ** uniq.shape[0] > MAX_ENUMERATION:
        raise InputError(
            f"{k}**{uniq.shape[0]} labellings of the distinct codes exceed the enumeration limit {MAX_ENUMERATION}."
        )
    P, _, _ = normalise(uniq)
    realisable = [
        np.asarray(h)
        for h in itertools.product(range(k), repeat=uniq.shape[0])
        if max_margin(P, np.asarray(h), k)[0] > tol
    ]
    H = np.array(realisable)[:, inverse]
    wrong: np.ndarray = H != y_class[cls][None, :]
    return wrong


def _worst_erm(errors: np.ndarray, counts: np.ndarray, q: np.ndarray) -> np.ndarray:
    """Worst true risk over the empirical-risk minimisers, one value per row of ``counts``."""
    emp = errors.astype(np.float64) @ counts.T.astype(np.float64)
    is_erm = emp <= emp.min(axis=0, keepdims=True) + 0.5
    risk = errors.astype(np.float64) @ q
    worst: np.ndarray = np.max(np.where(is_erm, risk[:, None], -np.inf), axis=0)
    return worst


def expected_worst_case_erm_risk(
    codes: Array,
    classes: Array,
    task: Array,
    n: int,
    *,
    probs: Array | None = None,
    n_labels: int | None = None,
    tol: float = LP_TOL,
) -> float:
    r"""Exact expected risk of the worst empirical-risk minimiser, by enumeration (docs/theory.md §5).

    Definitions. Inputs :math:`x_1..x_M` with probabilities :math:`q` and classes ``classes``;
    a task :math:`y` constant on classes with values in :math:`\{0..K-1\}`; the hypothesis class
    :math:`\mathcal H_\phi` of labellings :math:`h(x) = \arg\max_k (W\phi(x) + b)_k` realised by
    an affine probe *with a strict argmax* (found by enumerating all :math:`K^M` labellings of
    the distinct codes, one LP each). For a sample :math:`S` of ``n`` i.i.d. inputs, the
    empirical risk is :math:`\hat R_S(h) = \frac1n\sum_{x \in S}[h(x) \ne y(x)]`; the
    empirical-risk minimisers are :math:`\mathcal E_S = \arg\min_{h \in \mathcal H_\phi} \hat
    R_S(h)`; the *worst* minimiser is the adversarial choice in :math:`\mathcal E_S` with the
    largest true risk :math:`R(h) = \sum_x q(x)[h(x) \ne y(x)]`. This function returns
    :math:`\mathbb E_S \max_{h \in \mathcal E_S} R(h)`, summing over all count vectors of the
    sample with their multinomial probabilities.

    For an invariant encoder with affinely independent class codes and :math:`K \ge 2`,
    :math:`\mathcal H_\phi` is every class labelling, :math:`\mathcal E_S` every labelling
    correct on the classes seen in :math:`S`, and the worst one is wrong on every unseen class:
    :math:`\max_{\mathcal E_S} R = \sum_{c \notin S} p_c`, whose expectation is
    :func:`absent_class_risk`, :math:`(1 - 1/C)^n` for uniform classes. An encoder that splits a
    class can be wrong on unseen *inputs* of seen classes too, which is strictly worse
    (:func:`invariant_and_split_encoders`). Host-side.

    Parameters
    ----------
    codes : array, shape (M, d)
        Code of every input.
    classes : array_like of int, shape (M,)
        Class of every input.
    task : array_like of int, shape (C,)
        Label of every class (classes numbered in order of first appearance).
    n : int
        Sample size.
    probs : array_like, shape (M,), optional
        Input probabilities; uniform by default.
    n_labels : int, optional
        Labels the probe can output; default ``max(max(task) + 1, 2)``.
    tol : float, default 1e-6
        LP margin threshold in ``[0, 1)`` (see :func:`~kssl_theory.idealized.probes.separability`).

    Returns
    -------
    float
    """
    n = check_int("n", n, 0)
    E = _hypothesis_errors(codes, classes, task, n_labels, check_margin_tol(tol))
    M = E.shape[1]
    q = _check_probs(probs, M)
    n_vectors = math.comb(n + M - 1, M - 1)
    if n_vectors > MAX_ENUMERATION * 16:
        raise InputError(f"{n_vectors} samples (count vectors) exceed the enumeration limit; reduce n or M.")
    counts = np.array(
        [
            np.diff(np.concatenate([[-1], bars, [n + M - 1]])) - 1
            for bars in itertools.combinations(range(n + M - 1), M - 1)
        ]
    ).reshape(-1, M)
    with np.errstate(divide="ignore"):
        logq = np.where(q > 0, np.log(np.where(q > 0, q, 1.0)), -np.inf)
    log_mult = math.lgamma(n + 1) - np.sum([[math.lgamma(c + 1) for c in row] for row in counts], axis=1)
    logp = log_mult + np.sum(np.where(counts > 0, counts * logq[None, :], 0.0), axis=1)
    return float(np.sum(np.exp(logp) * _worst_erm(E, counts, q)))


class MonteCarloEstimate(NamedTuple):
    """Mean of i.i.d. draws and its standard error ``std / sqrt(n_trials)``."""

    mean: float
    stderr: float
    n_trials: int


def monte_carlo_worst_case_erm_risk(
    codes: Array,
    classes: Array,
    task: Array,
    n: int,
    *,
    probs: Array | None = None,
    n_labels: int | None = None,
    n_trials: int = 2000,
    seed: int = 0,
    tol: float = LP_TOL,
) -> MonteCarloEstimate:
    r"""Monte-Carlo estimate of :func:`expected_worst_case_erm_risk` (draws samples, same definitions).

    Each trial draws ``n`` inputs from ``probs`` with ``numpy.random.default_rng(seed)`` and
    computes the worst empirical-risk minimiser's risk exactly. Host-side.

    Parameters
    ----------
    codes, classes, task, n, probs, n_labels, tol
        As in :func:`expected_worst_case_erm_risk`.
    n_trials : int, default 2000
    seed : int, default 0

    Returns
    -------
    MonteCarloEstimate
    """
    n = check_int("n", n, 0, 2**62)  # NumPy's multinomial draws int64 counts
    n_trials = check_int("n_trials", n_trials, 2)
    E = _hypothesis_errors(codes, classes, task, n_labels, check_margin_tol(tol))
    q = _check_probs(probs, E.shape[1])
    check_allocation("monte_carlo_worst_case_erm_risk(n_trials)", (E.shape[0] + E.shape[1], n_trials))
    counts = np.random.default_rng(check_seed("seed", seed)).multinomial(n, q, size=n_trials)
    worst = _worst_erm(E, counts, q)
    return MonteCarloEstimate(float(worst.mean()), float(worst.std(ddof=1) / math.sqrt(n_trials)), n_trials)


class EncoderPair(NamedTuple):
    """An invariant idealized encoder and a non-invariant one on the same inputs.

    Attributes
    ----------
    classes : numpy.ndarray of int, shape (C * m,)
        Class of every input (``m`` inputs per class).
    invariant : array, shape (C * m, C - 1)
        Every input coded by its class's simplex-ETF vertex.
    split : array, shape (C * m, C * m - 1)
        Every input its own simplex-ETF vertex: affinely independent, not invariant.
    """

    classes: np.ndarray
    invariant: Array
    split: Array


def invariant_and_split_encoders(
    n_classes: int, views_per_class: int = 2, *, xp: Any = None, dtype: Any = None, device: Any = None
) -> EncoderPair:
    r"""The pair of encoders that shows invariance is what gives sample efficiency (docs/theory.md §5).

    Both solve every invariant task with zero error (the split encoder's codes are affinely
    independent, so even every labelling of the *inputs* is solvable). The worst
    empirical-risk minimiser of the invariant one errs only on unseen classes, expected risk
    :math:`(1 - 1/C)^n` for uniform inputs; the split one errs on every unseen input,
    :math:`(1 - 1/(Cm))^n`, strictly larger for :math:`n \ge 1`, :math:`m \ge 2`.

    Parameters
    ----------
    n_classes : int
        :math:`C \ge 2`.
    views_per_class : int, default 2
        :math:`m \ge 1` inputs per class.
    xp, dtype, device
        Output namespace (NumPy by default), dtype (float64) and device.

    Returns
    -------
    EncoderPair
    """
    C = check_int("n_classes", n_classes, 2)
    m = check_int("views_per_class", views_per_class, 1)
    check_allocation("invariant_and_split_encoders(n_classes * views_per_class)", (3, C * m, C * m - 1))
    classes = np.repeat(np.arange(C), m)
    inv = simplex_etf(C, xp=xp, dtype=dtype, device=device)
    xp_ = namespace(inv)
    idx = xp_.asarray(classes, device=array_api_compat.device(inv))
    split = simplex_etf(C * m, xp=xp, dtype=dtype, device=device)
    return EncoderPair(classes, xp_.take(inv, idx, axis=0), split)
