r"""One claim for every declared soft objective: the package's optimum is the minimum of the declared loss.

The claims of :mod:`.kernel_regime` check O1 and O2 against docs/theory.md's formulas written out by
hand. This claim needs no per-objective code: it reads each soft declaration of
:mod:`kssl_theory.symbolic.objectives` (the built-in ones and any added with
:func:`kssl_theory.symbolic.codegen.register_objective`), evaluates its loss from the SymPy tree
with NumPy (:func:`proofs_check.oracles.evaluate_expression`, not the package's printer or
generated code) and minimises it with L-BFGS from random starts over the coefficients :math:`C`
(:math:`Z = KC`), with exact complex-step gradients.
"""

from __future__ import annotations

import math

import numpy as np

import kssl_theory as kt

from ..instances import POINT_KERNELS, build, instances
from ..oracles import declared_loss_and_grad, evaluate_expression, lbfgs_min, numerical_kernel, round_off
from ..registry import register
from ._common import KR_SOURCE, solve

#: Views at most: the complex-step gradient costs N·d loss evaluations.
MAX_VIEWS = 6


def soft_declarations() -> list:
    """Every soft declaration now registered (built in first, then those added at run time)."""
    from kssl_theory.symbolic.objectives import SOFT_OBJECTIVES

    return list(SOFT_OBJECTIVES.values())


def _option_values(decl, rng) -> dict:
    """Random option values of a declaration, by kind; the switch that selects it set."""
    opts = {}
    for o in decl.options:
        if o.kind == "bool":
            opts[o.name] = bool(o.default)
        elif o.kind == "positive":
            opts[o.name] = float(rng.uniform(0.5, 2.0))
        else:  # non-negative: zero (the unpenalised case) or a draw
            opts[o.name] = 0.0 if rng.uniform() < 0.3 else float(rng.uniform(0.01, 2.0))
    if decl.switch is not None:
        opts[decl.switch.name] = True
    return opts


@register(
    id="KR-declared-soft-optimum",
    title="Every declared soft objective: the package's optimum minimises the declared loss",
    source=f"{KR_SOURCE} §3 (generic; one declaration per objective)",
    preconditions=(
        "a soft declaration of kssl_theory.symbolic.objectives (penalised or centred form), built in or "
        "registered at run time",
        "K ≻ 0 on the instance (every C gives a feasible Z = KC)",
        "N ≤ 6, d ≤ N",
    ),
    statement="For every soft declaration, kt.solve's reported minimum equals the declared loss evaluated at "
    "the returned (Z*, C*), and no C found by L-BFGS or random perturbation has a lower declared loss.",
    latex=r"\mathcal L_{\text{decl}}(KC^*) = \texttt{sol.loss} \le \mathcal L_{\text{decl}}(KC) \;\forall C",
    strategy=instances(n=(1, 3), m=(1, 2), kernels=POINT_KERNELS, graph="any", d="any", log10_cond=(0.5, 3.0)),
    method="The declared SymPy loss evaluated by walking its tree with NumPy (float64); L-BFGS from 2 random "
    "starts over C with exact complex-step gradients; 4 random perturbations of C*. Option values drawn per "
    "declaration from their kinds.",
    tolerance="100·N·ε·s·κ(K) with s = 1 + |loss| + ‖A‖²_F + d: the round-off of an eigensolver on a target of "
    "norm ≤ s, times κ(K) for the penalty K⁺; L-BFGS and perturbations must not go below the minimum by more "
    "than that plus 1e-9·s.",
    examples=6,
)
def check_declared_soft_optimum(params, ctx, chk):
    inst = build(params, ctx)
    if not inst.is_pd or inst.N > MAX_VIEWS:
        chk.info["skipped"] = "K not positive definite or too many views"
        return
    from kssl_theory.symbolic.objectives import A as A_sym
    from kssl_theory.symbolic.objectives import C as C_sym
    from kssl_theory.symbolic.objectives import K as K_sym
    from kssl_theory.symbolic.objectives import L as L_sym
    from kssl_theory.symbolic.objectives import Z as Z_sym

    N, d = inst.N, inst.d
    K = numerical_kernel(inst)
    A = inst.Ah
    L = np.diag(A.sum(axis=1)) - A
    checked = []
    for decl in soft_declarations():
        opts = _option_values(decl, inst.rng)
        sol = solve(inst, decl.family or decl.key, **opts)
        reported = ctx.scalar(sol.loss)
        C_star = ctx.get(sol.coef)
        fixed = {K_sym: K, A_sym: A, L_sym: L}
        fixed.update({o.symbol: opts[o.name] for o in decl.options if o.symbol is not None})
        fun_grad = declared_loss_and_grad(
            decl.loss, C_sym, fixed, (N, d), definitions=((Z_sym, lambda v: v[K_sym] @ v[C_sym]),)
        )
        literal = fun_grad(C_star.ravel())[0]
        scale = 1.0 + abs(literal) + float(np.sum(A * A)) + d
        tol = round_off(inst, scale) * inst.cond
        chk.close(f"{decl.key}: declared loss at C* = reported minimum", literal, reported, tol)
        size = np.linalg.norm(C_star) + 1e-3
        for k, delta in enumerate((1e-3, 1e-2, 1e-1, 1.0)):
            pert = C_star + delta * size * inst.rng.standard_normal(C_star.shape) / math.sqrt(C_star.size)
            chk.ge(
                f"{decl.key}: perturbation {k + 1} does not beat the minimum", fun_grad(pert.ravel())[0], reported, tol
            )
        best = min(lbfgs_min(fun_grad, inst.rng.standard_normal(N * d)) for _ in range(2))
        chk.ge(f"{decl.key}: L-BFGS from 2 starts does not beat the minimum", best, reported, tol + 1e-9 * scale)
        checked.append(decl.key)
        # the package's kt.loss of the same candidate is the declared loss too
        pkg = ctx.scalar(kt.loss(decl.family or decl.key, sol.embedding, inst.A, K=inst.K, coef=sol.coef, **opts))
        chk.close(
            f"{decl.key}: kt.loss at Z* = declared loss",
            pkg,
            evaluate_expression(decl.loss, {**fixed, C_sym: C_star, Z_sym: K @ C_star}),
            tol,
        )
    chk.info["declarations"] = checked
