"""Input checks of N x N matrices run in O(N^2) time with small temporaries (issue 15, item 3), with the same
verdicts as the full-matrix formulas (the oracle: NumPy's max|M|, max|M - M^T| and isfinite on the whole array)."""

from __future__ import annotations

import tracemalloc

import numpy as np
import pytest

from kssl_theory import validation
from kssl_theory.errors import InputError
from kssl_theory.validation import check_matrix


@pytest.mark.parametrize("n", [1, 7, 511, 513, 1030])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_blocked_maxima_equal_the_full_ones(n, dtype):
    rng = np.random.default_rng(n)
    M = rng.standard_normal((n, n)).astype(dtype)
    scale, asym = validation._max_abs_and_asymmetry(M, np)
    assert scale == float(np.max(np.abs(M)))  # maxima of the same numbers: exact
    assert asym == float(np.max(np.abs(M - M.T)))


def test_a_single_asymmetric_or_nan_entry_anywhere_is_found():
    n = 700  # several tiles and row blocks
    base = np.eye(n)
    for i, j in [(0, n - 1), (n - 1, 0), (350, 351), (699, 698)]:
        M = base.copy()
        M[i, j] = 0.5
        with pytest.raises(InputError, match=r"^K is not symmetric: max\|M - M\^T\| = 0\.5 exceeds"):
            check_matrix("K", M, symmetric=True)
        for bad in (np.nan, np.inf, -np.inf):  # read by the symmetry pass, which also checks finiteness
            M[i, j] = bad
            with pytest.raises(InputError, match=r"^K contains 1 NaN or infinite entries"):
                check_matrix("K", M, symmetric=True)


def test_checking_a_large_symmetric_matrix_allocates_no_full_size_temporary():
    n = 1500
    X = np.random.default_rng(0).standard_normal((n, n))
    M = (X + X.T) / 2
    tracemalloc.start()
    check_matrix("K", M, symmetric=True)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    # the old check held |M - M^T| and isfinite(M): > 2 full copies; the blocked one a few tiles
    assert peak < 0.25 * M.nbytes, peak
