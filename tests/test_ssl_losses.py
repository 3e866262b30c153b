"""Tests of kssl_theory.idealized.losses: CISSL, SimCLR and DISSL of docs/theory.md §5.

Every loss is compared with a plain-Python loop implementation written here. Tolerances: the
losses are sums of O(N * C') terms of size O(1/tau) in float64, so vectorised and loop versions
agree to ~1e-13 relative; we use rtol 1e-10. Identities and attained bounds are checked at a few
ulps of the values involved (abs 1e-12).
"""

from __future__ import annotations

import inspect
import math

import numpy as np
import pytest
from conftest import to_np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kssl_theory.errors import InputError
from kssl_theory.idealized import losses as sl

FIXTURE_OK = [HealthCheck.function_scoped_fixture]


# ---------------------------------------------------------------------------------------------
# Loop reference implementations
# ---------------------------------------------------------------------------------------------


def _norm(v):
    r = math.sqrt(sum(a * a for a in v))
    return [a / r for a in v]


def _dot(a, b):
    return sum(x * y for x, y in zip(a, b))


def _lse(values):
    m = max(values)
    return m + math.log(sum(math.exp(v - m) for v in values))


def _groups(groups, n):
    return [i % (n // 2) for i in range(n)] if groups is None else list(groups)


def loop_cissl(student, teacher, groups, tau):
    n = len(student)
    g = _groups(groups, n)
    u = [_norm(r) for r in student]
    w = [_norm(r) for r in teacher]
    rows = []
    for i in range(n):
        logits = [_dot(u[i], w[j]) / tau for j in range(n)]
        lse = _lse(logits)
        members = [j for j in range(n) if g[j] == g[i]]
        rows.append(-sum(logits[j] - lse for j in members) / len(members))
    return rows


def loop_simclr(outputs, groups, tau):
    n = len(outputs)
    g = _groups(groups, n)
    h = [_norm(r) for r in outputs]
    rows = []
    for i in range(n):
        others = [j for j in range(n) if j != i]
        lse = _lse([_dot(h[i], h[j]) / tau for j in others])
        pos = [j for j in others if g[j] == g[i]]
        rows.append(-sum(_dot(h[i], h[j]) / tau - lse for j in pos) / len(pos))
    return rows


def _softmax(row, tau):
    z = [v / tau for v in row]
    lse = _lse(z)
    return [math.exp(v - lse) for v in z]


def _xlogy(x, y):
    return 0.0 if x == 0 else x * math.log(y)


def loop_dissl_probs(t, s, groups, lam, beta):
    n = len(t)
    g = _groups(groups, n)
    pairs = [(i, j) for i in range(n) for j in range(n) if i != j and g[i] == g[j]]
    k = len(t[0])

    def ce(p, q):
        return -sum(_xlogy(p[c], q[c]) for c in range(k))

    def kl(p, q):
        return sum(p[c] * (math.log(p[c]) - math.log(q[c])) for c in range(k) if p[c] > 0)

    def ent(p):
        return -sum(_xlogy(p[c], p[c]) for c in range(k))

    m_hat = [sum(t[i][c] for i in range(n)) / n for c in range(k)]
    out = dict(
        distillation=sum(ce(t[i], s[j]) for i, j in pairs) / len(pairs),
        invariance=sum(ce(t[i], t[j]) for i, j in pairs) / len(pairs),
        marginal_entropy=ent(m_hat),
        conditional_entropy=sum(ent(t[i]) for i, _ in pairs) / len(pairs),
        kl_student=sum(kl(t[i], s[j]) for i, j in pairs) / len(pairs),
        kl_teacher=sum(kl(t[i], t[j]) for i, j in pairs) / len(pairs),
    )
    out["value"] = out["distillation"] - lam * out["marginal_entropy"] + beta * out["invariance"]
    return out


def loop_dissl(teacher_logits, student_logits, groups, lam, beta, tau_t, tau_s):
    t = [_softmax(r, tau_t) for r in teacher_logits]
    s = [_softmax(r, tau_s) for r in student_logits]
    return loop_dissl_probs(t, s, groups, lam, beta)


# ---------------------------------------------------------------------------------------------
# Batches
# ---------------------------------------------------------------------------------------------


def _batch(rng, B, m, layout):
    """Groups for B images with m views: the default 2B layout (None) or shuffled explicit labels."""
    if layout == "default":
        return None, 2 * B
    g = np.repeat(np.arange(B), m)
    return g[rng.permutation(g.size)], B * m


def _heads(rng, N, d, k):
    """Linear student and one-hidden-layer MLP teacher on random representations z."""
    z = rng.normal(size=(N, d))
    student = sl.linear_head(z, rng.normal(size=(d, k)))
    teacher = sl.mlp_head(
        z, [rng.normal(size=(d, 8)), rng.normal(size=(8, k))], [rng.normal(size=8), rng.normal(size=k)]
    )
    return student, teacher


def test_heads_match_loops(rng):
    z = rng.normal(size=(4, 3))
    W, b = rng.normal(size=(3, 2)), rng.normal(size=2)
    np.testing.assert_allclose(sl.linear_head(z, W, b), [[_dot(r, W[:, c]) + b[c] for c in range(2)] for r in z])
    W1, b1, W2, b2 = rng.normal(size=(3, 5)), rng.normal(size=5), rng.normal(size=(5, 2)), rng.normal(size=2)
    hidden = np.maximum(z @ W1 + b1, 0)
    np.testing.assert_allclose(sl.mlp_head(z, [W1, W2], [b1, b2]), hidden @ W2 + b2, rtol=1e-13)
    with pytest.raises(InputError, match="weight must have 3 rows"):
        sl.linear_head(z, np.ones((2, 2)))
    with pytest.raises(InputError, match="equal length"):
        sl.mlp_head(z, [W1], [])


# ---------------------------------------------------------------------------------------------
# CISSL and SimCLR
# ---------------------------------------------------------------------------------------------


@settings(max_examples=25, suppress_health_check=FIXTURE_OK)
@given(
    B=st.integers(1, 6),
    m=st.integers(2, 3),
    layout=st.sampled_from(["default", "explicit"]),
    k=st.integers(1, 5),
    tau=st.sampled_from([0.05, 0.07, 0.5, 1.0, 3.0]),
    seed=st.integers(0, 2**32 - 1),
)
def test_cissl_matches_loop_and_per_row_bound(xp, B, m, layout, k, tau, seed):
    rng = np.random.default_rng(seed)
    groups, N = _batch(rng, B, m, layout)
    student, teacher = _heads(rng, N, 4, k)
    res = sl.cissl_loss(xp.asarray(student), xp.asarray(teacher), groups, temperature=tau)
    ref = loop_cissl(student.tolist(), teacher.tolist(), groups, tau)
    np.testing.assert_allclose(to_np(res.per_row), ref, rtol=1e-10, atol=1e-12)
    assert float(res.value) == pytest.approx(np.mean(ref), rel=1e-10)
    views = 2 if groups is None else m
    assert np.all(to_np(res.per_row) >= math.log(views) - 1e-12)  # log 2 for pairs


def test_cissl_bound_attained_by_single_image_and_approached_as_tau_to_zero(xp):
    # One image, two views, equal scores on both columns: q = (1/2, 1/2), loss = log 2 exactly.
    u = xp.asarray([[1.0, 0.0], [0.0, 1.0]])
    w = xp.asarray([[1.0, 1.0], [1.0, 1.0]])
    assert float(sl.cissl_loss(u, w, temperature=0.3).value) == pytest.approx(math.log(2), abs=1e-15)
    # B = 3 images: teacher codes equal the student code of both views, images orthogonal.
    E = np.eye(3)
    student = np.vstack([E, E])
    previous = math.inf
    for tau in (1.0, 0.3, 0.1, 0.03):
        value = float(sl.cissl_loss(xp.asarray(student), xp.asarray(student), temperature=tau).value)
        assert math.log(2) < value < previous
        previous = value
    assert previous == pytest.approx(math.log(2), abs=1e-12)


@settings(max_examples=25, suppress_health_check=FIXTURE_OK)
@given(
    B=st.integers(1, 6),
    m=st.integers(2, 3),
    layout=st.sampled_from(["default", "explicit"]),
    k=st.integers(1, 5),
    tau=st.sampled_from([0.07, 0.5, 2.0]),
    seed=st.integers(0, 2**32 - 1),
)
def test_simclr_matches_loop_and_is_nonnegative(xp, B, m, layout, k, tau, seed):
    rng = np.random.default_rng(seed)
    groups, N = _batch(rng, B, m, layout)
    outputs = rng.normal(size=(N, k))
    res = sl.simclr_loss(xp.asarray(outputs), groups, temperature=tau)
    ref = loop_simclr(outputs.tolist(), groups, tau)
    np.testing.assert_allclose(to_np(res.per_row), ref, rtol=1e-10, atol=1e-12)
    assert np.all(to_np(res.per_row) >= 0.0)
    views = 2 if groups is None else m
    assert np.all(to_np(res.per_row) >= math.log(views - 1) - 1e-12)


def test_contrastive_input_errors():
    x = np.ones((4, 2))
    with pytest.raises(InputError, match="even number of rows"):
        sl.cissl_loss(np.ones((3, 2)), np.ones((3, 2)))
    with pytest.raises(InputError, match="at least two views"):
        sl.simclr_loss(x, [0, 0, 1, 2])
    with pytest.raises(InputError, match="same shape"):
        sl.cissl_loss(x, np.ones((4, 3)))
    with pytest.raises(InputError, match="all-zero row"):
        sl.simclr_loss(np.vstack([np.zeros((1, 2)), np.ones((3, 2))]))
    with pytest.raises(InputError, match="temperature must be > 0"):
        sl.cissl_loss(x, x, temperature=0.0)


# ---------------------------------------------------------------------------------------------
# DISSL
# ---------------------------------------------------------------------------------------------


FIELDS = ("value", "distillation", "invariance", "marginal_entropy", "conditional_entropy", "kl_student", "kl_teacher")


def test_dissl_defaults_are_the_authors():
    p = inspect.signature(sl.dissl_loss).parameters
    assert (p["lam"].default, p["beta"].default, p["tau_t"].default, p["tau_s"].default) == (2.3, 0.8, 0.5, 1.0)


@settings(max_examples=30, suppress_health_check=FIXTURE_OK)
@given(
    B=st.integers(1, 6),
    m=st.integers(2, 3),
    layout=st.sampled_from(["default", "explicit"]),
    k=st.integers(1, 6),
    lam=st.sampled_from([0.0, 1.0, 2.3]),
    beta=st.sampled_from([0.0, 0.8, 2.0]),
    tau_t=st.sampled_from([0.5, 1.0]),
    tau_s=st.sampled_from([0.2, 1.0]),
    scale=st.sampled_from([0.1, 1.0, 5.0]),
    seed=st.integers(0, 2**32 - 1),
)
def test_dissl_matches_loop_identity_and_bound(xp, B, m, layout, k, lam, beta, tau_t, tau_s, scale, seed):
    rng = np.random.default_rng(seed)
    groups, N = _batch(rng, B, m, layout)
    student, teacher = _heads(rng, N, 4, k)
    teacher, student = scale * teacher, scale * student
    res = sl.dissl_loss(xp.asarray(teacher), xp.asarray(student), groups, lam=lam, beta=beta, tau_t=tau_t, tau_s=tau_s)
    ref = loop_dissl(teacher.tolist(), student.tolist(), groups, lam, beta, tau_t, tau_s)
    for f in FIELDS:
        assert float(getattr(res, f)) == pytest.approx(ref[f], rel=1e-10, abs=1e-12), f
    # docs/theory.md §5 identity, with the loop's directly computed KLs and entropies.
    rhs = (
        ref["kl_student"]
        + beta * ref["kl_teacher"]
        + (1 + beta) * ref["conditional_entropy"]
        - lam * ref["marginal_entropy"]
    )
    scale_terms = 1 + abs(ref["distillation"]) + beta * abs(ref["invariance"]) + lam * ref["marginal_entropy"]
    assert float(res.value) == pytest.approx(rhs, abs=1e-13 * scale_terms)
    assert float(res.value) >= sl.dissl_reference_values(k, lam=lam, beta=beta).lower_bound - 1e-12


def test_dissl_conditional_entropy_is_pair_weighted_mean_teacher_entropy(rng):
    groups = np.array([0, 0, 1, 1, 1, 2, 2])
    logits = rng.normal(size=(7, 4))
    res = sl.dissl_loss(logits, rng.normal(size=(7, 4)), groups)
    t = np.exp(logits / 0.5)
    t /= t.sum(axis=1, keepdims=True)
    h = -(t * np.log(t)).sum(axis=1)
    weights = np.bincount(groups)[groups] - 1  # number of pairs (i, j) with anchor i
    assert float(res.conditional_entropy) == pytest.approx((weights * h).sum() / weights.sum(), rel=1e-12)
    # Equal group sizes: the plain mean over views.
    equal = sl.dissl_loss(logits[:6], logits[:6], [0, 0, 1, 1, 2, 2])
    assert float(equal.conditional_entropy) == pytest.approx(h[:6].mean(), rel=1e-12)


def _one_hot(idx, k):
    return np.eye(k)[np.asarray(idx)]


@pytest.mark.parametrize("k,copies", [(1, 1), (2, 1), (3, 2), (5, 1), (8, 3)])
@pytest.mark.parametrize("lam,beta", [(2.3, 0.8), (1.0, 0.0), (0.5, 3.0)])
def test_dissl_ideal_teacher_attains_lower_bound(xp, k, copies, lam, beta):
    """One-hot, view-invariant, batch-uniform teacher and student = teacher: L = -lam log C'."""
    B = k * copies
    clusters = np.arange(B) % k
    T = _one_hot(np.concatenate([clusters, clusters]), k)  # view 1 of B images, then view 2
    res = sl.dissl_loss_from_probabilities(xp.asarray(T), xp.asarray(T), lam=lam, beta=beta)
    bound = sl.dissl_reference_values(k, lam=lam, beta=beta).lower_bound
    assert float(res.value) == pytest.approx(bound, abs=4 * np.finfo(float).eps * (1 + abs(bound)))
    for f in ("kl_student", "kl_teacher", "conditional_entropy", "distillation", "invariance"):
        assert float(getattr(res, f)) == 0.0
    assert float(res.marginal_entropy) == pytest.approx(math.log(k), abs=4e-16)


def test_dissl_logits_approach_the_bound_from_above():
    k, B = 4, 8
    idx = np.arange(B) % k
    bound = sl.dissl_reference_values(k).lower_bound
    previous = math.inf
    for gap in (0.5, 2.0, 5.0, 20.0):
        logits = gap * _one_hot(np.concatenate([idx, idx]), k)
        value = float(sl.dissl_loss(logits, logits).value)
        assert bound < value < previous
        previous = value
    assert previous == pytest.approx(bound, abs=1e-7)  # student tau_s = 1: KL ~ (C-1) e^{-20}


def test_dissl_reference_values(xp):
    k, B = 5, 4
    ref = sl.dissl_reference_values(k)
    assert ref.uniform == pytest.approx((1 + 0.8 - 2.3) * math.log(5))
    # Collapsed teacher, student equal: 0.
    collapsed = _one_hot(np.zeros(2 * B, dtype=int), k)
    value = float(sl.dissl_loss_from_probabilities(xp.asarray(collapsed), xp.asarray(collapsed)).value)
    assert value == ref.collapsed == 0
    # Uniform teacher and uniform student: (1 + beta - lam) log C'.
    U = np.full((2 * B, k), 1 / k)
    value = float(sl.dissl_loss_from_probabilities(xp.asarray(U), xp.asarray(U)).value)
    assert value == pytest.approx(ref.uniform, abs=1e-14)
    # Uniform teacher, other student: the reference value plus E KL(u || s_j) > 0.
    S = np.random.default_rng(3).dirichlet(np.ones(k), size=2 * B)
    res = sl.dissl_loss_from_probabilities(xp.asarray(U), xp.asarray(S))
    kl = np.mean([np.sum(U[0] * np.log(U[0] / s)) for s in S])
    assert float(res.value) == pytest.approx(ref.uniform + kl, abs=1e-13)
    assert float(res.value) > ref.uniform
    # Same through logits: constant teacher logits are exactly uniform.
    res_logits = sl.dissl_loss(xp.zeros((2 * B, k), dtype=xp.float64), xp.zeros((2 * B, k), dtype=xp.float64))
    assert float(res_logits.value) == pytest.approx(ref.uniform, abs=1e-14)
    # With the defaults: ideal < uniform < collapsed.
    assert ref.lower_bound < ref.uniform < ref.collapsed


def test_finding_dissl_bound_attained_without_invariance_when_beta_is_zero():
    """FINDING: the "attained iff ... view-invariant" part needs beta > 0 (or >= 3 views per image).

    With beta = 0 and two views, a teacher that maps view 1 to cluster c and view 2 to cluster
    c + 1 (mod C'), with the student swapped back, attains -lam log C'.
    """
    k, B, lam = 3, 6, 2.3
    c = np.arange(B) % k
    T = _one_hot(np.concatenate([c, (c + 1) % k]), k)
    S = _one_hot(np.concatenate([(c + 1) % k, c]), k)  # s_j = t_i for every pair (i, j)
    at_zero = sl.dissl_loss_from_probabilities(T, S, lam=lam, beta=0.0)
    assert float(at_zero.value) == pytest.approx(-lam * math.log(k), abs=1e-14)
    assert math.isinf(float(at_zero.kl_teacher))  # the teacher is not view-invariant
    assert math.isinf(float(sl.dissl_loss_from_probabilities(T, S, lam=lam, beta=0.8).value))
    # Three views per image forbid it even at beta = 0: s_j = t_i for all i != j forces t_1 = t_2 = t_3.
    T3 = _one_hot(np.concatenate([c, (c + 1) % k, c]), k)
    groups3 = np.tile(np.arange(B), 3)
    assert float(sl.dissl_loss_from_probabilities(T3, T3, groups3, lam=lam, beta=0.0).value) == math.inf


def test_finding_dissl_bound_needs_lambda_positive_and_beta_nonnegative():
    """With lam = 0 a collapsed teacher attains the bound 0; with beta < 0 the loss is unbounded below."""
    k, B = 3, 6
    collapsed = _one_hot(np.zeros(2 * B, dtype=int), k)
    assert float(sl.dissl_loss_from_probabilities(collapsed, collapsed, lam=0.0).value) == 0.0
    assert sl.dissl_reference_values(k, lam=0.0).lower_bound == 0.0
    # beta < 0 (rejected by the package): the loop shows L -> -inf as the teachers of two views
    # separate while the student follows the other view (KL(t_i || s_j) -> 0, KL(t_i || t_j) -> inf).
    values = []
    for gap in (1.0, 10.0, 100.0):
        t_logits = [[gap, 0.0, 0.0], [0.0, gap, 0.0]]
        values.append(loop_dissl(t_logits, t_logits[::-1], [0, 0], 2.3, -0.5, 1.0, 1.0)["value"])
    assert values[0] > values[1] > values[2] and values[2] < -2.3 * math.log(k) - 10
    with pytest.raises(InputError, match="beta must be >= 0"):
        sl.dissl_loss(np.zeros((2, 3)), np.zeros((2, 3)), beta=-0.5)


def test_dissl_input_errors():
    p = np.full((4, 3), 1 / 3)
    with pytest.raises(InputError, match="probability vectors"):
        sl.dissl_loss_from_probabilities(p * 2, p)
    with pytest.raises(InputError, match="same shape"):
        sl.dissl_loss(np.zeros((4, 3)), np.zeros((4, 2)))
    with pytest.raises(InputError, match="tau_t must be > 0"):
        sl.dissl_loss(np.zeros((4, 3)), np.zeros((4, 3)), tau_t=-1.0)
    with pytest.raises(InputError, match="lam must be >= 0"):
        sl.dissl_reference_values(3, lam=-1.0)
    with pytest.raises(InputError, match="n_clusters"):
        sl.dissl_reference_values(0)
    with pytest.raises(InputError, match="NaN or infinite"):
        sl.dissl_loss(np.full((4, 3), np.inf), np.zeros((4, 3)))
