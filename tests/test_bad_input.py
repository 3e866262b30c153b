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
    assert float(sol.loss) == pytest.approx(0.0, abs=1e-10)   # G* = A = 11^T has rank 1
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
    "groups wrong length": (dict(), dict(groups=GROUPS[:4]), "groups has 4 labels but the data have 6"),
    "negative group label": (dict(), dict(groups=-GROUPS), "must be non-negative"),
    "non-integer groups": (dict(), dict(groups=GROUPS + 0.5), "non-integer"),
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
