"""Fuzzing of every public function outside the solver core (issue: robustness).

The solver, loss, kernels and :class:`~kssl_theory.KernelSSL` are fuzzed in ``test_fuzz.py``;
this file covers the graph and metric helpers, the [IR] modules (``idealized``,
``linear_probes``, ``sample_efficiency``, ``idealized_codes``), ``ssl_losses``, ``datasets``,
``probes``, ``bridge``, ``nystrom`` and the methods of a :class:`~kssl_theory.Solution`. Each
target draws plausible arguments and, per example, a junk rate from
:data:`fuzz_strategies.JUNK_RATES`: a third of the examples are clean (every argument valid, so
the valid path runs and its invariants are checked); in the others each argument is replaced
by junk (:data:`fuzz_strategies.JUNK`: wrong types, NaN/inf, absurd integers, ragged lists) 10%
or 25% of the time. The contract (``fuzz_strategies``): a finite valid result or a
:class:`~kssl_theory.errors.KSSLError`, within a bounded time.

Each target also asserts cheap invariants of a valid result that hold whatever the input:
probabilities and risks in [0, 1], counts consistent with each other, Laplacians with zero row
sums, unit-norm simplex codes, cosines in [-1, 1]. Tolerances are float64 round-off of the
quantity (``1e-12`` for values of order one computed from ≤ 10 numbers, ``100 n eps |x|``
for matrix identities).
"""

from __future__ import annotations

import numpy as np
import pytest
from fuzz_strategies import (
    DTYPES,
    LARGE,
    SMALL,
    assert_no_nan,
    groups_vectors,
    junk_rate,
    matrices,
    maybe_junk,
    quiet,
    run_property,
    timed,
)
from hypothesis import strategies as st

from kssl_theory import bridge, graphs, idealized, kernels
from kssl_theory.errors import KSSLError
from kssl_theory.experiments import datasets, probes
from kssl_theory.idealized import codes as idealized_codes
from kssl_theory.idealized import losses as ssl_losses
from kssl_theory.idealized import probes as linear_probes
from kssl_theory.idealized import sample_efficiency
from kssl_theory.kernel_regime import metrics, nystrom
from kssl_theory.kernel_regime.engine import solve

EPS = np.finfo(np.float64).eps
UNIT = 1e-12  # round-off allowance of an order-one quantity computed from <= 10 float64 numbers
HIGHS_TOL = 1e-7  # HiGHS's primal feasibility tolerance: an LP optimum of 0 may come back this negative


class _Rejected(Exception):
    """The call raised the package's own error: the contract is met, nothing more to check."""


def call(f, *args, **kwargs):
    """Call a public function under the fuzz contract; raises :class:`_Rejected` on a KSSLError."""
    try:
        with quiet():
            result = timed(f, *args, **kwargs)
    except KSSLError:
        raise _Rejected from None
    assert_no_nan(result, f.__name__)
    return result


# --- plausible argument strategies -----------------------------------------------------------------


def clean(data) -> bool:
    """Whether this example draws only plausible arguments (see ``fuzz_strategies.JUNK_RATES``)."""
    return junk_rate(data) == 0


@st.composite
def codes(draw, max_rows=7, max_dim=4, clean=False, min_rows=1):
    """Codes of views: Gaussian, repeated per class (invariant), low-rank, or special values, any dtype.

    ``clean`` codes are non-empty, finite and real (float64, float32 or int64).
    """
    n = draw(st.integers(min_rows if clean else 0, max_rows))
    d = draw(st.integers(1 if clean else 0, max_dim))
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    kinds = ["normal", "normal", "repeated", "lowrank", "scaled"] + ([] if clean else ["special"])
    kind = draw(st.sampled_from(kinds))
    if kind == "repeated" and n:
        Z = rng.normal(size=(max(1, n // 2), d))[rng.integers(0, max(1, n // 2), size=n)]
    elif kind == "lowrank":
        Z = rng.normal(size=(n, 1)) @ rng.normal(size=(1, d))
    elif kind == "special":
        return draw(matrices())
    elif kind == "scaled":  # clean: Gram matrices Z Z^T stay finite
        scales = [1e-150, 1e-5, 1e5, 1e150] if clean else [1e-300, 1e-150, 1e150, 1e300]
        Z = rng.normal(size=(n, d)) * draw(st.sampled_from(scales))
    else:
        Z = rng.normal(size=(n, d))
    dtype = draw(st.sampled_from([np.float64] * 6 + ([np.float32, np.int64] if clean else DTYPES)))
    with np.errstate(all="ignore"):
        return Z.astype(dtype)


def labels_for(data, n, high=3):
    """Integer labels in ``[0, high)`` for ``n`` items;
    in unclean examples also the invalid kinds of ``groups_vectors``."""
    valid = st.builds(lambda s: np.random.default_rng(s).integers(0, high, size=n), st.integers(0, 2**32 - 1))
    return maybe_junk(data, valid if clean(data) else st.one_of(groups_vectors(n), valid))


def draw_codes(data, **kwargs):
    """:func:`codes`, clean in clean examples."""
    return data.draw(codes(clean=clean(data), **kwargs))


def small_ints(lo=-1, hi=8):
    return st.integers(lo, hi)


def count(data, valid_lo: int, hi: int):
    """An integer in ``[valid_lo, hi]`` in clean examples, in ``[valid_lo - 2, hi]`` otherwise (possibly junk)."""
    return maybe_junk(data, st.integers(valid_lo if clean(data) else valid_lo - 2, hi))


def nonneg_floats():
    return st.one_of(st.floats(0, 10), st.sampled_from([0.0, 1e-300, 1e300]))


def rows(Z):
    return Z.shape[0] if getattr(Z, "ndim", 0) >= 1 else 0


# --- targets -----------------------------------------------------------------------------------------


def fuzz_graphs(data):
    n = data.draw(st.integers(0, 7))
    g = labels_for(data, n)
    which = data.draw(
        st.sampled_from(["structure", "indicators", "adjacency", "laplacian", "relation", "degree", "normalize"])
    )
    if which == "structure":
        s = call(graphs.group_structure, g)
        assert s.sizes.sum() == s.n_views and len(s.sizes) == s.n_groups and np.all(s.sizes >= 1)
    elif which == "indicators":
        Y = np.asarray(call(graphs.indicators, g))
        assert np.all(Y.sum(axis=1) == 1)
    elif which == "adjacency":
        weights = maybe_junk(
            data, st.one_of(st.none(), st.builds(lambda s: np.random.default_rng(s).random(n), st.integers(0, 99))), 0.3
        )
        A = np.asarray(
            call(
                graphs.adjacency,
                g,
                self_loops=maybe_junk(data, st.booleans()),
                weights=weights,
                normalized=maybe_junk(data, st.booleans()),
            )
        )
        assert np.array_equal(A, A.T)
    else:
        from_groups = st.builds(lambda gg: graphs.adjacency(gg) if _valid(gg) else gg, st.just(g))
        A = maybe_junk(data, from_groups if clean(data) else st.one_of(from_groups, matrices()), 0.3)
        if which == "laplacian":
            normalized = maybe_junk(data, st.booleans())
            L = np.asarray(call(graphs.laplacian, A, normalized=normalized), dtype=np.float64)
            # Round-off of D - A is relative to the entries of A (a large diagonal cancels in L_ii);
            # A itself may be asymmetric up to check_matrix's 1e-8 (float64) / 1e-4 (float32) relative limit.
            n = L.shape[0]
            scale = max(1.0, float(np.abs(np.asarray(A, dtype=np.float64)).max()))
            sym = 1e-8 if np.asarray(A).dtype == np.float64 else 1e-4
            assert np.allclose(L, L.T, rtol=0, atol=(sym + 100 * n * np.finfo(L.dtype).eps) * scale)
            if normalized is False:
                eps = np.finfo(np.asarray(A).dtype if np.asarray(A).dtype.kind == "f" else np.float64).eps
                assert np.all(np.abs(L.sum(axis=1)) <= 100 * n * eps * scale)
        elif which == "degree":
            deg = np.asarray(call(graphs.degree, A))
            eps = np.finfo(deg.dtype).eps  # computed in A's (validated) float dtype
            A64 = np.asarray(A, dtype=np.float64)
            assert np.allclose(deg, A64.sum(axis=1), rtol=0, atol=100 * len(deg) * eps * max(1.0, np.abs(A64).max()))
        elif which == "normalize":
            An = np.asarray(call(graphs.normalize_adjacency, A))
            # D^{-1/2} A D^{-1/2} has spectral radius <= 1 when A >= 0 entrywise (round-off of its dtype).
            if np.all(np.asarray(A) >= 0):
                radius = np.abs(np.linalg.eigvalsh((An + An.T).astype(np.float64) / 2)).max()
                assert radius <= 1 + 1e3 * An.shape[0] * np.finfo(An.dtype).eps
        else:
            rel = call(graphs.RelationGraph, A)
            L = np.asarray(rel.laplacian)
            assert L.shape == np.asarray(rel.A).shape


def _valid(g):
    try:
        graphs.group_structure(g)
        return True
    except KSSLError:
        return False


def fuzz_metrics(data):
    gram = st.builds(lambda Z: Z @ Z.T, codes(clean=clean(data), min_rows=4))
    Kstar = data.draw(gram if clean(data) else st.one_of(matrices(), gram))
    n = rows(Kstar)
    which = data.draw(st.sampled_from(["alignment", "decorrelation", "cosine_matrix"]))
    if which == "cosine_matrix":
        C = np.asarray(call(metrics.cosine_matrix, Kstar))
        assert np.all(np.abs(C) <= 1 + 1e3 * EPS)
    else:
        value = call(getattr(metrics, which), Kstar, labels_for(data, n))
        assert -1 - 1e3 * EPS <= value <= 1 + 1e3 * EPS


def fuzz_idealized(data):
    Z = draw_codes(data)
    n = rows(Z)
    g = maybe_junk(data, st.one_of(st.none(), st.just(labels_for(data, n))))
    which = data.draw(st.sampled_from(["class_codes", "affine_rank", "is_idealized", "radon"]))
    rtol = maybe_junk(data, st.one_of(st.none(), st.sampled_from([1e-12, 1e-6, 0.5])), 0.2)
    if which == "class_codes":
        cc = call(idealized.class_codes, Z, g)
        assert np.all(np.asarray(cc.spread) >= 0)
    elif which == "affine_rank":
        cc = maybe_junk(data, st.just(Z), 0.1)
        r = call(idealized.affine_rank, cc, rtol=rtol, atol=maybe_junk(data, st.just(0.0), 0.2))
        C, d = np.asarray(cc).shape
        assert 0 <= r <= min(C, d + 1)
    elif which == "is_idealized":
        probe = maybe_junk(data, st.sampled_from(["linear", "relu"]), 0.2)
        rep = call(idealized.is_idealized, Z, g, probe=probe, rtol=rtol)
        assert rep.idealized == (not rep.failing)
        assert rep.affine_rank <= min(rep.n_classes, rep.dim + 1)
        assert rep.affinely_independent == (rep.affine_rank == rep.n_classes)
    else:
        rp = call(linear_probes.radon_partition, Z, rtol=rtol)
        lam = np.asarray(rp.coefficients)
        assert set(np.asarray(rp.labels).tolist()) == {0, 1} and abs(lam[lam > 0].sum() - 1) <= UNIT
        d = np.asarray(Z).shape[1]
        if n > d + 1:  # exactly dependent: sum(lambda) = 0 up to round-off of the (d+1) x n SVD
            assert abs(lam.sum()) <= 1e3 * EPS * n * (d + 1), lam


def fuzz_linear_probes(data):
    Z = draw_codes(data, max_rows=6, max_dim=3)
    n = rows(Z)
    which = data.draw(st.sampled_from(["affine_probe", "separability", "task_census", "cover", "count"]))
    tol = maybe_junk(data, st.sampled_from([1e-6, 1e-9, 0.0]), 0.2)
    if which == "affine_probe":
        labels = labels_for(data, n)
        res = call(linear_probes.affine_probe, Z, labels, n_labels=maybe_junk(data, st.none(), 0.3))
        # Affinely independent codes: the minimum-norm probe scores exactly 1 on the label, 0 elsewhere
        # (docs/theory.md §5); round-off is bounded by kappa eps with kappa <= 1/sqrt(eps) by the rank test.
        scores = np.asarray(Z, dtype=np.float64) @ np.asarray(res.weight) + np.asarray(res.bias)
        expected = np.arange(n) if labels is None else np.asarray(labels)  # None: each class its own label
        assert np.array_equal(np.argmax(scores, axis=1), expected), (Z, labels, scores)
    elif which == "separability":
        labels = labels_for(data, n)
        res = call(linear_probes.separability, Z, labels, tol=tol)
        assert res.margin >= -HIGHS_TOL and (res.separable == (res.margin > tol))
    elif which == "task_census":
        k = maybe_junk(data, st.integers(1, 4))
        res = call(
            linear_probes.task_census,
            Z,
            maybe_junk(data, st.one_of(st.none(), st.just(labels_for(data, n)))),
            n_labels=k,
            tol=tol,
        )
        assert res.n_solvable + len(res.unsolvable) == res.n_tasks, res
        assert res.n_solvable >= min(res.n_tasks, k), res  # constant labellings are always solvable
    elif which == "cover":
        c, d = maybe_junk(data, st.integers(1, 12)), maybe_junk(data, st.integers(0, 12))
        count = call(linear_probes.cover_count, c, d)
        assert 2 <= count <= 2**c and (count == 2**c) == (d >= c - 1), (c, d, count)
    else:
        count = call(linear_probes.count_separable_dichotomies, Z, tol=tol)
        assert min(2, 2**n) <= count <= 2**n, (Z, count)


def fuzz_sample_efficiency(data):
    which = data.draw(st.sampled_from(["absent", "uniform", "exact", "monte_carlo", "encoders"]))
    n = count(data, 0, 6)
    if which == "absent":
        rng = np.random.default_rng(data.draw(st.integers(0, 99)))
        p = maybe_junk(data, st.builds(lambda k: rng.dirichlet(np.ones(k)), st.integers(1, 5)))
        assert 0 <= call(sample_efficiency.absent_class_risk, p, n) <= 1 + UNIT
    elif which == "uniform":
        assert 0 <= call(sample_efficiency.uniform_worst_case_risk, maybe_junk(data, st.integers(1, 9)), n) <= 1
    elif which == "encoders":
        pair = call(sample_efficiency.invariant_and_split_encoders, count(data, 2, 5), count(data, 1, 3))
        assert np.asarray(pair.invariant).shape[0] == np.asarray(pair.split).shape[0] == len(pair.classes)
    else:
        Z = draw_codes(data, max_rows=4, max_dim=3)
        M = rows(Z)
        classes = labels_for(data, M)
        n_classes = len(np.unique(classes)) if _valid(classes) else data.draw(st.integers(0, 4))
        task = labels_for(data, n_classes, high=2)
        probs = maybe_junk(data, st.one_of(st.none(), st.just(np.full(M, 1.0 / max(M, 1)))), 0.2)
        if which == "exact":
            risk = call(sample_efficiency.expected_worst_case_erm_risk, Z, classes, task, n, probs=probs)
            assert -UNIT <= risk <= 1 + UNIT
        else:
            est = call(
                sample_efficiency.monte_carlo_worst_case_erm_risk,
                Z,
                classes,
                task,
                n,
                probs=probs,
                n_trials=count(data, 2, 50),
                seed=count(data, 0, 9),
            )
            assert 0 <= est.mean <= 1 and est.stderr >= 0


def fuzz_idealized_codes(data):
    if data.draw(st.booleans()):
        C = maybe_junk(data, st.integers(1, 8))
        Z = np.asarray(call(idealized_codes.simplex_etf, C))
        assert np.allclose(np.linalg.norm(Z, axis=1), 1.0, rtol=0, atol=100 * EPS)
    else:
        Z = draw_codes(data, max_rows=6, max_dim=1)
        res = call(idealized_codes.relu_probe, Z, labels_for(data, rows(Z)), rtol=maybe_junk(data, st.none(), 0.2))
        assert res.knots is not None


def fuzz_ssl_losses(data):
    which = data.draw(st.sampled_from(["cissl", "simclr", "dissl", "dissl_p", "reference", "heads"]))
    if which == "reference":
        ref = call(
            ssl_losses.dissl_reference_values,
            maybe_junk(data, st.integers(1, 20)),
            lam=maybe_junk(data, nonneg_floats()),
            beta=maybe_junk(data, nonneg_floats()),
        )
        # lower bound -lam log C' <= collapsed value 0 <= ... and <= uniform (1 + beta - lam) log C' (docs/theory.md §5)
        assert ref.lower_bound <= ref.collapsed and ref.lower_bound <= ref.uniform + UNIT * max(1.0, abs(ref.uniform))
        return
    A = draw_codes(data, max_rows=6, max_dim=4, min_rows=2)
    if clean(data) and rows(A) % 2:  # clean: 2B views, two per image
        A = A[1:]
    n = rows(A)
    shape = np.asarray(A).shape
    B = maybe_junk(
        data,
        st.one_of(st.just(A), st.builds(lambda s: np.random.default_rng(s).normal(size=shape), st.integers(0, 99))),
    )
    pairs = np.random.default_rng(data.draw(st.integers(0, 99))).permutation(np.arange(n) // 2)
    g = maybe_junk(data, st.one_of(st.none(), st.just(pairs) if clean(data) else st.just(labels_for(data, n))))
    if which == "heads":
        W = maybe_junk(
            data,
            st.builds(
                lambda s, k: np.random.default_rng(s).normal(size=(shape[1] if len(shape) > 1 else 0, k)),
                st.integers(0, 99),
                st.integers(1 if clean(data) else 0, 3),
            ),
        )
        out = call(ssl_losses.linear_head, A, W)
        assert np.asarray(out).shape[0] == n
        return
    if which == "cissl":
        res = call(ssl_losses.cissl_loss, A, B, g, temperature=maybe_junk(data, st.sampled_from([0.07, 1.0, 1e-3])))
        assert np.isfinite(float(res.value))
    elif which == "simclr":
        res = call(ssl_losses.simclr_loss, A, g, temperature=maybe_junk(data, st.sampled_from([0.07, 1.0, 1e-3])))
        assert np.isfinite(float(res.value))
    else:
        lam, beta = maybe_junk(data, nonneg_floats()), maybe_junk(data, nonneg_floats())
        if which == "dissl":
            res = call(ssl_losses.dissl_loss, A, B, g, lam=lam, beta=beta)
        else:
            rng = np.random.default_rng(data.draw(st.integers(0, 99)))
            P = maybe_junk(data, st.just(rng.dirichlet(np.ones(max(shape[1], 1)), size=n) if len(shape) == 2 else A))
            res = call(ssl_losses.dissl_loss_from_probabilities, P, P, g, lam=lam, beta=beta)
        assert np.isfinite(float(res.value))


def fuzz_datasets(data):
    which = data.draw(st.sampled_from(["blobs", "moons", "circles", "augment", "views", "split", "noise"]))
    seed = maybe_junk(data, st.integers(0, 2**32 - 1), 0.1)
    if which in ("blobs", "moons", "circles"):
        n = count(data, 2, 30)
        if which == "blobs":
            X, y = call(
                datasets.make_blobs,
                n,
                n_classes=count(data, 1, 4),
                n_features=count(data, 1, 3),
                spread=maybe_junk(data, nonneg_floats()),
                seed=seed,
            )
        elif which == "moons":
            X, y = call(datasets.make_moons, n, noise=maybe_junk(data, nonneg_floats()), seed=seed)
        else:
            X, y = call(
                datasets.make_circles,
                n,
                noise=maybe_junk(data, nonneg_floats()),
                factor=maybe_junk(data, st.floats(0, 1, exclude_min=clean(data), exclude_max=clean(data))),
                seed=seed,
            )
        assert X.shape[0] == y.shape[0] == n
        return
    rng = np.random.default_rng(data.draw(st.integers(0, 99)))
    n_img = data.draw(st.integers(1 if clean(data) else 0, 3))
    images = maybe_junk(data, st.just(rng.random((n_img, 5, 5))))
    if which == "augment":
        f = data.draw(st.sampled_from(["shift_images", "translate_images", "rotate_images", "crop_resize_images"]))
        width = 3 if f == "crop_resize_images" else (1 if f == "rotate_images" else 2)
        kinds = [st.just(rng.integers(-6, 7, size=(n_img, width)))]
        if f != "shift_images":
            kinds.append(st.just(rng.uniform(0.5 if f == "crop_resize_images" else -3, 6, size=(n_img, width))))
        if not clean(data):
            kinds.append(st.just(rng.choice([np.nan, np.inf, 1e300, -1e300, 0.0], size=(n_img, width))))
        params = maybe_junk(data, st.one_of(*kinds))
        if f == "crop_resize_images" and clean(data):
            params[:, 2] = np.abs(params[:, 2]) + 1
        out = call(
            getattr(datasets, f),
            images,
            params.reshape(n_img) if width == 1 and isinstance(params, np.ndarray) and params.size == n_img else params,
        )
        assert np.asarray(out).shape == np.asarray(images).shape
    elif which == "noise":
        out = call(datasets.add_noise, images, maybe_junk(data, nonneg_floats()), seed)
        assert np.all((out >= 0) & (out <= 1))
    elif which == "views":
        aug = maybe_junk(
            data,
            st.sampled_from(
                [
                    datasets.ImageAugmentation(),
                    datasets.ImageAugmentation(integer_shifts=True),
                    datasets.PointAugmentation(),
                ]
            ),
            0.1,
        )
        if isinstance(aug, datasets.PointAugmentation) and isinstance(images, np.ndarray) and images.ndim == 3:
            images = images.reshape(n_img, 25)
        views = call(
            datasets.make_views,
            images,
            count(data, 1, 3),
            aug,
            labels=maybe_junk(data, st.one_of(st.none(), st.just(np.arange(n_img)))),
            seed=seed,
        )
        assert views.X.shape[0] == views.groups.shape[0] == views.n_groups * views.n_views
    else:
        labels = labels_for(data, data.draw(st.integers(6 if clean(data) else 0, 12)), high=2)
        train, test = call(datasets.stratified_split, labels, count(data, 1, 2), count(data, 0, 2), seed=seed)
        assert not set(np.asarray(train).tolist()) & set(np.asarray(test).tolist())


def fuzz_probes(data):
    which = data.draw(st.sampled_from(["one_hot", "sample", "loo", "krr", "linear", "accuracy", "summarize"]))
    n = count(data, 1, 8) if clean(data) else data.draw(st.integers(0, 8))
    y = labels_for(data, n)
    if which == "one_hot":
        Y = call(probes.one_hot, y, maybe_junk(data, st.none(), 0.3))
        assert np.all(Y.sum(axis=1) == 1)
    elif which == "sample":
        k = count(data, 1, 1 if clean(data) else 3)  # clean: every class present has >= 1 example
        idx = call(probes.sample_labelled, y, k, seed=maybe_junk(data, st.just(0)))
        assert len(set(np.asarray(idx).tolist())) == len(idx)
    elif which == "accuracy":
        acc = call(probes.accuracy, labels_for(data, n), y)
        assert 0 <= acc <= 1
    elif which == "summarize":
        s = call(probes.summarize, maybe_junk(data, st.lists(st.floats(0, 1), max_size=5)))
        assert s.std >= 0
    else:
        F = draw_codes(data, max_rows=8, max_dim=3, min_rows=2)
        m = rows(F)
        y = np.random.default_rng(m).permutation(np.arange(m) % 2) if clean(data) else labels_for(data, m)
        with np.errstate(over="ignore", invalid="ignore"):  # huge codes give an inf Gram: refused below
            gram = (
                np.asarray(F, dtype=np.float64) @ np.asarray(F, dtype=np.float64).T
                if np.asarray(F).dtype.kind != "c"
                else F
            )
        K = maybe_junk(data, st.just(gram), 0.2)
        if which == "loo":
            lam = call(probes.loo_ridge, K, y)
            assert lam in probes.RIDGE_GRID
        elif which == "krr":
            acc = call(
                probes.kernel_ridge_probe,
                K,
                y,
                K,
                y,
                rel_ridge=maybe_junk(data, st.sampled_from([1e-3, "loo"] + ([] if clean(data) else [0.0]))),
            )
            assert 0 <= acc <= 1
        else:
            acc = call(probes.linear_probe, F, y, F, y, method=maybe_junk(data, st.sampled_from(["ridge", "logistic"])))
            assert 0 <= acc <= 1


def fuzz_bridge_and_nystrom(data):
    X = draw_codes(data, max_rows=8, max_dim=3, min_rows=2)
    n = rows(X)
    g = labels_for(data, n)
    if data.draw(st.booleans()):
        try:
            sol = solve("contrastive", kernels.linear(X), graphs.adjacency(g), 1)
        except KSSLError:
            return
        rep = call(bridge.idealization, sol, maybe_junk(data, st.just(g)))
        assert rep.idealized == (not rep.failing)
    else:
        kernel = maybe_junk(data, st.sampled_from([kernels.get_kernel("rbf"), kernels.get_kernel("linear")]), 0.1)
        feats = call(
            nystrom.nystrom_features,
            kernel,
            X,
            count(data, 1, max(n, 1)) if clean(data) else count(data, 1, 9),
            seed=count(data, 0, 9),
        )
        assert -UNIT <= feats.relative_trace_error <= 1 + UNIT


def fuzz_solution_methods(data):
    """Methods of a valid :class:`~kssl_theory.Solution` and the helpers that take one, under junk arguments."""
    n_groups, m = data.draw(st.integers(2, 4)), data.draw(st.integers(2, 3))
    g = np.repeat(np.arange(n_groups), m)
    rng = np.random.default_rng(data.draw(st.integers(0, 2**32 - 1)))
    X = rng.normal(size=(g.size, 2))
    K = kernels.rbf(X, bandwidth=1.0)
    dim = data.draw(st.integers(1, n_groups))
    name = data.draw(st.sampled_from(["contrastive", "vicreg", "laplacian_eigenmaps", "whitened"]))
    with quiet():
        sol = solve(name, K, graphs.adjacency(g), dim)
    which = data.draw(st.sampled_from(["transform", "induced", "alternative", "codes", "mlp", "nystrom"]))
    cross = st.builds(lambda k: kernels.rbf(rng.normal(size=(k, 2)), X, bandwidth=1.0), st.integers(1, 4))
    if which == "transform":
        F = np.asarray(call(sol.transform, maybe_junk(data, st.one_of(cross, matrices()))))
        assert F.shape[1] == dim
    elif which == "induced":
        K1 = maybe_junk(data, st.one_of(st.just(K), cross))
        Ks = np.asarray(call(sol.induced_kernel, K1))
        if K1 is K:  # on the training views k* is the optimal Gram matrix Z Z^T (docs/theory.md §3)
            G = np.asarray(sol.gram)
            assert np.allclose(
                Ks, G, rtol=0, atol=1e3 * g.size * EPS * max(1.0, np.abs(G).max()) * sol._factor.effective_cond
            )
    elif which == "alternative":
        alt = call(sol.alternative, maybe_junk(data, st.integers(0, 99)))
        assert abs(float(alt.loss) - float(sol.loss)) <= 1e3 * g.size * EPS * max(1.0, abs(float(sol.loss)))
    elif which == "codes":
        u = maybe_junk(data, st.builds(lambda k: rng.normal(size=k), st.sampled_from([n_groups, n_groups + 1])))
        Z = np.asarray(call(bridge.contrastive_codes_with_normal, maybe_junk(data, st.just(g)), u))
        assert Z.shape == (g.size, n_groups - 1)
    elif which == "mlp":
        W = [rng.normal(size=(dim, 3)), rng.normal(size=(3, 2))]
        b = [np.zeros(3), np.zeros(2)]
        out = np.asarray(
            call(ssl_losses.mlp_head, sol.embedding, maybe_junk(data, st.just(W)), maybe_junk(data, st.just(b)))
        )
        assert out.shape == (g.size, 2)
    else:
        feats = nystrom.nystrom_features(kernels.get_kernel("rbf", bandwidth=1.0), X, g.size)
        res = call(
            nystrom.solve_nystrom,
            maybe_junk(data, st.sampled_from(["contrastive", "vicreg", "O9"])),
            maybe_junk(data, st.just(feats)),
            maybe_junk(data, st.just(graphs.RelationGraph.from_groups(g))),
            maybe_junk(data, st.just(dim)),
        )
        # All N landmarks: the Nystrom kernel is K up to the pseudo-inverse cut-off (N eps lambda_max per
        # dropped eigenvalue) and eps kappa(K) <= 1e-8 for these <= 12-point RBF Gram matrices.
        exact = solve(res.reduced.objective, K, graphs.adjacency(g), res.reduced.dim)
        assert abs(res.loss - float(exact.loss)) <= 1e-6 * max(1.0, abs(float(exact.loss)))


TARGETS = {
    f.__name__.removeprefix("fuzz_"): f
    for f in (
        fuzz_graphs,
        fuzz_metrics,
        fuzz_idealized,
        fuzz_linear_probes,
        fuzz_sample_efficiency,
        fuzz_idealized_codes,
        fuzz_ssl_losses,
        fuzz_datasets,
        fuzz_probes,
        fuzz_bridge_and_nystrom,
        fuzz_solution_methods,
    )
}


def _prop(target):
    def prop(data):
        try:
            target(data)
        except _Rejected:
            pass

    return prop


@pytest.mark.parametrize("name", sorted(TARGETS))
def test_fuzz_small_budget(name):
    run_property(_prop(TARGETS[name]), SMALL)


@pytest.mark.slow
@pytest.mark.parametrize("name", sorted(TARGETS))
def test_fuzz_large_budget(name):
    run_property(_prop(TARGETS[name]), LARGE)
