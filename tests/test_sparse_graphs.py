"""Sparse and implicit relation graphs (issue 15, item 4): a scipy.sparse A is accepted everywhere a dense one
is, gives the same optimum, and nothing N x N is formed for the graph on the Nyström and clique paths.

Oracle: the dense path on ``A.toarray()``, itself checked against docs/theory.md by the solver and claim suites.
Tolerance: the two paths factor the same float64 matrices; only the order of a few sums differs, so losses
and Gram matrices agree to 1e-9 relative (far above 100·N·eps ≈ 1e-12 at N = 30, far below any real error).
"""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp
from conftest import _cupy_available
from sklearn.neighbors import kneighbors_graph

import kssl_theory as kt
from kssl_theory.errors import InputError
from kssl_theory.graphs import RelationGraph

CASES = [
    ("contrastive", {}),
    ("contrastive", {"reg": 0.1}),
    ("vicreg", {"beta": 0.5}),
    ("vicreg", {"centred": True, "c": 2.0}),
    ("laplacian_eigenmaps", {}),
    ("laplacian_eigenmaps", {"normalized": True}),
    ("whitened", {}),
    ("whitened", {"laplacian": True}),
]


def _knn_problem(n=30, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, 2))
    G = kneighbors_graph(X, 4, mode="connectivity")
    A = G.maximum(G.T).tocsr()  # a symmetric 0/1 kNN graph, no self-loops
    return X, kt.kernels.rbf(X, bandwidth=1.0) + 1e-3 * np.eye(n), A


@pytest.mark.parametrize("objective, opts", CASES)
def test_sparse_knn_graph_gives_the_dense_optimum(objective, opts):
    X, K, A = _knn_problem()
    dense = kt.solve(objective, K, A.toarray(), 3, **opts)
    sparse = kt.solve(objective, K, A, 3, **opts)
    assert float(sparse.loss) == pytest.approx(float(dense.loss), rel=1e-9, abs=1e-9)
    np.testing.assert_allclose(sparse.gram, dense.gram, atol=1e-9 * (1 + np.abs(dense.gram).max()))
    via_loss = kt.loss(objective, sparse.embedding, A, K=K, coef=sparse.coef, **opts)
    assert float(via_loss) == pytest.approx(float(dense.loss), rel=1e-8, abs=1e-8)


def test_sparse_clique_graph_takes_the_clique_path():
    groups = np.repeat(np.arange(10), 3)
    X = np.random.default_rng(1).normal(size=(30, 2))
    K = kt.kernels.rbf(X, bandwidth=1.0) + 1e-3 * np.eye(30)
    A = kt.graphs.adjacency(groups, sparse=True)
    assert sp.issparse(A) and A.nnz == 10 * 3 * 3
    np.testing.assert_array_equal(A.toarray(), kt.graphs.adjacency(groups))
    rel = RelationGraph(A)
    structure, self_loop = rel.cliques
    np.testing.assert_array_equal(structure.sizes, np.full(10, 3))
    assert self_loop == 1.0
    sol = kt.solve("contrastive", K, A, 5)
    assert sol.method == "structured"
    assert rel.stored_A is None  # the clique check and the degrees never densified it
    np.testing.assert_allclose(rel.degree, np.full(30, 3.0))
    dense = kt.solve("contrastive", K, kt.graphs.adjacency(groups), 5, method="dense")
    assert float(sol.loss) == pytest.approx(float(dense.loss), rel=1e-9, abs=1e-9)


@pytest.mark.parametrize("self_loops", [True, False])
@pytest.mark.parametrize("normalized", [False, True])
def test_sparse_adjacency_equals_the_dense_one(self_loops, normalized):
    groups = [3, 3, 1, 1, 1, 0, 2, 2]
    A = kt.graphs.adjacency(groups, sparse=True, self_loops=self_loops, normalized=normalized)
    np.testing.assert_allclose(A.toarray(), kt.graphs.adjacency(groups, self_loops=self_loops, normalized=normalized))
    detected = RelationGraph(kt.graphs.adjacency(groups, sparse=True, self_loops=self_loops)).cliques
    assert detected is not None and detected[1] == (1.0 if self_loops else 0.0)


def test_a_sparse_graph_that_is_not_cliques_is_not_detected_as_cliques():
    A = sp.csr_array(np.array([[1, 1, 0], [1, 1, 1], [0, 1, 1.0]]))  # a path, not a union of cliques
    assert RelationGraph(A).cliques is None


def test_dense_adjacency_too_large_for_memory_is_refused_before_allocating():
    with pytest.raises(InputError, match=r"300000 x 300000 relation matrix needs about .* GiB.*sparse=True"):
        kt.graphs.adjacency(np.arange(300_000))
    A = kt.graphs.adjacency(np.arange(300_000), sparse=True)  # one entry per view: trivial
    assert A.shape == (300_000, 300_000) and A.nnz == 300_000


@pytest.mark.parametrize(
    "bad, n, message",
    [
        (sp.csr_array(np.array([[1, 1.0], [0, 1]])), 2, r"^A is not symmetric: max\|M - M\^T\| = 1 exceeds"),
        (sp.csr_array(np.array([[1, np.nan], [np.nan, 1]])), 2, r"^A contains NaN or infinite entries"),
        (sp.csr_array(np.ones((2, 3))), 2, r"^A must be square; got shape \(2, 3\)"),
        (sp.csr_array(np.ones((3, 3))), 4, r"^A must have 4 rows to match the other inputs"),
        (sp.csr_array(np.array([[1j, 0], [0, 1]])), 2, r"^A must be real; got complex"),
    ],
)
def test_bad_sparse_relation_matrices_are_refused_with_what_to_do(bad, n, message):
    with pytest.raises(InputError, match=message):
        kt.solve("contrastive", np.eye(n), bad, 1)


def test_integer_sparse_graph_is_accepted():
    X, K, A = _knn_problem(12)
    dense = kt.solve("contrastive", K, A.toarray(), 2)
    assert float(kt.solve("contrastive", K, A.astype(np.int64), 2).loss) == pytest.approx(float(dense.loss), rel=1e-9)


def test_nystrom_with_a_sparse_graph_equals_the_dense_graph():
    X, K, A = _knn_problem(40)
    features = kt.kernel_regime.nystrom.nystrom_features(kt.kernels.get_kernel("rbf", bandwidth=1.0), X, 15, seed=0)
    from kssl_theory.kernel_regime.nystrom import solve_nystrom

    sparse = solve_nystrom("contrastive", features, RelationGraph(A), 3)
    dense = solve_nystrom("contrastive", features, RelationGraph(A.toarray()), 3)
    assert sparse.loss == pytest.approx(dense.loss, rel=1e-9)
    np.testing.assert_allclose(sparse.embedding @ sparse.embedding.T, dense.embedding @ dense.embedding.T, atol=1e-9)


def test_stored_zeros_are_not_edges_and_the_callers_matrix_is_untouched():
    """Found in review: explicit zeros broke the clique detection (method='structured' refused a union of
    cliques), and validation reordered the caller's CSR indices in place."""
    groups = np.repeat(np.arange(4), 3)
    coo = kt.graphs.adjacency(groups, sparse=True).tocoo()
    with_zeros = sp.coo_array(
        (np.r_[coo.data, 0.0, 0.0], (np.r_[coo.row, 0, 11], np.r_[coo.col, 11, 0])), shape=(12, 12)
    )
    sol = kt.solve("contrastive", np.eye(12), with_zeros, 3, method="structured")
    assert float(sol.loss) == pytest.approx(float(kt.solve("contrastive", np.eye(12), coo.toarray(), 3).loss))
    S = sp.csr_array((np.ones(4), np.array([1, 0, 0, 1]), np.array([0, 2, 4])), shape=(2, 2))
    RelationGraph(S)
    np.testing.assert_array_equal(S.indices, [1, 0, 0, 1])


def test_a_linear_operator_is_not_taken_for_a_sparse_matrix():
    from scipy.sparse.linalg import aslinearoperator

    from kssl_theory.graphs import is_sparse

    assert not is_sparse(aslinearoperator(np.eye(2))) and is_sparse(sp.eye_array(2))
    with pytest.raises(InputError):
        kt.solve("contrastive", np.eye(2), aslinearoperator(np.eye(2)), 1)


def test_sparse_validation_tolerances_and_messages_match_the_dense_contract():
    """check_sparse_relation: symmetry within rtol * max|A| (rtol 1e-8 in float64, 1e-4 in float32, as for dense
    matrices), the exact messages, empty and all-zero matrices, and the dtypes it converts or refuses."""
    from kssl_theory.graphs import check_sparse_relation

    base = np.array([[100.0, 1.0], [1.0, 100.0]])
    slightly = base + np.array([[0.0, 1e-7], [0.0, 0.0]])  # asymmetry 1e-7 <= 1e-8 * 100: accepted
    check_sparse_relation("A", sp.csr_array(slightly))
    off = base + np.array([[0.0, 1e-3], [0.0, 0.0]])  # 1e-3 > 1e-6 in float64, < 1e-2 in float32
    with pytest.raises(
        InputError,
        match=r"^A is not symmetric: max\|M - M\^T\| = 0\.001 exceeds 1e-08 x max\|M\| = 1e-06; pass a symmetric "
        r"matrix \(e\.g\. \(M \+ M\.T\) / 2, or M\.maximum\(M\.T\) for a kNN graph\)\.$",
    ):
        check_sparse_relation("A", sp.csr_array(off))
    assert check_sparse_relation("A", sp.csr_array(off.astype(np.float32))).dtype == np.float32
    far = (base + np.array([[0.0, 0.1], [0.0, 0.0]])).astype(np.float32)  # 0.1 > 1e-4 * 100 in float32
    with pytest.raises(InputError, match=r"^A is not symmetric: max\|M - M\^T\| = 0\.1 exceeds 0\.0001 x max"):
        check_sparse_relation("A", sp.csr_array(far))
    assert check_sparse_relation("A", sp.csr_array(np.ones((1, 1)))).shape == (1, 1)  # 1 x 1 is not empty
    with pytest.raises(InputError, match=r"^A is empty \(shape \(0, 3\)\)\.$"):
        check_sparse_relation("A", sp.csr_array((0, 3)))
    assert check_sparse_relation("A", sp.csr_array((3, 3))).nnz == 0  # all zeros: symmetric
    assert check_sparse_relation("A", sp.csr_array(np.eye(2, dtype=bool))).dtype == np.float64
    with pytest.raises(InputError, match=r"^A is empty \(shape \(0, 0\)\)\.$"):
        check_sparse_relation("A", sp.csr_array((0, 0)))
    wide = np.dtype(np.longdouble)  # stored by scipy.sparse, not computed with: refused
    with pytest.raises(InputError, match=rf"^A must be a real numeric sparse matrix; got dtype {wide}\.$"):
        check_sparse_relation("A", sp.csr_array(np.eye(2, dtype=wide)))


def test_a_sparse_graph_with_a_library_without_sparse_arrays_is_refused_with_what_to_do():
    import array_api_strict as xs

    _, K, A = _knn_problem()
    with pytest.raises(InputError, match=r"needs NumPy or CuPy K .* pass a dense A in K's array library"):
        kt.solve("contrastive", xs.asarray(K), A, 3)


@pytest.mark.parametrize("objective, opts", CASES)
@pytest.mark.parametrize("graph", ["knn", "cliques"])
@pytest.mark.gpu
@pytest.mark.skipif(not _cupy_available(), reason="CuPy with a CUDA device is not available")
def test_a_sparse_graph_on_cupy_gives_the_numpy_optimum_and_copies_only_its_csr_arrays(objective, opts, graph):
    """With CuPy K the sparse graph is built dense on the device from its CSR arrays: the optimum equals NumPy's
    with the same sparse graph (loss to 1e-9 relative as above, the loss definition at the returned Z and C, and
    the Gram matrix where the optimum is unique), and the only host-to-device copies
    of more than N elements are the CSR arrays (nnz entries each); nothing with more than N elements comes back."""
    import array_api_compat.cupy as xc

    import kssl_theory.backend as B

    X, K, A = _knn_problem(n=40)
    if graph == "cliques":
        A = sp.csr_array(kt.graphs.adjacency(np.repeat(np.arange(10), 4)))
    ref = kt.solve(objective, K, A, 3, **opts)
    log = []
    real_asarray, real_to_numpy = xc.asarray, B.to_numpy

    def asarray(obj, *args, **kwargs):
        if isinstance(obj, np.ndarray):
            log.append(("to device", obj.size))
        return real_asarray(obj, *args, **kwargs)

    def to_numpy(x):
        out = real_to_numpy(x)
        log.append(("to host", out.size))
        return out

    Kd = xc.asarray(K)
    with pytest.MonkeyPatch.context() as m:
        m.setattr(xc, "asarray", asarray)
        m.setattr(B, "to_numpy", to_numpy)
        sol = kt.solve(objective, Kd, A, 3, **opts)
        outputs = sol.gram, sol.embedding, sol.coef  # lazy outputs are part of the solve
    gram, Z, C = (B.to_numpy(x) for x in outputs)  # the test's own copies, outside the spy
    n = K.shape[0]
    assert all(size <= n for way, size in log if way == "to host"), log
    csr_sizes = [A.nnz, A.nnz, n + 1]  # data, indices, indptr
    assert sorted(size for way, size in log if way == "to device" and size > n) == sorted(
        size for size in csr_sizes if size > n
    ), log
    assert float(sol.loss) == pytest.approx(float(ref.loss), rel=1e-9, abs=1e-9)
    # the loss definition at the returned representation attains the minimum (whether or not it is unique)
    assert float(kt.loss(objective, Z, A, K=K, coef=C, **opts)) == pytest.approx(float(ref.loss), rel=1e-8, abs=1e-8)
    assert sol.is_unique == ref.is_unique
    if ref.is_unique:  # on cliques most optima are not (tied eigenvalues): then only the loss is determined
        np.testing.assert_allclose(gram, ref.gram, atol=1e-9 * (1 + np.abs(ref.gram).max()))
