"""Numerical robustness of the solver (issue: robustness, part 2).

Accuracy model (documented in kssl_theory.kernel_regime.engine): quantities that do not apply K^+ (the optimal
training Gram matrix and loss when reg = 0) are accurate to ~N eps ||T||; quantities that apply
K^+ (coefficients, the reg term, out-of-sample embeddings) lose a further factor of the retained
condition number kappa. Each test states which of the two it checks, and uses a margin of 100.
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest

import kssl_theory as kt
from kssl_theory.errors import IllConditionedWarning
from proofs_check.instances import HOST, build

EPS64 = np.finfo(np.float64).eps
EPS32 = np.finfo(np.float32).eps


def _spectral_kernel(n, cond, seed):
    """Geometric spectrum 1 ... 1/cond with Haar eigenvectors: the shared generator's ``graded`` kind."""
    params = {"seed": seed, "sizes": [n], "kernel": "graded", "log10_cond": float(np.log10(cond)), "d": 1}
    return build(params, HOST, with_graph=False).K


@pytest.mark.parametrize("cond", [1e6, 1e9, 1e12])
def test_condition_numbers_up_to_1e12(cond):
    n = 24
    groups = np.repeat(np.arange(8), 3)
    A = kt.graphs.adjacency(groups)
    K = _spectral_kernel(n, cond, seed=1)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", IllConditionedWarning)
        sol = kt.solve("contrastive", K, A, 8, method="dense")
        reg = kt.solve("contrastive", K, A, 8, reg=1e-3, method="dense")
    # reg = 0: G* = A for d >= n groups, whatever K (docs/theory.md §2, §4) — no K^+ involved.
    np.testing.assert_allclose(sol.gram, A, atol=100 * n * EPS64 * 3)
    # Z* = K C*: applies K^+ then K, error ~ kappa eps relative to ||Z*||.
    kappa = sol._factor.effective_cond
    err = np.linalg.norm(K @ sol.coef - sol.embedding) / np.linalg.norm(sol.embedding)
    assert err <= 100 * n * kappa * EPS64 or kappa * EPS64 > 1e-2
    # reg > 0: the loss against an independent computation of T = A - reg/2 K^{-1} (eigh-based inverse).
    w, V = np.linalg.eigh(K)
    T = A - 1e-3 / 2 * (V / w) @ V.T
    top = np.sort(np.linalg.eigvalsh(T))[::-1][:8]
    expected = np.sum(A * A) - np.sum(np.clip(top, 0, None) ** 2)
    assert abs(float(reg.loss) - expected) <= 100 * n * kappa * EPS64 * max(1.0, np.abs(T).max())


def test_ill_conditioning_warns_with_expected_accuracy():
    K = _spectral_kernel(10, 1e12, seed=2)
    with pytest.warns(IllConditionedWarning, match=r"condition number \d\.\d\de\+12.*accurate to about"):
        kt.solve("contrastive", K, kt.graphs.adjacency(np.repeat(np.arange(5), 2)), 3)


def test_near_duplicate_points_and_tiny_bandwidth():
    rng = np.random.default_rng(3)
    base = rng.normal(size=(6, 2))
    X = np.repeat(base, 3, axis=0) + 1e-9 * rng.normal(size=(18, 2))  # near-duplicate views
    groups = np.repeat(np.arange(6), 3)
    A = kt.graphs.adjacency(groups)
    for bandwidth in (1.0, 1e-3):
        K = kt.kernels.rbf(X, bandwidth=bandwidth)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", IllConditionedWarning)
            sol = kt.solve("vicreg", K, A, 6, beta=0.5)
        # the reported loss is the loss of the returned representation (definition-based oracle)
        value = float(kt.loss("vicreg", sol.embedding, A, beta=0.5))
        assert abs(value - float(sol.loss)) <= 100 * 18 * EPS64 * 18
        assert np.all(np.isfinite(sol.coef))
        # views that coincide to 1e-9 get (nearly) the same embedding: invariance survives
        assert kt.alignment(sol.gram, groups) > 1 - 1e-6


def test_exactly_singular_kernel_uses_the_pseudo_inverse_path():
    rng = np.random.default_rng(4)
    F = rng.normal(size=(12, 3))
    K = F @ F.T  # rank 3
    A = kt.graphs.adjacency(np.repeat(np.arange(4), 3))
    sol = kt.solve("contrastive", K, A, 3, reg=0.1)
    assert sol.rank == 3
    # everything lives in range(K): Z* = K C* exactly, and C* is in range(K) (minimum norm)
    np.testing.assert_allclose(K @ sol.coef, sol.embedding, atol=1e-12 * np.abs(sol.embedding).max() * 100)
    P = F @ np.linalg.pinv(F)
    np.testing.assert_allclose(P @ sol.coef, sol.coef, atol=1e-10 * np.abs(sol.coef).max())


@pytest.mark.parametrize(
    "name,opts",
    [
        ("contrastive", {}),
        ("contrastive", {"reg": 0.1}),
        ("vicreg", {"beta": 0.3}),
        ("laplacian_eigenmaps", {}),
        ("whitened", {}),
    ],
)
def test_float32_is_computed_in_float32_to_its_tolerance(name, opts):
    rng = np.random.default_rng(5)
    X = rng.normal(size=(20, 3))
    groups = np.repeat(np.arange(5), 4)
    K = kt.kernels.rbf(X, bandwidth=1.5) + 1e-2 * np.eye(20)  # kappa ~ 1e3
    A = kt.graphs.adjacency(groups)
    s64 = kt.solve(name, K, A, 7, **opts)
    s32 = kt.solve(name, K.astype(np.float32), A.astype(np.float32), 7, **opts)
    assert s32.embedding.dtype == np.float32 and s32.coef.dtype == np.float32
    kappa = s64._factor.effective_cond
    # Documented float32 tolerance: 100 N eps32 kappa relative to the loss scale.
    scale = max(1.0, abs(float(s64.loss)), float(np.abs(s64.eigenvalues).max()) ** 2)
    assert abs(float(s32.loss) - float(s64.loss)) <= 100 * 20 * EPS32 * kappa * scale
    if s64.is_unique:
        np.testing.assert_allclose(
            np.asarray(s32.gram, dtype=np.float64),
            s64.gram,
            atol=100 * 20 * EPS32 * kappa * max(1.0, np.abs(s64.gram).max()),
        )


@pytest.mark.parametrize("method", ["dense", "subset", "iterative", "auto"])
def test_deterministic_bit_identical_output(method):
    rng = np.random.default_rng(6)
    X = rng.normal(size=(60, 3))
    K = kt.kernels.rbf(X, bandwidth=1.0) + 1e-3 * np.eye(60)
    A = kt.graphs.adjacency(np.repeat(np.arange(20), 3))
    a = kt.solve("contrastive", K, A, 5, reg=0.05, method=method)
    b = kt.solve("contrastive", K.copy(), A.copy(), 5, reg=0.05, method=method)
    for name in ("embedding", "coef", "eigenvalues"):
        assert np.array_equal(getattr(a, name), getattr(b, name)), name
    assert float(a.loss) == float(b.loss)


def test_ties_are_flagged_not_hidden():
    K = _spectral_kernel(12, 1e3, seed=7)
    A = kt.graphs.adjacency(np.repeat(np.arange(4), 3))
    for d in (1, 2, 3):
        assert not kt.solve("contrastive", K, A, d).is_unique  # eigenvalue 3 with multiplicity 4
    assert kt.solve("contrastive", K, A, 4).is_unique


@pytest.mark.xfail(
    strict=True,
    reason="Finding (issue 15 session 5, open; a design decision): in float32 the default rank cut-off rtol = N eps "
    "(4.8e-5 at N = 400) treats a positive definite K with kappa = 2.4e4 as rank 132 of 400 and reports the optimum "
    "of the truncated problem: O1's top eigenvalue 7.49 +- 3e-4 where the exact one for this K is 7.73. Since "
    "session 6 this is no longer silent (IllConditionedWarning, test below), and kernel_rtol = 10 eps32 gives the "
    "exact spectrum; the default itself (docs/theory.md's N eps) is unchanged.",
)
def test_float32_keeps_a_resolvable_positive_definite_kernel():
    """K = RBF + 0.01 I (N = 400): its smallest eigenvalue 0.01 is 300x float32's eps ||K|| ~ 3e-5, so float32
    resolves it, and O1 with lambda = 0 on a positive definite K has T = A (docs/theory.md §2, §3 O1). Oracle:
    NumPy's float64 eigvalsh of A; tolerance: float32 rounding of A's eigenvalues (100 N eps32 ||A||)."""
    K, A = _float32_ridge_instance()
    n = K.shape[0]
    exact = np.linalg.eigvalsh(A)[::-1][:3]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", kt.IllConditionedWarning)  # the warning is the next test's subject
        sol = kt.solve("contrastive", K.astype(np.float32), A.astype(np.float32), 2)
    tol = 100 * n * np.finfo(np.float32).eps * exact[0]
    np.testing.assert_allclose(np.asarray(sol.eigenvalues[:3], dtype=float), exact, rtol=0, atol=tol)


def _float32_ridge_instance():
    """The instance of the finding above: K = RBF + 0.01 I (N = 400, kappa 2.4e4) and a 5-NN graph."""
    import math

    import scipy.sparse as sp

    rng = np.random.default_rng(0)
    n = 400
    X = rng.normal(size=(n, 5))
    d2 = np.sum((X[:, None, :] - X[None, :, :]) ** 2, axis=-1)
    K = np.exp(-d2 / (2 * math.sqrt(np.median(d2)) ** 2)) + 0.01 * np.eye(n)
    np.fill_diagonal(d2, np.inf)
    nearest = np.argsort(d2, axis=1)[:, :5]
    G = sp.csr_matrix((np.ones(5 * n), (np.repeat(np.arange(n), 5), nearest.ravel())), shape=(n, n))
    return K, ((G + G.T) > 0).astype(float).toarray()


def test_a_truncation_of_resolvable_eigenvalues_is_never_silent():
    """The default cut-off N eps drops K's ridge directions in float32 (the finding above). Oracle: NumPy's float64
    eigvalsh of K: its smallest eigenvalue (0.01) is above 100 eps32 lambda_max, so float32 resolves every dropped
    eigenvalue, and the solve must say that its answer is that of a truncation, naming the dtype and the largest
    dropped eigenvalue (the oracle's, to float32 rounding). With the kernel_rtol the warning suggests nothing is
    dropped and O1 (lambda = 0, K > 0: T = A, docs/theory.md §3) reaches NumPy's float64 eigenvalues of A to
    float32 rounding (100 N eps32 ||A||), with no warning."""
    import re

    K, A = _float32_ridge_instance()
    n, eps32 = K.shape[0], float(np.finfo(np.float32).eps)
    w = np.linalg.eigvalsh(K)
    assert w[0] > 100 * eps32 * w[-1]  # precondition: every eigenvalue is resolved in float32
    with pytest.warns(kt.IllConditionedWarning, match="float32 resolves") as record:
        truncated = kt.solve("contrastive", K.astype(np.float32), A.astype(np.float32), 2)
    assert truncated.rank < n
    message = str(record[0].message)
    # the largest dropped eigenvalue it names is K's (float64 oracle) just below the cut, to float32 rounding
    named = float(re.search(r"drops eigenvalues up to ([0-9.e+-]+),", message).group(1))
    dropped = w[::-1][truncated.rank]
    assert abs(named - dropped) <= 100 * n * eps32 * w[-1]
    # the advice works: the kernel_rtol it suggests keeps every eigenvalue
    suggested = float(re.search(r"\(e\.g\. ([0-9.e+-]+)\)", message).group(1))
    with warnings.catch_warnings():
        warnings.simplefilter("error", kt.IllConditionedWarning)
        kept = kt.solve("contrastive", K.astype(np.float32), A.astype(np.float32), 2, kernel_rtol=suggested)
    assert kept.rank == n
    exact = np.linalg.eigvalsh(A)[::-1][:3]
    np.testing.assert_allclose(
        np.asarray(kept.eigenvalues[:3], dtype=float), exact, rtol=0, atol=100 * n * eps32 * exact[0]
    )


def test_float64_and_an_explicit_cut_off_do_not_warn_of_truncation():
    """The same K in float64 (kappa 2.4e4 << 1 / (N eps64)) is kept whole; in float32 a cut-off the caller chose is
    not second-guessed. Oracle: the construction (kappa from NumPy's eigvalsh)."""
    K, A = _float32_ridge_instance()
    with warnings.catch_warnings():
        warnings.simplefilter("error", kt.IllConditionedWarning)
        assert kt.solve("contrastive", K, A, 2).rank == K.shape[0]
        explicit = kt.solve("contrastive", K.astype(np.float32), A.astype(np.float32), 2, kernel_rtol=1e-4)
    assert explicit.rank < K.shape[0]


def test_dropping_round_off_eigenvalues_is_not_a_truncation():
    """A K of exact rank 5 (F F^T, N = 60, float64): the eigenvalues the cut-off drops are round-off, below
    100 eps lambda_max (NumPy's eigvalsh: 4e-16 lambda_max here), so the solve must not warn of a truncation
    (or of anything: the retained spectrum is well conditioned). Oracle: that eigvalsh, checked as a
    precondition."""
    F = np.random.default_rng(3).normal(size=(60, 5))
    K = F @ F.T
    w = np.linalg.eigvalsh(K)
    assert np.abs(w[:-5]).max() < 100 * np.finfo(np.float64).eps * w[-1]  # precondition
    with warnings.catch_warnings():
        warnings.simplefilter("error", kt.IllConditionedWarning)
        assert kt.solve("contrastive", K, kt.graphs.adjacency(np.repeat(np.arange(20), 3)), 2, reg=0.1).rank == 5
