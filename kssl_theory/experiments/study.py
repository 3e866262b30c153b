r"""study: when does the induced kernel help downstream? Every method on the same splits of six data sets.

For each data set of :mod:`kssl_theory.experiments.study_datasets` and each seed: a stratified split
of class-balanced base points into training and test points, ``m`` augmented views of every
training point (the SSL training set), and an RBF base kernel with the median-heuristic bandwidth of
the training views. On that split the study runs a predeclared grid
(:func:`~kssl_theory.experiments.study_methods.method_grid`): the base kernel, kernel PCA,
LabelSpreading (transductive), and the closed-form optima of O1–O4 (docs/theory.md §3) on three
relation graphs and three dimensions; every representation is probed by kernel ridge regression
with 1–20 labelled training points per class, and compared with the base kernel by paired
differences over seeds (95% t-intervals). Next to accuracy it reports the theory's quantities —
alignment and decorrelation on fresh test views (docs/theory.md §4), idealization of the training codes
(§6), the effective rank of the training Gram matrix and the target's spectrum (§3) — with their
Spearman correlation with accuracy, checks two theorems on the run's data, and ends with findings
generated from the numbers.

Results are cached per (data set, seed, method) under ``OUT/cache`` as soon as they finish; a rerun
reuses every result whose settings are unchanged (the cache key holds all of them) and computes the
rest, so an interrupted run resumes where it stopped.
"""

from __future__ import annotations

import math
import pathlib
import shutil
from typing import Any

import numpy as np
from threadpoolctl import threadpool_limits

from ._common import Output, fmt_num, jsonable, markdown_table, pyplot, writing
from .study_methods import (
    DIMS,
    GRAPHS,
    LABEL_SPREADING,
    LABELS_PER_CLASS,
    RHO,
    Method,
    cache_key,
    cache_path,
    make_study_task,
    method_grid,
    paired_ci,
    read_cache,
    run_method,
    spearman,
    write_cache,
)

NAME = "study"
#: The results page written into ``docs``.
DOCS_FILE = "study.md"
#: Figures (file names in ``--out``; ``study_`` is prepended in ``--docs``).
FIGURES = ("gain_heatmap.png", "accuracy_vs_labels.png", "alignment_scatter.png")
#: SSL rows drawn in the accuracy-vs-labels figure, fixed before any run (with the base kernel,
#: LabelSpreading and kernel PCA d=4C as references).
FIGURE_ROWS = ("O1 clique d=n λ=0", "O1 clique d=4C λ=rule", "O1 union d=C λ=0", "O3 union d=C", "O4 clique d=n")
#: Label budget of the scatter figure: the largest budget <= this one that the data set has.
SCATTER_BUDGET = 5
#: Quantities correlated with accuracy (key in a result's ``quantities`` → column title).
QUANTITIES = {
    "alignment": "alignment (fresh views)",
    "decorrelation": "decorrelation (fresh views)",
    "idealized": "idealized (training codes)",
    "effective_rank": "effective rank of G*",
    "relative_gap": "relative eigen-gap at d",
}
BASE = "base kernel"


def settings(quick: bool) -> dict:
    """Sizes of a full or a ``--quick`` run.

    Full: every data set, 10 seeds, ``n = 250`` training and 300 test base points (a data set with
    fewer than 550 samples, i.e. wine, is split in halves of all it has), ``m = 3`` views
    (``N = 750``), fresh views: 2 of each of the first 100 test points, kNN graph with ``k = 10``.
    """
    if quick:
        return {
            "datasets": ("digits", "moons"),
            "seeds": 2,
            "n_train": 40,
            "n_test": 60,
            "n_views": 2,
            "n_fresh": 20,
            "fresh_views": 2,
            "knn": 5,
            "ks": (1, 2, 5),
        }
    return {
        "datasets": None,
        "seeds": 10,
        "n_train": 250,
        "n_test": 300,
        "n_views": 3,
        "n_fresh": 100,
        "fresh_views": 2,
        "knn": 10,
        "ks": LABELS_PER_CLASS,
    }


#: Sizes ``(n_train, n_test)`` of data sets too small for the default ones: wine has 178 samples in
#: classes of 59/71/48, and 144 = 3 × 48 is its largest exactly class-balanced draw.
SMALL_DATASETS = {"wine": (72, 72)}


def dataset_settings(dataset, cfg: dict) -> dict:
    """The task settings of one data set: ``cfg``'s sizes, or :data:`SMALL_DATASETS`' for a small one.

    A data set not listed there with fewer than ``n_train + n_test`` samples is split in halves of
    ``C ⌊max_samples / (2C)⌋`` each (whole multiples of the ``C`` classes).
    """
    n_train, n_test = int(cfg["n_train"]), int(cfg["n_test"])
    available = int(getattr(dataset, "max_samples", n_train + n_test))
    if n_train + n_test > available:
        C = int(dataset.n_classes)
        n_train, n_test = SMALL_DATASETS.get(dataset.name, (C * (available // (2 * C)),) * 2)
    return {
        "n_train": n_train,
        "n_test": n_test,
        "n_views": int(cfg["n_views"]),
        "n_fresh": int(cfg["n_fresh"]),
        "fresh_views": int(cfg["fresh_views"]),
        "knn": int(cfg["knn"]),
        "ks": tuple(int(k) for k in cfg["ks"]),
    }


def _datasets(names):
    from .study_datasets import STUDY_DATASETS, get_study_dataset

    if names is None:
        names = [d if isinstance(d, str) else d.name for d in STUDY_DATASETS]
    return [get_study_dataset(n) for n in names]


def rules(cfg: dict) -> list[str]:
    """The selection rules, stated at the top of ``study.md`` (all fixed before any run)."""
    return [
        "**Split.** Per data set and seed: a class-balanced draw of base points, split stratified into "
        f"n = {cfg['n_train']} training and {cfg['n_test']} test points (wine, with 178 samples: 72 and 72, its "
        "largest exactly balanced draw of 144 halved). Every method of a seed sees the same split, views and "
        "labelled points.",
        f"**Views.** m = {cfg['n_views']} augmented views of every training point (the data set's own "
        "augmentation) are the SSL training set; nothing else is trained on.",
        "**Base kernel.** RBF, bandwidth h = median pairwise distance of the training views (fixed rule, not tuned).",
        f"**Graphs.** `clique`: views of one base point are related (docs/theory.md §1); `knn`: base points "
        f"that are among each other's k = {cfg['knn']} nearest neighbours under the base kernel on clean "
        "training points (mutual or one-sided), spread to all their views, no label used; `union`: both.",
        "**Dimensions.** d ∈ {C, 4C, n} (C classes, n training points); a combination that is invalid "
        "(d > n, or d above the rank that O3/O4/kernel PCA need) is skipped and listed.",
        f"**Penalty.** O1 with λ = 0 and with λ = 2ρ·λmax(A)·λmax(K), ρ = {RHO:g}: kernel directions "
        "whose eigenvalue is below ρ·λmax(K) cannot carry a positive target eigenvalue (docstring of "
        "`penalty_for_rule`); invariant to rescaling K or A; training views only.",
        "**O2.** λ = 0, β = 1/m and β = 4/m (below and above the 2/m of docs/theory.md §3 O2 and §6).",
        "**Probe.** Kernel ridge regression on one-hot labels with the representation's kernel "
        "(induced kernel f(x)·f(x') for SSL and kernel PCA, the base kernel itself for the base row), "
        "ridge by leave-one-out on the labelled training points only; budgets of k labelled training "
        f"points per class, k ∈ {tuple(cfg['ks'])}, a budget above the smallest training class is skipped.",
        "**Kernel PCA.** Top-d eigenvectors of the centred training-view kernel HKH, same probe.",
        f"**LabelSpreading** (scikit-learn, RBF with γ = 1/(2h²), α = {LABEL_SPREADING['alpha']}, "
        f"{LABEL_SPREADING['max_iter']} iterations: defaults, not tuned) is *transductive*: it sees the "
        "unlabelled test points (not the views) while it learns, which no other method does. A second "
        "LabelSpreading row uses scikit-learn's kNN affinity with the study's k (rule 4): added after the first "
        "full run, because the RBF row fell further behind the base kernel as labels were added (on circles "
        "from -2 points at k=1 to -38 at k=20: the median bandwidth is too wide for label propagation); both "
        "are reported, neither is tuned.",
        f"**Fresh views.** Alignment and decorrelation use {cfg['fresh_views']} views of each of the first "
        f"{cfg['n_fresh']} test points, drawn with a seed disjoint from the training views.",
        "**Statistics.** Paired differences to the base kernel over seeds (same split, views and labels), "
        "mean and 95% Student-t interval, in percentage points. Every configuration that ran is reported, "
        "including where SSL loses; nothing was selected on test data. The 'largest gain' lines of the "
        "findings are maxima over the grid chosen *after* seeing the test accuracies: descriptive, and "
        "optimistic.",
    ]


# --------------------------------------------------------------------------------------------------
# the run


def run(
    seeds: list[int] | None, out: Output, *, quick: bool = False, docs: pathlib.Path | None = None, command: str = ""
) -> dict:
    """Run (or resume) the study; write ``study.md``, ``study.json``, figures and the cache into ``out``.

    Ctrl-C keeps what finished (see :meth:`Output.steps`): every finished method is already in the
    cache, the report covers it without figures, ``docs`` is left alone, and rerunning the same
    command resumes.
    """
    cfg = settings(quick)
    seeds = list(range(cfg["seeds"])) if seeds is None else list(seeds)
    datasets = _datasets(cfg["datasets"])
    grid = method_grid()
    cache = out.folder / "cache"
    results: dict[str, dict[str, dict[str, Any]]] = {d.name: {m.label: {} for m in grid} for d in datasets}
    tasks: dict[str, dict[str, Any]] = {d.name: {} for d in datasets}
    ds_cfg = {d.name: dataset_settings(d, cfg) for d in datasets}
    counts = {"computed": 0, "reused": 0}
    # One BLAS thread: the matrices are at most a few thousand wide, and on a shared 2-core machine a
    # multi-threaded BLAS oversubscribed the cores (a 0.7 s solve took 19 s).
    with threadpool_limits(limits=1), out.steps(len(datasets) * len(seeds) * len(grid)) as step:
        for ds in datasets:
            s = ds_cfg[ds.name]
            for seed in seeds:
                task = None
                tkey = cache_key(s, ds, seed, Method("task"))
                tpath = cache_path(cache, tkey, Method("task"))
                info = read_cache(tpath, tkey)
                if info is not None:
                    tasks[ds.name][str(seed)] = info
                for method in grid:
                    key = cache_key(s, ds, seed, method)
                    path = cache_path(cache, key, method)
                    res = read_cache(path, key)
                    if res is None:
                        if task is None:
                            task = make_study_task(ds, seed, **s)
                            if info is None:
                                info = jsonable(task.info)
                                write_cache(tpath, tkey, info)
                                tasks[ds.name][str(seed)] = info
                        res = jsonable(run_method(task, method))
                        write_cache(path, key, res)
                        counts["computed"] += 1
                    else:
                        counts["reused"] += 1
                    results[ds.name][method.label][str(seed)] = res
                    step(f"{ds.name}, seed {seed}: {method.label}")
                if info is None:  # every method was cached but the task record was not
                    info = jsonable(make_study_task(ds, seed, **s).info)
                    write_cache(tpath, tkey, info)
                    tasks[ds.name][str(seed)] = info
    data = {
        "settings": {
            **{k: v for k, v in cfg.items() if k != "datasets"},
            "seeds": seeds,
            "rho": RHO,
            "blas_threads": 1,
        },
        "rules": rules(cfg),
        "datasets": {
            d.name: {
                "description": getattr(d, "description", ""),
                "n_classes": int(d.n_classes),
                "settings": ds_cfg[d.name],
                "tasks": tasks[d.name],
            }
            for d in datasets
        },
        "methods": [m.label for m in grid],
        "results": results,
        "cache": {**counts, "folder": str(cache)},
        # the methods' own wall time, cached ones included: about what an uncached run takes
        "method_seconds": round(
            sum(_num(r.get("seconds", 0.0)) for per in results.values() for rs in per.values() for r in rs.values()), 1
        ),
    }
    data["summary"] = summarize(data)
    data["spearman"] = correlations(data)
    data["checks"] = theorem_checks(data)
    data["findings"] = findings(data)
    if out.complete:
        draw_figures(out, data)
    md = markdown(data)  # Output.write appends the figures
    out.write(md, data, command)
    if docs is not None and out.complete:
        with writing(pathlib.Path(docs) / DOCS_FILE):
            _write_docs(pathlib.Path(docs), out, data, command)
    return data


# --------------------------------------------------------------------------------------------------
# aggregation


def _num(value) -> float:
    """A JSON number (non-finite floats come back as the strings ``"inf"``, ``"nan"``) or NaN for ``None``/bool."""
    if value is None:
        return math.nan
    if isinstance(value, str):
        return float(value)
    return float(value)


def _ok(res) -> bool:
    return bool(res) and res.get("status") == "ok"


def _ks(data, name) -> list[int]:
    """Budgets of a data set: those of its tasks (the same for every seed), else the requested ones."""
    tasks = data["datasets"][name]["tasks"]
    if tasks:
        return [int(k) for k in next(iter(tasks.values()))["ks"]]
    return [int(k) for k in data["datasets"][name]["settings"]["ks"]]


def _seeds(data) -> list[str]:
    return [str(s) for s in data["settings"]["seeds"]]


def accuracies(data, name: str, label: str, k: int) -> list[float | None]:
    """Accuracy of one row at budget ``k`` for each seed (``None`` where skipped or not run)."""
    per = data["results"][name].get(label, {})
    out: list[float | None] = []
    for s in _seeds(data):
        res = per.get(s)
        out.append(_num(res["acc"][str(k)]) if _ok(res) and str(k) in res.get("acc", {}) else None)
    return out


def summarize(data) -> dict:
    """Per data set and row: mean/std accuracy, paired gain over the base kernel, mean quantities."""
    summary: dict[str, dict[str, Any]] = {}
    for name, per in data["results"].items():
        ks = _ks(data, name)
        summary[name] = {}
        for label in per:
            if label.startswith("check:"):
                continue
            row: dict[str, Any] = {"acc": {}, "gain": {}, "quantities": {}}
            for k in ks:
                acc = [a for a in accuracies(data, name, label, k) if a is not None]
                row["acc"][str(k)] = {
                    "mean": float(np.mean(acc)) if acc else math.nan,
                    "std": float(np.std(acc, ddof=1)) if len(acc) > 1 else (0.0 if acc else math.nan),
                    "n": len(acc),
                }
                if label != BASE:
                    base = accuracies(data, name, BASE, k)
                    mine = accuracies(data, name, label, k)
                    row["gain"][str(k)] = paired_ci(
                        [None if a is None else 100 * a for a in mine], [None if b is None else 100 * b for b in base]
                    )
            qs: dict[str, list[float]] = {}
            for res in per[label].values():
                if _ok(res):
                    for q, v in res.get("quantities", {}).items():
                        qs.setdefault(q, []).append(_num(v))
            row["quantities"] = {q: float(np.mean(v)) for q, v in qs.items()}
            skipped = [(s, r.get("reason", "")) for s, r in per[label].items() if r and r.get("status") == "skipped"]
            row["skipped_seeds"] = [s for s, _ in skipped]
            row["skip_reason"] = skipped[0][1] if skipped else ""
            row["ran_seeds"] = sum(1 for r in per[label].values() if _ok(r))
            summary[name][label] = row
    return summary


def _ssl_labels(data, name) -> list[str]:
    return [
        lab
        for lab, row in data["summary"][name].items()
        if lab[:2] in ("O1", "O2", "O3", "O4") and row["ran_seeds"] > 0
    ]


def correlations(data) -> dict:
    """Spearman ρ of each quantity with accuracy across the SSL configurations (means over seeds).

    Per data set and budget; pooled over data sets both with accuracy (confounded by how hard each
    data set is) and with the gain over the base kernel (percentage points), per budget ``k``.
    """
    out: dict[str, Any] = {"per_dataset": {}, "pooled_accuracy": {}, "pooled_gain": {}}
    pooled: dict[str, dict[str, list[tuple[float, float, float]]]] = {}
    for name in data["summary"]:
        out["per_dataset"][name] = {}
        labels = _ssl_labels(data, name)
        for k in _ks(data, name):
            rows = [data["summary"][name][lab] for lab in labels]
            acc = [r["acc"][str(k)]["mean"] for r in rows]
            gain = [r["gain"][str(k)]["mean"] for r in rows]
            out["per_dataset"][name][str(k)] = {}
            for q in QUANTITIES:
                vals = [r["quantities"].get(q, math.nan) for r in rows]
                out["per_dataset"][name][str(k)][q] = spearman(vals, acc)
                pooled.setdefault(str(k), {}).setdefault(q, []).extend(zip(vals, acc, gain))
    for budget, per_q in pooled.items():
        out["pooled_accuracy"][budget] = {q: spearman([v[0] for v in t], [v[1] for v in t]) for q, t in per_q.items()}
        out["pooled_gain"][budget] = {q: spearman([v[0] for v in t], [v[2] for v in t]) for q, t in per_q.items()}
    return out


def _eps_bound(info: dict) -> float:
    """``N κ(K) ε``: the forward-error scale of solving with ``K`` (used as the theorem checks' tolerance)."""
    return info["N"] * info["kernel_condition"] * float(np.finfo(np.float64).eps)


def theorem_checks(data) -> dict:
    r"""Check theorems of docs/theory.md on the run's data; each entry says whether it held.

    - ``duality`` (§3 O2): clique graph, λ = 0, d = n, K ≻ 0 ⇒ ``m k*_{O2} = k*_{O1}`` for both β,
      on fresh views, test points and the training Gram matrix, and equal probe accuracy. Held when
      every relative deviation is at most ``N κ(K) ε`` (the forward error of solving with ``K``:
      ``κ`` its condition number, ``ε`` the machine epsilon) and the accuracies are equal.
    - ``kernel_independence`` (§2): the same O1 on two positive definite kernels (bandwidths h and
      2h) gives ``k*(X, X) = G* = A`` on the training views; held when the deviation is at most
      ``N κ ε`` for both kernels. The out-of-sample difference is reported (no prediction).
    - ``penalty_cutoff`` (docstring of ``penalty_for_rule``): O1 with the λ rule has at most
      ``#{μ_i(K) ≥ ρ λmax(K)}`` certified positive target eigenvalues (decidable when more
      eigenvalues than that were computed).
    - ``bridge`` (§6): on the clique graph with K ≻ 0 and λ = 0, O1, O2 and O3 codes are invariant at
      every d ≤ n, idealized at d = n and not idealized at d < n − 1 (n codes in fewer than n − 1
      dimensions are affinely dependent).

    Seeds whose K is not numerically positive definite (rank < N) do not meet the premise; they are
    counted apart and their deviations reported.
    """
    out: dict[str, Any] = {}
    for name, per in data["results"].items():
        tasks = data["datasets"][name]["tasks"]
        m = data["datasets"][name]["settings"]["n_views"]
        ks = _ks(data, name)
        entry: dict[str, Any] = {"duality": [], "kernel_independence": [], "penalty_cutoff": [], "bridge": []}
        for s, info in tasks.items():
            pd_ = bool(info["kernel_positive_definite"])
            tol = _eps_bound(info)
            res = per.get("check: duality", {}).get(s)
            if _ok(res):
                devs = {f"{b} {where}": _num(v) for b, d in res["check"].items() for where, v in d.items()}
                equal = []
                for beta in ("1/m", "4/m"):
                    for k in ks:
                        a1 = accuracies(data, name, "O1 clique d=n λ=0", k)
                        a2 = accuracies(data, name, f"O2 clique d=n β={beta}", k)
                        i = _seeds(data).index(s)
                        if a1[i] is not None and a2[i] is not None:
                            equal.append(a1[i] == a2[i])
                entry["duality"].append(
                    {
                        "seed": s,
                        "premise": pd_,
                        "max_deviation": max(devs.values()),
                        "tolerance": tol,
                        "accuracy_equal": f"{sum(equal)}/{len(equal)}",
                        "held": bool(pd_ and max(devs.values()) <= tol and all(equal)),
                        "m": m,
                    }
                )
            res = per.get("check: kernel_independence", {}).get(s)
            if _ok(res):
                c = res["check"]
                pd2 = bool(c["kernel2_positive_definite"])
                tol2 = info["N"] * _num(c["kernel2_condition"]) * float(np.finfo(np.float64).eps)
                dev1, dev2 = _num(c["training_vs_A"]), _num(c["training_vs_A_kernel2"])
                entry["kernel_independence"].append(
                    {
                        "seed": s,
                        "premise": pd_ and pd2,
                        "deviation_kernel1": dev1,
                        "deviation_kernel2": dev2,
                        "tolerance": max(tol, tol2),
                        "kernel1_vs_kernel2_training": _num(c["training_kernel1_vs_kernel2"]),
                        "kernel1_vs_kernel2_fresh": _num(c["fresh_kernel1_vs_kernel2"]),
                        "held": bool(pd_ and pd2 and dev1 <= tol and dev2 <= tol2),
                    }
                )
            for d in DIMS:
                for g in GRAPHS:
                    res = per.get(f"O1 {g} d={d} λ=rule", {}).get(s)
                    if not _ok(res):
                        continue
                    bound = int(info["kernel_eigs_above_rho"])
                    pos, computed = int(res["info"]["certified_positive"]), int(res["info"]["eigenvalues_computed"])
                    decidable = computed > bound or pos < computed
                    entry["penalty_cutoff"].append(
                        {
                            "seed": s,
                            "row": f"O1 {g} d={d} λ=rule",
                            "certified_positive": pos,
                            "computed": computed,
                            "bound": bound,
                            "decidable": decidable,
                            "held": bool(pos <= bound) if decidable else None,
                        }
                    )
            for d in DIMS:
                for lab in (
                    f"O1 clique d={d} λ=0",
                    f"O2 clique d={d} β=1/m",
                    f"O2 clique d={d} β=4/m",
                    f"O3 clique d={d}",
                ):
                    res = per.get(lab, {}).get(s)
                    if not _ok(res):
                        continue
                    dim, n = int(res["dim"]), int(info["n_train"])
                    predicted_ideal = True if dim >= n else (False if dim < n - 1 else None)
                    q = res["quantities"]
                    held = bool(q["invariant"]) and (predicted_ideal is None or bool(q["idealized"]) == predicted_ideal)
                    entry["bridge"].append(
                        {
                            "seed": s,
                            "row": lab,
                            "premise": pd_,
                            "invariant": bool(q["invariant"]),
                            "idealized": bool(q["idealized"]),
                            "predicted_idealized": predicted_ideal,
                            "held": held,
                        }
                    )
        out[name] = entry
    return out


# --------------------------------------------------------------------------------------------------
# findings


def _signed(x: float) -> str:
    """``+1.2`` / ``-0.4`` with one decimal, and ``+0.0`` (never ``-0.0``) for what rounds to zero."""
    text = f"{x:+.1f}"
    return "+0.0" if text == "-0.0" else text


def _fmt_gain(g) -> str:
    if g is None or not math.isfinite(g["mean"]):
        return "n/a"
    if not math.isfinite(g["lo"]):
        return _signed(g["mean"])
    return f"{_signed(g['mean'])} [{_signed(g['lo'])}, {_signed(g['hi'])}]"


def _cite(name: str, label: str) -> str:
    return f"[{name} · {label}]"


def _sign(g) -> int:
    """+1 when the 95% interval is above 0, −1 when below, 0 otherwise (or undefined)."""
    if not (math.isfinite(g["lo"]) and math.isfinite(g["hi"])):
        return 0
    return 1 if g["lo"] > 0 else (-1 if g["hi"] < 0 else 0)


def _summarise_check(items, what: str, unit: str = "runs") -> tuple[str, bool | None]:
    """One sentence on a check's entries and whether it held wherever its premise was met."""
    if not items:
        return f"{what}: not run.", None
    premise = [e for e in items if e.get("premise", True)]
    held = [e for e in premise if e["held"]]
    verdict = None if not premise else len(held) == len(premise)
    return f"{what}: held on {len(held)} of {len(premise)} {unit} that meet its premise", verdict


def _clique_at_zero_penalty(label: str) -> bool:
    """Rows of the augmentation graph without a penalty: O1 λ=0, O2 (λ = 0 in the grid) and O3 on ``clique``."""
    parts = label.split()
    return len(parts) > 1 and parts[1] == "clique" and (parts[0] in ("O2", "O3") or label.endswith("λ=0"))


def findings(data) -> list[str]:
    """Measured statements, each citing the table row it comes from (``[data set · row]``)."""
    lines: list[str] = []
    summary = data["summary"]
    for name in summary:
        ks = _ks(data, name)
        if not ks or BASE not in summary[name] or summary[name][BASE]["ran_seeds"] == 0:
            continue
        rows = summary[name]
        base = rows[BASE]["acc"]
        lines.append(
            f"- **{name}**: the base kernel reaches {100 * base[str(ks[0])]['mean']:.1f}% at k={ks[0]} and "
            f"{100 * base[str(ks[-1])]['mean']:.1f}% at k={ks[-1]} {_cite(name, BASE)}."
        )
        ssl = _ssl_labels(data, name)
        counts = []
        for k in ks:
            signs = [_sign(rows[lab]["gain"][str(k)]) for lab in ssl]
            counts.append(f"k={k}: {signs.count(1)} above, {signs.count(-1)} below, {signs.count(0)} undecided")
        lines.append(
            f"  - SSL rows vs the base kernel (95% CI of the paired gain), of {len(ssl)}: " + "; ".join(counts) + "."
        )
        always_up = [lab for lab in ssl if all(_sign(rows[lab]["gain"][str(k)]) == 1 for k in ks)]
        always_down = [lab for lab in ssl if all(_sign(rows[lab]["gain"][str(k)]) == -1 for k in ks)]
        lines.append(
            f"  - Above the base kernel at every budget: {len(always_up)} rows"
            + (
                ": " + ", ".join(_cite(name, lab) for lab in always_up[:6]) + (" …" if len(always_up) > 6 else "")
                if always_up
                else ""
            )
            + f"; below at every budget: {len(always_down)} rows"
            + (
                ": " + ", ".join(_cite(name, lab) for lab in always_down[:6]) + (" …" if len(always_down) > 6 else "")
                if always_down
                else ""
            )
            + "."
        )
        lab = "O1 clique d=n λ=0"
        if lab in rows and rows[lab]["ran_seeds"]:
            gains = [rows[lab]["gain"][str(k)] for k in ks]
            signs = [_sign(g) for g in gains]
            verb = (
                "loses to the base kernel at every budget"
                if all(s_ == -1 for s_ in signs)
                else "beats the base kernel at every budget"
                if all(s_ == 1 for s_ in signs)
                else "is not uniformly above or below the base kernel"
            )
            lines.append(
                f"  - {lab} (augmentation graph only, G* = A on training views) {verb}: "
                + ", ".join(f"k={k} {_fmt_gain(g)}" for k, g in zip(ks, gains))
                + f" points {_cite(name, lab)}."
            )
        for k in (ks[0], ks[-1]):
            cand = [lab for lab in ssl if math.isfinite(rows[lab]["gain"][str(k)]["mean"])]
            if cand:
                best = max(cand, key=lambda lab: rows[lab]["gain"][str(k)]["mean"])
                lines.append(
                    f"  - Largest mean gain at k={k} (maximum over the grid, chosen after the fact): {best}, "
                    f"{_fmt_gain(rows[best]['gain'][str(k)])} points {_cite(name, best)}."
                )
        refs = []
        for lab in (
            "LabelSpreading (transductive)",
            "LabelSpreading knn (transductive)",
            *(f"KernelPCA d={d}" for d in DIMS),
        ):
            if lab in rows and rows[lab]["ran_seeds"]:
                refs.append(
                    f"{lab} {_fmt_gain(rows[lab]['gain'][str(ks[0])])} at k={ks[0]}, "
                    f"{_fmt_gain(rows[lab]['gain'][str(ks[-1])])} at k={ks[-1]} {_cite(name, lab)}"
                )
        if refs:
            lines.append("  - References vs the base kernel: " + "; ".join(refs) + ".")
    # the augmentation graph alone, without a penalty (docs/theory.md §2)
    groups: dict[bool, dict[str, list[int]]] = {True: {}, False: {}}
    for name in summary:
        tasks = data["datasets"][name]["tasks"].values()
        if not tasks:
            continue
        pd_ = all(t["kernel_positive_definite"] for t in tasks)
        signs = [
            _sign(summary[name][lab]["gain"][str(k)])
            for lab in _ssl_labels(data, name)
            if _clique_at_zero_penalty(lab)
            for k in _ks(data, name)
        ]
        groups[pd_][name] = signs
    for pd_, per in groups.items():
        if per:
            signs = [x for v in per.values() for x in v]
            lines.append(
                f"- **Augmentation graph alone, no penalty** (O1 λ=0, O2, O3 on `clique`; rows `O… clique …` of "
                f"each table), on the data sets where K is {'positive definite' if pd_ else 'numerically singular'} "
                f"on every seed ({', '.join(per)}): {signs.count(1)} of {len(signs)} (row, budget) cells above the "
                f"base kernel, {signs.count(-1)} below. "
                + (
                    "With K ≻ 0 their training Gram matrix does not depend on the kernel (docs/theory.md §2)."
                    if pd_
                    else "With a singular K the optimum lives in range(K) (for O1, G* = [PAP]₊,d) and depends on the "
                    "kernel (docs/theory.md §2–§3)."
                )
            )
    # kNN edges
    cells = []
    for name in summary:
        ks, tasks = _ks(data, name), list(data["datasets"][name]["tasks"].values())
        labs = [lab for lab in _ssl_labels(data, name) if lab.split()[1] in ("knn", "union")]
        if ks and tasks and labs:
            up = sum(1 for lab in labs if _sign(summary[name][lab]["gain"][str(ks[0])]) == 1)
            purity = 100 * float(np.mean([_num(t["knn"]["same_class_fraction"]) for t in tasks]))
            cells.append(f"{name} {up}/{len(labs)} (kNN purity {purity:.0f}%)")
    if cells:
        lines.append(
            "- **kNN edges** (rows on `knn` and `union`): above the base kernel at the smallest budget on "
            + "; ".join(cells)
            + " (table 'Data sets' for the purity)."
        )
    # graphs pooled
    by_graph: dict[str, list[float]] = {g: [] for g in GRAPHS}
    for name in summary:
        ks = _ks(data, name)
        for lab in _ssl_labels(data, name):
            g = lab.split()[1]
            vals = [summary[name][lab]["gain"][str(k)]["mean"] for k in ks]
            by_graph[g].extend(v for v in vals if math.isfinite(v))
    if any(by_graph.values()):
        lines.append(
            "- **Graphs, pooled** (mean paired gain over every SSL row, budget and data set, points): "
            + "; ".join(f"{g} {np.mean(v):+.1f} ({len(v)} cells)" for g, v in by_graph.items() if v)
            + " (see the heatmap)."
        )
    # correlations
    corr = data["spearman"]
    for q, title in QUANTITIES.items():
        rhos = [
            (name, k, c[q]["rho"])
            for name, per_k in corr["per_dataset"].items()
            for k, c in per_k.items()
            if math.isfinite(c[q]["rho"])
        ]
        if not rhos:
            continue
        pos = sum(1 for *_, r in rhos if r > 0)
        pooled = [corr["pooled_gain"][k][q]["rho"] for k in corr["pooled_gain"]]
        pooled_txt = ", ".join(f"{r:+.2f}" for r in pooled if math.isfinite(r))
        lines.append(
            f"- **{title}** vs accuracy across SSL rows: Spearman ρ > 0 in {pos} of {len(rhos)} (data set, budget) "
            f"cells (range {min(r for *_, r in rhos):+.2f} … {max(r for *_, r in rhos):+.2f}); pooled with the gain "
            f"over the base kernel, per budget: {pooled_txt or 'n/a'} (table 'Rank correlation')."
        )
    # theorem checks
    checks = data["checks"]
    for key, what in (
        ("duality", "O1/O2 duality on the clique graph (docs/theory.md §3 O2: m·k*_O2 = k*_O1 at λ = 0, d = n, K ≻ 0)"),
        ("kernel_independence", "Kernel independence on training views (docs/theory.md §2: G* = A for every K ≻ 0)"),
        ("bridge", "Idealization of clique-graph codes (docs/theory.md §6)"),
    ):
        items = [dict(e, dataset=n) for n, c in checks.items() for e in c[key]]
        unit = "(row, seed) pairs" if key == "bridge" else "runs"
        sentence, verdict = _summarise_check(items, what, unit)
        not_met = [e for e in items if not e.get("premise", True)]
        extra = ""
        if key == "duality" and items:
            met = [e for e in items if e["premise"]]
            if met:
                extra = (
                    f"; largest relative deviation {max(e['max_deviation'] for e in met):.1e} "
                    f"(tolerance N·κ(K)·ε ≥ {min(e['tolerance'] for e in met):.1e}); probe accuracies equal in "
                    + ", ".join(sorted({e["accuracy_equal"] for e in met}))
                    + " (budget, β) pairs per run"
                )
        if key == "kernel_independence" and items:
            met = [e for e in items if e["premise"]]
            if met:
                worst = max(max(e["deviation_kernel1"], e["deviation_kernel2"]) for e in met)
                extra = (
                    f"; largest deviation from A {worst:.1e}, "
                    "while out of sample the two kernels' k* differ by "
                    f"{min(e['kernel1_vs_kernel2_fresh'] for e in met):.2f}–"
                    f"{max(e['kernel1_vs_kernel2_fresh'] for e in met):.2f} "
                    "(relative Frobenius norm on fresh views): the kernel acts only out of sample"
                )
        if not_met:
            sets = sorted({e["dataset"] for e in not_met})
            extra += f"; premise K ≻ 0 not met (numerically singular K) on {len(not_met)} {unit} ({', '.join(sets)})"
        state = {True: "**held**", False: "**did not hold**", None: "**not decided**"}[verdict]
        lines.append(f"- {sentence}{extra}: {state} (table 'Theorem checks').")
    items = [dict(e, dataset=n) for n, c in checks.items() for e in c["penalty_cutoff"]]
    dec = [e for e in items if e["decidable"]]
    if items:
        ok = [e for e in dec if e["held"]]
        state = "**held**" if dec and len(ok) == len(dec) else ("**did not hold**" if dec else "**not decided**")
        lines.append(
            f"- Penalty cut-off of the λ rule (at most #{{μ(K) ≥ ρλmax(K)}} positive target eigenvalues): "
            f"held on {len(ok)} of {len(dec)} decidable (row, seed) pairs ({len(items) - len(dec)} undecidable: "
            f"only the leading d + 1 eigenvalues computed): {state} (table 'Theorem checks')."
        )
    return lines


# --------------------------------------------------------------------------------------------------
# report


def _cell(row, k: int, is_base: bool) -> str:
    acc = row["acc"].get(str(k))
    if acc is None or acc["n"] == 0:
        return "skipped" if row["skipped_seeds"] else "n/a"
    text = f"{100 * acc['mean']:.1f}"
    if is_base:
        return f"{text} ± {100 * acc['std']:.1f}"
    return f"{text} ({_fmt_gain(row['gain'][str(k)])})"


def _dataset_table(data, name) -> str:
    ks = _ks(data, name)
    header = ["row"] + [f"k={k}" for k in ks]
    rows = []
    for label, row in data["summary"][name].items():
        rows.append([label] + [_cell(row, k, label == BASE) for k in ks])
    return markdown_table(header, rows)


def _fraction(runs, key: str) -> str:
    """``"true/total"`` of a boolean quantity over the finished seeds (``—`` when none has it)."""
    vals = [r["quantities"][key] for r in runs if key in r.get("quantities", {})]
    return f"{sum(bool(v) for v in vals)}/{len(vals)}" if vals else "—"


def _quantity_table(data, name) -> str:
    header = [
        "row",
        "align.",
        "decorr.",
        "idealized",
        "invariant",
        "erank G*",
        "active dims",
        "rel. gap",
        "unique",
        "top eigenvalues (first seed)",
    ]
    rows = []
    per = data["results"][name]
    for label, row in data["summary"][name].items():
        if label.startswith("LabelSpreading") or row["ran_seeds"] == 0:
            continue
        q = row["quantities"]
        runs = [r for r in per[label].values() if _ok(r)]
        eig = next((r["info"].get("top_eigenvalues") for r in runs if r.get("info", {}).get("top_eigenvalues")), None)

        rows.append(
            [
                label,
                fmt_num(q.get("alignment", math.nan)),
                fmt_num(q.get("decorrelation", math.nan)),
                _fraction(runs, "idealized"),
                _fraction(runs, "invariant"),
                fmt_num(q.get("effective_rank", math.nan), ".1f"),
                fmt_num(q.get("active_dims", math.nan), ".1f"),
                fmt_num(q.get("relative_gap", math.nan), ".2g") if not math.isinf(q.get("relative_gap", 0.0)) else "∞",
                _fraction(runs, "unique"),
                ", ".join(f"{_num(v):.3g}" for v in eig[:4]) if eig else "—",
            ]
        )
    return markdown_table(header, rows)


def _corr_table(data) -> str:
    header = ["data set", "k"] + list(QUANTITIES.values())

    def cell(c):
        return "n/a" if not math.isfinite(c["rho"]) else f"{c['rho']:+.2f} (p={c['p']:.2g})"

    rows = []
    corr = data["spearman"]
    for name, per_k in corr["per_dataset"].items():
        for k, c in per_k.items():
            rows.append([name, k] + [cell(c[q]) for q in QUANTITIES])
    for kind, title in (("pooled_accuracy", "pooled (accuracy)"), ("pooled_gain", "pooled (gain over base)")):
        for k, c in sorted(corr[kind].items(), key=lambda kv: int(kv[0])):
            rows.append([title, k] + [cell(c[q]) for q in QUANTITIES])
    return markdown_table(header, rows)


def _per_seed_rows(data, check: str, cells) -> list[list]:
    """One table row per (data set, seed) entry of a theorem check: name, seed, premise, ``cells(entry)``, held."""
    yes = {True: "yes", False: "no"}
    return [
        [name, e["seed"], yes[bool(e["premise"])], *cells(e), yes[bool(e["held"])]]
        for name, c in data["checks"].items()
        for e in c[check]
    ]


def _checks_tables(data) -> list[str]:
    parts = []
    rows = _per_seed_rows(
        data,
        "duality",
        lambda e: [f"{e['max_deviation']:.1e}", f"{e['tolerance']:.1e}", e["accuracy_equal"]],
    )
    parts += [
        "**O1/O2 duality** (docs/theory.md §3 O2; clique graph, λ = 0, d = n): largest relative Frobenius deviation of "
        "m·k*_O2 from k*_O1 over fresh views, test points and training views, both β.",
        "",
        markdown_table(
            ["data set", "seed", "K ≻ 0", "max deviation", "tolerance N·κ·ε", "equal accuracies", "held"], rows
        ),
        "",
    ]
    rows = _per_seed_rows(
        data,
        "kernel_independence",
        lambda e: [
            f"{e['deviation_kernel1']:.1e}",
            f"{e['deviation_kernel2']:.1e}",
            f"{e['tolerance']:.1e}",
            f"{e['kernel1_vs_kernel2_fresh']:.3f}",
        ],
    )
    parts += [
        "**Kernel independence** (docs/theory.md §2; O1, clique graph, λ = 0, d = n): ‖k*(X,X) − A‖/‖A‖ on the "
        "training "
        "views for the base kernel (h) and an RBF of bandwidth 2h, and the relative difference of the two induced "
        "kernels on fresh test views.",
        "",
        markdown_table(
            ["data set", "seed", "both K ≻ 0", "dev. (h)", "dev. (2h)", "tolerance", "fresh-view difference", "held"],
            rows,
        ),
        "",
    ]
    rows = []
    for name, c in data["checks"].items():
        items = c["penalty_cutoff"]
        dec = [e for e in items if e["decidable"]]
        if items:
            rows.append(
                [
                    name,
                    str(len(items)),
                    str(len(dec)),
                    str(sum(1 for e in dec if e["held"])),
                    f"{min(e['bound'] for e in items)}–{max(e['bound'] for e in items)}",
                    f"{max(e['certified_positive'] for e in items)}",
                ]
            )
    parts += [
        "**Penalty cut-off** of the λ rule: certified positive target eigenvalues ≤ #{μ(K) ≥ ρλmax(K)}.",
        "",
        markdown_table(
            ["data set", "(row, seed) pairs", "decidable", "held", "bound", "most positive eigenvalues"], rows
        ),
        "",
    ]
    rows = []
    for name, c in data["checks"].items():
        by_row: dict[str, list] = {}
        for e in c["bridge"]:
            by_row.setdefault(e["row"], []).append(e)
        for lab, es in by_row.items():
            met = [e for e in es if e["premise"]]
            pred = es[0]["predicted_idealized"]
            rows.append(
                [
                    name,
                    lab,
                    f"{len(met)}/{len(es)}",
                    {True: "idealized", False: "not idealized", None: "—"}[pred],
                    f"{sum(e['invariant'] for e in es)}/{len(es)}",
                    f"{sum(e['idealized'] for e in es)}/{len(es)}",
                    f"{sum(e['held'] for e in met)}/{len(met)}",
                ]
            )
    parts += [
        "**Idealization** (docs/theory.md §6; clique graph, K ≻ 0, λ = 0): predicted invariant at every d ≤ n; "
        "idealized "
        "at d = n, not idealized at d < n − 1.",
        "",
        markdown_table(
            ["data set", "row", "K ≻ 0", "prediction", "invariant", "idealized", "held (where K ≻ 0)"], rows
        ),
        "",
    ]
    return parts


def _dataset_overview(data) -> str:
    header = [
        "data set",
        "C",
        "n train / test",
        "m",
        "N",
        "bandwidth h",
        "rank K / N",
        "cond K",
        "kNN purity",
        "λ rule (clique)",
        "budgets",
    ]
    rows = []
    for name, d in data["datasets"].items():
        t = list(d["tasks"].values())
        s = d["settings"]
        if not t:
            rows.append([name, str(d["n_classes"]), f"{s['n_train']} / {s['n_test']}", str(s["n_views"])] + ["n/a"] * 7)
            continue
        ranks = [e["kernel_rank"] for e in t]
        rows.append(
            [
                name,
                str(d["n_classes"]),
                f"{s['n_train']} / {s['n_test']}",
                str(s["n_views"]),
                str(t[0]["N"]),
                f"{np.mean([_num(e['bandwidth']) for e in t]):.3g}",
                f"{min(ranks)}–{max(ranks)} / {t[0]['N']}",
                f"{np.median([_num(e['kernel_condition']) for e in t]):.1e}",
                f"{100 * np.mean([_num(e['knn']['same_class_fraction']) for e in t]):.0f}%",
                f"{np.mean([_num(e['penalty']['clique']) for e in t]):.3g}",
                ", ".join(str(k) for k in t[0]["ks"])
                + (f" (skipped {t[0]['ks_skipped']})" if t[0]["ks_skipped"] else ""),
            ]
        )
    return markdown_table(header, rows)


def _skipped_table(data) -> str:
    rows = []
    for name, per in data["summary"].items():
        for label, row in per.items():
            if row["skipped_seeds"]:
                rows.append([name, label, f"{len(row['skipped_seeds'])}/{len(_seeds(data))}", row["skip_reason"]])
    return markdown_table(["data set", "row", "seeds skipped", "reason (first)"], rows) if rows else "None."


def markdown(data, figures: list[str] | None = None, figure_prefix: str = "") -> str:
    """The report; findings come last, after the ``figures`` (file names, with ``figure_prefix``) if given."""
    s = data["settings"]
    names = list(data["datasets"])
    parts = [
        f"# {NAME}: when does the induced kernel help downstream?",
        "",
        f"{len(names)} data sets ({', '.join(names)}), {len(s['seeds'])} seeds each; every method runs on the same "
        "split, views and labelled points of a seed. Test accuracy (%) of a kernel-ridge probe with k labelled "
        "training points per class; in brackets the paired gain over the base kernel in percentage points with "
        "its 95% t-interval over seeds. Cache: "
        f"{data['cache']['computed']} results computed, {data['cache']['reused']} reused; the methods' own "
        f"computing time adds up to {data.get('method_seconds', math.nan):.0f} s (one BLAS thread).",
        "",
        "## Rules fixed before any run",
        "",
        *[f"{i}. {r}" for i, r in enumerate(data["rules"], 1)],
        "",
        "## Data sets",
        "",
        _dataset_overview(data),
        "",
        "kNN purity: fraction of kNN-graph edges joining two training points of the same class (labels used for "
        "this diagnostic only). λ rule: mean λ of the `λ=rule` rows on the clique graph.",
        "",
        "## Accuracy and gain over the base kernel",
        "",
        "Rows are cited in the findings as [data set · row].",
        "",
    ]
    for name in names:
        parts += [f"### {name}", "", data["datasets"][name]["description"], "", _dataset_table(data, name), ""]
    parts += [
        "## The theory's quantities",
        "",
        "Means over seeds. *align.* / *decorr.*: alignment and decorrelation (docs/theory.md §4) of the "
        "representation's "
        "kernel on fresh views of test points; *idealized* / *invariant*: seeds whose training codes are idealized / "
        "invariant on each augmentation group (docs/theory.md §6); *erank G\\**: effective rank exp(−Σ pᵢ log pᵢ) of "
        "the "
        "training Gram matrix (of K for the base kernel); *active dims*: embedding columns the optimum uses (the "
        "soft objectives O1/O2 zero those beyond the positive target eigenvalues, so rows with different d can "
        "coincide); *rel. gap*: |λ_d − λ_{d+1}| / max|λ| of the target / "
        "spectral matrix at the cut (∞: d reaches the feasible dimension); *unique*: seeds with a certified unique "
        "optimum (docs/theory.md §3); the spectrum is the target's (O1/O2, descending), O3's Laplacian (ascending) or "
        "O4's spectral matrix.",
        "",
    ]
    for name in names:
        parts += [f"### {name}: quantities", "", _quantity_table(data, name), ""]
    parts += [
        "## Skipped combinations",
        "",
        _skipped_table(data),
        "",
        "## Rank correlation with accuracy",
        "",
        "Spearman ρ across SSL rows (means over seeds) of each quantity with accuracy, per data set and budget; "
        "pooled over data sets with accuracy and with the gain over the base kernel (the latter removes how hard "
        "each data set is).",
        "",
        _corr_table(data),
        "",
        "## Theorem checks",
        "",
        *_checks_tables(data),
    ]
    if figures:
        parts += ["## Figures", ""] + [f"![{f}]({figure_prefix}{f})" for f in figures] + [""]
    parts += ["## Findings", "", *data["findings"], ""]
    return "\n".join(parts)


# --------------------------------------------------------------------------------------------------
# figures


def draw_figures(out: Output, data) -> None:
    """The gain heatmap, the accuracy-vs-labels curves and the alignment/decorrelation scatter."""
    plt = pyplot()
    summary = data["summary"]
    names = list(summary)
    labels = [lab for lab in data["methods"] if lab != BASE and not lab.startswith("check:")]
    cols = [(n, k) for n in names for k in _ks(data, n)]
    G = np.full((len(labels), len(cols)), np.nan)
    S = np.zeros_like(G)
    for j, (n, k) in enumerate(cols):
        for i, lab in enumerate(labels):
            g = summary[n].get(lab, {}).get("gain", {}).get(str(k))
            if g and math.isfinite(g["mean"]):
                G[i, j], S[i, j] = g["mean"], _sign(g)
    lim = max(5.0, float(np.nanmax(np.abs(G)))) if np.isfinite(G).any() else 5.0
    fig, ax = plt.subplots(figsize=(0.34 * len(cols) + 3.5, 0.2 * len(labels) + 2.2))
    cmap = plt.get_cmap("RdBu").with_extremes(bad="0.85")
    im = ax.imshow(np.ma.masked_invalid(G), cmap=cmap, vmin=-lim, vmax=lim, aspect="auto", interpolation="nearest")
    for i in range(G.shape[0]):
        for j in range(G.shape[1]):
            if S[i, j]:
                ax.text(j, i, "+" if S[i, j] > 0 else "−", ha="center", va="center", fontsize=6)
    ax.set_yticks(range(len(labels)), labels, fontsize=6)
    ax.set_xticks(range(len(cols)), [f"{n} k={k}" for n, k in cols], rotation=90, fontsize=6)
    edges = np.cumsum([len(_ks(data, n)) for n in names])[:-1]
    for e in edges:
        ax.axvline(e - 0.5, color="black", lw=0.8)
    ax.grid(False)
    ax.set_title("Paired gain over the base kernel (points); +/−: 95% CI above/below 0; grey: skipped")
    fig.colorbar(im, ax=ax, fraction=0.03, pad=0.01, label="Δ accuracy (percentage points)")
    out.savefig(fig, FIGURES[0])

    ncol = min(3, len(names))
    nrow = -(-len(names) // ncol)
    fig, axes = plt.subplots(nrow, ncol, figsize=(4.6 * ncol, 3.6 * nrow), squeeze=False)
    curves: list[tuple[str, dict[str, Any]]] = [
        (BASE, {"color": "black", "lw": 2.5}),
        ("LabelSpreading (transductive)", {"color": "0.4", "ls": "--"}),
        ("LabelSpreading knn (transductive)", {"color": "0.4", "ls": "-."}),
        ("KernelPCA d=4C", {"color": "0.4", "ls": ":"}),
        *((lab, {}) for lab in FIGURE_ROWS),
    ]
    for ax, n in zip(axes.ravel(), names):
        ks = _ks(data, n)
        for lab, style in curves:
            row = summary[n].get(lab)
            if not row or row["ran_seeds"] == 0:
                continue
            m = [100 * row["acc"][str(k)]["mean"] for k in ks]
            ax.plot(ks, m, marker="o", ms=3, label=lab, **style)
        ax.set_xscale("log")
        ax.set_xticks(ks, [str(k) for k in ks])
        ax.minorticks_off()
        ax.set_title(n)
        ax.set_xlabel("labelled training points per class")
        ax.set_ylabel("test accuracy (%)")
    for ax in axes.ravel()[len(names) :]:
        ax.axis("off")
    handles, labs = axes.ravel()[0].get_legend_handles_labels()
    fig.legend(handles, labs, loc="lower center", ncol=4, fontsize=8, bbox_to_anchor=(0.5, -0.02))
    fig.tight_layout(rect=(0, 0.06, 1, 1))
    out.savefig(fig, FIGURES[1])

    fig, axes = plt.subplots(1, 2, figsize=(10, 4), sharey=True)
    for n in names:
        ks = [k for k in _ks(data, n) if k <= SCATTER_BUDGET]
        if not ks:
            continue
        k = ks[-1]
        labs = _ssl_labels(data, n)
        acc = [100 * summary[n][lab]["acc"][str(k)]["mean"] for lab in labs]
        for ax, q in zip(axes, ("alignment", "decorrelation")):
            x = [summary[n][lab]["quantities"].get(q, math.nan) for lab in labs]
            pts = ax.scatter(x, acc, s=12, alpha=0.7, label=f"{n} (k={k})")
            b = summary[n][BASE]
            ax.scatter(
                [b["quantities"].get(q, math.nan)],
                [100 * b["acc"][str(k)]["mean"]],
                marker="*",
                s=120,
                color=pts.get_facecolor()[0],
                edgecolor="black",
            )
    axes[0].set_xlabel("alignment of fresh test views")
    axes[1].set_xlabel("decorrelation of fresh test views")
    axes[0].set_ylabel("test accuracy (%)")
    axes[1].legend(fontsize=7, loc="best")
    fig.suptitle("SSL rows (dots) and the base kernel (stars): the theory's quantities vs accuracy")
    out.savefig(fig, FIGURES[2])


def _write_docs(folder: pathlib.Path, out: Output, data, command: str) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    for f in out.figures:
        shutil.copyfile(out.folder / f, folder / f"study_{f}")
    text = markdown(data, figures=list(out.figures), figure_prefix="study_")
    (folder / DOCS_FILE).write_text(
        f"{text}\n---\nRegenerate: `{command}` (about {data.get('method_seconds', math.nan):.0f} s of computing "
        f"on 2 cores without the cache; this report took {out.elapsed():.0f} s). The cache in the output folder's "
        "`cache/` makes a rerun with the same settings take seconds.\n",
        encoding="utf-8",
    )
