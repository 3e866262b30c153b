"""The million-view Nyström run of issue 15: N = 1,000,000 views (250,000 bases x 4), m = 2,000, d = 64.

Streams the solve over row blocks (:func:`kssl_theory.kernel_regime.streaming.solve_streaming`), then embeds
the first 100,000 views, and prints one JSON line: wall seconds per phase and the peak resident memory
(``ru_maxrss``). Usage::

    python benchmarks/million.py                        # the full run (about 10 minutes on 2 cores)
    python benchmarks/million.py --bases 2500           # 10,000 views, seconds
    python benchmarks/million.py --scheduler threads    # the same sums through dask.array

Targets (issue 15, this 2-core 24 GiB machine): < 15 minutes, < 16 GiB peak.
"""

from __future__ import annotations

import argparse
import json
import resource
import sys
import time

import numpy as np


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--bases", type=int, default=250_000, help="base samples (4 views each); default 250000")
    parser.add_argument("--landmarks", type=int, default=2000, help="Nystrom landmarks m; default 2000")
    parser.add_argument("--dim", type=int, default=64, help="embedding dimension d; default 64")
    parser.add_argument("--block-rows", type=int, default=8192, help="rows per block; default 8192")
    parser.add_argument("--scheduler", default=None, help="Dask scheduler (threads, processes, or an address)")
    args = parser.parse_args(argv)

    import kssl_theory as kt
    from kssl_theory.kernel_regime.streaming import solve_streaming

    rng = np.random.default_rng(0)
    views = 4
    base = rng.normal(size=(args.bases, 8))
    X = np.repeat(base, views, axis=0) + 0.3 * rng.normal(size=(args.bases * views, 8))
    groups = np.repeat(np.arange(args.bases), views)
    kernel = kt.kernels.get_kernel("rbf", bandwidth=3.0)
    t0 = time.perf_counter()
    sol = solve_streaming(
        "contrastive",
        kernel,
        X,
        groups,
        args.dim,
        n_landmarks=args.landmarks,
        block_rows=args.block_rows,
        scheduler=args.scheduler,
        reg=0.1,
    )
    t_fit = time.perf_counter() - t0
    t1 = time.perf_counter()
    Z = sol.transform(X[:100_000])
    t_embed = time.perf_counter() - t1
    info = {
        "N": int(X.shape[0]),
        "m": args.landmarks,
        "d": args.dim,
        "block_rows": args.block_rows,
        "scheduler": args.scheduler,
        "fit_seconds": round(t_fit, 1),
        "embed_100k_seconds": round(t_embed, 1),
        "peak_rss_gib": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20, 2),
        "relative_trace_error": sol.relative_trace_error,
        "dropped_trace": sol.dropped_trace,
        "loss": sol.loss,
        "is_unique": bool(sol.is_unique),
        "embedding_shape": list(Z.shape),
    }
    print(json.dumps(info))
    return 0


if __name__ == "__main__":
    sys.exit(main())
