"""Deprecated path of :mod:`kssl_theory.kernel_regime.nystrom`; removed in the next release.

Importing it warns ``DeprecationWarning`` and gives that module itself (see ``kssl_theory._moved``).
"""

from ._moved import redirect

redirect("nystrom", stacklevel=2)
