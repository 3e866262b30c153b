"""The two conventions for DISSL's marginal entropy H[M̂] (issue 16): ``marginal="pooled" | "per_view"``.

``"pooled"`` (default, docs/theory.md §5): the entropy of the teacher's mean over all N rows.
``"per_view"`` (the authors' ``issl/losses/dissl.py``): the mean over the V views of the entropy of
each view's mean, the k-th view of an image being its k-th row in batch order.

Every expected value here comes from an independent NumPy implementation written from these
formulas (explicit loops over pairs and views, ``np.log`` of an explicit softmax), not from the
package's helpers.

Tolerance (float64): every term is a mean of cross-entropies or entropies, sums of C' products
p·log q with |log q| ≤ L = 2·max|z|/τ + log C' (z the logits), and means over at most N² pairs.
Each operation rounds with a relative error of at most ε = 2.2e-16, so the absolute error of the
value is at most a small multiple of ε·(N + C')·(1 + λ + β)·(1 + L). ``TOL_FACTOR`` = 8 is that
multiple, with room for the different summation orders of the two implementations; on 1200 such
draws the worst error measured was 0.5% of the tolerance, and any error in the formulas (a wrong
view, a wrong mean) is many orders of magnitude larger.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from conftest import to_np

from kssl_theory.errors import InputError
from kssl_theory.idealized.losses import DISSL_MARGINALS, dissl_loss, dissl_loss_from_probabilities

EPS = float(np.finfo(np.float64).eps)
TOL_FACTOR = 8
MARGINALS = ("pooled", "per_view")


# --------------------------------------------------------------------------- the independent implementation


def softmax(Z, tau):
    Z = np.asarray(Z, dtype=np.float64) / tau
    E = np.exp(Z - Z.max(axis=1, keepdims=True))
    return E / E.sum(axis=1, keepdims=True)


def entropy(p):
    """H(p) = -Σ p log p with 0 log 0 = 0."""
    p = np.asarray(p, dtype=np.float64)
    nz = p[p > 0]
    return float(-(nz * np.log(nz)).sum())


def cross_entropy(p, q):
    """CE(p, q) = -Σ p log q, +inf where q misses part of p's support."""
    if any(p[c] > 0 and q[c] == 0 for c in range(len(p))):
        return math.inf
    return float(-sum(p[c] * math.log(q[c]) for c in range(len(p)) if p[c] > 0))


def images_of(groups, n):
    return list(np.arange(n) % (n // 2)) if groups is None else list(groups)


def view_of_each_row(images):
    """k for the k-th row (in batch order) of its image, k = 0, 1, ..."""
    seen: dict = {}
    views = []
    for g in images:
        views.append(seen.get(g, 0))
        seen[g] = seen.get(g, 0) + 1
    return views


def marginal_entropy(t, images, marginal):
    if marginal == "pooled":
        return entropy(t.mean(axis=0))
    views = np.asarray(view_of_each_row(images))
    return float(np.mean([entropy(t[views == k].mean(axis=0)) for k in sorted(set(views))]))


def reference(t, s, groups, lam, beta, marginal):
    """DISSL from probabilities, by its definition: means over ordered pairs i != j of views of one image."""
    n = len(t)
    images = images_of(groups, n)
    pairs = [(i, j) for i in range(n) for j in range(n) if i != j and images[i] == images[j]]
    distillation = float(np.mean([cross_entropy(t[i], s[j]) for i, j in pairs]))
    invariance = float(np.mean([cross_entropy(t[i], t[j]) for i, j in pairs]))
    h_m = marginal_entropy(t, images, marginal)
    return {
        "value": distillation - lam * h_m + (beta * invariance if beta > 0 else 0.0),
        "distillation": distillation,
        "invariance": invariance,
        "marginal_entropy": h_m,
        "conditional_entropy": float(np.mean([entropy(t[i]) for i, _ in pairs])),
    }


def tolerance(T, S, tau_t, tau_s, lam, beta):
    n, c = T.shape
    L = 2 * max(np.abs(T).max() / tau_t, np.abs(S).max() / tau_s) + math.log(c)
    return TOL_FACTOR * EPS * (n + c) * (1 + lam + beta) * (1 + L)


def draw(rng, *, layout):
    """Random logits and settings; ``layout`` "default" (2B rows) or "groups" (V views, rows shuffled)."""
    B, C = int(rng.integers(1, 7)), int(rng.integers(2, 9))
    if layout == "default":
        groups, n = None, 2 * B
    else:
        V = int(rng.integers(2, 5))
        labels = np.repeat(np.arange(B), V)
        groups, n = labels[rng.permutation(labels.size)], B * V
    scale = float(rng.uniform(0.1, 5.0))
    return dict(
        T=scale * rng.standard_normal((n, C)),
        S=scale * rng.standard_normal((n, C)),
        groups=groups,
        lam=float(rng.uniform(0.0, 3.0)),
        beta=float(rng.uniform(0.0, 2.0)),
        tau_t=float(rng.uniform(0.1, 2.0)),
        tau_s=float(rng.uniform(0.1, 2.0)),
    )


def package(case, marginal, xp=np):
    return dissl_loss(
        xp.asarray(case["T"]),
        xp.asarray(case["S"]),
        case["groups"],
        lam=case["lam"],
        beta=case["beta"],
        tau_t=case["tau_t"],
        tau_s=case["tau_s"],
        marginal=marginal,
    )


def expected(case, marginal):
    t, s = softmax(case["T"], case["tau_t"]), softmax(case["S"], case["tau_s"])
    return reference(t, s, case["groups"], case["lam"], case["beta"], marginal)


def tol_of(case):
    return tolerance(case["T"], case["S"], case["tau_t"], case["tau_s"], case["lam"], case["beta"])


# --------------------------------------------------------------------------- agreement with the formulas


@pytest.mark.parametrize("marginal", MARGINALS)
@pytest.mark.parametrize("layout", ["default", "groups"])
def test_both_conventions_match_the_independent_implementation(xp, marginal, layout):
    rng = np.random.default_rng(2022 + len(layout) + len(marginal))
    for _ in range(30):
        case = draw(rng, layout=layout)
        got, want, tol = package(case, marginal, xp), expected(case, marginal), tol_of(case)
        for name, value in want.items():
            assert abs(float(to_np(getattr(got, name))) - value) <= tol, (name, marginal, case)


@pytest.mark.parametrize("marginal", MARGINALS)
def test_the_identity_holds_under_both_conventions(marginal):
    """L = KL(t_i‖s_j) + β KL(t_i‖t_j) + (1+β) H[M̂|Z] − λ H[M̂], whichever H[M̂]."""
    rng = np.random.default_rng(7)
    for _ in range(30):
        case = draw(rng, layout="groups")
        got = package(case, marginal)
        lam, beta = case["lam"], case["beta"]
        rhs = (
            float(got.kl_student)
            + beta * float(got.kl_teacher)
            + (1 + beta) * float(got.conditional_entropy)
            - lam * float(got.marginal_entropy)
        )
        assert abs(float(got.value) - rhs) <= tol_of(case)


def test_per_view_takes_the_authors_halves_in_the_default_layout():
    """With groups=None the views are rows 0..B-1 and B..2B-1 (the authors' ``chunk(2)``)."""
    rng = np.random.default_rng(3)
    T, S = 2.0 * rng.standard_normal((8, 5)), rng.standard_normal((8, 5))
    t = softmax(T, 0.5)
    halves = 0.5 * (entropy(t[:4].mean(axis=0)) + entropy(t[4:].mean(axis=0)))
    got = dissl_loss(T, S, marginal="per_view")
    assert abs(float(got.marginal_entropy) - halves) <= tolerance(T, S, 0.5, 1.0, 2.3, 0.8)


def test_from_probabilities_with_exact_zeros():
    """One-hot teachers (0 log 0 = 0): view 1 all on cluster 0, view 2 all on cluster 1."""
    B = 3
    t = np.eye(2)[np.r_[np.zeros(B, dtype=int), np.ones(B, dtype=int)]]
    s = 0.7 * t[(np.arange(2 * B) + B) % (2 * B)] + 0.15  # the student predicts the other view's teacher
    for marginal in MARGINALS:
        got = dissl_loss_from_probabilities(t, s, lam=2.3, beta=0.0, marginal=marginal)
        want = reference(t, s, None, 2.3, 0.0, marginal)
        for name, value in want.items():  # N + C' = 8, 1 + λ + β = 3.3, L = log 2 (probabilities given)
            have = float(getattr(got, name))
            assert have == value or abs(have - value) <= TOL_FACTOR * EPS * 8 * 3.3 * 2, (name, marginal)
        assert math.isinf(float(got.invariance))  # the views disagree on one-hot teachers
    pooled = dissl_loss_from_probabilities(t, s, lam=2.3, beta=0.0, marginal="pooled")
    per_view = dissl_loss_from_probabilities(t, s, lam=2.3, beta=0.0, marginal="per_view")
    assert float(pooled.marginal_entropy) == pytest.approx(math.log(2), abs=1e-15)
    assert float(per_view.marginal_entropy) == 0.0  # each view is one cluster: a sum of exact 0 log 0 and 1 log 1


# --------------------------------------------------------------------------- when the conventions agree and differ


def test_the_conventions_coincide_when_both_views_give_the_same_teacher_outputs():
    rng = np.random.default_rng(11)
    for _ in range(30):
        B, C = int(rng.integers(1, 7)), int(rng.integers(2, 9))
        T1 = float(rng.uniform(0.1, 5.0)) * rng.standard_normal((B, C))
        case = dict(
            T=np.vstack([T1, T1]),  # the teacher sees the same outputs in both views
            S=rng.standard_normal((2 * B, C)),
            groups=None,
            lam=float(rng.uniform(0.1, 3.0)),
            beta=float(rng.uniform(0.0, 2.0)),
            tau_t=float(rng.uniform(0.1, 2.0)),
            tau_s=1.0,
        )
        pooled, per_view, tol = package(case, "pooled"), package(case, "per_view"), tol_of(case)
        assert abs(float(pooled.marginal_entropy) - float(per_view.marginal_entropy)) <= tol
        assert abs(float(pooled.value) - float(per_view.value)) <= tol


def test_the_conventions_coincide_when_the_view_means_agree():
    """Equality needs only equal view means: view 2 holds view 1's outputs in another order."""
    rng = np.random.default_rng(12)
    B, C = 5, 4
    T1 = 3.0 * rng.standard_normal((B, C))
    case = dict(
        T=np.vstack([T1, T1[rng.permutation(B)]]),
        S=rng.standard_normal((2 * B, C)),
        groups=None,
        lam=2.3,
        beta=0.8,
        tau_t=0.5,
        tau_s=1.0,
    )
    assert abs(float(package(case, "pooled").value) - float(package(case, "per_view").value)) <= tol_of(case)
    assert float(package(case, "pooled").kl_teacher) > 0.1  # although the teacher is not view-invariant


def test_the_conventions_differ_on_random_logits():
    """Pooled ≥ per-view (Jensen–Shannon divergence of the view means, in [0, log V]); the losses
    differ by λ times that difference; on random logits it is far above round-off."""
    rng = np.random.default_rng(13)
    gaps = []
    for _ in range(50):
        case = draw(rng, layout="groups")
        V = len(case["groups"]) // len(set(case["groups"]))
        pooled, per_view, tol = package(case, "pooled"), package(case, "per_view"), tol_of(case)
        gap = float(pooled.marginal_entropy) - float(per_view.marginal_entropy)
        assert -tol <= gap <= math.log(V) + tol
        assert abs((float(per_view.value) - float(pooled.value)) - case["lam"] * gap) <= tol
        gaps.append(gap / tol)
    assert min(gaps) > 1.0  # every draw separates the two conventions beyond round-off
    assert np.median(gaps) > 1e6


def test_the_largest_difference_is_lambda_log_2_for_two_views():
    """B = 1, two views on different clusters: pooled H = log 2, per-view H = 0 (up to e^-80)."""
    T = np.array([[20.0, -20.0], [-20.0, 20.0]])
    S = np.zeros((2, 2))
    pooled, per_view = dissl_loss(T, S, marginal="pooled"), dissl_loss(T, S, marginal="per_view")
    tol = tolerance(T, S, 0.5, 1.0, 2.3, 0.8)
    assert abs(float(pooled.marginal_entropy) - math.log(2)) <= tol
    assert abs(float(per_view.marginal_entropy)) <= tol
    assert abs((float(per_view.value) - float(pooled.value)) - 2.3 * math.log(2)) <= tol


# --------------------------------------------------------------------------- the option itself


def test_the_default_is_pooled():
    import inspect

    assert DISSL_MARGINALS == ("pooled", "per_view")
    for fn in (dissl_loss, dissl_loss_from_probabilities):
        assert inspect.signature(fn).parameters["marginal"].default == "pooled"
    rng = np.random.default_rng(5)
    T, S = rng.standard_normal((6, 3)), rng.standard_normal((6, 3))
    assert float(dissl_loss(T, S).value) == float(dissl_loss(T, S, marginal="pooled").value)


@pytest.mark.parametrize("bad", ["per-view", "perview", "Pooled", "", None, 1, ("pooled",)])
def test_an_unknown_marginal_is_refused_listing_the_valid_values(bad):
    T = np.zeros((4, 3))
    P = np.full((4, 3), 1 / 3)
    for call in (lambda: dissl_loss(T, T, marginal=bad), lambda: dissl_loss_from_probabilities(P, P, marginal=bad)):
        with pytest.raises(InputError, match="unknown marginal") as info:
            call()
        assert "valid: pooled, per_view" in str(info.value)


def test_per_view_needs_the_same_number_of_views_per_image():
    T = np.random.default_rng(0).standard_normal((5, 3))
    groups = [0, 0, 1, 1, 1]
    with pytest.raises(InputError, match="same number of views") as info:
        dissl_loss(T, T, groups, marginal="per_view")
    assert "2 to 3 views" in str(info.value) and "marginal='pooled'" in str(info.value)
    assert math.isfinite(float(dissl_loss(T, T, groups, marginal="pooled").value))


def test_the_dissl_claims_still_pass():
    """The registered identity, bound and defaults claims (pooled, the default) are unaffected."""
    from proofs_check import engine, registry

    claims = registry.select(
        ["IR-dissl-identity", "IR-dissl-bound", "IR-dissl-attain-iff-positive", "IR-dissl-defaults"]
    )
    results = engine.run_claims(claims, max_examples=15)
    assert [(r.id, r.ok) for r in results] == [(c.id, True) for c in claims]
