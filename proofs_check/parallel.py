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

import contextlib
import logging

from .engine import BatchResult, Unit, run_batch

__all__ = ["ParallelError", "DaskExecutor", "require_dask", "CONNECT_TIMEOUT"]

#: Seconds to wait for a ``--scheduler`` address to answer (``--connect-timeout``).
CONNECT_TIMEOUT = 5.0

#: Seconds to wait for the client and a local cluster to shut down.
CLOSE_TIMEOUT = 10.0

INSTALL_HINT = "--workers/--scheduler need Dask distributed: pip install 'kssl-theory[distributed]'."


class ParallelError(RuntimeError):
    """Dask is not installed, or the cluster could not be started or reached."""


def require_dask():
    """Import :mod:`distributed`, or raise :class:`ParallelError` naming the extra to install."""
    try:
        import distributed
    except ImportError as exc:
        raise ParallelError(INSTALL_HINT) from exc
    except Exception as exc:  # noqa: BLE001 - a broken installation: say so in one line
        raise ParallelError(f"Dask distributed is installed but cannot be imported ({type(exc).__name__}: "
                            f"{exc}); reinstall it: pip install 'kssl-theory[distributed]'.") from exc
    return distributed


@contextlib.contextmanager
def _quiet_distributed():
    """Silence Dask's loggers (connection-closed warnings and the like) while shutting down."""
    loggers = [logging.getLogger(name) for name in ("distributed", "tornado", "asyncio")]
    levels = [lg.level for lg in loggers]
    for lg in loggers:
        lg.setLevel(logging.CRITICAL + 1)
    try:
        yield
    finally:
        for lg, level in zip(loggers, levels):
            lg.setLevel(level)


def _run_unit(unit: Unit) -> BatchResult:
    return run_batch(unit)


def _symbolic(claim_ids):
    from .registry import get_claim
    from .symbolic import symbolic_marks

    return symbolic_marks([get_claim(i) for i in claim_ids])


class DaskExecutor:
    """Runs batches on Dask; use as a context manager.

    Leaving the context (normally, on an error or on Ctrl-C) cancels the tasks not yet finished
    and closes the client and, for ``workers``, the local cluster.

    Parameters
    ----------
    workers : int, optional
        Start a LocalCluster with this many worker processes (one thread each).
    address : str, optional
        Connect to the scheduler at this address (e.g. ``tcp://10.0.0.5:8786``).
    timeout : float
        Seconds to wait for the scheduler at ``address`` to answer.
    """

    def __init__(self, workers: int | None = None, address: str | None = None, timeout: float = CONNECT_TIMEOUT):
        if (workers is None) == (address is None):
            raise ValueError("give exactly one of workers and address")
        self.workers = workers
        self.address = address
        self.timeout = timeout
        self.client = None
        self.cluster = None
        self._futures = []

    def __enter__(self):
        distributed = require_dask()
        where = f"the Dask scheduler at {self.address!r}" if self.address else "a local Dask cluster"
        try:
            if self.address is not None:
                self.client = distributed.Client(self.address, timeout=self.timeout, set_as_default=False)
            else:
                self.cluster = distributed.LocalCluster(n_workers=self.workers, threads_per_worker=1,
                                                        processes=True, dashboard_address=None,
                                                        silence_logs=logging.ERROR)
                self.client = distributed.Client(self.cluster, set_as_default=False)
        except BaseException as exc:
            self._close(quiet=True)
            if not isinstance(exc, Exception):  # KeyboardInterrupt, SystemExit: after cleaning up
                raise
            text = str(exc).strip() or type(exc).__name__
            if not isinstance(exc, (OSError, TimeoutError, ValueError)):
                text = f"{type(exc).__name__}: {text}"
            raise ParallelError(f"could not connect to {where}: {text}") from exc
        return self

    def __exit__(self, exc_type, exc, tb):
        self._close(quiet=exc_type is not None)
        return False

    def _close(self, quiet: bool) -> None:
        """Cancel unfinished tasks, close the client and the local cluster (quietly after an error)."""
        with _quiet_distributed() if quiet else contextlib.nullcontext():
            client, cluster, futures = self.client, self.cluster, self._futures
            self.client = self.cluster = None
            self._futures = []
            if client is not None:
                pending = [f for f in futures if not f.done()]
                if pending:
                    with contextlib.suppress(Exception):
                        client.cancel(pending)
                with contextlib.suppress(Exception):
                    client.close(timeout=CLOSE_TIMEOUT)
            if cluster is not None:
                with contextlib.suppress(Exception):
                    cluster.close(timeout=CLOSE_TIMEOUT)

    def submit_symbolic(self, claim_ids):
        """Run the SymPy proofs of these claims on the cluster, alongside the batches (a future)."""
        future = self.client.submit(_symbolic, list(claim_ids), pure=False)
        self._futures.append(future)
        return future

    def iter_units(self, units):
        """Submit every unit; yield ``(unit, BatchResult)`` as they finish (any order).

        Stopping early (an exception, Ctrl-C, closing the generator) cancels the unfinished tasks.
        """
        from distributed import as_completed

        planned = {}
        for unit in units:
            future = self.client.submit(_run_unit, unit, pure=False)
            planned[future] = unit
            self._futures.append(future)
        finished = False
        try:
            for future in as_completed(list(planned)):
                yield planned[future], future.result()
            finished = True
        finally:
            if not finished:
                with _quiet_distributed(), contextlib.suppress(Exception):
                    self.client.cancel([f for f in planned if not f.done()])

    def map_units(self, units, progress=None) -> list[BatchResult]:
        """Submit every unit, report progress as they finish, return the results (any order)."""
        results = []
        for unit, result in self.iter_units(units):
            results.append(result)
            if progress:
                progress(unit.claim_id, unit.examples)
        return results
