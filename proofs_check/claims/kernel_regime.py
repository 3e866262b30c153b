r"""[KR] claims of docs/theory.md §2 (reachability) and §3 (the soft objectives O1, O2 and their closed forms).

The hard-constrained O3 and O4 are in :mod:`.constrained`.

Every check builds its instance from the parameter dict (:func:`proofs_check.instances.build`),
calls :func:`kssl_theory.solve` / :func:`kssl_theory.loss` on the run's backend and dtype, and
compares with an oracle computed on the host in float64 from docs/theory.md's formulas with
``numpy.linalg`` (targets, eigenvalues, pseudo-inverses), random perturbations and L-BFGS from
random starts.
"""

from __future__ import annotations

import math

import numpy as np
from hypothesis import strategies as st

import kssl_theory as kt

from ..instances import ALL_KERNELS, build, instances
from ..oracles import (
    eig_desc,
    host_loss,
    laplacian,
    lbfgs_bound,
    numerical_kernel,
    orthonormal_frame,
    psd_truncation,
    range_projector,
    round_off,
    soft_minimum,
    spectral_norm,
    sym,
    target,
)
from ..registry import register
from ._common import KR_SOURCE, host, objective_options, solve

REG = st.one_of(st.just(0.0), st.floats(0.001, 2.0))
BETA = st.floats(0.0, 3.0)
METHOD = st.sampled_from(["auto", "dense"])
#: L-BFGS oracles run on instances with at most this many views (cost grows fast, the bound does not).
LBFGS_MAX_N = 6
SINGULAR_TOO = ALL_KERNELS + ("lowrank",)

TOL_EIG = (
    "eigenvalues and losses: 100·N·ε·‖T‖ (ε of the dtype), times κ(K) for the part of T that applies "
    "K⁺; matrices fixed by eigenvectors (G*, projectors): that, times (1 + 4‖T‖/gap) (Davis–Kahan), "
    "compared only when the gap is resolvable; losses of candidates: 100·N·ε·(‖G‖+‖A‖+√d)²."
)


def _loss_scale(h, A, d, opts, inst):
    L = laplacian(A)
    beta = float(opts.get("beta", 0.0))
    reg = float(opts.get("reg", 0.0))
    return (
        (np.linalg.norm(h.G) + np.linalg.norm(A) + math.sqrt(d)) ** 2
        + beta * spectral_norm(L) * np.trace(h.G)
        + reg * abs(h.hs_norm) * inst.cond
    )


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
    preconditions=(
        "K ≻ 0 (positive definite)",
        "d ≥ 1",
    ),
    statement="If K is invertible, {ZZᵀ : Z = KC} is exactly the set of PSD N×N matrices of rank ≤ d: given any "
    "Y ∈ R^{N×d}, C = K⁻¹Y gives Z = Y.",
    latex=r"K \succ 0 \;\Rightarrow\; \{KCC^TK : C \in \mathbb R^{N\times d}\} = "
    r"\{G \succeq 0 : \operatorname{rank} G \le d\}",
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
    preconditions=(
        "K positive semi-definite (singular allowed; P is the projector onto range(K), K⁺ its pseudo-inverse)",
        "d ≥ 1",
    ),
    statement="If K is singular, the reachable set is the PSD rank-≤d matrices with range inside range(K).",
    latex=r"\{KCC^TK\} = \{G \succeq 0 : \operatorname{rank} G \le d,\ "
    r"\operatorname{range} G \subseteq \operatorname{range} K\}",
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
    chk.close(
        "a generic G₁ is not reached: loss = ‖G₁‖² − Σλ(PG₁P)₊²", h1.loss, expected_loss, round_off(inst, g1**2) * 10
    )
    chk.gt("… and that loss is > 0", h1.loss, round_off(inst, g1**2) * 10)
    chk.close("the optimum has range in range(K)", (np.eye(N) - P) @ h1.G, np.zeros((N, N)), round_off(inst, g1) * 10)
    if gap > 1e3 * round_off(inst, g1):
        chk.close("the optimum is [PG₁P]_{+,d}", h1.G, expected_G, round_off(inst, g1) * 10 * (1 + 4 * g1 / gap))


@register(
    id="KR-reach-kernel-free",
    title="K ≻ 0, no penalty: the optimal training Gram does not depend on the kernel",
    source=f"{KR_SOURCE} §2",
    preconditions=(
        "K ≻ 0 (positive definite), for both kernels compared",
        "λ = 0 (no penalty on W)",
        "A real symmetric (weights of any sign; L = D − A with D = diag(A1))",
        "G* compared only where it is unique (a resolvable gap at the cut); otherwise the loss and the spectrum of G*",
    ),
    statement="Without a penalty on W, the optimal training Gram matrix does not depend on the kernel when K ≻ 0.",
    latex=r"K_1, K_2 \succ 0,\ \lambda = 0 \;\Rightarrow\; G^*(K_1) = G^*(K_2) "
    r"\text{ (when unique; same spectrum and loss always)}",
    strategy=instances(
        n=(2, 4),
        m=(1, 3),
        kernels=ALL_KERNELS,
        graph="any",
        d="any",
        objective=["contrastive", "vicreg"],
        beta=BETA,
        method=METHOD,
    ),
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
    return instances(
        n=(2, 5),
        m=(1, 3),
        kernels=("spectrum",),
        graph="any",
        d="any",
        log10_cond=(0.0, 3.0),
        z_scale=st.floats(0.1, 3.0),
        **extra,
    )


@register(
    id="KR-O1-haochen",
    title="O1 = HaoChen et al.'s spectral contrastive loss up to the constant ‖A‖²",
    source=f"{KR_SOURCE} §3 O1",
    preconditions=("none: an algebraic identity for every Z ∈ R^{N×d} and every real symmetric A",),
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
    chk.close(
        "HaoChen loss = ‖ZZᵀ − A‖² − ‖A‖²", lhs, rhs, round_off(inst, (np.linalg.norm(S) + np.linalg.norm(A)) ** 2)
    )


def _check_target(objective, params, ctx, chk):
    inst = build(params, ctx)
    opts = objective_options(objective, params)
    d = inst.d
    T, _, err = target(inst, objective, opts)
    sol = solve(inst, objective, **opts)
    eig = ctx.get(sol.eigenvalues)
    nT = spectral_norm(T)
    expected = eig_desc(T)[0][: eig.size]
    chk.close(
        "the package's spectral matrix has the eigenvalues of T (numpy)", eig, expected, err + round_off(inst, nT)
    )
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
        scale = (
            (np.linalg.norm(G) + np.linalg.norm(T) + np.linalg.norm(A) + math.sqrt(d)) ** 2
            + beta * spectral_norm(laplacian(A)) * np.trace(G)
            + reg * abs(np.sum(C * Z)) * inst.cond
        )
        chk.close(f"loss(KC) = ‖KCCᵀK − T‖² + const, candidate {k + 1}", lhs, rhs, round_off(inst, scale) * 10)


@register(
    id="KR-O1-target",
    title="O1 target T = PAP − (λ/2)K⁺: the loss is ‖G − T‖² + ‖A‖² − ‖T‖²",
    source=f"{KR_SOURCE} §3 O1",
    preconditions=(
        "K positive semi-definite (singular allowed; P is the projector onto range(K), K⁺ its pseudo-inverse)",
        "λ ≥ 0",
        "A real symmetric (weights of any sign; L = D − A with D = diag(A1))",
    ),
    statement="Target T = P A P − (λ/2) K⁺ (for K ≻ 0: A − (λ/2) K⁻¹).",
    latex=r"\|KCC^TK - A\|_F^2 + \lambda\operatorname{tr}(C^TKC) = \|KCC^TK - T\|_F^2 + \|A\|_F^2 - \|T\|_F^2,\quad "
    r"T = PAP - \tfrac\lambda2 K^+",
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
        chk.ge(f"random perturbation {k + 1} does not beat the closed form", value, expected, bound_tol + tol_loss)
    if N <= LBFGS_MAX_N:
        best = lbfgs_bound(objective, inst, d, opts, starts=2, scale=math.sqrt(max(nT, 1.0)))
        chk.ge("L-BFGS from 2 random starts does not beat the closed form", best, expected, bound_tol + tol_loss)
        chk.info["lbfgs_gap"] = best - expected


@register(
    id="KR-O1-min",
    title="O1 minimum ‖A‖² − Σ_{i≤d} max(λ_i(T),0)², attained by G* = [T]_{+,d}, never beaten",
    source=f"{KR_SOURCE} §3 O1",
    preconditions=(
        "K positive semi-definite (singular allowed; P is the projector onto range(K), K⁺ its pseudo-inverse)",
        "λ ≥ 0",
        "A real symmetric (weights of any sign; L = D − A with D = diag(A1))",
        "1 ≤ d ≤ N",
    ),
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
    preconditions=("none: an algebraic identity for every Z ∈ R^{N×d}, every real symmetric A and every real β",),
    statement="‖ZᵀZ − I_d‖² + β tr(ZᵀLZ) = ‖ZZᵀ − (I − (β/2)L)‖² + d − ‖I − (β/2)L‖². Non-contrastive = "
    "contrastive with target I − (β/2)L.",
    latex=r"\|Z^TZ - I_d\|_F^2 + \beta\operatorname{tr}(Z^TLZ) "
    r"= \|ZZ^T - (I - \tfrac\beta2 L)\|_F^2 + d - \|I - \tfrac\beta2 L\|_F^2",
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
    preconditions=(
        "K positive semi-definite (singular allowed; P is the projector onto range(K), K⁺ its pseudo-inverse)",
        "λ ≥ 0",
        "A real symmetric (weights of any sign; L = D − A with D = diag(A1))",
        "β real (drawn in [0, 3])",
    ),
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
    preconditions=(
        "K positive semi-definite (singular allowed; P is the projector onto range(K), K⁺ its pseudo-inverse)",
        "λ ≥ 0",
        "A real symmetric (weights of any sign; L = D − A with D = diag(A1))",
        "β real (drawn in [0, 3])",
        "1 ≤ d ≤ N",
    ),
    statement="Minimum: d − Σ_{i≤d} max(λ_i(T),0)².",
    latex=r"\min_C L_V = d - \sum_{i\le d}\max(\lambda_i(T),0)^2",
    strategy=instances(
        n=(2, 4), m=(1, 3), kernels=SINGULAR_TOO, graph="any", d="any", reg=REG, beta=BETA, method=METHOD
    ),
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
    preconditions=(
        "K ≻ 0 (positive definite)",
        "λ = 0",
        "c > 0",
        "L = D − A the unnormalised Laplacian (L1 = 0, hence HLH = L); A real symmetric",
        "β real (drawn in [0, 3])",
        "1 ≤ d ≤ N",
    ),
    statement="Centred variant ‖c ZᵀHZ − I_d‖² + β tr(ZᵀLZ) (λ = 0): since HLH = L the loss depends on HZ only; "
    "optimum c·H Z Zᵀ H = [H − (β/(2c)) L]_{+,d}; minimum-norm choice Z = HZ.",
    latex=r"\ell(Z) = \ell(HZ),\quad c\,HZ^*Z^{*T}H = [H - \tfrac{\beta}{2c}L]_{+,d},\quad Z^* = HZ^*",
    strategy=instances(
        n=(2, 4), m=(1, 3), kernels=ALL_KERNELS, graph="any", d="any", beta=BETA, c=st.floats(0.25, 4.0), centred=True
    ),
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
        Zr**2
    )
    chk.close("the loss depends on HZ only", l1, l2, round_off(inst, scale))
    sol = solve(inst, "vicreg", **opts)
    h = host(sol, ctx)
    T, _, err = target(inst, "vicreg", opts)
    expected, G_o, top, gap = soft_minimum("vicreg", T, d, inst.Ah)
    cG = params["c"] * H @ h.G @ H
    nT = spectral_norm(T)
    chk.close("spectrum of c·HG*H = top-d of [H − (β/2c)L]₊", eig_desc(cG)[0][:d], top, 2 * err)
    if gap > 1e3 * err:
        chk.close(
            "c·HG*H = [H − (β/2c)L]_{+,d}",
            cG,
            G_o,
            4 * err * math.sqrt(N) * (1 + (4 * nT / gap if math.isfinite(gap) else 0)),
        )
    # A numerically-zero eigenvalue δ ~ err of T gives a column √δ·u: allow √err per column.
    ones_out = np.ones(N) - range_projector(numerical_kernel(inst), 10 * N * ctx.eps) @ np.ones(N)
    if np.linalg.norm(ones_out) <= 1e3 * N * ctx.eps * math.sqrt(N):
        chk.close(
            "minimum-norm choice: Z* is centred (1ᵀZ* = 0)",
            h.Z.sum(axis=0),
            np.zeros(d),
            math.sqrt(N * 2 * err) + round_off(inst, np.abs(h.Z).max()),
        )
    if inst.rank < N:
        P = range_projector(numerical_kernel(inst), 10 * N * ctx.eps)
        chk.close(
            "feasible: Z* lies in range(K)",
            h.Z - P @ h.Z,
            np.zeros_like(h.Z),
            math.sqrt(N * 2 * err) + 10 * round_off(inst, np.abs(h.Z).max()) * math.sqrt(inst.cond),
        )
    chk.close("minimum = d − Σλ_i(T)₊²", h.loss, expected, 2 * d * (nT + err) * err + round_off(inst, d + nT**2))
    attained = ctx.scalar(kt.loss("vicreg", sol.embedding, inst.A, **opts))
    chk.close("attained by Z*", attained, expected, 2 * d * (nT + err) * err + round_off(inst, (d + nT) ** 2) * 10)
    if N <= LBFGS_MAX_N:
        best = lbfgs_bound("vicreg", inst, d, opts, starts=2)
        chk.ge("L-BFGS does not beat it", best, expected, 1e-9 * (1 + d + nT**2) + round_off(inst, d + nT**2))


@register(
    id="KR-O2-centred-singular",
    title="Centred O2 with singular K: c·HZ*Z*ᵀH = [P_R(H − (β/2c)L)P_R]_{+,d}, R = range(HK); Z* ∈ range(K)",
    source=f"{KR_SOURCE} §3 O2 (extension: the original specification states the centred optimum for K ≻ 0 only)",
    preconditions=(
        "K positive semi-definite (singular allowed; P is the projector onto range(K), K⁺ its pseudo-inverse)",
        "λ = 0",
        "c > 0",
        "L = D − A the unnormalised Laplacian (L1 = 0); A real symmetric",
        "β real (drawn in [0, 3])",
        "1 ≤ d ≤ N",
    ),
    statement="For any PSD K the centred loss depends on Y = HZ only and the feasible set of Y is range(HK); "
    "so c·YYᵀ = [P_R(H − (β/(2c))L)P_R]_{+,d} with R = range(HK), minimum d − Σλ_i₊², and "
    "Z* = Y + 1vᵀ is the unique lift into range(K) (v = 0 when 1 ∈ range(K)).",
    latex=r"c\,HZ^*Z^{*T}H = [P_R(H - \tfrac{\beta}{2c}L)P_R]_{+,d},\ R = \operatorname{range}(HK),\ Z^* \in "
    r"\operatorname{range}(K)",
    strategy=instances(
        n=(2, 4), m=(1, 3), kernels=("lowrank",), graph="any", d="any", beta=BETA, c=st.floats(0.25, 4.0), centred=True
    ),
    method="As KR-O2-centred, with numpy's projector onto range(HK) (SVD of H·K) applied to the target; "
    "Z* checked to lie in range(K), and centred when 1 ∈ range(K); L-BFGS over C with Z = KC.",
    tolerance=TOL_EIG + " Target projected by an SVD projector: 10× the eigenvalue tolerance.",
    symbolic=("centred_laplacian", "completed_square:vicreg_centred"),
    examples=30,
)
def check_O2_centred_singular(params, ctx, chk):
    check_O2_centred(params, ctx, chk)


def _beta_around_threshold(n, N, sizes):
    m = sizes[0]
    return st.one_of(st.floats(0.01, 3.0), st.sampled_from([2.0 / m, 0.5 / m, 1.0 / m, 4.0 / m]))


@register(
    id="KR-O2-clique",
    title="O2 on a clique graph keeps the n group directions, plus d−n within-group ones iff β < 2/m",
    source=f"{KR_SOURCE} §3 O2",
    preconditions=(
        "K ≻ 0 (positive definite)",
        "λ = 0",
        "clique graph: self-loops, unit weights, n groups of equal size m (A = I_n ⊗ 11ᵀ up to a permutation)",
        "β ≥ 0",
        "1 ≤ d ≤ N",
    ),
    statement="Clique graph: G* keeps the n group directions (eigenvalue 1) and, if d > n, also d−n within-group "
    "directions with eigenvalue 1 − βm/2 when that is positive (β < 2/m).",
    latex=r"G^* = P_{\text{groups}} + (1 - \tfrac{\beta m}{2})_+\,\Pi_{d-n},\ \ "
    r"\Pi_{d-n} \text{ a rank-}(d-n)\text{ projector inside the within-group space}",
    strategy=instances(
        n=(2, 4),
        m=(1, 4),
        balanced=True,
        kernels=ALL_KERNELS,
        graph="clique",
        d="any",
        beta=_beta_around_threshold,
        method=METHOD,
    ),
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
