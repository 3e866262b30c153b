"""Deprecated path of :mod:`kssl_theory.kernel_regime.estimator`; removed in the next release.

Importing it warns ``DeprecationWarning`` and gives that module itself (see ``kssl_theory._moved``).
"""

from ._moved import redirect

redirect("estimator", stacklevel=2)
