r"""Bridge claims of docs/theory.md §6: kernel-regime optima ([KR]) seen as idealized representations ([IR]).

The package's optima (:func:`kssl_theory.solve`, :meth:`Solution.alternative` for other optimal
bases) are judged by the self-contained [IR] oracles of :mod:`.idealized` (LP per task over all set
partitions of the groups, SVD affine rank) and by :func:`kssl_theory.idealized.is_idealized`.
"""

from __future__ import annotations

import math

import numpy as np
from hypothesis import assume
from hypothesis import strategies as st

from ..instances import ALL_KERNELS, build, instances
from ..oracles import affine_rank, host_loss, laplacian, round_off, spectral_norm
from ..registry import register
from ._common import BR_SOURCE, host, solve
from .idealized import all_tasks_solvable
from .kernel_regime import _beta_around_threshold

METHOD = st.sampled_from(["auto", "dense"])


def _class_codes(Z, labels, n):
    codes = np.vstack([Z[labels == g].mean(axis=0) for g in range(n)])
    spread = max(float(np.abs(Z[labels == g] - codes[g]).max()) for g in range(n))
    return codes, spread


def _sqrt_tol(inst, scale=1.0):
    """Embedding columns for eigenvalues at round-off level δ are √δ·u: tolerance √(100·N·ε·scale)."""
    return math.sqrt(round_off(inst, scale))


@register(
    id="BR-O1-idealized",
    title="O1 optimum, clique, K ≻ 0, d ≥ n: invariant codes, orthonormal group codes — idealized",
    source=f"{BR_SOURCE} §6",
    preconditions=(
        "K ≻ 0 (positive definite)",
        "λ = 0",
        "clique graph: self-loops, unit weights, n groups of equal size m (A = I_n ⊗ 11ᵀ up to a permutation)",
        "d ≥ n",
        "probes: affine argmax on the training views",
    ),
    statement="O1 optimum, clique graph with self-loops, K ≻ 0, d ≥ n: training codes are invariant and the n group "
    "codes orthonormal, hence idealized for linear probes on the training views.",
    latex=r"G^* = A \;\Rightarrow\; z_i = c_{g_i},\ c_g\cdot c_h = \delta_{gh} \;\Rightarrow\; "
    r"\operatorname{rank}[C\mid\mathbf 1] = n",
    strategy=instances(n=(1, 4), m=(1, 3), balanced=True, kernels=ALL_KERNELS, graph="clique", d="ge_n", method=METHOD),
    method="The package's O1 optimum (λ = 0): within-group spread of Z* ≈ 0, Gram of the group codes = I_n, every "
    "labelling of the groups solved by an affine probe on the training views (LP over all set partitions), "
    "and kssl_theory.idealized.is_idealized agrees.",
    tolerance="codes: √(100·N·ε·m) (square roots of round-off eigenvalues); Gram: 100·N·ε·m.",
    examples=30,
)
def check_O1_idealized(params, ctx, chk):
    import kssl_theory.idealized as ki

    inst = build(params, ctx)
    m = inst.sizes[0]
    h = host(solve(inst, "contrastive"), ctx)
    codes, spread = _class_codes(h.Z, inst.labels, inst.n)
    chk.close("invariant: views of a group share one code", spread, 0.0, _sqrt_tol(inst, m))
    chk.close("group codes orthonormal", codes @ codes.T, np.eye(inst.n), _sqrt_tol(inst, m))
    chk.equal("every task on the training views is solvable (LP)", all_tasks_solvable(h.Z, inst.labels)[0], True)
    report = ki.is_idealized(ctx.put(h.Z), inst.labels, rtol=_sqrt_tol(inst, m) * 10)
    chk.equal("kssl_theory.idealized.is_idealized", bool(report.idealized), True, "; ".join(report.failing))


def _u_of(codes):
    """The unit normal u with codes·codesᵀ = I − uuᵀ, and the residual of that fit."""
    M = np.eye(codes.shape[0]) - codes @ codes.T
    w, V = np.linalg.eigh((M + M.T) / 2)
    u = V[:, -1] * math.sqrt(max(w[-1], 0.0))
    return u, float(np.abs(M - np.outer(u, u)).max())


def _basis_orthogonal_to(u):
    n = u.size
    Q, _ = np.linalg.qr(np.column_stack([u, np.eye(n)]))
    return Q[:, 1:n]


@register(
    id="BR-O1-dn1",
    title="O1 with d = n − 1: codes project an orthonormal set along u; idealized iff uᵀ1 ≠ 0; "
    "both occur at equal loss",
    source=f"{BR_SOURCE} §6",
    preconditions=(
        "K ≻ 0 (positive definite)",
        "λ = 0",
        "clique graph: self-loops, unit weights, n groups of equal size m (A = I_n ⊗ 11ᵀ up to a permutation)",
        "d = n − 1 (n ≥ 2)",
        "probes: affine argmax on the training views",
    ),
    statement="O1 optimum with d = n − 1: the n codes are projections of an orthonormal set onto an (n−1)-dim subspace "
    "with normal u; they are affinely independent iff uᵀ1 ≠ 0. Because the optimum is not unique, some "
    "optimal solutions are idealized and some are not, at equal loss.",
    latex=r"c_gc_h^T = (I - uu^T)_{gh};\quad \operatorname{rank}[C\mid\mathbf 1] = n \iff u^T\mathbf 1 \ne 0",
    strategy=instances(
        n=(2, 4),
        m=(1, 3),
        balanced=True,
        kernels=ALL_KERNELS,
        graph="clique",
        d=lambda n, N, s: st.just(n - 1),
        method=METHOD,
    ),
    method="The package's optimum and 3 alternatives (Solution.alternative): group-code Gram = I − uuᵀ for a unit u "
    "(numpy eigh), affine independence (SVD) ⇔ |uᵀ1| > 0 (instances with |uᵀ1| in (1e-10, 1e-6) skipped). "
    "Explicit optima Z = E·B with B an orthonormal basis of u^⊥, for u ⊥ 1 and for a generic u: both attain the "
    "closed-form minimum m² (literal loss in host float64), as does the package's optimum; the first is not idealized "
    "(LP finds an unsolvable task), the second is.",
    tolerance="Gram: √(100·N·ε·m); loss: 100·N·ε·m²·n.",
    examples=30,
)
def check_O1_dn1(params, ctx, chk):
    import kssl_theory.idealized as ki

    inst = build(params, ctx)
    n, m = inst.n, inst.sizes[0]
    sol = solve(inst, "contrastive")
    # Closed form (docs/theory.md §3, O1, λ = 0, K ≻ 0): T = A has eigenvalue m n times and 0 otherwise,
    # so the minimum is ‖A‖_F² − (n − 1)m² = n·m² − (n − 1)·m² = m².
    chk.close("package minimum = m²", ctx.scalar(sol.loss), m * m, round_off(inst, m * m * n))
    tol = _sqrt_tol(inst, m)
    for k, s in enumerate([None, 0, 1, 2]):
        alt = sol if s is None else sol.alternative(seed=s)
        codes, spread = _class_codes(ctx.get(alt.embedding), inst.labels, n)
        u, fit = _u_of(codes)
        chk.close(f"optimum {k}: invariant", spread, 0.0, tol)
        chk.close(f"optimum {k}: code Gram = I − uuᵀ", fit, 0.0, tol)
        chk.close(f"optimum {k}: ‖u‖ = 1", np.linalg.norm(u), 1.0, tol)
        s1 = abs(u.sum())
        if 1e-10 < s1 < 1e-6:
            continue
        chk.equal(
            f"optimum {k}: affinely independent ⇔ uᵀ1 ≠ 0",
            affine_rank(codes, rtol=1e-7) == n,
            s1 >= 1e-6,
            f"|uᵀ1| = {s1:.3g}",
        )
    E = inst.indicators()
    rng = inst.rng
    v = rng.standard_normal(n)
    u_bad = v - v.mean()
    assume(np.linalg.norm(u_bad) > 1e-3)
    u_bad /= np.linalg.norm(u_bad)
    u_good = rng.standard_normal(n)
    u_good /= np.linalg.norm(u_good)
    assume(abs(u_good.sum()) > 0.1)
    scale = round_off(inst, m * m * n)
    for name, u, expect in (("u ⊥ 1", u_bad, False), ("generic u", u_good, True)):
        B = _basis_orthogonal_to(u)
        Z = E @ B
        chk.close(
            f"{name}: Z = E·B attains the minimum (literal loss, host float64)",
            host_loss("contrastive", Z, inst.Ah),
            m * m,
            scale,
        )
        chk.equal(f"{name}: idealized (LP, all tasks) = {expect}", all_tasks_solvable(Z, inst.labels)[0], expect)
        chk.equal(
            f"{name}: kssl_theory.idealized.is_idealized = {expect}",
            bool(ki.is_idealized(ctx.put(Z), inst.labels).idealized),
            expect,
        )


@register(
    id="BR-O2-invariance",
    title="O2 optimum, clique, d > n: invariant iff β ≥ 2/m",
    source=f"{BR_SOURCE} §6",
    preconditions=(
        "K ≻ 0 (positive definite)",
        "λ = 0",
        "clique graph: self-loops, unit weights, n groups of equal size m (A = I_n ⊗ 11ᵀ up to a permutation)",
        "d > n",
        "β ≥ 0",
    ),
    statement="O2 optimum, clique graph, d > n: invariant iff β ≥ 2/m (else it spends dimensions on within-group "
    "directions and breaks invariance).",
    latex=r"d > n:\ z^*_i = z^*_j\ \forall g_i = g_j \iff \beta \ge 2/m",
    strategy=instances(
        n=(1, 4),
        m=(2, 4),
        balanced=True,
        kernels=ALL_KERNELS,
        graph="clique",
        d="gt_n",
        beta=_beta_around_threshold,
        method=METHOD,
    ),
    method="The package's O2 optimum (λ = 0) on a balanced clique graph; invariance measured as the largest distance "
    "between views of one group. β ≥ 2/m: distance ≈ 0; β < 2/m: distance clearly > 0 (β just below 2/m "
    "is skipped when the within-group eigenvalue 1 − βm/2 is too small to resolve: ≤ 100·N·tol²). "
    "kssl_theory.idealized.is_idealized(...).invariant agrees away from the threshold.",
    tolerance="invariant: tol = √(100·N·ε); not invariant: distance > 10·tol.",
    examples=40,
)
def check_O2_invariance(params, ctx, chk):
    import kssl_theory.idealized as ki

    inst = build(params, ctx)
    m, beta, N = inst.sizes[0], params["beta"], inst.N
    e = 1 - beta * m / 2
    tol = _sqrt_tol(inst)
    # Below β = 2/m the within-group directions carry √e·v with max_i,j |v_i − v_j| ≥ 1/√N: resolvable
    # from round-off only when √(e/N) > 10·tol.
    resolvable = 100 * N * tol**2
    assume(not (0 < e <= resolvable))
    h = host(solve(inst, "vicreg", beta=beta), ctx)
    _, spread = _class_codes(h.Z, inst.labels, inst.n)
    expect = beta >= 2 / m or e <= 0
    if expect:
        chk.close("β ≥ 2/m: invariant", spread, 0.0, tol)
    else:
        chk.gt("β < 2/m: not invariant", spread, 10 * tol)
    if abs(e) > resolvable:
        report = ki.is_idealized(ctx.put(h.Z), inst.labels)
        chk.equal("kssl_theory.idealized: invariant", bool(report.invariant), expect)


@register(
    id="BR-O3-idealized",
    title="O3 optimum, d ≤ n: invariant; idealized iff the codes are affinely independent",
    source=f"{BR_SOURCE} §6",
    preconditions=(
        "K ≻ 0 (positive definite)",
        "union-of-cliques graph, weights ≥ 0, every degree positive (self-loops or groups of ≥ 2 views)",
        "plain or normalised O3",
        "d ≤ n",
    ),
    statement="O3 optimum, d ≤ n: invariant; idealized iff the codes are affinely independent.",
    latex=r"d \le n:\ z^*_i = c_{g_i};\quad \text{idealized} \iff \operatorname{rank}[C\mid\mathbf 1] = n",
    strategy=instances(
        n=(1, 4),
        m=(1, 3),
        kernels=ALL_KERNELS,
        graph={"self_loops": st.booleans(), "weighted": st.booleans()},
        d="le_n",
        normalized_le=st.booleans(),
        positive_degree=True,
    ),
    method="Union-of-cliques graphs (weighted or not, balanced or not), plain or normalised O3: the package's optimum "
    "and 3 alternatives are invariant (within-group spread ≈ 0), and 'every task solvable' (LP over all set "
    "partitions) ⇔ affine rank n (SVD) ⇔ kssl_theory.idealized.is_idealized; d ≤ n − 2 is never idealized, "
    "d = n always.",
    tolerance="invariance: 100·N·ε·(1 + ‖L‖/gap) with gap the smallest non-zero eigenvalue of L; LP exact.",
    examples=30,
)
def check_O3_idealized(params, ctx, chk):
    import kssl_theory.idealized as ki

    inst = build(params, ctx)
    n, d = inst.n, inst.d
    L = laplacian(inst.Ah)
    w = np.linalg.eigvalsh(L)
    nL = max(spectral_norm(L), 1.0)
    nonzero = w[w > 1e-8 * nL]
    gap = nonzero[0] if nonzero.size else nL
    dmax = inst.Ah.sum(axis=1).max() / inst.Ah.sum(axis=1).min()
    tol = round_off(inst, nL) * (1 + nL / gap) * dmax * 10
    sol = solve(inst, "laplacian_eigenmaps", normalized=bool(params["normalized_le"]))
    for k, s in enumerate([None, 0, 1, 2]):
        alt = sol if s is None else sol.alternative(seed=s)
        Z = ctx.get(alt.embedding)
        codes, spread = _class_codes(Z, inst.labels, n)
        chk.close(f"optimum {k}: invariant", spread, 0.0, tol)
        independent = affine_rank(codes, rtol=1e-7) == n
        solvable = all_tasks_solvable(Z, inst.labels)[0]
        chk.equal(f"optimum {k}: every task solvable ⇔ affinely independent", solvable, independent)
        report = ki.is_idealized(ctx.put(Z), inst.labels, rtol=max(tol, 1e-7))
        chk.equal(
            f"optimum {k}: kssl_theory.idealized.is_idealized ⇔ affinely independent",
            bool(report.idealized),
            independent,
            "; ".join(report.failing),
        )
        if d <= n - 2:
            chk.equal(f"optimum {k}: d ≤ n − 2 is never idealized", independent, False)
        if d == n:
            chk.equal(f"optimum {k}: d = n is always idealized", independent, True)
