"""Deprecated path of :mod:`kssl_theory.kernel_regime.accuracy`; removed in the next release.

Importing it warns ``DeprecationWarning`` and gives that module itself (see ``kssl_theory._moved``).
"""

from ._moved import redirect

redirect("accuracy", stacklevel=2)
