"""Relation graphs (docs/theory.md §1): adjacency, degree, Laplacian and their normalisations.

Oracles: the plain-NumPy builders of :mod:`proofs_check.instances` / :mod:`proofs_check.oracles`
and analytic clique spectra.
Tolerances: eigenvalues of an N x N symmetric matrix computed by LAPACK are within
``c * N * eps * ||M||`` of the exact ones (backward stability + Weyl); we use ``10 * N * eps * ||M||``.
Entry-wise constructions (A, D, L) involve no rounding beyond one division/sqrt, so they are
compared to ``10 * eps`` relative.
"""

from __future__ import annotations

import numpy as np
import pytest
from conftest import to_np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from strategies import EPS, clique_adjacency, group_vectors

import kssl_theory as kt
from kssl_theory.errors import InputError
from proofs_check.oracles import laplacian

G = kt.graphs
FIXTURE_OK = settings(suppress_health_check=[HealthCheck.function_scoped_fixture], max_examples=10)


def eig_tol(M):
    """Eigenvalue tolerance for a symmetric N x N matrix (backward error of LAPACK + Weyl)."""
    return 10 * M.shape[0] * EPS * max(np.linalg.norm(M, 2), 1.0)


def _sizes(groups):
    _, first, counts = np.unique(groups, return_index=True, return_counts=True)
    return counts[np.argsort(first)]


@settings(max_examples=30)
@given(groups=group_vectors(), loops=st.booleans())
def test_adjacency_matches_definition(groups, loops):
    A = to_np(G.adjacency(groups, self_loops=loops))
    assert A.dtype == np.float64
    np.testing.assert_array_equal(A, clique_adjacency(groups, self_loops=loops))
    np.testing.assert_array_equal(np.diag(A), np.full(groups.size, 1.0 if loops else 0.0))


@settings(max_examples=30)
@given(m=st.integers(1, 6), n=st.integers(1, 5))
def test_clique_spectrum_sorted_balanced(m, n):
    """THEORY §1: A = I_n (x) 1_m 1_m^T has eigenvalue m (multiplicity n, on group indicators) and 0;
    L = mI - A has 0 on indicators and m on within-group zero-sum vectors."""
    groups = np.repeat(np.arange(n), m)
    N = n * m
    A = to_np(G.adjacency(groups))
    np.testing.assert_array_equal(A, np.kron(np.eye(n), np.ones((m, m))))
    w = np.linalg.eigvalsh(A)
    expected = np.sort(np.r_[np.full(n, float(m)), np.zeros(N - n)])
    assert np.max(np.abs(w - expected)) <= eig_tol(A)
    E = to_np(G.indicators(groups))
    np.testing.assert_array_equal(A @ E, m * E)  # exact: integer arithmetic
    L = to_np(G.laplacian(A))
    np.testing.assert_array_equal(L, m * np.eye(N) - A)
    np.testing.assert_array_equal(L @ E, np.zeros_like(E))
    # within-group zero-sum vectors: e_i - e_j for i, j in one group
    for g in range(n):
        if m >= 2:
            v = np.zeros(N)
            v[g * m], v[g * m + 1] = 1.0, -1.0
            np.testing.assert_array_equal(L @ v, m * v)
    wl = np.linalg.eigvalsh(L)
    expected_l = np.sort(np.r_[np.zeros(n), np.full(N - n, float(m))])
    assert np.max(np.abs(wl - expected_l)) <= eig_tol(L)


@settings(max_examples=30)
@given(groups=group_vectors(balanced=False))
def test_clique_spectrum_unbalanced(groups):
    """Union of cliques of sizes m_g: eigenvalues m_g on indicators, 0 elsewhere; L: 0 and m_g (x m_g - 1)."""
    A = to_np(G.adjacency(groups))
    sizes = _sizes(groups)
    N = groups.size
    w = np.linalg.eigvalsh(A)
    expected = np.sort(np.r_[sizes.astype(float), np.zeros(N - sizes.size)])
    assert np.max(np.abs(w - expected)) <= eig_tol(A)
    wl = np.linalg.eigvalsh(to_np(G.laplacian(A)))
    expected_l = np.sort(np.r_[np.zeros(sizes.size), np.repeat(sizes.astype(float), sizes - 1)])
    assert np.max(np.abs(wl - expected_l)) <= eig_tol(A)


def _weights(N, seed):
    rng = np.random.default_rng(seed)
    W = rng.uniform(0.1, 2.0, size=(N, N))
    return (W + W.T) / 2


@settings(max_examples=30)
@given(groups=group_vectors(), loops=st.booleans(), weighted=st.booleans(), seed=st.integers(0, 2**31))
def test_laplacian_kills_constants_and_is_psd(groups, loops, weighted, seed):
    N = groups.size
    W = _weights(N, seed) if weighted else None
    A = to_np(G.adjacency(groups, self_loops=loops, weights=W))
    L = to_np(G.laplacian(A))
    np.testing.assert_allclose(L, laplacian(A), rtol=0, atol=10 * EPS * max(1.0, np.abs(A).sum(1).max()))
    # L 1 = 0 up to the rounding of a row sum
    assert np.max(np.abs(L @ np.ones(N))) <= 10 * N * EPS * max(1.0, np.abs(A).sum(1).max())
    assert np.linalg.eigvalsh(L)[0] >= -eig_tol(L)
    # self-loops cancel in D - A
    L_other = to_np(G.laplacian(to_np(G.adjacency(groups, self_loops=not loops, weights=W))))
    np.testing.assert_allclose(L, L_other, rtol=0, atol=10 * EPS * max(1.0, np.abs(A).sum(1).max()))
    np.testing.assert_allclose(to_np(G.degree(A)), A.sum(1), rtol=10 * EPS)


@settings(max_examples=30)
@given(groups=group_vectors(), loops=st.booleans(), weighted=st.booleans(), seed=st.integers(0, 2**31))
def test_weights_and_normalisation(groups, loops, weighted, seed):
    N = groups.size
    W = _weights(N, seed) if weighted else np.ones((N, N))
    A = to_np(G.adjacency(groups, self_loops=loops, weights=W if weighted else None))
    np.testing.assert_array_equal(A, W * clique_adjacency(groups, self_loops=loops))
    deg = A.sum(1)
    s = np.where(deg > 0, 1 / np.sqrt(np.where(deg > 0, deg, 1.0)), 0.0)
    An = s[:, None] * A * s[None, :]
    tol = 10 * EPS * max(1.0, np.abs(An).max())
    np.testing.assert_allclose(to_np(G.normalize_adjacency(A)), An, rtol=0, atol=tol)
    np.testing.assert_allclose(
        to_np(G.adjacency(groups, self_loops=loops, weights=W if weighted else None, normalized=True)),
        An,
        rtol=0,
        atol=tol,
    )
    Ln = to_np(G.laplacian(A, normalized=True))
    np.testing.assert_allclose(Ln, np.eye(N) - An, rtol=0, atol=tol)
    # spectrum of the normalised Laplacian lies in [0, 2]
    w = np.linalg.eigvalsh(Ln)
    assert w[0] >= -eig_tol(Ln) and w[-1] <= 2 + eig_tol(Ln)
    # D^{1/2} 1 is in the kernel of the normalised Laplacian (for views of positive degree)
    v = np.sqrt(deg)
    assert np.max(np.abs(Ln @ v)) <= 10 * N * EPS * max(1.0, v.max())


@settings(max_examples=20)
@given(m=st.integers(1, 6), n=st.integers(1, 5))
def test_normalised_clique_spectrum(m, n):
    """With self-loops the normalised clique adjacency is blockdiag(11^T/m): eigenvalues 1 (x n) and 0."""
    groups = np.repeat(np.arange(n), m)
    An = to_np(G.adjacency(groups, normalized=True))
    np.testing.assert_allclose(An, np.kron(np.eye(n), np.ones((m, m)) / m), rtol=0, atol=4 * EPS)
    w = np.linalg.eigvalsh(An)
    expected = np.sort(np.r_[np.ones(n), np.zeros(n * m - n)])
    assert np.max(np.abs(w - expected)) <= eig_tol(An)


def test_isolated_views_without_self_loops():
    groups = [0, 1, 1]
    A = to_np(G.adjacency(groups, self_loops=False))
    np.testing.assert_array_equal(A, [[0, 0, 0], [0, 0, 1], [0, 1, 0]])
    An = to_np(G.normalize_adjacency(A))
    np.testing.assert_array_equal(An[0], np.zeros(3))
    Ln = to_np(G.laplacian(A, normalized=True))
    assert Ln[0, 0] == 1.0


@settings(max_examples=30)
@given(groups=group_vectors(shuffle=True))
def test_group_structure_relabels_in_order_of_appearance(groups):
    s = G.group_structure(groups)
    uniq, first = np.unique(groups, return_index=True)
    rank_of = {int(u): r for r, u in enumerate(uniq[np.argsort(first)])}
    expected = np.array([rank_of[int(g)] for g in groups])
    np.testing.assert_array_equal(s.labels, expected)
    np.testing.assert_array_equal(s.sizes, _sizes(groups))
    assert s.n_views == groups.size and s.n_groups == np.unique(groups).size
    assert s.is_balanced == bool(np.all(s.sizes == s.sizes[0]))
    E = to_np(G.indicators(groups))
    np.testing.assert_array_equal(E @ E.T, clique_adjacency(groups))
    np.testing.assert_array_equal(E.sum(0), s.sizes)


@settings(max_examples=20)
@given(groups=group_vectors(shuffle=True), loops=st.booleans(), seed=st.integers(0, 2**31))
def test_relation_graph_detects_cliques(groups, loops, seed):
    A = clique_adjacency(groups, self_loops=loops)
    rel = G.RelationGraph(A)
    cl = rel.cliques
    assert cl is not None
    structure, s = cl
    assert s == (1.0 if loops else 0.0)
    np.testing.assert_array_equal(clique_adjacency(structure.labels, self_loops=loops), A)
    lazy = G.RelationGraph.from_groups(groups, self_loops=loops)
    np.testing.assert_array_equal(to_np(lazy.A), A)
    np.testing.assert_array_equal(to_np(lazy.laplacian), laplacian(A))
    # weights that are not all equal break the clique structure
    N = groups.size
    if np.any(clique_adjacency(groups, self_loops=True) - np.eye(N)):
        W = _weights(N, seed) * clique_adjacency(groups, self_loops=loops)
        assert G.RelationGraph(W).cliques is None


@pytest.mark.parametrize(
    ("groups", "match"),
    [
        ([0, 1.5, 1], "non-integer"),
        ([0, -1, 1], "non-negative"),
        ([], "empty"),
        ([[0, 1], [1, 0]], "1-D"),
        ([True, False], "integers"),
        ([0.0, np.nan], "non-finite"),
        (["a", "b"], "integers"),
        (None, "None"),
    ],
)
def test_bad_group_labels(groups, match):
    with pytest.raises(InputError, match=match):
        G.adjacency(groups)


@pytest.mark.parametrize(
    ("weights", "match"),
    [
        (np.ones((3, 3)), "rows"),
        (np.ones((4, 5)), "square"),
        (-np.ones((4, 4)), "non-negative"),
        (np.triu(np.ones((4, 4))), "not symmetric"),
        (np.full((4, 4), np.nan), "NaN"),
    ],
)
def test_bad_weights(weights, match):
    with pytest.raises(InputError, match=match):
        G.adjacency([0, 0, 1, 1], weights=weights)


def test_float_labels_with_integral_values_are_accepted():
    np.testing.assert_array_equal(to_np(G.adjacency([0.0, 0.0, 2.0])), clique_adjacency([0, 0, 2]))


def test_input_errors_are_value_errors():
    with pytest.raises(ValueError):
        G.adjacency([0, -3])


@FIXTURE_OK
@given(groups=group_vectors(), loops=st.booleans(), seed=st.integers(0, 2**31))
def test_backends_agree(xp, groups, loops, seed):
    """Every graph function returns the input's namespace and NumPy's values on array-api-strict."""
    N = groups.size
    like = xp.asarray(np.zeros((1, 1)))
    A = G.adjacency(groups, self_loops=loops, like=like)
    assert type(A) is type(like)
    A_np = clique_adjacency(groups, self_loops=loops)
    np.testing.assert_array_equal(to_np(A), A_np)
    W_np = _weights(N, seed)
    Aw = G.adjacency(groups, self_loops=loops, weights=xp.asarray(W_np))
    np.testing.assert_allclose(to_np(Aw), W_np * A_np, rtol=0, atol=0)
    for normalized in (False, True):
        L = G.laplacian(Aw, normalized=normalized)
        assert type(L) is type(like)
        L_np = to_np(G.laplacian(W_np * A_np, normalized=normalized))
        np.testing.assert_allclose(to_np(L), L_np, rtol=0, atol=10 * EPS * max(1.0, np.abs(L_np).max()))
    np.testing.assert_allclose(to_np(G.degree(Aw)), (W_np * A_np).sum(1), rtol=10 * EPS)
    E = G.indicators(groups, like=like)
    np.testing.assert_array_equal(to_np(E) @ to_np(E).T, clique_adjacency(groups))


@pytest.mark.parametrize("library", ["numpy", "strict"])
def test_group_sums_is_the_indicator_product(library):
    """group_sums(structure, X) = E^T X. Oracle: a loop over groups summing the rows with that label (NumPy).
    1,500 groups of 1 to 3 views (N = 3,000) put array-api-strict's indicator-block branch over two blocks."""
    rng = np.random.default_rng(7)
    labels = rng.permutation(np.repeat(np.arange(1500), rng.integers(1, 4, size=1500)))
    X = rng.normal(size=(labels.size, 3))
    structure = kt.graphs.group_structure(labels)
    expected = np.stack([X[structure.labels == g].sum(axis=0) for g in range(structure.n_groups)])
    if library == "strict":
        import array_api_strict as xs

        got = np.asarray(kt.graphs.group_sums(structure, xs.asarray(X)))
        assert 2**22 // labels.size < structure.n_groups  # precondition: more than one block
    else:
        got = kt.graphs.group_sums(structure, X)
    np.testing.assert_allclose(got, expected, rtol=0, atol=1e-12 * np.abs(X).sum())


@pytest.mark.parametrize("dtype", [np.float32, np.int64, np.float16, np.bool_])
def test_group_sums_keeps_every_numpy_dtype(dtype):
    """The sparse-indicator product on NumPy takes float32/float64/int32/int64; float16 and bool go through
    ``reduceat`` on sorted rows. Oracle: the same loop over groups, in the input's dtype; integers and bools
    exactly, floats to the rounding of a 3-term sum in their precision."""
    rng = np.random.default_rng(8)
    labels = rng.permutation(np.repeat(np.arange(200), 3))
    X = (rng.normal(size=(labels.size, 4)) * 4).astype(dtype)
    structure = kt.graphs.group_structure(labels)
    expected = np.stack([X[structure.labels == g].sum(axis=0) for g in range(structure.n_groups)])
    got = kt.graphs.group_sums(structure, X)
    assert got.dtype == expected.dtype
    if np.issubdtype(dtype, np.floating):
        eps = np.finfo(dtype).eps
        np.testing.assert_allclose(got, expected, rtol=0, atol=4 * eps * np.abs(X.astype(np.float64)).max() * 3)
    else:
        np.testing.assert_array_equal(got, expected)


def test_member_ranks_count_each_group_in_index_order():
    """GroupStructure.member_ranks: the position of each view among its group's members, in index order (the
    Helmert vectors of the clique path are built from it). Oracle: a loop counting earlier members. 2,000 views
    in 50 groups, enough for NumPy's default (unstable) sort to reorder equal labels."""
    labels = np.random.default_rng(3).integers(0, 50, size=2000)
    structure = kt.graphs.group_structure(labels)
    seen: dict[int, int] = {}
    expected = []
    for label in structure.labels:
        expected.append(seen.get(int(label), 0))
        seen[int(label)] = expected[-1] + 1
    np.testing.assert_array_equal(structure.member_ranks(), expected)


def test_adjacency_without_self_loops_is_built_on_the_device_of_like():
    """The mask is built where `like` lives, the diagonal dropped there too (array-api-strict refuses to combine
    arrays of two devices). Oracle: the NumPy construction [g_i = g_j] with a zero diagonal."""
    import array_api_strict as xs

    groups = np.repeat(np.arange(4), 3)
    like = xs.asarray(np.zeros(1), device=xs.Device("device1"))
    A = kt.graphs.adjacency(groups, self_loops=False, like=like)
    assert A.device == like.device
    expected = (groups[:, None] == groups[None, :]).astype(float) - np.eye(groups.size)
    np.testing.assert_array_equal(np.asarray(A.to_device(xs.Device("CPU_DEVICE"))), expected)
