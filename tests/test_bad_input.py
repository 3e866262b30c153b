"""Every category of bad input named by the robustness issue gets the package's InputError with a
message that says what was wrong and how to fix it (one parametrized case per category and API)."""

from __future__ import annotations

import array_api_strict as xs
import numpy as np
import pytest

import kssl_theory as kt
from kssl_theory.errors import InputError

RNG = np.random.default_rng(0)
X = RNG.normal(size=(6, 2))
GROUPS = np.array([0, 0, 1, 1, 2, 2])
K = kt.kernels.rbf(X, bandwidth=1.0)
A = kt.graphs.adjacency(GROUPS)


def _nan(M):
    M = M.copy()
    M[0, 1] = M[1, 0] = np.nan
    return M


def _not_psd():
    M = K.copy()
    M[0, 0] = -1.0
    return M


SOLVE_CASES = {
    "NaN in K": (dict(K=_nan(K)), "NaN or infinite"),
    "Inf in A": (dict(A=np.full((6, 6), np.inf)), "NaN or infinite"),
    "K not square": (dict(K=K[:, :5]), "must be square"),
    "K not 2-D": (dict(K=K.ravel()), "must be a 2-D matrix"),
    "K not symmetric": (dict(K=K + np.triu(np.ones((6, 6)), 1)), "not symmetric"),
    "K not PSD": (dict(K=_not_psd()), r"not positive semi-definite: smallest eigenvalue -?\d.*ridge"),
    "A wrong size": (dict(A=A[:5, :5]), "must have 6 rows"),
    "dim = 0": (dict(dim=0), r"1 <= dim <= N = 6; got 0"),
    "dim > N": (dict(dim=7), r"1 <= dim <= N = 6; got 7"),
    "dim not an integer": (dict(dim=2.5), "dim must be a positive integer"),
    "negative reg": (dict(options={"reg": -1.0}), "reg must be >= 0"),
    "negative beta": (dict(objective="vicreg", options={"beta": -0.5}), "beta must be >= 0"),
    "unknown objective": (dict(objective="barlow"), "unknown objective 'barlow'; valid names: .*contrastive"),
    "unknown option": (dict(options={"gamma": 1.0}), r"unknown option\(s\) \['gamma'\].*valid options: \['reg'\]"),
    "bool option not bool": (dict(objective="vicreg", options={"centred": "yes"}), "must be True or False"),
    "empty K": (dict(K=np.zeros((0, 0)), A=np.zeros((0, 0))), "is empty"),
    "complex dtype": (dict(K=K.astype(complex)), "pass a real floating array"),
    "mixed namespaces": (dict(A=xs.asarray(A)), "different array libraries"),
    "unknown method": (dict(options={"method": "magic"}), "unknown method 'magic'"),
    "kernel_rtol out of range": (dict(options={"kernel_rtol": 1.5}), "kernel_rtol must be < 1"),
}


@pytest.mark.parametrize("case", sorted(SOLVE_CASES))
def test_solve_rejects(case):
    override, message = SOLVE_CASES[case]
    args = dict(objective="contrastive", K=K, A=A, dim=2, options={})
    args.update(override)
    with pytest.raises(InputError, match=message):
        kt.solve(args["objective"], args["K"], args["A"], args["dim"], **args["options"])


def test_integer_inputs_are_promoted_not_rejected():
    """Documented choice: integer and boolean matrices are valid data, promoted to float64."""
    sol = kt.solve("contrastive", np.eye(6, dtype=int), A.astype(int), 3)
    assert sol.embedding.dtype == np.float64


def test_one_group_is_a_valid_degenerate_problem_but_has_no_between_pairs():
    A1 = kt.graphs.adjacency(np.zeros(6, dtype=int))
    sol = kt.solve("contrastive", K, A1, 1)
    assert float(sol.loss) == pytest.approx(0.0, abs=1e-10)  # G* = A = 11^T has rank 1
    with pytest.raises(InputError, match="no between-group pairs"):
        kt.decorrelation(sol.gram, np.zeros(6, dtype=int))


LOSS_CASES = {
    "reg without K": (dict(options={"reg": 0.1}), "needs K= and coef="),
    "Z rows mismatch A": (dict(Z=np.ones((5, 2))), "must have 5 rows"),
    "NaN in Z": (dict(Z=np.full((6, 2), np.nan)), "NaN or infinite"),
}


@pytest.mark.parametrize("case", sorted(LOSS_CASES))
def test_loss_rejects(case):
    override, message = LOSS_CASES[case]
    args = dict(Z=np.ones((6, 2)), options={})
    args.update(override)
    with pytest.raises(InputError, match=message):
        kt.loss("contrastive", args["Z"], A, **args["options"])


ESTIMATOR_CASES = {
    "groups wrong length": (dict(), dict(groups=GROUPS[:4]), "groups has 4 labels but there are 6 views"),
    # any hashable labels are accepted (negative, fractional, strings: scikit-learn's convention); missing ones are not
    "missing group label": (dict(), dict(groups=[0, 0, 1, None, 2, 2]), r"groups has 1 missing label\(s\)"),
    "NaN group label": (dict(), dict(groups=GROUPS + np.array([0, 0, 0, np.nan, 0, 0])), "missing label"),
    "empty groups": (dict(), dict(groups=np.array([], dtype=int)), "groups is empty"),
    "NaN in X": (dict(), dict(X=np.full((6, 2), np.nan)), "NaN or infinite"),
    "empty X": (dict(), dict(X=np.zeros((0, 2)), groups=np.array([], dtype=int)), "is empty"),
    "unknown kernel": (dict(kernel="cosine"), dict(), "unknown kernel 'cosine'; valid names"),
    "non-positive bandwidth": (dict(bandwidth=0.0), dict(), "bandwidth must be > 0"),
    "dim too large": (dict(dim=99), dict(), "1 <= dim <= N = 6"),
    "option of another objective": (dict(beta=0.3), dict(), "does not apply to objective 'contrastive'"),
    "negative ridge": (dict(ridge=-1e-3), dict(), "ridge must be >= 0"),
}


@pytest.mark.parametrize("case", sorted(ESTIMATOR_CASES))
def test_estimator_rejects(case):
    params, data, message = ESTIMATOR_CASES[case]
    fit = dict(X=X, groups=GROUPS)
    fit.update(data)
    with pytest.raises(InputError, match=message):
        kt.KernelSSL(**{"dim": 2, "bandwidth": 1.0, **params}).fit(fit["X"], groups=fit["groups"])


IMAGES = np.random.default_rng(1).random((2, 5, 5))

#: Inputs that leaked a bare NumPy/SciPy/Python exception (or a MemoryError) before the fuzz suite
#: of the non-solver modules (tests/test_fuzz_functions.py) found them; each is now an InputError.
FUZZ_FOUND_CASES = {
    "make_views: augment not callable": (
        lambda: kt.experiments.datasets.make_views(IMAGES, 2, 0.5),
        "augment must be callable",
    ),
    "make_views: seed not an integer": (
        lambda: kt.experiments.datasets.make_views(IMAGES, 2, kt.experiments.datasets.PointAugmentation(), seed=0.5),
        "seed must be a non-negative",
    ),
    "make_blobs: spread None": (
        lambda: kt.experiments.datasets.make_blobs(10, spread=None),
        "spread must be a real number",
    ),
    "make_blobs: huge n_samples": (
        lambda: kt.experiments.datasets.make_blobs(2**40, n_features=2**20),
        "more than this machine",
    ),
    "shift_images: one shift for two images": (
        lambda: kt.experiments.datasets.shift_images(IMAGES, [1]),
        r"shape \(2, 2\)",
    ),
    "shift_images: fractional shift": (
        lambda: kt.experiments.datasets.shift_images(IMAGES, [[0.5, 0], [0, 0]]),
        "whole pixels",
    ),
    "rotate_images: NaN angle": (lambda: kt.experiments.datasets.rotate_images(IMAGES, [np.nan, 0]), "NaN or infinite"),
    "images: strings": (lambda: kt.experiments.datasets.add_noise(np.array([[["a"]]]), 0.1, 0), "real numeric"),
    "stratified_split: None labels": (lambda: kt.experiments.datasets.stratified_split(None, 1, 1), "labels is None"),
    "one_hot: n_classes None-like junk": (
        lambda: kt.experiments.probes.one_hot([0, 1], "x"),
        "n_classes must be an integer",
    ),
    "one_hot: empty labels": (lambda: kt.experiments.probes.one_hot([]), "labels is empty"),
    "sample_labelled: k None": (lambda: kt.experiments.probes.sample_labelled([0, 1], None), "k must be an integer"),
    "kernel_ridge_probe: NaN kernel": (
        lambda: kt.experiments.probes.kernel_ridge_probe(_nan(K), GROUPS, K, GROUPS),
        "NaN or infinite",
    ),
    "kernel_ridge_probe: rel_ridge NaN": (
        lambda: kt.experiments.probes.kernel_ridge_probe(K, GROUPS, K, GROUPS, rel_ridge=np.nan),
        "rel_ridge must be finite",
    ),
    "linear_probe: no features": (
        lambda: kt.experiments.probes.linear_probe(
            np.zeros((3, 0)), [0, 1, 0], np.zeros((3, 0)), [0, 1, 0], method="logistic"
        ),
        "empty",
    ),
    "linear_probe: test features of other width": (
        lambda: kt.experiments.probes.linear_probe(X, GROUPS, X[:, :1], GROUPS),
        "features but the labelled embeddings have 2",
    ),
    "summarize: strings": (lambda: kt.experiments.probes.summarize(["x"]), "could not be converted|not numeric|dtype"),
    "summarize: NaN": (lambda: kt.experiments.probes.summarize([0.5, np.nan]), "NaN or infinite"),
    "nystrom_features: n_landmarks None": (
        lambda: kt.kernel_regime.nystrom.nystrom_features(kt.kernels.get_kernel("rbf"), X, None),
        "n_landmarks must be an integer",
    ),
    "nystrom_features: kernel None": (
        lambda: kt.kernel_regime.nystrom.nystrom_features(None, X, 2),
        "kernel must be callable",
    ),
    "nystrom_features: seed True": (
        lambda: kt.kernel_regime.nystrom.nystrom_features(kt.kernels.get_kernel("rbf"), X, 2, seed=True),
        "seed must be a non-negative",
    ),
    "simplex_etf: 10^6 classes": (lambda: kt.idealized.codes.simplex_etf(10**6), "more than this machine"),
    "task_census: tol not a number": (
        lambda: kt.idealized.probes.task_census(np.eye(2), tol="x"),
        "tol must be a real",
    ),
    "cover_count: huge dim": (lambda: kt.idealized.probes.cover_count(2**64, 2**40), "n_points"),
    "make_views: 10^12 views": (
        lambda: kt.experiments.datasets.make_views(IMAGES, 10**12, kt.experiments.datasets.ImageAugmentation()),
        "more than this machine",
    ),
    "laplacian: normalized='yes'": (
        lambda: kt.graphs.laplacian(A, normalized="yes"),
        "normalized must be True or False",
    ),
    "adjacency: self_loops=1": (lambda: kt.graphs.adjacency(GROUPS, self_loops=1), "self_loops must be True or False"),
    "radon_partition: rtol declares independent codes dependent": (
        lambda: kt.idealized.probes.radon_partition(np.array([[0.0], [1.0]]), rtol=0.9),
        "not affinely dependent enough",
    ),
    "dissl_loss: logits of 1e150 with beta = 1e300 overflow": (
        lambda: kt.idealized.losses.dissl_loss(
            1e150 * RNG.normal(size=(4, 3)), RNG.normal(size=(4, 3)), [0, 0, 1, 1], beta=1e300
        ),
        "overflows",
    ),
    "is_idealized: probe given as an array": (
        lambda: kt.idealized.is_idealized(X, probe=np.ones((2, 2))),
        "unknown probe",
    ),
    "mlp_head: weights=True": (lambda: kt.idealized.losses.mlp_head(X, True, [np.zeros(2)]), "lists of arrays"),
    "linear_head: bias of the wrong length": (
        lambda: kt.idealized.losses.linear_head(X, np.eye(2), [1.0, 2.0, 3.0]),
        "bias must be a vector of length 2",
    ),
    "Solution.alternative: seed is a string": (
        lambda: kt.solve("contrastive", K, A, 2).alternative("x"),
        "seed must be a non-negative",
    ),
    "contrastive_codes_with_normal: u is text": (
        lambda: kt.bridge.contrastive_codes_with_normal(GROUPS, "abc"),
        "u must be a real vector of length n = 3",
    ),
    "one_hot: 10^12 classes": (lambda: kt.experiments.probes.one_hot([0, 1], 10**12), "more than this machine"),
    "separability: 10^9 labels": (
        lambda: kt.idealized.probes.separability(np.eye(3), [0, 1, 0], n_labels=10**9),
        "more than this machine",
    ),
    "simclr_loss: temperature 5e-324": (
        lambda: kt.idealized.losses.simclr_loss(X, GROUPS, temperature=5e-324),
        "overflows",
    ),
}


@pytest.mark.parametrize("case", sorted(FUZZ_FOUND_CASES))
@pytest.mark.filterwarnings("ignore:overflow encountered:RuntimeWarning")  # the overflow cases: NumPy warns, we raise
@pytest.mark.filterwarnings("ignore:invalid value encountered:RuntimeWarning")
def test_fuzz_found_inputs_are_rejected(case):
    call, message = FUZZ_FOUND_CASES[case]
    with pytest.raises(InputError, match=message):
        call()


def test_all_zero_features_give_a_zero_nystrom_error_not_a_division_by_zero():
    """trace K = 0 (linear kernel of zero points): K = 0 is represented exactly (found by fuzzing)."""
    feats = kt.kernel_regime.nystrom.nystrom_features(kt.kernels.get_kernel("linear"), np.zeros((4, 2)), 2)
    assert feats.relative_trace_error == 0.0
