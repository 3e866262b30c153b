"""The experiment runner: every experiment's --quick run writes its table, JSON and figures."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from kssl_theory.experiments import EXPERIMENTS, main
from kssl_theory.experiments._common import parse_seeds

EXPECTED_FIGURES = {
    "digits-probe": {"accuracy_vs_labels.png", "gain_over_base.png"},
    "digits-ablation": {"ablation_bandwidth.png", "ablation_strength.png", "ablation_original.png", "ablation_knn.png"},
    "alignment": {"alignment_vs_dim.png", "alignment_vs_bandwidth.png", "induced_kernel_heatmaps.png"},
    "spectra": {"target_spectra.png", "uniqueness_gap.png"},
}


@pytest.mark.parametrize("name", EXPERIMENTS)
def test_quick_run_writes_outputs(name, tmp_path, monkeypatch):
    monkeypatch.setenv("KSSL_NO_PROGRESS", "1")
    out = tmp_path / name
    extra = ["--docs", str(tmp_path / "docs")] if name == "digits-probe" else []
    assert main([name, "--quick", "--out", str(out), *extra]) == 0
    md = (out / f"{name}.md").read_text(encoding="utf-8")
    assert md.startswith("# ") and "|---|" in md and "Regenerate with `python -m kssl_theory.experiments" in md
    data = json.loads((out / f"{name}.json").read_text(encoding="utf-8"))
    assert data["meta"]["experiment"] == name and set(data["meta"]["figures"]) == EXPECTED_FIGURES[name]
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


def test_module_entry_point_help():
    res = subprocess.run([sys.executable, "-m", "kssl_theory.experiments", "--help"], capture_output=True,
                         text=True, check=True)
    for name in EXPERIMENTS:
        assert name in res.stdout


def test_unknown_experiment_is_a_usage_error(capsys):
    with pytest.raises(SystemExit) as exc:
        main(["no-such-experiment"])
    assert exc.value.code == 2
