r"""[KR] claims of THEORY.md §2 (reachability) and §3 (objectives O1–O4 and their closed forms).

Every check builds its instance from the parameter dict (:func:`proofs_check.instances.build`),
calls :func:`kssl_theory.solve` / :func:`kssl_theory.loss` on the run's backend and dtype, and
compares with an oracle computed on the host in float64 from THEORY.md's formulas with
``numpy.linalg`` (targets, eigenvalues, pseudo-inverses), ``scipy.linalg.eigh(L, D)``,
scikit-learn's ``KernelPCA`` and L-BFGS from random starts.
"""

from __future__ import annotations

import math

import numpy as np
import scipy.optimize
from hypothesis import strategies as st

import kssl_theory as kt

from ..checking import (
    eig_desc,
    generalized_bottom,
    laplacian,
    orthonormal_frame,
    psd_power,
    psd_truncation,
    range_projector,
    spectral_norm,
    sym,
)
from ..instances import ALL_KERNELS, POINT_KERNELS, build, instances
from ..registry import register
from ._common import (
    KR_SOURCE,
    host,
    host_loss,
    lbfgs_bound,
    numerical_kernel,
    objective_options,
    round_off,
    soft_minimum,
    solve,
    target,
)

REG = st.one_of(st.just(0.0), st.floats(0.001, 2.0))
BETA = st.floats(0.0, 3.0)
METHOD = st.sampled_from(["auto", "dense"])
#: L-BFGS oracles run on instances with at most this many views (cost grows fast, the bound does not).
LBFGS_MAX_N = 6
SINGULAR_TOO = ALL_KERNELS + ("lowrank",)

TOL_EIG = ("eigenvalues and losses: 100·N·ε·‖T‖ (ε of the dtype), times κ(K) for the part of T that applies "
           "K⁺; matrices fixed by eigenvectors (G*, projectors): that, times (1 + 4‖T‖/gap) (Davis–Kahan), "
           "compared only when the gap is resolvable; losses of candidates: 100·N·ε·(‖G‖+‖A‖+√d)².")


def _loss_scale(h, A, d, opts, inst):
    L = laplacian(A)
    beta = float(opts.get("beta", 0.0))
    reg = float(opts.get("reg", 0.0))
    return ((np.linalg.norm(h.G) + np.linalg.norm(A) + math.sqrt(d)) ** 2 + beta * spectral_norm(L) * np.trace(h.G)
            + reg * abs(h.hs_norm) * inst.cond)


def _random_coef(inst, d, size):
    """Random coefficients scaled so that ``‖K C‖_F^2 ≈ size``."""
    C = inst.rng.standard_normal((inst.N, d))
    Z = inst.Kh @ C
    return C * math.sqrt(size / max(np.sum(Z * Z), 1e-300))


# --------------------------------------------------------------------------- §2 reachability


@register(
    id="KR-reach-invertible",
    title="K ≻ 0: every PSD rank-≤d Gram matrix is reachable (C = K⁻¹Y gives Z = Y)",
    source=f"{KR_SOURCE} §2",
    statement="If K is invertible, {ZZᵀ : Z = KC} is exactly the set of PSD N×N matrices of rank ≤ d: given any "
              "Y ∈ R^{N×d}, C = K⁻¹Y gives Z = Y.",
    latex=r"K \succ 0 \;\Rightarrow\; \{KCC^TK : C \in \mathbb R^{N\times d}\} = \{G \succeq 0 : \operatorname{rank} G \le d\}",
    strategy=instances(n=(2, 5), m=(1, 3), kernels=ALL_KERNELS, graph=None, d="any", r=(1, 12)),
    method="⊆: random C, the eigenvalues of KCCᵀK are ≥ 0 and at most d are non-zero (numpy eigvalsh). "
           "⊇: a random PSD G₀ = YYᵀ of rank ≤ d is used as the relation matrix of O1 with λ = 0; the package's "
           "optimum must reach it (loss 0, G* = G₀, Z* = KC*).",
    tolerance="100·N·ε·‖G₀‖ for G* and 100·N·ε·‖G₀‖² for the loss; KC* = Z* to 100·N·ε·κ(K)·‖Z*‖.",
    examples=40,
)
def check_reach_invertible(params, ctx, chk):
    inst = build(params, ctx, with_graph=False)
    N, d = inst.N, inst.d
    C = inst.rng.standard_normal((N, d))
    Z = inst.Kh @ C
    w = eig_desc(Z @ Z.T)[0]
    scale = max(w[0], 1e-300)
    chk.ge("KCCᵀK is PSD", w[-1], 0.0, round_off(inst, scale))
    if d < N:
        chk.le("KCCᵀK has rank ≤ d", abs(w[d]), 0.0, round_off(inst, scale))
    r = min(int(params["r"]), d)
    Y = inst.rng.standard_normal((N, r))
    G0 = sym(Y @ Y.T)
    sol = solve(inst, "contrastive", A=ctx.put(G0))
    h = host(sol, ctx)
    g0 = spectral_norm(G0)
    chk.close("O1 optimum with A = G₀ reaches G₀", h.G, G0, round_off(inst, g0))
    chk.close("its loss is 0", h.loss, 0.0, round_off(inst, g0**2))
    chk.close("Z* = K C*", inst.Kh @ h.C, h.Z, round_off(inst, np.abs(h.Z).max() * inst.cond))


@register(
    id="KR-reach-singular",
    title="K singular: reachable Grams are the PSD rank-≤d matrices with range ⊆ range(K)",
    source=f"{KR_SOURCE} §2",
    statement="If K is singular, the reachable set is the PSD rank-≤d matrices with range inside range(K).",
    latex=r"\{KCC^TK\} = \{G \succeq 0 : \operatorname{rank} G \le d,\ \operatorname{range} G \subseteq \operatorname{range} K\}",
    strategy=instances(n=(2, 5), m=(1, 3), kernels=("lowrank",), graph=None, d="any", log10_cond=None),
    method="K = FFᵀ of rank r < N. Random C: (I − P)KC = 0 with P the numpy projector onto range(K). "
           "A random PSD G₀ with range in range(K) used as O1's relation matrix is reached exactly (loss 0); "
           "a generic G₁ is not: the optimum is [PG₁P]_{+,d} (numpy) and the loss ‖G₁‖² − Σλ_i(PG₁P)₊² > 0.",
    tolerance="100·N·ε·‖G‖ (projector and eigenvalue round-off), ×κ(K) on range(K) for coefficients.",
    symbolic=("pseudo_inverse", "lemma:projector_absorbs_pinv"),
    examples=40,
)
def check_reach_singular(params, ctx, chk):
    inst = build(params, ctx, with_graph=False)
    N, d = inst.N, inst.d
    P = range_projector(inst.Kh, rtol=10 * N * ctx.eps)
    C = inst.rng.standard_normal((N, d))
    Z = inst.Kh @ C
    chk.close("range(KC) ⊆ range(K)", (np.eye(N) - P) @ Z, np.zeros_like(Z), round_off(inst, np.abs(Z).max()))
    Y = P @ inst.rng.standard_normal((N, d))
    G0 = sym(Y @ Y.T)
    g0 = spectral_norm(G0)
    h = host(solve(inst, "contrastive", A=ctx.put(G0)), ctx)
    chk.close("G₀ with range in range(K) is reached", h.G, G0, round_off(inst, g0) * 10)
    chk.close("… at loss 0", h.loss, 0.0, round_off(inst, g0**2) * 10)
    Y1 = inst.rng.standard_normal((N, d))
    G1 = sym(Y1 @ Y1.T)
    expected_G, top, gap = psd_truncation(P @ G1 @ P, d)
    expected_loss = float(np.sum(G1 * G1) - np.sum(top**2))
    h1 = host(solve(inst, "contrastive", A=ctx.put(G1)), ctx)
    g1 = spectral_norm(G1)
    chk.close("a generic G₁ is not reached: loss = ‖G₁‖² − Σλ(PG₁P)₊²", h1.loss, expected_loss,
              round_off(inst, g1**2) * 10)
    chk.gt("… and that loss is > 0", h1.loss, round_off(inst, g1**2) * 10)
    chk.close("the optimum has range in range(K)", (np.eye(N) - P) @ h1.G, np.zeros((N, N)), round_off(inst, g1) * 10)
    if gap > 1e3 * round_off(inst, g1):
        chk.close("the optimum is [PG₁P]_{+,d}", h1.G, expected_G, round_off(inst, g1) * 10 * (1 + 4 * g1 / gap))


@register(
    id="KR-reach-kernel-free",
    title="K ≻ 0, no penalty: the optimal training Gram does not depend on the kernel",
    source=f"{KR_SOURCE} §2",
    statement="Without a penalty on W, the optimal training Gram matrix does not depend on the kernel when K ≻ 0.",
    latex=r"K_1, K_2 \succ 0,\ \lambda = 0 \;\Rightarrow\; G^*(K_1) = G^*(K_2) \text{ (when unique; same spectrum and loss always)}",
    strategy=instances(n=(2, 4), m=(1, 3), kernels=ALL_KERNELS, graph="any", d="any",
                       objective=["contrastive", "vicreg"], beta=BETA, method=METHOD),
    method="Solve O1 or O2 (λ = 0) with the drawn kernel K₁ and with an unrelated random-spectrum K₂ ≻ 0; "
           "compare losses and spectra of G*, and G* itself when the numpy target has a resolvable gap.",
    tolerance=TOL_EIG,
    examples=40,
)
def check_reach_kernel_free(params, ctx, chk):
    inst = build(params, ctx)
    obj = params["objective"]
    opts = {"beta": params["beta"]} if obj == "vicreg" else {}
    N, d = inst.N, inst.d
    lc = min(params.get("log10_cond", 3.0), ctx.max_log10_cond)
    Q = orthonormal_frame(inst.rng, N, N)
    lam = 10.0 ** (-lc * inst.rng.uniform(0, 1, N))
    K2 = ctx.put(sym((Q * lam) @ Q.T))
    h1 = host(solve(inst, obj, **opts), ctx)
    h2 = host(solve(inst, obj, K=K2, **opts), ctx)
    T, _, err = target(inst, obj, opts)
    nT = spectral_norm(T)
    chk.close("same minimum", h1.loss, h2.loss, round_off(inst, (nT + 1) ** 2 * max(d, 1)))
    chk.close("same spectrum of G*", eig_desc(h1.G)[0], eig_desc(h2.G)[0], 4 * err + round_off(inst, nT))
    _, _, gap = psd_truncation(T, d)
    if gap > 1e3 * err:
        chk.close("same G*", h1.G, h2.G, 4 * err * (1 + 4 * nT / gap))


# --------------------------------------------------------------------------- §3 O1


def _identity_params(**extra):
    return instances(n=(2, 5), m=(1, 3), kernels=("spectrum",), graph="any", d="any", log10_cond=(0.0, 3.0),
                     z_scale=st.floats(0.1, 3.0), **extra)


@register(
    id="KR-O1-haochen",
    title="O1 = HaoChen et al.'s spectral contrastive loss up to the constant ‖A‖²",
    source=f"{KR_SOURCE} §3 O1",
    statement="Equals HaoChen et al.'s spectral contrastive loss up to a constant: "
              "−2 Σ_ij A_ij z_i·z_j + Σ_ij (z_i·z_j)² = ‖ZZᵀ − A‖² − ‖A‖².",
    latex=r"-2\sum_{ij}A_{ij}\,z_i\!\cdot\! z_j + \sum_{ij}(z_i\!\cdot\! z_j)^2 = \|ZZ^T - A\|_F^2 - \|A\|_F^2",
    strategy=_identity_params(),
    method="Random Z and a drawn graph A (weights, self-loops, normalisation); the left side summed "
           "pair by pair in numpy, the right side from kt.loss('contrastive', Z, A).",
    tolerance="100·N·ε·(‖ZZᵀ‖_F + ‖A‖_F)² (cancellation in the sums).",
    symbolic=("spectral_contrastive_identity",),
    examples=50,
)
def check_O1_haochen(params, ctx, chk):
    inst = build(params, ctx)
    Z = params["z_scale"] * inst.rng.standard_normal((inst.N, inst.d))
    Zb = ctx.put(Z)
    Z = ctx.get(Zb)
    A = inst.Ah
    S = Z @ Z.T
    lhs = -2 * sum(A[i, j] * S[i, j] for i in range(inst.N) for j in range(inst.N)) + float(np.sum(S**2))
    rhs = ctx.scalar(kt.loss("contrastive", Zb, inst.A)) - float(np.sum(A * A))
    chk.close("HaoChen loss = ‖ZZᵀ − A‖² − ‖A‖²", lhs, rhs,
              round_off(inst, (np.linalg.norm(S) + np.linalg.norm(A)) ** 2))


def _check_target(objective, params, ctx, chk):
    inst = build(params, ctx)
    opts = objective_options(objective, params)
    d = inst.d
    T, _, err = target(inst, objective, opts)
    sol = solve(inst, objective, **opts)
    eig = ctx.get(sol.eigenvalues)
    nT = spectral_norm(T)
    expected = eig_desc(T)[0][: eig.size]
    chk.close("the package's spectral matrix has the eigenvalues of T (numpy)", eig, expected, err + round_off(inst, nT))
    A, K = inst.Ah, inst.Kh
    base = float(np.sum(A * A)) if objective == "contrastive" else float(d)
    for k in range(3):
        C = _random_coef(inst, d, (np.linalg.norm(T) + 1) * (k + 0.5))
        Cb = ctx.put(C)
        C = ctx.get(Cb)
        Z = K @ C
        G = Z @ Z.T
        lhs = ctx.scalar(kt.loss(objective, ctx.put(Z), inst.A, K=inst.K, coef=Cb, **opts))
        rhs = float(np.sum((G - T) ** 2) + base - np.sum(T * T))
        reg = float(opts.get("reg", 0.0))
        beta = float(opts.get("beta", 0.0))
        scale = ((np.linalg.norm(G) + np.linalg.norm(T) + np.linalg.norm(A) + math.sqrt(d)) ** 2
                 + beta * spectral_norm(laplacian(A)) * np.trace(G) + reg * abs(np.sum(C * Z)) * inst.cond)
        chk.close(f"loss(KC) = ‖KCCᵀK − T‖² + const, candidate {k + 1}", lhs, rhs, round_off(inst, scale) * 10)


@register(
    id="KR-O1-target",
    title="O1 target T = PAP − (λ/2)K⁺: the loss is ‖G − T‖² + ‖A‖² − ‖T‖²",
    source=f"{KR_SOURCE} §3 O1",
    statement="Target T = P A P − (λ/2) K⁺ (for K ≻ 0: A − (λ/2) K⁻¹).",
    latex=r"\|KCC^TK - A\|_F^2 + \lambda\operatorname{tr}(C^TKC) = \|KCC^TK - T\|_F^2 + \|A\|_F^2 - \|T\|_F^2,\quad T = PAP - \tfrac\lambda2 K^+",
    strategy=instances(n=(2, 4), m=(1, 3), kernels=SINGULAR_TOO, graph="any", d="any", reg=REG),
    method="T built in numpy (np.linalg.pinv, eigen-projector); (a) the eigenvalues of the package's spectral "
           "matrix equal those of T; (b) for 3 random C, kt.loss equals ‖KCCᵀK − T‖² + ‖A‖² − ‖T‖².",
    tolerance=TOL_EIG,
    symbolic=("completed_square:contrastive", "lemma:reg_through_z", "lemma:projector_absorbs_pinv"),
    examples=40,
)
def check_O1_target(params, ctx, chk):
    _check_target("contrastive", params, ctx, chk)


def _check_soft_min(objective, params, ctx, chk):
    inst = build(params, ctx)
    opts = objective_options(objective, params)
    d, N = inst.d, inst.N
    sol = solve(inst, objective, **opts)
    h = host(sol, ctx)
    T, _, err = target(inst, objective, opts)
    nT = spectral_norm(T)
    expected, G_o, top, gap = soft_minimum(objective, T, d, inst.Ah)
    scale = _loss_scale(h, inst.Ah, d, opts, inst)
    tol_loss = 2 * d * (nT + err) * err + round_off(inst, scale)
    chk.close("minimum = closed form (numpy eigenvalues of T)", h.loss, expected, tol_loss)
    chk.close("spectrum of G* = top-d eigenvalues of T clipped at 0", eig_desc(h.G)[0][:d], top, 2 * err)
    if gap > 1e3 * err:
        tol_G = 4 * err * math.sqrt(N) * (1 + (4 * nT / gap if math.isfinite(gap) else 0))
        chk.close("G* = [T]_{+,d}", h.G, G_o, tol_G)
    reg = float(opts.get("reg", 0.0))
    attained = ctx.scalar(kt.loss(objective, sol.embedding, inst.A, K=inst.K, coef=sol.coef, **opts))
    chk.close("the minimum is attained by Z* (kt.loss)", attained, expected, tol_loss + round_off(inst, scale) * 10)
    over_C = reg > 0 or inst.rank < N
    Kn = numerical_kernel(inst)
    base = h.C if over_C else h.Z
    size = np.linalg.norm(base) + 1e-3
    bound_tol = 1e-9 * (1 + scale)
    for k, delta in enumerate((1e-3, 1e-2, 1e-1, 1.0)):
        pert = base + delta * size * inst.rng.standard_normal(base.shape) / math.sqrt(base.size)
        Z = Kn @ pert if over_C else pert
        value = host_loss(objective, Z, inst.Ah, Kn, pert, **opts)
        chk.ge(f"random perturbation {k + 1} does not beat the closed form", value, expected,
               bound_tol + tol_loss)
    if N <= LBFGS_MAX_N:
        best = lbfgs_bound(objective, inst, d, opts, starts=2, scale=math.sqrt(max(nT, 1.0)))
        chk.ge("L-BFGS from 2 random starts does not beat the closed form", best, expected, bound_tol + tol_loss)
        chk.info["lbfgs_gap"] = best - expected


@register(
    id="KR-O1-min",
    title="O1 minimum ‖A‖² − Σ_{i≤d} max(λ_i(T),0)², attained by G* = [T]_{+,d}, never beaten",
    source=f"{KR_SOURCE} §3 O1",
    statement="Minimum: ‖A‖² − Σ_{i≤d} max(λ_i(T), 0)², attained at G* = [T]_{+,d}.",
    latex=r"\min_C L_C = \|A\|_F^2 - \sum_{i\le d}\max(\lambda_i(T),0)^2,\quad G^* = [T]_{+,d}",
    strategy=instances(n=(2, 4), m=(1, 3), kernels=SINGULAR_TOO, graph="any", d="any", reg=REG, method=METHOD),
    method="Closed form from numpy eigenvalues of T; the package's minimum, its G* spectrum (and G* when the gap "
           "is resolvable), the loss of Z* by kt.loss; 4 random perturbations of the optimum and, for N ≤ 6, "
           "L-BFGS from 2 random starts (scipy, analytic gradient) never go below the closed form.",
    tolerance=TOL_EIG + " L-BFGS/perturbations: value ≥ minimum − (1e-9·scale + the minimum's tolerance).",
    symbolic=("stationarity:contrastive", "gradient:contrastive", "finite_differences:contrastive"),
    examples=30,
)
def check_O1_min(params, ctx, chk):
    _check_soft_min("contrastive", params, ctx, chk)


# --------------------------------------------------------------------------- §3 O2


@register(
    id="KR-O2-identity",
    title="O2 = contrastive loss with target I − (β/2)L, up to a constant (the duality)",
    source=f"{KR_SOURCE} §3 O2",
    statement="‖ZᵀZ − I_d‖² + β tr(ZᵀLZ) = ‖ZZᵀ − (I − (β/2)L)‖² + d − ‖I − (β/2)L‖². Non-contrastive = "
              "contrastive with target I − (β/2)L.",
    latex=r"\|Z^TZ - I_d\|_F^2 + \beta\operatorname{tr}(Z^TLZ) = \|ZZ^T - (I - \tfrac\beta2 L)\|_F^2 + d - \|I - \tfrac\beta2 L\|_F^2",
    strategy=_identity_params(beta=BETA),
    method="Random Z and a drawn graph; left side from kt.loss('vicreg', Z, A, beta=β), right side in numpy "
           "(L = diag(A1) − A built in the check).",
    tolerance="100·N·ε·(‖ZZᵀ‖_F + ‖I − (β/2)L‖_F + √d)².",
    symbolic=("vicreg_contrastive_identity",),
    examples=50,
)
def check_O2_identity(params, ctx, chk):
    inst = build(params, ctx)
    N, d = inst.N, inst.d
    beta = params["beta"]
    Zb = ctx.put(params["z_scale"] * inst.rng.standard_normal((N, d)))
    Z = ctx.get(Zb)
    L = laplacian(inst.Ah)
    M = np.eye(N) - (beta / 2) * L
    lhs = ctx.scalar(kt.loss("vicreg", Zb, inst.A, beta=beta))
    direct = float(np.sum((Z.T @ Z - np.eye(d)) ** 2) + beta * np.sum(Z * (L @ Z)))
    rhs = float(np.sum((Z @ Z.T - M) ** 2) + d - np.sum(M * M))
    scale = (np.linalg.norm(Z @ Z.T) + np.linalg.norm(M) + math.sqrt(d)) ** 2
    chk.close("kt.loss = ‖ZᵀZ − I‖² + β tr(ZᵀLZ)", lhs, direct, round_off(inst, scale))
    chk.close("= ‖ZZᵀ − (I − βL/2)‖² + d − ‖I − βL/2‖²", lhs, rhs, round_off(inst, scale))


@register(
    id="KR-O2-target",
    title="O2 target T = P(I − (β/2)L)P − (λ/2)K⁺: the loss is ‖G − T‖² + d − ‖T‖²",
    source=f"{KR_SOURCE} §3 O2",
    statement="Target T = P (I − (β/2) L) P − (λ/2) K⁺.",
    latex=r"L_V(KC) = \|KCC^TK - T\|_F^2 + d - \|T\|_F^2,\quad T = P(I - \tfrac\beta2 L)P - \tfrac\lambda2 K^+",
    strategy=instances(n=(2, 4), m=(1, 3), kernels=SINGULAR_TOO, graph="any", d="any", reg=REG, beta=BETA),
    method="As KR-O1-target with O2's target.",
    tolerance=TOL_EIG,
    symbolic=("completed_square:vicreg",),
    examples=40,
)
def check_O2_target(params, ctx, chk):
    _check_target("vicreg", params, ctx, chk)


@register(
    id="KR-O2-min",
    title="O2 minimum d − Σ_{i≤d} max(λ_i(T),0)², attained by [T]_{+,d}, never beaten",
    source=f"{KR_SOURCE} §3 O2",
    statement="Minimum: d − Σ_{i≤d} max(λ_i(T),0)².",
    latex=r"\min_C L_V = d - \sum_{i\le d}\max(\lambda_i(T),0)^2",
    strategy=instances(n=(2, 4), m=(1, 3), kernels=SINGULAR_TOO, graph="any", d="any", reg=REG, beta=BETA,
                       method=METHOD),
    method="As KR-O1-min with O2's loss and target.",
    tolerance=TOL_EIG + " L-BFGS/perturbations: value ≥ minimum − (1e-9·scale + the minimum's tolerance).",
    symbolic=("stationarity:vicreg", "gradient:vicreg", "finite_differences:vicreg"),
    examples=30,
)
def check_O2_min(params, ctx, chk):
    _check_soft_min("vicreg", params, ctx, chk)


@register(
    id="KR-O2-centred",
    title="Centred O2 depends on HZ only; c·HZZᵀH = [H − (β/2c)L]_{+,d}; min-norm Z* = HZ*",
    source=f"{KR_SOURCE} §3 O2",
    statement="Centred variant ‖c ZᵀHZ − I_d‖² + β tr(ZᵀLZ) (λ = 0): since HLH = L the loss depends on HZ only; "
              "optimum c·H Z Zᵀ H = [H − (β/(2c)) L]_{+,d}; minimum-norm choice Z = HZ.",
    latex=r"\ell(Z) = \ell(HZ),\quad c\,HZ^*Z^{*T}H = [H - \tfrac{\beta}{2c}L]_{+,d},\quad Z^* = HZ^*",
    strategy=instances(n=(2, 4), m=(1, 3), kernels=ALL_KERNELS, graph="any", d="any", beta=BETA,
                       c=st.floats(0.25, 4.0), centred=True),
    method="HLH = L in numpy; kt.loss(Z) = kt.loss(HZ) for random Z; the package's centred optimum against "
           "numpy's [H − (β/2c)L]_{+,d} (spectrum always, matrix when the gap is resolvable), 1ᵀZ* = 0, "
           "loss attained, and L-BFGS (N ≤ 6) never below d − Σλ_i(T)₊².",
    tolerance=TOL_EIG,
    symbolic=("centred_laplacian", "completed_square:vicreg_centred", "stationarity:vicreg_centred"),
    examples=30,
)
def check_O2_centred(params, ctx, chk):
    inst = build(params, ctx)
    N, d = inst.N, inst.d
    opts = {"beta": params["beta"], "c": params["c"], "centred": True}
    H = np.eye(N) - np.ones((N, N)) / N
    L = laplacian(inst.Ah)
    chk.close("HLH = L", H @ L @ H, L, round_off(inst, spectral_norm(L)))
    Zr = ctx.get(ctx.put(inst.rng.standard_normal((N, d))))
    l1 = ctx.scalar(kt.loss("vicreg", ctx.put(Zr), inst.A, **opts))
    l2 = ctx.scalar(kt.loss("vicreg", ctx.put(H @ Zr), inst.A, **opts))
    scale = (params["c"] * np.linalg.norm(Zr) ** 2 + math.sqrt(d)) ** 2 + params["beta"] * spectral_norm(L) * np.sum(
        Zr**2)
    chk.close("the loss depends on HZ only", l1, l2, round_off(inst, scale))
    sol = solve(inst, "vicreg", **opts)
    h = host(sol, ctx)
    T, _, err = target(inst, "vicreg", opts)
    expected, G_o, top, gap = soft_minimum("vicreg", T, d, inst.Ah)
    cG = params["c"] * H @ h.G @ H
    nT = spectral_norm(T)
    chk.close("spectrum of c·HG*H = top-d of [H − (β/2c)L]₊", eig_desc(cG)[0][:d], top, 2 * err)
    if gap > 1e3 * err:
        chk.close("c·HG*H = [H − (β/2c)L]_{+,d}", cG, G_o,
                  4 * err * math.sqrt(N) * (1 + (4 * nT / gap if math.isfinite(gap) else 0)))
    # A numerically-zero eigenvalue δ ~ err of T gives a column √δ·u: allow √err per column.
    chk.close("minimum-norm choice: Z* is centred (1ᵀZ* = 0)", h.Z.sum(axis=0), np.zeros(d),
              math.sqrt(N * 2 * err) + round_off(inst, np.abs(h.Z).max()))
    chk.close("minimum = d − Σλ_i(T)₊²", h.loss, expected, 2 * d * (nT + err) * err + round_off(inst, d + nT**2))
    attained = ctx.scalar(kt.loss("vicreg", sol.embedding, inst.A, **opts))
    chk.close("attained by Z*", attained, expected, 2 * d * (nT + err) * err + round_off(inst, (d + nT) ** 2) * 10)
    if N <= LBFGS_MAX_N:
        best = lbfgs_bound("vicreg", inst, d, opts, starts=2)
        chk.ge("L-BFGS does not beat it", best, expected, 1e-9 * (1 + d + nT**2) + round_off(inst, d + nT**2))


def _beta_around_threshold(n, N, sizes):
    m = sizes[0]
    return st.one_of(st.floats(0.01, 3.0), st.sampled_from([2.0 / m, 0.5 / m, 1.0 / m, 4.0 / m]))


@register(
    id="KR-O2-clique",
    title="O2 on a clique graph keeps the n group directions, plus d−n within-group ones iff β < 2/m",
    source=f"{KR_SOURCE} §3 O2",
    statement="Clique graph: G* keeps the n group directions (eigenvalue 1) and, if d > n, also d−n within-group "
              "directions with eigenvalue 1 − βm/2 when that is positive (β < 2/m).",
    latex=r"G^* = P_{\text{groups}} + (1 - \tfrac{\beta m}{2})_+\,\Pi_{d-n},\ \ \Pi_{d-n} \text{ a rank-}(d-n)\text{ projector inside the within-group space}",
    strategy=instances(n=(2, 4), m=(1, 4), balanced=True, kernels=ALL_KERNELS, graph="clique", d="any",
                       beta=_beta_around_threshold, method=METHOD),
    method="Balanced clique graph (self-loops), K ≻ 0, λ = 0. With P_g the projector onto the group indicators "
           "(numpy): for d ≥ n, P_g G* P_g = P_g, P_g G*(I − P_g) = 0 and the within-group block has eigenvalues "
           "(1 − βm/2)₊ (min(d−n, N−n) times) and 0; for d < n, G* is a rank-d projector inside the group space.",
    tolerance="100·N·ε·(1 + βm) on every block (exact spectra, no gap needed).",
    examples=40,
    note="β > 0 throughout: at β = 0 the two eigenvalues coincide (T = I) and every rank-d projector is optimal, "
         "so 'keeps the group directions' describes one optimum among many.",
)
def check_O2_clique(params, ctx, chk):
    inst = build(params, ctx)
    N, n, d = inst.N, inst.n, inst.d
    m = inst.sizes[0]
    beta = params["beta"]
    h = host(solve(inst, "vicreg", beta=beta), ctx)
    E = inst.indicators()
    Pg = E @ E.T / m
    Pw = np.eye(N) - Pg
    tol = round_off(inst, 1 + beta * m)
    if d >= n:
        chk.close("group block P_g G* P_g = P_g (eigenvalue 1 on all n group directions)", Pg @ h.G @ Pg, Pg, tol)
        chk.close("no cross terms P_g G* (I − P_g) = 0", Pg @ h.G @ Pw, np.zeros((N, N)), tol)
        within = eig_desc(Pw @ h.G @ Pw)[0]
        k = min(d - n, N - n)
        expected = np.zeros(N)
        expected[:k] = max(1 - beta * m / 2, 0.0)
        chk.close("within-group block: (1 − βm/2)₊ on d−n directions, 0 elsewhere", within, expected, tol)
    else:
        chk.close("G* lies in the group space", Pw @ h.G, np.zeros((N, N)), tol)
        chk.close("G* is a rank-d projector", eig_desc(h.G)[0], np.r_[np.ones(d), np.zeros(N - d)], tol)


# --------------------------------------------------------------------------- §3 O3


def _polar_lbfgs(M, N, d, rng, starts=2):
    """L-BFGS (finite-difference gradient) on tr(ZᵀMZ) over orthonormal Z = X(XᵀX)^{-1/2}."""

    def f(x):
        X = x.reshape(N, d)
        U, _, Vt = np.linalg.svd(X, full_matrices=False)
        Z = U @ Vt
        return float(np.sum(Z * (M @ Z)))

    best = math.inf
    for _ in range(starts):
        res = scipy.optimize.minimize(f, rng.standard_normal(N * d), method="L-BFGS-B", options={"maxiter": 200})
        best = min(best, float(res.fun))
    return best


@register(
    id="KR-O3-kyfan",
    title="O3 minimum = sum of the d smallest eigenvalues of L; G* is the projector onto their eigenspace",
    source=f"{KR_SOURCE} §3 O3",
    statement="min tr(ZᵀLZ) s.t. ZᵀZ = I_d: minimum = sum of the d smallest eigenvalues of L (Ky Fan); G* = "
              "orthogonal projector onto that eigenspace (eigenvalues 0/1 only).",
    latex=r"\min_{Z^TZ = I_d}\operatorname{tr}(Z^TLZ) = \sum_{i\le d}\lambda_i^\uparrow(L),\quad G^* = V_dV_d^T",
    strategy=instances(n=(2, 4), m=(1, 3), kernels=ALL_KERNELS, graph="any", d="any", method=METHOD),
    method="numpy eigvalsh of L = diag(A1) − A; Z*ᵀZ* = I, G*² = G*, spectrum of G* is d ones; kt.loss(Z*) equals "
           "the minimum; 10 random orthonormal frames and (N ≤ 6) L-BFGS over orthonormal frames never go below; "
           "G* = numpy projector when λ_{d+1} − λ_d is resolvable.",
    tolerance=TOL_EIG,
    symbolic=("ky_fan_form:laplacian_eigenmaps",),
    examples=30,
)
def check_O3_kyfan(params, ctx, chk):
    inst = build(params, ctx)
    N, d = inst.N, inst.d
    L = laplacian(inst.Ah)
    w, V = np.linalg.eigh(L)
    nL = max(spectral_norm(L), 1.0)
    err = round_off(inst, nL)
    sol = solve(inst, "laplacian_eigenmaps")
    h = host(sol, ctx)
    expected = float(np.sum(w[:d]))
    chk.close("minimum = Σ d smallest eigenvalues of L", h.loss, expected, d * err)
    chk.close("Z*ᵀZ* = I_d", h.Z.T @ h.Z, np.eye(d), round_off(inst, 1.0))
    chk.close("G* is a projector (G*² = G*)", h.G @ h.G, h.G, round_off(inst, 1.0))
    chk.close("spectrum of G* is d ones and zeros", eig_desc(h.G)[0], np.r_[np.ones(d), np.zeros(N - d)],
              round_off(inst, 1.0))
    attained = ctx.scalar(kt.loss("laplacian_eigenmaps", sol.embedding, inst.A))
    chk.close("tr(Z*ᵀLZ*) = minimum (kt.loss)", attained, expected, d * err * 2)
    for k in range(10):
        Q = orthonormal_frame(inst.rng, N, d)
        chk.ge(f"random orthonormal frame {k + 1} is not better", float(np.sum(Q * (L @ Q))), expected, d * err)
    if N <= LBFGS_MAX_N:
        chk.ge("L-BFGS over orthonormal frames is not better", _polar_lbfgs(L, N, d, inst.rng), expected,
               d * err + 1e-9 * nL)
    if d < N and w[d] - w[d - 1] > 1e3 * err:
        gap = w[d] - w[d - 1]
        chk.close("G* = projector onto the bottom-d eigenspace", h.G, V[:, :d] @ V[:, :d].T,
                  err * (1 + 4 * nL / gap))


@register(
    id="KR-O3-clique",
    title="O3 on a clique graph, d ≤ n: minimum 0, each group collapses to one point",
    source=f"{KR_SOURCE} §3 O3",
    statement="Clique graph, d ≤ n: minimum 0, each group collapses to one point.",
    latex=r"d \le n:\ \min = 0,\quad g_i = g_j \Rightarrow z^*_i = z^*_j",
    strategy=instances(n=(2, 5), m=(1, 4), kernels=ALL_KERNELS, graph={"self_loops": st.booleans()}, d="le_n",
                       method=METHOD),
    method="Clique graph (balanced or not, self-loops either way: they cancel in L); the package's minimum is 0 "
           "and the rows of Z* within each group coincide.",
    tolerance="100·N·ε·(1 + ‖L‖/min group size) (the tied null space of L is resolved to ε/gap).",
    symbolic=("laplacian_quadratic_form",),
    examples=40,
)
def check_O3_clique(params, ctx, chk):
    inst = build(params, ctx)
    h = host(solve(inst, "laplacian_eigenmaps"), ctx)
    nL = max(spectral_norm(laplacian(inst.Ah)), 1.0)
    err = round_off(inst, nL) * (1 + nL / min(inst.sizes))
    chk.close("minimum 0", h.loss, 0.0, inst.d * err)
    spread = max(float(np.abs(h.Z[inst.labels == g] - h.Z[inst.labels == g][0]).max()) for g in range(inst.n))
    chk.close("each group collapses to one point", spread, 0.0, err)


@register(
    id="KR-O3-normalized",
    title="Normalised O3 solves the generalised problem L v = μ D v with Zᵀ D Z = I",
    source=f"{KR_SOURCE} §3 O3",
    statement="Normalised-Laplacian variant: generalized problem with Zᵀ D Z = I.",
    latex=r"\min_{Z^TDZ = I_d}\operatorname{tr}(Z^TLZ) = \sum_{i\le d}\mu_i,\quad Lv = \mu Dv",
    strategy=instances(n=(2, 4), m=(1, 3), kernels=ALL_KERNELS, graph="weighted", d="any", positive_degree=True),
    method="scipy.linalg.eigh(L, D) (generalised, independent of the package's D^{-1/2}LD^{-1/2}); minimum = Σ "
           "bottom-d μ, Z*ᵀDZ* = I, tr(Z*ᵀLZ*) = minimum, random D-orthonormal frames never better, G* = V_dV_dᵀ "
           "when the gap is resolvable.",
    tolerance=TOL_EIG + " Scaled by κ(D) for D-orthonormality.",
    examples=30,
)
def check_O3_normalized(params, ctx, chk):
    inst = build(params, ctx)
    N, d = inst.N, inst.d
    A = inst.Ah
    L = laplacian(A)
    D = np.diag(A.sum(axis=1))
    mu, V, allmu = generalized_bottom(L, D, d)
    kD = D.max() / D.min()
    err = round_off(inst, max(allmu.max(), 1.0)) * kD
    sol = solve(inst, "laplacian_eigenmaps", normalized=True)
    h = host(sol, ctx)
    chk.close("minimum = Σ bottom-d generalised eigenvalues (scipy eigh(L, D))", h.loss, float(mu.sum()), d * err)
    chk.close("Z*ᵀ D Z* = I_d", h.Z.T @ D @ h.Z, np.eye(d), err)
    chk.close("tr(Z*ᵀLZ*) = minimum", float(np.sum(h.Z * (L @ h.Z))), float(mu.sum()), d * err)
    root = np.diag(1 / np.sqrt(np.diag(D)))
    for k in range(5):
        Y = root @ orthonormal_frame(inst.rng, N, d)
        chk.ge(f"random D-orthonormal frame {k + 1} is not better", float(np.sum(Y * (L @ Y))), float(mu.sum()),
               d * err)
    if d < N and allmu[d] - allmu[d - 1] > 1e3 * err:
        gap = allmu[d] - allmu[d - 1]
        chk.close("G* = V_dV_dᵀ (D-orthonormal generalised eigenvectors)", h.G, V @ V.T,
                  err * (1 + 4 * max(allmu.max(), 1) / gap) / D.min())


# --------------------------------------------------------------------------- §3 O4


def _pd_kernel_spectrum(inst, lc):
    Q = orthonormal_frame(inst.rng, inst.N, inst.N)
    lam = 10.0 ** (-lc * inst.rng.uniform(0, 1, inst.N))
    return sym((Q * lam) @ Q.T)


@register(
    id="KR-O4-solution",
    title="O4: C = K^{-1/2}V_d, Z = K^{1/2}V_d, maximum Σ_{i≤d} λ_i(K^{1/2}AK^{1/2}), k* formula",
    source=f"{KR_SOURCE} §3 O4",
    statement="max tr(Cᵀ K A K C) s.t. Cᵀ K C = I_d: with S = K^{1/2} A K^{1/2} and V_d its top-d eigenvectors: "
              "C = K^{-1/2} V_d, Z = K^{1/2} V_d, maximum = Σ_{i≤d} λ_i(S), "
              "k*(x,x') = k_xᵀ K^{-1/2} V_d V_dᵀ K^{-1/2} k_x'.",
    latex=r"\max_{C^TKC = I_d}\operatorname{tr}(C^TKAKC) = \sum_{i\le d}\lambda_i(K^{1/2}AK^{1/2}),\quad C^* = K^{-1/2}V_d",
    strategy=instances(n=(2, 4), m=(1, 3), kernels=ALL_KERNELS, graph="any", d="any", log10_cond=(0.5, 4.0)),
    method="K^{±1/2} and S from numpy eigh of K; maximum, constraint C*ᵀKC* = I, Z* = KC*, kt.loss(Z*) = −max, "
           "10 random feasible C = K^{-1/2}Q never better; when the gap is resolvable G* = K^{1/2}V_dV_dᵀK^{1/2} and "
           "the induced kernel on fresh points equals the formula.",
    tolerance=TOL_EIG + " Constraint and k*: ×κ(K).",
    symbolic=("ky_fan_form:whitened",),
    examples=30,
)
def check_O4_solution(params, ctx, chk):
    inst = build(params, ctx)
    N, d = inst.N, inst.d
    T, _, err = target(inst, "whitened", {})
    w, V = eig_desc(T)
    nS = max(spectral_norm(T), 1e-12)
    sol = solve(inst, "whitened")
    h = host(sol, ctx)
    expected = float(np.sum(w[:d]))
    chk.close("maximum = Σ top-d eigenvalues of K^{1/2}AK^{1/2}", -h.loss, expected, d * err)
    chk.close("constraint C*ᵀKC* = I_d", h.C.T @ inst.Kh @ h.C, np.eye(d), round_off(inst, inst.cond))
    chk.close("Z* = KC*", inst.Kh @ h.C, h.Z, round_off(inst, inst.cond * max(np.abs(h.Z).max(), 1e-30)))
    value = float(np.trace(h.C.T @ inst.Kh @ inst.Ah @ inst.Kh @ h.C))
    chk.close("tr(C*ᵀKAKC*) = maximum", value, expected, d * err + round_off(inst, nS * inst.cond))
    attained = ctx.scalar(kt.loss("whitened", sol.embedding, inst.A))
    chk.close("kt.loss(Z*) = −maximum", attained, -expected, d * err * 2)
    for k in range(10):
        Q = orthonormal_frame(inst.rng, N, d)
        chk.le(f"random feasible C = K^(-1/2)Q {k + 1} is not better", float(np.sum(Q * (T @ Q))), expected, d * err)
    if d < N and w[d - 1] - w[d] > 1e3 * err:
        gap = w[d - 1] - w[d]
        root = psd_power(inst.Kh, 0.5)
        Vd = V[:, :d]
        tol = err * (1 + 4 * nS / gap) * math.sqrt(inst.cond)
        chk.close("G* = K^{1/2}V_dV_dᵀK^{1/2}", h.G, root @ Vd @ Vd.T @ root, tol * spectral_norm(inst.Kh))
        if inst.kernel_fn is not None:
            Xn, _ = inst.fresh_views(2)
            Kx = inst.cross(Xn)
            kx = ctx.get(Kx)
            iroot = psd_power(inst.Kh, -0.5)
            formula = kx @ iroot @ Vd @ Vd.T @ iroot @ kx.T
            got = ctx.get(sol.induced_kernel(Kx))
            chk.close("k*(x,x') = k_xᵀK^{-1/2}V_dV_dᵀK^{-1/2}k_x'", got, formula,
                      tol * inst.cond * max(np.abs(kx).max() ** 2, 1e-30) * N)


@register(
    id="KR-O4-kernel-dependence",
    title="O4's training Gram depends on the kernel (unlike O1 with λ = 0)",
    source=f"{KR_SOURCE} §3 O4",
    statement="Depends on the kernel on the training set.",
    latex=r"G^*_{O4}(K) = K^{1/2}V_dV_d^TK^{1/2} \text{ changes with } K",
    strategy=instances(n=(2, 4), m=(1, 3), kernels=ALL_KERNELS, graph="any", d="any", log10_cond=(0.5, 4.0)),
    method="Solve O4 with the drawn K₁ and an unrelated random-spectrum K₂ ≻ 0 on the same graph; the training "
           "Grams (normalised to unit norm, to rule out mere scaling) differ.",
    tolerance="difference of the normalised Grams > 1e-6 (round-off is ≤ 100·N·ε·κ(K)).",
    examples=40,
)
def check_O4_kernel_dependence(params, ctx, chk):
    inst = build(params, ctx)
    lc = min(params.get("log10_cond", 3.0), ctx.max_log10_cond)
    K2 = ctx.put(_pd_kernel_spectrum(inst, lc))
    G1 = host(solve(inst, "whitened"), ctx).G
    G2 = host(solve(inst, "whitened", K=K2), ctx).G
    diff = np.linalg.norm(G1 / np.linalg.norm(G1) - G2 / np.linalg.norm(G2))
    chk.gt("the O4 Grams of two kernels differ", diff, max(1e-6, round_off(inst, inst.cond) * 10))


@register(
    id="KR-O4-kpca",
    title="O4 with A = I is kernel PCA; with centred K it matches scikit-learn's KernelPCA up to signs",
    source=f"{KR_SOURCE} §3 O4",
    statement="A = I gives (uncentred) kernel PCA; with a centred K it must agree with scikit-learn's KernelPCA "
              "(kernel=\"precomputed\") up to signs.",
    latex=r"A = I:\ Z^* = V_d\Lambda_d^{1/2}\ (\text{top-}d\text{ eigenpairs of }K);\ \ K \to HKH:\ Z^* = \pm\,\mathrm{KernelPCA}(K)",
    strategy=instances(n=(3, 8), m=(1, 1), kernels=POINT_KERNELS, graph=None, d=lambda n, N, s: st.integers(1, N - 1),
                       log10_cond=(0.5, 4.0)),
    method="Uncentred: G* equals the rank-d truncation of K (numpy). Centred: the package's O4 on HKH versus "
           "sklearn.decomposition.KernelPCA(n_components=d, kernel='precomputed', eigen_solver='dense') on K, "
           "column by column up to sign.",
    tolerance="column j: 100·N·ε·‖K‖·(4√λ_j/gap_j + 1/√λ_j) with gap_j the distance of λ_j to its neighbours.",
    examples=30,
)
def check_O4_kpca(params, ctx, chk):
    from sklearn.decomposition import KernelPCA

    inst = build(params, ctx, with_graph=False)
    N, d = inst.N, inst.d
    I = ctx.put(np.eye(N))
    w, V = eig_desc(inst.Kh)
    err = round_off(inst, w[0])
    h = host(solve(inst, "whitened", A=I), ctx)
    if w[d - 1] - w[d] > 1e3 * err:
        chk.close("A = I: G* = rank-d truncation of K", h.G, (V[:, :d] * w[:d]) @ V[:, :d].T,
                  err * (1 + 4 * w[0] / (w[d - 1] - w[d])))
    H = np.eye(N) - np.ones((N, N)) / N
    Kc = ctx.put(sym(H @ inst.Kh @ H))
    hc = host(solve(inst, "whitened", K=Kc, A=I), ctx)
    ref = KernelPCA(n_components=d, kernel="precomputed", eigen_solver="dense").fit_transform(inst.Kh)
    wc = eig_desc(H @ inst.Kh @ H)[0]
    for j in range(d):
        gap = min(wc[j - 1] - wc[j] if j > 0 else math.inf, wc[j] - wc[j + 1])
        if gap <= 1e3 * err or wc[j] <= 1e3 * err:
            continue
        tol = err * (4 * math.sqrt(wc[j]) / gap + 1 / math.sqrt(wc[j])) + round_off(inst, math.sqrt(wc[0]))
        a, b = hc.Z[:, j], ref[:, j]
        chk.close(f"centred: column {j + 1} = ±KernelPCA column", min(np.abs(a - b).max(), np.abs(a + b).max()), 0.0,
                  tol)


@register(
    id="KR-O4-laplacian",
    title="Laplacian twin of O4: bottom-d eigenvectors of K^{1/2}LK^{1/2}",
    source=f"{KR_SOURCE} §3 O4",
    statement="Laplacian twin: min tr(Cᵀ K L K C) s.t. Cᵀ K C = I_d → bottom-d eigenvectors of K^{1/2} L K^{1/2}.",
    latex=r"\min_{C^TKC = I_d}\operatorname{tr}(C^TKLKC) = \sum_{i\le d}\lambda_i^\uparrow(K^{1/2}LK^{1/2})",
    strategy=instances(n=(2, 4), m=(1, 3), kernels=ALL_KERNELS, graph="any", d="any", log10_cond=(0.5, 4.0)),
    method="numpy: minimum = Σ bottom-d eigenvalues of K^{1/2}LK^{1/2}; constraint; G* = K^{1/2}V_dV_dᵀK^{1/2} when "
           "the gap is resolvable; 10 random feasible C never better.",
    tolerance=TOL_EIG + " Constraint: ×κ(K).",
    symbolic=("ky_fan_form:whitened_laplacian",),
    examples=30,
)
def check_O4_laplacian(params, ctx, chk):
    inst = build(params, ctx)
    N, d = inst.N, inst.d
    T, _, err = target(inst, "whitened", {"laplacian": True})
    wd, Vd = eig_desc(T)
    w, V = wd[::-1], Vd[:, ::-1]
    nS = max(spectral_norm(T), 1e-12)
    h = host(solve(inst, "whitened", laplacian=True), ctx)
    expected = float(np.sum(w[:d]))
    chk.close("minimum = Σ bottom-d eigenvalues of K^{1/2}LK^{1/2}", h.loss, expected, d * err)
    chk.close("constraint C*ᵀKC* = I_d", h.C.T @ inst.Kh @ h.C, np.eye(d), round_off(inst, inst.cond))
    for k in range(10):
        Q = orthonormal_frame(inst.rng, N, d)
        chk.ge(f"random feasible C {k + 1} is not better", float(np.sum(Q * (T @ Q))), expected, d * err)
    if d < N and w[d] - w[d - 1] > 1e3 * err:
        root = psd_power(inst.Kh, 0.5)
        tol = err * (1 + 4 * nS / (w[d] - w[d - 1])) * math.sqrt(inst.cond) * spectral_norm(inst.Kh)
        chk.close("G* = K^{1/2}V_dV_dᵀK^{1/2}", h.G, root @ V[:, :d] @ V[:, :d].T @ root, tol)

