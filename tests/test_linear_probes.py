"""Tests of kssl_theory.idealized.probes: docs/theory.md §5 probes and counting.

Tolerances: exact-probe scores are compared at 1e-9 (float64; the solves involve well-conditioned
matrices of size <= 8, round-off ~1e-14). LP decisions use the module's margin threshold 1e-6 on
unit-scaled points.
"""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest
from conftest import to_np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from strategies import invariant_views

from kssl_theory import idealized as ide
from kssl_theory.errors import InputError
from kssl_theory.idealized import probes as lp
from kssl_theory.idealized import sample_efficiency as se

FIXTURE_OK = [HealthCheck.function_scoped_fixture]


def _independent_codes(C: int, extra: int, rng) -> np.ndarray:
    return rng.normal(size=(C, C - 1 + extra))


def _dependent_codes(C: int, kind: str, rng) -> np.ndarray:
    """Affinely dependent codes: fewer dimensions than C - 1, or embedded in a lower affine subspace."""
    if kind == "low_dim":
        return rng.normal(size=(C, int(rng.integers(1, C - 1))))
    r = int(rng.integers(1, C - 1))
    d = C - 1 + int(rng.integers(0, 3))
    return rng.normal(size=(C, r)) @ rng.normal(size=(r, d)) + rng.normal(size=(1, d))


# ---------------------------------------------------------------------------------------------
# Probes: sufficiency and necessity by brute force
# ---------------------------------------------------------------------------------------------


def _check_sufficient(xp, C, extra, m, seed):
    """Invariant + affinely independent => every labelling of the classes is solved exactly."""
    rng = np.random.default_rng(seed)
    Zc = _independent_codes(C, extra, rng)
    Z, g = invariant_views(Zc, m, rng)
    assert ide.is_idealized(xp.asarray(Z), g).idealized
    census = lp.task_census(xp.asarray(Z), g)
    assert census.n_solvable == census.n_tasks == 2**C
    probe = lp.affine_probe(xp.asarray(Zc))
    np.testing.assert_allclose(to_np(probe.scores(xp.asarray(Zc))), np.eye(C), atol=1e-9)
    for task in itertools.product(range(2), repeat=C):
        predicted = lp.affine_probe(xp.asarray(Zc), task, n_labels=2).predict(xp.asarray(Z))
        assert list(to_np(predicted)) == [task[c] for c in g]
    if C <= 4:
        for task in itertools.product(range(C), repeat=C):
            scores = to_np(lp.affine_probe(xp.asarray(Zc), task, n_labels=C).scores(xp.asarray(Zc)))
            np.testing.assert_allclose(scores, np.eye(C)[list(task)], atol=1e-9)


def _check_necessary(C, kind, m, seed):
    """Affinely dependent codes => some binary task is not separable; the Radon partition is one."""
    rng = np.random.default_rng(seed)
    Zc = _dependent_codes(C, kind, rng)
    Z, g = invariant_views(Zc, m, rng)
    report = ide.is_idealized(Z, g)
    assert report.invariant and not report.affinely_independent and report.affine_rank < C
    census = lp.task_census(Z, g)
    assert census.n_solvable < 2**C
    Zc = to_np(ide.class_codes(Z, g).codes)  # classes in the census's order (first appearance)
    radon = lp.radon_partition(Zc)
    assert any(np.array_equal(radon.labels, bad) for bad in census.unsolvable)
    assert not lp.separability(Zc, radon.labels).separable
    with pytest.raises(InputError, match="affinely dependent"):
        lp.affine_probe(Zc)


SUFFICIENT = dict(C=st.integers(2, 7), extra=st.integers(0, 2), m=st.integers(1, 3), seed=st.integers(0, 2**32 - 1))
NECESSARY = dict(
    C=st.integers(3, 7),
    kind=st.sampled_from(["low_dim", "embedded"]),
    m=st.integers(1, 2),
    seed=st.integers(0, 2**32 - 1),
)


@settings(max_examples=12, suppress_health_check=FIXTURE_OK)
@given(**SUFFICIENT)
def test_affine_independence_is_sufficient(xp, C, extra, m, seed):
    _check_sufficient(xp, C, extra, m, seed)


@settings(max_examples=12)
@given(**NECESSARY)
def test_affine_independence_is_necessary(C, kind, m, seed):
    _check_necessary(C, kind, m, seed)


@pytest.mark.slow
@settings(max_examples=150, suppress_health_check=FIXTURE_OK)
@given(**SUFFICIENT)
def test_affine_independence_is_sufficient_large_budget(xp, C, extra, m, seed):
    _check_sufficient(xp, C, extra, m, seed)


@pytest.mark.slow
@settings(max_examples=150)
@given(**NECESSARY)
def test_affine_independence_is_necessary_large_budget(C, kind, m, seed):
    _check_necessary(C, kind, m, seed)


@settings(max_examples=25)
@given(C=st.integers(3, 8), kind=st.sampled_from(["low_dim", "embedded"]), seed=st.integers(0, 2**32 - 1))
def test_radon_partition_is_a_certificate(C, kind, seed):
    """p lies in both convex hulls, so every affine f takes the same value there from both sides."""
    rng = np.random.default_rng(seed)
    Zc = _dependent_codes(C, kind, rng)
    radon = lp.radon_partition(Zc)
    lam = radon.coefficients
    pos, neg = lam > 0, lam <= 0
    assert pos.any() and neg.any()
    assert lam[pos].sum() == pytest.approx(1.0, abs=1e-12)
    assert -lam[neg].sum() == pytest.approx(1.0, abs=1e-9)
    scale = np.abs(Zc).max()
    np.testing.assert_allclose(lam[pos] @ Zc[pos], radon.point, atol=1e-12 * scale)
    np.testing.assert_allclose(-lam[neg] @ Zc[neg], radon.point, atol=1e-8 * scale)
    w, b = rng.normal(size=Zc.shape[1]), rng.normal()
    f = Zc @ w + b
    assert lam[pos] @ f[pos] == pytest.approx(-lam[neg] @ f[neg], abs=1e-8 * (1 + np.abs(f).max()))


def test_radon_partition_rejects_independent_codes():
    with pytest.raises(InputError, match="affinely independent"):
        lp.radon_partition(np.eye(3))


def test_linear_span_counterexample():
    ce = lp.linear_span_counterexample()
    C = ce.codes.shape[0]
    assert ce.linear_span_dim == 2 == C - 1  # the linear-span reading says "idealized"
    assert ce.affine_rank == 2 < C
    assert not ide.is_idealized(ce.codes).idealized
    assert not lp.separability(ce.codes, ce.witness_labels).separable
    census = lp.task_census(ce.codes)
    assert census.n_solvable == 6
    assert sorted(map(tuple, census.unsolvable)) == [(0, 0, 1), (1, 1, 0)]
    radon = lp.radon_partition(ce.codes)
    assert tuple(radon.labels) in {(0, 0, 1), (1, 1, 0)}
    np.testing.assert_allclose(radon.point, [0.5, 0.5], atol=1e-12)


@settings(max_examples=25)
@given(N=st.integers(2, 12), d=st.integers(1, 4), k=st.integers(2, 4), seed=st.integers(0, 2**32 - 1))
def test_separability_witness_classifies_strictly(N, d, k, seed):
    rng = np.random.default_rng(seed)
    X = 5.0 * rng.normal(size=(N, d)) + 3.0
    y = rng.integers(0, k, size=N)
    res = lp.separability(X, y, n_labels=k)
    scores = X @ res.weight + res.bias
    correct = scores[np.arange(N), y]
    others = np.where(np.eye(k, dtype=bool)[y], -np.inf, scores).max(axis=1)
    if res.separable:
        assert np.all(correct > others)
    else:
        assert res.margin <= 1e-6


def test_separability_accepts_strict_arrays_and_trivial_tasks(rng):
    import array_api_strict as xs

    X = rng.normal(size=(5, 2))
    assert lp.separability(xs.asarray(X), [0, 1, 0, 1, 1]).margin >= 0
    assert lp.separability(X, [0, 0, 0, 0, 0]).separable  # one label: nothing to separate
    assert lp.separability(X, [1, 1, 1, 1, 1], n_labels=2).separable
    with pytest.raises(InputError, match="labels has 2 labels but there are 5 points"):
        lp.separability(X, [0, 1])
    with pytest.raises(InputError, match="n_labels = 2"):
        lp.separability(X, [0, 1, 2, 0, 1], n_labels=2)
    with pytest.raises(InputError, match="non-negative"):
        lp.separability(X, [0, 1, -1, 0, 1])


def test_finding_invariance_is_not_necessary_for_zero_error_probes():
    """FINDING (docs/theory.md §5 "⇔"): a non-invariant encoder can solve every invariant task.

    Invariance is necessary for the sample-efficiency statement (worst-case ERM), not for the
    existence of a zero-error affine probe.
    """
    pair = se.invariant_and_split_encoders(4, 2)
    report = ide.is_idealized(pair.split, pair.classes)
    assert not report.invariant
    census = lp.task_census(pair.split, pair.classes)
    assert census.n_solvable == census.n_tasks == 16
    census3 = lp.task_census(pair.split, pair.classes, n_labels=3)
    assert census3.n_solvable == census3.n_tasks == 81


# ---------------------------------------------------------------------------------------------
# Counting
# ---------------------------------------------------------------------------------------------


def _check_cover(C, d, seed):
    points = np.random.default_rng(seed).normal(size=(C, d))
    assert lp.count_separable_dichotomies(points) == lp.cover_count(C, d)


@settings(max_examples=30)
@given(C=st.integers(1, 8), d=st.integers(1, 9), seed=st.integers(0, 2**32 - 1))
def test_cover_formula_equals_brute_force(C, d, seed):
    _check_cover(C, d, seed)


@pytest.mark.slow
@settings(max_examples=300)
@given(C=st.integers(1, 9), d=st.integers(1, 10), seed=st.integers(0, 2**32 - 1))
def test_cover_formula_equals_brute_force_large_budget(C, d, seed):
    _check_cover(C, d, seed)


def test_cover_count_values():
    assert lp.cover_count(4, 1) == 8 and lp.cover_count(4, 2) == 14 and lp.cover_count(1, 0) == 2
    for C in range(1, 13):
        for d in range(0, 13):
            assert (lp.cover_count(C, d) == 2**C) == (d >= C - 1)
            assert lp.cover_count(C, d) <= 2**C
    with pytest.raises(InputError, match="n_points"):
        lp.cover_count(0, 2)
    with pytest.raises(InputError, match="dim"):
        lp.cover_count(3, 1.5)


@pytest.mark.parametrize("C", [1, 2, 7, 60, 61, 1001])
def test_cover_count_equals_the_binomial_sum(C):
    """The incremental, mirror-side evaluation equals Cover's sum term by term (exact integers)."""
    for d in sorted({0, 1, C // 2 - 1, C // 2, C // 2 + 1, C - 2, C - 1, C}):
        if d >= 0:
            assert lp.cover_count(C, d) == 2 * sum(math.comb(C - 1, k) for k in range(d + 1)), d


@pytest.mark.parametrize("tol", [1.0, 5.0, -1e-9, float("nan"), "1e-6"])
def test_margin_threshold_must_lie_in_unit_interval(tol):
    """Margins are normalised to <= 1, so tol >= 1 would call every task unsolvable: refused (found by fuzzing)."""
    Z = np.eye(3)
    with pytest.raises(InputError, match="tol"):
        lp.separability(Z, [0, 1, 0], tol=tol)
    with pytest.raises(InputError, match="tol"):
        lp.count_separable_dichotomies(Z, tol=tol)


def test_cover_count_refuses_counts_too_large_to_compute():
    with pytest.raises(InputError, match="n_points"):
        lp.cover_count(2**64, 3)


def test_cover_count_needs_general_position():
    """Three collinear points in R^2 have 6 < cover_count(3, 2) = 8 separable dichotomies."""
    ce = lp.linear_span_counterexample()
    assert lp.count_separable_dichotomies(ce.codes) == 6 < lp.cover_count(3, 2) == 8
