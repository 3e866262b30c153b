"""Deprecated path of :mod:`kssl_theory.kernel_regime.metrics`; removed in the next release.

Importing it warns ``DeprecationWarning`` and gives that module itself (see ``kssl_theory._moved``).
"""

from ._moved import redirect

redirect("metrics", stacklevel=2)
