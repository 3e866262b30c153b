"""One verification stack (issue 13, item 3): one instance generator and one oracle library.

The test-suite and ``python -m proofs_check`` share :mod:`proofs_check.instances` (parameter dicts
built into matrices by one builder) and :mod:`proofs_check.oracles` (closed forms, literal losses,
optimisers, tolerances). These static checks (AST scans, no package call) fail if a second
generator or oracle library reappears:

- no module of ``tests/`` or ``proofs_check/`` other than ``oracles.py`` defines a function with the
  name of an oracle, and every import of such a name comes from :mod:`proofs_check.oracles`;
- no module other than ``instances.py`` defines a generator function (``tests/strategies.py`` may
  define the ``instances`` adapter, which must call :func:`proofs_check.instances.build`);
- ``tests/strategies.py`` builds no matrices (no NumPy random generator, no linear algebra, no
  products);
- :mod:`proofs_check.oracles` does not import :mod:`kssl_theory` (the oracles are independent of
  the code under test).
"""

from __future__ import annotations

import ast
from pathlib import Path

import proofs_check
import proofs_check.instances as instances_module
import proofs_check.oracles as oracles_module

ROOT = Path(__file__).resolve().parent.parent
TESTS = ROOT / "tests"
PACKAGE = Path(proofs_check.__file__).resolve().parent
ORACLES = PACKAGE / "oracles.py"
INSTANCES = PACKAGE / "instances.py"
STRATEGIES = TESTS / "strategies.py"

ORACLE_NAMES = set(oracles_module.__all__) | {
    # names the duplicates had before the unification
    "np_laplacian", "_soft_grad_Z", "min_positive_eig", "soft_truth_target",
}
GENERATOR_NAMES = {name for name in instances_module.__all__ if callable(getattr(instances_module, name))} | {
    # names the second generator had before the unification
    "orthogonal", "_orth", "spectra", "kernel_specs", "kernel_function", "_cap_condition", "_random_graph",
}


def _modules():
    files = sorted(TESTS.glob("*.py")) + sorted(PACKAGE.rglob("*.py"))
    return [(f, ast.parse(f.read_text(encoding="utf-8"), filename=str(f))) for f in files]


def _defined_functions(tree):
    return {node.name: node for node in ast.walk(tree) if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef))}


def _is_oracles_module(module: str | None, level: int, path: Path) -> bool:
    if level == 0:
        return module == "proofs_check.oracles"
    # relative import inside proofs_check: resolve it against the importing file's package
    base = path.parent
    for _ in range(level - 1):
        base = base.parent
    target = base / (module.replace(".", "/") if module else "")
    return target.with_suffix(".py") == ORACLES


def test_one_oracle_library():
    problems = []
    for path, tree in _modules():
        if path == ORACLES:
            continue
        for name in _defined_functions(tree):
            if name in ORACLE_NAMES:
                problems.append(f"{path.relative_to(ROOT)} defines oracle {name}()")
        for node in ast.walk(tree):
            if not isinstance(node, ast.ImportFrom):
                continue
            if node.level == 0 and node.module and node.module.split(".")[0] == "kssl_theory":
                continue  # the package under test, not an oracle
            for alias in node.names:
                if alias.name in ORACLE_NAMES and not _is_oracles_module(node.module, node.level, path):
                    problems.append(f"{path.relative_to(ROOT)} imports oracle {alias.name} from "
                                    f"{'.' * node.level}{node.module or ''}, not proofs_check.oracles")
    assert not problems, "\n".join(problems)


def test_claims_and_tests_use_the_shared_oracles():
    """The claims and the solver tests import their oracles from proofs_check.oracles (not merely none)."""
    users = {PACKAGE / "claims" / "kernel_regime.py", PACKAGE / "claims" / "constrained.py",
             PACKAGE / "claims" / "induced_kernel.py", TESTS / "test_solvers.py", TESTS / "test_graphs.py"}
    for path, tree in _modules():
        if path not in users:
            continue
        imported = [node for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)
                    and _is_oracles_module(node.module, node.level, path)]
        assert imported, f"{path.relative_to(ROOT)} does not import from proofs_check.oracles"


def test_one_instance_generator():
    problems = []
    for path, tree in _modules():
        if path == INSTANCES:
            continue
        for name in _defined_functions(tree):
            if name in GENERATOR_NAMES and not (path == STRATEGIES and name == "instances"):
                problems.append(f"{path.relative_to(ROOT)} defines generator {name}()")
    assert not problems, "\n".join(problems)


def test_strategies_adapter_builds_nothing():
    tree = ast.parse(STRATEGIES.read_text(encoding="utf-8"))
    problems = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute) and node.attr in ("random", "linalg", "default_rng", "standard_normal",
                                                             "uniform", "qr", "eigh", "cholesky"):
            problems.append(f"line {node.lineno}: .{node.attr}")
        if isinstance(node, ast.Name) and node.id in ("default_rng", "standard_normal"):
            problems.append(f"line {node.lineno}: {node.id}")
        if isinstance(node, ast.BinOp) and isinstance(node.op, ast.MatMult):
            problems.append(f"line {node.lineno}: matrix product")
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith(("numpy", "scipy")):
            problems.append(f"line {node.lineno}: imports from {node.module}")
    assert not problems, "tests/strategies.py builds matrices itself:\n" + "\n".join(problems)
    calls = {node.func.id for node in ast.walk(tree) if isinstance(node, ast.Call) and isinstance(node.func, ast.Name)}
    assert "build" in calls, "the instances adapter must build through proofs_check.instances.build"
    imports = {alias.name: node.module for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)
               for alias in node.names}
    assert imports.get("build") == "proofs_check.instances"


def test_oracles_do_not_import_the_package():
    tree = ast.parse(ORACLES.read_text(encoding="utf-8"))
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            assert not any(a.name.split(".")[0] == "kssl_theory" for a in node.names), node.lineno
        if isinstance(node, ast.ImportFrom) and node.level == 0:
            assert (node.module or "").split(".")[0] != "kssl_theory", node.lineno


def test_kernel_names_are_the_package_functions():
    """The generator's kernel names are function names of kssl_theory.kernels (one vocabulary)."""
    import kssl_theory.kernels as kernels

    for name in instances_module.KERNEL_FUNCTIONS:
        assert callable(getattr(kernels, name)), name
