"""Streaming Nyström (:func:`kssl_theory.kernel_regime.streaming.solve_streaming`).

Oracle: the in-memory Nyström solver (:func:`~kssl_theory.kernel_regime.nystrom.solve_nystrom`), which
forms the ``N x m`` features and takes their QR factorisation, on the same landmarks (same seed and
draw). The two solve the same reduced problem in different bases; the streaming path forms
``G = F^T F``, whose condition number is ``kappa(F)^2``, so results agree to about
``m * eps * kappa(F)^2`` relative (computed here from the oracle's F). The optimum is unique
(O1 with reg > 0; O4 and O3 on generic data), so the induced kernels on fresh points must agree.
"""

from __future__ import annotations

import numpy as np
import pytest

import kssl_theory as kt
from kssl_theory.errors import InputError
from kssl_theory.graphs import RelationGraph
from kssl_theory.kernel_regime.nystrom import nystrom_features, solve_nystrom
from kssl_theory.kernel_regime.streaming import solve_streaming

EPS = np.finfo(np.float64).eps


def _data(n_bases=60, views=4, seed=0, shuffle=False):
    rng = np.random.default_rng(seed)
    base = rng.normal(size=(n_bases, 5))
    X = np.repeat(base, views, axis=0) + 0.3 * rng.normal(size=(n_bases * views, 5))
    groups = np.repeat(np.arange(n_bases), views)
    if shuffle:
        p = rng.permutation(groups.size)
        X, groups = X[p], groups[p]
    return X, groups


KERNEL = kt.kernels.get_kernel("rbf", bandwidth=2.0)


@pytest.mark.parametrize(
    "name, opts",
    [("contrastive", {"reg": 0.1}), ("whitened", {}), ("laplacian_eigenmaps", {}), ("vicreg", {"beta": 0.5})],
)
@pytest.mark.parametrize("shuffle", [False, True])
def test_streaming_equals_the_in_memory_nystrom_solver(name, opts, shuffle):
    X, groups = _data(shuffle=shuffle)
    m, d = 40, 5
    feats = nystrom_features(KERNEL, X, m, seed=3)
    oracle = solve_nystrom(name, feats, RelationGraph.from_groups(groups), d, **opts)
    got = solve_streaming(name, KERNEL, X, groups, d, n_landmarks=m, seed=3, block_rows=50, progress=False, **opts)
    np.testing.assert_array_equal(got.landmarks, feats.landmarks)
    s = np.linalg.svd(feats.features, compute_uv=False)
    kappa2 = float((s[0] / s[s > m * EPS * s[0]][-1]) ** 2)
    tol = 100 * m * EPS * kappa2
    assert abs(got.relative_trace_error - feats.relative_trace_error) <= tol
    assert abs(got.loss - oracle.loss) <= tol * (1 + abs(oracle.loss))
    if oracle.is_unique and got.is_unique:
        Xnew, _ = _data(n_bases=10, seed=9)
        k_got, k_ref = got.induced_kernel(Xnew), oracle.induced_kernel(Xnew)
        scale = np.abs(k_ref).max()
        assert np.abs(k_got - k_ref).max() <= tol * scale / oracle.reduced.gap * max(1.0, scale)
    np.testing.assert_allclose(got.transform(X[:7]), got.transform(X)[:7], rtol=0, atol=1e-12 * (1 + abs(got.loss)))


def test_block_size_and_scheduler_do_not_change_the_sums():
    """The same m x m sums in a different order: equal to the rounding of N-term sums (N eps relative)."""
    X, groups = _data()
    ref = solve_streaming("whitened", KERNEL, X, groups, 4, n_landmarks=30, block_rows=10**6, progress=False)
    for kwargs in (
        {"block_rows": 1},
        {"block_rows": 37},
        {"block_rows": 64, "scheduler": "synchronous"},
        {"scheduler": "threads"},
    ):
        got = solve_streaming("whitened", KERNEL, X, groups, 4, n_landmarks=30, progress=False, **kwargs)
        assert abs(got.loss - ref.loss) <= 100 * X.shape[0] * EPS * abs(ref.loss), kwargs
        np.testing.assert_allclose(
            np.asarray(got.reduced.eigenvalues),
            np.asarray(ref.reduced.eigenvalues),
            rtol=0,
            atol=100 * X.shape[0] * EPS * float(np.abs(ref.reduced.eigenvalues).max()),
        )


def test_streaming_rejects_what_it_cannot_do():
    X, groups = _data(n_bases=5)
    with pytest.raises(InputError, match="normalised eigenmaps"):
        solve_streaming("eigenmaps", KERNEL, X, groups, 2, n_landmarks=5, normalized=True, progress=False)
    with pytest.raises(InputError, match="groups has 19 entries but X has 20 rows"):
        solve_streaming("O1", KERNEL, X, groups[:-1], 2, n_landmarks=5, progress=False)
    with pytest.raises(InputError, match="NumPy"):
        import array_api_strict as xs

        solve_streaming("O1", KERNEL, xs.asarray(X), groups, 2, n_landmarks=5, progress=False)
    with pytest.raises(InputError, match="n_landmarks"):
        solve_streaming("O1", KERNEL, X, groups, 2, n_landmarks=0, progress=False)
    flat = np.zeros_like(X)  # every view the same point: the features have rank 1
    with pytest.raises(InputError, match="numerical rank 1"):
        solve_streaming("O1", KERNEL, flat, groups, 2, n_landmarks=5, progress=False)


def test_kernel_ssl_streams_when_asked():
    X, groups = _data()
    model = kt.KernelSSL(
        "contrastive", dim=4, bandwidth=2.0, reg=0.1, n_landmarks=30, landmark_rule="uniform", block_rows=50
    ).fit(X, groups)
    direct = solve_streaming(
        "contrastive", KERNEL, X, groups, 4, n_landmarks=30, block_rows=50, progress=False, reg=0.1
    )
    np.testing.assert_array_equal(model.transform(X[:9]), direct.transform(X[:9]))
    assert model.fit_transform(X, groups=groups).shape == (X.shape[0], 4)
    with pytest.raises(InputError, match="landmark_rule='uniform'"):
        kt.KernelSSL(n_landmarks=30, block_rows=50).fit(X, groups)
    with pytest.raises(InputError, match="set n_landmarks"):
        kt.KernelSSL(scheduler="threads").fit(X, groups)


def test_a_dask_scheduler_address_gives_the_loop_result():
    """``scheduler="tcp://..."``: a client is connected to that scheduler for the call (here a local cluster
    in this process); the sums are the loop's up to summation order (N eps relative)."""
    distributed = pytest.importorskip("distributed")
    X, groups = _data(n_bases=30)
    ref = solve_streaming("whitened", KERNEL, X, groups, 3, n_landmarks=20, block_rows=16, progress=False)
    with distributed.LocalCluster(
        n_workers=1, threads_per_worker=1, processes=False, dashboard_address=":0"
    ) as cluster:
        got = solve_streaming(
            "whitened", KERNEL, X, groups, 3, n_landmarks=20, block_rows=16, scheduler=cluster.scheduler_address
        )
    assert abs(got.loss - ref.loss) <= 100 * X.shape[0] * EPS * abs(ref.loss)


def test_streamed_solution_embeds_and_pairs_points_by_the_documented_formulas():
    """transform(X) = kernel(X, landmarks) @ whitening @ feature_coef, in blocks of any size; induced_kernel(X1, X2)
    = f(X1) f(X2)^T (oracle: the formulas of the class docstring, evaluated here at once); bad X named as X."""
    X, groups = _data(n_bases=20)
    sol = solve_streaming("whitened", KERNEL, X, groups, 3, n_landmarks=15, block_rows=7, progress=False)
    f = KERNEL(X, sol.landmarks) @ sol.whitening @ sol.feature_coef
    np.testing.assert_allclose(sol.transform(X), f, rtol=0, atol=1e-12 * np.abs(f).max())
    np.testing.assert_allclose(
        sol.induced_kernel(X[:5], X[5:9]), f[:5] @ f[5:9].T, rtol=0, atol=1e-12 * np.abs(f).max() ** 2
    )
    np.testing.assert_allclose(sol.induced_kernel(X[:5]), f[:5] @ f[:5].T, rtol=0, atol=1e-12 * np.abs(f).max() ** 2)
    with pytest.raises(InputError, match=r"^X is empty"):
        sol.transform(X[:0])


def test_clique_operator_is_the_adjacency_and_the_laplacian():
    """CliqueOperator against the dense A and L = D - A of kssl_theory.graphs (oracle), on blocks and on 1-D
    vectors, with and without self-loops; float32 in, float32 out (the entries are small integers: exact)."""
    groups = np.array([0, 0, 1, 2, 2, 2, 1, 3])
    rng = np.random.default_rng(0)
    for loops in (True, False):
        rel = RelationGraph.from_groups(groups, self_loops=loops)
        A = kt.graphs.adjacency(groups, self_loops=loops)
        L = np.diag(A.sum(1)) - A
        for M, op in (
            (A, rel.operator()),
            (L, rel.operator(laplacian=True)),
            (np.abs(L), rel.operator(laplacian=True, majorant=True)),
        ):
            assert op.shape == (8, 8)
            X = rng.normal(size=(8, 3))
            np.testing.assert_allclose(op @ X, M @ X, rtol=0, atol=1e-12)
            x = X[:, 1]
            assert (op @ x).shape == (8,)
            np.testing.assert_allclose(op @ x, M @ x, rtol=0, atol=1e-12)
            x32 = x.astype(np.float32)
            assert (op @ x32).dtype == np.float32


def test_the_scheduler_given_is_the_one_that_computes():
    """scheduler= is handed to dask.compute (documented): a scheduler function that records its calls must be
    called, and its result is the loop's (dask's synchronous get does the work)."""
    import dask

    calls = []

    def spy(dsk, keys, **kwargs):
        calls.append(dsk)
        return dask.get(dsk, keys, **kwargs)

    X, groups = _data(n_bases=12)
    ref = solve_streaming("whitened", KERNEL, X, groups, 2, n_landmarks=10, block_rows=8, progress=False)
    got = solve_streaming("whitened", KERNEL, X, groups, 2, n_landmarks=10, block_rows=8, scheduler=spy)
    assert len(calls) == 1  # one compute of the summed blocks
    assert abs(got.loss - ref.loss) <= 100 * X.shape[0] * EPS * abs(ref.loss)
