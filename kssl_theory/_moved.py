"""The modules that moved into subpackages, and the deprecation that keeps their old paths working.

Each old path (``kssl_theory/solvers.py`` ...) is a shim that calls :func:`redirect` when it is
imported: it warns ``DeprecationWarning`` at the importer's line and replaces itself in
``sys.modules`` by the new module, so ``import kssl_theory.solvers`` gives the very module object
``kssl_theory.kernel_regime.engine`` (monkeypatching either path patches the same module).
``kssl_theory.solvers`` as an attribute goes through the package's ``__getattr__``, which calls
:func:`redirect` too. The old paths will be removed in the next release.
"""

from __future__ import annotations

import importlib
import sys
import warnings
from types import ModuleType

#: Old submodule name -> new module path.
MOVED = {
    "solvers": "kssl_theory.kernel_regime.engine",
    "objectives": "kssl_theory.kernel_regime.objectives",
    "kernel_factor": "kssl_theory.kernel_regime.kernel_factor",
    "accuracy": "kssl_theory.kernel_regime.accuracy",
    "nystrom": "kssl_theory.kernel_regime.nystrom",
    "estimator": "kssl_theory.kernel_regime.estimator",
    "metrics": "kssl_theory.kernel_regime.metrics",
    "linear_probes": "kssl_theory.idealized.probes",
    "sample_efficiency": "kssl_theory.idealized.sample_efficiency",
    "idealized_codes": "kssl_theory.idealized.codes",
    "ssl_losses": "kssl_theory.idealized.losses",
    "datasets": "kssl_theory.experiments.datasets",
    "probes": "kssl_theory.experiments.probes",
}


def message(old: str) -> str:
    """The deprecation message for ``kssl_theory.<old>``; it names the new path."""
    return f"kssl_theory.{old} moved to {MOVED[old]}; the old path will be removed in the next release"


def redirect(old: str, stacklevel: int) -> ModuleType:
    """Warn that ``kssl_theory.<old>`` moved, import the new module and register it under the old name.

    Parameters
    ----------
    old : str
        Old submodule name, a key of :data:`MOVED`.
    stacklevel : int
        As for :func:`warnings.warn`, counted from the caller of this function (2: the caller's
        caller). The frames of the import machinery are skipped by :mod:`warnings` itself, so a
        shim passes 2 and the warning points at the ``import`` statement.

    Returns
    -------
    module
        The new module, now also ``sys.modules["kssl_theory.<old>"]``.
    """
    warnings.warn(message(old), DeprecationWarning, stacklevel=stacklevel + 1)
    module = importlib.import_module(MOVED[old])
    sys.modules[f"kssl_theory.{old}"] = module
    return module
