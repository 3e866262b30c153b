"""Host traffic of a computation on an accelerator: vectors, never a matrix with N rows.

Contract (:mod:`kssl_theory.backend`): results stay in the input's namespace and on its device, and
the work is done there. The package may move to the host what its bookkeeping needs — scalars for the
accuracy checks, eigenvalues, a diagonal, group labels: at most one vector of length N at a time — but
never K, A, the embedding or any other array with N rows and several columns (on a GPU such a copy
costs more than the solve and hides in the timings).

Oracle: a spy on the package's device-to-host door. Every array the package copies to the host goes
through :func:`kssl_theory.backend.to_numpy` (CuPy refuses implicit conversions, so any other route
raises instead of copying); the spy records each copy's element count and the package frame that
asked for it. Host-to-device copies are recorded by a spy on the namespace's ``asarray`` (a NumPy
array given to it). Both run on array-api-strict's second device here (the CPU stand-in for a GPU,
see ``test_device.py``) and on CuPy with ``-m gpu``.

Bound: N elements per copy (one vector). The test instance has N = 480 views and d = 3, so a copy of
an ``N x (d + 1)`` array (1,920 elements) already fails it, and an ``N x N`` one by a factor of 480.
"""

from __future__ import annotations

import sys
import warnings
from contextlib import contextmanager

import numpy as np
import pytest
from conftest import _cupy_available

import kssl_theory as kt
import kssl_theory.backend as B

GROUPS = np.repeat(np.arange(160), 3)
N = GROUPS.size
DIM = 3


def _caller() -> str:
    """The innermost frame of the package (outside backend.py) that asked for the copy."""
    frame = sys._getframe(2)
    while frame is not None:
        name = frame.f_globals.get("__name__", "")
        if name.startswith("kssl_theory") and name != "kssl_theory.backend":
            return f"{name}:{frame.f_code.co_name}:{frame.f_lineno}"
        frame = frame.f_back
    return "outside the package"


@contextmanager
def _spy(monkeypatch, xp):
    """Record ``(direction, elements, caller)`` of every copy between host and ``xp``'s device."""
    log: list[tuple[str, int, str]] = []
    real_to_numpy = B.to_numpy
    real_asarray = xp.asarray

    def to_numpy(x):
        out = real_to_numpy(x)
        log.append(("to host", int(out.size), _caller()))
        return out

    def asarray(obj, *args, **kwargs):
        if isinstance(obj, np.ndarray):
            log.append(("to device", int(obj.size), _caller()))
        return real_asarray(obj, *args, **kwargs)

    with monkeypatch.context() as m:
        m.setattr(B, "to_numpy", to_numpy)
        m.setattr(xp, "asarray", asarray)
        yield log


def _namespace(name):
    if name == "strict":
        import array_api_strict as xs

        return xs, xs.Device("device1")
    import array_api_compat.cupy as xc
    import cupy

    return xc, cupy.cuda.Device(0)


#: The marks of a CuPy case: off by default, skipped without a CUDA device.
ON_GPU = [pytest.mark.gpu, pytest.mark.skipif(not _cupy_available(), reason="CuPy with a CUDA device is not available")]
BACKENDS = [pytest.param("strict", id="strict-device1"), pytest.param("cupy", id="cupy", marks=ON_GPU)]


def _instance(seed=0):
    rng = np.random.default_rng(seed)
    X = np.repeat(rng.standard_normal((N // 3, 4)), 3, axis=0) + 0.3 * rng.standard_normal((N, 4))
    sq = ((X[:, None] - X[None]) ** 2).sum(-1)
    K = np.exp(-sq / np.median(sq)) + 1e-3 * np.eye(N)
    A = (GROUPS[:, None] == GROUPS[None]).astype(float)
    W = A.copy()
    W[np.arange(N - 1), np.arange(1, N)] = W[np.arange(1, N), np.arange(N - 1)] = 0.5  # a chain: not cliques
    return X, K, A, W


def _assert_vectors_only(log, what):
    big = [entry for entry in log if entry[1] > N]
    assert not big, f"{what}: copies with more than N = {N} elements: {big}"


CASES = [
    ("contrastive", {}),
    ("contrastive", {"reg": 0.1}),
    ("vicreg", {"beta": 0.5}),
    ("laplacian_eigenmaps", {}),
    ("whitened", {}),
]


#: (backend, method): array-api-strict has no Lanczos solver, so "iterative" is exercised on CuPy only.
BACKEND_METHODS = [
    pytest.param("strict", "auto", id="strict-device1-auto"),
    pytest.param("strict", "dense", id="strict-device1-dense"),
    *[pytest.param("cupy", method, id=f"cupy-{method}", marks=ON_GPU) for method in ("auto", "dense", "iterative")],
]


@pytest.mark.parametrize("backend, method", BACKEND_METHODS)
@pytest.mark.parametrize("graph", ["cliques", "chain"])
@pytest.mark.parametrize("objective,opts", CASES, ids=[f"{o}-{'-'.join(map(str, p.values()))}" for o, p in CASES])
def test_solve_moves_no_matrix_to_the_host(monkeypatch, backend, method, graph, objective, opts):
    xp, device = _namespace(backend)
    _, K, A, W = _instance()
    Kd = xp.asarray(K, device=device)
    Ad = xp.asarray(A if graph == "cliques" else W, device=device)
    with _spy(monkeypatch, xp) as log, warnings.catch_warnings():
        warnings.simplefilter("ignore", kt.IllConditionedWarning)
        sol = kt.solve(objective, Kd, Ad, DIM, method=method, **opts)
        sol.embedding, sol.coef, sol.gram  # noqa: B018 (lazy outputs are part of the solve)
    assert sol.embedding.shape == (N, DIM)
    _assert_vectors_only(log, f"{objective} {opts} on {graph} ({method} -> {sol.method})")


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("landmarks, rule", [(None, "rpcholesky"), (40, "uniform"), (40, "rpcholesky")])
def test_estimator_moves_no_matrix_to_the_host(monkeypatch, backend, landmarks, rule):
    """KernelSSL end to end from points and group labels: K from the points, the clique graph from the labels,
    and with Nystrom the landmark rule and the projection of the graph on the features."""
    xp, device = _namespace(backend)
    X, _, _, _ = _instance()
    Xd = xp.asarray(X, device=device)
    with _spy(monkeypatch, xp) as log, warnings.catch_warnings():
        warnings.simplefilter("ignore", kt.IllConditionedWarning)  # the RBF K of 480 points is numerically singular
        est = kt.KernelSSL(dim=DIM, n_landmarks=landmarks, landmark_rule=rule)
        Z = est.fit_transform(Xd, GROUPS)
    assert Z.shape == (N, DIM)
    _assert_vectors_only(log, f"KernelSSL(n_landmarks={landmarks}, landmark_rule={rule!r})")


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("landmarks", [None, 40])
def test_using_a_fitted_model_moves_no_matrix_to_the_host(monkeypatch, backend, landmarks):
    """After fit: transform of new points, the induced kernel between point sets, and the alignment and
    decorrelation metrics of the induced Gram matrix (what a user evaluates the representation with)."""
    xp, device = _namespace(backend)
    X, _, _, _ = _instance()
    X_new = np.random.default_rng(9).standard_normal((N, X.shape[1]))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", kt.IllConditionedWarning)
        est = kt.KernelSSL(dim=DIM, n_landmarks=landmarks).fit(xp.asarray(X, device=device), GROUPS)
    Xd, Xd_new = xp.asarray(X, device=device), xp.asarray(X_new, device=device)
    with _spy(monkeypatch, xp) as log:
        Z_new = est.transform(Xd_new)
        G = est.induced_kernel(Xd, Xd_new)
        G_train = est.induced_kernel(Xd)
        scores = kt.alignment(G_train, GROUPS), kt.decorrelation(G_train, GROUPS)
    assert Z_new.shape == (N, DIM) and G.shape == (N, N) and all(np.isfinite(scores))
    _assert_vectors_only(log, f"a fitted KernelSSL(n_landmarks={landmarks})")
