"""kssl-theory: joint-embedding self-supervised learning in the kernel regime, exactly.

The public API (THEORY.md gives every formula; DESIGN.md the architecture):

- :mod:`kssl_theory.kernels` and :mod:`kssl_theory.graphs` build :math:`K` and :math:`A`;
- :func:`solve` returns the closed-form optimum of O1–O4 as a :class:`Solution`;
- :func:`loss` evaluates any candidate from the loss's definition (for oracles);
- :class:`KernelSSL` is the scikit-learn-style estimator, and :func:`alignment` /
  :func:`decorrelation` summarise an induced kernel.

Importing the package does not import SymPy; :mod:`kssl_theory.symbolic` does.
"""

from . import backend, graphs, kernels
from .errors import BackendUnavailableError, IllConditionedWarning, InputError, KSSLError, NumericalError
from .metrics import alignment, cosine_matrix, decorrelation
from .objectives import OBJECTIVES, Objective, get_objective
from .solvers import Solution, loss, solve


def _version() -> str:
    """The installed distribution's version (pyproject.toml is the single source)."""
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("kssl-theory")
    except PackageNotFoundError:  # run from a source tree that was never installed
        return "0+unknown"


__version__ = _version()


#: Submodules loaded on first attribute access (``kssl_theory.probes`` works without an explicit
#: import), so that ``import kssl_theory`` does not pay for scikit-learn, SciPy's LP solver or SymPy.
_LAZY_SUBMODULES = (
    "bridge",
    "datasets",
    "estimator",
    "experiments",
    "idealized",
    "idealized_codes",
    "kernel_factor",
    "linear_probes",
    "nystrom",
    "probes",
    "sample_efficiency",
    "ssl_losses",
    "symbolic",
    "validation",
)


def __getattr__(name):
    # KernelSSL (and its NotFittedError) subclass scikit-learn's classes; importing scikit-learn
    # costs ~1 s, so the estimator module loads on first use and ``import kssl_theory`` stays cheap.
    if name in ("KernelSSL", "NotFittedError"):
        from . import estimator

        return getattr(estimator, name)
    if name in _LAZY_SUBMODULES:
        import importlib

        return importlib.import_module(f"{__name__}.{name}")
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
