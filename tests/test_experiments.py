"""The experiment runner (``python -m kssl_theory.experiments``).

- Every experiment's --quick run writes its table, JSON (``meta.complete`` true) and figures.
- Ctrl-C (a KeyboardInterrupt inside the loop, or a real SIGINT) writes what finished, marked
  INCOMPLETE, and exits with 130; the programmatic ``run`` raises ExperimentInterrupted.
- An unwritable ``--out`` / ``--docs`` and a missing matplotlib are one line on stderr and exit
  status 2, before any computation; bad ``--seeds`` and names are usage errors.
"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import threading
from pathlib import Path

import numpy as np
import pytest

from kssl_theory import experiments
from kssl_theory.errors import BackendUnavailableError, InputError
from kssl_theory.experiments import EXPERIMENTS, ExperimentInterrupted, OutputError, main, run
from kssl_theory.experiments._common import parse_seeds

ROOT = Path(__file__).resolve().parents[1]

EXPECTED_FIGURES = {
    "digits-probe": {"accuracy_vs_labels.png", "gain_over_base.png"},
    "digits-ablation": {"ablation_bandwidth.png", "ablation_strength.png", "ablation_original.png", "ablation_knn.png"},
    "alignment": {"alignment_vs_dim.png", "alignment_vs_bandwidth.png", "induced_kernel_heatmaps.png"},
    "spectra": {"target_spectra.png", "uniqueness_gap.png"},
    "study": {"gain_heatmap.png", "accuracy_vs_labels.png", "alignment_scatter.png"},
}


@pytest.mark.parametrize("name", EXPERIMENTS)
def test_quick_run_writes_outputs(name, tmp_path, monkeypatch):
    monkeypatch.setenv("KSSL_NO_PROGRESS", "1")
    out = tmp_path / name
    extra = ["--docs", str(tmp_path / "docs")] if name == "digits-probe" else []
    assert main([name, "--quick", "--out", str(out), *extra]) == 0
    md = (out / f"{name}.md").read_text(encoding="utf-8")
    assert md.startswith("# ") and "|---|" in md and "Regenerate with `python -m kssl_theory.experiments" in md
    assert "INCOMPLETE" not in md
    data = json.loads((out / f"{name}.json").read_text(encoding="utf-8"))
    assert data["meta"]["experiment"] == name and set(data["meta"]["figures"]) == EXPECTED_FIGURES[name]
    assert data["meta"]["complete"] is True and data["meta"]["interrupted"] is None
    for fig in EXPECTED_FIGURES[name]:
        png = (out / fig).read_bytes()
        assert png[:8] == b"\x89PNG\r\n\x1a\n" and len(png) > 5_000
    if name == "digits-probe":
        docs = (tmp_path / "docs" / "RESULTS_digits.md").read_text(encoding="utf-8")
        assert "base kernel" in docs and "digits_accuracy_vs_labels.png" in docs
        assert (tmp_path / "docs" / "digits_accuracy_vs_labels.png").exists()
        # Accuracies are fractions and the base kernel beats chance on 10 classes.
        base = data["krr"]["rbf"]["base kernel"]
        assert all(0.0 <= a <= 1.0 for accs in base.values() for a in accs)
        assert min(sum(a) / len(a) for a in base.values()) > 0.2


def test_seeds_option():
    assert parse_seeds("3", 5) == [0, 1, 2]
    assert parse_seeds("0,4", 5) == [0, 4]
    assert parse_seeds(None, 2) == [0, 1]
    with pytest.raises(ValueError):
        parse_seeds("0", 2)
    # Negative, fractional and boolean seeds are refused here, not deep inside a run (review finding).
    for bad in ("0,-3", "1.5", [-1], [1.5], [True], "x,1"):
        with pytest.raises(ValueError, match="seeds"):
            parse_seeds(bad, 2)


def test_module_entry_point_help():
    res = subprocess.run(
        [sys.executable, "-m", "kssl_theory.experiments", "--help"], capture_output=True, text=True, check=True
    )
    for name in EXPERIMENTS:
        assert name in res.stdout


def test_unknown_experiment_is_a_usage_error(capsys):
    with pytest.raises(SystemExit) as exc:
        main(["no-such-experiment"])
    assert exc.value.code == 2
    with pytest.raises(InputError, match="unknown experiment 'no-such-experiment'"):
        run("no-such-experiment")
    with pytest.raises(InputError, match="docs applies to"):
        run("spectra", docs="docs")


@pytest.mark.parametrize("seeds", ["0", "-2", "a", ",", "1,x"])
def test_bad_seeds_are_a_usage_error(seeds, tmp_path, capsys):
    with pytest.raises(SystemExit) as exc:
        main(["spectra", "--quick", "--out", str(tmp_path / "o"), "--seeds", seeds])
    assert exc.value.code == 2 and "error:" in capsys.readouterr().err
    assert not (tmp_path / "o").exists()
    with pytest.raises(InputError, match="seeds"):
        run("spectra", quick=True, out=tmp_path / "o", seeds=seeds)


# --------------------------------------------------------------------------- Ctrl-C


def _one_line(stderr: str) -> str:
    """The single line a failure or an interrupt prints on stderr (no traceback)."""
    assert "Traceback" not in stderr, stderr
    lines = [line for line in stderr.splitlines() if line.strip()]
    assert len(lines) == 1, stderr
    return lines[0]


def _interrupt_on_call(monkeypatch, module, attribute: str, nth: int) -> None:
    """Make ``module.attribute`` raise KeyboardInterrupt on its ``nth`` call, as Ctrl-C would."""
    real, calls = getattr(module, attribute), []

    def interrupted(*args, **kwargs):
        calls.append(1)
        if len(calls) == nth:
            raise KeyboardInterrupt
        return real(*args, **kwargs)

    monkeypatch.setattr(module, attribute, interrupted)


def _no_computation(monkeypatch, name: str) -> None:
    def fail(*a, **k):
        raise AssertionError("the experiment started computing before the check")

    monkeypatch.setattr(experiments._load(name), "make_task", fail)


# experiment -> (function called once per step of its loop, the result its first step finishes in
# the JSON, the Markdown table row that shows it)
FIRST_STEP = {
    "digits-probe": (
        "evaluate",
        lambda d: d["krr"]["rbf"]["base kernel"]["1"],
        lambda v: f"| base kernel | {100 * v[0]:.1f} ± 0.0 |",
    ),
    "digits-ablation": (
        "evaluate",
        lambda d: d["sweeps"]["bandwidth"]["0.5"]["base kernel"]["1"],
        lambda v: f"| 0.5 | base kernel | {100 * v[0]:.1f} ± 0.0 |",
    ),
    "alignment": (
        "_solve",
        lambda d: d["by_dim_and_reg"]["0.0"]["4"],
        lambda v: f"| O1 λ=0 | 4 | {'yes' if v[0]['is_unique'] else 'no'} | {np.mean(v[0]['test']['alignment']):.3f} |",
    ),
    "spectra": ("_solve", lambda d: d["seeds"]["0"]["spectra"]["O1 λ=0"], lambda v: f"| O1 λ=0 | {max(v):.4g} |"),
    "study": (
        "run_method",
        lambda d: [d["results"]["digits"]["base kernel"]["0"]["acc"]["1"]],
        lambda v: f"| base kernel | {100 * v[0]:.1f} ± 0.0 |",
    ),
}


@pytest.mark.parametrize("name", EXPERIMENTS)
def test_ctrl_c_writes_the_finished_part_marked_incomplete(name, tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("KSSL_NO_PROGRESS", "1")
    step_function, first_result, table_row = FIRST_STEP[name]
    _interrupt_on_call(monkeypatch, experiments._load(name), step_function, 2)  # during the second step
    out = tmp_path / name
    args = [name, "--quick", "--out", str(out)] + (
        ["--docs", str(tmp_path / "docs")] if name in experiments.WITH_DOCS else []
    )
    assert main(args) == 130
    line = _one_line(capsys.readouterr().err)
    assert "interrupted" in line and f"{out / name}.md" in line and "INCOMPLETE" in line
    data = json.loads((out / f"{name}.json").read_text(encoding="utf-8"))
    meta = data["meta"]
    assert meta["complete"] is False and meta["figures"] == [] and not list(out.glob("*.png"))
    assert meta["interrupted"]["steps_done"] == 1 < meta["interrupted"]["steps_total"]
    assert meta["interrupted"]["last_finished_step"]
    finished = first_result(data)
    assert len(finished) >= 1
    md = (out / f"{name}.md").read_text(encoding="utf-8")
    assert md.startswith("> **INCOMPLETE: the run was interrupted (Ctrl-C) after 1 of ")
    assert f"Rerun `python -m kssl_theory.experiments {name} --quick" in md.splitlines()[0]
    assert table_row(finished) in md and "n/a" in md
    assert not list((tmp_path / "docs").glob("*")), "an interrupted run must not overwrite --docs"


def test_ctrl_c_in_run_raises_experiment_interrupted_after_writing(tmp_path, monkeypatch):
    monkeypatch.setenv("KSSL_NO_PROGRESS", "1")
    _interrupt_on_call(monkeypatch, experiments._load("spectra"), "make_task", 1)
    with pytest.raises(ExperimentInterrupted) as info:
        run("spectra", quick=True, out=tmp_path)
    assert isinstance(info.value, KeyboardInterrupt)
    assert info.value.output.md_path == tmp_path / "spectra.md" and info.value.data["seeds"] == {}
    assert json.loads((tmp_path / "spectra.json").read_text())["meta"]["interrupted"]["steps_done"] == 0
    assert "No spectrum finished." in (tmp_path / "spectra.md").read_text()


def test_ctrl_c_outside_the_loop_is_status_130_in_one_line(tmp_path, monkeypatch, capsys):
    def interrupted():
        raise KeyboardInterrupt

    monkeypatch.setattr(experiments, "require_matplotlib", interrupted)
    assert main(["spectra", "--quick", "--out", str(tmp_path / "o")]) == 130
    assert "interrupted (Ctrl-C) outside the experiment's loop" in _one_line(capsys.readouterr().err)


# Runs the CLI after restoring Python's SIGINT handler (a test runner started in the background
# may have SIGINT ignored, which children would inherit).
SIGINT_WRAPPER = """
import runpy, signal
signal.signal(signal.SIGINT, signal.default_int_handler)
runpy.run_module("kssl_theory.experiments", run_name="__main__", alter_sys=True)
"""


@pytest.mark.skipif(sys.platform == "win32", reason="SIGINT to a child process is POSIX")
def test_real_sigint_writes_incomplete_output_and_exits_130(tmp_path):
    env = {k: v for k, v in os.environ.items() if k != "KSSL_NO_PROGRESS"}  # the bar tells when a step finished
    env["PYTHONPATH"] = str(ROOT) + os.pathsep + env.get("PYTHONPATH", "")
    proc = subprocess.Popen(
        [sys.executable, "-c", SIGINT_WRAPPER, "spectra", "--quick", "--seeds", "8", "--out", str(tmp_path)],
        stderr=subprocess.PIPE,
        stdout=subprocess.DEVNULL,
        env=env,
    )
    stderr, stepped = [], threading.Event()

    def read():
        while chunk := os.read(proc.stderr.fileno(), 4096):
            stderr.append(chunk.decode(errors="replace"))
            if re.search(r"\| *[1-9]\d*/\d+ \[", "".join(stderr)):  # tqdm frame "| 3/200 ["
                stepped.set()

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    try:
        assert stepped.wait(60), "".join(stderr)
        proc.send_signal(signal.SIGINT)
        status = proc.wait(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    reader.join(timeout=10)
    text = "".join(stderr)
    assert status == 130, text
    assert "Traceback" not in text and "interrupted" in text.splitlines()[-1]
    assert (tmp_path / "spectra.md").read_text(encoding="utf-8").startswith("> **INCOMPLETE")
    meta = json.loads((tmp_path / "spectra.json").read_text(encoding="utf-8"))["meta"]
    assert meta["complete"] is False and meta["interrupted"]["steps_done"] >= 1


# --------------------------------------------------------------------------- output paths and matplotlib


def _blocked_out(tmp_path, case):
    """(--out, --docs, text the error line must contain) of one unwritable case."""
    a_file = tmp_path / "a_file"
    a_file.write_text("x")
    if case == "out-is-a-file":
        return a_file, None, f"cannot write the output folder {a_file}: it is a file, not a folder."
    if case == "out-under-a-file":
        return a_file / "sub", None, f"cannot create the output folder {a_file / 'sub'}: {a_file} is a file"
    if case == "md-is-a-directory":
        (tmp_path / "o" / "digits-probe.md").mkdir(parents=True)
        return tmp_path / "o", None, f"cannot write {tmp_path / 'o' / 'digits-probe.md'}: it is a directory"
    if case == "uncreatable":
        return (
            Path("/proc/kssl-experiments-test/o"),
            None,
            "cannot create the output folder /proc/kssl-experiments-test/o",
        )
    if case == "docs-under-a-file":
        return tmp_path / "o", a_file / "docs", f"cannot create the docs folder {a_file / 'docs'}: {a_file} is a file"
    raise AssertionError(case)


@pytest.mark.parametrize(
    "case", ["out-is-a-file", "out-under-a-file", "md-is-a-directory", "uncreatable", "docs-under-a-file"]
)
def test_unwritable_output_is_refused_before_computing(case, tmp_path, monkeypatch, capsys):
    if case == "uncreatable" and not Path("/proc/self").is_dir():
        pytest.skip("needs /proc")
    _no_computation(monkeypatch, "digits-probe")
    out, docs, message = _blocked_out(tmp_path, case)
    assert main(["digits-probe", "--quick", "--out", str(out)] + (["--docs", str(docs)] if docs else [])) == 2
    line = _one_line(capsys.readouterr().err)
    assert line.startswith("kssl-experiments: error: ") and message in line
    with pytest.raises(OutputError):
        run("digits-probe", quick=True, out=out, docs=docs)
    if case == "docs-under-a-file":  # the --out folder made before --docs was refused is gone again
        assert not out.exists()


def test_only_new_empty_folders_are_removed_after_a_refusal(tmp_path):
    from kssl_theory.output_files import new_folders_removed_on_error

    kept, with_file, nested = tmp_path / "existed", tmp_path / "new" / "with_file", tmp_path / "a" / "b" / "c"
    kept.mkdir()
    with pytest.raises(OutputError), new_folders_removed_on_error(kept, with_file, nested):
        for folder in (with_file, nested):
            folder.mkdir(parents=True)
        (with_file / "result.md").write_text("kept")
        raise OutputError("refused")
    assert kept.is_dir() and (with_file / "result.md").read_text() == "kept"
    assert not (tmp_path / "a").exists()  # c, b and a were all made inside the block


def test_unwritable_folder_is_refused_before_computing(tmp_path, monkeypatch, capsys):
    import tempfile

    def denied(*a, **k):
        raise PermissionError(13, "Permission denied")

    _no_computation(monkeypatch, "spectra")
    monkeypatch.setattr(tempfile, "mkstemp", denied)  # as root, chmod does not deny anything: simulate it
    assert main(["spectra", "--quick", "--out", str(tmp_path)]) == 2
    line = _one_line(capsys.readouterr().err)
    assert f"cannot write {tmp_path / 'spectra.md'}: folder {tmp_path} is not writable (Permission denied)" in line
    if hasattr(os, "geteuid") and os.geteuid() != 0:
        monkeypatch.undo()
        _no_computation(monkeypatch, "spectra")
        (tmp_path / "spectra.md").write_text("old")
        (tmp_path / "spectra.md").chmod(0o400)
        assert main(["spectra", "--quick", "--out", str(tmp_path)]) == 2
        assert "it is not a writable file" in _one_line(capsys.readouterr().err)


def test_missing_matplotlib_is_one_line_naming_the_extra(tmp_path, monkeypatch, capsys):
    _no_computation(monkeypatch, "spectra")
    monkeypatch.setitem(sys.modules, "matplotlib", None)  # `import matplotlib` now fails as if not installed
    assert main(["spectra", "--quick", "--out", str(tmp_path / "o")]) == 2
    line = _one_line(capsys.readouterr().err)
    assert "the experiments need matplotlib for their figures: pip install 'kssl-theory[notebooks]'" in line
    assert not (tmp_path / "o").exists(), "nothing may be written"
    with pytest.raises(BackendUnavailableError) as info:
        run("spectra", quick=True, out=tmp_path / "o")
    assert isinstance(info.value, ImportError)
