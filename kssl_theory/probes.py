"""Deprecated path of :mod:`kssl_theory.experiments.probes`; removed in the next release.

Importing it warns ``DeprecationWarning`` and gives that module itself (see ``kssl_theory._moved``).
"""

from ._moved import redirect

redirect("probes", stacklevel=2)
