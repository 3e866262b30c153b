"""Input validation shared by the public API.

Each checker raises :class:`~kssl_theory.errors.InputError` with a message that names the
argument, says what was wrong and what to do. Checkers return the (possibly converted) value so
call sites stay one line long.
"""

from __future__ import annotations

import difflib
import math
import os
from collections.abc import Collection, Hashable, Iterable, Sequence
from numbers import Integral, Real
from typing import Any, overload

import numpy as np
from array_api_compat import array_namespace, is_array_api_obj, is_numpy_namespace

from .errors import InputError
from .protocols import Array

__all__ = [
    "as_array",
    "check_matrix",
    "check_symmetric",
    "check_points",
    "check_groups",
    "encode_labels",
    "check_dim",
    "check_int",
    "check_seed",
    "check_allocation",
    "check_bool",
    "check_choice",
    "close_matches",
    "did_you_mean",
    "unknown_name_message",
    "check_nonnegative",
    "check_positive",
    "check_same_namespace",
]


def as_array(name: str, value: Array, xp: Any = None) -> Array:
    """Return ``value`` as an array of its own namespace (or NumPy for lists and scalars)."""
    if value is None:
        raise InputError(f"{name} is None; pass an array.")
    if is_array_api_obj(value):
        return value
    if hasattr(value, "tocsr") and hasattr(value, "nnz"):  # scipy.sparse matrix or array
        raise InputError(
            f"{name} is a scipy.sparse {type(value).__name__}; sparse input is not supported here: pass a dense "
            f"array ({name}.toarray())."
        )
    if hasattr(value, "matvec") and hasattr(value, "shape"):  # scipy.sparse.linalg.LinearOperator and the like
        raise InputError(
            f"{name} is a linear operator ({type(value).__name__}); pass its matrix: a dense array, a scipy.sparse "
            "matrix, or for a relation graph a kssl_theory.graphs.RelationGraph (the solvers read the graph's "
            "structure, which an operator hides)."
        )
    try:
        arr = np.asarray(value)
    except (TypeError, ValueError) as exc:
        raise InputError(f"{name} could not be converted to an array ({exc}); pass a numeric array.") from exc
    if arr.dtype == object:
        raise InputError(f"{name} is ragged or not numeric (object dtype); pass a rectangular numeric array.")
    return arr if xp is None else xp.asarray(arr)


def _check_real_float(name: str, arr: Array, xp: Any) -> Array:
    kind_ok = xp.isdtype(arr.dtype, "real floating")
    if not kind_ok:
        if xp.isdtype(arr.dtype, ("signed integer", "unsigned integer")) or arr.dtype == xp.bool:
            return xp.astype(arr, xp.float64)
        complex_note = " (Complex data not supported)" if xp.isdtype(arr.dtype, "complex floating") else ""
        raise InputError(
            f"{name} has dtype {arr.dtype}{complex_note}; pass a real floating array (float64 or float32)."
        )
    return arr


#: Elements per block of the validation passes: temporaries stay at 2**18 entries (2 MiB in float64)
#: however large the matrix, so checking an N x N matrix costs O(N^2) time and O(N) extra memory per row.
BLOCK_ELEMENTS = 2**18
#: Elements per block off NumPy: on an accelerator every block costs kernel launches and a wait for the
#: device, so blocks are 2**24 entries (128 MiB in float64; an N = 40,000 matrix in about 100 blocks).
#: Measured on an H200 (second GPU run): with 2**18-entry blocks the checks of one N = 10,000 clique
#: solve took over a second, 70 times a Cholesky factorisation of K.
DEVICE_BLOCK_ELEMENTS = 2**24


def block_elements(xp: Any) -> int:
    """Entries per block of a blocked pass over an array of namespace ``xp``: :data:`BLOCK_ELEMENTS` on
    NumPy (temporaries that stay in cache), :data:`DEVICE_BLOCK_ELEMENTS` elsewhere."""
    return BLOCK_ELEMENTS if is_numpy_namespace(xp) else DEVICE_BLOCK_ELEMENTS


def _row_blocks(n_rows: int, n_cols: int, xp: Any) -> list[tuple[int, int]]:
    step = max(1, block_elements(xp) // max(n_cols, 1))
    return [(i, min(i + step, n_rows)) for i in range(0, n_rows, step)]


def _check_finite(name: str, arr: Array, xp: Any) -> None:
    """Every entry finite, checked block by block (no full-size temporary)."""
    if not arr.size:
        return
    flat = arr if arr.ndim == 2 else xp.reshape(arr, (-1, 1))
    blocks = _row_blocks(flat.shape[0], flat.shape[1], xp)
    if all(bool(xp.all(xp.isfinite(flat[i:j, ...]))) for i, j in blocks):
        return
    bad = sum(int(xp.sum(xp.astype(~xp.isfinite(flat[i:j, ...]), xp.int64))) for i, j in blocks)
    raise InputError(f"{name} contains {bad} NaN or infinite entries; remove or impute them before calling.")


def _max_abs_and_asymmetry(M: Array, xp: Any) -> tuple[float, float]:
    r""":math:`\max|M|` and :math:`\max|M - M^T|` of a square matrix, tile by tile.

    Tiles :math:`M_{IJ}` and :math:`M_{JI}` (:math:`I \le J`, side :math:`\sqrt{\text{block\_elements}}`) are
    both read row-contiguously, so the pass costs about what one full-size ``M - M.T`` costs, with
    temporaries of one tile (:math:`\max|x| = \max(\max x, -\min x)`: no ``abs`` copy). The tiles' extremes
    stay on the array's device and come to the host once, at the end. Every entry is read, so the pass
    also checks finiteness: it returns ``(nan, nan)`` when a tile holds a NaN or an infinity (its
    extremes are then not finite).
    """
    n = M.shape[0]
    side = max(1, int(block_elements(xp) ** 0.5))
    edges = [(i, min(i + side, n)) for i in range(0, n, side)]
    entries: list[Array] = []
    differences: list[Array] = []
    with np.errstate(invalid="ignore", over="ignore"):  # inf - inf in a bad input: reported below, not warned
        for bi, (i0, i1) in enumerate(edges):
            for j0, j1 in edges[bi:]:
                upper, lower = M[i0:i1, j0:j1], M[j0:j1, i0:i1]
                # row-wise first: CuPy reduces a whole (strided) tile to one number on one block of threads,
                # 0.23 s per N = 10,000 matrix on an H200 (third GPU run)
                entries += [xp.max(upper, axis=1), -xp.min(upper, axis=1)]
                entries += [xp.max(lower, axis=1), -xp.min(lower, axis=1)]
                diff = upper - lower.T
                differences += [xp.max(diff, axis=1), -xp.min(diff, axis=1)]
    scale = float(xp.max(xp.concat(entries))) if entries else 0.0
    if not math.isfinite(scale):
        return math.nan, math.nan
    return max(scale, 0.0), max(float(xp.max(xp.concat(differences))) if differences else 0.0, 0.0)


def check_points(name: str, X: Array) -> Array:
    """Validate a 2-D array of points (rows are samples); 1-D input is read as one feature.

    Integer and boolean arrays are converted to float64, and so are NumPy object arrays of numbers
    (a mixed-dtype table's values).
    """
    X = as_array(name, X)
    xp = array_namespace(X)
    if X.ndim == 1:
        X = xp.reshape(X, (-1, 1))
    if X.ndim != 2:
        raise InputError(f"{name} must be 2-D (samples x features); got shape {tuple(X.shape)}.")
    if X.shape[0] == 0 or X.shape[1] == 0:
        what = "sample" if X.shape[0] == 0 else "feature"
        raise InputError(
            f"{name} is empty: 0 {what}(s) (shape={tuple(X.shape)}) while a minimum of 1 is required; pass at "
            "least one sample and feature."
        )
    if isinstance(X, np.ndarray) and X.dtype == object:  # e.g. from a mixed-dtype table: numbers are accepted
        try:
            X = X.astype(np.float64)
        except (TypeError, ValueError) as exc:
            raise InputError(
                f"{name} has dtype object with an entry that is not a number ({exc}); pass a numeric array."
            ) from exc
    X = _check_real_float(name, X, xp)
    _check_finite(name, X, xp)
    return X


def check_matrix(
    name: str,
    M: Array,
    *,
    square: bool = True,
    symmetric: bool = False,
    rows: int | None = None,
    cols: int | None = None,
    sym_rtol: float | None = None,
    entries: bool = True,
) -> Array:
    """Validate a finite real 2-D matrix, optionally square, symmetric and of given shape.

    Symmetry is checked as :math:`\\max|M - M^T| \\le \\text{rtol}\\,\\max|M|` with ``rtol``
    defaulting to ``1e-8`` for float64 and ``1e-4`` for float32 (round-off of a Gram matrix
    computed by a product is a few eps; anything larger means a wrong matrix). ``entries=False``
    checks only the type, dtype and shape (O(1)); the caller then owes the entry checks.
    """
    M = as_array(name, M)
    xp = array_namespace(M)
    if M.ndim != 2:
        raise InputError(f"{name} must be a 2-D matrix; got {M.ndim} dimension(s) with shape {tuple(M.shape)}.")
    if M.shape[0] == 0 or M.shape[1] == 0:
        raise InputError(f"{name} is empty (shape {tuple(M.shape)}).")
    if square and M.shape[0] != M.shape[1]:
        raise InputError(f"{name} must be square; got shape {tuple(M.shape)}.")
    if rows is not None and M.shape[0] != rows:
        raise InputError(f"{name} must have {rows} rows to match the other inputs; got shape {tuple(M.shape)}.")
    if cols is not None and M.shape[1] != cols:
        raise InputError(f"{name} must have {cols} columns to match the other inputs; got shape {tuple(M.shape)}.")
    M = _check_real_float(name, M, xp)
    if not entries:
        return M
    if not symmetric:
        _check_finite(name, M, xp)
    else:
        _asymmetry(name, M, xp, sym_rtol)
    return M


def check_symmetric(name: str, M: Array) -> tuple[Array, bool]:
    """:func:`check_matrix` with ``symmetric=True``, and whether ``M`` is *exactly* symmetric (``M == M.T``
    entrywise), read from the same pass: a caller may then use ``M`` where a symmetric matrix is needed
    without forming :math:`(M + M^T)/2`."""
    M = check_matrix(name, M, entries=False)
    return M, _asymmetry(name, M, array_namespace(M), None) == 0


def _asymmetry(name: str, M: Array, xp: Any, sym_rtol: float | None) -> float:
    """Check that the square ``M`` is finite and symmetric to ``sym_rtol`` (:func:`check_matrix`); return
    :math:`\\max|M - M^T|`."""
    if sym_rtol is None:
        sym_rtol = 1e-8 if M.dtype == xp.float64 else 1e-4
    scale, asym = _max_abs_and_asymmetry(M, xp)
    if not math.isfinite(scale):  # the symmetry pass read a NaN or infinity: count them and say so
        _check_finite(name, M, xp)
    if asym > sym_rtol * max(scale, np.finfo(np.float64).tiny):
        raise InputError(
            f"{name} is not symmetric: max|M - M^T| = {asym:.3g} exceeds {sym_rtol:g} x max|M| = "
            f"{sym_rtol * scale:.3g}; pass a symmetric matrix (e.g. (M + M.T) / 2 if the asymmetry is round-off)."
        )
    return asym


def check_groups(groups: Array, n: int | None = None, *, name: str = "groups", per: str = "view") -> np.ndarray:
    """Validate a vector of non-negative integer group labels (which base sample each view is from).

    Returns the labels as a NumPy int64 array (group bookkeeping is host-side and tiny);
    float labels with integral values are accepted. ``name`` and ``per`` (what one label is
    for: a view, an image, a prediction) only shape the error messages.
    """
    if groups is None:
        raise InputError(f"{name} is None; pass one non-negative integer label per {per}.")
    if is_array_api_obj(groups):
        try:
            g = np.asarray(groups)
        except (TypeError, ValueError, RuntimeError):
            xp = array_namespace(groups)
            g = np.asarray(xp.asarray(groups, copy=True).tolist() if hasattr(groups, "tolist") else list(groups))
    else:
        try:
            g = np.asarray(groups)
        except (TypeError, ValueError) as exc:
            raise InputError(f"{name} could not be read as an array ({exc}).") from exc
    if g.ndim != 1:
        raise InputError(f"{name} must be 1-D (one label per {per}); got shape {g.shape}.")
    if g.size == 0:
        raise InputError(f"{name} is empty; pass one label per {per}.")
    if g.dtype == bool or not (np.issubdtype(g.dtype, np.integer) or np.issubdtype(g.dtype, np.floating)):
        raise InputError(f"{name} must hold non-negative integers; got dtype {g.dtype}.")
    if np.issubdtype(g.dtype, np.floating):
        if not np.all(np.isfinite(g)) or np.any(g != np.round(g)):
            raise InputError(f"{name} must hold non-negative integers; got non-integer or non-finite values.")
    if np.any(g < 0):
        raise InputError(f"{name} must be non-negative; got minimum label {g.min()}.")
    g = g.astype(np.int64)
    if n is not None and g.shape[0] != n:
        plural = per + ("es" if per.endswith(("s", "x", "ch", "sh")) else "s")
        raise InputError(f"{name} has {g.shape[0]} labels but there are {n} {plural}; pass one label per {per}.")
    return g


def _missing(label: object) -> bool:
    """Whether a label stands for "no label": ``None``, NaN, NaT, ``pandas.NA``."""
    if label is None:
        return True
    try:
        return bool(label != label)  # NaN and NaT are not equal to themselves
    except (TypeError, ValueError):  # pandas.NA: its comparison has no truth value
        return True


def _labels_array(labels: object, name: str) -> np.ndarray:
    """Any 1-D container of labels as a NumPy array, an object array when its entries are of mixed types."""
    if is_array_api_obj(labels):
        try:
            return np.asarray(labels)
        except (TypeError, ValueError, RuntimeError):  # a device array: copy to the host
            xp = array_namespace(labels)
            return np.asarray(xp.asarray(labels, copy=True).tolist())
    if isinstance(labels, (str, bytes)):
        raise InputError(f"{name} is a string ({labels!r}); pass one label per view, e.g. a list or an array.")
    if hasattr(labels, "__array__"):  # a pandas Series, a NumPy-convertible container
        return np.asarray(labels)
    try:
        items = list(labels)  # type: ignore[call-overload]
    except TypeError as exc:
        raise InputError(f"{name} must be a sequence of labels; got {type(labels).__name__}.") from exc
    try:
        g = np.asarray(items)
    except (TypeError, ValueError):  # e.g. tuples of different lengths
        g = np.empty(0)
        g_ok = False
    else:
        g_ok = g.ndim == 1 or len(items) == 0
    text = g_ok and g.dtype.kind in "US"
    if not g_ok or (text and not all(isinstance(x, (str, bytes)) for x in items)):
        # NumPy would turn [1, "1"] into two equal strings, and tuples into rows: keep each label as given
        g = np.empty(len(items), dtype=object)
        for i, item in enumerate(items):
            g[i] = item
    return g


def encode_labels(
    labels: object, n: int | None = None, *, name: str = "groups", per: str = "view"
) -> tuple[np.ndarray, np.ndarray]:
    """Encode labels of any hashable kind (integers, strings, tuples …) as integer codes.

    The scikit-learn convention for group labels: only which views share a label matters, so
    the codes number the distinct labels ``0..n-1`` in order of first appearance (as
    :func:`kssl_theory.graphs.group_structure` does), and any relabelling of the groups gives
    the same codes.

    Parameters
    ----------
    labels : array-like, shape (N,)
        One hashable label per view; NumPy, array-API and object arrays, lists and tuples.
    n : int, optional
        The number of views the labels must match.
    name, per : str
        The argument's name and what one label is for, for the messages.

    Returns
    -------
    codes : numpy.ndarray of int64, shape (N,)
    classes : numpy.ndarray, shape (n,)
        The distinct labels in code order: ``classes[codes]`` gives back the labels.

    Raises
    ------
    InputError
        If ``labels`` is None or a string, not 1-D, empty, of the wrong length, or holds a
        missing label (``None``, NaN, NaT, ``pandas.NA``) or an unhashable one (a list, a dict).
    """
    if labels is None:
        raise InputError(f"{name} is None; pass one label per {per}.")
    g = _labels_array(labels, name)
    if g.ndim != 1:
        raise InputError(
            f"{name} must be 1-D (one label per {per}); got shape {g.shape} (for tuples as labels, pass a 1-D "
            "object array)."
        )
    if g.size == 0:
        raise InputError(f"{name} is empty; pass one label per {per}.")
    if n is not None and g.shape[0] != n:
        plural = per + ("es" if per.endswith(("s", "x", "ch", "sh")) else "s")
        raise InputError(f"{name} has {g.shape[0]} labels but there are {n} {plural}; pass one label per {per}.")
    if g.dtype.kind in "fc":
        missing = np.isnan(g)
    elif g.dtype.kind in "mM":
        missing = np.isnat(g)
    elif g.dtype == object:
        for i, label in enumerate(g):
            if not isinstance(label, Hashable) or isinstance(label, np.ndarray):
                raise InputError(
                    f"{name}[{i}] = {label!r} is not hashable ({type(label).__name__}); labels must be hashable "
                    "(numbers, strings, tuples)."
                )
        missing = np.fromiter((_missing(label) for label in g), dtype=bool, count=g.size)
    else:
        missing = np.zeros(g.size, dtype=bool)
    if missing.any():
        at = int(np.flatnonzero(missing)[0])
        raise InputError(
            f"{name} has {int(missing.sum())} missing label(s) (None, NaN or NaT), the first at position {at} "
            f"({g[at]!r}); give every {per} a label."
        )
    if g.dtype == object:
        index: dict[Hashable, int] = {}
        codes = np.fromiter((index.setdefault(label, len(index)) for label in g), dtype=np.int64, count=g.size)
        first_seen = np.unique(codes, return_index=True)[1]
    else:
        _, first, inverse = np.unique(g, return_index=True, return_inverse=True)
        order = np.argsort(first)
        rank = np.empty_like(order)
        rank[order] = np.arange(order.size)
        codes = rank[inverse.reshape(-1)].astype(np.int64)
        first_seen = first[order]
    return codes, g[first_seen]


def check_dim(dim: object, n: int, name: str = "dim") -> int:
    """Validate an embedding dimension ``1 <= dim <= n``."""
    if isinstance(dim, bool) or not isinstance(dim, Integral):
        raise InputError(f"{name} must be a positive integer; got {dim!r}.")
    dim = int(dim)
    if not 1 <= dim <= n:
        plural = "" if n == 1 else "s"
        raise InputError(f"{name} must satisfy 1 <= {name} <= N = {n}; got {dim} (N: {n} sample{plural}, the views).")
    return dim


def check_int(name: str, value: object, minimum: int, maximum: int | None = None) -> int:
    """Validate an integer (Python or NumPy, not bool) in ``[minimum, maximum]``.

    Returns
    -------
    int

    Raises
    ------
    InputError
        If ``value`` is not an integer or lies outside the range.
    """
    if isinstance(value, bool) or not isinstance(value, Integral):
        raise InputError(f"{name} must be an integer >= {minimum}; got {value!r}.")
    as_int = int(value)
    if as_int < minimum or (maximum is not None and as_int > maximum):
        bound = f">= {minimum}" if maximum is None else f"in [{minimum}, {maximum}]"
        raise InputError(f"{name} must be an integer {bound}; got {value!r}.")
    return as_int


@overload
def check_seed(name: str, seed: int) -> int: ...


@overload
def check_seed(name: str, seed: object) -> int | list[int] | np.random.SeedSequence | np.random.Generator | None: ...


def check_seed(name: str, seed: object) -> int | list[int] | np.random.SeedSequence | np.random.Generator | None:
    """Validate a random seed as NumPy reads it.

    Accepted: a non-negative integer (also a 0-d integer array), a non-empty flat sequence of
    them (entropy of a :class:`numpy.random.SeedSequence`), a SeedSequence, a Generator, or
    ``None``, which draws fresh entropy from the OS (NumPy's convention: not reproducible).

    Returns
    -------
    int, list of int, SeedSequence, Generator or None
        A value ``numpy.random.default_rng`` accepts.

    Raises
    ------
    InputError
        For anything else (floats, bools, negative or nested values, strings).
    """
    if seed is None or isinstance(seed, (np.random.Generator, np.random.SeedSequence)):
        return seed
    if isinstance(seed, np.ndarray) and seed.ndim == 0:
        seed = seed[()]
    entries: list[Any] = list(seed) if isinstance(seed, (list, tuple, np.ndarray)) else [seed]
    if not entries or any(isinstance(v, (bool, np.bool_)) or not isinstance(v, Integral) or v < 0 for v in entries):
        raise InputError(
            f"{name} must be a non-negative integer (or a sequence of them), a SeedSequence, "
            f"a Generator or None; got {seed!r}."
        )
    return [int(v) for v in entries] if len(entries) > 1 or not isinstance(seed, Integral) else int(seed)


def check_bool(name: str, value: object) -> bool:
    """Validate a flag: ``True`` or ``False`` (NumPy booleans too), never a truthy string or number.

    Raises
    ------
    InputError
        If ``value`` is not a boolean.
    """
    if not isinstance(value, (bool, np.bool_)):
        raise InputError(f"{name} must be True or False; got {value!r}.")
    return bool(value)


def close_matches(value: object, choices: Iterable[str], *, n: int = 3, cutoff: float = 0.6) -> list[str]:
    """The valid names closest to a misspelt one (:func:`difflib.get_close_matches`, case-insensitive).

    Parameters
    ----------
    value : object
        The name given; anything but a string has no close match.
    choices : iterable of str
        The valid names, spelt as they should be suggested.
    n : int, default 3
        At most this many suggestions, closest first.
    cutoff : float, default 0.6
        Similarity ratio in [0, 1] below which a name is not suggested.

    Returns
    -------
    list of str
        The suggestions (possibly empty), in the spelling of ``choices``.
    """
    if not isinstance(value, str):
        return []
    spelt: dict[str, str] = {}
    for choice in choices:
        spelt.setdefault(str(choice).lower(), str(choice))
    return [spelt[m] for m in difflib.get_close_matches(value.lower(), list(spelt), n=n, cutoff=cutoff)]


def did_you_mean(value: object, choices: Iterable[str]) -> str:
    """``"did you mean 'x'? "`` (or ``'x' or 'y'``) for the :func:`close_matches` of ``value``; ``""`` if none."""
    matches = close_matches(value, choices)
    return f"did you mean {' or '.join(map(repr, matches))}? " if matches else ""


def unknown_name_message(
    what: str, value: object, choices: Collection[str], *, label: str = "valid", suffix: str = ""
) -> str:
    """The one message for a name that is not among its valid values (objectives, kernels, options, methods …).

    ``"unknown {what} {value!r}; did you mean 'x'? {label}: a, b, c{suffix}."``; the "did you mean"
    part (:func:`close_matches`) only when a valid name is close.

    Parameters
    ----------
    what : str
        What the name names (``"objective"``, ``"kernel"``, ``"method"``).
    value : object
        The name given.
    choices : collection of str
        Every valid name, listed in the message in this order.
    label : str, default "valid"
        Introduces the list (``"valid names"``).
    suffix : str, default ""
        Appended after the list (e.g. ``" (or pass a callable)"``).
    """
    return f"unknown {what} {value!r}; {did_you_mean(value, choices)}{label}: {', '.join(map(str, choices))}{suffix}."


def check_choice(name: str, value: object, choices: Collection[str]) -> str:
    """Validate a string option against its valid values.

    A non-string (e.g. an array, whose ``in`` test would be ambiguous) is refused, not compared.

    Raises
    ------
    InputError
        Naming the valid values, and the closest ones to a misspelt value
        (:func:`unknown_name_message`).
    """
    if not isinstance(value, str) or value not in choices:
        raise InputError(unknown_name_message(name, value, choices))
    return value


def check_allocation(what: str, shape: Sequence[int], itemsize: int = 8) -> None:
    """Refuse an array of ``shape`` that cannot fit in this machine's physical memory.

    Catches sizes that would otherwise fail deep inside NumPy with a ``MemoryError`` (or get the
    process killed) and says which argument made the request that large.

    Parameters
    ----------
    what : str
        The call and argument responsible, for the message (e.g. ``"make_views(base, n_views)"``).
    shape : sequence of int
        Shape of the array about to be allocated.
    itemsize : int, default 8
        Bytes per element.

    Raises
    ------
    InputError
        If the array would exceed the machine's physical memory.
    """
    n_bytes = itemsize * math.prod(int(s) for s in shape)
    try:
        total = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (AttributeError, OSError, ValueError):  # not available on this platform: only the absurd is refused
        total = 2**50
    if n_bytes > total:
        raise InputError(
            f"{what} needs an array of shape {tuple(int(s) for s in shape)} ({n_bytes / 2**30:.3g} GiB), more than "
            f"this machine's memory ({total / 2**30:.3g} GiB); reduce it."
        )


def _check_real_scalar(name: str, value: object) -> float:
    if isinstance(value, bool) or not isinstance(value, Real):
        raise InputError(f"{name} must be a real number; got {value!r}.")
    value = float(value)
    if not math.isfinite(value):
        raise InputError(f"{name} must be finite; got {value}.")
    return value


def check_nonnegative(name: str, value: object) -> float:
    """Validate a finite real scalar ``>= 0``."""
    value = _check_real_scalar(name, value)
    if value < 0:
        raise InputError(f"{name} must be >= 0; got {value}.")
    return value


def check_positive(name: str, value: object) -> float:
    """Validate a finite real scalar ``> 0``."""
    value = _check_real_scalar(name, value)
    if value <= 0:
        raise InputError(f"{name} must be > 0; got {value}.")
    return value


def check_same_namespace(**arrays: Array) -> Any:
    """Return the common array namespace of the named arrays, or raise naming the mismatch."""
    present = {k: v for k, v in arrays.items() if v is not None}
    try:
        return array_namespace(*present.values())
    except TypeError as exc:
        kinds = ", ".join(f"{k}: {type(v).__module__}.{type(v).__name__}" for k, v in present.items())
        raise InputError(
            f"inputs come from different array libraries ({kinds}); convert them to one (e.g. all NumPy or all CuPy)."
        ) from exc
