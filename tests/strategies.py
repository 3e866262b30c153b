"""Test-only adapter to the shared instance generator :mod:`proofs_check.instances`.

This module builds nothing itself (``tests/test_verification_stack.py`` checks that): the
parameter strategies and the builder are those of the verification runner, so the test-suite and
``python -m proofs_check`` draw from one generator. :func:`instances` draws a parameter dict with
the solver suite's ranges (:func:`proofs_check.instances.solver_instances`) and builds it as host
float64 NumPy matrices (:data:`proofs_check.instances.HOST`); Hypothesis shows the instance as
its parameter dict on failure. The oracles are in :mod:`proofs_check.oracles`.
"""

from __future__ import annotations

import numpy as np
from hypothesis import assume
from hypothesis import strategies as st

from proofs_check.instances import (
    HOST,
    KERNEL_FUNCTIONS,
    MAX_N,
    SUITE_KERNELS,
    Instance,
    PSDMatrix,
    build,
    clique_adjacency,
    group_vectors,
    invariant_views,
    psd_matrices,
    solver_instances,
)

__all__ = [
    "EPS",
    "MAX_N",
    "KERNEL_KINDS",
    "POINT_KERNELS",
    "PSDMatrix",
    "psd_matrices",
    "group_vectors",
    "clique_adjacency",
    "invariant_views",
    "Instance",
    "instances",
]

#: Float64 machine epsilon (every test instance is host float64).
EPS = float(np.finfo(np.float64).eps)
#: Kernel kinds of the solver suite; ``spectrum`` has no points (no out-of-sample extension).
KERNEL_KINDS = SUITE_KERNELS
POINT_KERNELS = tuple(k for k in KERNEL_KINDS if k in KERNEL_FUNCTIONS)


@st.composite
def instances(draw, *, max_cond: float = 1e6, **options) -> Instance:
    """A solver instance built from :func:`proofs_check.instances.solver_instances` parameters (same options).

    Rank-deficient linear kernels (Gaussian features) have no ridge; those with cond(K) above
    ``max_cond`` are rejected, so every instance has cond(K) <= ``max_cond`` on its range.
    """
    params = draw(solver_instances(max_cond=max_cond, **options), label="params")
    inst = build(params, HOST)
    assume(inst.is_pd or inst.cond <= max_cond)
    return inst
