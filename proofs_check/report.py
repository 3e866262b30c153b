"""The terminal table and the Markdown and JSON reports of a verification run.

The Markdown report is meant to be read on its own: it says what was checked (every claim of
THEORY.md §2–§6 with its statement and formula), how (instances, oracles, tolerances) and how hard
(examples, sizes, conditioning), then gives every verdict, the refuted statements with their
analysis and counterexamples, and how to replay a counterexample. The JSON report holds the same
data for machines (and for ``--replay``).
"""

from __future__ import annotations

import json
import math
import platform
from pathlib import Path

from .engine import all_passed
from .symbolic import FAILED, PROVEN

__all__ = [
    "SECTIONS",
    "format_ratio",
    "terminal_table",
    "markdown_report",
    "json_report",
    "write_reports",
    "report_paths",
]

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


def format_ratio(result) -> str:
    if result.kind == "statistical":
        return f"rate {result.successes}/{result.trials} (claim ≥ {result.rate:g})"
    r = result.worst_ratio
    if isinstance(r, str) or not math.isfinite(r):
        return "∞"
    return f"{r:.2g}"


def _examples(result) -> str:
    return f"{result.examples_passed}/{result.examples_total}"


def _verdict(result) -> str:
    return VERDICT_MARK.get(result.verdict, "✗ " + result.verdict)


def _short(text: str, width: int) -> str:
    return text if len(text) <= width else text[: width - 1] + "…"


def terminal_table(results, width: int = 52) -> str:
    """Plain-text table: id, claim, symbolic, examples, worst residual/tol, time, verdict."""
    head = ("id", "claim", "sym", "examples", "worst res/tol", "time", "verdict")
    rows = [
        (r.id, _short(r.title, width), r.symbolic, _examples(r), format_ratio(r), f"{r.seconds:.1f}s", _verdict(r))
        for r in results
    ]
    widths = [max(len(str(x)) for x in col) for col in zip(head, *rows)]
    line = lambda cells: "  ".join(str(c).ljust(w) for c, w in zip(cells, widths)).rstrip()  # noqa: E731
    out = [line(head), line(["-" * w for w in widths])]
    out += [line(r) for r in rows]
    return "\n".join(out)


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
    text = f"INCOMPLETE: {interrupted}; {len(results)} of {total} claims finished"
    if not_run:
        text += "; not run: " + ", ".join(not_run)
    return text + "."


def json_report(results, claims, config: dict, *, not_run=(), interrupted: str | None = None) -> dict:
    """The report as a JSON-serialisable dict (also the input format of ``--replay``).

    ``interrupted`` (a reason, e.g. ``"the run was interrupted (Ctrl-C)"``) marks a partial run:
    ``"complete": false``, ``"passed": false``, and ``"not_run"`` lists the claims without a verdict.
    """
    by_id = {c.id: c for c in claims}
    entries = []
    for r in results:
        c = by_id[r.id]
        entry = r.as_dict()
        entry.update(
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
    return {
        "tool": "proofs_check (kssl-verify)",
        "complete": complete,
        "passed": complete and all_passed(results),
        "not_run": list(not_run),
        "incomplete_reason": (
            _incomplete_line(results, not_run, interrupted or "not every claim ran") if not complete else None
        ),
        "config": config,
        "versions": _versions(),
        "summary": _summary(results),
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
    total_examples = sum(r.examples_total for r in results)
    sections = [
        _md_verdict(results, config, not_run, interrupted),
        _md_run(config),
        _md_method(total_examples, config),
        _md_summary_table(results),
        _md_refuted(results, by_id, config),
        _md_all_claims(results, by_id, config),
        _md_replay(),
    ]
    return "\n".join(line for section in sections for line in section)


def _md_verdict(results, config, not_run, interrupted) -> list[str]:
    """Title, the overall verdict (PASSED / FAILED / INCOMPLETE) and what a claim is."""
    s = _summary(results)
    passed = all_passed(results)
    complete = interrupted is None and not not_run
    total_examples = sum(r.examples_total for r in results)
    out = []
    if not complete:
        line = _incomplete_line(results, [f"`{i}`" for i in not_run], interrupted or "not every claim ran")
        out.append(
            f"> **⚠ {line}** This report covers only the claims that finished; run the command again "
            "for a complete report.\n"
        )
    out.append(
        "# Verification report — kssl-theory against THEORY.md §2–§6" + ("" if complete else " (INCOMPLETE)") + "\n"
    )
    if complete:
        verdict = "**PASSED**" if passed else "**FAILED**"
    else:
        verdict = "**INCOMPLETE**" + ("" if passed else ", **FAILED**")
    out.append(
        f"{verdict}: {s['ok']} of {s['claims']} {'claims' if complete else 'finished claims'} behave as registered "
        f"({s['exact']} exact, {s['statistical']} statistical; {s['refuted_as_registered']} statements of THEORY.md "
        f"are registered as **refuted**, each with a corrected statement checked as its own claim). "
        f"{total_examples} random instances were checked in {config.get('wall_seconds', 0):.1f} s.\n"
    )
    if s["failing"]:
        out.append("Claims that do not behave as registered: " + ", ".join(f"`{i}`" for i in s["failing"]) + ".\n")
    out.append(
        "Each claim is one factual statement of THEORY.md (the mathematical specification of the package), or the "
        "corrected form of one that turned out false. Each was checked by running the package "
        "(`kssl_theory`) on many randomly drawn instances and comparing its answers with an *independent* "
        "computation of what THEORY.md says the answer must be.\n"
    )

    return out


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


def _md_method(total_examples, config) -> list[str]:
    """How the claims were checked (instances, oracles, tolerances, kinds) and how hard."""
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
        "- **Oracles.** The package's answer is compared with an independent computation from THEORY.md's "
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
        "comparisons. A statistical claim states a success probability; it *meets its rate* unless a one-sided "
        "binomial test rejects that probability at the stated confidence.\n"
        "- **Refuted statements.** A statement of THEORY.md that is false is not deleted or weakened: it stays "
        "registered as *refuted* with its minimal counterexample, which every run replays, and the run passes only "
        "if it is still false. The corrected statement is a separate claim.\n"
        "- **Symbolic column.** ✓ when the algebraic core of the claim is proven by the SymPy layer "
        "(`kssl_theory.symbolic`), ✗ when that proof fails, – when no symbolic proof exists (yet).\n"
    )
    hard = config.get("examples_note", "")
    out.append(
        f"How hard: {total_examples} instances in all ({hard}); up to about 20 views per instance; condition "
        "numbers of K up to 1e6 in float64 (10^2.5 in float32) in most claims, and up to 1e12 in float64 (1e5 in "
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


def _md_summary_table(results) -> list[str]:
    out = []
    out.append("## Summary\n")
    out.append("| id | claim | kind | symbolic | examples passed/total | worst res/tol | time | verdict |")
    out.append("|---|---|---|---|---|---|---|---|")
    for r in results:
        out.append(
            f"| [`{r.id}`](#{r.id.lower()}) | {_md_escape(r.title)} | {r.kind} | {r.symbolic} | "
            f"{_examples(r)} | {_md_escape(format_ratio(r))} | {r.seconds:.1f} s | {_verdict(r)} |"
        )
    out.append("")

    return out


def _md_refuted(results, by_id, config) -> list[str]:
    """The statements of THEORY.md found false, with their corrections and counterexamples."""
    out = []
    refuted = [r for r in results if r.status == "refuted"]
    if refuted:
        out.append("## Statements of THEORY.md found false\n")
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
    """Every claim, grouped by THEORY.md section."""
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


def _md_replay() -> list[str]:
    out = []
    out.append("## Replaying a counterexample\n")
    out.append(
        "`python -m proofs_check --replay verification-report.json` re-runs every counterexample in this report "
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


def _claim_md(r, c, config) -> str:
    out = [
        f"#### {r.id}\n",
        f"**{c.title}** — {c.source}; {c.kind}"
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
            f"- *Result:* {_verdict(r)} — {r.successes} of {r.trials} distinct instances succeed; "
            f"{100 * c.confidence:g}% lower confidence bound on the rate {r.rate_lower:.3f}; one-sided "
            f"p-value of 'rate ≥ {c.rate:g}' = {r.p_value:.3g}; {r.seconds:.1f} s."
        )
        for t in r.failing_trials[:1]:
            out.append("- *A failing trial (allowed by the rate):*\n")
            out.append(_json_block(t["params"]))
    else:
        worst = f"worst res/tol {format_ratio(r)}" + (f" ({r.worst_check})" if r.worst_check else "")
        out.append(f"- *Result:* {_verdict(r)} — {_examples(r)} examples, {worst}; {r.seconds:.1f} s.")
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
    config = {**config, "json_path": str(js)}
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
