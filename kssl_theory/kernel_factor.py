"""Deprecated path of :mod:`kssl_theory.kernel_regime.kernel_factor`; removed in the next release.

Importing it warns ``DeprecationWarning`` and gives that module itself (see ``kssl_theory._moved``).
"""

from ._moved import redirect

redirect("kernel_factor", stacklevel=2)
