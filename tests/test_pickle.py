"""Everything a user keeps round-trips through pickle and joblib (saving, caching, Dask workers).

Oracle: the object before the round trip. A restored ``Solution`` or fitted ``KernelSSL`` must give
*equal* results (same arrays, bit for bit) for every method a user calls afterwards, including the
ones that use internal state (``alternative`` re-uses the stored eigenvectors; ``transform`` the
stored kernel and training points).
"""

from __future__ import annotations

import io
import pickle
import warnings

import array_api_strict as xs
import joblib
import numpy as np
import pytest

import kssl_theory as kt
from kssl_theory.graphs import RelationGraph

GROUPS = np.repeat(np.arange(4), 3)
N = GROUPS.size


def _points(seed=0):
    return np.random.default_rng(seed).standard_normal((N, 2))


def _host(x):
    return np.asarray(kt.backend.to_numpy(x))


def _round_trip(obj, how):
    if how == "pickle":
        return pickle.loads(pickle.dumps(obj))
    buffer = io.BytesIO()
    joblib.dump(obj, buffer)
    buffer.seek(0)
    return joblib.load(buffer)


def _same(a, b):
    np.testing.assert_array_equal(_host(a), _host(b))


CASES = [
    ("contrastive", {}, "dense"),
    ("contrastive", {}, "structured"),
    ("contrastive", {"reg": 0.1}, "dense"),
    ("vicreg", {"centred": True}, "dense"),
    ("laplacian_eigenmaps", {}, "structured"),
    ("laplacian_eigenmaps", {"normalized": True}, "dense"),
    ("whitened", {"laplacian": True}, "dense"),
]


@pytest.mark.parametrize("how", ["pickle", "joblib"])
@pytest.mark.parametrize("objective,opts,method", CASES)
def test_solution_round_trip(objective, opts, method, how):
    X = _points()
    K = kt.kernels.rbf(X, bandwidth=1.0)
    sol = kt.solve(objective, K, kt.graphs.adjacency(GROUPS), 2, method=method, **opts)
    _ = sol.gram  # cached on first use: the cache must travel too, or be rebuilt equal
    back = _round_trip(sol, how)
    assert back.objective is kt.get_objective(objective)  # registered objectives come back as themselves
    assert back.options == sol.options and back.method == sol.method and back.is_unique == sol.is_unique
    for name in ("embedding", "coef", "eigenvalues", "gram"):
        _same(getattr(back, name), getattr(sol, name))
    assert float(back.loss) == float(sol.loss)
    K_new = kt.kernels.rbf(_points(1)[:3], X, bandwidth=1.0)
    _same(back.transform(K_new), sol.transform(K_new))
    _same(back.induced_kernel(K_new), sol.induced_kernel(K_new))


@pytest.mark.parametrize("method", ["dense", "structured"])
def test_alternative_after_a_round_trip(method):
    """A tie (four equal cliques, K = I): the restored solution rotates inside the tie exactly as the
    original does (same seed, same stored eigenvectors)."""
    sol = kt.solve("contrastive", np.eye(N), kt.graphs.adjacency(GROUPS), 2, method=method)
    assert not sol.is_unique
    back = _round_trip(sol, "pickle")
    _same(back.alternative(5).embedding, sol.alternative(5).embedding)


@pytest.mark.parametrize("how", ["pickle", "joblib"])
@pytest.mark.parametrize("landmarks", [None, 6])
def test_fitted_estimator_round_trip(landmarks, how):
    X = _points()
    est = kt.KernelSSL(dim=2, n_landmarks=landmarks).fit(X, GROUPS)
    X_new = _points(2)[:4]
    before = est.transform(X_new)
    est.induced_kernel(X_new)
    back = _round_trip(est, how)
    _same(back.transform(X_new), before)
    _same(back.induced_kernel(X_new), est.induced_kernel(X_new))
    assert back.get_params() == est.get_params()


def test_unfitted_estimator_raises_sklearns_error():
    from sklearn.exceptions import NotFittedError

    with pytest.raises(NotFittedError, match="not fitted"):
        kt.KernelSSL().transform(_points())
    with pytest.raises(kt.InputError):  # also the package's own input error
        kt.KernelSSL().transform(_points())


def test_relation_graph_round_trip():
    for rel in (RelationGraph.from_groups(GROUPS), RelationGraph(kt.graphs.adjacency(GROUPS) * 0.5)):
        back = _round_trip(rel, "pickle")
        _same(back.A, rel.A)
        _same(back.laplacian, rel.laplacian)
        assert (back.cliques is None) == (rel.cliques is None)


def test_array_api_strict_solution_round_trip():
    K = xs.asarray(kt.kernels.rbf(_points(), bandwidth=1.0))
    A = xs.asarray(kt.graphs.adjacency(GROUPS))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", kt.IllConditionedWarning)
        sol = kt.solve("contrastive", K, A, 2, method="dense", reg=0.1)
    back = _round_trip(sol, "pickle")
    assert kt.backend.namespace(back.embedding) is kt.backend.namespace(sol.embedding)
    _same(back.embedding, sol.embedding)
    _same(back.transform(K[:3, ...]), sol.transform(K[:3, ...]))


def test_claim_results_round_trip():
    """Claim verdicts are what a verification run produces; they travel between Dask workers and are cached."""
    from proofs_check.engine import run_claims
    from proofs_check.registry import get_claim

    (result,) = run_claims([get_claim("KR-O1-min")], max_examples=3)
    back = _round_trip(result, "pickle")
    assert back == result and back.as_dict() == result.as_dict()


def test_an_unregistered_objective_pickles_field_by_field():
    """Objective.__reduce__: a registered objective pickles by name; any other pickles field by field, which
    works when its generated functions are module-level (here O3's variants under another name)."""
    import dataclasses

    o3 = kt.get_objective("laplacian_eigenmaps")
    custom = dataclasses.replace(o3, name="custom_eigenmaps", aliases=())
    back = pickle.loads(pickle.dumps(custom))
    assert back == custom and back is not custom and back.name == "custom_eigenmaps"
    assert back.variants[0].functions["loss"] is o3.variants[0].functions["loss"]
