"""proofs_check: the verification runner of kssl-theory.

Every factual statement of docs/theory.md §2–§6 is a registered :class:`~proofs_check.registry.Claim`
(:mod:`proofs_check.claims`) with a Hypothesis-driven numeric property that compares the package
with an independent oracle, and, where one exists, the name of its SymPy proof. The same registry
feeds the pytest suite (one test per claim) and the command line ``python -m proofs_check`` /
``kssl-verify`` (:mod:`proofs_check.cli`), which can run on local processes or a Dask cluster
(:mod:`proofs_check.parallel`) and writes a Markdown and JSON report (:mod:`proofs_check.report`).
"""

from .checking import Checker, Context
from .engine import ClaimResult, RunInterrupted, replay, run_claims
from .registry import Claim, all_claims, get_claim, register, select

__all__ = [
    "Claim",
    "Checker",
    "Context",
    "ClaimResult",
    "register",
    "all_claims",
    "get_claim",
    "select",
    "run_claims",
    "RunInterrupted",
    "replay",
]
