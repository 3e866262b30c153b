r"""Run claims: Hypothesis over parameter dicts, shrunk counterexamples, verdicts, replay.

The unit of work is a **batch**: one Hypothesis run of at most :data:`BATCH_SIZE` examples of one
claim, seeded by ``(seed, claim id, batch index)`` only. A claim with ``N`` examples is
``ceil(N / BATCH_SIZE)`` batches; batches are independent, so they can run anywhere (serially,
on local processes, on a Dask cluster) and :func:`combine` gives the same result from the same
batches whatever ran them.

Inside a batch Hypothesis draws parameter dicts from the claim's strategy and calls the claim's
check. For an **exact** claim a failing check raises, Hypothesis shrinks the failure to a minimal
parameter dict and replays it last; a closure records every failing call, so the last one recorded
is the shrunk counterexample. For a **statistical** claim failures are recorded, not raised: each
example is one Bernoulli trial.

Combining batches
-----------------
Exact: the batches up to and including the first failing one (in batch order) count; the
counterexample is that batch's. Statistical: all distinct trials count (batches may draw the same
parameter dict; duplicates are counted once), and the claim *meets its confidence* unless a
one-sided binomial test rejects "success probability >= rate" at level ``1 - confidence``.
Refuted claims also replay their recorded counterexamples (batch 0).
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import math
import signal
import threading
import time
import traceback
import warnings
from dataclasses import asdict, dataclass, field

from hypothesis import HealthCheck, Phase, Verbosity, given, settings
from hypothesis import seed as hypothesis_seed
from hypothesis.errors import Flaky, HypothesisDeprecationWarning, UnsatisfiedAssumption

from .checking import Checker, Context
from .registry import Claim, get_claim
from .symbolic import FAILED, NONE

__all__ = [
    "BATCH_SIZE",
    "Unit",
    "BatchResult",
    "ClaimResult",
    "plan",
    "run_batch",
    "combine",
    "run_claims",
    "RunInterrupted",
    "replay",
    "unit_seed",
]

#: Examples per batch (fixed, so the split of a claim into batches never depends on the workers).
BATCH_SIZE = 50

#: Failing trials of a statistical claim kept for the report.
KEEP_TRIALS = 3


def unit_seed(seed: int, claim_id: str, batch: int) -> int:
    """The Hypothesis seed of one batch: a hash of the run seed, the claim id and the batch index."""
    digest = hashlib.sha256(f"{seed}:{claim_id}:{batch}".encode()).digest()
    return int.from_bytes(digest[:8], "little")


@dataclass(frozen=True)
class Unit:
    """One batch to run: everything a worker needs, as plain data."""

    claim_id: str
    batch: int
    examples: int
    seed: int
    backend: str = "numpy"
    dtype: str = "float64"


@dataclass
class BatchResult:
    """Outcome of one batch (plain data, JSON-serialisable)."""

    claim_id: str
    batch: int
    examples: int = 0
    passed: int = 0
    failed: bool = False
    successes: int = 0
    trials: int = 0
    worst_ratio: float = 0.0
    worst_check: str = ""
    counterexample: dict | None = None
    failure: dict | None = None
    failing_trials: list = field(default_factory=list)
    trial_keys: list = field(default_factory=list)
    recorded: list = field(default_factory=list)
    error: str | None = None
    seconds: float = 0.0


@dataclass
class ClaimResult:
    """Verdict on one claim, combined from its batches."""

    id: str
    title: str
    source: str
    kind: str
    status: str
    verdict: str
    ok: bool
    examples_passed: int
    examples_total: int
    worst_ratio: float
    worst_check: str
    seconds: float
    batches: int
    counterexample: dict | None = None
    failure: dict | None = None
    error: str | None = None
    successes: int = 0
    trials: int = 0
    rate: float | None = None
    confidence: float | None = None
    p_value: float | None = None
    rate_lower: float | None = None
    failing_trials: list = field(default_factory=list)
    recorded: list = field(default_factory=list)
    symbolic: str = NONE
    symbolic_detail: str = ""

    @property
    def passed(self) -> bool:
        """The one pass rule: the claim behaves as registered and its symbolic proof, if any, did not fail."""
        return self.ok and self.symbolic != FAILED

    def as_dict(self) -> dict:
        d = asdict(self)
        for key in ("worst_ratio", "p_value", "rate_lower"):
            v = d[key]
            if isinstance(v, float) and not math.isfinite(v):
                d[key] = "inf" if v > 0 else "nan"
        return d


def all_passed(results) -> bool:
    """Whether a run passes: every result :attr:`ClaimResult.passed`."""
    return all(r.passed for r in results)


def plan(claims, *, max_examples: int | None, seed: int, backend: str, dtype: str) -> list[Unit]:
    """Split every claim into batches of at most :data:`BATCH_SIZE` examples."""
    units = []
    for claim in claims:
        total = max(1, int(max_examples if max_examples is not None else claim.examples))
        for b in range(math.ceil(total / BATCH_SIZE)):
            count = min(BATCH_SIZE, total - b * BATCH_SIZE)
            units.append(Unit(claim.id, b, count, unit_seed(seed, claim.id, b), backend, dtype))
    return units


def _jsonable(params):
    """A deep copy of ``params`` through JSON (fails loudly if a strategy drew something odd)."""
    return json.loads(json.dumps(params))


def params_key(params) -> str:
    """A short stable hash of a parameter dict (to count distinct statistical trials)."""
    return hashlib.sha256(json.dumps(params, sort_keys=True).encode()).hexdigest()[:16]


def _where(frames) -> str:
    """`` (at package/module.py:line)`` of the innermost frame outside site-packages (or the innermost)."""
    if not frames:
        return ""
    own = [f for f in frames if "site-packages" not in f.filename] or frames
    frame = own[-1]
    parts = frame.filename.replace("\\", "/").split("/")
    return f" (at {'/'.join(parts[-2:])}:{frame.lineno})"


def evaluate(claim: Claim, params: dict, ctx: Context) -> tuple[Checker, str | None]:
    """Run the claim's check once; return the checker and the error text if the check raised."""
    chk = Checker()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            claim.check(params, ctx, chk)
        except UnsatisfiedAssumption:
            raise
        except Exception as exc:
            where = _where(traceback.extract_tb(exc.__traceback__))
            return chk, f"{type(exc).__name__}: {exc}{where}"
    return chk, None


def _failure_record(chk: Checker, error: str | None) -> dict:
    record = {"failed_checks": [it.as_dict() for it in chk.failures]}
    if error:
        record["error"] = error
    if chk.info:
        record["info"] = {k: (v if isinstance(v, (int, float, str, bool)) else repr(v)) for k, v in chk.info.items()}
    return record


def _single_threaded_blas():
    """Limit BLAS/OpenMP to one thread (threadpoolctl, when installed).

    Dask workers run with one BLAS thread; a serial run must too, or matrix products sum in a
    different order and residuals differ in their last digits between serial and parallel runs.
    Tiny matrices are also faster on one thread.
    """
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:
        return contextlib.nullcontext()
    return threadpool_limits(limits=1)


@contextlib.contextmanager
def _without_local_constants():
    """Keep Hypothesis from mixing literals of the importing process's own modules into generation.

    Hypothesis (6.1xx) draws, with probability 0.05 per choice, constants found in the source of the
    non-site-packages modules currently imported. Which modules those are differs between a pytest
    process, the CLI and a Dask worker, so the same seed would give different examples. Only the
    global constant pool is kept. (An internal hook: if Hypothesis drops it, nothing is patched.)
    """
    try:
        from hypothesis.internal.conjecture import providers

        original = providers._get_local_constants
        empty = providers.Constants()
        cache = providers.CONSTANTS_CACHE.cache
    except (ImportError, AttributeError):
        yield
        return
    providers._get_local_constants = lambda: empty
    cache.clear()
    try:
        yield
    finally:
        providers._get_local_constants = original
        cache.clear()


def run_batch(unit: Unit, claim: Claim | None = None) -> BatchResult:
    """Run one batch with Hypothesis, on one BLAS thread; see the module docstring."""
    with _single_threaded_blas(), _without_local_constants(), warnings.catch_warnings():
        # Dask's event-loop threads touch the global `random` module while Hypothesis generates
        # data in a worker; the strategies themselves never use it.
        warnings.filterwarnings("ignore", category=HypothesisDeprecationWarning)
        return _run_batch(unit, claim)


def _run_batch(unit: Unit, claim: Claim | None) -> BatchResult:
    claim = claim or get_claim(unit.claim_id)
    ctx = Context(unit.backend, unit.dtype)
    result = BatchResult(unit.claim_id, unit.batch)
    statistical = claim.kind == "statistical"
    state = {"first_failure_seen": False}

    def prop(params):
        _check_stop()
        chk, error = evaluate(claim, params, ctx)
        ok = chk.ok and error is None
        worst = chk.worst
        ratio = math.inf if error else (worst.ratio if worst else 0.0)
        if statistical:
            result.trials += 1
            result.examples += 1
            result.trial_keys.append([params_key(params), ok])
            if ok:
                result.successes += 1
                result.passed += 1
            elif len(result.failing_trials) < KEEP_TRIALS:
                result.failing_trials.append({"params": _jsonable(params), **_failure_record(chk, error)})
            return
        if ok:
            if not state["first_failure_seen"]:
                result.examples += 1
                result.passed += 1
                if ratio > result.worst_ratio or not result.worst_check:
                    result.worst_ratio = ratio
                    result.worst_check = worst.name if worst else ""
            return
        if not state["first_failure_seen"]:
            state["first_failure_seen"] = True
            result.examples += 1
        result.counterexample = _jsonable(params)
        result.failure = _failure_record(chk, error)
        result.worst_ratio = ratio
        result.worst_check = "error" if error else worst.name
        raise AssertionError(error or f"{worst.name}: residual {worst.residual:.3g} > tol {worst.tol:.3g}")

    test = given(claim.strategy)(prop)
    # Parent is Hypothesis's built-in default profile, not whatever profile the caller loaded (a
    # pytest conftest, say): a batch must generate the same examples wherever it runs.
    test = settings(
        settings.get_profile("default"),
        max_examples=unit.examples,
        derandomize=False,
        database=None,
        deadline=None,
        verbosity=Verbosity.quiet,
        phases=(Phase.generate, Phase.shrink),
        report_multiple_bugs=False,
        print_blob=False,
        suppress_health_check=[
            HealthCheck.too_slow,
            HealthCheck.data_too_large,
            HealthCheck.large_base_example,
            HealthCheck.filter_too_much,
        ],
    )(test)
    test = hypothesis_seed(unit.seed)(test)
    start = time.perf_counter()
    if unit.batch == 0:
        for params in claim.counterexamples:
            _check_stop()
            chk, error = replay(claim, params, ctx)
            result.recorded.append(
                {
                    "params": _jsonable(params),
                    "reproduces": not (chk.ok and error is None),
                    **_failure_record(chk, error),
                }
            )
    try:
        test()
    except Flaky as exc:
        result.failed = True
        result.error = f"flaky: the failure did not reproduce on replay ({type(exc).__name__})"
    except AssertionError:
        result.failed = True
    except Exception as exc:
        if result.counterexample is not None:
            result.failed = True
        else:
            result.error = f"{type(exc).__name__}: {exc}".strip()
    result.seconds = time.perf_counter() - start
    return result


def _binomial(successes: int, trials: int, rate: float, confidence: float):
    """One-sided p-value of "p >= rate" and the Clopper–Pearson lower bound at ``confidence``."""
    from scipy import stats

    p_value = float(stats.binom.cdf(successes, trials, rate)) if trials else 1.0
    alpha = 1 - confidence
    lower = float(stats.beta.ppf(alpha, successes, trials - successes + 1)) if successes > 0 else 0.0
    return p_value, lower


def combine(claim: Claim, batches: list[BatchResult]) -> ClaimResult:
    """Combine a claim's batch results (any order) into its verdict; see the module docstring."""
    batches = sorted(batches, key=lambda b: b.batch)
    errors = [b for b in batches if b.error and not b.failed]
    if claim.kind == "exact":
        used = []
        for b in batches:
            used.append(b)
            if b.failed or b.error:
                break
    else:
        used = batches
    res = ClaimResult(
        id=claim.id,
        title=claim.title,
        source=claim.source,
        kind=claim.kind,
        status=claim.status,
        verdict="",
        ok=False,
        examples_passed=sum(b.passed for b in used),
        examples_total=sum(b.examples for b in used),
        worst_ratio=max((b.worst_ratio for b in used), default=0.0),
        worst_check="",
        seconds=sum(b.seconds for b in used),
        batches=len(used),
        rate=claim.rate,
        confidence=claim.confidence,
    )
    top = max(used, key=lambda b: b.worst_ratio, default=None)
    res.worst_check = top.worst_check if top else ""
    failing = next((b for b in used if b.failed), None)
    if failing is not None:
        res.counterexample = failing.counterexample
        res.failure = failing.failure
        if failing.error:
            res.error = failing.error
    res.recorded = [r for b in batches for r in b.recorded]
    if claim.kind == "statistical":
        outcome = {}
        for b in used:
            for key, ok in b.trial_keys:
                outcome.setdefault(key, ok)
        res.successes = sum(outcome.values())
        res.trials = len(outcome)
        res.examples_passed, res.examples_total = res.successes, res.trials
        res.failing_trials = [t for b in used for t in b.failing_trials][:KEEP_TRIALS]
        res.p_value, res.rate_lower = _binomial(res.successes, res.trials, claim.rate, claim.confidence)
        if errors:
            res.verdict, res.ok, res.error = "error", False, errors[0].error
        elif res.p_value < 1 - claim.confidence:
            res.verdict, res.ok = "below its rate", False
        else:
            res.verdict, res.ok = "meets its rate", True
        return res
    engine_error = next((b.error for b in used if b.error and not b.failed), None)
    if engine_error:
        res.verdict, res.ok, res.error = "error", False, engine_error
    elif claim.status == "refuted":
        found = failing is not None and failing.counterexample is not None
        if found or any(r["reproduces"] for r in res.recorded):
            res.verdict, res.ok = "refuted (as registered)", True
        else:
            res.verdict, res.ok = "NOT refuted (expected a counterexample)", False
    elif failing is not None:
        res.verdict, res.ok = "FAILS", False
    else:
        res.verdict, res.ok = "holds", True
    return res


class RunInterrupted(KeyboardInterrupt):
    """:func:`run_claims` was interrupted (Ctrl-C); the claims that finished are kept.

    A subclass of :class:`KeyboardInterrupt`, so code that does not care still sees an interrupt.

    Attributes
    ----------
    results : list of ClaimResult
        The claims that finished before the interrupt, in the order given to :func:`run_claims`.
    not_run : list of str
        The ids of the claims that did not finish (not started, or interrupted part-way).
    """

    def __init__(self, results, not_run):
        super().__init__(f"interrupted after {len(results)} of {len(results) + len(not_run)} claims")
        self.results = list(results)
        self.not_run = list(not_run)


def _claim_finished(claim: Claim, n_batches: int, got: dict) -> bool:
    """Whether a claim's verdict is final given the batches returned so far (``got``: index -> batch).

    Every batch must be in; an exact claim is also final once batches ``0..k`` are in and batch ``k``
    failed (:func:`combine` ignores the batches after the first failure).
    """
    if claim.kind == "exact":
        for b in range(n_batches):
            batch = got.get(b)
            if batch is None:
                return False
            if batch.failed or batch.error:
                return True
        return True
    return len(got) == n_batches


#: Set by the SIGINT handler of a serial :func:`run_claims`; checked before every example.
_STOP = threading.Event()


@contextlib.contextmanager
def _graceful_sigint():
    """While a serial run goes on, the first SIGINT asks it to stop instead of raising at once.

    A KeyboardInterrupt raised at an arbitrary point lands, now and then, inside Hypothesis's own
    machinery, which swallows it (a garbage-collector callback prints "Exception ignored ...
    KeyboardInterrupt" and carries on) or turns it into a spurious failure. So the first Ctrl-C
    only sets :data:`_STOP`, and the property raises KeyboardInterrupt itself before its next
    example, which Hypothesis passes through cleanly: the run stops within one example. A second
    Ctrl-C interrupts at once, for an example that hangs. Only in the main thread, and only over a
    Python-level handler (an ignored SIGINT stays ignored).
    """
    _STOP.clear()
    previous = None
    if threading.current_thread() is threading.main_thread():
        try:
            previous = signal.getsignal(signal.SIGINT)
        except (AttributeError, ValueError):
            previous = None
    if not callable(previous):
        try:
            yield
        finally:
            _STOP.clear()
        return

    def handler(signum, frame):
        if _STOP.is_set():
            previous(signum, frame)
        _STOP.set()

    signal.signal(signal.SIGINT, handler)
    try:
        yield
    finally:
        if signal.getsignal(signal.SIGINT) is handler:
            signal.signal(signal.SIGINT, previous)
        _STOP.clear()


def _check_stop() -> None:
    if _STOP.is_set():
        raise KeyboardInterrupt


def run_claims(
    claims,
    *,
    max_examples=None,
    seed=0,
    backend="numpy",
    dtype="float64",
    executor=None,
    progress=None,
    on_claim=None,
    units=None,
) -> list[ClaimResult]:
    """Run ``claims`` and return their results in the order given.

    ``executor`` is ``None`` (serial, in this process) or an object with
    ``iter_units(units)`` yielding ``(unit, BatchResult)`` pairs as batches finish, or
    ``map_units(units, callback) -> list[BatchResult]`` (:mod:`proofs_check.parallel`).
    ``progress(claim_id, examples)`` is called as batches finish; ``on_claim(result)`` as soon as a
    claim's verdict is final. ``units`` is the plan when the caller already computed it
    (:func:`plan` with the same arguments); otherwise it is computed here.

    On :class:`KeyboardInterrupt` raises :class:`RunInterrupted`, which carries the results of
    the claims that finished. Serially, the first Ctrl-C stops the run before the next example
    (see :func:`_graceful_sigint`); a second one interrupts at once.
    """
    claims = list(claims)
    if units is None:
        units = plan(claims, max_examples=max_examples, seed=seed, backend=backend, dtype=dtype)
    by_id = {c.id: c for c in claims}
    n_batches = {c.id: 0 for c in claims}
    for unit in units:
        n_batches[unit.claim_id] += 1
    got: dict[str, dict[int, BatchResult]] = {c.id: {} for c in claims}
    done: dict[str, ClaimResult] = {}

    def add(batch: BatchResult) -> None:
        cid = batch.claim_id
        got[cid][batch.batch] = batch
        if cid not in done and _claim_finished(by_id[cid], n_batches[cid], got[cid]):
            done[cid] = combine(by_id[cid], list(got[cid].values()))
            if on_claim:
                on_claim(done[cid])

    try:
        if executor is None:
            with _graceful_sigint():
                for unit in units:
                    if unit.claim_id not in done:
                        _check_stop()
                        batch = run_batch(unit, by_id[unit.claim_id])
                        _check_stop()  # a stop asked for during the batch voids it
                        add(batch)
                    if progress:
                        progress(unit.claim_id, unit.examples)
        elif hasattr(executor, "iter_units"):
            for unit, batch in executor.iter_units(units):
                if batch.claim_id not in done:
                    add(batch)
                if progress:
                    progress(unit.claim_id, unit.examples)
        else:
            for batch in executor.map_units(units, progress):
                add(batch)
    except KeyboardInterrupt as exc:
        finished = [done[c.id] for c in claims if c.id in done]
        raise RunInterrupted(finished, [c.id for c in claims if c.id not in done]) from exc
    return [done[c.id] for c in claims]


def replay(claim: Claim, params: dict, ctx: Context) -> tuple[Checker, str | None]:
    """Re-run a claim's check on one parameter dict (e.g. a counterexample from a report)."""
    try:
        return evaluate(claim, params, ctx)
    except UnsatisfiedAssumption:
        chk = Checker()
        return chk, "the parameters violate the claim's assumptions (hypothesis.assume rejected them)"
