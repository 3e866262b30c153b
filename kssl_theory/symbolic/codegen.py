r"""Generate :mod:`kssl_theory._generated.targets` (and ``docs/objectives.md``) from the declarations.

Usage::

    python -m kssl_theory.symbolic.codegen          # (re)write kssl_theory/_generated/targets.py
                                                    # and docs/objectives.md
    python -m kssl_theory.symbolic.codegen --check  # exit 1 if a committed file is stale

For every declaration of :mod:`kssl_theory.symbolic.objectives` (:func:`declarations`), each
generated function prints, with :class:`~kssl_theory.symbolic.printer.KernelFactorPrinter`, one
expression derived in :mod:`kssl_theory.symbolic.derive` (soft objectives: target :math:`T`,
minimum, the split :math:`T = \text{free} - pK^+`, the scale of :math:`G`; hard-constrained ones:
the Ky Fan matrix) or the declared loss itself; a record lists them with the declaration's names,
options and numeric form (:func:`form_of`). Docstrings carry the same expressions as LaTeX. The
output is deterministic, so the freshness check compares bytes. :func:`register_objective` does
the same for a new declaration at run time, without writing files.
"""

from __future__ import annotations

import argparse
import re
import sys
import types
from dataclasses import dataclass
from pathlib import Path

from sympy import Add, Basic, MatAdd, MatMul, MatrixSymbol, S

from .derive import DerivationError, complete_square, ky_fan_form, latex
from .nodes import PseudoInverse, SymmetricMatrixSymbol
from .objectives import (
    SOFT_OBJECTIVES,
    SPECTRAL_OBJECTIVES,
    A,
    C,
    H,
    K,
    Kp,
    L,
    N,
    P,
    SoftObjective,
    SpectralObjective,
    V,
    Z,
    d,
)
from .printer import KernelFactorPrinter

__all__ = [
    "FORMS",
    "GeneratedFunction",
    "compile_declaration",
    "declaration_functions",
    "declarations",
    "form_of",
    "generated_functions",
    "generate_source",
    "main",
    "objectives_markdown",
    "DOCS_OUTPUT",
    "OUTPUT",
    "register_objective",
    "unregister_objective",
]

#: The generated module.
OUTPUT = Path(__file__).resolve().parents[1] / "_generated" / "targets.py"

_HEADER = '''r"""The objectives' functions and declaration records (docs/theory.md §3). GENERATED: do not edit.

Every function here is printed by :mod:`kssl_theory.symbolic.codegen` from an expression that
:mod:`kssl_theory.symbolic.derive` derives from a loss written once in
:mod:`kssl_theory.symbolic.objectives` (completing the square for the soft objectives, a Ky Fan
reduction for the hard-constrained ones), or from the loss itself (``*_loss``). ``DECLARATIONS``
holds one record per declaration (names, options, form, rule, functions), from which
:mod:`kssl_theory.kernel_regime.objectives` builds the objectives. Regenerate with

    python -m kssl_theory.symbolic.codegen

and check freshness with ``python -m kssl_theory.symbolic.codegen --check`` (a test does).

``kf`` is a :class:`~kssl_theory.kernel_factor.KernelFactor`: ``kf.solve(X)`` applies
:math:`K^+`, ``kf.solve_scaled_identity(c)`` is :math:`cK^+` (no solve when ``c == 0``), ``kf.project(X)``
the projector :math:`P = KK^+`, and ``kf.root(X)``, ``kf.root_t(X)`` a root :math:`R` of
:math:`K = RR^T` and its transpose (the Cholesky factor when :math:`K \\succ 0`); no inverse is
ever formed.
Arrays may come from any array-API namespace.
"""

from __future__ import annotations

from ..backend import device, gram, namespace
from ..errors import InputError

'''

_ARRAY_DOCS = {
    "A": ("array, shape (N, N)", "Relation matrix :math:`A` (symmetric)."),
    "L": ("array, shape (N, N)", r"Graph Laplacian :math:`L` (symmetric, :math:`L\mathbf 1 = 0`)."),
    "Z": ("array, shape (N, d)", "Embeddings :math:`Z` of the training views (rows)."),
    "K": ("array, shape (N, N), optional", "Gram matrix :math:`K` (needed by the terms in :math:`C`)."),
    "C": ("array, shape (N, d), optional", "Coefficients :math:`C` with :math:`Z = KC`."),
    "kf": (
        "KernelFactor",
        r"Factorisation of the Gram matrix :math:`K` (applies :math:`K^+`, :math:`P`, "
        r"a root :math:`R` of :math:`K = RR^T`).",
    ),
    "X": ("array, shape (N, k)", "Block of vectors (columns) to apply the matrix to."),
    "dim": ("int", r"The embedding dimension :math:`d`."),
    "top": ("array, shape (d,)", r"The :math:`d` largest eigenvalues of the target :math:`T`."),
}
#: Arguments in the order every generated signature uses; options follow in declaration order.
_ARG_ORDER = ("X", "Z", "A", "L", "K", "C", "kf", "dim", "top")
#: Arrays whose first dimension is :math:`N` (the first present gives ``n``, dtype and device).
_SIZED = ("Z", "A", "L", "X")
_KIND_TYPES = {"nonnegative": "float", "positive": "float", "bool": "bool"}
#: The numeric solver form of each declaration shape (see :func:`form_of`).
FORMS = ("penalised", "centred", "orthonormal", "whitened")


def _uses_name(code: str, name: str) -> bool:
    return re.search(rf"(?<![\w.]){name}(?!\w)", code) is not None


def _names(decl) -> dict:
    names = {o.symbol: o.name for o in decl.options if o.symbol is not None}
    names.update({d: "dim", N: "n"})
    return names


@dataclass(frozen=True)
class GeneratedFunction:
    """One function of the generated module.

    Its arguments are the names of :data:`_ARG_ORDER` and the declaration's options that its
    printed code uses, in that order.

    Attributes
    ----------
    name : str
    summary : str
        First docstring line.
    lhs : str
        LaTeX for the left-hand side of the displayed formula.
    expr : Expr or MatrixExpr
        The derived expression to print.
    declaration : SoftObjective or SpectralObjective
        Where the option names and their documentation come from.
    returns : str
        Description of the return value.
    display : Expr or None
        What the docstring shows, when it differs from ``expr`` (a minimum written with the
        target :math:`T` as a symbol).
    guarded : tuple of (Expr, Expr)
        For a loss: ``(coefficient, term)`` pairs evaluated only when the coefficient is nonzero
        (the terms in :math:`C`, which :math:`Z` alone does not determine); ``expr`` is the rest.
    majorant : bool
        Print with every term added (the printer's ``majorant`` setting).
    """

    name: str
    summary: str
    lhs: str
    expr: Basic
    declaration: SoftObjective | SpectralObjective
    returns: str
    display: Basic | None = None
    guarded: tuple = ()
    majorant: bool = False

    def _print(self, expr, sized: str | None) -> str:
        settings = {"names": _names(self.declaration), "eigenvalues": "top", "majorant": self.majorant}
        if sized is not None:
            settings["dtype"] = f"{sized}.dtype"
            settings["device"] = f"device({sized})"
        return KernelFactorPrinter(settings).doprint(expr)

    def _codes(self) -> tuple[str, list[tuple[str, str]]]:
        """The body and the guarded ``(coefficient, term)`` codes; created arrays take the dtype and
        device of the first :data:`_SIZED` array the expression uses."""
        used = {str(sym) for e in (self.expr, *(t for _, t in self.guarded)) for sym in e.free_symbols}
        sized = next((a for a in _SIZED if a in used), None)
        return self._print(self.expr, sized), [(self._print(k, sized), self._print(t, sized)) for k, t in self.guarded]

    @property
    def args(self) -> tuple:
        """Argument names, in signature order."""
        body, guards = self._codes()
        text = " ".join([body, *(g + " " + t for g, t in guards)])
        fixed = [a for a in _ARG_ORDER if _uses_name(text, a) and not (a == "dim" and _uses_name(text, "Z"))]
        options = [o.name for o in self.declaration.options if _uses_name(text, o.name)]
        if guards:  # K and C last, optional: Z alone evaluates the loss when the guarded terms vanish
            return tuple([a for a in fixed if a not in ("K", "C")] + options + ["K", "C"])
        return tuple(fixed + options)

    def source(self) -> str:
        """The function's source, docstring included."""
        body, guards = self._codes()
        args = self.args
        params = [f"{a}=None" if a in ("K", "C") and guards else a for a in args]
        lines = [f"def {self.name}({', '.join(params)}):", f'    r"""{self.summary}', ""]
        shown = self.expr if self.display is None else self.display
        if self.guarded:
            shown = Add(shown, *(k * t for k, t in self.guarded), evaluate=False)
        lines += [f"    .. math:: {self.lhs} = {latex(shown)}", "", "    Parameters", "    ----------"]
        docs = dict(_ARRAY_DOCS)
        docs.update({o.name: (_KIND_TYPES[o.kind], o.doc + ".") for o in self.declaration.options})
        for arg in args:
            kind, doc = docs[arg]
            lines += [f"    {arg} : {kind}", f"        {doc}"]
        lines += ["", "    Returns", "    -------", f"    {self.returns}", '    """']
        text = " ".join([body, *(g + " " + t for g, t in guards)])
        arrays = [a for a in args if a in _SIZED or a in ("top",)]
        if "xp." in text:
            lines.append(f"    xp = namespace({', '.join(arrays)})")
        sized = next((a for a in _SIZED if a in args), None)
        if sized is not None and _uses_name(text, "n"):
            lines.append(f"    n = {sized}.shape[0]")
        if "Z" in args and _uses_name(text, "dim"):
            lines.append("    dim = Z.shape[1]")
        if not guards:
            lines.append(_wrap_return(body))
            return "\n".join(lines) + "\n"
        lines.append(f"    value = {body}")
        for (coeff, term), (_, expr) in zip(guards, self.guarded):
            lines += [
                f"    if {coeff} != 0:",
                "        if K is None or C is None:",
                f'            raise InputError(f"{coeff} = {{{coeff}}} != 0 needs K= and coef= to evaluate {expr}.")',
                f"        value = value + {_factor(coeff)} * {term}",
            ]
        lines.append("    return value")
        return "\n".join(lines) + "\n"


def _factor(code: str) -> str:
    return code if re.fullmatch(r"[\w.]+", code) else f"({code})"


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


def form_of(decl) -> str:
    r"""The numeric solver form of a declaration, from its structure.

    ``"penalised"``: a soft objective in :math:`C` with :math:`Z = KC` (projector :math:`P`);
    ``"centred"``: a soft objective in centred embeddings (projector :math:`H`, no kernel);
    ``"orthonormal"``: a Ky Fan problem in :math:`Z^TZ = I_d`;
    ``"whitened"``: a Ky Fan problem in :math:`V = R^TC`, :math:`K = RR^T`.
    Each form is implemented once in :mod:`kssl_theory.kernel_regime.objectives`.

    Raises
    ------
    DerivationError
        For a shape no form implements.
    """
    if isinstance(decl, SoftObjective):
        if decl.variable == C and decl.projector == P:
            return "penalised"
        if decl.variable == Z and decl.projector == H:
            return "centred"
    elif decl.frame == Z and decl.substitution is None:
        return "orthonormal"
    elif decl.frame == V and decl.substitution is not None:
        return "whitened"
    raise DerivationError(f"{decl.title}: no numeric form solves a declaration of this shape")


def _in_embeddings(expr):
    r"""``expr`` with :math:`KC \to Z` and :math:`C^TK \to Z^T` in every product, when no :math:`C` is left."""

    def rewrite(product):
        args, out, i = list(product.args), [], 0
        while i < len(args):
            pair = tuple(args[i : i + 2])
            if pair == (K, C):
                out.append(Z)
                i += 2
            elif pair == (C.T, K):
                out.append(Z.T)
                i += 2
            else:
                out.append(args[i])
                i += 1
        return MatMul(*out)

    rewritten = expr.replace(lambda e: isinstance(e, MatMul), rewrite)
    return rewritten if C not in rewritten.free_symbols else expr


def _loss_function(decl, loss) -> GeneratedFunction:
    """The loss of any candidate, printed from the declared loss (terms in :math:`C` guarded)."""
    plain, guarded = [], []
    for term in Add.make_args(loss):
        coeff, rest = term.as_independent(Z, C, K, A, L)
        rest = _in_embeddings(rest)
        if C in rest.free_symbols:
            guarded.append((coeff, rest))
        else:
            plain.append(coeff * rest)
    return GeneratedFunction(
        f"{decl.key}_loss",
        f"{decl.title}: the loss of any candidate, from its definition (docs/theory.md §3).",
        r"\mathcal{L}",
        Add(*plain, evaluate=False) if plain else S.Zero,
        decl,
        "scalar array\n        The loss (for a maximisation, minus the objective).",
        guarded=tuple(guarded),
    )


def _penalty_split(target):
    r"""``(free, penalty)`` with :math:`T = \text{free} - \text{penalty}\,K^+` (``penalty`` 0 if none)."""
    free, penalty = [], S.Zero
    for term in MatAdd.make_args(target):
        coeff, mats = term.as_coeff_mmul()
        if isinstance(mats, PseudoInverse) or (isinstance(mats, MatMul) and mats.args == (Kp,)):
            penalty -= coeff
        else:
            free.append(term)
    return (MatAdd(*free) if len(free) > 1 else free[0]), penalty


#: The block the spectral matrix is applied to in the ``*_apply`` functions.
X_BLOCK = MatrixSymbol("X", N, d)


def _apply_functions(decl, S, name: str) -> tuple[list[GeneratedFunction], int]:
    r"""``*_apply`` (:math:`SX`, :math:`S` never formed) and ``*_apply_majorant``, plus the rounding depth.

    The majorant prints the same products with every term added and absolute coefficients; on
    :math:`|X|` and entrywise majorants of the operands it bounds :math:`|SX|` entrywise, so
    :math:`\text{depth}\cdot N\varepsilon` times it bounds the rounding error of ``*_apply``
    (each term a product of at most ``depth - terms`` matrices with inner dimension at most
    :math:`N`, plus one rounding per added term; Higham, *Accuracy and Stability*, §3.5).
    """
    applied = (S * X_BLOCK).expand()
    terms = MatAdd.make_args(applied)
    split = [t.as_coeff_mmul() for t in terms]
    majorant = MatAdd(*[abs(c) * m for c, m in split]) if len(split) > 1 else abs(split[0][0]) * split[0][1]
    depth = max(len([f for f in MatMul.make_args(m) if f != X_BLOCK]) for _, m in split) + len(split)
    return [
        GeneratedFunction(
            f"{decl.key}_apply",
            f"{decl.title}: the {name} applied to a block of vectors, never formed.",
            f"{'T' if name == 'target' else 'S'} X",
            applied,
            decl,
            "array, shape (N, k)",
        ),
        GeneratedFunction(
            f"{decl.key}_apply_majorant",
            f"{decl.title}: entrywise majorant of ``{decl.key}_apply`` (every term added), for its rounding bound.",
            r"\overline{%s} X" % ("T" if name == "target" else "S"),
            applied,
            decl,
            "array, shape (N, k)\n        On :math:`|X|` and majorants of the operands, an entrywise bound on "
            "the product.",
            display=majorant,
            majorant=True,
        ),
    ], depth


def declaration_functions(decl) -> tuple[list[GeneratedFunction], dict]:
    """The generated functions of one declaration and its record (names of those functions).

    Raises
    ------
    DerivationError
        If the declaration cannot be derived or has no numeric form.
    """
    form = form_of(decl)
    record = {
        "key": decl.key,
        "family": decl.family or decl.key,
        "title": decl.title,
        "aliases": tuple(decl.aliases),
        "switch": None if decl.switch is None else _option_record(decl.switch),
        "options": tuple(_option_record(o) for o in decl.options),
        "form": form,
    }
    T = SymmetricMatrixSymbol("T", N, N)
    if isinstance(decl, SoftObjective):
        res = complete_square(decl)
        record["rule"] = "psd-top"
        functions = [
            GeneratedFunction(
                f"{decl.key}_target",
                f"{decl.title}: target (docs/theory.md §3).",
                "T",
                res.target,
                decl,
                "array, shape (N, N)\n        The target :math:`T`; the optimal Gram matrix is :math:`[T]_{+,d}`.",
            ),
            GeneratedFunction(
                f"{decl.key}_minimum",
                f"{decl.title}: optimal loss from the top eigenvalues of its target.",
                r"\min \mathcal{L}",
                res.minimum,
                decl,
                "scalar array\n        The optimal loss.",
                res.minimum.xreplace({res.target: T}),
            ),
        ]
        free, penalty = _penalty_split(res.target)
        if penalty != 0:
            functions += [
                GeneratedFunction(
                    f"{decl.key}_free",
                    f"{decl.title}: the target without its penalty, :math:`T + pK^+`.",
                    "T + p K^{+}",
                    free,
                    decl,
                    "array, shape (N, N)",
                ),
                GeneratedFunction(
                    f"{decl.key}_penalty",
                    rf"{decl.title}: the weight :math:`p` of :math:`-pK^+` in the target.",
                    "p",
                    penalty,
                    decl,
                    "float",
                ),
            ]
        scale = decl.gram[1].as_coeff_mmul()[0]
        if scale != 1:
            functions.append(
                GeneratedFunction(
                    f"{decl.key}_scale",
                    rf"{decl.title}: the factor :math:`s` in :math:`G = s\,YY^T` "
                    rf"(optimal :math:`Y = U\Lambda^{{1/2}}/\sqrt s`).",
                    "s",
                    scale,
                    decl,
                    "float",
                )
            )
        if form != "centred":  # H X would form H; the centred form has no matrix-free path
            applied, record["apply_depth"] = _apply_functions(decl, res.target, "target")
            functions += applied
        functions.append(_loss_function(decl, decl.loss))
    else:
        form_ = ky_fan_form(decl)
        record["rule"] = form_.which
        functions = [
            GeneratedFunction(
                f"{decl.key}_matrix",
                f"{decl.title}: spectral matrix; its {form_.which}-d eigenvectors solve it (Ky Fan).",
                "S",
                form_.spectral_matrix,
                decl,
                "array, shape (N, N)\n        :math:`S`.",
            ),
        ]
        applied, record["apply_depth"] = _apply_functions(decl, form_.spectral_matrix, "spectral matrix")
        functions += applied
        functions.append(_loss_function(decl, decl.objective if decl.sense == "min" else -decl.objective))
    for f in functions:
        record[f.name[len(decl.key) + 1 :]] = f.name
    # The argument names of every function, as data: callers must not rely on introspecting the
    # functions (a wrapper such as mutmut's trampoline hides their signatures).
    record["arguments"] = {f.name[len(decl.key) + 1 :]: f.args for f in functions}
    return functions, record


def _option_record(option) -> tuple:
    return (option.name, option.default, option.kind, option.doc)


def declarations() -> list:
    """Every declaration, soft ones first, in the order of :mod:`kssl_theory.symbolic.objectives`."""
    return [*SOFT_OBJECTIVES.values(), *SPECTRAL_OBJECTIVES.values()]


def generated_functions() -> list[GeneratedFunction]:
    """The functions of :mod:`kssl_theory._generated.targets`, from fresh derivations."""
    return [f for decl in declarations() for f in declaration_functions(decl)[0]]


_RECORD_KEYS = ("target", "minimum", "free", "penalty", "scale", "matrix", "apply", "apply_majorant", "loss")


def _record_source(record: dict) -> str:
    lines = ["    {"]
    for key, value in record.items():
        shown = value if key in _RECORD_KEYS else repr(value)
        lines.append(f"        {key!r}: {shown},")
    lines.append("    },")
    return "\n".join(lines)


def declaration_source(decls) -> tuple[str, list[str]]:
    """Functions and ``DECLARATIONS`` table (without the module header) for ``decls``."""
    functions, records = [], []
    for decl in decls:
        fs, record = declaration_functions(decl)
        functions += fs
        records.append(record)
    parts = [f"\n\n{f.source()}" for f in functions]
    parts.append(
        "\n\n#: One record per declaration of :mod:`kssl_theory.symbolic.objectives`: names, options\n"
        "#: (name, default, kind, doc), numeric form, spectral rule and the functions above.\n"
        "DECLARATIONS = (\n" + "\n".join(_record_source(r) for r in records) + "\n)\n"
    )
    return "".join(parts), [f.name for f in functions]


def generate_source() -> str:
    """The full text of :mod:`kssl_theory._generated.targets`."""
    body, names = declaration_source(declarations())
    listed = "".join(f'    "{n}",\n' for n in [*names, "DECLARATIONS"])
    return "".join([_HEADER, f"__all__ = [\n{listed}]\n", body])


def compile_declaration(decl):
    """Generate and load the functions of one declaration at run time (no file written).

    Returns
    -------
    dict
        Its ``DECLARATIONS`` record, with the functions in place of their names.
    """
    body, _ = declaration_source([decl])
    module = types.ModuleType(f"kssl_theory._generated._runtime_{decl.key}")
    module.__package__ = "kssl_theory._generated"
    exec(compile(_HEADER + body, f"<generated {decl.key}>", "exec"), module.__dict__)
    (record,) = module.DECLARATIONS
    return record


def register_objective(decl):
    """Declare a new objective (or variant) once, in SymPy, and make it available everywhere.

    The declaration is derived (:func:`~kssl_theory.symbolic.derive.complete_square` or
    :func:`~kssl_theory.symbolic.derive.ky_fan_form`), its functions are generated and loaded,
    and the numeric objective is registered: :func:`kssl_theory.solve`, :func:`kssl_theory.loss`,
    :class:`kssl_theory.KernelSSL` and the generic claims accept it by name.

    Parameters
    ----------
    decl : SoftObjective or SpectralObjective

    Returns
    -------
    Objective
        The numeric objective of the declaration's family.

    Raises
    ------
    DerivationError
        If the loss has no closed form of a supported shape.
    InputError
        If the name or an alias is taken.
    """
    from ..kernel_regime import objectives as numeric

    table = SOFT_OBJECTIVES if isinstance(decl, SoftObjective) else SPECTRAL_OBJECTIVES
    if decl.key in SOFT_OBJECTIVES or decl.key in SPECTRAL_OBJECTIVES:
        raise numeric.InputError(f"a declaration named {decl.key!r} exists; choose another key.")
    record = compile_declaration(decl)
    objective = numeric.register(record)
    table[decl.key] = decl
    return objective


def unregister_objective(key: str) -> None:
    """Remove a declaration added by :func:`register_objective` (built-in ones cannot be removed); removing a
    base declaration removes the run-time variants of its family too."""
    from ..kernel_regime import objectives as numeric

    decl = SOFT_OBJECTIVES.get(key) or SPECTRAL_OBJECTIVES.get(key)
    if decl is None or key in _BUILT_IN:
        raise numeric.InputError(f"{key!r} is not a registered run-time declaration.")
    for removed in numeric.unregister(key):  # a base takes its run-time variants with it
        SOFT_OBJECTIVES.pop(removed, None)
        SPECTRAL_OBJECTIVES.pop(removed, None)


_BUILT_IN = frozenset([*SOFT_OBJECTIVES, *SPECTRAL_OBJECTIVES])


def _rst_math_to_markdown(text: str) -> str:
    return re.sub(r":math:`([^`]*)`", r"$\1$", text)


def objectives_markdown() -> str:
    """``docs/objectives.md``: the table of objectives, printed from the declarations."""
    lines = [
        "# The objectives (generated)",
        "",
        "Printed by `python -m kssl_theory.symbolic.codegen` from the declarations in",
        "`kssl_theory/symbolic/objectives.py`; do not edit (a test checks that it is fresh). Each row is one",
        "declaration: the name `kt.solve` takes, the loss, its options and the numeric form that solves it",
        "(`kssl_theory/kernel_regime/objectives.py`).",
        "",
        "| name (aliases) | variant | loss | options (default): meaning | form, rule | generated functions |",
        "|---|---|---|---|---|---|",
    ]
    for decl in declarations():
        functions, record = declaration_functions(decl)
        family = decl.family or decl.key
        name = f"`{family}`" + (f" ({', '.join(f'`{a}`' for a in decl.aliases)})" if decl.aliases else "")
        variant = "base" if decl.switch is None else f"`{decl.switch.name}=True`"
        loss = decl.loss if isinstance(decl, SoftObjective) else decl.objective
        sense = "" if isinstance(decl, SoftObjective) else f"{decl.sense} "
        options = "; ".join(f"`{o.name}` ({o.default!r}): {_rst_math_to_markdown(o.doc)}" for o in decl.options)
        names = ", ".join(f"`{f.name}`" for f in functions)
        lines.append(
            f"| {name} | {variant} | {sense}${latex(loss)}$ | {options or 'none'} | {record['form']}, {record['rule']} "
            f"| {names} |"
        )
    return "\n".join(lines) + "\n"


#: The generated table of objectives, in a source checkout (absent from an installed package).
DOCS_OUTPUT = Path(__file__).resolve().parents[2] / "docs" / "objectives.md"


def main(argv=None) -> int:
    """Command-line entry point: write the generated files, or ``--check`` that they are fresh.

    Writes the module (``--output``) and, in a source checkout (a ``docs/`` folder next to the
    package), the table of objectives :data:`DOCS_OUTPUT`.

    Parameters
    ----------
    argv : list of str, optional
        Arguments (default ``sys.argv[1:]``): ``--check`` and ``--output PATH``.

    Returns
    -------
    int
        0 on success; 1 when ``--check`` finds a file missing or stale.
    """
    parser = argparse.ArgumentParser(prog="python -m kssl_theory.symbolic.codegen", description=__doc__.split("\n")[0])
    parser.add_argument("--check", action="store_true", help="exit 1 if a generated file is stale")
    parser.add_argument("--output", type=Path, default=OUTPUT, help="generated module path")
    args = parser.parse_args(argv)
    outputs = [(args.output, generate_source())]
    if args.output == OUTPUT and DOCS_OUTPUT.parent.is_dir():
        outputs.append((DOCS_OUTPUT, objectives_markdown()))
    if args.check:
        stale = [path for path, text in outputs if (path.read_bytes() if path.exists() else None) != text.encode()]
        for path in stale:
            print(
                f"{path} is stale or missing; regenerate with python -m kssl_theory.symbolic.codegen", file=sys.stderr
            )
        return 1 if stale else 0
    for path, text in outputs:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(text.encode("utf-8"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
