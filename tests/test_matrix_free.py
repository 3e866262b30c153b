"""The matrix-free iterative path (``solve(..., method="iterative")`` with :meth:`Objective.operator`).

Oracle: the dense path on the same inputs (full LAPACK eigendecomposition of the *formed* spectral
matrix), which shares no code with the operator path beyond the factorisation of ``K``. Each
path reports a certified bound ``e`` on the error of its leading ``d + 1`` eigenvalues, so

- eigenvalues: the exact ``lambda_i`` lies within ``e_it`` of the iterative value and within
  ``e_dense`` of the dense one, hence ``|w_it - w_dense| <= e_it + e_dense`` (Weyl);
- subspaces (unique optimum): with exact gap ``delta >= gap_dense - e_it - e_dense`` between
  ``lambda_d`` and ``lambda_{d+1}``, Davis-Kahan's sin-theta theorem bounds each computed
  ``d``-dimensional subspace's distance to the exact one by ``||R||_F / delta`` with residual
  ``||R||_F <= sqrt(d) e``; the projector distance between the two computed subspaces is at most
  the sum.

Neither bound is a tolerance chosen here: both come from the errors each path certifies, which
is the claim under test. Kernels include ill-conditioned RBF matrices (ridge 1e-8) and float32.
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest
import scipy.sparse as sp
from conftest import _cupy_available, to_np
from hypothesis import given, settings
from hypothesis import strategies as st

import kssl_theory as kt
from kssl_theory.graphs import CliqueOperator, RelationGraph

OBJECTIVES = [
    ("contrastive", {}),
    ("vicreg", {"beta": 0.7}),
    ("laplacian_eigenmaps", {}),
    ("whitened", {}),
]


def _knn_graph(X: np.ndarray, k: int) -> sp.csr_matrix:
    """Symmetrised k-nearest-neighbour graph (0/1 weights), built directly from distances."""
    d2 = ((X[:, None, :] - X[None, :, :]) ** 2).sum(-1)
    np.fill_diagonal(d2, np.inf)
    nearest = np.argsort(d2, axis=1)[:, :k]
    rows = np.repeat(np.arange(X.shape[0]), k)
    G = sp.csr_matrix((np.ones(rows.size), (rows, nearest.ravel())), shape=(X.shape[0],) * 2)
    return ((G + G.T) > 0).astype(float).tocsr()


def _psd_root(K: np.ndarray) -> np.ndarray:
    """The symmetric root of a PSD matrix (negative round-off eigenvalues clipped), by NumPy."""
    w, U = np.linalg.eigh(K)
    return (U * np.sqrt(np.clip(w, 0, None))) @ U.T


def _leading_projector(sol, d):
    V = np.asarray(sol._spectrum.vectors.columns(list(range(d))), dtype=np.float64)
    Q, _ = np.linalg.qr(V)
    return Q @ Q.T


@settings(max_examples=25, deadline=None)
@given(
    seed=st.integers(0, 2**31),
    n=st.integers(60, 140),
    k=st.integers(3, 7),
    d=st.integers(1, 5),
    case=st.sampled_from(range(len(OBJECTIVES))),
    ridge=st.sampled_from([1e-2, 1e-5, 1e-8]),
    bandwidth=st.floats(0.5, 4.0),
    sparse=st.booleans(),
    dtype=st.sampled_from([np.float64, np.float32]),
)
def test_iterative_agrees_with_dense_within_the_certified_errors(seed, n, k, d, case, ridge, bandwidth, sparse, dtype):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, 3))
    K64 = kt.kernels.rbf(X, bandwidth=bandwidth) + ridge * np.eye(n)
    G = _knn_graph(X, k)
    name, opts = OBJECTIVES[case]
    K = K64.astype(dtype)
    A = G.astype(dtype) if sparse else G.toarray().astype(dtype)
    with np.errstate(all="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            it = kt.solve(name, K, A, d, method="iterative", **opts)
            # the oracle solves the same problem: K as the iterative path got it (rounded to dtype)
            dense = kt.solve(name, K.astype(np.float64), G.toarray(), d, method="dense", **opts)
        except kt.errors.InputError:  # a ridge below float32's rounding: K (or its float64 copy) is not PSD
            assert dtype == np.float32 and ridge < 1e-4
            return
    if it.method != "iterative" or dense._factor.is_pd != it._factor.is_pd:
        return  # fell back (or the float32 factor took another root): the dense path's own tests cover it
    e_it, e_d = it.eigenvalue_error, dense.eigenvalue_error
    # The two bounds below use the errors the paths report, so a path that inflated its error would pass them:
    # cap the reported errors independently, at 100 sqrt(eps) ||S||_2 with S built here by NumPy (A, I - beta/2 L,
    # L, or R^T A R with NumPy's Cholesky factor of the K the path received). A certified error above that would
    # mean Lanczos stopped short of convergence, which the path must reject (it falls back instead).
    Kh, Ah = K.astype(np.float64), G.toarray()
    Lh = np.diag(Ah.sum(1)) - Ah
    S = {
        "contrastive": Ah,
        "vicreg": np.eye(n) - opts.get("beta", 1.0) / 2 * Lh,
        "laplacian_eigenmaps": Lh,
        "whitened": _psd_root(Kh) @ Ah @ _psd_root(Kh),  # same nonzero spectrum as R^T A R for any root R
    }[name]
    cap = 100 * np.sqrt(float(np.finfo(dtype).eps)) * np.linalg.norm(S, 2)
    assert e_it <= cap and e_d <= cap, (e_it, e_d, cap)
    m = min(d + 1, it.eigenvalues.shape[0])
    w_it = np.asarray(it.eigenvalues[:m], dtype=np.float64)
    w_d = np.asarray(dense.eigenvalues[:m], dtype=np.float64)
    if it.rule == "psd-top":  # only the pairs that may be non-negative are certified
        keep = (w_it + e_it >= 0) | (w_d + e_d >= 0)
        w_it, w_d = w_it[keep], w_d[keep]
    assert np.all(np.abs(w_it - w_d) <= e_it + e_d), (w_it - w_d, e_it, e_d)
    if dtype == np.float64 and dense.is_unique and d < n:
        delta = dense.gap - e_it - e_d
        if delta > 0:
            bound = np.sqrt(d) * (e_it + e_d) / delta
            dist = np.linalg.norm(_leading_projector(it, d) - _leading_projector(dense, d), 2)
            assert dist <= bound, (dist, bound)


def _knn_problem(n=500, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, 4))
    return kt.kernels.rbf(X, bandwidth=2.0) + 1e-3 * np.eye(n), _knn_graph(X, 5)


@pytest.mark.parametrize("name, opts", OBJECTIVES)
def test_a_sparse_graph_is_never_densified(monkeypatch, name, opts):
    K, G = _knn_problem()

    def refuse(self):
        raise AssertionError("the matrix-free path formed the dense A")

    monkeypatch.setattr(RelationGraph, "A", property(refuse))
    monkeypatch.setattr(RelationGraph, "laplacian", property(refuse))
    import kssl_theory.kernel_regime.engine as engine

    monkeypatch.setattr(engine, "ITERATIVE_MAXITER", 400)
    sol = kt.solve(name, K, G, 6, method="iterative", **opts)
    assert sol.method == "iterative"
    assert sol.embedding.shape == (500, 6)


def test_clique_graphs_stay_implicit_on_the_operator_path(monkeypatch):
    K, _ = _knn_problem()
    groups = np.repeat(np.arange(125), 4)
    monkeypatch.setattr(RelationGraph, "A", property(lambda self: (_ for _ in ()).throw(AssertionError("dense A"))))
    sol = kt.solve("whitened", K, RelationGraph.from_groups(groups), 10, method="iterative")
    assert sol.method == "iterative"
    # oracle: with A = E E^T (self-loops) the top of R^T A R is the spectrum of E^T K E (same nonzero spectrum)
    E = np.zeros((500, 125))
    E[np.arange(500), groups] = 1.0
    top = np.sort(np.linalg.eigvalsh(E.T @ K @ E))[::-1][:11]
    np.testing.assert_allclose(np.asarray(sol.eigenvalues), top, rtol=0, atol=sol.eigenvalue_error + 1e-12 * top[0])


def test_auto_picks_the_operator_path_only_where_it_applies():
    K, G = _knn_problem()
    assert kt.solve("contrastive", K, G, 8).method == "iterative"
    assert kt.solve("whitened", K, G, 8).method == "iterative"
    assert kt.solve("contrastive", K, G, 8, reg=0.1).method == "subset"  # -pK^+ has no operator path
    assert kt.solve("whitened", K, G, 8, laplacian=True).method == "subset"  # measured too slow to converge
    assert kt.solve("vicreg", K, G, 8, centred=True).method == "subset"


def test_an_uncertified_lanczos_run_falls_back_to_the_formed_matrix(monkeypatch):
    """A degenerate bottom (every clique's Laplacian null vector) that Lanczos cannot resolve."""
    import kssl_theory.kernel_regime.engine as engine

    monkeypatch.setattr(engine, "ITERATIVE_MAXITER", 3)
    K, _ = _knn_problem()
    groups = np.repeat(np.arange(125), 4)
    A = kt.graphs.adjacency(groups)
    sol = kt.solve("whitened", K, A, 6, method="iterative", laplacian=True)
    dense = kt.solve("whitened", K, A, 6, method="dense", laplacian=True)
    assert sol.method == "dense"
    np.testing.assert_allclose(float(sol.loss), float(dense.loss), rtol=0, atol=sol.loss_error + dense.loss_error)


@pytest.mark.parametrize("name, opts", [("contrastive", {}), ("vicreg", {"beta": 0.5}), ("whitened", {})])
@pytest.mark.parametrize("which_run", [0, 1])
def test_a_lanczos_breakdown_is_never_certified(monkeypatch, name, opts, which_run):
    """CuPy's Lanczos returns NaN pairs on an invariant Krylov subspace (second GPU run, O1 on a clique graph);
    for a psd-top rule the residual check masked them and a NaN spectrum was certified. Simulated here on
    ARPACK: the first (wanted pairs) or second (deflation check) eigsh call returns NaN; the solve must fall
    back to the formed matrix. Oracle: method="dense" on the same inputs; after the fallback the two runs make
    the same computation, so their minima and embeddings are equal (no tolerance)."""
    import scipy.sparse.linalg as spla

    real = spla.eigsh
    calls = []

    def broken(*args, **kwargs):
        out = real(*args, **kwargs)
        calls.append(1)
        if len(calls) - 1 != which_run:
            return out
        if kwargs.get("return_eigenvectors", True):
            return np.full_like(out[0], np.nan), out[1]
        return np.full_like(out, np.nan)

    monkeypatch.setattr(spla, "eigsh", broken)
    rng = np.random.default_rng(2)
    X = rng.normal(size=(200, 3))
    K = kt.kernels.rbf(X, bandwidth=1.5) + 0.1 * np.eye(200)
    A = _knn_graph(X, 5).toarray()
    sol = kt.solve(name, K, A, 3, method="iterative", **opts)
    monkeypatch.setattr(spla, "eigsh", real)
    dense = kt.solve(name, K, A, 3, method="dense", **opts)
    assert len(calls) > which_run and sol.method == "dense"
    assert np.isfinite(float(sol.loss)) and float(sol.loss) == float(dense.loss)
    np.testing.assert_array_equal(sol.embedding, dense.embedding)


def test_auto_leaves_a_laplacian_tie_to_the_formed_path():
    """L's zero eigenvalue has one copy per connected component: 100 components and d = 8 put a tie across
    the cut, which only the formed path certifies (auto must not start Lanczos). Oracle: the construction
    (100 disjoint 5-cycles) and the dense path, which reports the tie."""
    n_cycles = 100
    rows = np.arange(5 * n_cycles)
    cols = (rows // 5) * 5 + (rows % 5 + 1) % 5
    G = sp.csr_matrix((np.ones(rows.size), (rows, cols)), shape=(rows.size,) * 2)
    G = ((G + G.T) > 0).astype(float).tocsr()
    assert RelationGraph(G).n_components == n_cycles
    assert RelationGraph(G.toarray()).n_components == n_cycles
    assert RelationGraph.from_groups(np.repeat(np.arange(7), 3)).n_components == 7
    rng = np.random.default_rng(0)
    K = kt.kernels.rbf(rng.normal(size=(rows.size, 3)), bandwidth=2.0) + 1e-3 * np.eye(rows.size)
    sol = kt.solve("laplacian_eigenmaps", K, G, 8)
    assert sol.method == "subset" and not sol.is_unique
    # O1 reads A, not L: auto tries Lanczos; A's top eigenvalue 2 (one per cycle) is tied too, so it must
    # fall back to the formed matrix (the deflation check finds the other copies) and report the tie.
    o1 = kt.solve("contrastive", K, G, 8)
    assert o1.method == "dense" and not o1.is_unique


def test_a_linear_operator_input_is_named_as_such():
    """A LinearOperator given as K or A is refused with a message that says what it is (not "ragged")."""
    import scipy.sparse.linalg as spla

    op = spla.aslinearoperator(np.eye(5))
    with pytest.raises(kt.errors.InputError, match=r"^A is a linear operator \(.*LinearOperator\); pass its matrix"):
        kt.solve("O1", np.eye(5), op, 2)
    with pytest.raises(kt.errors.InputError, match=r"^K is a linear operator"):
        kt.solve("O1", op, np.eye(5), 2)


@pytest.mark.parametrize("views_per_group, expected", [(2, "iterative"), (4, "structured"), (1, "iterative")])
def test_o4_on_cliques_with_self_loops_reduces_to_the_group_matrix(views_per_group, expected):
    """O4 with A = E E^T: the top of R^T A R is the spectrum of E^T K E (n x n). Oracle: the dense path on the
    dense A (all N eigenvalues of the formed S): its nonzero eigenvalues must match within the two certified
    errors (Weyl) and the Grams must agree (the optimum is unique here); the constraint C^T K C = I must hold.
    views_per_group = 1 is A = I (kernel PCA). The sizes put the group matrix on its Lanczos path (500 or
    1,000 groups, d = 8) or its full eigendecomposition (250 groups of 4, below 400)."""
    n = 1000
    rng = np.random.default_rng(views_per_group)
    X = rng.normal(size=(n, 4))
    K = kt.kernels.rbf(X, bandwidth=2.0) + 1e-3 * np.eye(n)
    groups = np.repeat(np.arange(n // views_per_group), views_per_group)
    sol = kt.solve("whitened", K, RelationGraph.from_groups(groups), 8)
    dense = kt.solve("whitened", K, kt.graphs.adjacency(groups), 8, method="dense")
    assert sol.method == expected
    # The certified errors must be small, or the Weyl and Davis-Kahan checks below would be vacuous: cap them at
    # 100 sqrt(eps) ||S||_2, with ||S||_2 = ||E^T K E||_2 (same nonzero spectrum) built here by NumPy.
    E = (groups[:, None] == np.arange(n // views_per_group)[None, :]).astype(float)
    cap = 100 * np.sqrt(np.finfo(float).eps) * np.linalg.norm(E.T @ K @ E, 2)
    assert sol.eigenvalue_error <= cap and dense.eigenvalue_error <= cap
    m = 9
    np.testing.assert_array_less(
        np.abs(np.asarray(sol.eigenvalues[:m]) - np.asarray(dense.eigenvalues[:m])),
        sol.eigenvalue_error + dense.eigenvalue_error + 1e-300,
    )
    assert dense.is_unique and sol.is_unique
    G, Gd = np.asarray(sol.gram), np.asarray(dense.gram)
    C = np.asarray(sol.coef)
    np.testing.assert_allclose(C.T @ K @ C, np.eye(8), rtol=0, atol=1e-9)  # the O4 constraint
    assert np.abs(K @ C @ C.T @ K - G).max() <= 1e-9 * np.abs(G).max()  # Z = K C
    # G = R P_V R^T with the same Cholesky root on both paths; Davis-Kahan bounds each computed P_V's distance
    # to the exact one by sqrt(d) e / delta, so ||G - G_dense|| <= ||K|| sqrt(d) (e1 + e2) / delta (+ rounding).
    delta = dense.gap - sol.eigenvalue_error - dense.eigenvalue_error
    bound = np.sqrt(8) * (sol.eigenvalue_error + dense.eigenvalue_error) / delta
    assert np.linalg.norm(G - Gd, 2) <= bound * np.linalg.norm(K, 2) + 1e-9 * np.abs(Gd).max()


@settings(max_examples=15, deadline=None)
@given(
    seed=st.integers(0, 2**31),
    n=st.integers(60, 140),
    rank=st.integers(20, 50),
    d=st.integers(1, 5),
    identity=st.booleans(),
)
def test_o4_on_a_singular_kernel_runs_in_the_roots_coordinates(seed, n, rank, d, identity):
    """O4 with a singular K: S = R^T A R with R = U_r Lambda_r^{1/2} is rank x rank, applied without forming it.
    K = F F^T with F of ``rank`` random features (exactly rank-deficient). Oracle: NumPy's eigenvalues of
    K^{1/2} A K^{1/2} (same nonzero spectrum), within the path's certified error, which is capped independently
    at 100 sqrt(eps) ||K^{1/2} A K^{1/2}||_2; the O4 constraint C^T K C = I, and C = K^+ Z in range(K)
    (the minimum-norm coefficients: C has no component in K's null space, checked with NumPy's SVD of F)."""
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, 3))
    F = rng.normal(size=(n, rank))
    K = F @ F.T
    A = sp.identity(n, format="csr") if identity else _knn_graph(X, 5)
    sol = kt.solve("whitened", K, A, d, method="iterative")
    if sol.method != "iterative":
        return  # fell back: the dense path's own tests cover it
    assert sol._factor.rank == rank
    root = _psd_root(K)
    S = root @ A.toarray() @ root
    exact = np.sort(np.linalg.eigvalsh(S))[::-1][: d + 1]
    cap = 100 * np.sqrt(np.finfo(float).eps) * np.linalg.norm(S, 2)
    assert sol.eigenvalue_error <= cap
    np.testing.assert_array_less(np.abs(np.asarray(sol.eigenvalues[: d + 1]) - exact), sol.eigenvalue_error + 1e-300)
    C = np.asarray(sol.coef)
    np.testing.assert_allclose(C.T @ K @ C, np.eye(d), rtol=0, atol=1e-8)
    null = np.linalg.svd(F, full_matrices=True)[0][:, rank:]  # orthonormal basis of K's null space
    assert np.abs(null.T @ C).max() <= 1e-8 * np.abs(C).max()


def test_o4_on_a_centred_kernel_is_kernel_pca_without_a_second_eigendecomposition():
    """The case KernelPCA users have: centred K (singular, K 1 = 0) and A = I. auto takes the operator path in
    the root's coordinates, and the subspace is scikit-learn's KernelPCA one (dense solver, independent)."""
    from sklearn.decomposition import KernelPCA

    rng = np.random.default_rng(3)
    n = 600
    K = kt.kernels.rbf(rng.normal(size=(n, 4)), bandwidth=2.0)
    H = np.eye(n) - 1 / n
    Kc = H @ K @ H
    Kc = (Kc + Kc.T) / 2
    sol = kt.solve("whitened", Kc, sp.identity(n, format="csr"), 8, kernel_rtol=1e-10)
    assert sol.method == "iterative" and not sol._factor.is_pd
    emb = KernelPCA(8, kernel="precomputed", eigen_solver="dense").fit_transform(Kc)
    Q1, _ = np.linalg.qr(np.asarray(sol.embedding))
    Q2, _ = np.linalg.qr(emb)
    assert np.linalg.norm(Q1 @ Q1.T - Q2 @ Q2.T, 2) <= 1e-8
    assert np.abs(np.asarray(sol.coef).sum(axis=0)).max() <= 1e-8 * np.abs(np.asarray(sol.coef)).max()


def _operator_case(name, opts, graph, K, X, groups):
    """The operator of objective ``name`` on ``K`` and a kNN (dense or sparse) or clique graph, with the dense A."""
    from kssl_theory.kernel_regime.kernel_factor import KernelFactor
    from kssl_theory.kernel_regime.objectives import get_objective, parse_options

    if graph in ("cliques", "detected"):
        Ad = kt.graphs.adjacency(groups)
    elif graph == "full":  # every entry nonzero: applied as the dense matrix itself
        Ad = np.exp(-(((X[:, None, :] - X[None, :, :]) ** 2).sum(-1)))
    else:  # a kNN graph, given dense (few nonzeros: applied through a CSR copy) or sparse
        Ad = _knn_graph(X, 4).toarray()
    rel = {
        "dense": RelationGraph(Ad),
        "full": RelationGraph(Ad),
        "sparse": RelationGraph(sp.csr_matrix(Ad)),
        "cliques": RelationGraph.from_groups(groups),
        "detected": RelationGraph(Ad),
    }[graph]
    if graph == "detected":  # a dense A whose clique structure is known is applied through it
        assert rel.cliques is not None and isinstance(rel.operator(), CliqueOperator)
    if graph == "dense":  # 4-NN: at most ~8 of 90-120 entries per row are nonzero
        assert sp.issparse(rel.operator()) and sp.issparse(rel.operator(laplacian=True))
    if graph == "full":
        assert isinstance(rel.operator(), np.ndarray)
    obj = get_objective(name)
    return obj.operator(KernelFactor(K), rel, parse_options(obj, dict(opts))), Ad


@pytest.mark.parametrize("graph", ["dense", "full", "sparse", "cliques", "detected"])
@pytest.mark.parametrize("name, opts", OBJECTIVES)
@pytest.mark.parametrize("singular", [False, True])
def test_the_operators_norm_bound_bounds_the_spectral_norm(graph, name, opts, singular):
    """SpectralOperator.norm_bound() (Lanczos' shift and the scale of its acceptance tests) must be at least
    ||S||_2, with S built here by NumPy. For O4 on a singular K it is why the bound exists: the entrywise
    majorant's ||Sbar 1||_inf with the dense eigenvector root |U_r| overestimates ||S||_2 many times over."""
    rng = np.random.default_rng(7)
    n = 120
    X = rng.normal(size=(n, 3))
    F = rng.normal(size=(n, 30))
    K = F @ F.T if singular else kt.kernels.rbf(X, bandwidth=2.0) + 1e-3 * np.eye(n)
    op, Ad = _operator_case(name, opts, graph, K, X, np.repeat(np.arange(40), 3))
    if singular and name != "whitened":
        assert op is None  # needs the range projector's basis: the formed path
        return
    L = np.diag(Ad.sum(1)) - Ad
    S = {
        "contrastive": Ad,
        "vicreg": np.eye(n) - opts.get("beta", 1.0) / 2 * L,
        "laplacian_eigenmaps": L,
        "whitened": _psd_root(K) @ Ad @ _psd_root(K),
    }[name]
    norm = np.linalg.norm(S, 2)
    assert op.norm_bound() >= norm * (1 - 1e-12)
    if name == "whitened":  # the documented product ||R||^2 ||A||: ||K||_inf (Cholesky) or lambda_max(K) (eigen root)
        k_norm = np.linalg.eigvalsh(K)[-1] if singular else np.abs(K).sum(axis=1).max()
        assert op.norm_bound() == pytest.approx(k_norm * np.abs(Ad).sum(axis=1).max(), rel=1e-10, abs=0)
    if singular:
        entrywise = float(np.max(op.apply_majorant(np.ones((op.size, 1)))))
        assert op.norm_bound() < entrywise / 5


@pytest.mark.parametrize("graph", ["dense", "full", "sparse", "cliques", "detected"])
@pytest.mark.parametrize("name, opts", OBJECTIVES)
def test_the_operators_majorant_is_the_documented_one(graph, name, opts):
    """apply_majorant(|X|) must be the documented entrywise majorant, built here by NumPy from |A|, |L| = |D - A|
    (L's diagonal is the degree, which |A| alone misses) and the Cholesky factor |C| of K: O1 |A||X|,
    O2 |X| + beta/2 |L||X|, O3 |L||X|, O4 |C|^T |A| |C| |X|. A smaller majorant would make the rounding term of
    the certified error unsound (mutation run F: |A| in place of |L| survived every other test). It also bounds
    |apply(X)| entrywise."""
    rng = np.random.default_rng(11)
    n = 90
    X = rng.normal(size=(n, 3))
    K = kt.kernels.rbf(X, bandwidth=2.0) + 1e-3 * np.eye(n)
    op, Ad = _operator_case(name, opts, graph, K, X, np.repeat(np.arange(30), 3))
    absL = np.abs(np.diag(Ad.sum(1)) - Ad)
    C = np.abs(np.linalg.cholesky(K))
    B = np.abs(rng.normal(size=(n, 4)))
    expected = {
        "contrastive": np.abs(Ad) @ B,
        "vicreg": B + opts.get("beta", 1.0) / 2 * absL @ B,
        "laplacian_eigenmaps": absL @ B,
        "whitened": C.T @ (np.abs(Ad) @ (C @ B)),
    }[name]
    got = np.asarray(op.apply_majorant(B))
    np.testing.assert_allclose(got, expected, rtol=1e-12, atol=0)
    signed = rng.normal(size=(n, 4))
    assert np.all(np.abs(np.asarray(op.apply(signed))) <= np.asarray(op.apply_majorant(np.abs(signed))) * (1 + 1e-12))


@pytest.mark.parametrize("graph", ["dense", "full", "sparse", "cliques", "detected"])
def test_the_relation_matrix_in_eigen_coordinates_is_the_dense_product(graph):
    """The penalised soft objectives read U^T A U and U^T L U (U: K's eigenvectors) from one product U^T (A U),
    A U applied through the graph's operator (clique, sparse or dense), computed once for every generated
    function that reads it. Oracle: NumPy's U.T @ A @ U with the dense A and L = D - A. Tolerance: both are
    sums of N products of entries bounded by |A| and |U|, so they differ by at most ~2N eps ||A||_F ||U||^2;
    8 N eps ||A||_F leaves a margin and fails on any wrong entry (which is O(1))."""
    from kssl_theory.kernel_regime.objectives import _relation

    rng = np.random.default_rng(5)
    n = 96
    X = rng.normal(size=(n, 3))
    groups = np.repeat(np.arange(32), 3)
    _, Ad = _operator_case("contrastive", {}, graph, np.eye(n), X, groups)
    rel = {
        "dense": lambda: RelationGraph(Ad),
        "full": lambda: RelationGraph(Ad),
        "sparse": lambda: RelationGraph(sp.csr_matrix(Ad)),
        "cliques": lambda: RelationGraph.from_groups(groups),
        "detected": lambda: RelationGraph(Ad),
    }[graph]()
    U, _ = np.linalg.qr(rng.normal(size=(n, n)))
    L = np.diag(Ad.sum(1)) - Ad
    lazy = _relation(rel, U)
    tol = 8 * n * np.finfo(float).eps
    for name, M in (("A", Ad), ("L", L)):
        first = lazy[name]()
        np.testing.assert_allclose(first, U.T @ M @ U, rtol=0, atol=tol * np.linalg.norm(M))
        assert lazy[name]() is first  # computed once


def test_a_dense_relation_matrix_with_few_nonzeros_is_applied_through_a_sparse_copy():
    """A dense NumPy A with at most 1/16 nonzero entries is applied as CSR (O(nnz) per product): same products as
    NumPy's dense ones within the rounding of two differently ordered sums (2 N eps |A||X|, entrywise); a graph
    given with its own Laplacian keeps it (a projected graph's L is not D - A); a denser A stays dense."""
    rng = np.random.default_rng(8)
    n = 200
    A = _knn_graph(rng.normal(size=(n, 3)), 4).toarray() * rng.uniform(0.5, 2.0, size=(n, n))
    A = (A + A.T) / 2
    assert np.count_nonzero(A) <= n * n / 16
    rel = RelationGraph(A)
    X = rng.normal(size=(n, 5))
    L = np.diag(A.sum(1)) - A
    for op, M in ((rel.operator(), A), (rel.operator(laplacian=True), L)):
        assert sp.issparse(op)
        np.testing.assert_array_less(
            np.abs(op @ X - M @ X), 2 * n * np.finfo(float).eps * (np.abs(M) @ np.abs(X)) + 1e-300
        )
    assert rel.operator() is rel.operator()  # the copy is made once (documented), not on every request
    given = RelationGraph(A, laplacian=2 * L)
    assert isinstance(given.operator(laplacian=True), np.ndarray)
    np.testing.assert_array_equal(given.operator(laplacian=True), 2 * L)
    dense = rng.uniform(size=(n, n))
    assert isinstance(RelationGraph((dense + dense.T) / 2).operator(), np.ndarray)


@pytest.mark.parametrize("name, opts", [("vicreg", {"beta": 0.5, "reg": 0.1}), ("contrastive", {"reg": 0.1})])
def test_the_penalised_target_agrees_across_array_libraries(xp, name, opts):
    """The penalised objectives read U^T A U or U^T L U in K's eigen-coordinates; on NumPy through the graph's
    operator, on other array libraries from the dense matrix (mutation run H: L replaced by A in that branch
    survived). Oracle, no package code: T = A - (reg/2) K^-1 (O1) or I - (beta/2) L - (reg/2) K^-1 (O2) by
    NumPy, minimum const - sum of the d largest (lambda_+)^2. Tolerance from the dtype and K's conditioning:
    tau = 100 N eps (||T|| + (reg/2) kappa(K) / mu_min) per eigenvalue (backward-stable eigensolvers; K^-1
    formed each side its own way), carried to the minimum; the loss from its definition adds 10 N eps x its
    terms."""
    rng = np.random.default_rng(4)
    n, d = 60, 4
    X = rng.normal(size=(n, 3))
    K = kt.kernels.rbf(X, bandwidth=1.5) + 1e-3 * np.eye(n)
    A = _knn_graph(X, 3).toarray()
    p = opts["reg"] / 2
    L = np.diag(A.sum(1)) - A
    T = (A if name == "contrastive" else np.eye(n) - opts["beta"] / 2 * L) - p * np.linalg.inv(K)
    T = (T + T.T) / 2
    const = float(np.sum(A**2)) if name == "contrastive" else float(d)
    lam = np.clip(np.linalg.eigvalsh(T)[::-1][:d], 0, None)
    mu = np.linalg.eigvalsh(K)
    eps = np.finfo(float).eps
    tau = 100 * n * eps * (np.abs(np.linalg.eigvalsh(T)).max() + p * (mu[-1] / mu[0]) / mu[0])
    minimum = const - float(np.sum(lam**2))
    loss_tol = float(np.sum((2 * lam + tau) * tau)) + 100 * n * eps * (const + float(np.sum(lam**2)))
    sol = kt.solve(name, xp.asarray(K), xp.asarray(A), d, **opts)
    assert abs(float(sol.loss) - minimum) <= loss_tol
    Z, C = to_np(sol.embedding), to_np(sol.coef)
    literal = float(kt.loss(name, Z, A, K=K, coef=C, **opts))
    terms = abs(minimum) + float(np.sum(A**2)) + float(np.sum((Z.T @ Z) ** 2)) + d + float(np.sum(C * (K @ C)))
    assert abs(literal - minimum) <= loss_tol + 10 * n * eps * terms


@pytest.mark.parametrize(
    "backend",
    [
        "numpy",
        pytest.param(
            "cupy",
            marks=[
                pytest.mark.gpu,
                pytest.mark.skipif(not _cupy_available(), reason="CuPy with a CUDA device is not available"),
            ],
        ),
    ],
)
@pytest.mark.parametrize("name, opts", OBJECTIVES, ids=[name for name, _ in OBJECTIVES])
def test_lanczos_certifies_on_every_library_that_has_it(backend, name, opts):
    """method="iterative" runs Lanczos, not the dense fallback, on a well-conditioned problem with a dense graph,
    on NumPy (ARPACK) and on CuPy (thick-restart Lanczos). CuPy's eigsh counts maxiter in single Lanczos steps
    and stops on an absolute residual: given ARPACK's meanings, every GPU solve fell back to the dense path
    (first GPU run, 2026-12-04). Oracle: NumPy's dense path on the same problem (LAPACK, no GPU code);
    eigenvalues agree to 100 N eps kappa(K) max|w| (two backward-stable eigensolvers in float64 on
    spectral matrices built with K's factor, whose rounding is amplified by at most kappa(K))."""
    rng = np.random.default_rng(11)
    n, d = 300, 4
    X = rng.normal(size=(n, 3))
    K = kt.kernels.rbf(X, bandwidth=1.5) + 0.1 * np.eye(n)
    A = _knn_graph(X, 5).toarray()
    reference = kt.solve(name, K, A, d, method="dense", **opts)
    if backend == "cupy":
        import array_api_compat.cupy as xp
    else:
        import array_api_compat.numpy as xp
    sol = kt.solve(name, xp.asarray(K), xp.asarray(A), d, method="iterative", **opts)
    assert kt.solve(name, K, A, d, method="iterative", **opts).method == "iterative"  # ARPACK certifies it
    assert sol.method == "iterative", f"on {backend} Lanczos was not certified: the {sol.method} path ran"
    w_ref = np.asarray(reference.eigenvalues)[: d + 1]
    tol = 100 * n * np.finfo(np.float64).eps * np.linalg.cond(K) * np.abs(w_ref).max()
    np.testing.assert_allclose(to_np(sol.eigenvalues)[: d + 1], w_ref, rtol=0, atol=tol)
