"""Command line: ``python -m proofs_check`` / ``kssl-verify``.

Runs the registered claims of docs/theory.md §2–§6, shows a progress bar (stderr) and a result table
(stdout, cut to the terminal's width), writes the Markdown and JSON reports (saying on stderr
where), and exits with status 0 iff every claim behaves as registered: every exact claim holds,
every statistical claim meets its rate, every refuted statement is still refuted, and no symbolic
proof fails. Status 1 means some claim does
not; status 2 is a usage error (unknown claim id, unavailable backend or optional dependency,
unwritable report path, unreachable cluster, unreadable replay file), reported in one line before
any claim runs. Ctrl-C (SIGINT) stops the run: the claims finished so far are printed and written to
the reports, which are marked INCOMPLETE (``"complete": false`` and ``"not_run"`` in the JSON), and
the status is 130.

Progress goes to stderr: a tqdm bar on a terminal, otherwise (CI logs, pipes) one line per claim.

Reports. A run of every claim writes ``verification-report.md`` and ``.json``. A run of a selection
(``--claims``) without ``--report`` writes ``verification-report-<selection>.md`` and ``.json``
(``--claims 'KR-O1-*'``: ``verification-report-KR-O1-x.md``), so it never replaces the full report;
its report says in its title and first lines that it is a partial run, of which claims. ``--report
PATH`` writes exactly there.

Examples. The progress line announces the examples *planned* (``--max-examples`` or each claim's
default, per claim); the summary and the report count the examples *checked*. They differ where an
exact claim stopped at its first counterexample (every refuted statement does: Hypothesis stops
searching once it has one, then shrinks it), where a statistical claim drew the same instance in two
batches (each distinct instance counts once), or where Hypothesis found fewer distinct valid
instances than asked; the summary gives each reason with its count.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import shlex
import shutil
import sys
import textwrap
import time
from pathlib import Path

from .checking import BACKENDS, DTYPES, BackendError, Context, resolve_backend
from .registry import ClaimError, all_claims, get_claim, select
from .report import DEFAULT_REPORT, plural

__all__ = ["main", "build_parser"]

EXIT_OK, EXIT_FAIL, EXIT_USAGE = 0, 1, 2


class UsageError(Exception):
    """A problem with the command line or the environment, reported in one line (exit status 2)."""


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="kssl-verify",
        description="Check every claim of docs/theory.md §2–§6 against the kssl_theory package: Hypothesis draws "
        "random instances, independent oracles give the expected answers.",
        epilog="Exit status: 0 all claims behave as registered, 1 some do not, 2 usage error, 130 interrupted "
        "(Ctrl-C; the report of the claims that finished is written, marked INCOMPLETE). Where the reports "
        "were written is printed on stderr.",
    )
    p.add_argument("--list", action="store_true", help="list the registered claims and exit")
    p.add_argument("--claims", nargs="+", metavar="PATTERN", help="claim ids or glob patterns (e.g. 'KR-O1-*')")
    p.add_argument(
        "--max-examples",
        type=int,
        metavar="N",
        help="examples planned per claim (default: each claim's own); an exact claim stops at its first counterexample",
    )
    p.add_argument("--seed", type=int, default=0, metavar="S", help="run seed (default 0)")
    p.add_argument("--backend", choices=BACKENDS, default=None, help="array backend for the package (default numpy)")
    p.add_argument("--dtype", choices=DTYPES, default=None, help="floating dtype (default float64)")
    p.add_argument(
        "--report",
        default=None,
        metavar="PATH",
        help=f"write PATH.md and PATH.json (default {DEFAULT_REPORT} for a run of every claim; with --claims, "
        "verification-report-SELECTION.md, e.g. verification-report-KR-O1-x.md, so that a partial run never "
        "replaces the full report)",
    )
    p.add_argument("--no-report", action="store_true", help="do not write the reports")
    group = p.add_mutually_exclusive_group()
    group.add_argument("--workers", type=int, metavar="N", help="run batches on N local processes (Dask LocalCluster)")
    group.add_argument("--scheduler", metavar="ADDRESS", help="submit batches to a running Dask scheduler")
    p.add_argument(
        "--connect-timeout",
        type=float,
        default=5.0,
        metavar="S",
        help="seconds to wait for the --scheduler to answer (default 5)",
    )
    p.add_argument(
        "--replay",
        metavar="FILE",
        help="re-run the counterexample(s) in FILE (a report .json or one {'claim', 'params'} object)",
    )
    p.add_argument("--no-symbolic", action="store_true", help="skip the SymPy proofs (symbolic column '–')")
    p.add_argument("--no-progress", action="store_true", help="no progress output on stderr")
    return p


def _list(out) -> int:
    from .report import truncate

    claims = all_claims()
    width = max(len(c.id) for c in claims)
    columns = max(shutil.get_terminal_size().columns, width + 16)
    for c in claims:
        flag = "refuted " if c.status == "refuted" else ("stat.   " if c.kind == "statistical" else "exact   ")
        # the title is cut to the terminal's width, as in the result table
        print(truncate(f"{c.id.ljust(width)}  {c.section:3s} {flag} {c.title}", columns), file=out)
    n_ref = sum(c.status == "refuted" for c in claims)
    n_stat = sum(c.kind == "statistical" for c in claims)
    total = (
        f"\n{plural(len(claims), 'claim')} ({len(claims) - n_stat} exact, {n_stat} statistical; "
        f"{plural(n_ref, 'statement')} of the original specification registered as refuted, with corrected claims)"
    )
    print(_wrap(total, columns), file=out)
    return EXIT_OK


def _check_report_path(path: str) -> None:
    """Fail now, before any claim runs, if either report file cannot be written."""
    from kssl_theory.errors import OutputError
    from kssl_theory.output_files import check_writable

    from .report import report_paths

    for target in report_paths(path):
        try:
            check_writable(target, "the report")
        except OutputError as exc:
            raise UsageError(str(exc)) from exc


def _is_tty(stream) -> bool:
    try:
        return bool(stream.isatty())
    except (AttributeError, ValueError, OSError):
        return False


def _columns(stream) -> int:
    try:
        return os.get_terminal_size(stream.fileno()).columns
    except (AttributeError, ValueError, OSError, io.UnsupportedOperation):
        return 0


class _Progress:
    """Progress on stderr: a tqdm bar on a terminal; one line per finished claim otherwise.

    Off a terminal (CI logs, pipes) a bar would write carriage-return frames, so a run prints one
    start line and one line per claim instead. ``enabled=False`` (``--no-progress``) prints nothing.
    """

    def __init__(self, n_claims: int, total_examples: int, *, enabled: bool, stream=None):
        self.stream = sys.stderr if stream is None else stream
        self.n_claims = n_claims
        self.total = total_examples
        self.done = 0
        self.bar = None
        self.lines = enabled and not _is_tty(self.stream)
        if enabled and not self.lines:
            from tqdm import tqdm

            # A pseudo-terminal without a size (some containers, CI runners) reports 0 x 0, and tqdm
            # would then draw nothing: assume 80 x 20 there.
            sized = _columns(self.stream) > 0
            self.bar = tqdm(
                total=total_examples,
                unit="ex",
                file=self.stream,
                dynamic_ncols=sized,
                ncols=None if sized else 80,
                nrows=None if sized else 20,
                leave=False,
                mininterval=0.2,
                desc="kssl-verify",
            )

    def _say(self, text: str) -> None:
        try:
            print(f"kssl-verify: {text}", file=self.stream, flush=True)
        except (OSError, ValueError):  # stderr closed or a broken pipe: progress is not worth failing for
            self.lines = False

    def start(self, execution: str) -> None:
        if self.lines:
            self._say(
                f"running {plural(self.n_claims, 'claim')}, up to {plural(self.total, 'example')} ({execution}; "
                "a claim stops at its first counterexample)"
            )

    def update(self, claim_id: str, examples: int) -> None:
        if self.bar is not None:
            self.bar.set_postfix_str(claim_id, refresh=False)
            self.bar.update(examples)

    def claim_done(self, result, planned: int | None = None) -> None:
        from .report import shortfall_reason

        self.done += 1
        if self.lines:
            why = shortfall_reason(result, planned)
            examples = (
                f"{result.examples_total} of {plural(planned, 'example')}: {why};"
                if why and planned is not None
                else plural(result.examples_total, "example") + ","
            )
            head = f"[{self.done}/{self.n_claims}] {result.id}: {result.verdict}"
            self._say(f"{head} ({examples} {result.seconds:.1f} s)")

    def close(self) -> None:
        if self.bar is not None:
            bar, self.bar = self.bar, None
            bar.close()


INTERRUPTED = "the run was interrupted (Ctrl-C)"


def _execute(args, claims, units, backend, dtype, execution, parallel, progress, on_claim):
    """Run the planned ``units``; return ``(marks or None, interrupted)``; results arrive through ``on_claim``."""
    from . import engine

    options = dict(
        max_examples=args.max_examples,
        seed=args.seed,
        backend=backend,
        dtype=dtype,
        progress=progress.update,
        on_claim=on_claim,
        units=units,
    )
    if not parallel:
        try:
            progress.start(execution)
            engine.run_claims(claims, **options)
        except KeyboardInterrupt:
            return None, True
        return None, False

    from .parallel import DaskExecutor, ParallelError

    marks, interrupted = None, False
    try:
        with DaskExecutor(
            workers=None if args.scheduler else args.workers, address=args.scheduler, timeout=args.connect_timeout
        ) as ex:
            progress.start(execution)
            pending = None if args.no_symbolic else ex.submit_symbolic([c.id for c in claims])
            try:
                engine.run_claims(claims, executor=ex, **options)
                marks = pending.result() if pending is not None else None
            except KeyboardInterrupt:
                if pending is not None and pending.status == "finished":
                    marks = pending.result()
                raise  # leaving the context cancels the unfinished tasks and closes the cluster quietly
    except KeyboardInterrupt:  # also while the cluster starts or shuts down
        interrupted = True
    except ParallelError as exc:
        raise UsageError(str(exc)) from exc
    return marks, interrupted


def _symbolic_column(args, claims, marks, interrupted):
    """The one place the symbolic marks are decided: ``(marks, interrupted)``.

    ``marks`` are those the Dask workers computed (``None`` when serial or not finished); serially they
    are computed here, after the numeric checks. ``--no-symbolic`` and an interrupted run mark every
    claim ``–`` with the reason.
    """
    from .symbolic import NONE, symbolic_marks

    if args.no_symbolic:
        return {c.id: (NONE, "skipped (--no-symbolic)") for c in claims}, interrupted
    if marks is None and not interrupted:
        try:
            return symbolic_marks(claims), interrupted
        except KeyboardInterrupt:
            interrupted = True
    if marks is None:
        marks = {c.id: (NONE, "not checked: the run was interrupted") for c in claims}
    return marks, interrupted


def _summary(results, claims, not_run, wall, interrupted, planned=None, selection=None) -> str:
    """The closing lines of the terminal output: counts, the verdict, what did not run.

    ``planned`` (claim id -> examples planned) adds the line that reconciles the examples checked
    with those announced by the progress line; ``selection`` (``{"patterns", "selected",
    "registered"}``) says how many of the registered claims a partial run left out.
    """
    from .engine import all_passed
    from .report import examples_account

    bad = [r.id for r in results if not r.passed]
    n_ref = sum(r.status == "refuted" for r in results)
    checked, planned_total, reasons = examples_account(results, planned)
    if all_passed(results):
        verdict = "all behave as registered" if len(results) != 1 else "it behaves as registered"
    else:
        verdict = f"{len(bad)} {'does' if len(bad) == 1 else 'do'} not behave as registered: {', '.join(bad)}"
    summary = (
        f"\n{plural(len(results), 'claim')}, {plural(checked, 'example')} checked, {wall:.1f} s: {verdict}"
        + (f" ({plural(n_ref, 'statement')} of the original specification refuted, as registered)" if n_ref else "")
        + "."
    )
    if planned_total is not None and planned_total != checked:
        summary += f"\n{checked} of {plural(planned_total, 'planned example')} checked: " + "; ".join(reasons) + "."
    if selection and selection["selected"] < selection["registered"]:
        summary += (
            f"\nPartial run: {selection['selected']} of the {plural(selection['registered'], 'registered claim')} "
            f"(--claims {' '.join(selection['patterns'])})."
        )
    if interrupted:
        summary += (
            f"\nINCOMPLETE: {INTERRUPTED}; {len(results)} of {plural(len(claims), 'claim')} finished"
            + (f"; not run: {', '.join(not_run)}" if not_run else "")
            + "."
        )
    return summary


def _execution(args, claims) -> tuple[bool, str]:
    """Whether the run is parallel (Dask), checked to be possible, and how to describe it."""
    parallel = bool(args.workers and args.workers > 1 or args.scheduler)
    if parallel:
        from .parallel import ParallelError, require_dask

        try:
            require_dask()
        except ParallelError as exc:
            raise UsageError(str(exc)) from exc
        foreign = [c.id for c in claims if not c.check.__module__.startswith("proofs_check.claims")]
        if foreign:
            raise UsageError(
                f"claims defined outside proofs_check.claims cannot run on Dask workers (the "
                f"workers import the registry): {', '.join(foreign)}; run them serially."
            )
    if args.scheduler:
        return parallel, f"Dask scheduler {args.scheduler}"
    if parallel:
        return parallel, f"Dask LocalCluster, {plural(args.workers, 'worker process', 'worker processes')}"
    return parallel, "serial, one process"


def _run_claims_with_progress(args, claims, backend, dtype, execution, parallel):
    """Plan and run the claims with the progress line.

    Returns ``(results, not_run, interrupted, wall, planned)``; ``planned`` maps every claim id to
    the examples planned for it.
    """
    from . import engine

    units = engine.plan(claims, max_examples=args.max_examples, seed=args.seed, backend=backend, dtype=dtype)
    planned: dict[str, int] = {}
    for unit in units:
        planned[unit.claim_id] = planned.get(unit.claim_id, 0) + unit.examples
    finished = {}
    progress = _Progress(len(claims), sum(planned.values()), enabled=not args.no_progress)

    def on_claim(result):
        finished[result.id] = result
        progress.claim_done(result, planned.get(result.id))

    start = time.perf_counter()
    try:
        marks, interrupted = _execute(args, claims, units, backend, dtype, execution, parallel, progress, on_claim)
    except KeyboardInterrupt:
        marks, interrupted = None, True
    finally:
        progress.close()
    results = [finished[c.id] for c in claims if c.id in finished]
    not_run = [c.id for c in claims if c.id not in finished]
    marks, interrupted = _symbolic_column(args, claims, marks, interrupted)
    for r in results:
        r.symbolic, r.symbolic_detail = marks[r.id]
    return results, not_run, interrupted, time.perf_counter() - start, planned


def _report_config(args, backend, dtype, execution, wall, planned, selection) -> dict:
    """The run's settings as the report records them."""
    return {
        "selection": selection,
        "examples_planned": planned,
        "command": "python -m proofs_check " + " ".join(shlex.quote(a) for a in args.argv),
        "seed": args.seed,
        "backend": backend,
        "dtype": dtype,
        "max_examples": args.max_examples,
        "examples_note": (f"{args.max_examples} per claim" if args.max_examples else "each claim's default, 10–100"),
        "execution": execution,
        "wall_seconds": wall,
    }


def _wrap(text: str, columns: int) -> str:
    """Every line of ``text`` wrapped to ``columns`` (at least 20), continuation lines indented."""
    width = max(columns, 20)
    return "\n".join(
        textwrap.fill(line, width, subsequent_indent="  ", break_on_hyphens=False) if line else line
        for line in text.split("\n")
    )


def _written_line(md, js, selection, interrupted) -> str:
    """The stderr line that says where the reports are (absolute paths) and what they cover."""
    where = f"kssl-verify: report written to {Path(md).resolve()} and {Path(js).resolve()}"
    notes = []
    if selection["selected"] < selection["registered"]:
        notes.append(
            f"partial run: {selection['selected']} of the {plural(selection['registered'], 'registered claim')}"
        )
    if interrupted:
        notes.append("INCOMPLETE: interrupted")
    return where + (f" ({'; '.join(notes)})" if notes else "")


def _run(args, out) -> int:
    from .engine import all_passed
    from .report import default_report_path, terminal_table, write_reports

    claims = select(args.claims)
    n_registered = len(all_claims())
    selection = {"patterns": list(args.claims or []), "selected": len(claims), "registered": n_registered}
    backend, dtype = args.backend or "numpy", args.dtype or "float64"
    resolve_backend(backend)
    parallel, execution = _execution(args, claims)
    report = args.report or default_report_path(args.claims, len(claims), n_registered)
    if not args.no_report:
        _check_report_path(report)
    results, not_run, interrupted, wall, planned = _run_claims_with_progress(
        args, claims, backend, dtype, execution, parallel
    )
    columns = shutil.get_terminal_size().columns
    print(terminal_table(results, columns), file=out)
    summary = _summary(results, claims, not_run, wall, interrupted, planned, selection)
    print(_wrap(summary, columns), file=out, flush=True)
    status = 130 if interrupted else (EXIT_OK if all_passed(results) else EXIT_FAIL)
    if not args.no_report:
        config = _report_config(args, backend, dtype, execution, wall, planned, selection)
        try:
            md, js = write_reports(
                results, claims, config, report, not_run=not_run, interrupted=INTERRUPTED if interrupted else None
            )
        except OSError as exc:
            print(f"kssl-verify: error: cannot write the report: {exc}", file=sys.stderr)
            return 130 if interrupted else EXIT_USAGE
        print(_written_line(md, js, selection, interrupted), file=sys.stderr, flush=True)
    if interrupted:
        print(
            f"kssl-verify: interrupted; {len(results)} of {plural(len(claims), 'claim')} finished"
            + ("" if args.no_report else ", the report of those written (marked INCOMPLETE)")
            + ".",
            file=sys.stderr,
        )
    return status


def _load_replay(path: str) -> list[dict]:
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise UsageError(f"replay file {path} does not exist.") from exc
    except (OSError, json.JSONDecodeError) as exc:
        raise UsageError(f"cannot read the replay file {path}: {exc}") from exc
    items = []
    if isinstance(data, dict) and "claims" in data and isinstance(data["claims"], list):
        for entry in data["claims"]:
            base = {"claim": entry.get("id"), "backend": entry.get("backend"), "dtype": entry.get("dtype")}
            if entry.get("counterexample") is not None:
                items.append({**base, "params": entry["counterexample"], "origin": "search"})
            for rec in entry.get("recorded") or []:
                items.append({**base, "params": rec["params"], "origin": "recorded"})
    elif isinstance(data, dict) and "claim" in data and "params" in data:
        items.append({**data, "origin": data.get("origin", "file")})
    elif isinstance(data, list):
        items.extend({**d, "origin": d.get("origin", "file")} for d in data)
    else:
        raise UsageError(f"replay file {path} holds neither a report nor a {{'claim', 'params'}} object.")
    return items


def _replay(args, out) -> int:
    from .engine import replay

    items = _load_replay(args.replay)
    if args.claims:
        wanted = {c.id for c in select(args.claims)}
        items = [it for it in items if it["claim"] in wanted]
    if not items:
        print(
            f"no counterexample to replay in {args.replay}"
            + (f" for {' '.join(args.claims)}" if args.claims else "")
            + ".",
            file=out,
        )
        return EXIT_OK
    as_registered = True
    for it in items:
        claim = get_claim(it["claim"])
        backend = args.backend or it.get("backend") or "numpy"
        dtype = args.dtype or it.get("dtype") or "float64"
        resolve_backend(backend)
        chk, error = replay(claim, it["params"], Context(backend, dtype))
        fails = not chk.ok or error is not None
        expected = claim.status == "refuted"
        as_registered &= fails == expected
        print(f"{claim.id} [{it['origin']}, {backend}/{dtype}]: {json.dumps(it['params'])}", file=out)
        for item in chk.items:
            print(f"  {'FAIL' if item.ratio > 1 else 'ok  '} {item.describe()}", file=out)
        if error:
            print(f"  FAIL {error}", file=out)
        if fails:
            state = "reproduced: the claim FAILS on these parameters" + (
                " (expected: registered as refuted)" if expected else ""
            )
        else:
            state = "not reproduced: the claim holds on these parameters" + (
                " (unexpected: registered as refuted)" if expected else ""
            )
        print(f"  => {state}", file=out)
    return EXIT_OK if as_registered else EXIT_FAIL


def main(argv=None) -> int:
    """Entry point; returns the exit status (see the module docstring)."""
    argv = list(sys.argv[1:] if argv is None else argv)
    parser = build_parser()
    args = parser.parse_args(argv)
    args.argv = argv
    out = sys.stdout
    try:
        if args.max_examples is not None and args.max_examples < 1:
            raise UsageError("--max-examples must be at least 1.")
        if args.workers is not None and args.workers < 1:
            raise UsageError("--workers must be at least 1.")
        if not args.connect_timeout > 0:
            raise UsageError("--connect-timeout must be positive.")
        if args.list:
            return _list(out)
        if args.replay:
            return _replay(args, out)
        return _run(args, out)
    except (UsageError, ClaimError, BackendError) as exc:
        print(f"kssl-verify: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        print("kssl-verify: interrupted", file=sys.stderr)
        return 130
