r"""SymPy layer: the objectives written once, their derivations, proofs and code generation.

- :mod:`~kssl_theory.symbolic.objectives`: the losses of docs/theory.md §3 and the lemmas the
  derivations rewrite with;
- :mod:`~kssl_theory.symbolic.derive`: completing the square (targets, constants, minima),
  Ky Fan forms, gradients, and :func:`latex_formulas`;
- :mod:`~kssl_theory.symbolic.proofs`: :func:`prove_all`, exact proofs on explicit generic
  matrices plus finite-difference checks;
- :mod:`~kssl_theory.symbolic.printer` and :mod:`~kssl_theory.symbolic.codegen`: the array-API
  printer and the generator of :mod:`kssl_theory._generated.targets`
  (``python -m kssl_theory.symbolic.codegen [--check]``).

Submodules load on first attribute access, so importing this package does not import SymPy;
the numeric package never needs it.
"""

from __future__ import annotations

import importlib

_SUBMODULES = ("codegen", "derive", "explicit", "nodes", "objectives", "printer", "proofs", "traces")
_EXPORTS = {
    "derive_all": "derive",
    "latex_formulas": "derive",
    "prove_all": "proofs",
    "ProofResult": "proofs",
    "generate_source": "codegen",
}

__all__ = sorted(_SUBMODULES + tuple(_EXPORTS))


def __getattr__(name):
    if name in _SUBMODULES:
        return importlib.import_module(f"{__name__}.{name}")
    if name in _EXPORTS:
        return getattr(importlib.import_module(f"{__name__}.{_EXPORTS[name]}"), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
