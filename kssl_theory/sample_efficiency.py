"""Deprecated path of :mod:`kssl_theory.idealized.sample_efficiency`; removed in the next release.

Importing it warns ``DeprecationWarning`` and gives that module itself (see ``kssl_theory._moved``).
"""

from ._moved import redirect

redirect("sample_efficiency", stacklevel=2)
