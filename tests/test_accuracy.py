"""Regression tests for the trust issue: no confidently wrong optimum, ties that are real ties.

Each case has an expected value computed by a route independent of the package: mpmath at 40
digits on the very float inputs the package receives (``T = B - (λ/2)K⁻¹`` formed and
diagonalised in extended precision), spectra known by construction, and L-BFGS over a
well-conditioned parametrisation. No tolerance, cut-off or tie band comes from the package.

Tolerances (``eps`` of the solve's dtype, ``N`` views, ``b = ‖B‖₂`` the penalty-free part):

- ``ATTAIN = 100 N eps b``: the backward error of a stable symmetric eigensolver is
  ``p(N) eps ‖M‖`` with ``p(N)`` a modest multiple of ``N``; 100 N is the margin we grant.
- ``SENS = 8 N eps b² ‖K‖ / λ``: moving the eigenvalues of ``K`` by their own rounding
  ``N eps ‖K‖`` moves a non-negative eigenvalue of ``T`` by at most this (first order;
  ``Σ p_i² v_i² ≤ (b + θ)² ≤ 4b²``), so no solver working from the rounded ``K`` can do better.
- loss tolerance: ``Σ_i (2θ_i + e) e`` with ``e = ATTAIN + SENS`` (minimum ``const − Σθ²``).

Every check is a plain function so that ``test_planted_defects_are_caught`` can run the same
checks against deliberately broken engines.
"""

from __future__ import annotations

import math

import mpmath
import numpy as np
import pytest
import scipy.optimize

import kssl_theory as kt
import kssl_theory.kernel_regime.engine as solvers_module
from kssl_theory.errors import IllConditionedWarning

EPS64 = float(np.finfo(np.float64).eps)
EPS32 = float(np.finfo(np.float32).eps)
THREE_PAIRS = np.kron(np.eye(3), np.ones((2, 2)))


def mp_soft_spectrum(B, K, reg, dps=40):
    """Eigenvalues (descending) of ``B - (reg/2) K⁻¹`` in mpmath, from the exact float entries."""
    with mpmath.workdps(dps):
        Km = mpmath.matrix(np.asarray(K, dtype=np.float64).tolist())
        T = mpmath.matrix(np.asarray(B, dtype=np.float64).tolist())
        if reg:
            T = T - (mpmath.mpf(reg) / 2) * (Km**-1)
        T = (T + T.T) / 2
        E = mpmath.eigsy(T, eigvals_only=True)
        return np.array(sorted((float(x) for x in E), reverse=True))


def soft_truth(const, spectrum, d):
    top = np.clip(spectrum[:d], 0, None)
    return const - float(np.sum(top**2)), top


def lbfgs_over_root(K, A, reg, d, starts, seed=0):
    """min_Y ‖F Y Yᵀ Fᵀ − A‖² + reg ‖Y‖² with K = F Fᵀ (Z = KC = F Y, tr(CᵀKC) = ‖Y‖² for Y = FᵀC)."""
    w, V = np.linalg.eigh(np.asarray(K, dtype=np.float64))
    F = V * np.sqrt(np.clip(w, 0, None))
    A = np.asarray(A, dtype=np.float64)
    N = A.shape[0]
    rng = np.random.default_rng(seed)

    def f(x):
        Y = x.reshape(N, d)
        Z = F @ Y
        R = Z @ Z.T - A
        val = float(np.sum(R * R) + reg * np.sum(Y * Y))
        g = 4 * F.T @ (R @ Z) + 2 * reg * Y
        return val, g.ravel()

    best = math.inf
    for _ in range(starts):
        res = scipy.optimize.minimize(
            f,
            rng.standard_normal(N * d) / math.sqrt(N),
            jac=True,
            method="L-BFGS-B",
            options={"maxiter": 3000, "maxcor": 30, "ftol": 1e-16, "gtol": 1e-12},
        )
        best = min(best, float(res.fun))
    return best


def literal_loss64(objective, sol, A, K, **opts):
    """The loss from its definition, in float64, at the solution's own coefficients."""
    Z = np.asarray(sol.embedding, dtype=np.float64)
    C = np.asarray(sol.coef, dtype=np.float64)
    A = np.asarray(A, dtype=np.float64)
    if objective == "contrastive":
        R = Z @ Z.T - A
        value = float(np.sum(R * R))
    else:
        raise ValueError(objective)
    reg = opts.get("reg", 0.0)
    if reg:
        value += reg * float(np.sum(C * (np.asarray(K, dtype=np.float64) @ C)))
    return value


def tolerances(N, eps, b, normK, reg, top):
    attain = 100 * N * eps * b
    sens = 8 * N * eps * b**2 * normK / reg if reg else 0.0
    e = attain + sens
    return e, float(np.sum((2 * np.abs(top) + e) * e))


# --- reproducer 1: float64, K = diag(1,1,1,1,1,1e-14), reg = 0.1 -------------------------------------


def check_reproducer_1():
    K = np.diag([1.0, 1, 1, 1, 1, 1e-14])
    with pytest.warns(IllConditionedWarning):
        sol = kt.solve("contrastive", K, THREE_PAIRS, 3, reg=0.1)
    spectrum = mp_soft_spectrum(THREE_PAIRS, K, 0.1)
    truth, top = soft_truth(12.0, spectrum, 3)
    e, loss_tol = tolerances(6, EPS64, 2.0, 1.0, 0.1, top)
    assert np.all(top > 0.9), top  # 1.95, 1.95, 0.95 + 2e-13: all three certainly positive
    assert abs(float(sol.loss) - truth) <= loss_tol, (float(sol.loss), truth, loss_tol)
    assert np.max(np.abs(np.asarray(sol.eigenvalues[:3]) - spectrum[:3])) <= e
    assert np.linalg.matrix_rank(np.asarray(sol.gram), tol=0.5) == 3
    assert abs(literal_loss64("contrastive", sol, THREE_PAIRS, K, reg=0.1) - truth) <= loss_tol + 1e-12
    # The package's own error bounds must cover the independent truth.
    assert abs(float(sol.loss) - truth) <= sol.loss_error + 64 * EPS64 * 12


# --- reproducer 2: float32, K = diag(1,1,1,1,1,1e-3), reg = 3 -----------------------------------------


def check_reproducer_2():
    K = np.diag([1, 1, 1, 1, 1, 1e-3]).astype(np.float32)
    A = THREE_PAIRS.astype(np.float32)
    sol = kt.solve("contrastive", K, A, 2, reg=3)
    spectrum = mp_soft_spectrum(A, K, 3.0)  # the float32 entries, exactly, in extended precision
    truth, top = soft_truth(12.0, spectrum, 2)
    e, loss_tol = tolerances(6, EPS32, 2.0, 1.0, 3.0, top)
    assert top[0] > 0.4, top  # 0.5 and 0.5: certainly positive
    assert abs(float(sol.loss) - truth) <= loss_tol, (float(sol.loss), truth, loss_tol)


# --- reproducer 3: RBF with kappa(K) ~ 7e14, cliques of 4, reg = 1 ------------------------------------


def _rbf_case():
    X = np.random.default_rng(0).uniform(-1, 1, size=(40, 2))
    sq = np.sum((X[:, None, :] - X[None, :, :]) ** 2, axis=-1)
    K = np.exp(-sq / (2 * 1.5**2))
    A = np.kron(np.eye(10), np.ones((4, 4)))
    return K, A


def check_reproducer_3(with_lbfgs=False):
    K, A = _rbf_case()
    with pytest.warns(IllConditionedWarning):
        sol = kt.solve("contrastive", K, A, 10, reg=1.0)
    spectrum = mp_soft_spectrum(A, K, 1.0)
    truth, top = soft_truth(float(np.sum(A * A)), spectrum, 10)
    # The package treats eigenvalues of K below N eps ||K|| as zero (its documented kernel_rtol);
    # each such direction has penalty >= 1 / (2 N eps ||K||), which moves a positive eigenvalue of T
    # by at most b^2 2 N eps ||K|| / reg (deflation bound) -- counted in SENS below.
    normK = float(np.linalg.norm(K, 2))
    e, loss_tol = tolerances(40, EPS64, 4.0, normK, 1.0, top)
    assert np.sum(top > 0) == 4 and top[3] > 0.3, top  # 3.975, 1.434, 0.967, 0.336
    assert np.max(np.abs(np.asarray(sol.eigenvalues[:4]) - spectrum[:4])) <= e
    assert abs(float(sol.loss) - truth) <= loss_tol, (float(sol.loss), truth, loss_tol)
    assert abs(float(sol.loss) - truth) <= sol.loss_error + 64 * EPS64 * 160
    if with_lbfgs:
        best = lbfgs_over_root(K, A, 1.0, 10, starts=3)
        assert best >= truth - 1e-6 * truth, (best, truth)  # L-BFGS cannot beat the true minimum


# --- reproducer 4: float32 near-tie with a known gap --------------------------------------------------


def _constructed(N, eigenvalues, seed, dtype):
    Q, _ = np.linalg.qr(np.random.default_rng(seed).standard_normal((N, N)))
    A = (Q * np.asarray(eigenvalues)) @ Q.T
    A = ((A + A.T) / 2).astype(dtype)
    return A


def check_reproducer_4():
    for N, second in ((14, 0.999), (500, 0.95)):
        lam = np.concatenate([[1.0, second], np.linspace(0.5, -0.5, N - 2)])
        A = _constructed(N, lam, 1, np.float32)
        sol = kt.solve("contrastive", np.eye(N, dtype=np.float32), A, 1)
        A64 = A.astype(np.float64)
        spectrum = np.sort(np.linalg.eigvalsh(A64))[::-1]  # float64 oracle of the float32 data
        truth = float(np.sum(A64 * A64)) - spectrum[0] ** 2
        attain = 100 * N * EPS32 * 1.0
        assert spectrum[0] - spectrum[1] > 2 * attain  # the gap is resolvable in float32
        assert sol.is_unique, (N, sol.gap, sol.eigenvalue_error)
        tol = (2 * spectrum[0] + attain) * attain + 100 * N * EPS32 * float(np.sum(A64 * A64))
        assert abs(float(sol.loss) - truth) <= tol
        for seed in range(3):
            alt = sol.alternative(seed)
            assert abs(literal_loss64("contrastive", alt, A, None) - truth) <= tol


# --- exact and near ties, known by construction -------------------------------------------------------


def check_exact_tie(dtype):
    N = 10
    eps = float(np.finfo(dtype).eps)
    A = _constructed(N, [1.0, 1.0, 1.0] + list(np.linspace(0.4, -0.4, N - 3)), 3, dtype)
    sol = kt.solve("contrastive", np.eye(N, dtype=dtype), A, 2)
    assert not sol.is_unique  # a triple eigenvalue split by d = 2 is a tie
    A64 = A.astype(np.float64)
    spectrum = np.sort(np.linalg.eigvalsh(A64))[::-1]
    truth = float(np.sum(A64 * A64) - np.sum(spectrum[:2] ** 2))
    tol = 4 * 100 * N * eps * 1.0 + 100 * N * eps * float(np.sum(A64 * A64))
    grams = []
    for seed in range(3):
        alt = sol.alternative(seed)
        assert abs(literal_loss64("contrastive", alt, A, None) - truth) <= tol
        grams.append(np.asarray(alt.gram, dtype=np.float64))
    assert max(np.linalg.norm(g - grams[0]) for g in grams) > 0.1  # the alternatives really differ


def check_near_tie_resolved():
    # float64, N = 10, gap 1e-12 = 4.5 x (100 N eps ||A||): a stable eigensolver resolves it.
    N, gap = 10, 1e-12
    A = _constructed(N, [1.0, 1.0 - gap] + list(np.linspace(0.4, -0.4, N - 2)), 5, np.float64)
    spectrum = np.sort(np.linalg.eigvalsh(A))[::-1]
    assert spectrum[0] - spectrum[1] > 0.5 * gap
    sol = kt.solve("contrastive", np.eye(N), A, 1)
    assert sol.is_unique, (sol.gap, sol.eigenvalue_error)


CHECKS = {
    "reproducer_1": check_reproducer_1,
    "reproducer_2": check_reproducer_2,
    "reproducer_3": check_reproducer_3,
    "reproducer_4": check_reproducer_4,
    "exact_tie_float64": lambda: check_exact_tie(np.float64),
    "exact_tie_float32": lambda: check_exact_tie(np.float32),
    "near_tie_resolved": check_near_tie_resolved,
}


@pytest.mark.parametrize("name", sorted(CHECKS))
def test_regression(name):
    CHECKS[name]()


def test_reproducer_3_not_beaten_by_lbfgs():
    check_reproducer_3(with_lbfgs=True)


def _failures():
    failed = []
    for name, check in CHECKS.items():
        try:
            check()
        except (AssertionError, Exception) as exc:
            failed.append((name, type(exc).__name__))
    return failed


def test_planted_defects_are_caught(monkeypatch):
    """Each planted defect must make at least one regression check fail."""
    honest = solvers_module.eigenpair_error
    o1 = kt.get_objective("contrastive").variants[0]
    original_target = o1.functions["target"]

    def relative_to_max(M, w, V, k):  # the old rule: a cut-off relative to max |lambda(T)|
        xp = kt.backend.namespace(w)
        return 1000 * M.shape[0] * kt.backend.eps(M.dtype, xp) * float(xp.max(xp.abs(w)))

    defects = {
        "cut-off relative to max|λ(T)|": ("eigenpair_error", relative_to_max),
        "tie band 100x too wide": ("eigenpair_error", lambda M, w, V, k: 100 * honest(M, w, V, k)),
        "dropped -(λ/2)K⁺": (
            "penalty",
            {"target": lambda A, kf, reg: original_target(A, kf, 0.0), "penalty": lambda reg: 0.0},
        ),
    }
    assert _failures() == []
    for label, (name, replacement) in defects.items():
        with monkeypatch.context() as patch:
            if name == "eigenpair_error":
                patch.setattr(solvers_module, name, replacement)
            else:  # the engine calls O1's generated functions through its declaration record
                for role, fn in replacement.items():
                    patch.setitem(o1.functions, role, fn)
            caught = _failures()
        assert caught, f"planted defect not caught: {label}"


# --- centred O2 with a singular K (docs/theory.md §3 O2; the feasible set of HZ is range(HK)) -------------


def _centred_case(ones_in_range, seed):
    rng = np.random.default_rng(seed)
    N, r = 8, 4
    F = rng.standard_normal((N, r))
    if ones_in_range:
        F[:, 0] = 1.0
    groups = np.repeat(np.arange(4), 2)
    A = (groups[:, None] == groups[None, :]).astype(float)
    return F, F @ F.T, A


def _lbfgs_centred(F, A, beta, c, d, starts, seed=0):
    """min over Y of the centred O2 loss at Z = F Y (every Z in range(K) is such an F Y)."""
    N, r = F.shape
    L = np.diag(A.sum(axis=1)) - A
    rng = np.random.default_rng(seed)

    def f(x):
        Y = x.reshape(r, d)
        Z = F @ Y
        HZ = Z - Z.mean(axis=0)
        R = c * HZ.T @ HZ - np.eye(d)
        val = float(np.sum(R * R) + beta * np.sum(Z * (L @ Z)))
        gZ = 4 * c * HZ @ R + 2 * beta * L @ Z
        return val, (F.T @ gZ).ravel()

    best = math.inf
    for _ in range(starts):
        res = scipy.optimize.minimize(
            f,
            rng.standard_normal(r * d),
            jac=True,
            method="L-BFGS-B",
            options={"maxiter": 3000, "ftol": 1e-16, "gtol": 1e-12},
        )
        best = min(best, float(res.fun))
    return best


@pytest.mark.parametrize("ones_in_range", [True, False])
@pytest.mark.parametrize("d", [1, 3, 5])
def test_centred_vicreg_singular_kernel(ones_in_range, d):
    beta, c = 0.3, 1.5
    F, K, A = _centred_case(ones_in_range, seed=d)
    N = K.shape[0]
    sol = kt.solve("vicreg", K, A, d, beta=beta, c=c, centred=True)
    # Oracle: project the centred target onto range(HK) = range(HF), from numpy's SVD.
    H = np.eye(N) - np.ones((N, N)) / N
    U, s, _ = np.linalg.svd(H @ F, full_matrices=False)
    Ur = U[:, s > 1e-8 * s[0]]  # the singular values of a random H F are O(1) or exactly ~eps
    assert Ur.shape[1] == (3 if ones_in_range else 4)
    L = np.diag(A.sum(axis=1)) - A
    T = Ur.T @ (H - beta / (2 * c) * L) @ Ur
    spectrum = np.sort(np.linalg.eigvalsh(T))[::-1]
    top = np.clip(spectrum[:d], 0, None)
    truth = d - float(np.sum(top**2))
    tol = 100 * N * EPS64 * (d + float(np.sum(np.abs(T))))
    assert abs(float(sol.loss) - truth) <= tol
    literal = float(kt.loss("vicreg", sol.embedding, A, beta=beta, c=c, centred=True))
    assert abs(literal - truth) <= tol
    Z = np.asarray(sol.embedding)
    Pk = F @ np.linalg.pinv(F)
    assert np.linalg.norm(Z - Pk @ Z) <= 100 * N * EPS64 * (1 + np.linalg.norm(Z))  # Z* lies in range(K)
    if ones_in_range:
        assert np.linalg.norm(Z.sum(axis=0)) <= 100 * N * EPS64 * (1 + np.linalg.norm(Z))  # Z* = HZ*
    assert np.allclose(np.asarray(sol.coef), np.linalg.pinv(K) @ Z, atol=1e-8 * (1 + np.abs(Z).max()))
    best = _lbfgs_centred(F, A, beta, c, d, starts=3)
    assert best >= truth - 1e-9 * (1 + abs(truth))
    assert best <= truth + 1e-6 * (1 + abs(truth))  # and it reaches the minimum: the oracle is not vacuous


def test_o2_growth_needs_nonnegative_weights():
    """KR-loss-d-O2's precondition A >= 0 is needed: signed weights make T exceed I.

    A_01 = A_23 = -1, K = I, beta = 1: L = D - A has eigenvalues 0, 0, -2, -2, so
    T = I - L/2 has 1, 1, 2, 2 and the minima d - sum_{i<=d} max(lambda_i, 0)^2 are -3, -6, -6, -6
    (by hand), which decrease from d = 1 to 2. The package's closed form must still be right.
    """
    A = np.zeros((4, 4))
    A[0, 1] = A[1, 0] = A[2, 3] = A[3, 2] = -1.0
    minima = [float(kt.solve("vicreg", np.eye(4), A, d, beta=1.0).loss) for d in range(1, 5)]
    assert np.allclose(minima, [-3.0, -6.0, -6.0, -6.0], atol=100 * 4 * EPS64 * 10)
    assert minima[1] < minima[0]  # the growth statement fails without A >= 0


def test_gap_is_never_hidden_by_the_penalty_deflation():
    """Regression (found by test_uniqueness_generic): with A = 0 and reg > 0, T = -(reg/2) K^-1 has only
    negative eigenvalues and the deflation could drop the (d+1)-th coordinate, which made the engine
    report gap = inf for d = 1 < N = 2. The gap is |lambda_d - lambda_{d+1}| of T (Solution docstring);
    oracle: numpy eigvalsh of -(reg/2) K^-1 for a 2 x 2 K (kappa ~ 4), tolerance 100 N eps ||T||."""
    X = np.array([[0.44594155], [-0.0796548]])
    K = kt.kernels.rbf(X, bandwidth=1.0)
    reg = 0.3934693402873666
    sol = kt.solve("contrastive", K, np.zeros((2, 2)), 1, reg=reg)
    w = np.sort(np.linalg.eigvalsh(-(reg / 2) * np.linalg.inv(K)))[::-1]
    tol = 100 * 2 * np.finfo(float).eps * np.abs(w).max()
    assert abs(sol.gap - (w[0] - w[1])) <= tol
    np.testing.assert_allclose(np.asarray(sol.eigenvalues), w, rtol=0, atol=tol)
    assert sol.is_unique and float(sol.loss) == 0.0  # G* = 0: every eigenvalue is negative


def test_deflate_penalty_keeps_the_requested_number_of_coordinates():
    """keep_at_least bounds the deflation from below: with p = (0, 1e20, 1e18) both penalised coordinates
    qualify for dropping (see test_mutation_kills), but keep_at_least = 2 keeps the larger-index one of the
    two the rule would drop last (the smaller penalty, 1e18), and 3 keeps all."""
    from kssl_theory.kernel_regime.accuracy import deflate_penalty

    Bm = np.array([[1.0, 0.5, 0.0], [0.5, 2.0, 0.25], [0.0, 0.25, 1.0]])
    p = np.array([0.0, 1e20, 1e18])
    assert [int(i) for i in deflate_penalty(Bm - np.diag(p), Bm, p)[0]] == [0]
    assert [int(i) for i in deflate_penalty(Bm - np.diag(p), Bm, p, keep_at_least=2)[0]] == [0, 2]
    keep, bound = deflate_penalty(Bm - np.diag(p), Bm, p, keep_at_least=3)
    assert [int(i) for i in keep] == [0, 1, 2] and bound == 0.0
