"""Bridge claims of docs/theory.md §6, checked on solver output against the [IR] conditions."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import kssl_theory as kt
from kssl_theory.bridge import contrastive_codes_with_normal, idealization
from kssl_theory.errors import InputError


def _clique_problem(n, m, seed, dim_features=3):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n * m, dim_features))
    groups = np.repeat(np.arange(n), m)
    K = kt.kernels.rbf(X, bandwidth=1.0) + 1e-3 * np.eye(n * m)  # ridge keeps K > 0 (cond <= ~1e4)
    return K, kt.graphs.adjacency(groups), groups


@settings(max_examples=15)
@given(n=st.integers(2, 6), m=st.integers(1, 4), extra=st.integers(0, 3), seed=st.integers(0, 2**16))
def test_o1_clique_full_dim_is_idealized(n, m, extra, seed):
    K, A, groups = _clique_problem(n, m, seed)
    dim = min(n + extra, n * m)
    report = idealization(kt.solve("contrastive", K, A, dim), groups)
    assert report.idealized, report.failing


@settings(max_examples=15)
@given(n=st.integers(3, 6), m=st.integers(1, 4), seed=st.integers(0, 2**16))
def test_o1_d_n_minus_1_has_both_kinds_at_equal_loss(n, m, seed):
    K, A, groups = _clique_problem(n, m, seed)
    sol = kt.solve("contrastive", K, A, n - 1)
    assert not sol.is_unique
    u_good = np.ones(n)  # u^T 1 = n != 0  -> affinely independent codes
    u_bad = np.zeros(n)
    u_bad[:2] = [1.0, -1.0]  # u^T 1 = 0       -> affinely dependent codes
    losses, verdicts = [], []
    for u in (u_good, u_bad):
        Z = contrastive_codes_with_normal(groups, u)
        C = np.linalg.solve(K, Z)
        losses.append(float(kt.loss("contrastive", K @ C, A)))
        verdicts.append(kt.idealized.is_idealized(Z, groups).idealized)
    # Both constructions are optimal: their loss equals the closed-form minimum m^2 (n - (n-1)).
    # Tolerance: entries of ZZ^T are O(1), the loss sums N^2 of them, round-off ~ N^2 * eps.
    tol = 100 * (n * m) ** 2 * np.finfo(float).eps
    assert abs(losses[0] - float(sol.loss)) <= tol + tol * float(sol.loss)
    assert abs(losses[1] - float(sol.loss)) <= tol + tol * float(sol.loss)
    assert verdicts == [True, False]


@settings(max_examples=20)
@given(
    n=st.integers(2, 5),
    m=st.integers(2, 4),
    excess=st.integers(1, 4),
    ratio=st.floats(0.1, 3.0),
    seed=st.integers(0, 2**16),
)
def test_o2_clique_invariant_iff_beta_at_least_2_over_m(n, m, excess, ratio, seed):
    K, A, groups = _clique_problem(n, m, seed)
    dim = min(n + excess, n * m)
    beta = ratio * 2 / m
    report = idealization(kt.solve("vicreg", K, A, dim, beta=beta), groups)
    # beta within 1e-9 relative of 2/m makes 1 - beta m / 2 vanish to round-off: skip that knife edge.
    if abs(ratio - 1) > 1e-6:
        assert report.invariant == (beta >= 2 / m)


@settings(max_examples=20)
@given(n=st.integers(2, 6), m=st.integers(1, 4), seed=st.integers(0, 2**16), data=st.data())
def test_o3_clique_invariant_and_idealized_iff_affinely_independent(n, m, seed, data):
    K, A, groups = _clique_problem(n, m, seed)
    dim = data.draw(st.integers(1, n))
    sol = kt.solve("laplacian_eigenmaps", K, A, dim)
    report = idealization(sol, groups)
    assert report.invariant
    assert report.idealized == report.affinely_independent
    # Independent check of affine independence: rank of [class codes | 1] by SVD.
    codes = np.stack([sol.embedding[groups == g].mean(axis=0) for g in range(n)])
    rank = np.linalg.matrix_rank(np.column_stack([codes, np.ones(n)]), tol=1e-8)
    assert report.affinely_independent == (rank == n)


def test_contrastive_codes_with_normal_rejects_bad_input():
    with pytest.raises(InputError, match="equal group sizes"):
        contrastive_codes_with_normal([0, 0, 1], [1.0, 1.0])
    with pytest.raises(InputError, match="u must be finite and non-zero"):
        contrastive_codes_with_normal([0, 0, 1, 1], [0.0, 0.0])
    with pytest.raises(InputError, match="real vector of length n = 2"):
        contrastive_codes_with_normal([0, 0, 1, 1], [1.0, 0.0, 2.0])
