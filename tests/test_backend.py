"""The array-namespace shim (:mod:`kssl_theory.backend`) against NumPy / SciPy and across backends.

Matrices are :math:`Q\\Lambda Q^T` with drawn spectra (:func:`strategies.psd_matrices`), so the
exact eigenvalues, eigenvectors, pseudo-inverse and square root are known.

Tolerances (``N`` = size, ``eps`` = float64 machine epsilon, ``kappa`` = condition number of the
non-zero part):

- eigen-residual ``||MV - V diag(w)||`` and orthogonality: backward stability of the symmetric
  eigensolver, ``1000 * eps * ||M||`` (the bound the shim promises; LAPACK achieves ``O(N eps)``);
- eigenvalues vs the constructed spectrum: Weyl, ``10 * N * eps * ||M||`` (``M`` itself is
  rounded when formed from ``Q Lambda Q^T``);
- eigen-subspaces (projectors) of a cluster separated by ``gap``: Davis-Kahan,
  ``10 * N * eps * ||M|| / gap``;
- solves and pseudo-inverses: forward error ``10 * N * eps * kappa`` relative;
- square roots: squaring back is backward stable, ``10 * N * eps * ||M||``; the root itself has
  forward error ``10 * N * eps * ||M|| / sqrt(lambda_min)`` (Frechet derivative of the root).
"""

from __future__ import annotations

import numpy as np
import pytest
import scipy.linalg
from conftest import to_np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from strategies import EPS, psd_matrices

import kssl_theory as kt
from kssl_theory import backend as B

FIXTURE_OK = settings(suppress_health_check=[HealthCheck.function_scoped_fixture], max_examples=15)


def _norm2(M):
    return float(np.linalg.norm(M, 2)) if M.size else 0.0


def _projector(V):
    return V @ V.T


def _cluster_gap(w_desc, k):
    """Gap between the k-th and (k+1)-th eigenvalue of a descending spectrum (inf at the end)."""
    return float(w_desc[k - 1] - w_desc[k]) if k < w_desc.size else float("inf")


@settings(max_examples=30)
@given(P=psd_matrices(rank_deficient=None))
def test_eigh_residual_and_spectrum(P):
    M = P.M
    n = M.shape[0]
    w, V = B.eigh(M)
    nrm = _norm2(M)
    assert np.all(np.diff(w) >= 0), "eigenvalues must be ascending"
    assert np.linalg.norm(M @ V - V * w[None, :], 2) <= 1000 * EPS * nrm
    assert np.linalg.norm(V.T @ V - np.eye(n), 2) <= 1000 * EPS * max(n, 1)
    assert np.max(np.abs(w - np.sort(P.w))) <= 10 * n * EPS * nrm
    # signs are fixed: the largest-magnitude entry of each column is positive
    idx = np.argmax(np.abs(V), axis=0)
    assert np.all(V[idx, np.arange(n)] > 0)


@settings(max_examples=30)
@given(P=psd_matrices(rank_deficient=None, min_n=2), data=st.data())
def test_eigh_top_and_full_eigh_agree_with_the_construction(P, data):
    M = P.M
    n = M.shape[0]
    k = data.draw(st.integers(1, n - 1))
    w_desc = np.sort(P.w)[::-1]
    gap_top = _cluster_gap(w_desc, k)
    gap_bot = _cluster_gap(np.sort(P.w), k)
    nrm = _norm2(M)
    w_all, V_all = B.eigh(M)
    wt, Vt = B.eigh_top(M, k)
    assert wt.shape == (k,) and Vt.shape == (n, k)
    assert np.all(np.diff(wt) <= 0), "top eigenvalues must be descending"
    assert np.max(np.abs(wt - w_desc[:k])) <= 10 * n * EPS * nrm
    # subspaces through projectors, only where the cut does not split a cluster
    if gap_top > 1e-8 * nrm:
        exact = _projector(P.Q[:, np.argsort(-P.w, kind="stable")[:k]])
        tol = 10 * n * EPS * nrm / gap_top
        assert np.linalg.norm(_projector(Vt) - exact, 2) <= tol
        assert np.linalg.norm(_projector(Vt) - _projector(V_all[:, n - k :]), 2) <= tol
    if gap_bot > 1e-8 * nrm:
        exact = _projector(P.Q[:, np.argsort(P.w, kind="stable")[:k]])
        assert np.linalg.norm(_projector(V_all[:, :k]) - exact, 2) <= 10 * n * EPS * nrm / gap_bot


@settings(max_examples=30)
@given(P=psd_matrices(max_cond=1e8), seed=st.integers(0, 2**31), cols=st.integers(1, 4))
def test_cholesky_solve_matches_scipy(P, seed, cols):
    M = P.M
    n = M.shape[0]
    b = np.random.default_rng(seed).standard_normal((n, cols))
    F = B.cholesky(M)
    L = F.lower
    np.testing.assert_array_equal(L, np.tril(L))
    assert np.linalg.norm(L @ L.T - M, 2) <= 10 * n * EPS * _norm2(M)
    x = B.cho_solve(F, b)
    ref = scipy.linalg.cho_solve(scipy.linalg.cho_factor(M), b)
    exact = P.Q @ ((P.Q.T @ b) / P.w[:, None])
    tol = 10 * n * EPS * P.cond * np.linalg.norm(exact)
    assert np.linalg.norm(x - ref) <= tol
    assert np.linalg.norm(x - exact) <= tol
    # triangular solves
    y = B.solve_triangular(L, b, lower=True)
    np.testing.assert_allclose(
        y,
        scipy.linalg.solve_triangular(L, b, lower=True),
        rtol=0,
        atol=10 * n * EPS * np.sqrt(P.cond) * np.linalg.norm(y),
    )
    z = B.solve_triangular(L, b, lower=True, trans=True)
    assert np.linalg.norm(L.T @ z - b) <= 10 * n * EPS * _norm2(L) * np.linalg.norm(z)


@settings(max_examples=30)
@given(P=psd_matrices(max_cond=1e6), seed=st.integers(0, 2**31), cols=st.integers(1, 4))
def test_triangular_multiply_matches_matmul(P, seed, cols):
    L = np.linalg.cholesky(P.M)
    b = np.random.default_rng(seed).standard_normal((L.shape[0], cols))
    n = L.shape[0]
    for trans, ref in ((False, L @ b), (True, L.T @ b)):
        got = B.triangular_multiply(L, b, lower=True, trans=trans)
        # each entry is an inner product of n terms: |error| <= n eps |L| |b| (standard bound)
        tol = n * EPS * (np.abs(L.T if trans else L) @ np.abs(b))
        assert np.all(np.abs(got - ref) <= 2 * tol)


@pytest.mark.parametrize("rank", [7, 4])
def test_kernel_factor_root_is_a_root(rank):
    """``root``, ``root_t``, ``root_t_solve`` from their definitions: R R^T = K, (R^T)^+ R^T = P.

    Against the eigendecomposition of K (the oracle); K's nonzero eigenvalues lie in [0.5, 2], so
    every product carries an error of a few N eps; 1e-12 is a wide margin.
    """
    from kssl_theory.kernel_regime.kernel_factor import KernelFactor

    rng = np.random.default_rng(rank)
    Q, _ = np.linalg.qr(rng.standard_normal((7, 7)))
    w = np.concatenate([rng.uniform(0.5, 2.0, rank), np.zeros(7 - rank)])
    K = (Q * w) @ Q.T
    kf = KernelFactor(K)
    assert kf.is_pd == (rank == 7)
    eye = np.eye(7)
    R = kf.root(np.eye(kf.rank))  # the root itself, N x rank
    np.testing.assert_allclose(R @ R.T, K, atol=1e-12)
    np.testing.assert_allclose(kf.root_t(eye), R.T, atol=1e-12)
    X = rng.standard_normal((7, 3))
    P = Q[:, :rank] @ Q[:, :rank].T
    np.testing.assert_allclose(kf.root_t_solve(kf.root_t(X)), P @ X, atol=1e-12)
    np.testing.assert_allclose(kf.root_t_solve(np.eye(R.shape[1])), np.linalg.pinv(R.T), atol=1e-12)


@pytest.mark.parametrize("xp_name", ["numpy", "array_api_strict"])
def test_cholesky_and_solve_pos_reject_indefinite_with_one_error_type(xp_name):
    """[[1, 2], [2, 1]] has eigenvalues 3 and -1: every backend reports it as NotPositiveDefiniteError
    (also NumPy's LinAlgError, so older handlers keep working)."""
    import importlib

    from kssl_theory.errors import NotPositiveDefiniteError

    xp = importlib.import_module(xp_name)
    M = xp.asarray([[1.0, 2.0], [2.0, 1.0]])
    with pytest.raises(NotPositiveDefiniteError, match="not numerically positive definite"):
        B.cholesky(M)
    with pytest.raises(np.linalg.LinAlgError):
        B.solve_pos(M, xp.asarray([[1.0], [1.0]]))


def test_kernel_factor_does_not_swallow_unrelated_errors(monkeypatch):
    """Only a failed Cholesky means "not positive definite": any other exception from the backend (here a
    planted one whose class name merely contains 'LinAlgError') must reach the caller."""
    from kssl_theory.kernel_regime.kernel_factor import KernelFactor

    class FakeLinAlgErrorFromAnotherLibrary(RuntimeError):
        pass

    def broken(M):
        raise FakeLinAlgErrorFromAnotherLibrary("device lost")

    monkeypatch.setattr(B, "cholesky", broken)
    with pytest.raises(FakeLinAlgErrorFromAnotherLibrary):
        KernelFactor(np.eye(3))


@settings(max_examples=30)
@given(P=psd_matrices(rank_deficient=None, max_cond=1e6))
def test_psd_inv_sqrt_whitens(P):
    """Oracle: the construction's own eigenpairs (P.Q, P.w). Cut-off 1e-10 relative sits between
    round-off zeros (~N eps) and the smallest kept eigenvalue (>= 1e-6 by max_cond)."""
    M = P.M
    n = M.shape[0]
    r = P.rank
    R = B.psd_inv_sqrt(M, rtol=1e-10)
    proj = P.Q[:, :r] @ P.Q[:, :r].T
    assert np.linalg.norm(R @ M @ R - proj, 2) <= 10 * n * EPS * P.cond
    exact_pinv = (P.Q[:, :r] / P.w[None, :r]) @ P.Q[:, :r].T
    assert np.linalg.norm(R @ R - exact_pinv, 2) <= 10 * n * EPS * P.cond / P.w[r - 1]


@settings(max_examples=30)
@given(seed=st.integers(0, 2**31), n=st.integers(1, 12), k=st.integers(1, 6))
def test_fix_signs(seed, n, k):
    V = np.random.default_rng(seed).standard_normal((n, k))
    F = B.fix_signs(V)
    np.testing.assert_array_equal(np.abs(F), np.abs(V))
    signs = F / V
    assert np.all(np.isin(signs, [-1.0, 1.0])) and np.all(signs == signs[0][None, :])
    idx = np.argmax(np.abs(V), axis=0)
    assert np.all(F[idx, np.arange(k)] > 0)
    np.testing.assert_array_equal(B.fix_signs(F), F)
    np.testing.assert_array_equal(B.fix_signs(-V), F)


def test_fix_signs_tie_goes_to_first_index():
    V = np.array([[-1.0, 1.0], [1.0, -1.0]])
    np.testing.assert_array_equal(B.fix_signs(V), [[1.0, 1.0], [-1.0, -1.0]])


def test_default_rtol_and_eps():
    import array_api_compat.numpy as xnp

    assert B.eps(xnp.float64, xnp) == EPS
    assert B.eps(xnp.float32, xnp) == float(np.finfo(np.float32).eps)
    assert B.default_rtol(7, xnp.float64, xnp) == 7 * EPS
    assert B.default_rtol(0, xnp.float64, xnp) == EPS


@FIXTURE_OK
@given(P=psd_matrices(rank_deficient=None, max_n=12, min_n=2, max_cond=1e6), seed=st.integers(0, 2**31))
def test_backends_agree(xp, P, seed):
    """Every shim function runs on array-api-strict and returns NumPy's values (same namespace out)."""
    M_np = P.M
    n = M_np.shape[0]
    nrm = _norm2(M_np)
    M = xp.asarray(M_np)
    w, V = B.eigh(M)
    assert type(w) is type(M) and type(V) is type(M)
    w_np, V_np = B.eigh(M_np)
    assert np.max(np.abs(to_np(w) - w_np)) <= 10 * n * EPS * nrm
    assert np.linalg.norm(M_np @ to_np(V) - to_np(V) * to_np(w)[None, :], 2) <= 1000 * EPS * nrm
    Vx = to_np(V)
    idx = np.argmax(np.abs(Vx), axis=0)
    assert np.all(Vx[idx, np.arange(n)] > 0)
    # one-dimensional eigenspaces agree through projectors (Davis-Kahan with the local gap)
    ws = np.sort(P.w)
    for j in range(n):
        gap = min([abs(ws[j] - ws[i]) for i in range(n) if i != j] or [np.inf])
        if gap > 1e-6 * nrm:
            d = np.linalg.norm(np.outer(Vx[:, j], Vx[:, j]) - np.outer(V_np[:, j], V_np[:, j]), 2)
            assert d <= 10 * n * EPS * nrm / gap
    k = max(1, n // 2)
    wt, Vt = B.eigh_top(M, k)
    np.testing.assert_allclose(to_np(wt), np.sort(P.w)[::-1][:k], rtol=0, atol=10 * n * EPS * nrm)
    for fn in (B.psd_inv_sqrt,):
        out = fn(M, rtol=1e-10)
        assert type(out) is type(M)
        ref = fn(M_np, rtol=1e-10)
        scale = 10 * n * EPS * P.cond * max(_norm2(ref), 1e-300)
        assert np.linalg.norm(to_np(out) - ref, 2) <= scale, fn.__name__
    b_np = np.random.default_rng(seed).standard_normal((n, 2))
    b = xp.asarray(b_np)
    if P.rank == n:
        F = B.cholesky(M)
        x = B.cho_solve(F, b)
        assert type(x) is type(M)
        ref = scipy.linalg.cho_solve(scipy.linalg.cho_factor(M_np), b_np)
        assert np.linalg.norm(to_np(x) - ref) <= 10 * n * EPS * P.cond * np.linalg.norm(ref)
        y = B.solve_triangular(F.lower, b, lower=True, trans=True)
        ref_y = scipy.linalg.solve_triangular(to_np(F.lower), b_np, lower=True, trans=1)
        assert np.linalg.norm(to_np(y) - ref_y) <= 10 * n * EPS * P.cond * np.linalg.norm(ref_y)
    Vr = xp.asarray(np.random.default_rng(seed).standard_normal((n, 3)))
    np.testing.assert_array_equal(to_np(B.fix_signs(Vr)), B.fix_signs(to_np(Vr)))
    np.testing.assert_array_equal(to_np(B.symmetrize(M)), B.symmetrize(M_np))


@pytest.mark.parametrize("library", ["numpy", "strict"])
@pytest.mark.parametrize("seed", range(6))
@pytest.mark.parametrize("log_cond", [1, 4, 8])
def test_inverse_norm1_estimate_brackets_the_exact_norm(library, seed, log_cond):
    """The Hager-Higham estimate of ||M^-1||_1 that non-NumPy libraries use for K's condition number.
    Oracle: ||M^-1||_1 from NumPy's explicit inverse (max column sum), and LAPACK's pocon on the same factor.
    Upper side: each value the estimator takes is ||M^-1 v||_1 with ||v||_1 <= 1, a lower bound of the exact norm
    up to the solves' rounding, relative N kappa eps each side (backward-stable triangular solves and inverse);
    the test allows 10 N kappa eps. Lower side: within a factor 10 of the exact norm (Higham 1988 reports the
    estimate within a factor 3 on his test sets; pocon on the same matrices is checked against the same
    bracket, so a failure here would be shared by LAPACK's own estimator)."""
    rng = np.random.default_rng(seed)
    n = 120
    Q, _ = np.linalg.qr(rng.standard_normal((n, n)))
    w = np.logspace(0, -log_cond, n) * rng.uniform(0.5, 2.0)
    M = (Q * w) @ Q.T
    M = (M + M.T) / 2
    exact = np.abs(np.linalg.inv(M)).sum(axis=0).max()
    slack = 10 * n * (w.max() / w.min()) * np.finfo(np.float64).eps
    if library == "strict":
        import array_api_strict as xs

        Md = xs.asarray(M)
    else:
        Md = M
    estimate = B.inverse_norm1_estimate(B.cholesky(Md))
    assert exact / 10 <= estimate <= exact * (1 + slack)
    rcond, info = B.pocon(B.cholesky(M), np.abs(M).sum(axis=0).max())
    assert info == 0 and exact / 10 <= 1 / (rcond * np.abs(M).sum(axis=0).max()) <= exact * (1 + slack)


def _spd_matrix(seed: int) -> np.ndarray:
    """A random symmetric positive definite matrix of order 2-150: a random eigenbasis with condition number up
    to 1e10, an RBF Gram matrix plus a ridge from 1e-8 to 1e-1, or G G^T + 1e-3 I (cycled by seed)."""
    rng = np.random.default_rng(seed)
    n = int(rng.integers(2, 150))
    if seed % 3 == 0:
        Q, _ = np.linalg.qr(rng.standard_normal((n, n)))
        M = (Q * np.logspace(0, -rng.uniform(0, 10), n)) @ Q.T
    elif seed % 3 == 1:
        X = rng.standard_normal((n, 3))
        sq = ((X[:, None] - X[None]) ** 2).sum(-1)
        M = np.exp(-sq / rng.uniform(0.5, 5)) + 10 ** rng.uniform(-8, -1) * np.eye(n)
    else:
        G = rng.standard_normal((n, n))
        M = G @ G.T + 1e-3 * np.eye(n)
    return (M + M.T) / 2


def _alternating_bound_wins() -> np.ndarray:
    """A 4 x 4 SPD matrix (the inverse of Q diag(logspace(0, 5.2, 4)) Q^T, found among 3,000 random ones) on which
    the Hager iteration stops below Higham's alternating-sign bound 2 ||M^-1 b||_1 / (3N): that branch decides
    the estimate (checked where it is used)."""
    rng = np.random.default_rng(2619)
    n = int(rng.integers(3, 80))
    Q, _ = np.linalg.qr(rng.standard_normal((n, n)))
    inverse = (Q * np.logspace(0, rng.uniform(0, 6), n)) @ Q.T
    M = np.linalg.inv((inverse + inverse.T) / 2)
    return (M + M.T) / 2


def test_the_alternating_bound_case_exercises_that_branch():
    """The matrix above makes LAPACK's estimate equal Higham's alternating-sign bound (computed here with NumPy's
    solve) while the exact norm is larger: the agreement test below then checks that branch too."""
    M = _alternating_bound_wins()
    n = M.shape[0]
    i = np.arange(n)
    b = np.where(i % 2 == 0, 1.0, -1.0) * (1 + i / (n - 1))
    bound = 2 * np.abs(np.linalg.solve(M, b)).sum() / (3 * n)
    norm1 = np.abs(M).sum(axis=0).max()
    rcond, _ = B.pocon(B.cholesky(M), norm1)
    kappa = norm1 * np.abs(np.linalg.inv(M)).sum(axis=0).max()
    assert 1 / (rcond * norm1) == pytest.approx(bound, rel=10 * n * kappa * EPS)  # same solves, backward stable
    assert np.abs(np.linalg.inv(M)).sum(axis=0).max() > 1.2 * bound


@pytest.mark.parametrize("library", ["numpy", "strict"])
def test_inverse_norm1_estimate_is_lapacks_estimate(library):
    """The estimator follows Hager-Higham as LAPACK's dlacn2 does (the iteration from 1/N, the stopping tests, the
    restart at argmax |z|, the alternating-sign bound), so it must return the value LAPACK's pocon derives from
    the same factor, not merely one within a factor of the exact norm. Oracle: pocon (LAPACK's own
    implementation) on the NumPy factor, 1 / (rcond ||M||_1), on 60 random SPD matrices and the one above
    (orders 2-150, condition numbers 1.8 to 1.6e10). Tolerance: both run the same sequence of triangular solves,
    each backward stable, so each value agrees to its forward error, 10 N kappa eps relative (kappa the exact
    1-norm condition number); measured agreement: 1.3e-15 at worst on 200 such matrices."""
    import array_api_strict as xs

    for seed in range(61):
        M = _spd_matrix(seed) if seed < 60 else _alternating_bound_wins()
        n = M.shape[0]
        norm1 = np.abs(M).sum(axis=0).max()
        kappa = norm1 * np.abs(np.linalg.inv(M)).sum(axis=0).max()
        rcond, info = B.pocon(B.cholesky(M), norm1)
        assert info == 0
        lapack = 1 / (rcond * norm1)
        estimate = B.inverse_norm1_estimate(B.cholesky(xs.asarray(M) if library == "strict" else M))
        assert abs(estimate - lapack) <= 10 * n * kappa * EPS * lapack, (seed, n, kappa, estimate, lapack)


@pytest.mark.parametrize("hi", [0, 1, 2, 3, 5])
def test_eigh_subset_pairs_are_eigenpairs_when_the_range_splits_a_cluster(hi):
    """LAPACK's evr (MRRR), asked for eigenpairs 0..hi of the Laplacian of four cliques (sizes 2, 2, 5, 2, no
    self-loops: eigenvalue 0 four times, exact integers), returned for hi = 1, 2 vectors that are neither
    orthonormal (V^T V off by 0.12, 0.93) nor eigenvectors (residuals 0.03, 0.33). Oracle: the definition,
    checked in NumPy: V^T V = I and L V = V diag(w) to 100 N eps (||L||_F for the residuals; the bound of a
    backward-stable eigensolver), and w equal to NumPy's eigvalsh of L."""
    A = kt.graphs.adjacency(np.array([0, 0, 1, 1, 2, 3, 1, 1, 1, 3, 2]), self_loops=False)
    L = np.diag(A.sum(axis=1)) - A
    w, V = B.eigh_subset(L, 0, hi)
    n, eps = L.shape[0], np.finfo(np.float64).eps
    np.testing.assert_allclose(V.T @ V, np.eye(hi + 1), rtol=0, atol=100 * n * eps)
    np.testing.assert_allclose(L @ V, V * w[None, :], rtol=0, atol=100 * n * eps * np.linalg.norm(L))
    np.testing.assert_allclose(w, np.linalg.eigvalsh(L)[: hi + 1], rtol=0, atol=100 * n * eps * np.linalg.norm(L))


def test_o3_on_the_subset_path_keeps_its_constraint_when_the_cut_splits_a_tie():
    """The solve-level consequence: O3 (Laplacian eigenmaps) with d = 2 on that graph and K = 0.001 I, through
    method='subset'. Oracle: the construction: L has a 4-fold eigenvalue 0, so the minimum is 0, attained by any
    orthonormal Z in L's null space; checked in NumPy: Z^T Z = I and tr(Z^T L Z) = 0 to 100 N eps."""
    A = kt.graphs.adjacency(np.array([0, 0, 1, 1, 2, 3, 1, 1, 1, 3, 2]), self_loops=False)
    L = np.diag(A.sum(axis=1)) - A
    sol = kt.solve("laplacian_eigenmaps", 0.001 * np.eye(11), A, 2, method="subset")
    Z = np.asarray(sol.embedding)
    eps = np.finfo(np.float64).eps
    np.testing.assert_allclose(Z.T @ Z, np.eye(2), rtol=0, atol=100 * 11 * eps)
    assert abs(float(np.sum(Z * (L @ Z)))) <= 100 * 11 * eps * np.linalg.norm(L)


@pytest.mark.parametrize("library", ["numpy", "strict"])
def test_add_to_diagonal_returns_a_new_shifted_matrix(library):
    """add_to_diagonal(M, c) = M + c I exactly (one addition per diagonal entry), as a new array on M's device;
    M itself is left as it was (the kernel-PCA path shifts the caller's K)."""
    rng = np.random.default_rng(4)
    M_np = rng.standard_normal((7, 7))
    if library == "strict":
        import array_api_strict as xs

        M = xs.asarray(M_np, device=xs.Device("device1"))
    else:
        M = M_np.copy()
    out = B.add_to_diagonal(M, 0.375)
    assert out is not M and B.device(out) == B.device(M)
    np.testing.assert_array_equal(to_np(out), M_np + 0.375 * np.eye(7))
    np.testing.assert_array_equal(to_np(M), M_np)
