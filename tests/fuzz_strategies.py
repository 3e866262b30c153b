"""Hypothesis strategies and the contract check shared by the fuzz suites.

Unlike :mod:`strategies` (well-posed instances built from drawn parameters), these draw
*arbitrary* inputs: any shape, dtype and value, including NaN, infinities, huge, tiny and
subnormal numbers, wrong types and out-of-range integers. The contract every public function
must honour on them (issue: robustness): return a finite, valid result or raise the package's
own :class:`~kssl_theory.errors.KSSLError` — never a bare NumPy/SciPy/Python exception, never NaN
in an output, never an unbounded run time.

Budgets: ``FUZZ_SMALL_EXAMPLES`` (default 60, the default test run) and ``FUZZ_EXAMPLES``
(default 5000, the ``slow`` marker) examples per property.
"""

from __future__ import annotations

import contextlib
import dataclasses
import os
import time
import warnings

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kssl_theory.errors import IllConditionedWarning

__all__ = [
    "SPECIAL",
    "DTYPES",
    "SMALL",
    "LARGE",
    "JUNK",
    "matrices",
    "groups_vectors",
    "option_values",
    "JUNK_RATES",
    "junk_rate",
    "maybe_junk",
    "run_property",
    "quiet",
    "assert_no_nan",
    "timed",
]

SPECIAL = [0.0, -0.0, 1.0, -1.0, 1e-300, 5e-324, 1e300, -1e300, np.nan, np.inf, -np.inf, 1e-8, 3.5]
DTYPES = [np.float64, np.float32, np.int64, np.bool_, np.complex128, np.uint8]
SMALL = int(os.environ.get("FUZZ_SMALL_EXAMPLES", "60"))
LARGE = int(os.environ.get("FUZZ_EXAMPLES", "5000"))

#: Seconds one public call may take on fuzz-sized inputs (at most ~10 rows) before it counts as
#: a hang: every call here is a few LPs or small factorisations, milliseconds when it is bounded.
TIME_LIMIT = 20.0


@st.composite
def matrices(draw, max_side=6):
    """A 2-D array of any shape up to ``max_side``: PSD, singular, random or special-valued, any dtype."""
    rows = draw(st.integers(0, max_side))
    cols = draw(st.one_of(st.just(rows), st.integers(0, max_side)))
    kind = draw(st.sampled_from(["psd", "random", "special", "singular"]))
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    if kind == "psd" and rows == cols:
        F = rng.normal(size=(rows, max(rows, 1))) * draw(st.sampled_from([1.0, 1e-150, 1e150, 1e-5]))
        M = F @ F.T
    elif kind == "singular" and rows == cols:
        F = rng.normal(size=(rows, draw(st.integers(1, max(rows, 1)))))
        M = F @ F.T
    elif kind == "special":
        M = rng.choice(SPECIAL, size=(rows, cols))
    else:
        M = rng.normal(size=(rows, cols))
    dtype = draw(st.sampled_from(DTYPES))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return M.astype(dtype)


@st.composite
def groups_vectors(draw, n):
    """Group labels for ``n`` views: mostly valid, sometimes negative, fractional, mis-sized, empty or one group."""
    kind = draw(st.sampled_from(["valid", "valid", "negative", "float", "wrong_length", "empty", "one_group"]))
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    if kind == "negative":
        return rng.integers(-3, 3, size=n)
    if kind == "float":
        return rng.random(size=n) * 3
    if kind == "wrong_length":
        return rng.integers(0, 3, size=n + 1)
    if kind == "empty":
        return np.array([], dtype=int)
    if kind == "one_group":
        return np.zeros(n, dtype=int)
    return rng.integers(0, max(1, n // 2), size=n)


def option_values():
    """Any scalar an option might be given: floats incl. NaN/inf, small ints, bools, None, short strings."""
    return st.one_of(
        st.floats(allow_nan=True, allow_infinity=True),
        st.integers(-3, 3),
        st.booleans(),
        st.none(),
        st.text(max_size=3),
    )


#: Values that are wrong for almost any argument: wrong types, out-of-range or absurdly large
#: integers (10**12, 2**64: must be refused at once, e.g. by ``check_allocation``, not run; merely
#: large valid counts such as 10**6 views are legitimately slow and not drawn), non-finite
#: floats, ragged lists, 0-d and 3-d arrays.
JUNK = st.one_of(
    st.sampled_from(
        [
            None,
            "x",
            "",
            True,
            -1,
            0,
            10**12,
            2**64,
            1.5,
            np.nan,
            np.inf,
            -np.inf,
            1e300,
            -1e-300,
            [],
            [[1.0], [2.0, 3.0]],
            np.float64(2.0),
            np.int64(-2),
            np.zeros(()),
            np.ones((2, 2, 2)),
        ]
    ),
    option_values(),
)


#: Per-example junk rates: a third of the examples are clean (every argument plausible, so the
#: valid path and its invariants are exercised), the rest replace each argument by junk this often.
JUNK_RATES = (0.0, 0.1, 0.25)


def junk_rate(data) -> float:
    """This example's junk rate, drawn once per example from :data:`JUNK_RATES`."""
    if not hasattr(data, "_kssl_junk_rate"):
        data._kssl_junk_rate = data.draw(st.sampled_from(JUNK_RATES))
    return data._kssl_junk_rate


def maybe_junk(data, plausible, p_junk: float | None = None):
    """Draw from ``plausible``, or from :data:`JUNK` with probability ``p_junk`` (default: :func:`junk_rate`).

    An explicit ``p_junk`` applies only to examples that are not clean (junk rate 0 stays 0).
    """
    rate = junk_rate(data)
    if rate and data.draw(st.integers(0, 999)) < 1000 * (rate if p_junk is None else p_junk):
        return data.draw(JUNK)
    return data.draw(plausible)


def run_property(prop, examples: int) -> None:
    """Run ``prop(data)`` under Hypothesis for ``examples`` examples (no deadline: time is checked by :func:`timed`)."""

    @settings(max_examples=examples, suppress_health_check=list(HealthCheck), deadline=None)
    @given(data=st.data())
    def run(data):
        prop(data)

    run()


@contextlib.contextmanager
def quiet():
    """Silence the warnings the package raises on purpose for ill-conditioned or overflowing inputs."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", IllConditionedWarning)
        warnings.simplefilter("ignore", RuntimeWarning)
        yield


def timed(call, *args, **kwargs):
    """``call(*args, **kwargs)``, failing the example if it ran past :data:`TIME_LIMIT` seconds."""
    start = time.perf_counter()
    try:
        return call(*args, **kwargs)
    finally:
        elapsed = time.perf_counter() - start
        assert elapsed < TIME_LIMIT, f"{getattr(call, '__name__', call)} ran {elapsed:.1f} s on a fuzz-sized input"


def assert_no_nan(value, where: str = "result") -> None:
    """Recursively check a returned value (arrays, scalars, tuples, NamedTuples, dataclasses) holds no NaN."""
    if isinstance(value, np.random.Generator) or callable(value) and not hasattr(value, "shape"):
        return
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        for f in dataclasses.fields(value):
            assert_no_nan(getattr(value, f.name), f"{where}.{f.name}")
        return
    if isinstance(value, tuple) and hasattr(value, "_fields"):
        for name in value._fields:
            assert_no_nan(getattr(value, name), f"{where}.{name}")
        return
    if isinstance(value, (list, tuple)):
        for i, v in enumerate(value):
            assert_no_nan(v, f"{where}[{i}]")
        return
    if isinstance(value, (str, bytes, type(None), bool, int)):
        return
    from kssl_theory.backend import to_numpy

    arr = np.asarray(to_numpy(value)) if hasattr(value, "shape") else np.asarray(value)
    if arr.dtype.kind in "fc":
        assert not np.any(np.isnan(arr)), f"NaN in {where}"
