"""The package's exceptions and warnings.

Every error raised on purpose by :mod:`kssl_theory` derives from :class:`KSSLError`, so callers
can catch the package's own failures in one place. Errors caused by the caller's input are
:class:`InputError`, which is also a :class:`ValueError` so generic handlers keep working.
Messages always name the argument, say what was wrong and what to do about it.
(:class:`kssl_theory.kernel_regime.estimator.NotFittedError` lives with the estimator, because it subclasses
scikit-learn's, which ``import kssl_theory`` does not load.)
"""

from __future__ import annotations

import inspect
import os

from numpy.linalg import LinAlgError

__all__ = [
    "KSSLError",
    "InputError",
    "BackendUnavailableError",
    "NumericalError",
    "NotPositiveDefiniteError",
    "OutputError",
    "IllConditionedWarning",
    "stacklevel_outside_package",
]


class KSSLError(Exception):
    """Base class of every error the package raises deliberately."""


class InputError(KSSLError, ValueError):
    """An argument has the wrong shape, dtype, value or type.

    The message names the argument, states what was received and what is accepted.
    """


class BackendUnavailableError(KSSLError, ImportError):
    """An optional array backend or extra (CuPy, Dask, matplotlib) is not installed or unusable.

    The message names the ``pip install 'kssl-theory[extra]'`` command that provides it.
    """


class NumericalError(KSSLError, ArithmeticError):
    """A numerical routine failed on valid input (e.g. an eigensolver did not converge)."""


class NotPositiveDefiniteError(NumericalError, LinAlgError):
    """A Cholesky factorisation met a matrix that is not numerically positive definite.

    Raised by :func:`kssl_theory.backend.cholesky` and :func:`~kssl_theory.backend.solve_pos` for
    every backend (NumPy/SciPy, CuPy and array-api-strict raise NumPy's ``LinAlgError``; CuPy may
    also return NaN), so callers catch one type. Also a ``numpy.linalg.LinAlgError``.
    """


class OutputError(KSSLError, OSError):
    """A result file or folder cannot be created or written (checked before long runs start).

    The message names the path and the reason, in one line.
    """


class IllConditionedWarning(UserWarning):
    """The kernel matrix is so ill-conditioned that results lose accuracy.

    The message states the condition number and the expected relative accuracy
    (about ``cond(K) * eps`` for quantities that apply :math:`K^{-1}`).
    """


def stacklevel_outside_package() -> int:
    """The ``stacklevel`` for :func:`warnings.warn` that points at the first caller outside the package.

    Call it as ``warnings.warn(message, category, stacklevel=stacklevel_outside_package())``: the
    warning then names the line of the caller's code that led to it, however deep inside
    :mod:`kssl_theory` it is raised (a lazily computed quantity may warn from several call paths).
    """
    package = os.path.dirname(os.path.abspath(__file__)) + os.sep
    here = inspect.currentframe()
    assert here is not None and here.f_back is not None  # CPython keeps frames
    frame = here.f_back  # the function that calls warnings.warn: stacklevel 1
    level = 1
    while frame.f_back is not None and os.path.abspath(frame.f_code.co_filename).startswith(package):
        frame = frame.f_back
        level += 1
    return level
