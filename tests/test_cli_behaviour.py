"""What the two command lines print and write (issue 16, item 5).

``kssl-verify`` (``python -m proofs_check``):

- a run of a ``--claims`` selection without ``--report`` never replaces the full report: it writes
  ``verification-report-<selection>.md`` / ``.json``, whose title and first lines say it is a
  partial run (which patterns, how many of the registered claims); stderr names, as absolute
  paths, the files written;
- the examples announced on stderr (planned), counted per claim, summed in the summary and in
  the reports agree, and every difference between planned and checked is explained;
- counts take the singular with 1 ("1 claim", "1 statement");
- the result table and the summary fit the terminal (``COLUMNS``).

``kssl-experiments --help`` is plain text: no reStructuredText markup from the module docstring.

The runs use a few fast claims (well under a second each) with a fixed seed, in ``tmp_path``.
"""

from __future__ import annotations

import json
import re

import pytest

from proofs_check import cli, engine, registry, report
from proofs_check.report import display_width

FAST = "KR-O1-haochen"  # an exact claim that holds (0.2 s for 50 examples)
REFUTED = "KR-loss-monotone-d"  # registered as refuted: the search stops at its first counterexample
STATISTICAL = "KR-align-statistical"  # 60 examples = 2 batches, which can draw the same instance

#: Count nouns the two CLIs print; after the number 1 each must be singular.
COUNT_NOUNS = (
    "claims",
    "examples",
    "statements",
    "instances",
    "draws",
    "trials",
    "batches",
    "processes",
    "refuted claims",
    "statistical claims",
    "registered claims",
    "selected claims",
    "planned examples",
    "distinct instances",
)


def _run(argv, capsys):
    status = cli.main(argv)
    captured = capsys.readouterr()
    return status, captured.out, captured.err


def _no_wrong_singulars(text: str) -> None:
    for noun in COUNT_NOUNS:
        wrong = re.search(rf"(?<![\d.]){1} {noun}\b", text)
        assert wrong is None, f"'1 {noun}' in:\n{text}"


# --------------------------------------------------------------------------- partial runs and the report path


def test_a_selective_run_does_not_replace_the_full_report(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    full_md, full_js = tmp_path / "verification-report.md", tmp_path / "verification-report.json"
    full_md.write_text("# the full report of an earlier run\n")
    full_js.write_text('{"complete": true}\n')

    status, out, err = _run(["--claims", "KR-O1-h*", "--max-examples", "3", "--no-symbolic", "--no-progress"], capsys)

    assert status == 0, out + err
    assert full_md.read_text() == "# the full report of an earlier run\n"
    assert full_js.read_text() == '{"complete": true}\n'
    md, js = tmp_path / "verification-report-KR-O1-hx.md", tmp_path / "verification-report-KR-O1-hx.json"
    assert md.is_file() and js.is_file()
    # stderr says exactly where: both absolute paths, and that the run was partial
    written = [line for line in err.splitlines() if "report written to" in line]
    assert len(written) == 1, err
    assert f"{md.resolve()} and {js.resolve()}" in written[0]
    n_registered = len(registry.all_claims())
    assert f"partial run: 1 of the {n_registered} registered claims" in written[0]
    # the report says in its title and first lines that it is partial, and of what
    lines = md.read_text().splitlines()
    assert lines[0].startswith("# Verification report") and f"(PARTIAL: 1 of {n_registered} claims)" in lines[0]
    assert lines[2].startswith("> **Partial run:**") and "`KR-O1-h*`" in lines[2]
    assert f"{n_registered - 1} not run" in lines[2]
    assert "1 of 1 selected claim behaves as registered" in md.read_text()
    data = json.loads(js.read_text())
    assert data["partial"] is True
    assert data["selection"] == {"patterns": ["KR-O1-h*"], "selected": 1, "registered": n_registered}
    assert f"--replay {js.name}" in md.read_text()  # the replay hint names this report's JSON, not the full one


def test_an_explicit_report_path_is_used_and_printed(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    status, out, err = _run(
        ["--claims", FAST, "--max-examples", "2", "--no-symbolic", "--no-progress", "--report", "sub.md"], capsys
    )
    assert status == 0, out + err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["sub.json", "sub.md"]
    assert f"report written to {tmp_path.resolve() / 'sub.md'} and {tmp_path.resolve() / 'sub.json'}" in err
    assert "reports:" not in out  # the paths go to stderr only


def test_no_report_writes_nothing_and_says_nothing_about_reports(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    status, out, err = _run(["--claims", FAST, "--max-examples", "2", "--no-progress", "--no-report"], capsys)
    assert status == 0, out + err
    assert not list(tmp_path.iterdir())
    assert "report written" not in err


def test_default_report_path_depends_on_the_selection():
    assert report.default_report_path(None, 65, 65) == "verification-report.md"
    assert report.default_report_path([], 65, 65) == "verification-report.md"
    assert report.default_report_path(["*"], 65, 65) == "verification-report.md"  # every claim: the full report
    assert report.default_report_path(["KR-O1-*"], 3, 65) == "verification-report-KR-O1-x.md"
    assert report.default_report_path(["KR-O1-*", "IR-?"], 5, 65) == "verification-report-KR-O1-x+IR-_.md"
    # no directory separators and no dots (a dot would be taken for the suffix by report_paths)
    slug = report.selection_slug(["../a.b/*", "c d"])
    assert "/" not in slug and "." not in slug and " " not in slug
    md, js = report.report_paths(report.default_report_path(["x.y"], 1, 65))
    assert (md.name, js.name) == ("verification-report-x_y.md", "verification-report-x_y.json")
    # long selections stay short and distinct
    many_a = [f"KR-claim-number-{i}" for i in range(20)]
    many_b = many_a[:-1] + ["KR-other"]
    a, b = report.selection_slug(many_a), report.selection_slug(many_b)
    assert len(a) <= 60 and len(b) <= 60 and a != b


# --------------------------------------------------------------------------- example counts


def test_example_counts_agree_everywhere_and_are_explained(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    claims = [FAST, REFUTED, STATISTICAL]
    status, out, err = _run(["--claims", *claims, "--max-examples", "60", "--no-symbolic", "--report", "r.md"], capsys)
    assert status == 0, out + err

    # stderr announces the planned examples (60 per claim) ...
    start = err.splitlines()[0]
    assert start.startswith("kssl-verify: running 3 claims, up to 180 examples"), start
    # ... and counts each claim's checked examples
    per_claim = {}
    for line in err.splitlines():
        m = re.match(r"kssl-verify: \[\d/3\] (\S+): .*\((\d+)(?: of (\d+))? examples?[,:]", line)
        if m:
            per_claim[m.group(1)] = (int(m.group(2)), int(m.group(3) or m.group(2)))
    assert sorted(per_claim) == sorted(claims), err
    checked = sum(n for n, _ in per_claim.values())
    assert sum(p for _, p in per_claim.values()) == 180

    # the refuted claim stopped at its first counterexample, so fewer were checked than planned
    assert per_claim[REFUTED][0] < 60
    assert f"{REFUTED}: refuted (as registered) ({per_claim[REFUTED][0]} of 60 examples: stopped at its first" in err
    assert checked < 180

    # the summary gives the same number, and explains the difference to the planned 180
    assert f"3 claims, {checked} examples checked" in " ".join(out.split())
    summary = " ".join(out.split())  # undo the wrapping to the terminal's width
    assert f"{checked} of 180 planned examples checked:" in summary
    refuted_gap = 60 - per_claim[REFUTED][0]
    assert f"1 refuted claim stopped at its first counterexample ({refuted_gap} examples not run: {REFUTED})" in summary
    stat_gap = 60 - per_claim[STATISTICAL][0]
    if stat_gap:
        assert f"1 statistical claim counts each distinct instance once ({stat_gap} repeated draw" in summary

    # the reports hold the same counts
    data = json.loads((tmp_path / "r.json").read_text())
    assert data["summary"]["examples_checked"] == checked
    assert data["summary"]["examples_planned"] == 180
    assert {c["id"]: (c["examples_total"], c["examples_planned"]) for c in data["claims"]} == per_claim
    entry = {c["id"]: c for c in data["claims"]}
    assert entry[REFUTED]["examples_shortfall"] == "stopped at its first counterexample"
    assert entry[FAST]["examples_shortfall"] is None
    md = " ".join((tmp_path / "r.md").read_text().split())
    assert f"{checked} of the 180 planned random instances were checked" in md
    n = per_claim[REFUTED][0]
    assert f"{n - 1}/{n} of 60 planned (stopped at its first counterexample)" in md


def test_examples_account_names_each_reason_with_its_count():
    [claim] = registry.select([REFUTED])
    [result] = engine.run_claims([claim], max_examples=30)
    assert result.counterexample is not None and result.examples_total < 30
    checked, planned, reasons = report.examples_account([result], {REFUTED: 30})
    assert (checked, planned) == (result.examples_total, 30)
    gap = 30 - result.examples_total
    assert reasons == [
        f"1 refuted claim stopped at its first counterexample ({gap} example{'s' if gap != 1 else ''} not run: "
        f"{REFUTED})"
    ]
    assert report.examples_account([result], None) == (result.examples_total, None, [])
    assert report.examples_account([result], {REFUTED: result.examples_total})[2] == []


# --------------------------------------------------------------------------- singular and plural


def test_counts_of_one_are_singular(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    status, out, err = _run(["--claims", REFUTED, "--max-examples", "30", "--no-symbolic", "--report", "r.md"], capsys)
    assert status == 0, out + err
    text = " ".join(out.split())
    assert "1 claim, " in text
    assert "(1 statement of the original specification refuted, as registered)" in text
    assert "1 refuted claim stopped at its first counterexample" in text
    md = " ".join((tmp_path / "r.md").read_text().split())
    assert "1 of 1 selected claim behaves as registered" in md
    assert "1 statement of the original specification is registered as **refuted**" in md
    for text in (out, err, md, (tmp_path / "r.json").read_text()):
        _no_wrong_singulars(" ".join(text.split()))


def test_plural_helper():
    assert report.plural(0, "claim") == "0 claims"
    assert report.plural(1, "claim") == "1 claim"
    assert report.plural(2, "statement") == "2 statements"
    assert report.plural(1, "worker process", "worker processes") == "1 worker process"
    assert report.plural(3, "worker process", "worker processes") == "3 worker processes"


def test_list_uses_singular_and_plural(capsys):
    assert cli.main(["--list"]) == 0
    out = capsys.readouterr().out
    n = len(registry.all_claims())
    assert f"{n} claims (" in " ".join(out.split())
    _no_wrong_singulars(" ".join(out.split()))


# --------------------------------------------------------------------------- fitting the terminal


def _fake(id_, title, verdict="holds", kind="exact", status="claimed"):
    return engine.ClaimResult(
        id=id_,
        title=title,
        source="s",
        kind=kind,
        status=status,
        verdict=verdict,
        ok=True,
        examples_passed=40,
        examples_total=40,
        worst_ratio=0.0123,
        worst_check="",
        seconds=12.3,
        batches=1,
        rate=0.9 if kind == "statistical" else None,
        successes=40,
        trials=40,
    )


FAKES = [
    _fake("KR-short", "short claim"),
    _fake("IR-a-much-longer-claim-identifier", "A claim text " + "that goes on and on " * 8 + "until it ends."),
    _fake("KR-refuted", "M̂ with a combining mark, ‖A‖², ≥ and —", "refuted (as registered)", status="refuted"),
    _fake("KR-stat", "A statistical claim", "meets its rate", kind="statistical"),
]


@pytest.mark.parametrize("columns", [20, 40, 60, 80, 100, 120, 200, 400])
def test_the_table_never_exceeds_the_terminal(columns):
    table = report.terminal_table(FAKES, columns)
    widths = [display_width(line) for line in table.splitlines()]
    assert max(widths) <= columns, "\n" + table
    for r in FAKES:  # every row keeps its id (on very narrow terminals cut with "…")
        assert r.id in table or columns < 40
        assert r.id[: columns - 2] in table


def test_a_wide_terminal_shows_whole_claims_and_a_narrow_one_cuts_them():
    long_title = FAKES[1].title
    wide = report.terminal_table(FAKES, 400)
    assert long_title in wide and "…" not in wide
    assert wide.splitlines()[0].split() == ["id", "verdict", "examples", "worst", "res/tol", "time", "sym", "claim"]
    # 140 columns: the claim column takes what is left, at least MIN_CLAIM_COLUMN, cut with "…"
    mid = report.terminal_table(FAKES, 140)
    assert long_title not in mid and "A claim text that goes" in mid and "…" in mid
    assert max(display_width(line) for line in mid.splitlines()) == 140
    # 100 columns: too little room beside the other columns, so each claim has its own line
    narrow = report.terminal_table(FAKES, 100).splitlines()
    assert narrow[1] == "  claim"
    row = next(i for i, line in enumerate(narrow) if line.startswith("IR-a-much-longer"))
    assert narrow[row + 1].startswith("  A claim text that goes") and narrow[row + 1].endswith("…")
    # a combining mark takes no column: the title with M̂ is not cut when it fits
    assert "M̂ with a combining mark, ‖A‖², ≥ and —" in report.terminal_table(FAKES[2:3], 120)


def test_the_cli_table_fits_columns(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("COLUMNS", "100")
    claims = ["IR-dissl-attain-iff-positive", STATISTICAL, FAST]  # a 28-character id and long titles
    status, out, err = _run(["--claims", *claims, "--max-examples", "5", "--no-symbolic", "--no-report"], capsys)
    assert status == 0, out + err
    lines = out.splitlines()
    assert max(display_width(line) for line in lines) <= 100, out
    assert "…" in out  # the long claim texts were cut, not the table widened
    assert all(cid in out for cid in claims) and "✓ holds" in out and "✓ meets its rate" in out
    # the widest line of the old layout (171 columns in a full run) would not have fitted
    monkeypatch.setenv("COLUMNS", "400")
    cli.main(["--claims", *claims, "--max-examples", "5", "--no-symbolic", "--no-report", "--no-progress"])
    wide = capsys.readouterr().out
    assert max(display_width(line) for line in wide.splitlines()) > 100


def test_list_fits_columns(monkeypatch, capsys):
    monkeypatch.setenv("COLUMNS", "80")
    assert cli.main(["--list"]) == 0
    out = capsys.readouterr().out
    assert max(display_width(line) for line in out.splitlines()) <= 80


# --------------------------------------------------------------------------- kssl-experiments --help


def test_experiments_help_is_plain_text(monkeypatch, capsys):
    from kssl_theory import experiments

    monkeypatch.setenv("COLUMNS", "100")
    with pytest.raises(SystemExit) as exc:
        experiments.main(["--help"])
    assert exc.value.code == 0
    out = capsys.readouterr().out
    assert "``" not in out
    assert re.search(r":\w+:`", out) is None  # no Sphinx roles either
    for name in experiments.EXPERIMENTS:
        assert f"- {name}:" in out  # the list of experiments survives, without markup
    assert "python -m kssl_theory.experiments NAME" in out


def test_plain_text_strips_inline_markup():
    from kssl_theory.experiments import plain_text

    rst = (
        "Run ``python -m x NAME``; see :func:`~kssl_theory.experiments.run`, :data:`EXPERIMENTS`, "
        ":ref:`the guide <guide>` and `interpreted`.\n  indented ``line``"
    )
    assert plain_text(rst) == (
        "Run python -m x NAME; see run, EXPERIMENTS, the guide and interpreted.\n  indented line"
    )
    assert plain_text("no markup: a*b, 2 < 3") == "no markup: a*b, 2 < 3"
