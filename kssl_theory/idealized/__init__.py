r"""Idealized representations [IR]: when probes solve every augmentation-invariant task.

[IR] Dubois, Hashimoto, Ermon, Liang (2022). Setting (docs/theory.md §5): finitely many inputs
(views) with codes :math:`z_i = \phi(x_i) \in \mathbb R^d`, an equivalence relation given by
``groups`` with :math:`C` classes; the tasks are all labellings constant on classes. This
subpackage builds on the shared core only (:mod:`kssl_theory.backend`, :mod:`kssl_theory.graphs`,
:mod:`kssl_theory.validation`, :mod:`kssl_theory.errors`); nothing here imports the [KR] engine
:mod:`kssl_theory.kernel_regime` (:mod:`kssl_theory.bridge` connects the two, docs/theory.md §6).

Modules
-------
:mod:`~kssl_theory.idealized.conditions`
    docs/theory.md §5, the conditions: :func:`class_codes`, :func:`affine_rank` and
    :func:`is_idealized` (invariance and affine independence of the class codes,
    :math:`\operatorname{rank}[Z \mid \mathbf 1] = C`), with their tolerances. Re-exported here:
    ``kssl_theory.idealized.is_idealized`` is ``kssl_theory.idealized.conditions.is_idealized``.
:mod:`~kssl_theory.idealized.probes`
    docs/theory.md §5, linear probes and counting: the exact affine probe, LP separability, Radon
    partitions, the linear-span counterexample, Cover's function-counting theorem and the
    brute-force task census.
:mod:`~kssl_theory.idealized.sample_efficiency`
    docs/theory.md §5, sample efficiency: the worst empirical-risk minimiser (exact and Monte Carlo),
    :math:`(1 - 1/C)^n`, invariant against split encoders.
:mod:`~kssl_theory.idealized.codes`
    docs/theory.md §5, idealized codes: the simplex ETF and the ``d = 1`` universal ReLU probe.
:mod:`~kssl_theory.idealized.losses`
    docs/theory.md §5, the objectives: CISSL, the SimCLR baseline and DISSL on head outputs.

``kssl_theory.idealized._shared`` holds the helpers these modules share (tolerances, label
checks, the max-margin LP); it is not public API.

The modules other than :mod:`~kssl_theory.idealized.conditions` load on first attribute access
(``kssl_theory.idealized.probes`` works without an explicit import).
"""

from __future__ import annotations

import importlib
from types import ModuleType

from .conditions import ClassCodes, IdealizationReport, affine_rank, class_codes, is_idealized

#: Modules loaded on first attribute access.
_LAZY_SUBMODULES = ("codes", "losses", "probes", "sample_efficiency")


def __getattr__(name: str) -> ModuleType:
    if name in _LAZY_SUBMODULES:
        return importlib.import_module(f"{__name__}.{name}")
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = [
    "ClassCodes",
    "class_codes",
    "affine_rank",
    "IdealizationReport",
    "is_idealized",
]
