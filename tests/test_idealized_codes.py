"""Tests of kssl_theory.idealized.codes: docs/theory.md §5 simplex ETF and the d = 1 ReLU probe.

Tolerances: exact-probe outputs and ETF identities are compared at 1e-9 or tighter (float64;
round-off ~1e-14).
"""

from __future__ import annotations

import numpy as np
import pytest
from conftest import to_np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kssl_theory import idealized as ide
from kssl_theory.errors import InputError
from kssl_theory.idealized import codes as ic

FIXTURE_OK = [HealthCheck.function_scoped_fixture]


@pytest.mark.parametrize("C", [2, 3, 5, 10])
def test_simplex_etf(xp, C):
    Z = ic.simplex_etf(C, xp=xp)
    assert Z.shape == (C, C - 1)
    Zn = to_np(Z)
    gram = Zn @ Zn.T
    np.testing.assert_allclose(np.diag(gram), 1.0, atol=1e-12)
    np.testing.assert_allclose(gram[~np.eye(C, dtype=bool)], -1 / (C - 1), atol=1e-12)
    np.testing.assert_allclose(Zn.sum(axis=0), 0.0, atol=1e-12)
    assert ide.affine_rank(Z) == C
    assert ide.is_idealized(Z).idealized


def test_simplex_etf_float32(xp):
    Z = ic.simplex_etf(6, xp=xp, dtype=xp.float32)
    assert Z.dtype == xp.float32
    assert ide.is_idealized(Z).idealized


@settings(max_examples=40, suppress_health_check=FIXTURE_OK)
@given(C=st.integers(1, 10), k=st.integers(1, 4), seed=st.integers(0, 2**32 - 1))
def test_relu_probe_interpolates_any_labelling(xp, C, k, seed):
    rng = np.random.default_rng(seed)
    z = rng.permutation(np.linspace(-3.0, 4.0, C) + rng.uniform(-0.2, 0.2, size=C))
    labels = rng.integers(0, k, size=C)
    probe = ic.relu_probe(xp.asarray(z), labels, n_labels=k)
    assert probe.knots.shape == (max(C - 1, 0),)
    out = to_np(probe(xp.asarray(z)))
    np.testing.assert_allclose(out, np.eye(k)[labels], atol=1e-9)
    assert list(to_np(probe.predict(xp.asarray(z)))) == list(labels)


def test_relu_probe_errors():
    with pytest.raises(InputError, match="distinct"):
        ic.relu_probe(np.array([0.0, 1.0, 1.0]), [0, 1, 0])
    with pytest.raises(InputError, match="scalar"):
        ic.relu_probe(np.eye(2), [0, 1])
