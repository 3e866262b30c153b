"""Scale-out on Dask distributed: one task per batch, results identical to a serial run.

``--workers N`` starts an embedded :class:`distributed.LocalCluster` of ``N`` single-threaded worker
processes; ``--scheduler ADDRESS`` connects to a running cluster instead. Each batch
(:class:`proofs_check.engine.Unit`, plain data) is submitted as one task; workers import
:mod:`proofs_check` and look the claim up by id, so only claims registered by
:mod:`proofs_check.claims` can run remotely. Batch seeds depend only on the run seed, the claim and
the batch index, and :func:`proofs_check.engine.combine` orders batches by index, so verdicts, counts,
residuals and counterexamples do not depend on where or in which order batches ran.

Robustness: without Dask, :func:`require_dask` names the extra to install; an unreachable
``--scheduler`` fails after ``timeout`` seconds (:data:`CONNECT_TIMEOUT`) with the address in the
message; on Ctrl-C (or any error) leaving :class:`DaskExecutor` cancels the unfinished tasks, stops
local workers without waiting for their running batches and closes the client quietly. Local
workers ignore SIGINT, so a Ctrl-C sent to the whole process group is handled here only.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal

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
    except Exception as exc:
        raise ParallelError(
            f"Dask distributed is installed but cannot be imported ({type(exc).__name__}: "
            f"{exc}); reinstall it: pip install 'kssl-theory[distributed]'."
        ) from exc
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


@contextlib.contextmanager
def _sigint_ignored():
    """Ignore SIGINT meanwhile (main thread only; elsewhere nothing changes).

    Used while the local worker processes start, so that they inherit "ignore": a Ctrl-C in the
    terminal goes to the whole process group, and the workers then leave it to this process, which
    cancels the tasks and stops them, instead of each printing a KeyboardInterrupt traceback. (A
    signal mask would not do: the workers are started from Dask's threads, whose masks are not this
    thread's.) The price: a Ctrl-C during the second or so the workers take to start is ignored.
    Also used while shutting down after a Ctrl-C, so that a second one does not leave the cluster
    half closed.
    """
    try:
        previous = signal.signal(signal.SIGINT, signal.SIG_IGN)
    except (ValueError, AttributeError, OSError):  # not the main thread, or no signals here
        yield
        return
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, signal.default_int_handler if previous is None else previous)


def _quiet_worker_logs(distributed):
    """A worker plugin that keeps local workers' own log records below CRITICAL off the terminal.

    The workers of ``--workers N`` write to this process's stderr. Everything a batch produces
    (results, exceptions) comes back through its future and is reported by the runner, so their
    logs only repeat it, and on Ctrl-C they race the shutdown: a heartbeat that meets the closing
    connection pool logs "Failed to communicate with scheduler" with a traceback. (``silence_logs``
    of :class:`distributed.LocalCluster` sets only the nanny's logger in the worker processes.)
    Registered as a plugin, so a worker the nanny restarts is quiet too.
    """

    class QuietWorkerLogs(distributed.WorkerPlugin):
        def setup(self, worker):
            logging.getLogger("distributed").setLevel(logging.CRITICAL)

    return QuietWorkerLogs()


def _kill_local_workers(cluster, timeout: float = 0.5) -> None:
    """Stop a LocalCluster's worker processes now, without waiting for their running tasks.

    (A graceful close waits about 4 s for a running batch; after Ctrl-C the results are not wanted.)
    """

    async def kill_all():
        nannies = [w for w in list(cluster.workers.values()) if hasattr(w, "kill")]
        await asyncio.gather(
            *(w.kill(timeout=timeout, reason="kssl-verify interrupted") for w in nannies), return_exceptions=True
        )

    cluster.sync(kill_all, callback_timeout=10 * timeout + 5)


def _close_half_made_clients(exc: BaseException, client_cls) -> None:
    """Close a Client whose constructor raised (found in the traceback).

    Otherwise its ``__del__`` tries to close it at interpreter exit, after its event loop has
    stopped: that waits for a timeout and prints an "Exception ignored" traceback.
    """
    tb, seen = exc.__traceback__, set()
    while tb is not None:
        obj = tb.tb_frame.f_locals.get("self")
        if isinstance(obj, client_cls) and id(obj) not in seen:
            seen.add(id(obj))
            with contextlib.suppress(Exception):
                obj.close(timeout=2)
        tb = tb.tb_next


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
        where = (
            f"could not connect to the Dask scheduler at {self.address!r}"
            if self.address
            else f"could not start a local Dask cluster of {self.workers} workers"
        )
        try:
            if self.address is not None:
                self.client = distributed.Client(self.address, timeout=self.timeout, set_as_default=False)
            else:
                with _sigint_ignored():
                    self.cluster = distributed.LocalCluster(
                        n_workers=self.workers,
                        threads_per_worker=1,
                        processes=True,
                        dashboard_address=None,
                        silence_logs=logging.ERROR,
                    )
                self.client = distributed.Client(self.cluster, set_as_default=False)
                self.client.register_plugin(_quiet_worker_logs(distributed), name="kssl-quiet-worker-logs")
        except BaseException as exc:
            _close_half_made_clients(exc, distributed.Client)
            self._close(abort=True)
            if not isinstance(exc, Exception):  # KeyboardInterrupt, SystemExit: after cleaning up
                raise
            text = str(exc).strip() or type(exc).__name__
            if not isinstance(exc, (OSError, TimeoutError, ValueError)):
                text = f"{type(exc).__name__}: {text}"
            raise ParallelError(f"{where}: {text}") from exc
        return self

    def __exit__(self, exc_type, exc, tb):
        self._close(abort=exc_type is not None)
        return False

    def _close(self, abort: bool) -> None:
        """Cancel unfinished tasks, close the client and the local cluster.

        ``abort`` (after an error or Ctrl-C): quietly, and stop local workers without waiting.
        """
        with (
            _quiet_distributed() if abort else contextlib.nullcontext(),
            _sigint_ignored() if abort else contextlib.nullcontext(),
        ):
            timeout = min(CLOSE_TIMEOUT, 5.0) if abort else CLOSE_TIMEOUT
            client, cluster, futures = self.client, self.cluster, self._futures
            self.client = self.cluster = None
            self._futures = []
            if client is not None:
                pending = [f for f in futures if not f.done()]
                if pending:
                    with contextlib.suppress(Exception):
                        client.cancel(pending)
                with contextlib.suppress(Exception):
                    client.close(timeout=timeout)
            if cluster is not None:
                if abort:
                    with contextlib.suppress(Exception):
                        _kill_local_workers(cluster)
                with contextlib.suppress(Exception):
                    cluster.close(timeout=timeout)

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
            for future in as_completed(list(planned), loop=self.client.loop):
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
