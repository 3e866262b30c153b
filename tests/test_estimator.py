"""The KernelSSL estimator (kssl_theory.kernel_regime.estimator) and the alignment / decorrelation metrics
(kssl_theory.kernel_regime.metrics), docs/theory.md §3–§4."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.base import clone
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import StandardScaler

import kssl_theory as kt
from kssl_theory.backend import to_numpy as to_np
from kssl_theory.errors import InputError


def _views(n=6, m=3, seed=0, noise=0.2):
    rng = np.random.default_rng(seed)
    base = rng.normal(size=(n, 3))
    X = np.repeat(base, m, axis=0) + noise * rng.normal(size=(n * m, 3))
    return X, np.repeat(np.arange(n), m)


def _projector(Z):
    Q, R = np.linalg.qr(Z)
    keep = np.abs(np.diag(R)) > 1e-10 * max(1.0, np.abs(R).max())
    Q = Q[:, keep]
    return Q @ Q.T


@pytest.mark.parametrize(
    "objective,params",
    [
        ("contrastive", {}),
        ("vicreg", {"beta": 0.3}),
        ("laplacian_eigenmaps", {}),
        ("whitened", {}),
        ("contrastive", {"reg": 0.1}),
    ],
)
def test_transform_of_training_views_is_the_embedding(objective, params, xp):
    X, groups = _views()
    model = kt.KernelSSL(objective, dim=4, bandwidth=1.0, **params).fit(xp.asarray(X), groups)
    Z = to_np(model.transform(xp.asarray(X)))
    # Oracle: the solver on the same K and A, independently built. Embeddings agree up to a
    # rotation (docs/theory.md §3), so compare Gram matrices (or projectors when the rank is < d).
    K = kt.kernels.rbf(X, bandwidth=1.0)
    sol = kt.solve(objective, K, kt.graphs.adjacency(groups), 4, **params)
    Zs = np.asarray(sol.embedding)
    # K applies K^{-1} round-off amplified by cond(K) ~ 1e3 here: 1e-8 absolute is generous.
    np.testing.assert_allclose(Z @ Z.T, Zs @ Zs.T, atol=1e-8)
    assert type(model.transform(xp.asarray(X[:2]))) is type(xp.asarray(X[:2]))


def test_induced_kernel_matches_solution_cross_blocks():
    X, groups = _views(seed=1)
    X_new = X[:5] + 0.05
    model = kt.KernelSSL("contrastive", dim=6, bandwidth=1.0).fit(X, groups)
    K_new = kt.kernels.rbf(X_new, X, bandwidth=1.0)
    np.testing.assert_allclose(model.induced_kernel(X_new), model.solution_.induced_kernel(K_new), atol=1e-12)
    np.testing.assert_allclose(
        model.induced_kernel(X_new, X),
        model.solution_.induced_kernel(K_new, kt.kernels.rbf(X, X, bandwidth=1.0)),
        atol=1e-12,
    )


def test_clone_and_pipeline():
    X, groups = _views()
    model = kt.KernelSSL("vicreg", dim=3, beta=0.5, bandwidth=2.0)
    twin = clone(model)
    assert twin.get_params() == model.get_params() and twin is not model
    pipe = Pipeline([("scale", StandardScaler()), ("ssl", kt.KernelSSL(dim=3))]).fit(X, groups)
    out = pipe.transform(X)
    assert out.shape == (X.shape[0], 3) and np.all(np.isfinite(out))


def test_median_bandwidth_is_frozen_at_fit():
    X, groups = _views()
    model = kt.KernelSSL(dim=3).fit(X, groups)
    assert model.bandwidth_ == pytest.approx(kt.kernels.median_bandwidth(X))
    # transform must use the training bandwidth, not the median of the new points
    X_far = 10 * X[:4]
    expected = kt.kernels.rbf(X_far, X, bandwidth=model.bandwidth_) @ model.solution_.coef
    np.testing.assert_allclose(model.transform(X_far), expected, atol=1e-12)


def test_estimator_errors():
    X, groups = _views()
    with pytest.raises(InputError, match="group labels"):
        kt.KernelSSL().fit(X)
    with pytest.raises(InputError, match="not fitted"):
        kt.KernelSSL().transform(X)
    with pytest.raises(InputError, match="does not apply to objective 'contrastive'"):
        kt.KernelSSL("contrastive", beta=0.3).fit(X, groups)
    with pytest.raises(InputError, match="X has 2 features, but KernelSSL is expecting 3 features as input"):
        kt.KernelSSL(dim=2).fit(X, groups).transform(X[:, :2])
    with pytest.raises(InputError, match="bandwidth applies to rbf/laplace"):
        kt.KernelSSL(kernel="linear", bandwidth=1.0).fit(X, groups)
    with pytest.raises(InputError, match="groups has 5 labels"):
        kt.KernelSSL().fit(X, groups=groups[:5])
    with pytest.raises(InputError, match="^y has 5 labels"):  # positional labels are fit's y
        kt.KernelSSL().fit(X, groups[:5])


# --- metrics ----------------------------------------------------------------------------------


def _loop_metrics(G, groups):
    """Plain-loop oracle for alignment and decorrelation."""
    n = len(groups)
    within, between = [], []
    for i in range(n):
        for j in range(n):
            ni, nj = np.sqrt(G[i, i]), np.sqrt(G[j, j])
            cos = 0.0 if ni == 0 or nj == 0 else G[i, j] / (ni * nj)
            if groups[i] == groups[j] and i != j:
                within.append(cos)
            elif groups[i] != groups[j]:
                between.append(abs(cos))
    return np.mean(within), np.mean(between)


@settings(max_examples=30)
@given(n=st.integers(2, 6), m=st.integers(2, 4), d=st.integers(1, 6), seed=st.integers(0, 10**6))
def test_metrics_match_loop_oracle(n, m, d, seed):
    rng = np.random.default_rng(seed)
    F = rng.normal(size=(n * m, d))
    G = F @ F.T
    groups = np.repeat(np.arange(n), m)
    a, b = _loop_metrics(G, groups)
    assert kt.alignment(G, groups) == pytest.approx(a, abs=1e-12)
    assert kt.decorrelation(G, groups) == pytest.approx(b, abs=1e-12)


def test_metrics_on_the_ideal_gram_and_errors(xp):
    groups = np.repeat(np.arange(3), 2)
    A = kt.graphs.adjacency(groups, like=xp.asarray(np.zeros(1)))
    assert kt.alignment(A, groups) == 1.0
    assert kt.decorrelation(A, groups) == 0.0
    with pytest.raises(InputError, match="no within-group pairs"):
        kt.alignment(np.eye(3), [0, 1, 2])
    with pytest.raises(InputError, match="no between-group pairs"):
        kt.decorrelation(np.ones((3, 3)), [0, 0, 0])


def test_ridge_is_added_to_the_training_gram_only():
    X, groups = _views()
    model = kt.KernelSSL("contrastive", dim=4, bandwidth=1.0, ridge=0.5).fit(X, groups)
    K = kt.kernels.rbf(X, bandwidth=1.0) + 0.5 * np.eye(X.shape[0])
    sol = kt.solve("contrastive", K, kt.graphs.adjacency(groups), 4)
    np.testing.assert_allclose(model.solution_.coef, sol.coef, atol=1e-12)
    # out of sample the cross block is the plain kernel
    np.testing.assert_allclose(
        model.transform(X[:3] + 1.0), kt.kernels.rbf(X[:3] + 1.0, X, bandwidth=1.0) @ sol.coef, atol=1e-12
    )
    with pytest.raises(InputError, match="ridge must be >= 0"):
        kt.KernelSSL(ridge=-1.0).fit(X, groups)
