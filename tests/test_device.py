"""Device contract: every output lives on the device of the inputs, and the device changes nothing else.

``array_api_strict`` has a second device whose arrays cannot be combined with arrays on the default
device, so any array the package creates without ``device=`` either raises or lands on the wrong
device. This is the CPU stand-in for a GPU: CuPy arrays on a second GPU behave the same way.

Oracle: the same problem on the default device. Both devices run the same NumPy code underneath, so
the results must be *equal*, not merely close; an output on the wrong device is a failure by the
contract ("results stay in the input's namespace and on its device", :mod:`kssl_theory.backend`).
"""

from __future__ import annotations

import warnings

import array_api_strict as xs
import numpy as np
import pytest

import kssl_theory as kt
from kssl_theory.graphs import RelationGraph

DEV1 = xs.Device("device1")
CPU = xs.Device("CPU_DEVICE")
GROUPS = np.repeat(np.arange(4), 3)
N = GROUPS.size


def _instance(seed=0, ridge=1e-3):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((N, 3))
    K = np.exp(-((X[:, None] - X[None]) ** 2).sum(-1) / 4) + ridge * np.eye(N)
    W = rng.uniform(0, 1, (N, N))
    W = (W + W.T) / 2
    np.fill_diagonal(W, 0)
    return K, (GROUPS[:, None] == GROUPS[None]).astype(float), W


def _host(x):
    """Exact host copy of a strict array on any device."""
    return np.asarray(x.to_device(CPU))


#: Every objective and option family the solver dispatches on differently.
CASES = [
    ("contrastive", {}),
    ("contrastive", {"reg": 0.1}),
    ("vicreg", {}),
    ("vicreg", {"reg": 0.1}),
    ("vicreg", {"centred": True}),
    ("laplacian_eigenmaps", {}),
    ("laplacian_eigenmaps", {"normalized": True}),
    ("whitened", {}),
]


def _solve_on(device, objective, opts, K, A, method, **extra):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", kt.IllConditionedWarning)
        return kt.solve(
            objective, xs.asarray(K, device=device), xs.asarray(A, device=device), 2, method=method, **opts, **extra
        )


@pytest.mark.parametrize("graph", ["cliques", "weighted"])
@pytest.mark.parametrize("method", ["auto", "dense"])
@pytest.mark.parametrize(
    "objective,opts", CASES, ids=[f"{o}-{'-'.join(map(str, p.items())) or 'plain'}" for o, p in CASES]
)
def test_solve_keeps_the_device_and_the_numbers(objective, opts, method, graph):
    K, A_cl, W = _instance()
    A = A_cl if graph == "cliques" else W
    on_dev1 = _solve_on(DEV1, objective, opts, K, A, method)
    on_cpu = _solve_on(CPU, objective, opts, K, A, method)
    outputs = {
        "embedding": on_dev1.embedding,
        "coef": on_dev1.coef,
        "eigenvalues": on_dev1.eigenvalues,
        "gram": on_dev1.gram,
        "transform": on_dev1.transform(xs.asarray(K[:3], device=DEV1)),
    }
    reference = {
        "embedding": on_cpu.embedding,
        "coef": on_cpu.coef,
        "eigenvalues": on_cpu.eigenvalues,
        "gram": on_cpu.gram,
        "transform": on_cpu.transform(xs.asarray(K[:3], device=CPU)),
    }
    for name, value in outputs.items():
        assert value.device == DEV1, f"{name} left the input's device"
        np.testing.assert_array_equal(_host(value), _host(reference[name]), err_msg=name)
    assert float(on_dev1.loss) == float(on_cpu.loss)
    literal = kt.loss(
        objective,
        on_dev1.embedding,
        xs.asarray(A, device=DEV1),
        K=xs.asarray(K, device=DEV1),
        coef=on_dev1.coef,
        **opts,
    )
    assert float(literal) == float(
        kt.loss(
            objective,
            on_cpu.embedding,
            xs.asarray(A, device=CPU),
            K=xs.asarray(K, device=CPU),
            coef=on_cpu.coef,
            **opts,
        )
    )


def test_singular_kernel_paths_keep_the_device():
    """Rank-deficient K goes through the eigendecomposition factor (range basis, K^+ by eigenvalues,
    the centred O2's part of 1 outside range(K)): same contract."""
    rng = np.random.default_rng(3)
    F = rng.standard_normal((N, 5))
    K, A, _ = _instance()
    K = F @ F.T
    for objective, opts in [("contrastive", {"reg": 0.1}), ("vicreg", {"centred": True}), ("whitened", {})]:
        on_dev1 = _solve_on(DEV1, objective, opts, K, A, "dense")
        on_cpu = _solve_on(CPU, objective, opts, K, A, "dense")
        assert on_dev1.coef.device == DEV1 and on_dev1.embedding.device == DEV1
        np.testing.assert_array_equal(_host(on_dev1.coef), _host(on_cpu.coef))


def test_alternative_of_a_tie_keeps_the_device():
    """A tied spectrum (two equal cliques, K = I): alternative() rotates inside the tie on the input's device."""
    K = np.eye(N)
    A = (GROUPS[:, None] == GROUPS[None]).astype(float)
    sol = _solve_on(DEV1, "contrastive", {}, K, A, "dense")
    assert not sol.is_unique
    alt = sol.alternative(1)
    assert alt.embedding.device == DEV1 and alt.coef.device == DEV1
    # Four equal cliques of 3: T = A has eigenvalue 3 four times, so every rotation is optimal and
    # the minimum is ||A||_F^2 - 2 * 3^2 = 36 - 18 = 18 (docs/theory.md §3, O1 with lambda = 0).
    assert abs(float(alt.loss) - 18.0) <= 1e-12 * 18


def test_estimator_and_nystrom_keep_the_device():
    X = np.random.default_rng(5).standard_normal((N, 2))
    for landmarks in (None, 6):
        est = kt.KernelSSL(dim=2, n_landmarks=landmarks)
        Z = est.fit_transform(xs.asarray(X, device=DEV1), GROUPS)
        assert Z.device == DEV1
        Z_cpu = kt.KernelSSL(dim=2, n_landmarks=landmarks).fit_transform(xs.asarray(X, device=CPU), GROUPS)
        np.testing.assert_array_equal(_host(Z), _host(Z_cpu))


def test_relation_graph_and_metrics_keep_the_device():
    K, A, W = _instance()
    rel = RelationGraph(xs.asarray(W, device=DEV1))
    assert rel.laplacian.device == DEV1
    sol = _solve_on(DEV1, "contrastive", {}, K, A, "dense")
    ref = _solve_on(CPU, "contrastive", {}, K, A, "dense")
    assert kt.cosine_matrix(sol.gram).device == DEV1
    for metric in (kt.alignment, kt.decorrelation):
        assert metric(sol.gram, GROUPS) == metric(ref.gram, GROUPS)


def test_penalty_deflation_keeps_the_device():
    """A kernel eigenvalue of 1e-11 with reg = 1 gives a penalty 5e10, and the relation matrix couples that
    eigen-coordinate to the others only by entries ~1e-4, so the engine deflates it (accuracy module,
    "Penalty deflation"); the index array it builds must live on the input's device. Oracle: the
    default-device result, equal."""
    rng = np.random.default_rng(4)
    Q, _ = np.linalg.qr(rng.normal(size=(N, N)))
    K = (Q * np.r_[np.linspace(1.0, 2.0, N - 1), 1e-11]) @ Q.T
    K = (K + K.T) / 2
    Bt = rng.normal(size=(N, N))
    Bt = (Bt + Bt.T) / 4
    Bt[-1, :] *= 1e-4
    Bt[:, -1] *= 1e-4
    A = Q @ Bt @ Q.T
    A = (A + A.T) / 2
    on_dev1 = _solve_on(DEV1, "contrastive", {"reg": 1.0}, K, A, "dense")
    on_cpu = _solve_on(CPU, "contrastive", {"reg": 1.0}, K, A, "dense")
    assert on_cpu.eigenvalues.shape[0] < N  # precondition: a coordinate was deflated
    assert on_dev1.embedding.device == DEV1
    np.testing.assert_array_equal(_host(on_dev1.embedding), _host(on_cpu.embedding))


def test_kernel_factor_penalty_matrix_keeps_the_device():
    """KernelFactor.solve_scaled_identity(c) = c K^-1 (the generated targets' -(lambda/2) K^+ term) on device1.
    Oracle: c times NumPy's inverse of the same K (kappa ~ 10: agreement to 1e-12 relative)."""
    from kssl_theory.kernel_regime.kernel_factor import KernelFactor

    K, _, _ = _instance()
    P = KernelFactor(xs.asarray(K, device=DEV1)).solve_scaled_identity(0.5)
    assert P.device == DEV1
    expected = 0.5 * np.linalg.inv(K)
    np.testing.assert_allclose(_host(P), expected, rtol=0, atol=1e-12 * np.abs(expected).max() * np.linalg.cond(K))


@pytest.mark.parametrize("objective,opts", [("contrastive", {}), ("laplacian_eigenmaps", {}), ("vicreg", {})])
def test_clique_path_keeps_float32(objective, opts):
    """The clique fast path builds its spectrum and eigenvectors itself (no eigh): in float32 they must stay
    float32 like every other output (dtype contract). d = 6 > 4 groups, so within-group (Helmert) vectors
    are selected too for O2/O3. Oracle: the dense path on the same float32 problem, equal spectra to float32
    round-off of the exact small-integer values (|value| <= 4, 8 eps32 absolute)."""
    K, A, _ = _instance()
    K32, A32 = K.astype(np.float32), A.astype(np.float32)
    structured = kt.solve(objective, K32, A32, 6, method="structured", **opts)
    dense = kt.solve(objective, K32, A32, 6, method="dense", **opts)
    for name in ("embedding", "coef", "eigenvalues"):
        assert getattr(structured, name).dtype == np.float32, name
    k = min(structured.eigenvalues.shape[0], dense.eigenvalues.shape[0], 7)
    np.testing.assert_allclose(
        structured.eigenvalues[:k],
        dense.eigenvalues[:k],
        rtol=0,
        atol=8 * np.finfo(np.float32).eps * 4 * np.linalg.cond(K),
    )
