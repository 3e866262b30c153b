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


def test_the_targets_table_marks_each_target_from_its_own_measurement():
    """The summary at the top of RESULTS.md: a target is met only when every row under it is (solver rows), or when
    the measured value is at most the target (KernelPCA ratio, Nystrom error at m = 1,000, the million-view run)."""
    run = _load()
    solver = {"N": 3000, "graph": "5-nn", "objective": "O1", "target": "<= 2.5 x floor"}
    results = {
        "solvers": [
            {**solver, "floor_ratio": 2.0, "status": "met"},
            {**solver, "floor_ratio": 3.0, "status": "missed", "objective": "O4"},
            {**solver, "floor_ratio": 1.2, "status": "met", "target": "<= 1.5 x Cholesky"},
        ],
        "sklearn": [
            {"comparison": "O4 (A=I, centred K) vs KernelPCA[arpack]", "ratio": 0.9, "method": "iterative"},
            {"comparison": "O4 (A=I, centred K) vs KernelPCA[dense]", "ratio": 5.0, "method": "iterative"},
        ],
        "nystrom_accuracy": [
            {"landmarks": 1000, "rule": "uniform", "induced_kernel_rel_error": 0.2},
            {"landmarks": 1000, "rule": "rpcholesky", "induced_kernel_rel_error": 0.05},
            {"landmarks": 500, "rule": "rpcholesky", "induced_kernel_rel_error": 0.01},
        ],
    }
    text = "\n".join(run._targets_summary(results))
    lines = {line.split(" | ")[0].strip("| "): line for line in text.splitlines() if line.startswith("| ")}
    assert lines["solver time <= 2.5 x floor (section 1)"].endswith("| missed |")
    assert "1 of 2 met; worst 3 (O4, 5-nn, N = 3000)" in lines["solver time <= 2.5 x floor (section 1)"]
    assert lines["solver time <= 1.5 x Cholesky (section 1)"].endswith("| met |")
    assert lines["O4 (A=I, centred K) vs KernelPCA[arpack] <= 1.0 x (section 3)"].endswith("| met |")
    assert not any("KernelPCA[dense]" in key for key in lines)  # the target is against arpack only
    nystrom = lines["Nyström induced-kernel error <= 0.05 at m = 1,000 (section 4)"]
    assert "0.05 (rpcholesky)" in nystrom and nystrom.endswith("| met |")
    only_million = [line for line in "\n".join(run._targets_summary({})).splitlines() if line.startswith("| N = ")]
    assert len(only_million) == 1 and only_million[0].endswith("| met |")  # benchmarks/million.json: 593 s, 0.95 GiB
