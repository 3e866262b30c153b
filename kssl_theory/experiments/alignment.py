"""alignment: does the induced kernel align fresh views and decorrelate different images? (docs/theory.md §4)

Fit O1 on the training views of the digits task (RBF base kernel), then evaluate the induced
kernel on *fresh* augmented views — of held-out test images and, for contrast, of training
images — which the solver never saw. Summaries (:func:`kssl_theory.alignment`,
:func:`kssl_theory.decorrelation`): mean cosine between views of one image (alignment), mean
absolute cosine between views of different images (decorrelation), and the *class contrast*
(mean cosine between different images of the same digit minus that between different digits),
which is what a downstream probe needs. Sweeps: ``d`` × ``λ`` and the bandwidth factor; for
non-unique optima (λ = 0, d < n) three alternative optima show how much the arbitrary choice
matters out of sample.
"""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np

from ..kernel_regime.engine import solve
from ..kernel_regime.metrics import alignment as _alignment
from ..kernel_regime.metrics import cosine_matrix, decorrelation
from ._common import Output, fmt_num, markdown_table, mean, pyplot
from .datasets import make_views
from .digits import make_task

NAME = "alignment"


def settings(quick: bool) -> dict:
    """Sizes of a full or a ``--quick`` run."""
    if quick:
        return {
            "n_train": 60,
            "n_views": 2,
            "n_eval": 30,
            "eval_views": 3,
            "seeds": 1,
            "dims": (4, 16, "n"),
            "regs": (0.0, 0.1),
            "bandwidths": (0.5, 1.0, 2.0),
            "alternatives": 2,
        }
    return {
        "n_train": 300,
        "n_views": 3,
        "n_eval": 100,
        "eval_views": 3,
        "seeds": 2,
        "dims": (4, 8, 16, 32, 64, 128, "n"),
        "regs": (0.0, 1e-3, 1e-2, 1e-1, 1.0),
        "bandwidths": (0.25, 0.5, 1.0, 2.0, 4.0),
        "alternatives": 3,
    }


def summaries(Kstar, groups, labels) -> dict:
    """Alignment, decorrelation and class contrast of a kernel block on grouped, labelled views."""
    C = np.asarray(cosine_matrix(Kstar))
    same_img = groups[:, None] == groups[None, :]
    same_cls = labels[:, None] == labels[None, :]
    within_cls = same_cls & ~same_img
    between_cls = ~same_cls
    return {
        "alignment": _alignment(Kstar, groups),
        "decorrelation": decorrelation(Kstar, groups),
        "class_contrast": float(C[within_cls].mean() - C[between_cls].mean()),
    }


def _eval_sets(task, cfg, seed):
    split = task.split
    rng = np.random.default_rng([seed, 7])
    sets = {}
    for name, images, labels in (
        ("test", split.test_images, split.test_labels),
        ("train", split.train_images, split.train_labels),
    ):
        pick = np.sort(rng.choice(images.shape[0], size=min(cfg["n_eval"], images.shape[0]), replace=False))
        views = make_views(
            images[pick], cfg["eval_views"], split.augmentation, labels=labels[pick], seed=[seed, 11, len(name)]
        )
        sets[name] = (views, task.kernel(views.X, split.views.X), task.kernel(views.X))
    return sets


def _solve(task, dim, reg, K=None):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return solve("contrastive", task.K if K is None else K, task.graphs["clique"], dim, reg=reg)


def run(seeds, out: Output, *, quick: bool = False, command: str = "") -> dict:
    """Run the sweeps and write table, JSON and figures.

    Ctrl-C keeps what finished (see :meth:`Output.steps`): the report then covers the finished
    cells, without figures.
    """
    from .. import kernels as _k

    cfg = settings(quick)
    seeds = list(range(cfg["seeds"])) if seeds is None else seeds
    dims, regs, bws = cfg["dims"], cfg["regs"], cfg["bandwidths"]
    by_d: dict[str, dict[str, list[dict[str, Any]]]] = {str(r): {str(d): [] for d in dims} for r in regs}
    by_bw: dict[str, dict[str, list[Any]]] = {
        lab: {str(b): [] for b in bws} for lab in ("base kernel", "O1 d=n λ=0", "O1 d=32 λ=0.1")
    }
    base_ref = []
    heat = None
    with out.steps(len(seeds) * (len(dims) * len(regs) + len(bws))) as step:
        for seed in seeds:
            task = make_task(
                seed, kernel="rbf", n_train=cfg["n_train"], n_test=max(cfg["n_eval"], 50), n_views=cfg["n_views"]
            )
            sets = _eval_sets(task, cfg, seed)
            base_ref.append({name: summaries(Kb, v.groups, v.labels) for name, (v, _, Kb) in sets.items()})
            for reg in regs:
                for d in dims:
                    dim = task.n if d == "n" else d
                    sol = _solve(task, dim, reg)
                    alts = [sol] + (
                        [sol.alternative(a) for a in range(1, cfg["alternatives"])] if not sol.is_unique else []
                    )
                    rec: dict[str, Any] = {"is_unique": bool(sol.is_unique), "gap": float(sol.gap)}
                    for name, (v, Kx, _) in sets.items():
                        vals = [summaries(np.asarray(s.induced_kernel(Kx)), v.groups, v.labels) for s in alts]
                        rec[name] = {key: [x[key] for x in vals] for key in vals[0]}
                    by_d[str(reg)][str(d)].append(rec)
                    if heat is None and reg == 0.0 and d == "n":
                        heat = _heat_data(task, sol, sets)
                    step(f"seed {seed}: λ={reg:g}, d={d}")
            X = task.split.views.X
            med = _k.median_bandwidth(X)
            for b in bws:
                kern = _k.get_kernel("rbf", bandwidth=b * med)
                K = kern(X)
                evals = {name: (v, kern(v.X, X), kern(v.X)) for name, (v, _, _) in sets.items()}
                cells = {"base kernel": {n: summaries(Kb, v.groups, v.labels) for n, (v, _, Kb) in evals.items()}}
                for lab, dim, reg in (("O1 d=n λ=0", task.n, 0.0), ("O1 d=32 λ=0.1", min(32, task.n), 0.1)):
                    sol = _solve(task, dim, reg, K=K)
                    cells[lab] = {
                        n: summaries(np.asarray(sol.induced_kernel(Kx)), v.groups, v.labels)
                        for n, (v, Kx, _) in evals.items()
                    }
                for lab, cell in cells.items():
                    by_bw[lab][str(b)].append(cell)
                step(f"seed {seed}: bandwidth ×{b:g}")
    data = {
        "settings": {
            **cfg,
            "dims": [str(d) for d in dims],
            "seeds": seeds,
            "kernel": "rbf",
            "objective": "O1 contrastive, clique graph",
        },
        "base_kernel": base_ref,
        "by_dim_and_reg": by_d,
        "by_bandwidth": by_bw,
    }
    if out.complete:
        _figures(out, data, heat)
    out.write(_markdown(data), data, command)
    return data


def _mean(records, where, key):
    vals = [np.mean(r[where][key]) for r in records]
    return mean(vals), float(np.std(vals, ddof=1)) if len(vals) > 1 else 0.0


def _spread(records, where, key):
    """Mean over seeds of the range across alternative optima (0 when unique)."""
    return mean([np.ptp(r[where][key]) for r in records])


def _markdown(data) -> str:
    s = data["settings"]
    base = data["base_kernel"]
    parts = [
        f"# {NAME}: induced kernel of O1 (RBF, clique graph) on fresh views",
        f"{s['n_train']} training images × {s['n_views']} views; evaluation on {s['eval_views']} fresh views of "
        f"{s['n_eval']} held-out test images (and of {s['n_eval']} training images). Mean over "
        f"{len(s['seeds'])} seeds. alignment = mean cosine between views of one image (1 is perfect); "
        "decorrelation = mean |cosine| between views of different images (0 is perfect); class contrast = "
        "mean cosine same digit − different digit (different images; larger helps a probe). "
        "'spread' = range over alternative optima when the optimum is not unique.",
        "",
    ]
    ref = [
        ["base kernel (RBF)", "—", "—"]
        + [
            fmt_num(mean([b[w][k] for b in base]))
            for w in ("test", "train")
            for k in ("alignment", "decorrelation", "class_contrast")
        ]
        + ["—"]
    ]
    rows = []
    for reg, per_d in data["by_dim_and_reg"].items():
        for d, recs in per_d.items():
            unique = ("yes" if all(r["is_unique"] for r in recs) else "no") if recs else "n/a"
            row = [f"O1 λ={float(reg):g}", d, unique]
            for where in ("test", "train"):
                for key in ("alignment", "decorrelation", "class_contrast"):
                    row.append(fmt_num(_mean(recs, where, key)[0]))
            row.append(fmt_num(_spread(recs, "test", "alignment")))
            rows.append(row)
    header = [
        "kernel",
        "d",
        "unique",
        "test: align",
        "test: decorr",
        "test: class contrast",
        "train imgs: align",
        "train imgs: decorr",
        "train imgs: class contrast",
        "spread (test align)",
    ]
    parts += ["## vs embedding dimension d and regularisation λ", "", markdown_table(header, ref + rows), ""]
    rows = []
    for lab, per_b in data["by_bandwidth"].items():
        for b, recs in per_b.items():
            rows.append(
                [lab, b]
                + [
                    fmt_num(mean([r["test"][k] for r in recs]))
                    for k in ("alignment", "decorrelation", "class_contrast")
                ]
            )
    parts += [
        "## vs RBF bandwidth (multiple of the median heuristic), fresh views of test images",
        "",
        markdown_table(["kernel", "bandwidth factor", "alignment", "decorrelation", "class contrast"], rows),
        "",
    ]
    return "\n".join(parts)


def _heat_data(task, sol, sets):
    """Kernels on the first views of 12 images (sorted by class) for the block-structure heatmaps."""
    views, Kx, Kb = sets["test"]
    n_img = 12
    m = views.n_views
    order = np.argsort(views.labels[::m], kind="stable")
    spread = order[np.linspace(0, order.size - 1, n_img).astype(int)]
    rows = np.concatenate([np.arange(g * m, g * m + m) for g in spread])
    m_tr = task.split.views.n_views
    tr_order = np.argsort(task.split.train_labels, kind="stable")
    tr_imgs = tr_order[np.linspace(0, tr_order.size - 1, n_img).astype(int)]
    tr_rows = np.concatenate([np.arange(g * m_tr, g * m_tr + m_tr) for g in tr_imgs])
    return {
        "train_induced": np.asarray(sol.gram)[np.ix_(tr_rows, tr_rows)],
        "train_base": task.K[np.ix_(tr_rows, tr_rows)],
        "test_induced": np.asarray(sol.induced_kernel(Kx[rows])),
        "test_base": Kb[np.ix_(rows, rows)],
        "test_labels": views.labels[rows],
        "train_labels": task.split.views.labels[tr_rows],
        "m": m,
        "m_train": m_tr,
    }


def _figures(out: Output, data, heat):
    plt = pyplot()
    s = data["settings"]
    base = data["base_kernel"]
    dims = s["dims"]
    x = np.arange(len(dims))
    keys = (
        ("alignment", "alignment (↑)"),
        ("decorrelation", "decorrelation (↓)"),
        ("class_contrast", "class contrast (↑)"),
    )
    fig, axes = plt.subplots(1, 3, figsize=(14, 3.9))
    for ax, (key, title) in zip(axes, keys):
        for reg, per_d in data["by_dim_and_reg"].items():
            m = [_mean(per_d[d], "test", key)[0] for d in dims]
            lo = [np.mean([np.min(r["test"][key]) for r in per_d[d]]) for d in dims]
            hi = [np.mean([np.max(r["test"][key]) for r in per_d[d]]) for d in dims]
            line = ax.plot(x, m, marker="o", ms=4, label=f"O1 λ={float(reg):g}")[0]
            ax.fill_between(x, lo, hi, color=line.get_color(), alpha=0.2)
        ax.axhline(np.mean([b["test"][key] for b in base]), color="black", ls="--", label="base kernel")
        ax.set_xticks(x, dims)
        ax.set_xlabel("embedding dimension d")
        ax.set_title(f"{title}, fresh views of test images")
    axes[0].set_ylabel("value")
    axes[-1].legend(loc="best")
    fig.suptitle(
        "Induced kernel of O1 (RBF, clique graph) on held-out views; band = range over alternative optima", y=1.03
    )
    out.savefig(fig, "alignment_vs_dim.png")

    fig, axes = plt.subplots(1, 3, figsize=(14, 3.9))
    for ax, (key, title) in zip(axes, keys):
        for lab, per_b in data["by_bandwidth"].items():
            bs = list(per_b)
            m = [np.mean([r["test"][key] for r in per_b[b]]) for b in bs]
            style = dict(color="black", ls="--") if lab == "base kernel" else {}
            ax.plot([float(b) for b in bs], m, marker="o", ms=4, label=lab, **style)
        ax.set_xscale("log", base=2)
        ax.set_xlabel("bandwidth / median heuristic")
        ax.set_title(title)
    axes[0].set_ylabel("value (fresh views of test images)")
    axes[-1].legend(loc="best")
    out.savefig(fig, "alignment_vs_bandwidth.png")

    if heat is None:
        return
    fig, axes = plt.subplots(1, 4, figsize=(19, 4.4), gridspec_kw={"wspace": 0.55})
    panels = (
        ("train_base", "base kernel k, training views"),
        ("train_induced", "induced k* = G*, training views"),
        ("test_base", "base kernel k, fresh test views"),
        ("test_induced", "induced k*, fresh test views"),
    )
    for ax, (key, title) in zip(axes, panels):
        M = np.asarray(heat[key])
        lim = float(np.max(np.abs(M)))
        im = ax.imshow(M, cmap="RdBu_r", vmin=-lim, vmax=lim)
        m = heat["m_train"] if key.startswith("train") else heat["m"]
        ticks = np.arange(0, M.shape[0], m) + (m - 1) / 2
        ax.grid(False)
        ax.set_xticks([])
        lab = heat["test_labels"] if key.startswith("test") else heat["train_labels"]
        ax.set_yticks(ticks, [f"digit {c}" for c in lab[::m]], fontsize=7)
        ax.set_title(title, fontsize=9)
        ax.set_xlabel(f"views ({m} per image)")
        fig.colorbar(im, ax=ax, fraction=0.046)
    fig.suptitle("Block structure: O1, d = n, λ = 0 (G* = A on training views; interpolated off them)", y=1.02)
    out.savefig(fig, "induced_kernel_heatmaps.png")
