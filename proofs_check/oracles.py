r"""THE oracle library of the verification stack: used by the claims of :mod:`proofs_check` and by ``tests/``.

Everything here is host NumPy/SciPy float64 computed *from the formulas of docs/theory.md*, never from
:mod:`kssl_theory`: no function imports the package, and no tolerance, cut-off or tie band is taken
from it. The package is only ever called by the claims and tests themselves; these functions give
the answers it is compared with.

Contents
--------
Linear algebra
    :func:`sym`, :func:`eig_desc`, :func:`spectral_norm`, :func:`psd_truncation`, :func:`pinv_psd`,
    :func:`psd_power`, :func:`range_projector`, :func:`laplacian`, :func:`centring`,
    :func:`random_orthogonal`, :func:`orthonormal_frame`, :func:`generalized_bottom`,
    :func:`affine_rank`, :func:`separable`.
Routes through the instance's construction factor (:math:`K = FF^T`, no eigendecomposition of ``K``)
    :func:`range_qr`, :func:`kplus`, :func:`projector`, :func:`min_positive_eig`.
Targets and closed-form minima (docs/theory.md §3)
    :func:`soft_target` (:math:`T` of O1/O2 from the factor route), :func:`target` (the spectral
    matrix of every objective from the ``numpy.linalg`` route, with the round-off of the package's
    ``T``), :func:`soft_minimum`, :class:`Oracle`, :func:`soft_oracle`, :func:`hard_oracle`,
    :func:`oracle`, :func:`gram_bound`, :func:`numerical_kernel`, :func:`round_off`.
Literal losses and optimisers (independent upper bounds on minima)
    :func:`host_loss` (loss of a candidate ``Z`` from its definition), :func:`soft_loss_grad_Z`,
    :func:`soft_loss_and_grad`, :func:`quotient_and_grad`, :func:`hard_problem`, :func:`feasible`,
    :func:`feasible_tol`, :func:`lbfgs`, :func:`lbfgs_min`, :func:`lbfgs_multistart`,
    :func:`lbfgs_bound`.
Any declared loss (a SymPy expression, e.g. of an objective registered at run time)
    :func:`evaluate_expression` walks the expression tree with NumPy (not the package's printer or
    generated code), :func:`declared_loss_and_grad` adds an exact complex-step gradient.

Instances are :class:`proofs_check.instances.Instance` (host copies ``Kh``, ``Ah``; for the
float64 NumPy context of the test-suite ``K is Kh`` and ``A is Ah``).

Tolerances
----------
With :math:`\varepsilon` the dtype's machine epsilon and :math:`N` the matrix size, a symmetric
eigensolver has backward error about :math:`N\varepsilon\|M\|` (Weyl turns it into the same
absolute error on every eigenvalue); quantities that apply :math:`K^{-1}` lose another factor
:math:`\kappa(K)` (forward error of a backward-stable solve); eigenvectors and spectral projectors
lose a factor :math:`\|M\|/\text{gap}` (Davis–Kahan). The unknown O(1) constants of these bounds are
covered by a safety factor: :data:`proofs_check.checking.SAFETY` (100) for the claims
(:func:`round_off`), ``safety=10`` for the test-suite oracles (:func:`soft_oracle`,
:func:`hard_oracle`, :func:`feasible_tol`), which run only on float64 instances with
:math:`\kappa(K) \le 10^6` and compare against the factor route, two independent computations.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import scipy.linalg
import scipy.optimize

from .checking import SAFETY

__all__ = [
    # linear algebra
    "sym",
    "eig_desc",
    "spectral_norm",
    "psd_truncation",
    "pinv_psd",
    "psd_power",
    "range_projector",
    "laplacian",
    "centring",
    "random_orthogonal",
    "orthonormal_frame",
    "generalized_bottom",
    "affine_rank",
    "separable",
    # factor route
    "range_qr",
    "kplus",
    "projector",
    "min_positive_eig",
    # targets and minima
    "soft_target",
    "target",
    "soft_minimum",
    "Oracle",
    "soft_oracle",
    "hard_oracle",
    "oracle",
    "gram_bound",
    "numerical_kernel",
    "round_off",
    # losses and optimisers
    "host_loss",
    "soft_loss_grad_Z",
    "soft_loss_and_grad",
    "quotient_and_grad",
    "hard_problem",
    "feasible",
    "feasible_tol",
    "lbfgs",
    "lbfgs_min",
    "lbfgs_multistart",
    "lbfgs_bound",
    "evaluate_expression",
    "declared_loss_and_grad",
]

#: Float64 machine epsilon (the test-suite oracles work in float64 only).
EPS64 = float(np.finfo(np.float64).eps)
#: Safety factor of the test-suite oracles (see the module docstring).
TEST_SAFETY = 10.0

SOFT = ("contrastive", "vicreg")
HARD = ("laplacian_eigenmaps", "whitened")


# =================================================================================== linear algebra


def sym(M):
    """Symmetric part :math:`(M + M^T)/2`."""
    return (M + M.T) / 2


def eig_desc(M):
    """Eigenpairs of the symmetric part of ``M``, eigenvalues descending (``numpy.linalg.eigh``)."""
    w, V = np.linalg.eigh(sym(np.asarray(M, dtype=np.float64)))
    return w[::-1], V[:, ::-1]


def spectral_norm(M) -> float:
    r""":math:`\max_i|\lambda_i(\operatorname{sym} M)|` for square ``M`` (the spectral norm of a symmetric
    matrix), the largest singular value otherwise."""
    M = np.asarray(M, dtype=np.float64)
    return (
        float(np.max(np.abs(np.linalg.eigvalsh(sym(M))))) if M.shape[0] == M.shape[1] else float(np.linalg.norm(M, 2))
    )


def psd_truncation(T, d: int):
    r"""Oracle for :math:`[T]_{+,d}` (docs/theory.md §3): returns ``(G, top, gap)``.

    ``G`` keeps the ``d`` leading eigenpairs with eigenvalues clipped at 0; ``top`` are those
    clipped eigenvalues; ``gap`` is the separation that controls the stability of ``G``
    (Davis–Kahan): :math:`\lambda_d - \lambda_{d+1}` when :math:`\lambda_{d+1} > 0`, else ``inf``
    (the positive part is 1-Lipschitz).
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
    """Pseudo-inverse of a symmetric PSD matrix (``numpy.linalg.pinv``, relative cut-off ``rtol``,
    default ``10 N eps``)."""
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
    """Orthogonal projector onto the span of the eigenvectors of ``K`` with eigenvalue above ``rtol max``."""
    w, V = np.linalg.eigh(sym(np.asarray(K, dtype=np.float64)))
    keep = w > rtol * max(w[-1], 0)
    return V[:, keep] @ V[:, keep].T


def laplacian(A):
    """:math:`L = \\operatorname{diag}(A\\mathbf 1) - A` (docs/theory.md §1), in plain NumPy."""
    A = np.asarray(A, dtype=np.float64)
    return np.diag(A.sum(axis=1)) - A


def centring(N: int) -> np.ndarray:
    """Centring matrix :math:`H = I - \\mathbf 1\\mathbf 1^T/N` (docs/theory.md §3, centred O2)."""
    return np.eye(N) - np.ones((N, N)) / N


def random_orthogonal(rng, n: int):
    """Haar-distributed ``n x n`` orthogonal matrix: QR of a Gaussian, column signs fixed by ``sign(diag R)``."""
    Q, R = np.linalg.qr(rng.standard_normal((n, n)))
    return Q * np.sign(np.diag(R))


def orthonormal_frame(rng, n: int, d: int):
    """``d`` orthonormal columns in ``R^n`` (a random feasible point of :math:`Z^TZ = I`)."""
    return random_orthogonal(rng, n)[:, :d]


def generalized_bottom(L, D, d: int):
    """Bottom ``d`` generalised eigenpairs of ``L v = mu D v`` (``scipy.linalg.eigh(L, D)``)."""
    w, V = scipy.linalg.eigh(sym(L), sym(D))
    return w[:d], V[:, :d], w


def affine_rank(codes, rtol: float = 1e-9) -> int:
    """Rank of ``[Z | 1]`` by SVD with a relative cut-off (docs/theory.md §5, affine independence)."""
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
    their size, and ``|θ| <= 1e6``, so separations below about 1e-13 relative count as none. Solved
    with HiGHS through ``scipy.optimize.linprog``.
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
            row[yi * p : (yi + 1) * p] = -Xa[i]
            row[j * p : (j + 1) * p] = Xa[i]
            rows.append(row)
    A_ub = np.array(rows)
    b_ub = -np.ones(len(rows))
    res = scipy.optimize.linprog(np.zeros(k * p), A_ub=A_ub, b_ub=b_ub, bounds=[(-1e6, 1e6)] * (k * p), method="highs")
    return res.status == 0


# =================================================================================== factor route


def range_qr(inst):
    r"""Orthonormal basis ``Q`` of range(K) and ``R`` with ``F = QR`` (thin QR of the construction factor).

    ``F`` is :attr:`Instance.factor` (:math:`K = FF^T` by construction), so range(K), :math:`P` and
    :math:`K^+` are obtained without an eigendecomposition of ``K``: a route independent of the
    package's (which diagonalises ``K``).
    """
    Q, R = np.linalg.qr(inst.factor)
    return Q, R


def kplus(inst) -> np.ndarray:
    r""":math:`K^+ = Q R^{-T} R^{-1} Q^T` from ``K = F F^T``, ``F = QR`` (:func:`range_qr`)."""
    Q, R = range_qr(inst)
    Bm = scipy.linalg.solve_triangular(R, Q.T, lower=False)
    return Bm.T @ Bm


def projector(inst) -> np.ndarray:
    """Orthogonal projector :math:`P = QQ^T` onto range(K) (:func:`range_qr`)."""
    Q, _ = range_qr(inst)
    return Q @ Q.T


def min_positive_eig(inst) -> float:
    """Smallest non-zero eigenvalue of ``K`` (the ``N - rank`` th of ``eigvalsh``, rank by construction)."""
    w = np.linalg.eigvalsh(inst.Kh)
    return float(w[inst.N - inst.rank])


# =================================================================================== targets and minima


def _soft_core(objective: str, A, opts: dict):
    """The matrix sandwiched by P in the O1/O2 targets: ``A`` (O1) or ``I - (β/2) L`` (O2)."""
    if objective == "contrastive":
        return A
    return np.eye(A.shape[0]) - (opts.get("beta", 1.0) / 2) * laplacian(A)


def soft_target(objective: str, inst, opts: dict) -> np.ndarray:
    r"""Target :math:`T` of O1/O2 (docs/theory.md §3) through the factor route (:func:`projector`, :func:`kplus`).

    O1: :math:`T = PAP - \tfrac{\lambda}{2}K^+`; O2: :math:`T = P(I - \tfrac{\beta}{2}L)P - \tfrac{\lambda}{2}K^+`;
    centred O2 (``K`` positive definite): :math:`T = H - \tfrac{\beta}{2c}L`.
    """
    N = inst.N
    A = inst.Ah
    reg = opts.get("reg", 0.0)
    if objective == "vicreg" and opts.get("centred", False):
        return sym(centring(N) - opts.get("beta", 1.0) / (2 * opts.get("c", 1.0)) * laplacian(A))
    P = projector(inst)
    T = P @ _soft_core(objective, A, opts) @ P
    if reg:
        T = T - reg / 2 * kplus(inst)
    return sym(T)


def numerical_kernel(inst) -> np.ndarray:
    """``K`` restricted to its numerical range (eigenvalues below ``10 N eps`` of the largest set to 0).

    This is the matrix the closed forms work with. After rounding to float32 a singular ``K = FFᵀ``
    has eigenvalues of ±ε·‖K‖ where it should have 0; an optimiser fed the rounded matrix exploits
    them with huge coefficients (or, for a negative one, drives ``λ tr(CᵀKC)`` to −∞), which says
    nothing about the claim. The cut-off ``10 N eps`` is this module's (backward error of ``eigh``
    times 10), not the package's.
    """
    w, V = np.linalg.eigh(inst.Kh)
    w = np.where(w > 10 * inst.N * inst.ctx.eps * w[-1], w, 0.0)
    return (V * w) @ V.T


def round_off(inst, scale: float) -> float:
    r"""``SAFETY · N · ε · scale``: the round-off of a symmetric eigensolver on a matrix of norm ``scale``."""
    return SAFETY * inst.N * inst.ctx.eps * float(scale)


def target(inst, objective: str, opts: dict):
    r"""The spectral matrix of ``objective`` (``numpy.linalg`` route) and the scale of its round-off in the package.

    Returns ``(T, rule, err)``: ``T`` from docs/theory.md §3 (``P A P - (λ/2)K^+`` for O1,
    ``P(I - (β/2)L)P - (λ/2)K^+`` for O2, ``H - (β/2c)L`` centred, ``L`` (or
    :math:`D^{-1/2}LD^{-1/2}`) for O3, ``K^{1/2}AK^{1/2}`` (or ``L``) for O4); ``rule`` is
    ``"psd-top"``, ``"top"`` or ``"bottom"``; ``err`` estimates the absolute error of the
    package's ``T`` (:func:`round_off` of its parts, :math:`\kappa(K)` for parts applying :math:`K^+`).
    ``P`` and ``K^+`` are cut at ``10 N eps`` of ``‖K‖`` (this module's cut-off, see :func:`numerical_kernel`).
    """
    N, Kh, Ah = inst.N, inst.Kh, inst.Ah
    eps = inst.ctx.eps
    reg = float(opts.get("reg", 0.0))
    I = np.eye(N)
    L = laplacian(Ah)
    P = range_projector(Kh, rtol=10 * N * eps)
    if objective == "contrastive":
        M = Ah
    elif objective == "vicreg" and opts.get("centred"):
        H = I - np.ones((N, N)) / N
        T = H - (opts.get("beta", 1.0) / (2 * opts.get("c", 1.0))) * L
        if inst.rank < N:
            # The feasible set of HZ is range(HK) (docs/theory.md §3 O2, centred): project onto it.
            U, s, _ = np.linalg.svd(H @ numerical_kernel(inst))
            Ur = U[:, s > 10 * N * eps * max(s[0], 1e-300)]
            T = Ur @ (Ur.T @ T @ Ur) @ Ur.T
            return T, "psd-top", 10 * round_off(inst, spectral_norm(T))
        return T, "psd-top", round_off(inst, spectral_norm(T))
    elif objective == "vicreg":
        M = _soft_core(objective, Ah, opts)
    elif objective == "laplacian_eigenmaps":
        if opts.get("normalized"):
            s = 1 / np.sqrt(Ah.sum(axis=1))
            T = s[:, None] * L * s[None, :]
        else:
            T = L
        return T, "bottom", round_off(inst, spectral_norm(T))
    elif objective == "whitened":
        root = psd_power(Kh, 0.5, rtol=10 * N * eps)
        M = L if opts.get("laplacian") else Ah
        T = root @ M @ root
        return (
            T,
            ("bottom" if opts.get("laplacian") else "top"),
            round_off(inst, spectral_norm(T)) * math.sqrt(inst.cond),
        )
    else:
        raise ValueError(objective)
    T = P @ M @ P
    err = round_off(inst, spectral_norm(M))
    if reg:
        Kp = pinv_psd(Kh, rtol=10 * N * eps)
        T = T - (reg / 2) * Kp
        err += round_off(inst, (reg / 2) * spectral_norm(Kp)) * inst.cond
    if inst.rank < N:
        err *= 10
    return T, "psd-top", err


def soft_minimum(objective: str, T, d: int, A) -> tuple[float, np.ndarray, np.ndarray, float]:
    r"""Closed-form minimum of O1/O2 (docs/theory.md §3), with :math:`[T]_{+,d}`, its top eigenvalues and gap.

    :math:`\min = c - \sum_{i\le d}\max(\lambda_i(T), 0)^2` with :math:`c = \|A\|_F^2` (O1) or
    :math:`c = d` (O2); the minimiser's Gram matrix is :math:`[T]_{+,d}` (:func:`psd_truncation`).
    """
    G, top, gap = psd_truncation(T, d)
    base = float(np.sum(A * A)) if objective == "contrastive" else float(d)
    return base - float(np.sum(top**2)), G, top, gap


@dataclass
class Oracle:
    """The closed-form optimum recomputed independently (test-suite oracles, float64)."""

    value: float  #: minimal loss
    tol: float  #: tolerance on loss values
    spectrum: np.ndarray  #: spectral-rule order (descending for soft / O4, ascending for O3)
    eig_tol: float  #: eigenvalue error bound
    gap: float  #: |lambda_d - lambda_{d+1}| (inf when d equals the feasible dimension)
    T: np.ndarray | None = None  #: soft target
    gram: np.ndarray | None = None  #: soft [T]_{+,d}
    npos: int | None = None  #: number of positive eigenvalues of T (soft)


def _n2(M) -> float:
    M = np.asarray(M)
    return float(np.linalg.norm(M, 2)) if M.size else 0.0


def soft_oracle(objective: str, inst, opts: dict, *, safety: float = TEST_SAFETY) -> Oracle:
    r"""Minimum, spectrum and :math:`[T]_{+,d}` of O1/O2 from :func:`soft_target` (factor route), with tolerances.

    Tolerances (float64, ``eps`` = :data:`EPS64`): ``T`` is formed from ``core`` (``A``,
    ``I - β/2 L`` or ``H - β/(2c) L``) sandwiched by ``P``: round-off ``N eps ‖core‖``, times
    cond(K) when ``P`` comes from a computed range(K) (singular ``K``); applying ``K^+`` (the reg term)
    costs cond(K), the forward error of the inverse: ``eig_tol = safety N eps (‖core‖ κ_range +
    λ ‖K^+‖ κ)``. The loss sums terms of size ``‖A‖² + Σλ_i² + d``, each with relative error
    ``N eps``, the squares of eigenvalues with error ``eig_tol`` and the penalty
    ``tr(K^+ G*) ≤ ‖K^+‖ tr(G*)`` evaluated with relative error ``κ eps``.
    """
    N, d = inst.N, inst.d
    A = inst.Ah
    reg = opts.get("reg", 0.0)
    T = soft_target(objective, inst, opts)
    lam, _ = eig_desc(T)
    value, G, pos, _ = soft_minimum(objective, T, d, A)
    if objective == "vicreg" and opts.get("centred", False):
        core = T
    else:
        core = _soft_core(objective, A, opts)
    kappa_range = 1.0 if inst.is_pd else inst.cond
    kp_term = reg * _n2(kplus(inst)) * inst.cond if reg else 0.0
    eig_tol = safety * N * EPS64 * (_n2(core) * kappa_range + kp_term)
    tol = (
        safety * N * EPS64 * (float(np.sum(A * A)) + float(np.sum(pos**2)) + d + kp_term * float(np.sum(pos)))
        + 2 * d * max(float(pos.max(initial=0.0)), eig_tol) * eig_tol
    )
    gap = float(lam[d - 1] - lam[d]) if d < N else np.inf
    scale = opts.get("c", 1.0) if opts.get("centred", False) else 1.0  # centred: c H Z Z^T H = [T]_{+,d}
    npos = int(np.sum(lam > eig_tol))
    return Oracle(value, tol, lam, eig_tol, gap, T, G / scale, npos)


def gram_bound(orc: Oracle, inst) -> float | None:
    r"""Bound on ``||G_computed - [T]_{+,d}||_F`` when the optimum is unique, else ``None``.

    ``[T]_{+,d}`` keeps the ``k = min(d, #pos)`` leading eigenpairs; it is Lipschitz in ``T`` with
    constant ``1 + 2 sqrt(2) ||T|| / gap`` (Davis-Kahan on the kept subspace), ``gap`` separating
    ``lam_k`` from ``max(lam_{k+1}, 0)``. Eigenvalues within ``eig_tol`` of 0 add ``sqrt(N) eig_tol``.
    Gaps below ``1000 eig_tol`` are not resolvable (``None``).
    """
    k = min(inst.d, orc.npos)
    if k == 0:
        return 2 * np.sqrt(inst.N) * orc.eig_tol
    nxt = max(orc.spectrum[k], 0.0) if k < inst.N else 0.0
    gap = orc.spectrum[k - 1] - nxt
    if gap <= 1e3 * orc.eig_tol:
        return None
    return np.sqrt(inst.N) * orc.eig_tol * (2 + 2 * np.sqrt(2) * _n2(orc.T) / gap)


def hard_oracle(objective: str, inst, opts: dict, *, safety: float = TEST_SAFETY) -> Oracle:
    r"""Minimum and spectrum of O3/O4 (docs/theory.md §3) through the factor route, with tolerances.

    O3: eigenvalues of :math:`Q^TLQ` (``Q`` basis of range(K), :func:`range_qr`), generalised
    ``eigh(Q^TLQ, Q^TDQ)`` when normalised; minimum = sum of the bottom ``d``. O4: eigenvalues of
    :math:`F^TMF` (similar to :math:`K^{1/2}MK^{1/2}` on range(K), no matrix square root); minimum
    :math:`-\sum` top ``d`` (``M = A``) or :math:`\sum` bottom ``d`` (``M = L``, the Laplacian twin).
    Eigenvalue error ``safety N eps ‖L‖`` times cond(D) (normalised) and κ (singular K: range(K) is
    computed to ``eps κ``); O4: ``safety N eps ‖K‖ ‖M‖ sqrt(κ)`` (the square root of K has forward
    error ``eps ‖K‖ / sqrt(λ_min)``). Losses: ``d`` times that.
    """
    N, d = inst.N, inst.d
    A = inst.Ah
    L = laplacian(A)
    Q, _ = range_qr(inst)
    r = Q.shape[1]
    kappa_range = inst.cond if not inst.is_pd else 1.0
    if objective == "laplacian_eigenmaps":
        Lr = sym(Q.T @ L @ Q)
        if opts.get("normalized", False):
            deg = A.sum(1)
            lam = scipy.linalg.eigh(Lr, sym(Q.T @ np.diag(deg) @ Q), eigvals_only=True)
            kappa = deg.max() / deg.min() * kappa_range
        else:
            lam = np.linalg.eigvalsh(Lr)
            kappa = kappa_range
        value = float(np.sum(lam[:d]))
        eig_tol = safety * N * EPS64 * _n2(L) * kappa
        gap = float(lam[d] - lam[d - 1]) if d < r else np.inf
        return Oracle(value, d * eig_tol, lam, eig_tol, gap)
    M = L if opts.get("laplacian", False) else A
    F = inst.factor
    lam = np.linalg.eigvalsh(sym(F.T @ M @ F))  # similar to K^{1/2} M K^{1/2} on range(K)
    eig_tol = safety * N * EPS64 * _n2(inst.Kh) * _n2(M) * np.sqrt(inst.cond)
    if opts.get("laplacian", False):
        value = float(np.sum(lam[:d]))  # min tr(C^T K L K C) s.t. C^T K C = I: bottom d
        gap = float(lam[d] - lam[d - 1]) if d < r else np.inf
        spectrum = lam
    else:
        spectrum = lam[::-1]
        value = -float(np.sum(spectrum[:d]))  # the loss is -tr(Z^T A Z)
        gap = float(spectrum[d - 1] - spectrum[d]) if d < r else np.inf
    return Oracle(value, d * eig_tol, spectrum, eig_tol, gap)


def oracle(objective: str, inst, opts: dict, *, safety: float = TEST_SAFETY) -> Oracle:
    """:func:`soft_oracle` for O1/O2, :func:`hard_oracle` for O3/O4."""
    if objective in SOFT:
        return soft_oracle(objective, inst, opts, safety=safety)
    return hard_oracle(objective, inst, opts, safety=safety)


# =================================================================================== literal losses


def host_loss(objective: str, Z, A, K=None, C=None, **opts) -> float:
    r"""The loss of a candidate from its definition (docs/theory.md §3), host float64.

    O1 :math:`\|ZZ^T - A\|_F^2`; O2 :math:`\|Z^TZ - I\|_F^2 + \beta\operatorname{tr}(Z^TLZ)` (centred:
    :math:`\|cZ^THZ - I\|_F^2`); O3 :math:`\operatorname{tr}(Z^TLZ)`; O4 :math:`-\operatorname{tr}(Z^TAZ)`
    (or :math:`\operatorname{tr}(Z^TLZ)`); plus :math:`\lambda\operatorname{tr}(C^TKC)`.
    """
    Z = np.asarray(Z, dtype=np.float64)
    N, d = Z.shape
    reg = float(opts.get("reg", 0.0))
    if objective == "contrastive":
        R = Z @ Z.T - A
        value = float(np.sum(R * R))
    elif objective == "vicreg":
        L = laplacian(A)
        if opts.get("centred"):
            HZ = Z - Z.mean(axis=0)
            cov = opts.get("c", 1.0) * HZ.T @ HZ
        else:
            cov = Z.T @ Z
        R = cov - np.eye(d)
        value = float(np.sum(R * R) + opts.get("beta", 1.0) * np.sum(Z * (L @ Z)))
    elif objective == "laplacian_eigenmaps":
        value = float(np.sum(Z * (laplacian(A) @ Z)))
    elif objective == "whitened":
        M = laplacian(A) if opts.get("laplacian") else A
        value = float(np.sum(Z * (M @ Z)))
        value = value if opts.get("laplacian") else -value
    else:
        raise ValueError(objective)
    if reg:
        value += reg * float(np.sum(C * (K @ C)))
    return value


def soft_loss_grad_Z(objective: str, Z, A, L, opts: dict):
    r"""Value and gradient in ``Z`` of the O1/O2 loss without the penalty (docs/theory.md §3).

    O1: :math:`\|ZZ^T - A\|^2`, :math:`\nabla_Z = 4(ZZ^T - A)Z`. O2:
    :math:`\|Z^TZ - I\|^2 + \beta\operatorname{tr}(Z^TLZ)`, :math:`\nabla_Z = 4Z(Z^TZ - I) + 2\beta LZ`;
    centred: :math:`\|cZ^THZ - I\|^2`, :math:`4cHZ(cZ^THZ - I)`. ``L`` is ``laplacian(A)``.
    """
    if objective == "contrastive":
        R = Z @ Z.T - A
        return float(np.sum(R * R)), 4 * R @ Z
    d = Z.shape[1]
    beta = opts.get("beta", 1.0)
    if opts.get("centred"):
        c = opts.get("c", 1.0)
        HZ = Z - Z.mean(axis=0)
        R = c * HZ.T @ HZ - np.eye(d)
        f = float(np.sum(R * R) + beta * np.sum(Z * (L @ Z)))
        return f, 4 * c * HZ @ R + 2 * beta * L @ Z
    R = Z.T @ Z - np.eye(d)
    f = float(np.sum(R * R) + beta * np.sum(Z * (L @ Z)))
    return f, 4 * Z @ R + 2 * beta * L @ Z


def soft_loss_and_grad(objective: str, inst, opts: dict):
    r"""``f(vec C)`` and its gradient for O1 / O2 over coefficients, ``Z = KC`` (docs/theory.md §2–§3).

    :func:`soft_loss_grad_Z` plus :math:`\lambda\operatorname{tr}(C^TKC)`; :math:`\nabla_C = K\nabla_Z + 2\lambda KC`.
    The penalty is evaluated as the sum of squares :math:`\lambda\|F^TC\|^2` with the instance's
    factor :math:`K = FF^T`, so it is never negative: the computed ``K`` of a singular instance has
    round-off eigenvalues down to about :math:`-N\,\text{eps}\,\|K\|`, along which
    :math:`\operatorname{tr}(C^TKC)` would be unbounded below and L-BFGS could "beat" the optimum.
    """
    K, A, F = inst.Kh, inst.Ah, inst.factor
    N, d = inst.N, inst.d
    L = laplacian(A)
    reg = opts.get("reg", 0.0)

    def f(x):
        C = x.reshape(N, d)
        Z = K @ C
        val, gZ = soft_loss_grad_Z(objective, Z, A, L, opts)
        g = K @ gZ
        if reg:
            FtC = F.T @ C
            val = val + reg * float(np.sum(FtC * FtC))
            g = g + 2 * reg * (F @ FtC)
        return float(val), g.ravel()

    return f


def quotient_and_grad(M: np.ndarray, Bm: np.ndarray, sign: float, d: int):
    r"""Generalised trace quotient :math:`f(Y) = s\operatorname{tr}((Y^TBY)^{-1}Y^TMY)` and its gradient.

    Equals :math:`s\operatorname{tr}(Z^TMZ)` at :math:`Z = Y(Y^TBY)^{-1/2}` (the constraint
    :math:`Z^TBZ = I` holds), so minimising it over free ``Y`` minimises over the constraint
    manifold of O3/O4 (docs/theory.md §3). Gradient :math:`2s(MYW - BYWSW)`, :math:`W = (Y^TBY)^{-1}`,
    :math:`S = Y^TMY`.
    """
    r = M.shape[0]

    def f(x):
        Y = x.reshape(r, d)
        G = Y.T @ Bm @ Y
        try:
            W = np.linalg.inv(G)
        except np.linalg.LinAlgError:
            return np.inf, np.zeros_like(x)
        S = Y.T @ M @ Y
        val = sign * np.sum(W * S)
        g = 2 * sign * (M @ Y @ W - Bm @ Y @ W @ S @ W)
        return float(val), g.ravel()

    return f


def hard_problem(objective: str, inst, opts: dict):
    """The constrained problem in free coordinates: ``(M, B, sign, Q)``; a feasible point is ``Q Y_f``.

    O3: ``Z = Q Y`` (``Q`` basis of range(K), :func:`range_qr`), ``M = Q^T L Q``, ``B = I`` or ``Q^T D Q``.
    O4: ``C = Q Y``, ``M = Q^T K A K Q`` (or ``L``), ``B = Q^T K Q``, maximise (sign -1) for ``A``.
    """
    A, K = inst.Ah, inst.Kh
    L = laplacian(A)
    Q, _ = range_qr(inst)
    if objective == "laplacian_eigenmaps":
        Bm = sym(Q.T @ np.diag(A.sum(1)) @ Q) if opts.get("normalized", False) else np.eye(Q.shape[1])
        return sym(Q.T @ L @ Q), Bm, 1.0, Q
    lap = opts.get("laplacian", False)
    M = L if lap else A
    return sym(Q.T @ K @ M @ K @ Q), sym(Q.T @ K @ Q), (1.0 if lap else -1.0), Q


def feasible(Y, Bm):
    """A B-orthonormal basis of span(Y) (``Y_f^T B Y_f = I``) without inverting ``Y^T B Y``.

    ``B = R^T R`` (Cholesky), ``O = orth(R Y)`` (QR), ``Y_f = R^{-1} O``. Error ``~ eps cond(B)``.
    """
    R = np.linalg.cholesky(Bm).T
    O, _ = np.linalg.qr(R @ Y)
    return scipy.linalg.solve_triangular(R, O, lower=False)


def feasible_tol(orc: Oracle, M, Bm, d: int, N: int, *, safety: float = TEST_SAFETY) -> float:
    """Tolerance on ``tr(Y^T M Y)`` at a computed B-orthonormal point: the oracle's plus the constraint
    error ``N eps cond(B)`` times ``d ‖M‖``."""
    cB = np.linalg.cond(Bm)
    return orc.tol + safety * N * EPS64 * cB * d * max(_n2(M), 1e-300)


# =================================================================================== optimisers


def lbfgs(fun_grad, x0, *, maxiter: int = 250, gtol: float = 1e-10, ftol: float = 1e-14, maxcor: int | None = None):
    """``scipy.optimize.minimize(method="L-BFGS-B")`` from ``x0`` with a value-and-gradient function."""
    options = {"maxiter": maxiter, "gtol": gtol, "ftol": ftol}
    if maxcor is not None:
        options["maxcor"] = maxcor
    return scipy.optimize.minimize(fun_grad, x0, jac=True, method="L-BFGS-B", options=options)


def lbfgs_min(fun_grad, x0, *, reevaluate: bool = False, **options) -> float:
    """Final objective value of :func:`lbfgs` from ``x0`` (an upper bound on the minimum).

    ``reevaluate=True`` recomputes ``fun_grad`` at the final point instead of trusting ``res.fun``.
    """
    res = lbfgs(fun_grad, x0, **options)
    return float(fun_grad(res.x)[0]) if reevaluate else float(res.fun)


def lbfgs_multistart(fun_grad, shape, rng, starts: int, scale: float):
    """Best value of L-BFGS over ``starts`` Gaussian starts of the given ``shape`` and ``scale``."""
    best = math.inf
    for _ in range(starts):
        x0 = scale * rng.standard_normal(int(np.prod(shape)))
        best = min(best, lbfgs_min(fun_grad, x0))
    return best


def lbfgs_bound(objective: str, inst, d: int, opts: dict, starts: int = 3, scale: float = 1.0) -> float:
    """Best loss L-BFGS finds from ``starts`` random starts (an upper bound on the true minimum of O1/O2).

    Optimises over ``Z`` directly when ``K`` is positive definite and ``reg = 0`` (every ``Z``
    is reachable, docs/theory.md §2), otherwise over the coefficients ``C`` with ``Z = K C``, ``K``
    restricted to its numerical range (:func:`numerical_kernel`).
    """
    A, K = inst.Ah, numerical_kernel(inst)
    L = laplacian(A)
    N = inst.N
    reg = float(opts.get("reg", 0.0))
    over_C = reg > 0 or inst.rank < N

    def fun_grad(x):
        if over_C:
            C = x.reshape(N, d)
            Z = K @ C
            f, gZ = soft_loss_grad_Z(objective, Z, A, L, opts)
            f += reg * float(np.sum(C * (K @ C)))
            g = K @ gZ + 2 * reg * K @ C
        else:
            Z = x.reshape(N, d)
            f, g = soft_loss_grad_Z(objective, Z, A, L, opts)
        return f, g.ravel()

    x_scale = scale / max(spectral_norm(K), 1e-12) if over_C else scale
    return lbfgs_multistart(fun_grad, (N, d), inst.rng, starts, x_scale / math.sqrt(max(d, 1)))


# --------------------------------------------------------------------------- declared losses


def evaluate_expression(expr, values: dict):
    r"""Value of a SymPy (matrix) expression with NumPy, from its tree alone.

    ``values`` maps symbols (matrix or scalar) to arrays or numbers. Sizes :math:`N`, :math:`d` are
    read off the arrays bound to matrix symbols. Handles sums, products, transposes, identities,
    the centring matrix, traces and squared Frobenius norms (node classes matched by name, so this
    module imports no code under test). Works for complex arrays (no conjugation anywhere), which
    :func:`declared_loss_and_grad` uses for the complex-step derivative.
    """
    import sympy

    sizes = {}
    for sym, value in values.items():
        if getattr(sym, "is_Matrix", False):
            for s_, n in zip(sym.shape, np.shape(value)):
                if isinstance(s_, sympy.Symbol):
                    sizes[s_] = n

    def size(s_):
        return int(s_) if s_.is_Integer else sizes[s_]

    def ev(e):
        if e in values:
            return values[e]
        name = type(e).__name__
        if e.is_Number:
            return float(e)
        if name in ("Identity",):
            return np.eye(size(e.shape[0]))
        if name == "CentringMatrix":
            n = size(e.shape[0])
            return np.eye(n) - np.ones((n, n)) / n
        if name == "Transpose":
            return ev(e.arg).T
        if name == "Trace":
            return np.trace(ev(e.arg))
        if name == "FrobeniusNormSq":
            X = ev(e.arg)
            return np.sum(X * X)
        if name in ("MatAdd", "Add"):
            return sum(ev(a) for a in e.args)
        if name in ("MatMul", "Mul"):
            out = None
            for a in e.args:
                v = ev(a)
                out = v if out is None else (out @ v if np.ndim(out) == 2 and np.ndim(v) == 2 else out * v)
            return out
        if name == "Pow" and e.exp.is_Integer:
            return ev(e.base) ** int(e.exp)
        raise TypeError(f"evaluate_expression: no rule for {name} ({e})")

    return ev(expr)


def declared_loss_and_grad(loss, variable, fixed: dict, shape, definitions=()):
    r"""``x -> (loss, gradient)`` of a declared loss over ``variable`` (flattened, real).

    ``definitions`` are ``(symbol, function of the values)`` pairs computed before evaluation
    (e.g. :math:`Z = KC`). The gradient is the complex-step derivative
    :math:`\partial_i f = \operatorname{Im} f(x + ih e_i)/h` with :math:`h = 10^{-30}`: exact to
    rounding for the polynomial losses here (no subtraction of nearby values), one evaluation per
    coordinate.
    """
    n = int(np.prod(shape))

    def value(x):
        vals = dict(fixed)
        vals[variable] = x.reshape(shape)
        for sym, rule in definitions:
            vals[sym] = rule(vals)
        return evaluate_expression(loss, vals)

    def fun_grad(x):
        f = float(np.real(value(x.astype(float))))
        g = np.empty(n)
        for i in range(n):
            step = np.zeros(n, dtype=complex)
            step[i] = 1e-30j
            g[i] = np.imag(value(x + step)) / 1e-30
        return f, g

    return fun_grad
