"""The package layout: shared core, [KR] engine, [IR] theory, experiments; old paths; private names.

- Every module that moved into a subpackage keeps its old path for one release: importing it warns
  ``DeprecationWarning`` at the importer's line, naming the new path, and gives the new module
  object itself (so monkeypatching either path patches the same module).
- ``kssl_theory.idealized`` (a module before, a package now) still exports every public name.
- The top level holds the shared core only; the [KR] and [IR] subpackages do not import each other.
- No module of the package reads another module's private (single-underscore) names.
"""

from __future__ import annotations

import ast
import importlib
import re
import subprocess
import sys
from pathlib import Path

import pytest

import kssl_theory as kt

PACKAGE = Path(kt.__file__).resolve().parent

#: Old path -> new path of every module that moved (issue 14, item 4). The old paths are shims.
MOVED = {
    "kssl_theory.solvers": "kssl_theory.kernel_regime.engine",
    "kssl_theory.objectives": "kssl_theory.kernel_regime.objectives",
    "kssl_theory.kernel_factor": "kssl_theory.kernel_regime.kernel_factor",
    "kssl_theory.accuracy": "kssl_theory.kernel_regime.accuracy",
    "kssl_theory.nystrom": "kssl_theory.kernel_regime.nystrom",
    "kssl_theory.estimator": "kssl_theory.kernel_regime.estimator",
    "kssl_theory.metrics": "kssl_theory.kernel_regime.metrics",
    "kssl_theory.linear_probes": "kssl_theory.idealized.probes",
    "kssl_theory.sample_efficiency": "kssl_theory.idealized.sample_efficiency",
    "kssl_theory.idealized_codes": "kssl_theory.idealized.codes",
    "kssl_theory.ssl_losses": "kssl_theory.idealized.losses",
    "kssl_theory.datasets": "kssl_theory.experiments.datasets",
    "kssl_theory.probes": "kssl_theory.experiments.probes",
}

#: The shared core: the only real modules at the top level (besides the shims and their helper).
CORE_MODULES = {
    "__init__",
    "backend",
    "lapack_guard",
    "errors",
    "validation",
    "protocols",
    "output_files",
    "kernels",
    "graphs",
    "bridge",
    "_moved",
}
SUBPACKAGES = {"kernel_regime", "idealized", "experiments", "symbolic", "_generated"}

#: What ``kssl_theory.idealized.__all__`` exported when it was one module.
IDEALIZED_PUBLIC = ["ClassCodes", "class_codes", "affine_rank", "IdealizationReport", "is_idealized"]


def _leaf(path: str) -> str:
    return path.rsplit(".", 1)[1]


@pytest.fixture
def forget():
    """Make an old path importable afresh (as in a new process) and restore the state afterwards."""
    saved = []

    def forget(old: str):
        leaf = _leaf(old)
        saved.append((old, sys.modules.pop(old, None), kt.__dict__.pop(leaf, None)))

    yield forget
    for old, module, attribute in reversed(saved):  # the first snapshot is the state before the test
        sys.modules.pop(old, None)
        kt.__dict__.pop(_leaf(old), None)
        if module is not None:
            sys.modules[old] = module
        if attribute is not None:
            setattr(kt, _leaf(old), attribute)


def _one_deprecation(record, new: str):
    messages = [str(w.message) for w in record if issubclass(w.category, DeprecationWarning)]
    assert len(messages) == 1, messages
    assert new in messages[0] and "next release" in messages[0], messages[0]
    warning = next(w for w in record if issubclass(w.category, DeprecationWarning))
    assert Path(warning.filename).resolve() == Path(__file__).resolve(), (
        f"the warning points at {warning.filename}:{warning.lineno}, not at the importing line in this file"
    )


def test_moved_table_is_the_one_the_package_uses():
    from kssl_theory import _moved

    assert {f"kssl_theory.{old}": new for old, new in _moved.MOVED.items()} == MOVED


@pytest.mark.parametrize("old, new", sorted(MOVED.items()))
def test_import_statement_warns_and_gives_the_new_module(old, new, forget):
    forget(old)
    with pytest.warns(DeprecationWarning) as record:
        __import__(old)  # what ``import kssl_theory.<old>`` executes, with no Python frame of its own
    _one_deprecation(record, new)
    module = sys.modules[old]
    assert module is importlib.import_module(new)
    assert module.__name__ == new
    assert getattr(kt, _leaf(old)) is module  # the parent attribute the import set


@pytest.mark.parametrize("old, new", sorted(MOVED.items()))
def test_attribute_access_warns_once_and_gives_the_new_module(old, new, forget):
    forget(old)
    with pytest.warns(DeprecationWarning) as record:
        module = getattr(kt, _leaf(old))
    _one_deprecation(record, new)
    assert module is importlib.import_module(new)
    assert sys.modules[old] is module
    forget(old)
    with pytest.warns(DeprecationWarning) as record:
        module = getattr(__import__("kssl_theory", fromlist=[_leaf(old)]), _leaf(old))
    _one_deprecation(record, new)  # ``from kssl_theory import <old>``: one warning, not one per lookup
    assert module is importlib.import_module(new)


def test_old_path_and_new_path_are_one_module_for_monkeypatch(forget, monkeypatch):
    forget("kssl_theory.solvers")
    with pytest.warns(DeprecationWarning):
        import kssl_theory.solvers as old

    engine = importlib.import_module("kssl_theory.kernel_regime.engine")

    def fake_solve(*args, **kwargs):
        raise AssertionError("unused")

    monkeypatch.setattr("kssl_theory.solvers.solve", fake_solve)
    assert engine.solve is fake_solve and old.solve is fake_solve
    monkeypatch.undo()
    assert old.solve is engine.solve and engine.solve is not fake_solve


def test_pickles_written_before_the_move_still_load(forget):
    """A pickle names a class by its module path; the old paths resolve (with the warning) to the same class."""
    import pickle

    from kssl_theory.kernel_regime.engine import Solution

    old_pickle = pickle.dumps(Solution, protocol=0).replace(b"kssl_theory.kernel_regime.engine", b"kssl_theory.solvers")
    assert b"kssl_theory.solvers\nSolution" in old_pickle
    forget("kssl_theory.solvers")
    with pytest.warns(DeprecationWarning, match="kssl_theory.kernel_regime.engine"):
        assert pickle.loads(old_pickle) is Solution


def test_shims_hold_no_code():
    """Every old path is a shim of the same few lines: nothing can be defined or edited there by mistake."""
    for old in MOVED:
        path = PACKAGE / f"{_leaf(old)}.py"
        tree = ast.parse(path.read_text(encoding="utf-8"))
        body = tree.body[1:] if ast.get_docstring(tree) else tree.body
        assert [ast.unparse(node) for node in body] == [
            "from ._moved import redirect",
            f"redirect({_leaf(old)!r}, stacklevel=2)",
        ], path


def test_idealized_package_keeps_the_module_api():
    import kssl_theory.idealized as ide
    from kssl_theory.idealized import conditions

    assert hasattr(ide, "__path__")  # a package now
    assert set(IDEALIZED_PUBLIC) <= set(ide.__all__)
    for name in IDEALIZED_PUBLIC + list(conditions.__all__):
        assert getattr(ide, name) is getattr(conditions, name), name
    assert kt.idealized is ide


@pytest.mark.parametrize(
    "path",
    [
        "kernel_regime.engine",
        "kernel_regime.estimator",
        "kernel_regime.nystrom",
        "kernel_regime.accuracy",
        "kernel_regime.kernel_factor",
        "idealized.probes",
        "idealized.sample_efficiency",
        "idealized.codes",
        "idealized.losses",
        "experiments.datasets",
        "experiments.probes",
    ],
)
def test_new_paths_resolve_as_attributes(path):
    obj = kt
    for part in path.split("."):
        obj = getattr(obj, part)
    assert obj is importlib.import_module(f"kssl_theory.{path}")


def test_public_api_is_unchanged():
    from kssl_theory.kernel_regime import engine, estimator, metrics, objectives

    assert kt.solve is engine.solve and kt.loss is engine.loss and kt.Solution is engine.Solution
    assert kt.KernelSSL is estimator.KernelSSL and kt.NotFittedError is estimator.NotFittedError
    assert (kt.alignment, kt.decorrelation, kt.cosine_matrix) == (
        metrics.alignment,
        metrics.decorrelation,
        metrics.cosine_matrix,
    )
    assert (kt.Objective, kt.OBJECTIVES, kt.get_objective) == (
        objectives.Objective,
        objectives.OBJECTIVES,
        objectives.get_objective,
    )


def test_subpackages_import_cheaply():
    """The subpackages' ``__init__`` load no heavy dependency: the estimator (scikit-learn) stays lazy,
    and the experiments' library modules do not bring the plotting stack."""
    code = (
        "import sys\n"
        "import kssl_theory.kernel_regime, kssl_theory.idealized, kssl_theory.experiments.datasets\n"
        "import kssl_theory.experiments.probes\n"
        "heavy = [m for m in ('sklearn', 'sympy', 'matplotlib', 'tqdm', 'kssl_theory.kernel_regime.estimator')"
        " if m in sys.modules]\n"
        "assert not heavy, heavy\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


def test_top_level_holds_the_shared_core_and_the_shims_only():
    modules = {p.stem for p in PACKAGE.glob("*.py")}
    shims = {_leaf(old) for old in MOVED}
    extra = modules - CORE_MODULES - shims
    assert not extra, (
        f"new top-level modules {sorted(extra)}: the top level is the shared core; put [KR] code in "
        "kernel_regime/, [IR] code in idealized/, experiment code in experiments/ (or add a core module "
        "to CORE_MODULES here)"
    )
    packages = {p.parent.name for p in PACKAGE.glob("*/__init__.py")}
    assert packages == SUBPACKAGES


# --------------------------------------------------------------------------------------------------
# Imports between modules (AST scans of kssl_theory/, _generated excluded)
# --------------------------------------------------------------------------------------------------


def _sources():
    for path in sorted(PACKAGE.rglob("*.py")):
        rel = path.relative_to(PACKAGE)
        if rel.parts[0] == "_generated":
            continue
        yield rel, ast.parse(path.read_text(encoding="utf-8"), filename=str(path))


def _module_name(rel: Path) -> str:
    parts = ["kssl_theory", *rel.with_suffix("").parts]
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _absolute(node: ast.ImportFrom, rel: Path) -> str:
    """The module an ``ImportFrom`` reads from, as an absolute dotted name."""
    if node.level == 0:
        return node.module or ""
    package = _module_name(rel).split(".")
    if rel.name != "__init__.py":
        package = package[:-1]
    base = package[: len(package) - (node.level - 1)]
    return ".".join(base + ([node.module] if node.module else []))


def _private(name: str) -> bool:
    return name.startswith("_") and not name.startswith("__")


#: Private attribute reads the package may make, each with its reason. SymPy documents these for
#: custom printers: a printable class's ``_latex(self, printer)`` / ``_sympystr`` prints its
#: arguments with ``printer._print(arg)``; a printer subclass extends its parent's
#: ``_default_settings`` and may call a parent's ``_print_<Class>`` method.
SYMPY_PRINTING_PROTOCOL = "SymPy's documented custom-printer protocol"
ALLOWED_PRIVATE_ATTRIBUTES = {
    ("symbolic", "_print"): SYMPY_PRINTING_PROTOCOL,
    ("symbolic", "_default_settings"): SYMPY_PRINTING_PROTOCOL,
    ("symbolic", "_print_*"): SYMPY_PRINTING_PROTOCOL,
}


def _allowed_attribute(rel: Path, attr: str) -> bool:
    folder = rel.parts[0] if len(rel.parts) > 1 else ""
    keys = {(folder, attr)} | ({(folder, "_print_*")} if attr.startswith("_print_") else set())
    return bool(keys & ALLOWED_PRIVATE_ATTRIBUTES.keys())


def _private_reads(rel: Path, tree: ast.AST):
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom):
            for alias in node.names:
                if _private(alias.name):
                    yield f"{rel}:{node.lineno}: from {'.' * node.level}{node.module or ''} import {alias.name}"
        elif isinstance(node, ast.Attribute) and _private(node.attr):
            owner = node.value
            if isinstance(owner, ast.Name) and owner.id in ("self", "cls"):
                continue
            if isinstance(owner, ast.Call) and isinstance(owner.func, ast.Name) and owner.func.id == "super":
                continue
            if _allowed_attribute(rel, node.attr):
                continue
            yield f"{rel}:{node.lineno}: {ast.unparse(node)}"


def test_no_module_reads_another_modules_private_names():
    """Helpers shared between modules get public names in a shared module (``idealized/_shared.py``)."""
    offenders = [line for rel, tree in _sources() for line in _private_reads(rel, tree)]
    assert not offenders, "private names read across modules:\n" + "\n".join(offenders)


@pytest.mark.parametrize(
    "source, expected",
    [
        ("from .idealized import _default_rtol", ["from .idealized import _default_rtol"]),
        ("from ..x import a, _b", ["from ..x import _b"]),
        ("sol._factor.solve(B)", ["sol._factor"]),
        ("self._xp; cls._cache; super()._print_Symbol(e)", []),
        ("from .x import __version__; m.__name__", []),
    ],
)
def test_private_scan_finds_what_it_should(source, expected):
    found = [line.split(": ", 1)[1] for line in _private_reads(Path("kernel_regime/x.py"), ast.parse(source))]
    assert found == expected


def test_private_scan_allows_the_sympy_printing_protocol_in_symbolic_only():
    source = "printer._print(x); PythonCodePrinter._default_settings; StrPrinter._print_Mul(self, e)"
    assert list(_private_reads(Path("symbolic/printer.py"), ast.parse(source))) == []
    assert len(list(_private_reads(Path("kernel_regime/engine.py"), ast.parse(source)))) == 3


#: Subpackage -> subpackages it must not import: the [KR] engine and the [IR] theory are independent
#: (kssl_theory.bridge connects them), and neither depends on the experiments built on top of them.
FORBIDDEN = {
    "kernel_regime": ("kssl_theory.idealized", "kssl_theory.experiments"),
    "idealized": ("kssl_theory.kernel_regime", "kssl_theory.experiments"),
}


def _imported_modules(rel: Path, tree: ast.AST):
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            yield node.lineno, [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = _absolute(node, rel)
            yield node.lineno, [base] + [f"{base}.{alias.name}" for alias in node.names]


def test_kernel_regime_and_idealized_do_not_import_each_other():
    offenders = []
    for rel, tree in _sources():
        forbidden = FORBIDDEN.get(rel.parts[0]) if len(rel.parts) > 1 else None
        if not forbidden:
            continue
        for lineno, names in _imported_modules(rel, tree):
            bad = [n for n in names if any(n == f or n.startswith(f + ".") for f in forbidden)]
            if bad:
                offenders.append(f"{rel}:{lineno}: imports {bad[0]}")
    assert not offenders, "\n".join(offenders)


#: Lines that may keep an old path, with the reason.
OLD_PATH_ALLOWED = {
    # The header template of the generated targets module: the generated file stays byte-identical
    # (a docstring cross-reference, not an import; it resolves through the shim until it is regenerated).
    ("kssl_theory/symbolic/codegen.py", "``kf`` is a :class:`~kssl_theory.kernel_factor.KernelFactor`"),
}


def _old_path_uses(path: Path, root: Path):
    """Imports of an old path (AST, relative imports resolved) and old dotted/slashed paths in the text."""
    rel = path.relative_to(root)
    text = path.read_text(encoding="utf-8")
    if path.suffix == ".py":
        tree = ast.parse(text, filename=str(path))
        in_package = rel.parts[0] == "kssl_theory"
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom):
                base = _absolute(node, rel.relative_to("kssl_theory")) if in_package else node.module or ""
                names = [base] + [f"{base}.{alias.name}" for alias in node.names]
            else:
                continue
            for name in names:
                if name in MOVED:
                    yield f"{rel}:{node.lineno}: imports {name}"
    leaves = "|".join(_leaf(old) for old in MOVED)
    pattern = re.compile(rf"\bkssl_theory\.({leaves})\b|\bkt\.({leaves})\b|\bkssl_theory/({leaves})\.py\b")
    for lineno, line in enumerate(text.splitlines(), 1):
        if any(rel.as_posix() == f and snippet in line for f, snippet in OLD_PATH_ALLOWED):
            continue
        for match in pattern.finditer(line):
            yield f"{rel}:{lineno}: {match.group(0)}"


def test_old_paths_are_not_used_in_the_repository():
    """The package, proofs_check, the tests, notebooks, benchmarks and docs use the new paths (the old
    ones warn, and go away in the next release)."""
    root = PACKAGE.parent
    skip = {PACKAGE / "_moved.py", PACKAGE / "__init__.py", Path(__file__).resolve()}
    skip |= {PACKAGE / f"{_leaf(old)}.py" for old in MOVED}
    files = [
        p
        for folder in ("kssl_theory", "proofs_check", "tests", "notebooks", "benchmarks")
        for p in (root / folder).rglob("*.py")
    ]
    # docs/mutation-*.md record past mutation runs against the old file names
    files += [root / "README.md"] + [p for p in (root / "docs").glob("*.md") if not p.name.startswith("mutation-")]
    offenders = [
        line
        for path in sorted(files)
        if path.resolve() not in skip and "_generated" not in path.parts
        for line in _old_path_uses(path.resolve(), root)
    ]
    assert not offenders, "old module paths (use the new ones):\n" + "\n".join(offenders)
