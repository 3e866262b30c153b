"""digits-ablation: when does the induced kernel beat the base kernel? Sweeps on the digits probe.

One knob at a time around the digits-probe setting (RBF base kernel, KRR probe with a
leave-one-out ridge, k ∈ {1, 2, 5, 10, 20} labelled images per class):

- ``bandwidth``: the RBF bandwidth as a multiple of the median heuristic (0.25 … 4);
- ``strength``: augmentation magnitude (0.25 … 2);
- ``original``: whether the clean image is one of the training views;
- ``knn``: number of kernel-nearest-neighbour images joined in the richer graph (0 = clique).

Each sweep probes a fixed, predeclared set of representations (:data:`SWEEPS`); the base kernel
at the same setting is always in the table, and nothing is chosen on test images.
"""

from __future__ import annotations

import pathlib
from typing import Any

import numpy as np

from ..backend import eigvalsh
from ._common import Output, fmt_acc, fmt_num, markdown_table, mean, pyplot, writing
from .digits import LABELS_PER_CLASS, Config, evaluate, make_task

NAME = "digits-ablation"
#: The README results section written into ``docs``.
DOCS_FILE = "RESULTS_digits_ablation.md"

_BASE = Config(None)
_O1N = Config("contrastive", "n", 0.0)
_O1R = Config("contrastive", 32, 0.1)
_O4N = Config("whitened", "n")
_KNN10 = Config("contrastive", 10, 0.0, graph="knn")
_KNNN = Config("contrastive", "n", 0.0, graph="knn")

#: sweep name → (task keyword, values, representations)
SWEEPS = {
    "bandwidth": ("bandwidth_factor", (0.25, 0.5, 1.0, 2.0, 4.0), (_BASE, _O1N, _O1R, _O4N)),
    "strength": ("strength", (0.25, 0.5, 1.0, 2.0), (_BASE, Config(None, views_in_probe=True), _O1N, _O1R, _KNN10)),
    "original": ("include_original", (False, True), (_BASE, _O1N, _O1R, _KNN10, _KNNN)),
    "knn": (
        "knn",
        (3, 10, 30),
        (
            _BASE,
            _KNN10,
            Config("contrastive", 32, 0.0, graph="knn"),
            _KNNN,
            Config("laplacian_eigenmaps", 10, graph="knn"),
        ),
    ),
}


def settings(quick: bool) -> dict:
    """Sizes of a full or a ``--quick`` run."""
    if quick:
        return {
            "n_train": 60,
            "n_test": 100,
            "n_views": 2,
            "ks": (1, 5),
            "seeds": 1,
            "knn": 5,
            "values": {"bandwidth": (0.5, 2.0), "strength": (0.5, 1.0), "original": (False, True), "knn": (3, 5)},
        }
    return {
        "n_train": 300,
        "n_test": 500,
        "n_views": 3,
        "ks": LABELS_PER_CLASS,
        "seeds": 3,
        "knn": 10,
        "values": {name: spec[1] for name, spec in SWEEPS.items()},
    }


def run(
    seeds: list[int] | None, out: Output, *, quick: bool = False, docs: pathlib.Path | None = None, command: str = ""
) -> dict:
    """Run all sweeps; write the table, JSON and one figure per sweep (and the README section into ``docs``).

    Ctrl-C keeps what finished (see :meth:`Output.steps`): the report then covers the finished
    settings, without figures, and ``docs`` is left alone.
    """
    cfg = settings(quick)
    seeds = list(range(cfg["seeds"])) if seeds is None else seeds
    ks = cfg["ks"]
    # --quick leaves out the d = 32 rows (n = 60 images only)
    reps = {sweep: [c for c in spec[2] if not (quick and c.dim == 32)] for sweep, spec in SWEEPS.items()}
    results: dict[str, dict[str, Any]] = {}
    conds: dict[str, dict[str, list[Any]]] = {}
    with out.steps(sum(len(cfg["values"][s]) * len(reps[s]) for s in SWEEPS) * len(seeds)) as step:
        for sweep, (key, _, _) in SWEEPS.items():
            results[sweep], conds[sweep] = {}, {}
            for value in cfg["values"][sweep]:
                table: dict[str, dict[int, list[float]]] = {c.label: {k: [] for k in ks} for c in reps[sweep]}
                results[sweep][str(value)] = table
                cond = conds[sweep][str(value)] = []
                for seed in seeds:
                    task = make_task(
                        seed,
                        kernel="rbf",
                        **{
                            "n_train": cfg["n_train"],
                            "n_test": cfg["n_test"],
                            "n_views": cfg["n_views"],
                            "knn": cfg["knn"],
                            key: value,
                        },
                    )
                    w = eigvalsh(task.K)
                    cond.append(float(w[-1] / max(w[0], np.finfo(float).tiny)))
                    for c in reps[sweep]:
                        res = evaluate(task, c, seed, ks=ks, linear=False)
                        for k in ks:
                            table[c.label][k].append(res["krr"][k])
                        step(f"{sweep}={value}, seed {seed}: {c.label}")
    data = {
        "settings": {
            **{k: v for k, v in cfg.items() if k != "values"},
            "ks": list(ks),
            "seeds": seeds,
            "values": {k: [str(x) for x in v] for k, v in cfg["values"].items()},
            "kernel": "rbf (median bandwidth × factor)",
            "probe": "KRR with leave-one-out ridge on labelled images",
        },
        "sweeps": results,
        "condition_number_of_K": conds,
    }
    if out.complete:
        _figures(out, results, ks)
    md = _markdown(data, ks)
    out.write(md, data, command)
    if docs is not None and out.complete:
        with writing(docs):
            _write_docs(pathlib.Path(docs), out, md, command)
    return data


def _write_docs(folder: pathlib.Path, out: Output, md: str, command: str):
    folder.mkdir(parents=True, exist_ok=True)
    for name in out.figures:
        (folder / f"digits_ablation_{name}").write_bytes((out.folder / name).read_bytes())
    body = md.replace("](ablation_", "](digits_ablation_ablation_")
    figs = "\n".join(f"![{f}](digits_ablation_{f})" for f in out.figures)
    (folder / DOCS_FILE).write_text(
        f"{body}\n\n{figs}\n\nRegenerate (about {out.elapsed():.0f} s on 2 cores): `{command}`.\n", encoding="utf-8"
    )


_TITLES = {
    "bandwidth": "RBF bandwidth / median heuristic",
    "strength": "augmentation strength",
    "original": "clean image included among the views",
    "knn": "kNN images per image in the graph",
}


def _markdown(data, ks) -> str:
    s = data["settings"]
    parts = [
        f"# {NAME}: one knob at a time (RBF base kernel, KRR probe, test accuracy %)",
        f"{s['n_train']} training images × {s['n_views']} views, {s['n_test']} test images, mean ± std over "
        f"{len(s['seeds'])} seeds. Defaults elsewhere: bandwidth factor 1, strength 1, clean images not "
        f"among the views, kNN graph with k = {s['knn']}.",
        "",
    ]
    parts += ["## Summary at k = %d labelled images per class (base kernel in brackets)" % ks[0], ""]
    parts += _summary(data, ks[0]) + ["", READING, ""]
    header = ["setting", "representation"] + [f"k={k}" for k in ks]
    for sweep, per_value in data["sweeps"].items():
        rows = []
        for value, table in per_value.items():
            for lab, accs in table.items():
                rows.append([value, lab] + [fmt_acc(accs[k]) for k in ks])
        parts += [f"## {_TITLES[sweep]}", "", markdown_table(header, rows), ""]
    return "\n".join(parts)


READING = """\
Reading (docs/theory.md §2–§3). With the augmentation-only graph and λ = 0 the training optimum is G* = A
for every kernel; the kernel acts only through the ridgeless out-of-sample map K⁻¹k_x. Everything that
makes that interpolation better conditioned — a narrower bandwidth, stronger augmentations (views of
one image spread out instead of nearly coinciding) — moves the clique-graph induced kernel towards the
base kernel, and nothing lifts it above. Putting the clean images among the views makes the labelled
images training points, and the probe becomes exactly base-kernel regression with zero targets on the
unlabelled images, which costs most. The penalised optimum (λ > 0) is less sensitive. The kNN graph
needs enough neighbours to connect each digit class (k = 3 is too sparse) and then helps only at the
smallest label budgets; weaker augmentations and clean images among the views make it better."""


def _summary(data, k) -> list[str]:
    lines = []
    for sweep, per_value in data["sweeps"].items():
        cond = data.get("condition_number_of_K", {}).get(sweep)
        if cond:
            lines.append(
                f"- {_TITLES[sweep]} — condition number of the training K (mean over seeds): "
                + "; ".join(f"{v}: {fmt_num(mean(c), '.1e')}" for v, c in cond.items())
            )
        labels = [lab for lab in next(iter(per_value.values()), {}) if lab != "base kernel"]
        for lab in labels:
            cells = []
            for value, table in per_value.items():
                if lab in table:
                    cells.append(
                        f"{value}: {fmt_num(100 * mean(table[lab][k]), '.1f')}% "
                        f"[{fmt_num(100 * mean(table['base kernel'][k]), '.1f')}%]"
                    )
            lines.append(f"- {_TITLES[sweep]} — {lab}: " + "; ".join(cells))
    return lines


def _figures(out: Output, results, ks):
    plt = pyplot()
    k_show = [k for k in ks if k in (1, 5, 20)] or list(ks)
    for sweep, per_value in results.items():
        values = list(per_value)
        labels = list(next(iter(per_value.values())))
        fig, axes = plt.subplots(1, len(k_show), figsize=(4.3 * len(k_show), 3.6), sharey=False)
        axes = np.atleast_1d(axes)
        x = np.arange(len(values))
        for ax, k in zip(axes, k_show):
            for lab in labels:
                m = [100 * np.mean(per_value[v][lab][k]) if lab in per_value[v] else np.nan for v in values]
                sd = [
                    100 * np.std(per_value[v][lab][k], ddof=1)
                    if lab in per_value[v] and len(per_value[v][lab][k]) > 1
                    else 0.0
                    for v in values
                ]
                style = dict(lw=2.5, color="black") if lab == "base kernel" else dict(lw=1.5)
                ax.errorbar(x, m, yerr=sd, marker="o", ms=4, capsize=3, label=lab, **style)
            ax.set_xticks(x, values)
            ax.set_xlabel(_TITLES[sweep])
            ax.set_title(f"k = {k} labelled images per class")
        axes[0].set_ylabel("test accuracy (%)")
        axes[-1].legend(loc="best")
        fig.suptitle(f"Digits (RBF): sweep of the {_TITLES[sweep]}", y=1.02)
        out.savefig(fig, f"ablation_{sweep}.png")
