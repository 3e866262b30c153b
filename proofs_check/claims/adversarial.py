r"""Adversarial optima: ill-conditioned kernels, tiny and large penalties, every graph kind.

The trust issue: an engine that judged ties and zero eigenvalues by a band relative to
:math:`\max|\lambda(T)|` returned beatable optima as soon as a penalty met an ill-conditioned
``K`` (κ(K) ≤ 1e4 in the other claims never showed it). This claim draws where users live —
graded spectra up to κ = 1e12 (float64) / 1e5 (float32), RBF on near-duplicate points and with
wide bandwidths, rank-deficient kernels plus a tiny ridge; λ from 1e-8 to 10; kNN, sparse,
disconnected, isolated-vertex, weighted and clique graphs; d from 1 to N — and checks the
package against an oracle that shares nothing with it:

- the spectrum of :math:`T = B - \tfrac{\lambda}{2}K^{-1}` formed and diagonalised by mpmath at
  40 digits from the exact entries the package receives (``K`` is positive definite by
  construction), so the true minimum :math:`\text{const} - \sum_{i\le d}\max(\theta_i,0)^2` is
  known to far below the dtype's precision;
- L-BFGS from random starts over :math:`Z = FY` with :math:`K = FF^T`, which must not beat it.

Tolerances come from the dtype and the instance only (never from the package):
``ATTAIN = 100 N ε b`` (backward error of a stable eigensolver on the penalty-free part,
:math:`b = \|B\|_2`) and ``SENS = min(8 b² ‖E‖/λ, λ‖E‖/(2 μ_min²))`` with
``‖E‖ = 10 N ε ‖K‖``: how far a non-negative eigenvalue of ``T`` moves when ``K`` moves by its
own rounding ``E`` (first order, :math:`v^T\,\delta T\,v = \tfrac\lambda2 (K^{-1}v)^TE(K^{-1}v)`
with :math:`\|K^{-1}v\|^2 \le \min(4(b+\theta)^2/\lambda^2, 1/\mu_{\min}^2)`), which no solver
working from the rounded ``K`` can beat. The eigenvalue tolerance is ``e = ATTAIN + SENS``, the
loss tolerance :math:`\sum_i (2|\theta_i| + e)e + 10N\varepsilon(|\text{const}| + \sum\theta_i^2)`.

The hard-constrained objectives get the same treatment in ``KR-hard-adversarial``: the O4 value
:math:`\sum_{i\le d}\lambda_i(K^{1/2}MK^{1/2})` from an mpmath square root of ``K``, with a
tolerance made of the backward error of ``M`` (``100 N ε ‖K‖‖M‖``) and the sensitivity of the
spectrum to ``K``'s own rounding (Ostrowski's relative bound or a Hölder bound, whichever is
smaller; :func:`_whitened_sensitivity`), plus feasibility and the residual ``‖KC − Z‖`` of the
coefficients, which a silently regularised ``K`` cannot meet.
"""

from __future__ import annotations

import math

import mpmath
import numpy as np
import scipy.linalg
from hypothesis import strategies as st

import kssl_theory as kt

from ..instances import ADVERSARIAL_KERNELS, GRAPH_KINDS, build, instances
from ..oracles import laplacian, lbfgs_multistart, soft_loss_grad_Z, spectral_norm
from ..registry import register
from ._common import KR_SOURCE, solve

#: Every graph kind of the generator, with or without self-loops and random weights.
EVERY_GRAPH_KIND = {"graph_kind": list(GRAPH_KINDS), "self_loops": st.booleans(), "weighted": st.booleans()}

#: L-BFGS only on the small instances (its cost grows like N² d per step).
LBFGS_MAX_N = 8


def _reg_strategy(n, N, sizes):
    return st.one_of(st.just(0.0), st.floats(-8.0, 1.0).map(lambda x: float(10.0**x)))


def _mp_spectrum(B, K, reg):
    with mpmath.workdps(40):
        T = mpmath.matrix(B.tolist())
        if reg:
            T = T - (mpmath.mpf(reg) / 2) * (mpmath.matrix(K.tolist()) ** -1)
        T = (T + T.T) / 2
        return np.array(sorted((float(x) for x in mpmath.eigsy(T, eigvals_only=True)), reverse=True))


def _lbfgs_root(objective, inst, opts, d):
    """Best loss of L-BFGS over Z = F Y (K = F Fᵀ, penalty λ‖Y‖²) from 3 starts."""
    w, V = np.linalg.eigh(inst.Kh)
    F = V * np.sqrt(np.clip(w, 0, None))
    A = inst.Ah
    N = inst.N
    reg = float(opts.get("reg", 0.0))
    beta = float(opts.get("beta", 1.0))
    L = laplacian(A)

    def fun_grad(x):
        Y = x.reshape(N, d)
        f, gZ = soft_loss_grad_Z(objective, F @ Y, A, L, {"beta": beta})
        return f + reg * float(np.sum(Y * Y)), (F.T @ gZ + 2 * reg * Y).ravel()

    return lbfgs_multistart(fun_grad, (N, d), inst.rng, 3, 1.0 / math.sqrt(max(N, 1)))


@register(
    id="KR-soft-adversarial",
    title="O1/O2 optima stay right on ill-conditioned K (κ ≤ 1e12), λ ∈ [1e-8, 10], any symmetric A",
    source=f"{KR_SOURCE} §3 O1, O2 (minimum and [T]₊,d where users live)",
    preconditions=(
        "K positive semi-definite (singular allowed; P is the projector onto range(K), K⁺ its pseudo-inverse); "
        "any κ(K) (the attainable accuracy per dtype is part of the claim)",
        "λ ≥ 0 (drawn in 1e-8 … 10)",
        "A real symmetric: cliques, kNN, sparse, disconnected, isolated-vertex and signed graphs",
        "β real (drawn in [0, 3])",
        "1 ≤ d ≤ N",
    ),
    statement="The minimum of O1 (O2) is ‖A‖² − Σ_{i≤d} max(λ_i(T),0)² (d − Σ…) with T = PBP − (λ/2)K⁺, for any PSD "
    "K and λ ≥ 0; the package attains it to the accuracy the dtype allows, whatever κ(K).",
    latex=r"\min L = c - \sum_{i\le d}\max(\lambda_i(T),0)^2,\ T = B - \tfrac{\lambda}{2}K^{-1},\ \kappa(K)\le 10^{12}",
    strategy=instances(
        n=(2, 4),
        m=(1, 3),
        kernels=ADVERSARIAL_KERNELS,
        d="any",
        log10_cond=(0.0, 12.0),
        graph=EVERY_GRAPH_KIND,
        objective=["contrastive", "vicreg"],
        reg=_reg_strategy,
        beta=st.floats(0.0, 3.0),
    ),
    method="mpmath (40 digits) spectrum of T = B − (λ/2)K⁻¹ from the exact entries the package receives (B = A for "
    "O1, I − (β/2)L for O2); the package's loss and leading eigenvalues against it; uniqueness reported "
    "whenever the mpmath gap (or −λ_{d+1}) exceeds 1000 × the tolerance; L-BFGS over Z = FY (N ≤ 8, 3 starts) "
    "never below the minimum.",
    tolerance="e = 100·N·ε·‖B‖ + min(8‖B‖²‖E‖/λ, λ‖E‖/(2μ_min²)), ‖E‖ = 10·N·ε·‖K‖ (the module docstring "
    "derives it); loss: Σ(2|θ|+e)e + 10·N·ε·(|c| + Σθ²).",
    examples=40,
)
def check_soft_adversarial(params, ctx, chk):
    inst = build(params, ctx)
    objective = params["objective"]
    N, d = inst.N, inst.d
    reg = float(params["reg"])
    opts = {"reg": reg} if objective == "contrastive" else {"reg": reg, "beta": float(params["beta"])}
    A = inst.Ah
    if objective == "contrastive":
        B, const = A, float(np.sum(A * A))
    else:
        B, const = np.eye(N) - (opts["beta"] / 2) * (np.diag(A.sum(axis=1)) - A), float(d)
    spectrum = _mp_spectrum(B, inst.Kh, reg)
    mu = np.linalg.eigvalsh(inst.Kh)
    eps = ctx.eps
    b = spectral_norm(B)
    normK = float(mu[-1])
    E = 10 * N * eps * normK
    sens = min(8 * b**2 * E / reg, reg * E / (2 * max(mu[0], 1e-300) ** 2)) if reg else 0.0
    e = 100 * N * eps * b + sens
    top = np.clip(spectrum[:d], 0, None)
    truth = const - float(np.sum(top**2))
    loss_tol = float(np.sum((2 * np.abs(top) + e) * e)) + 10 * N * eps * (abs(const) + float(np.sum(top**2)))
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", kt.errors.IllConditionedWarning)
        sol = solve(inst, objective, **opts)
    chk.close("loss = const − Σ max(θ_i, 0)² (mpmath)", ctx.scalar(sol.loss), truth, loss_tol)
    w = np.asarray(ctx.get(sol.eigenvalues), dtype=np.float64)
    k = min(d + 1, w.size)
    # The tolerance is derived for eigenvalues θ ≥ −b (then Σ p_i² v_i² ≤ (b + |θ|)² ≤ 4b²); below
    # that they carry the penalty's own rounding and never enter G* or the loss.
    relevant = spectrum[:k] >= -b
    chk.close("leading eigenvalues θ ≥ −‖B‖ of T (mpmath)", w[:k][relevant], spectrum[:k][relevant], e)
    if d < N:
        gap = spectrum[d - 1] - spectrum[d]
        if gap > 1e3 * e or spectrum[d] < -1e3 * e:
            chk.equal("a clearly resolved cut is reported unique", bool(sol.is_unique), True)
    if N <= LBFGS_MAX_N:
        best = _lbfgs_root(objective, inst, opts, d)
        chk.ge("L-BFGS over Z = FY does not beat the minimum", best, truth, loss_tol + 1e-9 * (1 + abs(truth)))


# --------------------------------------------------------------------------- O3 and O4 where users live


def _mp_whitened_spectrum(M, K):
    """Eigenvalues (descending) of S = K^{1/2} M K^{1/2}, with K^{1/2} from mpmath's eigsy at 40 digits."""
    with mpmath.workdps(40):
        mu, U = mpmath.eigsy(mpmath.matrix(K.tolist()))
        root = U * mpmath.diag([mpmath.sqrt(max(x, 0)) for x in mu]) * U.T
        S = root * mpmath.matrix(M.tolist()) * root
        S = (S + S.T) / 2
        return np.array(sorted((float(x) for x in mpmath.eigsy(S, eigvals_only=True)), reverse=True))


def _whitened_sensitivity(M, K, eps):
    """How far an eigenvalue of S = K^{1/2}MK^{1/2} moves when K moves by its rounding E, ‖E‖ ≤ 10Nε‖K‖.

    Two bounds, the smaller is used. Ostrowski: S has the eigenvalues of MK, and
    MK' = MK^{1/2}(I + F)K^{1/2} with F = K^{-1/2}EK^{-1/2}, so λ_i(S') = θ_i λ_i(S) with
    |θ_i − 1| ≤ ‖F‖ ≤ ‖E‖/μ_min (relative, grows with κ). Hölder: ‖K'^{1/2} − K^{1/2}‖ ≤ ‖E‖^{1/2}, so
    |δλ| ≤ ‖M‖(2‖K‖^{1/2}‖E‖^{1/2} + ‖E‖) (absolute, independent of κ). With M ⪰ 0 Weyl on
    M^{1/2}KM^{1/2} gives ‖M‖‖E‖.
    """
    N = K.shape[0]
    mu = np.linalg.eigvalsh(K)
    E = 10 * N * eps * float(mu[-1])
    nM = spectral_norm(M)
    absolute = nM * (2 * math.sqrt(float(mu[-1]) * E) + E)
    if np.linalg.eigvalsh(M)[0] >= 0:
        absolute = min(absolute, nM * E)
    relative = E / max(float(mu[0]), 1e-300)
    return absolute, relative


@register(
    id="KR-hard-adversarial",
    title="O3/O4 optima, constraints and coefficients stay right on ill-conditioned K (κ ≤ 1e12), any symmetric A",
    source=f"{KR_SOURCE} §3 O3, O4 (where users live)",
    preconditions=(
        "K ≻ 0, any κ(K) up to 1e12 (float64) / 1e5 (float32); the attainable accuracy per dtype is part of the claim",
        "A real symmetric: cliques, kNN, sparse, disconnected, isolated-vertex and signed graphs; the normalised "
        "O3 only with non-negative weights and positive degrees",
        "1 ≤ d ≤ N",
    ),
    statement="The O4 maximum Σ_{i≤d} λ_i(K^{1/2}AK^{1/2}) (Laplacian twin: minimum with L) and the O3 minimum "
    "Σ_{i≤d} λ_i^↑(L) are attained to the accuracy the dtype allows whatever κ(K), with feasible "
    "representations (ZᵀZ = I, CᵀKC = I) and coefficients C that reproduce Z = KC to backward-stable "
    "accuracy.",
    latex=r"\max_{C^TKC=I_d}\operatorname{tr}(C^TKAKC) = \sum_{i\le d}\lambda_i(K^{1/2}AK^{1/2}),\ "
    r"\kappa(K)\le 10^{12}",
    strategy=instances(
        n=(2, 4),
        m=(1, 3),
        kernels=ADVERSARIAL_KERNELS,
        d="any",
        log10_cond=(0.0, 12.0),
        graph=EVERY_GRAPH_KIND,
        objective=["whitened", "laplacian_eigenmaps"],
        variant=st.booleans(),
    ),
    method="O4 (variant: Laplacian twin): the spectrum of S = K^{1/2}MK^{1/2} (M = A or L) by mpmath at 40 digits from "
    "the entries the package receives; O3 (variant: normalised, when every degree is positive): numpy eigh "
    "of L (scipy eigh(L, D)), which does not involve K. Checked: the optimum, feasibility (CᵀKC = I; ZᵀZ = I "
    "or ZᵀDZ = I), the residual ‖KC − Z‖, and kt.loss at Z*.",
    tolerance="O4 values: 100·N·ε·‖K‖‖M‖ (attainable: a backward error N·ε·‖M‖ in M moves S by ‖K‖ times it) + "
    "min(‖M‖(2‖K‖^{1/2}‖E‖^{1/2} + ‖E‖), |λ|·‖E‖/μ_min) per "
    "eigenvalue (sensitivity to K's rounding E, ‖E‖ = 10·N·ε·‖K‖: Ostrowski / Hölder, derived in "
    "_whitened_sensitivity); O3 values 100·N·ε·‖L‖ per eigenvalue; residual ‖KC − Z‖ ≤ 100·N·ε·‖K‖‖C‖ "
    "(backward-stable solve); CᵀKC = I to 100·N·ε·‖K‖‖C‖² (its rounding); ZᵀZ = I to 100·N·ε.",
    examples=40,
)
def check_hard_adversarial(params, ctx, chk):
    import warnings

    inst = build(params, ctx)
    objective, variant = params["objective"], bool(params["variant"])
    N, d = inst.N, inst.d
    A, K, eps = inst.Ah, inst.Kh, ctx.eps
    L = laplacian(A)
    deg = A.sum(axis=1)
    if objective == "laplacian_eigenmaps":
        variant = variant and bool(np.all(A >= 0)) and bool(np.all(deg > 0))
        opts = {"normalized": variant}
        if variant:
            values = scipy.linalg.eigh(L, np.diag(deg), eigvals_only=True)
            scale = spectral_norm(L) / float(deg.min())
        else:
            values = np.linalg.eigvalsh(L)
            scale = spectral_norm(L)
        truth = float(np.sum(values[:d]))
        tol = d * 100 * N * eps * max(scale, 1e-300)
    else:
        opts = {"laplacian": variant}
        M = L if variant else A
        spectrum = _mp_whitened_spectrum(M, K)
        top = spectrum[::-1][:d] if variant else spectrum[:d]
        truth = float(np.sum(top)) * (1.0 if variant else -1.0)
        absolute, relative = _whitened_sensitivity(M, K, eps)
        # attainable: a backward error of N·ε·‖M‖ in M (the dtype's rounding of A or L) moves S = K^{1/2}MK^{1/2}
        # by up to ‖K‖ times that; ‖S‖ alone is too small a scale when M's range meets K's small eigenvalues
        attain = 100 * N * eps * spectral_norm(K) * spectral_norm(M)
        tol = float(np.sum(attain + np.minimum(absolute, np.abs(top) * relative)))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", kt.errors.IllConditionedWarning)
        sol = solve(inst, objective, **opts)
    Z = np.asarray(ctx.get(sol.embedding), dtype=np.float64)
    C = np.asarray(ctx.get(sol.coef), dtype=np.float64)
    chk.close(
        "optimum (O4: mpmath spectrum of K^{1/2}MK^{1/2}; O3: eigenvalues of L)", ctx.scalar(sol.loss), truth, tol
    )
    attained = ctx.scalar(kt.loss(objective, sol.embedding, inst.A, **opts))
    chk.close("kt.loss(Z*) = optimum", attained, truth, 2 * tol + 100 * N * eps * abs(truth))
    normK, normC = spectral_norm(K), max(spectral_norm(C), 1e-300)
    chk.le("residual ‖KC − Z‖ (backward-stable solve)", spectral_norm(K @ C - Z), 0.0, 100 * N * eps * normK * normC)
    if objective == "whitened":
        chk.close("constraint CᵀKC = I_d", C.T @ K @ C, np.eye(d), 100 * N * eps * normK * normC**2)
    elif variant:
        chk.close("constraint ZᵀDZ = I_d", Z.T @ np.diag(deg) @ Z, np.eye(d), 100 * N * eps * float(deg.max()))
    else:
        chk.close("constraint ZᵀZ = I_d", Z.T @ Z, np.eye(d), 100 * N * eps)
