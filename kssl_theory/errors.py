"""The package's exceptions and warnings.

Every error raised on purpose by :mod:`kssl_theory` derives from :class:`KSSLError`, so callers
can catch the package's own failures in one place. Errors caused by the caller's input are
:class:`InputError`, which is also a :class:`ValueError` so generic handlers keep working.
Messages always name the argument, say what was wrong and what to do about it.
"""

from __future__ import annotations

from sklearn.exceptions import NotFittedError as _SklearnNotFittedError

__all__ = [
    "KSSLError",
    "InputError",
    "NotFittedError",
    "BackendUnavailableError",
    "NumericalError",
    "OutputError",
    "IllConditionedWarning",
]


class KSSLError(Exception):
    """Base class of every error the package raises deliberately."""


class InputError(KSSLError, ValueError):
    """An argument has the wrong shape, dtype, value or type.

    The message names the argument, states what was received and what is accepted.
    """


class NotFittedError(InputError, _SklearnNotFittedError):
    """A fitted-model method was called before ``fit``.

    Also scikit-learn's :class:`sklearn.exceptions.NotFittedError`, so scikit-learn's tools
    (``check_is_fitted`` callers, meta-estimators) recognise it.
    """


class BackendUnavailableError(KSSLError, ImportError):
    """An optional array backend or extra (CuPy, Dask, matplotlib) is not installed or unusable.

    The message names the ``pip install 'kssl-theory[extra]'`` command that provides it.
    """


class NumericalError(KSSLError, ArithmeticError):
    """A numerical routine failed on valid input (e.g. an eigensolver did not converge)."""


class OutputError(KSSLError, OSError):
    """A result file or folder cannot be created or written (checked before long runs start).

    The message names the path and the reason, in one line.
    """


class IllConditionedWarning(UserWarning):
    """The kernel matrix is so ill-conditioned that results lose accuracy.

    The message states the condition number and the expected relative accuracy
    (about ``cond(K) * eps`` for quantities that apply :math:`K^{-1}`).
    """

