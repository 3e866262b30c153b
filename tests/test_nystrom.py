"""Nyström path: exact when the landmarks span the data, consistent with the dense solver on
the approximate kernel otherwise (docs/theory.md §3 formulas under K~ = F F^T)."""

from __future__ import annotations

import numpy as np
import pytest

import kssl_theory as kt
from kssl_theory.errors import InputError
from kssl_theory.graphs import RelationGraph
from kssl_theory.kernel_regime.nystrom import nystrom_features, solve_nystrom

CASES = [
    ("contrastive", {}),
    ("contrastive", {"reg": 0.1}),
    ("vicreg", {"beta": 0.4}),
    ("vicreg", {"beta": 0.2, "reg": 0.05}),
    ("laplacian_eigenmaps", {}),
    ("whitened", {}),
    ("whitened", {"laplacian": True}),
]


def _data(n=40, m=3, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n * m, 3))
    return X, np.repeat(np.arange(n), m)


@pytest.mark.parametrize("name,opts", CASES)
@pytest.mark.parametrize("lazy_graph", [True, False])
@pytest.mark.parametrize("self_loops", [True, False])
def test_matches_dense_solver_on_the_nystrom_kernel(name, opts, lazy_graph, self_loops):
    X, groups = _data()
    kernel = kt.kernels.get_kernel("rbf", bandwidth=1.0)
    feats = nystrom_features(kernel, X, 30, seed=1)
    F = feats.features
    Kt = F @ F.T  # rank-30 kernel: the dense solver takes its pseudo-inverse path
    A = kt.graphs.adjacency(groups, self_loops=self_loops)
    rel = RelationGraph.from_groups(groups, self_loops=self_loops) if lazy_graph else RelationGraph(A)
    ns = solve_nystrom(name, feats, rel, 8, **opts)
    ref = kt.solve(name, Kt, A, 8, method="dense", kernel_rtol=1e-9, **opts)
    scale = max(1.0, abs(float(ref.loss)))
    # Both run O(N^3) eigensolvers on matrices with entries O(m); K~ has a retained condition number
    # ~1e6 under the cut-off, so 1e-7 relative is what double precision guarantees here.
    assert ns.loss == pytest.approx(float(ref.loss), abs=1e-7 * scale)
    if ref.is_unique and ns.is_unique:
        np.testing.assert_allclose(ns.embedding @ ns.embedding.T, ref.gram, atol=1e-6 * scale)
    # The loss is attained by the returned embedding (definition-based oracle).
    coef = np.linalg.lstsq(Kt, ns.embedding, rcond=None)[0]
    assert float(kt.loss(name, ns.embedding, A, K=Kt, coef=coef, **opts)) == pytest.approx(ns.loss, abs=1e-6 * scale)
    # transform of the training views reproduces the embedding
    np.testing.assert_allclose(ns.transform(X), ns.embedding, atol=1e-8 * max(1.0, np.abs(ns.embedding).max()))


def test_all_points_as_landmarks_is_exact_and_error_is_zero():
    X, groups = _data(n=10, m=2)
    kernel = kt.kernels.get_kernel("rbf", bandwidth=1.5)
    feats = nystrom_features(kernel, X, X.shape[0])
    assert feats.relative_trace_error == pytest.approx(0.0, abs=1e-10)
    ns = solve_nystrom("contrastive", feats, RelationGraph.from_groups(groups), 12, reg=0.1)
    ref = kt.solve("contrastive", kernel(X), kt.graphs.adjacency(groups), 12, reg=0.1)
    assert ns.loss == pytest.approx(float(ref.loss), rel=1e-8)


def test_trace_error_decreases_with_landmarks():
    X, _ = _data(n=60)
    kernel = kt.kernels.get_kernel("rbf", bandwidth=1.0)
    errors = [nystrom_features(kernel, X, m, seed=0).relative_trace_error for m in (10, 40, 160)]
    # Oracle: the trace error computed from the dense K.
    K = kernel(X)
    F = nystrom_features(kernel, X, 40, seed=0).features
    assert errors[1] == pytest.approx(np.trace(K - F @ F.T) / np.trace(K), rel=1e-9)
    assert errors[0] > errors[1] > errors[2] >= 0


def test_rejects_unsupported_variants_and_bad_sizes():
    X, groups = _data(n=5)
    kernel = kt.kernels.get_kernel("rbf", bandwidth=1.0)
    feats = nystrom_features(kernel, X, 5)
    with pytest.raises(InputError, match="not available with Nystrom"):
        solve_nystrom("laplacian_eigenmaps", feats, RelationGraph.from_groups(groups), 2, normalized=True)
    with pytest.raises(InputError, match="n_landmarks must be an integer in \\[1, 15\\]"):
        nystrom_features(kernel, X, 16)
    with pytest.raises(InputError, match="relation graph has 4 views"):
        solve_nystrom("contrastive", feats, RelationGraph.from_groups([0, 0, 1, 1]), 2)


def test_estimator_with_landmarks():
    X, groups = _data(n=30)
    model = kt.KernelSSL("contrastive", dim=5, bandwidth=1.0, reg=0.1, n_landmarks=40).fit(X, groups)
    assert model.transform(X[:3]).shape == (3, 5)
    assert model.induced_kernel(X[:3]).shape == (3, 3)


def test_a_clique_graph_stays_implicit_on_the_nystrom_path(monkeypatch):
    """From group labels the projection Q^T A Q is formed from group sums (O(Nm)); the N x N relation matrix must
    never be built (mutation run I: reading the graph as dense survived). Oracle: adjacency is never called."""
    import kssl_theory.graphs as graphs

    def refuse(*args, **kwargs):
        raise AssertionError("the dense relation matrix was built")

    monkeypatch.setattr(graphs, "adjacency", refuse)
    X, groups = _data()
    feats = nystrom_features(kt.kernels.get_kernel("rbf", bandwidth=1.0), X, 30, seed=1)
    for self_loops in (True, False):
        solve_nystrom("contrastive", feats, RelationGraph.from_groups(groups, self_loops=self_loops), 4)
