"""Fuzzing of the public numeric API: arbitrary shapes, dtypes, values and options.

Contract (issue: robustness): every call either returns a valid finite result satisfying the
basic invariants — PSD Gram matrix of rank <= d, embedding consistent with it, loss equal to the
loss of the returned representation — or raises the package's own :class:`KSSLError`. Never a
bare LinAlgError / IndexError / ZeroDivisionError / TypeError, never NaN in an output.

The default run uses a small budget; ``-m slow`` runs the large one (set by ``FUZZ_EXAMPLES``).
The other public functions are fuzzed in ``test_fuzz_functions.py``; strategies in ``fuzz_strategies.py``.
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from fuzz_strategies import LARGE, SMALL, groups_vectors, matrices, option_values, run_property
from hypothesis import strategies as st

import kssl_theory as kt
from kssl_theory.errors import IllConditionedWarning, KSSLError

OPTION_NAMES = st.sampled_from(
    ["reg", "beta", "c", "centred", "normalized", "laplacian", "gamma", "method", "kernel_rtol", "tie_rtol"]
)


def _check_solution(sol, n, dim):
    """Basic invariants, with tolerances at the output dtype's round-off (100 N eps of the scale)."""
    G = np.asarray(sol.gram, dtype=np.float64)
    Z = np.asarray(sol.embedding, dtype=np.float64)
    assert Z.shape == (n, dim)
    for name in ("embedding", "coef", "eigenvalues"):
        assert np.all(np.isfinite(np.asarray(getattr(sol, name)))), f"non-finite {name}"
    assert np.isfinite(float(sol.loss))
    eps = np.finfo(np.asarray(sol.embedding).dtype).eps
    scale = max(1.0, float(np.abs(G).max()))
    w = np.linalg.eigvalsh((G + G.T) / 2)
    assert w[0] >= -100 * n * eps * scale, "Gram matrix is not PSD"
    assert int(np.sum(w > 100 * n * eps * scale)) <= dim, "Gram matrix rank exceeds dim"


def _call_solve(K, A, dim, name, options):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", IllConditionedWarning)
        warnings.simplefilter("ignore", RuntimeWarning)  # overflow in user-supplied huge inputs is reported via errors
        return kt.solve(name, K, A, dim, **options)


def _solve_property(data):
    K = data.draw(matrices())
    n = K.shape[0] if K.ndim == 2 else 0
    groups = data.draw(groups_vectors(max(n, 1)))
    try:
        A = kt.graphs.adjacency(groups) if data.draw(st.booleans()) else data.draw(matrices())
    except KSSLError:
        return
    dim = data.draw(st.one_of(st.integers(-1, 8), st.floats(0, 3), st.none()))
    name = data.draw(st.sampled_from(["contrastive", "vicreg", "laplacian_eigenmaps", "whitened", "O9"]))
    options = data.draw(st.dictionaries(OPTION_NAMES, option_values(), max_size=2))
    try:
        sol = _call_solve(K, A, dim, name, options)
    except KSSLError:
        return
    _check_solution(sol, n, dim)
    # The returned representation attains the reported loss (definition-based oracle). Both sides
    # carry round-off of the loss's scale (sum |G| + |T|^2 terms) times N eps of the dtype; the reg
    # term applies K^+ and so loses a further factor of the retained condition number.
    if name == "O9":
        return
    eps = float(np.finfo(np.asarray(sol.embedding).dtype).eps)
    cond = sol._factor.effective_cond if sol.options.get("reg", 0) else 1.0
    scale = max(1.0, float(np.abs(np.asarray(sol.gram, dtype=np.float64)).sum()), abs(float(sol.loss)))
    value = float(kt.loss(name, sol.embedding, sol._rel.A, K=sol._factor.K, coef=sol.coef, **sol.options))
    assert abs(value - float(sol.loss)) <= 1000 * n * eps * cond * scale, (value, float(sol.loss))


def _kernel_property(data):
    X = data.draw(matrices())
    Y = data.draw(st.one_of(st.none(), matrices()))
    name = data.draw(st.sampled_from(sorted(kt.kernels.KERNELS) + ["nope"]))
    params = data.draw(
        st.dictionaries(
            st.sampled_from(["bandwidth", "degree", "depth", "gamma", "coef0", "order"]), option_values(), max_size=2
        )
    )
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            K = kt.kernels.get_kernel(name, **params)(X, Y)
    except KSSLError:
        return
    assert np.all(np.isfinite(np.asarray(K))), "kernel returned non-finite entries"


def _estimator_property(data):
    X = data.draw(matrices())
    groups = data.draw(groups_vectors(X.shape[0] if X.ndim == 2 else 0))
    params = data.draw(
        st.dictionaries(
            st.sampled_from(["dim", "reg", "beta", "bandwidth", "kernel", "objective"]),
            st.one_of(option_values(), st.sampled_from(["rbf", "linear", "vicreg", "O3"])),
            max_size=3,
        )
    )
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", IllConditionedWarning)
            warnings.simplefilter("ignore", RuntimeWarning)
            model = kt.KernelSSL(**params).fit(X, groups)
            out = model.transform(X)
    except KSSLError:
        return
    assert np.all(np.isfinite(np.asarray(out)))


PROPERTIES = {"solve": _solve_property, "kernels": _kernel_property, "estimator": _estimator_property}


@pytest.mark.parametrize("name", sorted(PROPERTIES))
def test_fuzz_small_budget(name):
    run_property(PROPERTIES[name], SMALL)


@pytest.mark.slow
@pytest.mark.parametrize("name", sorted(PROPERTIES))
def test_fuzz_large_budget(name):
    run_property(PROPERTIES[name], LARGE)
