"""Tests of kssl_theory.idealized: THEORY.md §5 conditions, probes, counting, sample efficiency, codes.

Tolerances: exact-probe scores and ETF identities are compared at 1e-9 (float64; the solves
involve well-conditioned matrices of size <= 8, round-off ~1e-14). LP decisions use the module's
margin threshold 1e-6 on unit-scaled points. Enumerated risks are sums of <= 10^4 positive
terms, compared at 1e-12.
"""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conftest import to_np
from kssl_theory import idealized as ide
from kssl_theory.errors import InputError

FIXTURE_OK = [HealthCheck.function_scoped_fixture]


def _views(class_codes: np.ndarray, m: int, rng) -> tuple[np.ndarray, np.ndarray]:
    """Replicate every class code ``m`` times and shuffle the views (an invariant encoder)."""
    C = class_codes.shape[0]
    groups = np.repeat(np.arange(C), m)
    perm = rng.permutation(groups.size)
    return class_codes[groups[perm]], groups[perm]


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
# Conditions
# ---------------------------------------------------------------------------------------------


def test_class_codes_match_loop(xp, rng):
    Z = rng.normal(size=(9, 3))
    groups = np.array([2, 0, 2, 1, 1, 0, 2, 5, 5])
    cc = ide.class_codes(xp.asarray(Z), groups)
    order = [2, 0, 1, 5]  # first appearance
    for c, g in enumerate(order):
        members = Z[groups == g]
        mean = members.mean(axis=0)
        np.testing.assert_allclose(to_np(cc.codes)[c], mean, rtol=1e-13, atol=1e-13)
        spread = max(np.linalg.norm(z - mean) for z in members)
        assert to_np(cc.spread)[c] == pytest.approx(spread, rel=1e-12, abs=1e-14)
    assert list(cc.labels) == [order.index(g) for g in groups]


def test_invariant_simplex_views_are_idealized(xp, rng):
    Z, g = _views(to_np(ide.simplex_etf(5)), 3, rng)
    report = ide.is_idealized(xp.asarray(Z), g)
    assert report.idealized and bool(report)
    assert report.invariant and report.affinely_independent
    assert (report.affine_rank, report.n_classes, report.dim) == (5, 5, 4)
    assert report.failing == ()
    assert report.max_within_class_spread <= 1e-15


def test_non_invariant_report_names_invariance(xp, rng):
    Z, g = _views(to_np(ide.simplex_etf(4)), 2, rng)
    moved = Z.copy()
    moved[0] += 1e-3
    report = ide.is_idealized(xp.asarray(moved), g)
    assert not report.idealized
    assert not report.invariant and report.affinely_independent
    assert len(report.failing) == 1 and report.failing[0].startswith("invariance")
    assert report.max_within_class_spread == pytest.approx(0.5e-3 * math.sqrt(3), rel=1e-9)
    # Round-off-sized spreads pass the default sqrt(eps) tolerance; a loose atol accepts 1e-3.
    noisy = Z + 1e-13 * rng.normal(size=Z.shape)
    assert ide.is_idealized(xp.asarray(noisy), g).idealized
    assert ide.is_idealized(xp.asarray(moved), g, atol=1e-2).idealized


def test_dependent_report_names_affine_independence(xp, rng):
    Z, g = _views(rng.normal(size=(5, 2)), 2, rng)
    report = ide.is_idealized(xp.asarray(Z), g)
    assert report.invariant and not report.affinely_independent
    assert report.affine_rank == 3 and report.affine_margin == 0.0
    assert len(report.failing) == 1 and "rank [Z | 1] = 3 < C = 5" in report.failing[0]


def test_universal_probes_need_only_distinct_codes(xp):
    Z = xp.asarray([[0.0], [1.0], [3.0], [-2.0]])
    assert not ide.is_idealized(Z).idealized
    assert ide.is_idealized(Z, probe="universal").idealized
    report = ide.is_idealized(xp.asarray([[0.0], [1.0], [1.0]]), probe="universal")
    assert not report.distinct and report.failing[0].startswith("distinct codes")


@settings(max_examples=30, suppress_health_check=FIXTURE_OK)
@given(C=st.integers(1, 8), d=st.integers(1, 9), seed=st.integers(0, 2**32 - 1))
def test_affine_rank_matches_numpy_and_is_affine_invariant(xp, C, d, seed):
    rng = np.random.default_rng(seed)
    Z = rng.normal(size=(C, d))
    expected = np.linalg.matrix_rank(np.hstack([Z, np.ones((C, 1))]))
    assert ide.affine_rank(xp.asarray(Z)) == expected == min(C, d + 1)
    moved = 1e3 * Z + rng.normal(size=(1, d)) * 1e4
    assert ide.affine_rank(xp.asarray(moved)) == expected


def test_condition_input_errors():
    with pytest.raises(InputError, match="groups has 3 labels"):
        ide.is_idealized(np.zeros((4, 2)), [0, 1, 2])
    with pytest.raises(InputError, match="codes contains 1 NaN"):
        ide.is_idealized(np.array([[0.0, np.nan], [1.0, 0.0]]))
    with pytest.raises(InputError, match="probe must be"):
        ide.is_idealized(np.eye(2), probe="quadratic")
    with pytest.raises(InputError, match="rtol must be >= 0"):
        ide.affine_rank(np.eye(2), rtol=-1.0)


# ---------------------------------------------------------------------------------------------
# Probes: sufficiency and necessity by brute force
# ---------------------------------------------------------------------------------------------


def _check_sufficient(xp, C, extra, m, seed):
    """Invariant + affinely independent => every labelling of the classes is solved exactly."""
    rng = np.random.default_rng(seed)
    Zc = _independent_codes(C, extra, rng)
    Z, g = _views(Zc, m, rng)
    assert ide.is_idealized(xp.asarray(Z), g).idealized
    census = ide.task_census(xp.asarray(Z), g)
    assert census.n_solvable == census.n_tasks == 2**C
    probe = ide.affine_probe(xp.asarray(Zc))
    np.testing.assert_allclose(to_np(probe.scores(xp.asarray(Zc))), np.eye(C), atol=1e-9)
    for task in itertools.product(range(2), repeat=C):
        predicted = ide.affine_probe(xp.asarray(Zc), task, n_labels=2).predict(xp.asarray(Z))
        assert list(to_np(predicted)) == [task[c] for c in g]
    if C <= 4:
        for task in itertools.product(range(C), repeat=C):
            scores = to_np(ide.affine_probe(xp.asarray(Zc), task, n_labels=C).scores(xp.asarray(Zc)))
            np.testing.assert_allclose(scores, np.eye(C)[list(task)], atol=1e-9)


def _check_necessary(C, kind, m, seed):
    """Affinely dependent codes => some binary task is not separable; the Radon partition is one."""
    rng = np.random.default_rng(seed)
    Zc = _dependent_codes(C, kind, rng)
    Z, g = _views(Zc, m, rng)
    report = ide.is_idealized(Z, g)
    assert report.invariant and not report.affinely_independent and report.affine_rank < C
    census = ide.task_census(Z, g)
    assert census.n_solvable < 2**C
    Zc = to_np(ide.class_codes(Z, g).codes)  # classes in the census's order (first appearance)
    radon = ide.radon_partition(Zc)
    assert any(np.array_equal(radon.labels, bad) for bad in census.unsolvable)
    assert not ide.separability(Zc, radon.labels).separable
    with pytest.raises(InputError, match="affinely dependent"):
        ide.affine_probe(Zc)


SUFFICIENT = dict(C=st.integers(2, 7), extra=st.integers(0, 2), m=st.integers(1, 3), seed=st.integers(0, 2**32 - 1))
NECESSARY = dict(C=st.integers(3, 7), kind=st.sampled_from(["low_dim", "embedded"]), m=st.integers(1, 2),
                 seed=st.integers(0, 2**32 - 1))


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
    radon = ide.radon_partition(Zc)
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
        ide.radon_partition(np.eye(3))


def test_linear_span_counterexample():
    ce = ide.linear_span_counterexample()
    C = ce.codes.shape[0]
    assert ce.linear_span_dim == 2 == C - 1  # the linear-span reading says "idealized"
    assert ce.affine_rank == 2 < C
    assert not ide.is_idealized(ce.codes).idealized
    assert not ide.separability(ce.codes, ce.witness_labels).separable
    census = ide.task_census(ce.codes)
    assert census.n_solvable == 6
    assert sorted(map(tuple, census.unsolvable)) == [(0, 0, 1), (1, 1, 0)]
    radon = ide.radon_partition(ce.codes)
    assert tuple(radon.labels) in {(0, 0, 1), (1, 1, 0)}
    np.testing.assert_allclose(radon.point, [0.5, 0.5], atol=1e-12)


@settings(max_examples=25)
@given(N=st.integers(2, 12), d=st.integers(1, 4), k=st.integers(2, 4), seed=st.integers(0, 2**32 - 1))
def test_separability_witness_classifies_strictly(N, d, k, seed):
    rng = np.random.default_rng(seed)
    X = 5.0 * rng.normal(size=(N, d)) + 3.0
    y = rng.integers(0, k, size=N)
    res = ide.separability(X, y, n_labels=k)
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
    assert ide.separability(xs.asarray(X), [0, 1, 0, 1, 1]).margin >= 0
    assert ide.separability(X, [0, 0, 0, 0, 0]).separable  # one label: nothing to separate
    assert ide.separability(X, [1, 1, 1, 1, 1], n_labels=2).separable
    with pytest.raises(InputError, match="labels must have shape"):
        ide.separability(X, [0, 1])
    with pytest.raises(InputError, match="n_labels = 2"):
        ide.separability(X, [0, 1, 2, 0, 1], n_labels=2)
    with pytest.raises(InputError, match="non-negative"):
        ide.separability(X, [0, 1, -1, 0, 1])


def test_finding_invariance_is_not_necessary_for_zero_error_probes():
    """FINDING (THEORY.md §5 "⇔"): a non-invariant encoder can solve every invariant task.

    Invariance is necessary for the sample-efficiency statement (worst-case ERM), not for the
    existence of a zero-error affine probe.
    """
    pair = ide.invariant_and_split_encoders(4, 2)
    report = ide.is_idealized(pair.split, pair.classes)
    assert not report.invariant
    census = ide.task_census(pair.split, pair.classes)
    assert census.n_solvable == census.n_tasks == 16
    census3 = ide.task_census(pair.split, pair.classes, n_labels=3)
    assert census3.n_solvable == census3.n_tasks == 81


# ---------------------------------------------------------------------------------------------
# Counting
# ---------------------------------------------------------------------------------------------


def _check_cover(C, d, seed):
    points = np.random.default_rng(seed).normal(size=(C, d))
    assert ide.count_separable_dichotomies(points) == ide.cover_count(C, d)


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
    assert ide.cover_count(4, 1) == 8 and ide.cover_count(4, 2) == 14 and ide.cover_count(1, 0) == 2
    for C in range(1, 13):
        for d in range(0, 13):
            assert (ide.cover_count(C, d) == 2**C) == (d >= C - 1)
            assert ide.cover_count(C, d) <= 2**C
    with pytest.raises(InputError, match="n_points"):
        ide.cover_count(0, 2)
    with pytest.raises(InputError, match="dim"):
        ide.cover_count(3, 1.5)


def test_cover_count_needs_general_position():
    """Three collinear points in R^2 have 6 < cover_count(3, 2) = 8 separable dichotomies."""
    ce = ide.linear_span_counterexample()
    assert ide.count_separable_dichotomies(ce.codes) == 6 < ide.cover_count(3, 2) == 8


# ---------------------------------------------------------------------------------------------
# Sample efficiency
# ---------------------------------------------------------------------------------------------


@settings(max_examples=15)
@given(C=st.integers(2, 4), m=st.integers(1, 2), n=st.integers(0, 4), k=st.integers(2, 3),
       seed=st.integers(0, 2**32 - 1))
def test_worst_case_erm_enumeration_equals_absent_class_formula(C, m, n, k, seed):
    rng = np.random.default_rng(seed)
    pair = ide.invariant_and_split_encoders(C, m)
    q = rng.dirichlet(np.ones(C * m))
    p_class = np.bincount(pair.classes, weights=q)
    task = rng.integers(0, k, size=C)
    exact = ide.expected_worst_case_erm_risk(pair.invariant, pair.classes, task, n, probs=q, n_labels=k)
    assert exact == pytest.approx(ide.absent_class_risk(p_class, n), abs=1e-12)
    assert exact == pytest.approx(sum(p * (1 - p) ** n for p in p_class), abs=1e-12)


@pytest.mark.parametrize("C,n", [(2, 3), (3, 1), (3, 4), (4, 2), (4, 5)])
def test_uniform_worst_case_risk_enumeration_and_monte_carlo(C, n):
    pair = ide.invariant_and_split_encoders(C, 2)
    task = np.arange(C) % 2
    formula = (1 - 1 / C) ** n
    assert ide.uniform_worst_case_risk(C, n) == pytest.approx(formula, rel=1e-15)
    assert ide.expected_worst_case_erm_risk(pair.invariant, pair.classes, task, n) == pytest.approx(formula, abs=1e-12)
    mc = ide.monte_carlo_worst_case_erm_risk(pair.invariant, pair.classes, task, n, n_trials=4000, seed=C * 100 + n)
    assert abs(mc.mean - formula) <= 5 * mc.stderr + 1e-12


def test_uniform_worst_case_risk_increases_with_classes():
    for n in range(1, 20):
        risks = [ide.uniform_worst_case_risk(C, n) for C in range(1, 30)]
        assert all(a < b for a, b in zip(risks, risks[1:]))


@pytest.mark.parametrize("C,m", [(2, 2), (3, 2), (2, 3)])
def test_non_invariant_encoder_is_strictly_worse(C, m):
    pair = ide.invariant_and_split_encoders(C, m)
    for task in [np.arange(C) % 2, np.zeros(C, dtype=int)]:
        for n in (0, 1, 3):
            inv = ide.expected_worst_case_erm_risk(pair.invariant, pair.classes, task, n, n_labels=2)
            split = ide.expected_worst_case_erm_risk(pair.split, pair.classes, task, n, n_labels=2)
            assert inv == pytest.approx((1 - 1 / C) ** n, abs=1e-12)
            assert split == pytest.approx((1 - 1 / (C * m)) ** n, abs=1e-12)
            if n == 0:
                assert split == pytest.approx(inv, abs=1e-15) == pytest.approx(1.0)
            else:
                assert split > inv + 1e-3


def test_worst_case_erm_single_label_and_errors():
    pair = ide.invariant_and_split_encoders(3, 1)
    assert ide.expected_worst_case_erm_risk(pair.invariant, pair.classes, [0, 0, 0], 2, n_labels=1) == 0.0
    with pytest.raises(InputError, match="task must have shape"):
        ide.expected_worst_case_erm_risk(pair.invariant, pair.classes, [0, 1], 2)
    with pytest.raises(InputError, match="sum to 1"):
        ide.expected_worst_case_erm_risk(pair.invariant, pair.classes, [0, 1, 0], 2, probs=[0.5, 0.5, 0.5])
    with pytest.raises(InputError, match="n must be"):
        ide.absent_class_risk([0.5, 0.5], -1)


# ---------------------------------------------------------------------------------------------
# Codes
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("C", [2, 3, 5, 10])
def test_simplex_etf(xp, C):
    Z = ide.simplex_etf(C, xp=xp)
    assert Z.shape == (C, C - 1)
    Zn = to_np(Z)
    gram = Zn @ Zn.T
    np.testing.assert_allclose(np.diag(gram), 1.0, atol=1e-12)
    np.testing.assert_allclose(gram[~np.eye(C, dtype=bool)], -1 / (C - 1), atol=1e-12)
    np.testing.assert_allclose(Zn.sum(axis=0), 0.0, atol=1e-12)
    assert ide.affine_rank(Z) == C
    assert ide.is_idealized(Z).idealized


def test_simplex_etf_float32(xp):
    Z = ide.simplex_etf(6, xp=xp, dtype=xp.float32)
    assert Z.dtype == xp.float32
    assert ide.is_idealized(Z).idealized


@settings(max_examples=40, suppress_health_check=FIXTURE_OK)
@given(C=st.integers(1, 10), k=st.integers(1, 4), seed=st.integers(0, 2**32 - 1))
def test_relu_probe_interpolates_any_labelling(xp, C, k, seed):
    rng = np.random.default_rng(seed)
    z = rng.permutation(np.linspace(-3.0, 4.0, C) + rng.uniform(-0.2, 0.2, size=C))
    labels = rng.integers(0, k, size=C)
    probe = ide.relu_probe(xp.asarray(z), labels, n_labels=k)
    assert probe.knots.shape == (max(C - 1, 0),)
    out = to_np(probe(xp.asarray(z)))
    np.testing.assert_allclose(out, np.eye(k)[labels], atol=1e-9)
    assert list(to_np(probe.predict(xp.asarray(z)))) == list(labels)


def test_relu_probe_errors():
    with pytest.raises(InputError, match="distinct"):
        ide.relu_probe(np.array([0.0, 1.0, 1.0]), [0, 1, 0])
    with pytest.raises(InputError, match="scalar"):
        ide.relu_probe(np.eye(2), [0, 1])
