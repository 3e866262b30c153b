"""kssl-theory: joint-embedding self-supervised learning in the kernel regime, exactly.

The public API (docs/theory.md gives every formula; docs/architecture.md the architecture):

- :mod:`kssl_theory.kernels` and :mod:`kssl_theory.graphs` build :math:`K` and :math:`A`;
- :func:`solve` returns the closed-form optimum of O1–O4 as a :class:`Solution`;
- :func:`loss` evaluates any candidate from the loss's definition (for oracles);
- :class:`KernelSSL` is the scikit-learn-style estimator, and :func:`alignment` /
  :func:`decorrelation` summarise an induced kernel.

Layout: a shared core at the top level (:mod:`~kssl_theory.backend`, :mod:`~kssl_theory.kernels`,
:mod:`~kssl_theory.graphs`, :mod:`~kssl_theory.validation`, :mod:`~kssl_theory.errors`,
:mod:`~kssl_theory.protocols`, :mod:`~kssl_theory.symbolic` and the code it generates), the [KR]
engine in :mod:`kssl_theory.kernel_regime` (docs/theory.md §2–§4), the [IR] theory in
:mod:`kssl_theory.idealized` (§5), :mod:`kssl_theory.bridge` between them (§6), and the data sets,
downstream probes and runner of the experiments in :mod:`kssl_theory.experiments`. The modules'
old top-level paths (``kssl_theory.solvers`` ...) still import, with a ``DeprecationWarning``,
until the next release.

Importing the package does not import SymPy; :mod:`kssl_theory.symbolic` does.
"""

from . import backend, graphs, kernels
from ._moved import MOVED as _MOVED
from ._moved import redirect as _redirect
from .errors import BackendUnavailableError, IllConditionedWarning, InputError, KSSLError, NumericalError
from .kernel_regime.engine import Solution, loss, solve
from .kernel_regime.metrics import alignment, cosine_matrix, decorrelation
from .kernel_regime.objectives import OBJECTIVES, Objective, get_objective


def _version() -> str:
    """The installed distribution's version (pyproject.toml is the single source)."""
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("kssl-theory")
    except PackageNotFoundError:  # run from a source tree that was never installed
        return "0+unknown"


__version__ = _version()


#: Submodules loaded on first attribute access (``kssl_theory.idealized`` works without an explicit
#: import), so that ``import kssl_theory`` does not pay for scikit-learn, SciPy's LP solver or SymPy.
_LAZY_SUBMODULES = (
    "bridge",
    "experiments",
    "idealized",
    "kernel_regime",
    "symbolic",
    "validation",
)


def __getattr__(name):
    # KernelSSL (and its NotFittedError) subclass scikit-learn's classes; importing scikit-learn
    # costs ~1 s, so the estimator module loads on first use and ``import kssl_theory`` stays cheap.
    if name in ("KernelSSL", "NotFittedError"):
        from .kernel_regime import estimator

        return getattr(estimator, name)
    if name in _LAZY_SUBMODULES:
        import importlib

        return importlib.import_module(f"{__name__}.{name}")
    if name in _MOVED:
        # A module's old path (kssl_theory.solvers ...): warn at the caller's line and return the new module,
        # registered under the old name so that later accesses and imports find it without warning again.
        module = _redirect(name, stacklevel=2)
        globals()[name] = module
        return module
    raise AttributeError(f"module 'kssl_theory' has no attribute {name!r}")


__all__ = [
    "backend",
    "graphs",
    "kernels",
    "solve",
    "loss",
    "Solution",
    "KernelSSL",
    "alignment",
    "decorrelation",
    "cosine_matrix",
    "Objective",
    "OBJECTIVES",
    "get_objective",
    "KSSLError",
    "NotFittedError",
    "InputError",
    "BackendUnavailableError",
    "NumericalError",
    "IllConditionedWarning",
]
