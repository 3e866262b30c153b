r"""A small algebra of traces of matrix words, used to derive the closed forms.

Why not SymPy's matrix calculus
-------------------------------
SymPy 1.14 simplifies matrix expressions well but its matrix differentiation silently returns
wrong results for sums of traces (sympy issues 23492, 30527: ``diff(Trace(X) + Trace(Y), C)``
gives ``0``). The derivations therefore never call ``diff`` on matrix expressions. They work on
a normal form that is easy to trust:

- a matrix expression is expanded into a sum of ``coefficient * word``, a *word* being a tuple
  of atoms (matrix symbols, their transposes, identities, kernel operators), with transposes
  pushed onto the atoms (:func:`expand_words`);
- a scalar loss becomes a :class:`TracePolynomial`: a sum of ``coefficient * tr(word)`` plus a
  scalar constant, each word brought to a canonical representative of its class under the two
  trace invariances :math:`\operatorname{tr}(XY) = \operatorname{tr}(YX)` and
  :math:`\operatorname{tr}(X) = \operatorname{tr}(X^T)` (:func:`canonical_cycle`);
- the derivation steps are rewrites of sub-words by named :class:`Rule` objects, each a matrix
  identity that :mod:`kssl_theory.symbolic.proofs` proves on explicit generic matrices;
- the gradient of a trace polynomial (:func:`trace_gradient`) uses only
  :math:`\partial\operatorname{tr}(XR)/\partial X = R^T` and
  :math:`\partial\operatorname{tr}(X^TR)/\partial X = R`, applied once per occurrence of
  :math:`X` (the product rule), and is cross-checked against entrywise derivatives.
"""

from __future__ import annotations

from dataclasses import dataclass

from sympy import (
    Add,
    Expr,
    Identity,
    MatAdd,
    MatMul,
    MatPow,
    Mul,
    S,
    Trace,
    Transpose,
    ZeroMatrix,
    default_sort_key,
    sympify,
)

from .nodes import FrobeniusNormSq

__all__ = [
    "Rule",
    "TracePolynomial",
    "expand_words",
    "collect",
    "transpose_word",
    "canonical_cycle",
    "rewrite_word",
    "substitute_atom",
    "words_to_matrix",
    "trace_gradient",
]


def transpose_word(word: tuple) -> tuple:
    """Transpose of a word: reversed, each atom transposed (symmetric atoms are unchanged)."""
    return tuple(a.T for a in reversed(word))


def expand_words(expr) -> list[tuple[Expr, tuple]]:
    """Expand a matrix expression into ``[(coefficient, word), ...]`` by distributivity.

    Parameters
    ----------
    expr : MatrixExpr
        Built from matrix atoms with ``+``, ``*``, scalar multiples, transposes and positive
        integer powers.

    Returns
    -------
    list of (Expr, tuple)
        Scalar coefficients and words (tuples of atoms); transposes sit on atoms only.
    """
    if isinstance(expr, MatAdd):
        return [t for arg in expr.args for t in expand_words(arg)]
    if isinstance(expr, MatMul):
        coeff, mats = expr.as_coeff_matrices()
        out = [(coeff, ())]
        for m in mats:
            out = [(c1 * c2, w1 + w2) for c1, w1 in out for c2, w2 in expand_words(m)]
        return out
    if isinstance(expr, Transpose):
        return [(c, transpose_word(w)) for c, w in expand_words(expr.arg)]
    if isinstance(expr, MatPow):
        exp = expr.exp
        if not (exp.is_Integer and exp > 0):
            raise ValueError(f"only positive integer matrix powers expand into words, got {expr}")
        return expand_words(MatMul(*([expr.base] * int(exp))))
    if isinstance(expr, ZeroMatrix):
        return []
    if not expr.is_Matrix:
        raise TypeError(f"not a matrix expression: {expr!r}")
    return [(S.One, (expr,))]


def _drop_identities(word: tuple) -> tuple:
    kept = tuple(a for a in word if not isinstance(a, Identity))
    return kept if kept else word[:1]


def collect(terms) -> dict:
    """Sum the coefficients of equal words; drop identities inside products and zero terms.

    Parameters
    ----------
    terms : iterable of (Expr, tuple)

    Returns
    -------
    dict
        ``{word: coefficient}`` in order of first appearance.
    """
    out: dict = {}
    for coeff, word in terms:
        word = _drop_identities(word)
        out[word] = out.get(word, S.Zero) + coeff
    return {w: c.expand() for w, c in out.items() if c.expand() != 0}


def _word_key(word: tuple):
    return tuple(default_sort_key(a) for a in word)


def canonical_cycle(word: tuple) -> tuple:
    r"""Canonical representative of ``tr(word)`` under cyclic shifts and transposition.

    Parameters
    ----------
    word : tuple
        A square product of atoms.

    Returns
    -------
    tuple
        The least (by SymPy's ``default_sort_key``) of the rotations of ``word`` and of its
        transpose; equal traces have equal representatives.
    """
    word = _drop_identities(word)
    candidates: list[tuple] = []
    for w in (word, transpose_word(word)):
        candidates.extend(w[i:] + w[:i] for i in range(len(w)))
    return min(candidates, key=_word_key)


@dataclass(frozen=True)
class Rule:
    r"""A named matrix identity :math:`\text{lhs} = \text{coeff}\cdot\text{rhs}` used as a rewrite.

    Attributes
    ----------
    name : str
        Key of the lemma (proven in :mod:`kssl_theory.symbolic.proofs`).
    lhs, rhs : tuple
        Words; ``rhs`` replaces every occurrence of ``lhs``. Rewrites also apply the transposed
        identity.
    coeff : Expr
        Scalar factor of the right-hand side.
    statement : str
        The identity in words, with the assumptions it needs.
    definitions : tuple of (MatrixSymbol, MatrixExpr)
        Definitions of the derived symbols it mentions (``Z = KC``, ``G = ZZ^T``, ...), in an
        order where each definition only uses earlier or primitive symbols.
    laplacian : bool
        Whether the identity needs :math:`L\mathbf 1 = 0` (L a graph Laplacian).
    """

    name: str
    lhs: tuple
    rhs: tuple
    statement: str
    coeff: Expr = S.One
    definitions: tuple = ()
    laplacian: bool = False

    def oriented(self):
        """The rule and its transpose, as ``(lhs, coeff, rhs)`` triples (duplicates removed)."""
        pairs = [(self.lhs, self.coeff, self.rhs)]
        t = (transpose_word(self.lhs), self.coeff, transpose_word(self.rhs))
        if t[0] != self.lhs:
            pairs.append(t)
        return pairs

    def sides(self):
        """The identity as two matrix expressions ``(lhs, coeff * rhs)``."""
        return MatMul(*self.lhs), self.coeff * MatMul(*self.rhs)


def _match_at(word, pattern, start, cyclic):
    n, k = len(word), len(pattern)
    if k > n or (not cyclic and start + k > n):
        return False
    return all(word[(start + j) % n] == pattern[j] for j in range(k))


def rewrite_word(word: tuple, rules, *, cyclic: bool, max_steps: int = 1000):
    """Rewrite ``word`` with ``rules`` until none applies.

    Parameters
    ----------
    word : tuple
    rules : sequence of Rule
    cyclic : bool
        True for a word under a trace (matches may wrap around), False for a matrix product.
    max_steps : int
        Guard against non-terminating rule sets.

    Returns
    -------
    coeff : Expr
        Product of the coefficients of the rules applied.
    word : tuple
        The rewritten word.
    used : list of str
        Names of the rules applied, in order.
    """
    coeff, used = S.One, []
    word = _drop_identities(word)
    for _ in range(max_steps):
        for rule in rules:
            hit = next(
                (
                    (start, lhs, c, rhs)
                    for lhs, c, rhs in rule.oriented()
                    for start in range(len(word))
                    if _match_at(word, lhs, start, cyclic)
                ),
                None,
            )
            if hit is not None:
                start, lhs, c, rhs = hit
                if cyclic:
                    word = word[start:] + word[:start]
                    word = rhs + word[len(lhs) :]
                else:
                    word = word[:start] + rhs + word[start + len(lhs) :]
                word = _drop_identities(word)
                coeff *= c
                used.append(rule.name)
                break
        else:
            return coeff, word, used
    raise RuntimeError(f"rewriting did not terminate after {max_steps} steps (rules: {[r.name for r in rules]})")


def substitute_atom(word: tuple, atom, replacement: tuple) -> tuple:
    """Replace every occurrence of ``atom`` (and of its transpose) by a word."""
    out: tuple = ()
    for a in word:
        if a == atom:
            out += replacement
        elif a == atom.T and a != atom:
            out += transpose_word(replacement)
        else:
            out += (a,)
    return out


def words_to_matrix(terms: dict, shape):
    """Build a matrix expression from ``{word: coefficient}``.

    Terms are ordered by the number of free symbols of the coefficient, then by word, so that
    e.g. :math:`PAP - \\tfrac{\\lambda}{2}K^+` prints in that order.
    """
    if not terms:
        return ZeroMatrix(*shape)
    items = sorted(terms.items(), key=lambda t: (len(t[1].free_symbols), _word_key(t[0])))
    parts = [c * MatMul(*w) if len(w) > 1 else c * w[0] for w, c in items]
    return parts[0] if len(parts) == 1 else MatAdd(*parts, evaluate=False)


@dataclass(frozen=True)
class TracePolynomial:
    r"""A scalar :math:`\sum_k c_k \operatorname{tr}(w_k) + c_0` with canonical words :math:`w_k`.

    Attributes
    ----------
    terms : tuple of (tuple, Expr)
        Canonical trace words and their (non-zero) coefficients.
    constant : Expr
        The trace-free part :math:`c_0`.
    """

    terms: tuple
    constant: Expr = S.Zero

    @classmethod
    def from_terms(cls, terms, constant=S.Zero) -> TracePolynomial:
        """Normalise ``[(coefficient, word)]``: canonical words, like terms merged, tr(I) = size."""
        constant = sympify(constant)
        merged: dict = {}
        for coeff, word in terms:
            word = _drop_identities(word)
            if len(word) == 1 and isinstance(word[0], Identity):
                constant += coeff * word[0].shape[0]
                continue
            key = canonical_cycle(word)
            merged[key] = merged.get(key, S.Zero) + coeff
        kept = tuple((w, c.expand()) for w, c in merged.items() if c.expand() != 0)
        return cls(kept, constant.expand())

    @classmethod
    def from_expr(cls, expr) -> TracePolynomial:
        """Expand a scalar built from ``Trace``, :class:`FrobeniusNormSq` and scalars.

        Parameters
        ----------
        expr : Expr
            Sums of scalar multiples of ``Trace(X)`` and ``FrobeniusNormSq(X)``
            (:math:`\\|X\\|_F^2 = \\operatorname{tr}(X^TX)`) and trace-free scalars.

        Returns
        -------
        TracePolynomial
        """
        terms: list[tuple] = []
        constant = S.Zero
        for add_term in Add.make_args(sympify(expr)):
            factors = Mul.make_args(add_term)
            traced = [f for f in factors if isinstance(f, (Trace, FrobeniusNormSq))]
            scalar = Mul(*[f for f in factors if not isinstance(f, (Trace, FrobeniusNormSq))])
            if scalar.has(Trace, FrobeniusNormSq) or len(traced) > 1:
                raise ValueError(f"only linear combinations of traces are supported, got {add_term}")
            if not traced:
                constant += scalar
                continue
            (t,) = traced
            inner = t.arg.T * t.arg if isinstance(t, FrobeniusNormSq) else t.arg
            terms.extend((scalar * c, w) for c, w in expand_words(inner))
        return cls.from_terms(terms, constant)

    def rewrite(self, rules) -> tuple[TracePolynomial, list[str]]:
        """Rewrite every trace word with ``rules`` (cyclically); return the result and rules used."""
        terms: list[tuple] = []
        used: list[str] = []
        for word, coeff in self.terms:
            c, w, names = rewrite_word(word, rules, cyclic=True)
            terms.append((coeff * c, w))
            used.extend(n for n in names if n not in used)
        return TracePolynomial.from_terms(terms, self.constant), used

    def substitute(self, atom, replacement: tuple) -> TracePolynomial:
        """Replace an atom (and its transpose) by a word in every trace word."""
        return TracePolynomial.from_terms(
            [(c, substitute_atom(w, atom, replacement)) for w, c in self.terms], self.constant
        )

    def atoms(self) -> set:
        """All atoms that occur in the trace words."""
        return {a for w, _ in self.terms for a in w}

    def to_expr(self) -> Expr:
        """The polynomial as a SymPy scalar expression (``Trace`` of products)."""
        parts = [c * Trace(MatMul(*w) if len(w) > 1 else w[0]) for w, c in self.terms]
        return Add(*parts, self.constant)


def trace_gradient(poly: TracePolynomial, X):
    r"""Gradient :math:`\partial p/\partial X` of a trace polynomial with respect to a matrix symbol.

    Uses :math:`\partial\operatorname{tr}(XR)/\partial X = R^T` and
    :math:`\partial\operatorname{tr}(X^TR)/\partial X = R` at each occurrence of :math:`X`
    (entries of :math:`X` independent, i.e. :math:`X` not constrained to be symmetric).

    Parameters
    ----------
    poly : TracePolynomial
    X : MatrixSymbol

    Returns
    -------
    MatrixExpr
        The gradient, same shape as ``X``.
    """
    terms = []
    for word, coeff in poly.terms:
        for i, atom in enumerate(word):
            rest = word[i + 1 :] + word[:i]
            if not rest:
                rest = (Identity(X.shape[0]),)
            if atom == X:
                terms.append((coeff, transpose_word(rest)))
            elif atom == X.T:
                terms.append((coeff, rest))
    return words_to_matrix(collect(terms), X.shape)
