"""Evidence for the open float32 rank cut-off decision (docs/theory.md §3, "Accuracy of the computed optimum").

For RBF kernels plus a ridge (N = 200, 400, 1000; ridge 1e-1 to 1e-4; three seeds) and a symmetrised 5-NN graph,
O1 with lambda = 0 is solved in float32 with the default cut-off N eps and with kernel_rtol = 10 eps. On a
positive definite K, O1 with lambda = 0 has T = A, so the exact leading eigenvalues are A's (NumPy, float64):
each row gives the rank kept, the largest error of the top three eigenvalues against them, the solution's
certified eigenvalue_error, and whether a truncation warning was issued.

Usage: python benchmarks/float32_cutoff.py   (about a minute on two cores; prints a Markdown table)
"""

from __future__ import annotations

import math
import warnings

import numpy as np
import scipy.sparse as sp

import kssl_theory as kt


def _instance(n, ridge, seed):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, 5))
    d2 = np.sum((X[:, None, :] - X[None, :, :]) ** 2, axis=-1)
    K = np.exp(-d2 / (2 * math.sqrt(np.median(d2)) ** 2)) + ridge * np.eye(n)
    np.fill_diagonal(d2, np.inf)
    nearest = np.argsort(d2, axis=1)[:, :5]
    G = sp.csr_matrix((np.ones(5 * n), (np.repeat(np.arange(n), 5), nearest.ravel())), shape=(n, n))
    return K, ((G + G.T) > 0).astype(float).toarray()


def main():
    eps = float(np.finfo(np.float32).eps)
    print("| N | ridge | seed | kappa(K) | cut-off | rank | max error | certified | within | truncation warning |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    totals = {}
    for n in (200, 400, 1000):
        for ridge in (1e-1, 1e-2, 1e-3, 1e-4):
            for seed in range(3):
                K, A = _instance(n, ridge, seed)
                exact = np.linalg.eigvalsh(A)[::-1][:3]
                w = np.linalg.eigvalsh(K)
                for label, rtol in (("N eps", None), ("10 eps", 10 * eps)):
                    with warnings.catch_warnings(record=True) as record:
                        warnings.simplefilter("always")
                        sol = kt.solve("contrastive", K.astype(np.float32), A.astype(np.float32), 2, kernel_rtol=rtol)
                    err = float(np.max(np.abs(np.asarray(sol.eigenvalues[:3], dtype=float) - exact)))
                    cert = float(sol.eigenvalue_error)
                    warned = any("truncation" in str(r.message) for r in record)
                    print(
                        f"| {n} | {ridge:.0e} | {seed} | {w[-1] / w[0]:.2e} | {label} | {sol.rank} | {err:.2e} | "
                        f"{cert:.2e} | {err <= cert} | {warned} |"
                    )
                    t = totals.setdefault(label, [0, 0, 0, 0])
                    t[0] += 1
                    t[1] += err <= cert
                    t[2] += sol.rank < n
                    t[3] += warned
    print()
    for label, (cases, within, truncated, warned) in totals.items():
        print(f"- {label}: {cases} cases, {within} within their certificate, {truncated} truncated, {warned} warned")


if __name__ == "__main__":
    main()
