"""Deprecated path of :mod:`kssl_theory.experiments.datasets`; removed in the next release.

Importing it warns ``DeprecationWarning`` and gives that module itself (see ``kssl_theory._moved``).
"""

from ._moved import redirect

redirect("datasets", stacklevel=2)
