r"""spectra: target spectra, the uniqueness gap, and what non-uniqueness does out of sample (docs/theory.md §3).

On a small digits task (RBF base kernel on training views, clique graph unless said otherwise):

- spectra of the O1 target :math:`T = A - \tfrac{\lambda}{2}K^{-1}` for several ``λ`` (at λ = 0 the
  ``n`` group directions tie at eigenvalue ``m``), of the O2 target :math:`I - \tfrac{\beta}{2}L`
  (within-group eigenvalue :math:`1 - \beta m/2`, positive iff :math:`\beta < 2/m`), of the O4 matrix
  :math:`K^{1/2}AK^{1/2}`, and of the O1 target on the clique + kNN graph;
- the gap :math:`|\lambda_d - \lambda_{d+1}|` the solver reports, against ``d``;
- at λ = 0, the out-of-sample disagreement of two optima of equal loss (the solver's and
  ``Solution.alternative(1)``), :math:`\|k^*_1 - k^*_2\|_F / \|k^*_1\|_F` on held-out images,
  against ``d``;
- for λ > 0 (unique optima), how far the penalised optimum moves when λ grows from its smallest
  value, :math:`\|k^*_\lambda - k^*_{\lambda_{\min}}\|_F / \|k^*_{\lambda_{\min}}\|_F` (small for small
  λ: the λ → 0⁺ limit is one well-defined, kernel-dependent choice among the tied optima).
"""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np

from ..kernel_regime.engine import solve
from ._common import Output, markdown_table, pyplot
from .digits import make_task

NAME = "spectra"


def settings(quick: bool) -> dict:
    """Sizes of a full or a ``--quick`` run."""
    if quick:
        return {
            "n_train": 40,
            "n_views": 2,
            "n_test": 40,
            "seeds": 1,
            "regs": (0.0, 0.01, 0.1),
            "betas": (0.5, 1.0),
            "dims": (2, 10, 39, 40, 41, 60),
        }
    return {
        "n_train": 120,
        "n_views": 3,
        "n_test": 100,
        "seeds": 1,
        "regs": (0.0, 1e-3, 1e-2, 1e-1, 1.0),
        "betas": (0.2, 2 / 3, 1.0),
        "dims": (1, 2, 5, 10, 20, 40, 80, 110, 119, 120, 121, 150, 240, 360),
    }


def _solve(task, objective, dim, A=None, **opts):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return solve(objective, task.K, task.graphs["clique"] if A is None else A, dim, **opts)


def _spectrum(rec, key, eigenvalues) -> None:
    """Store one spectrum and its number of (relatively) positive eigenvalues."""
    w = np.asarray(eigenvalues)
    rec["spectra"][key] = w
    rec["positive"][key] = int(np.sum(w > 1e-9 * np.max(np.abs(w))))


def run(seeds, out: Output, *, quick: bool = False, command: str = "") -> dict:
    """Compute spectra, gaps and disagreements; write table, JSON and figures.

    Ctrl-C keeps what finished (see :meth:`Output.steps`): the report then covers the finished
    spectra and dimensions, without figures.
    """
    cfg = settings(quick)
    seeds = list(range(cfg["seeds"])) if seeds is None else seeds
    n, m = cfg["n_train"], cfg["n_views"]
    N = n * m
    dims = [d for d in cfg["dims"] if d <= N]
    result = {"settings": {**cfg, "dims": dims, "seeds": seeds, "N": N}, "seeds": {}}
    total = len(seeds) * (len(cfg["regs"]) * (1 + len(dims)) + len(cfg["betas"]) + 2)
    with out.steps(total) as step:
        for seed in seeds:
            task = make_task(seed, kernel="rbf", n_train=n, n_test=cfg["n_test"], n_views=m, knn=5)
            rec: dict[str, dict[str, Any]] = {
                "spectra": {},
                "gap": {},
                "unique": {},
                "disagreement": {},
                "positive": {},
                "drift": {},
            }
            result["seeds"][str(seed)] = rec
            kstar = {}
            for reg in cfg["regs"]:
                key = f"O1 λ={reg:g}"
                _spectrum(rec, key, _solve(task, "contrastive", 1, reg=reg).eigenvalues)
                step(f"seed {seed}: spectrum {key}")
                rec["gap"][key], rec["unique"][key], rec["disagreement"][key] = [], [], []
                for d in dims:
                    sol = _solve(task, "contrastive", d, reg=reg)
                    k1 = np.asarray(sol.induced_kernel(task.K_test))
                    if sol.is_unique:
                        disagreement = 0.0
                    else:
                        k2 = np.asarray(sol.alternative(1).induced_kernel(task.K_test))
                        disagreement = float(np.linalg.norm(k1 - k2) / max(float(np.linalg.norm(k1)), 1e-300))
                    kstar[reg, d] = k1
                    rec["gap"][key].append(float(sol.gap))
                    rec["unique"][key].append(bool(sol.is_unique))
                    rec["disagreement"][key].append(disagreement)
                    step(f"seed {seed}: {key}, d={d}")
            positive = sorted(r for r in cfg["regs"] if r > 0)
            for reg in positive[1:]:
                rec["drift"][f"O1 λ={reg:g}"] = [
                    float(
                        np.linalg.norm(kstar[reg, d] - kstar[positive[0], d])
                        / max(float(np.linalg.norm(kstar[positive[0], d])), 1e-300)
                    )
                    for d in dims
                ]
            for beta in cfg["betas"]:
                _spectrum(rec, f"O2 β={beta:.3g}", _solve(task, "vicreg", 1, beta=beta).eigenvalues)
                step(f"seed {seed}: spectrum O2 β={beta:.3g}")
            _spectrum(rec, "O4 K½AK½", _solve(task, "whitened", 1).eigenvalues)
            step(f"seed {seed}: spectrum O4")
            _spectrum(rec, "O1 kNN graph λ=0", _solve(task, "contrastive", 1, A=task.graphs["knn"]).eigenvalues)
            step(f"seed {seed}: spectrum O1 kNN graph")
    if out.complete:
        _figures(out, result)
    out.write(_markdown(result), result, command)
    return result


def _markdown(result) -> str:
    s = result["settings"]
    n, m = s["n_train"], s["n_views"]
    parts = [
        f"# {NAME}: spectra of the targets and uniqueness of the optimum",
        f"Digits, {n} training images × {m} views (N = {s['N']}), RBF base kernel (median bandwidth), "
        f"clique graph unless noted; first seed shown.",
        "",
    ]
    rec = next(iter(result["seeds"].values()), None)
    if rec is None:
        return "\n".join(parts + ["No spectrum finished.", ""])
    rows = []
    for key, w in rec["spectra"].items():
        w = np.sort(np.asarray(w))[::-1]
        rows.append(
            [key, f"{w[0]:.4g}", f"{w[n - 1]:.4g}", f"{w[n]:.4g}" if w.size > n else "—", str(rec["positive"][key])]
        )
    parts += [
        "## Spectra",
        "",
        markdown_table(["matrix", "λ_1", f"λ_n (n={n})", "λ_{n+1}", "# positive"], rows),
        "",
        f"Expected (docs/theory.md §1, §3): at λ = 0 the O1 target is A with eigenvalue m = {m} of multiplicity "
        f"n = {n} and 0 otherwise; O2's within-group eigenvalue is 1 − βm/2 (positive iff β < 2/m = "
        f"{2 / m:.3g}).",
        "",
    ]

    def cell(key, i):
        if i >= len(rec["gap"][key]):
            return "n/a"
        return (
            f"{rec['gap'][key][i]:.3g} / {'yes' if rec['unique'][key][i] else 'no'} / {rec['disagreement'][key][i]:.3g}"
        )

    header = ["d"] + [f"{k}: gap / unique / disagreement" for k in rec["gap"]]
    rows = [[str(d)] + [cell(k, i) for k in rec["gap"]] for i, d in enumerate(s["dims"])]
    parts += [
        "## Uniqueness gap and out-of-sample disagreement of two optima",
        "",
        "gap = |λ_d − λ_{d+1}| of the target; disagreement = ‖k*₁ − k*₂‖_F / ‖k*₁‖_F on held-out images "
        "between the solver's optimum and `Solution.alternative(1)` (same loss; 0 when the solver reports "
        "a unique optimum, where `alternative` returns the optimum itself).",
        "",
        markdown_table(header, rows),
        "",
    ]
    if rec["drift"]:
        lam0 = min(r for r in s["regs"] if r > 0)
        header = ["d"] + list(rec["drift"])
        rows = [[str(d)] + [f"{rec['drift'][k][i]:.3g}" for k in rec["drift"]] for i, d in enumerate(s["dims"])]
        parts += [
            f"## How far the penalised optimum moves with λ (relative to λ = {lam0:g})",
            "",
            f"‖k*_λ − k*_{{{lam0:g}}}‖_F / ‖k*_{{{lam0:g}}}‖_F on held-out images.",
            "",
            markdown_table(header, rows),
            "",
        ]
    return "\n".join(parts)


def _figures(out: Output, result):
    plt = pyplot()
    s = result["settings"]
    n, m = s["n_train"], s["n_views"]
    rec = next(iter(result["seeds"].values()))
    show = min(s["N"], 3 * n)

    fig, axes = plt.subplots(1, 2, figsize=(12, 4))
    for key, w in rec["spectra"].items():
        w = np.sort(np.asarray(w))[::-1][:show]
        ax = axes[0] if key.startswith("O1 λ") else axes[1]
        ax.plot(np.arange(1, w.size + 1), w, lw=1.5, label=key)
    for ax in axes:
        ax.axvline(n, color="gray", ls=":", lw=1)
        ax.axhline(0, color="black", lw=0.8)
        ax.set_xlabel("eigenvalue index i (descending)")
        ax.set_ylabel("λ_i")
        ax.legend(loc="best")
    axes[0].set_ylim(-2 * m, m + 1)
    axes[0].set_title(f"O1 target A − (λ/2)K⁻¹ (n = {n} images, m = {m} views); dotted: i = n")
    axes[1].set_yscale("symlog", linthresh=1e-2)
    axes[1].set_title("O2 targets I − (β/2)L, O4 matrix, O1 on kNN graph")
    out.savefig(fig, "target_spectra.png")

    fig, axes = plt.subplots(1, 3, figsize=(17, 4.4))
    dims = np.asarray(s["dims"])
    for key in rec["gap"]:
        gap = np.maximum(np.asarray(rec["gap"][key], dtype=float), 1e-17)
        uniq = np.asarray(rec["unique"][key])
        line = axes[0].plot(dims, gap, lw=1.2, label=key)[0]
        axes[0].scatter(dims[uniq], gap[uniq], marker="o", s=22, color=line.get_color())
        axes[0].scatter(dims[~uniq], gap[~uniq], marker="x", s=40, color=line.get_color())
    must = {int(dims[0]), int(dims[-1])} | ({n} if n in dims else set())
    ticks = sorted(must)
    for d in dims:  # add labels at least ~1.6x away from every label already placed, so they stay legible
        if all(abs(np.log10(d / t)) > 0.2 for t in ticks):
            ticks = sorted(ticks + [int(d)])
    first = next(iter(rec["disagreement"]))
    dis = np.asarray(rec["disagreement"][first], dtype=float)
    uniq = np.asarray(rec["unique"][first])
    axes[1].plot(dims[~uniq], dis[~uniq], marker="x", ms=7, color="C0", label=f"{first}: two optima of equal loss")
    for i, (key, drift) in enumerate(rec["drift"].items()):
        axes[2].plot(dims, np.maximum(drift, 1e-17), marker="o", ms=4, color=f"C{i + 2}", label=key)
    for ax in axes:
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.set_xticks(ticks, [str(d) for d in ticks], fontsize=8)
        ax.minorticks_off()
        ax.axvline(n, color="gray", ls=":", lw=1)
        ax.set_xlabel("embedding dimension d (dotted: d = n)")
    axes[0].legend(loc="center left", title="o unique, x not unique", title_fontsize=8)
    axes[0].set_ylabel("|λ_d − λ_{d+1}|  (floored at 1e-17)")
    axes[0].set_title("uniqueness gap of the O1 target")
    axes[1].legend(loc="lower left")
    axes[1].set_ylabel("‖k*₁ − k*₂‖_F / ‖k*₁‖_F")
    axes[1].set_title("λ = 0, d < n: optima disagree on held-out images")
    lam0 = min(r for r in s["regs"] if r > 0)
    axes[2].legend(loc="best")
    axes[2].set_ylabel(f"‖k*_λ − k*_(λ={lam0:g})‖_F / ‖k*_(λ={lam0:g})‖_F")
    axes[2].set_title("λ > 0: how far the unique optimum moves as λ grows")
    out.savefig(fig, "uniqueness_gap.png")
