"""The downstream study (``python -m kssl_theory.experiments study``, issue 17).

- ``study --quick`` runs end to end through ``main`` and ``run``, writes study.md / study.json /
  figures / ``--docs``, and reports every (data set, seed, method) of the grid, skipped ones included.
- The per-configuration cache: a second run computes nothing, a changed setting recomputes, an
  interrupted run keeps what finished and a rerun resumes from it.
- Each metric against an independent computation on a small hand-checkable case.
"""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
from scipy import stats

from kssl_theory.errors import InputError
from kssl_theory.experiments import ExperimentInterrupted, main, run
from kssl_theory.experiments import study as study_mod
from kssl_theory.experiments import study_methods as sm
from kssl_theory.experiments.study_datasets import get_study_dataset
from kssl_theory.graphs import adjacency
from kssl_theory.kernels import rbf

QUICK = study_mod.settings(True)


@pytest.fixture(autouse=True)
def _no_progress(monkeypatch):
    monkeypatch.setenv("KSSL_NO_PROGRESS", "1")


def _counting(monkeypatch, name: str) -> list:
    """Count calls of ``study.<name>`` (the module's own reference, which the run loop calls)."""
    calls: list = []
    real = getattr(study_mod, name)

    def counted(*args, **kwargs):
        calls.append(1)
        return real(*args, **kwargs)

    monkeypatch.setattr(study_mod, name, counted)
    return calls


@pytest.fixture(scope="module")
def quick_run(tmp_path_factory):
    """One ``study --quick`` through the command line (shared: it takes ~10 s)."""
    root = tmp_path_factory.mktemp("study")
    out, docs = root / "out", root / "docs"
    mp = pytest.MonkeyPatch()
    mp.setenv("KSSL_NO_PROGRESS", "1")
    try:
        status = main(["study", "--quick", "--out", str(out), "--docs", str(docs)])
    finally:
        mp.undo()
    return status, out, docs


# --------------------------------------------------------------------------------------------------
# end to end


def test_quick_run_writes_every_configuration(quick_run):
    status, out, docs = quick_run
    assert status == 0
    data = json.loads((out / "study.json").read_text(encoding="utf-8"))
    assert data["meta"]["complete"] is True
    assert set(data["meta"]["figures"]) == set(study_mod.FIGURES)
    for fig in study_mod.FIGURES:
        assert (out / fig).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
        assert (docs / f"study_{fig}").exists()
    labels = [m.label for m in sm.method_grid()]
    assert data["methods"] == labels
    seeds = [str(s) for s in range(QUICK["seeds"])]
    assert set(data["results"]) == set(QUICK["datasets"])
    for name, per in data["results"].items():
        assert list(per) == labels
        for label in labels:
            assert sorted(per[label]) == seeds, (name, label)
            for res in per[label].values():
                assert res["status"] in ("ok", "skipped"), (name, label, res)
                if res["status"] == "skipped":
                    assert res["reason"]
    md = (out / "study.md").read_text(encoding="utf-8")
    assert md.startswith("# study") and "INCOMPLETE" not in md
    assert "## Rules fixed before any run" in md and "## Findings" in md
    # every row of every data set is in its table, skipped ones included
    for name in QUICK["datasets"]:
        section = md.split(f"### {name}\n", 1)[1].split("\n### ", 1)[0]
        for label in labels:
            if not label.startswith("check:"):
                assert f"| {label} |" in section, (name, label)
    # budgets above the smallest training class are skipped and said so (digits: 4 per class < 5)
    assert data["datasets"]["digits"]["tasks"]["0"]["ks_skipped"] == [5]
    doc = (docs / "study.md").read_text(encoding="utf-8")
    assert "](study_gain_heatmap.png)" in doc and doc.index("## Findings") > doc.index("## Figures")


def test_quick_run_accuracies_are_fractions_and_base_beats_chance(quick_run):
    _, out, _ = quick_run
    data = json.loads((out / "study.json").read_text(encoding="utf-8"))
    for name, per in data["results"].items():
        chance = 1 / data["datasets"][name]["n_classes"]
        base = [a for r in per["base kernel"].values() for a in r["acc"].values()]
        assert all(0 <= a <= 1 for a in base) and np.mean(base) > chance


def test_findings_cite_rows_that_exist(quick_run):
    _, out, _ = quick_run
    data = json.loads((out / "study.json").read_text(encoding="utf-8"))
    import re

    cited = re.findall(r"\[([a-z_0-9]+) · ([^\]]+)\]", "\n".join(data["findings"]))
    assert cited
    for name, label in cited:
        assert label in data["summary"][name], (name, label)


def test_second_run_reuses_the_cache(quick_run, monkeypatch):
    _, out, _ = quick_run
    first = json.loads((out / "study.json").read_text(encoding="utf-8"))
    solves, tasks = _counting(monkeypatch, "run_method"), _counting(monkeypatch, "make_study_task")
    data = run("study", quick=True, out=out)
    assert solves == [] and tasks == []
    total = len(QUICK["datasets"]) * QUICK["seeds"] * len(sm.method_grid())
    assert data["cache"] == {"computed": 0, "reused": total, "folder": str(out / "cache")}
    assert json.loads(json.dumps(data["results"], default=str)) == first["results"]


def _tiny(monkeypatch, **changes):
    """A one-data-set, four-method study (seconds), with ``changes`` to the quick settings."""
    cfg = {**QUICK, "datasets": ("moons",), **changes}
    monkeypatch.setattr(study_mod, "settings", lambda quick: dict(cfg))
    grid = [
        sm.Method("base"),
        sm.Method("ssl", "contrastive", "clique", "C", 0.0),
        sm.Method("ssl", "whitened", "knn", "C"),
        sm.Method("check", "duality"),
    ]
    monkeypatch.setattr(study_mod, "method_grid", lambda: list(grid))
    return grid


def test_a_changed_setting_recomputes(tmp_path, monkeypatch):
    grid = _tiny(monkeypatch)
    calls = _counting(monkeypatch, "run_method")
    run("study", quick=True, out=tmp_path, seeds=[0])
    assert len(calls) == len(grid)
    run("study", quick=True, out=tmp_path, seeds=[0])
    assert len(calls) == len(grid)  # nothing new
    _tiny(monkeypatch, knn=3)
    data = run("study", quick=True, out=tmp_path, seeds=[0])
    assert len(calls) == 2 * len(grid) and data["cache"]["computed"] == len(grid)
    run("study", quick=True, out=tmp_path, seeds=[0, 1])  # a new seed computes that seed only
    assert len(calls) == 3 * len(grid)


def test_a_cached_result_with_another_key_is_not_used(tmp_path):
    key = {"a": 1}
    method = sm.Method("base")
    path = sm.cache_path(tmp_path, {"dataset": "x", "seed": 0, **key}, method)
    sm.write_cache(path, {"dataset": "x", "seed": 0, **key}, {"status": "ok", "value": math.inf})
    assert sm.read_cache(path, {"dataset": "x", "seed": 0, **key}) == {"status": "ok", "value": "inf"}
    assert sm.read_cache(path, {"dataset": "x", "seed": 0, "a": 2}) is None
    path.write_text("{not json")
    assert sm.read_cache(path, {"dataset": "x", "seed": 0, **key}) is None


def test_ctrl_c_keeps_finished_results_and_a_rerun_resumes(tmp_path, monkeypatch):
    grid = _tiny(monkeypatch)
    real, calls = study_mod.run_method, []

    def interrupted(*args, **kwargs):
        calls.append(1)
        if len(calls) == 3:
            raise KeyboardInterrupt
        return real(*args, **kwargs)

    monkeypatch.setattr(study_mod, "run_method", interrupted)
    with pytest.raises(ExperimentInterrupted) as info:
        run("study", quick=True, out=tmp_path, seeds=[0])
    assert info.value.data["cache"]["computed"] == 2
    assert (tmp_path / "study.md").read_text(encoding="utf-8").startswith("> **INCOMPLETE")
    data = run("study", quick=True, out=tmp_path, seeds=[0])
    assert data["cache"] == {"computed": len(grid) - 2, "reused": 2, "folder": str(tmp_path / "cache")}


# --------------------------------------------------------------------------------------------------
# metrics against independent computations


def test_effective_rank_of_known_spectra():
    # p = (1/2, 1/4, 1/4): entropy 1.5 bits, so erank = 2^1.5; r equal eigenvalues give r.
    assert sm.effective_rank([2.0, 1.0, 1.0, 0.0]) == pytest.approx(2**1.5, rel=1e-14)
    assert sm.effective_rank(np.full(7, 3.0)) == pytest.approx(7.0, rel=1e-14)
    assert sm.effective_rank([5.0]) == pytest.approx(1.0)
    assert sm.effective_rank([0.0, 0.0]) == 0.0
    assert sm.effective_rank([1.0, -1e-17]) == pytest.approx(1.0)  # negative round-off clipped
    w = np.random.default_rng(0).uniform(size=9)
    assert sm.effective_rank(w) == pytest.approx(sm.effective_rank(1e6 * w), rel=1e-12)  # scale-free


def test_paired_ci_against_scipy():
    a = np.array([0.71, 0.65, 0.80, 0.77, 0.69])
    b = np.array([0.70, 0.60, 0.81, 0.70, 0.66])
    got = sm.paired_ci(a, b)
    ci = stats.ttest_rel(a, b).confidence_interval(0.95)
    # same formula, two implementations: agreement to rounding of a handful of flops
    assert got["lo"] == pytest.approx(ci.low, rel=1e-12) and got["hi"] == pytest.approx(ci.high, rel=1e-12)
    assert got["mean"] == pytest.approx(np.mean(a - b), rel=1e-12) and got["n"] == 5 and got["wins"] == 4
    # by hand: differences 1, 2, 3 -> mean 2, sd 1, half-width t_{0.975, 2} / sqrt(3)
    hand = sm.paired_ci([1, 2, 3], [0, 0, 0])
    assert hand["hi"] - 2 == pytest.approx(stats.t.ppf(0.975, 2) / math.sqrt(3), rel=1e-12)
    # missing pairs are dropped; one pair has no interval
    assert sm.paired_ci([1.0, None, 3.0], [0.0, 0.0, math.nan])["n"] == 1
    assert math.isnan(sm.paired_ci([1.0], [0.0])["lo"])


def test_spearman_against_ranks_by_hand():
    x = np.array([0.3, 0.1, 0.9, 0.5, 0.7])
    y = np.array([10.0, 40.0, 20.0, 30.0, 50.0])
    rx, ry = np.argsort(np.argsort(x)), np.argsort(np.argsort(y))  # distinct values: ranks by sorting
    assert sm.spearman(x, y)["rho"] == pytest.approx(np.corrcoef(rx, ry)[0, 1], rel=1e-12)
    assert sm.spearman(x, 2 * x + 1)["rho"] == pytest.approx(1.0)
    assert sm.spearman([1, 2, math.nan, 4], [4, 3, 0, 1])["n"] == 3
    assert math.isnan(sm.spearman([1, 1, 1], [1, 2, 3])["rho"])


def test_relative_gap():
    assert sm.relative_gap([3.0, 2.0, 1.0], 1, 1.0) == pytest.approx(1 / 3)
    assert sm.relative_gap([-4.0, 2.0, 1.0], 2, 1.0) == pytest.approx(1 / 4)  # scale: the largest |λ| up to d + 1
    assert sm.relative_gap([1.0], 1, math.inf) == math.inf


def test_kernel_pca_matches_scikit_learn():
    from sklearn.decomposition import KernelPCA

    rng = np.random.default_rng(1)
    X, Y = rng.normal(size=(30, 3)), rng.normal(size=(7, 3))
    K, K_new = rbf(X, bandwidth=1.5), rbf(Y, X, bandwidth=1.5)
    embed, w = sm.kernel_pca(K, 4)
    ref = KernelPCA(n_components=4, kernel="precomputed", eigen_solver="dense").fit(K)
    for ours, theirs in ((embed(K), ref.transform(K)), (embed(K_new), ref.transform(K_new))):
        signs = np.sign(np.sum(ours * theirs, axis=0))  # each component is defined up to its sign
        # both come from a dense symmetric eigensolver of the same 30 x 30 matrix; its eigenvalues are
        # separated by > 1e-2 here, so eigenvectors agree to ~eps / gap ~ 1e-13
        np.testing.assert_allclose(ours * signs, theirs, atol=1e-9)
    assert w == pytest.approx(ref.eigenvalues_, rel=1e-10)
    with pytest.raises(InputError, match="numerical rank"):
        sm.kernel_pca(np.ones((5, 5)), 2)


def test_penalty_rule_prices_out_small_kernel_directions():
    # Independent check of the Courant-Fischer bound in penalty_for_rule's docstring: the target
    # T = A - (λ/2) K^{-1} has at most #{μ_i(K) >= ρ μ_max} positive eigenvalues.
    rng = np.random.default_rng(2)
    X = rng.normal(size=(24, 2))
    K = rbf(X, bandwidth=1.0) + 1e-8 * np.eye(24)
    A = adjacency(np.repeat(np.arange(8), 3))
    mu = np.linalg.eigvalsh(K)
    for rho in (1e-1, 1e-2, 1e-3):
        lam = sm.penalty_for_rule(mu, A, rho)
        assert lam == pytest.approx(2 * rho * 3 * mu[-1])  # λmax of 8 cliques of 3 is 3
        T = A - lam / 2 * np.linalg.inv(K)
        assert np.sum(np.linalg.eigvalsh(T) > 0) <= np.sum(mu >= rho * mu[-1])


@pytest.fixture(scope="module")
def small_task():
    return sm.make_study_task(
        get_study_dataset("digits"), 3, n_train=20, n_test=30, n_views=2, n_fresh=10, fresh_views=2, knn=3, ks=(1, 2, 5)
    )


def test_task_is_built_by_the_stated_rules(small_task):
    t = small_task
    assert t.K.shape == (40, 40) and t.ks == (1, 2)  # 2 training points per class: k = 5 is skipped
    assert t.bandwidth == pytest.approx(
        np.median(np.linalg.norm(t.views[:, None] - t.views[None], axis=-1)[np.triu_indices(40, 1)])
    )
    np.testing.assert_array_equal(t.graphs["union"], t.graphs["clique"] + t.graphs["knn"])
    assert np.all(np.diag(t.graphs["knn"]) == 0)  # kNN edges join different base points only
    # fresh views are views of test points (the first n_fresh), none of them a training view
    assert t.fresh.shape == (20, 64) and np.min(np.linalg.norm(t.fresh[:, None] - t.views[None], axis=-1)) > 0


def test_o1_clique_at_d_equal_n_is_idealized_with_n_equal_eigenvalues(small_task):
    # docs/theory.md §4/§6: G* = A, so the training codes are idealized and G* has n equal eigenvalues
    res = sm.run_method(small_task, sm.Method("ssl", "contrastive", "clique", "n", 0.0))
    assert small_task.info["kernel_positive_definite"]
    q = res["quantities"]
    assert q["idealized"] and q["invariant"] and q["effective_rank"] == pytest.approx(small_task.n, rel=1e-9)
    check = sm.run_method(small_task, sm.Method("check", "duality"))["check"]
    bound = small_task.info["N"] * small_task.info["kernel_condition"] * np.finfo(float).eps
    assert max(v for d in check.values() for v in d.values()) <= bound


def test_invalid_combinations_are_skipped_with_a_reason(small_task):
    res = sm.run_method(small_task, sm.Method("ssl", "whitened", "clique", "4C"))  # 4C = 40 > n = 20
    assert res["status"] == "skipped" and "exceeds" in res["reason"]
