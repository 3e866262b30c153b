"""Tests of kssl_theory.idealized: docs/theory.md §5 conditions (class codes, affine rank, is_idealized)."""

from __future__ import annotations

import math

import numpy as np
import pytest
from conftest import to_np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from strategies import invariant_views

from kssl_theory import idealized as ide
from kssl_theory.errors import InputError
from kssl_theory.idealized import codes as ic
from kssl_theory.idealized import probes as lp

FIXTURE_OK = [HealthCheck.function_scoped_fixture]


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
    Z, g = invariant_views(to_np(ic.simplex_etf(5)), 3, rng)
    report = ide.is_idealized(xp.asarray(Z), g)
    assert report.idealized and bool(report)
    assert report.invariant and report.affinely_independent
    assert (report.affine_rank, report.n_classes, report.dim) == (5, 5, 4)
    assert report.failing == ()
    assert report.max_within_class_spread <= 1e-15


def test_non_invariant_report_names_invariance(xp, rng):
    Z, g = invariant_views(to_np(ic.simplex_etf(4)), 2, rng)
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
    Z, g = invariant_views(rng.normal(size=(5, 2)), 2, rng)
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
    with pytest.raises(InputError, match="unknown probe"):
        ide.is_idealized(np.eye(2), probe="quadratic")
    with pytest.raises(InputError, match="rtol must be >= 0"):
        ide.affine_rank(np.eye(2), rtol=-1.0)


@pytest.mark.parametrize("scale", [1e-300, 1e-150, 1.0, 1e150, 1e300])
def test_geometry_is_scale_invariant_without_overflow(scale):
    """Ranks, spreads and Radon partitions of codes of size up to 1e300 (found by fuzzing: 1e300**2 = inf
    made affine_rank report 1 and radon_partition return NaN). Oracle: the same quantities at scale 1."""
    rng = np.random.default_rng(3)
    Z = rng.normal(size=(4, 2))  # 4 points in R^2: affinely dependent
    codes = np.repeat(Z, 2, axis=0) + 1e-3 * rng.normal(size=(8, 2))
    groups = np.repeat(np.arange(4), 2)
    assert ide.affine_rank(Z * scale) == ide.affine_rank(Z) == 3
    ref, got = ide.class_codes(codes, groups), ide.class_codes(codes * scale, groups)
    np.testing.assert_allclose(np.asarray(got.spread) / scale, np.asarray(ref.spread), rtol=1e-12)
    rp_ref, rp = lp.radon_partition(Z), lp.radon_partition(Z * scale)
    np.testing.assert_allclose(rp.coefficients, rp_ref.coefficients, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(rp.point / scale, rp_ref.point, rtol=1e-10, atol=1e-12)
