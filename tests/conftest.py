"""Shared fixtures and Hypothesis profiles.

Profiles (select with ``HYPOTHESIS_PROFILE`` or ``--hypothesis-profile``):

- ``ci``  (default when ``CI`` is set): derandomized, no example database, no deadline.
- ``dev`` (default otherwise): random exploration, more examples, no deadline.
"""

from __future__ import annotations

import os

import numpy as np
import pytest
from hypothesis import HealthCheck, settings

settings.register_profile(
    "ci",
    derandomize=True,
    database=None,
    deadline=None,
    print_blob=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
settings.register_profile(
    "dev",
    deadline=None,
    max_examples=200,
    print_blob=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci" if os.environ.get("CI") else "dev"))


def _cupy_available():
    try:
        import cupy

        return cupy.cuda.runtime.getDeviceCount() > 0
    except Exception:
        return False


def _backend_params():
    params = [pytest.param("numpy", id="numpy"), pytest.param("array_api_strict", id="strict")]
    params.append(
        pytest.param(
            "cupy",
            id="cupy",
            marks=[
                pytest.mark.gpu,
                pytest.mark.skipif(not _cupy_available(), reason="CuPy with a CUDA device is not available"),
            ],
        )
    )
    return params


@pytest.fixture(params=_backend_params())
def xp(request):
    """The array namespace under test: NumPy, array-api-strict, and CuPy when a GPU is present."""
    if request.param == "numpy":
        import array_api_compat.numpy as mod
    elif request.param == "array_api_strict":
        import array_api_strict as mod
    else:
        import array_api_compat.cupy as mod
    return mod


def to_np(x):
    """Host NumPy copy of an array of any namespace (test helper)."""
    from kssl_theory.backend import to_numpy

    return to_numpy(x)


@pytest.fixture
def rng():
    """A seeded NumPy generator, so non-Hypothesis randomness is reproducible."""
    return np.random.default_rng(12345)
