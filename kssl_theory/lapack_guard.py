r"""When a dense LAPACK/BLAS routine must run single-threaded: the OpenBLAS ``syrk``/``potrf`` crash guard.

Every dense factorisation, eigendecomposition and triangular solve of the package runs inside
:func:`protect` (the calls live in :mod:`kssl_theory.backend`; ``tests/test_lapack_guard.py``
fails if a module calls LAPACK any other way). :func:`protect` decides, per call, whether the
BLAS thread pools are capped at one thread for its duration.

The crash (issue 18)
--------------------
On a 2-core Xeon where OpenBLAS selects its ``SkylakeX`` kernels, the OpenBLAS builds bundled
with NumPy 2.4.6 (OpenBLAS 0.3.31) and SciPy 1.17.1 (0.3.30) kill the process with SIGSEGV in the
*multi-threaded* symmetric rank-k update ``syrk`` once the output order ``N`` and the inner
dimension ``k`` are both large, and so in the Cholesky factorisation ``potrf``, whose trailing
updates are ``syrk`` calls (measured with ``benchmarks/openblas_probe.py``, 2 threads):

- ``potrf`` (``scipy.linalg.cholesky`` or ``numpy.linalg.cholesky``): ``N <= 15,500`` succeeds,
  ``N >= 15,750`` crashes within seconds;
- ``X @ X.T`` (NumPy calls ``syrk``) with ``k = 1024``: ``N <= 15,000`` succeeds, ``N >= 15,250``
  crashes; ``k = 4096`` at 15,000 succeeds; at ``N = 20,000``, ``k <= 192`` succeeds and
  ``k >= 256`` crashes;
- capped at one thread the same calls succeed (``potrf`` at ``N = 20,000``: 69 s); so do
  ``OPENBLAS_CORETYPE=Haswell`` (set before NumPy is imported) and every other call probed:
  ``potrs``, ``pocon``, ``syr2k`` (``k = 32, 256``), ``gemm`` at ``N = 20,000``; ``trsm`` with
  ``N x N`` right-hand sides and ``gemm`` ``N x N x N`` at 12,000; ``syevd`` at 6,000, ``syevr``
  at 8,000 (larger eigendecompositions were not probed: minutes each on 2 cores).

What the guard does
-------------------
A call of a routine in :data:`SINGLE_THREADED_ROUTINES` (``potrf``; ``posv``, which factors by
``potrf``; ``syrk``, i.e. :func:`kssl_theory.backend.gram`) whose output has order
``N >= GUARD_MIN_N`` runs under ``threadpoolctl.threadpool_limits(1, user_api="blas")`` when
:func:`needs_single_thread` says so. Results: single-threaded ``syrk`` is bit-for-bit the
2-thread one (checked at ``N = 4,000``, ``k = 1024``); single-threaded ``potrf`` is
deterministic but rounds differently from the 2-thread one (at ``N = 14,000`` on an RBF Gram
matrix + 1e-6 ridge, 99.9% of the entries of ``L`` differ, by at most 1.5e-10), so the guard is
confined to sizes near the crash: below ``GUARD_MIN_N`` every call is exactly what it was
without the guard. Cost: the factorisation runs on one core (``potrf`` at ``N = 20,000``: 69 s
single-threaded, where the 2-thread run cannot be timed because it crashes; see the README).
Every other routine is passed through unchanged; routing it here is what lets a future probe
add it in one place.

Selection: the ``KSSL_BLAS_GUARD`` environment variable
-------------------------------------------------------
- ``auto`` (default, also when unset or empty): from ``N >= GUARD_MIN_N``, when
  :func:`threadpoolctl.threadpool_info` lists a BLAS pool with ``internal_api == "openblas"``,
  an ``architecture`` in :data:`AFFECTED_ARCHITECTURES` and more than one thread
  (:func:`affected_pools`). No OpenBLAS release with a fix is known (0.3.30 and 0.3.31 both
  crash), so the version is not matched.
- ``on``: at every ``N``, whatever the BLAS (a machine that crashes elsewhere or at smaller sizes;
  ``python benchmarks/openblas_probe.py`` finds out);
- ``off``: never (an OpenBLAS known to be fixed, or ``OPENBLAS_CORETYPE=Haswell`` set before NumPy
  is imported, which avoids the crash on this machine at full thread count).

Any other value raises :class:`~kssl_theory.errors.InputError` naming the variable. The
variable is read at every call, so it can be changed within a session. CuPy arrays never reach
OpenBLAS: :func:`protect` is a no-op for them and never moves data to the host.
"""

from __future__ import annotations

import contextlib
import os
from typing import Any

from .errors import InputError

__all__ = [
    "AFFECTED_ARCHITECTURES",
    "ENV_VAR",
    "GUARD_MIN_N",
    "MODES",
    "SINGLE_THREADED_ROUTINES",
    "affected_pools",
    "is_active",
    "mode",
    "needs_single_thread",
    "protect",
]

#: Environment variable that forces (``on``) or disables (``off``) the guard; ``auto`` detects.
ENV_VAR = "KSSL_BLAS_GUARD"

#: Accepted values of :data:`ENV_VAR`.
MODES = ("auto", "on", "off")

#: Smallest output order at which ``auto`` caps a routine of :data:`SINGLE_THREADED_ROUTINES` at one
#: thread. The smallest crash seen is ``syrk`` at 15,250 (``potrf``: 15,750); 14,000 leaves a
#: margin for builds and thread counts whose boundary was not measured.
GUARD_MIN_N = 14_000

#: OpenBLAS ``architecture`` names (``openblas_get_corename``, as ``threadpool_info`` reports
#: them, compared case-insensitively) whose multi-threaded ``syrk``/``potrf`` crash at large ``N``.
#: Only SkylakeX was measured (OPENBLAS_CORETYPE=Cooperlake / SapphireRapids fall back to
#: SkylakeX on this CPU, so those could not be tested; use ``KSSL_BLAS_GUARD=on`` there if needed).
AFFECTED_ARCHITECTURES = frozenset({"skylakex"})

#: LAPACK routines that run single-threaded at ``N >= GUARD_MIN_N`` while the guard is active.
SINGLE_THREADED_ROUTINES = frozenset({"potrf", "posv", "syrk"})


def mode() -> str:
    """The guard mode from :data:`ENV_VAR`: ``"auto"`` (unset or empty), ``"on"`` or ``"off"``.

    Raises
    ------
    InputError
        When the variable holds anything else.
    """
    value = os.environ.get(ENV_VAR, "").strip().lower() or "auto"
    if value not in MODES:
        raise InputError(
            f"environment variable {ENV_VAR} must be one of {', '.join(MODES)} (or unset, meaning auto); "
            f"got {os.environ[ENV_VAR]!r}. Unset it, or set {ENV_VAR}=off to disable the OpenBLAS crash guard."
        )
    return value


def affected_pools(info: list[dict[str, Any]] | None = None) -> list[dict[str, Any]]:
    """The loaded BLAS thread pools whose multi-threaded ``syrk``/``potrf`` are known to crash at large ``N``.

    Parameters
    ----------
    info : list of dict, optional
        Output of :func:`threadpoolctl.threadpool_info`; queried now when omitted.

    Returns
    -------
    list of dict
        The entries with ``internal_api == "openblas"``, an ``architecture`` in
        :data:`AFFECTED_ARCHITECTURES` and ``num_threads > 1`` (one thread is already safe).
    """
    if info is None:
        import threadpoolctl

        info = threadpoolctl.threadpool_info()
    return [
        pool
        for pool in info
        if pool.get("internal_api") == "openblas"
        and str(pool.get("architecture") or "").lower() in AFFECTED_ARCHITECTURES
        and int(pool.get("num_threads") or 1) > 1
    ]


def is_active() -> bool:
    """Whether the guard is active now: :data:`ENV_VAR` ``on``, or ``auto`` and :func:`affected_pools` non-empty."""
    current = mode()
    if current == "auto":
        return bool(affected_pools())
    return current == "on"


def needs_single_thread(routine: str, n: int) -> bool:
    """Whether LAPACK ``routine`` on an ``n x n`` matrix must run single-threaded now.

    Parameters
    ----------
    routine : str
        LAPACK routine name without the type prefix (``"potrf"``, ``"syevd"``, ``"geqrf"``, ...).
    n : int
        Order of the matrix being factored.

    Returns
    -------
    bool
        True when ``routine`` is in :data:`SINGLE_THREADED_ROUTINES` and either :data:`ENV_VAR` is
        ``on`` (any ``n``) or it is ``auto``, ``n >= GUARD_MIN_N`` and :func:`affected_pools` is
        non-empty. :data:`ENV_VAR` is validated on every call, whatever ``n``.
    """
    current = mode()
    if routine not in SINGLE_THREADED_ROUTINES or current == "off":
        return False
    if current == "on":
        return True
    return n >= GUARD_MIN_N and bool(affected_pools())


def protect(routine: str, n: int, xp: Any = None) -> contextlib.AbstractContextManager[None]:
    """Context manager for one LAPACK call: one BLAS thread when :func:`needs_single_thread`.

    Parameters
    ----------
    routine : str
        LAPACK routine the enclosed call runs (see :func:`needs_single_thread`).
    n : int
        Order of the matrix it factors.
    xp : namespace, optional
        Array namespace of the operands; CuPy never reaches OpenBLAS, so the guard is a no-op.

    Returns
    -------
    context manager
        ``threadpoolctl.threadpool_limits(1, user_api="blas")`` or a null context.
    """
    if xp is not None:
        from array_api_compat import is_cupy_namespace

        if is_cupy_namespace(xp):
            return contextlib.nullcontext()
    if not needs_single_thread(routine, n):
        return contextlib.nullcontext()
    import threadpoolctl

    limits: contextlib.AbstractContextManager[None] = threadpoolctl.threadpool_limits(limits=1, user_api="blas")
    return limits
