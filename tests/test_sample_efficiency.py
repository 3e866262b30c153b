"""Tests of kssl_theory.idealized.sample_efficiency: docs/theory.md §5 worst-case ERM risk.

Tolerances: enumerated risks are sums of <= 10^4 positive terms, compared at 1e-12.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kssl_theory.errors import InputError
from kssl_theory.idealized import sample_efficiency as se


@settings(max_examples=15)
@given(
    C=st.integers(2, 4), m=st.integers(1, 2), n=st.integers(0, 4), k=st.integers(2, 3), seed=st.integers(0, 2**32 - 1)
)
def test_worst_case_erm_enumeration_equals_absent_class_formula(C, m, n, k, seed):
    rng = np.random.default_rng(seed)
    pair = se.invariant_and_split_encoders(C, m)
    q = rng.dirichlet(np.ones(C * m))
    p_class = np.bincount(pair.classes, weights=q)
    task = rng.integers(0, k, size=C)
    exact = se.expected_worst_case_erm_risk(pair.invariant, pair.classes, task, n, probs=q, n_labels=k)
    assert exact == pytest.approx(se.absent_class_risk(p_class, n), abs=1e-12)
    assert exact == pytest.approx(sum(p * (1 - p) ** n for p in p_class), abs=1e-12)


@pytest.mark.parametrize("C,n", [(2, 3), (3, 1), (3, 4), (4, 2), (4, 5)])
def test_uniform_worst_case_risk_enumeration_and_monte_carlo(C, n):
    pair = se.invariant_and_split_encoders(C, 2)
    task = np.arange(C) % 2
    formula = (1 - 1 / C) ** n
    assert se.uniform_worst_case_risk(C, n) == pytest.approx(formula, rel=1e-15)
    assert se.expected_worst_case_erm_risk(pair.invariant, pair.classes, task, n) == pytest.approx(formula, abs=1e-12)
    mc = se.monte_carlo_worst_case_erm_risk(pair.invariant, pair.classes, task, n, n_trials=4000, seed=C * 100 + n)
    assert abs(mc.mean - formula) <= 5 * mc.stderr + 1e-12


def test_uniform_worst_case_risk_increases_with_classes():
    for n in range(1, 20):
        risks = [se.uniform_worst_case_risk(C, n) for C in range(1, 30)]
        assert all(a < b for a, b in zip(risks, risks[1:]))


@pytest.mark.parametrize("C,m", [(2, 2), (3, 2), (2, 3)])
def test_non_invariant_encoder_is_strictly_worse(C, m):
    pair = se.invariant_and_split_encoders(C, m)
    for task in [np.arange(C) % 2, np.zeros(C, dtype=int)]:
        for n in (0, 1, 3):
            inv = se.expected_worst_case_erm_risk(pair.invariant, pair.classes, task, n, n_labels=2)
            split = se.expected_worst_case_erm_risk(pair.split, pair.classes, task, n, n_labels=2)
            assert inv == pytest.approx((1 - 1 / C) ** n, abs=1e-12)
            assert split == pytest.approx((1 - 1 / (C * m)) ** n, abs=1e-12)
            if n == 0:
                assert split == pytest.approx(inv, abs=1e-15) == pytest.approx(1.0)
            else:
                assert split > inv + 1e-3


def test_worst_case_erm_single_label_and_errors():
    pair = se.invariant_and_split_encoders(3, 1)
    assert se.expected_worst_case_erm_risk(pair.invariant, pair.classes, [0, 0, 0], 2, n_labels=1) == 0.0
    with pytest.raises(InputError, match="task has 2 labels but there are 3 classes"):
        se.expected_worst_case_erm_risk(pair.invariant, pair.classes, [0, 1], 2)
    with pytest.raises(InputError, match="sum to 1"):
        se.expected_worst_case_erm_risk(pair.invariant, pair.classes, [0, 1, 0], 2, probs=[0.5, 0.5, 0.5])
    with pytest.raises(InputError, match="n must be"):
        se.absent_class_risk([0.5, 0.5], -1)
