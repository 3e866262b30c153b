r"""The [KR] engine: kernel-regime SSL objectives O1–O4 and their closed-form optimum.

[KR] Kiani, Balestriero, Chen, Lloyd, LeCun (2022). The encoder is linear on a kernel's feature
space, :math:`f(x) = C^T k_x`, so the embedding of the training views is :math:`Z = KC`; every
objective is solved exactly by one eigendecomposition. This subpackage builds on the shared core
(:mod:`kssl_theory.backend`, :mod:`kssl_theory.kernels` for :math:`K`, :mod:`kssl_theory.graphs`
for :math:`A`, :mod:`kssl_theory.validation`, :mod:`kssl_theory.errors`) and on the code generated
from :mod:`kssl_theory.symbolic` (:mod:`kssl_theory._generated.targets`); nothing here imports the
[IR] subpackage :mod:`kssl_theory.idealized`.

Modules
-------
docs/theory.md §2 (reachability: the Gram matrices :math:`ZZ^T`, :math:`Z = KC`, are exactly the PSD
matrices of rank at most ``d`` with range inside :math:`\operatorname{range} K`) is why every
optimum below is an eigenproblem in :math:`K`'s range; the modules, in dependency order:

:mod:`~kssl_theory.kernel_regime.kernel_factor`
    docs/theory.md §1–§2: one factorisation of :math:`K` (Cholesky or eigendecomposition) applying
    :math:`K^+`, :math:`P = KK^+` (the projector onto the reachable range) and
    :math:`K^{\pm 1/2}` without explicit inverses.
:mod:`~kssl_theory.kernel_regime.accuracy`
    docs/theory.md §3: certified eigenvalue errors, penalty deflation (with its proof), Rayleigh–Ritz
    refinement and loss error bounds.
:mod:`~kssl_theory.kernel_regime.objectives`
    docs/theory.md §3: the declarations of O1 (spectral contrastive), O2 (VICReg-like, plain and
    centred), O3 (Laplacian eigenmaps) and O4 (whitened): options, spectral matrix, spectral rule,
    minimum, and the loss of any candidate from its definition.
:mod:`~kssl_theory.kernel_regime.engine`
    docs/theory.md §3: :func:`~kssl_theory.kernel_regime.engine.solve`, :func:`~kssl_theory.kernel_regime.engine.loss`
    and :class:`~kssl_theory.kernel_regime.engine.Solution` (:math:`[T]_{+,d}`, Ky Fan top/bottom-``d``,
    :math:`G^*, Z^*, C^*`, uniqueness, the induced kernel :math:`k^*`); dense, subset, Lanczos and
    clique paths.
:mod:`~kssl_theory.kernel_regime.nystrom`
    docs/theory.md §3 under :math:`\tilde K = FF^T`: the optimum in the range of Nyström features, for
    ``N`` beyond dense memory.
:mod:`~kssl_theory.kernel_regime.streaming`
    The same optimum for clique graphs, summed over row blocks (a loop or Dask): millions of views
    without an ``N x m`` matrix in memory.
:mod:`~kssl_theory.kernel_regime.estimator`
    docs/theory.md §3 "Induced kernel": :class:`~kssl_theory.kernel_regime.estimator.KernelSSL`, the
    scikit-learn estimator. It imports scikit-learn (about 1 s), so it is loaded on first use:
    this package does not import it, and ``kssl_theory.kernel_regime.estimator`` works as an
    attribute without an explicit import.
:mod:`~kssl_theory.kernel_regime.metrics`
    docs/theory.md §4: :func:`~kssl_theory.kernel_regime.metrics.alignment` and
    :func:`~kssl_theory.kernel_regime.metrics.decorrelation` of an induced kernel.

The package namespace re-exports the everyday names (``kssl_theory.solve``, ``loss``,
``Solution``, ``KernelSSL``, ``alignment``, ...); the modules above are where they live.
"""

from __future__ import annotations

import importlib

#: Modules loaded on first attribute access (``kssl_theory.kernel_regime.estimator`` without an
#: explicit import), so that importing this package does not pay for scikit-learn.
_LAZY_SUBMODULES = (
    "accuracy",
    "engine",
    "estimator",
    "kernel_factor",
    "metrics",
    "nystrom",
    "objectives",
    "streaming",
)


def __getattr__(name):
    if name in _LAZY_SUBMODULES:
        return importlib.import_module(f"{__name__}.{name}")
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__: list[str] = []
