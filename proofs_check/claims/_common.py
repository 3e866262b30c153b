r"""Claim-registration glue shared by the claims: sources, the solver call, host copies of a solution.

The oracles (targets, minima, literal losses, L-BFGS bounds, tolerances) are in
:mod:`proofs_check.oracles`, shared with the test-suite; the instances in :mod:`proofs_check.instances`.
"""

from __future__ import annotations

__all__ = [
    "KR_SOURCE",
    "IR_SOURCE",
    "BR_SOURCE",
    "solve",
    "Host",
    "host",
    "objective_options",
]

KR_SOURCE = "[KR] Kiani et al. 2022, docs/theory.md"
IR_SOURCE = "[IR] Dubois et al. 2022, docs/theory.md"
BR_SOURCE = "bridge [KR]+[IR] (new), docs/theory.md"


def objective_options(objective: str, params: dict) -> dict:
    """The solver options of ``objective`` found in ``params`` (its declared options; O3's
    ``normalized`` travels as ``normalized_le``, since ``normalized`` names a graph option there)."""
    import kssl_theory as kt

    renamed = {"normalized": "normalized_le"}
    declared = kt.get_objective(objective).defaults
    return {k: params[renamed.get(k, k)] for k in declared if renamed.get(k, k) in params}


def solve(inst, objective: str, d: int | None = None, K=None, A=None, **opts):
    """``kt.solve`` on the instance's backend matrices (``method`` taken from the params if drawn)."""
    import kssl_theory as kt

    if "method" in inst.params and "method" not in opts:
        opts["method"] = inst.params["method"]
    return kt.solve(
        objective, inst.K if K is None else K, inst.A if A is None else A, dim=inst.d if d is None else d, **opts
    )


class Host:
    """Host float64 copies of a :class:`kssl_theory.Solution`'s arrays."""

    def __init__(self, sol, ctx):
        self.sol = sol
        self.G = ctx.get(sol.gram)
        self.Z = ctx.get(sol.embedding)
        self.C = ctx.get(sol.coef)
        self.loss = ctx.scalar(sol.loss)
        self.eigenvalues = ctx.get(sol.eigenvalues)
        self.hs_norm = ctx.scalar(sol.hs_norm)


def host(sol, ctx) -> Host:
    return Host(sol, ctx)
