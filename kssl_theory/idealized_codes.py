"""Deprecated path of :mod:`kssl_theory.idealized.codes`; removed in the next release.

Importing it warns ``DeprecationWarning`` and gives that module itself (see ``kssl_theory._moved``).
"""

from ._moved import redirect

redirect("idealized_codes", stacklevel=2)
