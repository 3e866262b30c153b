"""Tests written to kill surviving mutants found by mutation testing (docs/mutation-testing.md).

Every test here has an independent oracle: a documented contract (dtype/device/namespace of the
output, the error that names the offending argument), a closed form derived by hand, a brute-force
NumPy computation that does not go through the code under test, or a definition. Where a tolerance
is needed it is derived from the dtype's machine epsilon, the problem size N and the conditioning
of the instance, and the derivation is given in a comment next to it.

Kept fast (well under 30 s in total): small matrices, no Hypothesis search.
"""

from __future__ import annotations

import warnings

import array_api_strict as xs
import numpy as np
import pytest

import kssl_theory as kt
from kssl_theory.errors import InputError
from kssl_theory.graphs import RelationGraph
from kssl_theory.kernel_regime.kernel_factor import KernelFactor

EPS64 = float(np.finfo(np.float64).eps)
EPS32 = float(np.finfo(np.float32).eps)

#: A second array-api-strict device: arrays on it cannot be combined with default-device arrays,
#: so any output built without ``device=`` fails or lands on the wrong device.
DEV1 = xs.Device("device1")

GROUPS = np.array([0, 0, 0, 1, 1, 2, 2, 2])
N = GROUPS.size


def _clique_A(groups, self_loops=True):
    """Plain-NumPy relation matrix A_ij = [g_i == g_j] (THEORY §1), the oracle for graph builders."""
    g = np.asarray(groups)
    A = (g[:, None] == g[None, :]).astype(float)
    if not self_loops:
        np.fill_diagonal(A, 0.0)
    return A


def _rbf_K(n, seed=0, ridge=1e-2, dtype=np.float64):
    X = np.random.default_rng(seed).normal(size=(n, 3))
    D2 = ((X[:, None, :] - X[None, :, :]) ** 2).sum(-1)
    return (np.exp(-D2 / 4.0) + ridge * np.eye(n)).astype(dtype)


def _np(x):
    return np.asarray(kt.backend.to_numpy(x))


# --- graphs: dtype / namespace / device contract ("like selects the output namespace, device and dtype") ---


@pytest.mark.parametrize("builder", ["adjacency", "indicators"])
def test_graph_builders_honour_dtype_like_and_device(builder):
    f = getattr(kt.graphs, builder)
    # dtype= alone (NumPy output)
    out = f(GROUPS, dtype=np.float32)
    assert isinstance(out, np.ndarray) and out.dtype == np.float32
    # like= alone: namespace, dtype and device of `like`
    like32 = xs.asarray(np.zeros((1, 1), dtype=np.float32), device=DEV1)
    out = f(GROUPS, like=like32)
    assert out.dtype == xs.float32 and out.device == DEV1
    # like= and dtype=: dtype wins, device still from like
    like64 = xs.asarray(np.zeros((1, 1)), device=DEV1)
    out = f(GROUPS, like=like64, dtype=xs.float32)
    assert out.dtype == xs.float32 and out.device == DEV1
    expected = _clique_A(GROUPS) if builder == "adjacency" else np.eye(3)[GROUPS]
    np.testing.assert_array_equal(_np(out.to_device(xs.Device("CPU_DEVICE"))), expected)


def test_adjacency_with_weights_keeps_their_dtype_and_device():
    rng = np.random.default_rng(1)
    W = rng.uniform(0.5, 2.0, size=(N, N))
    W = (W + W.T) / 2
    W[0, 1] = W[1, 0] = 0.0  # zero weights are non-negative: allowed
    Wx = xs.asarray(W.astype(np.float32), device=DEV1)
    A = kt.graphs.adjacency(GROUPS, weights=Wx)
    assert A.dtype == xs.float32 and A.device == DEV1
    # Oracle: elementwise product with the group mask; one float32 rounding is exact here (x * 1 or x * 0).
    np.testing.assert_array_equal(_np(A.to_device(xs.Device("CPU_DEVICE"))), W.astype(np.float32) * _clique_A(GROUPS))
    # float32 NumPy weights stay float32
    assert kt.graphs.adjacency(GROUPS, weights=W.astype(np.float32)).dtype == np.float32


def test_relation_graph_from_groups_defaults_and_dtype():
    rel = RelationGraph.from_groups(GROUPS)  # documented default: self_loops=True
    np.testing.assert_array_equal(_np(rel.A), _clique_A(GROUPS, self_loops=True))
    rel32 = RelationGraph.from_groups(GROUPS, dtype=np.float32)
    assert rel32.A.dtype == np.float32


def test_relation_graph_from_groups_without_self_loops():
    """RelationGraph.from_groups(groups, self_loops=False) is the union of cliques without self-loops
    (graphs.adjacency's documented self_loops). Oracles: the plain-NumPy A_ij = [g_i == g_j] with a zero
    diagonal, and the O1 minimum with K = I computed from it by NumPy's eigvalsh: T = A, so
    min ||ZZ^T - A||_F^2 = sum lambda_i^2 - sum_{i<=d} max(lambda_i, 0)^2 (THEORY §3). The clique path
    reads the self-loop value from the graph, so a graph that forgot self_loops=False gives another
    minimum. Tolerance: eigenvalues of an 8 x 8 integer matrix of norm <= 2 are exact to ~N eps * 2
    each, the loss (<= 12) to ~10 N eps * 12; allow 1e-12."""
    A0 = _clique_A(GROUPS, self_loops=False)
    rel = RelationGraph.from_groups(GROUPS, self_loops=False)
    np.testing.assert_array_equal(_np(rel.A), A0)
    lam = np.sort(np.linalg.eigvalsh(A0))[::-1]
    d = 2
    expected = float(np.sum(lam**2) - np.sum(np.clip(lam[:d], 0, None) ** 2))
    sol = kt.solve("contrastive", np.eye(N), RelationGraph.from_groups(GROUPS, self_loops=False), d)
    assert sol.method == "structured"
    assert abs(float(sol.loss) - expected) <= 1e-12


@pytest.mark.parametrize(
    "call, fragment",
    [
        (lambda: kt.graphs.degree(np.ones(3)), r"^A must be a 2-D matrix"),
        (lambda: kt.graphs.normalize_adjacency(np.ones((2, 3))), r"^A must be square"),
        (lambda: kt.graphs.normalize_adjacency(np.triu(np.ones((3, 3)))), r"^A is not symmetric"),
        (lambda: kt.graphs.laplacian(np.ones((2, 3))), r"^A must be square"),
        (lambda: kt.graphs.adjacency([0, 0, 1], weights=np.ones((2, 3))), r"^weights must be square"),
        (
            lambda: kt.graphs.adjacency([0, 0, 1], weights=-np.ones((3, 3))),
            r"^weights must be non-negative; got negative entries\.$",
        ),
        (lambda: kt.graphs.adjacency([0, 0, 1], normalized="yes"), r"normalized must be True or False"),
        (
            lambda: kt.graphs.normalize_adjacency(np.array([[-1.0, 0.0], [0.0, 1.0]])),
            r"^A has rows with negative degree; a relation matrix must have non-negative row sums\.$",
        ),
    ],
)
def test_graph_errors_name_the_argument(call, fragment):
    """Validation errors name the offending argument as the caller spelled it (validation module contract)."""
    with pytest.raises(InputError, match=fragment):
        call()


def test_normalize_adjacency_zero_degree_rows_stay_zero_without_warnings():
    """Docstring: rows of zero degree stay zero. A signed row can sum to 0 without being zero;
    the normalisation must not divide by that zero degree (no RuntimeWarning, no inf/nan)."""
    A = np.array([[1.0, -1.0, 0.0], [-1.0, 1.0, 0.0], [0.0, 0.0, 2.0]])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        An = _np(kt.graphs.normalize_adjacency(A))
    # Oracle by hand: degrees (0, 0, 2) -> rows/cols 0, 1 are zero, entry (2, 2) = 2 / (sqrt2 sqrt2) = 1.
    np.testing.assert_array_equal(An[:2], 0.0)
    np.testing.assert_array_equal(An[:, :2], 0.0)
    assert abs(An[2, 2] - 1.0) <= 2 * EPS64  # one sqrt and one division: 2 roundings


def test_laplacian_validates_symmetry_and_keeps_dtype():
    with pytest.raises(InputError, match=r"^A is not symmetric"):
        kt.graphs.laplacian(np.triu(np.ones((3, 3))))
    A32 = _clique_A(GROUPS).astype(np.float32)
    for normalized in (False, True):
        assert kt.graphs.laplacian(A32, normalized=normalized).dtype == np.float32
        assert kt.graphs.laplacian(xs.asarray(A32), normalized=normalized).dtype == xs.float32


def test_weights_may_contain_zeros():
    W = np.ones((4, 4))
    W[0, 1] = W[1, 0] = 0.0
    A = _np(kt.graphs.adjacency([0, 0, 1, 1], weights=W))
    np.testing.assert_array_equal(A, W * _clique_A([0, 0, 1, 1]))


# --- metrics ---------------------------------------------------------------------------------------


def test_cosine_matrix_validates_its_argument():
    with pytest.raises(InputError, match=r"^Kstar must be square"):
        kt.kernel_regime.metrics.cosine_matrix(np.ones((2, 3)))
    with pytest.raises(InputError, match=r"^Kstar is not symmetric"):
        kt.kernel_regime.metrics.cosine_matrix(np.triu(np.ones((3, 3))))
    K = np.eye(4)
    with pytest.raises(InputError):
        kt.kernel_regime.metrics.alignment(K, [0, 0, 1])  # 3 labels for a 4 x 4 matrix


def test_cosine_matrix_is_scale_invariant_over_the_float_range():
    """cos_ij = k_ij / sqrt(k_ii k_jj) is invariant under k -> c k, c > 0 (definition), for any
    representable c: the zero-norm cut-off must be relative to the matrix's own scale."""
    rng = np.random.default_rng(2)
    F = rng.normal(size=(5, 3))
    G = F @ F.T
    d = np.sqrt(np.diag(G))
    expected = G / d[:, None] / d[None, :]
    # Each cosine takes ~4 roundings (sqrt, two products, one division): 8 eps is a safe bound.
    for c in (1e-200, 1e-20, 1.0, 1e20, 1e200):
        np.testing.assert_allclose(
            _np(kt.kernel_regime.metrics.cosine_matrix(c * G)), np.clip(expected, -1, 1), rtol=0, atol=8 * EPS64
        )


def _find_rounding_excess(sign):
    """A rank-one Gram matrix v v^T whose computed cosine k_ij/sqrt(k_ii k_jj) leaves [-1, 1] by rounding
    (the exact value is sign * 1). Searched with plain NumPy, independently of the library."""
    rng = np.random.default_rng(7)
    for _ in range(2000):
        v = rng.uniform(0.1, 10.0, size=2) * np.array([1.0, sign])
        G = np.outer(v, v)
        inv = 1 / np.sqrt(np.diag(G))
        raw = inv[:, None] * G * inv[None, :]
        if sign * raw[0, 1] > 1.0:
            return G
    raise AssertionError("no rounding excess found")  # pragma: no cover


@pytest.mark.parametrize("sign", [1.0, -1.0])
def test_cosine_matrix_stays_within_minus_one_one(sign):
    """Cauchy-Schwarz: |cos| <= 1 exactly; rounding must not push a cosine of a PSD matrix outside."""
    C = _np(kt.kernel_regime.metrics.cosine_matrix(_find_rounding_excess(sign)))
    assert np.max(C) <= 1.0 and np.min(C) >= -1.0
    assert abs(abs(C[0, 1]) - 1.0) <= 4 * EPS64


def test_alignment_and_decorrelation_on_another_device():
    G = _clique_A(GROUPS) + 0.0
    Gx = xs.asarray(G, device=DEV1)
    # Oracle: G's cosine matrix is the 0/1 clique mask: alignment 1, decorrelation 0.
    assert kt.kernel_regime.metrics.alignment(Gx, GROUPS) == 1.0
    assert kt.kernel_regime.metrics.decorrelation(Gx, GROUPS) == 0.0


# --- kernel_factor ---------------------------------------------------------------------------------


def test_condition_number_on_a_non_numpy_backend_estimates_the_1_norm_one():
    """array-api-strict has no pocon: the Hager-Higham estimate of ||K^-1||_1 (backend.inverse_norm1_estimate)
    times ||K||_1 is used, the quantity NumPy's pocon estimates (it replaced an eigendecomposition of K that cost
    more than the rest of a clique solve on a GPU). Oracle: the exact 1-norm condition number from NumPy's
    explicit inverse. The estimate is a lower bound up to the solves' rounding (10 N eps kappa relative allowed)
    and, as for pocon, within a factor 10 of it (Higham 1988: within 3 on his test sets)."""
    K = _rbf_K(10, seed=3, ridge=1e-2)
    exact = np.abs(K).sum(axis=0).max() * np.abs(np.linalg.inv(K)).sum(axis=0).max()
    kf = KernelFactor(xs.asarray(K))
    assert kf.is_pd
    assert exact / 10 <= kf.cond <= exact * (1 + 10 * 10 * EPS64 * exact)


def test_cholesky_that_succeeds_on_a_numerically_singular_kernel_is_rejected():
    """K = 11^T + diag(0, e, e), e = eps: exact eigenvalues e (on (0, 1, -1)), about e/3 and about 3.
    Both small ones are below the documented cut-off N eps lambda_max = 9 eps, so the numerical rank
    is 1 and K must not be treated as positive definite, although Cholesky succeeds in floating point
    (and LAPACK may return the smallest eigenvalue with either sign)."""
    K = np.ones((3, 3)) + np.diag([0.0, EPS64, EPS64])
    kf = KernelFactor(xs.asarray(K))
    assert not kf.is_pd
    assert kf.rank == 1


def test_ones_outside_range_of_a_pd_kernel_is_zero_and_keeps_dtype():
    for dt in (np.float64, np.float32):
        kf = KernelFactor(_rbf_K(6, dtype=dt))
        q = kf.ones_outside_range()
        assert q.shape == (6,) and q.dtype == dt
        np.testing.assert_array_equal(q, 0.0)
    # singular float32 K: (I - P) 1 keeps the dtype too
    F = np.random.default_rng(0).normal(size=(6, 2)).astype(np.float32)
    kf = KernelFactor(F @ F.T)
    assert not kf.is_pd and kf.ones_outside_range().dtype == np.float32


@pytest.mark.parametrize("c", [1.0, 2.5])
def test_solve_scaled_identity_is_c_times_the_inverse(c):
    """cK^+ for PD K: oracle np.linalg.inv. The Cholesky solve has backward error ~N eps ||K||,
    so the forward error is ~N eps kappa ||K^-1||; allow 10 x that."""
    K = _rbf_K(6, seed=4, ridge=1e-1)
    kf = KernelFactor(K)
    inv = np.linalg.inv(K)
    kappa = np.linalg.cond(K)
    np.testing.assert_allclose(
        kf.solve_scaled_identity(c), c * inv, rtol=0, atol=10 * 6 * EPS64 * kappa * c * np.abs(inv).max()
    )
    assert kf.solve_scaled_identity(c).dtype == np.float64
    kf32 = KernelFactor(K.astype(np.float32))
    assert kf32.solve_scaled_identity(c).dtype == np.float32


# --- objectives and generated targets ----------------------------------------------------------------


def _centred_instance(n, r, qnorm, seed=0, dtype=np.float64):
    """K = B diag(mu) B^T of rank r whose range contains 1 (qnorm = 0) or misses it by exactly
    |q| = |(I - P) 1| = qnorm: B = [cos t a + sin t e, W] with a = 1/sqrt(n), e and W orthonormal
    and orthogonal to 1, sin t = qnorm / sqrt(n) (then (I - P) 1 = sqrt(n) (a - cos t b1))."""
    rng = np.random.default_rng(seed)
    a = np.ones(n) / np.sqrt(n)
    X = rng.normal(size=(n, r + 1))
    X -= np.outer(a, a @ X)
    Qx, _ = np.linalg.qr(X)
    e, W = Qx[:, 0], Qx[:, 1:r]
    s = qnorm / np.sqrt(n)
    Bm = np.column_stack([np.sqrt(1 - s * s) * a + s * e, W])
    K = (Bm * np.linspace(1.0, 2.0, r)) @ Bm.T
    return ((K + K.T) / 2).astype(dtype)


def _centred_literal_loss(Z):
    """||Z^T H Z - I||_F^2 (centred O2, c = 1, beta = 0) in float64 NumPy, from the definition."""
    Z = np.asarray(Z, dtype=np.float64)
    HZ = Z - Z.mean(0)
    return float(np.sum((HZ.T @ HZ - np.eye(Z.shape[1])) ** 2))


@pytest.mark.parametrize(
    "n, r, qnorm, dtype, expected",
    [
        # 1 in range(K): range(HK) has dimension r - 1, so at d = r the minimum is exactly 1.
        (200, 5, 0.0, np.float64, 1.0),
        (20, 4, 0.0, np.float64, 1.0),
        (50, 4, 0.0, np.float32, 1.0),
        # 1 misses range(K) by |q| = 3e-10, ~500 x the round-off N eps sqrt(N) of q at N = 200: a
        # genuine direction, so range(HK) has dimension r and the minimum at d = r is 0.
        (200, 5, 3e-10, np.float64, 0.0),
        (50, 4, 0.1, np.float32, 0.0),
    ],
)
def test_centred_vicreg_on_singular_kernels_counts_the_feasible_dimension(n, r, qnorm, dtype, expected):
    """Oracle (beta = 0, c = 1, so T = H): min ||Z^T H Z - I_d||^2 over Z in range(K) is
    max(0, d - dim range(HK)), and dim range(HK) = r - [1 in range(K)] (H's kernel is span(1)).
    Tolerance: the eigenvalues of Q^T H Q are 1 to ~N eps, so the loss d - sum lambda^2 is exact
    to ~2 d N eps; allow 100 x that. For the tiny-|q| case the direction Hq/|Hq| is known only to
    (round-off of q)/|q| ~ 2e-3, which moves the loss by at most ~2 d x that: allow 0.05 (vs 1.0)."""
    K = _centred_instance(n, r, qnorm, dtype=dtype)
    A = kt.graphs.adjacency(np.arange(n) // 2, dtype=dtype)
    eps = float(np.finfo(dtype).eps)
    tol = 0.05 if 0 < qnorm < 1e-6 else 100 * 2 * r * n * eps
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        sol = kt.solve("vicreg", K, A, r, beta=0.0, centred=True)
    assert sol.embedding.dtype == dtype and sol.coef.dtype == dtype
    assert abs(float(sol.loss) - expected) <= tol
    assert abs(_centred_literal_loss(sol.embedding) - expected) <= tol


def test_centred_vicreg_with_one_in_the_range_of_a_moderately_conditioned_kernel():
    """1 lies in range(K) exactly (K = mu_a a a^T + W diag(1..2) W^T, a = 1/sqrt(n), W orthonormal and
    orthogonal to 1): the documented outcome is range(HK) of dimension r - 1 (q = (I - P)1 is zero "to
    round-off"), so with beta = 0, c = 1 the centred O2 minimum at d = r is exactly 1 (same oracle as
    above). The round-off of q grows with the conditioning of range(K) (eigenvectors are accurate to
    ~eps ||K|| / mu_a), here kappa = 2000, far from the ill-conditioning regime. Tolerance: the eigenvalues
    of Q^T H Q are 1 to ~N eps kappa; allow 100 x 2 d N eps kappa (~2e-8) against the gap 1 to a wrong
    feasible dimension."""
    n, r, mu_a = 100, 5, 1e-3
    rng = np.random.default_rng(0)
    a = np.ones(n) / np.sqrt(n)
    X = rng.normal(size=(n, r))
    X -= np.outer(a, a @ X)
    W = np.linalg.qr(X)[0][:, 1:r]
    K = mu_a * np.outer(a, a) + (W * np.linspace(1.0, 2.0, r - 1)) @ W.T
    K = (K + K.T) / 2
    A = kt.graphs.adjacency(np.arange(n) // 2)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        sol = kt.solve("vicreg", K, A, r, beta=0.0, centred=True)
    tol = 100 * 2 * r * n * EPS64 * (2.0 / mu_a)
    assert abs(float(sol.loss) - 1.0) <= tol
    assert abs(_centred_literal_loss(sol.embedding) - 1.0) <= tol


def test_centred_vicreg_on_a_singular_kernel_with_array_api_strict():
    K = _centred_instance(20, 4, 0.0)
    A = kt.graphs.adjacency(np.arange(20) // 2)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        sol = kt.solve("vicreg", xs.asarray(K), xs.asarray(A), 4, beta=0.0, centred=True)
    assert abs(float(sol.loss) - 1.0) <= 100 * 2 * 4 * 20 * EPS64  # same oracle and bound as above


SOFT_CASES = [
    ("contrastive", {}),
    ("contrastive", {"reg": 0.1}),
    ("vicreg", {"beta": 0.5}),
    ("vicreg", {"beta": 0.5, "reg": 0.1}),
    ("vicreg", {"beta": 0.5, "centred": True, "c": 2.0}),
]


@pytest.mark.parametrize("name, opts", SOFT_CASES + [("laplacian_eigenmaps", {}), ("whitened", {})])
@pytest.mark.parametrize("K_kind", ["pd", "singular"])
def test_float32_in_float32_out(name, opts, K_kind):
    """Documented dtype contract (accuracy module: float32 is a supported working dtype): a float32
    problem gives float32 embedding, coefficients, loss, eigenvalues and literal loss."""
    K = _rbf_K(N, seed=5) if K_kind == "pd" else _centred_instance(N, 4, 0.3)
    K, A = K.astype(np.float32), _clique_A(GROUPS).astype(np.float32)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        sol = kt.solve(name, K, A, 2, **opts)
    for attr in ("embedding", "coef", "loss", "eigenvalues", "hs_norm"):
        assert getattr(sol, attr).dtype == np.float32, attr
    assert kt.loss(name, sol.embedding, A, K=K, coef=sol.coef, **opts).dtype == np.float32


@pytest.mark.parametrize(
    "call, fragments",
    [
        (
            lambda: kt.solve("vicreg", np.eye(4), _clique_A([0, 0, 1, 1]), 2, centred=True, reg=0.1),
            [
                r"^option reg=0\.1 does not apply to the centred=True variant of 'vicreg' \(its options: "
                r"\['beta', 'c'\]\); leave reg at its default 0\.0\.$"
            ],
        ),
        (  # c belongs to the centred variant only: a non-default c without centred=True is an error, not ignored
            lambda: kt.solve("vicreg", np.eye(4), _clique_A([0, 0, 1, 1]), 2, c=2.0),
            [r"^option c=2\.0 does not apply to the base variant of 'vicreg' .*leave c at its default 1\.0\.$"],
        ),
        (
            lambda: kt.solve("whitened", np.eye(4), _clique_A([0, 0, 1, 1]), 2, laplacian=1),
            [r"^option laplacian must be True or False; got 1\.$"],
        ),
        (
            lambda: kt.solve(
                "laplacian_eigenmaps", np.eye(3), _clique_A([0, 1, 1], self_loops=False), 1, normalized=True
            ),
            [
                r"^the normalised Laplacian eigenmaps need every view to have positive degree; some rows of A sum",
                r"sum to 0 \(isolated views without self-loops\)\. Use self_loops=True or normalized=False\.$",
            ],
        ),
        # signed weights with a negative row sum: D^(-1/2) does not exist, and the message must not call
        # the view isolated (it named zero sums before)
        (
            lambda: kt.solve(
                "laplacian_eigenmaps",
                np.eye(4),
                np.array([[0, -1, 0, 0], [-1, 0, 0, 0], [0, 0, 1, 1], [0, 0, 1, 1.0]]),
                1,
                normalized=True,
            ),
            [
                (
                    r"^the normalised Laplacian eigenmaps need every view to have positive degree; "
                    r"some rows of A have a "
                    r"negative sum \(signed weights\), so D\^\(-1/2\) does not exist\. Use non-negative weights or "
                    r"normalized=False\.$"
                )
            ],
        ),
    ],
)
def test_objective_errors_say_what_to_do(call, fragments):
    """The validation contract: the message says what was wrong and what to pass instead."""
    with pytest.raises(InputError) as info:
        call()
    for fragment in fragments:
        assert __import__("re").search(fragment, str(info.value)), str(info.value)


# --- solvers: Solution methods -------------------------------------------------------------------------


def _tied_problem(dtype=np.float64):
    """Four groups of three views, K = I + 0.5 E E^T (E the group indicators), reg = 0.1.

    By hand (THEORY §3, O1): T = A - (reg/2) K^{-1}; on each group indicator A = 3 and K = 2.5, so
    T = 3 - 0.05 / 2.5 = 2.98 (multiplicity 4); on zero-sum vectors T = -0.05. At d = 2 the tie is
    split, and every optimum has loss ||A||_F^2 - 2 * 2.98^2 = 36 - 17.7608 = 18.2392."""
    g = np.repeat(np.arange(4), 3)
    E = np.eye(4)[g]
    K = (np.eye(12) + 0.5 * E @ E.T).astype(dtype)
    return K, _clique_A(g).astype(dtype), 18.2392


def _o1_literal_loss(Z, C, K, A, reg):
    """||Z Z^T - A||_F^2 + reg tr(C^T K C) in float64 NumPy, from the definition."""
    Z, C, K, A = (np.asarray(x, dtype=np.float64) for x in (Z, C, K, A))
    return float(np.sum((Z @ Z.T - A) ** 2) + reg * np.sum(C * (K @ C)))


@pytest.mark.parametrize("method", ["subset", "iterative", "dense"])
def test_alternative_optimum_on_every_path(method):
    """Solution.alternative: another optimum of the same problem (THEORY §3 'Uniqueness'); the partial
    paths re-solve densely first (documented). Tolerance: every quantity is O(10) and built from
    O(N) = 12-term sums of O(1) products, so the literal loss is exact to ~N * 10 * 36 eps; use 1e-12."""
    K, A, minimum = _tied_problem()
    sol = kt.solve("contrastive", K, A, 2, method=method, reg=0.1)
    assert sol.is_unique is False
    assert sol.method in (method, "dense")  # iterative may fall back on this repeated spectrum
    alt = sol.alternative(3)
    assert alt.method == "dense"
    assert alt.is_unique is False and alt.gap == pytest.approx(0.0, abs=1e-12)
    assert abs(_o1_literal_loss(alt.embedding, alt.coef, K, A, 0.1) - minimum) <= 1e-12 * 36 * 100
    assert abs(float(alt.loss) - minimum) <= 1e-12 * 36 * 100
    assert np.max(np.abs(np.asarray(alt.gram) - np.asarray(sol.gram))) > 0.1  # a different optimum
    # deterministic in the seed, and itself rotatable (it is also a tied optimum)
    np.testing.assert_array_equal(np.asarray(sol.alternative(3).gram), np.asarray(alt.gram))
    again = alt.alternative(4)
    assert abs(_o1_literal_loss(again.embedding, again.coef, K, A, 0.1) - minimum) <= 1e-12 * 36 * 100


def test_alternative_of_a_dense_solution_keeps_its_attributes_and_dtype():
    for dtype in (np.float64, np.float32):
        K, A, minimum = _tied_problem(dtype)
        sol = kt.solve("contrastive", K, A, 2, method="dense", reg=0.1)
        alt = sol.alternative(11)
        assert (alt.method, alt.is_unique, alt.gap, alt.dim) == (sol.method, sol.is_unique, sol.gap, sol.dim)
        assert alt.embedding.dtype == dtype and alt.coef.dtype == dtype
        # float32: each of the ~N^2 = 144 entries of Z Z^T - A is exact to ~N eps32 * 9, the sum of squares
        # to ~N^2 eps32 * 36: 1e-3 is a generous bound, still far below the loss gap 2.98^2 ~ 8.9 of a non-optimum.
        tol = 1e-9 if dtype == np.float64 else 1e-3
        assert abs(_o1_literal_loss(alt.embedding, alt.coef, K, A, 0.1) - minimum) <= tol


def test_alternative_rotates_only_within_the_tie_when_it_starts_after_the_first_eigenvalue():
    """Groups of sizes 4, 3, 3, 3 with self-loops, K = I, O1: T = A has eigenvalues 4, 3, 3, 3, 0...
    At d = 2 the tie {3, 3, 3} starts at index 1: the alternative keeps the top eigenvector and
    rotates one vector within the tie. Its loss must still be the minimum 16 + 27 - 16 - 9 = 18."""
    g = np.repeat(np.arange(4), [4, 3, 3, 3])
    A = _clique_A(g)
    sol = kt.solve("contrastive", np.eye(g.size), A, 2, method="dense")
    assert sol.tied_indices() == [1, 2, 3]
    alt = sol.alternative(0)
    assert alt.embedding.shape == (g.size, 2)
    assert abs(_o1_literal_loss(alt.embedding, alt.coef, np.eye(g.size), A, 0.0) - 18.0) <= 1e-12 * 43 * 100


def test_alternative_refuses_a_rotation_that_is_not_optimal():
    """Planted defect: the solution's eigenvector accessor is replaced by one that returns standard basis
    vectors (not eigenvectors of T = A) for the tied block. The rotated 'alternative' then has a literal
    loss O(1) above the minimum (here >= 1, versus a certified loss_error ~1e-13), so alternative() must
    raise NumericalError with its documented explanation instead of returning a non-optimal solution.
    Instance: groups 3, 3, 3, 3 with self-loops, K = I, O1, d = 2: T = A has eigenvalue 3 four times."""
    import dataclasses

    g = np.repeat(np.arange(4), 3)
    sol = kt.solve("contrastive", np.eye(12), _clique_A(g), 2, method="dense")
    assert sol.is_unique is False and sol.tied_indices() == [0, 1, 2, 3]

    class WrongVectors:
        def columns(self, indices):
            return np.eye(12)[:, [1 + 3 * i for i in range(len(indices))]]  # one view per group: not an eigenvector

    planted = dataclasses.replace(sol, _spectrum=dataclasses.replace(sol._spectrum, vectors=WrongVectors()))
    with pytest.raises(
        kt.errors.NumericalError,
        match=r"the tie between eigenvalues \[0, 1, 2, 3\] is not exact "
        r"enough to rotate within; no alternative is returned\.$",
    ):
        planted.alternative(1)


def test_tied_indices_follow_the_documented_band():
    """With tie_rtol the band is e = tie_rtol * (largest of the leading d + 1 eigenvalues); an
    eigenvalue is tied with the d-th when |lambda_i - lambda_d| <= 2e (module docstring), and for
    psd-top only certified-positive ones (lambda_i > e) count. T = A = diag(w) with K = I, so the
    eigenvalues are exactly w (a diagonal matrix is its own eigendecomposition)."""
    w = np.array([1.0, 0.92, 0.85, 0.79, 0.2, 0.0])
    sol = kt.solve("contrastive", np.eye(6), np.diag(w), 2, tie_rtol=0.05)  # e = 0.05, 2e = 0.1
    assert sol.tied_indices() == [0, 1, 2]  # |0.79 - 0.92| = 0.13 > 0.1
    w = np.array([1.0, 0.08, 0.04, 0.0, 0.0, 0.0])
    sol = kt.solve("contrastive", np.eye(6), np.diag(w), 2, tie_rtol=0.05)
    assert sol.tied_indices() == [1]  # 0.04 and the zeros are within 2e but not > e
    # d = N: the d-th eigenvalue is tied with itself
    sol = kt.solve("contrastive", np.eye(4), np.diag([3.0, 2.0, 1.0, 0.5]), 4)
    assert sol.tied_indices() == [3]


def test_tie_band_boundaries_are_as_documented():
    """Module docstring of kssl_theory.kernel_regime.engine: unique iff |lambda_d - lambda_{d+1}| > 2e, so a gap
    of exactly 2e is a tie; psd-top keeps lambda_i only when lambda_i > e, so an eigenvalue exactly e is not a
    certified-positive tie partner (and lambda_{d+1} <= e makes the optimum unique). With K = I and
    A = diag(w) every quantity is exact in binary: the eigenvalues are w, e = tie_rtol * 4 = 0.5 and
    e = tie_rtol * 2 = 1.0 are exact products, and the certified eigenvalue error (~1e-16) is below e."""
    sol = kt.solve("contrastive", np.eye(4), np.diag([4.0, 3.0, 0.0, 0.0]), 1, tie_rtol=0.125)
    assert sol.eigenvalue_error == 0.5 and sol.gap == 1.0
    assert sol.is_unique is False and sol.tied_indices() == [0, 1]
    sol = kt.solve("contrastive", np.eye(4), np.diag([2.0, 1.0, 0.0, 0.0]), 1, tie_rtol=0.5)
    assert sol.eigenvalue_error == 1.0
    assert sol.is_unique is True and sol.tied_indices() == [0]


def test_transform_validates_new_kernel_rows():
    K = _rbf_K(N, seed=6)
    sol = kt.solve("contrastive", K, _clique_A(GROUPS), 2)
    with pytest.raises(InputError, match=rf"^K_new must have {N} columns"):
        sol.transform(np.ones((3, N + 1)))
    with pytest.raises(InputError, match=r"^K_new must be a 2-D matrix"):
        sol.transform(np.ones(N))
    with pytest.raises(InputError, match=r"different array libraries \(K_new: array_api_strict"):
        sol.transform(xs.asarray(np.ones((3, N))))
    # rectangular blocks are fine: oracle K_new @ coef by definition
    Kn = np.random.default_rng(0).random((3, N))
    np.testing.assert_allclose(sol.transform(Kn), Kn @ np.asarray(sol.coef), rtol=0, atol=0)


# --- solvers: loss() validates its inputs ---------------------------------------------------------


def _loss_args():
    rng = np.random.default_rng(8)
    Z = rng.normal(size=(4, 2))
    return {"Z": Z, "A": _clique_A([0, 0, 1, 1]), "K": _rbf_K(4), "coef": rng.normal(size=(4, 2))}


@pytest.mark.parametrize(
    "override, fragment",
    [
        ({"Z": np.ones(4)}, r"^Z must be a 2-D matrix"),
        ({"A": np.triu(np.ones((4, 4)))}, r"^A is not symmetric"),
        ({"A": np.eye(3)}, r"^A must have 4 rows"),
        ({"K": None}, r"needs K= and coef="),
        ({"coef": None}, r"needs K= and coef="),
        ({"K": np.triu(np.ones((4, 4)))}, r"^K is not symmetric"),
        ({"K": np.eye(3)}, r"^K must have 4 rows"),
        ({"coef": np.ones((3, 2))}, r"^coef must have 4 rows"),
        ({"coef": np.ones(4)}, r"^coef must be a 2-D matrix"),
        ({"Z": "strict"}, r"different array libraries \(Z: array_api_strict"),
        ({"A": "strict"}, r"different array libraries \(.*A: array_api_strict"),
        ({"K": "strict"}, r"different array libraries \(.*K: array_api_strict"),
        ({"coef": "strict"}, r"different array libraries \(.*coef: array_api_strict"),
    ],
)
def test_loss_validates_every_argument(override, fragment):
    args = _loss_args()
    for key, value in override.items():
        args[key] = xs.asarray(args[key]) if isinstance(value, str) else value
    with pytest.raises(InputError, match=fragment):
        kt.loss("contrastive", args["Z"], args["A"], K=args["K"], coef=args["coef"], reg=0.1)


def test_loss_without_reg_needs_no_kernel():
    """Definition: reg = 0 needs neither K nor coef; the value is ||Z Z^T - A||_F^2."""
    args = _loss_args()
    value = float(kt.loss("contrastive", args["Z"], args["A"]))
    expected = float(np.sum((args["Z"] @ args["Z"].T - args["A"]) ** 2))
    assert abs(value - expected) <= 16 * 4 * EPS64 * max(1.0, expected)


# --- accuracy: literal_loss_tolerance (its docstring states the formula) ---------------------------------


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize(
    "name, opts",
    [
        ("contrastive", {}),
        ("contrastive", {"reg": 0.1}),
        ("vicreg", {"beta": 0.5}),
        ("vicreg", {"beta": 0.5, "reg": 0.1}),
        ("laplacian_eigenmaps", {}),
        ("whitened", {}),
    ],
)
def test_literal_loss_tolerance_follows_its_documented_formula(name, opts, dtype):
    """Docstring of accuracy.literal_loss_tolerance: loss_error + 4 (N + d) eps (||Z||_F^2 + ||A||_F + sqrt d)^2
    + N eps (1 + 2 beta) ||A||_inf ||Z||_F^2 (+ N eps reg ||K||_inf ||C||_F^2 when reg > 0), eps of the
    working dtype, beta = 0 and no penalty term for objectives without beta / reg (O3, O4).
    Oracle: that formula evaluated in float64 NumPy
    from the solution's own Z, C, K. Agreement: the package sums ||Z||_F^2 and the norms in the working
    dtype, relative error <= ~N^2 eps of that dtype (N = 8): rtol 1e-12 (float64) / 1e-4 (float32). Also
    sound: the loss recomputed from its definition in the working dtype (kt.loss) is within it."""
    K = _rbf_K(N, seed=2).astype(dtype)
    A = _clique_A(GROUPS).astype(dtype)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        sol = kt.solve(name, K, A, 2, **opts)
    from kssl_theory.kernel_regime.accuracy import literal_loss_tolerance

    got = literal_loss_tolerance(sol, A, K)
    eps = float(np.finfo(dtype).eps)
    Z, C, K64, A64 = (np.asarray(x, dtype=np.float64) for x in (sol.embedding, sol.coef, K, A))
    n, d = Z.shape
    z2 = float(np.sum(Z * Z))
    beta, reg = opts.get("beta", 0.0), opts.get("reg", 0.0)
    expected = (
        sol.loss_error
        + 4 * (n + d) * eps * (z2 + np.linalg.norm(A64) + np.sqrt(d)) ** 2
        + n * eps * (1 + 2 * beta) * np.abs(A64).sum(axis=1).max() * z2
        + n * eps * reg * np.abs(K64).sum(axis=0).max() * float(np.sum(C * C))
    )
    assert got == pytest.approx(expected, rel=1e-12 if dtype == np.float64 else 1e-4)
    literal = float(kt.loss(name, sol.embedding, A, K=K, coef=sol.coef, **opts))
    assert abs(literal - float(sol.loss)) <= got


def test_alternative_on_array_api_strict():
    """The array-API contract (README: any array-API namespace): Solution.alternative works on
    array-api-strict arrays (its loss check goes through literal_loss_tolerance in that namespace) and
    returns another optimum. Oracle: the hand-derived minimum 18.2392 of _tied_problem; tolerance as in
    test_alternative_optimum_on_every_path."""
    K, A, minimum = _tied_problem()
    sol = kt.solve("contrastive", xs.asarray(K), xs.asarray(A), 2, method="dense", reg=0.1)
    alt = sol.alternative(3)
    assert isinstance(alt.embedding, type(xs.asarray(K)))
    assert abs(float(alt.loss) - minimum) <= 1e-12 * 36 * 100
    Z, C = (np.asarray(x) for x in (alt.embedding, alt.coef))
    assert abs(_o1_literal_loss(Z, C, K, A, 0.1) - minimum) <= 1e-12 * 36 * 100


def test_alternative_keeps_the_device():
    """Device contract (outputs live where the inputs live): Solution.alternative on array-api-strict arrays
    on a second device builds its rotation there and returns an embedding on that device (arrays on
    different array-api-strict devices cannot be combined, so a rotation built on the default device
    fails). Oracle: the hand-derived minimum of _tied_problem, tolerance as above."""
    K, A, minimum = _tied_problem()
    sol = kt.solve("contrastive", xs.asarray(K, device=DEV1), xs.asarray(A, device=DEV1), 2, method="dense", reg=0.1)
    alt = sol.alternative(3)
    assert alt.embedding.device == DEV1 and alt.coef.device == DEV1
    assert abs(float(alt.loss) - minimum) <= 1e-12 * 36 * 100


# --- accuracy: penalty deflation and refinement (module docstring of kssl_theory.kernel_regime.accuracy) -------

# A hand-checkable penalty-free part: row sums of |B| are 1.5, 2.75, 1.25, so b = ||B||_inf = 2.75;
# column sums of squares are 1.25, 4.3125, 1.0625.
B3 = np.array([[1.0, 0.5, 0.0], [0.5, 2.0, 0.25], [0.0, 0.25, 1.0]])


def _deflate(p, Bm=B3):
    from kssl_theory.kernel_regime.accuracy import deflate_penalty

    p = np.asarray(p, dtype=float)
    keep, bound = deflate_penalty(Bm - np.diag(p), Bm, p)
    return [int(i) for i in keep], float(bound)


def test_deflate_penalty_drops_the_largest_admissible_prefix():
    """Documented rule: in order of decreasing penalty, D grows while eps_D = sum_{j in D} ||B_:,j||^2 /
    (min_D p - b) <= eps * b, and never to all coordinates. p = (0, 1e20, 1e18): both penalised coordinates
    qualify (eps_D ~ 5e-18 << eps * 2.75 ~ 6e-16); the bound is (4.3125 + 1.0625) / (1e18 - 2.75), computed
    here by hand (4 roundings: relative 1e-15 is ample)."""
    keep, bound = _deflate([0.0, 1e20, 1e18])
    assert keep == [0]
    assert abs(bound - 5.375 / (1e18 - 2.75)) <= 1e-15 * bound


@pytest.mark.parametrize(
    "ratio_in_eps, expected_keep",
    [
        (1.0, [0, 2]),  # eps_D = 1.0 eps  <= eps * b = 2.75 eps: drop coordinate 1
        (4.0, [0, 1, 2]),  # eps_D = 4.0 eps  >  2.75 eps: keep it
    ],
)
def test_deflate_penalty_budget_is_eps_times_b(ratio_in_eps, expected_keep):
    """One penalised coordinate (j = 1, column sum of squares 4.3125) with p_1 chosen so that
    eps_D = 4.3125 / (p_1 - b) is a given multiple of eps; the documented budget is eps * b = 2.75 eps
    (b = ||B||_inf by hand)."""
    p1 = 2.75 + 4.3125 / (ratio_in_eps * EPS64)
    keep, bound = _deflate([0.0, p1, 0.0])
    assert keep == expected_keep
    if len(keep) == 2:
        assert abs(bound - ratio_in_eps * EPS64) <= 1e-12 * EPS64


def test_deflate_penalty_of_an_empty_problem_drops_nothing():
    """deflate_penalty is public (kssl_theory.kernel_regime.accuracy.__all__) and takes any r >= 0: for r = 0 there is
    nothing to keep or drop, so keep is empty and the bound is 0 ("0 if nothing was dropped"), on NumPy and
    array-api-strict alike."""
    from kssl_theory.kernel_regime.accuracy import deflate_penalty

    for xp in (np, xs):
        keep, bound = deflate_penalty(xp.zeros((0, 0)), xp.zeros((0, 0)), xp.zeros((0,)))
        assert np.asarray(keep).size == 0 and bound == 0.0


def test_deflate_penalty_keeps_at_least_one_coordinate_and_drops_decoupled_ones():
    # r = 1: nothing may be dropped, however large the penalty.
    assert _deflate([1e30], Bm=np.array([[2.0]])) == ([0], 0.0)
    # A coordinate with a zero column of B is decoupled: T = diag(1, -1.5) exactly, so it carries only
    # the eigenvalue -1.5 and is dropped with bound 0 even though its penalty barely exceeds b = 1.
    assert _deflate([0.0, 1.5], Bm=np.array([[1.0, 0.0], [0.0, 0.0]])) == ([0], 0.0)


@pytest.mark.parametrize("p1", [1.0, 0.5])
def test_deflate_penalty_never_drops_a_coordinate_whose_penalty_does_not_exceed_b(p1):
    """Module docstring of kssl_theory.kernel_regime.accuracy: only coordinates with pi = min_D p > b (strictly) may be
    deflated, since T_DD <= (b - pi) I < 0 is what keeps them from carrying positive eigenvalues. Even a
    fully decoupled coordinate (zero column of B) with penalty equal to b = ||B||_inf = 1 (or below it)
    must be kept: pi = p1 <= b gives b - pi >= 0, not < 0. Exact data (b = 1, p1 dyadic)."""
    assert _deflate([0.0, p1], Bm=np.array([[1.0, 0.0], [0.0, 0.0]])) == ([0, 1], 0.0)


def test_deflate_penalty_budget_boundary_is_inclusive():
    """Module docstring: the engine drops the largest D with eps_D <= eps * b (inclusive). Exact data:
    B = [[1/2, 1/2], [1/2, 1/2]] has b = ||B||_inf = 1 and column sum of squares 1/2, and p_1 = 1 + 2^51 makes
    eps_D = (1/2) / 2^51 = 2^-52 = eps * b exactly (every operation is exact in binary64)."""
    keep, bound = _deflate([0.0, 1.0 + 2.0**51], Bm=np.full((2, 2), 0.5))
    assert (keep, bound) == ([0], EPS64)


def _random_B5():
    G = np.random.default_rng(0).normal(size=(5, 5))
    return (G + G.T) / 4


def _dyadic_B5():
    """A dense symmetric B with entries k/8 whose largest absolute row sum is exactly 1 (||B||_inf = 1 is
    exact in floating point, as for a row-normalised graph)."""
    S = np.array([[1, 2, -2, 2, 0], [2, 1, -1, 2, -2], [-2, -1, 0, 0, -2], [2, 2, 0, -2, 2], [0, -2, -2, 2, -1]])
    return S / 8.0


@pytest.mark.parametrize(
    "Bm, p",
    [(_random_B5(), [0.0, 0.0, 0.0, 1e12, 1e14]), (_dyadic_B5(), [0.0, 0.0, 0.0, 1e12, 1e14])],
    ids=["random", "unit-inf-norm"],
)
@pytest.mark.parametrize("k", [1, 3])
def test_refine_penalised_makes_eigenvalues_and_residuals_sharp(Bm, p, k):
    """T = B - diag(p), ||B|| ~ 1, p up to 1e14. A backward-stable eigensolver returns eigenvalues of T
    with absolute error ~ eps ||T|| ~ 1e-2 (and residuals of that size). After refinement the k leading
    eigenvalues must match a 50-digit mpmath oracle, and the residuals ||Tv - theta v|| must be small, to
    ~N eps ||B||_inf (rounding of O(N)-term sums of O(||B||) products); allow 100 x that. Only the k leading
    pairs are refined (docstring), so the others come back exactly as given. Rayleigh-Ritz values are lower
    bounds of the eigenvalues (docstring; Courant-Fischer). k = 1 is below the number of lightly penalised
    coordinates (3): it failed until the Rayleigh-Ritz block covered all of them (an xfail before)."""
    import mpmath

    from kssl_theory.kernel_regime.accuracy import refine_penalised

    p = np.asarray(p)
    T = Bm - np.diag(p)
    w, V = np.linalg.eigh(T)
    w, V = w[::-1].copy(), V[:, ::-1].copy()
    w2, V2 = refine_penalised(Bm, p, w, V, k)
    with mpmath.workdps(50):
        exact = sorted((float(x) for x in mpmath.eigsy(mpmath.matrix(T.tolist()))[0]), reverse=True)
    tol = 100 * 5 * EPS64 * np.abs(Bm).sum(1).max()
    np.testing.assert_array_equal(np.asarray(w2[k:]), w[k:])
    np.testing.assert_array_equal(np.asarray(V2[:, k:]), V[:, k:])
    assert np.all(np.asarray(w2[:k]) <= np.asarray(exact[:k]) + tol)
    np.testing.assert_allclose(np.asarray(w2[:k]), exact[:k], rtol=0, atol=tol)
    for i in range(k):
        v = np.asarray(V2[:, i])
        assert abs(np.linalg.norm(v) - 1.0) <= tol
        assert np.linalg.norm(T @ v - float(w2[i]) * v) <= tol


def test_eigenvalue_error_includes_the_penalty_deflation_bound(monkeypatch):
    """Solution docstring: eigenvalue_error is accuracy.eigenpair_error plus the penalty-deflation bound.
    Construction: K with one eigenvalue 1e-11 (penalty lambda / (2 mu) = 5e10) whose eigen-coordinate is
    coupled to B = U^T A U only by entries ~1e-4, so deflate_penalty drops it with a bound ~1e-19 > 0
    (precondition). Oracle: the two documented parts, recorded from the public functions as the solve calls
    them; their sum must be what the solution reports (the bound is ~1e-4 of the total: visible in binary64)."""
    import kssl_theory.kernel_regime.engine as solvers_mod

    seen = {}
    deflate, pair_error = solvers_mod.deflate_penalty, solvers_mod.eigenpair_error

    def deflate_spy(*args):
        seen["keep"], seen["bound"] = deflate(*args)
        return seen["keep"], seen["bound"]

    def pair_error_spy(*args, **kwargs):
        seen["pairs"] = pair_error(*args, **kwargs)
        return seen["pairs"]

    monkeypatch.setattr(solvers_mod, "deflate_penalty", deflate_spy)
    monkeypatch.setattr(solvers_mod, "eigenpair_error", pair_error_spy)
    n = 8
    Q, _ = np.linalg.qr(np.random.default_rng(0).normal(size=(n, n)))
    K = (Q * np.r_[np.linspace(1.0, 2.0, n - 1), 1e-11]) @ Q.T
    Bt = np.random.default_rng(1).normal(size=(n, n))
    Bt = (Bt + Bt.T) / 4
    Bt[-1, :] *= 1e-4
    Bt[:, -1] *= 1e-4
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        sol = kt.solve("contrastive", (K + K.T) / 2, Q @ Bt @ Q.T, 2, reg=1.0, method="dense")
    assert seen["keep"].size == n - 1 and seen["bound"] > 0
    assert sol.eigenvalue_error == seen["pairs"] + seen["bound"]
    assert sol.eigenvalue_error != seen["pairs"]


def test_structured_path_emits_no_floating_point_warnings():
    """A well-posed clique problem with a well-conditioned K must not divide by zero anywhere."""
    K = _rbf_K(N, seed=9, ridge=0.1)
    rel = RelationGraph.from_groups(GROUPS)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        for name, opts in [
            ("contrastive", {}),
            ("vicreg", {"beta": 0.5}),
            ("laplacian_eigenmaps", {}),
            ("laplacian_eigenmaps", {"normalized": True}),
        ]:
            assert kt.solve(name, K, rel, 2, **opts).method == "structured"


def test_alternative_of_a_subset_solution_is_resolved_densely():
    """Documented: on the partial paths the problem is re-solved densely before rotating (here a union of
    cliques with reg = 0, where the automatic choice would be the structured path)."""
    g = np.repeat(np.arange(4), 3)
    sol = kt.solve("contrastive", np.eye(12), _clique_A(g), 2, method="subset")
    alt = sol.alternative(2)
    assert alt.method == "dense"
    # O1, K = I: minimum ||A||^2 - 2 * 3^2 = 36 - 18 = 18 (T = A has eigenvalue 3 four times)
    assert abs(_o1_literal_loss(alt.embedding, alt.coef, np.eye(12), _clique_A(g), 0.0) - 18.0) <= 1e-10


# --- solvers: the iterative path's two safety checks (docstring of _iterative_eigenpairs) ---------------


def _generic_A(n=30, scale=1.0, seed=12):
    """A = Q diag(lam) Q^T with well-separated eigenvalues 10, 8, 6, 4, then (0.1, 2): O1 with K = I has
    target T = A, so the exact top eigenvalues are known by construction."""
    Q, _ = np.linalg.qr(np.random.default_rng(seed).normal(size=(n, n)))
    lam = np.r_[[10.0, 8.0, 6.0, 4.0], np.linspace(2.0, 0.1, n - 4)] * scale
    A = (Q * lam) @ Q.T
    return (A + A.T) / 2, np.sort(lam)[::-1]


def _materialise(S):
    """The matrix Lanczos was given: a formed array, or a LinearOperator (the matrix-free path) applied to I."""
    return np.asarray(S) if isinstance(S, np.ndarray) else S @ np.eye(S.shape[0])


def _planted_eigsh(monkeypatch, defect):
    """Replace SciPy's Lanczos solver by one that returns a planted defect on its first (eigenvector) call
    and the true answer (real eigsh) on the deflation call."""
    import scipy.sparse.linalg as spla

    real = spla.eigsh

    def fake(S, k=6, which="LM", return_eigenvectors=True, **kw):  # SciPy's defaults
        if not return_eigenvectors:
            return real(S, k=k, which=which, return_eigenvectors=False, **kw)
        w, V = np.linalg.eigh(_materialise(S))
        top = which == "LA"  # the rule's end of the spectrum: largest (top) or smallest (bottom)
        if defect == "missed-top":  # Lanczos missed the extreme eigenvalue: pairs 2 .. k+1 from that end
            sel = list(range(len(w) - 1 - k, len(w) - 1)) if top else list(range(1, k + 1))
            return w[sel], V[:, sel]
        sel = list(range(len(w) - k, len(w))) if top else list(range(k))  # "inaccurate": vectors off by 1e-6
        Vp = V[:, sel] + 1e-6 * np.random.default_rng(0).normal(size=(len(w), k))
        return w[sel], Vp / np.linalg.norm(Vp, axis=0)

    monkeypatch.setattr(spla, "eigsh", fake)


@pytest.mark.parametrize(
    "defect, scale", [("missed-top", 1.0), ("missed-top", 1e-6), ("inaccurate", 1.0), ("inaccurate", 1e-6)]
)
@pytest.mark.parametrize("rule", ["top", "bottom"])
def test_iterative_path_falls_back_when_lanczos_is_wrong(monkeypatch, defect, scale, rule):
    """Planted defects: Lanczos misses the top eigenvalue (the deflation run must find it beyond the last
    returned one), or returns vectors with residual ~1e-6 ||M|| >> ITERATIVE_RTOL ||M|| (the residual check
    must see it, whatever the scale of M). Either way the documented behaviour is a dense fallback that
    reports method 'dense' and the exact top eigenvalues (oracle: the construction; eigenvalues of a
    symmetric 30 x 30 matrix by LAPACK are exact to ~N eps ||A||; allow 100 x that)."""
    A, lam = _generic_A(scale=scale)
    _planted_eigsh(monkeypatch, defect)
    if rule == "top":
        sol = kt.solve("contrastive", np.eye(30), A, 2, method="iterative")
        expected = lam[:3]
    else:
        # O4's Laplacian twin with K = I minimises: spectral matrix K^{1/2} L K^{1/2} = L, bottom rule.
        # L = D - A of the (signed, symmetric) A; oracle: NumPy's eigvalsh of that L.
        L = np.diag(A.sum(1)) - A
        sol = kt.solve("whitened", np.eye(30), RelationGraph(A, laplacian=L), 2, method="iterative", laplacian=True)
        lam = np.linalg.eigvalsh(L)
        expected = lam[:3]
    assert sol.method == "dense"
    np.testing.assert_allclose(
        np.asarray(sol.eigenvalues[:3]), expected, rtol=0, atol=100 * 30 * EPS64 * np.abs(lam).max()
    )


@pytest.mark.parametrize("scale", [1.0, 1e-6])
def test_iterative_path_is_taken_and_exact_without_defects(scale):
    """A well-separated spectrum at any scale: ARPACK converges and neither check may reject it."""
    A, lam = _generic_A(scale=scale)
    sol = kt.solve("contrastive", np.eye(30), A, 2, method="iterative")
    assert sol.method == "iterative"
    np.testing.assert_allclose(np.asarray(sol.eigenvalues), lam[:3], rtol=0, atol=100 * 30 * EPS64 * lam[0])


@pytest.mark.parametrize("name, opts", [("vicreg", {"reg": 0.1}), ("laplacian_eigenmaps", {})])
def test_iterative_cannot_compute_the_whole_spectrum_and_says_so(name, opts):
    """d + 1 = N asks Lanczos for every eigenpair, which ARPACK cannot do (SciPy's eigsh documents k < N).
    Solution.method is documented to tell which path computed the eigenpairs, so it must say 'dense'
    (and the whole spectrum, N eigenvalues, is listed as on the dense path); no foreign warning may leak
    (SciPy warns when it swaps in a dense eigh for k >= N). Oracle: the documentation of solve and eigsh."""
    g = np.repeat(np.arange(4), 3)
    n = g.size
    K = _rbf_K(n, seed=0)
    with warnings.catch_warnings(record=True) as caught:  # recorded, not raised: an exception
        warnings.simplefilter("always")  # inside eigsh would itself force the fallback
        sol = kt.solve(name, K, _clique_A(g), n - 1, method="iterative", **opts)
    assert [str(w.message) for w in caught] == []
    assert sol.method == "dense"
    assert sol.eigenvalues.shape == (n,)


def _spectrum_A(Q, lam):
    A = (Q * lam) @ Q.T
    return (A + A.T) / 2


def _lanczos_returning(monkeypatch, pairs):
    """SciPy's eigsh replaced on its first (eigenvector) call by ``pairs(S, k, which) -> (w, V)``; the
    deflation call (no eigenvectors) runs the real eigsh with the package's own arguments."""
    import scipy.sparse.linalg as spla

    real = spla.eigsh

    def fake(S, k=6, which="LM", return_eigenvectors=True, **kw):  # SciPy's defaults
        if not return_eigenvectors:
            return real(S, k=k, which=which, return_eigenvectors=False, **kw)
        return pairs(_materialise(S), k, which)

    monkeypatch.setattr(spla, "eigsh", fake)


@pytest.mark.parametrize("factor, accepted", [(0.7, True), (1.5, False)])
def test_iterative_residual_check_is_per_pair(monkeypatch, factor, accepted):
    """The matrix-free path's documented check (_operator_eigenpairs): *every returned pair* must have
    certified error <= ITERATIVE_RTOL * ||Sbar 1||_inf, the norm bound from the majorant (the constant's value
    is the package's; the test checks the rule's meaning, per pair, at factors 0.7 and 1.5 away from it).
    Construction: A = Q diag(lam) Q^T with Q a normalised 32 x 32 Hadamard matrix (every eigenvector entry
    is +-1/sqrt(32)), O1 with K = I so S = A and Sbar = |A| (max row sum of |A| computed here from A); the
    planted Lanczos returns the exact top-3 eigenvectors of the operator it is given with eigenvalues
    shifted by delta = factor * ITERATIVE_RTOL * max row sum |A|, so each pair's residual is exactly delta
    (to ~N eps ||A||, and the rounding term is ~1e-13 << delta),
    the residuals of all three together have norm sqrt(3) delta, and every row of the residual matrix has
    norm sqrt(3/32) delta. 0.7: each pair passes, the solve must stay iterative and report the shifted
    eigenvalues within its own eigenvalue_error (a sound bound: the true error is delta). 1.5: every pair
    fails, the solve must fall back to dense and report the exact eigenvalues (to 100 N eps ||A||)."""
    from scipy.linalg import hadamard

    from kssl_theory.kernel_regime.engine import ITERATIVE_RTOL

    n = 32
    Q = hadamard(n) / np.sqrt(n)
    lam = np.r_[[10.0, 8.0, 6.0, 4.0], np.linspace(2.0, 0.1, n - 4)]
    A = _spectrum_A(Q, lam)
    delta = factor * ITERATIVE_RTOL * np.abs(A).sum(axis=1).max()
    _lanczos_returning(
        monkeypatch, lambda S, k, which: (np.sort(np.linalg.eigvalsh(S))[::-1][:k] + delta, Q[:, :k].copy())
    )
    sol = kt.solve("contrastive", np.eye(n), A, 2, method="iterative")
    got = np.asarray(sol.eigenvalues)[:3]
    if accepted:
        assert sol.method == "iterative"
        assert np.all(np.abs(got - lam[:3]) <= sol.eigenvalue_error)
        assert sol.eigenvalue_error >= 0.99 * delta
    else:
        assert sol.method == "dense"
        np.testing.assert_allclose(got, lam[:3], rtol=0, atol=100 * n * EPS64 * 10.0)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_iterative_deflation_check_finds_a_missed_eigenvalue_inside_a_cluster(monkeypatch, seed):
    """The deflation check (docstring of _iterative_eigenpairs) must find an eigenvalue the Lanczos run
    missed, also when it lies only 0.002 beyond the last returned one, on top of a dense cluster (a slowly
    converging Lanczos problem: a loosely converged second run stops at a Ritz value below the edge).
    Construction: N = 100, spectrum 10, 8, 6 (missed), 5.998, then 96 values in [0, 5.995], Haar
    eigenvectors (three seeds); the planted Lanczos returns the exact pairs 10, 8, 5.998. Documented
    outcome: fall back to dense, which lists the true top eigenvalues 10, 8, 6 (LAPACK: exact to
    ~N eps ||A||; allow 100 x). Accepting the planted pairs would report 5.998 with a residual bound of
    round-off size, i.e. an eigenvalue_error that no longer bounds the error 0.002."""
    n = 100
    Q, _ = np.linalg.qr(np.random.default_rng(seed).normal(size=(n, n)))
    lam = np.r_[[10.0, 8.0, 6.0, 5.998], np.linspace(5.995, 0.0, n - 4)]
    A = _spectrum_A(Q, lam)
    keep = [0, 1, 3]  # of the operator Lanczos is given (a shift of A: same eigenvectors, order kept)
    _lanczos_returning(monkeypatch, lambda S, k, which: (np.sort(np.linalg.eigvalsh(S))[::-1][keep], Q[:, keep].copy()))
    sol = kt.solve("contrastive", np.eye(n), A, 2, method="iterative")
    assert sol.method == "dense"
    np.testing.assert_allclose(np.asarray(sol.eigenvalues)[:3], lam[:3], rtol=0, atol=100 * n * EPS64 * 10.0)


def test_iterative_path_accepts_a_tie_just_past_the_cut():
    """The deflation check rejects a run only when the deflated matrix has an eigenvalue *beyond* the last
    returned one (docstring of _iterative_eigenpairs); an exact copy of it (a tie between pairs d + 1 and
    d + 2, which decides nothing at dimension d) is not beyond. Construction: spectrum 10, 8, 6, 6, then
    28 values in [2, 0.1], Haar eigenvectors, O1 with K = I, d = 2: real ARPACK returns 10, 8, 6, the
    deflated run finds the other 6 (to round-off ~N eps ||A||), and the solve must stay iterative with the
    exact top eigenvalues (to 100 N eps ||A||)."""
    n = 32
    Q, _ = np.linalg.qr(np.random.default_rng(5).normal(size=(n, n)))
    lam = np.r_[[10.0, 8.0, 6.0, 6.0], np.linspace(2.0, 0.1, n - 4)]
    sol = kt.solve("contrastive", np.eye(n), _spectrum_A(Q, lam), 2, method="iterative")
    assert sol.method == "iterative"
    np.testing.assert_allclose(np.asarray(sol.eigenvalues), lam[:3], rtol=0, atol=100 * n * EPS64 * 10.0)


# --- accuracy.eigenpair_error: sound and sharp (Bauer-Fike) ------------------------------------------------


def _eigenpair_error(M, w, V, k, **kw):
    from kssl_theory.kernel_regime.accuracy import eigenpair_error

    return eigenpair_error(M, np.asarray(w, dtype=float), V, k, **kw)


@pytest.mark.parametrize("scale", [1.0, 0.5, 3.0])
def test_eigenpair_error_is_a_sound_and_sharp_bound(scale):
    """M = diag(lam) has exact eigenpairs (lam_i, e_i). Reporting w_i = lam_i + delta_i with the exact
    vector (scaled by any c != 0) makes the true error exactly |delta_i|; a valid bound must be >= it
    (Bauer-Fike: residual / ||v||, invariant under v -> c v), and a sharp one exceeds it only by the
    rounding allowance, at most ~2 N eps ||M|| per pair; allow 10 N eps ||M||."""
    lam = np.array([5.0, 3.0, 2.0, 1.0, 0.5])
    M = np.diag(lam)
    V = scale * np.eye(5)
    delta = np.array([1e-3, 2e-3, 0.0, 0.0, 0.0])
    slack = 10 * 5 * EPS64 * 5.0
    for k, true in [(1, 1e-3), (2, 2e-3), (4, 2e-3)]:
        e = _eigenpair_error(M, lam + delta, V, k)
        assert true <= e <= true + slack, (k, e)
    assert _eigenpair_error(M, lam, V, 0) == 0.0  # documented: 0.0 when k == 0


def test_eigenpair_error_nonnegative_only_keeps_every_pair_that_may_be_nonnegative():
    """nonnegative_only drops only pairs with w_i + e_i < 0 (they leave [T]_{+,d} whatever their exact
    value). Default is off: every pair counts."""
    lam = np.array([2.0, 0.5, -1.0])
    M = np.diag(lam)
    w = lam + np.array([0.0, 1e-3, 5e-3])
    assert _eigenpair_error(M, w, np.eye(3), 3) >= 5e-3  # default: all pairs
    e = _eigenpair_error(M, w, np.eye(3), 3, nonnegative_only=True)
    assert 1e-3 <= e < 5e-3  # 0.5 + e >= 0 counts, -1 does not


# --- kernel_factor: condition numbers and the eigendecomposition path --------------------------------------


def test_condition_number_of_a_diagonal_kernel_is_exact():
    """For a diagonal K, LAPACK's pocon 1-norm estimate is exact: cond = max/min (here 100). Allow a few
    roundings (10 eps relative)."""
    kf = KernelFactor(np.diag([1.0, 4.0, 100.0]))
    assert kf.is_pd and abs(kf.cond - 100.0) <= 10 * EPS64 * 100.0


def test_condition_number_beyond_the_float_range_sends_k_to_the_eigendecomposition():
    """K = diag(1e300, 1e-300): Cholesky succeeds but the reciprocal condition number 1e-600 underflows to 0,
    so the condition number is infinite and K is not treated as positive definite; its numerical rank
    (eigenvalues above N eps lambda_max) is 1."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        kf = KernelFactor(np.diag([1e300, 1e-300]))
    assert not kf.is_pd and kf.rank == 1 and kf.cond == float("inf")


def test_full_rank_kernel_on_the_eigendecomposition_path_reports_its_condition_number():
    """A rank-6 K with 2-norm condition number exactly 1000 (by construction) and 1-norm condition number
    ~2400; with rtol just below 1/1000 the pocon estimate (~1-norm) rejects Cholesky but every eigenvalue
    is kept: full rank on the eigendecomposition path, cond = lambda_max / lambda_min = 1000 (two LAPACK
    eigenvalues, each exact to ~N eps lambda_max: allow 100 N eps kappa^2)."""
    Q, _ = np.linalg.qr(np.random.default_rng(0).normal(size=(6, 6)))
    lam = np.logspace(0, -3, 6)
    K = (Q * lam) @ Q.T
    K = (K + K.T) / 2
    assert np.linalg.cond(K, 1) > 2 * 1000  # precondition (NumPy): the 1-norm estimate exceeds 1/rtol
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        kf = KernelFactor(K, rtol=0.999e-3)
    assert not kf.is_pd and kf.rank == 6
    assert abs(kf.cond - 1000.0) <= 100 * 6 * EPS64 * 1000.0**2


def test_kernel_factor_cut_offs_at_their_documented_boundaries():
    """kernel_factor docstrings: eigenvalues lambda_i <= rtol * lambda_max count as zero (inclusive), and K is
    rejected when lambda_min < -psd_tol * lambda_max (strict). Diagonal K: LAPACK returns its entries exactly,
    and 0.25 * 1 and -0.5 * 1 are exact, so both tests sit exactly on the boundary."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        kf = KernelFactor(np.diag([1.0, 0.25]), rtol=0.25)
        assert kf.rank == 1 and not kf.is_pd  # 0.25 <= 0.25 * 1: numerically zero
        kf = KernelFactor(np.diag([1.0, -0.5]), psd_tol=0.5)  # -0.5 is not < -0.5 * 1: accepted
        assert kf.rank == 1


def test_singular_kernel_has_infinite_condition_number():
    F = np.random.default_rng(1).normal(size=(6, 3))
    kf = KernelFactor(F @ F.T)
    assert kf.rank == 3 and kf.cond == float("inf") and np.isfinite(kf.effective_cond)


def test_zero_kernel_is_rejected_with_an_explanation():
    with pytest.raises(
        InputError,
        match=r"^K is numerically zero \(largest eigenvalue <= 0\); the kernel carries "
        r"no information\.$",
    ):
        KernelFactor(np.zeros((3, 3)))


def test_eigen_coordinates_scaled_identity():
    from kssl_theory.kernel_regime.kernel_factor import EigenCoordinates

    mu = np.array([4.0, 2.0, 0.5])
    ec = EigenCoordinates(mu)
    np.testing.assert_array_equal(ec.solve_scaled_identity(1.0), np.diag(1 / mu))  # one division: exact here
    z = EigenCoordinates(mu.astype(np.float32)).solve_scaled_identity(0.0)
    assert z.dtype == np.float32 and not np.any(z)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_eigen_coordinates_operations_match_numpy(dtype):
    """EigenCoordinates(mu) is the factor of diag(mu) (class docstring): solve = diag(1/mu) X,
    root = root_t = diag(sqrt(mu)) X (the symmetric root), solve_scaled(c, X) = c diag(1/mu) X,
    project = X. No solver path calls solve or root on it today (docs/mutation-triage.md: dead
    code), but they are the factor protocol the generated targets are printed against
    (whitened_matrix calls kf.root_t), so they must be right when a regenerated target calls them.
    Oracle: NumPy with the diagonal matrices built explicitly, in float64. Tolerance: each entry is one
    or two roundings in the working dtype: 4 eps relative."""
    from kssl_theory.kernel_regime.kernel_factor import EigenCoordinates

    mu = np.array([4.0, 2.0, 0.5, 1e-3])
    X = np.random.default_rng(3).normal(size=(4, 3))
    ec = EigenCoordinates(mu.astype(dtype))
    Xd = X.astype(dtype)
    eps = float(np.finfo(dtype).eps)
    for op, D in [
        ("solve", np.diag(1 / mu)),
        ("root", np.diag(np.sqrt(mu))),
        ("root_t", np.diag(np.sqrt(mu))),
        ("solve_scaled", np.diag(0.75 / mu)),
    ]:
        out = ec.solve_scaled(0.75, Xd) if op == "solve_scaled" else getattr(ec, op)(Xd)
        assert out.dtype == dtype, op
        ref = D @ Xd.astype(np.float64)
        np.testing.assert_allclose(out.astype(np.float64), ref, rtol=4 * eps, atol=0, err_msg=op)
    assert ec.project(Xd) is Xd
    assert not np.any(ec.solve_scaled(0.0, Xd))


# --- solvers: tie_rtol, the zero cut and dtype on every path ---------------------------------------------


@pytest.mark.parametrize(
    "name, w, dim, expected_band",
    [
        # psd-top: the largest NON-NEGATIVE eigenvalue among the leading d + 1 (0.5), times tie_rtol
        ("contrastive", [0.5, -2.0, -3.0], 2, 0.1 * 0.5),
        # top (O4, K = I: S = A): the largest |eigenvalue| among the leading d + 1 = 3: |-3|
        ("whitened", [0.5, 0.2, -3.0, -5.0], 2, 0.1 * 3.0),
    ],
)
def test_tie_rtol_band_is_relative_to_the_leading_eigenvalues(name, w, dim, expected_band):
    """Documented: tie_rtol widens the band to tie_rtol times the largest eigenvalue the rule uses among the
    leading d + 1 (non-negative ones only for psd-top). With K = I the spectral matrix is diag(w) exactly,
    whose eigenvalue error (~1e-16) is far below the band, so the reported eigenvalue_error is the band."""
    sol = kt.solve(name, np.eye(len(w)), np.diag(w), dim, tie_rtol=0.1)
    assert abs(sol.eigenvalue_error - expected_band) <= 1e-12


def test_tie_rtol_uniqueness_threshold_is_twice_the_band():
    """Unique iff |lambda_d - lambda_{d+1}| > 2e (module docstring). e = 0.05 * 1.0: gap 0.13 > 0.1 is unique,
    gap 0.08 is a tie."""
    assert kt.solve("contrastive", np.eye(4), np.diag([1.0, 0.87, 0.2, 0.0]), 1, tie_rtol=0.05).is_unique
    assert not kt.solve("contrastive", np.eye(4), np.diag([1.0, 0.92, 0.2, 0.0]), 1, tie_rtol=0.05).is_unique


def test_tie_rtol_applies_on_the_structured_path_too():
    """Groups of 3 and 2 views with self-loops, K well-conditioned, O1: T = A has eigenvalues 3, 2 (then 0),
    all exact. tie_rtol = 0.2 gives e = 0.2 * 3 = 0.6 and |3 - 2| = 1 <= 1.2: a tie at that band."""
    g = np.array([0, 0, 0, 1, 1])
    K = _rbf_K(5, seed=3, ridge=0.5)
    sol = kt.solve("contrastive", K, RelationGraph.from_groups(g), 1, tie_rtol=0.2)
    assert sol.method == "structured"
    assert abs(sol.eigenvalue_error - 0.6) <= 1e-12 and sol.is_unique is False


@pytest.mark.parametrize("dtype, beta, m", [(np.float32, 0.3, 3), (np.float64, 0.1, 7)])
def test_structured_eigenvalue_error_bounds_the_rounding_of_the_block_values(dtype, beta, m):
    """Solution.eigenvalue_error bounds the absolute error of the leading d + 1 eigenvalues (Solution docstring),
    also on the clique path, where they are block values computed in the working dtype. Construction:
    groups of m and 100 views with self-loops, K = I, O2 with beta (not a binary fraction): T = I - (beta/2) L
    has exact eigenvalues 1 (each indicator), 1 - beta m / 2 and 1 - 50 beta (zero-sum vectors), beta being
    the binary64 number passed. Oracle: those values in rational arithmetic (fractions.Fraction). The
    rounding of 1 - beta m / 2 in the working dtype is a few ulps (precondition: it is not exact here, so
    the bound is exercised); the reported bound must be at least the actual error of every listed leading
    eigenvalue."""
    from fractions import Fraction

    g = np.r_[np.zeros(m, dtype=int), np.ones(100, dtype=int)]
    sol = kt.solve("vicreg", np.eye(g.size, dtype=dtype), RelationGraph.from_groups(g, dtype=dtype), 2, beta=beta)
    assert sol.method == "structured"
    exact = [Fraction(1), Fraction(1), 1 - Fraction(beta) * m / 2]
    errors = [abs(Fraction(float(x)) - e) for x, e in zip(np.asarray(sol.eigenvalues)[:3], exact)]
    assert errors[2] > 0  # precondition: a rounding to bound
    assert all(err <= sol.eigenvalue_error for err in errors), (errors, sol.eigenvalue_error)


def test_structured_path_never_materialises_the_relation_matrix():
    """Documented (solve, RelationGraph.from_groups): the clique path never materialises A."""
    rel = RelationGraph.from_groups(np.repeat(np.arange(50), 4))
    sol = kt.solve("contrastive", np.eye(200), rel, 3)
    assert sol.method == "structured"
    assert rel._A is None
    assert abs(float(sol.loss) - (50 * 16 - 3 * 16)) <= 1e-9  # ||A||^2 - d m^2 with m = 4 (K = I: T = A)


def test_clique_detection_needs_self_loop_value_zero_or_one():
    """Documented: cliques are A = sum_g 1_g 1_g^T + (s - 1) I with s in {0, 1}; a diagonal of 2 is not one."""
    A = _clique_A([0, 0, 1, 1]) + np.eye(4)
    assert RelationGraph(A).cliques is None
    assert RelationGraph(_clique_A([0, 0, 1, 1])).cliques is not None


def test_float32_with_more_dimensions_than_the_rank():
    """psd-top with d > rank(K): the missing d - r columns are zero, and everything stays float32."""
    F = np.random.default_rng(2).normal(size=(N, 3))
    K = (F @ F.T).astype(np.float32)
    A = _clique_A(GROUPS).astype(np.float32)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        sol = kt.solve("contrastive", K, A, 6)
    assert sol.embedding.shape == (N, 6)
    for attr in ("embedding", "coef", "loss", "eigenvalues"):
        assert getattr(sol, attr).dtype == np.float32, attr
    # Z = K C with rank(K) = 3: at most 3 non-zero columns (exact zeros for the missing ones)
    assert np.sum(np.any(np.asarray(sol.embedding) != 0, axis=0)) <= 3


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_deflation_keeps_d_plus_one_eigenvalues_and_the_dtype(dtype):
    """reg = 1000 with two kernel eigenvalues at 20 N eps and 30 N eps (kept in the rank; their penalties
    reg / (2 mu) exceed ||B|| / eps, so the deflation would drop both): at d = N = 8 the deflation must keep
    d + 1 > N coordinates, i.e. all 8 eigenvalues are computed and listed (accuracy module docstring), and
    every output keeps the input dtype."""
    Q, _ = np.linalg.qr(np.random.default_rng(0).normal(size=(8, 8)))
    eps = float(np.finfo(dtype).eps)
    mu = np.array([1.0, 0.5, 0.3, 0.2, 0.1, 0.05, 20 * 8 * eps, 30 * 8 * eps])
    K = (Q * mu) @ Q.T
    K = ((K + K.T) / 2).astype(dtype)
    A = _clique_A(np.repeat(np.arange(4), 2)).astype(dtype)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        sol = kt.solve("contrastive", K, A, 8, reg=1000.0)
    assert sol.eigenvalues.shape[0] == 8
    assert sol.embedding.shape == (8, 8)
    for attr in ("embedding", "coef", "loss", "eigenvalues"):
        assert getattr(sol, attr).dtype == dtype, attr


# --- solvers: loss_error is a sound and informative bound; overflow; method choice -------------------


def _spectrum_instance(lam, seed=13):
    Q, _ = np.linalg.qr(np.random.default_rng(seed).normal(size=(len(lam), len(lam))))
    A = (Q * np.asarray(lam)) @ Q.T
    return (A + A.T) / 2


LAM = 100 * np.array([30.1, 20.7, 10.3, 5.5, 1.1, 0.5, -0.3, -2.0])


@pytest.mark.parametrize(
    "name, opts, dim, exact",
    [
        # O1, K = I: T = A; min = ||A||_F^2 - sum_{i<=3} lam_i^2 = sum_{i>3} lam_i^2 (THEORY §3)
        ("contrastive", {}, 3, float(np.sum(LAM[3:] ** 2))),
        # O4, K = I: S = A (top rule); min = -(sum of the top 3 eigenvalues)
        ("whitened", {}, 3, -float(np.sum(LAM[:3]))),
    ],
)
def test_loss_error_bounds_the_actual_error_and_is_informative(name, opts, dim, exact):
    """A = Q diag(lam) Q^T with large, well-separated eigenvalues: the closed-form minimum is known exactly
    (up to one rounding of the oracle's own sum, ~1e-10 here), while the solver's loss carries the rounding
    of ||A||_F^2 ~ 1.5e7 and of the eigenvalues (~1e-9 to 1e-8 absolute). Sound: |loss - exact| <= loss_error.
    Informative: loss_error stays within a generous 1e3 x the documented order
    N eps (d ||A||_2^2 + ||A||_F^2)."""
    A = _spectrum_instance(LAM)
    sol = kt.solve(name, np.eye(8), A, dim, method="dense", **opts)
    oracle_rounding = 8 * EPS64 * abs(exact)
    assert abs(float(sol.loss) - exact) <= sol.loss_error + oracle_rounding
    scale = dim * LAM[0] ** 2 + float(np.sum(LAM**2))
    assert sol.loss_error <= 1e3 * 8 * EPS64 * scale


def test_a_coefficient_overflow_is_reported_not_returned():
    """K = 1e-305 x (condition number 1e6): Z* is O(1) (T = A for O1 with K > 0), but C* = K^{-1} Z* has
    entries ~1e311 > the largest float64: the documented InputError, not infinite coefficients."""
    Q, _ = np.linalg.qr(np.random.default_rng(0).normal(size=(6, 6)))
    K = (Q * np.logspace(0, -6, 6)) @ Q.T
    K = (K + K.T) / 2 * 1e-305
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with pytest.raises(
            InputError,
            match=r"^the optimum overflows the range of the dtype \(entries of K or A near "
            r"the largest representable number, or K's retained spectrum spanning "
            r"more than the dtype can hold\); rescale K and A\.$",
        ):
            kt.solve("contrastive", K, _clique_A([0, 0, 1, 1, 2, 2]), 3, method="dense")


@pytest.mark.parametrize(
    "name, opts, rule",
    [
        ("contrastive", {}, "psd-top"),
        ("vicreg", {}, "psd-top"),
        ("laplacian_eigenmaps", {}, "bottom"),
        ("whitened", {}, "top"),
        ("whitened", {"laplacian": True}, "bottom"),
    ],
)
def test_solution_reports_its_rule(name, opts, rule):
    assert kt.solve(name, _rbf_K(N, seed=1), _clique_A(GROUPS), 2, **opts).rule == rule


def test_method_errors_explain_what_to_do():
    with pytest.raises(
        InputError,
        match=r"^method='structured' needs a union-of-cliques relation graph, a positive "
        r"definite K and an objective",
    ):
        kt.solve("whitened", np.eye(4), _clique_A([0, 0, 1, 1]), 2, method="structured")
    with pytest.raises(
        InputError,
        match=r"^method='subset' uses LAPACK's evr driver and needs NumPy arrays; "
        r"use 'dense'\.$",
    ):
        kt.solve("contrastive", xs.asarray(np.eye(4)), xs.asarray(_clique_A([0, 0, 1, 1])), 2, method="subset")


def test_auto_method_follows_the_documented_size_rule():
    """Documented: auto picks a partial path on NumPy when N >= SUBSET_MIN_N and (d + 1) * SUBSET_FRACTION <= N:
    'iterative' when the objective has an operator (O4 with K > 0), else 'subset' (O1 with reg > 0);
    'dense' otherwise. The cliques have no self-loops: O4 on cliques *with* self-loops has its own structured
    path (E^T K E), and O1 with reg > 0 is never structured."""
    from kssl_theory.kernel_regime.engine import SUBSET_FRACTION, SUBSET_MIN_N

    n = SUBSET_MIN_N
    d_max = n // SUBSET_FRACTION - 1
    A = kt.graphs.adjacency(np.arange(n) // 4, self_loops=False)
    assert kt.solve("whitened", np.eye(n), A, d_max).method == "iterative"
    assert kt.solve("contrastive", np.eye(n), A, d_max, reg=0.1).method == "subset"
    assert kt.solve("whitened", np.eye(n), A, d_max + 1).method == "dense"
    A1 = kt.graphs.adjacency(np.arange(n - 1) // 4, self_loops=False)
    assert kt.solve("whitened", np.eye(n - 1), A1, 2).method == "dense"


# --- solvers: engine options, argument names, dtype of A, eigenvalue list length ----------------------


@pytest.mark.parametrize(
    "kwargs, fragment",
    [
        ({"K": np.ones((3, 4))}, r"^K must be square"),
        ({"A": np.ones((3, 4))}, r"^A must be square"),
        ({"A": RelationGraph.from_groups([0, 0, 1])}, r"^the relation graph has 3 views but K is 4 x 4\.$"),
        ({"options": {"kernel_rtol": -1.0}}, r"^kernel_rtol must be >= 0"),
        ({"options": {"kernel_rtol": 1.0}}, r"^kernel_rtol must be < 1"),  # documented range [0, 1)
        ({"options": {"tie_rtol": -1.0}}, r"^tie_rtol must be >= 0"),
    ],
)
def test_solve_errors_name_the_argument(kwargs, fragment):
    args = {"K": np.eye(4), "A": _clique_A([0, 0, 1, 1]), "options": {}}
    args.update(kwargs)
    with pytest.raises(InputError, match=fragment):
        kt.solve("contrastive", args["K"], args["A"], 2, **args["options"])


def test_relation_matrix_is_converted_to_the_kernel_dtype():
    K = _rbf_K(N, seed=2).astype(np.float32)
    sol = kt.solve("whitened", K, _clique_A(GROUPS), 2)  # A is float64
    assert sol.embedding.dtype == np.float32 and sol.loss.dtype == np.float32


def test_kernel_rtol_sets_the_numerical_rank():
    """Documented cut-off: eigenvalues <= kernel_rtol * lambda_max count as zero. K = Q diag(1, .5, .2, .05,
    .01, .001) Q^T: kernel_rtol = 0.1 keeps 3, 0.03 keeps 4, the default (N eps) keeps all 6."""
    Q, _ = np.linalg.qr(np.random.default_rng(4).normal(size=(6, 6)))
    K = (Q * np.array([1.0, 0.5, 0.2, 0.05, 0.01, 0.001])) @ Q.T
    K = (K + K.T) / 2
    A = _clique_A([0, 0, 1, 1, 2, 2])
    assert kt.solve("contrastive", K, A, 2, kernel_rtol=0.1).rank == 3
    assert kt.solve("contrastive", K, A, 2, kernel_rtol=0.03).rank == 4
    assert kt.solve("contrastive", K, A, 2).rank == 6


def test_eigenvalue_list_length_per_path_with_a_singular_kernel():
    """Documented (Solution.eigenvalues): the dense path lists the whole spectrum (N values: the target's
    zeros off range(K) are inserted for psd-top), the subset and iterative paths the leading d + 1."""
    F = np.random.default_rng(3).normal(size=(12, 5))
    K = F @ F.T
    A = _clique_A(np.repeat(np.arange(4), 3))
    assert kt.solve("contrastive", K, A, 2, method="dense").eigenvalues.shape == (12,)
    for method in ("subset", "iterative"):
        sol = kt.solve("contrastive", K, A, 2, method=method)
        assert sol.eigenvalues.shape == (3,), method


@pytest.mark.parametrize("dim", [2, 6, 11])
def test_penalised_eigenvalue_error_stays_informative_for_large_d(dim):
    """kappa(K) = 1e12, reg = 1e-3: the leading d + 1 eigenvalues of T include, for large d, strongly
    negative ones whose computed values carry errors ~eps * reg / (2 mu_min) ~ 1e-7 or more. Documented:
    eigenvalue_error bounds only the pairs that may be non-negative (the others leave [T]_{+,d}), and the
    bound is observed at 1e-7 .. 1e-13; require <= 1e-6 ||A||_2 (= 3e-6)."""
    Q, _ = np.linalg.qr(np.random.default_rng(0).normal(size=(12, 12)))
    K = (Q * np.logspace(0, -12, 12)) @ Q.T
    K = (K + K.T) / 2
    A = _clique_A(np.repeat(np.arange(4), 3))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        sol = kt.solve("contrastive", K, A, dim, reg=1e-3, method="dense")
    assert sol.eigenvalue_error <= 3e-6


def test_kernel_factor_psd_tolerance_and_ill_conditioning_warning():
    """psd_tol: K is rejected when lambda_min < -psd_tol lambda_max (documented); an explicit psd_tol is used.
    The IllConditionedWarning names the numerical rank only when K is singular."""
    K = np.diag([1.0, 0.5, -1e-3])
    with pytest.raises(InputError, match="not positive semi-definite"):
        KernelFactor(K)
    assert KernelFactor(K, psd_tol=1e-2).rank == 2
    # F F^T has rank 3; adding 1e-11 e_6 e_6^T gives a 4th retained eigenvalue ~1e-11 (> 1e-14 lambda_max),
    # so rank 4 of 6 with condition number ~1e12 > 1e10; the two remaining eigenvalues are round-off.
    F = np.random.default_rng(0).normal(size=(6, 3))
    with pytest.warns(
        kt.errors.IllConditionedWarning,
        match=r"K is ill-conditioned: K is numerically singular "
        r"\(rank 4 of 6",
    ):
        KernelFactor(F @ F.T + np.diag([0, 0, 0, 0, 0, 1e-11]), rtol=1e-14)
    Q, _ = np.linalg.qr(np.random.default_rng(1).normal(size=(5, 5)))
    with pytest.warns(kt.errors.IllConditionedWarning) as record:
        KernelFactor((Q * np.logspace(0, -11, 5)) @ Q.T, rtol=1e-14)
    message = str(record[0].message)
    assert message.startswith("K is ill-conditioned: the retained spectrum") and "singular" not in message


@pytest.mark.parametrize("nonnegative_only", [False, True])
def test_eigenpair_error_follows_its_documented_formula(nonnegative_only):
    """accuracy.eigenpair_error docstring: e = max_{i<k} (||M v_i - w_i v_i|| + 2 N eps || |M| |v_i| ||) / ||v_i||,
    over the pairs with w_i + e_i >= 0 when nonnegative_only. Oracle: the formula evaluated column by column
    in float64 NumPy on perturbed eigenpairs of a random symmetric M (so residuals are non-zero and each term
    matters; N = 7, k = 4, columns deliberately not unit-norm). The residuals (~1e-6) come from a
    cancellation in M v - w v, which each side rounds differently by up to about N eps || |M| |v_i| || /
    ||v_i||; twice that is the allowance. The second part (exact pairs, zero residual) pins the constant."""
    from kssl_theory.kernel_regime.accuracy import eigenpair_error

    rng = np.random.default_rng(21)
    n, k = 7, 4
    M = rng.normal(size=(n, n))
    M = (M + M.T) / 2
    w, V = np.linalg.eigh(M)
    w, V = w[::-1].copy(), V[:, ::-1].copy()
    V = (V + 1e-6 * rng.normal(size=V.shape)) * rng.uniform(0.5, 2.0, size=n)[None, :]
    w = w + 1e-7 * rng.normal(size=n)
    terms = [
        (np.linalg.norm(M @ V[:, i] - w[i] * V[:, i]) + 2 * n * EPS64 * np.linalg.norm(np.abs(M) @ np.abs(V[:, i])))
        / np.linalg.norm(V[:, i])
        for i in range(k)
    ]
    if nonnegative_only:
        terms = [t if w[i] + t >= 0 else 0.0 for i, t in enumerate(terms)]
    expected = max(terms)
    got = eigenpair_error(M, w, V, k, nonnegative_only=nonnegative_only)
    allowance = (
        2 * n * EPS64 * max(np.linalg.norm(np.abs(M) @ np.abs(V[:, i])) / np.linalg.norm(V[:, i]) for i in range(k))
    )
    assert abs(got - expected) <= allowance
    # The rounding term is 2 N eps || |M| |v_i| ||: with zero residuals (exact pairs of a diagonal M) it is all
    # that remains, so a different constant or norm is visible on its own.
    D = np.diag([3.0, -1.0, 2.0])
    E = np.eye(3)[:, [0, 2, 1]]
    exact = eigenpair_error(D, np.array([3.0, 2.0, -1.0]), E, 3)
    assert abs(exact - 2 * 3 * EPS64 * 3.0) <= 1e-15 * exact


@pytest.mark.parametrize("rule", ["psd-top", "top", "bottom"])
def test_loss_error_follows_its_documented_formula(rule):
    """accuracy module docstring, "Loss error": soft minima (psd-top) are accurate to
    sum_i (2|lambda_i| + e) e + N eps (|const| + sum lambda_i^2); Ky Fan minima to d e + N eps sum |lambda_i|.
    Oracle: the two formulas with hand-picked numbers whose every term is a different power of two in magnitude,
    so a changed sign, factor or operator moves the result by far more than the 1e-15 relative allowed for
    summation order. float32 eigenvalues check that the bound is computed in float64."""
    from kssl_theory.kernel_regime.accuracy import loss_error

    w = np.array([4.0, -2.0, 0.5], dtype=np.float32)
    err, const, n, eps = 2.0**-10, -8.0, 16, 2.0**-20
    got = loss_error(rule, w, err, const, n, eps)
    a = np.abs(w.astype(np.float64))
    if rule == "psd-top":
        expected = float(np.sum((2 * a + err) * err)) + n * eps * (abs(const) + float(np.sum(a**2)))
    else:
        expected = a.size * err + n * eps * float(np.sum(a))
    assert abs(got - expected) <= 1e-15 * expected


@pytest.mark.parametrize("d", [5, 7])
def test_clique_path_within_group_vectors_are_orthonormal_eigenvectors(d):
    """With d beyond the number of groups, the clique path selects within-group (Helmert) vectors, which it
    builds by formula (no eigh). O3 (Laplacian eigenmaps) on K = I, groups 3, 3, 2, 2: the optimum must satisfy
    the constraint Z^T Z = I_d and attain the minimum. Oracle: NumPy eigvalsh of L = D - A (sum of the d
    smallest eigenvalues: 0 four times, one per group, then 2 twice from the pairs and 3 four times from the
    triples), and the literal loss tr(Z^T L Z) in NumPy. Tolerances: 100 N eps on O(1) quantities."""
    groups = np.array([0, 0, 0, 1, 1, 1, 2, 2, 3, 3])
    A = _clique_A(groups)
    L = np.diag(A.sum(1)) - A
    sol = kt.solve("laplacian_eigenmaps", np.eye(groups.size), A, d, method="structured")
    Z = np.asarray(sol.embedding)
    tol = 100 * groups.size * EPS64
    np.testing.assert_allclose(Z.T @ Z, np.eye(d), rtol=0, atol=tol)
    expected = float(np.sum(np.linalg.eigvalsh(L)[:d]))
    assert abs(float(np.sum(Z * (L @ Z))) - expected) <= tol * max(expected, 1.0)
    assert abs(float(sol.loss) - expected) <= tol * max(expected, 1.0)


# --- engine: the reported loss error follows its documented definition ------------------------------------


@pytest.mark.parametrize(
    "objective, opts, constant, d",
    [
        ("contrastive", {"reg": 0.1}, lambda A, d: float(np.sum(A * A)), 3),  # c0 = ||A||_F^2 (docs/theory.md §3)
        ("contrastive", {"reg": 0.1}, lambda A, d: float(np.sum(A * A)), 7),  # d > #positive: zeros selected
        ("vicreg", {"beta": 0.5}, lambda A, d: float(d), 3),  # c0 = d
        ("whitened", {}, None, 3),
        ("laplacian_eigenmaps", {}, None, 3),
    ],
)
def test_reported_loss_error_follows_its_definition(objective, opts, constant, d):
    """accuracy.loss_error (module docstring): for [T]_{+,d}, sum_i (2|w_i| + e) e + N eps (|c0| + sum_i w_i^2)
    over the certified-positive selected eigenvalues w_i (those > e), c0 the loss's constant; for Ky Fan,
    d e + N eps sum_i |w_i|. Inputs computed here: c0 from A or d, w and e as reported."""
    N = 12
    A = _clique_A([0, 0, 0, 1, 1, 1, 2, 2, 3, 3, 3, 3])
    sol = kt.solve(objective, _rbf_K(N, seed=2), A, d, **opts)
    e = sol.eigenvalue_error
    w = np.asarray(sol.eigenvalues, dtype=np.float64)[:d]
    eps = np.finfo(np.float64).eps
    if constant is not None:
        w = np.where(w > e, w, 0.0)
        expected = np.sum((2 * np.abs(w) + e) * e) + N * eps * (abs(constant(A, d)) + np.sum(w**2))
    else:
        expected = d * e + N * eps * np.sum(np.abs(w))
    assert sol.loss_error == pytest.approx(expected, rel=1e-12, abs=0)  # values ~1e-13: no absolute slack


# --- kernel factor: the ill-conditioning warning points at the caller and states the accuracy -------------


def _ill_conditioned_solve():
    from kssl_theory.errors import IllConditionedWarning

    X = np.linspace(0, 1, 14)[:, None]
    K = kt.kernels.rbf(X, bandwidth=2.0)  # smooth kernel on close points: retained kappa > 1e10
    with pytest.warns(IllConditionedWarning) as record:
        sol = kt.solve("contrastive", K, _clique_A(np.repeat(np.arange(7), 2)), 2, reg=0.1)
    (warning,) = [w for w in record if w.category is IllConditionedWarning]
    return K, sol, warning


@pytest.mark.skipif(
    "MUTANT_UNDER_TEST" in __import__("os").environ,
    reason="mutmut's trampoline adds a frame to every mutated function, so stacklevel points into mutmut",
)
def test_ill_conditioned_warning_names_the_callers_line():
    """Attributed to the line that called kt.solve (stacklevel), not to the package's internals."""
    assert _ill_conditioned_solve()[2].filename == __file__


def test_ill_conditioned_warning_states_the_accuracy():
    """The stated accuracy is kappa * eps, kappa the condition number of the retained spectrum (numpy)."""
    K, sol, warning = _ill_conditioned_solve()
    kept = np.sort(np.linalg.eigvalsh(K))[::-1][: sol.rank]  # the sol.rank eigenvalues the factor retains
    kappa = float(kept[0] / kept[-1])
    stated = float(str(warning.message).split("accurate to about ")[1].split(" ")[0])
    # kept[-1] >= ~1e-12 ||K||: numpy's absolute error ~ N eps ||K|| leaves kappa right to a few percent
    assert stated == pytest.approx(min(kappa * np.finfo(np.float64).eps, 1.0), rel=0.1)


@pytest.mark.parametrize("bad_c", [0.0, -1.0])
def test_centred_scale_c_must_be_positive(bad_c):
    with pytest.raises(InputError, match=r"^c must be > 0"):
        kt.solve("vicreg", np.eye(4), _clique_A([0, 0, 1, 1]), 2, centred=True, c=bad_c)


# --- RelationGraph construction contract and option messages --------------------------------------------


def test_relation_graph_needs_exactly_one_source_and_defaults_to_self_loops():
    from kssl_theory.graphs import RelationGraph

    for bad in (dict(), dict(A=np.eye(2), groups=[0, 1])):
        with pytest.raises(
            InputError, match=r"^RelationGraph needs exactly one of A \(a relation matrix\) or groups\.$"
        ):
            RelationGraph(**bad)
    np.testing.assert_array_equal(RelationGraph(groups=[0, 0, 1]).A, _clique_A([0, 0, 1]))  # self-loops by default
    with pytest.raises(InputError, match=r"^self_loops must be True or False; got 1\.$"):
        RelationGraph(groups=[0, 0, 1], self_loops=1)
    with pytest.raises(InputError, match=r"^A must be square; got shape \(2, 3\)\."):
        RelationGraph(np.ones((2, 3)))
    with pytest.raises(InputError, match=r"^A is not symmetric"):  # RelationGraph checks by itself, not only solve
        RelationGraph(np.array([[1.0, 1.0], [0.0, 1.0]]))
    A = _clique_A([0, 0, 1, 1])
    projected = RelationGraph(A, laplacian=np.diag(A.sum(1)) - A)  # given with its own Laplacian: never cliques
    assert projected.cliques is None
    with pytest.raises(InputError, match=r"^laplacian must have 4 rows to match the other inputs"):
        RelationGraph(A, laplacian=np.eye(3))
    with pytest.raises(InputError, match=r"^laplacian is not symmetric"):
        RelationGraph(A, laplacian=np.triu(np.ones((4, 4))))


def test_unknown_objective_lists_the_valid_names():
    with pytest.raises(InputError) as info:
        kt.solve("no_such_objective", np.eye(2), np.eye(2), 1)
    names = str(info.value).split("valid names: ")[1].rstrip(".").split(", ")
    assert {"contrastive", "o1", "vicreg", "whitened", "laplacian_eigenmaps"} <= set(names)


@pytest.mark.parametrize(
    "objective, option", [("laplacian_eigenmaps", "normalized"), ("vicreg", "centred"), ("whitened", "laplacian")]
)
def test_boolean_options_must_be_booleans(objective, option):
    with pytest.raises(InputError, match=rf"^option {option} must be True or False; got 1\.$"):
        kt.solve(objective, np.eye(4), _clique_A([0, 0, 1, 1]), 1, **{option: 1})


# --- kt.loss: the oracle's own input checks (survivors of mutation run D in engine.loss) ----------------


def test_loss_validates_a_dense_or_sparse_relation_like_solve():
    """kt.loss is documented as the oracle of any candidate (its docstring); it must refuse what solve refuses:
    an asymmetric A (dense or sparse), a sparse A whose size does not match Z, with messages naming A; and a
    sparse A takes Z's dtype (float32 Z: float32 loss). Oracle: the documented messages of check_matrix and
    check_sparse_relation, and the loss from its definition ||ZZ^T - A||_F^2 in float64."""
    import scipy.sparse as sp

    rng = np.random.default_rng(0)
    Z = rng.normal(size=(6, 2))
    A = _clique_A([0, 0, 1, 1, 2, 2])
    asym = A.copy()
    asym[0, 5] = 1.0
    with pytest.raises(InputError, match=r"^A is not symmetric"):
        kt.loss("contrastive", Z, asym)
    with pytest.raises(InputError, match=r"^A is not symmetric"):
        kt.loss("contrastive", Z, sp.csr_matrix(asym))
    with pytest.raises(InputError, match=r"^A must have 6 rows to match the other inputs"):
        kt.loss("contrastive", Z, sp.csr_matrix(np.eye(5)))
    value = kt.loss("contrastive", Z.astype(np.float32), sp.csr_matrix(A))
    assert value.dtype == np.float32
    expected = float(np.sum((Z @ Z.T - A) ** 2))
    assert abs(float(value) - expected) <= 8 * 36 * float(np.finfo(np.float32).eps) * (expected + 1)
