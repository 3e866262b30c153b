"""Array-namespace shim: the few linear-algebra operations the array API standard lacks.

Numeric code gets its namespace from :func:`namespace` and calls the functions here for
symmetric eigensolvers, Cholesky and triangular solves, pseudo-inverses and PSD matrix roots.
Each works on NumPy (through SciPy, with the ``evd`` divide-and-conquer driver for ``eigh``),
CuPy (through ``cupy`` / ``cupyx.scipy``) and any other array-API library (through
``xp.linalg``, e.g. array-api-strict, the CPU stand-in that catches non-portable calls).
Results stay in the input's namespace and on its device.

Every dense factorisation, eigendecomposition, triangular solve and ``X @ X.T`` Gram product
(:func:`gram`) of the package is a function of this module, and each runs inside
:func:`kssl_theory.lapack_guard.protect`, which caps the BLAS threads where a multi-threaded
routine is known to crash (OpenBLAS ``syrk``/``potrf`` at large ``N``, issue 18). Other modules
call these functions, never ``xp.linalg`` / ``scipy.linalg`` factorisations or ``X @ X.T``
directly (``tests/test_lapack_guard.py`` checks both).

These are building blocks with a *precondition*: finite, real, square where a matrix is
expected. They do not validate (that would repeat an O(N^2) scan inside every solver step);
the public entry points (:func:`kssl_theory.solve`, :mod:`kssl_theory.kernels`, ...) validate
their inputs first, and the fuzz suites check those, not this layer.

Tolerances
----------
float64 is the default dtype; float32 is accepted. Cut-offs are relative to the largest
eigenvalue and default to ``N * eps`` (:func:`default_rtol`), the size of round-off in an
eigendecomposition of an ``N x N`` matrix (eps = 2.2e-16 for float64, 1.2e-7 for float32).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, NamedTuple

import array_api_compat
import numpy as np
from array_api_compat import array_namespace, is_cupy_namespace, is_numpy_namespace

from .errors import NotPositiveDefiniteError
from .lapack_guard import protect
from .protocols import Array

__all__ = [
    "namespace",
    "device",
    "eps",
    "default_rtol",
    "symmetrize",
    "add_to_diagonal",
    "eigh",
    "eigh_top",
    "eigh_subset",
    "eigvalsh",
    "fix_signs",
    "CholeskyFactor",
    "cholesky",
    "cho_solve",
    "solve_triangular",
    "pocon",
    "inverse_norm1_estimate",
    "solve_pos",
    "gram",
    "qr",
    "svd",
    "svdvals",
    "psd_inv_sqrt",
    "triangular_multiply",
    "to_numpy",
]


def namespace(*arrays: Array) -> Any:
    """Return the array-API namespace shared by ``arrays`` (array-api-compat wrapped)."""
    return array_namespace(*arrays)


def device(x: Array) -> Any:
    """The device ``x`` lives on; every array the package creates is created there."""
    return array_api_compat.device(x)


def eps(dtype: Any, xp: Any) -> float:
    """Machine epsilon of a floating ``dtype`` in namespace ``xp``."""
    return float(xp.finfo(dtype).eps)


def default_rtol(n: int, dtype: Any, xp: Any) -> float:
    """Default relative eigenvalue cut-off ``n * eps`` for an ``n x n`` symmetric matrix."""
    return max(n, 1) * eps(dtype, xp)


def symmetrize(M: Array) -> Array:
    r"""Return :math:`(M + M^T)/2`; every eigensolver below calls this first."""
    return (M + M.T) / 2


def add_to_diagonal(M: Array, c: float) -> Array:
    r"""A new array :math:`M + cI` (``M`` square and left unchanged), on ``M``'s device: one copy of ``M`` with
    its diagonal updated in place on NumPy and CuPy (other libraries: ``M + c I``, an identity built there)."""
    xp = namespace(M)
    if is_numpy_namespace(xp):
        out = np.array(M, copy=True)
        out.flat[:: M.shape[0] + 1] += c
        return out
    if is_cupy_namespace(xp):
        out = M.copy()
        idx = xp.arange(M.shape[0], device=device(M))
        out[idx, idx] += c
        return out
    return M + c * xp.eye(M.shape[0], dtype=M.dtype, device=device(M))


def eigh(M: Array) -> tuple[Array, Array]:
    r"""Eigendecomposition of the symmetric part of ``M``, eigenvalues ascending.

    Returns ``(w, V)`` with :math:`\tfrac12(M + M^T) = V \operatorname{diag}(w) V^T`.
    On NumPy this is ``scipy.linalg.eigh(driver="evd")`` (divide and conquer, the fastest
    LAPACK driver for all eigenpairs); on CuPy ``cupy.linalg.eigh``; otherwise ``xp.linalg.eigh``.
    Eigenvector signs are made deterministic by :func:`fix_signs`.
    """
    xp = namespace(M)
    S = symmetrize(M)
    with protect("syevd", S.shape[0], xp):
        if is_numpy_namespace(xp):
            import scipy.linalg

            w, V = scipy.linalg.eigh(S, driver="evd", check_finite=False, overwrite_a=True)
        else:
            w, V = xp.linalg.eigh(S)
    return w, fix_signs(V)


def eigh_top(M: Array, k: int) -> tuple[Array, Array]:
    """The ``k`` largest eigenpairs of symmetric ``M``, eigenvalues descending.

    Returns ``(w, V)`` with ``w`` of length ``k`` and ``V`` of shape ``(N, k)``.
    """
    w, V = eigh(M)
    n = w.shape[0]
    xp = namespace(M)
    idx = xp.arange(n - 1, n - 1 - k, -1, device=device(w))
    return xp.take(w, idx), xp.take(V, idx, axis=1)


def eigh_subset(M: Array, lo: int, hi: int) -> tuple[Array, Array]:
    r"""Eigenpairs ``lo..hi`` (0-based, ascending, inclusive) of the symmetric part of NumPy ``M``.

    LAPACK's ``evr`` driver (``scipy.linalg.eigh(subset_by_index=[lo, hi])``): only the requested
    pairs are computed after the tridiagonal reduction. NumPy only; eigenvector signs are LAPACK's.

    The pairs are checked as a backward-stable solver guarantees them: :math:`\|V^TV - I\|_{\max}` and
    every residual :math:`\|Sv - wv\|` within :math:`100N\varepsilon` (times :math:`\|S\|_F` for the
    residuals). When a check fails, the full eigendecomposition (:func:`eigh`) supplies the pairs. Seen: a
    range that splits a cluster of equal eigenvalues (index 0..2 of an integer clique Laplacian whose 0
    has multiplicity 4) made ``evr`` return vectors with :math:`V^TV` off by 0.93 and residuals of 0.33,
    and O3's embedding violated :math:`Z^TZ = I` by 0.12 (tests/test_backend.py).
    """
    import scipy.linalg

    S = symmetrize(M)
    with protect("syevr", S.shape[0]):
        w, V = scipy.linalg.eigh(S, subset_by_index=[lo, hi], driver="evr", check_finite=False)
    tol = 100 * S.shape[0] * float(np.finfo(S.dtype).eps)
    orthogonal = float(np.max(np.abs(V.T @ V - np.eye(V.shape[1], dtype=V.dtype)))) <= tol
    residual = float(np.max(np.linalg.norm(S @ V - V * w[None, :], axis=0)))
    if orthogonal and residual <= tol * float(np.linalg.norm(S)):
        return w, V
    w_all, V_all = eigh(S)
    return w_all[lo : hi + 1], V_all[:, lo : hi + 1]


def eigvalsh(M: Array) -> Array:
    """Eigenvalues of the symmetric part of ``M``, ascending (``xp.linalg.eigvalsh``)."""
    xp = namespace(M)
    S = symmetrize(M)
    with protect("syevd", S.shape[0], xp):
        return xp.linalg.eigvalsh(S)


def fix_signs(V: Array) -> Array:
    """Flip each column of ``V`` so that its largest-magnitude entry is positive.

    Makes eigenvector output deterministic across runs and backends (ties in magnitude go to
    the first index, as ``argmax`` returns).
    """
    xp = namespace(V)
    if V.shape[0] == 0 or V.shape[1] == 0:
        return V
    idx = xp.argmax(xp.abs(V), axis=0)
    rows = xp.arange(V.shape[0], device=device(V))
    mask = rows[:, None] == idx[None, :]
    pivot = xp.sum(xp.where(mask, V, xp.zeros_like(V)), axis=0)
    signs = xp.where(pivot < 0, -xp.ones_like(pivot), xp.ones_like(pivot))
    return V * signs[None, :]


class CholeskyFactor(NamedTuple):
    """Lower-triangular Cholesky factor ``L`` of a positive definite matrix, ``M = L L^T``."""

    lower: Array


def cholesky(M: Array) -> CholeskyFactor:
    """Cholesky factor of the symmetric positive definite ``M``.

    Raises :class:`~kssl_theory.errors.NotPositiveDefiniteError` when ``M`` is not numerically
    positive definite; callers turn that into a fallback to an eigendecomposition.
    """
    xp = namespace(M)
    # Every backend's potrf reads the lower triangle only, so M is used as given: no symmetrised copy
    # (an N x N temporary). For a validated symmetric M the two triangles agree to its tolerance.
    S = M
    try:
        with protect("potrf", S.shape[0], xp):
            if is_numpy_namespace(xp):
                import scipy.linalg

                L = scipy.linalg.cholesky(S, lower=True, check_finite=False)
            else:
                L = xp.linalg.cholesky(S)
    except np.linalg.LinAlgError as exc:  # what NumPy/SciPy, CuPy and array-api-strict raise
        raise NotPositiveDefiniteError(
            f"Cholesky failed: the {S.shape[0]} x {S.shape[0]} matrix is not numerically positive definite ({exc})."
        ) from exc
    if not bool(xp.all(xp.isfinite(L))):
        # CuPy and some libraries return NaN instead of raising on a non-PD input.
        raise NotPositiveDefiniteError(
            f"Cholesky failed: the {S.shape[0]} x {S.shape[0]} matrix is not "
            "numerically positive definite (the factor has non-finite entries)."
        )
    return CholeskyFactor(L)


def solve_triangular(T: Array, B: Array, *, lower: bool, trans: bool = False) -> Array:
    """Solve ``T X = B`` (or ``T^T X = B`` when ``trans``) for triangular ``T``."""
    xp = namespace(T, B)
    with protect("trsm", T.shape[0], xp):
        if is_numpy_namespace(xp):
            import scipy.linalg

            return scipy.linalg.solve_triangular(T, B, lower=lower, trans=1 if trans else 0, check_finite=False)
        if is_cupy_namespace(xp):
            import cupyx.scipy.linalg

            return cupyx.scipy.linalg.solve_triangular(T, B, lower=lower, trans=1 if trans else 0)
        return xp.linalg.solve(T.T if trans else T, B)


def triangular_multiply(T: Array, B: Array, *, lower: bool, trans: bool = False) -> Array:
    """``T @ B`` (or ``T.T @ B`` when ``trans``) for triangular ``T``: BLAS ``trmm`` on NumPy (half a ``gemm``)."""
    xp = namespace(T, B)
    if is_numpy_namespace(xp) and T.dtype in (np.float32, np.float64) and B.dtype == T.dtype and B.ndim == 2:
        from scipy.linalg import blas

        trmm = blas.get_blas_funcs("trmm", (T, B))
        if T.flags.c_contiguous and not T.flags.f_contiguous:
            # BLAS reads column-major: a C-ordered T is the column-major T^T, triangle and transpose
            # flipped. Without this, every call would copy T (an N x N copy per Lanczos step).
            T, lower, trans = T.T, not lower, not trans
        with protect("trmm", T.shape[0], xp):
            return trmm(1.0, T, B, lower=int(lower), trans_a=int(trans))
    return (T.T if trans else T) @ B


def cho_solve(factor: CholeskyFactor, B: Array) -> Array:
    r"""Solve :math:`M X = B` given the Cholesky factor of ``M`` (two triangular solves)."""
    L = factor.lower
    xp = namespace(L, B)
    if is_numpy_namespace(xp):
        import scipy.linalg

        with protect("potrs", L.shape[0], xp):
            return scipy.linalg.cho_solve((L, True), B, check_finite=False)
    Y = solve_triangular(L, B, lower=True)
    return solve_triangular(L, Y, lower=True, trans=True)


def inverse_norm1_estimate(factor: CholeskyFactor, max_iter: int = 5) -> float:
    r"""Estimate of :math:`\|M^{-1}\|_1` from the Cholesky factor of ``M``, on any array library.

    Hager's (1984) method as refined by Higham (1988), the estimator LAPACK's ``pocon`` runs: from
    :math:`x = \mathbf 1/N`, :math:`y = M^{-1}x` and :math:`z = M^{-1}\operatorname{sign}(y)` (:math:`M^{-1}` is
    symmetric, so the transposed solve is a plain one); stop when :math:`\|z\|_\infty \le z^Tx` or the
    estimate :math:`\|y\|_1` stops growing, else restart from the unit vector at :math:`\arg\max|z_j|`. Higham's
    alternating-sign vector :math:`b_i = (-1)^i(1 + i/(N-1))` adds the bound :math:`2\|M^{-1}b\|_1/(3N)` against
    the rare matrices that mislead the iteration. Each value is :math:`\|M^{-1}v\|_1` for some :math:`\|v\|_1 \le 1`,
    so the estimate is a lower bound (up to the solves' rounding); in practice it is within a small factor.
    Cost: at most ``2 max_iter + 1`` solves with one right-hand side (O(N^2) each) and a few scalars to the host,
    instead of an O(N^3) eigendecomposition.
    """
    L = factor.lower
    xp, dev, n = namespace(L), device(L), L.shape[0]

    def solve(v: Array) -> Array:
        return cho_solve(factor, xp.reshape(v, (n, 1)))[:, 0]

    x = xp.full((n,), 1.0 / n, dtype=L.dtype, device=dev)
    estimate, previous = 0.0, -1
    for step in range(max_iter):
        y = solve(x)
        value = float(xp.sum(xp.abs(y)))
        if step > 0 and value <= estimate:
            break
        estimate = value
        z = solve(xp.where(y >= 0, xp.ones_like(y), -xp.ones_like(y)))
        j = int(xp.argmax(xp.abs(z)))
        if j == previous or float(xp.abs(z[j])) <= float(xp.sum(z * x)):
            break
        previous = j
        x = xp.zeros((n,), dtype=L.dtype, device=dev)
        x[j] = 1.0
    i = xp.arange(n, dtype=L.dtype, device=dev)
    alternating = xp.where(i % 2 == 0, xp.ones_like(i), -xp.ones_like(i)) * (1 + i / max(n - 1, 1))
    return float(max(estimate, 2 * float(xp.sum(xp.abs(solve(alternating)))) / (3 * n)))


def pocon(factor: CholeskyFactor, anorm: float) -> tuple[float, int]:
    """LAPACK ``pocon``: reciprocal 1-norm condition estimate of ``M`` from its NumPy Cholesky factor.

    ``anorm`` is the 1-norm of ``M``. Returns ``(rcond, info)`` as LAPACK does (``info != 0``:
    an illegal argument). O(N^2) given the factor.
    """
    from scipy.linalg import lapack

    L = factor.lower
    with protect("pocon", L.shape[0]):
        rcond, info = lapack.get_lapack_funcs("pocon", (L,))(L, anorm, uplo="L")
    return float(rcond), int(info)


def solve_pos(M: Array, B: Array) -> Array:
    r"""Solve :math:`M X = B` for symmetric positive definite ``M``.

    NumPy: ``scipy.linalg.solve(assume_a="pos")`` (LAPACK ``posv``, which factors by ``potrf``);
    other namespaces: :func:`cholesky` then :func:`cho_solve`. Raises
    :class:`~kssl_theory.errors.NotPositiveDefiniteError` when ``M`` is not numerically positive definite.
    """
    xp = namespace(M, B)
    if is_numpy_namespace(xp):
        import scipy.linalg

        try:
            with protect("posv", M.shape[0], xp):
                return scipy.linalg.solve(M, B, assume_a="pos")
        except np.linalg.LinAlgError as exc:
            raise NotPositiveDefiniteError(
                f"solve_pos: the {M.shape[0]} x {M.shape[0]} matrix is not numerically positive definite ({exc})."
            ) from exc
    return cho_solve(cholesky(M), B)


def gram(X: Array) -> Array:
    r"""The Gram matrix :math:`XX^T` of the rows of ``X``, shape ``(N, N)``.

    NumPy computes ``X @ X.T`` by BLAS ``syrk`` (one triangle, mirrored: exactly symmetric),
    which crashes like ``potrf`` on the machines :mod:`kssl_theory.lapack_guard` detects.
    """
    xp = namespace(X)
    with protect("syrk", X.shape[0], xp):
        return X @ X.T


def qr(M: Array, mode: str = "reduced") -> tuple[Array, Array]:
    """QR factorisation ``xp.linalg.qr(M, mode=mode)`` (LAPACK ``geqrf``); returns ``(Q, R)``."""
    xp = namespace(M)
    with protect("geqrf", max(M.shape), xp):
        Q, R = xp.linalg.qr(M, mode=mode)
    return Q, R


def svd(M: Array, full_matrices: bool = True) -> tuple[Array, Array, Array]:
    """Singular value decomposition ``xp.linalg.svd`` (LAPACK ``gesdd``); returns ``(U, S, Vh)``."""
    xp = namespace(M)
    with protect("gesdd", max(M.shape), xp):
        U, S, Vh = xp.linalg.svd(M, full_matrices=full_matrices)
    return U, S, Vh


def svdvals(M: Array) -> Array:
    """Singular values of ``M``, descending (``xp.linalg.svdvals``)."""
    xp = namespace(M)
    with protect("gesdd", max(M.shape), xp):
        return xp.linalg.svdvals(M)


def _spectral_function(M: Array, f: Callable[[Array, Any], Array], rtol: float | None) -> Array:
    """Apply ``f`` to the eigenvalues of PSD ``M`` above ``rtol * max(w)``; zero below."""
    xp = namespace(M)
    w, V = eigh(M)
    if rtol is None:
        rtol = default_rtol(M.shape[0], M.dtype, xp)
    top = xp.max(xp.abs(w)) if w.shape[0] else 0.0
    keep = w > rtol * top
    safe = xp.where(keep, w, xp.ones_like(w))
    fw = xp.where(keep, f(safe, xp), xp.zeros_like(w))
    return (V * fw[None, :]) @ V.T


def psd_inv_sqrt(M: Array, rtol: float | None = None) -> Array:
    r"""Pseudo-inverse square root :math:`(M^+)^{1/2}` of a PSD matrix with a relative cut-off."""
    return _spectral_function(M, lambda w, xp: 1 / xp.sqrt(w), rtol)


def to_numpy(x: Array) -> np.ndarray:
    """Copy an array of any namespace to a NumPy array on the host (for reports and plots)."""
    if is_numpy_namespace(array_namespace(x)):
        return np.asarray(x)
    if array_api_compat.is_cupy_array(x):
        return np.asarray(x.get())
    return np.from_dlpack(x, device="cpu", copy=True)  # DLPack: the array API's transfer to the host
