r"""The objectives of docs/theory.md §3, each written once as a SymPy expression.

Symbols follow docs/theory.md §1 (samples are rows): :math:`K` (N×N Gram matrix), :math:`C`
(N×d coefficients), :math:`Z = KC` (embeddings), :math:`A`, :math:`L` (relation matrix and
Laplacian), :math:`G` (the Gram matrix of the embeddings), scalars :math:`\lambda`, :math:`\beta`,
:math:`c` and the sizes :math:`N`, :math:`d`.

Besides the losses, this module holds the *lemmas* the derivations rewrite with
(:class:`~kssl_theory.symbolic.traces.Rule` objects). Each lemma is a matrix identity between
words, together with the definitions and assumptions it needs; every one of them is proven on
explicit generic matrices by :func:`kssl_theory.symbolic.proofs.prove_all`. An objective
declares which lemmas express its loss through :math:`G` and which simplify the projected
target; the derivation itself (:mod:`kssl_theory.symbolic.derive`) is generic.
"""

from __future__ import annotations

from dataclasses import dataclass

from sympy import Add, Expr, Identity, MatAdd, MatrixExpr, MatrixSymbol, Symbol, Trace, symbols

from .nodes import (
    CentringMatrix,
    FrobeniusNormSq,
    KernelRoot,
    PseudoInverse,
    RangeProjector,
    SymmetricMatrixSymbol,
)
from .traces import Rule

__all__ = [
    "N",
    "d",
    "lam",
    "beta",
    "c",
    "K",
    "A",
    "L",
    "M",
    "C",
    "Z",
    "Y",
    "V",
    "G",
    "Kp",
    "P",
    "R",
    "H",
    "LEMMAS",
    "Option",
    "REG",
    "BETA",
    "SCALE_C",
    "SoftObjective",
    "SpectralObjective",
    "SOFT_OBJECTIVES",
    "SPECTRAL_OBJECTIVES",
]

N, d = symbols("N d", integer=True, positive=True)
lam = Symbol("lambda", nonnegative=True)
beta = Symbol("beta", nonnegative=True)
c = Symbol("c", positive=True)

K = SymmetricMatrixSymbol("K", N, N)
A = SymmetricMatrixSymbol("A", N, N)
L = SymmetricMatrixSymbol("L", N, N)
#: A generic symmetric matrix (the whitened map is built for ``M = A`` or ``M = L``).
M = SymmetricMatrixSymbol("M", N, N)
G = SymmetricMatrixSymbol("G", N, N)
C = MatrixSymbol("C", N, d)
Z = MatrixSymbol("Z", N, d)
Y = MatrixSymbol("Y", N, d)
V = MatrixSymbol("V", N, d)

Kp = PseudoInverse(K)
P = RangeProjector(K)
#: A root of K, :math:`K = RR^T` (any root: the numeric factor uses the Cholesky factor when it can).
R = KernelRoot(K)
H = CentringMatrix(N)
I_d = Identity(d)


def _sum(*terms):
    """A sum kept in the order written (for LaTeX that reads like docs/theory.md)."""
    return Add(*terms, evaluate=False)


def _msum(*terms):
    """A matrix sum kept in the order written."""
    return MatAdd(*terms, evaluate=False)


_Z_KC = ((Z, K * C),)
_G_ZZ = _Z_KC + ((G, Z * Z.T),)
_Y_HZ = ((Y, H * Z),)
_G_CYY = _Y_HZ + ((G, c * Y * Y.T),)
_V_RC = ((V, R.T * C),)

#: Every rewrite the derivations use, by name. Each is proven in ``proofs.prove_all``.
LEMMAS = {
    r.name: r
    for r in [
        Rule(
            "reg_through_z",
            (C.T, K, C),
            (Z.T, Kp, Z),
            "C^T K C = Z^T K^+ Z for Z = KC (from K K^+ K = K)",
            definitions=_Z_KC,
        ),
        Rule("gram_of_z", (Z, Z.T), (G,), "Z Z^T = G (definition of G)", definitions=_G_ZZ),
        Rule("projector_idempotent", (P, P), (P,), "P P = P for P = K K^+"),
        Rule("projector_absorbs_pinv", (P, Kp), (Kp,), "P K^+ = K^+ (and K^+ P = K^+)"),
        Rule(
            "centring_in_quadratic",
            (Z.T, H, Z),
            (Y.T, Y),
            "Z^T H Z = (HZ)^T (HZ) since H^2 = H = H^T",
            definitions=_Y_HZ,
        ),
        Rule(
            "centring_in_laplacian",
            (Z.T, L, Z),
            (Y.T, L, Y),
            "Z^T L Z = (HZ)^T L (HZ) since H L H = L when L 1 = 0",
            definitions=_Y_HZ,
            laplacian=True,
        ),
        Rule(
            "gram_of_centred",
            (Y, Y.T),
            (G,),
            "Y Y^T = G / c for G = c Y Y^T",
            coeff=1 / c,
            definitions=_G_CYY,
        ),
        Rule("centring_idempotent", (H, H), (H,), "H H = H"),
        Rule("centring_absorbs_laplacian", (H, L), (L,), "H L = L (and L H = L) when L 1 = 0", laplacian=True),
        Rule("root_product", (K,), (R, R.T), "K = R R^T (R any root of K)"),
        Rule("whitened_coefficients", (R.T, C), (V,), "R^T C = V (definition of V)", definitions=_V_RC),
        Rule("gram_of_v", (V, V.T), (G,), "V V^T = G (definition of G)", definitions=((G, V * V.T),)),
        Rule("gram_of_orthonormal_z", (Z, Z.T), (G,), "Z Z^T = G (definition of G)", definitions=((G, Z * Z.T),)),
    ]
}


@dataclass(frozen=True)
class Option:
    r"""One option of an objective: its name in the API, default, validation and meaning.

    Attributes
    ----------
    name : str
        Keyword in :func:`kssl_theory.solve`, :func:`kssl_theory.loss` and
        :class:`kssl_theory.KernelSSL` (``"reg"``).
    default : float or bool
    kind : {"nonnegative", "positive", "bool"}
        What a valid value is (:func:`kssl_theory.kernel_regime.objectives.parse_options`).
    doc : str
        Meaning, with the docs/theory.md symbol (one line, reStructuredText).
    symbol : Symbol or None
        The SymPy symbol the option binds in the loss (``None`` for a switch between variants or
        an option of the solver form, such as ``normalized``).
    """

    name: str
    default: float | bool
    kind: str
    doc: str
    symbol: Symbol | None = None


#: :math:`\lambda`, the weight of the RKHS penalty.
REG = Option(
    "reg", 0.0, "nonnegative", r":math:`\lambda \ge 0`, weight of the penalty :math:`\operatorname{tr}(C^TKC)`", lam
)
#: :math:`\beta`, the weight of the invariance term.
BETA = Option(
    "beta",
    1.0,
    "nonnegative",
    r":math:`\beta \ge 0`, weight of the invariance term :math:`\operatorname{tr}(Z^TLZ)`",
    beta,
)
#: :math:`c`, the scale of the centred covariance.
SCALE_C = Option("c", 1.0, "positive", r":math:`c > 0`, scale of the covariance in :math:`\|c\,Z^THZ - I_d\|_F^2`", c)


@dataclass(frozen=True)
class SoftObjective:
    r"""A penalised objective whose loss is a quadratic in a Gram matrix :math:`G`.

    Attributes
    ----------
    key : str
        Name used by the package (``"contrastive"``, ``"vicreg"``, ``"vicreg_centred"``).
    title : str
        Label from docs/theory.md §3.
    loss : Expr
        The loss, in :math:`Z` and :math:`C` (with :math:`Z = KC`) or in :math:`Z` alone.
    variable : MatrixSymbol
        What an optimiser moves: :math:`C`, or :math:`Z` for the kernel-free centred variant.
    definitions : tuple of (MatrixSymbol, MatrixExpr)
        Definitions of the derived symbols, :math:`G` last.
    reduction : tuple of str
        Lemmas that rewrite the loss as a trace polynomial in :math:`G` alone.
    projector : MatrixExpr
        :math:`Q` with :math:`G = QGQ` on the feasible set (:math:`P` for :math:`Z = KC`,
        :math:`H` for centred embeddings).
    simplification : tuple of str
        Lemmas that simplify the projected target :math:`QT_0Q`.
    laplacian : bool
        Whether :math:`L\mathbf 1 = 0` is assumed.
    options : tuple of Option
        The options this declaration binds (its symbols), in API order.
    family : str or None
        The objective name in the numeric API when this declaration is a variant of another
        (``"vicreg"`` for the centred variant); ``None``: the key itself.
    switch : Option or None
        For a variant, the boolean option that selects it (``centred=True``); ``None`` for the
        base declaration of a family.
    aliases : tuple of str
        Other accepted names of the family (on its base declaration).
    """

    key: str
    title: str
    loss: Expr
    variable: MatrixSymbol
    definitions: tuple
    reduction: tuple
    projector: MatrixExpr | None
    simplification: tuple
    laplacian: bool = False
    options: tuple = ()
    family: str | None = None
    switch: Option | None = None
    aliases: tuple = ()

    @property
    def gram(self):
        """The Gram matrix symbol :math:`G` and its definition."""
        return self.definitions[-1]


@dataclass(frozen=True)
class SpectralObjective:
    r"""A hard-constrained objective solved by eigenvectors (Ky Fan).

    Attributes
    ----------
    key : str
    title : str
    objective : Expr
        The trace to optimise.
    constraint : tuple of (MatrixExpr, MatrixExpr)
        The constraint ``lhs = rhs``.
    sense : {"min", "max"}
    reduction : tuple of str
        Lemmas that rewrite the objective as :math:`\operatorname{tr}(SG)` and the constraint
        as an orthonormality constraint on a new variable.
    substitution : tuple or None
        ``(atom, word, lemma)`` applied before the reduction (:math:`K = K^{1/2}K^{1/2}`).
    frame : MatrixSymbol
        The orthonormal variable after the reduction (:math:`Z` or :math:`V = K^{1/2}C`).
    definitions : tuple of (MatrixSymbol, MatrixExpr)
        Definitions of the derived symbols, :math:`G` last.
    options : tuple of Option
        The options this declaration binds (its symbols), in API order.
    family : str or None
        The objective name in the numeric API when this declaration is a variant of another
        (``"vicreg"`` for the centred variant); ``None``: the key itself.
    switch : Option or None
        For a variant, the boolean option that selects it (``centred=True``); ``None`` for the
        base declaration of a family.
    aliases : tuple of str
        Other accepted names of the family (on its base declaration).
    """

    key: str
    title: str
    objective: Expr
    constraint: tuple
    sense: str
    reduction: tuple
    substitution: tuple | None
    frame: MatrixSymbol
    definitions: tuple
    options: tuple = ()
    family: str | None = None
    switch: Option | None = None
    aliases: tuple = ()


SOFT_OBJECTIVES = {
    o.key: o
    for o in [
        SoftObjective(
            key="contrastive",
            title="O1 spectral contrastive",
            loss=_sum(FrobeniusNormSq(_msum(Z * Z.T, -A)), lam * Trace(C.T * K * C)),
            variable=C,
            definitions=_G_ZZ,
            reduction=("reg_through_z", "gram_of_z"),
            projector=P,
            simplification=("projector_idempotent", "projector_absorbs_pinv"),
            options=(REG,),
            aliases=("spectral_contrastive", "O1"),
        ),
        SoftObjective(
            key="vicreg",
            title="O2 VICReg-like (soft)",
            loss=_sum(FrobeniusNormSq(_msum(Z.T * Z, -I_d)), beta * Trace(Z.T * L * Z), lam * Trace(C.T * K * C)),
            variable=C,
            definitions=_G_ZZ,
            reduction=("reg_through_z", "gram_of_z"),
            projector=P,
            simplification=("projector_idempotent", "projector_absorbs_pinv"),
            options=(BETA, REG),
            aliases=("O2",),
        ),
        SoftObjective(
            key="vicreg_centred",
            title="O2 VICReg-like, centred",
            loss=_sum(FrobeniusNormSq(_msum(c * Z.T * H * Z, -I_d)), beta * Trace(Z.T * L * Z)),
            variable=Z,
            definitions=_G_CYY,
            reduction=("centring_in_quadratic", "centring_in_laplacian", "gram_of_centred"),
            projector=H,
            simplification=("centring_idempotent", "centring_absorbs_laplacian"),
            laplacian=True,
            options=(BETA, SCALE_C),
            family="vicreg",
            switch=Option(
                "centred", False, "bool", r"use the centred variant :math:`\|c\,Z^THZ - I_d\|_F^2` (no ``reg``)"
            ),
        ),
    ]
}

SPECTRAL_OBJECTIVES = {
    o.key: o
    for o in [
        SpectralObjective(
            key="laplacian_eigenmaps",
            title="O3 Laplacian eigenmaps",
            objective=Trace(Z.T * L * Z),
            constraint=(Z.T * Z, I_d),
            sense="min",
            reduction=("gram_of_orthonormal_z",),
            substitution=None,
            frame=Z,
            definitions=((G, Z * Z.T),),
            options=(
                Option(
                    "normalized",
                    False,
                    "bool",
                    r"use the normalised constraint :math:`Z^TDZ = I_d` (needs every degree positive)",
                ),
            ),
            aliases=("eigenmaps", "O3"),
        ),
        SpectralObjective(
            key="whitened",
            title="O4 whitened map",
            objective=Trace(C.T * K * A * K * C),
            constraint=(C.T * K * C, I_d),
            sense="max",
            reduction=("whitened_coefficients", "gram_of_v"),
            substitution=(K, (R, R.T), "root_product"),
            frame=V,
            definitions=_V_RC + ((G, V * V.T),),
            aliases=("O4",),
        ),
        SpectralObjective(
            key="whitened_laplacian",
            title="O4 whitened map, Laplacian twin",
            objective=Trace(C.T * K * L * K * C),
            constraint=(C.T * K * C, I_d),
            sense="min",
            reduction=("whitened_coefficients", "gram_of_v"),
            substitution=(K, (R, R.T), "root_product"),
            frame=V,
            definitions=_V_RC + ((G, V * V.T),),
            family="whitened",
            switch=Option(
                "laplacian",
                False,
                "bool",
                r"minimise the Laplacian twin :math:`\operatorname{tr}(C^TKLKC)` instead of maximising "
                r":math:`\operatorname{tr}(C^TKAKC)`",
            ),
        ),
    ]
}
