"""Downstream probes against scikit-learn and on easy synthetic cases."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.kernel_ridge import KernelRidge

from kssl_theory import kernels
from kssl_theory.errors import InputError
from kssl_theory.experiments import datasets as ds
from kssl_theory.experiments import probes


@pytest.fixture
def blobs():
    X, y = ds.make_blobs(200, n_classes=4, n_features=3, spread=0.3, separation=4.0, seed=1)
    return X[:120], y[:120], X[120:], y[120:]


def test_krr_matches_sklearn_precomputed(blobs):
    Xtr, ytr, Xte, _ = blobs
    K = kernels.rbf(Xtr, bandwidth=1.5)
    Kt = kernels.rbf(Xte, Xtr, bandwidth=1.5)
    rel = 1e-2
    ours = probes.kernel_ridge_predict(K, ytr, Kt, rel_ridge=rel)
    alpha = rel * np.mean(np.diag(K))
    ref = KernelRidge(kernel="precomputed", alpha=alpha).fit(K, probes.one_hot(ytr)).predict(Kt)
    np.testing.assert_allclose(ours, ref, rtol=1e-8, atol=1e-10)


def test_krr_probe_solves_separated_blobs(blobs):
    Xtr, ytr, Xte, yte = blobs
    idx = probes.sample_labelled(ytr, 2, seed=0)
    K = kernels.rbf(Xtr[idx], bandwidth=2.0)
    acc = probes.kernel_ridge_probe(K, ytr[idx], kernels.rbf(Xte, Xtr[idx], bandwidth=2.0), yte, rel_ridge="loo")
    assert acc > 0.95


def test_loo_ridge_matches_brute_force(blobs):
    Xtr, ytr, _, _ = blobs
    K = kernels.rbf(Xtr[:40], bandwidth=1.0)
    y = ytr[:40]
    Y = probes.one_hot(y, 4)
    grid = (1e-4, 1e-2, 1.0)
    errs = []
    for rel in grid:
        rho = rel * np.mean(np.diag(K))
        r = []
        for i in range(40):
            keep = np.arange(40) != i
            a = np.linalg.solve(K[np.ix_(keep, keep)] + rho * np.eye(39), Y[keep])
            r.append(((K[i, keep] @ a - Y[i]) ** 2).mean())
        errs.append(np.mean(r))
    assert probes.loo_ridge(K, y, grid=grid, n_classes=4) == grid[int(np.argmin(errs))]


def test_linear_probe_matches_sklearn_ridge_with_bias(blobs):
    Xtr, ytr, Xte, yte = blobs
    from sklearn.linear_model import RidgeClassifier

    mu, sd = Xtr.mean(0), Xtr.std(0)
    alpha = 1e-3 * np.mean(np.sum(((Xtr - mu) / sd) ** 2, axis=1) + 1.0)
    ours = probes.linear_probe(Xtr, ytr, Xte, yte, rel_ridge=1e-3)
    # Our bias is penalised like the weights (kernel + 1); with this tiny ridge the difference is nil.
    clf = RidgeClassifier(alpha=alpha).fit((Xtr - mu) / sd, ytr)
    assert abs(ours - np.mean(clf.predict((Xte - mu) / sd) == yte)) <= 0.02
    assert ours > 0.9


def test_logistic_linear_probe(blobs):
    Xtr, ytr, Xte, yte = blobs
    assert probes.linear_probe(Xtr, ytr, Xte, yte, method="logistic") > 0.9


def test_sample_labelled_is_seeded_and_balanced():
    y = np.repeat(np.arange(5), 8)
    a = probes.sample_labelled(y, 3, seed=4)
    np.testing.assert_array_equal(a, probes.sample_labelled(y, 3, seed=4))
    np.testing.assert_array_equal(np.bincount(y[a]), np.full(5, 3))
    with pytest.raises(InputError):
        probes.sample_labelled(y, 9)


def test_summarize():
    s = probes.summarize([0.5, 0.7])
    assert s.mean == pytest.approx(0.6) and s.std == pytest.approx(np.std([0.5, 0.7], ddof=1)) and s.n == 2
    assert str(s) == "60.0 ± 14.1"
    assert probes.summarize([0.3]).std == 0.0


def test_bad_inputs():
    with pytest.raises(InputError):
        probes.kernel_ridge_predict(np.eye(2), [0, 1], np.eye(2), rel_ridge=0.0)
    with pytest.raises(InputError):
        probes.kernel_ridge_predict(np.eye(2), [0, 1], np.eye(3))
    with pytest.raises(InputError):
        probes.linear_probe(np.eye(2), [0, 0], np.eye(2), [0, 1])
