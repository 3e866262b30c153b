r"""Independent verification of the closed-form solvers (docs/theory.md §2–§4).

Nothing here trusts :mod:`kssl_theory.kernel_regime.engine`: every closed form is recomputed in plain
NumPy/SciPy from docs/theory.md's formulas, through a *different* route where one exists, and
checked against an independent optimiser. The oracles are those of the verification runner,
:mod:`proofs_check.oracles`; the instances come from :mod:`proofs_check.instances` (through the
``strategies`` adapter).

Independent routes
------------------
- ``range(K)``, :math:`P` and :math:`K^+` come from a thin QR of the instance's construction
  factor :math:`F` (:math:`K = FF^T`: Cholesky, features, or :math:`Q\Lambda^{1/2}`), not from an
  eigendecomposition of :math:`K`: :math:`F = QR`, :math:`P = QQ^T`, :math:`K^+ = (R^{-1}Q^T)^T(R^{-1}Q^T)`.
- O4's spectrum is that of :math:`F^T M F` (similar to :math:`K^{1/2}MK^{1/2}` on range(K)),
  with no matrix square root.
- O3 normalised uses SciPy's generalised ``eigh(L, D)``.
- Optimality: L-BFGS (SciPy) on the loss written here from its definition, with a
  finite-difference-checked gradient, from >= 5 random starts, plus random perturbations and
  random feasible points for the constrained objectives.

Tolerances
----------
``eps`` is float64 machine epsilon, ``N`` the number of views, ``kappa`` the condition number of
the non-zero part of ``K`` (from the construction), ``SAFETY = 10`` the slack on the unknown
O(1) constants of the backward-error bounds below.

- Eigenvalues of a symmetric matrix ``T`` built in floating point: ``N eps ||T||`` (backward
  stability + Weyl). A target containing ``reg K^+`` carries the forward error of the inverse,
  ``reg ||K^+|| kappa N eps``.
- Soft minima ``const - sum_{i<=d} max(lam_i, 0)^2`` and losses ``||ZZ^T - A||^2 + ...``: sums of
  terms of size ``||A||_F^2 + ||T||_F^2 + d``, each with relative error ``N eps``, plus
  ``reg ||K^+|| kappa d ||T||`` for the penalty.
- O3: ``d N eps ||L||`` times cond(D) (normalised) and kappa (singular K: range(K) is
  computed to ``eps kappa``). O4: ``d N eps ||K|| ||M|| sqrt(kappa)`` (the square root of K
  has forward error ``eps ||K|| / sqrt(lambda_min)``).
- Quantities applying ``K^{-1}`` to data (coefficients, out-of-sample values): ``N eps kappa``
  relative (forward error of a backward-stable solve).
- Subspaces / Gram matrices of a cluster separated by ``gap``: Davis–Kahan,
  ``delta_T (1 + 2 sqrt(2) ||T|| / gap)``.

Drawn kernels have ``kappa <= 1e6`` (``strategies.instances``), so every bound is far below the
O(1) discrepancies a wrong formula produces. ``RATIOS`` records, per property, the worst
residual / tolerance ratio seen in the session (for reports).
"""

from __future__ import annotations

import numpy as np
import pytest
import scipy.linalg
import scipy.optimize
from conftest import to_np
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from strategies import EPS, POINT_KERNELS, Instance, clique_adjacency, instances

import kssl_theory as kt
from kssl_theory.errors import InputError
from proofs_check.oracles import (
    centring,
    feasible,
    feasible_tol,
    gram_bound,
    hard_oracle,
    hard_problem,
    host_loss,
    kplus,
    laplacian,
    lbfgs,
    lbfgs_min,
    min_positive_eig,
    oracle,
    projector,
    quotient_and_grad,
    soft_loss_and_grad,
    soft_oracle,
    soft_target,
    sym,
)

SAFETY = 10.0
SOFT = ("contrastive", "vicreg")
HARD = ("laplacian_eigenmaps", "whitened")
NUMPY_METHODS = tuple(m for m in kt.kernel_regime.engine.METHODS if m != "structured")
FIXTURE_OK = [HealthCheck.function_scoped_fixture, HealthCheck.too_slow, HealthCheck.filter_too_much]

#: worst residual / tolerance seen per property in this session
RATIOS: dict[str, float] = {}


def check(name: str, residual: float, tol: float, context: str = "") -> None:
    """Assert ``residual <= tol`` and record the ratio under ``name``."""
    residual, tol = float(residual), float(tol)
    RATIOS[name] = max(RATIOS.get(name, 0.0), residual / tol if tol > 0 else (0.0 if residual == 0 else np.inf))
    assert residual <= tol, f"{name}: residual {residual:.3e} > tolerance {tol:.3e}. {context}"


def n2(M) -> float:
    M = np.asarray(M)
    return float(np.linalg.norm(M, 2)) if M.size else 0.0


def fro(M) -> float:
    return float(np.linalg.norm(np.asarray(M)))


# --- drawing options ---------------------------------------------------------------------------------


@st.composite
def soft_options(draw, obj: str, inst: Instance, *, allow_reg: bool = True, allow_centred: bool = True):
    """reg in units of the weakest kernel direction (penalty rho/2 there) or of the strongest."""
    opts = {}
    mode = draw(st.sampled_from(["zero", "weak", "strong"])) if allow_reg else "zero"
    if obj == "vicreg":
        opts["beta"] = draw(st.sampled_from([0.0, 0.1, 0.5, 1.0, 3.0]))
        if allow_centred and inst.is_pd and draw(st.booleans()):
            opts["centred"] = True
            opts["c"] = draw(st.sampled_from([0.5, 1.0, 2.0]))
            mode = "zero"
    if mode == "strong" and inst.cond > 1e3:
        mode = "weak"  # strong penalties amplify K^+'s error by cond(K)^2: keep them to well-conditioned K
    if mode != "zero":
        rho = 10 ** draw(st.floats(-2.0, 2.0))
        unit = min_positive_eig(inst) if mode == "weak" else n2(inst.K) / inst.N
        opts["reg"] = rho * unit
    return opts


@st.composite
def hard_options(draw, obj: str, inst: Instance, *, laplacian_twin: bool = False):
    """O3: ``normalized`` when every degree is positive. O4: the Laplacian twin only when asked
    (it has its own tests, :func:`test_whitened_laplacian_twin`, which currently fail: keeping it
    out of the generic properties lets them check everything else)."""
    if obj == "laplacian_eigenmaps":
        normalized = draw(st.booleans()) and bool(np.all(inst.A.sum(1) > 0))
        return {"normalized": normalized}
    return {"laplacian": draw(st.booleans()) if laplacian_twin else False}


def solve(obj, inst: Instance, opts: dict, method: str = "auto", xp=None):
    K, A = (inst.K, inst.A) if xp is None else (xp.asarray(inst.K), xp.asarray(inst.A))
    return kt.solve(obj, K, A, dim=inst.d, method=method, **opts)


def gram_of(sol) -> np.ndarray:
    Z = to_np(sol.embedding)
    return Z @ Z.T


# ====================================================================================================
# Minimum value (THEORY §3): sol.loss = closed form = loss of the returned candidate
# ====================================================================================================

ALL_GRAPHS = ("cliques", "weighted", "random")


@pytest.mark.parametrize("obj", SOFT)
@settings(max_examples=30, suppress_health_check=FIXTURE_OK)
@given(data=st.data())
def test_soft_minimum_value(obj, data):
    inst = data.draw(instances(singular=None, graphs=ALL_GRAPHS, self_loops=None), label="instance")
    opts = data.draw(soft_options(obj, inst), label="options")
    method = data.draw(st.sampled_from(NUMPY_METHODS), label="method")
    orc = soft_oracle(obj, inst, opts)
    sol = solve(obj, inst, opts, method)
    ctx = f"{inst!r} opts={opts} method={sol.method}"
    assert sol.rank == inst.rank, ctx
    check("min-value: sol.loss vs closed form", abs(float(sol.loss) - orc.value), orc.tol, ctx)
    Z, C = to_np(sol.embedding), to_np(sol.coef)
    assert Z.shape == (inst.N, inst.d) and C.shape == (inst.N, inst.d)
    cand = float(kt.loss(obj, Z, inst.A, K=inst.K, coef=C, **opts))
    check("min-value: kt.loss(Z*, C*) vs closed form", abs(cand - orc.value), orc.tol, ctx)
    own = soft_loss_and_grad(obj, inst, opts)(C.ravel())[0]
    check("min-value: own loss(C*) vs closed form", abs(own - orc.value), orc.tol, ctx)
    # the optimal Gram matrix, where it is unique (Davis-Kahan around the cut)
    bound = gram_bound(orc, inst)
    if bound is not None:
        check("G* = [T]_{+,d}", fro(gram_of(sol) - orc.gram), bound, ctx)
    # eigenvalues reported: the leading ones equal the target's
    w = to_np(sol.eigenvalues)
    k = min(w.size, inst.d + 1)
    check("sol.eigenvalues vs spectrum of T", np.max(np.abs(w[:k] - orc.spectrum[:k])), orc.eig_tol, ctx)


@pytest.mark.parametrize("obj", SOFT)
@settings(max_examples=30, suppress_health_check=FIXTURE_OK)
@given(data=st.data())
def test_soft_embedding_is_reachable(obj, data):
    """THEORY §2-§3: Z* = K C* (the representation is realised by coefficients) and the columns of
    Z* beyond the positive eigenvalues of T are zero (Solution docstring). Forward error of applying
    K^+: N eps cond(K) relative to the scale of Z*, at least sqrt(||T||) (the size of a unit-eigenvalue
    column)."""
    inst = data.draw(instances(singular=None, graphs=ALL_GRAPHS, self_loops=None), label="instance")
    opts = data.draw(soft_options(obj, inst), label="options")
    orc = soft_oracle(obj, inst, opts)
    sol = solve(obj, inst, opts)
    Z, C = to_np(sol.embedding), to_np(sol.coef)
    ctx = f"{inst!r} opts={opts} method={sol.method}"
    scale = max(fro(Z), np.sqrt(n2(orc.T)))
    check("Z* = K C*", fro(inst.K @ C - Z), SAFETY * inst.N * EPS * inst.cond * scale, ctx)
    # columns for eigenvalues <= 0 (beyond #pos, up to round-off of the eigenvalues) are zero
    zero_cols = [j for j in range(inst.d) if orc.spectrum[j] <= orc.eig_tol]
    if zero_cols:
        # a correct column is sqrt(max(lam, 0)) u with |lam| <= eig_tol: only lam's round-off survives
        check("columns of Z* beyond #pos are zero", np.abs(Z[:, zero_cols]).max(), SAFETY * inst.N * EPS * scale, ctx)


@pytest.mark.parametrize("obj", HARD)
@settings(max_examples=30, suppress_health_check=FIXTURE_OK)
@given(data=st.data())
def test_hard_minimum_value(obj, data):
    inst = data.draw(instances(singular=None, graphs=ALL_GRAPHS, self_loops=None, dim="rank"), label="instance")
    opts = data.draw(hard_options(obj, inst), label="options")
    method = data.draw(st.sampled_from(NUMPY_METHODS), label="method")
    orc = hard_oracle(obj, inst, opts)
    sol = solve(obj, inst, opts, method)
    ctx = f"{inst!r} opts={opts} method={sol.method}"
    assert sol.rank == inst.rank, ctx
    check(f"min-value {obj}: sol.loss vs closed form", abs(float(sol.loss) - orc.value), orc.tol, ctx)
    Z, C = to_np(sol.embedding), to_np(sol.coef)
    cand = float(kt.loss(obj, Z, inst.A, K=inst.K, coef=C, **opts))
    check(f"min-value {obj}: kt.loss(Z*) vs closed form", abs(cand - orc.value), orc.tol, ctx)
    N, d = inst.N, inst.d
    check("Z* = K C*", fro(inst.K @ C - Z), SAFETY * N * EPS * inst.cond * max(fro(Z), 1e-300), ctx)
    # constraints
    if obj == "laplacian_eigenmaps":
        Bm = np.diag(inst.A.sum(1)) if opts["normalized"] else np.eye(N)
        kD = (inst.A.sum(1).max() / inst.A.sum(1).min()) if opts["normalized"] else 1.0
        check("O3 constraint Z^T B Z = I", n2(Z.T @ Bm @ Z - np.eye(d)), SAFETY * N * EPS * kD, ctx)
        own = float(np.sum(Z * (laplacian(inst.A) @ Z)))
        # Z* lies in range(K): Z = K C is reachable
        check("O3 Z* in range(K)", fro(Z - projector(inst) @ Z), SAFETY * N * EPS * inst.cond * max(fro(Z), 1), ctx)
    else:
        check("O4 constraint C^T K C = I", n2(C.T @ inst.K @ C - np.eye(d)), SAFETY * N * EPS * inst.cond, ctx)
        M = laplacian(inst.A) if opts["laplacian"] else inst.A
        own = float(np.sum(C * (inst.K @ M @ inst.K @ C))) * (1 if opts["laplacian"] else -1)
    check(f"min-value {obj}: own objective at C*", abs(own - orc.value), orc.tol, ctx)


@settings(max_examples=10, suppress_health_check=FIXTURE_OK)
@given(data=st.data())
def test_whitened_laplacian_twin(data):
    """THEORY §3 O4 "Laplacian twin": min tr(C^T K L K C) s.t. C^T K C = I is attained by the
    BOTTOM-d eigenvectors of K^{1/2} L K^{1/2}; minimum = sum of the d smallest eigenvalues
    (here of F^T L F, similar on range(K)). Checked against the closed form, the loss of the
    returned C*, and L-BFGS on the constraint manifold."""
    inst = data.draw(
        instances(singular=None, graphs=ALL_GRAPHS, self_loops=None, dim="rank", max_views=16), label="instance"
    )
    opts = {"laplacian": True}
    orc = hard_oracle("whitened", inst, opts)
    sol = solve("whitened", inst, opts)
    ctx = f"{inst!r} sol.loss={float(sol.loss):.6g} closed form={orc.value:.6g}"
    C = to_np(sol.coef)
    check(
        "O4 twin constraint C^T K C = I", n2(C.T @ inst.K @ C - np.eye(inst.d)), SAFETY * inst.N * EPS * inst.cond, ctx
    )
    check("O4 twin: sol.loss = sum of bottom-d", abs(float(sol.loss) - orc.value), orc.tol, ctx)
    own = float(np.sum(C * (inst.K @ laplacian(inst.A) @ inst.K @ C)))
    check("O4 twin: tr(C*^T K L K C*) = sum of bottom-d", abs(own - orc.value), orc.tol, ctx)
    M, Bm, sign, Q = hard_problem("whitened", inst, opts)
    r, d = Q.shape[1], inst.d
    f = quotient_and_grad(M, Bm, sign, d)
    rng = np.random.default_rng(inst.seed)
    ends = []
    for _ in range(5):
        res = lbfgs(f, rng.standard_normal(r * d), maxiter=800, maxcor=20, ftol=1e-15, gtol=1e-12)
        Cf = Q @ feasible(res.x.reshape(r, d), Bm)
        ends.append(host_loss("whitened", inst.K @ Cf, inst.A, laplacian=True))
    best = min(ends)
    check(
        "O4 twin: L-BFGS >= closed form",
        max(float(sol.loss) - best, 0.0),
        feasible_tol(orc, M, Bm, d, inst.N),
        ctx + f" L-BFGS={best:.6g}",
    )


@settings(max_examples=15, suppress_health_check=FIXTURE_OK)
@given(data=st.data())
def test_singular_kernel_pinv_path(data):
    """Rank-deficient K (linear kernel with p < N features, or a spectrum with zeros) for all objectives."""
    inst = data.draw(instances(singular=True, graphs=ALL_GRAPHS, self_loops=None, dim="rank"), label="instance")
    assert not inst.is_pd
    P = projector(inst)
    for obj in SOFT + HARD:
        opts = (
            data.draw(soft_options(obj, inst), label=f"{obj} options")
            if obj in SOFT
            else data.draw(hard_options(obj, inst), label=f"{obj} options")
        )
        orc = oracle(obj, inst, opts)
        sol = solve(obj, inst, opts)
        ctx = f"{inst!r} {obj} opts={opts}"
        assert sol.rank == inst.rank, ctx
        check(f"singular K {obj}: loss vs closed form", abs(float(sol.loss) - orc.value), orc.tol, ctx)
        Z, C = to_np(sol.embedding), to_np(sol.coef)
        cand = float(kt.loss(obj, Z, inst.A, K=inst.K, coef=C, **opts))
        check(f"singular K {obj}: kt.loss(Z*) vs closed form", abs(cand - orc.value), orc.tol, ctx)
        # the minimum-norm C* lies in range(K); for O3/O4 range(Z*) too (for O1/O2 that is
        # Z* = K C*, checked by test_soft_embedding_is_reachable)
        tol_r = SAFETY * inst.N * EPS * inst.cond
        check("singular K: C* in range(K)", fro(C - P @ C), tol_r * max(fro(C), 1e-300), ctx)
        if obj in HARD:
            check("singular K: Z* in range(K)", fro(Z - P @ Z), tol_r * max(fro(Z), 1e-300), ctx)


@settings(max_examples=40, suppress_health_check=FIXTURE_OK)
@given(inst=instances(singular=True, kinds=("linear", "spectrum"), max_views=8))
def test_numerical_rank_of_singular_kernels(inst):
    """The solver's numerical rank of an exactly rank-deficient K (zero eigenvalues at round-off,
    non-zero ones >= ||K|| / 1e6) is the construction rank, and then Z* = K C* for O3."""
    sol = solve("laplacian_eigenmaps", inst.with_d(1), {})
    Z, C = to_np(sol.embedding), to_np(sol.coef)
    ctx = f"{inst!r} solver rank={sol.rank} ||C*||={fro(C):.3e}"
    assert sol.rank == inst.rank, ctx
    check("O3 Z* = K C* (singular)", fro(inst.K @ C - Z), SAFETY * inst.N * EPS * inst.cond, ctx)


def test_rank_one_kernel_regression():
    """Minimal reproducer: K = x x^T with two points (rank 1) is accepted as positive definite by the
    Cholesky path (diag-ratio estimate (L11/L22)^2 ~ 1.7e15 < 1/(N eps)); C* ~ 4e16 and Z* != K C*."""
    x = np.array([[0.264], [-0.314]])
    K = x @ x.T
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", kt.IllConditionedWarning)
        sol = kt.solve("laplacian_eigenmaps", K, clique_adjacency([0, 1]), dim=1)
    assert sol.rank == 1
    assert fro(K @ to_np(sol.coef) - to_np(sol.embedding)) <= SAFETY * 2 * EPS


def test_singular_kernel_input_errors():
    rng = np.random.default_rng(0)
    X = rng.standard_normal((8, 2))
    K = X @ X.T
    A = clique_adjacency(np.repeat(np.arange(4), 2))
    for obj in HARD:
        with pytest.raises(InputError, match="feasible subspace"):
            kt.solve(obj, K, A, dim=3)
    with pytest.raises(InputError, match="positive degree"):
        kt.solve(
            "laplacian_eigenmaps", np.eye(3), clique_adjacency([0, 1, 1], self_loops=False), dim=1, normalized=True
        )


# ====================================================================================================
# Optimality oracle: L-BFGS from random starts, random perturbations, random feasible points
# ====================================================================================================


def _lbfgs(f, x0, maxiter=800):
    return lbfgs_min(f, x0, reevaluate=True, maxiter=maxiter, maxcor=20, ftol=1e-15, gtol=1e-12)


def _check_directional_derivatives(name, f, x, rng, h, rtol, context, value_scale=None):
    """Central differences of ``f`` (returning value and gradient) along 3 random unit directions.

    Error budget: truncation O(h^2 f''') + rounding eps * scale / h, so the tolerance is ``rtol`` times
    the directional derivative plus the value's scale over ``|x|``. When ``value_scale`` bounds the
    rounding of ``f`` relative to eps (``|f|`` understates it when ``f``'s terms cancel), the rounding
    term is that bound's, 100 eps * value_scale / h, instead.
    """
    val, g = f(x)
    for _ in range(3):
        v = rng.standard_normal(x.size)
        v /= np.linalg.norm(v)
        fd = (f(x + h * v)[0] - f(x - h * v)[0]) / (2 * h)
        if value_scale is None:
            tol = rtol * (abs(g @ v) + abs(val) / np.linalg.norm(x) + 1e-12)
        else:
            tol = rtol * abs(g @ v) + 100 * np.finfo(np.float64).eps * value_scale / h
        check(name, abs(fd - g @ v), tol, context)


@pytest.mark.parametrize("obj", SOFT)
@settings(max_examples=10, suppress_health_check=FIXTURE_OK)
@given(data=st.data())
def test_gradient_matches_finite_differences(obj, data):
    """The test's own loss gradient (used by L-BFGS) is right: central differences along random directions."""
    inst = data.draw(instances(singular=None, graphs=ALL_GRAPHS, self_loops=None, max_views=12), label="instance")
    opts = data.draw(soft_options(obj, inst), label="options")
    f = soft_loss_and_grad(obj, inst, opts)
    rng = np.random.default_rng(inst.seed)
    x = rng.standard_normal(inst.N * inst.d) / max(n2(inst.K), 1e-12)
    _check_directional_derivatives(
        f"gradient FD {obj}", f, x, rng, 1e-5 * max(np.linalg.norm(x), 1e-8), 1e-5, f"{inst!r} opts={opts}"
    )


@pytest.mark.parametrize("obj", HARD)
@settings(max_examples=10, suppress_health_check=FIXTURE_OK)
@given(data=st.data())
def test_quotient_gradient_matches_finite_differences(obj, data):
    inst = data.draw(instances(singular=None, graphs=ALL_GRAPHS, self_loops=None, max_views=12, dim="rank"))
    opts = data.draw(hard_options(obj, inst))
    M, Bm, sign, Q = hard_problem(obj, inst, opts)
    f = quotient_and_grad(M, Bm, sign, inst.d)
    rng = np.random.default_rng(inst.seed)
    x = rng.standard_normal(Q.shape[1] * inst.d)
    # f = sum(W * S) with W = (Y^T B Y)^{-1}: W carries a relative error ~ cond(Y^T B Y) eps, so the rounding of
    # f is of order (cond + d) ||W||_F ||S||_F eps, which |f| understates when the terms cancel (a clique
    # without self-loops: tr A = 0, f ~ 1e-13 while its terms are ~1e3; seen with an unseeded profile).
    Y = x.reshape(Q.shape[1], inst.d)
    G, S = Y.T @ Bm @ Y, Y.T @ M @ Y
    terms = (np.linalg.cond(G) + inst.d) * np.linalg.norm(np.linalg.inv(G)) * np.linalg.norm(S)
    _check_directional_derivatives(
        f"gradient FD quotient {obj}",
        f,
        x,
        rng,
        1e-6 * np.linalg.norm(x),
        1e-4 * np.sqrt(inst.cond),
        f"{inst!r} opts={opts}",
        value_scale=terms,
    )


@pytest.mark.parametrize("obj", SOFT)
@settings(max_examples=10, suppress_health_check=FIXTURE_OK)
@given(data=st.data())
def test_lbfgs_never_beats_closed_form_soft(obj, data):
    inst = data.draw(instances(singular=None, graphs=ALL_GRAPHS, self_loops=None, max_views=16), label="instance")
    opts = data.draw(soft_options(obj, inst), label="options")
    sol = solve(obj, inst, opts)
    orc = soft_oracle(obj, inst, opts)
    f = soft_loss_and_grad(obj, inst, opts)
    N, d = inst.N, inst.d
    rng = np.random.default_rng(inst.seed)
    s = np.sqrt(max(orc.spectrum[0], 1.0) / N)
    starts = [np.linalg.lstsq(inst.K, s * rng.standard_normal((N, d)), rcond=None)[0] for _ in range(3)]
    starts.append(rng.standard_normal((N, d)) * s / max(n2(inst.K), 1e-300))
    C_star = to_np(sol.coef)
    starts.append(C_star + 0.3 * max(fro(C_star), s) * rng.standard_normal((N, d)) / np.sqrt(N * d))
    best = min(_lbfgs(f, x0.ravel()) for x0 in starts)
    ctx = f"{inst!r} opts={opts} sol.loss={float(sol.loss):.6g} best L-BFGS={best:.6g}"
    check(f"L-BFGS >= closed form {obj}", max(float(sol.loss) - best, 0.0), orc.tol, ctx)
    RATIOS[f"L-BFGS rel. excess over optimum {obj}"] = max(
        RATIOS.get(f"L-BFGS rel. excess over optimum {obj}", 0.0),
        (best - float(sol.loss)) / max(abs(float(sol.loss)), fro(inst.A) ** 2, 1.0),
    )


@pytest.mark.parametrize("obj", SOFT)
@settings(max_examples=20, suppress_health_check=FIXTURE_OK)
@given(data=st.data())
def test_random_perturbations_never_decrease_soft(obj, data):
    inst = data.draw(instances(singular=None, graphs=ALL_GRAPHS, self_loops=None), label="instance")
    opts = data.draw(soft_options(obj, inst), label="options")
    sol = solve(obj, inst, opts)
    orc = soft_oracle(obj, inst, opts)
    f = soft_loss_and_grad(obj, inst, opts)
    C = to_np(sol.coef)
    rng = np.random.default_rng(inst.seed)
    scale = max(fro(C), 1e-12)
    worst = np.inf
    for eps_rel in (1e-6, 1e-3, 1e-1, 1.0):
        for _ in range(5):
            D = rng.standard_normal(C.shape)
            worst = min(worst, f((C + eps_rel * scale * D / fro(D)).ravel())[0])
    check(f"perturbation >= closed form {obj}", max(float(sol.loss) - worst, 0.0), orc.tol, f"{inst!r} opts={opts}")


@pytest.mark.parametrize("obj", HARD)
@settings(max_examples=10, suppress_health_check=FIXTURE_OK)
@given(data=st.data())
def test_lbfgs_and_feasible_points_never_beat_closed_form_hard(obj, data):
    """O3/O4 on the constraint manifold: trace quotient over free coordinates (L-BFGS, 5 starts),
    random feasible points, and feasible perturbations of the optimum."""
    inst = data.draw(
        instances(singular=None, graphs=ALL_GRAPHS, self_loops=None, dim="rank", max_views=16), label="instance"
    )
    opts = data.draw(hard_options(obj, inst), label="options")
    sol = solve(obj, inst, opts)
    orc = hard_oracle(obj, inst, opts)
    M, Bm, sign, Q = hard_problem(obj, inst, opts)
    r, d = Q.shape[1], inst.d
    f = quotient_and_grad(M, Bm, sign, d)
    rng = np.random.default_rng(inst.seed)
    ctx = f"{inst!r} opts={opts} sol.loss={float(sol.loss):.6g}"
    tol = feasible_tol(orc, M, Bm, d, inst.N)

    def value(Y):
        """The loss at the feasible point spanned by Y, from its definition (oracles.host_loss, not kt.loss)."""
        Yf = feasible(Y, Bm)
        if obj == "laplacian_eigenmaps":
            return host_loss(obj, Q @ Yf, inst.A, **opts)
        return host_loss(obj, inst.K @ (Q @ Yf), inst.A, **opts)

    # L-BFGS on the quotient; the optimiser's final point is re-evaluated where it is feasible
    ends = []
    for _ in range(5):
        res = lbfgs(f, rng.standard_normal(r * d), maxiter=800, maxcor=20, ftol=1e-15, gtol=1e-12)
        ends.append(value(res.x.reshape(r, d)))
    best = min(ends)
    check(f"L-BFGS >= closed form {obj}", max(float(sol.loss) - best, 0.0), tol, ctx + f" best={best:.6g}")
    RATIOS[f"L-BFGS rel. excess over optimum {obj}"] = max(
        RATIOS.get(f"L-BFGS rel. excess over optimum {obj}", 0.0),
        (best - float(sol.loss)) / max(abs(float(sol.loss)), 1.0),
    )
    # random feasible points
    lowest = min(value(rng.standard_normal((r, d))) for _ in range(20))
    check(f"random feasible >= closed form {obj}", max(float(sol.loss) - lowest, 0.0), tol, ctx)
    # feasible perturbations of the optimum
    Y_star = Q.T @ (to_np(sol.embedding) if obj == "laplacian_eigenmaps" else to_np(sol.coef))
    check(f"value at optimum {obj}", abs(value(Y_star) - orc.value), tol, ctx)
    pert = np.inf
    for eps_rel in (1e-6, 1e-3, 1e-1):
        for _ in range(5):
            D = rng.standard_normal(Y_star.shape)
            pert = min(pert, value(Y_star + eps_rel * fro(Y_star) * D / fro(D)))
    check(f"feasible perturbation >= closed form {obj}", max(float(sol.loss) - pert, 0.0), tol, ctx)


@pytest.mark.slow
@pytest.mark.parametrize("obj", SOFT + HARD)
@settings(max_examples=40, suppress_health_check=FIXTURE_OK)
@given(data=st.data())
def test_lbfgs_singular_and_larger(obj, data):
    """Heavier variant: singular kernels and up to 30 views, 8 starts."""
    dim_mode = "rank" if obj in HARD else "any"
    inst = data.draw(instances(singular=None, graphs=ALL_GRAPHS, self_loops=None, dim=dim_mode), label="instance")
    rng = np.random.default_rng(inst.seed)
    if obj in SOFT:
        opts = data.draw(soft_options(obj, inst))
        f = soft_loss_and_grad(obj, inst, opts)
        x0s = [rng.standard_normal(inst.N * inst.d) / max(n2(inst.K), 1e-300) for _ in range(8)]
    else:
        opts = data.draw(hard_options(obj, inst))
        M, Bm, sign, Q = hard_problem(obj, inst, opts)
        f = quotient_and_grad(M, Bm, sign, inst.d)
        x0s = [rng.standard_normal(Q.shape[1] * inst.d) for _ in range(8)]
    sol = solve(obj, inst, opts)
    orc = oracle(obj, inst, opts)
    if obj in SOFT:
        best, tol = min(_lbfgs(f, x0) for x0 in x0s), orc.tol
    else:
        r, d = Q.shape[1], inst.d
        tol = feasible_tol(orc, M, Bm, d, inst.N)
        best = np.inf
        for x0 in x0s:
            x = scipy.optimize.minimize(f, x0, jac=True, method="L-BFGS-B", options={"maxiter": 1500}).x
            Yf = Q @ feasible(x.reshape(r, d), Bm)
            Zf = Yf if obj == "laplacian_eigenmaps" else inst.K @ Yf
            best = min(best, host_loss(obj, Zf, inst.A, **opts))
    check(f"L-BFGS (slow) >= closed form {obj}", max(float(sol.loss) - best, 0.0), tol, f"{inst!r} {opts}")


# ====================================================================================================
# Reachability lemma (THEORY §2)
# ====================================================================================================


@settings(max_examples=20, suppress_health_check=FIXTURE_OK)
@given(inst=instances(singular=False, graphs=ALL_GRAPHS, self_loops=None), seed=st.integers(0, 2**31))
def test_reachability_pd(inst, seed):
    """K > 0: any Y is reached by C = K^{-1}Y, so the optimal training Gram does not depend on K (reg = 0)."""
    N, d = inst.N, inst.d
    Y = np.random.default_rng(seed).standard_normal((N, d))
    C = np.linalg.solve(inst.K, Y)
    # backward-stable solve: residual <= N eps ||K|| ||C||
    check("reachability K C = Y", fro(inst.K @ C - Y), SAFETY * N * EPS * n2(inst.K) * fro(C))
    # O1 with reg = 0 on K and on I (another PD kernel): same unique G*
    orc = soft_oracle("contrastive", inst, {})
    if np.isfinite(orc.gap) and orc.gap < 1e3 * orc.eig_tol and d < orc.npos:
        return
    G_K = gram_of(solve("contrastive", inst, {}, method="dense"))
    G_I = gram_of(kt.solve("contrastive", np.eye(N), inst.A, dim=d, method="dense"))
    check("G* independent of K > 0", fro(G_K - G_I), SAFETY * N * EPS * inst.cond * max(fro(G_I), 1.0), repr(inst))


@settings(max_examples=20, suppress_health_check=FIXTURE_OK)
@given(inst=instances(singular=True), seed=st.integers(0, 2**31))
def test_reachability_singular(inst, seed):
    """K singular: exactly the Y with range inside range(K) are reachable (C = K^+ Y)."""
    N = inst.N
    rng = np.random.default_rng(seed)
    P = projector(inst)
    Kp = kplus(inst)
    Y = P @ rng.standard_normal((N, 2))
    C = Kp @ Y
    check("reachability singular K K^+ Y = Y", fro(inst.K @ C - Y), SAFETY * N * EPS * inst.cond * fro(Y))
    # a Y with a component outside range(K) cannot be reached: min_C ||KC - Y|| = ||(I - P) Y||
    Y2 = rng.standard_normal((N, 2))
    # The computed K has round-off eigenvalues ~N eps ||K|| where the exact ones are 0; lstsq's
    # default cutoff (max(N) eps) can keep them and then "reach" part of (I - P) Y through C of
    # size 1/(N eps). Cut at the geometric mean of that noise and the smallest true nonzero
    # eigenvalue ||K|| / cond (cond <= 1e6, so >= 1e3-fold margins on both sides).
    C2 = np.linalg.lstsq(inst.K, Y2, rcond=np.sqrt(SAFETY * N * EPS / inst.cond))[0]
    out = fro(Y2 - P @ Y2)
    assert out > 1e-3 * fro(Y2)
    check("unreachable residual = ||(I-P)Y||", abs(fro(inst.K @ C2 - Y2) - out), 1e-6 * fro(Y2))


# ====================================================================================================
# Rotation invariance and minimum norm (THEORY §3, "From G* to a representation")
# ====================================================================================================


@pytest.mark.parametrize("obj", SOFT + HARD)
@settings(max_examples=15, suppress_health_check=FIXTURE_OK)
@given(data=st.data())
def test_rotation_invariance(obj, data):
    inst = data.draw(
        instances(
            singular=None, graphs=ALL_GRAPHS, self_loops=None, kinds=POINT_KERNELS, dim="rank" if obj in HARD else "any"
        ),
        label="instance",
    )
    opts = data.draw(soft_options(obj, inst)) if obj in SOFT else data.draw(hard_options(obj, inst))
    sol = solve(obj, inst, opts)
    orc = oracle(obj, inst, opts)
    seed = data.draw(st.integers(0, 2**31))
    Q, _ = np.linalg.qr(np.random.default_rng(seed).standard_normal((inst.d, inst.d)))
    Z, C = to_np(sol.embedding), to_np(sol.coef)
    rot = float(kt.loss(obj, Z @ Q, inst.A, K=inst.K, coef=C @ Q, **opts))
    check(f"rotation: loss(Z*Q) {obj}", abs(rot - float(sol.loss)), orc.tol, repr(inst))
    Xt = inst.test_points(7, seed)
    Kt = inst.cross(Xt)
    k1 = to_np(sol.induced_kernel(Kt))
    k2 = (Kt @ C @ Q) @ (Kt @ C @ Q).T
    check("rotation: induced kernel", fro(k1 - k2), SAFETY * inst.N * EPS * max(fro(k1), 1e-300))


@pytest.mark.parametrize("obj", SOFT + HARD)
@settings(max_examples=15, suppress_health_check=FIXTURE_OK)
@given(data=st.data())
def test_minimum_norm(obj, data):
    r"""||W*||^2 = tr(K^+ G*) = sol.hs_norm, and every other W with the same Gram matrix has
    ||W||^2 >= it. The feature map on the training set is the construction factor F
    (K = F F^T), padded with ``extra`` features that vanish on the data; W* = C*^T F realises
    the solver's training embedding K C*."""
    inst = data.draw(
        instances(singular=None, graphs=ALL_GRAPHS, self_loops=None, dim="rank" if obj in HARD else "any"),
        label="instance",
    )
    opts = data.draw(soft_options(obj, inst)) if obj in SOFT else data.draw(hard_options(obj, inst))
    sol = solve(obj, inst, opts)
    N, d = inst.N, inst.d
    C = to_np(sol.coef)
    Zr = inst.K @ C  # the embedding the coefficients realise
    G = Zr @ Zr.T
    Kp = kplus(inst)
    hs = float(sol.hs_norm)
    # tr(K^+ G) applies K^+ (relative error N eps cond); soft objectives determine G* only to
    # N eps ||T|| absolutely, which moves tr(K^+ G*) by ||K^+|| N eps ||T||
    floor = n2(Kp) * n2(soft_target(obj, inst, opts)) if obj in SOFT else 0.0
    tol = SAFETY * N * EPS * (inst.cond * max(np.trace(Kp @ G), np.sum(C * Zr), 1e-300) + floor)
    check(f"hs_norm = tr(K^+ G*) {obj}", abs(hs - np.trace(Kp @ G)), tol, repr(inst))
    check(f"hs_norm = tr(C*^T K C*) {obj}", abs(hs - np.sum(C * Zr)), tol, repr(inst))
    rng = np.random.default_rng(inst.seed)
    extra = 3
    F = np.hstack([inst.factor, np.zeros((N, extra))])  # features phi(x_i) as rows
    W_star = C.T @ F  # W = C^T Phi^T in the representer form
    Pr = np.linalg.pinv(F) @ F  # projector onto the span of the training features
    # rounding of the projector (cond(F) = sqrt(cond K)) and of the products, relative to the sizes involved
    for _ in range(5):
        Q, _ = np.linalg.qr(rng.standard_normal((d, d)))
        raw = rng.standard_normal(W_star.shape)
        V = raw @ (np.eye(F.shape[1]) - Pr)
        W = Q.T @ W_star + V  # same Gram matrix G*, any component outside the data span
        FW = F @ W.T
        # F (I - Pr) is ~ eps cond(F) ||F|| (pinv-based projector; cond(F) = sqrt(cond K)), applied to raw
        err = SAFETY * N * EPS * (np.sqrt(inst.cond) * n2(F) * fro(raw) + n2(F) * fro(W_star))
        # Reference Gram from the same association F W*^T (not K C*): this check is about the
        # rotation and the null component V, not about the rounding of (F F^T) C vs F (F^T C).
        FWs = F @ W_star.T
        check("alternative W has the same Gram", fro(FW @ FW.T - FWs @ FWs.T), 2 * fro(FW) * err + err**2, repr(inst))
        # <W*, V> = 0 up to the same projector error
        slack = tol + 2 * SAFETY * N * EPS * np.sqrt(inst.cond) * fro(W_star) * fro(raw)
        check("||W||^2 >= ||W*||^2 (min norm)", max(hs - fro(W) ** 2, 0.0), slack, repr(inst))
    if not inst.is_pd:
        raw = rng.standard_normal((N, d))
        Nul = (np.eye(N) - projector(inst)) @ raw
        alt = C + Nul  # K Nul = 0: same Z, and ||W||^2 unchanged (K^{1/2} Nul = 0)
        # K (I - P) ~ N eps ||K|| (P from a QR of the factor), applied to raw
        tol_n = SAFETY * N * EPS * (inst.cond * max(fro(Zr), 1e-300) + n2(inst.K) * fro(raw))
        check("C* + null(K): same Z", fro(inst.K @ alt - Zr), tol_n, repr(inst))
        slack = tol + SAFETY * N * EPS * n2(inst.K) * fro(raw) * (fro(raw) + 2 * fro(C))
        check("C* + null(K): norm >= min", max(hs - np.sum(alt * (inst.K @ alt)), 0.0), slack, repr(inst))


# ====================================================================================================
# Uniqueness (THEORY §3 "Uniqueness")
# ====================================================================================================


def clique_spectrum(obj: str, inst: Instance, opts: dict) -> np.ndarray:
    """Exact spectrum (rule order) of the spectral matrix for a union of cliques, K > 0, reg = 0."""
    sizes = inst.sizes.astype(float)
    s = 1.0 if inst.self_loops else 0.0
    ind_A, within_A = sizes + s - 1, np.repeat(np.full(sizes.size, s - 1), (sizes - 1).astype(int))
    ind_L, within_L = np.zeros(sizes.size), np.repeat(sizes, (sizes - 1).astype(int))
    if obj == "contrastive":
        vals = np.r_[ind_A, within_A]
    elif obj == "vicreg":
        b = opts.get("beta", 1.0)
        vals = np.r_[1 - b / 2 * ind_L, 1 - b / 2 * within_L]
    else:
        return np.sort(np.r_[ind_L, within_L])
    return np.sort(vals)[::-1]


def expected_unique(rule: str, spectrum: np.ndarray, d: int) -> bool:
    """Exact tie rule on an exactly known spectrum."""
    if d >= spectrum.size:
        return True
    if rule == "psd-top" and spectrum[d] <= 0:
        return True
    return spectrum[d - 1] != spectrum[d]


@pytest.mark.parametrize("obj", ("contrastive", "vicreg", "laplacian_eigenmaps"))
@settings(max_examples=30, suppress_health_check=FIXTURE_OK)
@given(data=st.data())
def test_uniqueness_on_cliques(obj, data):
    inst = data.draw(instances(singular=False, graphs=("cliques",), self_loops=None), label="instance")
    opts = {}
    if obj == "vicreg":
        opts["beta"] = data.draw(st.sampled_from([0.05, 0.1, 0.3, 0.5, 1.0, 2.0]))
    spec = clique_spectrum(obj, inst, opts)
    # keep clear of near-ties the solver cannot resolve: distinct values differ by >= 1e-3
    diffs = np.abs(np.subtract.outer(spec, spec))
    assume(np.all((diffs == 0) | (diffs > 1e-3)))
    assume(np.all((spec == 0) | (np.abs(spec) > 1e-3)))
    rule = "bottom" if obj == "laplacian_eigenmaps" else "psd-top"
    for method in ("auto", "dense"):
        sol = solve(obj, inst, opts, method)
        ctx = f"{inst!r} {opts} method={sol.method} spectrum={spec.round(4).tolist()}"
        assert sol.is_unique == expected_unique(rule, spec, inst.d), ctx
        gap = abs(spec[inst.d - 1] - spec[inst.d]) if inst.d < inst.N else np.inf
        if np.isfinite(gap):
            check("sol.gap on cliques", abs(sol.gap - gap), SAFETY * inst.N * EPS * max(np.abs(spec).max(), 1), ctx)
        else:
            assert sol.gap == np.inf, ctx
        w = to_np(sol.eigenvalues)
        check(
            "clique spectrum",
            np.max(np.abs(w - spec[: w.size])),
            SAFETY * inst.N * EPS * max(np.abs(spec).max(), 1),
            ctx,
        )


@settings(max_examples=20, suppress_health_check=FIXTURE_OK)
@given(
    inst=instances(singular=False, graphs=("cliques",), dim="below_groups", balanced=True, min_size=2, kinds=("rbf",))
)
def test_clique_d_below_n_not_unique_and_alternative(inst):
    """THEORY §3: clique graph, d < n is not unique: an alternative basis gives the same loss but a
    different out-of-sample induced kernel (RBF test points)."""
    assume(inst.n >= 2 and inst.d < inst.n)
    for obj in ("contrastive", "laplacian_eigenmaps"):
        sol = solve(obj, inst, {})
        assert not sol.is_unique, repr(inst)
        alt = sol.alternative(seed=inst.seed)
        orc = oracle(obj, inst, {})
        Za, Ca = to_np(alt.embedding), to_np(alt.coef)
        la = float(kt.loss(obj, Za, inst.A, K=inst.K, coef=Ca))
        check(f"alternative same loss {obj}", abs(la - orc.value), orc.tol, repr(inst))
        check(f"alternative reported loss {obj}", abs(float(alt.loss) - orc.value), orc.tol, repr(inst))
        if obj == "laplacian_eigenmaps":
            check("alternative feasible", n2(Za.T @ Za - np.eye(inst.d)), SAFETY * inst.N * EPS)
        Xt = inst.test_points(inst.N + 5, inst.seed)
        Kt = inst.cross(Xt)
        k0, k1 = to_np(sol.induced_kernel(Kt)), to_np(alt.induced_kernel(Kt))
        # generic rotations of the tied space change k* by O(1) relative; 1e-6 is far above round-off
        assert fro(k0 - k1) > 1e-6 * max(fro(k0), fro(k1)), repr(inst)
        assert fro(gram_of(sol) - gram_of(alt)) > 1e-6 * fro(gram_of(sol)), repr(inst)
        # the alternative's induced kernel is still consistent: on training points it is its Gram
        check(
            "alternative k*(X,X) = G",
            fro(to_np(alt.induced_kernel(inst.K)) - gram_of(alt)),
            SAFETY * inst.N * EPS * inst.cond * max(fro(gram_of(alt)), 1),
            repr(inst),
        )


@pytest.mark.parametrize("obj", SOFT + HARD)
@settings(max_examples=20, suppress_health_check=FIXTURE_OK)
@given(data=st.data())
def test_uniqueness_generic(obj, data):
    """Generic targets (random weighted graphs, reg > 0) have simple spectra: the solver says unique
    exactly when our independent spectrum has a clear gap at the cut; unique answers are self-alternatives."""
    inst = data.draw(
        instances(singular=False, graphs=("random", "weighted"), self_loops=None, dim="rank" if obj in HARD else "any"),
        label="instance",
    )
    if obj in SOFT:
        opts = data.draw(soft_options(obj, inst, allow_centred=False))
    else:
        opts = data.draw(hard_options(obj, inst))
    orc = oracle(obj, inst, opts)
    sol = solve(obj, inst, opts)
    scale = max(np.abs(orc.spectrum).max(), 1e-300)
    ctx = f"{inst!r} {opts} gap={orc.gap:.3e}"
    clear = (
        (not np.isfinite(orc.gap))
        or orc.gap > 1e-6 * scale
        or (obj in SOFT and inst.d < inst.N and orc.spectrum[inst.d] < -1e-6 * scale)
    )
    if clear:
        assert sol.is_unique, ctx
        assert sol.alternative(seed=1) is sol
    if np.isfinite(orc.gap):
        check(f"sol.gap generic {obj}", abs(sol.gap - orc.gap), 2 * orc.eig_tol, ctx)


# ====================================================================================================
# Induced kernel (THEORY §3 "Induced kernel")
# ====================================================================================================


@pytest.mark.parametrize("obj", SOFT + HARD)
@settings(max_examples=15, suppress_health_check=FIXTURE_OK)
@given(data=st.data())
def test_induced_kernel(obj, data):
    inst = data.draw(
        instances(
            singular=None, graphs=ALL_GRAPHS, self_loops=None, kinds=POINT_KERNELS, dim="rank" if obj in HARD else "any"
        ),
        label="instance",
    )
    opts = data.draw(soft_options(obj, inst)) if obj in SOFT else data.draw(hard_options(obj, inst))
    sol = solve(obj, inst, opts)
    N, d = inst.N, inst.d
    Z = to_np(sol.embedding)
    G = Z @ Z.T
    ctx = f"{inst!r} {opts}"
    # scale of G*: its norm, and for soft objectives at least ||T|| (G*'s absolute accuracy is N eps ||T||)
    nG = max(n2(G), n2(soft_target(obj, inst, opts)) if obj in SOFT else 0.0, 1e-300)
    # on the training points: k*(X, X) = G*
    check("k*(X,X) = G*", n2(to_np(sol.induced_kernel(inst.K)) - G), SAFETY * N * EPS * inst.cond * nG, ctx)
    # out of sample: ridgeless interpolant of the columns of G*
    Xt = inst.test_points(N + 5, inst.seed)
    Kt = inst.cross(Xt)
    if inst.is_pd:
        interp = Kt @ np.linalg.solve(inst.K, G)
    else:
        interp = Kt @ np.linalg.lstsq(inst.K, G, rcond=None)[0]
    cross = to_np(sol.induced_kernel(Kt, inst.K))
    tol = SAFETY * N * EPS * inst.cond * n2(Kt) * n2(kplus(inst)) * nG
    check("k*(x, x_j) = ridgeless interpolant", n2(cross - interp), tol, ctx)
    # transform consistency
    check(
        "transform = K_new C*",
        fro(to_np(sol.transform(Kt)) - Kt @ to_np(sol.coef)),
        SAFETY * N * EPS * n2(Kt) * fro(to_np(sol.coef)),
        ctx,
    )
    # PSD with rank <= d on the test points
    M = to_np(sol.induced_kernel(Kt))
    np.testing.assert_allclose(M, M.T, rtol=0, atol=SAFETY * EPS * max(n2(M), 1e-300))
    w = np.linalg.eigvalsh(sym(M))
    tw = SAFETY * M.shape[0] * EPS * max(n2(M), 1e-300)
    check("induced Gram PSD", max(-w[0], 0.0), tw, ctx)
    assert int(np.sum(w > tw)) <= d, ctx


@settings(max_examples=15, suppress_health_check=FIXTURE_OK)
@given(data=st.data())
def test_induced_kernel_far_field_rbf(data):
    """RBF: k*(x, .) -> 0 as x leaves the data: points 10 bandwidths beyond the data's radius."""
    inst = data.draw(instances(singular=False, graphs=ALL_GRAPHS, kinds=("rbf",)), label="instance")
    obj = data.draw(st.sampled_from(SOFT + HARD))
    if obj in HARD:
        inst = inst.with_d(min(inst.d, inst.rank))
        opts = data.draw(hard_options(obj, inst))
    else:
        opts = data.draw(soft_options(obj, inst))
    sol = solve(obj, inst, opts)
    X = inst.X
    centre = X.mean(0)
    radius = np.sqrt(((X - centre) ** 2).sum(1)).max()
    s = inst.kernel_params["bandwidth"]
    rng = np.random.default_rng(inst.seed)
    u = rng.standard_normal((4, X.shape[1]))
    u /= np.linalg.norm(u, axis=1, keepdims=True)
    far = centre + (radius + 10 * s) * u
    kx = inst.cross(far)
    G = gram_of(sol)
    kstar = np.diag(to_np(sol.induced_kernel(kx)))
    # |k*(x,x)| = |C^T k_x|^2 <= ||k_x||^2 ||K^-1||^2 ||G*||, and ||k_x||^2 <= N exp(-100)
    bound = (np.linalg.norm(kx, axis=1) ** 2) * n2(kplus(inst)) ** 2 * n2(G) * (1 + SAFETY * inst.N * EPS * inst.cond)
    assert np.all(kstar <= bound + 1e-300), f"{inst!r} {kstar} {bound}"
    assert np.all(kstar <= 1e-12 * max(np.diag(G).max(), 1e-300)), f"{inst!r} {kstar}"


# ====================================================================================================
# Alignment / decorrelation and the behaviour in d and reg (THEORY §4)
# ====================================================================================================


def cosines(G):
    dg = np.sqrt(np.clip(np.diag(G), 1e-300, None))
    return G / np.outer(dg, dg)


@settings(max_examples=30, suppress_health_check=FIXTURE_OK)
@given(
    inst=instances(singular=False, graphs=("cliques",), self_loops=True, dim="at_least_groups"),
    method=st.sampled_from(("auto", "dense", "structured")),
)
def test_contrastive_clique_alignment(inst, method):
    """O1, cliques with self-loops, K > 0, reg = 0, d >= n: G* = A exactly, alignment 1, decorrelation 0,
    loss m^2 max(n - d, 0) = 0."""
    sol = solve("contrastive", inst, {}, method)
    G = gram_of(sol)
    N = inst.N
    tol = SAFETY * N * EPS * max(n2(inst.A), 1.0)
    check("O1 clique G* = A", n2(G - inst.A), tol, repr(inst))
    cos = cosines(G)
    same = clique_adjacency(inst.labels).astype(bool)
    check("alignment = 1", np.max(np.abs(cos[same] - 1.0)), tol, repr(inst))
    check("decorrelation = 0", np.max(np.abs(cos[~same])) if (~same).any() else 0.0, tol, repr(inst))
    check("O1 clique loss 0", abs(float(sol.loss)), SAFETY * N * EPS * fro(inst.A) ** 2, repr(inst))


@settings(max_examples=30, suppress_health_check=FIXTURE_OK)
@given(inst=instances(singular=False, graphs=("cliques",), self_loops=None, balanced=None))
def test_contrastive_clique_loss_formula(inst):
    """Loss = ||A||^2 - sum of the d largest positive indicator eigenvalues^2; balanced with self-loops:
    m^2 max(n - d, 0)."""
    sol = solve("contrastive", inst, {})
    s = 1.0 if inst.self_loops else 0.0
    ind = np.sort(inst.sizes + s - 1.0)[::-1]
    expected = fro(inst.A) ** 2 - np.sum(np.clip(ind[: inst.d], 0, None) ** 2)
    tol = SAFETY * inst.N * EPS * fro(inst.A) ** 2
    check("O1 clique loss formula", abs(float(sol.loss) - expected), tol, repr(inst))
    sizes = inst.sizes
    if inst.self_loops and np.all(sizes == sizes[0]):
        m, n = int(sizes[0]), sizes.size
        check("O1 clique loss m^2 max(n-d,0)", abs(float(sol.loss) - m * m * max(n - inst.d, 0)), tol, repr(inst))


@settings(max_examples=15, suppress_health_check=FIXTURE_OK)
@given(data=st.data())
def test_contrastive_loss_monotone_in_d(data):
    """O1: optimal loss non-increasing in d, constant once d >= #positive eigenvalues of T."""
    inst = data.draw(instances(singular=None, graphs=ALL_GRAPHS, self_loops=None, max_views=20), label="instance")
    opts = data.draw(soft_options("contrastive", inst))
    losses = []
    for d in range(1, inst.N + 1):
        losses.append(float(solve("contrastive", inst.with_d(d), opts).loss))
    orc = soft_oracle("contrastive", inst.with_d(inst.N), opts)
    tol = orc.tol
    for d in range(1, inst.N):
        check("O1 loss non-increasing in d", max(losses[d] - losses[d - 1], 0.0), tol, repr(inst))
    for d in range(max(orc.npos, 1), inst.N + 1):
        check("O1 loss constant beyond #pos", abs(losses[d - 1] - losses[max(orc.npos, 1) - 1]), tol, repr(inst))


@pytest.mark.xfail(
    strict=True,
    reason=(
        "The original specification stated without qualification that the optimal loss is non-increasing in d "
        "and constant once d >= #positive eigenvalues of T (corrected in docs/theory.md §4 and §8). For O2 the "
        "minimum is d - sum_{i<=d} max(lam_i,0)^2 (docs/theory.md §3 itself), which grows by "
        "1 - max(lam_{d+1},0)^2 >= 0 per extra dimension (lam <= 1 for "
        "reg = 0) and by exactly 1 per dimension beyond #pos: the claim holds for O1 only."
    ),
)
def test_vicreg_loss_monotone_in_d_claim():
    groups = np.repeat(np.arange(3), 3)
    A = clique_adjacency(groups)
    losses = [float(kt.solve("vicreg", np.eye(9), A, dim=d, beta=0.5).loss) for d in range(1, 10)]
    assert all(b <= a + 1e-12 for a, b in zip(losses, losses[1:]))


@settings(max_examples=15, suppress_health_check=FIXTURE_OK)
@given(data=st.data())
def test_vicreg_loss_increments_in_d(data):
    """What does hold for O2: loss(d+1) - loss(d) = 1 - max(lam_{d+1}(T), 0)^2."""
    inst = data.draw(instances(singular=None, graphs=ALL_GRAPHS, self_loops=None, max_views=20), label="instance")
    opts = data.draw(soft_options("vicreg", inst))
    orc = soft_oracle("vicreg", inst.with_d(inst.N), opts)
    prev = None
    for d in range(1, inst.N + 1):
        cur = float(solve("vicreg", inst.with_d(d), opts).loss)
        if prev is not None:
            inc = 1 - max(orc.spectrum[d - 1], 0) ** 2
            check("O2 loss increment", abs(cur - prev - inc), orc.tol, repr(inst))
        prev = cur


@settings(max_examples=15, suppress_health_check=FIXTURE_OK)
@given(data=st.data())
def test_reg_to_zero_continuity(data):
    """O1: reg -> 0+ recovers the reg = 0 optimum when it is unique, at the first-order rate
    ||G(reg) - G(0)||_F <= 2 (reg/2 ||K^+||_F)(1 + 2 sqrt(2) ||T|| / gap) (Davis-Kahan)."""
    inst = data.draw(instances(singular=None, graphs=ALL_GRAPHS, self_loops=None), label="instance")
    orc0 = soft_oracle("contrastive", inst, {})
    d = inst.d
    # gap that governs [T]_{+,d}: between lam_d and max(lam_{d+1}, 0), or lam_npos vs 0 beyond
    lam = orc0.spectrum
    k = min(d, orc0.npos)
    if k == 0:
        return
    nxt = max(lam[k], 0.0) if k < inst.N else 0.0
    gap = lam[k - 1] - nxt
    assume(gap > 1e-3 * max(n2(orc0.T), 1e-300))
    G0 = gram_of(solve("contrastive", inst, {}))
    Kp_f = fro(kplus(inst))
    for t in (1e-2, 1e-4, 1e-6, 1e-8):
        reg = t * gap / max(n2(kplus(inst)), 1e-300)
        G = gram_of(solve("contrastive", inst, {"reg": reg}))
        bound = 2 * (reg / 2 * Kp_f) * (1 + 2 * np.sqrt(2) * n2(orc0.T) / gap)
        roundoff = SAFETY * inst.N * EPS * inst.cond * max(fro(G0), 1.0)
        check("reg -> 0+ continuity", fro(G - G0), bound + roundoff, f"{inst!r} reg={reg:.3e}")


@settings(max_examples=30, suppress_health_check=FIXTURE_OK)
@given(
    inst=instances(singular=False, graphs=("cliques",), self_loops=True, balanced=True, min_size=2),
    beta=st.floats(0.02, 2.0),
    method=st.sampled_from(("auto", "dense")),
)
def test_vicreg_clique_behaviour(inst, beta, method):
    """O2, balanced cliques of size m, K > 0: G* keeps the n group directions with eigenvalue 1 and,
    if d > n, min(d - n, n(m-1)) within-group directions with eigenvalue 1 - beta m/2 when positive;
    the optimum is view-invariant iff beta >= 2/m (or d <= n)."""
    m, n = int(inst.sizes[0]), inst.n
    assume(abs(1 - beta * m / 2) > 1e-3)
    d = inst.d
    sol = solve("vicreg", inst, {"beta": beta}, method)
    G = gram_of(sol)
    w = np.sort(np.linalg.eigvalsh(G))[::-1]
    extra = min(max(d - n, 0), n * (m - 1))
    kept = max(1 - beta * m / 2, 0.0)
    expected = np.r_[np.ones(min(d, n)), np.full(extra, kept), np.zeros(inst.N - min(d, n) - extra)]
    tol = SAFETY * inst.N * EPS * max(1.0, beta * m)
    check("O2 clique spectrum of G*", np.max(np.abs(w - expected)), tol, f"{inst!r} beta={beta}")
    Z = to_np(sol.embedding)
    labels = inst.labels
    spread = max(np.abs(Z[labels == g] - Z[labels == g][0]).max() for g in np.unique(labels))
    # Davis-Kahan: the kept subspace moves by ||E|| / gap, and the gap between the group eigenvalue 1
    # and the within-group one 1 - beta m/2 is beta m/2 (beta = 0.03, m = 3 left 7e-15 > tol without it).
    invariant = spread <= tol / min(1.0, beta * m / 2)
    should = d <= n or beta * m / 2 > 1
    assert invariant == should, f"{inst!r} beta={beta} spread={spread:.3e}"


# ====================================================================================================
# Special cases with external oracles
# ====================================================================================================


@settings(max_examples=15, suppress_health_check=FIXTURE_OK)
@given(inst=instances(singular=False, kinds=POINT_KERNELS, min_views=4))
def test_whitened_identity_is_kernel_pca(inst):
    """O4 with A = I and centred K = HKH equals scikit-learn's KernelPCA(kernel="precomputed") up to signs."""
    from sklearn.decomposition import KernelPCA

    N = inst.N
    H = centring(N)
    Kc = sym(H @ inst.K @ H)
    wc = np.sort(np.linalg.eigvalsh(Kc))[::-1]
    d = min(inst.d, N - 1)
    gap = wc[d - 1] - wc[d]
    assume(gap > 1e-6 * wc[0])
    sol = kt.solve("whitened", Kc, np.eye(N), dim=d)
    Z = to_np(sol.embedding)
    ref = KernelPCA(n_components=d, kernel="precomputed", eigen_solver="dense").fit_transform(Kc)
    # Davis-Kahan on the Gram matrices; columns one by one where the eigenvalue is isolated
    tol = SAFETY * N * EPS * wc[0] * (1 + 2 * np.sqrt(2) * wc[0] / gap) * np.sqrt(inst.cond)
    check("O4(A=I, HKH) = KernelPCA: Gram", n2(Z @ Z.T - ref @ ref.T), tol, repr(inst))
    for j in range(d):
        sep = min(abs(wc[j] - wc[i]) for i in range(N) if i != j)
        if sep > 1e-6 * wc[0]:
            check(
                "O4 = KernelPCA: |columns|",
                np.max(np.abs(np.abs(Z[:, j]) - np.abs(ref[:, j]))),
                SAFETY * N * EPS * wc[0] * (1 + wc[0] / sep) * np.sqrt(inst.cond) / np.sqrt(max(wc[j], 1e-300)),
                repr(inst),
            )
    check(
        "O4 = KernelPCA: loss", abs(float(sol.loss) + wc[:d].sum()), d * SAFETY * N * EPS * wc[0] * np.sqrt(inst.cond)
    )


@settings(max_examples=15, suppress_health_check=FIXTURE_OK)
@given(inst=instances(singular=False, graphs=("weighted", "random"), self_loops=True, dim="rank"))
def test_normalised_eigenmaps_is_generalised_eigh(inst):
    """O3 normalised: the span of the bottom-d generalised eigenvectors of (L, D) (scipy.linalg.eigh)."""
    A = inst.A
    L, D = laplacian(A), np.diag(A.sum(1))
    lam, Y = scipy.linalg.eigh(L, D)
    d = inst.d
    gap = lam[d] - lam[d - 1] if d < inst.N else np.inf
    assume(gap > 1e-6 * max(lam[-1], 1e-300))
    sol = solve("laplacian_eigenmaps", inst, {"normalized": True})
    Z = to_np(sol.embedding)
    Yd = Y[:, :d]
    deg = A.sum(1)
    kD = deg.max() / deg.min()
    # D-orthonormal bases of one subspace differ by an orthogonal d x d matrix, so ZZ^T = YY^T
    # the pencil's eigenvalues lie in [0, 2] (normalised Laplacian), so Davis-Kahan uses 2 / gap
    tol = SAFETY * inst.N * EPS * kD * (1 + 2 * np.sqrt(2) * 2 / gap if np.isfinite(gap) else 1) / deg.min()
    check("O3 normalised = eigh(L, D) subspace", n2(Z @ Z.T - Yd @ Yd.T), tol, repr(inst))
    check("O3 normalised value", abs(float(sol.loss) - lam[:d].sum()), d * SAFETY * inst.N * EPS * kD * n2(L))


@settings(max_examples=15, suppress_health_check=FIXTURE_OK)
@given(data=st.data())
def test_structured_path_matches_dense(data):
    """The clique fast path (method="structured") against the dense path and the oracle,
    including unsorted labels and graphs without self-loops."""
    inst = data.draw(instances(singular=False, graphs=("cliques",), self_loops=None, shuffle=True), label="instance")
    obj = data.draw(st.sampled_from(("contrastive", "vicreg", "laplacian_eigenmaps")))
    opts = {"beta": data.draw(st.sampled_from([0.1, 0.5, 1.0]))} if obj == "vicreg" else {}
    s = solve(obj, inst, opts, "structured")
    dn = solve(obj, inst, opts, "dense")
    orc = oracle(obj, inst, opts)
    assert s.method == "structured"
    check(f"structured loss {obj}", abs(float(s.loss) - orc.value), orc.tol, repr(inst))
    check(
        f"structured kt.loss {obj}",
        abs(float(kt.loss(obj, to_np(s.embedding), inst.A, **opts)) - orc.value),
        orc.tol,
        repr(inst),
    )
    assert s.is_unique == dn.is_unique, repr(inst)
    if obj in SOFT:
        bound = gram_bound(orc, inst)
        if bound is not None:
            check(f"structured Gram = [T]_+,d {obj}", fro(gram_of(s) - orc.gram), bound, repr(inst))
            check(f"dense Gram = [T]_+,d {obj}", fro(gram_of(dn) - orc.gram), bound, repr(inst))
    elif np.isfinite(orc.gap) and orc.gap > 1e3 * orc.eig_tol or not np.isfinite(orc.gap):
        # O3: G* is the projector on the bottom-d eigenspace; Davis-Kahan with the gap at the cut
        bound = 2 * np.sqrt(2 * inst.d) * orc.eig_tol / orc.gap if np.isfinite(orc.gap) else orc.eig_tol
        check(
            "structured O3 projector = dense",
            fro(gram_of(s) - gram_of(dn)),
            2 * bound + SAFETY * inst.N * EPS,
            repr(inst),
        )


# ====================================================================================================
# Other backends
# ====================================================================================================


@pytest.mark.parametrize("obj", SOFT + HARD)
@settings(max_examples=4, suppress_health_check=FIXTURE_OK)
@given(data=st.data())
def test_backends(xp, obj, data):
    """The solver on array-api-strict: same namespace out, same optimum value, consistent out of sample."""
    inst = data.draw(
        instances(
            singular=None,
            graphs=ALL_GRAPHS,
            self_loops=None,
            kinds=POINT_KERNELS,
            max_views=16,
            dim="rank" if obj in HARD else "any",
        ),
        label="instance",
    )
    opts = data.draw(soft_options(obj, inst)) if obj in SOFT else data.draw(hard_options(obj, inst))
    orc = oracle(obj, inst, opts)
    sol = solve(obj, inst, opts, "dense", xp=xp)
    ref_type = type(xp.asarray(inst.K))
    assert type(sol.embedding) is ref_type and type(sol.coef) is ref_type
    check(f"backend loss {obj}", abs(float(sol.loss) - orc.value), orc.tol, repr(inst))
    Z, C = to_np(sol.embedding), to_np(sol.coef)
    val = float(kt.loss(obj, sol.embedding, xp.asarray(inst.A), K=xp.asarray(inst.K), coef=sol.coef, **opts))
    check(f"backend kt.loss {obj}", abs(val - orc.value), orc.tol, repr(inst))
    Kt = inst.cross(inst.test_points(5, inst.seed))
    kk = to_np(sol.induced_kernel(xp.asarray(Kt)))
    check(
        f"backend induced kernel {obj}", fro(kk - (Kt @ C) @ (Kt @ C).T), SAFETY * inst.N * EPS * max(fro(kk), 1e-300)
    )
    if obj in SOFT:
        bound = gram_bound(orc, inst)
        if bound is not None:
            check(f"backend Gram = [T]_+,d {obj}", fro(Z @ Z.T - orc.gram), bound, repr(inst))
