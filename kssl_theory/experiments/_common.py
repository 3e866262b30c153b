"""Shared plumbing of the experiment runner: output folder, tables, JSON, figures, progress bars."""

from __future__ import annotations

import json
import math
import os
import pathlib
import platform
import sys
import time
from dataclasses import dataclass, field

import numpy as np

__all__ = ["Output", "parse_seeds", "progress", "pyplot", "markdown_table", "fmt_acc", "jsonable"]


def parse_seeds(text: str | int | None, default: int) -> list[int]:
    """``"5"`` → seeds 0..4; ``"0,3,7"`` → those seeds; ``None`` → ``range(default)``."""
    if text is None:
        return list(range(default))
    text = str(text).strip()
    if "," in text:
        seeds = [int(s) for s in text.split(",") if s.strip()]
    else:
        count = int(text)
        if count < 1:
            raise ValueError(f"--seeds needs a positive count or a comma-separated list; got {text!r}.")
        seeds = list(range(count))
    if not seeds:
        raise ValueError("--seeds gave no seed.")
    return seeds


def progress(iterable=None, *, total=None, desc: str = "", disable: bool | None = None):
    """A tqdm progress bar on stderr (disabled when ``KSSL_NO_PROGRESS`` is set)."""
    from tqdm.auto import tqdm

    if disable is None:
        disable = bool(os.environ.get("KSSL_NO_PROGRESS"))
    return tqdm(iterable, total=total, desc=desc, file=sys.stderr, disable=disable, leave=False,
                dynamic_ncols=True)


def pyplot():
    """matplotlib's pyplot on the headless Agg backend, with a legible default style."""
    import matplotlib

    matplotlib.use("Agg", force=True)
    import matplotlib.pyplot as plt

    plt.rcParams.update({"figure.dpi": 110, "savefig.dpi": 110, "font.size": 10, "axes.grid": True,
                         "grid.alpha": 0.3, "axes.titlesize": 11, "legend.fontsize": 8})
    return plt


def fmt_acc(values) -> str:
    """Percent ``mean ± std`` (sample std over seeds) of a list of accuracies in [0, 1]."""
    v = np.asarray(values, dtype=float)
    if v.size == 0 or not np.all(np.isfinite(v)):
        return "n/a"
    std = float(v.std(ddof=1)) if v.size > 1 else 0.0
    return f"{100 * v.mean():.1f} ± {100 * std:.1f}"


def markdown_table(header: list[str], rows: list[list[str]]) -> str:
    """A GitHub-flavoured Markdown table."""
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    lines += ["| " + " | ".join(str(c) for c in row) + " |" for row in rows]
    return "\n".join(lines)


def jsonable(obj):
    """Convert NumPy scalars/arrays and non-finite floats into JSON-safe Python objects."""
    if isinstance(obj, dict):
        return {str(k): jsonable(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [jsonable(v) for v in obj]
    if isinstance(obj, np.ndarray):
        return jsonable(obj.tolist())
    if isinstance(obj, (np.floating, float)):
        f = float(obj)
        return f if math.isfinite(f) else str(f)
    if isinstance(obj, (np.integer,)):
        return int(obj)
    if isinstance(obj, (np.bool_,)):
        return bool(obj)
    return obj


@dataclass
class Output:
    """The output folder of one experiment run: ``NAME.md``, ``NAME.json`` and PNG figures."""

    name: str
    folder: pathlib.Path
    figures: list[str] = field(default_factory=list)
    started: float = field(default_factory=time.perf_counter)

    def __post_init__(self):
        self.folder = pathlib.Path(self.folder)
        self.folder.mkdir(parents=True, exist_ok=True)

    def savefig(self, fig, filename: str) -> pathlib.Path:
        """Save a figure under the folder and close it."""
        path = self.folder / filename
        fig.savefig(path, bbox_inches="tight")
        import matplotlib.pyplot as plt

        plt.close(fig)
        self.figures.append(filename)
        return path

    def elapsed(self) -> float:
        return time.perf_counter() - self.started

    def write(self, markdown: str, data: dict, command: str) -> tuple[pathlib.Path, pathlib.Path]:
        """Write ``NAME.md`` (with a provenance footer) and ``NAME.json``."""
        import kssl_theory

        meta = {
            "experiment": self.name,
            "command": command,
            "seconds": round(self.elapsed(), 2),
            "figures": self.figures,
            "versions": {"kssl_theory": kssl_theory.__version__, "numpy": np.__version__,
                         "python": platform.python_version()},
        }
        md_path = self.folder / f"{self.name}.md"
        figs = "\n".join(f"![{f}]({f})" for f in self.figures)
        md_path.write_text(
            f"{markdown.rstrip()}\n\n{figs}\n\n---\nRegenerate with `{command}` "
            f"({meta['seconds']:.0f} s here).\n",
            encoding="utf-8",
        )
        json_path = self.folder / f"{self.name}.json"
        json_path.write_text(json.dumps(jsonable({"meta": meta, **data}), indent=1), encoding="utf-8")
        return md_path, json_path
