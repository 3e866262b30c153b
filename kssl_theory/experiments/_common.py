"""Shared plumbing of the experiment runner: output folder, tables, JSON, figures, progress bars.

Robustness lives here, once for every experiment: :class:`Output` checks before any computation
that the output folder and its ``NAME.md`` / ``NAME.json`` can be written (with
:mod:`kssl_theory.output_files`, shared with the verification runner),
:func:`require_matplotlib` that the figures can be drawn, and :meth:`Output.steps`
turns Ctrl-C inside an experiment's loop into an *incomplete* run whose finished part is still
reported, marked INCOMPLETE.
"""

from __future__ import annotations

import contextlib
import json
import math
import os
import pathlib
import platform
import sys
import time
from dataclasses import dataclass, field

import numpy as np

from ..errors import BackendUnavailableError
from ..output_files import check_writable, ensure_folder, writing

__all__ = [
    "Output",
    "ExperimentInterrupted",
    "require_matplotlib",
    "parse_seeds",
    "progress",
    "pyplot",
    "markdown_table",
    "fmt_acc",
    "fmt_num",
    "mean",
    "jsonable",
]

#: What :func:`require_matplotlib` says when matplotlib is missing.
MATPLOTLIB_MISSING = (
    "the experiments need matplotlib for their figures: pip install 'kssl-theory[notebooks]' "
    "(or install matplotlib>=3.8)"
)


class ExperimentInterrupted(KeyboardInterrupt):
    """Ctrl-C stopped an experiment; what had finished was written, marked INCOMPLETE.

    Raised by :func:`kssl_theory.experiments.run` after the partial output is on disk. It is a
    :class:`KeyboardInterrupt`, so an interrupt still stops the caller.

    Attributes
    ----------
    output : Output
        The run's output folder; ``output.md_path`` and ``output.json_path`` hold the partial results.
    data : dict
        The partial JSON payload.
    """

    def __init__(self, output: Output, data: dict):
        super().__init__(
            f"{output.name} was interrupted; the finished part is in {output.md_path} and "
            f"{output.json_path} (marked INCOMPLETE)."
        )
        self.output = output
        self.data = data


def require_matplotlib() -> None:
    """Check that matplotlib can be imported.

    Raises
    ------
    BackendUnavailableError
        If it cannot; the message names the extra that provides it.
    """
    try:
        import matplotlib  # noqa: F401  (only whether it imports)
    except ImportError as exc:
        raise BackendUnavailableError(MATPLOTLIB_MISSING) from exc


def parse_seeds(text, default: int) -> list[int]:
    """Seeds of a run from the ``--seeds`` option.

    Parameters
    ----------
    text : str, int, sequence of int or None
        ``"5"`` or ``5`` → seeds 0..4; ``"0,3,7"`` or ``[0, 3, 7]`` → those seeds; ``None`` → ``range(default)``.
    default : int
        Number of seeds when ``text`` is ``None``.

    Returns
    -------
    list of int

    Raises
    ------
    ValueError
        If ``text`` is not a positive count or a non-empty list of non-negative integers.
    """
    if text is None:
        return list(range(default))
    if isinstance(text, (list, tuple)):
        seeds = list(text)
    else:
        text = str(text).strip()
        if "," in text:
            seeds = [_seed(s.strip()) for s in text.split(",") if s.strip()]
        else:
            count = _seed(text)
            if count < 1:
                raise ValueError(f"--seeds needs a positive count or a comma-separated list; got {text!r}.")
            seeds = list(range(count))
    if not seeds:
        raise ValueError("--seeds gave no seed.")
    if any(isinstance(s, bool) or not isinstance(s, int) or s < 0 for s in seeds):
        raise ValueError(f"seeds must be non-negative integers; got {seeds!r}.")
    return seeds


def _seed(text: str) -> int:
    """One integer of ``--seeds``, with a message that names the option."""
    try:
        return int(text)
    except ValueError:
        raise ValueError(f"--seeds takes integers; got {text!r}.") from None


def progress(iterable=None, *, total=None, desc: str = "", disable: bool | None = None):
    """A tqdm progress bar on stderr (disabled when ``KSSL_NO_PROGRESS`` is set)."""
    from tqdm.auto import tqdm

    if disable is None:
        disable = bool(os.environ.get("KSSL_NO_PROGRESS"))
    return tqdm(iterable, total=total, desc=desc, file=sys.stderr, disable=disable, leave=False, dynamic_ncols=True)


def pyplot():
    """matplotlib's pyplot on the headless Agg backend, with a legible default style.

    Raises
    ------
    BackendUnavailableError
        If matplotlib is not installed.
    """
    require_matplotlib()
    import matplotlib

    matplotlib.use("Agg", force=True)
    import matplotlib.pyplot as plt

    plt.rcParams.update(
        {
            "figure.dpi": 110,
            "savefig.dpi": 110,
            "font.size": 10,
            "axes.grid": True,
            "grid.alpha": 0.3,
            "axes.titlesize": 11,
            "legend.fontsize": 8,
        }
    )
    return plt


def fmt_acc(values) -> str:
    """Percent ``mean ± std`` (sample std over seeds) of a list of accuracies in [0, 1]."""
    v = np.asarray(values, dtype=float)
    if v.size == 0 or not np.all(np.isfinite(v)):
        return "n/a"
    std = float(v.std(ddof=1)) if v.size > 1 else 0.0
    return f"{100 * v.mean():.1f} ± {100 * std:.1f}"


def mean(values) -> float:
    """Mean of a possibly empty list (NaN, without a warning, when it is empty)."""
    v = np.asarray(values, dtype=float)
    return float(v.mean()) if v.size else math.nan


def fmt_num(value, spec: str = ".3f") -> str:
    """``format(value, spec)``, or ``"n/a"`` for a missing (NaN or infinite) value."""
    return format(value, spec) if math.isfinite(value) else "n/a"


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


class _Steps:
    """Counts an experiment's finished steps and advances its progress bar (see :meth:`Output.steps`)."""

    def __init__(self, bar, total: int):
        self.bar, self.total, self.done = bar, total, 0
        self.last: str | None = None

    def __call__(self, label: str) -> None:
        """Record that the step ``label`` (e.g. ``"seed 0: λ=0.1, d=16"``) has finished."""
        self.done += 1
        self.last = label
        self.bar.update()


#: Why a run stopped early, as the INCOMPLETE note and ``meta.interrupted.reason`` say.
INTERRUPTED = "the run was interrupted (Ctrl-C)"


@dataclass
class Output:
    """The output folder of one experiment run: ``NAME.md``, ``NAME.json`` and PNG figures.

    Creating it creates the folder and checks that ``NAME.md`` and ``NAME.json`` can be written
    (:class:`OutputError` otherwise), so that a bad ``--out`` fails before any computation.

    Attributes
    ----------
    name : str
        Experiment name; the files are ``NAME.md`` and ``NAME.json``.
    folder : pathlib.Path
        Output folder.
    figures : list of str
        File names of the figures saved so far.
    started : float
        :func:`time.perf_counter` at creation.
    interrupted : dict or None
        ``None`` while the run is complete; after Ctrl-C inside :meth:`steps`, how far it got.
    """

    name: str
    folder: pathlib.Path
    figures: list[str] = field(default_factory=list)
    started: float = field(default_factory=time.perf_counter)
    interrupted: dict | None = None

    def __post_init__(self):
        self.folder = ensure_folder(pathlib.Path(self.folder))
        for path in (self.md_path, self.json_path):
            check_writable(path)

    @property
    def md_path(self) -> pathlib.Path:
        """``folder/NAME.md``."""
        return self.folder / f"{self.name}.md"

    @property
    def json_path(self) -> pathlib.Path:
        """``folder/NAME.json``."""
        return self.folder / f"{self.name}.json"

    @property
    def complete(self) -> bool:
        """Whether every step ran (no Ctrl-C inside :meth:`steps`)."""
        return self.interrupted is None

    @contextlib.contextmanager
    def steps(self, total: int):
        """Run an experiment's loop with a progress bar; Ctrl-C ends the loop, not the run.

        Use as ``with out.steps(total) as step:`` around the loop that accumulates results and
        call ``step(label)`` after each finished step. A :class:`KeyboardInterrupt` inside the
        block is absorbed: execution continues after the block with the results accumulated so
        far, :attr:`complete` is false and :attr:`interrupted` records the number of finished
        steps and the last one. The experiment then writes its (partial) report as usual;
        :meth:`write` marks it INCOMPLETE, and :func:`kssl_theory.experiments.run` raises
        :class:`ExperimentInterrupted` afterwards.

        Parameters
        ----------
        total : int
            Number of steps of a complete run.

        Yields
        ------
        callable
            ``step(label)``: record one finished step.
        """
        counter = _Steps(progress(total=total, desc=self.name), total)
        try:
            yield counter
        except KeyboardInterrupt:
            self.interrupted = {
                "reason": INTERRUPTED,
                "steps_done": counter.done,
                "steps_total": total,
                "last_finished_step": counter.last,
            }
        finally:
            counter.bar.close()

    def savefig(self, fig, filename: str) -> pathlib.Path:
        """Save a figure under the folder and close it."""
        import matplotlib.pyplot as plt

        path = self.folder / filename
        try:
            with writing(path):
                fig.savefig(path, bbox_inches="tight")
        finally:
            plt.close(fig)
        self.figures.append(filename)
        return path

    def elapsed(self) -> float:
        """Seconds since the output folder was created."""
        return time.perf_counter() - self.started

    def incomplete_note(self, command: str) -> str:
        """The INCOMPLETE line that heads the Markdown of an interrupted run (``""`` when complete)."""
        i = self.interrupted
        if i is None:
            return ""
        last = f" (last finished: {i['last_finished_step']})" if i["last_finished_step"] else ""
        return (
            f"> **INCOMPLETE: {i['reason']} after {i['steps_done']} of {i['steps_total']} steps{last}. "
            f"Tables show what finished ('n/a' where nothing did); figures were not drawn. "
            f"Rerun `{command}` for the full results.**"
        )

    def write(self, markdown: str, data: dict, command: str) -> tuple[pathlib.Path, pathlib.Path]:
        """Write ``NAME.md`` (with a provenance footer) and ``NAME.json``.

        An interrupted run's Markdown starts with :meth:`incomplete_note`, and its JSON has
        ``meta.complete`` false and ``meta.interrupted`` saying how far it got.

        Raises
        ------
        OutputError
            If a file cannot be written.
        """
        import kssl_theory

        meta = {
            "experiment": self.name,
            "command": command,
            "complete": self.complete,
            "interrupted": self.interrupted,
            "seconds": round(self.elapsed(), 2),
            "figures": self.figures,
            "versions": {
                "kssl_theory": kssl_theory.__version__,
                "numpy": np.__version__,
                "python": platform.python_version(),
            },
        }
        note = self.incomplete_note(command)
        figs = "\n".join(f"![{f}]({f})" for f in self.figures)
        with writing(self.md_path):
            self.md_path.write_text(
                (f"{note}\n\n" if note else "") + f"{markdown.rstrip()}\n\n{figs}\n\n---\nRegenerate with "
                f"`{command}` ({meta['seconds']:.0f} s here).\n",
                encoding="utf-8",
            )
        with writing(self.json_path):
            self.json_path.write_text(json.dumps(jsonable({"meta": meta, **data}), indent=1), encoding="utf-8")
        return self.md_path, self.json_path
