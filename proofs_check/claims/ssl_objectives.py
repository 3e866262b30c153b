r"""[IR] claims of docs/theory.md §5 about the SSL objectives: CISSL, the SimCLR baseline and DISSL.

The package side is :mod:`kssl_theory.idealized.losses`; the oracles write every loss out from its
definition in NumPy (softmax, cross-entropies with 0·log 0 = 0, entropies of batch means).
"""

from __future__ import annotations

import math

import numpy as np
from hypothesis import assume
from hypothesis import strategies as st

from ..checking import SAFETY
from ..instances import seeds
from ..registry import register
from ._common import IR_SOURCE

# --------------------------------------------------------------------------- CISSL / SimCLR


def _heads(params, rng):
    B, d, k = params["B"], params["d"], params["k"]
    z = rng.standard_normal((2 * B, d))
    U = z @ rng.standard_normal((d, k))
    h = np.maximum(z @ rng.standard_normal((d, 2 * k)) + rng.standard_normal(2 * k), 0)
    W = h @ rng.standard_normal((2 * k, k)) + rng.standard_normal(k)
    return U, W


def _log_softmax(L):
    m = L.max(axis=1, keepdims=True)
    return L - m - np.log(np.exp(L - m).sum(axis=1, keepdims=True))


_HEADS = st.fixed_dictionaries(
    {"seed": seeds, "B": st.integers(1, 6), "d": st.integers(1, 5), "k": st.integers(1, 6), "tau": st.floats(0.05, 2.0)}
)


@register(
    id="IR-cissl-bound",
    title="CISSL loss (asymmetric heads, self column kept) is ≥ log 2 per row",
    source=f"{IR_SOURCE} §5",
    preconditions=(
        "τ > 0",
        "B ≥ 1 images with two views each",
        "any linear student and MLP teacher",
    ),
    statement="CISSL: student head linear, teacher head an MLP; q(j|i) = softmax over all 2B columns of u_i·w_j/τ "
    "(self column not masked); loss = mean over i of −½[log q(i|i) + log q(pos(i)|i)] ≥ log 2 per row.",
    latex=r"\ell_i = -\tfrac12\big[\log q(i\mid i) + \log q(\mathrm{pos}(i)\mid i)\big] \ge \log 2",
    strategy=_HEADS,
    method="Random batch (B images × 2 views), linear student and 1-hidden-layer ReLU teacher in numpy; the loss "
    "written out in numpy against kssl_theory.idealized.losses.cissl_loss (per row), and every row ≥ log 2.",
    tolerance="100·2B·ε·(1 + 1/τ).",
    examples=40,
)
def check_cissl_bound(params, ctx, chk):
    from kssl_theory.idealized.losses import cissl_loss

    rng = np.random.default_rng(params["seed"])
    U, W = _heads(params, rng)
    assume(np.linalg.norm(U, axis=1).min() > 1e-6 and np.linalg.norm(W, axis=1).min() > 1e-6)
    B, tau = params["B"], params["tau"]
    Ub, Wb = ctx.put(U), ctx.put(W)
    U, W = ctx.get(Ub), ctx.get(Wb)
    u = U / np.linalg.norm(U, axis=1, keepdims=True)
    w = W / np.linalg.norm(W, axis=1, keepdims=True)
    logq = _log_softmax(u @ w.T / tau)
    idx = np.arange(2 * B)
    pos = (idx + B) % (2 * B)
    rows = -0.5 * (logq[idx, idx] + logq[idx, pos])
    got = cissl_loss(Ub, Wb, temperature=tau)
    tol = SAFETY * 2 * B * ctx.eps * (1 + 1 / tau)
    chk.close("package per-row loss = definition", ctx.get(got.per_row), rows, tol)
    chk.close("package loss = mean of rows", ctx.scalar(got.value), rows.mean(), tol)
    chk.ge("every row ≥ log 2", rows.min(), math.log(2), tol)


@register(
    id="IR-simclr-baseline",
    title="SimCLR baseline: shared head, self column masked (NT-Xent)",
    source=f"{IR_SOURCE} §5",
    preconditions=(
        "τ > 0",
        "B ≥ 1 images with two views each",
    ),
    statement="SimCLR baseline: shared head, self masked.",
    latex=r"\ell_i = -\log\frac{\exp(h_i\cdot h_{\mathrm{pos}(i)}/\tau)}{\sum_{l\ne i}\exp(h_i\cdot h_l/\tau)}",
    strategy=_HEADS,
    method="NT-Xent written out in numpy (normalised shared head, self column excluded) against "
    "kssl_theory.idealized.losses.simclr_loss per row; rows ≥ 0.",
    tolerance="100·2B·ε·(1 + 1/τ).",
    examples=40,
)
def check_simclr_baseline(params, ctx, chk):
    from kssl_theory.idealized.losses import simclr_loss

    rng = np.random.default_rng(params["seed"])
    H, _ = _heads(params, rng)
    assume(np.linalg.norm(H, axis=1).min() > 1e-6)
    B, tau = params["B"], params["tau"]
    Hb = ctx.put(H)
    H = ctx.get(Hb)
    h = H / np.linalg.norm(H, axis=1, keepdims=True)
    L = h @ h.T / tau
    np.fill_diagonal(L, -np.inf)
    logq = _log_softmax(L)
    idx = np.arange(2 * B)
    rows = -logq[idx, (idx + B) % (2 * B)]
    got = simclr_loss(Hb, temperature=tau)
    tol = SAFETY * 2 * B * ctx.eps * (1 + 1 / tau)
    chk.close("package per-row loss = NT-Xent with self masked", ctx.get(got.per_row), rows, tol)
    chk.ge("rows ≥ 0", rows.min(), 0.0, tol)


# --------------------------------------------------------------------------- DISSL


def _xlogy(p, q):
    return np.where(p > 0, p * np.log(np.where(q > 0, q, 1.0)), 0.0) + np.where((p > 0) & (q <= 0), -np.inf, 0.0)


def _dissl_oracle(t, s, lam, beta, marginal="pooled"):
    """DISSL from probabilities (2B rows, pos(i) = i ± B), with its identity terms.

    ``marginal``: H[M̂] of the mean of all rows ("pooled"), or the mean over the two views (rows
    0..B-1 and B..2B-1) of the entropy of each view's mean ("per_view", the authors' code).
    """
    N = t.shape[0]
    B = N // 2
    idx = np.arange(N)
    pos = (idx + B) % N

    def ce(p, q):
        return -_xlogy(p, q).sum(axis=-1)

    H_t = ce(t, t)
    ce_ts = ce(t, s[pos])
    ce_tt = ce(t, t[pos])
    if marginal == "per_view":
        H_M = 0.5 * (ce(t[:B].mean(axis=0), t[:B].mean(axis=0)) + ce(t[B:].mean(axis=0), t[B:].mean(axis=0)))
    else:
        Mhat = t.mean(axis=0)
        H_M = ce(Mhat, Mhat)
    value = ce_ts.mean() - lam * H_M + (beta * ce_tt.mean() if beta > 0 else 0.0)
    return {
        "value": value,
        "kl_student": (ce_ts - H_t).mean(),
        "kl_teacher": (ce_tt - H_t).mean(),
        "conditional_entropy": H_t.mean(),
        "marginal_entropy": H_M,
    }


_DISSL_LOGITS = st.fixed_dictionaries(
    {
        "seed": seeds,
        "B": st.integers(1, 6),
        "clusters": st.integers(2, 6),
        "lam": st.floats(0.0, 3.0),
        "beta": st.floats(0.0, 2.0),
        "tau_t": st.floats(0.1, 2.0),
        "tau_s": st.floats(0.1, 2.0),
        "scale": st.floats(0.1, 5.0),
    }
)


@register(
    id="IR-dissl-identity",
    title="DISSL = KL(t_i‖s_j) + β KL(t_i‖t_j) + (1+β) H[M̂|Z] − λ H[M̂]",
    source=f"{IR_SOURCE} §5",
    preconditions=(
        "τ_t, τ_s > 0",
        "any λ, β",
        "C' ≥ 2 clusters",
    ),
    statement="DISSL loss = E[CE(t_i, s_j)] − λ H[batch-mean of t] + β E[CE(t_i, t_j)] over ordered view pairs i ≠ j. "
    "Identity: L = KL(t_i‖s_j) + β KL(t_i‖t_j) + (1+β) H[M̂|Z] − λ H[M̂], with H[M̂] the entropy of the mean of all "
    "rows (marginal='pooled', the default) or the mean over views of the entropy of each view's mean "
    "(marginal='per_view', the authors' code).",
    latex=r"\mathcal L = \mathbb E[\mathrm{KL}(t_i\|s_j)] + \beta\,\mathbb E[\mathrm{KL}(t_i\|t_j)] + "
    r"(1+\beta)H[\hat M\mid Z] - \lambda H[\hat M]",
    strategy=_DISSL_LOGITS,
    method="Random teacher/student logits; t = softmax(h_T/τ_t), s = softmax(h_S/τ_s) and every term written out in "
    "numpy; the identity in numpy and the package's dissl_loss value and decomposition against it, for both "
    "conventions of H[M̂] (marginal='pooled' and 'per_view').",
    tolerance="100·2B·C'·ε·(1 + λ + β)·(1 + max|logit|/τ).",
    examples=40,
)
def check_dissl_identity(params, ctx, chk):
    from kssl_theory.idealized.losses import dissl_loss

    rng = np.random.default_rng(params["seed"])
    N, Cp = 2 * params["B"], params["clusters"]
    Tl = ctx.get(ctx.put(params["scale"] * rng.standard_normal((N, Cp))))
    Sl = ctx.get(ctx.put(params["scale"] * rng.standard_normal((N, Cp))))
    lam, beta = params["lam"], params["beta"]
    t = np.exp(_log_softmax(Tl / params["tau_t"]))
    s = np.exp(_log_softmax(Sl / params["tau_s"]))
    big = max(np.abs(Tl).max() / params["tau_t"], np.abs(Sl).max() / params["tau_s"], 1.0)
    tol = SAFETY * N * Cp * ctx.eps * (1 + lam + beta) * (1 + big)
    for marginal in ("pooled", "per_view"):
        o = _dissl_oracle(t, s, lam, beta, marginal)
        identity = (
            o["kl_student"]
            + beta * o["kl_teacher"]
            + (1 + beta) * o["conditional_entropy"]
            - lam * o["marginal_entropy"]
        )
        chk.close(f"identity (numpy, {marginal})", identity, o["value"], tol)
        got = dissl_loss(
            ctx.put(Tl),
            ctx.put(Sl),
            lam=lam,
            beta=beta,
            tau_t=params["tau_t"],
            tau_s=params["tau_s"],
            marginal=marginal,
        )
        chk.close(f"package value = definition ({marginal})", ctx.scalar(got.value), o["value"], tol)
        for name in ("kl_student", "kl_teacher", "conditional_entropy", "marginal_entropy"):
            chk.close(f"package {name} ({marginal})", ctx.scalar(getattr(got, name)), o[name], tol)


@st.composite
def _dissl_configs(draw, *, positive_weights=False):
    lam = draw(st.floats(0.1, 3.0)) if positive_weights else draw(st.one_of(st.just(0.0), st.floats(0.1, 3.0)))
    beta = draw(st.floats(0.1, 2.0)) if positive_weights else draw(st.one_of(st.just(0.0), st.floats(0.1, 2.0)))
    return {
        "seed": draw(seeds),
        "B": draw(st.integers(1, 6)),
        "clusters": draw(st.integers(2, 4)),
        "teacher": draw(st.sampled_from(["ideal", "collapsed", "swapped", "soft", "perturbed"])),
        "student": draw(st.sampled_from(["equal", "swapped-back", "perturbed"])),
        "lam": lam,
        "beta": beta,
    }


def _dissl_instance(params):
    rng = np.random.default_rng(params["seed"])
    B, Cp = params["B"], params["clusters"]
    N = 2 * B
    eye = np.eye(Cp)
    kind = params["teacher"]
    a = np.arange(B) % Cp
    if kind in ("ideal", "perturbed"):
        t = eye[np.r_[a, a]]
        if kind == "perturbed":
            t = 0.9 * t + 0.1 * rng.dirichlet(np.ones(Cp), N)
    elif kind == "collapsed":
        t = eye[np.zeros(N, dtype=int)]
    elif kind == "swapped":
        t = eye[np.r_[a, (a + 1) % Cp]]
    else:
        t = rng.dirichlet(np.ones(Cp), N)
    pos = (np.arange(N) + B) % N
    if params["student"] == "equal":
        s = t.copy()
    elif params["student"] == "swapped-back":
        s = t[pos].copy()
    else:
        s = 0.8 * t + 0.2 * rng.dirichlet(np.ones(Cp), N)
    return t, s, pos


def _dissl_attain(params, ctx, chk):
    from kssl_theory.idealized.losses import dissl_loss_from_probabilities

    t, s, pos = _dissl_instance(params)
    lam, beta, Cp = params["lam"], params["beta"], params["clusters"]
    o = _dissl_oracle(t, s, lam, beta)
    bound = -lam * math.log(Cp) + 0.0
    tol = SAFETY * t.size * 1e-15 * (1 + lam + beta)
    attained = bool(np.isfinite(o["value"]) and abs(o["value"] - bound) <= tol)
    one_hot = bool(np.all(np.isclose(t.max(axis=1), 1.0)))
    invariant = bool(np.allclose(t, t[pos]))
    uniform = bool(np.allclose(t.mean(axis=0), 1.0 / Cp))
    equal = bool(np.allclose(s, t))
    conditions = one_hot and invariant and uniform and equal
    chk.info.update(
        loss=float(o["value"]),
        bound=bound,
        one_hot=one_hot,
        invariant=invariant,
        uniform=uniform,
        student_equals_teacher=equal,
    )
    chk.equal(
        "bound attained ⇔ (one-hot, view-invariant, batch-uniform teacher and student = teacher)",
        attained,
        conditions,
        f"loss {o['value']:.6g}, bound {bound:.6g}; one-hot {one_hot}, invariant {invariant}, "
        f"uniform {uniform}, student = teacher {equal}",
    )
    got = dissl_loss_from_probabilities(ctx.put(t), ctx.put(s), lam=lam, beta=beta)
    value = ctx.scalar(got.value)
    if np.isfinite(o["value"]):
        chk.close("package value = definition", value, o["value"], SAFETY * t.size * ctx.eps * (1 + lam + beta) * 10)


@register(
    id="IR-dissl-bound",
    title="DISSL is bounded below by −λ log C'",
    source=f"{IR_SOURCE} §5",
    preconditions=(
        "λ ≥ 0, β ≥ 0",
        "τ_t, τ_s > 0",
        "C' ≥ 2 clusters",
    ),
    statement="Lower bound −λ log C' (λ, β ≥ 0), for either estimate of H[M̂] (pooled or per view).",
    latex=r"\mathcal L \ge -\lambda\log C'",
    strategy=_DISSL_LOGITS,
    method="Random logits (as IR-dissl-identity) and random probability configurations (one-hot, collapsed, "
    "swapped, soft): the numpy value never goes below −λ log C'; the package's dissl_reference_values agrees.",
    tolerance="100·2B·C'·ε·(1 + λ + β).",
    examples=40,
)
def check_dissl_bound(params, ctx, chk):
    from kssl_theory.idealized.losses import dissl_reference_values

    rng = np.random.default_rng(params["seed"])
    N, Cp = 2 * params["B"], params["clusters"]
    lam, beta = params["lam"], params["beta"]
    t = np.exp(_log_softmax(params["scale"] * rng.standard_normal((N, Cp)) / params["tau_t"]))
    s = np.exp(_log_softmax(params["scale"] * rng.standard_normal((N, Cp)) / params["tau_s"]))
    bound = -lam * math.log(Cp)
    tol = SAFETY * N * Cp * ctx.eps * (1 + lam + beta)
    for marginal in ("pooled", "per_view"):
        value = _dissl_oracle(t, s, lam, beta, marginal)["value"]
        chk.ge(f"softmax teacher/student ({marginal}): L ≥ −λ log C'", value, bound, tol)
        for kind in ("ideal", "collapsed", "swapped", "soft", "perturbed"):
            tt, ss, _ = _dissl_instance({**params, "teacher": kind, "student": "perturbed"})
            value = _dissl_oracle(tt, ss, lam, beta, marginal)["value"]
            chk.ge(f"{kind} teacher ({marginal}): L ≥ −λ log C'", value, bound, tol)
    chk.close("package's lower_bound", dissl_reference_values(Cp, lam=lam, beta=beta).lower_bound, bound, 1e-12)


@register(
    id="IR-dissl-attain-iff",
    title="DISSL's bound is attained iff the teacher is one-hot, view-invariant, batch-uniform "
    "and the student equals it",
    source=f"{IR_SOURCE} §5",
    preconditions=(
        "as the original specification words it: λ ≥ 0, β ≥ 0 (refuted at λ = 0 or β = 0; see "
        "IR-dissl-attain-iff-positive)",
    ),
    statement="Lower bound −λ log C', attained iff the teacher is one-hot, view-invariant, batch-uniform and the "
    "student equals it.",
    latex=r"\mathcal L = -\lambda\log C' \iff t_i \text{ one-hot},\ t_i = t_{\mathrm{pos}(i)},\ "
    r"\hat M = \mathrm{uniform},\ s = t",
    strategy=_dissl_configs(),
    method="Probability configurations (ideal, collapsed, swapped between views, soft, perturbed teachers; student "
    "equal, swapped back, perturbed) with λ, β ≥ 0 including 0; attainment decided on the numpy value, "
    "conditions checked directly; the package's dissl_loss_from_probabilities must agree in value.",
    tolerance="attainment: |L + λ log C'| ≤ 100·2B·C'·1e-15·(1 + λ + β).",
    status="refuted",
    corrected_by="IR-dissl-attain-iff-positive",
    examples=40,
    counterexamples=(
        {"seed": 0, "B": 1, "clusters": 2, "teacher": "ideal", "student": "equal", "lam": 0.0, "beta": 0.0},
        {"seed": 0, "B": 2, "clusters": 2, "teacher": "swapped", "student": "swapped-back", "lam": 1.0, "beta": 0.0},
    ),
    note="Refuted at the boundary of the weights. With λ = 0 a collapsed teacher (every view one-hot on one "
    "cluster) with student equal to it gives L = 0 = −0·log C' without being batch-uniform. With β = 0 and two "
    "views per image, a teacher that puts the two views of an image on different clusters, with the student "
    "swapped back (s_j = t_i), has zero distillation loss and no invariance term, so it attains −λ log C' while "
    "not view-invariant. The statement holds for λ > 0 and β > 0 (IR-dissl-attain-iff-positive), which covers "
    "the authors' defaults λ = 2.3, β = 0.8.",
)
def check_dissl_attain_iff(params, ctx, chk):
    _dissl_attain(params, ctx, chk)


@register(
    id="IR-dissl-attain-iff-positive",
    title="For λ > 0, β > 0: DISSL's bound is attained iff one-hot, invariant, batch-uniform teacher "
    "and student = teacher",
    source=f"{IR_SOURCE} §5 (corrected: IR-dissl-attain-iff with λ, β > 0)",
    preconditions=(
        "λ > 0 and β > 0",
        "C' ≥ 2 clusters",
        "τ_t, τ_s > 0",
    ),
    statement="For λ > 0 and β > 0, the lower bound −λ log C' is attained iff the teacher is one-hot, view-invariant, "
    "batch-uniform and the student equals it.",
    latex=r"\lambda,\beta > 0:\ \mathcal L = -\lambda\log C' \iff t \text{ one-hot, invariant, uniform},\ s = t",
    strategy=_dissl_configs(positive_weights=True),
    method="As IR-dissl-attain-iff with λ, β > 0.",
    tolerance="as IR-dissl-attain-iff.",
    corrects="IR-dissl-attain-iff",
    examples=40,
)
def check_dissl_attain_iff_positive(params, ctx, chk):
    _dissl_attain(params, ctx, chk)


@register(
    id="IR-dissl-defaults",
    title="DISSL defaults of the authors' code: λ = 2.3, β = 0.8, τ_t = 0.5, τ_s = 1",
    source=f"{IR_SOURCE} §5",
    preconditions=("none: a fact about the authors' code and this package's defaults",),
    statement="Defaults in the authors' code: λ = 2.3, β = 0.8, τ_t = 0.5, τ_s = 1.",
    latex=r"(\lambda, \beta, \tau_t, \tau_s) = (2.3,\ 0.8,\ 0.5,\ 1)",
    strategy=st.fixed_dictionaries({"seed": seeds, "B": st.integers(1, 4), "clusters": st.integers(2, 5)}),
    method="The defaults of kssl_theory.idealized.losses.dissl_loss (signature) and the value with defaults equals the "
    "value with these numbers passed explicitly.",
    tolerance="exact.",
    examples=10,
)
def check_dissl_defaults(params, ctx, chk):
    import inspect

    from kssl_theory.idealized.losses import dissl_loss

    sig = inspect.signature(dissl_loss).parameters
    for name, value in (("lam", 2.3), ("beta", 0.8), ("tau_t", 0.5), ("tau_s", 1.0)):
        chk.equal(f"default {name} = {value}", sig[name].default, value)
    rng = np.random.default_rng(params["seed"])
    T = ctx.put(rng.standard_normal((2 * params["B"], params["clusters"])))
    S = ctx.put(rng.standard_normal((2 * params["B"], params["clusters"])))
    chk.close(
        "defaults used",
        ctx.scalar(dissl_loss(T, S).value),
        ctx.scalar(dissl_loss(T, S, lam=2.3, beta=0.8, tau_t=0.5, tau_s=1.0).value),
        0.0,
    )
