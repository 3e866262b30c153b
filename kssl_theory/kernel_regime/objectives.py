r"""Declarations of the kernel-regime SSL objectives O1–O4 (THEORY.md §3).

Each objective is one :class:`Objective`: its options and their defaults, the symmetric
*spectral matrix* :math:`M` whose eigenpairs solve it (a target :math:`T` for soft objectives,
a Ky Fan matrix for hard-constrained ones), the *spectral rule* that turns eigenpairs into the
optimum, the map from the selected eigenvectors to embeddings :math:`Z^*` and coefficients
:math:`C^*`, the minimum value as a function of the spectrum, and the loss of an arbitrary
candidate computed from the definition (for oracles). The generic engine in
:mod:`kssl_theory.kernel_regime.engine` does the rest. The formulas for :math:`T` and the minima come from
one generated table module (:mod:`kssl_theory._generated.targets`, printed from the SymPy
derivations of :mod:`kssl_theory.symbolic`).

Spectral rules
--------------
``"psd-top"``
    :math:`G^* = [T]_{+,d} = \sum_{i\le d}\max(\lambda_i,0)u_iu_i^T` (soft objectives O1, O2).
``"top"`` / ``"bottom"``
    the span of the top-/bottom-``d`` eigenvectors (Ky Fan; O4 and O3).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from .. import backend as B
from .._generated import targets as _targets
from ..errors import InputError
from ..validation import check_bool, check_nonnegative, check_positive
from .accuracy import SpectralMatrix

__all__ = ["Objective", "OBJECTIVES", "get_objective", "parse_options"]


@dataclass(frozen=True)
class Objective:
    r"""One SSL objective of THEORY.md §3, as data for the generic spectral engine.

    Attributes
    ----------
    name : str
        Canonical name (``"contrastive"``, ``"vicreg"``, ``"laplacian_eigenmaps"``, ``"whitened"``).
    aliases : tuple of str
        Other accepted names (e.g. ``"O1"``).
    title : str
        Human-readable title with the THEORY.md label.
    rule : {"psd-top", "top", "bottom"} or callable
        How eigenpairs of the spectral matrix give the optimum, or ``rule(opts) -> str`` when it
        depends on the options (O4's Laplacian twin minimises); see :meth:`spectral_rule`.
    defaults : Mapping[str, object]
        Options and their defaults.
    spectral : callable
        ``spectral(kf, rel, opts) -> SpectralMatrix``, with ``kf`` a
        :class:`~kssl_theory.protocols.KernelFactorOperators` and ``rel`` a
        :class:`~kssl_theory.protocols.RelationOperators`: the spectral matrix ``M`` expressed in an
        orthonormal basis ``Q`` of the feasible subspace (``Q is None`` means the standard basis),
        with the error bound of any penalty deflation (:class:`kssl_theory.kernel_regime.accuracy.SpectralMatrix`);
        ``rel`` is a :class:`~kssl_theory.graphs.RelationGraph` (``rel.A``, ``rel.laplacian``, ``rel.degree``).
    embed : callable
        ``embed(kf, rel, U, w, opts) -> (Z, C)``: embeddings and minimum-norm coefficients from the
        selected eigenvectors ``U`` (standard coordinates, ``N x d``) and eigenvalues ``w``.
    minimum : callable
        ``minimum(A, w, dim, opts) -> scalar``: the optimal loss from the selected eigenvalues;
        ``A`` enters only through :math:`\|A\|_F` (so its spectrum may stand in for it).
    loss : callable
        ``loss(Z, rel, K, C, opts) -> scalar``: the loss of any candidate, from the definition.
    structured : bool
        The spectral matrix is a matrix function of ``A``, ``L`` and ``D`` alone when ``K`` is
        positive definite and ``reg = 0`` (checked by ``structured_ok(opts)``), so for a union of
        cliques its spectrum follows from the group sizes (:mod:`kssl_theory.kernel_regime.engine`).
    """

    name: str
    aliases: tuple[str, ...]
    title: str
    rule: str | Callable
    defaults: Mapping[str, object]
    spectral: Callable
    embed: Callable
    minimum: Callable
    loss: Callable
    needs_coef: Callable = field(default=lambda opts: False)
    structured_ok: Callable = field(default=lambda opts: False)

    def spectral_rule(self, opts) -> str:
        """The spectral rule for these options (``"psd-top"``, ``"top"`` or ``"bottom"``)."""
        return self.rule(opts) if callable(self.rule) else self.rule

    def __reduce__(self):
        # A registered objective pickles by name (its callables are lambdas and closures); any
        # other pickles field by field, which works when its callables are module-level functions.
        if OBJECTIVES.get(self.name) is self:
            return get_objective, (self.name,)
        return object.__reduce__(self)


def _fro2(M):
    xp = B.namespace(M)
    return xp.sum(M * M)


def _hs_penalty(K, C):
    r""":math:`\operatorname{tr}(C^T K C) = \|W\|_{HS}^2`."""
    xp = B.namespace(K, C)
    return xp.sum(C * (K @ C))


def _soft_embed(kf, U, w, scale: float):
    r""":math:`Z^* = U\Lambda_+^{1/2}` (divided by :math:`\sqrt{\text{scale}}`) and :math:`C^* = K^+Z^*`."""
    xp = B.namespace(U)
    Z = U * xp.sqrt(xp.clip(w, 0, None) / scale)[None, :]
    return Z, kf.solve(Z)


def _contrastive_embed(kf, rel, U, w, opts):
    return _soft_embed(kf, U, w, 1.0)


# --- O1 spectral contrastive -------------------------------------------------------------------


def _penalised_spectral(target, M, kf, reg):
    r"""Spectral matrix of a soft objective :math:`T = PBP - \tfrac{\lambda}{2}K^+` (O1, O2).

    ``target(M, factor, reg)`` is the generated builder. With :math:`\lambda = 0` and
    :math:`K \succ 0` it is evaluated as is (:math:`T = B`, standard basis). Otherwise it is
    evaluated in :math:`K`'s eigen-coordinates (:meth:`KernelFactor.eigen_coordinates`) on
    :math:`U_r^TMU_r`, giving :math:`U_r^TTU_r = U_r^TBU_r - \mathrm{diag}(\lambda/(2\mu))`: the
    penalty is an exact diagonal, never mixed into :math:`B` by a solve. The free part and the
    penalty are returned apart, so the engine can deflate the coordinates whose penalty cannot matter
    (:func:`kssl_theory.kernel_regime.accuracy.deflate_penalty`) and refine the leading eigenpairs.
    """
    if reg == 0 and kf.is_pd:
        return SpectralMatrix(target(M, kf, reg))
    coords, U = kf.eigen_coordinates()
    M_r = U.T @ M @ U
    T = target(M_r, coords, reg)
    if reg == 0:
        return SpectralMatrix(T, U)
    free, penalty = target(M_r, coords, 0.0), coords.penalty_diagonal(reg / 2)
    return SpectralMatrix(T, U, free_part=free, penalty=penalty)


def _contrastive_spectral(kf, rel, opts):
    return _penalised_spectral(_targets.contrastive_target, rel.A, kf, opts["reg"])


def _contrastive_loss(Z, rel, K, C, opts):
    value = _fro2(B.gram(Z) - rel.A)
    if opts["reg"] != 0:
        value = value + opts["reg"] * _hs_penalty(K, C)
    return value


# --- O2 VICReg-like -----------------------------------------------------------------------------


def _vicreg_spectral(kf, rel, opts):
    L = rel.laplacian
    beta, reg = opts["beta"], opts["reg"]
    if opts["centred"]:
        if reg != 0:
            raise InputError("the centred VICReg variant has no reg term (THEORY.md §3); pass reg=0.")
        return _vicreg_centred_spectral(kf, L, beta, opts["c"])
    return _penalised_spectral(lambda M, f, lam: _targets.vicreg_target(M, f, beta, lam), L, kf, reg)


def _centred_feasible_basis(kf):
    r"""Orthonormal basis of :math:`\mathrm{range}(HK)`, the feasible set of :math:`HZ` (THEORY.md §3 O2).

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


def _vicreg_centred_spectral(kf, L, beta, c):
    T = _targets.vicreg_centred_target(L, beta, c)
    if kf.is_pd:
        return SpectralMatrix(T)
    Q, _ = _centred_feasible_basis(kf)
    return SpectralMatrix(Q.T @ T @ Q, Q)


def _vicreg_embed(kf, rel, U, w, opts):
    r"""O2 embeddings. Centred: :math:`Y = HZ = U\Lambda^{1/2}/\sqrt c`, lifted into range(K).

    Every :math:`Z` with :math:`HZ = Y` is :math:`Y + \mathbf 1v^T`. When
    :math:`\mathbf 1 \in \mathrm{range}(K)` the minimum-norm choice is :math:`v = 0` (THEORY.md §3:
    :math:`Z^* = HZ^*`); otherwise exactly one :math:`v` puts :math:`Z` in range(K):
    :math:`(I-P)(Y + \mathbf 1v^T) = 0 \Leftrightarrow v^T = -q^TY/\|q\|^2`, :math:`q = (I-P)\mathbf 1`.
    """
    if not opts["centred"]:
        return _soft_embed(kf, U, w, 1.0)
    xp = B.namespace(U)
    Y = U * xp.sqrt(xp.clip(w, 0, None) / opts["c"])[None, :]
    if not kf.is_pd:
        _, q = _centred_feasible_basis(kf)
        qq = float(xp.sum(q * q))
        if qq > 0:
            Y = Y - xp.ones((Y.shape[0], 1), dtype=Y.dtype, device=B.device(Y)) * ((q @ Y) / qq)[None, :]
    return Y, kf.solve(Y)


def _vicreg_loss(Z, rel, K, C, opts):
    xp = B.namespace(Z)
    L = rel.laplacian
    d = Z.shape[1]
    eye = xp.eye(d, dtype=Z.dtype, device=B.device(Z))
    if opts["centred"]:
        n = Z.shape[0]
        HZ = Z - xp.sum(Z, axis=0)[None, :] / n
        cov = opts["c"] * (HZ.T @ HZ)
    else:
        cov = Z.T @ Z
    value = _fro2(cov - eye) + opts["beta"] * xp.sum(Z * (L @ Z))
    if opts["reg"] != 0:
        value = value + opts["reg"] * _hs_penalty(K, C)
    return value


def _vicreg_minimum(A, w, dim, opts):
    return _targets.vicreg_minimum(dim, w)


# --- O3 Laplacian eigenmaps ---------------------------------------------------------------------


def _degree_inv_sqrt(rel):
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


def _eigenmaps_spectral(kf, rel, opts):
    L = rel.laplacian
    Q = None if kf.is_pd else kf.range_basis
    if opts["normalized"]:
        s = _degree_inv_sqrt(rel)
        M = s[:, None] * L * s[None, :]
        if Q is not None:
            Q, _ = B.qr(Q / s[:, None])
    else:
        M = L
    if Q is not None:
        M = Q.T @ M @ Q
    return SpectralMatrix(M, Q)


def _eigenmaps_embed(kf, rel, U, w, opts):
    Z = U * _degree_inv_sqrt(rel)[:, None] if opts["normalized"] else U
    return Z, kf.solve(Z)


def _eigenmaps_loss(Z, rel, K, C, opts):
    xp = B.namespace(Z)
    return xp.sum(Z * (rel.laplacian @ Z))


# --- O4 whitened map ----------------------------------------------------------------------------


def _whitened_spectral(kf, rel, opts):
    M = rel.laplacian if opts["laplacian"] else rel.A
    S = _targets.whitened_matrix(M, kf)
    if kf.is_pd:
        return SpectralMatrix(S)
    Q = kf.range_basis
    return SpectralMatrix(Q.T @ S @ Q, Q)


def _whitened_embed(kf, rel, U, w, opts):
    return kf.sqrt(U), kf.inv_sqrt(U)


def _whitened_loss(Z, rel, K, C, opts):
    xp = B.namespace(Z)
    M = rel.laplacian if opts["laplacian"] else rel.A
    value = xp.sum(Z * (M @ Z))
    return value if opts["laplacian"] else -value


def _trace_minimum(sign):
    def minimum(A, w, dim, opts):
        xp = B.namespace(w)
        return sign(opts) * xp.sum(w)

    return minimum


OBJECTIVES: dict[str, Objective] = {
    o.name: o
    for o in (
        Objective(
            name="contrastive",
            aliases=("spectral_contrastive", "O1"),
            title="O1 spectral contrastive  ||ZZ^T - A||^2 + reg tr(C^T K C)",
            rule="psd-top",
            defaults={"reg": 0.0},
            spectral=_contrastive_spectral,
            embed=_contrastive_embed,
            minimum=lambda A, w, dim, opts: _targets.contrastive_minimum(A, w),
            loss=_contrastive_loss,
            needs_coef=lambda opts: opts["reg"] != 0,
            structured_ok=lambda opts: opts["reg"] == 0,
        ),
        Objective(
            name="vicreg",
            aliases=("O2",),
            title="O2 VICReg-like  ||Z^T Z - I||^2 + beta tr(Z^T L Z) + reg tr(C^T K C)",
            rule="psd-top",
            defaults={"beta": 1.0, "reg": 0.0, "centred": False, "c": 1.0},
            spectral=_vicreg_spectral,
            embed=_vicreg_embed,
            minimum=_vicreg_minimum,
            loss=_vicreg_loss,
            needs_coef=lambda opts: opts["reg"] != 0,
            structured_ok=lambda opts: opts["reg"] == 0 and not opts["centred"],
        ),
        Objective(
            name="laplacian_eigenmaps",
            aliases=("eigenmaps", "O3"),
            title="O3 Laplacian eigenmaps  min tr(Z^T L Z) s.t. Z^T Z = I (or Z^T D Z = I)",
            rule="bottom",
            defaults={"normalized": False},
            spectral=_eigenmaps_spectral,
            embed=_eigenmaps_embed,
            minimum=_trace_minimum(lambda opts: 1.0),
            loss=_eigenmaps_loss,
            structured_ok=lambda opts: True,
        ),
        Objective(
            name="whitened",
            aliases=("O4",),
            title="O4 whitened map  max tr(C^T K A K C) (or min tr(C^T K L K C)) s.t. C^T K C = I",
            rule=lambda opts: "bottom" if opts["laplacian"] else "top",
            defaults={"laplacian": False},
            spectral=_whitened_spectral,
            embed=_whitened_embed,
            minimum=_trace_minimum(lambda opts: 1.0 if opts["laplacian"] else -1.0),
            loss=_whitened_loss,
        ),
    )
}

_ALIASES = {alias.lower(): o.name for o in OBJECTIVES.values() for alias in (o.name, *o.aliases)}


def get_objective(objective) -> Objective:
    """Return the :class:`Objective` for a name, alias or instance (case-insensitive names)."""
    if isinstance(objective, Objective):
        return objective
    if isinstance(objective, str) and objective.lower() in _ALIASES:
        return OBJECTIVES[_ALIASES[objective.lower()]]
    valid = ", ".join(sorted(_ALIASES))
    raise InputError(f"unknown objective {objective!r}; valid names: {valid}.")


def parse_options(objective: Objective, options: Mapping[str, object]) -> dict:
    """Merge ``options`` into the objective's defaults, rejecting unknown names and bad values."""
    unknown = sorted(set(options) - set(objective.defaults))
    if unknown:
        raise InputError(
            f"unknown option(s) {unknown} for objective {objective.name!r}; valid options: "
            f"{sorted(objective.defaults)}."
        )
    opts = dict(objective.defaults)
    opts.update(options)
    for key in ("reg", "beta"):
        if key in opts:
            opts[key] = check_nonnegative(key, opts[key])
    if "c" in opts:
        opts["c"] = check_positive("c", opts["c"])
    for key in ("centred", "normalized", "laplacian"):
        if key in opts:
            opts[key] = check_bool(f"option {key}", opts[key])
    return opts
