r"""Derivations of docs/theory.md §3: targets, constants and minima by completing the square; Ky Fan forms.

Method (and why it does not use SymPy's matrix calculus)
--------------------------------------------------------
Each loss is expanded into a :class:`~kssl_theory.symbolic.traces.TracePolynomial`, a sum of
traces of words in canonical cyclic form (see :mod:`kssl_theory.symbolic.traces`). The
derivation is a short sequence of exact manipulations of that normal form:

1. **Reduce to the Gram matrix.** The objective's lemmas (named
   :class:`~kssl_theory.symbolic.traces.Rule` objects, each proven on explicit matrices in
   :mod:`kssl_theory.symbolic.proofs`) rewrite sub-words, e.g.
   :math:`C^TKC \to Z^TK^+Z` and :math:`ZZ^T \to G`. If any occurrence of the optimisation
   variable survives, the loss is *not* a function of :math:`G` and a :class:`DerivationError`
   is raised; otherwise this step proves that it is.
2. **Complete the square.** The result has the form
   :math:`q\operatorname{tr}(GG) + \sum_k c_k\operatorname{tr}(GW_k) + c_0`. With the symmetric
   part :math:`B` of :math:`\sum_k c_kW_k` and :math:`T_0 = -B/(2q)`:
   :math:`q\|G - T_0\|_F^2 + c_0 - q\|T_0\|_F^2`.
3. **Project.** On the feasible set :math:`G = QGQ` for a projector :math:`Q`
   (:math:`P = KK^+` when :math:`Z = KC`, :math:`H` for centred embeddings), so
   :math:`\operatorname{tr}(GT_0) = \operatorname{tr}(G\,QT_0Q)` and the target is
   :math:`T = QT_0Q`, simplified by the objective's lemmas. Then
   :math:`\text{loss} = q\|G - T\|_F^2 + \text{const}` with
   :math:`\text{const} = c_0 - q\|T\|_F^2`, and by Eckart–Young the minimum over PSD
   rank-:math:`\le d` matrices with range in that of :math:`Q` is
   :math:`c_0 - q\sum_{i\le d}\max(\lambda_i(T),0)^2`.

The hard-constrained objectives go the same way to :math:`\operatorname{tr}(SG)` with
:math:`G` an orthogonal projector of rank :math:`d` (Ky Fan: the optimum is the sum of the top
or bottom :math:`d` eigenvalues of :math:`S`, attained by the eigenvectors).

Why a trace normal form, rather than identifying coefficients on explicit matrices: the
derivation stays symbolic in :math:`N` and :math:`d` (one derivation for every size), its
result is a matrix expression in :math:`K^+`, :math:`P`, :math:`K^{1/2}` that the printer turns
into operator applications without ever forming them, and each step is a named identity small
enough to prove on explicit generic matrices, which is what explicit matrices are used for.

Gradients are computed by :func:`~kssl_theory.symbolic.traces.trace_gradient` on the trace
normal form, never by ``sympy.diff`` on matrix expressions; proofs cross-check them entrywise
on explicit matrices and by finite differences.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

from sympy import Add, Expr, Identity, MatAdd, MatMul, MatrixExpr, S, Trace
from sympy.printing.latex import LatexPrinter

from .nodes import FrobeniusNormSq, KernelOperator, KyFanSum, PositivePartEnergy
from .objectives import LEMMAS, SOFT_OBJECTIVES, SPECTRAL_OBJECTIVES, G, N, SoftObjective, SpectralObjective, d
from .traces import (
    TracePolynomial,
    collect,
    expand_words,
    rewrite_word,
    substitute_atom,
    trace_gradient,
    transpose_word,
    words_to_matrix,
)

__all__ = [
    "DerivationError",
    "SquareCompletion",
    "KyFanForm",
    "complete_square",
    "ky_fan_form",
    "derive_all",
    "expressed_in_variable",
    "latex",
    "latex_formulas",
]


class DerivationError(ValueError):
    """A loss does not have the structure a derivation step requires."""


@dataclass(frozen=True)
class SquareCompletion:
    r"""Result of completing the square for a soft objective.

    Attributes
    ----------
    objective : SoftObjective
    expanded : TracePolynomial
        The loss in trace normal form.
    in_gram : TracePolynomial
        The loss as a trace polynomial in :math:`G` and the data alone.
    quadratic : Expr
        :math:`q`, the coefficient of :math:`\|G\|_F^2`.
    unprojected_target : MatrixExpr
        :math:`T_0`.
    target : MatrixExpr
        :math:`T = QT_0Q`, simplified.
    constant : Expr
        const in :math:`\text{loss} = q\|G-T\|_F^2 + \text{const}`.
    minimum : Expr
        The optimal loss, with :class:`~kssl_theory.symbolic.nodes.PositivePartEnergy`.
    gradient : MatrixExpr
        Gradient of the loss with respect to ``objective.variable`` (trace calculus).
    lemmas : tuple of str
        Lemmas used, in order.
    """

    objective: SoftObjective
    expanded: TracePolynomial
    in_gram: TracePolynomial
    quadratic: Expr
    unprojected_target: MatrixExpr
    target: MatrixExpr
    constant: Expr
    minimum: Expr
    gradient: MatrixExpr
    lemmas: tuple

    @property
    def completed(self):
        r"""Right-hand side :math:`q\|G - T\|_F^2 + \text{const}` of the derived identity."""
        gap = MatAdd(G, -self.target, evaluate=False)
        return Add(self.quadratic * FrobeniusNormSq(gap), *Add.make_args(self.constant), evaluate=False)


@dataclass(frozen=True)
class KyFanForm:
    r"""Result of reducing a hard-constrained objective to a Ky Fan problem.

    Attributes
    ----------
    objective : SpectralObjective
    trace_form : TracePolynomial
        :math:`\operatorname{tr}(SG)` with :math:`G = FF^T`, :math:`F` the frame.
    constraint : tuple of (MatrixExpr, MatrixExpr)
        The constraint after the substitution, :math:`F^TF = I_d`.
    spectral_matrix : MatrixExpr
        :math:`S`.
    optimum : KyFanSum
        The optimal value.
    lemmas : tuple of str
    """

    objective: SpectralObjective
    trace_form: TracePolynomial
    constraint: tuple
    spectral_matrix: MatrixExpr
    optimum: KyFanSum
    lemmas: tuple

    @property
    def which(self) -> str:
        """``"top"`` (maximisation) or ``"bottom"`` (minimisation) eigenvectors."""
        return self.optimum.which


def _rules(names):
    return [LEMMAS[n] for n in names]


def expressed_in_variable(objective) -> TracePolynomial:
    """The loss as a trace polynomial in the optimisation variable (derived symbols substituted)."""
    poly = TracePolynomial.from_expr(objective.loss)
    for sym, definition in objective.definitions:
        if sym in poly.atoms() or sym.T in poly.atoms():
            ((_, word),) = expand_words(definition)
            poly = poly.substitute(sym, word)
    return poly


def _as_norm(word, coeff):
    """``coeff * tr(word)`` as ``coeff * ||X||^2`` when ``word`` is ``X^T X`` up to rotation."""
    n = len(word)
    if n % 2 == 0:
        for i in range(n):
            w = word[i:] + word[:i]
            half = w[: n // 2]
            if w[n // 2 :] == transpose_word(half):
                X = MatMul(*transpose_word(half)) if n > 2 else half[0].T
                return coeff * FrobeniusNormSq(X)
    return coeff * Trace(MatMul(*word) if n > 1 else word[0])


def _symmetric_part(terms):
    out = []
    for coeff, word in terms:
        t = transpose_word(word)
        out.extend([(coeff, word)] if t == word else [(coeff / 2, word), (coeff / 2, t)])
    return out


def _project(projector, terms, rules):
    """``projector * (sum of terms) * projector``, simplified; shared sandwiches regrouped."""
    projected = []
    for word, coeff in terms.items():
        factor, w, _ = rewrite_word((projector,) + word + (projector,), rules, cyclic=False)
        projected.append((coeff * factor, w))
    projected = collect(projected)
    sandwiched = {
        w: c for w, c in projected.items() if w == (projector,) or (len(w) > 2 and w[0] == w[-1] == projector)
    }
    if len(sandwiched) < 2:
        return words_to_matrix(projected, projector.shape)
    inner = {(w[1:-1] if len(w) > 2 else (Identity(projector.shape[0]),)): c for w, c in sandwiched.items()}
    rest = {w: c for w, c in projected.items() if w not in sandwiched}
    sandwich = MatMul(projector, words_to_matrix(inner, projector.shape), projector)
    if not rest:
        return sandwich
    rest_expr = words_to_matrix(rest, projector.shape)
    others = rest_expr.args if isinstance(rest_expr, MatAdd) else (rest_expr,)
    return MatAdd(sandwich, *others, evaluate=False)


@cache
def complete_square(key) -> SquareCompletion:
    """Derive target, constant and minimum of a soft objective (see the module docstring).

    Parameters
    ----------
    key : str or SoftObjective
        A key of :data:`~kssl_theory.symbolic.objectives.SOFT_OBJECTIVES`, or a declaration.

    Returns
    -------
    SquareCompletion

    Raises
    ------
    DerivationError
        If the loss is not a function of :math:`G` or not a convex quadratic in it.
    """
    obj = SOFT_OBJECTIVES[key] if isinstance(key, str) else key
    expanded = TracePolynomial.from_expr(obj.loss)
    in_gram, used = expanded.rewrite(_rules(obj.reduction))
    derived = {sym for sym, _ in obj.definitions if sym != G} | {obj.variable}
    leftover = {a for a in in_gram.atoms() if a in derived or a.T in derived}
    if leftover:
        raise DerivationError(
            f"{obj.title}: the loss is not a function of G alone; "
            f"{sorted(map(str, leftover))} remain after {list(obj.reduction)}"
        )
    quadratic, linear, constant = S.Zero, [], in_gram.constant
    for word, coeff in in_gram.terms:
        count = word.count(G)
        if count == 0:
            constant += _as_norm(word, coeff)
        elif count == 1:
            i = word.index(G)
            linear.append((coeff, word[i + 1 :] + word[:i] or (Identity(N),)))
        elif word == (G, G):
            quadratic += coeff
        else:
            raise DerivationError(f"{obj.title}: term tr({word}) is not quadratic in G")
    if not quadratic.is_positive:
        raise DerivationError(f"{obj.title}: coefficient of ||G||^2 is {quadratic}, not positive")
    t0 = collect([(-coeff / (2 * quadratic), w) for coeff, w in _symmetric_part(linear)])
    target = _project(obj.projector, t0, _rules(obj.simplification))
    energy = quadratic * FrobeniusNormSq(target)
    minimum = (constant - energy) + energy - quadratic * PositivePartEnergy(target, d)
    constant = Add(constant, -energy, evaluate=False)
    gradient = trace_gradient(expressed_in_variable(obj), obj.variable)
    return SquareCompletion(
        objective=obj,
        expanded=expanded,
        in_gram=in_gram,
        quadratic=quadratic,
        unprojected_target=words_to_matrix(t0, (N, N)),
        target=target,
        constant=constant,
        minimum=minimum,
        gradient=gradient,
        lemmas=tuple(used) + tuple(obj.simplification),
    )


@cache
def ky_fan_form(key) -> KyFanForm:
    r"""Reduce a hard-constrained objective to :math:`\operatorname{tr}(SG)`, :math:`G` a rank-d projector.

    Parameters
    ----------
    key : str or SpectralObjective
        A key of :data:`~kssl_theory.symbolic.objectives.SPECTRAL_OBJECTIVES`, or a declaration.

    Returns
    -------
    KyFanForm

    Raises
    ------
    DerivationError
        If the objective is not linear in :math:`G` or the constraint does not become
        :math:`F^TF = I_d`.
    """
    obj = SPECTRAL_OBJECTIVES[key] if isinstance(key, str) else key
    poly = TracePolynomial.from_expr(obj.objective)
    ((_, constraint_word),) = expand_words(obj.constraint[0])
    lemmas: list[str] = []
    if obj.substitution is not None:
        atom, word, lemma = obj.substitution
        poly = poly.substitute(atom, word)
        constraint_word = substitute_atom(constraint_word, atom, word)
        lemmas.append(lemma)
    rules = _rules(obj.reduction)
    poly, used = poly.rewrite(rules)
    lemmas.extend(u for u in used if u not in lemmas)
    _, constraint_word, used = rewrite_word(constraint_word, rules, cyclic=False)
    lemmas.extend(u for u in used if u not in lemmas)
    frame = obj.frame
    if constraint_word != (frame.T, frame):
        raise DerivationError(f"{obj.title}: constraint became {constraint_word}, not {frame}^T {frame} = I")
    if poly.constant != 0 or len(poly.terms) != 1 or poly.terms[0][0].count(G) != 1:
        raise DerivationError(f"{obj.title}: objective {poly.to_expr()} is not tr(S G)")
    ((word, coeff),) = poly.terms
    i = word.index(G)
    rest = word[i + 1 :] + word[:i]
    spectral = words_to_matrix(collect([(coeff * k, w) for k, w in _symmetric_part([(S.One, rest)])]), (N, N))
    which = "top" if obj.sense == "max" else "bottom"
    return KyFanForm(
        objective=obj,
        trace_form=poly,
        constraint=(MatMul(frame.T, frame), obj.constraint[1]),
        spectral_matrix=spectral,
        optimum=KyFanSum(spectral, d, which),
        lemmas=tuple(lemmas),
    )


def derive_all() -> dict:
    """All derivations, keyed by objective: :class:`SquareCompletion` or :class:`KyFanForm`."""
    out: dict[str, SquareCompletion | KyFanForm] = {k: complete_square(k) for k in SOFT_OBJECTIVES}
    out.update({k: ky_fan_form(k) for k in SPECTRAL_OBJECTIVES})
    return out


class _TheoryLatexPrinter(LatexPrinter):
    """LaTeX in docs/theory.md's notation.

    :math:`I` and :math:`I_d` for identities; sums keep the derivation's term order, with the
    terms of negative sign after the others, so that e.g. the minimum reads
    :math:`\\|A\\|_F^2 - \\sum_{i\\le d}\\ldots`.
    """

    def __init__(self):
        super().__init__({"order": "none"})

    def _print_Identity(self, expr):
        return "I" if expr.shape[0] == N else "I_{%s}" % self._print(expr.shape[0])

    def _print_Transpose(self, expr):
        if isinstance(expr.arg, KernelOperator):  # R^T, not \left(R\right)^{T}
            return "%s^{T}" % self._print(expr.arg)
        return super()._print_Transpose(expr)

    def _signed_terms(self, terms, split):
        pairs = []
        for term in terms:
            coeff, _ = split(term)
            negative = coeff.could_extract_minus_sign()
            pairs.append((negative, -term if negative else term))
        ordered = [p for p in pairs if not p[0]] + [p for p in pairs if p[0]]
        out = ""
        for i, (negative, term) in enumerate(ordered):
            body = self._print(term)
            if isinstance(term, (MatAdd, Add)):
                body = r"\left(%s\right)" % body
            out += ("- " if i == 0 else " - ") + body if negative else ("" if i == 0 else " + ") + body
        return out

    def _print_MatAdd(self, expr):
        return self._signed_terms(expr.args, lambda t: t.as_coeff_mmul())

    def _print_Add(self, expr, order=None):
        return self._signed_terms(expr.args, lambda t: t.as_coeff_Mul())


def latex(expr) -> str:
    """LaTeX of a derived expression in docs/theory.md's notation (terms kept in derivation order)."""
    return _TheoryLatexPrinter().doprint(expr)


def latex_formulas() -> dict:
    r"""Every derived formula as LaTeX, keyed by objective.

    Returns
    -------
    dict
        ``{key: {name: latex}}``. Soft objectives (``"contrastive"``, ``"vicreg"``,
        ``"vicreg_centred"``) have ``loss``, ``gram`` (:math:`G` in terms of the variables),
        ``target``, ``constant``, ``identity`` (loss = :math:`q\|G-T\|^2` + const), ``minimum``
        and ``gradient``; hard-constrained ones (``"laplacian_eigenmaps"``, ``"whitened"``,
        ``"whitened_laplacian"``) have ``objective``, ``constraint``, ``trace_form``,
        ``spectral_matrix``, ``optimum`` and ``eigenvectors``.

    Examples
    --------
    >>> latex_formulas()["contrastive"]["target"]
    'P A P - \\frac{\\lambda}{2} K^{+}'
    """
    out = {}
    for key, res in derive_all().items():
        if isinstance(res, SquareCompletion):
            gram_sym, gram_def = res.objective.gram
            out[key] = {
                "loss": latex(res.objective.loss),
                "gram": f"{latex(gram_sym)} = {latex(gram_def)}",
                "target": latex(res.target),
                "constant": latex(res.constant),
                "identity": f"{latex(res.objective.loss)} = {latex(res.completed)}",
                "minimum": latex(res.minimum),
                "gradient": (
                    rf"\frac{{\partial \mathcal{{L}}}}{{\partial {latex(res.objective.variable)}}} "
                    rf"= {latex(res.gradient)}"
                ),
            }
        else:
            lhs, rhs = res.objective.constraint
            out[key] = {
                "objective": rf"\{res.objective.sense} {latex(res.objective.objective)}",
                "constraint": f"{latex(lhs)} = {latex(rhs)}",
                "trace_form": latex(Trace(G * res.spectral_matrix)),
                "spectral_matrix": latex(res.spectral_matrix),
                "optimum": latex(res.optimum),
                "eigenvectors": f"{res.which}-{latex(d)} eigenvectors of {latex(res.spectral_matrix)}",
            }
    return out
