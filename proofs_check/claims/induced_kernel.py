r"""[KR] claims of docs/theory.md §3 (from G* to a representation, the induced kernel, uniqueness) and §4.

Oracles: numpy eigendecompositions of G*, ``scipy.linalg.orthogonal_procrustes``, explicit finite
feature maps (``K = ΦΦᵀ``) with ``numpy.linalg.lstsq`` minimum-norm solutions, ``scipy.linalg.lstsq``
for ridgeless kernel regression, and the closed forms of §3/§4 evaluated in numpy.
"""

from __future__ import annotations

import dataclasses
import math
from fractions import Fraction

import numpy as np
import scipy.linalg
from hypothesis import assume
from hypothesis import strategies as st

import kssl_theory as kt

from ..instances import ALL_KERNELS, POINT_KERNELS, build, instances
from ..oracles import eig_desc, orthonormal_frame, psd_truncation, round_off, spectral_norm, sym, target
from ..registry import register
from ._common import KR_SOURCE, host, objective_options, solve

REG = st.one_of(st.just(0.0), st.floats(0.001, 2.0))
BETA = st.floats(0.0, 3.0)
SOFT = ["contrastive", "vicreg"]
ALL_OBJECTIVES = ["contrastive", "vicreg", "laplacian_eigenmaps", "whitened"]


def _options(objective, params):
    opts = objective_options(objective, params)
    if objective != "vicreg":
        opts.pop("beta", None)
    return opts


# --------------------------------------------------------------------------- from G* to a representation


@register(
    id="KR-Zstar-factor",
    title="Z* = UΛ^{1/2} factors G*, unique up to Z*Q with Q ∈ O(d)",
    source=f"{KR_SOURCE} §3 (from G* to a representation)",
    preconditions=(
        "K positive semi-definite (singular allowed; P is the projector onto range(K), K⁺ its pseudo-inverse)",
        "λ ≥ 0",
        "A real symmetric (weights of any sign; L = D − A with D = diag(A1))",
        "β real (drawn in [0, 3])",
        "G* PSD of rank ≤ d (an optimum of O1 or O2)",
    ),
    statement="G* = U Λ Uᵀ (top-d, Λ ≥ 0): Z* = U Λ^{1/2} (unique up to Z* Q, Q ∈ O(d)).",
    latex=r"Z^* = U\Lambda^{1/2},\ Z^*Z^{*T} = G^*;\ \ YY^T = G^* \Rightarrow Y = Z^*Q,\ Q \in O(d)",
    strategy=instances(
        n=(2, 4), m=(1, 3), kernels=ALL_KERNELS + ("lowrank",), graph="any", d="any", objective=SOFT, reg=REG, beta=BETA
    ),
    method="Z*Z*ᵀ = G*, Z*ᵀZ* = diag of the top-d clipped eigenvalues (orthogonal columns: the UΛ^{1/2} form); "
    "an independent factor Y = U_oΛ_o^{1/2} from numpy's eigh of G* is Z*Q for the orthogonal Q of "
    "scipy's orthogonal Procrustes; Z*Q₀ for a random Q₀ ∈ O(d) has the same loss (kt.loss).",
    tolerance="Gram: 100·N·ε·‖G*‖; factors: 100·√(N·ε·‖G*‖)·√d (square roots of eigenvalues at round-off level).",
    examples=40,
)
def check_Zstar_factor(params, ctx, chk):
    inst = build(params, ctx)
    obj = params["objective"]
    opts = _options(obj, params)
    d = inst.d
    sol = solve(inst, obj, **opts)
    h = host(sol, ctx)
    nG = max(spectral_norm(h.G), 1e-300)
    chk.close("Z*Z*ᵀ = G*", h.Z @ h.Z.T, h.G, round_off(inst, nG))
    T, _, err = target(inst, obj, opts)
    _, top, _ = psd_truncation(T, d)
    ZtZ = h.Z.T @ h.Z
    chk.close(
        "Z*ᵀZ* is diagonal (orthogonal columns)", ZtZ - np.diag(np.diag(ZtZ)), np.zeros((d, d)), round_off(inst, nG)
    )
    chk.close("Z*ᵀZ* = Λ (top-d eigenvalues of T, clipped)", np.sort(np.diag(ZtZ))[::-1], top, 2 * err)
    w, U = eig_desc(h.G)
    Y = U[:, :d] * np.sqrt(np.clip(w[:d], 0, None))
    Q, _ = scipy.linalg.orthogonal_procrustes(h.Z, Y)
    ftol = SAFETY_SQRT * math.sqrt(inst.N * ctx.eps * nG) * math.sqrt(d)
    chk.close("an independent factor Y of G* is Z*Q (Procrustes)", h.Z @ Q, Y, ftol)
    chk.close("… with Q orthogonal", Q.T @ Q, np.eye(d), round_off(inst, 1.0))
    Q0 = orthonormal_frame(inst.rng, d, d)
    rotated = ctx.scalar(kt.loss(obj, ctx.put(h.Z @ Q0), inst.A, K=inst.K, coef=ctx.put(h.C @ Q0), **opts))
    chk.close(
        "Z*Q₀ has the same loss",
        rotated,
        h.loss,
        round_off(inst, (np.linalg.norm(h.G) + np.linalg.norm(inst.Ah) + d) ** 2 * inst.cond),
    )


SAFETY_SQRT = 100.0


def _features(params, N, rng):
    p = params["features"]
    r = min(p, N)
    U = orthonormal_frame(rng, N, N)[:, :r]
    V = orthonormal_frame(rng, p, p)[:, :r]
    s = rng.uniform(0.5, 1.5, r)
    return (U * s) @ V.T


@register(
    id="KR-Cstar-min-norm",
    title="C* = K⁺Z* and ‖W*‖²_HS = tr(K⁺G*) is the least norm among optima with that Gram",
    source=f"{KR_SOURCE} §3 (from G* to a representation)",
    preconditions=(
        "K = ΦΦᵀ for a finite feature matrix Φ (PSD, singular allowed)",
        "λ ≥ 0",
        "A real symmetric (weights of any sign; L = D − A with D = diag(A1))",
        "β real (drawn in [0, 3])",
        "Z* in range(K)",
    ),
    statement="Minimum-norm coefficients C* = K⁺ Z*; ‖W*‖²_HS = tr(K⁺ G*) is the least norm among all optima "
    "with that Gram matrix.",
    latex=r"\|W^*\|_{HS}^2 = \operatorname{tr}(K^+G^*) \le \|W\|_{HS}^2\ \ \forall W:\ (\Phi W^T)(\Phi W^T)^T = G^*",
    strategy=instances(
        n=(2, 4),
        m=(1, 3),
        kernels=("spectrum",),
        graph="any",
        d="any",
        objective=SOFT,
        reg=REG,
        beta=BETA,
        features=lambda n, N, s: st.integers(max(1, N - 3), N + 4),
    ),
    method="An explicit feature map Φ (N×p, p from N−3 to N+4, so K = ΦΦᵀ is singular or not) replaces the kernel; "
    "W* = C*ᵀΦ. Checks: KC* = Z*, sol.hs_norm = tr(K⁺G*) (numpy pinv) = ‖W*‖², the numpy lstsq minimum-norm "
    "solution of ΦWᵀ = Z* has the same norm, and random alternative optima W = QᵀW* + R (Q ∈ O(d), rows of R "
    "in null(Φ)) have the same Gram and a norm ≥ ‖W*‖².",
    tolerance="100·N·ε·κ(K)·max(tr(K⁺G*), 1) (everything applies K⁺ once); KC* = Z* also √(100·N·ε) "
    "(a column of Z* for an eigenvalue of T at round-off level δ is √δ·u).",
    symbolic=("lemma:reg_through_z", "pseudo_inverse"),
    examples=40,
)
def check_Cstar_min_norm(params, ctx, chk):
    inst = build(params, ctx)
    N, d = inst.N, inst.d
    Phi = _features(params, N, inst.rng)
    Kb = ctx.put(sym(Phi @ Phi.T))
    Kh = ctx.get(Kb)
    w = np.linalg.eigvalsh(Kh)
    cond = w[-1] / w[w > 10 * N * ctx.eps * w[-1]][0]
    obj = params["objective"]
    opts = _options(obj, params)
    sol = solve(inst, obj, K=Kb, **opts)
    h = host(sol, ctx)
    Kp = np.linalg.pinv(Kh, rcond=10 * N * ctx.eps, hermitian=True)
    expected = float(np.trace(Kp @ h.G))
    tol = round_off(inst, cond * max(expected, np.abs(h.G).max(), 1.0))
    # Columns of Z* for eigenvalues at round-off level δ are √δ·u with u possibly outside range(K).
    ztol = round_off(inst, cond * max(np.abs(h.Z).max(), 1e-30)) + math.sqrt(round_off(inst, 1.0))
    chk.close("K C* = Z*", Kh @ h.C, h.Z, ztol)
    chk.close("‖W*‖²_HS = tr(K⁺G*)", h.hs_norm, expected, tol)
    W = h.C.T @ Phi
    chk.close("W* = C*ᵀΦ has ‖W*‖² = tr(K⁺G*)", float(np.sum(W * W)), expected, tol)
    W_ls = np.linalg.lstsq(Phi, h.Z, rcond=None)[0].T
    chk.close("the least-squares minimum-norm W has the same norm", float(np.sum(W_ls * W_ls)), expected, tol)
    null = np.eye(Phi.shape[1]) - np.linalg.pinv(Phi) @ Phi
    for k in range(3):
        Q = orthonormal_frame(inst.rng, d, d)
        R = inst.rng.standard_normal((d, Phi.shape[1])) @ null * (k / 2)
        Wk = Q.T @ W + R
        Zk = Phi @ Wk.T
        chk.close(f"alternative optimum {k + 1} has Gram G*", Zk @ Zk.T, h.G, tol * 10)
        chk.ge("… and norm ≥ ‖W*‖²", float(np.sum(Wk * Wk)), expected, tol)


# --------------------------------------------------------------------------- induced kernel


@register(
    id="KR-induced-train",
    title="On training points the induced kernel is G*: k*(X, X) = G*",
    source=f"{KR_SOURCE} §3 (induced kernel)",
    preconditions=(
        "K ≻ 0 (positive definite)",
        "objectives O1 (λ ≥ 0), O2, O3",
        "A real symmetric (weights of any sign; L = D − A with D = diag(A1)); O3 needs every degree positive",
    ),
    statement="On training points: k*(X,X) = G* (for O1–O3 with K ≻ 0).",
    latex=r"k^*(X,X) = KK^{-1}G^*K^{-1}K = G^*",
    strategy=instances(
        n=(2, 4),
        m=(1, 3),
        kernels=ALL_KERNELS,
        graph="any",
        d="any",
        objective=ALL_OBJECTIVES[:3],
        reg=REG,
        beta=BETA,
        positive_degree=True,
    ),
    method="Solution.induced_kernel(K) against Solution.gram (O1 with λ ≥ 0, O2, O3).",
    tolerance="100·N·ε·κ(K)·‖G*‖ (the coefficients apply K⁻¹).",
    examples=40,
)
def check_induced_train(params, ctx, chk):
    inst = build(params, ctx)
    obj = params["objective"]
    opts = _options(obj, params) if obj != "laplacian_eigenmaps" else {}
    sol = solve(inst, obj, **opts)
    h = host(sol, ctx)
    got = ctx.get(sol.induced_kernel(inst.K))
    chk.close("k*(X, X) = G*", got, h.G, round_off(inst, inst.cond * max(spectral_norm(h.G), 1e-30)))


def _out_of_sample(inst, count):
    """Fresh views of the base samples and far-away random points."""
    Xv, _ = inst.fresh_views(1)
    far = 2.0 * inst.rng.standard_normal((count, inst.base.shape[1]))
    return np.vstack([Xv, far])


@register(
    id="KR-induced-interpolant",
    title="Out of sample, k*(x, x_j) is the ridgeless kernel-regression interpolant of column j of G*",
    source=f"{KR_SOURCE} §3 (induced kernel)",
    preconditions=(
        "K ≻ 0 (positive definite)",
        "k a kernel function defined at the new point x",
        "objectives O1, O2, O3",
        "A real symmetric (weights of any sign; L = D − A with D = diag(A1))",
    ),
    statement="Out of sample: k*(x, x_j) = k_xᵀ K⁻¹ G*_{:,j}, the ridgeless kernel-regression interpolant of "
    "column j of G*.",
    latex=r"k^*(x, x_j) = k_x^TK^{-1}G^*_{:,j},\qquad k^*(x,x') = k_x^TK^{-1}G^*K^{-1}k_{x'}",
    strategy=instances(
        n=(2, 4),
        m=(1, 3),
        kernels=POINT_KERNELS,
        graph="any",
        d="any",
        objective=ALL_OBJECTIVES[:3],
        reg=REG,
        beta=BETA,
        positive_degree=True,
        extra_points=(1, 6),
    ),
    method="Fresh views and random far points; the package's induced kernel against ridgeless regression "
    "computed with scipy.linalg.lstsq(K, G*) (α = K⁻¹G*, k*(x, X) = k_xᵀα) and, between two new points, "
    "k_xᵀK⁻¹G*K⁻¹k_x'.",
    tolerance="100·N·ε·κ(K)²·‖k_x‖²·‖K⁻¹‖·‖G*‖/‖K⁻¹‖ — relative 100·N·ε·κ(K) of the terms' size.",
    examples=40,
)
def check_induced_interpolant(params, ctx, chk):
    inst = build(params, ctx)
    obj = params["objective"]
    opts = _options(obj, params) if obj != "laplacian_eigenmaps" else {}
    sol = solve(inst, obj, **opts)
    h = host(sol, ctx)
    Xn = _out_of_sample(inst, params["extra_points"])
    Kx = inst.cross(Xn)
    kx = ctx.get(Kx)
    alpha = scipy.linalg.lstsq(inst.Kh, h.G)[0]
    beta = scipy.linalg.lstsq(inst.Kh, alpha.T)[0]
    size = np.abs(kx).max() * np.abs(alpha).max() * inst.N
    got = ctx.get(sol.induced_kernel(Kx, inst.K))
    chk.close(
        "k*(x, X) = k_xᵀ K⁻¹ G* (ridgeless interpolant)", got, kx @ alpha, round_off(inst, inst.cond * max(size, 1e-30))
    )
    got2 = ctx.get(sol.induced_kernel(Kx))
    size2 = np.abs(kx).max() ** 2 * np.abs(beta).max() * inst.N**2
    chk.close("k*(x, x') = k_xᵀK⁻¹G*K⁻¹k_x'", got2, kx @ beta @ kx.T, round_off(inst, inst.cond**2 * max(size2, 1e-30)))


@register(
    id="KR-induced-rbf-decay",
    title="RBF kernel: k*(x, ·) → 0 as x moves away from all data",
    source=f"{KR_SOURCE} §3 (induced kernel)",
    preconditions=(
        "k an RBF kernel (k(x, x_j) → 0 as ‖x − x_j‖ → ∞)",
        "K ≻ 0 (positive definite)",
        "any objective O1–O4",
    ),
    statement="For an RBF kernel, k*(x,·) → 0 as x moves away from all data.",
    latex=r"\operatorname{dist}(x, X)\to\infty \;\Rightarrow\; k^*(x,\cdot) \to 0 \quad (k \text{ RBF})",
    strategy=instances(
        n=(2, 4),
        m=(1, 3),
        kernels=("rbf",),
        graph="any",
        d="any",
        objective=ALL_OBJECTIVES,
        reg=REG,
        beta=BETA,
        positive_degree=True,
    ),
    method="Points x_t on a random ray from the data's centre at distances t·σ beyond the data; "
    "|k*(x_t, x)| for x in the data and fresh views stays under the bound ‖k_{x_t}‖·‖C*‖²·‖k_x‖ "
    "(numpy, → 0) and is below 1e-10·max|G*| once x_t is 12σ from every point.",
    tolerance="the bound plus 100·N·ε·(its terms); far value: 1e-10·max|G*|.",
    examples=30,
)
def check_induced_rbf_decay(params, ctx, chk):
    inst = build(params, ctx)
    obj = params["objective"]
    opts = _options(obj, params) if obj in SOFT else {}
    sol = solve(inst, obj, **opts)
    h = host(sol, ctx)
    sigma = params["bandwidth"]
    X = inst.X
    centre = X.mean(axis=0)
    u = inst.rng.standard_normal(X.shape[1])
    u /= np.linalg.norm(u)
    radius = np.linalg.norm(X - centre, axis=1).max()
    refs = np.vstack([X, inst.fresh_views(1)[0]])
    K_ref = ctx.get(inst.cross(refs))
    nC = np.linalg.norm(h.C, 2) ** 2
    scale = max(np.abs(h.G).max(), 1e-30)
    for t in (1.0, 2.0, 4.0, 8.0, 12.0):
        x = (centre + (radius + t * sigma) * u)[None, :]
        kx = ctx.get(inst.cross(x))
        ks = ctx.get(sol.induced_kernel(inst.cross(x), ctx.put(K_ref)))
        bound = np.linalg.norm(kx) * nC * np.linalg.norm(K_ref, axis=1).max()
        chk.le(
            f"|k*(x, ·)| ≤ ‖k_x‖‖C*‖²‖k_·‖ at distance {t:g}σ",
            np.abs(ks).max(),
            bound,
            round_off(inst, bound + scale * 1e-12),
        )
    chk.le("|k*(x, ·)| < 1e-10·max|G*| at 12σ from the data", np.abs(ks).max(), 0.0, 1e-10 * scale)


@register(
    id="KR-induced-psd-rank",
    title="Any induced Gram matrix is PSD with rank ≤ d and invariant under Z* → Z*Q",
    source=f"{KR_SOURCE} §3 (induced kernel)",
    preconditions=(
        "k a PSD kernel function; K its training Gram matrix",
        "any objective O1–O4",
        "any finite set of points",
    ),
    statement="Any induced Gram matrix on any point set is PSD with rank ≤ d, invariant under Z* → Z* Q.",
    latex=r"[k^*(x_a,x_b)]_{ab} \succeq 0,\ \operatorname{rank} \le d,\ \text{unchanged by } C^* \to C^*Q",
    strategy=instances(
        n=(2, 4),
        m=(1, 3),
        kernels=POINT_KERNELS,
        graph="any",
        d="any",
        objective=ALL_OBJECTIVES,
        reg=REG,
        beta=BETA,
        positive_degree=True,
        extra_points=(1, 12),
        laplacian=st.booleans(),
    ),
    method="A point set mixing training views, fresh views and random points; eigenvalues of the package's "
    "induced Gram (numpy eigvalsh) are ≥ −tol and the (d+1)-th is ≤ tol; the same Solution with coefficients "
    "C*Q (random Q ∈ O(d), dataclasses.replace) gives the same induced Gram.",
    tolerance="100·M·ε·‖k*‖ for M points; rotation: 100·M·ε·(‖k_X‖·‖C*‖)².",
    examples=40,
)
def check_induced_psd_rank(params, ctx, chk):
    inst = build(params, ctx)
    obj = params["objective"]
    if obj in SOFT:
        opts = _options(obj, params)
    elif obj == "whitened":
        opts = {"laplacian": params["laplacian"]}
    else:
        opts = {}
    sol = solve(inst, obj, **opts)
    pick = inst.rng.permutation(inst.N)[: max(1, inst.N // 2)]
    Xn = _out_of_sample(inst, params["extra_points"])
    rows = np.vstack([inst.Kh[pick], ctx.get(inst.cross(Xn))])
    Kz = ctx.put(rows)
    Gs = ctx.get(sol.induced_kernel(Kz))
    M, d = rows.shape[0], inst.d
    w = eig_desc(Gs)[0]
    tol = 100 * M * ctx.eps * max(w[0], 1e-300)
    chk.close("symmetric", Gs, Gs.T, tol)
    chk.ge("PSD (smallest eigenvalue ≥ 0)", w[-1], 0.0, tol)
    if d < M:
        chk.le("rank ≤ d ((d+1)-th eigenvalue ≈ 0)", abs(w[d]), 0.0, tol)
    Q = ctx.put(orthonormal_frame(inst.rng, d, d))
    rotated = dataclasses.replace(sol, coef=sol.coef @ Q, embedding=sol.embedding @ Q)
    # k_x C*Q is computed afresh: its round-off is ε·‖k_x‖·‖C*‖ per entry, not ε·‖k_x C*‖ (the
    # out-of-sample values can be far smaller than the coefficients that produce them).
    factor = np.linalg.norm(rows, 2) * np.linalg.norm(ctx.get(sol.coef), 2)
    chk.close(
        "invariant under Z* → Z*Q",
        ctx.get(rotated.induced_kernel(Kz)),
        Gs,
        100 * M * ctx.eps * max(factor**2, w[0], 1e-300),
    )


# --------------------------------------------------------------------------- uniqueness


def _structural_spectrum(inst, obj, opts, params):
    """Exact spectrum of the spectral matrix when it follows from group sizes alone, else ``None``.

    Clique graph (self-loops, unit weights), ``K ≻ 0`` and ``λ = 0`` (docs/theory.md §1): A has the
    eigenvalue m_g on each group indicator and 0 on within-group zero-sum vectors, L = mI − A the
    values 0 and m_g. So O1's T = A, O2's T = I − (β/2)L (1 and 1 − βm_g/2) and O3's L are known
    exactly (as fractions of the drawn floats), which decides ties by construction.
    """
    if not params.get("clique") or inst.rank < inst.N or float(opts.get("reg", 0.0)) != 0:
        return None
    values = []
    for size in inst.sizes:
        m = Fraction(int(size))
        if obj == "contrastive":
            values += [m] + [Fraction(0)] * (int(size) - 1)
        elif obj == "vicreg" and not opts.get("centred"):
            b = Fraction(float(opts.get("beta", 1.0)))
            values += [Fraction(1)] + [1 - b * m / 2] * (int(size) - 1)
        elif obj == "laplacian_eigenmaps" and not opts.get("normalized"):
            values += [Fraction(0)] + [m] * (int(size) - 1)
        else:
            return None
    return sorted(values, reverse=obj != "laplacian_eigenmaps")


def _unique_rule(w, d, rule, err, exact=None):
    """docs/theory.md §3's rule, decided independently of the package, or None when it cannot be decided.

    Unique iff λ_d > λ_{d+1}, or (soft rules) λ_{d+1} ≤ 0. With the exact spectrum (``exact``,
    from :func:`_structural_spectrum`) the rule is applied in exact arithmetic: ties are ties by
    construction. Otherwise only clear verdicts count: a gap or a negative λ_{d+1} of at least
    1000 × the oracle's own round-off ``err`` means unique (a solver accurate to within 500×
    the oracle resolves it); anything smaller cannot be told from a tie and the instance is
    discarded. No tolerance of the package enters.
    """
    if exact is not None:
        if d >= len(exact):
            return True
        if rule == "psd-top" and exact[d] <= 0:
            return True
        return exact[d - 1] != exact[d]
    if d >= len(w):
        return True
    if rule == "psd-top" and w[d] < -1e3 * err:
        return True
    if abs(w[d - 1] - w[d]) > 1e3 * err:
        return True
    return None


@register(
    id="KR-unique-rule",
    title="Solver reports uniqueness by the rule λ_d > λ_{d+1} or λ_{d+1} ≤ 0, and the gap",
    source=f"{KR_SOURCE} §3 (uniqueness)",
    preconditions=(
        "K ≻ 0 (positive definite)",
        "A real symmetric (weights of any sign; L = D − A with D = diag(A1))",
        "the rule of the objective: psd-top (O1, O2), bottom (O3), top (O4)",
        "1 ≤ d ≤ N",
    ),
    statement="G* (and k*) is unique iff the cut does not split a tie: λ_d(T) > λ_{d+1}(T), or λ_{d+1}(T) ≤ 0, or T "
    "has at most d positive eigenvalues. The solver must report whether its answer is unique, and the "
    "spectral gap.",
    latex=r"G^* \text{ unique} \iff \lambda_d(T) > \lambda_{d+1}(T)\ \lor\ \lambda_{d+1}(T) \le 0",
    strategy=instances(
        n=(2, 4),
        m=(1, 3),
        kernels=ALL_KERNELS,
        graph="any",
        d="any",
        objective=ALL_OBJECTIVES,
        reg=REG,
        beta=st.one_of(BETA, st.just(0.5)),
        positive_degree=True,
        log10_cond=(0.5, 4.0),
        clique=st.booleans(),
    ),
    method="Ties come from clique graphs, where the spectrum is known exactly from the group sizes (the rule "
    "is applied in exact rational arithmetic); gaps from weighted graphs and penalties, where only clear "
    "verdicts count (gap or −λ_{d+1} ≥ 1000 × the oracle's own round-off), other instances discarded. "
    "No tie band of the package is used. Checks: Solution.is_unique equals the rule, Solution.gap = "
    "|λ_d − λ_{d+1}|, and a unique solution's Solution.alternative() has the same G*.",
    tolerance="gap: 100·N·ε·‖T‖ (×κ(K) with λ > 0); alternative: 100·N·ε·‖G*‖·(1 + ‖T‖/gap).",
    examples=50,
)
def check_unique_rule(params, ctx, chk):
    if params["clique"]:
        params = {**params, "self_loops": True, "weighted": False, "normalized": False}
    inst = build(params, ctx)
    obj = params["objective"]
    opts = _options(obj, params) if obj in SOFT else {}
    T, rule, err = target(inst, obj, opts)
    w = eig_desc(T)[0]
    if rule == "bottom":
        w = w[::-1]
    d = inst.d
    expected = _unique_rule(w, d, rule, err, _structural_spectrum(inst, obj, opts, params))
    assume(expected is not None)
    sol = solve(inst, obj, **opts)
    chk.equal("is_unique follows the rule", bool(sol.is_unique), expected)
    if d < len(w):
        chk.close("gap = |λ_d − λ_{d+1}|", sol.gap, abs(w[d - 1] - w[d]), 4 * err + round_off(inst, np.abs(w).max()))
    if sol.is_unique:
        alt = sol.alternative(seed=int(params["seed"]) % 1000)
        G0, G1 = ctx.get(sol.gram), ctx.get(alt.gram)
        chk.close("a unique optimum has no different alternative", G1, G0, round_off(inst, spectral_norm(G0) + 1))


def _planted_spectrum(rng, N: int, d: int, gap_exp, ties: int, scale: float) -> np.ndarray:
    """Eigenvalues (descending) with a planted cut between λ_d and λ_{d+1}.

    Around the cut the values are ``c = scale/2`` and ``c − gap``: ``gap = 10^-gap_exp · scale``, or an
    exact tie of ``ties`` equal values straddling the cut when ``gap_exp`` is None. The others are at
    least ``scale/8`` away from the cut (clear gaps), some of them negative.
    """
    c = scale / 2
    gap = 0.0 if gap_exp is None else 10.0 ** (-gap_exp) * scale
    above = c + scale / 8 + rng.uniform(0, scale / 2, N)
    below = c - gap - scale / 8 - rng.uniform(0, scale, N)
    lam = np.concatenate([np.sort(above[: d - 1])[::-1], [c], [c - gap], np.sort(below[: N - d - 1])[::-1]])
    if gap_exp is None:
        lam[max(0, d - ties + 1) : min(N, d + ties - 1)] = c  # ties values equal to c, the cut splits them
    return lam


@register(
    id="KR-unique-planted",
    title="Planted spectra: exact ties are reported as ties, gaps ≥ 100·N·ε·‖A‖ as unique, and the gap is right",
    source=f"{KR_SOURCE} §3 (uniqueness)",
    preconditions=(
        "K ≻ 0 and λ = 0 for O1 (so T = A); K = I for O4 (so S = A)",
        "A = QΛQᵀ with a constructed spectrum Λ (Q Haar-random), rounded to the dtype",
        "λ_d, λ_{d+1} > 0 at the cut (the psd-top rule then hinges on the gap alone)",
        "1 ≤ d < N",
    ),
    statement="Whether the optimum is unique is a property of T's spectrum at the cut (KR-unique-rule). With the "
    "spectrum constructed, the truth is known without any solver: an exact tie at the cut must be "
    "reported as a tie (is_unique False), and a gap that the dtype resolves with room to spare "
    "(≥ 100·N·ε·‖A‖) as unique; the reported gap equals the gap of the matrix the package received.",
    latex=r"\lambda_d = \lambda_{d+1} \Rightarrow \neg\,\text{unique};\quad \lambda_d - \lambda_{d+1} \ge "
    r"10^2N\varepsilon\|A\| \Rightarrow \text{unique}",
    strategy=instances(
        n=(2, 6),
        m=(1, 3),
        kernels=ALL_KERNELS,
        graph=None,
        d="any",
        log10_cond=(0.5, 4.0),
        objective=["contrastive", "whitened"],
        gap_exp=st.one_of(st.none(), st.integers(1, 15)),
        ties=st.integers(2, 3),
        scale=st.sampled_from([1e-3, 1.0, 1e3]),
    ),
    method="A = QΛQᵀ with Λ from the construction (ties or a gap 10^-k·scale, k = 1…15, at the cut; other "
    "eigenvalues ≥ scale/8 away), rounded to the run's dtype. Oracle: float64 eigvalsh of the rounded A "
    "(backward error ≤ 10·N·ε₆₄·‖A‖, not the package's band). Verdicts: exact tie → is_unique False; oracle "
    "gap − 2·(its error) ≥ 100·N·ε·‖A‖ (ε of the dtype) → is_unique True; in between either verdict, but a "
    "reported tie must offer an alternative whose literal O1/O4 loss (numpy) equals the oracle optimum to "
    "d·gap·(λ_d + λ_{d+1}) + round-off. Solution.gap against the oracle gap.",
    tolerance="gap: 2·10·N·ε₆₄·‖A‖ (oracle) + 100·N·ε·‖A‖ (dtype); literal loss: 100·N·ε·(‖A‖ + d)² plus the "
    "near-tie slack above.",
    examples=60,
)
def check_unique_planted(params, ctx, chk):
    inst = build(params, ctx, with_graph=False)
    N, d, obj = inst.N, inst.d, params["objective"]
    assume(d < N)
    scale = float(params["scale"])
    lam = _planted_spectrum(inst.rng, N, d, params["gap_exp"], int(params["ties"]), scale)
    Q = orthonormal_frame(inst.rng, N, N)
    A = ctx.put(sym((Q * lam) @ Q.T))
    K = inst.K if obj == "contrastive" else ctx.put(np.eye(N))
    Ah = ctx.get(A).astype(np.float64)
    w = np.linalg.eigvalsh(Ah)[::-1]
    nA = float(np.abs(w).max())
    e_oracle = 10 * N * np.finfo(np.float64).eps * nA
    gap = float(w[d - 1] - w[d])
    resolvable = 100 * N * ctx.eps * nA
    sol = kt.solve(obj, K, A, d)
    if params["gap_exp"] is None:
        chk.equal("an exact tie (by construction) is reported as a tie", bool(sol.is_unique), False)
    elif gap - 2 * e_oracle >= resolvable:
        chk.equal("a gap ≥ 100·N·ε·‖A‖ is reported as unique", bool(sol.is_unique), True)
    chk.close(
        "Solution.gap = λ_d − λ_{d+1} of the matrix received", float(sol.gap), gap, 2 * e_oracle + round_off(inst, nA)
    )
    if not sol.is_unique:
        alt = sol.alternative(seed=int(params["seed"]) % 1000)
        Z = ctx.get(alt.embedding).astype(np.float64)
        if obj == "contrastive":
            literal = float(np.sum((Z @ Z.T - Ah) ** 2))
            optimum = float(np.sum(w**2) - np.sum(np.maximum(w[:d], 0) ** 2))
        else:
            literal = -float(np.trace(Z.T @ Ah @ Z))
            optimum = -float(np.sum(w[:d]))
        slack = d * max(gap, 0.0) * (abs(w[d - 1]) + abs(w[d]))
        chk.le(
            "a reported tie's alternative is optimal (literal loss)",
            literal,
            optimum + slack,
            round_off(inst, (nA + d) ** 2) + (nA + d) * e_oracle * 4 * d,
        )


@register(
    id="KR-unique-clique",
    title="Clique graph, d < n: the optimum is not unique; other optimal bases change k* at equal loss",
    source=f"{KR_SOURCE} §3 (uniqueness)",
    preconditions=(
        "K ≻ 0 (positive definite)",
        "clique graph: self-loops, unit weights, n groups of equal size m (A = I_n ⊗ 11ᵀ up to a permutation)",
        "d < n",
        "O1 with λ = 0, O2 with β > 0 and λ = 0, or O3",
    ),
    statement="For a clique graph with d < n it is not unique: different optimal bases give different k* off the "
    "training set, at equal loss.",
    latex=r"d < n:\ \exists\, G_1^* \ne G_2^*,\ L(G_1^*) = L(G_2^*) = \min,\ k_1^*(x,x') \ne k_2^*(x,x')",
    strategy=instances(
        n=(2, 5),
        m=(1, 3),
        balanced=True,
        kernels=POINT_KERNELS,
        graph="clique",
        d="lt_n",
        objective=["contrastive", "vicreg", "laplacian_eigenmaps"],
        beta=st.floats(0.1, 3.0),
    ),
    method="Balanced clique graph, K ≻ 0, λ = 0. Solution.is_unique is False; Solution.alternative(seed) for 3 seeds "
    "has the same loss (kt.loss of its embedding) and a different G* and a different induced kernel on fresh "
    "views (largest difference over the seeds).",
    tolerance="equal loss: 100·N·ε·(‖A‖+d)²; 'different': > max(1e-6, 10 × the round-off 100·N·ε, ×κ(K) for k*).",
    examples=40,
    note="Balanced groups are needed: with unequal group sizes the group eigenvalues of A differ and the optimum "
    "can be unique.",
)
def check_unique_clique(params, ctx, chk):
    inst = build(params, ctx)
    obj = params["objective"]
    opts = {"beta": params["beta"]} if obj == "vicreg" else {}
    sol = solve(inst, obj, **opts)
    chk.equal("not unique", bool(sol.is_unique), False)
    Xn, _ = inst.fresh_views(2)
    Kx = inst.cross(Xn)
    k0 = ctx.get(sol.induced_kernel(Kx))
    G0 = ctx.get(sol.gram)
    loss0 = ctx.scalar(kt.loss(obj, sol.embedding, inst.A, **opts))
    dG = dk = 0.0
    scale = (np.linalg.norm(inst.Ah) + inst.d) ** 2
    for s in range(3):
        alt = sol.alternative(seed=s)
        loss1 = ctx.scalar(kt.loss(obj, alt.embedding, inst.A, **opts))
        chk.close(f"alternative {s + 1} has the same loss", loss1, loss0, round_off(inst, scale))
        dG = max(dG, float(np.abs(ctx.get(alt.gram) - G0).max()))
        dk = max(dk, float(np.abs(ctx.get(alt.induced_kernel(Kx)) - k0).max()) / max(np.abs(k0).max(), 1e-300))
    chk.gt("the alternatives' G* differ", dG, max(1e-6, 10 * round_off(inst, 1.0)))
    chk.gt("… and so does k* on fresh views (relative)", dk, max(1e-6, 10 * round_off(inst, inst.cond)))


# --------------------------------------------------------------------------- §4


@register(
    id="KR-align-clique",
    title="O1, clique, K ≻ 0, λ = 0, d ≥ n: G* = A (unit norms, alignment 1, decorrelation 0)",
    source=f"{KR_SOURCE} §4",
    preconditions=(
        "K ≻ 0 (positive definite)",
        "λ = 0",
        "clique graph: self-loops, unit weights, n groups of equal size m (A = I_n ⊗ 11ᵀ up to a permutation)",
        "d ≥ n",
    ),
    statement="O1, clique graph, K ≻ 0, λ = 0, d ≥ n: G* = A exactly: every view has unit norm, views of one sample "
    "share one embedding (alignment = 1), different samples are orthogonal (decorrelation = 0).",
    latex=r"d \ge n:\ G^* = A = I_n \otimes \mathbf 1_m\mathbf 1_m^T",
    strategy=instances(
        n=(2, 5),
        m=(1, 4),
        balanced=True,
        kernels=ALL_KERNELS,
        graph="clique",
        d="ge_n",
        method=st.sampled_from(["auto", "dense"]),
    ),
    method="The package's G* against A built in numpy; diag(G*) = 1; within-group rows of Z* equal; kt.alignment(G*) "
    "= 1 and kt.decorrelation(G*) = 0 (needs m ≥ 2 for alignment).",
    tolerance="100·N·ε·m.",
    examples=40,
)
def check_align_clique(params, ctx, chk):
    inst = build(params, ctx)
    sol = solve(inst, "contrastive")
    h = host(sol, ctx)
    m = inst.sizes[0]
    tol = round_off(inst, m)
    chk.close("G* = A", h.G, inst.Ah, tol)
    chk.close("every view has unit norm", np.diag(h.G), np.ones(inst.N), tol)
    spread = max(float(np.abs(h.Z[inst.labels == g] - h.Z[inst.labels == g][0]).max()) for g in range(inst.n))
    chk.close("views of one sample share one embedding", spread, 0.0, math.sqrt(tol))
    if m >= 2:
        chk.close("alignment = 1", kt.alignment(sol.gram, inst.labels), 1.0, tol)
    chk.close("decorrelation = 0", kt.decorrelation(sol.gram, inst.labels), 0.0, tol)


@register(
    id="KR-align-clique-loss",
    title="O1, clique, K ≻ 0, λ = 0: minimum loss m²·max(n − d, 0)",
    source=f"{KR_SOURCE} §4",
    preconditions=(
        "K ≻ 0 (positive definite)",
        "λ = 0",
        "clique graph: self-loops, unit weights, n groups of equal size m (A = I_n ⊗ 11ᵀ up to a permutation)",
        "1 ≤ d ≤ N",
    ),
    statement="Minimum loss m²·max(n − d, 0).",
    latex=r"\min L_C = m^2\max(n - d, 0)",
    strategy=instances(
        n=(2, 5),
        m=(1, 4),
        balanced=True,
        kernels=ALL_KERNELS,
        graph="clique",
        d="any",
        method=st.sampled_from(["auto", "dense"]),
    ),
    method="Solution.loss and kt.loss of Z* against m²·max(n − d, 0).",
    tolerance="100·N·ε·m²·n.",
    examples=40,
)
def check_align_clique_loss(params, ctx, chk):
    inst = build(params, ctx)
    sol = solve(inst, "contrastive")
    m, n, d = inst.sizes[0], inst.n, inst.d
    expected = m * m * max(n - d, 0)
    tol = round_off(inst, m * m * n)
    chk.close("Solution.loss = m²·max(n − d, 0)", ctx.scalar(sol.loss), expected, tol)
    chk.close(
        "kt.loss(Z*) = m²·max(n − d, 0)", ctx.scalar(kt.loss("contrastive", sol.embedding, inst.A)), expected, tol
    )


def _losses_over_d(params, ctx):
    inst = build(params, ctx)
    obj = params["objective"]
    opts = _options(obj, params)
    T, _, err = target(inst, obj, opts)
    w = eig_desc(T)[0]
    nT = max(np.abs(w).max(), 1.0)
    positive = int(np.sum(w > 10 * err))
    losses = [ctx.scalar(solve(inst, obj, d=d, **opts).loss) for d in range(1, inst.N + 1)]
    tol = 4 * inst.N * nT * err + round_off(inst, (nT + 1) ** 2 * inst.N)
    return inst, w, positive, losses, tol


def _check_monotone(params, ctx, chk):
    inst, w, positive, losses, tol = _losses_over_d(params, ctx)
    for d in range(1, inst.N):
        chk.le(f"L*(d={d + 1}) ≤ L*(d={d})", losses[d], losses[d - 1], tol)
    for d in range(max(positive, 1), inst.N + 1):
        chk.close(f"L*(d={d}) = L*(N) (d ≥ {positive} positive eigenvalues)", losses[d - 1], losses[-1], tol)


_MONOTONE_METHOD = (
    "The package's minimum for every d = 1..N (any λ, any kernel, singular ones included); the count "
    "of positive eigenvalues of T from numpy (eigenvalues within the round-off band count as zero)."
)
_MONOTONE_TOL = "100·N·ε·(‖T‖+1)²·N, ×κ(K) with λ > 0."


@register(
    id="KR-loss-monotone-d",
    title="Optimal loss is non-increasing in d, constant once d ≥ #positive eigenvalues of T",
    source=f"{KR_SOURCE} §4",
    preconditions=(
        "none stated in the original specification (read for O1 and O2, any λ ≥ 0, any PSD K); refuted for O2, see "
        "KR-loss-monotone-d-O1 and KR-loss-d-O2 for the corrected statements",
    ),
    statement="Optimal loss is non-increasing in d, constant once d ≥ number of positive eigenvalues of T.",
    latex=r"L^*(d+1) \le L^*(d),\qquad d \ge \#\{\lambda_i(T) > 0\} \Rightarrow L^*(d) = L^*(N)",
    strategy=instances(
        n=(2, 4),
        m=(1, 3),
        kernels=ALL_KERNELS + ("lowrank",),
        graph="any",
        d=None,
        objective=["vicreg", "contrastive"],
        reg=REG,
        beta=BETA,
    ),
    method="Read as stated, for every soft objective (O1 and O2). " + _MONOTONE_METHOD,
    tolerance=_MONOTONE_TOL,
    status="refuted",
    corrected_by="KR-loss-monotone-d-O1, KR-loss-d-O2",
    examples=30,
    counterexamples=(
        {
            "seed": 0,
            "sizes": [1, 2],
            "shuffle": False,
            "kernel": "rbf",
            "bandwidth": 1.0,
            "p": 1,
            "noise": 0.5,
            "log10_cond": 1.0,
            "self_loops": False,
            "weighted": False,
            "normalized": False,
            "objective": "vicreg",
            "reg": 0.0,
            "beta": 1.0,
        },
    ),
    note="Refuted for O2. The soft objectives' minima are const + ‖T‖² − Σ_{i≤d} max(λ_i,0)², and the statement "
    "silently assumes the constant does not depend on d. For O1 it does not (const = ‖A‖² − ‖T‖²), and the "
    "claim holds (KR-loss-monotone-d-O1). For O2 the whitening term ‖ZᵀZ − I_d‖² contributes d: the minimum is "
    "d − Σ_{i≤d} max(λ_i,0)², which changes by 1 − max(λ_{d+1},0)² ≥ 0 from d to d + 1 (T ⪯ I because L ⪰ 0), "
    "so it is non-DEcreasing and grows by exactly 1 per dimension once d ≥ #positive eigenvalues "
    "(KR-loss-d-O2). Every extra dimension an O2 representation cannot fill costs a unit of variance loss.",
)
def check_loss_monotone(params, ctx, chk):
    _check_monotone(params, ctx, chk)


@register(
    id="KR-loss-monotone-d-O1",
    title="O1 (corrected scope): optimal loss non-increasing in d, constant once d ≥ #positive eigenvalues of T",
    source=f"{KR_SOURCE} §4 (corrected: KR-loss-monotone-d holds for O1)",
    preconditions=(
        "K positive semi-definite (singular allowed; P is the projector onto range(K), K⁺ its pseudo-inverse)",
        "λ ≥ 0",
        "A real symmetric (weights of any sign; L = D − A with D = diag(A1))",
    ),
    statement="For O1 (any λ ≥ 0, any K) the optimal loss ‖A‖² − Σ_{i≤d} max(λ_i(T),0)² is non-increasing in d and "
    "constant once d ≥ the number of positive eigenvalues of T.",
    latex=r"L_C^*(d+1) \le L_C^*(d),\qquad d \ge \#\{\lambda_i(T) > 0\} \Rightarrow L_C^*(d) = L_C^*(N)",
    strategy=instances(
        n=(2, 4), m=(1, 3), kernels=ALL_KERNELS + ("lowrank",), graph="any", d=None, objective="contrastive", reg=REG
    ),
    method=_MONOTONE_METHOD,
    tolerance=_MONOTONE_TOL,
    corrects="KR-loss-monotone-d",
    examples=30,
)
def check_loss_monotone_O1(params, ctx, chk):
    _check_monotone(params, ctx, chk)


@register(
    id="KR-loss-d-O2",
    title="O2 (corrected): optimal loss grows by 1 − max(λ_{d+1},0)² ∈ [0, 1] per dimension",
    source=f"{KR_SOURCE} §4 (corrected: KR-loss-monotone-d fails for O2)",
    preconditions=(
        "A ≥ 0 entrywise (non-negative edge weights, so L ⪰ 0 and T ⪯ I)",
        "K positive semi-definite (singular allowed; P is the projector onto range(K), K⁺ its pseudo-inverse)",
        "λ ≥ 0",
        "β ≥ 0",
    ),
    statement="Precondition: non-negative edge weights (A ≥ 0, so L ⪰ 0). For O2 the optimal loss "
    "d − Σ_{i≤d} max(λ_i(T),0)² is non-decreasing in d: it changes by "
    "1 − max(λ_{d+1}(T),0)² ∈ [0, 1] from d to d + 1 (T ⪯ I since L ⪰ 0), i.e. by exactly 1 per dimension "
    "once d ≥ the number of positive eigenvalues of T. Without the precondition it fails: A₀₁ = A₂₃ = −1, "
    "K = I, β = 1 give minima −3, −6, −6, −6 for d = 1..4 (tests/test_accuracy.py).",
    latex=r"L_V^*(d+1) - L_V^*(d) = 1 - \max(\lambda_{d+1}(T),0)^2 \in [0,1]",
    strategy=instances(
        n=(2, 4),
        m=(1, 3),
        kernels=ALL_KERNELS + ("lowrank",),
        graph="any",
        d=None,
        objective="vicreg",
        reg=REG,
        beta=BETA,
    ),
    method=_MONOTONE_METHOD + " The increments are compared with 1 − max(λ_{d+1},0)² from numpy.",
    tolerance=_MONOTONE_TOL,
    corrects="KR-loss-monotone-d",
    examples=30,
)
def check_loss_d_O2(params, ctx, chk):
    inst, w, positive, losses, tol = _losses_over_d(params, ctx)
    err = tol / (4 * inst.N)
    chk.le("λ_1(T) ≤ 1 (T ⪯ I)", w[0], 1.0, err)
    for d in range(1, inst.N):
        step = losses[d] - losses[d - 1]
        chk.close(f"L*(d={d + 1}) − L*(d={d}) = 1 − max(λ_{d + 1},0)²", step, 1 - max(w[d], 0.0) ** 2, tol)
        chk.ge(f"… ≥ 0 (non-decreasing at d={d})", step, 0.0, tol)


@register(
    id="KR-reg-kernel-dependence",
    title="λ > 0: the training Gram depends on the kernel (K → sK changes it; λ = 0 does not)",
    source=f"{KR_SOURCE} §4",
    preconditions=(
        "λ > 0",
        "K ≻ 0 (positive definite)",
        "kernels compared: K and sK with s > 1",
        "T has a positive eigenvalue (otherwise G* = 0 for every kernel)",
    ),
    statement="λ > 0: the training Gram depends on k.",
    latex=r"\lambda > 0:\ G^*(sK) \ne G^*(K)\ (s > 1,\ T \not\preceq 0);\qquad \lambda = 0:\ G^*(sK) = G^*(K)",
    strategy=instances(
        n=(2, 4),
        m=(1, 3),
        kernels=ALL_KERNELS,
        graph="any",
        d="any",
        objective=SOFT,
        reg=st.floats(0.01, 2.0),
        beta=BETA,
        s=st.floats(1.5, 4.0),
        log10_cond=(0.5, 4.0),
    ),
    method="Scaling the kernel by s > 1 changes T by (λ/2)(1 − 1/s)K⁻¹ ≻ 0, so (Weyl) each positive top-d eigenvalue "
    "grows by at least (λ/2)(1 − 1/s)/λ_max(K): tr G* must grow by that much times their count; with λ = 0 "
    "G* must not change (spectrum compared). Instances where T has no positive eigenvalue are discarded "
    "(G* = 0 for every kernel), and so are those whose predicted change is below 10× round-off.",
    tolerance="100·N·ε·κ(K)·(‖T‖ + λ‖K⁻¹‖)·d.",
    examples=40,
)
def check_reg_kernel_dependence(params, ctx, chk):
    inst = build(params, ctx)
    obj = params["objective"]
    opts = _options(obj, params)
    T, _, err = target(inst, obj, opts)
    w = eig_desc(T)[0]
    d = inst.d
    count = int(np.sum(w[:d] > 1e3 * err))
    assume(count > 0)
    s, reg = params["s"], params["reg"]
    K2 = inst.K * s
    G1 = host(solve(inst, obj, **opts), ctx).G
    G2 = host(solve(inst, obj, K=K2, **opts), ctx).G
    growth = float(np.trace(G2) - np.trace(G1))
    bound = count * (reg / 2) * (1 - 1 / s) / spectral_norm(inst.Kh)
    # A predicted change below round-off (λ tiny, or float32) cannot be resolved: discard the instance.
    assume(bound > 40 * d * err)
    chk.ge("tr G*(sK) − tr G*(K) ≥ count·(λ/2)(1 − 1/s)/λmax(K)", growth, bound, 4 * d * err)
    chk.gt("so G* depends on the kernel", growth, 4 * d * err)
    no_reg = {k: v for k, v in opts.items() if k != "reg"}
    H1 = host(solve(inst, obj, **no_reg), ctx).G
    H2 = host(solve(inst, obj, K=K2, **no_reg), ctx).G
    chk.close(
        "with λ = 0 the spectrum of G* does not change",
        eig_desc(H1)[0],
        eig_desc(H2)[0],
        round_off(inst, spectral_norm(T) + 1) * 4,
    )


@register(
    id="KR-reg-limit",
    title="λ → 0⁺ recovers the λ = 0 optimum when it is unique",
    source=f"{KR_SOURCE} §4",
    preconditions=(
        "K ≻ 0 (positive definite)",
        "the λ = 0 optimum is unique (a resolvable gap at the cut)",
        "A ≥ 0 entrywise (weighted graphs)",
        "β real (drawn in [0, 3])",
    ),
    statement="λ → 0⁺ recovers the λ = 0 answer when it is unique.",
    latex=r"\lim_{\lambda\to 0^+} G^*_\lambda = G^*_0 \quad (G^*_0 \text{ unique})",
    strategy=instances(
        n=(2, 4),
        m=(1, 3),
        kernels=ALL_KERNELS,
        graph="weighted",
        d="any",
        objective=SOFT,
        beta=BETA,
        log10_cond=(0.5, 4.0),
    ),
    method="For λ = 10⁻², …, 10⁻¹⁰ (relative to λ_min(K)), ‖G*_λ − G*_0‖_F stays under the perturbation bound "
    "2‖E‖_F(1 + 4‖T‖/gap) with E = (λ/2)K⁻¹ (numpy), which → 0; only λ with ‖E‖ < gap/4. Instances whose "
    "λ = 0 optimum is not unique (gap unresolvable) are discarded.",
    tolerance="bound + 100·N·ε·κ(K)·‖G*‖.",
    examples=30,
)
def check_reg_limit(params, ctx, chk):
    inst = build(params, ctx)
    obj = params["objective"]
    opts = _options(obj, params)
    opts.pop("reg", None)
    T0, _, err = target(inst, obj, opts)
    d = inst.d
    _, _, gap = psd_truncation(T0, d)
    nT = spectral_norm(T0)
    assume(gap > 1e4 * err)
    G0 = host(solve(inst, obj, **opts), ctx).G
    Kinv = np.linalg.inv(inst.Kh)
    lmin = 1 / spectral_norm(Kinv)
    checked = 0
    for k in range(2, 11, 2):
        reg = 10.0 ** (-k) * lmin
        E = (reg / 2) * Kinv
        if spectral_norm(E) >= gap / 4:
            continue
        Gl = host(solve(inst, obj, reg=reg, **opts), ctx).G
        factor = 1 + (4 * nT / gap if math.isfinite(gap) else 0)
        bound = 2 * np.linalg.norm(E) * factor
        tol = 4 * err * math.sqrt(inst.N) * factor + round_off(inst, inst.cond * max(spectral_norm(G0), 1e-30))
        chk.le(f"‖G*_λ − G*_0‖ ≤ perturbation bound at λ = 1e-{k}·λmin(K)", np.linalg.norm(Gl - G0), bound, tol)
        checked += 1
    chk.true("at least one λ was small enough to test", checked > 0)


# --------------------------------------------------------------------------- §4 statistical


@register(
    id="KR-align-statistical",
    title="Fresh views of one sample have larger mean k* with each other than with other samples' views",
    source=f"{KR_SOURCE} §4",
    preconditions=(
        "RBF kernel with a 'reasonable' bandwidth: the median pairwise distance × a factor in [0.5, 2]",
        "views = base sample + small Gaussian noise (σ = 0.01–0.5)",
        "O1 with λ = 0",
        "clique graph: self-loops, unit weights, n groups of equal size m (A = I_n ⊗ 11ᵀ up to a permutation)",
        "d ≥ n",
    ),
    statement="Statistical (approximate, not exact): fresh views of one base sample have larger mean k* with each "
    "other than with views of other samples, for a reasonable bandwidth.",
    latex=r"\mathbb P\Big[\overline{k^*}_{\text{same sample}} > \overline{k^*}_{\text{different samples}}\Big] \ge 0.9",
    strategy=instances(
        n=(2, 6),
        m=(2, 4),
        balanced=True,
        kernels=("rbf",),
        graph="clique",
        d="ge_n",
        log10_cond=(4.0, 6.0),
        bandwidth_factor=st.floats(0.5, 2.0),
        fresh=(2, 4),
    ).map(lambda p: {k: v for k, v in p.items() if k != "bandwidth"}),
    method="Base samples standard normal in R^p, views = base + noise (0.01–0.5); RBF bandwidth = median pairwise "
    "distance × a factor in [0.5, 2] ('reasonable'); O1 with λ = 0 and d ≥ n. For 2–4 fresh views per sample, "
    "compare the mean k* over pairs of distinct fresh views of the same sample with the mean over pairs from "
    "different samples. One Bernoulli trial per instance.",
    tolerance="statistical: the claim is that the success probability is ≥ 0.9; it fails if a one-sided binomial test "
    "rejects that at the 95% level.",
    kind="statistical",
    rate=0.9,
    confidence=0.95,
    examples=100,
)
def check_align_statistical(params, ctx, chk):
    base_params = dict(params)
    inst = build({**base_params, "bandwidth": 1.0}, ctx, with_graph=False)
    bw = kt.kernels.median_bandwidth(inst.X) * params["bandwidth_factor"]
    inst = build({**base_params, "bandwidth": bw}, ctx)
    sol = solve(inst, "contrastive")
    Xf, labels = inst.fresh_views(params["fresh"])
    ks = ctx.get(sol.induced_kernel(inst.cross(Xf)))
    same = labels[:, None] == labels[None, :]
    off = ~np.eye(labels.size, dtype=bool)
    within = float(ks[same & off].mean())
    across = float(ks[~same].mean())
    chk.info.update(within=within, across=across)
    chk.gt("mean k* within a sample's fresh views > mean k* across samples", within - across, 0.0)
