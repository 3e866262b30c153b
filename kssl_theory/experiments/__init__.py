"""Experiment runner: ``python -m kssl_theory.experiments NAME`` (console script ``kssl-experiments``).

Experiments (each writes ``NAME.md``, ``NAME.json`` and PNG figures into ``--out``, default
``results/NAME``, with a tqdm progress bar on stderr):

- ``digits-probe``: few-label accuracy of the base kernel vs induced kernels of O1–O4
  (RBF and ReLU NTK, several ``d``, ``λ``, ``β``, clique and kNN graphs); ``--docs DIR`` also
  writes the README results section ``DIR/RESULTS_digits.md`` with its figures;
- ``digits-ablation``: the same probe while sweeping the RBF bandwidth, the augmentation strength,
  clean images among the views, and the kNN graph;
- ``alignment``: alignment/decorrelation of induced kernels on fresh views of held-out images
  vs ``d``, ``λ`` and bandwidth, with induced-kernel heatmaps;
- ``spectra``: target spectra of O1/O2/O4, the uniqueness gap, and how much non-unique optima
  disagree out of sample.
- ``study``: the downstream study on six data sets: base kernel, kernel PCA, LabelSpreading and
  O1–O4 on three graphs and three ``d`` on the same splits, paired gains with 95% intervals, the
  theory's quantities next to accuracy, theorem checks and findings; results are cached per
  configuration under ``OUT/cache`` (a rerun resumes); ``--docs DIR`` writes ``DIR/study.md``.

Options: ``--out DIR``, ``--seeds N`` (or a list ``0,3,7``), ``--quick`` (tiny sizes, for tests).

Exit status: 0 done; 2 usage error (bad option, unwritable ``--out`` or ``--docs``, matplotlib
missing), reported in one line before any computation; 130 interrupted: Ctrl-C (SIGINT) stops the
run, and the finished part is still written to ``NAME.md`` / ``NAME.json``, marked INCOMPLETE
(``meta.complete`` false in the JSON; no figures, and ``--docs`` is not written).
"""

from __future__ import annotations

import argparse
import pathlib
import re
import shlex
import sys

from ..errors import BackendUnavailableError, InputError, OutputError
from ..output_files import check_writable, ensure_folder, new_folders_removed_on_error
from ..validation import check_choice
from ._common import ExperimentInterrupted, Output, parse_seeds, require_matplotlib

__all__ = ["EXPERIMENTS", "ExperimentInterrupted", "OutputError", "main", "run"]

PROG = "kssl-experiments"
EXIT_OK, EXIT_USAGE, EXIT_INTERRUPTED = 0, 2, 130

#: Experiment names accepted by :func:`main` and :func:`run`, with their modules.
_MODULES = {
    "digits-probe": "digits_probe",
    "digits-ablation": "digits_ablation",
    "alignment": "alignment",
    "spectra": "spectra",
    "study": "study",
}
EXPERIMENTS = tuple(_MODULES)
#: Experiments that take ``docs`` (``--docs``).
WITH_DOCS = ("digits-probe", "digits-ablation", "study")


# The experiments build on two library modules: datasets (synthetic sets, digits and their
# augmentations) and probes (the kernel-ridge and linear downstream probes that score a
# representation on a few-label task). They are described here rather than in the module
# docstring, which is the command line's --help.
#: Library modules loaded on first attribute access (``kssl_theory.experiments.datasets``), so that
#: importing this package (the command line) loads neither.
_LAZY_SUBMODULES = ("datasets", "probes")


def __getattr__(name):
    if name in _LAZY_SUBMODULES:
        from importlib import import_module

        return import_module(f"{__name__}.{name}")
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def _load(name: str):
    from importlib import import_module

    return import_module(f"{__name__}.{_MODULES[name]}")


def run(name: str, *, out=None, seeds=None, quick: bool = False, docs=None, command: str | None = None) -> dict:
    """Run one experiment programmatically.

    Parameters
    ----------
    name : str
        One of :data:`EXPERIMENTS`.
    out : path-like, optional
        Output folder (default ``results/NAME``); created if needed.
    seeds : int, str or sequence of int, optional
        A count (seeds ``0..N-1``), ``"0,3,7"`` or a list; default: the experiment's own.
    quick : bool
        Tiny sizes (seconds).
    docs : path-like, optional
        ``digits-probe`` / ``digits-ablation`` / ``study`` only (:data:`WITH_DOCS`): also write the results page there.
    command : str, optional
        Command line recorded in the outputs.

    Returns
    -------
    dict
        The JSON payload, also written to ``out/NAME.json``.

    Raises
    ------
    InputError
        Unknown ``name``, bad ``seeds``, or ``docs`` for an experiment without one.
    BackendUnavailableError
        matplotlib is not installed (checked before any computation).
    OutputError
        ``out`` or ``docs`` cannot be written (checked before any computation).
    ExperimentInterrupted
        Ctrl-C stopped the run; the finished part was written first, marked INCOMPLETE.
    """
    name = check_choice("experiment", name, EXPERIMENTS)
    if docs is not None and name not in WITH_DOCS:
        raise InputError(f"docs applies to {' and '.join(WITH_DOCS)} only, not to {name!r}.")
    try:
        seeds = parse_seeds(seeds, 0) if seeds is not None else None
    except (TypeError, ValueError) as exc:
        raise InputError(f"seeds: {exc}") from exc
    require_matplotlib()
    module = _load(name)
    out = pathlib.Path("results") / name if out is None else out
    kwargs = {
        "quick": quick,
        "command": command or f"python -m kssl_theory.experiments {name}" + (" --quick" if quick else ""),
    }
    with new_folders_removed_on_error(*([out] if docs is None else [out, docs])):
        output = Output(name, out)
        if docs is not None:
            kwargs["docs"] = ensure_folder(docs, "docs folder")
            check_writable(kwargs["docs"] / module.DOCS_FILE)
    data = module.run(seeds, output, **kwargs)
    if not output.complete:
        raise ExperimentInterrupted(output, data)
    return data


#: ``:role:`text <target>```, ``:role:`~pkg.name```, ``:role:`name```: Sphinx cross-references.
_RST_ROLE = re.compile(r":[A-Za-z_][\w.:-]*:`(?:([^`<]*?)\s*<[^`>]*>|~?(?:[\w.]*\.)?([^`]*))`")
#: ````literal```` and ```interpreted```.
_RST_LITERAL = re.compile(r"``(.+?)``|`([^`]+)`", re.DOTALL)


def plain_text(rst: str) -> str:
    """``rst`` (a docstring in reStructuredText) with its inline markup removed, for ``--help``.

    Parameters
    ----------
    rst : str
        Text with inline literals (````x````), interpreted text (```x```) and roles
        (``:func:`x```, ``:data:`~pkg.x```, ``:ref:`text <target>```).

    Returns
    -------
    str
        The same text with the markup dropped: ``x``, ``x``, ``x``, ``text``. Line breaks and
        indentation are kept (the help is printed with ``RawDescriptionHelpFormatter``).
    """
    text = _RST_ROLE.sub(lambda m: m.group(1) if m.group(1) is not None else m.group(2), rst)
    return _RST_LITERAL.sub(lambda m: m.group(1) if m.group(1) is not None else m.group(2), text)


def build_parser() -> argparse.ArgumentParser:
    """The ``kssl-experiments`` argument parser; its help is the module docstring as plain text."""
    paragraphs = plain_text(__doc__ or "").split("\n\n")
    parser = argparse.ArgumentParser(
        prog=PROG,
        description=paragraphs[0],
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog="\n\n".join(paragraphs[1:]),
    )
    parser.add_argument("name", choices=EXPERIMENTS, help="experiment to run")
    parser.add_argument("--out", type=pathlib.Path, default=None, help="output folder (default results/NAME)")
    parser.add_argument(
        "--seeds", default=None, help="number of seeds (0..N-1) or a comma-separated list (default: the experiment's)"
    )
    parser.add_argument("--quick", action="store_true", help="tiny sizes (seconds; used by the tests)")
    parser.add_argument(
        "--docs",
        type=pathlib.Path,
        default=None,
        help=f"{' / '.join(WITH_DOCS)}: also write the results section into this folder",
    )
    return parser


def main(argv=None) -> int:
    """Command-line entry point; returns the exit status (see the module docstring)."""
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.docs is not None and args.name not in WITH_DOCS:
        parser.error(f"--docs applies to {', '.join(WITH_DOCS)} only")
    raw = list(sys.argv[1:] if argv is None else argv)
    command = "python -m kssl_theory.experiments " + " ".join(shlex.quote(a) for a in raw)
    try:
        seeds = parse_seeds(args.seeds, 0) if args.seeds is not None else None
    except ValueError as exc:
        parser.error(str(exc))
    out = args.out if args.out is not None else pathlib.Path("results") / args.name
    try:
        run(args.name, out=out, seeds=seeds, quick=args.quick, docs=args.docs, command=command)
    except (OutputError, BackendUnavailableError) as exc:
        print(f"{PROG}: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except ExperimentInterrupted as exc:
        print(
            f"{PROG}: interrupted (Ctrl-C); the finished part is in {exc.output.md_path} and "
            f"{exc.output.json_path}, marked INCOMPLETE; rerun the same command for the full results.",
            file=sys.stderr,
        )
        return EXIT_INTERRUPTED
    except KeyboardInterrupt:  # outside an experiment's loop: while starting, drawing or writing
        print(
            f"{PROG}: interrupted (Ctrl-C) outside the experiment's loop; the files in {out} may be missing or "
            "stale; rerun the same command.",
            file=sys.stderr,
        )
        return EXIT_INTERRUPTED
    print(f"{args.name}: wrote {out}/{args.name}.md, {args.name}.json and figures", file=sys.stderr)
    return EXIT_OK
