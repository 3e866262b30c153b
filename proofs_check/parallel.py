"""Scale-out on Dask distributed: one task per batch, results identical to a serial run.

``--workers N`` starts an embedded :class:`distributed.LocalCluster` of ``N`` single-threaded worker
processes; ``--scheduler ADDRESS`` connects to a running cluster instead. Each batch
(:class:`proofs_check.engine.Unit`, plain data) is submitted as one task; workers import
:mod:`proofs_check` and look the claim up by id, so only claims registered by
:mod:`proofs_check.claims` can run remotely. Batch seeds depend only on the run seed, the claim and
the batch index, and :func:`proofs_check.engine.combine` orders batches by index, so verdicts, counts,
residuals and counterexamples do not depend on where or in which order batches ran.
"""

from __future__ import annotations

import logging

from .engine import BatchResult, Unit, run_batch

__all__ = ["ParallelError", "DaskExecutor"]


class ParallelError(RuntimeError):
    """Dask is not installed, or the cluster could not be started or reached."""


def _run_unit(unit: Unit) -> BatchResult:
    return run_batch(unit)


def _symbolic(claim_ids):
    from .registry import get_claim
    from .symbolic import symbolic_marks

    return symbolic_marks([get_claim(i) for i in claim_ids])


class DaskExecutor:
    """Runs batches on Dask; use as a context manager.

    Parameters
    ----------
    workers : int, optional
        Start a LocalCluster with this many worker processes (one thread each).
    address : str, optional
        Connect to the scheduler at this address (e.g. ``tcp://10.0.0.5:8786``).
    """

    def __init__(self, workers: int | None = None, address: str | None = None, timeout: float = 20.0):
        if (workers is None) == (address is None):
            raise ValueError("give exactly one of workers and address")
        self.workers = workers
        self.address = address
        self.timeout = timeout
        self.client = None
        self.cluster = None

    def __enter__(self):
        try:
            from distributed import Client, LocalCluster
        except ImportError as exc:
            raise ParallelError(
                "--workers/--scheduler need Dask distributed: pip install 'kssl-theory[distributed]'."
            ) from exc
        try:
            if self.address is not None:
                self.client = Client(self.address, timeout=self.timeout)
            else:
                self.cluster = LocalCluster(n_workers=self.workers, threads_per_worker=1, processes=True,
                                            dashboard_address=None, silence_logs=logging.ERROR)
                self.client = Client(self.cluster)
        except (OSError, TimeoutError, ValueError) as exc:
            self.__exit__(None, None, None)
            where = f"the Dask scheduler at {self.address!r}" if self.address else "a local Dask cluster"
            raise ParallelError(f"could not connect to {where}: {exc}") from exc
        return self

    def __exit__(self, *exc):
        if self.client is not None:
            self.client.close()
        if self.cluster is not None:
            self.cluster.close()
        self.client = self.cluster = None
        return False

    def submit_symbolic(self, claim_ids):
        """Run the SymPy proofs of these claims on the cluster, alongside the batches (a future)."""
        return self.client.submit(_symbolic, list(claim_ids), pure=False)

    def map_units(self, units, progress=None) -> list[BatchResult]:
        """Submit every unit, report progress as they finish, return the results (any order)."""
        from distributed import as_completed

        planned = {self.client.submit(_run_unit, unit, pure=False): unit for unit in units}
        results = []
        for future in as_completed(list(planned)):
            results.append(future.result())
            if progress:
                unit = planned[future]
                progress(unit.claim_id, unit.examples)
        return results
