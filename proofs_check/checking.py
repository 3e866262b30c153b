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
    In :mod:`proofs_check.oracles` (shared with the test-suite): independent NumPy/SciPy float64
    computations from the formulas of docs/theory.md.

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


@functools.cache
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
        except Exception as exc:
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
        except Exception as exc:
            raise BackendError(
                f"backend 'cupy' cannot be imported ({type(exc).__name__}: {_one_line(exc)}); it needs an "
                "NVIDIA GPU and pip install 'kssl-theory[gpu-cuda12]' (or 'kssl-theory[gpu-cuda13]')."
            ) from exc
        try:
            count = cupy.cuda.runtime.getDeviceCount()
        except Exception as exc:
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
        return {
            "check": self.name,
            "residual": _finite(self.residual),
            "tol": _finite(self.tol),
            "ratio": _finite(self.ratio),
            "detail": self.detail,
            "boolean": self.boolean,
        }

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
