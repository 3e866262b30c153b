r"""Proofs of the identities behind docs/theory.md §3, on explicit generic matrices, plus numeric checks.

:func:`prove_all` runs every proof and returns one :class:`ProofResult` per claim (name,
statement, method, the sizes it was proven for, whether it holds, wall time), for the
verification runner. The proofs are exact: each side is evaluated on explicit matrices whose
entries are independent symbols (see :mod:`kssl_theory.symbolic.explicit`), and the difference
must vanish identically, as a polynomial (with the inverse of a determinant as an extra
variable). An identity of matrix polynomials that holds for generic entries at a given size
holds for *all* matrices of that size.

What is proven
--------------
- ``lemma:<name>`` — every rewrite rule a derivation uses (``LEMMAS``), with its definitions
  substituted (e.g. :math:`C^TKC = Z^TK^+Z` for :math:`Z = KC`), for invertible, generic
  singular (:math:`K = BB^T`) and block-reduced singular kernels.
- ``spectral_contrastive_identity``, ``vicreg_contrastive_identity``,
  ``centred_laplacian``, ``pseudo_inverse``, ``laplacian_quadratic_form`` — the identities
  stated in docs/theory.md §3 (written here independently of the derivation).
- ``completed_square:<key>`` — the derived identity loss :math:`= q\|G - T\|^2 +` const, on
  the loss as written in :mod:`~kssl_theory.symbolic.objectives`.
- ``ky_fan_form:<key>`` — the derived trace form and orthonormality constraint.
- ``gradient:<key>`` — the trace-calculus gradient equals the entrywise derivatives of the
  explicit loss (this is the cross-check that SymPy's matrix ``diff`` would need).
- ``stationarity:<key>`` — on exact rational instances built around a known eigen-structure of
  :math:`T` (invertible and singular :math:`K`), every entrywise derivative of the explicit
  loss vanishes at the closed form, the loss there equals the derived minimum, and the derived
  :math:`T` equals the instance's.
- ``finite_differences:<key>`` (numeric, float64) — with the *generated* builders: central
  differences of the loss vanish at the closed form, agree with the derived gradient at a
  random point, and the loss at the closed form equals the generated minimum.
"""

from __future__ import annotations

import random
import time
from dataclasses import dataclass

import array_api_compat.numpy as xp
import numpy as np
from sympy import QQ, Identity, Matrix, Rational, Trace, diff, eye, ones, zeros

from .. import backend as B
from ..kernel_regime.kernel_factor import KernelFactor
from ..kernel_regime.objectives import OBJECTIVES
from .derive import complete_square, expressed_in_variable, ky_fan_form
from .explicit import Realisation, substitute_definitions
from .nodes import CentringMatrix, FrobeniusNormSq, KernelRoot
from .objectives import (
    LEMMAS,
    SOFT_OBJECTIVES,
    SPECTRAL_OBJECTIVES,
    A,
    C,
    G,
    K,
    Kp,
    L,
    N,
    P,
    Z,
    beta,
    c,
    d,
    lam,
)
from .printer import KernelFactorPrinter

__all__ = ["ProofResult", "prove_all", "matrix_diff_crosscheck", "LEVELS"]


@dataclass(frozen=True)
class ProofResult:
    """Outcome of one proof or check.

    Attributes
    ----------
    name : str
    statement : str
    method : str
        ``"explicit generic matrices"``, ``"exact rational instances"`` or
        ``"finite differences (float64)"``.
    sizes : tuple of str
        The cases covered, e.g. ``"N=3 d=2 K invertible"``.
    holds : bool
    seconds : float
    detail : str
        The failing case when ``holds`` is False.
    """

    name: str
    statement: str
    method: str
    sizes: tuple
    holds: bool
    seconds: float
    detail: str = ""


#: Cases per level: ``(N, d, kernel model, rank)``. ``"plain"``: no kernel; ``"kernel"``: the
#: lemmas and pseudo-inverse identities; ``"completed"``: the completed squares (the generic
#: rank-2 model ``K = BB^T`` costs minutes there, so it only runs in the lemmas);
#: ``"root"``: the whitening identities (``K = RR^T``, ``R`` generic); ``"exact"``: ``(N, d, rank)`` of the rational
#: instances (rank None: invertible), ``"seeds"`` instances each.
LEVELS = {
    "default": {
        "plain": [(1, 1, None, None), (2, 1, None, None), (2, 2, None, None), (3, 2, None, None), (4, 3, None, None)],
        "kernel": [
            (1, 1, "invertible", None),
            (2, 1, "invertible", None),
            (2, 2, "invertible", None),
            (3, 2, "invertible", None),
            (2, 1, "singular", 1),
            (3, 2, "singular", 1),
            (3, 2, "block", 2),
            (4, 3, "block", 3),
        ],
        "root": [(1, 1, "root", None), (2, 1, "root", None), (3, 2, "root", None)],
        "gradient": [(2, 1, "invertible", None), (2, 2, "invertible", None), (3, 2, "invertible", None)],
        "exact": [(2, 1, None), (3, 2, None), (3, 1, 2), (4, 2, 3)],
        "seeds": 2,
    },
    "slow": {
        "plain": [(5, 3, None, None), (6, 3, None, None)],
        "kernel": [(4, 2, "invertible", None), (3, 2, "singular", 2), (5, 3, "block", 3)],
        "completed": [(4, 2, "invertible", None), (4, 2, "singular", 1), (5, 3, "block", 3), (6, 3, "block", 4)],
        "root": [(4, 3, "root", None)],
        "gradient": [(4, 2, "invertible", None)],
        "exact": [(5, 3, None), (5, 2, 4), (6, 3, 4)],
        "seeds": 3,
    },
}
LEVELS["default"]["completed"] = LEVELS["default"]["kernel"]


def _describe(n, dim, kernel=None, rank=None):
    text = f"N={n} d={dim}"
    if kernel == "singular":
        text += f" K=BB^T rank {rank}"
    elif kernel == "block":
        text += f" K=diag(M,0) rank {rank}"
    elif kernel is not None:
        text += f" K {kernel}"
    return text


def _describe_instance(n, dim, rank):
    return f"N={n} d={dim} " + ("K invertible" if rank is None else f"K rank {rank}")


def _run(name, statement, method, cases, check, describe=_describe) -> ProofResult:
    """Run ``check(case) -> bool`` on every case; stop at the first failure."""
    start = time.perf_counter()
    done: list[str] = []
    for case in cases:
        label = describe(*case)
        if not check(case):
            return ProofResult(
                name, statement, method, tuple(done + [label]), False, time.perf_counter() - start, f"fails for {label}"
            )
        done.append(label)
    return ProofResult(name, statement, method, tuple(done), True, time.perf_counter() - start)


def _uses_kernel(*exprs):
    return any(e.has(K) for e in exprs)


def _kernel_cases(level, *exprs, kernel_cases="kernel"):
    if any(e.has(KernelRoot) for e in exprs):
        return LEVELS[level]["root"]
    if _uses_kernel(*exprs):
        return LEVELS[level][kernel_cases]
    return LEVELS[level]["plain"]


def _equal_on(lhs, rhs, case, laplacian=False):
    n, dim, kernel, rank = case
    realisation = Realisation([lhs, rhs], n, dim, kernel=kernel or "invertible", rank=rank, laplacian=laplacian)
    return realisation.equal(lhs, rhs)


def _identity_proof(name, statement, pairs, level, laplacian=False, kernel_cases="kernel"):
    """Prove ``lhs == rhs`` for every pair, on the cases the symbols call for."""
    exprs = [e for p in pairs for e in p]
    cases = _kernel_cases(level, *exprs, kernel_cases=kernel_cases)
    return _run(
        name,
        statement,
        "explicit generic matrices",
        cases,
        lambda case: all(_equal_on(lhs, rhs, case, laplacian) for lhs, rhs in pairs),
    )


# Identities of docs/theory.md §3, stated independently of the derivation ------------------------


def _spectral_contrastive(level):
    def check(case):
        n, dim, _, _ = case
        rhs = FrobeniusNormSq(Z * Z.T - A) - FrobeniusNormSq(A)
        realisation = Realisation([rhs], n, dim)
        Am, Zm = realisation.matrix(A).to_list(), realisation.matrix(Z).to_list()
        dot = [
            [sum((Zm[i][k] * Zm[j][k] for k in range(dim)), realisation.ring.zero) for j in range(n)] for i in range(n)
        ]
        lhs = sum(
            (-2 * Am[i][j] * dot[i][j] + dot[i][j] ** 2 for i in range(n) for j in range(n)), realisation.ring.zero
        )
        return realisation.is_zero(lhs - realisation.value(rhs))

    return _run(
        "spectral_contrastive_identity",
        "-2 sum_ij A_ij z_i.z_j + sum_ij (z_i.z_j)^2 = ||Z Z^T - A||^2 - ||A||^2 (A symmetric)",
        "explicit generic matrices",
        LEVELS[level]["plain"],
        check,
    )


def _vicreg_contrastive(level):
    target = Identity(N) - beta / 2 * L
    lhs = FrobeniusNormSq(Z.T * Z - Identity(d)) + beta * Trace(Z.T * L * Z)
    rhs = FrobeniusNormSq(Z * Z.T - target) + d - FrobeniusNormSq(target)
    return _identity_proof(
        "vicreg_contrastive_identity",
        "||Z^T Z - I_d||^2 + beta tr(Z^T L Z) = ||Z Z^T - (I - beta/2 L)||^2 + d - ||I - beta/2 L||^2 (L symmetric)",
        [(lhs, rhs)],
        level,
    )


def _centred_laplacian(level):
    H = CentringMatrix(N)
    return _identity_proof(
        "centred_laplacian",
        "H L H = L, H L = L for a Laplacian L (L 1 = 0), H = I - 1 1^T / N",
        [(H * L * H, L), (H * L, L)],
        level,
        laplacian=True,
    )


def _pseudo_inverse(level):
    pairs = [
        (K * Kp * K, K),
        (Kp * K * Kp, Kp),
        ((K * Kp).T, K * Kp),
        ((Kp * K).T, Kp * K),
        (P, K * Kp),
        (P * P, P),
        (P * K, K),
        (P * Kp, Kp),
        (Kp * P, Kp),
    ]
    return _identity_proof(
        "pseudo_inverse",
        "K^+ is the Moore-Penrose inverse (K K^+ K = K, K^+ K K^+ = K^+, K K^+ and K^+ K symmetric); "
        "P = K K^+ is a projector with P K = K and P K^+ = K^+ P = K^+",
        pairs,
        level,
    )


def _laplacian_quadratic_form(level):
    def check(case):
        n, dim, _, _ = case
        lhs = Trace(Z.T * L * Z)
        realisation = Realisation([lhs, Trace(L * Z * Z.T)], n, dim, laplacian=True)
        Zm = realisation.matrix(Z).to_list()
        half = Rational(1, 2)
        total = realisation.ring.zero
        for i in range(n):
            for j in range(n):
                if i != j:
                    w = realisation.generator(f"w_{min(i, j)}_{max(i, j)}")
                    total += realisation.ring(half) * w * sum((Zm[i][k] - Zm[j][k]) ** 2 for k in range(dim))
        value = realisation.value(lhs)
        return realisation.is_zero(value - total) and realisation.is_zero(value - realisation.value(Trace(L * Z * Z.T)))

    return _run(
        "laplacian_quadratic_form",
        "tr(Z^T L Z) = tr(L Z Z^T) = 1/2 sum_ij w_ij ||z_i - z_j||^2 for L = D - W",
        "explicit generic matrices",
        LEVELS[level]["plain"],
        check,
    )


# Lemmas and derived identities -------------------------------------------------------------


def _lemma(rule, level):
    lhs, rhs = (substitute_definitions(s, rule.definitions) for s in rule.sides())
    return _identity_proof(f"lemma:{rule.name}", rule.statement, [(lhs, rhs)], level, laplacian=rule.laplacian)


def _completed_square(key, level):
    res = complete_square(key)
    obj = res.objective
    lhs = substitute_definitions(obj.loss, obj.definitions)
    rhs = substitute_definitions(res.completed, obj.definitions)
    return _identity_proof(
        f"completed_square:{key}",
        f"{obj.title}: loss = {res.quadratic}*||G - T||^2 + const with G = {obj.gram[1]}, T = {res.target}",
        [(lhs, rhs)],
        level,
        laplacian=obj.laplacian,
        kernel_cases="completed",
    )


def _ky_fan(key, level):
    res = ky_fan_form(key)
    obj = res.objective
    defs = obj.definitions
    frame_gram = substitute_definitions(Trace(G * res.spectral_matrix), defs)
    pairs = [
        (obj.objective, frame_gram),
        (obj.constraint[0], substitute_definitions(res.constraint[0], defs)),
    ]
    return _identity_proof(
        f"ky_fan_form:{key}",
        f"{obj.title}: {obj.objective} = tr(G S) with S = {res.spectral_matrix}, G = {defs[-1][1]}, "
        f"and {obj.constraint[0]} = {res.constraint[0]}; optimum {res.optimum}",
        pairs,
        level,
    )


def _entries(realisation, sym, n, dim):
    prefix = sym.name.lower()
    rows, cols = (n if s == N else dim for s in sym.shape)
    return [[realisation.generator(f"{prefix}_{i}_{j}") for j in range(cols)] for i in range(rows)]


def _gradient(key, level):
    res = complete_square(key)
    obj = res.objective
    loss = expressed_in_variable(obj).to_expr()

    def check(case):
        n, dim, kernel, rank = case
        realisation = Realisation([loss, res.gradient], n, dim, kernel=kernel, rank=rank, laplacian=obj.laplacian)
        value = realisation.value(loss)
        grad = realisation.value(res.gradient).to_list()
        variables = _entries(realisation, obj.variable, n, dim)
        return all(
            realisation.is_zero(value.diff(x) - grad[i][j])
            for i, row in enumerate(variables)
            for j, x in enumerate(row)
        )

    cases = (
        LEVELS[level]["gradient"]
        if _uses_kernel(loss)
        else [(n, m, None, None) for n, m, _, _ in LEVELS[level]["gradient"]]
    )
    return _run(
        f"gradient:{key}",
        f"{obj.title}: d loss / d {obj.variable} = {res.gradient} (entrywise derivatives of the explicit loss)",
        "explicit generic matrices",
        cases,
        check,
    )


def matrix_diff_crosscheck(n: int = 2, dim: int = 1) -> dict:
    """Compare SymPy's matrix ``diff`` of each soft loss with its entrywise derivatives.

    This documents why the derivations do not use SymPy's matrix calculus: in SymPy 1.14 the
    derivative of a sum of traces comes back wrong (sympy issues 23492, 30527).

    Parameters
    ----------
    n, dim : int
        Size of the explicit matrices.

    Returns
    -------
    dict
        ``{key: (agrees, sympy_result)}``; ``sympy_result`` is SymPy's expression, or the
        exception it raised, as a string.
    """
    out = {}
    for key in SOFT_OBJECTIVES:
        res = complete_square(key)
        obj = res.objective
        native = expressed_in_variable(obj).to_expr()
        try:
            sympy_grad = diff(native, obj.variable)
        except Exception as exc:
            out[key] = (False, f"{type(exc).__name__}: {exc}")
            continue
        agrees = sympy_grad.is_Matrix and _equal_on(
            sympy_grad, res.gradient, (n, dim, "invertible", None), obj.laplacian
        )
        out[key] = (bool(agrees), str(sympy_grad))
    return out


# Exact rational instances ------------------------------------------------------------------


def _orthogonal_basis(n, rng, first=None):
    """Rational pairwise-orthogonal basis of Q^n (Gram-Schmidt without normalisation)."""
    vectors = [] if first is None else [Matrix(first)]
    while len(vectors) < n:
        v = Matrix([rng.randint(-3, 3) for _ in range(n)])
        for u in vectors:
            v = v - (u.dot(v) / u.dot(u)) * u
        if any(x != 0 for x in v):
            vectors.append(v)
    return vectors


def _rational(rng, lo, hi, den=4):
    return Rational(rng.randint(int(lo * den), int(hi * den)), den)


def _spd(r, rng):
    B = Matrix(r, r, lambda i, j: rng.randint(-2, 2))
    return B.T * B + eye(r)


def _exact_instance(key, n, dim, rank, rng):
    """Data with a known target :math:`T`, the closed-form optimum and the exact minimum.

    Returns ``(fixed, variable_value, minimum, target)``: values for the symbols, the optimal
    value of the objective's variable, the optimal loss, and :math:`T`.
    """
    centred = key == "vicreg_centred"
    basis = _orthogonal_basis(n, rng, first=[1] * n if centred else None)
    span = basis[1:] if centred else basis[: rank or n]
    scales = [_rational(rng, 1, 3) for _ in range(dim)]
    factor = c_val = _rational(rng, 1, 2) if centred else 1
    tops = [factor * s**2 * v.dot(v) for s, v in zip(scales, span)]
    floor = min(tops)
    rest = [_rational(rng, -2, 1) * floor / 2 for _ in span[dim:]]
    tau = tops + rest
    T = sum((t * v * v.T / v.dot(v) for t, v in zip(tau, span)), zeros(n, n))
    frame = Matrix.hstack(*[s * v for s, v in zip(scales, span)])
    minimum_energy = sum(t**2 for t in tops)
    beta_val = _rational(rng, 1, 2)
    if centred:
        H = eye(n) - ones(n, n) / n
        L_val = (2 * c_val / beta_val) * (H - T)
        fixed = {L: L_val, beta: beta_val, c: c_val}
        return fixed, frame, dim - minimum_energy, T
    outside = basis[rank or n :]
    W = _spd(len(span), rng)
    U = Matrix.hstack(*span)
    K_val = U * W * U.T
    gram_inv = (U.T * U).inv()
    Kp_val = U * gram_inv * W.inv() * gram_inv * U.T
    P_val = K_val * Kp_val
    if not (K_val * Kp_val * K_val == K_val and Kp_val * K_val * Kp_val == Kp_val and P_val.T == P_val):
        raise RuntimeError("instance pseudo-inverse fails the Penrose conditions")
    junk = zeros(n, n)
    for v in outside:
        w = span[rng.randrange(len(span))]
        junk += _rational(rng, -2, 2) * (v * v.T + v * w.T + w * v.T)
    lam_val = _rational(rng, 1, 2)
    fixed = {K: K_val, Kp: Kp_val, P: P_val, lam: lam_val}
    if key == "contrastive":
        fixed[A] = T + lam_val / 2 * Kp_val + junk
        minimum = sum(x**2 for x in fixed[A]) - minimum_energy
    else:
        fixed[L] = (2 / beta_val) * (P_val - T - lam_val / 2 * Kp_val) + junk
        fixed[beta] = beta_val
        minimum = dim - minimum_energy
    return fixed, Kp_val * frame, minimum, T


def _stationarity(key, level):
    res = complete_square(key)
    obj = res.objective
    loss = expressed_in_variable(obj).to_expr()

    def check(case):
        n, dim, rank = case
        for seed in range(LEVELS[level]["seeds"]):
            rng = random.Random(1000 * n + 100 * dim + 10 * (rank or 0) + seed)
            fixed, optimum, minimum, T = _exact_instance(key, n, dim, rank, rng)
            realisation = Realisation([loss, res.target], n, dim, fixed=fixed)
            if realisation.value(res.target).to_Matrix() != T:
                return False
            value = realisation.value(loss)
            variables = _entries(realisation, obj.variable, n, dim)
            at = [(x, optimum[i, j]) for i, row in enumerate(variables) for j, x in enumerate(row)]
            point = [(x, QQ.from_sympy(v)) for x, v in at]
            if QQ.to_sympy(value.evaluate(point)) != minimum:
                return False
            if any(value.diff(x).evaluate(point) != 0 for x, _ in point):
                return False
        return True

    cases = [(n, dim, None if key == "vicreg_centred" else rank) for n, dim, rank in LEVELS[level]["exact"]]
    return _run(
        f"stationarity:{key}",
        f"{obj.title}: at the closed form (top-d eigenvectors of T), every derivative of the loss "
        f"with respect to {obj.variable} vanishes and the loss equals {res.minimum}",
        "exact rational instances",
        [case for case in cases if key != "vicreg_centred" or case[1] < case[0]],
        check,
        describe=(lambda n, dim, rank: f"N={n} d={dim}") if key == "vicreg_centred" else _describe_instance,
    )


# Finite differences with the generated builders ---------------------------------------------


def _numeric(expr, names, **arrays):
    """Evaluate a derived expression numerically by printing it (a small ``lambdify``)."""
    code = KernelFactorPrinter({"names": names, "dtype": "dtype", "eigenvalues": "top"}).doprint(expr)
    return eval(code, {"xp": arrays.pop("xp"), "gram": B.gram, **arrays})


def _generated_variant(key):
    """The numeric variant (generated functions) of the declaration ``key``."""
    for objective in OBJECTIVES.values():
        for variant in objective.variants:
            if variant.key == key:
                return variant
    raise KeyError(f"no generated functions for declaration {key!r}; run python -m kssl_theory.symbolic.codegen")


def _finite_differences(key, level):
    res = complete_square(key)
    obj = res.objective
    loss = expressed_in_variable(obj).to_expr()
    names = {lam: "reg", beta: "beta", c: "c", d: "dim", N: "n", C: "V", Z: "V"}

    def check(case):
        n, dim, rank = case
        rng = np.random.default_rng(n * 100 + dim * 10 + (rank or 0))
        Q, _ = B.qr(rng.standard_normal((n, n)))
        spectrum = rng.uniform(0.5, 3.0, n)
        if rank is not None:
            spectrum[rank:] = 0.0
        K_val = (Q * spectrum) @ Q.T
        groups = rng.integers(0, max(2, n // 2), n)
        A_val = (groups[:, None] == groups[None, :]).astype(float)
        L_val = np.diag(A_val.sum(1)) - A_val
        env = {"K": K_val, "A": A_val, "L": L_val, "reg": 0.3, "beta": 0.4, "c": 1.5, "dim": dim, "n": n}
        env["dtype"] = K_val.dtype
        kf = KernelFactor(K_val)
        variant = _generated_variant(key)
        options = {o.name: env[o.name] for o in obj.options}
        T = variant.call("target", A=A_val, L=L_val, kf=kf, **options)
        w, U = B.eigh(T)
        top, U = w[::-1][:dim], U[:, ::-1][:, :dim]
        scale = float(variant.call("scale", **options)) if "scale" in variant.functions else 1.0
        frame = U * np.sqrt(np.clip(top, 0, None) / scale)
        optimum = frame if obj.variable == Z else kf.solve(frame)
        minimum = variant.call("minimum", A=A_val, dim=dim, top=top, **options)

        def f(V):
            return float(_numeric(loss, names, xp=xp, V=V, **env))

        def fd_grad(V, h=1e-6):
            g = np.zeros_like(V)
            for idx in np.ndindex(*V.shape):
                e = np.zeros_like(V)
                e[idx] = h
                g[idx] = (f(V + e) - f(V - e)) / (2 * h)
            return g

        random_point = rng.standard_normal(optimum.shape)
        g_random = fd_grad(random_point)
        g_formula = np.asarray(_numeric(res.gradient, names, xp=xp, V=random_point, **env))
        scale = 1.0 + np.abs(g_random).max()
        return bool(
            abs(f(optimum) - float(minimum)) <= 1e-9 * (1.0 + abs(float(minimum)))
            and np.abs(fd_grad(optimum)).max() <= 1e-6 * scale
            and np.abs(g_random - g_formula).max() <= 1e-6 * scale
        )

    cases = [(3, 1, None), (5, 2, None), (6, 2, 4)] + ([(8, 3, None), (9, 3, 6)] if level == "slow" else [])
    return _run(
        f"finite_differences:{key}",
        f"{obj.title}: with the generated builders, central differences of the loss vanish at the "
        "closed form (rel. 1e-6), match the derived gradient at a random point, and the loss there "
        "equals the generated minimum (rel. 1e-9)",
        "finite differences (float64)",
        [case for case in cases if key != "vicreg_centred" or case[2] is None],
        check,
        describe=(lambda n, dim, rank: f"N={n} d={dim}") if key == "vicreg_centred" else _describe_instance,
    )


def prove_all(level: str = "default") -> list[ProofResult]:
    """Run every proof and numeric check.

    Parameters
    ----------
    level : {"default", "slow"}
        ``"default"`` covers sizes up to N = 4 in a few seconds; ``"slow"`` covers bigger sizes
        and the generic rank-2 kernel model (minutes).

    Returns
    -------
    list of ProofResult
    """
    if level not in LEVELS:
        raise ValueError(f"level must be one of {sorted(LEVELS)}, got {level!r}")
    results = [_lemma(rule, level) for rule in LEMMAS.values()]
    results += [
        _spectral_contrastive(level),
        _vicreg_contrastive(level),
        _centred_laplacian(level),
        _pseudo_inverse(level),
        _laplacian_quadratic_form(level),
    ]
    for key in SOFT_OBJECTIVES:
        results += [
            _completed_square(key, level),
            _gradient(key, level),
            _stationarity(key, level),
            _finite_differences(key, level),
        ]
    results += [_ky_fan(key, level) for key in SPECTRAL_OBJECTIVES]
    return results
