"""Deprecated path of :mod:`kssl_theory.idealized.probes`; removed in the next release.

Importing it warns ``DeprecationWarning`` and gives that module itself (see ``kssl_theory._moved``).
"""

from ._moved import redirect

redirect("linear_probes", stacklevel=2)
