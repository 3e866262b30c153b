"""Probe which large LAPACK/BLAS calls kill the process on this machine (issue 18).

Each probe runs in its own subprocess (``python -c``), so a segmentation fault is recorded as
an observation (return code ``-11``) instead of ending the run. A probe builds its input, caps
the BLAS thread pools with ``threadpoolctl.threadpool_limits(threads)``, makes one call and
checks its result; the table gives the call, ``N``, the thread cap, the outcome and the
seconds of the call (or until the crash, measured by the parent).

Usage::

    python benchmarks/openblas_probe.py                        # the plan recorded in the README
    python benchmarks/openblas_probe.py --only potrf --sizes 12000 16000 --threads 1 2
    python benchmarks/openblas_probe.py --guarded              # the same calls through kssl_theory.backend
    python benchmarks/openblas_probe.py --compare 4000 12000   # potrf 2 threads vs 1: same bits? seconds?

The calls, as the package makes them (``k`` = embedding dimension + 1 = 65 right-hand sides):

- ``np.cholesky``: ``numpy.linalg.cholesky`` (NumPy's bundled OpenBLAS ``potrf``);
- ``potrf``: ``scipy.linalg.cholesky(lower=True)`` (SciPy's bundled OpenBLAS);
- ``potrs``: ``scipy.linalg.cho_solve`` with ``N x k`` right-hand sides (two ``trsm``);
- ``trsm-NxN``: ``scipy.linalg.solve_triangular`` with ``N x N`` right-hand sides (``K^+ cI``);
- ``pocon``: the condition estimate ``KernelFactor`` takes from the factor;
- ``syrk-64``: ``X @ X.T`` for ``X`` of shape ``N x 64`` (the RBF Gram matrix; NumPy calls ``syrk``);
  ``syrk-<k>``: the same with ``N x k`` (image features; the shape of ``potrf``'s own updates);
- ``syr2k-<k>``: ``scipy.linalg.blas.dsyr2k`` with ``N x k`` operands (``k = 32`` is the update of
  the tridiagonal reduction ``sytrd`` that ``syevd``/``syevr`` start with);
- ``gemm-k<k>``: ``X @ Y.T`` with two different ``N x k`` matrices (out-of-sample kernel blocks);
- ``gemm``: ``M @ V`` with ``M`` ``N x N`` and ``V`` ``N x k``; ``gemm-NxN``: ``M @ M`` (``N x N x N``);
- ``syevd``: ``scipy.linalg.eigh(driver="evd")``, all pairs; ``syevr``: ``driver="evr"`` with
  ``subset_by_index`` for the top ``k`` pairs.

The inputs are the identity (``potrf``, ``pocon``), a random symmetric ``(G + G^T)/sqrt(N)``
(eigensolvers), a well-conditioned random triangular matrix (``potrs``, ``trsm``) or random
dense matrices; none of these routines pivots, so the code path depends on the sizes and the
thread count, not on the values.
"""

from __future__ import annotations

import argparse
import json
import signal
import subprocess
import sys
import time

#: (call, N, threads) probed by default: Cholesky around the observed boundary, the other calls at
#: the sizes the package uses where one probe finishes in about a minute on 2 cores.
DEFAULT_PLAN = (
    [("np.cholesky", n, 2) for n in (12000, 14000, 16000)]
    + [("np.cholesky", 16000, 1)]
    + [("potrf", n, 2) for n in (12000, 14000, 14500, 15000, 15500, 15750, 16000, 20000)]
    + [("potrf", 20000, 1)]
    + [("potrs", 20000, 2), ("trsm-NxN", 12000, 2), ("pocon", 20000, 2)]
    + [(f"syrk-{k}", 20000, 2) for k in (64, 128, 192, 256, 512)]
    + [("syrk-256", 16000, 2)]
    + [("syrk-1024", n, 2) for n in (12000, 14000, 15000, 15250, 15500, 15750, 16000, 20000)]
    + [("syrk-4096", 15000, 2)]
    + [
        ("syr2k-32", 20000, 2),
        ("syr2k-256", 20000, 2),
        ("gemm-k1024", 20000, 2),
        ("gemm", 20000, 2),
        ("gemm-NxN", 12000, 2),
    ]
    + [("syevd", 6000, 2), ("syevr", 8000, 2)]
)

CHILD = r"""
import json, sys, time
import numpy as np
import scipy.linalg
import threadpoolctl

call, n, threads, guarded = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4] == "1"
k = 65
rng = np.random.default_rng(0)
if guarded:
    from kssl_theory import backend as B
    cholesky = lambda S: B.cholesky(S).lower
    cho_solve = lambda c, B_: B.cho_solve(B.CholeskyFactor(c[0]), B_)
    solve_triangular = lambda T, B_, lower: B.solve_triangular(T, B_, lower=lower)
    def eigh(S, driver, subset_by_index=None):
        return B.eigh(S) if subset_by_index is None else B.eigh_subset(S, *subset_by_index)
    gram = B.gram
else:
    gram = lambda X: X @ X.T
    cholesky = lambda S: scipy.linalg.cholesky(S, lower=True, check_finite=False)
    cho_solve = lambda c, B: scipy.linalg.cho_solve(c, B, check_finite=False)
    solve_triangular = lambda T, B, **kw: scipy.linalg.solve_triangular(T, B, check_finite=False, **kw)
    eigh = lambda S, **kw: scipy.linalg.eigh(S, check_finite=False, **kw)

def symmetric():
    G_ = rng.standard_normal((n, n)) / np.sqrt(n)
    return G_ + G_.T

info = [{key: d[key] for key in ("internal_api", "version", "architecture")} for d in threadpoolctl.threadpool_info()]
print(json.dumps({"blas": info}), flush=True)
with threadpoolctl.threadpool_limits(threads):
    if call in ("np.cholesky", "potrf"):
        S = np.eye(n)
        t0 = time.perf_counter()
        L = np.linalg.cholesky(S) if call == "np.cholesky" else cholesky(S)
        ok = bool(np.all(np.diag(L) == 1.0)) and float(np.abs(L[-1, :-1]).max()) == 0.0
    elif call in ("potrs", "trsm-NxN"):
        L = np.tril(rng.standard_normal((n, n)) / np.sqrt(n)) + 4 * np.eye(n)
        B = rng.standard_normal((n, k if call == "potrs" else n))
        t0 = time.perf_counter()
        X = cho_solve((L, True), B) if call == "potrs" else solve_triangular(L, B, lower=True)
        j = 0
        r = (L @ (L.T @ X[:, j]) if call == "potrs" else L @ X[:, j]) - B[:, j]
        ok = float(np.abs(r).max()) < 1e-8
    elif call == "pocon":
        L = np.eye(n)
        t0 = time.perf_counter()
        rcond, info = scipy.linalg.lapack.dpocon(L, 1.0, uplo="L")
        ok = info == 0 and abs(rcond - 1.0) < 1e-12
    elif call.startswith("syrk-") or call.startswith("gemm-k"):
        X = rng.standard_normal((n, int(call.split("-")[1].lstrip("k"))))
        Y = X if call.startswith("syrk") else rng.standard_normal(X.shape)
        t0 = time.perf_counter()
        G_ = gram(X) if call.startswith("syrk") else X @ Y.T
        ok = abs(G_[3, 5] - X[3] @ Y[5]) < 1e-9
    elif call.startswith("syr2k-"):
        X = rng.standard_normal((n, int(call.split("-")[1])))
        Y = rng.standard_normal(X.shape)
        t0 = time.perf_counter()
        G_ = scipy.linalg.blas.dsyr2k(1.0, X, Y, lower=1)
        ok = abs(G_[5, 3] - (X[5] @ Y[3] + Y[5] @ X[3])) < 1e-9
    elif call in ("gemm", "gemm-NxN"):
        M = rng.standard_normal((n, n))
        V = rng.standard_normal((n, k)) if call == "gemm" else M
        t0 = time.perf_counter()
        P = M @ V
        ok = abs(P[7, 2] - M[7] @ V[:, 2]) < 1e-8 * n
    elif call in ("syevd", "syevr"):
        S = symmetric()
        t0 = time.perf_counter()
        if call == "syevd":
            w, V = eigh(S, driver="evd")
        else:
            w, V = eigh(S, driver="evr", subset_by_index=[n - k, n - 1])
        ok = float(np.abs(S @ V[:, -1] - w[-1] * V[:, -1]).max()) < 1e-8
    else:
        raise SystemExit(f"unknown call {call!r}")
    seconds = time.perf_counter() - t0
print(json.dumps({"seconds": seconds, "ok": bool(ok)}))
"""


def probe(call: str, n: int, threads: int, *, guarded: bool = False, timeout: float = 900.0) -> dict:
    """Run one call in a subprocess and describe how it ended.

    Parameters
    ----------
    call : str
        One of the calls listed in the module docstring.
    n : int
        Matrix size.
    threads : int
        Cap on every BLAS thread pool (``threadpoolctl.threadpool_limits``).
    guarded : bool
        Make the call through :mod:`kssl_theory.backend` (guarded by :mod:`kssl_theory.lapack_guard`)
        instead of SciPy directly (``syrk-<k>``: :func:`kssl_theory.backend.gram`); ``np.cholesky``,
        ``pocon``, ``syr2k`` and ``gemm`` are unchanged.
    timeout : float
        Seconds after which the probe is killed and reported as ``timeout``.

    Returns
    -------
    dict
        ``call``, ``N``, ``threads``, ``result`` (``ok``, ``wrong result``, ``SIGSEGV`` or another
        signal name, ``exit <code>``, ``timeout``) and ``seconds`` (the call's own time when it
        returned, else the subprocess wall time including setup).
    """
    t0 = time.perf_counter()
    try:
        out = subprocess.run(
            [sys.executable, "-c", CHILD, call, str(n), str(threads), "1" if guarded else "0"],
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
    except subprocess.TimeoutExpired:
        return {"call": call, "N": n, "threads": threads, "result": "timeout", "seconds": time.perf_counter() - t0}
    wall = time.perf_counter() - t0
    row = {"call": call, "N": n, "threads": threads}
    lines = [json.loads(line) for line in out.stdout.splitlines() if line.startswith("{")]
    if lines:
        row["blas"] = lines[0]["blas"]
    if out.returncode < 0:
        row.update(result=signal.Signals(-out.returncode).name, seconds=wall)
    elif out.returncode != 0:
        tail = out.stderr.strip().splitlines()
        row.update(result=f"exit {out.returncode}: {tail[-1] if tail else ''}", seconds=wall)
    else:
        row.update(result="ok" if lines[-1]["ok"] else "wrong result", seconds=lines[-1]["seconds"])
    return row


COMPARE_CHILD = r"""
import json, sys, time
import numpy as np
import scipy.linalg
import threadpoolctl

n = int(sys.argv[1])
rng = np.random.default_rng(0)
X = rng.normal(size=(n, 8))
sq = np.sum(X**2, axis=1)
K = np.exp(-np.maximum(sq[:, None] + sq[None, :] - 2 * X @ X.T, 0) / 18.0) + 1e-6 * np.eye(n)
out = {}
for threads in (2, 1):
    with threadpoolctl.threadpool_limits(threads):
        t0 = time.perf_counter()
        out[threads] = scipy.linalg.cholesky(K, lower=True, check_finite=False)
        out[f"s{threads}"] = time.perf_counter() - t0
diff = out[1] - out[2]
F = rng.normal(size=(n, 1024))
with threadpoolctl.threadpool_limits(2):
    G2 = F @ F.T
with threadpoolctl.threadpool_limits(1):
    G1 = F @ F.T
print(json.dumps({"N": n, "identical": bool(np.array_equal(out[1], out[2])),
                  "entries_differing": int(np.count_nonzero(diff)),
                  "max_abs_diff": float(np.max(np.abs(diff))), "seconds_2_threads": out["s2"],
                  "seconds_1_thread": out["s1"], "syrk_k1024_identical": bool(np.array_equal(G1, G2))}))
"""


def compare_threads(n: int) -> dict:
    """Cholesky of one RBF + 1e-6 ridge Gram matrix with 2 threads and with 1: identical bits? seconds?

    Also compares ``F @ F.T`` (``syrk``, ``F`` of shape ``n x 1024``) with 2 threads and with 1.
    Runs in a subprocess; ``n`` must be below the crash boundary. Returns the child's JSON
    (``identical``, ``entries_differing``, ``max_abs_diff``, ``seconds_2_threads``, ``seconds_1_thread``,
    ``syrk_k1024_identical``) or ``{"N": n, "result": <signal or exit>}``.
    """
    out = subprocess.run([sys.executable, "-c", COMPARE_CHILD, str(n)], capture_output=True, text=True, check=False)
    if out.returncode < 0:
        return {"N": n, "result": signal.Signals(-out.returncode).name}
    if out.returncode != 0:
        return {"N": n, "result": f"exit {out.returncode}: {out.stderr.strip().splitlines()[-1]}"}
    return json.loads(out.stdout.strip().splitlines()[-1])


def main(argv=None) -> int:
    """Run the plan (or the selected part of it) and print a Markdown table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", nargs="*", help="calls to probe (default: all of the plan)")
    parser.add_argument("--sizes", nargs="*", type=int, help="replace the plan's sizes for the selected calls")
    parser.add_argument("--threads", nargs="*", type=int, help="replace the plan's thread caps")
    parser.add_argument(
        "--guarded", action="store_true", help="call through kssl_theory.backend (the guarded functions)"
    )
    parser.add_argument("--timeout", type=float, default=900.0, help="seconds per probe")
    parser.add_argument("--json", help="also write the rows to this file")
    parser.add_argument(
        "--compare",
        nargs="*",
        type=int,
        metavar="N",
        help="instead of the plan: potrf with 2 threads vs 1 on an RBF Gram matrix of these sizes",
    )
    args = parser.parse_args(argv)
    if args.compare:
        for n in args.compare:
            print(json.dumps(compare_threads(n)), flush=True)
        return 0
    plan = [p for p in DEFAULT_PLAN if not args.only or p[0] in args.only]
    if args.sizes or args.threads:
        calls = list(dict.fromkeys(p[0] for p in plan))
        sizes = args.sizes or sorted({p[1] for p in plan})
        threads = args.threads or sorted({p[2] for p in plan})
        plan = [(c, n, t) for c in calls for n in sizes for t in threads]
    rows = []
    print("| call | N | threads | result | seconds | OpenBLAS architecture |")
    print("|---|---|---|---|---|---|")
    for call, n, threads in plan:
        row = probe(call, n, threads, guarded=args.guarded, timeout=args.timeout)
        rows.append(row)
        arch = ", ".join(sorted({b["architecture"] for b in row.get("blas", [])}))
        print(f"| {call} | {n} | {threads} | {row['result']} | {row['seconds']:.1f} | {arch} |", flush=True)
    blas = next((r["blas"] for r in rows if "blas" in r), None)
    if blas:
        print(f"\nBLAS: {json.dumps(blas)}")
    if args.json:
        with open(args.json, "w") as fh:
            json.dump(rows, fh, indent=1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
