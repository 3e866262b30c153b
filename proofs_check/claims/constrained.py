r"""[KR] claims of docs/theory.md §3 about the hard-constrained objectives: O3 (Laplacian eigenmaps) and O4
(whitened map).

Oracles: numpy eigendecompositions (Ky Fan), ``scipy.linalg.eigh(L, D)`` for the generalised
problem, scikit-learn's ``KernelPCA``, random feasible frames and L-BFGS over orthonormal frames.
"""

from __future__ import annotations

import math

import numpy as np
import scipy.optimize
from hypothesis import strategies as st

import kssl_theory as kt

from ..instances import ALL_KERNELS, GRAPH_KINDS, POINT_KERNELS, build, instances
from ..oracles import (
    eig_desc,
    generalized_bottom,
    laplacian,
    orthonormal_frame,
    psd_power,
    round_off,
    spectral_norm,
    sym,
    target,
)
from ..registry import register
from ._common import KR_SOURCE, host, solve
from .kernel_regime import LBFGS_MAX_N, METHOD, TOL_EIG

#: Every graph kind of the instance generator (cliques, kNN, sparse, disconnected, isolated views, signed
#: weights): the Ky Fan statements of O3 and O4 hold for any real symmetric A.
ANY_GRAPH = {
    "graph_kind": list(GRAPH_KINDS),
    "self_loops": st.booleans(),
    "weighted": st.booleans(),
    "normalized": st.booleans(),
}


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
    preconditions=(
        "K ≻ 0 (positive definite) (every Z ∈ R^{N×d} is reachable)",
        "A real symmetric (weights of any sign; L = D − A with D = diag(A1))",
        "1 ≤ d ≤ N",
    ),
    statement="min tr(ZᵀLZ) s.t. ZᵀZ = I_d: minimum = sum of the d smallest eigenvalues of L (Ky Fan); G* = "
    "orthogonal projector onto that eigenspace (eigenvalues 0/1 only).",
    latex=r"\min_{Z^TZ = I_d}\operatorname{tr}(Z^TLZ) = \sum_{i\le d}\lambda_i^\uparrow(L),\quad G^* = V_dV_d^T",
    strategy=instances(n=(2, 4), m=(1, 3), kernels=ALL_KERNELS, graph=ANY_GRAPH, d="any", method=METHOD),
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
    chk.close(
        "spectrum of G* is d ones and zeros", eig_desc(h.G)[0], np.r_[np.ones(d), np.zeros(N - d)], round_off(inst, 1.0)
    )
    attained = ctx.scalar(kt.loss("laplacian_eigenmaps", sol.embedding, inst.A))
    chk.close("tr(Z*ᵀLZ*) = minimum (kt.loss)", attained, expected, d * err * 2)
    for k in range(10):
        Q = orthonormal_frame(inst.rng, N, d)
        chk.ge(f"random orthonormal frame {k + 1} is not better", float(np.sum(Q * (L @ Q))), expected, d * err)
    if N <= LBFGS_MAX_N:
        chk.ge(
            "L-BFGS over orthonormal frames is not better",
            _polar_lbfgs(L, N, d, inst.rng),
            expected,
            d * err + 1e-9 * nL,
        )
    if d < N and w[d] - w[d - 1] > 1e3 * err:
        gap = w[d] - w[d - 1]
        chk.close("G* = projector onto the bottom-d eigenspace", h.G, V[:, :d] @ V[:, :d].T, err * (1 + 4 * nL / gap))


@register(
    id="KR-O3-clique",
    title="O3 on a clique graph, d ≤ n: minimum 0, each group collapses to one point",
    source=f"{KR_SOURCE} §3 O3",
    preconditions=(
        "K ≻ 0 (positive definite)",
        "union-of-cliques graph with unit weights (self-loops optional), n groups",
        "d ≤ n",
    ),
    statement="Clique graph, d ≤ n: minimum 0, each group collapses to one point.",
    latex=r"d \le n:\ \min = 0,\quad g_i = g_j \Rightarrow z^*_i = z^*_j",
    strategy=instances(
        n=(2, 5), m=(1, 4), kernels=ALL_KERNELS, graph={"self_loops": st.booleans()}, d="le_n", method=METHOD
    ),
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
    preconditions=(
        "K ≻ 0 (positive definite)",
        "A ≥ 0 entrywise with every degree positive (D ≻ 0, so D^{-1/2} exists)",
        "1 ≤ d ≤ N",
    ),
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
        chk.ge(
            f"random D-orthonormal frame {k + 1} is not better", float(np.sum(Y * (L @ Y))), float(mu.sum()), d * err
        )
    if d < N and allmu[d] - allmu[d - 1] > 1e3 * err:
        gap = allmu[d] - allmu[d - 1]
        chk.close(
            "G* = V_dV_dᵀ (D-orthonormal generalised eigenvectors)",
            h.G,
            V @ V.T,
            err * (1 + 4 * max(allmu.max(), 1) / gap) / D.min(),
        )


# --------------------------------------------------------------------------- §3 O4


def _pd_kernel_spectrum(inst, lc):
    Q = orthonormal_frame(inst.rng, inst.N, inst.N)
    lam = 10.0 ** (-lc * inst.rng.uniform(0, 1, inst.N))
    return sym((Q * lam) @ Q.T)


@register(
    id="KR-O4-solution",
    title="O4: C = K^{-1/2}V_d, Z = K^{1/2}V_d, maximum Σ_{i≤d} λ_i(K^{1/2}AK^{1/2}), k* formula",
    source=f"{KR_SOURCE} §3 O4",
    preconditions=(
        "K ≻ 0 (positive definite)",
        "A real symmetric",
        "1 ≤ d ≤ N",
    ),
    statement="max tr(Cᵀ K A K C) s.t. Cᵀ K C = I_d: with S = K^{1/2} A K^{1/2} and V_d its top-d eigenvectors: "
    "C = K^{-1/2} V_d, Z = K^{1/2} V_d, maximum = Σ_{i≤d} λ_i(S), "
    "k*(x,x') = k_xᵀ K^{-1/2} V_d V_dᵀ K^{-1/2} k_x'.",
    latex=r"\max_{C^TKC = I_d}\operatorname{tr}(C^TKAKC) = \sum_{i\le d}\lambda_i(K^{1/2}AK^{1/2}),\quad "
    r"C^* = K^{-1/2}V_d",
    strategy=instances(n=(2, 4), m=(1, 3), kernels=ALL_KERNELS, graph=ANY_GRAPH, d="any", log10_cond=(0.5, 4.0)),
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
            chk.close(
                "k*(x,x') = k_xᵀK^{-1/2}V_dV_dᵀK^{-1/2}k_x'",
                got,
                formula,
                tol * inst.cond * max(np.abs(kx).max() ** 2, 1e-30) * N,
            )


@register(
    id="KR-O4-kernel-dependence",
    title="O4's training Gram depends on the kernel (unlike O1 with λ = 0)",
    source=f"{KR_SOURCE} §3 O4",
    preconditions=(
        "K ≻ 0 (positive definite), for both kernels compared",
        "A real symmetric",
        "both O4 optima unique (certified gap at d): with a tie, e.g. A = 0, every frame is optimal and the "
        "returned Gram is one of many, not a function of K",
    ),
    statement="Depends on the kernel on the training set.",
    latex=r"G^*_{O4}(K) = K^{1/2}V_dV_d^TK^{1/2} \text{ changes with } K",
    strategy=instances(n=(2, 4), m=(1, 3), kernels=ALL_KERNELS, graph=ANY_GRAPH, d="any", log10_cond=(0.5, 4.0)),
    method="Solve O4 with the drawn K₁ and an unrelated random-spectrum K₂ ≻ 0 on the same graph; the training "
    "Grams (normalised to unit norm, to rule out mere scaling) differ.",
    tolerance="difference of the normalised Grams > 1e-6 (round-off is ≤ 100·N·ε·κ(K)).",
    examples=40,
)
def check_O4_kernel_dependence(params, ctx, chk):
    inst = build(params, ctx)
    lc = min(params.get("log10_cond", 3.0), ctx.max_log10_cond)
    K2 = ctx.put(_pd_kernel_spectrum(inst, lc))
    sol1, sol2 = solve(inst, "whitened"), solve(inst, "whitened", K=K2)
    if not (sol1.is_unique and sol2.is_unique):
        chk.info["skipped"] = "an O4 optimum is not unique (tie at λ_d): its Gram is not determined by K"
        return
    G1 = host(sol1, ctx).G
    G2 = host(sol2, ctx).G
    diff = np.linalg.norm(G1 / np.linalg.norm(G1) - G2 / np.linalg.norm(G2))
    chk.gt("the O4 Grams of two kernels differ", diff, max(1e-6, round_off(inst, inst.cond) * 10))


@register(
    id="KR-O4-kpca",
    title="O4 with A = I is kernel PCA; with centred K it matches scikit-learn's KernelPCA up to signs",
    source=f"{KR_SOURCE} §3 O4",
    preconditions=(
        "K ≻ 0 (positive definite)",
        "A = I (O4 without augmentations)",
        "1 ≤ d < N",
        "eigenvectors compared up to sign only where the eigenvalue at the cut is simple",
    ),
    statement="A = I gives (uncentred) kernel PCA; with a centred K it must agree with scikit-learn's KernelPCA "
    '(kernel="precomputed") up to signs.',
    latex=r"A = I:\ Z^* = V_d\Lambda_d^{1/2}\ (\text{top-}d\text{ eigenpairs of }K);\ \ "
    r"K \to HKH:\ Z^* = \pm\,\mathrm{KernelPCA}(K)",
    strategy=instances(
        n=(3, 8),
        m=(1, 1),
        kernels=POINT_KERNELS,
        graph=None,
        d=lambda n, N, s: st.integers(1, N - 1),
        log10_cond=(0.5, 4.0),
    ),
    method="Uncentred: G* equals the rank-d truncation of K (numpy). Centred: the package's O4 on HKH versus "
    "sklearn.decomposition.KernelPCA(n_components=d, kernel='precomputed', eigen_solver='dense') on K, "
    "column by column up to sign (numpy's eigh of HKH when scikit-learn is not installed).",
    tolerance="column j: 100·N·ε·‖K‖·(4√λ_j/gap_j + 1/√λ_j) with gap_j the distance of λ_j to its neighbours.",
    examples=30,
)
def check_O4_kpca(params, ctx, chk):
    inst = build(params, ctx, with_graph=False)
    N, d = inst.N, inst.d
    I = ctx.put(np.eye(N))
    w, V = eig_desc(inst.Kh)
    err = round_off(inst, w[0])
    h = host(solve(inst, "whitened", A=I), ctx)
    if w[d - 1] - w[d] > 1e3 * err:
        chk.close(
            "A = I: G* = rank-d truncation of K",
            h.G,
            (V[:, :d] * w[:d]) @ V[:, :d].T,
            err * (1 + 4 * w[0] / (w[d - 1] - w[d])),
        )
    H = np.eye(N) - np.ones((N, N)) / N
    Kc = ctx.put(sym(H @ inst.Kh @ H))
    hc = host(solve(inst, "whitened", K=Kc, A=I), ctx)
    wc, Vc = eig_desc(H @ inst.Kh @ H)
    try:
        from sklearn.decomposition import KernelPCA
    except ImportError:
        # scikit-learn is a test extra; without it, centred kernel PCA straight from numpy's eigh.
        chk.info["oracle"] = "numpy (scikit-learn is not installed)"
        ref = Vc[:, :d] * np.sqrt(np.clip(wc[:d], 0, None))
    else:
        ref = KernelPCA(n_components=d, kernel="precomputed", eigen_solver="dense").fit_transform(inst.Kh)
    for j in range(d):
        gap = min(wc[j - 1] - wc[j] if j > 0 else math.inf, wc[j] - wc[j + 1])
        if gap <= 1e3 * err or wc[j] <= 1e3 * err:
            continue
        tol = err * (4 * math.sqrt(wc[j]) / gap + 1 / math.sqrt(wc[j])) + round_off(inst, math.sqrt(wc[0]))
        a, b = hc.Z[:, j], ref[:, j]
        chk.close(
            f"centred: column {j + 1} = ±KernelPCA column", min(np.abs(a - b).max(), np.abs(a + b).max()), 0.0, tol
        )


@register(
    id="KR-O4-laplacian",
    title="Laplacian twin of O4: bottom-d eigenvectors of K^{1/2}LK^{1/2}",
    source=f"{KR_SOURCE} §3 O4",
    preconditions=(
        "K ≻ 0 (positive definite)",
        "A real symmetric (weights of any sign; L = D − A with D = diag(A1))",
        "1 ≤ d ≤ N",
    ),
    statement="Laplacian twin: min tr(Cᵀ K L K C) s.t. Cᵀ K C = I_d → bottom-d eigenvectors of K^{1/2} L K^{1/2}.",
    latex=r"\min_{C^TKC = I_d}\operatorname{tr}(C^TKLKC) = \sum_{i\le d}\lambda_i^\uparrow(K^{1/2}LK^{1/2})",
    strategy=instances(n=(2, 4), m=(1, 3), kernels=ALL_KERNELS, graph=ANY_GRAPH, d="any", log10_cond=(0.5, 4.0)),
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


# --------------------------------------------------------------------------- §3 O3, O4 with a singular K


@register(
    id="KR-O3-O4-singular",
    title="O3 and O4 for a singular K: the same Ky Fan optima inside range(K); d > rank(K) is refused",
    source=f"{KR_SOURCE} §3 O3, O4 (extension: the original specification states them for K ≻ 0)",
    preconditions=(
        "K positive semi-definite of rank r < N (here K = FFᵀ with F of exact rank r, by construction)",
        "A real symmetric (L = D − A); the normalised O3 needs every degree positive",
        "1 ≤ d ≤ r for an optimum; d > r has no feasible point (ZᵀZ = I_d or CᵀKC = I_d inside an r-dim space)",
    ),
    statement="Z = KC ranges over range(K) = span(U_r), so with Z = U_r Y (O3) or C = U_r M^{-1/2} Y "
    "(O4, M = diag of the r positive eigenvalues μ of K) both become Ky Fan problems in r dimensions: "
    "min O3 = Σ_{i≤d} λ_i^↑(U_rᵀLU_r) (normalised: of the pencil (U_rᵀLU_r, U_rᵀDU_r)); "
    "max O4 = Σ_{i≤d} λ_i(M^{1/2}U_rᵀAU_rM^{1/2}) (Laplacian twin: min with L). For d > r the "
    "constraint cannot be met and the package must refuse.",
    latex=r"\min_{Z\in\operatorname{range}K,\ Z^TZ=I_d}\operatorname{tr}(Z^TLZ) = "
    r"\sum_{i\le d}\lambda_i^\uparrow(U_r^TLU_r),"
    r"\quad \max_{C^TKC=I_d}\operatorname{tr}(C^TKAKC) = \sum_{i\le d}\lambda_i(M^{1/2}U_r^TAU_rM^{1/2})",
    strategy=instances(
        n=(2, 4),
        m=(1, 3),
        kernels=("lowrank",),
        graph="any",
        d="any",
        positive_degree=True,
        log10_cond=None,
        objective=["laplacian_eigenmaps", "whitened"],
        variant=st.booleans(),
    ),
    method="U_r and μ: the top r eigenpairs of K by numpy eigh, with r = the rank K was built with (not a cut-off: "
    "the retained eigenvalues are ≥ 0.09, the others round-off). O3 (variant: normalised) and O4 (variant: "
    "Laplacian twin) with d' = min(d, r): the package's optimum against the r×r Ky Fan value, feasibility "
    "(Z*ᵀZ* = I or Z*ᵀDZ* = I; C*ᵀKC* = I), Z* inside range(K), kt.loss at Z* equal to the optimum, and 10 "
    "random feasible points U_rQ (O3) or U_rM^{-1/2}Q (O4) never better. If d > r: an InputError.",
    tolerance="100·N·ε·‖M‖ (ε of the dtype, ‖M‖ the norm of the r×r matrix) per eigenvalue for values, ×κ(K on its "
    "range) ≤ 11 for constraints and Z* ∈ range(K).",
    examples=30,
)
def check_O3_O4_singular(params, ctx, chk):
    inst = build(params, ctx)
    N, r = inst.N, int(params["rank"])
    objective, variant = params["objective"], bool(params["variant"])
    opts = {"normalized": variant} if objective == "laplacian_eigenmaps" else {"laplacian": variant}
    if inst.d > r:
        try:
            kt.solve(objective, inst.K, inst.A, inst.d, **opts)
        except kt.errors.InputError as exc:
            chk.equal("d > rank(K) is refused naming the feasible subspace", "feasible subspace" in str(exc), True)
        else:
            chk.equal("d > rank(K) is refused", "solved", "InputError")
        return
    d = inst.d
    mu, U = np.linalg.eigh(inst.Kh)
    mu, U = mu[-r:], U[:, -r:]
    L = laplacian(inst.Ah)
    if objective == "laplacian_eigenmaps":
        M = sym(U.T @ L @ U)
        if variant:
            Dr = sym(U.T @ np.diag(inst.Ah.sum(axis=1)) @ U)
            allw = generalized_bottom(M, Dr, r)[2]
        else:
            Dr, allw = None, np.linalg.eigvalsh(M)
        expected = float(np.sum(allw[:d]))
    else:
        root = np.sqrt(mu)
        M = sym(root[:, None] * (U.T @ (L if variant else inst.Ah) @ U) * root[None, :])
        allw = np.linalg.eigvalsh(M)
        expected = float(np.sum(allw[:d])) if variant else float(np.sum(allw[::-1][:d]))
    nM = max(spectral_norm(M), 1.0)
    err = round_off(inst, nM)
    sol = kt.solve(objective, inst.K, inst.A, d, **opts)
    h = host(sol, ctx)
    sign = 1.0 if (objective == "laplacian_eigenmaps" or variant) else -1.0
    chk.close("optimum = Ky Fan value of the r×r problem", sign * h.loss, expected, d * err)
    chk.close("Z* lies in range(K)", h.Z - U @ (U.T @ h.Z), np.zeros_like(h.Z), round_off(inst, inst.cond))
    attained = ctx.scalar(kt.loss(objective, sol.embedding, inst.A, **opts))
    chk.close("kt.loss(Z*) = optimum", sign * attained, expected, 2 * d * err)
    if objective == "laplacian_eigenmaps":
        Dfull = np.diag(inst.Ah.sum(axis=1)) if variant else np.eye(N)
        chk.close(
            "constraint Z*ᵀDZ* = I_d" if variant else "constraint Z*ᵀZ* = I_d",
            h.Z.T @ Dfull @ h.Z,
            np.eye(d),
            round_off(inst, inst.cond * spectral_norm(Dfull)),
        )
    else:
        chk.close("constraint C*ᵀKC* = I_d", h.C.T @ inst.Kh @ h.C, np.eye(d), round_off(inst, inst.cond))
    for k in range(10):
        Q = orthonormal_frame(inst.rng, r, d)
        if objective == "laplacian_eigenmaps" and variant:
            # a D-orthonormal frame inside range(K): Y = Q (QᵀD_rQ)^{-1/2}
            wq, Vq = np.linalg.eigh(sym(Q.T @ Dr @ Q))
            Q = Q @ (Vq / np.sqrt(wq)) @ Vq.T
        value = float(np.sum(Q * (M @ Q)))
        if sign > 0:
            chk.ge(f"random feasible point {k + 1} is not better", value, expected, d * err)
        else:
            chk.le(f"random feasible point {k + 1} is not better", value, expected, d * err)
