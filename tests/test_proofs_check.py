"""Tests of the verification runner: every registered claim, the runner's own behaviour, the CLI.

- Every claim of the registry is one parametrized test (small budget: ``CLAIM_EXAMPLES`` examples);
  refuted statements of the original specification must still be refuted (strict expected failure).
- A deliberately false claim, planted here and not in the registry, must fail with a shrunk
  counterexample that ``--replay`` reproduces.
- ``--workers 2`` (Dask LocalCluster) must give the same results as a serial run.
- The CLI's errors are one-line messages with exit status 2, not tracebacks.
"""

from __future__ import annotations

import json
import math
import sys
import types

import numpy as np
import pytest
from hypothesis import strategies as st

import kssl_theory as kt
from proofs_check import cli, engine, registry
from proofs_check.checking import BackendError, Checker, Context, resolve_backend
from proofs_check.registry import Claim, all_claims

CLAIM_EXAMPLES = 8
ALL = all_claims()


# --------------------------------------------------------------------------- every claim is a test


@pytest.mark.parametrize("claim", ALL, ids=[c.id for c in ALL])
def test_claim(claim):
    [result] = engine.run_claims([claim], max_examples=CLAIM_EXAMPLES, seed=0)
    if claim.status == "refuted":
        assert result.verdict == "refuted (as registered)", f"{claim.id} is no longer refuted: {result.verdict}"
        assert all(rec["reproduces"] for rec in result.recorded), "a recorded counterexample no longer fails"
        return
    assert result.ok, (
        f"{claim.id}: {result.verdict}; counterexample {json.dumps(result.counterexample)}; "
        f"failure {json.dumps(result.failure, default=str)}; error {result.error}"
    )


# --------------------------------------------------------------------------- the registry


def test_registry_covers_theory_sections():
    assert len(ALL) >= 30
    ids = [c.id for c in ALL]
    assert len(ids) == len(set(ids))
    assert {c.section for c in ALL} == {"§2", "§3", "§4", "§5", "§6"}
    for c in ALL:
        assert c.statement and c.latex and c.method and c.tolerance and c.title, c.id
        assert c.id.split("-", 1)[0] in ("KR", "IR", "BR"), c.id
    assert any(c.kind == "statistical" for c in ALL)


def test_refuted_claims_are_linked_to_corrections():
    by_id = {c.id: c for c in ALL}
    refuted = [c for c in ALL if c.status == "refuted"]
    assert refuted
    for c in refuted:
        assert c.note, f"{c.id} needs its analysis"
        assert c.counterexamples, f"{c.id} needs its recorded counterexample"
        for target in c.corrected_by.split(","):
            fixed = by_id[target.strip()]
            assert fixed.corrects == c.id and fixed.status == "claimed"


def test_every_claim_states_its_preconditions():
    """Issue 13 item 7: a claim without stated hypotheses cannot be registered, and the ones that need a
    sign or definiteness condition name it (the O2 growth statement fails for signed weights: see
    tests/test_accuracy.py::test_o2_growth_needs_nonnegative_weights)."""
    for c in ALL:
        assert c.preconditions and all(p.strip() for p in c.preconditions), c.id
    by_id = {c.id: c for c in ALL}
    assert any("A ≥ 0" in p for p in by_id["KR-loss-d-O2"].preconditions)
    assert any("≻ 0" in p for p in by_id["KR-align-clique"].preconditions)
    with pytest.raises(registry.ClaimError, match="preconditions must be a non-empty tuple"):
        Claim(
            **{
                **{
                    f: getattr(PLANTED, f)
                    for f in ("id", "title", "source", "statement", "latex", "strategy", "check", "method", "tolerance")
                },
                "preconditions": (),
            }
        )
    with pytest.raises(registry.ClaimError, match="preconditions must be a non-empty tuple"):
        Claim(
            **{
                **{
                    f: getattr(PLANTED, f)
                    for f in ("id", "title", "source", "statement", "latex", "strategy", "check", "method", "tolerance")
                },
                "preconditions": "K ≻ 0",
            }
        )


def test_select_by_glob_and_unknown_ids():
    assert [c.id for c in registry.select(["KR-O1-*"])] == ["KR-O1-haochen", "KR-O1-target", "KR-O1-min"]
    with pytest.raises(registry.ClaimError, match="no claim matches 'KR-nope'"):
        registry.select(["KR-nope"])
    with pytest.raises(registry.ClaimError, match="unknown claim id"):
        registry.get_claim("KR-nope")


def test_parameters_are_json_serialisable():
    from hypothesis import given, settings

    for claim in ALL[::7]:

        @settings(max_examples=3, database=None, deadline=None)
        @given(claim.strategy)
        def draw(params):
            assert json.loads(json.dumps(params)) == params

        draw()


# --------------------------------------------------------------------------- a planted false claim


def _planted_check(params, ctx, chk):
    """False on purpose: 'the O1 minimum is 0 whenever K ≻ 0' (it is m²·(n − d) on cliques with d < n)."""
    import kssl_theory as kt

    rng = np.random.default_rng(params["seed"])
    groups = np.repeat(np.arange(len(params["sizes"])), params["sizes"])
    X = rng.standard_normal((groups.size, 2))
    K = ctx.put(np.exp(-((X[:, None] - X[None]) ** 2).sum(-1)) + 0.1 * np.eye(groups.size))
    A = ctx.put((groups[:, None] == groups[None, :]).astype(float))
    sol = kt.solve("contrastive", K, A, dim=params["d"])
    chk.close("O1 minimum is 0", ctx.scalar(sol.loss), 0.0, 1e-9)


PLANTED = Claim(
    id="TEST-planted-false",
    title="planted false claim: the O1 minimum is always 0",
    source="tests §3",
    preconditions=("K ≻ 0",),
    statement="The O1 minimum is 0 whenever K ≻ 0 (false).",
    latex=r"\min L_C = 0",
    strategy=st.fixed_dictionaries(
        {
            "seed": st.integers(0, 2**32 - 1),
            "sizes": st.lists(st.integers(1, 4), min_size=1, max_size=5),
        }
    ).flatmap(lambda p: st.integers(1, sum(p["sizes"])).map(lambda d: {**p, "d": d})),
    check=_planted_check,
    method="kt.solve",
    tolerance="1e-9",
    examples=30,
)


@pytest.fixture
def planted():
    registry.register(PLANTED)
    yield PLANTED
    registry.unregister(PLANTED.id)


def test_planted_false_claim_fails_with_a_shrunk_counterexample(planted):
    [result] = engine.run_claims([planted], max_examples=30, seed=3)
    assert not result.ok and result.verdict == "FAILS"
    ce = result.counterexample
    assert ce is not None
    # Shrunk: Hypothesis minimises the seed and the sizes. One group (any size) has A of rank 1, reached
    # at d = 1 with loss 0, so the minimal failure is two singleton groups with d = 1 (loss 1).
    assert ce["seed"] == 0
    assert ce["d"] == 1 and sum(ce["sizes"]) == 2
    assert result.failure["failed_checks"][0]["check"] == "O1 minimum is 0"
    chk, error = engine.replay(planted, ce, Context())
    assert error is None and not chk.ok


def test_planted_claim_through_the_cli_report_and_replay(planted, tmp_path, capsys):
    report = tmp_path / "report.md"
    status = cli.main(
        [
            "--claims",
            planted.id,
            "--max-examples",
            "30",
            "--seed",
            "3",
            "--report",
            str(report),
            "--no-progress",
            "--no-symbolic",
        ]
    )
    out = capsys.readouterr().out
    assert status == 1
    assert "TEST-planted-false" in out and "FAILS" in out
    data = json.loads(report.with_suffix(".json").read_text())
    assert data["passed"] is False
    [entry] = data["claims"]
    assert entry["counterexample"]["d"] == 1
    assert entry["preconditions"] == ["K ≻ 0"]
    md = report.read_text()
    assert "- *Preconditions:* K ≻ 0." in md
    assert "Minimal counterexample found by the search" in md
    assert f"--replay {report.with_suffix('.json')} --claims {planted.id}" in md

    status = cli.main(["--replay", str(report.with_suffix(".json"))])
    out = capsys.readouterr().out
    assert status == 1
    assert "reproduced: the claim FAILS on these parameters" in out

    single = tmp_path / "ce.json"
    single.write_text(json.dumps({"claim": planted.id, "params": entry["counterexample"]}))
    assert cli.main(["--replay", str(single)]) == 1
    fixed = tmp_path / "ok.json"
    fixed.write_text(json.dumps({"claim": planted.id, "params": {"seed": 0, "sizes": [1], "d": 1}}))
    assert cli.main(["--replay", str(fixed)]) == 0
    assert "not reproduced" in capsys.readouterr().out


# --------------------------------------------------------------------------- determinism and scale-out


SUBSET = ["KR-O1-haochen", "KR-O3-clique", "KR-loss-monotone-d", "KR-align-statistical", "IR-cover-all"]


def _comparable(path):
    data = json.loads(path.read_text())
    keep = (
        "id",
        "verdict",
        "ok",
        "examples_passed",
        "examples_total",
        "worst_ratio",
        "worst_check",
        "counterexample",
        "failure",
        "successes",
        "trials",
        "p_value",
        "recorded",
        "batches",
    )
    return data["passed"], [{k: c[k] for k in keep} for c in data["claims"]]


def test_same_seed_same_results():
    claims = registry.select(SUBSET[:2])
    a = engine.run_claims(claims, max_examples=12, seed=7)
    b = engine.run_claims(claims, max_examples=12, seed=7)
    strip = lambda r: {**r.as_dict(), "seconds": 0}  # noqa: E731
    assert [strip(r) for r in a] == [strip(r) for r in b]


def test_workers_2_gives_the_serial_results(tmp_path):
    pytest.importorskip("distributed")
    common = ["--claims", *SUBSET, "--max-examples", "60", "--seed", "11", "--no-progress", "--no-symbolic"]
    serial, parallel = tmp_path / "serial.md", tmp_path / "parallel.md"
    assert cli.main([*common, "--report", str(serial)]) == 0
    assert cli.main([*common, "--workers", "2", "--report", str(parallel)]) == 0
    s, p = _comparable(serial.with_suffix(".json")), _comparable(parallel.with_suffix(".json"))
    assert s == p
    # 60 examples = 2 batches, spread over the two workers; the refuted claim stops at its first failure.
    assert [c["batches"] for c in s[1]] == [2, 2, 1, 2, 2]
    assert "LocalCluster, 2 worker" in parallel.read_text()


def test_scheduler_address_runs_on_an_existing_cluster(tmp_path, capsys):
    distributed = pytest.importorskip("distributed")
    import logging

    with distributed.LocalCluster(
        n_workers=1, threads_per_worker=1, processes=True, dashboard_address=None, silence_logs=logging.ERROR
    ) as cluster:
        status = cli.main(
            [
                "--claims",
                "IR-cover-all",
                "KR-O1-haochen",
                "--max-examples",
                "5",
                "--no-progress",
                "--no-symbolic",
                "--scheduler",
                cluster.scheduler_address,
                "--report",
                str(tmp_path / "r.md"),
            ]
        )
    assert status == 0, capsys.readouterr().out
    assert f"Dask scheduler {cluster.scheduler_address}" in (tmp_path / "r.md").read_text()


# --------------------------------------------------------------------------- engine details


def test_statistical_verdict_uses_a_binomial_test():
    claim = registry.get_claim("KR-align-statistical")
    keys = lambda n, ok: [[f"k{ok}{i}", ok] for i in range(n)]  # noqa: E731
    good = engine.BatchResult(claim.id, 0, trial_keys=keys(95, True) + keys(5, False))
    bad = engine.BatchResult(claim.id, 0, trial_keys=keys(60, True) + keys(40, False))
    assert engine.combine(claim, [good]).verdict == "meets its rate"
    res = engine.combine(claim, [bad])
    assert res.verdict == "below its rate" and not res.ok and res.p_value < 0.05
    dup = engine.BatchResult(claim.id, 1, trial_keys=keys(95, True))
    assert engine.combine(claim, [good, dup]).trials == 100


def test_checker_ratios():
    chk = Checker()
    assert chk.close("a", 1.0, 1.0 + 1e-12, 1e-10)
    assert chk.le("b", 1.0, 2.0, 0.0) and chk.ge("c", math.inf, 0.0, 0.0)
    assert not chk.gt("d", 0.0, 1e-9)
    assert not chk.close("e", np.nan, 0.0, 1.0)
    assert chk.worst.ratio == math.inf and not chk.ok


def test_symbolic_marks_attach_proofs_by_name(monkeypatch):
    from proofs_check import symbolic

    fake = types.ModuleType("kssl_theory.symbolic.proofs")
    fake.prove_all = lambda: [
        types.SimpleNamespace(name="spectral_contrastive_identity", holds=True),
        types.SimpleNamespace(name="vicreg_contrastive_identity", holds=False, detail="mismatch"),
        types.SimpleNamespace(name="completed_square:contrastive", holds=True),
    ]
    monkeypatch.setitem(sys.modules, "kssl_theory.symbolic.proofs", fake)
    symbolic._results.cache_clear()
    try:
        marks = symbolic.symbolic_marks(
            registry.select(["KR-O1-haochen", "KR-O2-identity", "KR-O1-target", "KR-reg-limit"])
        )
    finally:
        symbolic._results.cache_clear()
    assert marks["KR-O1-haochen"] == ("✓", "proven: spectral_contrastive_identity")
    assert marks["KR-O2-identity"][0] == "✗" and "mismatch" in marks["KR-O2-identity"][1]
    assert marks["KR-O1-target"][0] == "–" and "lemma:reg_through_z" in marks["KR-O1-target"][1]
    assert marks["KR-reg-limit"] == ("–", "no symbolic proof attached")


def test_symbolic_names_exist_in_kssl_theory():
    proofs = pytest.importorskip("kssl_theory.symbolic.proofs")
    src = open(proofs.__file__, encoding="utf-8").read()
    for c in ALL:
        for name in (c.symbolic,) if isinstance(c.symbolic, str) else c.symbolic or ():
            head = name.split(":", 1)[0]
            assert head in src, f"{c.id}: no proof family {head!r} in kssl_theory.symbolic.proofs"


@pytest.mark.slow
def test_every_attached_symbolic_proof_exists_and_holds():
    from proofs_check.symbolic import symbolic_marks

    attached = [c for c in ALL if c.symbolic]
    marks = symbolic_marks(attached)
    assert {cid: mark for cid, (mark, _) in marks.items()} == {c.id: "✓" for c in attached}


# --------------------------------------------------------------------------- CLI errors and listing


def test_list_prints_every_claim(capsys):
    assert cli.main(["--list"]) == 0
    out = capsys.readouterr().out
    for c in ALL:
        assert c.id in out
    assert f"{len(ALL)} claims" in out


def test_unknown_claim_id_is_a_clear_error(capsys):
    assert cli.main(["--claims", "KR-does-not-exist", "--no-report"]) == 2
    err = capsys.readouterr().err
    assert "kssl-verify: error: no claim matches 'KR-does-not-exist'" in err
    assert "Traceback" not in err


def test_unavailable_backend_is_a_clear_error(capsys):
    try:
        resolve_backend("cupy")
        pytest.skip("CuPy with a GPU is available here")
    except BackendError:
        pass
    assert cli.main(["--backend", "cupy", "--claims", "KR-O1-haochen", "--no-report"]) == 2
    err = capsys.readouterr().err
    assert "backend 'cupy'" in err and "Traceback" not in err


def test_unwritable_report_path_is_a_clear_error(tmp_path, capsys):
    missing = tmp_path / "no" / "such" / "dir" / "report.md"
    assert cli.main(["--claims", "KR-O1-haochen", "--max-examples", "2", "--report", str(missing)]) == 2
    assert "cannot write the report" in capsys.readouterr().err
    directory = tmp_path / "taken.md"
    directory.mkdir()
    assert cli.main(["--claims", "KR-O1-haochen", "--max-examples", "2", "--report", str(directory)]) == 2
    assert "not a writable file" in capsys.readouterr().err


def test_bad_replay_file_and_bad_numbers(tmp_path, capsys):
    assert cli.main(["--replay", str(tmp_path / "missing.json")]) == 2
    assert "does not exist" in capsys.readouterr().err
    assert cli.main(["--max-examples", "0"]) == 2
    assert cli.main(["--workers", "0"]) == 2


def test_array_api_strict_float32_run(tmp_path, capsys):
    pytest.importorskip("array_api_strict")
    status = cli.main(
        [
            "--claims",
            "KR-O1-target",
            "KR-O3-kyfan",
            "IR-simplex-etf",
            "--max-examples",
            "4",
            "--backend",
            "array-api-strict",
            "--dtype",
            "float32",
            "--no-progress",
            "--no-symbolic",
            "--report",
            str(tmp_path / "r.md"),
        ]
    )
    assert status == 0, capsys.readouterr().out


def test_singular_hard_constrained_claim_sees_an_optimum_outside_range_K(monkeypatch):
    """KR-O3-O4-singular can fail: a solver that ignores range(K) (solves with K + I, so every Z is
    feasible) reaches a lower O3 value / a different O4 optimum and must be caught, as must a solver
    that accepts d > rank(K)."""
    claim = registry.get_claim("KR-O3-O4-singular")
    [honest] = engine.run_claims([claim], max_examples=30, seed=0)
    assert honest.ok
    real_solve = kt.solve

    def ignores_range(objective, K, A, dim, **opts):
        return real_solve(objective, K + np.eye(K.shape[0]), A, dim, **opts)

    monkeypatch.setattr(kt, "solve", ignores_range)
    [planted] = engine.run_claims([claim], max_examples=30, seed=0)
    assert not planted.ok


@pytest.mark.parametrize("factor", [0.0, 100.0])
def test_planted_uniqueness_claim_catches_a_wrong_band(monkeypatch, factor):
    """KR-unique-planted decides ties from constructed spectra, not from the package: a tie band of zero
    (every exact tie called unique) and a band 100x too wide (resolvable gaps called ties) both fail it."""
    from kssl_theory.kernel_regime import engine as solvers_module

    claim = registry.get_claim("KR-unique-planted")
    honest = solvers_module.eigenpair_error
    monkeypatch.setattr(solvers_module, "eigenpair_error", lambda *a, **k: factor * honest(*a, **k))
    [planted] = engine.run_claims([claim], max_examples=60, seed=0)
    assert not planted.ok


def test_hard_adversarial_claim_sees_a_perturbed_kernel(monkeypatch):
    """KR-hard-adversarial can fail: a solver that works on K + 1e-11 ||K|| I (a silent ridge, as an
    engine that regularised K to factor it would) leaves coefficients with KC != Z beyond a
    backward-stable solve's residual, and must be caught."""
    claim = registry.get_claim("KR-hard-adversarial")
    real_solve = kt.solve

    def ridged(objective, K, A, dim, **opts):
        return real_solve(objective, K + 1e-11 * np.linalg.norm(K, 2) * np.eye(K.shape[0]), A, dim, **opts)

    monkeypatch.setattr(kt, "solve", ridged)
    [planted] = engine.run_claims([claim], max_examples=40, seed=0)
    assert not planted.ok and planted.error is None


def test_the_pass_rule_counts_a_failed_symbolic_proof():
    """One rule for the CLI exit status and the report's PASSED line: behaving as registered is not
    enough when the attached SymPy proof failed."""
    from proofs_check.symbolic import FAILED, NONE, PROVEN

    def result(ok, symbolic):
        return engine.ClaimResult(
            id="X",
            title="t",
            source="s",
            kind="exact",
            status="holds",
            verdict="holds",
            ok=ok,
            examples_passed=1,
            examples_total=1,
            worst_ratio=0.0,
            worst_check="",
            seconds=0.0,
            batches=1,
            symbolic=symbolic,
        )

    assert result(True, PROVEN).passed and result(True, NONE).passed
    assert not result(True, FAILED).passed and not result(False, PROVEN).passed
    assert engine.all_passed([result(True, PROVEN), result(True, NONE)])
    assert not engine.all_passed([result(True, PROVEN), result(True, FAILED)])


def test_a_proof_run_that_raises_fails_every_claim_with_a_proof(monkeypatch):
    from proofs_check import symbolic

    fake = types.ModuleType("kssl_theory.symbolic.proofs")

    def broken():
        raise RuntimeError("sympy exploded")

    fake.prove_all = broken
    monkeypatch.setitem(sys.modules, "kssl_theory.symbolic.proofs", fake)
    symbolic._results.cache_clear()
    try:
        marks = symbolic.symbolic_marks(registry.select(["KR-O1-haochen", "KR-reg-limit"]))
    finally:
        symbolic._results.cache_clear()
    assert marks["KR-O1-haochen"][0] == symbolic.FAILED and "sympy exploded" in marks["KR-O1-haochen"][1]
    assert marks["KR-reg-limit"] == (symbolic.NONE, "no symbolic proof attached")


def test_the_cli_plans_once(monkeypatch):
    """The plan (claims -> batches of examples) is computed once per run and handed to the engine."""
    calls = []
    real_plan = engine.plan

    def counting_plan(*args, **kwargs):
        calls.append(1)
        return real_plan(*args, **kwargs)

    monkeypatch.setattr(engine, "plan", counting_plan)
    argv = ["--claims", "KR-O1-haochen", "--max-examples", "3", "--no-report", "--no-progress", "--no-symbolic"]
    assert cli.main(argv) == 0
    assert len(calls) == 1
