r"""Adversarial soft optima: ill-conditioned kernels, tiny and large penalties, every graph kind.

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
"""

from __future__ import annotations

import math

import mpmath
import numpy as np
from hypothesis import strategies as st

import kssl_theory as kt

from ..instances import ADVERSARIAL_KERNELS, GRAPH_KINDS, build, instances
from ..oracles import laplacian, lbfgs_multistart, soft_loss_grad_Z, spectral_norm
from ..registry import register
from ._common import KR_SOURCE, solve

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
        "K positive semi-definite (singular allowed; P is the projector onto range(K), K⁺ its pseudo-inverse); any κ(K) (the attainable accuracy per dtype is part of the claim)",
        "λ ≥ 0 (drawn in 1e-8 … 10)",
        "A real symmetric: cliques, kNN, sparse, disconnected, isolated-vertex and signed graphs",
        "β real (drawn in [0, 3])",
        "1 ≤ d ≤ N",
    ),
    statement="The minimum of O1 (O2) is ‖A‖² − Σ_{i≤d} max(λ_i(T),0)² (d − Σ…) with T = PBP − (λ/2)K⁺, for any PSD "
              "K and λ ≥ 0; the package attains it to the accuracy the dtype allows, whatever κ(K).",
    latex=r"\min L = c - \sum_{i\le d}\max(\lambda_i(T),0)^2,\ T = B - \tfrac{\lambda}{2}K^{-1},\ \kappa(K)\le 10^{12}",
    strategy=instances(n=(2, 4), m=(1, 3), kernels=ADVERSARIAL_KERNELS, d="any", log10_cond=(0.0, 12.0),
                       graph={"graph_kind": list(GRAPH_KINDS), "self_loops": st.booleans(),
                              "weighted": st.booleans()},
                       objective=["contrastive", "vicreg"], reg=_reg_strategy, beta=st.floats(0.0, 3.0)),
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
