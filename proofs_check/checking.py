r"""What a claim's numeric property works with: the backend context, the checker, the oracles.

:class:`Context`
    The array backend (``numpy``, ``array-api-strict``, ``cupy``) and dtype (``float64``,
    ``float32``) the package is run on. Instances are built on the host in float64 from the
    parameter dict, moved to the backend with :meth:`Context.put` (rounded to the dtype), and
    every oracle uses the *rounded* matrices read back with :meth:`Context.get`, so oracle and
    package see exactly the same input.
:class:`Checker`
    Records comparisons ``residual <= tol`` and reports the worst ``residual / tol``: a claim
    holds on an instance when every ratio is at most 1.
Oracles
    Independent NumPy/SciPy float64 computations from the formulas of THEORY.md: ``numpy.linalg``
    eigendecompositions and pseudo-inverses (the package uses SciPy's ``evd`` driver and
    Cholesky), L-BFGS from random starts, random feasible points.

Tolerances (stated once, used by every claim)
---------------------------------------------
With :math:`\varepsilon` the dtype's machine epsilon and :math:`N` the matrix size, a symmetric
eigensolver has backward error about :math:`N\varepsilon\|M\|`; quantities that apply
:math:`K^{-1}` lose another factor :math:`\kappa(K)`; eigenvectors and spectral projectors lose
a factor :math:`\|M\|/\text{gap}` (Davis–Kahan). Each claim's tolerance is a product of these
factors with a safety constant (``SAFETY = 100``) and is stated in the claim.
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass

import numpy as np
import scipy.linalg
import scipy.optimize

__all__ = [
    "SAFETY",
    "BackendError",
    "Context",
    "Checker",
    "Item",
    "resolve_backend",
    "BACKENDS",
    "DTYPES",
]

#: Safety factor multiplying every round-off estimate.
SAFETY = 100.0

BACKENDS = ("numpy", "array-api-strict", "cupy")
DTYPES = ("float64", "float32")


class BackendError(RuntimeError):
    """A backend that is unknown, not installed or has no usable device."""


def _one_line(exc) -> str:
    text = " ".join(str(exc).split())
    return text if len(text) <= 200 else text[:199] + "…"


@functools.lru_cache(maxsize=None)
def resolve_backend(name: str):
    """Return the array namespace for a backend name, or raise :class:`BackendError` saying why not."""
    if name == "numpy":
        import array_api_compat.numpy as xp

        return xp
    if name in ("array-api-strict", "array_api_strict"):
        try:
            import array_api_strict as xp
        except ImportError as exc:
            raise BackendError(
                "backend 'array-api-strict' is not installed; install it with "
                "pip install 'kssl-theory[test]' (or pip install array-api-strict)."
            ) from exc
        except Exception as exc:  # noqa: BLE001 - a broken installation: say so in one line
            raise BackendError(
                f"backend 'array-api-strict' cannot be imported ({type(exc).__name__}: {exc}); reinstall it: "
                "pip install 'kssl-theory[test]'."
            ) from exc
        return xp
    if name == "cupy":
        try:
            import cupy
        except ImportError as exc:
            raise BackendError(
                "backend 'cupy' is not installed; it needs an NVIDIA GPU and "
                "pip install 'kssl-theory[gpu-cuda12]' (or 'kssl-theory[gpu-cuda13]' for CUDA 13)."
            ) from exc
        except Exception as exc:  # noqa: BLE001 - e.g. CUDA libraries missing: say so in one line
            raise BackendError(
                f"backend 'cupy' cannot be imported ({type(exc).__name__}: {_one_line(exc)}); it needs an "
                "NVIDIA GPU and pip install 'kssl-theory[gpu-cuda12]' (or 'kssl-theory[gpu-cuda13]')."
            ) from exc
        try:
            count = cupy.cuda.runtime.getDeviceCount()
        except Exception as exc:  # noqa: BLE001 - any CUDA driver failure means "no usable GPU"
            raise BackendError(f"backend 'cupy' is installed but no CUDA device is usable ({_one_line(exc)}).") from exc
        if count < 1:
            raise BackendError("backend 'cupy' is installed but no CUDA device was found.")
        import array_api_compat.cupy as xp

        return xp
    raise BackendError(f"unknown backend {name!r}; choose one of {', '.join(BACKENDS)}.")


@dataclass(frozen=True)
class Context:
    """Backend and dtype of a run (picklable: names only; the namespace is looked up lazily)."""

    backend: str = "numpy"
    dtype: str = "float64"

    @property
    def xp(self):
        return resolve_backend(self.backend)

    @property
    def eps(self) -> float:
        return float(np.finfo(self.dtype).eps)

    @property
    def max_log10_cond(self) -> float:
        """Largest condition number (log10) the instance builders give K on this dtype.

        float64: 1e6, so quantities that apply K^{-1} keep about 1e-9 relative accuracy;
        float32: 10^2.5, so they keep about 1e-4.
        """
        return 6.0 if self.dtype == "float64" else 2.5

    def put(self, a):
        """A host array as a backend array of the run's dtype."""
        xp = self.xp
        return xp.asarray(np.asarray(a, dtype=np.float64), dtype=getattr(xp, self.dtype))

    def get(self, a) -> np.ndarray:
        """A backend array (or scalar) as a host float64 array."""
        from kssl_theory.backend import to_numpy

        if isinstance(a, (int, float, np.floating, np.integer)):
            return np.asarray(a, dtype=np.float64)
        return np.asarray(to_numpy(a), dtype=np.float64)

    def scalar(self, a) -> float:
        return float(self.get(a))


# --------------------------------------------------------------------------- the checker


@dataclass(frozen=True)
class Item:
    """One comparison: ``ratio = residual / tol``; it passes when ``ratio <= 1``."""

    name: str
    residual: float
    tol: float
    ratio: float
    detail: str = ""
    boolean: bool = False

    def as_dict(self) -> dict:
        return {"check": self.name, "residual": _finite(self.residual), "tol": _finite(self.tol),
                "ratio": _finite(self.ratio), "detail": self.detail, "boolean": self.boolean}

    def describe(self) -> str:
        """One line: ``name: residual r, tolerance t`` (or ``name: true/false`` for conditions)."""
        if self.boolean:
            text = f"{self.name}: {'true' if self.ratio <= 1 else 'FALSE'}"
        else:
            text = f"{self.name}: residual {self.residual:.3g}, tolerance {self.tol:.3g}"
        return text + (f" — {self.detail}" if self.detail and self.ratio > 1 else "")


def _finite(x):
    x = float(x)
    if math.isnan(x):
        return "nan"
    if math.isinf(x):
        return "inf" if x > 0 else "-inf"
    return x


def _ratio(residual: float, tol: float) -> float:
    if math.isnan(residual) or math.isnan(tol):
        return math.inf
    if tol <= 0:
        return 0.0 if residual <= 0 else math.inf
    return max(residual, 0.0) / tol


class Checker:
    """Collects the comparisons of one instance.

    Every method records an :class:`Item` whose ratio is at most 1 exactly when the comparison
    passes; :attr:`worst` is the item with the largest ratio.
    """

    def __init__(self):
        self.items: list[Item] = []
        self.info: dict = {}

    def _add(self, name, residual, tol, detail="", boolean=False):
        residual, tol = float(residual), float(tol)
        item = Item(name, residual, tol, _ratio(residual, tol), detail, boolean)
        self.items.append(item)
        return item.ratio <= 1

    def close(self, name: str, actual, expected, tol: float, detail: str = "") -> bool:
        """``max |actual - expected| <= tol`` (entrywise, host float64)."""
        a = np.asarray(actual, dtype=np.float64)
        e = np.asarray(expected, dtype=np.float64)
        if a.shape != e.shape:
            return self._add(name, math.inf, tol, f"shape {a.shape} != expected {e.shape}")
        residual = float(np.max(np.abs(a - e))) if a.size else 0.0
        if not np.all(np.isfinite(a)):
            residual = math.inf
        return self._add(name, residual, tol, detail)

    def le(self, name: str, value, bound, tol: float, detail: str = "") -> bool:
        """``value <= bound + tol`` (an inequality up to round-off; ``-inf <= bound`` holds, NaN fails)."""
        value, bound = float(value), float(bound)
        residual = math.inf if math.isnan(value) else value - bound
        return self._add(name, max(residual, 0.0), tol, detail or f"value {value:.6g}, bound {bound:.6g}")

    def ge(self, name: str, value, bound, tol: float, detail: str = "") -> bool:
        """``value >= bound - tol`` (``+inf >= bound`` holds, NaN fails)."""
        value, bound = float(value), float(bound)
        residual = math.inf if math.isnan(value) else bound - value
        return self._add(name, max(residual, 0.0), tol, detail or f"value {value:.6g}, bound {bound:.6g}")

    def gt(self, name: str, value, threshold: float, detail: str = "") -> bool:
        """``value > threshold`` with margin: recorded as ``residual = threshold``, ``tol = value``."""
        value, threshold = float(value), float(threshold)
        detail = detail or f"value {value:.6g} must exceed {threshold:.3g}"
        if not math.isfinite(value) or value <= 0:
            return self._add(name, math.inf, 1.0, detail, boolean=True)
        return self._add(name, threshold, value, detail, boolean=True)

    def true(self, name: str, condition: bool, detail: str = "") -> bool:
        """A boolean condition (ratio 0 when true, infinite when false)."""
        return self._add(name, 0.0 if condition else math.inf, 1.0, detail, boolean=True)

    def equal(self, name: str, actual, expected, detail: str = "") -> bool:
        """Exact equality of discrete values (counts, booleans, labels)."""
        same = actual == expected
        if isinstance(same, np.ndarray):
            same = bool(np.all(same))
        return self.true(name, bool(same), detail or f"got {actual!r}, expected {expected!r}")

    @property
    def worst(self) -> Item | None:
        if not self.items:
            return None
        return max(self.items, key=lambda it: it.ratio)

    @property
    def ok(self) -> bool:
        return all(it.ratio <= 1 for it in self.items)

    @property
    def failures(self) -> list[Item]:
        return [it for it in self.items if it.ratio > 1]


# --------------------------------------------------------------------------- oracles (host, float64)


def sym(M):
    return (M + M.T) / 2


def eig_desc(M):
    """Eigenpairs of the symmetric part of ``M``, eigenvalues descending (numpy.linalg.eigh)."""
    w, V = np.linalg.eigh(sym(np.asarray(M, dtype=np.float64)))
    return w[::-1], V[:, ::-1]


def spectral_norm(M) -> float:
    M = np.asarray(M, dtype=np.float64)
    return float(np.max(np.abs(np.linalg.eigvalsh(sym(M))))) if M.shape[0] == M.shape[1] else float(
        np.linalg.norm(M, 2))


def psd_truncation(T, d: int):
    r"""Oracle for :math:`[T]_{+,d}`: returns ``(G, top, gap)``.

    ``top`` are the ``d`` largest eigenvalues clipped at 0; ``gap`` is the separation that
    controls the stability of ``G`` (Davis–Kahan): :math:`\lambda_d - \max(\lambda_{d+1}, 0)`
    when :math:`\lambda_{d+1} > 0`, else ``inf`` (the positive part is 1-Lipschitz).
    """
    w, V = eig_desc(T)
    top = np.clip(w[:d], 0, None)
    G = (V[:, :d] * top) @ V[:, :d].T
    if d < len(w) and w[d] > 0:
        gap = w[d - 1] - w[d]
    else:
        gap = math.inf
    return G, top, gap


def pinv_psd(K, rtol: float | None = None):
    """Pseudo-inverse of a symmetric PSD matrix (``numpy.linalg.pinv``, relative cut-off ``N eps``)."""
    K = np.asarray(K, dtype=np.float64)
    rtol = K.shape[0] * np.finfo(np.float64).eps * 10 if rtol is None else rtol
    return np.linalg.pinv(sym(K), rcond=rtol, hermitian=True)


def psd_power(K, power: float, rtol: float = 1e-12):
    """:math:`K^{p}` for PSD ``K`` on its numerical range (eigenvalues below ``rtol max`` dropped)."""
    w, V = np.linalg.eigh(sym(np.asarray(K, dtype=np.float64)))
    keep = w > rtol * max(w[-1], 0)
    wp = np.zeros_like(w)
    wp[keep] = w[keep] ** power
    return (V * wp) @ V.T


def range_projector(K, rtol: float = 1e-12):
    w, V = np.linalg.eigh(sym(np.asarray(K, dtype=np.float64)))
    keep = w > rtol * max(w[-1], 0)
    return V[:, keep] @ V[:, keep].T


def laplacian(A):
    """:math:`L = \\operatorname{diag}(A\\mathbf 1) - A` (host oracle)."""
    A = np.asarray(A, dtype=np.float64)
    return np.diag(A.sum(axis=1)) - A


def random_orthogonal(rng, n: int):
    Q, R = np.linalg.qr(rng.standard_normal((n, n)))
    return Q * np.sign(np.diag(R))


def orthonormal_frame(rng, n: int, d: int):
    return random_orthogonal(rng, n)[:, :d]


def lbfgs_min(fun_grad, x0, *, maxiter: int = 250):
    """L-BFGS-B from ``x0``; returns the final objective value (an upper bound on the minimum)."""
    res = scipy.optimize.minimize(fun_grad, x0, jac=True, method="L-BFGS-B",
                                  options={"maxiter": maxiter, "gtol": 1e-10, "ftol": 1e-14})
    return float(res.fun)


def lbfgs_multistart(fun_grad, shape, rng, starts: int, scale: float):
    """Best value of L-BFGS over ``starts`` Gaussian starts of the given ``shape`` and ``scale``."""
    best = math.inf
    for _ in range(starts):
        x0 = scale * rng.standard_normal(int(np.prod(shape)))
        best = min(best, lbfgs_min(fun_grad, x0))
    return best


def generalized_bottom(L, D, d: int):
    """Bottom ``d`` generalised eigenpairs of ``L v = mu D v`` (``scipy.linalg.eigh(L, D)``)."""
    w, V = scipy.linalg.eigh(sym(L), sym(D))
    return w[:d], V[:, :d], w


def affine_rank(codes, rtol: float = 1e-9) -> int:
    """Rank of ``[Z | 1]`` by SVD with a relative cut-off (host oracle)."""
    Z = np.asarray(codes, dtype=np.float64)
    M = np.hstack([Z, np.ones((Z.shape[0], 1))])
    s = np.linalg.svd(M, compute_uv=False)
    return int(np.sum(s > rtol * max(s[0], 1.0)))


def separable(points, labels) -> bool:
    """Whether an affine argmax probe labels ``points`` exactly as ``labels`` (LP feasibility).

    Binary or multiclass: find :math:`\\theta_k` with
    :math:`(\\theta_{y_i} - \\theta_k)^T[x_i; 1] \\ge 1` for all ``i`` and ``k != y_i``.
    Scale-free (margin 1 can always be reached by scaling when strict separation exists): points
    are centred and scaled to max norm 1 first, but never magnified by more than 1e7 relative to
    their size, and ``|θ| <= 1e6``, so separations below about 1e-13 relative count as none. Solved with HiGHS through ``scipy.optimize.linprog``.
    """
    X = np.asarray(points, dtype=np.float64)
    y = np.asarray(labels)
    classes = np.unique(y)
    if classes.size <= 1:
        return True
    magnitude = float(np.max(np.abs(X))) if X.size else 0.0
    X = X - X.mean(axis=0)
    # Scale by the spread, but never by less than 1e-7 of the points' magnitude: codes that differ only
    # by round-off must not be blown up into well-separated points.
    scale = max(float(np.max(np.abs(X))), 1e-7 * magnitude)
    X = X / scale if scale > 0 else X
    Xa = np.hstack([X, np.ones((X.shape[0], 1))])
    k, p = classes.size, Xa.shape[1]
    index = {c: j for j, c in enumerate(classes)}
    rows = []
    for i in range(X.shape[0]):
        yi = index[y[i]]
        for j in range(k):
            if j == yi:
                continue
            row = np.zeros(k * p)
            row[yi * p:(yi + 1) * p] = -Xa[i]
            row[j * p:(j + 1) * p] = Xa[i]
            rows.append(row)
    A_ub = np.array(rows)
    b_ub = -np.ones(len(rows))
    res = scipy.optimize.linprog(np.zeros(k * p), A_ub=A_ub, b_ub=b_ub, bounds=[(-1e6, 1e6)] * (k * p),
                                 method="highs")
    return res.status == 0
