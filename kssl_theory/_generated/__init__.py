"""Code generated from :mod:`kssl_theory.symbolic`; never edited by hand.

Regenerate with ``python -m kssl_theory.symbolic.codegen``; a test checks that the committed
files are fresh.
"""
