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

Options: ``--out DIR``, ``--seeds N`` (or a list ``0,3,7``), ``--quick`` (tiny sizes, for tests).
"""

from __future__ import annotations

import argparse
import pathlib
import shlex
import sys

from ._common import Output, parse_seeds

__all__ = ["EXPERIMENTS", "main", "run"]


def _load(name: str):
    from importlib import import_module

    module = {"digits-probe": "digits_probe", "digits-ablation": "digits_ablation", "alignment": "alignment",
              "spectra": "spectra"}[name]
    return import_module(f"{__name__}.{module}")


#: Experiment names accepted by :func:`main`.
EXPERIMENTS = ("digits-probe", "digits-ablation", "alignment", "spectra")


def run(name: str, *, out=None, seeds=None, quick: bool = False, docs=None, command: str | None = None) -> dict:
    """Run one experiment programmatically; returns its JSON payload (also written to ``out``)."""
    if name not in EXPERIMENTS:
        raise ValueError(f"unknown experiment {name!r}; choose one of {', '.join(EXPERIMENTS)}.")
    module = _load(name)
    folder = pathlib.Path(out) if out is not None else pathlib.Path("results") / name
    output = Output(name, folder)
    command = command or f"python -m kssl_theory.experiments {name}" + (" --quick" if quick else "")
    kwargs = {"quick": quick, "command": command}
    if docs is not None:
        kwargs["docs"] = pathlib.Path(docs)
    return module.run(parse_seeds(seeds, 0) if seeds is not None else None, output, **kwargs)


def main(argv=None) -> int:
    """Command-line entry point; returns the process exit status."""
    parser = argparse.ArgumentParser(prog="kssl-experiments", description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter,
                                     epilog="\n\n".join(__doc__.split("\n\n")[1:]))
    parser.add_argument("name", choices=EXPERIMENTS, help="experiment to run")
    parser.add_argument("--out", type=pathlib.Path, default=None, help="output folder (default results/NAME)")
    parser.add_argument("--seeds", default=None,
                        help="number of seeds (0..N-1) or a comma-separated list (default: the experiment's)")
    parser.add_argument("--quick", action="store_true", help="tiny sizes (seconds; used by the tests)")
    parser.add_argument("--docs", type=pathlib.Path, default=None,
                        help="digits-probe / digits-ablation: also write the results section into this folder")
    args = parser.parse_args(argv)
    if args.docs is not None and args.name not in ("digits-probe", "digits-ablation"):
        parser.error("--docs applies to digits-probe and digits-ablation only")
    raw = list(sys.argv[1:] if argv is None else argv)
    command = "python -m kssl_theory.experiments " + " ".join(shlex.quote(a) for a in raw)
    try:
        seeds = parse_seeds(args.seeds, 0) if args.seeds is not None else None
    except ValueError as exc:
        parser.error(str(exc))
    out = args.out if args.out is not None else pathlib.Path("results") / args.name
    module = _load(args.name)
    kwargs = {"quick": args.quick, "command": command}
    if args.docs is not None:
        kwargs["docs"] = args.docs
    module.run(seeds, Output(args.name, out), **kwargs)
    print(f"{args.name}: wrote {out}/{args.name}.md, {args.name}.json and figures", file=sys.stderr)
    return 0
