r"""SymPy node classes for the objects of docs/theory.md §1 that SymPy does not have.

- :class:`SymmetricMatrixSymbol`: a square matrix symbol that is its own transpose
  (:math:`K`, :math:`A`, :math:`L`, a generic symmetric :math:`M`).
- :class:`KernelOperator` and its three kinds, the operators built on the PSD Gram matrix
  :math:`K` that the numeric code applies through a
  :class:`~kssl_theory.kernel_regime.kernel_factor.KernelFactor` ``kf`` instead of forming them:
  :class:`PseudoInverse` :math:`K^+` (``kf.solve``), :class:`RangeProjector`
  :math:`P = KK^+` (``kf.project``) and :class:`KernelRoot` :math:`R` with :math:`K = RR^T`
  (``kf.root``; :math:`R^T` as ``kf.root_t``), the one operator that is not symmetric: any root
  will do, and the numeric code takes the cheapest (the Cholesky factor when :math:`K \succ 0`).
- :class:`CentringMatrix` :math:`H = I - \mathbf 1\mathbf 1^T/N`.
- Scalars built from matrices: :class:`FrobeniusNormSq` :math:`\|X\|_F^2`,
  :class:`PositivePartEnergy` :math:`\sum_{i\le d}\max(\lambda_i(T),0)^2` (the part of
  :math:`\|T\|_F^2` that the best PSD rank-:math:`d` approximation captures) and
  :class:`KyFanSum` (the sum of the :math:`d` largest or smallest eigenvalues).

Every node knows its LaTeX form (``_latex``) so that derived formulas print as in docs/theory.md.
"""

from __future__ import annotations

from sympy import Basic, Expr, MatrixExpr, MatrixSymbol, sympify
from sympy.core.symbol import Str

__all__ = [
    "SymmetricMatrixSymbol",
    "KernelOperator",
    "PseudoInverse",
    "RangeProjector",
    "KernelRoot",
    "CentringMatrix",
    "FrobeniusNormSq",
    "PositivePartEnergy",
    "KyFanSum",
    "is_symmetric",
]


class SymmetricMatrixSymbol(MatrixSymbol):
    """A square matrix symbol with :math:`X^T = X`.

    Parameters
    ----------
    name : str
        Name (also its LaTeX form).
    n, m : int or Symbol
        Shape; must be equal.

    Examples
    --------
    >>> from sympy import Symbol
    >>> A = SymmetricMatrixSymbol("A", Symbol("N"), Symbol("N"))
    >>> A.T == A
    True
    """

    def __new__(cls, name, n, m):
        n, m = sympify(n), sympify(m)
        if n != m:
            raise ValueError(f"a symmetric matrix is square, got shape ({n}, {m})")
        return super().__new__(cls, name, n, m)

    def _eval_transpose(self):
        return self


class KernelOperator(MatrixExpr):
    """An operator built on the Gram matrix :math:`K`, applied through ``kf`` (symmetric unless stated).

    Subclasses set ``method`` (the :class:`~kssl_theory.kernel_regime.kernel_factor.KernelFactor` method
    that applies the operator to a matrix) and ``latex_suffix``; a non-symmetric one sets
    ``symmetric = False`` and ``transpose_method`` (the method applying its transpose).

    Parameters
    ----------
    K : SymmetricMatrixSymbol
        The Gram matrix.
    """

    method: str = ""
    transpose_method: str = ""
    latex_suffix: str = ""
    symmetric: bool = True

    def __new__(cls, K):
        if not isinstance(K, SymmetricMatrixSymbol):
            raise TypeError(f"{cls.__name__} needs a SymmetricMatrixSymbol, got {K!r}")
        return Basic.__new__(cls, K)

    @property
    def kernel(self):
        """The Gram matrix symbol :math:`K`."""
        return self.args[0]

    @property
    def shape(self):
        return self.args[0].shape

    def _eval_transpose(self):
        return self if self.symmetric else None

    def _latex(self, printer):
        return printer._print(self.kernel) + self.latex_suffix


class PseudoInverse(KernelOperator):
    """Moore–Penrose pseudo-inverse :math:`K^+`, applied as ``kf.solve(X)``."""

    method = "solve"
    latex_suffix = "^{+}"


class RangeProjector(KernelOperator):
    """Orthogonal projector onto range(K), :math:`P = KK^+`, applied as ``kf.project(X)``."""

    method = "project"

    def _latex(self, printer):
        return "P"


class KernelRoot(KernelOperator):
    r"""A root :math:`R` of the Gram matrix, :math:`K = RR^T`: ``kf.root(X)`` applies it, ``kf.root_t(X)`` :math:`R^T`.

    Formulas derived with a root hold for *every* root (:math:`R` and :math:`RQ`, :math:`Q`
    orthogonal, give the same :math:`K`); the numeric factor picks the Cholesky factor when
    :math:`K \succ 0` and :math:`U_r\Lambda_r^{1/2}` (``N x r``) otherwise.
    """

    method = "root"
    transpose_method = "root_t"
    symmetric = False

    def _latex(self, printer):
        return "R"


class CentringMatrix(MatrixExpr):
    r"""The centring matrix :math:`H = I_N - \mathbf 1\mathbf 1^T / N`.

    Parameters
    ----------
    n : int or Symbol
        The size :math:`N`.
    """

    def __new__(cls, n):
        return Basic.__new__(cls, sympify(n))

    @property
    def shape(self):
        return self.args[0], self.args[0]

    def _eval_transpose(self):
        return self

    def _latex(self, printer):
        return "H"


class FrobeniusNormSq(Expr):
    r"""Squared Frobenius norm :math:`\|X\|_F^2 = \operatorname{tr}(X^TX)` of a matrix expression.

    Parameters
    ----------
    X : MatrixExpr
    """

    is_commutative = True
    is_real = True

    def __new__(cls, X):
        X = sympify(X)
        if not X.is_Matrix:
            raise TypeError(f"FrobeniusNormSq needs a matrix, got {X!r}")
        return Expr.__new__(cls, X)

    @property
    def arg(self):
        """The matrix :math:`X`."""
        return self.args[0]

    def _latex(self, printer):
        return r"\left\|%s\right\|_F^{2}" % printer._print(self.arg)


class PositivePartEnergy(Expr):
    r""":math:`\sum_{i=1}^{d}\max(\lambda_i(T),0)^2`, eigenvalues of symmetric :math:`T` descending.

    By Eckart–Young, :math:`\min_{G\succeq 0,\ \operatorname{rank} G\le d}\|G-T\|_F^2
    = \|T\|_F^2 - \sum_{i\le d}\max(\lambda_i(T),0)^2`, attained at :math:`G=[T]_{+,d}`. The
    numeric code receives the top-:math:`d` eigenvalues ``top`` and prints this node as
    ``xp.sum(xp.clip(top, 0, None) ** 2)``.

    Parameters
    ----------
    T : MatrixExpr
        The symmetric target.
    d : Symbol or int
        The rank bound.
    """

    is_commutative = True
    is_real = True

    def __new__(cls, T, d):
        return Expr.__new__(cls, sympify(T), sympify(d))

    @property
    def target(self):
        """The matrix :math:`T`."""
        return self.args[0]

    def _latex(self, printer):
        T, d = (printer._print(a) for a in self.args)
        return r"\sum_{i=1}^{%s} \max\left(\lambda_i\left(%s\right), 0\right)^{2}" % (d, T)


class KyFanSum(Expr):
    r"""Sum of the :math:`d` largest (``"top"``) or smallest (``"bottom"``) eigenvalues of :math:`M`.

    Ky Fan: :math:`\max_{Z^TZ=I_d}\operatorname{tr}(Z^TMZ)` is the top sum and
    :math:`\min_{Z^TZ=I_d}\operatorname{tr}(Z^TMZ)` the bottom sum, attained by the
    corresponding eigenvectors.

    Parameters
    ----------
    M : MatrixExpr
        Symmetric matrix.
    d : Symbol or int
        Number of eigenvalues.
    which : {"top", "bottom"}
    """

    is_commutative = True
    is_real = True

    def __new__(cls, M, d, which):
        which = which if isinstance(which, Str) else Str(which)
        if which.name not in ("top", "bottom"):
            raise ValueError(f"which must be 'top' or 'bottom', got {which.name!r}")
        return Expr.__new__(cls, sympify(M), sympify(d), which)

    @property
    def which(self) -> str:
        """``"top"`` or ``"bottom"``."""
        return self.args[2].name

    def _latex(self, printer):
        M, d = printer._print(self.args[0]), printer._print(self.args[1])
        n = printer._print(self.args[0].shape[0])
        index = "i" if self.which == "top" else f"{n}+1-i"
        return r"\sum_{i=1}^{%s} \lambda_{%s}\left(%s\right)" % (d, index, M)


def is_symmetric(expr) -> bool:
    """Whether a matrix expression is symmetric by construction.

    True for symmetric atoms (:class:`SymmetricMatrixSymbol`, the symmetric kernel operators,
    :math:`H`, identity, the all-ones and zero square matrices), for sums and scalar multiples of
    symmetric expressions, and for products equal to their reversed transposes (:math:`XYX` with
    symmetric factors, :math:`R^TAR`).

    Parameters
    ----------
    expr : MatrixExpr

    Returns
    -------
    bool
    """
    from sympy import Identity, MatAdd, MatMul, OneMatrix, ZeroMatrix

    if isinstance(expr, KernelOperator):
        return expr.symmetric
    if isinstance(expr, (SymmetricMatrixSymbol, CentringMatrix, Identity)):
        return True
    if isinstance(expr, (OneMatrix, ZeroMatrix)):
        return expr.shape[0] == expr.shape[1]
    if isinstance(expr, MatAdd):
        return all(is_symmetric(a) for a in expr.args)
    if isinstance(expr, MatMul):
        _, factors = expr.as_coeff_matrices()
        return all(f == g.T for f, g in zip(factors, reversed(factors)))
    return False
