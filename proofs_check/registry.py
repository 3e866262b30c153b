r"""The claims registry: every checkable statement of docs/theory.md §2–§6, defined once.

A :class:`Claim` carries what a reader needs to know about a statement (id, title, source,
statement in words and in LaTeX, whether it is exact or statistical), how it is checked (a
Hypothesis strategy of JSON-serialisable *parameter dicts*, a numeric property of one parameter
dict, the oracle and the tolerance in words) and, where one exists, the name of the SymPy proof
in :mod:`kssl_theory.symbolic` that covers its algebraic core.

Claims register themselves with :func:`register` when their module is imported
(:mod:`proofs_check.claims` imports all of them); :func:`all_claims` and :func:`select` look
them up, the latter by shell-style glob patterns on ids (``KR-O1-*``).

Statuses
--------
``"claimed"``
    A statement of docs/theory.md believed true: it passes when every drawn instance passes
    (exact) or when the success rate is consistent with the claimed rate (statistical).
``"refuted"``
    A statement of the original specification found false (docs/theory.md §8 has the correction).
    It stays registered, worded as the original words it; its
    check is the original property, and the claim *passes the run* only when the runner shows it
    false again (a strict expected failure): its recorded shrunk counterexamples are replayed and
    the search runs as for any claim. ``corrected_by`` names the claim(s) stating the corrected
    version, which carry ``corrects``.
"""

from __future__ import annotations

import fnmatch
from collections.abc import Callable
from dataclasses import dataclass

__all__ = [
    "Claim",
    "ClaimError",
    "register",
    "unregister",
    "all_claims",
    "get_claim",
    "select",
    "KINDS",
    "STATUSES",
]

KINDS = ("exact", "statistical")
STATUSES = ("claimed", "refuted")


class ClaimError(LookupError):
    """A claim id or pattern that matches nothing, or an invalid claim definition."""


@dataclass(frozen=True)
class Claim:
    r"""One statement of docs/theory.md and how it is checked.

    Attributes
    ----------
    id : str
        Stable identifier, ``<paper>-<topic>-<fact>`` (``KR-O1-min``, ``IR-affine-suff``).
    title : str
        One line for tables.
    source : str
        Paper and docs/theory.md section, e.g. ``"[KR] docs/theory.md §3 O1"``.
    preconditions : tuple of str
        Every hypothesis the statement needs, one condition per entry (``"K ≻ 0 (positive
        definite)"``, ``"A ≥ 0 entrywise"``), or a single entry saying why there is none (an
        algebraic identity). Required: a claim without stated preconditions is a
        :class:`ClaimError`. The strategy must draw inside them; a statement that fails outside
        them says so in :attr:`note` or :attr:`statement` (e.g. ``KR-loss-d-O2``).
    statement : str
        The claim in words, as docs/theory.md states it.
    latex : str
        The claim as a formula (Markdown-embeddable LaTeX, without dollar signs).
    strategy : hypothesis.strategies.SearchStrategy
        Draws parameter dicts (JSON-serialisable: ints, floats, bools, strings, lists).
    check : callable
        ``check(params, ctx, chk)``: builds the instance from ``params`` (NumPy
        ``default_rng(params["seed"])``), runs the package on ``ctx``'s backend and dtype, and
        records comparisons with an independent oracle on ``chk`` (:class:`proofs_check.checking.Checker`).
    method : str
        The oracle and the instances, in words (for the report).
    tolerance : str
        How the tolerances are derived (for the report).
    kind : {"exact", "statistical"}
        Exact claims must hold on every instance; statistical ones on a fraction
        ``rate`` of instances, judged by a one-sided binomial test at ``confidence``.
    rate, confidence : float
        Statistical claims only: the claimed success probability and the test's confidence.
    symbolic : str, tuple of str, or None
        Name(s) of the SymPy proof(s) of the algebraic core, as ``kssl_theory.symbolic.proofs``
        names them (e.g. ``"completed_square:contrastive"``); all must hold for a ✓.
    status : {"claimed", "refuted"}
        See the module docstring.
    corrected_by, corrects : str or None
        Links between a refuted claim and its corrected statement.
    examples : int
        Default number of Hypothesis examples (``--max-examples`` overrides it).
    note : str
        Anything a reader should know (e.g. the analysis of a refutation).
    counterexamples : tuple of dict
        Refuted claims only: the recorded (Hypothesis-shrunk) counterexamples, replayed on every
        run in addition to the search, so the refutation never depends on the search budget.
    """

    id: str
    title: str
    source: str
    statement: str
    latex: str
    strategy: object
    check: Callable
    method: str
    tolerance: str
    kind: str = "exact"
    rate: float | None = None
    confidence: float | None = None
    symbolic: str | tuple | None = None
    status: str = "claimed"
    corrected_by: str | None = None
    corrects: str | None = None
    examples: int = 40
    note: str = ""
    counterexamples: tuple = ()
    preconditions: tuple = ()

    def __post_init__(self):
        if (
            not isinstance(self.preconditions, tuple)
            or not self.preconditions
            or not all(isinstance(p, str) and p.strip() for p in self.preconditions)
        ):
            raise ClaimError(
                f"claim {self.id}: preconditions must be a non-empty tuple of non-empty strings "
                f"(one hypothesis each, or one entry saying why there is none), got "
                f"{self.preconditions!r}"
            )
        if self.kind not in KINDS:
            raise ClaimError(f"claim {self.id}: kind must be one of {KINDS}, got {self.kind!r}")
        if self.status not in STATUSES:
            raise ClaimError(f"claim {self.id}: status must be one of {STATUSES}, got {self.status!r}")
        if self.kind == "statistical":
            if not (self.rate and 0 < self.rate < 1 and self.confidence and 0 < self.confidence < 1):
                raise ClaimError(f"claim {self.id}: a statistical claim needs rate and confidence in (0, 1)")
        if self.status == "refuted" and self.kind != "exact":
            raise ClaimError(f"claim {self.id}: only exact claims can be registered as refuted")
        if self.counterexamples and self.status != "refuted":
            raise ClaimError(f"claim {self.id}: recorded counterexamples belong to refuted claims only")

    @property
    def section(self) -> str:
        """The docs/theory.md section, e.g. ``"§3"`` (from :attr:`source`)."""
        for token in self.source.split():
            if token.startswith("§"):
                return token
        return ""


_REGISTRY: dict[str, Claim] = {}


def register(claim: Claim | None = None, **fields):
    """Add a claim to the registry.

    Use as ``register(Claim(...))``, or as a decorator on the check function::

        @register(id="KR-O1-min", title=..., strategy=..., ...)
        def check(params, ctx, chk): ...

    Re-registering an id replaces the previous definition only if it is the same object; a
    different claim with an existing id is an error (ids are stable and unique).
    """
    if claim is not None:
        return _add(claim)

    def decorator(check):
        _add(Claim(check=check, **fields))
        return check

    return decorator


def _add(claim: Claim) -> Claim:
    old = _REGISTRY.get(claim.id)
    if old is not None and old is not claim and old.check is not claim.check:
        raise ClaimError(f"claim id {claim.id!r} is already registered")
    _REGISTRY[claim.id] = claim
    return claim


def unregister(claim_id: str) -> None:
    """Remove a claim (used by tests that plant claims)."""
    _REGISTRY.pop(claim_id, None)


def _load():
    from . import claims  # noqa: F401 - importing registers every claim


def all_claims() -> list[Claim]:
    """Every registered claim, in registration order (docs/theory.md order: [KR], [IR], bridge)."""
    _load()
    return list(_REGISTRY.values())


def get_claim(claim_id: str) -> Claim:
    """The claim with this exact id; :class:`ClaimError` listing near matches otherwise."""
    _load()
    if claim_id in _REGISTRY:
        return _REGISTRY[claim_id]
    close = [k for k in _REGISTRY if claim_id.lower() in k.lower()]
    hint = f" Did you mean: {', '.join(sorted(close)[:5])}?" if close else " Run with --list to see all ids."
    raise ClaimError(f"unknown claim id {claim_id!r}.{hint}")


def select(patterns=None) -> list[Claim]:
    """Claims whose id matches any of the glob ``patterns`` (case-insensitive); all when empty.

    Raises :class:`ClaimError` naming every pattern that matches no claim.
    """
    claims = all_claims()
    if not patterns:
        return claims
    chosen, unmatched = [], []
    for pattern in patterns:
        hits = [c for c in claims if fnmatch.fnmatchcase(c.id.lower(), pattern.lower())]
        if not hits:
            unmatched.append(pattern)
        chosen.extend(c for c in hits if c not in chosen)
    if unmatched:
        raise ClaimError(
            f"no claim matches {', '.join(repr(p) for p in unmatched)}; run with --list to see all "
            f"{len(claims)} claim ids (glob patterns such as 'KR-O1-*' are accepted)."
        )
    order = {c.id: i for i, c in enumerate(claims)}
    return sorted(chosen, key=lambda c: order[c.id])
