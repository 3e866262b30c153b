r"""The kernel-regime SSL objectives O1–O4 (docs/theory.md §3), built from their one declaration.

Every objective is declared once, in SymPy (:mod:`kssl_theory.symbolic.objectives`): its loss,
options (default, validation, meaning), aliases and variants. The code generator
(:mod:`kssl_theory.symbolic.codegen`) derives each declaration and prints its functions (target,
minimum, penalty split, spectral matrix, loss) and one record into
:data:`kssl_theory._generated.targets.DECLARATIONS`. This module turns those records into
:class:`Objective` objects for the generic spectral engine (:mod:`kssl_theory.kernel_regime.engine`),
without importing SymPy. What is *not* per objective lives here once per numeric **form**, the
shape of the optimisation problem (:func:`kssl_theory.symbolic.codegen.form_of`):

``"penalised"``
    soft objective in :math:`C`, :math:`Z = KC`, target :math:`T = \text{free} - pK^+`
    (O1, O2); optimum :math:`G^* = [T]_{+,d}` (rule ``"psd-top"``).
``"centred"``
    soft objective in centred embeddings, target in :math:`H`; feasible set
    :math:`\mathrm{range}(HK)` (centred O2).
``"orthonormal"``
    Ky Fan in :math:`Z^TZ = I_d` (or :math:`Z^TDZ = I_d` with ``normalized``) (O3).
``"whitened"``
    Ky Fan in :math:`V = R^TC`, :math:`K = RR^T` (O4 and its Laplacian twin).

A new objective of one of these forms needs only its declaration:
:func:`kssl_theory.symbolic.codegen.register_objective` at run time, or an entry in
:mod:`kssl_theory.symbolic.objectives` plus ``python -m kssl_theory.symbolic.codegen``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol, TypeVar, cast

import numpy as np

from .. import backend as B
from .._generated import targets as _targets
from ..errors import InputError
from ..graphs import RelationGraph
from ..protocols import Array, KernelFactorOperators, RelationOperators
from ..validation import check_bool, check_nonnegative, check_positive, close_matches, unknown_name_message
from .accuracy import SpectralMatrix
from .kernel_factor import NormBounds

if TYPE_CHECKING:
    from .kernel_factor import EigenCoordinates, KernelFactor

__all__ = [
    "Option",
    "Variant",
    "Objective",
    "OBJECTIVES",
    "built_in_option_defaults",
    "document_options",
    "get_objective",
    "option_parameters_doc",
    "options_doc",
    "parse_options",
    "register",
    "unregister",
]


@dataclass(frozen=True)
class Option:
    """One option of an objective (from its declaration).

    Attributes
    ----------
    name : str
    default : float or bool
    kind : {"nonnegative", "positive", "bool"}
    doc : str
    """

    name: str
    default: float | bool
    kind: str
    doc: str

    def check(self, value: object) -> float | bool:
        """``value`` validated for this option's kind (raises :class:`InputError`)."""
        if self.kind == "bool":
            return check_bool(f"option {self.name}", value)
        if self.kind == "positive":
            return check_positive(self.name, value)
        return check_nonnegative(self.name, value)


@dataclass(frozen=True)
class Variant:
    """One declaration of an objective family: its form, rule, options and generated functions.

    Attributes
    ----------
    key : str
        Declaration key (``"vicreg_centred"``).
    title : str
    switch : Option or None
        The boolean option that selects this variant (``None`` for the base declaration).
    options : tuple of Option
        The options its loss binds.
    form : {"penalised", "centred", "orthonormal", "whitened"}
    rule : {"psd-top", "top", "bottom"}
    functions : Mapping[str, callable]
        Generated functions by role: ``target``, ``minimum``, ``free``, ``penalty``, ``scale``
        (soft forms), ``matrix`` (Ky Fan forms), ``apply`` and ``apply_majorant`` (the spectral
        matrix applied to a block, and its entrywise majorant; not for the centred form), ``loss``.
    arguments : Mapping[str, tuple of str]
        Their argument names by role, from the generated record (never read off the functions).
    apply_depth : int or None
        Rounding depth of ``apply``: its error is at most ``apply_depth * N * eps`` times
        ``apply_majorant`` on absolute values (:func:`kssl_theory.symbolic.codegen._apply_functions`).
    """

    key: str
    title: str
    switch: Option | None
    options: tuple[Option, ...]
    form: str
    rule: str
    functions: Mapping[str, Callable[..., Any]]
    arguments: Mapping[str, tuple[str, ...]]
    apply_depth: int | None = None

    @property
    def switch_name(self) -> str:
        """Name of the switch option (variants only)."""
        if self.switch is None:
            raise InputError(f"declaration {self.key!r} is the base of its family; it has no switch.")
        return self.switch.name

    @classmethod
    def from_record(cls, record: Mapping[str, Any]) -> Variant:
        roles = ("target", "minimum", "free", "penalty", "scale", "matrix", "apply", "apply_majorant", "loss")
        switch = record["switch"]
        return cls(
            key=record["key"],
            title=record["title"],
            switch=None if switch is None else Option(*switch),
            options=tuple(Option(*o) for o in record["options"]),
            form=record["form"],
            rule=record["rule"],
            functions={r: record[r] for r in roles if r in record},
            arguments={r: tuple(a) for r, a in record["arguments"].items()},
            apply_depth=record.get("apply_depth"),
        )

    def call(self, role: str, **env: Any) -> Any:
        """Call the generated function ``role`` with the arguments its record names, taken from ``env``.

        Values in ``env`` may be zero-argument callables (computed only when the function
        needs them, e.g. the Laplacian).
        """
        args: dict[str, Any] = {}
        for name in self.arguments[role]:
            if name in env:
                value = env[name]
                args[name] = value() if callable(value) and not hasattr(value, "shape") else value
        return self.functions[role](**args)


@dataclass(frozen=True)
class SpectralOperator:
    r"""A spectral matrix :math:`S` (``size x size``) that is applied, never formed (:meth:`Objective.operator`).

    Attributes
    ----------
    apply : callable
        ``apply(X)`` is :math:`SX` for a block ``X`` of ``size`` rows (the generated ``*_apply``).
    apply_majorant : callable
        ``apply_majorant(|X|)`` bounds :math:`|SX|` entrywise (the generated ``*_apply_majorant``).
    depth : int
        Rounding depth: ``apply``'s error is at most ``depth * N * eps`` times ``apply_majorant(|X|)``.
    size : int
        Dimension of :math:`S`: ``N``, or the rank of a singular ``K`` for the whitened form.
    norm_bound : callable
        ``norm_bound()`` is an upper bound of :math:`\|S\|_2` from bounds of its operands' 2-norms.
    """

    apply: Callable[[Array], Array]
    apply_majorant: Callable[[Array], Array]
    depth: int
    size: int
    norm_bound: Callable[[], float]


@dataclass(frozen=True)
class Objective:
    r"""One SSL objective of docs/theory.md §3 (a family of declared variants) for the generic engine.

    Attributes
    ----------
    name : str
        Canonical name (``"contrastive"``, ``"vicreg"``, ``"laplacian_eigenmaps"``, ``"whitened"``).
    aliases : tuple of str
        Other accepted names (e.g. ``"O1"``).
    title : str
        Title with the docs/theory.md label.
    variants : tuple of Variant
        The base declaration first, then the variants selected by a switch option.
    """

    name: str
    aliases: tuple[str, ...]
    title: str
    variants: tuple[Variant, ...]

    @property
    def options(self) -> tuple[Option, ...]:
        """Every option of the family: the base's, then each variant's switch and new options."""
        out: dict[str, Option] = {}
        for v in self.variants:
            for o in ((v.switch,) if v.switch is not None else ()) + v.options:
                out.setdefault(o.name, o)
        return tuple(out.values())

    @property
    def defaults(self) -> dict[str, float | bool]:
        """Options and their defaults."""
        return {o.name: o.default for o in self.options}

    def variant(self, opts: Mapping[str, Any]) -> Variant:
        """The variant these (parsed) options select."""
        chosen = [v for v in self.variants[1:] if opts.get(v.switch_name)]
        return chosen[0] if chosen else self.variants[0]

    def spectral_rule(self, opts: Mapping[str, Any]) -> str:
        """The spectral rule for these options (``"psd-top"``, ``"top"`` or ``"bottom"``)."""
        return self.variant(opts).rule

    def spectral(self, kf: KernelFactorOperators, rel: RelationOperators, opts: Mapping[str, Any]) -> SpectralMatrix:
        """The spectral matrix (:class:`~kssl_theory.kernel_regime.accuracy.SpectralMatrix`) of the optimum.

        ``kf`` is a :class:`~kssl_theory.protocols.KernelFactorOperators`, ``rel`` a
        :class:`~kssl_theory.protocols.RelationOperators`; the matrix is expressed in an orthonormal
        basis ``Q`` of the feasible subspace (``Q is None``: the standard basis).
        """
        v = self.variant(opts)
        return _FORMS[v.form].spectral(v, kf, rel, opts)

    def embed(
        self, kf: KernelFactorOperators, rel: RelationOperators, U: Array, w: Array, opts: Mapping[str, Any]
    ) -> tuple[Array, Array]:
        """Embeddings :math:`Z^*` and minimum-norm coefficients :math:`C^*` from the selected eigenpairs."""
        v = self.variant(opts)
        return _FORMS[v.form].embed(v, kf, rel, U, w, opts)

    def minimum(self, A: Array, w: Array, dim: int, opts: Mapping[str, Any]) -> Array:
        r"""The optimal loss from the selected eigenvalues ``w`` (``A`` enters only through :math:`\|A\|_F`)."""
        v = self.variant(opts)
        if v.form in ("orthonormal", "whitened"):  # Ky Fan: the loss is -objective for a maximisation
            xp = B.namespace(w)
            return xp.sum(w) if v.rule == "bottom" else -xp.sum(w)
        return v.call("minimum", A=A, dim=dim, top=w, **opts)

    def loss(
        self, Z: Array, rel: RelationOperators, K: Array | None, C: Array | None, opts: Mapping[str, Any]
    ) -> Array:
        """The loss of any candidate, from the definition (the generated ``*_loss``)."""
        return self.variant(opts).call("loss", Z=Z, A=lambda: rel.A, L=lambda: rel.laplacian, K=K, C=C, **opts)

    def operator(self, kf: KernelFactor, rel: RelationGraph, opts: Mapping[str, Any]) -> SpectralOperator | None:
        r"""The spectral matrix as a :class:`SpectralOperator` (never formed), or ``None``.

        :math:`A` and :math:`L` enter through :meth:`RelationGraph.operator`, so a sparse or clique
        graph is never densified. Available when the spectral matrix needs no :math:`K^+` and no
        feasible-subspace basis: no penalty (the penalised form's :math:`-pK^+` would make Lanczos
        converge at the rate of :math:`\lambda_d`'s gap relative to :math:`p/\mu_{\min}`), neither
        the centred nor the normalised form, and either a positive definite :math:`K` (``size = N``)
        or the whitened form, whose :math:`S = R^TAR` lives in the root's coordinates for any
        :math:`K` (``size`` = rank of :math:`K`: :math:`R = U_r\Lambda_r^{1/2}` when :math:`K` is
        singular; docs/theory.md §3 O4).
        """
        v = self.variant(opts)
        whitened = v.form == "whitened"
        if "apply" not in v.functions or not (kf.is_pd or whitened) or opts.get("normalized", False):
            return None
        if _penalty(v, opts) != 0:
            return None
        needs = set(v.arguments["apply"])
        graphs = {name: rel.operator(laplacian=name == "L") for name in ("A", "L") if name in needs}
        majorants: dict[str, Any] = {}

        def apply(X: Array) -> Array:
            return v.call("apply", X=X, kf=kf, **graphs, **opts)

        def apply_majorant(X: Array) -> Array:
            if not majorants:
                majorants["kf"] = kf.majorant()
                majorants.update({name: rel.operator(laplacian=name == "L", majorant=True) for name in graphs})
            return v.call("apply_majorant", X=X, **majorants, **opts)

        # ||S||_2 by the same majorant on 1 x 1 blocks: each operand replaced by a bound of its 2-norm
        # (||R||_2 = ||K||_2^{1/2}, ||P||_2 <= 1, ||A||_2 <= max row sum of |A|), so submultiplicativity and the
        # triangle inequality give the bound. Entrywise majorants of dense factors (|L|, |U_r|) overestimate it
        # by up to a factor N, which would slow Lanczos through its shift.
        def norm_bound() -> float:
            norms = {name: np.full((1, 1), rel.norm_bound(laplacian=name == "L")) for name in graphs}
            bound = v.call("apply_majorant", X=np.ones((1, 1)), kf=NormBounds(kf.root_norm_bound()), **norms, **opts)
            return float(bound[0, 0])

        size = kf.rank if whitened else kf.n
        return SpectralOperator(apply, apply_majorant, int(cast(int, v.apply_depth)), size, norm_bound)

    def structured_ok(self, opts: Mapping[str, Any]) -> bool:
        """Whether, for positive definite :math:`K`, the spectral matrix is a function of :math:`A, L, D` alone."""
        v = self.variant(opts)
        return _FORMS[v.form].structured(v, opts)

    def __reduce__(self) -> str | tuple[Any, ...]:
        # A registered objective pickles by name; any other field by field.
        if OBJECTIVES.get(self.name) is self:
            return get_objective, (self.name,)
        return object.__reduce__(self)


# --- forms --------------------------------------------------------------------------------------


def _relation(rel: RelationOperators, U: Array | None = None) -> dict[str, Callable[[], Array]]:
    r"""Lazy relation matrices for generated functions, in eigen-coordinates ``U`` when given.

    In coordinates, :math:`U^TAU` (or :math:`U^TLU`) is computed once however many generated
    functions read it, as :math:`U^T(AU)` with :math:`AU` applied through
    :meth:`RelationGraph.operator` on NumPy (a sparse or clique graph costs :math:`O(N^2)` there, so
    one dense product remains instead of two).
    """
    if U is None:
        return {"A": lambda: rel.A, "L": lambda: rel.laplacian}
    products: dict[str, Array] = {}

    def in_coordinates(name: str) -> Array:
        if name not in products:
            laplacian = name == "L"
            if isinstance(rel, RelationGraph) and isinstance(U, np.ndarray):  # its operators are host SciPy objects
                rel.cliques  # noqa: B018 - detect a union of cliques (O(N^2)) so the operator can use it
                M = rel.operator(laplacian=laplacian)
            else:
                M = rel.laplacian if laplacian else rel.A
            products[name] = U.T @ (M @ U)
        return products[name]

    return {"A": lambda: in_coordinates("A"), "L": lambda: in_coordinates("L")}


def _penalty(v: Variant, opts: Mapping[str, Any]) -> float:
    return float(v.call("penalty", **opts)) if "penalty" in v.functions else 0.0


def _soft_embed(kf: KernelFactorOperators, U: Array, w: Array, scale: float) -> tuple[Array, Array]:
    r""":math:`Z^* = U\Lambda_+^{1/2}` (divided by :math:`\sqrt{\text{scale}}`) and :math:`C^* = K^+Z^*`."""
    xp = B.namespace(U)
    Z = U * xp.sqrt(xp.clip(w, 0, None) / scale)[None, :]
    return Z, kf.solve(Z)


class _Penalised:
    r"""Soft objective in :math:`C` with :math:`T = \text{free} - pK^+` (O1, O2).

    With :math:`p = 0` and :math:`K \succ 0`, :math:`T` is evaluated as is (standard basis).
    Otherwise it is evaluated in :math:`K`'s eigen-coordinates
    (:meth:`KernelFactor.eigen_coordinates`): :math:`U_r^TTU_r = U_r^T\,\text{free}\,U_r -
    \mathrm{diag}(p/\mu)`, the penalty an exact diagonal, never mixed into the free part by a
    solve. Free part and penalty are returned apart, so the engine can deflate the coordinates
    whose penalty cannot matter (:func:`kssl_theory.kernel_regime.accuracy.deflate_penalty`).
    """

    def spectral(
        self, v: Variant, kf: KernelFactorOperators, rel: RelationOperators, opts: Mapping[str, Any]
    ) -> SpectralMatrix:
        p = _penalty(v, opts)
        if p == 0 and kf.is_pd:
            return SpectralMatrix(v.call("target", kf=kf, **_relation(rel), **opts))
        coords, U = kf.eigen_coordinates()
        env = {"kf": coords, **_relation(rel, U), **opts}
        if p == 0:
            return SpectralMatrix(v.call("target", **env), U)
        T = v.call("target", **env)
        # KernelFactorOperators types the coordinates as FactorOperators; KernelFactor's are EigenCoordinates.
        coords_mu = cast("EigenCoordinates", coords)
        return SpectralMatrix(T, U, free_part=v.call("free", **env), penalty=coords_mu.penalty_diagonal(p))

    def embed(
        self,
        v: Variant,
        kf: KernelFactorOperators,
        rel: RelationOperators,
        U: Array,
        w: Array,
        opts: Mapping[str, Any],
    ) -> tuple[Array, Array]:
        return _soft_embed(kf, U, w, 1.0)

    def structured(self, v: Variant, opts: Mapping[str, Any]) -> bool:
        return _penalty(v, opts) == 0


def _centred_feasible_basis(kf: KernelFactorOperators) -> tuple[Array, Array]:
    r"""Orthonormal basis of :math:`\mathrm{range}(HK)`, the feasible set of :math:`HZ` (docs/theory.md §3 O2).

    With :math:`a = P\mathbf 1 = U_ru`, :math:`u = U_r^T\mathbf 1` and :math:`q = (I - P)\mathbf 1`:
    :math:`\mathrm{range}(K) = \mathrm{span}(a) \oplus (\mathrm{range}(K)\cap a^\perp)`; every
    :math:`w` in the second part has :math:`\mathbf 1^Tw = a^Tw = 0`, so :math:`H` fixes it, and
    :math:`Ha = -Hq` is orthogonal to it. Hence
    :math:`\mathrm{range}(HK) = U_r\,u^\perp \oplus \mathrm{span}(Hq)`, the last direction present
    iff :math:`q \ne 0` (:math:`\mathbf 1 \notin \mathrm{range}(K)`). Returns ``(Q, q)``, ``q``
    zero when :math:`\mathbf 1 \in \mathrm{range}(K)` to round-off.
    """
    xp = kf.xp
    _, U = kf.eigen_coordinates()
    n, r = U.shape
    u = xp.sum(U, axis=0)
    Qu, _ = B.qr(xp.reshape(u, (r, 1)), mode="complete")
    basis = U @ Qu[:, 1:]
    q = kf.ones_outside_range()
    # q is computed from the discarded eigenvectors: when 1 lies in range(K) it is round-off of
    # size ~ N eps sqrt(N) (N-term inner products of unit vectors); 100x that is a real component.
    if float(xp.linalg.vector_norm(q)) > 100 * n * B.eps(U.dtype, xp) * n**0.5:
        hq = q - xp.sum(q) / n
        basis = xp.concat([basis, xp.reshape(hq / xp.linalg.vector_norm(hq), (n, 1))], axis=1)
    else:
        q = xp.zeros_like(q)
    return basis, q


class _Centred:
    r"""Soft objective in centred embeddings :math:`Y = HZ`, :math:`G = sYY^T` (centred O2).

    The target involves no kernel; for singular :math:`K` it is restricted to
    :math:`\mathrm{range}(HK)` (:func:`_centred_feasible_basis`).
    """

    def spectral(
        self, v: Variant, kf: KernelFactorOperators, rel: RelationOperators, opts: Mapping[str, Any]
    ) -> SpectralMatrix:
        T = v.call("target", **_relation(rel), **opts)
        if kf.is_pd:
            return SpectralMatrix(T)
        Q, _ = _centred_feasible_basis(kf)
        return SpectralMatrix(Q.T @ T @ Q, Q)

    def embed(
        self,
        v: Variant,
        kf: KernelFactorOperators,
        rel: RelationOperators,
        U: Array,
        w: Array,
        opts: Mapping[str, Any],
    ) -> tuple[Array, Array]:
        r""":math:`Y = HZ = U\Lambda^{1/2}/\sqrt s`, lifted into range(K).

        Every :math:`Z` with :math:`HZ = Y` is :math:`Y + \mathbf 1v^T`. When
        :math:`\mathbf 1 \in \mathrm{range}(K)` the minimum-norm choice is :math:`v = 0` (docs/theory.md §3:
        :math:`Z^* = HZ^*`); otherwise exactly one :math:`v` puts :math:`Z` in range(K):
        :math:`(I-P)(Y + \mathbf 1v^T) = 0 \Leftrightarrow v^T = -q^TY/\|q\|^2`, :math:`q = (I-P)\mathbf 1`.
        """
        xp = B.namespace(U)
        scale = float(v.call("scale", **opts)) if "scale" in v.functions else 1.0
        Y = U * xp.sqrt(xp.clip(w, 0, None) / scale)[None, :]
        if not kf.is_pd:
            _, q = _centred_feasible_basis(kf)
            qq = float(xp.sum(q * q))
            if qq > 0:
                Y = Y - xp.ones((Y.shape[0], 1), dtype=Y.dtype, device=B.device(Y)) * ((q @ Y) / qq)[None, :]
        return Y, kf.solve(Y)

    def structured(self, v: Variant, opts: Mapping[str, Any]) -> bool:
        return False


def _degree_inv_sqrt(rel: RelationOperators) -> Array:
    deg = rel.degree
    xp = B.namespace(deg)
    if bool(xp.any(deg < 0)):
        raise InputError(
            "the normalised Laplacian eigenmaps need every view to have positive degree; some rows of A "
            "have a negative sum (signed weights), so D^(-1/2) does not exist. Use non-negative weights or "
            "normalized=False."
        )
    if bool(xp.any(deg == 0)):
        raise InputError(
            "the normalised Laplacian eigenmaps need every view to have positive degree; some rows of A "
            "sum to 0 (isolated views without self-loops). Use self_loops=True or normalized=False."
        )
    return 1 / xp.sqrt(deg)


class _Orthonormal:
    r"""Ky Fan in :math:`Z` with :math:`Z^TZ = I_d`, or :math:`Z^TDZ = I_d` with ``normalized`` (O3).

    Normalised: :math:`Z = D^{-1/2}W` with :math:`W^TW = I_d` turns :math:`S` into
    :math:`D^{-1/2}SD^{-1/2}`. For singular :math:`K` the frame is restricted to range(K).
    """

    def spectral(
        self, v: Variant, kf: KernelFactorOperators, rel: RelationOperators, opts: Mapping[str, Any]
    ) -> SpectralMatrix:
        S = v.call("matrix", kf=kf, **_relation(rel), **opts)
        Q = None if kf.is_pd else kf.range_basis
        if opts.get("normalized", False):
            s = _degree_inv_sqrt(rel)
            S = s[:, None] * S * s[None, :]
            if Q is not None:
                Q, _ = B.qr(Q / s[:, None])
        if Q is not None:
            S = Q.T @ S @ Q
        return SpectralMatrix(S, Q)

    def embed(
        self,
        v: Variant,
        kf: KernelFactorOperators,
        rel: RelationOperators,
        U: Array,
        w: Array,
        opts: Mapping[str, Any],
    ) -> tuple[Array, Array]:
        Z = U * _degree_inv_sqrt(rel)[:, None] if opts.get("normalized", False) else U
        return Z, kf.solve(Z)

    def structured(self, v: Variant, opts: Mapping[str, Any]) -> bool:
        return True


class _Whitened:
    r"""Ky Fan in :math:`V = R^TC` for a root :math:`K = RR^T`, :math:`V^TV = I_d` (O4).

    :math:`S = R^TAR` (the generated ``matrix``) lives in the coordinates of :math:`V`: ``N x N``
    for the Cholesky factor, ``r x r`` for :math:`R = U_r\Lambda_r^{1/2}` when :math:`K` is
    singular, so no feasible-subspace basis is needed. From its top (bottom) eigenvectors
    :math:`V`: :math:`Z = KC = RR^TC = RV` and :math:`C = (R^T)^+V`, the minimum-norm solution
    (in range(K)); every root gives the same :math:`G^* = Z^*Z^{*T}` (docs/theory.md §3 O4; the
    derivation is proven for a generic root in :mod:`kssl_theory.symbolic.proofs`).
    """

    def spectral(
        self, v: Variant, kf: KernelFactorOperators, rel: RelationOperators, opts: Mapping[str, Any]
    ) -> SpectralMatrix:
        return SpectralMatrix(v.call("matrix", kf=kf, **_relation(rel), **opts))

    def embed(
        self,
        v: Variant,
        kf: KernelFactorOperators,
        rel: RelationOperators,
        U: Array,
        w: Array,
        opts: Mapping[str, Any],
    ) -> tuple[Array, Array]:
        return kf.root(U), kf.root_t_solve(U)

    def structured(self, v: Variant, opts: Mapping[str, Any]) -> bool:
        return False


class _Form(Protocol):
    """What the engine needs of a numeric form (one implementation per form, shared by its objectives)."""

    def spectral(
        self, v: Variant, kf: KernelFactorOperators, rel: RelationOperators, opts: Mapping[str, Any]
    ) -> SpectralMatrix: ...

    def embed(
        self,
        v: Variant,
        kf: KernelFactorOperators,
        rel: RelationOperators,
        U: Array,
        w: Array,
        opts: Mapping[str, Any],
    ) -> tuple[Array, Array]: ...

    def structured(self, v: Variant, opts: Mapping[str, Any]) -> bool: ...


_FORMS: dict[str, _Form] = {
    "penalised": _Penalised(),
    "centred": _Centred(),
    "orthonormal": _Orthonormal(),
    "whitened": _Whitened(),
}


# --- the registry -------------------------------------------------------------------------------


def _families(records: Iterable[Mapping[str, Any]]) -> dict[str, Objective]:
    out: dict[str, Objective] = {}
    for record in records:
        _add(out, Variant.from_record(record), record)
    return out


def _add(table: dict[str, Objective], variant: Variant, record: Mapping[str, Any]) -> Objective:
    if variant.form not in _FORMS:
        raise InputError(f"declaration {variant.key!r} has form {variant.form!r}; known forms: {sorted(_FORMS)}.")
    family = record["family"]
    if variant.switch is None:
        if family in table:
            raise InputError(f"an objective named {family!r} exists; choose another name.")
        obj = Objective(family, tuple(record["aliases"]), variant.title, (variant,))
    else:
        if family not in table:
            raise InputError(
                f"variant {variant.key!r} names family {family!r}, which is not declared (declare its base first)."
            )
        base = table[family]
        taken = {o.name for o in base.options}
        if variant.switch_name in taken:
            raise InputError(
                f"variant {variant.key!r} would be selected by option {variant.switch_name!r}, which {family!r} "
                f"already has (its options: {sorted(taken)}); choose another switch name."
            )
        obj = Objective(base.name, base.aliases, base.title, base.variants + (variant,))
    table[family] = obj
    return obj


OBJECTIVES: dict[str, Objective] = _families(_targets.DECLARATIONS)
_ALIASES: dict[str, str] = {}


def _index_aliases() -> None:
    _ALIASES.clear()
    for o in OBJECTIVES.values():
        for alias in (o.name, *o.aliases):
            key = alias.lower()
            if _ALIASES.get(key, o.name) != o.name:
                raise InputError(f"alias {alias!r} of {o.name!r} is already taken by {_ALIASES[key]!r}.")
            _ALIASES[key] = o.name


_index_aliases()
_BUILT_IN = dict(OBJECTIVES)
#: Keys of the built-in declarations (never removed by :func:`unregister`).
_BUILT_IN_KEYS = frozenset(v.key for o in OBJECTIVES.values() for v in o.variants)


def register(record: Mapping[str, Any]) -> Objective:
    """Add one generated declaration record (see :func:`kssl_theory.symbolic.codegen.register_objective`)."""
    saved = dict(OBJECTIVES)
    try:
        obj = _add(OBJECTIVES, Variant.from_record(record), record)
        _index_aliases()
    except InputError:
        OBJECTIVES.clear()
        OBJECTIVES.update(saved)
        _index_aliases()
        raise
    return obj


def unregister(key: str) -> list[str]:
    """Remove a declaration added by :func:`register`: a variant alone, or a base with its whole family.

    Returns
    -------
    list of str
        The declaration keys removed (a base takes its run-time variants with it).

    Raises
    ------
    InputError
        If ``key`` is a built-in declaration or not registered.
    """
    if key in _BUILT_IN_KEYS:
        raise InputError(f"{key!r} is a built-in declaration; only declarations registered at run time can be removed.")
    for name, obj in list(OBJECTIVES.items()):
        keys = [v.key for v in obj.variants]
        if key not in keys:
            continue
        if keys[0] == key:
            del OBJECTIVES[name]
            removed = keys
        else:
            OBJECTIVES[name] = Objective(
                obj.name, obj.aliases, obj.title, tuple(v for v in obj.variants if v.key != key)
            )
            removed = [key]
        _index_aliases()
        return removed
    raise InputError(f"{key!r} is not a declaration registered at run time.")


def built_in_option_defaults() -> dict[str, float | bool]:
    """Every option of the built-in objectives and its default (the estimator's named parameters).

    Raises
    ------
    RuntimeError
        If two built-in objectives give one option name different defaults.
    """
    out: dict[str, float | bool] = {}
    for obj in _BUILT_IN.values():
        for o in obj.options:
            if out.setdefault(o.name, o.default) != o.default:
                raise RuntimeError(f"option {o.name!r} has two defaults among the built-in objectives")
    return out


def get_objective(objective: str | Objective) -> Objective:
    """Return the :class:`Objective` for a name, alias or instance (case-insensitive names).

    Raises
    ------
    InputError
        For an unknown name, listing the valid ones and suggesting the closest
        (:func:`~kssl_theory.validation.unknown_name_message`).
    """
    if isinstance(objective, Objective):
        return objective
    if isinstance(objective, str) and objective.lower() in _ALIASES:
        return OBJECTIVES[_ALIASES[objective.lower()]]
    raise InputError(unknown_name_message("objective", objective, sorted(_ALIASES), label="valid names"))


def parse_options(
    objective: Objective, options: Mapping[str, object], *, also_valid: Iterable[str] = ()
) -> dict[str, float | bool]:
    """Merge ``options`` into the objective's defaults, rejecting unknown names, bad values and
    options that the selected variant does not have.

    ``also_valid`` names the caller's own keyword options (e.g. :func:`~.engine.solve`'s
    ``method``): never in ``options`` here, but suggested for a misspelt name.

    Raises
    ------
    InputError
        For an unknown option (with the closest valid names), a value outside the option's range,
        two variant switches at once, or an option the selected variant does not have.
    """
    declared = {o.name: o for o in objective.options}
    unknown = sorted(set(options) - set(declared))
    if unknown:
        candidates = [*declared, *also_valid]
        hints = {name: close_matches(name, candidates) for name in unknown}
        hint = ", ".join(
            " or ".join(map(repr, found)) + ("" if len(unknown) == 1 else f" for {name!r}")
            for name, found in hints.items()
            if found
        )
        raise InputError(
            f"unknown option(s) {unknown} for objective {objective.name!r}; "
            + (f"did you mean {hint}? " if hint else "")
            + f"valid options: {sorted(declared)}."
        )
    opts = {name: o.default for name, o in declared.items()}
    opts.update({k: declared[k].check(v) for k, v in options.items()})
    switches = [v.switch_name for v in objective.variants[1:] if opts[v.switch_name]]
    if len(switches) > 1:
        raise InputError(f"options {switches} of {objective.name!r} select different variants; set at most one.")
    variant = objective.variant(opts)
    own = {o.name for o in variant.options} | {v.switch_name for v in objective.variants[1:]}
    for name, value in opts.items():
        if name not in own and value != declared[name].default:
            which = (
                f"the {variant.switch.name}={opts[variant.switch.name]} variant"
                if variant.switch
                else "the base variant"
            )
            raise InputError(
                f"option {name}={value!r} does not apply to {which} of {objective.name!r} (its options: "
                f"{sorted(o.name for o in variant.options)}); leave {name} at its default {declared[name].default!r}."
            )
    return opts


# --- option documentation, generated from the declarations ------------------------------------------

#: The type and valid range of an option of each kind, as the docstrings state them.
_KIND_RANGE = {"nonnegative": "float >= 0", "positive": "float > 0", "bool": "bool"}

#: Docstring lines replaced by :func:`document_options`: the options of every built-in objective
#: (for :func:`~kssl_theory.kernel_regime.engine.solve` and ``loss``), and one numpydoc parameter
#: entry per option name (for :class:`~kssl_theory.kernel_regime.estimator.KernelSSL`).
OPTIONS_MARKER = "<objective options>"
OPTION_PARAMETERS_MARKER = "<objective option parameters>"

_T = TypeVar("_T")


def _option_scope(obj: Objective, option: Option) -> str:
    """Which variants of ``obj`` have ``option`` (``""``: all of them), e.g. ``only with centred=True``."""
    if any(v.switch is not None and v.switch.name == option.name for v in obj.variants):
        return ""
    having = [v for v in obj.variants if any(o.name == option.name for o in v.options)]
    if len(having) == len(obj.variants):
        return ""
    if having and having[0] is obj.variants[0]:
        lacking = [v for v in obj.variants if v not in having]
        return "not with " + " or ".join(f"``{v.switch_name}=True``" for v in lacking)
    return "only with " + " or ".join(f"``{v.switch_name}=True``" for v in having)


def _sentence(text: str) -> str:
    return text if text.endswith(".") else text + "."


def options_doc(objectives: Iterable[Objective] | None = None) -> str:
    """The options of each objective, as a reST list: name, type and range, default, meaning, scope.

    Generated from the declarations (:class:`Option`: ``kind`` gives the range, ``doc`` the
    meaning and symbol), so the docstrings that include it (:func:`document_options`) cannot
    drift from what :func:`parse_options` accepts.

    Parameters
    ----------
    objectives : iterable of Objective, optional
        Default: the built-in objectives (O1–O4), not those registered at run time.
    """
    lines: list[str] = []
    for obj in _BUILT_IN.values() if objectives is None else objectives:
        aliases = ", ".join(f'``"{a}"``' for a in obj.aliases)
        lines.append(f'- ``"{obj.name}"`` ({obj.title}' + (f"; aliases {aliases}" if aliases else "") + "):")
        lines.append("")
        if not obj.options:
            lines.append("  no options.")
        for o in obj.options:
            scope = _option_scope(obj, o)
            lines.append(
                f"  - ``{o.name}`` ({_KIND_RANGE[o.kind]}, default ``{o.default!r}``"
                + (f"; {scope}" if scope else "")
                + f"): {_sentence(o.doc)}"
            )
        lines.append("")
    return "\n".join(lines).rstrip()


def option_parameters_doc() -> str:
    """One numpydoc parameter entry per option name of the built-in objectives (for :class:`KernelSSL`).

    Each names the option's type and range, its meaning (the declaration's ``doc``), the
    objectives that have it (with their variant scope) and its default.
    """
    lines: list[str] = []
    for name, default in built_in_option_defaults().items():
        owners = [(obj, o) for obj in _BUILT_IN.values() for o in obj.options if o.name == name]
        option = owners[0][1]
        where = ", ".join(
            f'``"{obj.name}"``' + (f" ({scope})" if (scope := _option_scope(obj, o)) else "") for obj, o in owners
        )
        meaning = _sentence(option.doc)
        meaning = meaning[0].upper() + meaning[1:]
        lines.append(f"{name} : {_KIND_RANGE[option.kind]}, optional")
        lines.append(f"    {meaning} Option of {where}; ``None`` (default): the declared default ``{default!r}``.")
    return "\n".join(lines)


def _replace_marker(doc: str, marker: str, block: str) -> str:
    out: list[str] = []
    for line in doc.split("\n"):
        if line.strip() == marker:
            indent = line[: len(line) - len(line.lstrip())]
            out.extend(indent + row if row else "" for row in block.split("\n"))
        else:
            out.append(line)
    return "\n".join(out)


def document_options(target: _T) -> _T:
    """Decorator: fill the option markers of ``target``'s docstring from the declarations.

    A line holding only :data:`OPTIONS_MARKER` becomes :func:`options_doc`, one holding only
    :data:`OPTION_PARAMETERS_MARKER` becomes :func:`option_parameters_doc`, indented like the
    marker. ``target`` is returned itself (no wrapper); without docstrings (``python -OO``)
    nothing happens.
    """
    doc = getattr(target, "__doc__", None)
    if doc:
        doc = _replace_marker(doc, OPTIONS_MARKER, options_doc())
        doc = _replace_marker(doc, OPTION_PARAMETERS_MARKER, option_parameters_doc())
        target.__doc__ = doc
    return target
