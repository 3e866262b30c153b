r"""Explicit generic matrices: evaluate symbolic identities entry by entry, exactly.

A :class:`Realisation` replaces each matrix symbol by an explicit matrix of independent
symbols (symmetric where the symbol is, e.g. :math:`A_{ij} = A_{ji}`; a weighted-graph
Laplacian with row sums zero for :math:`L` when asked), each scalar symbol by a variable, and
evaluates matrix and scalar expressions over the polynomial ring in all those variables
(SymPy's sparse ``PolyElement`` arithmetic, much faster than expression trees).

Inverses without rational functions
-----------------------------------
The kernel operators need inverses. For a polynomial :math:`m` (a determinant, or the scalar
:math:`c`) one extra variable :math:`u` stands for :math:`1/m`; an expression is then a
polynomial :math:`p(x, u)`, and it vanishes as a rational function iff
:math:`\sum_k p_k(x)\,m(x)^{D-k} = 0`, where :math:`p = \sum_{k\le D} p_k u^k`
(:meth:`Realisation.is_zero`). No cancellation of fractions is ever needed.

Kernel models (``kernel=``)
---------------------------
``"invertible"``
    :math:`K` generic symmetric, :math:`K^+ = K^{-1} = \operatorname{adj}(K)/\det K`.
``"singular"``
    :math:`K = BB^T` with :math:`B` generic :math:`N\times r`, :math:`r<N`:
    :math:`K^+ = B(B^TB)^{-2}B^T` (the proofs check the four Penrose conditions).
``"block"``
    :math:`K = \operatorname{diag}(M, 0)` with :math:`M` generic symmetric :math:`r\times r`.
    Every identity proven here is invariant under :math:`K \to QKQ^T`, :math:`A \to QAQ^T`,
    :math:`C \to QC` for orthogonal :math:`Q` (:math:`K^+` and :math:`P` are spectral functions
    of :math:`K`), and every PSD :math:`K` of rank :math:`r` is
    :math:`Q\operatorname{diag}(M,0)Q^T`; with generic :math:`A`, :math:`C` this model
    therefore proves the identity for all rank-:math:`r` kernels, at a fraction of the cost of
    ``"singular"``.
``"root"``
    :math:`K = RR^T` with :math:`R` generic :math:`N\times N` (not symmetric, not triangular):
    the root :math:`R` of :class:`~kssl_theory.symbolic.nodes.KernelRoot`. An identity proven
    for a generic root holds for every root, the Cholesky factor and :math:`K^{1/2}` included.
"""

from __future__ import annotations

from sympy import (
    QQ,
    Add,
    Identity,
    MatAdd,
    MatMul,
    MatPow,
    MatrixSymbol,
    Mul,
    OneMatrix,
    Pow,
    Symbol,
    Trace,
    Transpose,
    ZeroMatrix,
    sympify,
)
from sympy.core.numbers import Rational
from sympy.polys.matrices import DomainMatrix
from sympy.polys.rings import ring

from .nodes import (
    CentringMatrix,
    FrobeniusNormSq,
    KernelOperator,
    KernelRoot,
    PseudoInverse,
    RangeProjector,
    SymmetricMatrixSymbol,
)
from .objectives import N, d

__all__ = ["Realisation", "substitute_definitions"]


def substitute_definitions(expr, definitions):
    """Replace derived symbols by their definitions until only primitive symbols remain.

    Parameters
    ----------
    expr : Expr or MatrixExpr
    definitions : sequence of (MatrixSymbol, MatrixExpr)

    Returns
    -------
    Expr or MatrixExpr
    """
    mapping = dict(definitions)
    for _ in range(len(mapping) + 1):
        if not any(expr.has(s) for s in mapping):
            return expr
        expr = expr.xreplace(mapping)
    raise ValueError(f"cyclic definitions: {list(mapping)}")


def _matrix_symbols(exprs):
    found = set()
    for e in exprs:
        found |= {a for a in e.atoms(MatrixSymbol)}
        found |= {op.kernel for op in e.atoms(KernelOperator)}
    return sorted(found, key=lambda s: s.name)


class Realisation:
    r"""Explicit generic matrices standing for the symbols of some expressions.

    Parameters
    ----------
    exprs : sequence of Expr or MatrixExpr
        Everything that will be evaluated (only primitive symbols: substitute definitions
        first with :func:`substitute_definitions`).
    n, dim : int
        Values of :math:`N` and :math:`d`.
    kernel : {"invertible", "singular", "block", "root"}
        Model of :math:`K` (see the module docstring).
    rank : int, optional
        Rank of :math:`K` for ``"singular"`` and ``"block"``.
    laplacian : bool
        Realise :math:`L` as a weighted-graph Laplacian (:math:`L\mathbf 1 = 0`) rather than a
        generic symmetric matrix.
    fixed : dict, optional
        Explicit values (SymPy matrices of rationals, or rationals) for some symbols, kernel
        operators included; only the other symbols become variables. Fixing :math:`K` means
        fixing the kernel operators used as well.
    """

    def __init__(self, exprs, n: int, dim: int, *, kernel: str = "invertible", rank=None, laplacian=False, fixed=None):
        fixed = dict(fixed or {})
        self.n, self.dim = n, dim
        self.kernel_model = kernel
        self.rank = n if rank is None else rank
        if kernel in ("singular", "block") and not 0 < self.rank < n:
            raise ValueError(f"kernel={kernel!r} needs 0 < rank < n, got rank={self.rank}, n={n}")
        sizes = {N: n, d: dim}
        names: list[str] = []
        self._layout: dict = {}
        for sym in _matrix_symbols(exprs):
            if sym in fixed:
                continue
            rows, cols = (int(s.subs(sizes)) for s in sym.shape)
            if sym.name == "K":
                self._layout[sym] = self._kernel_layout(names)
            elif sym.name == "L" and laplacian:
                pairs = [(i, j) for i in range(rows) for j in range(i + 1, rows)]
                self._layout[sym] = ("laplacian", self._add(names, "w", pairs), (rows, rows))
            elif isinstance(sym, SymmetricMatrixSymbol):
                pairs = [(i, j) for i in range(rows) for j in range(i, rows)]
                self._layout[sym] = ("symmetric", self._add(names, sym.name.lower(), pairs), (rows, rows))
            else:
                pairs = [(i, j) for i in range(rows) for j in range(cols)]
                self._layout[sym] = ("general", self._add(names, sym.name.lower(), pairs), (rows, cols))
        scalars = sorted(
            {s for e in exprs for s in e.free_symbols if isinstance(s, Symbol) and s not in sizes and s not in fixed},
            key=str,
        )
        names += [s.name for s in scalars]
        inverted = {p.base for e in exprs for p in e.atoms(Pow) if p.exp.is_negative and p.base.is_Symbol}
        inverse_scalars = [s for s in scalars if s in inverted]
        names += [f"inv_{s.name}" for s in inverse_scalars]
        if any(s.name == "K" for s in self._layout) and kernel != "root":
            names.append("inv_K")
        if kernel == "root" and any(e.has(PseudoInverse) or e.has(RangeProjector) for e in exprs):
            raise ValueError("the 'root' kernel model realises only K and its root R")
        self.ring, *gens = ring(",".join(names), QQ) if names else ring("unused", QQ)
        self.domain = self.ring.to_domain()
        self._gen = dict(zip(names, gens))
        self._scalars = {s: self._gen[s.name] for s in scalars}
        self._inverses = []  # (u, m): u stands for 1/m
        for s in inverse_scalars:
            self._inverses.append((self._gen[f"inv_{s.name}"], self._gen[s.name]))
            self._scalars[1 / s] = self._gen[f"inv_{s.name}"]
        self._values: dict = {}
        for key, value in fixed.items():
            if getattr(value, "is_Matrix", False):
                self._values[key] = self._matrix(value.tolist())
            else:
                self._scalars[key] = self.ring(value)
                self._scalars[1 / key] = self.ring(1 / value)
        for sym, layout in self._layout.items():
            if sym.name == "K":
                self._realise_kernel(sym, layout)
            else:
                self._values[sym] = self._realise(layout)

    @staticmethod
    def _add(names, prefix, pairs):
        keys = [f"{prefix}_{i}_{j}" for i, j in pairs]
        names.extend(keys)
        return dict(zip(pairs, keys))

    def _kernel_layout(self, names):
        n, r = self.n, self.rank
        if self.kernel_model == "invertible":
            return ("symmetric", self._add(names, "k", [(i, j) for i in range(n) for j in range(i, n)]), (n, n))
        if self.kernel_model == "singular":
            return ("general", self._add(names, "b", [(i, j) for i in range(n) for j in range(r)]), (n, r))
        if self.kernel_model == "block":
            return ("symmetric", self._add(names, "k", [(i, j) for i in range(r) for j in range(i, r)]), (r, r))
        if self.kernel_model == "root":
            return ("general", self._add(names, "r", [(i, j) for i in range(n) for j in range(n)]), (n, n))
        raise ValueError(f"unknown kernel model {self.kernel_model!r}")

    def _matrix(self, rows):
        return DomainMatrix([[self.ring(x) for x in row] for row in rows], (len(rows), len(rows[0])), self.domain)

    def _realise(self, layout):
        kind, keys, (rows, cols) = layout
        g = self._gen
        if kind == "general":
            return self._matrix([[g[keys[(i, j)]] for j in range(cols)] for i in range(rows)])
        if kind == "laplacian":
            w = {}
            for (i, j), key in keys.items():
                w[(i, j)] = w[(j, i)] = g[key]
            degree = [sum((w[(i, k)] for k in range(rows) if k != i), self.ring.zero) for i in range(rows)]
            return self._matrix([[degree[i] if i == j else -w[(i, j)] for j in range(rows)] for i in range(rows)])
        return self._matrix([[g[keys[(min(i, j), max(i, j))]] for j in range(rows)] for i in range(rows)])

    def _realise_kernel(self, sym, layout):
        base = self._realise(layout)
        u = self._gen.get("inv_K")
        if self.kernel_model == "invertible":
            K = base
            self._inverses.append((u, K.det()))
            Kp = K.adjugate() * u
        elif self.kernel_model == "singular":
            B = base
            K = B * B.transpose()
            gram = B.transpose() * B
            self._inverses.append((u, gram.det()))
            adj = gram.adjugate()
            Kp = B * adj * adj * B.transpose() * (u * u)
        elif self.kernel_model == "block":
            M = base
            self._inverses.append((u, M.det()))
            K = self._embed(M)
            Kp = self._embed(M.adjugate() * u)
        else:
            R = base
            self._values[KernelRoot(sym)] = R
            self._values[sym] = R * R.transpose()
            return
        self._values[sym] = K
        self._values[PseudoInverse(sym)] = Kp
        self._values[RangeProjector(sym)] = K * Kp

    def _embed(self, M):
        r, n = M.shape[0], self.n
        rows = [[M[i, j].element if i < r and j < r else self.ring.zero for j in range(n)] for i in range(n)]
        return self._matrix(rows)

    def generator(self, name):
        """The ring variable called ``name`` (e.g. ``"c_0_1"`` for the entry (0, 1) of C)."""
        return self._gen[name]

    def matrix(self, sym):
        """The explicit matrix that stands for a matrix symbol or kernel operator."""
        return self._values[sym]

    def scalar(self, sym):
        """The ring variable that stands for a scalar symbol."""
        return self._scalars[sym]

    def _size(self, s):
        return int(sympify(s).subs({N: self.n, d: self.dim}))

    def value(self, expr):
        """Evaluate a matrix expression (``DomainMatrix``) or a scalar expression (``PolyElement``).

        Parameters
        ----------
        expr : Expr or MatrixExpr

        Returns
        -------
        DomainMatrix or PolyElement
        """
        if getattr(expr, "is_Matrix", False):
            return self._matrix_value(expr)
        return self._scalar_value(expr)

    def _matrix_value(self, expr):
        if expr in self._values:
            return self._values[expr]
        if isinstance(expr, MatAdd):
            out = self._matrix_value(expr.args[0])
            for a in expr.args[1:]:
                out = out + self._matrix_value(a)
            return out
        if isinstance(expr, MatMul):
            coeff, mats = expr.as_coeff_matrices()
            out = self._matrix_value(mats[0])
            for m in mats[1:]:
                out = out * self._matrix_value(m)
            return out * self._scalar_value(coeff)
        if isinstance(expr, Transpose):
            return self._matrix_value(expr.arg).transpose()
        if isinstance(expr, MatPow) and expr.exp.is_Integer and expr.exp > 0:
            out = base = self._matrix_value(expr.base)
            for _ in range(int(expr.exp) - 1):
                out = out * base
            return out
        if isinstance(expr, Identity):
            return DomainMatrix.eye(self._size(expr.shape[0]), self.domain).to_dense()
        if isinstance(expr, ZeroMatrix):
            return DomainMatrix.zeros(tuple(self._size(s) for s in expr.shape), self.domain).to_dense()
        if isinstance(expr, OneMatrix):
            return DomainMatrix.ones(tuple(self._size(s) for s in expr.shape), self.domain).to_dense()
        if isinstance(expr, CentringMatrix):
            n = self._size(expr.shape[0])
            eye = DomainMatrix.eye(n, self.domain).to_dense()
            return eye - DomainMatrix.ones((n, n), self.domain).to_dense() * self.ring(Rational(1, n))
        raise TypeError(f"cannot realise {expr!r} (kernel model {self.kernel_model!r})")

    def _scalar_value(self, expr):
        if expr in self._scalars:
            return self._scalars[expr]
        if expr.is_Rational:
            return self.ring(expr)
        if expr in (N, d):
            return self.ring(self._size(expr))
        if isinstance(expr, Add):
            return sum((self._scalar_value(a) for a in expr.args), self.ring.zero)
        if isinstance(expr, Mul):
            out = self.ring.one
            for a in expr.args:
                out = out * self._scalar_value(a)
            return out
        if isinstance(expr, Pow) and expr.exp.is_Integer:
            if expr.exp > 0:
                return self._scalar_value(expr.base) ** int(expr.exp)
            return self._scalar_value(1 / expr.base) ** int(-expr.exp)
        if isinstance(expr, Trace):
            X = self._matrix_value(expr.arg)
            return sum((X[i, i].element for i in range(X.shape[0])), self.ring.zero)
        if isinstance(expr, FrobeniusNormSq):
            X = self._matrix_value(expr.arg)
            return sum((e**2 for row in X.to_list() for e in row), self.ring.zero)
        raise TypeError(f"cannot realise scalar {expr!r}")

    def is_zero(self, value) -> bool:
        """Whether a realised scalar or matrix vanishes once each inverse variable is ``1/m``.

        Parameters
        ----------
        value : PolyElement or DomainMatrix

        Returns
        -------
        bool
        """
        if isinstance(value, DomainMatrix):
            return all(self.is_zero(e) for row in value.to_list() for e in row)
        p = value
        for u, m in self._inverses:
            i = self.ring.gens.index(u)
            parts: dict = {}
            for monom, coeff in p.terms():
                k = monom[i]
                rest = monom[:i] + (0,) + monom[i + 1 :]
                parts[k] = parts.get(k, self.ring.zero) + self.ring({rest: coeff})
            if not parts:
                return True
            top = max(parts)
            p = sum((q * m ** (top - k) for k, q in parts.items()), self.ring.zero)
        return p == 0

    def equal(self, lhs, rhs) -> bool:
        """Whether two expressions (both scalar or both matrix) agree exactly on this realisation."""
        return self.is_zero(self.value(lhs) - self.value(rhs))
