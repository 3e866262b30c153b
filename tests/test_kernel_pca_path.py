"""O4 with A = I on a singular K (kernel PCA) from K's leading eigenpairs alone (issue 15; docs/theory.md §3 O4).

The path (``kssl_theory.kernel_regime.engine._kernel_pca``) never eigendecomposes K: it takes K's leading
d + 1 eigenpairs by Lanczos, certifies K >= 0 by a shifted Cholesky factorisation and returns
Z = sqrt(theta) y, C = y / sqrt(theta). Oracles: NumPy's dense ``eigh`` of K (the exact subspace, with a
Davis-Kahan bound built from the path's own residuals), scikit-learn's ``KernelPCA``, the general path (its
messages on fallback) and, for C's minimum norm, the null space of K known by construction.
"""

from __future__ import annotations

import os
import pickle
import warnings

import numpy as np
import pytest
import scipy.sparse as sp

import kssl_theory as kt
from kssl_theory.errors import IllConditionedWarning, InputError
from kssl_theory.graphs import RelationGraph
from kssl_theory.kernel_regime.kernel_factor import KernelFactor

EPS = np.finfo(np.float64).eps


def _centred_rbf(n: int, seed: int) -> np.ndarray:
    """A centred RBF Gram matrix H K H: rank N - 1, null space spanned by the all-ones vector."""
    X = np.random.default_rng(seed).normal(size=(n, 5))
    K = kt.kernels.rbf(X, bandwidth=kt.kernels.median_bandwidth(X))
    H = np.eye(n) - 1 / n
    Kc = H @ K @ H
    return (Kc + Kc.T) / 2


def _identity(kind: str, n: int):
    return {
        "sparse": lambda: sp.identity(n, format="csr"),
        "dense": lambda: np.eye(n),
        "groups": lambda: RelationGraph.from_groups(np.arange(n)),
    }[kind]()


def _path_was_taken(sol) -> bool:
    """The kernel-PCA path ran: Lanczos, and K itself was never factored (neither its Cholesky factorisation was
    attempted nor its eigendecomposition computed; reading ``is_pd`` here would attempt the former)."""
    return sol.method == "iterative" and sol._factor._pd is None and sol._factor._eig is None


@pytest.mark.parametrize("identity", ["sparse", "dense", "groups"])
@pytest.mark.parametrize("seed", [0, 1])
def test_the_kernel_pca_path_finds_the_leading_eigenspace_of_a_centred_kernel(identity, seed):
    """Subspace: within the Davis-Kahan bound ||R||_2 / delta of NumPy's exact leading eigenspace, R the residual
    K Y - Y Theta of the returned pairs (recomputed here), delta NumPy's gap at the cut less NumPy's own error
    (2 N eps ||K||); NumPy's eigenvectors add N eps ||K|| / delta. Eigenvalues: each within its own residual
    (plus that error) of NumPy's. Constraint C^T K C = I and C orthogonal to null(K) = span(1), each within the
    first-order effect of R (|1^T c| <= ||r|| / theta^{3/2}). Minimum -sum theta and Gram Y Theta Y^T against
    NumPy's, within what those bounds imply. No tolerance here is read from the package's reported errors."""
    n, d = 480, 7
    K = _centred_rbf(n, seed)
    sol = kt.solve("whitened", K, _identity(identity, n), d)
    assert _path_was_taken(sol)
    assert sol.is_unique

    lam, U = np.linalg.eigh(K)
    lam, U = lam[::-1], U[:, ::-1]
    numpy_error = 2 * n * EPS * lam[0]
    theta = np.sum(sol.embedding**2, axis=0)  # Z = sqrt(theta) y with unit y
    Y = sol.embedding / np.sqrt(theta)
    R = K @ Y - Y * theta
    norm_R = np.linalg.norm(R, 2) + numpy_error  # plus the rounding of computing R here
    delta = lam[d - 1] - lam[d] - numpy_error
    assert delta > 0
    bound = norm_R / delta + n * EPS * lam[0] / delta
    P_path, P_exact = Y @ Y.T, U[:, :d] @ U[:, :d].T
    assert np.linalg.norm(P_path - P_exact, 2) <= bound
    eig_tol = np.linalg.norm(R, axis=0).max() + 2 * numpy_error
    np.testing.assert_allclose(np.sort(theta)[::-1], lam[:d], rtol=0, atol=eig_tol)

    C = np.asarray(sol.coef)
    np.testing.assert_allclose(
        C.T @ K @ C, np.eye(d), rtol=0, atol=(norm_R + numpy_error) / theta.min() + 4 * d * n * EPS
    )
    ones = np.ones(n) / np.sqrt(n)
    assert np.all(np.abs(ones @ C) <= (np.linalg.norm(R, axis=0) + numpy_error) / theta**1.5)

    assert abs(float(sol.loss) + np.sum(lam[:d])) <= d * eig_tol + n * EPS * np.sum(lam[:d])
    G_exact = (U[:, :d] * lam[:d]) @ U[:, :d].T
    assert np.abs(sol.gram - G_exact).max() <= 2 * lam[0] * bound + eig_tol


def test_every_library_with_lanczos_takes_the_path_and_finds_the_same_subspace(xp):
    """NumPy and CuPy (``-m gpu``) take the path on the device (Lanczos there, no eigendecomposition of K);
    array-api-strict has no Lanczos and takes the general path. Each subspace is within the Davis-Kahan bound
    ||R||_2 / delta (+ NumPy's own error) of NumPy's dense leading eigenspace, R = K Y - Y Theta recomputed on
    the host from the returned embedding, as in the test above."""
    from kssl_theory.backend import to_numpy

    n, d = 480, 5
    K = _centred_rbf(n, 2)
    general = xp.__name__.endswith("array_api_strict")
    with warnings.catch_warnings():
        if general:  # the general path warns about K's retained condition number (1e11), as it should
            warnings.simplefilter("ignore", IllConditionedWarning)
        sol = kt.solve("whitened", xp.asarray(K), xp.asarray(np.eye(n)), d)
    if general:
        assert sol.method == "dense"
    else:
        assert _path_was_taken(sol)
    _assert_leading_eigenspace(K, to_numpy(sol.embedding), None if general else to_numpy(sol.coef), d)


def _assert_leading_eigenspace(K, Z, C, d):
    """Z = sqrt(theta) y spans K's leading d-dimensional eigenspace within the Davis-Kahan bound ||R||_2 / delta
    (R = K Y - Y Theta recomputed here, delta NumPy's gap less its own error 2 N eps ||K||), each theta within
    ||R|| of NumPy's eigenvalue, and the returned C equals Y / sqrt(theta) (to the 2 N eps of recomputing theta as
    a sum of squares) and satisfies C^T K C = I to within ||R|| / theta_d (first order) plus the rounding of the
    product (``C`` None: the general path's C = K^+ Z, whose accuracy is K's condition number's affair, is not
    checked here). No tolerance is read from the package's reported errors."""
    n = K.shape[0]
    lam, U = np.linalg.eigh(K)
    lam, U = lam[::-1], U[:, ::-1]
    numpy_error = 2 * n * EPS * lam[0]
    theta = np.sum(Z**2, axis=0)
    Y = Z / np.sqrt(theta)
    norm_R = np.linalg.norm(K @ Y - Y * theta, 2) + numpy_error
    delta = lam[d - 1] - lam[d] - numpy_error
    assert delta > 0
    distance = np.linalg.norm(Y @ Y.T - U[:, :d] @ U[:, :d].T, 2)
    assert distance <= norm_R / delta + n * EPS * lam[0] / delta
    np.testing.assert_allclose(np.sort(theta)[::-1], lam[:d], rtol=0, atol=norm_R + numpy_error)
    if C is not None:
        np.testing.assert_allclose(C, Y / np.sqrt(theta), rtol=2 * n * EPS, atol=0)
        np.testing.assert_allclose(C.T @ K @ C, np.eye(d), rtol=0, atol=norm_R / theta.min() + 4 * d * n * EPS)


def test_the_kernel_pca_path_agrees_with_scikit_learn():
    """scikit-learn's KernelPCA (dense eigensolver) on the same centred K spans the same subspace."""
    from sklearn.decomposition import KernelPCA

    n, d = 500, 6
    K = _centred_rbf(n, 3)
    sol = kt.solve("whitened", K, sp.identity(n, format="csr"), d)
    assert _path_was_taken(sol)
    emb = KernelPCA(d, kernel="precomputed", eigen_solver="dense").fit_transform(K)
    Q1, _ = np.linalg.qr(np.asarray(sol.embedding))
    Q2, _ = np.linalg.qr(emb)
    lam = np.linalg.eigvalsh(K)[::-1]
    # both are within (residual + rounding) / gap of the exact subspace; 1e-9 ||K||_F is the path's residual cap
    bound = 2 * (1e-9 * np.linalg.norm(K) + n * EPS * lam[0]) * np.sqrt(d + 1) / (lam[d - 1] - lam[d])
    assert np.linalg.norm(Q1 @ Q1.T - Q2 @ Q2.T, 2) <= bound


def test_the_kernel_pca_path_keeps_c_out_of_an_exact_null_space():
    """K = F F^T of rank 30 (N = 420): the coefficients lie in range(K) = range(F) (minimum norm), checked against
    F's own orthonormal basis; C^T K C = I. Bounds as in the first test (first-order effect of the residuals)."""
    rng = np.random.default_rng(9)
    n, r, d = 420, 30, 5
    F = rng.normal(size=(n, r)) * np.geomspace(1, 1e-2, r)[None, :]
    K = F @ F.T
    K = (K + K.T) / 2
    sol = kt.solve("whitened", K, np.eye(n), d)
    assert _path_was_taken(sol)
    C = np.asarray(sol.coef)
    Q, _ = np.linalg.qr(F)
    theta = np.sum(np.asarray(sol.embedding) ** 2, axis=0)
    Y = np.asarray(sol.embedding) / np.sqrt(theta)
    resid = np.linalg.norm(K @ Y - Y * theta, axis=0) + 2 * n * EPS * np.linalg.norm(K, 2)
    outside = np.linalg.norm(C - Q @ (Q.T @ C), axis=0)
    assert np.all(outside <= resid / theta**1.5 + 4 * n * EPS * np.linalg.norm(C, axis=0))
    np.testing.assert_allclose(C.T @ K @ C, np.eye(d), rtol=0, atol=2 * resid.max() / theta.min() + 4 * d * n * EPS)


def test_an_indefinite_kernel_is_refused_as_on_the_general_path():
    """The shifted Cholesky certificate fails, the general path runs and raises its own error."""
    n = 450
    K = _centred_rbf(n, 4)
    u = np.random.default_rng(0).normal(size=n)
    u /= np.linalg.norm(u)
    K_bad = K - 1e-3 * np.linalg.eigvalsh(K)[-1] * np.outer(u, u)
    with pytest.raises(InputError, match=r"^K is not positive semi-definite"):
        kt.solve("whitened", K_bad, np.eye(n), 5)


def test_dim_beyond_the_rank_gets_the_general_paths_error():
    rng = np.random.default_rng(2)
    n = 400
    F = rng.normal(size=(n, 20))
    K = F @ F.T
    K = (K + K.T) / 2
    with pytest.raises(InputError, match=r"^dim = 25 exceeds the dimension 20 of the feasible subspace") as deferred:
        kt.solve("whitened", K, np.eye(n), 25)
    with pytest.raises(InputError) as dense:
        kt.solve("whitened", K, np.eye(n), 25, method="dense")
    assert str(deferred.value) == str(dense.value)


def test_an_ill_conditioned_leading_spectrum_takes_the_general_path():
    """theta_1 / theta_d > 1e10: C = y / sqrt(theta) would amplify the residuals; the general path runs and warns."""
    rng = np.random.default_rng(5)
    n, d = 420, 6
    U, _ = np.linalg.qr(rng.normal(size=(n, n)))
    spectrum = np.r_[np.geomspace(1, 1e-11, d), 5e-12, np.zeros(n - d - 1)]  # theta_d = 1e-11, rank d + 1
    K = (U * spectrum) @ U.T
    K = (K + K.T) / 2
    with pytest.warns(IllConditionedWarning):
        sol = kt.solve("whitened", K, np.eye(n), d)
    assert sol._factor._eig is not None


def test_method_iterative_takes_the_path_too():
    """``method="iterative"`` asks for Lanczos: with A = I that is this path (Lanczos on K), as with ``auto``;
    ``dense`` and ``subset`` are the general paths."""
    n, d = 420, 4
    K = _centred_rbf(n, 13)
    assert _path_was_taken(kt.solve("whitened", K, np.eye(n), d, method="iterative", kernel_rtol=1e-10))
    for method in ("dense", "subset"):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", IllConditionedWarning)
            assert kt.solve("whitened", K, np.eye(n), d, method=method, kernel_rtol=1e-10).method == method


def test_a_positive_definite_kernel_takes_the_path_without_factoring_k():
    """With A = I a positive definite K takes the same path (Z = sqrt(theta) y, C = y / sqrt(theta) hold for any
    root), and K's own Cholesky factorisation is never tried (the shifted one certifies K >= 0). Oracle: NumPy's
    dense eigh of K, as for the singular kernels above, and the returned C against y / sqrt(theta)."""
    n, d = 450, 5
    K = _centred_rbf(n, 6) + 1e-3 * np.eye(n)
    sol = kt.solve("whitened", K, np.eye(n), d)
    assert sol.method == "iterative" and sol._factor._pd is None and sol._factor._eig is None
    _assert_leading_eigenspace(K, np.asarray(sol.embedding), np.asarray(sol.coef), d)
    assert sol._factor.is_pd  # decided when first asked


def _planted(n: int, spectrum: np.ndarray, seed: int) -> np.ndarray:
    """U diag(spectrum, 0, ..., 0) U^T for a random orthogonal U: a PSD K whose spectrum is known exactly."""
    U, _ = np.linalg.qr(np.random.default_rng(seed).normal(size=(n, n)))
    K = (U[:, : spectrum.size] * spectrum) @ U[:, : spectrum.size].T
    return (K + K.T) / 2


def test_the_rank_of_a_deferred_factor_is_computed_on_demand_and_warns_at_the_caller():
    """Solution.rank eigendecomposes K only when asked. K has the planted spectrum 1 ... 1e-11 (60 eigenvalues,
    geometric) and 360 zeros: rank 60, far from the cut-off N eps (~1e-13) on both sides. The retained spectrum's
    condition number 1e11 exceeds the warning's 1e10, so asking for the rank warns — naming this file, the first
    frame outside the package — while the path itself (which uses theta_1 / theta_5 ~ 1e-3) does not warn. The
    deferred factor pickles and answers after unpickling."""
    n, d = 420, 5
    K = _planted(n, np.geomspace(1, 1e-11, 60), seed=7)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # the path itself does not warn
        sol = kt.solve("whitened", K, np.eye(n), d)
    assert _path_was_taken(sol)
    restored = pickle.loads(pickle.dumps(sol))
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        assert sol.rank == 60
    assert [w.category for w in caught] == [IllConditionedWarning]
    if "MUTANT_UNDER_TEST" not in os.environ:  # mutmut's trampolines put its own frames between the package's
        assert [w.filename for w in caught] == [__file__]
    assert sol._factor._eig is not None
    with pytest.warns(IllConditionedWarning):
        assert restored.rank == 60


def test_the_reported_error_gap_and_tie_band_follow_their_definitions():
    """On this path too: eigenvalue_error = max over the d + 1 computed pairs of (||K y - theta y|| +
    2 N eps || |K| |y| ||) / ||y|| (docs/theory.md §3 Accuracy; recomputed here from the spectrum's vectors, equal
    up to the order of the sums), gap = theta_d - theta_{d+1}, dim recorded; tie_rtol widens the band to
    tie_rtol x theta_1 and then reports the tie."""
    n, d = 460, 6
    K = _centred_rbf(n, 12)
    sol = kt.solve("whitened", K, np.eye(n), d)
    assert _path_was_taken(sol) and sol.dim == d
    Y, theta = sol._spectrum.vectors.Y, sol._spectrum.vectors.theta
    assert Y.shape == (n, d + 1)
    resid = np.linalg.norm(K @ Y - Y * theta, axis=0)
    rounding = 2 * n * EPS * np.linalg.norm(np.abs(K) @ np.abs(Y), axis=0)
    expected = np.max((resid + rounding) / np.linalg.norm(Y, axis=0))
    assert sol.eigenvalue_error == pytest.approx(expected, rel=1e-6, abs=0)
    assert sol.gap == pytest.approx(theta[d - 1] - theta[d], rel=1e-12, abs=0)
    wide = kt.solve("whitened", K, np.eye(n), d, tie_rtol=0.5)
    assert _path_was_taken(wide)
    assert wide.eigenvalue_error == pytest.approx(0.5 * theta[0], rel=1e-12, abs=0) and not wide.is_unique


def test_a_rank_equal_to_d_goes_to_the_general_path():
    """K of rank exactly d: theta_{d+1} is round-off, below the cut-off, so d reaches the feasible dimension. The
    path must not take round-off for an eigenvalue: the general path answers (gap = inf, unique)."""
    n, d = 420, 6
    K = _planted(n, np.geomspace(1, 0.1, d), seed=3)
    sol = kt.solve("whitened", K, np.eye(n), d)
    assert sol._factor._eig is not None
    assert sol.gap == float("inf") and sol.is_unique


def test_a_deferred_factor_checks_positivity_when_first_needed():
    """KernelFactor(defer=True) postpones the eigendecomposition of a K whose Cholesky fails, and with it the
    PSD check: the InputError comes on first use."""
    K = -np.eye(5)
    kf = KernelFactor(K, defer=True)
    assert not kf.is_pd and kf._eig is None
    with pytest.raises(InputError, match=r"^K is not positive semi-definite"):
        _ = kf.rank
    with pytest.raises(InputError, match=r"^K is not positive semi-definite"):
        KernelFactor(K)


def test_the_spectrum_keeps_eigenvectors_of_the_spectral_matrix():
    """The solution's spectrum holds, like every path's, eigenvectors of the spectral matrix S = R^T R (R the
    factor's root, here U_r Lambda_r^(1/2) once asked for): V = R^T Y / sqrt(theta) is orthonormal and
    S V = V diag(theta), within the first-order effect of the pairs' residuals r = K y - theta y (V^T V = I +
    Y^T r / theta, so ||r|| / theta_d; S V - V Theta = R^T r / sqrt(theta), so ||K||^(1/2) ||r|| / sqrt(theta_d))
    and the rounding of the products (10 N eps ||K||)."""
    n, d = 450, 4
    K = _centred_rbf(n, 11)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", IllConditionedWarning)  # building V eigendecomposes K, which may warn
        sol = kt.solve("whitened", K, np.eye(n), d)
        assert _path_was_taken(sol)
        V = np.asarray(sol._spectrum.vectors.columns(list(range(d))))
        R_t = sol._factor.root_t(np.eye(n))  # R^T, rank x N
    theta = np.asarray(sol.eigenvalues)[:d]
    S = R_t @ R_t.T
    lam_max = np.linalg.eigvalsh(K)[-1]
    Y = np.asarray(sol.embedding) / np.sqrt(theta)
    resid = np.linalg.norm(K @ Y - Y * theta, axis=0)
    rounding = 10 * n * EPS * lam_max
    np.testing.assert_allclose(V.T @ V, np.eye(d), rtol=0, atol=(resid.max() + rounding) / theta.min())
    np.testing.assert_allclose(
        S @ V, V * theta, rtol=0, atol=np.sqrt(lam_max) * resid.max() / np.sqrt(theta.min()) + rounding
    )


def test_a_kernel_asymmetric_within_the_tolerance_is_solved_as_its_symmetric_part():
    """Lanczos runs on K itself (no symmetrised copy): solve() hands every path the symmetric part of a K whose
    asymmetry the validation accepted, so the answer is exactly that for (K + K^T) / 2."""
    n, d = 420, 4
    K = _centred_rbf(n, 8)
    K_asym = K.copy()
    rows = np.arange(0, n, 7)
    K_asym[rows, rows + 1] += 1e-13  # above the diagonal only
    assert 0 < np.abs(K_asym - K_asym.T).max() <= 1e-8 * np.abs(K_asym).max()  # within the validation's tolerance
    sol = kt.solve("whitened", K_asym, np.eye(n), d)
    ref = kt.solve("whitened", (K_asym + K_asym.T) / 2, np.eye(n), d)
    assert _path_was_taken(sol)
    np.testing.assert_array_equal(sol.embedding, ref.embedding)
    np.testing.assert_array_equal(sol.eigenvalues, ref.eigenvalues)


def test_a_deferred_factor_answers_the_same_in_any_read_order():
    """A deferred factor decides its Cholesky attempt before anything else, as an eager one does: reading rank or
    cond first on a positive definite K costs one Cholesky factorisation (no eigendecomposition) and gives the
    eager factor's values; eigen-coordinates read first do not change them."""
    n = 60
    K = _centred_rbf(n, 9) + 1e-2 * np.eye(n)
    eager = KernelFactor(K)
    first_rank = KernelFactor(K, defer=True)
    assert first_rank.rank == n and first_rank._eig is None
    assert first_rank.cond == eager.cond and first_rank.is_pd
    first_coordinates = KernelFactor(K, defer=True)
    first_coordinates.eigen_coordinates()
    assert first_coordinates.is_pd and first_coordinates.rank == n
    eager.eigen_coordinates()
    assert first_coordinates.cond == eager.cond and first_coordinates.effective_cond == eager.effective_cond


def test_a_factor_pickled_before_the_cholesky_attempt_was_deferred_still_loads():
    """Pickles written before 2026-12-04 stored the verdict as ``is_pd`` in the instance dictionary."""
    kf = KernelFactor(_centred_rbf(40, 10) + 1e-2 * np.eye(40))
    state = dict(kf.__dict__)
    state["is_pd"] = state.pop("_pd")
    old = KernelFactor.__new__(KernelFactor)
    old.__setstate__(state)
    assert old.__dict__["_pd"] is True  # the stored verdict, not a new Cholesky attempt
    assert old.is_pd and old.rank == 40
    np.testing.assert_array_equal(old.solve(np.eye(40)[:, :2]), kf.solve(np.eye(40)[:, :2]))
