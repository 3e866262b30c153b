r"""Oracles and tolerances shared by the kernel-regime claims ([KR], THEORY.md §2–§4).

Everything here is host NumPy/SciPy float64 computed *from the formulas of THEORY.md*, never from
:mod:`kssl_theory`: targets :math:`T`, minima, losses of candidates with their gradients for
L-BFGS. The package is only ever called in the claims themselves.
"""

from __future__ import annotations

import math

import numpy as np

from ..checking import SAFETY, laplacian, lbfgs_multistart, pinv_psd, psd_truncation, range_projector, spectral_norm

__all__ = [
    "KR_SOURCE",
    "IR_SOURCE",
    "BR_SOURCE",
    "solve",
    "Host",
    "host",
    "target",
    "objective_options",
    "host_loss",
    "lbfgs_bound",
    "round_off",
    "numerical_kernel",
    "soft_minimum",
]

KR_SOURCE = "[KR] Kiani et al. 2022, THEORY.md"
IR_SOURCE = "[IR] Dubois et al. 2022, THEORY.md"
BR_SOURCE = "bridge [KR]+[IR] (new), THEORY.md"


def objective_options(objective: str, params: dict) -> dict:
    """The solver options of ``objective`` found in ``params``."""
    keys = {
        "contrastive": ("reg",),
        "vicreg": ("reg", "beta", "centred", "c"),
        "laplacian_eigenmaps": ("normalized_le",),
        "whitened": ("laplacian",),
    }[objective]
    opts = {k: params[k] for k in keys if k in params}
    if "normalized_le" in opts:
        opts["normalized"] = opts.pop("normalized_le")
    return opts


def solve(inst, objective: str, d: int | None = None, K=None, A=None, **opts):
    """``kt.solve`` on the instance's backend matrices (``method`` taken from the params if drawn)."""
    import kssl_theory as kt

    if "method" in inst.params and "method" not in opts:
        opts["method"] = inst.params["method"]
    return kt.solve(objective, inst.K if K is None else K, inst.A if A is None else A,
                    dim=inst.d if d is None else d, **opts)


class Host:
    """Host float64 copies of a :class:`kssl_theory.Solution`'s arrays."""

    def __init__(self, sol, ctx):
        self.sol = sol
        self.G = ctx.get(sol.gram)
        self.Z = ctx.get(sol.embedding)
        self.C = ctx.get(sol.coef)
        self.loss = ctx.scalar(sol.loss)
        self.eigenvalues = ctx.get(sol.eigenvalues)
        self.hs_norm = ctx.scalar(sol.hs_norm)


def host(sol, ctx) -> Host:
    return Host(sol, ctx)


def numerical_kernel(inst) -> np.ndarray:
    """``K`` restricted to its numerical range (eigenvalues below ``10 N eps`` of the largest set to 0).

    This is the matrix the closed forms (and the package, with its rank cut-off) work with. After
    rounding to float32 a singular ``K = FFᵀ`` has eigenvalues of ±ε·‖K‖ where it should have 0; an
    optimiser fed the rounded matrix exploits them with huge coefficients (or, for a negative one,
    drives ``λ tr(CᵀKC)`` to −∞), which says nothing about the claim.
    """
    w, V = np.linalg.eigh(inst.Kh)
    w = np.where(w > 10 * inst.N * inst.ctx.eps * w[-1], w, 0.0)
    return (V * w) @ V.T


def target(inst, objective: str, opts: dict):
    r"""The oracle's spectral matrix and the scale of its round-off in the package.

    Returns ``(T, rule, err)``: ``T`` from THEORY.md §3 (``P A P - (λ/2)K^+`` for O1,
    ``P(I - (β/2)L)P - (λ/2)K^+`` for O2, ``H - (β/2c)L`` centred, ``L`` (or
    :math:`D^{-1/2}LD^{-1/2}`) for O3, ``K^{1/2}AK^{1/2}`` (or ``L``) for O4); ``rule`` is
    ``"psd-top"``, ``"top"`` or ``"bottom"``; ``err`` estimates the absolute error of the
    package's ``T`` (:func:`round_off` of its parts, :math:`\kappa(K)` for parts applying :math:`K^+`).
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
            # The feasible set of HZ is range(HK) (THEORY.md §3 O2, centred): project onto it.
            U, s, _ = np.linalg.svd(H @ numerical_kernel(inst))
            Ur = U[:, s > 10 * N * eps * max(s[0], 1e-300)]
            T = Ur @ (Ur.T @ T @ Ur) @ Ur.T
            return T, "psd-top", 10 * round_off(inst, spectral_norm(T))
        return T, "psd-top", round_off(inst, spectral_norm(T))
    elif objective == "vicreg":
        M = I - (opts.get("beta", 1.0) / 2) * L
    elif objective == "laplacian_eigenmaps":
        if opts.get("normalized"):
            s = 1 / np.sqrt(Ah.sum(axis=1))
            T = s[:, None] * L * s[None, :]
        else:
            T = L
        return T, "bottom", round_off(inst, spectral_norm(T))
    elif objective == "whitened":
        from ..checking import psd_power

        root = psd_power(Kh, 0.5, rtol=10 * N * eps)
        M = L if opts.get("laplacian") else Ah
        T = root @ M @ root
        return T, ("bottom" if opts.get("laplacian") else "top"), round_off(inst, spectral_norm(T)) * math.sqrt(
            inst.cond)
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


def round_off(inst, scale: float) -> float:
    r"""``SAFETY · N · ε · scale``: the round-off of a symmetric eigensolver on a matrix of norm ``scale``."""
    return SAFETY * inst.N * inst.ctx.eps * float(scale)


def host_loss(objective: str, Z, A, K=None, C=None, **opts) -> float:
    """The loss of a candidate from its definition (THEORY.md §3), host float64."""
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


def _soft_grad_Z(objective, Z, A, L, opts):
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


def lbfgs_bound(objective: str, inst, d: int, opts: dict, starts: int = 3, scale: float = 1.0) -> float:
    """Best loss L-BFGS finds from ``starts`` random starts (an upper bound on the true minimum).

    Optimises over ``Z`` directly when ``K`` is positive definite and ``reg = 0`` (every ``Z``
    is reachable, THEORY.md §2), otherwise over the coefficients ``C`` with ``Z = K C``, ``K``
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
            f, gZ = _soft_grad_Z(objective, Z, A, L, opts)
            f += reg * float(np.sum(C * (K @ C)))
            g = K @ gZ + 2 * reg * K @ C
        else:
            Z = x.reshape(N, d)
            f, g = _soft_grad_Z(objective, Z, A, L, opts)
        return f, g.ravel()

    x_scale = scale / max(spectral_norm(K), 1e-12) if over_C else scale
    return lbfgs_multistart(fun_grad, (N, d), inst.rng, starts, x_scale / math.sqrt(max(d, 1)))


def soft_minimum(objective: str, T, d: int, A) -> tuple[float, np.ndarray, np.ndarray, float]:
    """Closed-form minimum of O1/O2 from THEORY.md §3, with ``[T]_{+,d}``, its top eigenvalues and gap."""
    G, top, gap = psd_truncation(T, d)
    base = float(np.sum(A * A)) if objective == "contrastive" else float(d)
    return base - float(np.sum(top**2)), G, top, gap
