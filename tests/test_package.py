"""Package-level properties: clean compilation, cheap import, documented public API."""

from __future__ import annotations

import inspect
import pathlib
import subprocess
import sys
import warnings

import kssl_theory as kt

ROOT = pathlib.Path(__file__).resolve().parents[1]


def test_sources_compile_without_warnings():
    """Invalid escape sequences in docstrings are SyntaxWarnings today and errors tomorrow."""
    for path in sorted((ROOT / "kssl_theory").rglob("*.py")) + sorted((ROOT / "proofs_check").rglob("*.py")):
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            compile(path.read_text(encoding="utf-8"), str(path), "exec")


def test_numeric_import_does_not_load_sympy_or_scikit_learn():
    code = (
        "import kssl_theory, sys; assert 'sympy' not in sys.modules, 'sympy imported'; "
        "assert 'sklearn' not in sys.modules, 'scikit-learn imported'"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


def test_every_public_name_has_a_docstring():
    missing = []
    for name in kt.__all__:
        obj = getattr(kt, name)
        if (inspect.isfunction(obj) or inspect.isclass(obj) or inspect.ismodule(obj)) and not inspect.getdoc(obj):
            missing.append(name)
    assert not missing, f"public names without docstrings: {missing}"


def test_sources_hold_no_control_characters():
    """A LaTeX docstring written through a non-raw string turns ``\\varepsilon`` and ``\\beta`` into the
    control bytes VT and BS (it happened in accuracy.py); no source or doc file may hold C0 controls
    other than tab and newline."""
    bad = set(range(32)) - {9, 10, 13}
    offenders = []
    for pattern in (
        "kssl_theory/**/*.py",
        "proofs_check/**/*.py",
        "tests/*.py",
        "benchmarks/*.py",
        "docs/*.md",
        "README.md",
    ):
        for path in ROOT.glob(pattern):
            text = path.read_text(encoding="utf-8")
            lines = [i + 1 for i, line in enumerate(text.splitlines()) if any(ord(ch) in bad for ch in line)]
            if lines:
                offenders.append(f"{path.relative_to(ROOT)}: lines {lines[:5]}")
    assert not offenders, offenders


def test_version_is_single_sourced_from_pyproject():
    from pathlib import Path

    import tomllib

    pyproject = tomllib.loads((Path(__file__).resolve().parents[1] / "pyproject.toml").read_text(encoding="utf-8"))
    assert kt.__version__ == pyproject["project"]["version"]
