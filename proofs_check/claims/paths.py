"""[KR] §3: the eigenpair paths of the engine — every fast path reaches the dense path's optimum.

The other claims draw small instances (N below the engine's ``SUBSET_MIN_N``), where ``method="auto"``
always takes the dense or clique path. This one draws N in the hundreds, so that ``auto`` takes the
Lanczos paths (the spectral matrix applied as an operator, for a positive definite and for a singular K),
the kernel-PCA path (O4 with A = I on a centred K), the LAPACK subset path (a penalty) and the clique
paths, and compares each with ``method="dense"`` (every eigenpair from LAPACK's ``evd``).
"""

from __future__ import annotations

import math

import numpy as np
import scipy.sparse as sp
from hypothesis import strategies as st

import kssl_theory as kt

from ..oracles import centring, spectral_norm
from ..registry import register
from ._common import KR_SOURCE

#: name -> (objective, options, graph, kernel, the paths ``auto`` may take): cases whose ``auto`` path is not
#: ``dense`` at N >= 400 (O3 takes the subset path when the graph has more components than d: a tie at 0).
CASES = {
    "O1, 5-NN graph": ("contrastive", {}, "knn", "ridge", {"iterative"}),
    "O1 with reg, 5-NN graph": ("contrastive", {"reg": 0.1}, "knn", "ridge", {"subset"}),
    "O1, cliques": ("contrastive", {}, "cliques", "ridge", {"structured"}),
    "O2, 5-NN graph": ("vicreg", {"beta": 0.5}, "knn", "ridge", {"iterative"}),
    "O3, 5-NN graph": ("laplacian_eigenmaps", {}, "knn", "ridge", {"iterative", "subset"}),
    "O4, 5-NN graph": ("whitened", {}, "knn", "ridge", {"iterative"}),
    "O4, cliques": ("whitened", {}, "cliques", "ridge", {"structured"}),
    "O4, 5-NN graph, centred K": ("whitened", {}, "knn", "centred", {"iterative"}),
    "O4, A = I, centred K": ("whitened", {}, "identity", "centred", {"iterative"}),
}


def _instance(params, ctx):
    """RBF Gram matrix of N Gaussian points in R^5 (+ ridge, or centred: singular) and the case's graph."""
    rng = np.random.default_rng(params["seed"])
    N = params["N"]
    objective, opts, graph, kernel, _ = CASES[params["case"]]
    X = rng.normal(size=(N, 5))
    d2 = np.sum((X[:, None, :] - X[None, :, :]) ** 2, axis=-1)
    K = np.exp(-d2 / (2 * (params["bandwidth"] * math.sqrt(np.median(d2))) ** 2))
    if kernel == "ridge":
        K = K + params["ridge"] * np.eye(N)
    else:
        H = centring(N)
        K = H @ K @ H
    K = (K + K.T) / 2
    if graph == "knn":
        np.fill_diagonal(d2, np.inf)
        nearest = np.argsort(d2, axis=1)[:, :5]
        rows = np.repeat(np.arange(N), 5)
        G = sp.csr_matrix((np.ones(rows.size), (rows, nearest.ravel())), shape=(N, N))
        A = ((G + G.T) > 0).astype(float).tocsr()
    elif graph == "cliques":
        groups = np.sort(rng.integers(0, N // 3, size=N))
        A = (groups[:, None] == groups[None, :]).astype(float)
    else:
        A = sp.identity(N, format="csr")
    if ctx.backend != "numpy":  # sparse relation matrices are NumPy-only
        A = ctx.put(A.toarray() if sp.issparse(A) else A)
    return objective, opts, ctx.put(K), A, K


@register(
    id="KR-paths-agree",
    title="Every eigenpair path reaches the dense path's optimum, within the two certified error bounds",
    source=f"{KR_SOURCE} §3 (Accuracy of the computed optimum)",
    preconditions=(
        "K positive semi-definite (RBF + ridge, or a centred RBF: singular)",
        "A symmetric: a 5-NN graph (sparse), a union of cliques, or I",
        "1 ≤ d ≤ 8 ≤ N/50, N from 400 to 520 (where solve's auto method leaves the dense path)",
    ),
    statement="solve(method='auto') — Lanczos on the operator (K ≻ 0, or the whitened form of a singular K), "
    "kernel PCA from K's leading eigenpairs, the LAPACK subset with a penalty, the clique paths — returns the "
    "optimum of method='dense': minimum and leading d + 1 eigenvalues within the sum of the two certified bounds "
    "(loss_error, eigenvalue_error), and its representation attains that minimum when the loss is recomputed "
    "from the definition.",
    latex=r"|\hat\ell_{\text{auto}} - \hat\ell_{\text{dense}}| \le e^\ell_{\text{auto}} + e^\ell_{\text{dense}},\ "
    r"|\hat\lambda^{\text{auto}}_i - \hat\lambda^{\text{dense}}_i| \le e_{\text{auto}} + e_{\text{dense}}"
    r"\ (i \le d+1),\ "
    r"\ell(Z^*_{\text{auto}}) = \hat\ell_{\text{dense}}",
    strategy=st.fixed_dictionaries(
        {
            "seed": st.integers(0, 2**31 - 1),
            "N": st.integers(400, 520),
            "d": st.integers(1, 8),
            "case": st.sampled_from(sorted(CASES)),
            "bandwidth": st.floats(0.3, 2.0),
            "ridge": st.sampled_from([1e-2, 1e-5]),
        }
    ),
    method="kt.solve with method='auto' and method='dense' on the same K and A; auto must have taken the case's "
    "fast path (NumPy, float64; in float32 Lanczos may fall back to the dense path), so the comparison is never "
    "dense vs dense. "
    "Values compared: the minimum, the leading d + 1 eigenvalues in the rule's "
    "order (for the soft rule, clipped at 0: only certified-positive eigenvalues decide the optimum), O4's "
    "constraint at auto's C*, and kt.loss — the loss evaluated from its definition, no target, no spectrum — at "
    "auto's (Z*, C*).",
    tolerance="minimum: loss_error(auto) + loss_error(dense); eigenvalues: eigenvalue_error(auto) + "
    "eigenvalue_error(dense); the loss from the definition: those plus 10·N·ε·s, s = |minimum| + ‖A‖_F² + "
    "‖Z*ᵀZ*‖_F² + d (each of its few products has entrywise relative rounding at most N·ε); O4's constraint "
    "C*ᵀKC* = I: 2√d·e/λ_d (the first-order effect of residuals of norm ≤ e on C* = y/√λ) + 10·N·ε·‖K‖₂‖C*‖₂² "
    "(rounding of the products, amplified by C*'s size).",
    examples=18,
)
def check_paths_agree(params, ctx, chk):
    objective, opts, K, A, K_host = _instance(params, ctx)
    d = params["d"]
    auto = kt.solve(objective, K, A, d, **opts)
    dense = kt.solve(objective, K, A, d, method="dense", **opts)
    if ctx.backend == "numpy" and ctx.dtype == "float64":  # so the comparison is never dense vs dense
        # (float32 Lanczos cannot meet the residual test and falls back to dense; other libraries have fewer paths)
        chk.true(f"auto took the case's fast path ({auto.method})", auto.method in CASES[params["case"]][4])
    chk.close(
        "minimum: auto path = dense path",
        ctx.scalar(auto.loss),
        ctx.scalar(dense.loss),
        auto.loss_error + dense.loss_error,
    )
    w_auto, w_dense = ctx.get(auto.eigenvalues), ctx.get(dense.eigenvalues)
    k = min(d + 1, w_auto.size, w_dense.size)
    if auto.rule == "psd-top":
        w_auto, w_dense = np.clip(w_auto, 0, None), np.clip(w_dense, 0, None)
    chk.close(
        f"leading {k} eigenvalues: auto path = dense path",
        w_auto[:k],
        w_dense[:k],
        auto.eigenvalue_error + dense.eigenvalue_error,
    )
    Z = ctx.get(auto.embedding)
    A_host = ctx.get(A.toarray() if sp.issparse(A) else A)
    literal = ctx.scalar(kt.loss(objective, auto.embedding, A, K=K, coef=auto.coef, **opts))
    scale = abs(ctx.scalar(dense.loss)) + float(np.sum(A_host**2)) + float(np.sum((Z.T @ Z) ** 2)) + d
    if opts.get("reg"):
        scale += opts["reg"] * float(np.sum(ctx.get(auto.coef) * (K_host @ ctx.get(auto.coef))))
    if objective == "whitened":  # the constraint C*^T K C* = I (the loss above reads Z* only)
        C = ctx.get(auto.coef)
        w_used = float(ctx.get(auto.eigenvalues)[d - 1])
        chk.close(
            "auto's C*ᵀKC* = I",
            C.T @ K_host @ C,
            np.eye(d),
            2 * math.sqrt(d) * auto.eigenvalue_error / w_used
            + 10 * params["N"] * ctx.eps * spectral_norm(K_host) * np.linalg.norm(C, 2) ** 2,
        )
    chk.close(
        "loss from the definition at auto's optimum = dense minimum",
        literal,
        ctx.scalar(dense.loss),
        auto.loss_error + dense.loss_error + 10 * params["N"] * ctx.eps * scale,
        detail=f"‖K‖₂ = {spectral_norm(K_host):.3g}",
    )
