r"""[IR] claims of docs/theory.md §5: idealized representations, probes, Cover's count, sample efficiency.

(CISSL, SimCLR and DISSL are in :mod:`.ssl_objectives`.) The package side is
:mod:`kssl_theory.idealized`, :mod:`kssl_theory.idealized.probes`, :mod:`kssl_theory.idealized.sample_efficiency`
and :mod:`kssl_theory.idealized.codes`. The oracles are self-contained: an LP feasibility test per
task (``scipy.optimize.linprog``, HiGHS; its own formulation, not the package's max-margin LP),
enumeration of all tasks as set partitions of the classes (solvability of a labelling depends only
on which classes share a label), affine rank by SVD, brute-force enumeration of all samples for the
worst empirical-risk minimiser, and the losses written out from their definitions in NumPy.
"""

from __future__ import annotations

import itertools
import math

import numpy as np
from hypothesis import assume
from hypothesis import strategies as st

from ..checking import SAFETY
from ..instances import seeds
from ..oracles import affine_rank, separable
from ..registry import register
from ._common import IR_SOURCE

__all__ = ["set_partitions", "all_tasks_solvable", "hypotheses", "worst_erm_risk"]


# --------------------------------------------------------------------------- oracles


def set_partitions(C: int):
    """All labellings of ``C`` classes up to renaming the labels (restricted growth strings)."""

    def rec(prefix, top):
        if len(prefix) == C:
            yield list(prefix)
            return
        for label in range(top + 2):
            yield from rec(prefix + [label], max(top, label))

    if C == 0:
        return
    yield from rec([0], 0)


def all_tasks_solvable(codes, classes) -> tuple[bool, list | None]:
    """Whether every labelling constant on classes is realised by an affine argmax probe (LP per task).

    Returns ``(verdict, first unsolvable class labelling or None)``.
    """
    classes = np.asarray(classes)
    C = int(classes.max()) + 1
    for task in set_partitions(C):
        y = np.asarray(task)[classes]
        if not separable(codes, y):
            return False, task
    return True, None


def _class_codes_from_params(params, rng):
    """Class codes ``(C, d)`` from a layout: generic Gaussian or affinely dependent by construction."""
    C, d = params["C"], params["d"]
    Z = rng.standard_normal((C, d))
    if params.get("layout") == "dependent" and C >= 2:
        if C == 2:
            Z[1] = Z[0]
        else:
            a = rng.standard_normal(C - 1)
            a[-1] = 1 - a[:-1].sum()
            Z[-1] = a @ Z[:-1]
    return Z


def _view_codes(params, rng, Z):
    """Views of each class (``sizes``), codes equal to the class code; ``split`` perturbs one view."""
    sizes = params["sizes"]
    labels = np.repeat(np.arange(len(sizes)), sizes)
    X = Z[labels].copy()
    split = False
    if params.get("split"):
        big = [c for c, s in enumerate(sizes) if s >= 2]
        if big:
            c = big[rng.integers(len(big))]
            i = np.flatnonzero(labels == c)[-1]
            X[i] = X[i] + params.get("noise", 0.5) * rng.standard_normal(Z.shape[1])
            split = True
    return X, labels, split


@st.composite
def encoders(draw, *, C=(1, 4), d=(1, 4), layouts=("generic", "dependent"), split=None, max_views=3):
    C_ = draw(st.integers(*C))
    params = {
        "seed": draw(seeds),
        "C": C_,
        "d": draw(st.integers(*d)),
        "layout": draw(st.sampled_from(list(layouts))),
        "sizes": [draw(st.integers(1, max_views)) for _ in range(C_)],
    }
    params["split"] = draw(st.booleans()) if split is None else split
    if params["split"]:
        params["noise"] = draw(st.floats(0.05, 1.0))
    return params


def hypotheses(codes, n_labels: int = 2) -> np.ndarray:
    """Every labelling of the inputs an affine argmax probe realises (one LP per labelling of the distinct codes)."""
    X = np.asarray(codes, dtype=np.float64)
    uniq, inverse = np.unique(np.round(X, 12), axis=0, return_inverse=True)
    inverse = inverse.reshape(-1)
    return np.array(
        [
            np.asarray(h)[inverse]
            for h in itertools.product(range(n_labels), repeat=uniq.shape[0])
            if separable(uniq, np.asarray(h))
        ]
    )


def worst_erm_risk(codes, inputs_class, task, n: int, n_labels: int = 2, H=None):
    """Expected risk of the worst empirical-risk minimiser, by enumerating all ``M^n`` samples.

    Inputs are uniform; hypotheses are all labellings of the inputs an affine argmax probe
    realises (:func:`hypotheses`, or ``H`` if given). Returns ``(risk, errors_on_seen)`` where the
    second counts samples whose worst minimiser errs on a class present in the sample.
    """
    cls = np.asarray(inputs_class)
    y = np.asarray(task)[cls]
    M = cls.size
    H = hypotheses(codes, n_labels) if H is None else H
    err = H != y[None, :]
    true_risk = err.mean(axis=1)
    total, on_seen = 0.0, 0
    for sample in itertools.product(range(M), repeat=n):
        emp = err[:, list(sample)].sum(axis=1)
        erm = np.flatnonzero(emp == emp.min())
        worst = erm[np.argmax(true_risk[erm])]
        total += true_risk[worst]
        seen = set(cls[list(sample)])
        if any(err[worst, i] and cls[i] in seen for i in range(M)):
            on_seen += 1
    return total / M**n, on_seen


def _simplex(C):
    """Independent simplex ETF: √(C/(C−1)) × an orthonormal basis of 1^⊥ (numpy eigh of the centring matrix)."""
    H = np.eye(C) - np.ones((C, C)) / C
    w, V = np.linalg.eigh(H)
    return V[:, w > 0.5] * math.sqrt(C / (C - 1))


# --------------------------------------------------------------------------- linear probes


def _probe_iff(params, ctx, chk, *, invariant_only: bool):
    import kssl_theory.idealized as ki

    rng = np.random.default_rng(params["seed"])
    Z = _class_codes_from_params(params, rng)
    X, labels, split = _view_codes(params, rng, Z)
    if invariant_only:
        assert not split
    solvable, witness = all_tasks_solvable(X, labels)
    invariant = not split
    independent = affine_rank(Z) == params["C"]
    chk.info.update(
        all_tasks_solvable=solvable, invariant=invariant, affinely_independent=independent, unsolvable_task=str(witness)
    )
    chk.equal(
        "every invariant task solved ⇔ (invariant and affinely independent)",
        solvable,
        invariant and independent,
        f"all tasks solvable: {solvable}; invariant: {invariant}; affinely independent: {independent}",
    )
    if invariant_only:
        report = ki.is_idealized(ctx.put(X), labels)
        chk.equal("kssl_theory.idealized.is_idealized agrees", bool(report.idealized), invariant and independent)
        chk.equal("kssl_theory.idealized.affine_rank agrees", ki.affine_rank(ctx.put(Z)), affine_rank(Z))


@register(
    id="IR-probe-iff",
    title="Linear probes solve every invariant task ⇔ φ invariant and class codes affinely independent",
    source=f"{IR_SOURCE} §5",
    preconditions=(
        "as the original specification words it: any encoder on finitely many inputs and classes (refuted: invariance "
        "is not necessary)",
    ),
    statement="Every invariant task is solved with zero error ⇔ φ is invariant (x ∼ x' ⇒ φ(x) = φ(x')) and the "
    "class codes are affinely independent (rank [Z | 1] = C).",
    latex=r"\forall y \text{ constant on classes } \exists\,\text{affine argmax probe with zero error} \iff "
    r"\phi \text{ invariant} \wedge \operatorname{rank}[Z\mid\mathbf 1] = C",
    strategy=encoders(),
    method="Random encoders on C ≤ 4 classes of 1–3 views: generic or affinely dependent class codes, optionally "
    "one view moved off its class code (non-invariant). Left side: every labelling of the classes (all set "
    "partitions) tested by an LP feasibility problem (scipy HiGHS). Right side: invariance by construction, "
    "affine rank by SVD.",
    tolerance="exact (discrete): LPs use margin 1 with |θ| ≤ 1e6 on points scaled to unit size.",
    status="refuted",
    corrected_by="IR-probe-iff-invariant",
    examples=40,
    counterexamples=({"seed": 0, "C": 1, "d": 1, "layout": "generic", "sizes": [2], "split": True, "noise": 1.0},),
    note="Refuted in the ⇒ direction for invariance. A non-invariant encoder can solve every invariant task with "
    "zero error: with one class whose two views have different codes, the only invariant tasks are constant "
    "and trivially solved; more generally any encoder whose view codes are affinely independent solves every "
    "labelling of the views, invariant ones included. Invariance is not needed for a zero-error probe to "
    "exist; it is what makes the worst empirical-risk minimiser err only on unseen classes (sample "
    "efficiency, IR-sample-optimality, IR-noninvariant-worse). The corrected statement (IR-probe-iff-invariant) "
    "assumes invariance and keeps the affine-independence equivalence.",
)
def check_probe_iff(params, ctx, chk):
    _probe_iff(params, ctx, chk, invariant_only=False)


@register(
    id="IR-probe-iff-invariant",
    title="For an invariant φ: every invariant task solved ⇔ class codes affinely independent",
    source=f"{IR_SOURCE} §5 (corrected: IR-probe-iff without the invariance clause)",
    preconditions=(
        "the encoder is invariant (x ∼ x' ⇒ φ(x) = φ(x'))",
        "finitely many classes C ≥ 1",
        "tasks: every labelling of the classes; probes: affine argmax",
    ),
    statement="For an invariant encoder, every invariant task is solved with zero error by an affine argmax probe iff "
    "the class codes are affinely independent (rank [Z | 1] = C). Invariance itself is not necessary for "
    "zero error (see IR-probe-iff).",
    latex=r"\phi \text{ invariant}:\ (\forall y\ \exists \text{ zero-error probe}) \iff "
    r"\operatorname{rank}[Z\mid\mathbf 1] = C",
    strategy=encoders(split=False),
    method="As IR-probe-iff, invariant encoders only; also compares with kssl_theory.idealized.is_idealized and "
    "affine_rank.",
    tolerance="exact (discrete).",
    corrects="IR-probe-iff",
    examples=40,
)
def check_probe_iff_invariant(params, ctx, chk):
    _probe_iff(params, ctx, chk, invariant_only=True)


@register(
    id="IR-affine-dim",
    title="Affine independence of C class codes forces d ≥ C − 1",
    source=f"{IR_SOURCE} §5",
    preconditions=("class codes in R^d, C ≥ 2 classes",),
    statement="Affinely independent class codes (rank [Z | 1] = C) force d ≥ C − 1.",
    latex=r"\operatorname{rank}[Z\mid\mathbf 1] \le d + 1 \;\Rightarrow\; "
    r"(\operatorname{rank} = C \Rightarrow d \ge C - 1)",
    strategy=encoders(C=(2, 5), d=(1, 3), layouts=("generic",), split=False, max_views=1),
    method="Random class codes with any C, d: the SVD affine rank is ≤ d + 1 and equals C only if d ≥ C − 1; when "
    "C > d + 1 some task is unsolvable (LP) and the package's affine_rank is < C.",
    tolerance="exact (discrete).",
    examples=40,
)
def check_affine_dim(params, ctx, chk):
    import kssl_theory.idealized as ki

    rng = np.random.default_rng(params["seed"])
    Z = _class_codes_from_params(params, rng)
    C, d = params["C"], params["d"]
    r = affine_rank(Z)
    chk.le("rank [Z | 1] ≤ d + 1", r, d + 1, 0.0)
    if r == C:
        chk.ge("affinely independent ⇒ d ≥ C − 1", d, C - 1, 0.0)
    if C > d + 1:
        chk.le("kssl_theory.idealized.affine_rank < C", ki.affine_rank(ctx.put(Z)), C - 1, 0.0)
        chk.equal("some task is unsolvable", all_tasks_solvable(Z, np.arange(C))[0], False)


@register(
    id="IR-affine-suff",
    title="Sufficiency: [Z | 1]θ = one-hot has an exact solution, so the affine argmax probe has zero error",
    source=f"{IR_SOURCE} §5",
    preconditions=(
        "affinely independent class codes (rank [Z | 1] = C, hence C ≤ d + 1)",
        "probes: affine argmax",
    ),
    statement="Sufficiency: solve [Z | 1] θ = one-hot exactly.",
    latex=r"\operatorname{rank}[Z\mid\mathbf 1] = C \;\Rightarrow\; "
    r"\exists\theta:\ [Z\mid\mathbf 1]\theta = Y \text{ (one-hot)}",
    strategy=encoders(C=(1, 5), d=(1, 5), layouts=("generic",), split=False, max_views=1)
    .filter(lambda p: p["C"] <= p["d"] + 1)
    .map(lambda p: {**p, "n_labels": min(p["C"], 3)}),
    method="Random affinely independent codes (C ≤ d + 1) and a random labelling with up to 3 labels; numpy lstsq "
    "solves [Z | 1]θ = Y with zero residual and its argmax is correct; kssl_theory.idealized.probes.affine_probe "
    "scores every class one-hot and predicts the labels.",
    tolerance="residual and scores: 100·C·ε·κ([Z | 1]).",
    examples=40,
)
def check_affine_suff(params, ctx, chk):
    import kssl_theory.idealized.probes as klp

    rng = np.random.default_rng(params["seed"])
    Z = _class_codes_from_params(params, rng)
    C = params["C"]
    labels = rng.integers(0, params["n_labels"], C)
    k = int(labels.max()) + 1
    Y = np.eye(k)[labels]
    M = np.hstack([Z, np.ones((C, 1))])
    theta = np.linalg.lstsq(M, Y, rcond=None)[0]
    s = np.linalg.svd(M, compute_uv=False)
    tol = SAFETY * C * ctx.eps * s[0] / s[C - 1] * max(1.0, np.abs(theta).max())
    chk.close("[Z | 1]θ = one-hot (numpy lstsq)", M @ theta, Y, tol)
    chk.equal("argmax of the exact solution is the label", list(np.argmax(M @ theta, axis=1)), list(labels))
    probe = klp.affine_probe(ctx.put(Z), labels)
    scores = ctx.get(probe.scores(ctx.put(Z)))
    chk.close("package probe scores one-hot", scores, Y, tol)
    chk.equal(
        "package probe predicts the labels",
        list(np.asarray(ctx.get(probe.predict(ctx.put(Z)))).astype(int)),
        list(labels),
    )


@register(
    id="IR-affine-nec",
    title="Necessity: affinely dependent codes have a Radon partition no affine probe separates",
    source=f"{IR_SOURCE} §5",
    preconditions=(
        "affinely dependent class codes (rank [Z | 1] < C)",
        "probes: affine argmax",
    ),
    statement="Necessity: affinely dependent codes admit a Radon partition whose binary task is not separable "
    "(an LP proves infeasibility).",
    latex=r"\sum_i\lambda_iz_i = 0,\ \sum_i\lambda_i = 0,\ \lambda\ne 0 \;\Rightarrow\; "
    r"\operatorname{conv}\{z_i:\lambda_i>0\}\cap\operatorname{conv}\{z_j:\lambda_j\le 0\} \ne \emptyset",
    strategy=encoders(C=(2, 5), d=(1, 3), layouts=("dependent", "generic"), split=False, max_views=1).filter(
        lambda p: p["layout"] == "dependent" or p["C"] > p["d"] + 1
    ),
    method="Affinely dependent codes (constructed, or C > d + 1 generic). The oracle's own Radon partition (null "
    "vector of [Zᵀ; 1ᵀ] by SVD) and the package's radon_partition both give binary tasks the LP finds "
    "infeasible; the package's coefficients satisfy Σλz = 0, Σλ = 0.",
    tolerance="Σλz: 100·C·ε·max‖z‖; LP exact.",
    examples=40,
)
def check_affine_nec(params, ctx, chk):
    import kssl_theory.idealized.probes as klp

    rng = np.random.default_rng(params["seed"])
    Z = _class_codes_from_params(params, rng)
    C = params["C"]
    M = np.vstack([Z.T, np.ones((1, C))])
    lam = np.linalg.svd(M)[2][-1]
    own = (lam > 0).astype(int)
    chk.equal("the oracle's Radon task is not separable", separable(Z, own), False, f"task {own.tolist()}")
    radon = klp.radon_partition(ctx.put(Z))
    coeff = np.asarray(radon.coefficients, dtype=float)
    scale = max(np.abs(Z).max(), 1.0)
    chk.close("package: Σλ_i z_i = 0", coeff @ Z, np.zeros(Z.shape[1]), SAFETY * C * 1e-7 * scale)
    chk.close("package: Σλ_i = 0", coeff.sum(), 0.0, SAFETY * C * 1e-7)
    chk.equal("package's Radon task is not separable", separable(Z, np.asarray(radon.labels)), False)


@register(
    id="IR-span-counterexample",
    title="'dim span ≥ C − 1' (linear span) is not sufficient: (1,0), (0,1), (½,½)",
    source=f"{IR_SOURCE} §5",
    preconditions=("C ≥ 3 codes, one an affine combination of the others",),
    statement='The condition "dim span ≥ C − 1" read with the linear span is not sufficient — (1,0), (0,1), (½,½) '
    "is a counterexample.",
    latex=r"z = (1,0),(0,1),(\tfrac12,\tfrac12):\ \dim\operatorname{span} = 2 = C-1,\ "
    r"\operatorname{rank}[Z\mid\mathbf 1] = 2 < 3",
    strategy=st.fixed_dictionaries({"seed": seeds, "C": st.integers(3, 5), "extra_d": st.integers(0, 2)}),
    method="The fixed example, and random members of the family z_C = Σ a_i z_i with Σ a_i = 1 (linear span of "
    "dimension C − 1, affinely dependent): numpy matrix_rank ≥ C − 1 but some task (LP, all set partitions) is "
    "unsolvable. Also kssl_theory.idealized.probes.linear_span_counterexample().",
    tolerance="exact (discrete).",
    examples=30,
)
def check_span_counterexample(params, ctx, chk):
    import kssl_theory.idealized.probes as klp

    Z0 = np.array([[1.0, 0.0], [0.0, 1.0], [0.5, 0.5]])
    chk.equal("fixed example: dim span = 2", int(np.linalg.matrix_rank(Z0)), 2)
    chk.equal("fixed example: affinely dependent", affine_rank(Z0), 2)
    chk.equal("fixed example: task (0, 0, 1) unsolvable", separable(Z0, np.array([0, 0, 1])), False)
    ce = klp.linear_span_counterexample()
    chk.close("package's counterexample is the fixed one", np.asarray(ce.codes, dtype=float), Z0, 0.0)
    chk.equal("package's witness is unsolvable", separable(Z0, np.asarray(ce.witness_labels)), False)
    rng = np.random.default_rng(params["seed"])
    C = params["C"]
    d = C - 1 + params["extra_d"]
    Zs = rng.standard_normal((C - 1, d))
    a = rng.uniform(0.2, 1.0, C - 1)
    a /= a.sum()
    Z = np.vstack([Zs, a @ Zs])
    chk.ge("random member: dim span ≥ C − 1", int(np.linalg.matrix_rank(Z)), C - 1, 0.0)
    chk.le("random member: affinely dependent", affine_rank(Z), C - 1, 0.0)
    chk.equal("random member: some task unsolvable", all_tasks_solvable(Z, np.arange(C))[0], False)


# --------------------------------------------------------------------------- Cover


def _count_dichotomies(X):
    C = X.shape[0]
    count = 0
    for bits in itertools.product((0, 1), repeat=C - 1):
        if separable(X, np.array((0,) + bits)):
            count += 2
    return count


@register(
    id="IR-cover-count",
    title="Cover: C points in general position in R^d have 2Σ_{k≤d} C(C−1,k) affinely separable dichotomies",
    source=f"{IR_SOURCE} §5",
    preconditions=(
        "C points in general position in R^d (Gaussian points: almost surely)",
        "C ≥ 1, d ≥ 1",
    ),
    statement="Cover's count: C points in general position in R^d have 2 Σ_{k=0}^{d} binom(C−1, k) affinely separable "
    "dichotomies.",
    latex=r"\#\{\text{separable dichotomies}\} = 2\sum_{k=0}^{d}\binom{C-1}{k}",
    strategy=st.fixed_dictionaries({"seed": seeds, "C": st.integers(1, 7), "d": st.integers(1, 4)}),
    method="Gaussian points (general position almost surely); all 2^C dichotomies tested by LP (complement "
    "symmetry: 2^(C−1) LPs); compared with the formula and with kssl_theory.idealized.probes.cover_count and "
    "count_separable_dichotomies.",
    tolerance="exact (integers).",
    examples=30,
)
def check_cover_count(params, ctx, chk):
    import kssl_theory.idealized.probes as klp

    rng = np.random.default_rng(params["seed"])
    C, d = params["C"], params["d"]
    X = rng.standard_normal((C, d))
    formula = 2 * sum(math.comb(C - 1, k) for k in range(d + 1))
    count = _count_dichotomies(X)
    chk.equal("brute-force count = 2Σ_{k≤d} C(C−1,k)", count, formula)
    chk.equal("kssl_theory.idealized.probes.cover_count", klp.cover_count(C, d), formula)
    chk.equal("kssl_theory.idealized.probes.count_separable_dichotomies", klp.count_separable_dichotomies(X), count)


@register(
    id="IR-cover-all",
    title="Cover's count equals 2^C iff d ≥ C − 1",
    source=f"{IR_SOURCE} §5",
    preconditions=(
        "C points in general position in R^d",
        "C ≥ 1, d ≥ 0",
    ),
    statement="Cover's count = 2^C iff d ≥ C − 1.",
    latex=r"2\sum_{k=0}^{d}\binom{C-1}{k} = 2^C \iff d \ge C - 1",
    strategy=st.fixed_dictionaries(
        {
            "seed": seeds,
            "C": st.integers(1, 6),
            "d": st.integers(1, 5),
            "C_big": st.integers(1, 60),
            "d_big": st.integers(0, 60),
        }
    ),
    method="The integer identity for (C_big, d_big) up to 60, and the brute-force count of all separable dichotomies "
    "of Gaussian points for small C, d.",
    tolerance="exact (integers).",
    examples=30,
)
def check_cover_all(params, ctx, chk):
    Cb, db = params["C_big"], params["d_big"]
    chk.equal(
        "formula = 2^C ⇔ d ≥ C − 1 (large C, d)",
        2 * sum(math.comb(Cb - 1, k) for k in range(db + 1)) == 2**Cb,
        db >= Cb - 1,
    )
    rng = np.random.default_rng(params["seed"])
    C, d = params["C"], params["d"]
    X = rng.standard_normal((C, d))
    chk.equal("all 2^C dichotomies separable ⇔ d ≥ C − 1 (brute force)", _count_dichotomies(X) == 2**C, d >= C - 1)


# --------------------------------------------------------------------------- sample efficiency


@register(
    id="IR-sample-optimality",
    title="Invariant idealized encoder: the worst ERM errs only on absent classes; risk (1 − 1/C)^n",
    source=f"{IR_SOURCE} §5",
    preconditions=(
        "the encoder is invariant with affinely independent class codes",
        "i.i.d. sample of n ≥ 1 inputs",
        "the (1 − 1/C)^n formula: uniform class probabilities",
    ),
    statement="For an invariant, affinely independent encoder the worst empirical-risk minimiser errs only on classes "
    "absent from the sample; for uniform classes the expected worst-case risk is (1 − 1/C)^n.",
    latex=r"\mathbb E_S\max_{h\in\mathrm{ERM}(S)} R(h) = \sum_{c}p_c(1-p_c)^n = (1 - 1/C)^n",
    strategy=st.fixed_dictionaries(
        {
            "seed": seeds,
            "C": st.integers(1, 4),
            "m": st.integers(1, 2),
            "n": st.integers(1, 3),
            "extra_d": st.integers(0, 1),
        }
    ),
    method="Invariant encoder with random affinely independent class codes, m views per class, uniform inputs, a "
    "random binary task. Oracle: all (Cm)^n samples enumerated, hypotheses = all input labellings an affine "
    "probe realises (LP), worst minimiser per sample. Compared with (1 − 1/C)^n and with "
    "kssl_theory.idealized.sample_efficiency.expected_worst_case_erm_risk / uniform_worst_case_risk.",
    tolerance="1e-12 (sums of exact probabilities).",
    examples=25,
)
def check_sample_optimality(params, ctx, chk):
    import kssl_theory.idealized.sample_efficiency as kse

    rng = np.random.default_rng(params["seed"])
    C, m, n = params["C"], params["m"], params["n"]
    Z = rng.standard_normal((C, max(C - 1, 1) + params["extra_d"]))
    classes = np.repeat(np.arange(C), m)
    codes = Z[classes]
    task = rng.integers(0, 2, C)
    risk, outside = worst_erm_risk(codes, classes, task, n)
    chk.equal("the worst minimiser never errs on a class present in the sample", outside, 0)
    chk.close("expected worst-case risk = (1 − 1/C)^n (brute force)", risk, (1 - 1 / C) ** n, 1e-12)
    chk.close(
        "kssl_theory.idealized.sample_efficiency.expected_worst_case_erm_risk",
        kse.expected_worst_case_erm_risk(codes, classes, task, n),
        risk,
        1e-12,
    )
    chk.close(
        "kssl_theory.idealized.sample_efficiency.uniform_worst_case_risk",
        kse.uniform_worst_case_risk(C, n),
        (1 - 1 / C) ** n,
        1e-15,
    )


@register(
    id="IR-coarser-helps",
    title="(1 − 1/C)^n is increasing in C: coarser augmentations (fewer classes) help",
    source=f"{IR_SOURCE} §5",
    preconditions=(
        "uniform class probabilities",
        "C ≥ 1, n ≥ 1",
    ),
    statement="The expected worst-case risk (1 − 1/C)^n is increasing in C: coarser augmentations help.",
    latex=r"C < C' \Rightarrow (1 - 1/C)^n < (1 - 1/C')^n \quad (n \ge 1)",
    strategy=st.fixed_dictionaries({"seed": seeds, "C": st.integers(1, 50), "n": st.integers(1, 200)}),
    method="Strict increase of the package's uniform_worst_case_risk from C to C + 1, and the same for the "
    "brute-force risk of invariant idealized encoders (random affinely independent codes) for small C, n.",
    tolerance="exact comparison of floats (the gap is far above round-off for C ≤ 50, n ≤ 200).",
    examples=40,
)
def check_coarser_helps(params, ctx, chk):
    import kssl_theory.idealized.sample_efficiency as kse

    C, n = params["C"], params["n"]
    a, b = kse.uniform_worst_case_risk(C, n), kse.uniform_worst_case_risk(C + 1, n)
    chk.gt("risk(C + 1) − risk(C) > 0", b - a, 0.0)
    chk.close("risk(C) = (1 − 1/C)^n", a, (1 - 1 / C) ** n, 1e-15)
    if C <= 3 and n <= 2:
        rng = np.random.default_rng(params["seed"])
        r = [worst_erm_risk(rng.standard_normal((c, c)), np.arange(c), rng.integers(0, 2, c), n)[0] for c in (C, C + 1)]
        chk.gt("brute force: risk(C + 1) > risk(C)", r[1] - r[0], 0.0)


def _risk_gap(X, classes, C, n):
    """Largest (over binary tasks) excess worst-case risk of codes ``X`` over the invariant simplex encoder."""
    ideal = (_simplex(C) if C >= 2 else np.zeros((1, 1)))[classes]
    HX, HI = hypotheses(X), hypotheses(ideal)
    best = -math.inf
    for task in itertools.product((0, 1), repeat=C):
        best = max(
            best, worst_erm_risk(X, classes, task, n, H=HX)[0] - worst_erm_risk(ideal, classes, task, n, H=HI)[0]
        )
    return best


@register(
    id="IR-noninvariant-worse",
    title="A non-invariant encoder has a strictly larger worst-case risk for some task",
    source=f"{IR_SOURCE} §5",
    preconditions=(
        "as the original specification words it: any non-invariant encoder (refuted: needs the encoder to separate "
        "its views, see "
        "IR-noninvariant-worse-separating)",
    ),
    statement="A non-invariant encoder has a strictly larger worst case for some task.",
    latex=r"\phi \text{ not invariant} \Rightarrow \exists y:\ "
    r"\mathbb E_S\max_{\mathrm{ERM}} R_\phi > \mathbb E_S\max_{\mathrm{ERM}} R_{\phi^*}",
    strategy=encoders(C=(1, 3), d=(1, 2), layouts=("generic", "dependent"), split=True, max_views=2)
    .filter(lambda p: any(s >= 2 for s in p["sizes"]))
    .flatmap(lambda p: st.integers(1, 3).map(lambda n: {**p, "n": n})),
    method="Random non-invariant encoders (one view moved off its class code; class codes generic or affinely "
    "dependent, d = 1–2) against the invariant idealized encoder on the same inputs (simplex codes), uniform "
    "inputs, samples of n = 1–3: the brute-force expected worst-case ERM risk of every binary task (all "
    "samples enumerated, hypotheses = labellings an affine probe realises, by LP); the largest difference "
    "must be > 0.",
    tolerance="difference > 1e-12 (exact rational arithmetic in floating point).",
    status="refuted",
    corrected_by="IR-noninvariant-worse-separating",
    examples=25,
    counterexamples=(
        {"seed": 0, "C": 3, "d": 1, "layout": "generic", "sizes": [1, 1, 2], "split": True, "noise": 1.0, "n": 1},
    ),
    note="Refuted for samples of size n = 1 when the non-invariant encoder is low-dimensional. Example: four views "
    "on a line (classes 0, 1 and a split class 2 at −0.13, 0.13, 0.64, 0.75): with one sample, the worst ERM's "
    "expected risk is 0.625 for every task, exactly the invariant idealized encoder's 1 − p. The non-invariant "
    "encoder loses by splitting a class, but its hypothesis class is smaller (thresholds on a line), which "
    "limits the adversarial minimiser by just as much. For n = 2, 3 the split encoder was strictly worse on some "
    "task in every instance tried (210 random instances), and the statement is a theorem for encoders that, "
    "like the invariant idealized one, realise every labelling of their inputs (IR-noninvariant-worse-separating).",
)
def check_noninvariant_worse(params, ctx, chk):
    rng = np.random.default_rng(params["seed"])
    Z = _class_codes_from_params(params, rng)
    X, classes, split = _view_codes(params, rng, Z)
    assume(split)
    chk.gt(
        "max over tasks of risk(non-invariant) − risk(invariant) > 0",
        _risk_gap(X, classes, params["C"], params["n"]),
        1e-12,
    )


@register(
    id="IR-noninvariant-worse-separating",
    title="Non-invariant encoder realising every input labelling: worst-case risk strictly larger for every task",
    source=f"{IR_SOURCE} §5 (corrected: IR-noninvariant-worse for separating encoders)",
    preconditions=(
        "the non-invariant encoder's view codes are affinely independent",
        "some class has at least two views",
        "n ≥ 1",
        "any input distribution with every q_x > 0",
    ),
    statement="If a non-invariant encoder's view codes are affinely independent (so it, too, solves every invariant "
    "task), then for every task and every n ≥ 1 its expected worst-case ERM risk is the expected mass of "
    "unseen inputs, Σ_x q_x(1 − q_x)^n, strictly larger than the invariant idealized encoder's "
    "Σ_c p_c(1 − p_c)^n.",
    latex=r"\mathbb E_S\max_{\mathrm{ERM}}R_\phi = \sum_x q_x(1-q_x)^n > \sum_c p_c(1-p_c)^n",
    strategy=st.fixed_dictionaries(
        {
            "seed": seeds,
            "C": st.integers(1, 3),
            "n": st.integers(1, 3),
            "sizes": st.lists(st.integers(1, 2), min_size=3, max_size=3),
        }
    )
    .map(lambda p: {**p, "sizes": p["sizes"][: p["C"]]})
    .filter(lambda p: any(s >= 2 for s in p["sizes"])),
    method="Random affinely independent view codes (d = M − 1 for M views), uniform inputs, every binary task: "
    "brute-force worst-case risk = Σ_x q_x(1 − q_x)^n > brute-force risk of the invariant simplex encoder; "
    "also kssl_theory.idealized.sample_efficiency.invariant_and_split_encoders and expected_worst_case_erm_risk.",
    tolerance="1e-12.",
    corrects="IR-noninvariant-worse",
    examples=25,
)
def check_noninvariant_worse_separating(params, ctx, chk):
    import kssl_theory.idealized.sample_efficiency as kse

    rng = np.random.default_rng(params["seed"])
    sizes, n, C = params["sizes"], params["n"], params["C"]
    classes = np.repeat(np.arange(C), sizes)
    M = classes.size
    X = rng.standard_normal((M, max(M - 1, 1)))
    q = np.full(M, 1 / M)
    p = np.bincount(classes) / M
    ideal = (_simplex(C) if C >= 2 else np.zeros((1, 1)))[classes]
    HX, HI = hypotheses(X), hypotheses(ideal)
    chk.equal("every labelling of the inputs is realisable (LP)", len(HX), 2**M)
    for task in itertools.product((0, 1), repeat=C):
        r_split = worst_erm_risk(X, classes, task, n, H=HX)[0]
        r_inv = worst_erm_risk(ideal, classes, task, n, H=HI)[0]
        chk.close(f"task {task}: risk = Σ_x q(1 − q)^n", r_split, float(np.sum(q * (1 - q) ** n)), 1e-12)
        chk.close(f"task {task}: invariant risk = Σ_c p(1 − p)^n", r_inv, float(np.sum(p * (1 - p) ** n)), 1e-12)
        chk.gt(f"task {task}: strictly larger", r_split - r_inv, 1e-12)
    pair = kse.invariant_and_split_encoders(max(C, 2), 2)
    task = np.arange(max(C, 2)) % 2
    r_inv = kse.expected_worst_case_erm_risk(ctx.get(pair.invariant), pair.classes, task, n)
    r_split = kse.expected_worst_case_erm_risk(ctx.get(pair.split), pair.classes, task, n)
    chk.gt("package's split encoder is worse than its invariant one", r_split - r_inv, 1e-12)


# --------------------------------------------------------------------------- richer probes, ETF


@register(
    id="IR-universal-probes",
    title="Universal probes need only distinct codes: d = 1 suffices",
    source=f"{IR_SOURCE} §5",
    preconditions=(
        "distinct codes for distinct classes (d = 1)",
        "probes: universal (here one-hidden-layer ReLU)",
    ),
    statement="Richer probes need fewer dimensions: with universal probes d = 1 suffices (distinct codes).",
    latex=r"z_c \in \mathbb R \text{ distinct} \Rightarrow \forall y\ \exists f:\mathbb R\to\mathbb R^K,\ "
    r"\arg\max f(z_c) = y_c",
    strategy=st.fixed_dictionaries({"seed": seeds, "C": st.integers(1, 8), "K": st.integers(1, 4)}),
    method="Distinct random scalar codes and a random labelling: numpy's piecewise-linear interpolation of the "
    "one-hot targets has the right argmax; so does kssl_theory.idealized.codes.relu_probe; with two classes on one "
    "code and different labels, relu_probe refuses (no function can separate them).",
    tolerance="exact (argmax) on codes at least 1e-3 apart.",
    examples=40,
)
def check_universal_probes(params, ctx, chk):
    import kssl_theory.idealized.codes as kic
    from kssl_theory.errors import InputError

    rng = np.random.default_rng(params["seed"])
    C, K = params["C"], params["K"]
    z = np.sort(rng.uniform(-1, 1, C))
    assume(C == 1 or np.diff(z).min() > 1e-3)
    z = rng.permutation(z)
    y = rng.integers(0, K, C)
    Y = np.eye(K)[y]
    order = np.argsort(z)
    interp = np.column_stack([np.interp(z, z[order], Y[order, k]) for k in range(K)])
    chk.equal("piecewise-linear interpolant (numpy) has argmax y", list(np.argmax(interp, axis=1)), list(y))
    probe = kic.relu_probe(ctx.put(z), y, n_labels=K)
    chk.equal(
        "kssl_theory.idealized.codes.relu_probe predicts y",
        [int(v) for v in ctx.get(probe.predict(ctx.put(z)))],
        [int(v) for v in y],
    )
    if C >= 2 and K >= 2:
        z2 = z.copy()
        z2[1] = z2[0]
        y2 = y.copy()
        y2[1] = (y2[0] + 1) % K
        try:
            kic.relu_probe(ctx.put(z2), y2, n_labels=K)
            refused = False
        except InputError:
            refused = True
        chk.equal("equal codes with different labels: no probe (refused)", refused, True)


@register(
    id="IR-simplex-etf",
    title="Simplex ETF in R^{C−1}: pairwise cosine −1/(C−1), affine rank C (minimal idealized code)",
    source=f"{IR_SOURCE} §5",
    preconditions=("C ≥ 2",),
    statement="Simplex ETF in R^{C−1}: pairwise cosine −1/(C−1), affine rank C — the minimal idealized code.",
    latex=r"\cos(z_i, z_j) = -\tfrac{1}{C-1}\ (i\ne j),\quad \operatorname{rank}[Z\mid\mathbf 1] = C,\quad d = C-1",
    strategy=st.fixed_dictionaries({"seed": seeds, "C": st.integers(2, 12)}),
    method="kssl_theory.idealized.codes.simplex_etf(C) against an independent construction "
    "(√(C/(C−1)) × eigenvectors of "
    "the centring matrix): shape (C, C−1), unit norms, cosines −1/(C−1), SVD affine rank C, same Gram matrix; "
    "minimality: random codes in R^{C−2} have affine rank < C.",
    tolerance="100·C·ε.",
    examples=30,
)
def check_simplex_etf(params, ctx, chk):
    import kssl_theory.idealized.codes as kic

    C = params["C"]
    Z = ctx.get(kic.simplex_etf(C, xp=ctx.xp, dtype=getattr(ctx.xp, ctx.dtype)))
    tol = SAFETY * C * ctx.eps
    chk.equal("shape (C, C − 1)", Z.shape, (C, C - 1))
    norms = np.linalg.norm(Z, axis=1)
    chk.close("unit norms", norms, np.ones(C), tol)
    cos = (Z @ Z.T) / np.outer(norms, norms)
    off = ~np.eye(C, dtype=bool)
    chk.close("pairwise cosine −1/(C−1)", cos[off], np.full(C * (C - 1), -1 / (C - 1)), tol)
    chk.equal("affine rank C", affine_rank(Z), C)
    ref = _simplex(C)
    chk.close("same Gram as the independent construction", Z @ Z.T, ref @ ref.T, tol)
    if C >= 3:
        rng = np.random.default_rng(params["seed"])
        chk.le(
            "minimal: C codes in R^{C−2} are affinely dependent",
            affine_rank(rng.standard_normal((C, C - 2))),
            C - 1,
            0.0,
        )
