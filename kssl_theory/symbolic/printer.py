r"""Printers from SymPy matrix expressions to array-API code.

The hierarchy follows SymPy's ``PythonCodePrinter`` → ``NumPyPrinter`` → ``CuPyPrinter``, with
two differences that matter here: names go through an array-API namespace ``xp`` (never
``numpy``), and a matrix inverse is never formed: :math:`M^{-1}X` prints as a solve.

- :class:`ArrayAPIPrinter`: matrix sums and products (``@``; :math:`XX^T` as ``gram(X)``, the
  backend's crash-guarded ``syrk``), transposes, identities and
  all-ones matrices (``xp.eye``, ``xp.ones``), :math:`H`, traces and Frobenius norms,
  :math:`M^{-1}X` as ``xp.linalg.solve(M, X)``, and the eigenvalue energy
  :math:`\sum_{i\le d}\max(\lambda_i,0)^2` as ``xp.sum(xp.clip(top, 0, None) ** 2)``.
- :class:`KernelFactorPrinter`: adds the operators of the factored Gram matrix, applied
  through a :class:`~kssl_theory.kernel_regime.kernel_factor.KernelFactor` ``kf``: :math:`K^+X` as
  ``kf.solve(X)``, :math:`PX` as ``kf.project(X)``, :math:`RX` and :math:`R^TX` for a root
  :math:`K = RR^T` as ``kf.root(X)`` and ``kf.root_t(X)``, and a scalar multiple :math:`cK^+` as
  ``kf.solve_scaled_identity(c)`` (no solve at all when ``c == 0``).

Operators in products
---------------------
A product is evaluated right to left. An operator :math:`O` (an inverse or a kernel operator)
is *applied* to what stands on its right; operators on the right of the last data factor use
:math:`XO = (O^TX^T)^T`. So :math:`PAP` prints as ``kf.project(kf.project(A).T)`` (``A.T`` is
``A`` for a symmetric :math:`A`), :math:`R^TAR` as ``kf.root_t(kf.root_t(A).T)``, and a lone
:math:`K^+` as ``kf.solve(xp.eye(n, dtype=..., device=...))``.
"""

from __future__ import annotations

from sympy import Add, Identity, Inverse, MatAdd, MatMul, MatPow, MatrixExpr, MatrixSymbol, Transpose
from sympy.printing.pycode import PythonCodePrinter
from sympy.printing.str import StrPrinter

from .nodes import KernelOperator, PseudoInverse, is_symmetric

__all__ = ["ArrayAPIPrinter", "KernelFactorPrinter", "array_api_code"]


class ArrayAPIPrinter(PythonCodePrinter):
    """Print matrix expressions as code on an array-API namespace.

    Parameters
    ----------
    settings : dict, optional
        Besides ``PythonCodePrinter``'s settings:

        ``namespace`` (default ``"xp"``)
            Name of the array namespace in the generated code.
        ``names`` (dict)
            Code names of symbols (scalars, sizes, matrix symbols), e.g. ``{lambda: "reg"}``.
        ``dtype`` (str)
            Code for the dtype of created arrays (``"A.dtype"``); needed by identities.
        ``device`` (str, optional)
            Code for the device of created arrays (``"device(A)"``); without it they are created on
            the namespace's default device.
        ``eigenvalues`` (str)
            Name of the array of top eigenvalues that
            :class:`~kssl_theory.symbolic.nodes.PositivePartEnergy` refers to.
        ``majorant`` (bool, default False)
            Print every term of a sum with ``+`` and its coefficient's absolute value: evaluated
            on entrywise absolute values of the operands, the code then bounds the absolute value
            of the expression entrywise (what a rounding-error bound needs). Coefficients must
            be real with a known sign (options are declared non-negative).
    """

    printmethod = "_arrayapicode"
    language = "Python (array API)"
    _default_settings = dict(
        PythonCodePrinter._default_settings,
        namespace="xp",
        names={},
        dtype=None,
        device=None,
        eigenvalues=None,
        majorant=False,
    )

    @property
    def _xp(self):
        return self._settings["namespace"]

    def _name(self, sym, default):
        return self._settings["names"].get(sym, default)

    def _dtype(self):
        dtype = self._settings["dtype"]
        if dtype is None:
            raise ValueError("printing a created matrix (identity, ones) needs the 'dtype' setting")
        device = self._settings["device"]
        return dtype if device is None else f"{dtype}, device={device}"

    def _print_Symbol(self, expr):
        return self._name(expr, super()._print_Symbol(expr))

    def _print_MatrixSymbol(self, expr):
        return self._name(expr, expr.name)

    def _print_Mul(self, expr):
        return StrPrinter._print_Mul(self, expr)

    def _print_Identity(self, expr):
        return f"{self._xp}.eye({self._print(expr.shape[0])}, dtype={self._dtype()})"

    def _print_OneMatrix(self, expr):
        rows, cols = (self._print(s) for s in expr.shape)
        return f"{self._xp}.ones(({rows}, {cols}), dtype={self._dtype()})"

    def _print_ZeroMatrix(self, expr):
        rows, cols = (self._print(s) for s in expr.shape)
        return f"{self._xp}.zeros(({rows}, {cols}), dtype={self._dtype()})"

    def _print_CentringMatrix(self, expr):
        if self._settings["majorant"]:
            raise ValueError("no majorant is printed for H (its entries have both signs)")
        n = self._print(expr.shape[0])
        return (
            f"({self._print_Identity(Identity(expr.shape[0]))} - {self._xp}.ones(({n}, {n}), "
            f"dtype={self._dtype()}) / {n})"
        )

    def _print_Transpose(self, expr):
        return f"{self._atom(expr.arg)}.T"

    def _print_Trace(self, expr):
        return f"{self._xp}.linalg.trace({self._print(expr.arg)})"

    def _print_FrobeniusNormSq(self, expr):
        X = expr.arg
        if isinstance(X, MatrixSymbol):
            return f"{self._xp}.sum({self._print(X)} * {self._print(X)})"
        return f"{self._xp}.linalg.matrix_norm({self._print(X)}) ** 2"

    def _print_PositivePartEnergy(self, expr):
        name = self._settings["eigenvalues"]
        if name is None:
            raise ValueError(
                "printing PositivePartEnergy needs the 'eigenvalues' setting (name of the top eigenvalues)"
            )
        return f"{self._xp}.sum({self._xp}.clip({name}, 0, None) ** 2)"

    def _print_Inverse(self, expr):
        return self._apply_product([expr])

    def _print_KernelOperator(self, expr):
        return self._apply_product([expr])

    # Sums -----------------------------------------------------------------------------------

    def _signed_sum(self, terms, split):
        pos, neg = [], []
        for term in terms:
            coeff, rest = split(term)
            if coeff.could_extract_minus_sign() and self._settings["majorant"]:
                pos.append(self._scaled(-coeff, rest))
            elif coeff.could_extract_minus_sign():
                neg.append(self._scaled(-coeff, rest))
            else:
                pos.append(self._scaled(coeff, rest))
        out = " + ".join(pos) if pos else ""
        for n in neg:
            out = f"{out} - {n}" if out else f"-{n}"
        return out

    def _scaled(self, coeff, rest):
        body = self._atom(rest) if coeff != 1 else self._print(rest)
        if coeff == 1:
            return body
        c = self._print(coeff)
        if not (coeff.is_Atom and coeff.is_nonnegative is not False):
            c = f"({c})"
        return f"{c} * {body}"

    def _print_MatAdd(self, expr):
        return self._signed_sum(expr.args, lambda t: t.as_coeff_mmul())

    def _print_Add(self, expr, order=None):
        if any(isinstance(a, MatrixExpr) for a in expr.args):
            raise TypeError(f"mixed scalar/matrix sum: {expr}")
        return self._signed_sum(expr.args, lambda t: t.as_coeff_Mul())

    def _atom(self, expr):
        """Code for ``expr`` parenthesised unless it is a name or a call."""
        if isinstance(expr, MatMul):
            coeff, factors = expr.as_coeff_matrices()
            if coeff == 1 and len(factors) == 1:
                return self._atom(factors[0])
        code = self._print(expr)
        if isinstance(expr, (MatAdd, Add)) or (isinstance(expr, MatMul) and not self._is_call(expr)):
            return f"({code})"
        return code

    def _is_call(self, expr):
        coeff, factors = expr.as_coeff_matrices()
        return coeff == 1 and self._operator(factors[0]) is not None

    # Products -------------------------------------------------------------------------------

    def _operator(self, factor, transposed=False):
        """A function ``code -> code`` applying ``factor`` (or its transpose), or None for data."""
        if isinstance(factor, Inverse) or (isinstance(factor, MatPow) and factor.exp == -1):
            M = factor.args[0]
            M_code = self._print(M.T) if transposed else self._print(M)
            return lambda x: f"{self._xp}.linalg.solve({M_code}, {x})"
        return None

    def _factors(self, expr):
        coeff, mats = expr.as_coeff_matrices()
        out = []
        for m in mats:
            if isinstance(m, MatPow) and m.exp.is_Integer and m.exp > 0:
                out.extend([m.base] * int(m.exp))
            else:
                out.append(m)
        return coeff, out

    def _apply_product(self, factors):
        data = [i for i, f in enumerate(factors) if self._operator(f) is None]
        if not data:
            code = self._print_Identity(Identity(factors[-1].shape[1]))
            for f in reversed(factors):
                code = self._operator(f)(code)
            return code
        last = data[-1]
        X, trailing = factors[last], factors[last + 1 :]
        if trailing:
            code = self._print(X if is_symmetric(X) else X.T)
            for f in trailing:
                code = self._operator(f, transposed=True)(code)
            code = f"{code}.T"
        else:
            code = self._atom(X)
        for f in reversed(factors[:last]):
            op = self._operator(f)
            code = op(code) if op is not None else f"{self._atom(f)} @ {code}"
        return code

    def _print_MatMul(self, expr):
        coeff, factors = self._factors(expr)
        if len(factors) == 2 and isinstance(factors[0], MatrixSymbol) and factors[1] == factors[0].T:
            # X X^T on one array is BLAS syrk: through the backend's crash-guarded gram()
            body = f"gram({self._print(factors[0])})"
        else:
            body = self._apply_product(factors)
        if coeff == 1:
            return body
        if coeff == -1:
            return f"-{body}"
        return self._scaled(coeff, MatMul(*factors))

    def _print_MatPow(self, expr):
        if expr.exp.is_Integer and expr.exp > 0:
            return self._apply_product([expr.base] * int(expr.exp))
        if expr.exp == -1:
            return self._apply_product([expr])
        raise ValueError(f"cannot print the matrix power {expr} without an explicit inverse or root")


class KernelFactorPrinter(ArrayAPIPrinter):
    """:class:`ArrayAPIPrinter` that applies kernel operators through a ``KernelFactor``.

    Parameters
    ----------
    settings : dict, optional
        Adds ``factor`` (default ``"kf"``), the name of the
        :class:`~kssl_theory.kernel_regime.kernel_factor.KernelFactor` in the generated code.
    """

    _default_settings = dict(ArrayAPIPrinter._default_settings, factor="kf")

    def _operator(self, factor, transposed=False):
        if isinstance(factor, Transpose) and isinstance(factor.arg, KernelOperator):
            factor, transposed = factor.arg, not transposed
        if isinstance(factor, KernelOperator):
            kf = self._settings["factor"]
            method = factor.transpose_method if transposed and not factor.symmetric else factor.method
            return lambda x: f"{kf}.{method}({x})"
        return super()._operator(factor, transposed)

    def _scaled(self, coeff, rest):
        # A scalar multiple of the lone pseudo-inverse, c K^+, prints as kf.solve_scaled_identity(c), and
        # c K^+ X as kf.solve_scaled(c, X): the factor skips the solve when c == 0 (the unregularised
        # objectives).
        factors = rest.as_coeff_matrices()[1] if isinstance(rest, MatMul) else [rest]
        if len(factors) == 1 and isinstance(factors[0], PseudoInverse) and coeff != 1:
            return f"{self._settings['factor']}.solve_scaled_identity({self._print(coeff)})"
        if len(factors) > 1 and isinstance(factors[0], PseudoInverse) and coeff != 1:
            applied = self._print(MatMul(*factors[1:]))
            return f"{self._settings['factor']}.solve_scaled({self._print(coeff)}, {applied})"
        return super()._scaled(coeff, rest)


def array_api_code(expr, **settings) -> str:
    """Code for ``expr`` with :class:`KernelFactorPrinter` (see its settings)."""
    return KernelFactorPrinter(settings).doprint(expr)
