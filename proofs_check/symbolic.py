"""The symbolic column: look up the SymPy proof attached to a claim in :mod:`kssl_theory.symbolic`.

A claim names its proof or proofs (:attr:`proofs_check.registry.Claim.symbolic`). The proofs live in
``kssl_theory.symbolic.proofs``; this adapter accepts either of two shapes of that module:

- ``prove(name)`` returning the result of one proof (raising ``KeyError``/``LookupError`` for an
  unknown name), or
- ``prove_all()`` returning results keyed by name (a mapping, or a sequence of objects with a
  ``name`` or ``id`` attribute), computed once per process.

A result counts as proven when it is ``True`` or has a true ``holds``/``proved``/``ok``/``passed``/
``verified`` attribute or key. Marks: ``✓`` proven, ``✗`` failed (or raised), ``–`` no symbolic proof
(none attached, the module is not available yet, or it has no proof of that name).
"""

from __future__ import annotations

import functools
import importlib

__all__ = ["PROVEN", "FAILED", "NONE", "symbolic_marks"]

PROVEN, FAILED, NONE = "✓", "✗", "–"
_FLAGS = ("holds", "proved", "ok", "passed", "verified", "success")


def _verdict(result) -> tuple[bool, str]:
    if isinstance(result, bool):
        return result, ""
    detail = ""
    for key in ("detail", "message", "summary"):
        value = result.get(key) if isinstance(result, dict) else getattr(result, key, None)
        if isinstance(value, str):
            detail = value
            break
    for flag in _FLAGS:
        value = result.get(flag) if isinstance(result, dict) else getattr(result, flag, None)
        if value is not None and not callable(value):
            return bool(value), detail
    return bool(result), detail


@functools.lru_cache(maxsize=1)
def _module():
    try:
        return importlib.import_module("kssl_theory.symbolic.proofs"), ""
    except ImportError as exc:
        return None, f"kssl_theory.symbolic.proofs is not available ({exc})"


@functools.lru_cache(maxsize=1)
def _all_results():
    module, _ = _module()
    results = module.prove_all()
    if isinstance(results, dict):
        return dict(results)
    table = {}
    for item in results:
        key = getattr(item, "name", None) or getattr(item, "id", None)
        if key is not None:
            table[str(key)] = item
    return table


def _lookup(module, name: str):
    if hasattr(module, "prove"):
        try:
            return True, module.prove(name)
        except (KeyError, LookupError):
            return False, None
    if hasattr(module, "prove_all"):
        table = _all_results()
        return (name in table), table.get(name)
    return False, None


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
    module, why = _module()
    for claim in claims:
        names = _names(claim)
        if not names:
            marks[claim.id] = (NONE, "no symbolic proof attached")
            continue
        if module is None:
            marks[claim.id] = (NONE, f"pending: {why}")
            continue
        proven, failed, missing = [], [], []
        for name in names:
            try:
                found, result = _lookup(module, name)
            except Exception as exc:
                failed.append(f"{name} raised {type(exc).__name__}: {exc}")
                continue
            if not found:
                missing.append(name)
                continue
            ok, detail = _verdict(result)
            (proven if ok else failed).append(f"{name}{': ' + detail if detail and not ok else ''}")
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
