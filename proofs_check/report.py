"""The terminal table and the Markdown and JSON reports of a verification run.

The Markdown report is meant to be read on its own: it says what was checked (every claim of
docs/theory.md §2–§6 with its statement and formula), how (instances, oracles, tolerances) and how hard
(examples, sizes, conditioning), then gives every verdict, the refuted statements with their
analysis and counterexamples, and how to replay a counterexample. The JSON report holds the same
data for machines (and for ``--replay``).
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import platform
import re
import shutil
import unicodedata
from pathlib import Path

from .engine import all_passed
from .symbolic import FAILED, PROVEN

__all__ = [
    "SECTIONS",
    "DEFAULT_REPORT",
    "MIN_CLAIM_COLUMN",
    "format_ratio",
    "plural",
    "display_width",
    "truncate",
    "terminal_table",
    "examples_account",
    "shortfall_reason",
    "selection_slug",
    "default_report_path",
    "markdown_report",
    "json_report",
    "write_reports",
    "report_paths",
]

#: Report of a run of every registered claim (``--report`` unset, no ``--claims`` selection).
DEFAULT_REPORT = "verification-report.md"

SECTIONS = {
    "§2": "§2 Reachability lemma [KR]",
    "§3": "§3 Objectives and their closed forms [KR]",
    "§4": "§4 The induced kernel: alignment and decorrelation [KR]",
    "§5": "§5 Idealized representations [IR]",
    "§6": "§6 Bridge between the two papers (new)",
}

VERDICT_MARK = {
    "holds": "✓ holds",
    "meets its rate": "✓ meets its rate",
    "refuted (as registered)": "✓ refuted (as registered)",
}


def plural(n: int, singular: str, plural_form: str | None = None) -> str:
    """``"1 claim"``, ``"2 claims"``: ``n`` followed by the singular or the plural, whichever ``n`` takes.

    Parameters
    ----------
    n : int
        The count.
    singular : str
        The word for one (``"claim"``, ``"statement of the original specification"``).
    plural_form : str, optional
        The word for any other count; default ``singular + "s"``.

    Returns
    -------
    str
    """
    return f"{n} {singular if n == 1 else (plural_form or singular + 's')}"


def format_ratio(result) -> str:
    if result.kind == "statistical":
        return f"rate {result.successes}/{result.trials} (claim ≥ {result.rate:g})"
    r = result.worst_ratio
    if isinstance(r, str) or not math.isfinite(r):
        return "∞"
    return f"{r:.2g}"


def _terminal_ratio(result) -> str:
    """The *worst res/tol* cell of the terminal: a statistical claim's successes are already in the
    examples column, so only its claimed rate is shown."""
    if result.kind == "statistical":
        return f"claim ≥ {result.rate:g}"
    return format_ratio(result)


def _examples(result) -> str:
    return f"{result.examples_passed}/{result.examples_total}"


def _verdict(result) -> str:
    return VERDICT_MARK.get(result.verdict, "✗ " + result.verdict)


def display_width(text: str) -> int:
    """Columns ``text`` takes on a terminal: combining marks take none, East Asian wide characters two."""
    width = 0
    for ch in text:
        if unicodedata.combining(ch):
            continue
        width += 2 if unicodedata.east_asian_width(ch) in ("W", "F") else 1
    return width


def truncate(text: str, width: int) -> str:
    """``text`` cut to at most ``width`` terminal columns, ending in "…" when cut."""
    if display_width(text) <= width:
        return text
    if width <= 0:
        return ""
    out, used = [], 0
    for ch in text:
        w = 0 if unicodedata.combining(ch) else (2 if unicodedata.east_asian_width(ch) in ("W", "F") else 1)
        if used + w > width - 1:
            break
        out.append(ch)
        used += w
    return "".join(out).rstrip() + "…"


def _pad(text: str, width: int) -> str:
    return text + " " * (width - display_width(text))


#: The claim column is never narrower than this; below it the claim text goes on its own line.
MIN_CLAIM_COLUMN = 16

#: Narrowest layout attempted: a terminal narrower than this still gets lines of at most its width,
#: but most cells are then cut.
_MIN_COLUMNS = 20


def terminal_table(results, columns: int | None = None) -> str:
    """Plain-text table that fits the terminal: id, verdict, examples, worst res/tol, time, symbolic, claim.

    Parameters
    ----------
    results : list of ClaimResult
    columns : int, optional
        Width to fit; default ``shutil.get_terminal_size().columns`` (the ``COLUMNS`` environment
        variable, else the terminal's width, else 80 when the output is not a terminal).

    Returns
    -------
    str
        Lines of at most ``columns`` terminal columns (at least 20 are assumed). The claim text is
        the last column, cut with "…" to the width left; when fewer than :data:`MIN_CLAIM_COLUMN`
        columns are left it goes on its own indented line under its row. On a terminal too narrow
        for every column, whole columns are dropped from the right (sym, time, worst res/tol,
        examples); id and verdict always stay. Full claim texts are in the Markdown report.
    """
    if columns is None:
        columns = shutil.get_terminal_size().columns
    columns = max(int(columns), _MIN_COLUMNS)
    head = ("id", "verdict", "examples", "worst res/tol", "time", "sym")
    rows = [
        (r.id, _verdict(r), _examples(r), _terminal_ratio(r), f"{r.seconds:.1f}s", r.symbolic, r.title) for r in results
    ]
    widths = [max(display_width(str(x)) for x in col) for col in zip(head, *(row[:-1] for row in rows))]
    # Columns that do not fit are dropped from the right (sym, time, worst res/tol, examples) rather
    # than cut mid-cell; id and verdict always stay (cut with "…" on a very narrow terminal).
    keep = len(widths)
    while keep > 2 and sum(widths[:keep]) + 2 * (keep - 1) > columns:
        keep -= 1
    widths = widths[:keep]
    fixed = sum(widths) + 2 * (keep - 1)
    titles = [row[-1] for row in rows]
    longest = max((display_width(t) for t in titles), default=0)
    room = columns - fixed - 2
    inline = keep == len(head) and room >= min(MIN_CLAIM_COLUMN, longest)

    def line(cells, last=None) -> str:
        text = "  ".join(_pad(str(c), w) for c, w in zip(cells, widths))
        if last is not None:
            text += "  " + last
        return truncate(text.rstrip(), columns)

    if inline:
        out = [line(head, "claim"), line(["-" * w for w in widths], "-" * max(min(room, longest), 5))]
        out += [line(row[:-1], truncate(row[-1], room)) for row in rows]
    else:
        out = [line(head), "  claim", line(["-" * w for w in widths])]
        for row in rows:
            out += [line(row[:-1]), "  " + truncate(row[-1], columns - 2)]
    return "\n".join(out)


def shortfall_reason(result, planned: int | None) -> str | None:
    """Why a claim checked fewer examples than planned (``None`` when it checked them all).

    Parameters
    ----------
    result : ClaimResult
    planned : int or None
        Examples planned for the claim (:func:`proofs_check.engine.plan`); ``None`` when unknown.

    Returns
    -------
    str or None
        ``"stopped at its first counterexample"`` (an exact claim, refuted or failing: Hypothesis
        stops searching once it has one), ``"stopped at an error"``, ``"each distinct instance
        counted once"`` (a statistical claim: batches can draw the same instance), or
        ``"Hypothesis found fewer distinct valid instances"`` (a small search space, or too many
        draws rejected by the claim's assumptions).
    """
    if planned is None or result.examples_total >= planned:
        return None
    if result.kind == "statistical":
        return "each distinct instance counted once"
    if result.counterexample is not None:
        return "stopped at its first counterexample"
    if result.error:
        return "stopped at an error"
    return "Hypothesis found fewer distinct valid instances"


def examples_account(results, planned: dict | None) -> tuple[int, int | None, list[str]]:
    """Examples checked, examples planned, and why the two differ (one phrase per reason).

    Parameters
    ----------
    results : list of ClaimResult
    planned : dict of str to int, or None
        Examples planned per claim id; ``None`` when unknown (then only the checked count is given).

    Returns
    -------
    checked : int
        Sum of the claims' ``examples_total`` (distinct trials for a statistical claim).
    planned_total : int or None
        Sum of the planned examples of the same claims.
    reasons : list of str
        E.g. ``"4 refuted claims stopped at their first counterexample (116 examples not run)"``.
    """
    checked = sum(r.examples_total for r in results)
    if not planned:
        return checked, None, []
    planned_total = sum(int(planned.get(r.id, r.examples_total)) for r in results)
    groups: dict[str, list] = {}
    for r in results:
        reason = shortfall_reason(r, planned.get(r.id))
        if reason is not None:
            groups.setdefault(reason, []).append(r)
    reasons = []
    for reason, rs in groups.items():
        missing = sum(int(planned[r.id]) - r.examples_total for r in rs)
        one = len(rs) == 1
        if reason == "stopped at its first counterexample":
            refuted = all(r.status == "refuted" for r in rs)
            who = plural(len(rs), "refuted claim" if refuted else "claim")
            text = f"{who} stopped at {'its' if one else 'their'} first counterexample"
            gap = plural(missing, "example") + " not run"
        elif reason == "each distinct instance counted once":
            text = f"{plural(len(rs), 'statistical claim')} {'counts' if one else 'count'} each distinct instance once"
            gap = plural(missing, "repeated draw")
        elif reason == "stopped at an error":
            text = f"{plural(len(rs), 'claim')} stopped at an error"
            gap = plural(missing, "example") + " not run"
        else:
            text = f"Hypothesis found fewer distinct valid instances for {plural(len(rs), 'claim')}"
            gap = plural(missing, "example") + " fewer"
        reasons.append(f"{text} ({gap}: {', '.join(r.id for r in rs)})")
    return checked, planned_total, reasons


def selection_slug(patterns) -> str:
    """A file-name fragment naming a claim selection: ``['KR-O1-*']`` -> ``'KR-O1-x'``.

    ``*`` becomes ``x``, every character other than a letter, a digit, ``-`` or ``_`` becomes ``_``
    (no dots, so the name keeps its ``.md`` / ``.json`` suffix), several patterns are joined by
    ``+``, and a fragment longer than 60 characters is cut and ends in a hash of the patterns.
    """
    parts = [re.sub(r"[^A-Za-z0-9_-]", "_", p.replace("*", "x")) for p in patterns]
    slug = "+".join(parts) or "selection"
    if len(slug) > 60:
        digest = hashlib.sha256("\0".join(patterns).encode()).hexdigest()[:8]
        slug = slug[:51] + "-" + digest
    return slug


def default_report_path(patterns, n_selected: int, n_registered: int) -> str:
    """Where a run writes its report when ``--report`` is not given.

    A run of every registered claim writes :data:`DEFAULT_REPORT`; a run of a selection writes
    ``verification-report-<slug>.md`` (:func:`selection_slug`), so that a partial run never
    replaces the full report.
    """
    if not patterns or n_selected >= n_registered:
        return DEFAULT_REPORT
    return f"verification-report-{selection_slug(patterns)}.md"


def _summary(results) -> dict:
    return {
        "claims": len(results),
        "exact": sum(r.kind == "exact" for r in results),
        "statistical": sum(r.kind == "statistical" for r in results),
        "refuted_as_registered": sum(r.status == "refuted" for r in results),
        "ok": sum(r.ok for r in results),
        "failing": [r.id for r in results if not r.ok],
        "symbolic_failed": [r.id for r in results if r.symbolic == FAILED],
        "symbolic_proven": sum(r.symbolic == PROVEN for r in results),
    }


def _versions() -> dict:
    import hypothesis
    import numpy
    import scipy

    import kssl_theory

    return {
        "kssl_theory": kssl_theory.__version__,
        "python": platform.python_version(),
        "numpy": numpy.__version__,
        "scipy": scipy.__version__,
        "hypothesis": hypothesis.__version__,
    }


def _incomplete_line(results, not_run, interrupted) -> str:
    total = len(results) + len(not_run)
    text = f"INCOMPLETE: {interrupted}; {len(results)} of {plural(total, 'claim')} finished"
    if not_run:
        text += "; not run: " + ", ".join(not_run)
    return text + "."


def _selection(config) -> dict | None:
    """``config["selection"]`` when the run checked only some of the registered claims, else ``None``."""
    sel = config.get("selection")
    if sel and sel.get("patterns") and sel.get("selected", 0) < sel.get("registered", 0):
        return sel
    return None


def _selection_words(sel) -> str:
    patterns = ", ".join(f"`{p}`" for p in sel["patterns"])
    return (
        f"only the {plural(sel['selected'], 'claim')} matching {patterns}, of the {sel['registered']} registered "
        f"({sel['registered'] - sel['selected']} not run)"
    )


def json_report(results, claims, config: dict, *, not_run=(), interrupted: str | None = None) -> dict:
    """The report as a JSON-serialisable dict (also the input format of ``--replay``).

    ``interrupted`` (a reason, e.g. ``"the run was interrupted (Ctrl-C)"``) marks an interrupted run:
    ``"complete": false``, ``"passed": false``, and ``"not_run"`` lists the claims without a verdict.
    ``config["selection"]`` (``{"patterns", "selected", "registered"}``) marks a run of a selection
    of the claims: ``"partial": true``; ``"passed"`` then speaks for the selected claims only.
    ``config["examples_planned"]`` (claim id -> examples planned) gives every entry its
    ``examples_planned`` and ``examples_shortfall`` (:func:`shortfall_reason`) and the summary its
    ``examples_checked``, ``examples_planned`` and ``examples_note``.
    """
    by_id = {c.id: c for c in claims}
    planned = config.get("examples_planned") or {}
    entries = []
    for r in results:
        c = by_id[r.id]
        entry = r.as_dict()
        entry.update(
            examples_planned=planned.get(r.id),
            examples_shortfall=shortfall_reason(r, planned.get(r.id)),
            statement=c.statement,
            preconditions=list(c.preconditions),
            latex=c.latex,
            method=c.method,
            tolerance=c.tolerance,
            note=c.note,
            corrected_by=c.corrected_by,
            corrects=c.corrects,
            symbolic_proof=c.symbolic,
            backend=config.get("backend"),
            dtype=config.get("dtype"),
        )
        entries.append(entry)
    complete = interrupted is None and not not_run
    checked, planned_total, reasons = examples_account(results, planned)
    summary = _summary(results)
    summary.update(examples_checked=checked, examples_planned=planned_total, examples_note=reasons)
    sel = _selection(config)
    return {
        "tool": "proofs_check (kssl-verify)",
        "complete": complete,
        "passed": complete and all_passed(results),
        "partial": sel is not None,
        "selection": config.get("selection"),
        "not_run": list(not_run),
        "incomplete_reason": (
            _incomplete_line(results, not_run, interrupted or "not every claim ran") if not complete else None
        ),
        "config": config,
        "versions": _versions(),
        "summary": summary,
        "claims": entries,
    }


def _md_escape(text: str) -> str:
    return text.replace("|", "\\|")


def _json_block(obj) -> str:
    return "```json\n" + json.dumps(obj, ensure_ascii=False) + "\n```"


def _num(x) -> str:
    return f"{x:.3g}" if isinstance(x, (int, float)) else str(x)


def _replay_cmd(config, claim_id) -> str:
    json_path = config.get("json_path") or "verification-report.json"
    return f"python -m proofs_check --replay {json_path} --claims {claim_id}"


def markdown_report(results, claims, config: dict, *, not_run=(), interrupted: str | None = None) -> str:
    """The Markdown verification report: verdict, the run, the method, the summary table, the refuted
    statements, every claim, and how to replay a counterexample."""
    by_id = {c.id: c for c in claims}
    sections = [
        _md_verdict(results, config, not_run, interrupted),
        _md_run(config),
        _md_method(results, config),
        _md_summary_table(results, config),
        _md_refuted(results, by_id, config),
        _md_all_claims(results, by_id, config),
        _md_replay(config),
    ]
    return "\n".join(line for section in sections for line in section)


def _md_verdict(results, config, not_run, interrupted) -> list[str]:
    """Title, the overall verdict (PASSED / FAILED / INCOMPLETE), a partial run's selection, and what a claim is."""
    s = _summary(results)
    passed = all_passed(results)
    complete = interrupted is None and not not_run
    sel = _selection(config)
    out = []
    if not complete:
        line = _incomplete_line(results, [f"`{i}`" for i in not_run], interrupted or "not every claim ran")
        out.append(
            f"> **⚠ {line}** This report covers only the claims that finished; run the command again "
            "for a complete report.\n"
        )
    out.append(
        "# Verification report — kssl-theory against docs/theory.md §2–§6"
        + (f" (PARTIAL: {sel['selected']} of {sel['registered']} claims)" if sel else "")
        + ("" if complete else " (INCOMPLETE)")
        + "\n"
    )
    if sel:
        out.append(
            f"> **Partial run:** {_selection_words(sel)}. This is not the full verification report: "
            "`python -m proofs_check` without `--claims` checks every claim.\n"
        )
    if complete:
        verdict = "**PASSED**" if passed else "**FAILED**"
    else:
        verdict = "**INCOMPLETE**" + ("" if passed else ", **FAILED**")
    which = "claim" if complete and not sel else ("selected claim" if complete else "finished claim")
    n_ref = s["refuted_as_registered"]
    out.append(
        f"{verdict}: {s['ok']} of {plural(s['claims'], which)} {'behaves' if s['ok'] == 1 else 'behave'} as "
        f"registered ({s['exact']} exact, {s['statistical']} statistical; "
        f"{plural(n_ref, 'statement')} of the original specification {'is' if n_ref == 1 else 'are'} registered as "
        f"**refuted**, "
        f"each with a corrected statement checked as its own claim). "
        f"{_examples_sentence(results, config)}\n"
    )
    if s["failing"]:
        out.append("Claims that do not behave as registered: " + ", ".join(f"`{i}`" for i in s["failing"]) + ".\n")
    out.append(
        "Each claim is one factual statement of docs/theory.md (the mathematical specification of the package), or a "
        "statement of the original specification that turned out false (registered as refuted; docs/theory.md "
        "states its correction, §8 lists them). Each was checked by running the package "
        "(`kssl_theory`) on many randomly drawn instances and comparing its answers with an *independent* "
        "computation of what docs/theory.md says the answer must be.\n"
    )

    return out


def _examples_sentence(results, config) -> str:
    """``"2257 of the 2381 planned random instances were checked in 30.9 s: ..."`` with the reasons."""
    checked, planned_total, reasons = examples_account(results, config.get("examples_planned"))
    wall = f"{config.get('wall_seconds', 0):.1f} s"
    if planned_total is None or planned_total == checked:
        return f"{plural(checked, 'random instance')} {'was' if checked == 1 else 'were'} checked in {wall}."
    return (
        f"{checked} of the {plural(planned_total, 'planned random instance')} were checked in {wall}: "
        + "; ".join(reasons)
        + "."
    )


def _md_run(config) -> list[str]:
    """The table of the run: command, seed, examples, backend, execution, wall time, versions."""
    out = []
    out.append("## The run\n")
    v = _versions()
    rows = [
        ("command", f"`{config.get('command', 'python -m proofs_check')}`"),
        ("seed", config.get("seed")),
        ("examples per claim", config.get("examples_note", "")),
        ("array backend / dtype", f"{config.get('backend')} / {config.get('dtype')}"),
        ("execution", config.get("execution", "serial")),
        ("wall time", f"{config.get('wall_seconds', 0):.1f} s"),
        ("versions", ", ".join(f"{k} {val}" for k, val in v.items())),
    ]
    out.append("| | |\n|---|---|")
    out += [f"| {k} | {_md_escape(str(val))} |" for k, val in rows]
    out.append("")

    return out


def _md_method(results, config) -> list[str]:
    """How the claims were checked (instances, oracles, tolerances, kinds) and how hard."""
    total_examples = sum(r.examples_total for r in results)
    out = []
    out.append("## How the claims were checked\n")
    out.append(
        "- **Instances.** For each claim, [Hypothesis](https://hypothesis.readthedocs.io) draws a small parameter "
        "dict — a NumPy seed, group sizes (views per base sample), kernel family (RBF, Laplace, polynomial, "
        "arc-cosine, ReLU NNGP/NTK on drawn points, random spectra, and deliberately singular low-rank kernels), "
        "bandwidth, input dimension, augmentation noise, a cap on the condition number of K, graph options "
        "(self-loops, random weights, symmetric normalisation), embedding dimension d and the objective's options "
        "(λ, β, c, …). The matrices are built from the dict with `numpy.random.default_rng(seed)`, so a "
        "counterexample is just that dict and can be replayed.\n"
        "- **Oracles.** The package's answer is compared with an independent computation from docs/theory.md's "
        "formulas: targets T built in NumPy and their eigenvalues from `numpy.linalg` (the package uses SciPy's "
        "divide-and-conquer driver and Cholesky), `scipy.linalg.eigh(L, D)` for the generalised problem, "
        "scikit-learn's `KernelPCA`, explicit finite feature maps for minimum-norm statements, ridgeless regression "
        "by `scipy.linalg.lstsq`, and for optimality L-BFGS from random starts, random perturbations and random "
        "feasible points, which must never beat a closed-form optimum. The [IR] claims use linear programs (HiGHS) "
        "over all tasks (all set partitions of the classes), SVD affine ranks and brute-force enumeration of all "
        "samples for empirical-risk minimisers.\n"
        "- **Tolerances.** Every comparison records a residual and a tolerance derived from the instance: "
        "100·N·ε (ε of the dtype) times the norms involved, times κ(K) where K⁻¹ is applied, times "
        "(1 + ‖T‖/gap) where eigenvectors matter (Davis–Kahan), and a square root where an embedding is the "
        "square root of an eigenvalue at round-off level. The column *worst res/tol* is the largest "
        "residual/tolerance over all comparisons and instances of a claim: a claim holds on an instance when every "
        "ratio is at most 1, so 0.01 means the worst comparison used 1% of its allowance.\n"
        "- **Exact and statistical claims.** An exact claim must hold on every instance; on the first failure "
        "Hypothesis shrinks the instance to a minimal counterexample, which is reported with the failing "
        "comparisons, and stops: the examples planned after it are not run, so a refuted or failing claim checks "
        "fewer examples than planned. A statistical claim states a success probability; it *meets its rate* "
        "unless a one-sided binomial test rejects that probability at the stated confidence; each distinct "
        "instance counts once (batches with different seeds can draw the same one).\n"
        "- **Refuted statements.** A statement of the original specification that is false is not deleted or weakened: "
        "it stays "
        "registered as *refuted* with its minimal counterexample, which every run replays, and the run passes only "
        "if it is still false. The corrected statement is a separate claim.\n"
        "- **Symbolic column.** ✓ when the algebraic core of the claim is proven by the SymPy layer "
        "(`kssl_theory.symbolic`), ✗ when that proof fails, – when no symbolic proof exists (yet).\n"
    )
    hard = config.get("examples_note", "")
    out.append(
        f"How hard: {plural(total_examples, 'instance')} checked in all ({hard}); up to about 20 views per "
        "instance; condition numbers of K up to 1e6 in float64 (10^2.5 in float32) in most claims, and up to "
        "1e12 in float64 (1e5 in "
        "float32) in `KR-soft-adversarial` (O1, O2) and `KR-hard-adversarial` (O3, O4): graded spectra, RBF on "
        "near-duplicate points and with wide bandwidths, rank-deficient kernels plus a tiny ridge, with λ from "
        "1e-8 to 10 and clique, kNN, sparse, disconnected, isolated-vertex, weighted and signed graphs, against "
        "40-digit mpmath oracles; exact ties and gaps from 1e-1 to 1e-15 known by construction (`KR-unique-planted`, "
        "and clique spectra in rational arithmetic) as well as generic gaps; singular kernels for every objective "
        "(`KR-O2-centred-singular`, `KR-O3-O4-singular`), including d > rank(K); every objective option; d from 1 "
        "to N. Every claim states its preconditions. Tolerances follow from the dtype, N, κ and λ, never from the "
        "package; "
        "most claims use a few percent of them at worst.\n"
    )

    return out


def _md_summary_table(results, config) -> list[str]:
    out = []
    out.append("## Summary\n")
    out.append("| id | claim | kind | symbolic | examples passed/checked | worst res/tol | time | verdict |")
    out.append("|---|---|---|---|---|---|---|---|")
    for r in results:
        planned = (config.get("examples_planned") or {}).get(r.id)
        why = shortfall_reason(r, planned)
        examples = _examples(r) + (f" of {planned} planned ({why})" if why else "")
        out.append(
            f"| [`{r.id}`](#{r.id.lower()}) | {_md_escape(r.title)} | {r.kind} | {r.symbolic} | "
            f"{examples} | {_md_escape(format_ratio(r))} | {r.seconds:.1f} s | {_verdict(r)} |"
        )
    out.append("")

    return out


def _md_refuted(results, by_id, config) -> list[str]:
    """The statements of the original specification found false, with their corrections and counterexamples."""
    out = []
    refuted = [r for r in results if r.status == "refuted"]
    if refuted:
        out.append("## Statements of the original specification found false\n")
        for r in refuted:
            c = by_id[r.id]
            out.append(f"### {r.id} (refuted)\n")
            out.append(f"> {c.statement}\n")
            out.append(f"{c.note}\n")
            if c.corrected_by:
                out.append(
                    "Corrected statement(s): "
                    + ", ".join(f"[`{x.strip()}`](#{x.strip().lower()})" for x in c.corrected_by.split(","))
                    + ".\n"
                )
            out.append(_counterexample_md(r, config))
    return out


def _md_all_claims(results, by_id, config) -> list[str]:
    """Every claim, grouped by docs/theory.md section."""
    out = []
    out.append("## All claims\n")
    current = None
    for r in results:
        c = by_id[r.id]
        section = c.section
        if section != current:
            current = section
            out.append(f"### {SECTIONS.get(section, section or 'Other')}\n")
        out.append(_claim_md(r, c, config))
    return out


def _md_replay(config) -> list[str]:
    json_path = config.get("json_path") or "verification-report.json"
    out = []
    out.append("## Replaying a counterexample\n")
    out.append(
        f"`python -m proofs_check --replay {json_path}` re-runs every counterexample in this report "
        '(add `--claims ID` for one); a file holding a single `{"claim": ID, "params": {...}}` works too. '
        "The replay prints every comparison with its residual and tolerance, and exits with 0 when every replayed "
        "instance behaves as registered (holds for a claim, fails for a refuted statement).\n"
    )
    return out


def _counterexample_md(r, config) -> str:
    parts = []
    if r.counterexample is not None:
        parts.append("Minimal counterexample found by the search (Hypothesis-shrunk):\n")
        parts.append(_json_block(r.counterexample))
        if r.failure:
            parts.append("\nFailing comparisons:\n")
            parts.append(_failure_md(r.failure))
    for rec in r.recorded:
        if rec["params"] == r.counterexample:
            parts.append("\nThis is also the recorded counterexample of the registry, replayed on every run.\n")
            continue
        state = "still fails (refutation reproduced)" if rec["reproduces"] else "no longer fails"
        parts.append(f"\nRecorded counterexample — {state}:\n")
        parts.append(_json_block(rec["params"]))
        if rec.get("failed_checks"):
            parts.append(_failure_md(rec))
    parts.append(f"\nReplay: `{_replay_cmd(config, r.id)}`\n")
    return "\n".join(parts)


def _failure_md(failure: dict) -> str:
    lines = []
    if failure.get("error"):
        lines.append(f"- error: `{failure['error']}`")
    for item in failure.get("failed_checks", [])[:6]:
        detail = f" — {item['detail']}" if item.get("detail") else ""
        if item.get("boolean"):
            lines.append(f"- {item['check']}: **false**{detail}")
        else:
            lines.append(
                f"- {item['check']}: residual {_num(item['residual'])} vs tolerance {_num(item['tol'])} "
                f"(ratio {_num(item['ratio'])}){detail}"
            )
    if failure.get("info"):
        lines.append(f"- instance: {', '.join(f'{k} = {v}' for k, v in failure['info'].items())}")
    return "\n".join(lines) + "\n"


#: The repository's specification, when the package runs from a checkout (not from an installed wheel).
_THEORY = Path(__file__).resolve().parents[1] / "docs" / "theory.md"
_SECTION_REF = re.compile(r"docs/theory\.md (§(\d+))")


def _theory_link(report: Path) -> str | None:
    """The path of docs/theory.md relative to the report's folder, or ``None`` outside a checkout."""
    if not _THEORY.is_file():
        return None
    return Path(os.path.relpath(_THEORY, report.resolve().parent)).as_posix()


def _linked_source(source: str, config) -> str:
    """The claim's source with its "docs/theory.md §N" linked to that section's anchor (``#sN``)."""
    link = config.get("theory_link")
    if not link:
        return source
    return _SECTION_REF.sub(lambda m: f"[docs/theory.md {m[1]}]({link}#s{m[2]})", source)


def _claim_md(r, c, config) -> str:
    out = [
        f"#### {r.id}\n",
        f"**{c.title}** — {_linked_source(c.source, config)}; {c.kind}"
        + (f" (rate ≥ {c.rate:g} at confidence {c.confidence:g})" if c.kind == "statistical" else "")
        + (f"; status **{c.status}**" if c.status != "claimed" else "")
        + (f"; corrects [`{c.corrects}`](#{c.corrects.lower()})" if c.corrects else "")
        + ".\n",
    ]
    out.append(f"> {c.statement}\n")
    out.append(f"$$ {c.latex} $$\n")
    out.append(f"- *Preconditions:* {'; '.join(c.preconditions)}.")
    out.append(f"- *How:* {c.method}")
    out.append(f"- *Tolerance:* {c.tolerance}")
    out.append(f"- *Symbolic:* {r.symbolic} {r.symbolic_detail}".rstrip())
    if r.kind == "statistical":
        out.append(
            f"- *Result:* {_verdict(r)} — {r.successes} of {plural(r.trials, 'distinct instance')} "
            f"{'succeeds' if r.successes == 1 else 'succeed'}; "
            f"{100 * c.confidence:g}% lower confidence bound on the rate {r.rate_lower:.3f}; one-sided "
            f"p-value of 'rate ≥ {c.rate:g}' = {r.p_value:.3g}; {r.seconds:.1f} s."
        )
        for t in r.failing_trials[:1]:
            out.append("- *A failing trial (allowed by the rate):*\n")
            out.append(_json_block(t["params"]))
    else:
        worst = f"worst res/tol {format_ratio(r)}" + (f" ({r.worst_check})" if r.worst_check else "")
        planned = (config.get("examples_planned") or {}).get(r.id)
        why = shortfall_reason(r, planned)
        examples = f"{_examples(r)} examples" + (f" of {planned} planned ({why})" if why else "")
        out.append(f"- *Result:* {_verdict(r)} — {examples}, {worst}; {r.seconds:.1f} s.")
    if c.note and c.status != "refuted":
        out.append(f"- *Note:* {c.note}")
    if r.error and r.counterexample is None:
        out.append(f"- *Error:* `{r.error}`")
    out.append("")
    if r.status != "refuted" and (r.counterexample is not None):
        out.append(_counterexample_md(r, config))
    return "\n".join(out)


def report_paths(path) -> tuple[Path, Path]:
    """``(markdown, json)`` paths for ``--report PATH`` (a ``.md``/``.json`` suffix picks the stem)."""
    p = Path(path)
    stem = p.with_suffix("") if p.suffix.lower() in (".md", ".json") else p
    return stem.with_suffix(".md"), stem.with_suffix(".json")


def write_reports(results, claims, config, path, *, not_run=(), interrupted: str | None = None) -> tuple[Path, Path]:
    """Write ``PATH.md`` and ``PATH.json``; see :func:`json_report` for ``not_run`` and ``interrupted``."""
    md, js = report_paths(path)
    config = {**config, "json_path": str(js), "theory_link": _theory_link(md)}
    # Render both first, so the files are open for as short a time as possible.
    js_text = (
        json.dumps(
            json_report(results, claims, config, not_run=not_run, interrupted=interrupted), indent=2, ensure_ascii=False
        )
        + "\n"
    )
    md_text = markdown_report(results, claims, config, not_run=not_run, interrupted=interrupted) + "\n"
    js.write_text(js_text, encoding="utf-8")
    md.write_text(md_text, encoding="utf-8")
    return md, js
