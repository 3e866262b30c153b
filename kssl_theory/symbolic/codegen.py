r"""Generate :mod:`kssl_theory._generated.targets` from the SymPy derivations.

Usage::

    python -m kssl_theory.symbolic.codegen          # (re)write kssl_theory/_generated/targets.py
    python -m kssl_theory.symbolic.codegen --check  # exit 1 if the committed file is stale

Each generated function prints, with
:class:`~kssl_theory.symbolic.printer.KernelFactorPrinter`, one expression derived in
:mod:`kssl_theory.symbolic.derive`: the targets :math:`T` of the soft objectives, their minimum
values, and the spectral matrix of the whitened map. Its docstring carries the same expression
as LaTeX. The output is deterministic, so the freshness check compares bytes.
"""

from __future__ import annotations

import argparse
import re
import sys
from dataclasses import dataclass
from pathlib import Path

from sympy import Basic

from .derive import complete_square, ky_fan_form, latex
from .nodes import SymmetricMatrixSymbol
from .objectives import A, L, M, N, beta, c, d, lam
from .printer import KernelFactorPrinter

__all__ = ["GeneratedFunction", "generated_functions", "generate_source", "main", "OUTPUT"]

#: The generated module.
OUTPUT = Path(__file__).resolve().parents[1] / "_generated" / "targets.py"

_HEADER = '''r"""Target and spectral-matrix builders of the objectives (THEORY.md §3). GENERATED: do not edit.

Every function here is printed by :mod:`kssl_theory.symbolic.codegen` from an expression that
:mod:`kssl_theory.symbolic.derive` derives from a loss written once in
:mod:`kssl_theory.symbolic.objectives` (completing the square for the soft objectives, a Ky Fan
reduction for the whitened map). Regenerate with

    python -m kssl_theory.symbolic.codegen

and check freshness with ``python -m kssl_theory.symbolic.codegen --check`` (a test does).

``kf`` is a :class:`~kssl_theory.kernel_factor.KernelFactor`: ``kf.solve(X)`` applies
:math:`K^+`, ``kf.solve_scaled_identity(c)`` is :math:`cK^+` (no solve when ``c == 0``), ``kf.project(X)``
the projector :math:`P = KK^+` and ``kf.sqrt(X)`` :math:`K^{1/2}`; no inverse is ever formed.
Arrays may come from any array-API namespace.
"""

from __future__ import annotations

from ..backend import device, namespace

'''

_PARAMS = {
    "A": ("array, shape (N, N)", "Relation matrix :math:`A` (symmetric)."),
    "L": ("array, shape (N, N)", r"Graph Laplacian :math:`L` (symmetric, :math:`L\mathbf 1 = 0`)."),
    "M": ("array, shape (N, N)", r"Symmetric matrix: :math:`A` for O4, :math:`L` for its Laplacian twin."),
    "kf": (
        "KernelFactor",
        r"Factorisation of the Gram matrix :math:`K` (applies :math:`K^+`, :math:`P`, :math:`K^{1/2}`).",
    ),
    "reg": ("float", r":math:`\lambda \ge 0`, weight of the penalty :math:`\operatorname{tr}(C^TKC)`."),
    "beta": ("float", r":math:`\beta \ge 0`, weight of :math:`\operatorname{tr}(Z^TLZ)`."),
    "c": ("float", r":math:`c > 0`, scale in :math:`\|c\,Z^THZ - I_d\|_F^2`."),
    "dim": ("int", r"The embedding dimension :math:`d`."),
    "top": ("array, shape (d,)", r"The :math:`d` largest eigenvalues of the target :math:`T`."),
}

_NAMES = {lam: "reg", beta: "beta", c: "c", d: "dim", N: "n"}


@dataclass(frozen=True)
class GeneratedFunction:
    """One function of the generated module.

    Attributes
    ----------
    name : str
    args : tuple of str
        Argument names (keys of the parameter table).
    summary : str
        First docstring line.
    lhs : str
        LaTeX for the left-hand side of the displayed formula.
    expr : Expr or MatrixExpr
        The derived expression to print.
    namespace_of : tuple of str
        Arguments whose array namespace the body uses.
    size_of : str or None
        Argument whose first dimension is :math:`N`.
    returns : str
        Description of the return value.
    display : Expr or None
        What the docstring shows, when it differs from ``expr`` (a minimum written with the
        target :math:`T` as a symbol).
    """

    name: str
    args: tuple
    summary: str
    lhs: str
    expr: Basic
    namespace_of: tuple
    size_of: str | None
    returns: str
    display: Basic | None = None

    def code(self) -> str:
        """The body expression as array-API code."""
        settings = {"names": _NAMES, "eigenvalues": "top"}
        if self.size_of is not None:
            settings["dtype"] = f"{self.size_of}.dtype"
            settings["device"] = f"device({self.size_of})"
        return KernelFactorPrinter(settings).doprint(self.expr)

    def source(self) -> str:
        """The function's source, docstring included."""
        body = self.code()
        lines = [f"def {self.name}({', '.join(self.args)}):", f'    r"""{self.summary}', ""]
        shown = self.expr if self.display is None else self.display
        lines += [f"    .. math:: {self.lhs} = {latex(shown)}", "", "    Parameters", "    ----------"]
        for arg in self.args:
            kind, doc = _PARAMS[arg]
            lines += [f"    {arg} : {kind}", f"        {doc}"]
        lines += ["", "    Returns", "    -------", f"    {self.returns}", '    """']
        if "xp." in body:
            lines.append(f"    xp = namespace({', '.join(self.namespace_of)})")
        if self.size_of is not None and _uses_name(body, "n"):
            lines.append(f"    n = {self.size_of}.shape[0]")
        lines.append(_wrap_return(body))
        return "\n".join(lines) + "\n"


def _wrap_return(body: str, width: int = 100) -> str:
    """``return body``, split before top-level ``+``/``-`` when longer than ``width``."""
    line = f"    return {body}"
    if len(line) <= width:
        return line
    pieces, depth, start = [], 0, 0
    for i, ch in enumerate(body):
        depth += ch in "([{"
        depth -= ch in ")]}"
        if depth == 0 and body[i : i + 3] in (" + ", " - "):
            pieces.append(body[start:i])
            start = i + 1
    pieces.append(body[start:])
    return "\n".join(["    return (", *(f"        {p.strip()}" for p in pieces), "    )"])


def _uses_name(code: str, name: str) -> bool:
    return re.search(rf"(?<![\w.]){name}(?!\w)", code) is not None


def generated_functions() -> list[GeneratedFunction]:
    """The functions of :mod:`kssl_theory._generated.targets`, from fresh derivations.

    Raises
    ------
    RuntimeError
        If two derivations that must share one generated function disagree (the minima of
        the plain and centred VICReg variants; the whitened matrices of O4 and its twin).
    """
    o1, o2, o2c = complete_square("contrastive"), complete_square("vicreg"), complete_square("vicreg_centred")
    printer = KernelFactorPrinter({"names": _NAMES, "eigenvalues": "top"})
    if printer.doprint(o2.minimum) != printer.doprint(o2c.minimum):
        raise RuntimeError(f"plain and centred VICReg minima differ: {o2.minimum} vs {o2c.minimum}")
    whitened = ky_fan_form("whitened").spectral_matrix.xreplace({A: M})
    if ky_fan_form("whitened_laplacian").spectral_matrix.xreplace({L: M}) != whitened:
        raise RuntimeError("the whitened matrices of O4 and of its Laplacian twin differ")
    target_doc = "array, shape (N, N)\n        The target :math:`T`; the optimal Gram matrix is :math:`[T]_{+,d}`."
    minimum_doc = "scalar array\n        The optimal loss."
    T = SymmetricMatrixSymbol("T", N, N)
    return [
        GeneratedFunction(
            "contrastive_target",
            ("A", "kf", "reg"),
            "O1 spectral contrastive target (THEORY.md §3).",
            "T",
            o1.target,
            ("A",),
            "A",
            target_doc,
        ),
        GeneratedFunction(
            "contrastive_minimum",
            ("A", "top"),
            "O1 optimal loss from the top eigenvalues of its target.",
            r"\min \mathcal{L}",
            o1.minimum,
            ("A", "top"),
            None,
            minimum_doc,
            o1.minimum.xreplace({o1.target: T}),
        ),
        GeneratedFunction(
            "vicreg_target",
            ("L", "kf", "beta", "reg"),
            "O2 VICReg-like (soft) target (THEORY.md §3).",
            "T",
            o2.target,
            ("L",),
            "L",
            target_doc,
        ),
        GeneratedFunction(
            "vicreg_centred_target",
            ("L", "beta", "c"),
            "Centred O2 target, for :math:`cHZZ^TH` (THEORY.md §3).",
            "T",
            o2c.target,
            ("L",),
            "L",
            target_doc,
        ),
        GeneratedFunction(
            "vicreg_minimum",
            ("dim", "top"),
            "O2 optimal loss (plain and centred) from the top eigenvalues of its target.",
            r"\min \mathcal{L}",
            o2.minimum,
            ("top",),
            None,
            minimum_doc,
            o2.minimum.xreplace({o2.target: T}),
        ),
        GeneratedFunction(
            "whitened_matrix",
            ("M", "kf"),
            "O4 spectral matrix; its top (bottom for M = L) eigenvectors solve O4.",
            "S",
            whitened,
            ("M",),
            "M",
            "array, shape (N, N)\n        :math:`S`; with :math:`V_d` its top-:math:`d` eigenvectors, "
            ":math:`C = (K^+)^{1/2}V_d`.",
        ),
    ]


def generate_source() -> str:
    """The full text of :mod:`kssl_theory._generated.targets`."""
    functions = generated_functions()
    names = "".join(f'    "{f.name}",\n' for f in functions)
    parts = [_HEADER, f"__all__ = [\n{names}]\n"]
    parts += [f"\n\n{f.source()}" for f in functions]
    return "".join(parts)


def main(argv=None) -> int:
    """Command-line entry point: write the generated module, or ``--check`` that it is fresh.

    Parameters
    ----------
    argv : list of str, optional
        Arguments (default ``sys.argv[1:]``): ``--check`` and ``--output PATH``.

    Returns
    -------
    int
        0 on success; 1 when ``--check`` finds the file missing or stale.
    """
    parser = argparse.ArgumentParser(prog="python -m kssl_theory.symbolic.codegen", description=__doc__.split("\n")[0])
    parser.add_argument("--check", action="store_true", help="exit 1 if the generated file is stale")
    parser.add_argument("--output", type=Path, default=OUTPUT, help="generated module path")
    args = parser.parse_args(argv)
    source = generate_source()
    if args.check:
        current = args.output.read_bytes() if args.output.exists() else None
        if current != source.encode("utf-8"):
            print(
                f"{args.output} is stale or missing; regenerate with python -m kssl_theory.symbolic.codegen",
                file=sys.stderr,
            )
            return 1
        return 0
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_bytes(source.encode("utf-8"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
