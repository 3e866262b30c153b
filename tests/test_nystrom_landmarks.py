"""Landmark rules of the Nyström features (issue 15, item 5): randomly pivoted Cholesky against uniform draws.

Oracles: an exact rank argument (points repeated in clusters: K has rank = #clusters, and RPCholesky
never draws a point whose residual is 0, so #clusters landmarks represent K exactly) and the
trace error tr(K - K~)/tr K computed here in NumPy from the full K.
"""

from __future__ import annotations

import numpy as np
import pytest

import kssl_theory as kt
from kssl_theory.errors import InputError
from kssl_theory.kernel_regime.nystrom import nystrom_features, rpcholesky_landmarks

RBF = kt.kernels.get_kernel("rbf", bandwidth=1.0)


def _clusters(copies=60, seed=0):
    centres = np.random.default_rng(seed).normal(size=(4, 3)) * 3
    return np.repeat(centres, copies, axis=0)


@pytest.mark.parametrize("seed", range(5))
def test_rpcholesky_takes_one_landmark_per_cluster_and_is_exact(seed):
    X = _clusters()
    idx = rpcholesky_landmarks(RBF, X, 4, np.random.default_rng(seed))
    assert sorted(set(idx // 60)) == [0, 1, 2, 3]  # one copy of each distinct point
    feats = nystrom_features(RBF, X, 4, seed=seed, rule="rpcholesky")
    K = RBF(X)
    err = np.trace(K - feats.features @ feats.features.T) / np.trace(K)
    # K~ = K exactly up to round-off of a 4 x 4 inverse square root of a well-conditioned K_mm
    assert abs(err) < 1e-10 and feats.relative_trace_error < 1e-10


def test_uniform_draws_on_clusters_usually_miss_one():
    X = _clusters()
    errors = [nystrom_features(RBF, X, 4, seed=s, rule="uniform").relative_trace_error for s in range(10)]
    assert max(errors) > 0.1  # 4 uniform draws from 4 clusters of 60 repeat a cluster with probability 0.9


def test_landmarks_are_distinct_sorted_and_reproducible():
    X = np.random.default_rng(0).normal(size=(80, 2))
    a = nystrom_features(RBF, X, 30, seed=5, rule="rpcholesky").landmarks
    b = nystrom_features(RBF, X, 30, seed=5, rule="rpcholesky").landmarks
    np.testing.assert_array_equal(a, b)
    assert len({tuple(row) for row in a}) == 30


@pytest.mark.parametrize("seed", range(5))
def test_more_landmarks_than_the_rank_fall_back_to_distinct_uniform_points(seed):
    X = _clusters(copies=5)  # rank 4, 20 points
    idx = rpcholesky_landmarks(RBF, X, 10, np.random.default_rng(seed))
    assert len(set(idx.tolist())) == 10 and sorted(set(idx // 5)) == [0, 1, 2, 3]


def _rpcholesky_by_schur_complements(K, m, rng):
    """Randomly pivoted Cholesky written from its definition (Chen, Epperly, Tropp, Webber 2022), as the oracle:
    the residual diagonal is recomputed each step as diag(K - K[:, S] K[S, S]^-1 K[S, :]) (no incremental
    update), and pivot s is drawn by inverse CDF: the first s whose cumulative residual exceeds u * sum, with
    u = rng.random()."""
    taken = []
    for _ in range(m):
        if taken:
            KS = K[:, taken]
            resid = np.diag(K) - np.einsum("ij,ji->i", KS, np.linalg.solve(K[np.ix_(taken, taken)], KS.T))
        else:
            resid = np.diag(K).copy()
        resid[taken] = 0.0
        weights = np.clip(resid, 0.0, None)
        cumulative = np.cumsum(weights)
        taken.append(int(np.searchsorted(cumulative, rng.random() * cumulative[-1], side="right")))
    return taken


@pytest.mark.parametrize("seed", range(4))
def test_rpcholesky_pivots_are_those_of_the_definition(seed):
    """The incremental factor update (g = k(X, x_s) - G G_s^T, r -= g^2 / g_s) must give the pivots the definition
    gives. Oracle: the Schur-complement implementation above with the same random stream; 12 pivots of 200
    points where K_SS stays well conditioned (RBF, bandwidth 1, points in 3-D), so both residuals agree to
    ~1e-12 and a draw could differ only if u * sum fell within that of a cumulative boundary."""
    X = np.random.default_rng(100 + seed).normal(size=(200, 3))
    got = rpcholesky_landmarks(RBF, X, 12, np.random.default_rng(seed)).tolist()
    assert got == _rpcholesky_by_schur_complements(RBF(X), 12, np.random.default_rng(seed))


def test_bad_rule_is_refused():
    with pytest.raises(InputError, match="rule"):
        nystrom_features(RBF, np.zeros((5, 2)), 2, rule="leverage")


def test_estimator_uses_the_rule():
    X = np.random.default_rng(0).normal(size=(60, 3))
    groups = np.repeat(np.arange(20), 3)
    for rule in ("uniform", "rpcholesky"):
        model = kt.KernelSSL("contrastive", dim=3, bandwidth=1.0, n_landmarks=15, landmark_rule=rule).fit(X, groups)
        assert model.transform(X).shape == (60, 3)
    assert kt.KernelSSL().landmark_rule == "rpcholesky"


def test_rpcholesky_draws_its_first_pivot_with_probability_proportional_to_the_diagonal():
    """The rule's sampling law (Chen, Epperly, Tropp, Webber 2022): the first pivot is s with probability
    k(x_s, x_s) / tr K. Oracle: that law, by a chi-square test on 4,000 first pivots (fixed seeds, so the run is
    deterministic). Linear kernel on orthogonal points with squared norms 1, 2, 3, 4, 10: expected frequencies
    200 to 2,000; the statistic is compared with the 1e-6 quantile of chi-square with 4 degrees of freedom
    (33.4), which a uniform draw (statistic ~ 4,000) or a draw proportional to the norm exceeds by far."""
    sq_norms = np.array([1.0, 2.0, 3.0, 4.0, 10.0])
    X = np.diag(np.sqrt(sq_norms))
    draws = 4000
    counts = np.bincount(
        [int(rpcholesky_landmarks(kt.kernels.linear, X, 1, np.random.default_rng(seed))[0]) for seed in range(draws)],
        minlength=5,
    )
    expected = draws * sq_norms / sq_norms.sum()
    statistic = float(np.sum((counts - expected) ** 2 / expected))
    assert statistic < 33.4, (counts, expected)
