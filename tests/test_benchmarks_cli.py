"""benchmarks/run.py: a run without an explicit --out never rewrites the committed record (issue 15, item 8)."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parents[1] / "benchmarks"


def _load():
    spec = importlib.util.spec_from_file_location("bench_run", BENCH / "run.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_quick_run_leaves_the_tracked_record_untouched():
    run = _load()
    record = {name: (BENCH / name).read_bytes() for name in ("RESULTS.md", "results.json")}
    assert run.main(["--quick", "--skip", *run.SECTIONS]) == 0  # every section skipped: seconds
    assert {name: (BENCH / name).read_bytes() for name in record} == record
    written = BENCH / "runs" / "quick" / "RESULTS.md"
    assert written.exists() and "python benchmarks/run.py --quick" in written.read_text(encoding="utf-8")


def test_help_documents_every_option(capsys):
    run = _load()
    with pytest.raises(SystemExit):
        run.main(["--help"])
    text = capsys.readouterr().out
    for option in ("--quick", "--backend", "--out", "--skip"):
        assert option in text
    flat = " ".join(text.split())  # argparse wraps lines
    assert "--out benchmarks" in flat and all(section in flat for section in run.SECTIONS)
    with pytest.raises(SystemExit):
        run.main(["--skip", "no_such_section"])
