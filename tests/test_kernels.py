"""Tests of kssl_theory.kernels: symmetry, PSD, independent oracles, backends, dtypes, errors.

Oracles: scikit-learn / SciPy for linear, polynomial, RBF and Laplace; a Monte Carlo estimate
over Gaussian weights for the arc-cosine kernels; explicit wide random ReLU networks (forward
pass and hand-written backprop, itself checked by finite differences) for the NNGP and NTK.
"""

from __future__ import annotations

import math
import re

import array_api_strict
import numpy as np
import pytest
from array_api_compat import array_namespace
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from scipy.spatial.distance import cdist, pdist
from sklearn.metrics.pairwise import linear_kernel, polynomial_kernel, rbf_kernel

from kssl_theory import kernels as kk
from kssl_theory.backend import to_numpy as to_np
from kssl_theory.errors import InputError

EPS = np.finfo(np.float64).eps
NAMES = ["linear", "polynomial", "rbf", "laplace", "arccos0", "arccos1", "nngp", "ntk"]


def log_floats(lo, hi):
    return st.floats(math.log10(lo), math.log10(hi)).map(lambda e: 10.0**e)


@st.composite
def point_sets(draw, max_n=8, max_d=5):
    """``(X, Y)``: Gaussian points of a drawn size, dimension, seed and scale."""
    n, m = draw(st.integers(2, max_n)), draw(st.integers(1, max_n))
    d = draw(st.integers(1, max_d))
    scale = draw(log_floats(0.1, 10))
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    return rng.standard_normal((n, d)) * scale, rng.standard_normal((m, d)) * scale


@st.composite
def kernel_cases(draw):
    """``(name, params)`` for every kernel in :data:`NAMES` with drawn parameters."""
    name = draw(st.sampled_from(NAMES))
    params = {}
    if name == "polynomial":
        params = dict(
            degree=draw(st.integers(1, 4)), gamma=draw(st.none() | st.floats(0.1, 2)), coef0=draw(st.floats(0, 2))
        )
    elif name in ("rbf", "laplace"):
        params = dict(bandwidth=draw(st.none() | log_floats(0.1, 10)))
    elif name in ("nngp", "ntk"):
        params = dict(depth=draw(st.integers(1, 4)), weight_var=draw(st.floats(0.5, 3)), bias_var=draw(st.floats(0, 1)))
    return name, params


# Entries carry a relative error (to max|K|) of at most a few (d + depth) eps; by Weyl's
# inequality an entrywise error e moves eigenvalues by at most N e, and the eigensolver adds
# O(N eps ||K||). c = 100 covers d <= 5, depth <= 4 with a margin.
PSD_C = 100


@settings(max_examples=60)
@given(kernel_cases(), point_sets())
def test_symmetric_and_psd(case, XY):
    name, params = case
    X, _ = XY
    K = kk.get_kernel(name, **params)(X)
    assert K.shape == (X.shape[0],) * 2
    assert np.array_equal(K, K.T), "Y=None must give an exactly symmetric block"
    w = np.linalg.eigvalsh(K)
    assert w[0] >= -PSD_C * EPS * np.abs(w).max() * X.shape[0]


# --- independent oracles -----------------------------------------------------------------


@settings(max_examples=25)
@given(point_sets(), st.integers(1, 4), st.none() | st.floats(0.1, 2), st.floats(0, 2))
def test_linear_and_polynomial_match_sklearn(XY, degree, gamma, coef0):
    X, Y = XY
    # Same formula as scikit-learn; differences are a few ulps of the largest entry.
    for K, ref in [
        (kk.linear(X, Y), linear_kernel(X, Y)),
        (kk.linear(X), linear_kernel(X)),
        (
            kk.polynomial(X, Y, degree=degree, gamma=gamma, coef0=coef0),
            polynomial_kernel(X, Y, degree=degree, gamma=gamma, coef0=coef0),
        ),
    ]:
        np.testing.assert_allclose(K, ref, rtol=1e-12, atol=1e-12 * np.abs(ref).max())


def _sq_dist_error(X, Y, center=True):
    """Bound on the absolute error of Gram-expansion squared distances, centred at mean(X) or not."""
    mu = X.mean(axis=0) if center else 0.0
    nx, ny = ((X - mu) ** 2).sum(axis=1), ((Y - mu) ** 2).sum(axis=1)
    return 16 * X.shape[1] * EPS * (nx[:, None] + ny[None, :])


@settings(max_examples=25)
@given(point_sets(), log_floats(0.1, 10))
def test_rbf_matches_sklearn(XY, sigma):
    X, Y = XY
    ref = rbf_kernel(X, Y, gamma=1 / (2 * sigma**2))
    # dK = K dD2 / (2 sigma^2); scikit-learn uses the Gram expansion too, without centring.
    e2 = _sq_dist_error(X, Y) + _sq_dist_error(X, Y, center=False)
    assert np.all(np.abs(kk.rbf(X, Y, bandwidth=sigma) - ref) <= ref * e2 / (2 * sigma**2) + 4 * EPS)


@settings(max_examples=25)
@given(point_sets(), log_floats(0.1, 10))
def test_laplace_matches_euclidean_cdist(XY, sigma):
    X, Y = XY
    D = cdist(X, Y)  # direct differences: accurate to a few ulps
    ref = np.exp(-D / sigma)
    e2 = _sq_dist_error(X, Y)
    # sqrt turns a squared-distance error e2 into at most min(sqrt(e2), e2 / D).
    errD = np.minimum(np.sqrt(e2), e2 / np.maximum(D, 1e-300)) + 4 * EPS * D
    assert np.all(np.abs(kk.laplace(X, Y, bandwidth=sigma) - ref) <= ref * errD / sigma + 4 * EPS)


@settings(max_examples=8)
@given(st.integers(0, 1), st.integers(2, 5), st.integers(1, 4), st.integers(0, 2**32 - 1))
def test_arccos_matches_monte_carlo(order, n, d, seed):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, d))
    W = rng.standard_normal((200_000, d))
    U = W @ X.T
    phi = np.sqrt(2) * np.where(U > 0, U**order, 0.0)  # feature map with Theta(0) = 0 (a null set)
    prod = phi[:, :, None] * phi[:, None, :]
    mc, se = prod.mean(axis=0), prod.std(axis=0) / np.sqrt(W.shape[0])
    # 5 standard errors: two-sided normal tail 6e-7 per entry.
    assert np.all(np.abs(kk.arccos(X, order=order) - mc) <= 5 * se + 1e-12)


def test_arccos_zero_vector_convention():
    X = np.array([[0.0, 0.0], [1.0, 2.0], [-3.0, 0.5]])
    K0, K1 = kk.arccos(X, order=0), kk.arccos(X, order=1)
    assert np.all(K0[0] == 0.5) and np.all(K0[:, 0] == 0.5)  # 2 E[Theta(0) Theta(w.y)], Theta(0) = 1/2
    assert np.all(K1[0] == 0) and np.all(K1[:, 0] == 0)
    np.testing.assert_allclose(np.diag(K1), (X**2).sum(axis=1), rtol=1e-14)
    np.testing.assert_array_equal(np.diag(K0)[1:], 1.0)


def _mlp(rng, d_in, width, depth, dtype=np.float64):
    """i.i.d. N(0, 1) weights and biases of a ReLU MLP: ``depth`` hidden layers, scalar readout."""
    sizes = [d_in] + [width] * depth + [1]
    return [
        (rng.standard_normal((a, b), dtype=dtype), rng.standard_normal(b, dtype=dtype))
        for a, b in zip(sizes[:-1], sizes[1:])
    ]


def _forward_backward(params, X, weight_var, bias_var):
    """NTK-parameterised forward pass and backprop by hand.

    Returns the output ``f`` (one per row of ``X``), each layer's input ``a`` and
    ``delta = df/dh`` for its pre-activation ``h = sigma_w a W / sqrt(n_in) + sigma_b b``.
    """
    sw, sb = math.sqrt(weight_var), math.sqrt(bias_var)
    a, inputs, pre = X, [], []
    for W, b in params:
        inputs.append(a)
        h = sw * a @ W / math.sqrt(W.shape[0]) + sb * b
        pre.append(h)
        a = np.maximum(h, 0)
    deltas, delta = [None] * len(params), np.ones_like(h)
    for layer in reversed(range(len(params))):
        deltas[layer] = delta
        if layer:
            W = params[layer][0]
            delta = sw / math.sqrt(W.shape[0]) * (delta @ W.T) * (pre[layer - 1] > 0)
    return h[:, 0], inputs, deltas


def _jacobian(params, X, weight_var, bias_var):
    """Explicit per-parameter gradients df/dp, one row per point (W flattened in C order, then b)."""
    _, inputs, deltas = _forward_backward(params, X, weight_var, bias_var)
    cols = []
    for (W, _), a, delta in zip(params, inputs, deltas):
        cols.append((math.sqrt(weight_var / W.shape[0]) * a[:, :, None] * delta[:, None, :]).reshape(len(X), -1))
        cols.append(math.sqrt(bias_var) * delta)
    return np.hstack(cols)


def _empirical_kernels(params, X, weight_var, bias_var):
    """Empirical NNGP (readout integrated out exactly) and NTK = J J^T, contracted layer-wise."""
    _, inputs, deltas = _forward_backward(params, X, weight_var, bias_var)
    ntk = sum((weight_var / a.shape[1] * (a @ a.T) + bias_var) * (dl @ dl.T) for a, dl in zip(inputs, deltas))
    a = inputs[-1]
    return weight_var * (a @ a.T) / a.shape[1] + bias_var, ntk


def test_network_oracle_gradients_match_finite_differences():
    rng = np.random.default_rng(7)
    X, wv, bv = rng.standard_normal((4, 3)), 1.7, 0.3
    params = _mlp(rng, 3, 6, 2)
    J = _jacobian(params, X, wv, bv)
    flat = [p for pair in params for p in pair]
    fd, h = [], 1e-6
    for p in flat:
        for i in range(p.size):
            old = p.flat[i]
            p.flat[i] = old + h
            up = _forward_backward(params, X, wv, bv)[0]
            p.flat[i] = old - h
            down = _forward_backward(params, X, wv, bv)[0]
            p.flat[i] = old
            fd.append((up - down) / (2 * h))
    np.testing.assert_allclose(J, np.array(fd).T, atol=1e-7)
    np.testing.assert_allclose(_empirical_kernels(params, X, wv, bv)[1], J @ J.T, rtol=1e-12)


@settings(max_examples=4)
@given(st.integers(1, 3), st.floats(1, 2.5), st.sampled_from([0.0, 0.2, 1.0]), st.integers(0, 2**32 - 1))
def test_relu_nngp_ntk_match_wide_networks(depth, weight_var, bias_var, seed):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((5, 3))
    # The per-net noise is O(1/sqrt(width)), so the standard error of the mean over nets scales as
    # 1/sqrt(width * nets): 1024 x 16 is as precise as 4096 x 4, at a quarter of the sampling
    # cost (n x n weight matrices), and leaves enough nets to estimate the standard error.
    # float32 weights sample faster; their round-off (1e-6) is far below the noise (~1e-2).
    width, nets = 1024, 16
    samples = np.array(
        [
            _empirical_kernels(_mlp(rng, 3, width, depth, np.float32), X.astype(np.float32), weight_var, bias_var)
            for _ in range(nets)
        ],
        dtype=np.float64,
    )
    for emp, ref in zip(
        samples.transpose(1, 0, 2, 3),
        [
            kk.relu_nngp(X, depth=depth, weight_var=weight_var, bias_var=bias_var),
            kk.relu_ntk(X, depth=depth, weight_var=weight_var, bias_var=bias_var),
        ],
    ):
        mean, se = emp.mean(axis=0), emp.std(axis=0, ddof=1) / math.sqrt(nets)
        # Fluctuations are O(1/sqrt(width)) per net, so se ~ 1/sqrt(width * nets); 6 se bounds a
        # t-statistic with 15 dof (tail 2e-5 per entry). The mean differs from the limit by
        # O(depth / width) (finite-width correction), allowed with a factor 2.
        assert np.all(np.abs(mean - ref) <= 6 * se + 2 * (depth + 1) / width * np.abs(ref).max())


def test_nngp_depth_one_is_scaled_arccos1():
    X = np.random.default_rng(3).standard_normal((6, 4))
    np.testing.assert_allclose(kk.relu_nngp(X, weight_var=1.5), 0.75 * kk.arccos(X * math.sqrt(1.5 / 4)), rtol=1e-13)


# --- backends, dtypes, bandwidth -----------------------------------------------------------


@settings(max_examples=15, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(case=kernel_cases(), XY=point_sets())
def test_backends_agree_with_numpy(xp, case, XY):
    name, params = case
    X, Y = XY
    fn = kk.get_kernel(name, **params)
    for args in [(X,), (X, Y)]:
        out = fn(*(xp.asarray(a) for a in args))
        assert array_namespace(out) == array_namespace(xp.asarray(X))
        ref = fn(*args)
        np.testing.assert_allclose(to_np(out), ref, rtol=1e-12, atol=1e-12 * np.abs(ref).max())


@settings(max_examples=25)
@given(point_sets(max_n=12))
def test_median_bandwidth_is_median_of_pdist(XY):
    X, _ = XY
    assert kk.median_bandwidth(X) == pytest.approx(np.median(pdist(X)), rel=1e-10)
    assert kk.median_bandwidth(array_api_strict.asarray(X)) == pytest.approx(np.median(pdist(X)), rel=1e-10)


# Scale: distances are formed in units of a power of two near the bandwidth, so the RBF and
# Laplace kernels and the median heuristic work at any scale. Before, squared distances and
# sigma^2 under/overflowed past 1e+-154: points at scale 1e-160 gave K off by 1e-4 silently,
# and 1e-162 or 1e154 an InputError. Oracle: the same points at scale 1, where the float64
# arithmetic is the reference of the sklearn/cdist tests above. Tolerance: scaling rounds each
# coordinate (1 eps relative), so the exponent z = |x-y|^2/(2 sigma^2) moves by a few eps * z,
# and K = e^-z by at most e^-z z (few eps) <= few eps / e: 20 eps is ample for d <= 5.
@settings(max_examples=40)
@given(point_sets(), st.integers(-290, 290), st.sampled_from(["rbf", "laplace"]), st.booleans())
def test_rbf_and_laplace_are_scale_invariant_over_the_float_range(XY, exponent, name, default_bandwidth):
    X, Y = XY
    c = 10.0**exponent
    kernel = kk.get_kernel(name)
    sigma = None if default_bandwidth else kk.median_bandwidth(X)
    scaled = kernel(X * c, Y * c, bandwidth=None if sigma is None else sigma * c)
    np.testing.assert_allclose(scaled, kernel(X, Y, bandwidth=sigma), rtol=0, atol=20 * EPS)
    assert kk.median_bandwidth(X * c) == pytest.approx(c * np.median(pdist(X)), rel=20 * EPS)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("name", ["rbf", "laplace"])
def test_bandwidths_beyond_the_dtype_range_saturate(name, dtype):
    # sigma far below the distances: k = 1 on the diagonal, e^(-huge) = 0 off it; far above: e^0 = 1.
    X = np.array([[0.0, 0.0], [1.0, 0.0], [1.0, 1e-3]], dtype=dtype)
    kernel = kk.get_kernel(name)
    for tiny in (1e-30, 1e-160, 1e-300, 5e-324):
        np.testing.assert_array_equal(kernel(X, bandwidth=tiny), np.eye(3))
    for huge in (1e160, 1e300, 1.7e308):
        np.testing.assert_array_equal(kernel(X, bandwidth=huge), np.ones((3, 3)))


def test_overflow_is_refused_without_numpy_warnings():
    import warnings

    huge = np.array([[1e200, 3.0], [2e200, -1e200]])
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # a RuntimeWarning before the InputError would fail here
        for name in ("linear", "polynomial", "nngp", "ntk"):
            with pytest.raises(InputError, match="overflowed"):
                kk.get_kernel(name)(huge)
    # points beyond max_float * bandwidth (the halve-then-scale path): 1 on the diagonal and for
    # the duplicate, 0 elsewhere (distinct points there are >= 1e290 bandwidths apart)
    far = np.array([[1e300], [-1e300], [1e300 * (1 + 1e-15)], [1e300]])
    expected = np.eye(4)
    expected[0, 3] = expected[3, 0] = 1.0
    for name in ("rbf", "laplace"):
        np.testing.assert_array_equal(kk.get_kernel(name)(far, bandwidth=1e-20), expected)


def test_default_bandwidth_is_median_of_first_argument():
    rng = np.random.default_rng(0)
    X, Y = rng.standard_normal((7, 3)), 5 * rng.standard_normal((4, 3))
    s = kk.median_bandwidth(X)
    for fn in (kk.rbf, kk.laplace):
        np.testing.assert_array_equal(fn(X, Y), fn(X, Y, bandwidth=s))
        np.testing.assert_array_equal(fn(X), fn(X, bandwidth=s))


def test_exact_diagonals():
    X = np.random.default_rng(1).standard_normal((6, 4)) * 30
    for name in ("rbf", "laplace", "arccos0"):
        np.testing.assert_array_equal(np.diag(kk.get_kernel(name)(X)), 1.0)
    np.testing.assert_allclose(np.diag(kk.relu_nngp(X, depth=3)), 2 * (X**2).sum(axis=1) / 4, rtol=1e-14)


@pytest.mark.parametrize("name", NAMES)
def test_float32_in_float32_out(name):
    X = np.random.default_rng(2).standard_normal((5, 3))
    K32 = kk.get_kernel(name)(X.astype(np.float32), X[:2].astype(np.float32))
    assert K32.dtype == np.float32
    K64 = kk.get_kernel(name)(X, X[:2])
    np.testing.assert_allclose(K32, K64, atol=1e-5 * np.abs(K64).max())
    assert (
        kk.get_kernel(name)(array_api_strict.asarray(X, dtype=array_api_strict.float32)).dtype
        == array_api_strict.float32
    )


def test_integer_input_promoted_to_float64():
    assert kk.linear(np.arange(6).reshape(3, 2)).dtype == np.float64


# --- get_kernel and precomputed --------------------------------------------------------------


def test_get_kernel_names_aliases_and_callables():
    X = np.random.default_rng(4).standard_normal((5, 2))
    for a, b in [("poly", "polynomial"), ("gaussian", "rbf"), ("laplacian", "laplace"), ("RBF", "rbf")]:
        np.testing.assert_array_equal(kk.get_kernel(a)(X), kk.get_kernel(b)(X))
    np.testing.assert_array_equal(kk.get_kernel("arccos0")(X), kk.arccos(X, order=0))
    np.testing.assert_array_equal(kk.get_kernel("ntk", depth=2)(X), kk.relu_ntk(X, depth=2))
    np.testing.assert_array_equal(kk.get_kernel(kk.rbf, bandwidth=2.0)(X), kk.rbf(X, bandwidth=2.0))
    assert set(NAMES) <= set(kk.KERNELS)


@settings(max_examples=25)
@given(st.integers(2, 10), st.integers(0, 2**32 - 1), log_floats(1e-3, 1e3))
def test_precomputed_accepts_psd_with_roundoff(n, seed, top):
    rng = np.random.default_rng(seed)
    Q = np.linalg.qr(rng.standard_normal((n, n)))[0]
    lam = top * rng.uniform(0, 1, n)
    lam[0] = -10 * n * EPS * lam[1:].max()  # negative round-off within the 100 N eps ||K|| tolerance
    K = (Q * lam) @ Q.T
    K = (K + K.T) / 2
    assert kk.precomputed(K) is K


@settings(max_examples=25)
@given(st.integers(2, 10), st.integers(0, 2**32 - 1), log_floats(1e-6, 1))
def test_precomputed_rejects_indefinite(n, seed, neg):
    rng = np.random.default_rng(seed)
    Q = np.linalg.qr(rng.standard_normal((n, n)))[0]
    lam = np.concatenate([[-neg], rng.uniform(0.5, 1, n - 1)])
    K = (Q * lam) @ Q.T
    with pytest.raises(InputError, match="not positive semi-definite") as info:
        kk.precomputed((K + K.T) / 2)
    reported = float(re.search(r"smallest eigenvalue is (\S+) <", str(info.value)).group(1))
    assert reported == pytest.approx(-neg, rel=1e-2)  # printed with 3 significant digits


# --- bad inputs ------------------------------------------------------------------------------

_X = np.random.default_rng(5).standard_normal((5, 3))
_NAN = _X.copy()
_NAN[1, 1] = np.nan
_INF = _X.copy()
_INF[0, 2] = np.inf
_ASYM = np.array([[2.0, 1.0], [0.0, 2.0]])

BAD = [
    (lambda: kk.rbf(_NAN), InputError, "X contains 1 NaN or infinite"),
    (lambda: kk.linear(_X, _INF), InputError, "Y contains 1 NaN or infinite"),
    (lambda: kk.linear(np.zeros((2, 2, 2))), InputError, "must be 2-D"),
    (lambda: kk.rbf(np.zeros((0, 3))), InputError, "X is empty"),
    (lambda: kk.linear(_X, np.zeros((4, 0))), InputError, "Y is empty"),
    (lambda: kk.rbf(_X, _X[:, :2]), InputError, r"\(5, 3\) and Y has shape \(5, 2\)"),
    (lambda: kk.relu_ntk(_X, _X[:, :2]), InputError, "feature counts differ"),
    (lambda: kk.linear(_X, array_api_strict.asarray(_X)), InputError, "different array libraries"),
    (lambda: kk.rbf(_X, bandwidth=0.0), InputError, "bandwidth must be > 0"),
    (lambda: kk.laplace(_X, bandwidth=-1.0), InputError, "bandwidth must be > 0"),
    (lambda: kk.rbf(_X, bandwidth=float("nan")), InputError, "bandwidth must be finite"),
    (lambda: kk.median_bandwidth(_X[:1]), InputError, "at least 2 points"),
    (lambda: kk.rbf(np.ones((4, 2))), InputError, "median pairwise distance of X is 0"),
    (lambda: kk.polynomial(_X, degree=0), InputError, "degree must be an integer >= 1"),
    (lambda: kk.polynomial(_X, degree=2.5), InputError, "degree must be an integer"),
    (lambda: kk.polynomial(_X, coef0=-1.0), InputError, "coef0 must be >= 0"),
    (lambda: kk.polynomial(_X, gamma=0.0), InputError, "gamma must be > 0"),
    (lambda: kk.arccos(_X, order=2), InputError, "order must be 0 or 1"),
    (lambda: kk.relu_nngp(_X, depth=0), InputError, "depth must be an integer >= 1"),
    (lambda: kk.relu_ntk(_X, depth=True), InputError, "depth must be an integer"),
    (lambda: kk.relu_ntk(_X, weight_var=0.0), InputError, "weight_var must be > 0"),
    (lambda: kk.relu_nngp(_X, bias_var=-0.1), InputError, "bias_var must be >= 0"),
    (lambda: kk.get_kernel("cosine"), InputError, "unknown kernel 'cosine'; valid names: arccos0"),
    (lambda: kk.get_kernel("rbf", sigma=1.0), InputError, "invalid parameters"),
    (lambda: kk.get_kernel(42), InputError, "name or a callable"),
    (lambda: kk.precomputed(np.diag([1.0, -1.0])), InputError, "not positive semi-definite"),
    (lambda: kk.precomputed(_ASYM), InputError, "K is not symmetric"),
    (lambda: kk.precomputed(np.ones((2, 3))), InputError, "must be square"),
    (lambda: kk.precomputed(np.ones(3)), InputError, "2-D matrix"),
]


@pytest.mark.parametrize("call, error, fragment", BAD, ids=[f[2][:30] for f in BAD])
def test_bad_inputs(call, error, fragment):
    with pytest.raises(error, match=fragment):
        call()
