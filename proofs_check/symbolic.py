"""The symbolic column: look up the SymPy proof attached to a claim in :mod:`kssl_theory.symbolic`.

A claim names its proof or proofs (:attr:`proofs_check.registry.Claim.symbolic`).
:func:`kssl_theory.symbolic.proofs.prove_all` runs every proof once per process and returns one
``ProofResult`` (``name``, ``holds``, ``detail``) per proof. Marks: ``✓`` proven, ``✗`` failed (or
``prove_all`` raised), ``–`` no symbolic proof (none attached, or no proof of that name yet).
"""

from __future__ import annotations

import functools
import importlib

__all__ = ["PROVEN", "FAILED", "NONE", "symbolic_marks"]

PROVEN, FAILED, NONE = "✓", "✗", "–"


@functools.lru_cache(maxsize=1)
def _results() -> dict:
    """Every proof's result by name, computed once per process."""
    proofs = importlib.import_module("kssl_theory.symbolic.proofs")
    return {str(result.name): result for result in proofs.prove_all()}


def _names(claim) -> tuple[str, ...]:
    if not claim.symbolic:
        return ()
    return (claim.symbolic,) if isinstance(claim.symbolic, str) else tuple(claim.symbolic)


def symbolic_marks(claims) -> dict[str, tuple[str, str]]:
    """``{claim id: (mark, detail)}`` for ``claims`` (see the module docstring).

    A claim may name several proofs: ``✓`` when all of them exist and hold, ``✗`` when any fails,
    ``–`` when any is missing (listed in the detail).
    """
    marks = {}
    table, error = None, ""
    for claim in claims:
        names = _names(claim)
        if not names:
            marks[claim.id] = (NONE, "no symbolic proof attached")
            continue
        if table is None and not error:
            try:
                table = _results()
            except Exception as exc:  # a broken proof run fails every claim that relies on it
                error = f"kssl_theory.symbolic.proofs.prove_all raised {type(exc).__name__}: {exc}"
        if error:
            marks[claim.id] = (FAILED, "failed: " + error)
            continue
        proven, failed, missing = [], [], []
        for name in names:
            result = table.get(name)
            if result is None:
                missing.append(name)
            elif result.holds:
                proven.append(name)
            else:
                failed.append(f"{name}: {result.detail}" if result.detail else name)
        if failed:
            marks[claim.id] = (FAILED, "failed: " + "; ".join(failed))
        elif missing:
            marks[claim.id] = (
                NONE,
                "pending: no proof named " + ", ".join(repr(m) for m in missing) + " in kssl_theory.symbolic.proofs",
            )
        else:
            marks[claim.id] = (PROVEN, "proven: " + ", ".join(proven))
    return marks
