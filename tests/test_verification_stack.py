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
    "np_laplacian",
    "_soft_grad_Z",
    "min_positive_eig",
    "soft_truth_target",
}
GENERATOR_NAMES = {name for name in instances_module.__all__ if callable(getattr(instances_module, name))} | {
    # names the second generator had before the unification
    "orthogonal",
    "_orth",
    "spectra",
    "kernel_specs",
    "kernel_function",
    "_cap_condition",
    "_random_graph",
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
                    problems.append(
                        f"{path.relative_to(ROOT)} imports oracle {alias.name} from "
                        f"{'.' * node.level}{node.module or ''}, not proofs_check.oracles"
                    )
    assert not problems, "\n".join(problems)


def test_claims_and_tests_use_the_shared_oracles():
    """The claims and the solver tests import their oracles from proofs_check.oracles (not merely none)."""
    users = {
        PACKAGE / "claims" / "kernel_regime.py",
        PACKAGE / "claims" / "constrained.py",
        PACKAGE / "claims" / "induced_kernel.py",
        TESTS / "test_solvers.py",
        TESTS / "test_graphs.py",
    }
    for path, tree in _modules():
        if path not in users:
            continue
        imported = [
            node
            for node in ast.walk(tree)
            if isinstance(node, ast.ImportFrom) and _is_oracles_module(node.module, node.level, path)
        ]
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
        if isinstance(node, ast.Attribute) and node.attr in (
            "random",
            "linalg",
            "default_rng",
            "standard_normal",
            "uniform",
            "qr",
            "eigh",
            "cholesky",
        ):
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
    imports = {
        alias.name: node.module for node in ast.walk(tree) if isinstance(node, ast.ImportFrom) for alias in node.names
    }
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


# --------------------------------------------------------------------------- the generator covers both old ones

import numpy as np  # noqa: E402
import pytest  # noqa: E402

from proofs_check.checking import Context  # noqa: E402
from proofs_check.instances import (  # noqa: E402
    ADVERSARIAL_KERNELS,
    ALL_GRAPH_KINDS,
    HOST,
    KERNEL_FUNCTIONS,
    build,
)

MATRIX_KINDS = ("spectrum", "lowrank") + ADVERSARIAL_KERNELS


@pytest.mark.parametrize("kind", KERNEL_FUNCTIONS + MATRIX_KINDS)
@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("sizes,p,points", [([3, 2, 3], 2, "views"), ([1, 1], 3, "views"), ([2, 3, 1], 3, "gaussian")])
def test_every_kernel_kind_builds(kind, dtype, sizes, p, points):
    """Every kernel kind builds a symmetric PSD K on both dtypes; the factor is a thin square root of K
    (full column rank, at most N columns: the linear kernel with more features than views once gave a
    wide one, on which K^+ from its QR failed)."""
    ctx = Context("numpy", dtype)
    N = sum(sizes)
    inst = build(
        {
            "seed": 7,
            "sizes": sizes,
            "kernel": kind,
            "log10_cond": 12.0 if kind in ADVERSARIAL_KERNELS else 4.0,
            "bandwidth": 1.0,
            "degree": 2,
            "p": p,
            "points": points,
            "d": 1,
        },
        ctx,
    )
    K = inst.Kh
    assert K.shape == (N, N) and np.array_equal(K, K.T)
    w = np.linalg.eigvalsh(K)
    assert w[0] >= -100 * N * ctx.eps * w[-1]
    assert 1 <= inst.rank <= N and inst.cond >= 1
    positive = w[w > 10 * N * ctx.eps * w[-1]]
    assert inst.rank == positive.size and inst.cond == pytest.approx(w[-1] / positive[0], rel=1e-12)
    if dtype == "float64":
        F = inst.factor
        assert F.shape[0] == N and F.shape[1] <= N and np.linalg.matrix_rank(F) == F.shape[1]
        np.testing.assert_allclose(F @ F.T, K, rtol=0, atol=1e3 * N * ctx.eps * w[-1])
    if kind in KERNEL_FUNCTIONS:
        assert inst.cross(np.zeros((2, inst.X.shape[1]))).shape == (2, N)


def test_adversarial_conditioning_reaches_the_dtype_limits():
    """graded reaches κ = 1e12 in float64 and 1e5 in float32 (ADVERSARIAL_LOG10_COND)."""
    for dtype, cond in (("float64", 1e12), ("float32", 1e5)):
        inst = build(
            {"seed": 1, "sizes": [4, 4], "kernel": "graded", "log10_cond": 20.0, "d": 1}, Context("numpy", dtype)
        )
        w = np.linalg.eigvalsh(inst.Kh)
        assert w[-1] / w[0] == pytest.approx(cond, rel=1e-2 if dtype == "float64" else 0.5)


@pytest.mark.parametrize("graph_kind", ALL_GRAPH_KINDS)
def test_every_graph_kind_builds(graph_kind):
    inst = build({"seed": 3, "sizes": [3, 3, 2], "kernel": "spectrum", "graph_kind": graph_kind, "d": 1}, HOST)
    A = inst.Ah
    assert A.shape == (8, 8) and np.array_equal(A, A.T)
    if graph_kind == "signed":
        assert (A < 0).any()
    if graph_kind == "isolated":
        assert (np.abs(A).sum(axis=1) == 0).any()
    if graph_kind == "random":  # the cliques are always edges
        same = inst.labels[:, None] == inst.labels[None, :]
        assert np.all(A[same] > 0)


def test_spectrum_plants_zeros_and_ties():
    inst = build(
        {
            "seed": 5,
            "sizes": [6],
            "kernel": "spectrum",
            "rank": 4,
            "tie": 2,
            "log10_cond": 3.0,
            "scale": 1e3,
            "exact_cond": True,
            "d": 1,
        },
        HOST,
    )
    assert inst.rank == 4 and inst.ridge == 0
    w = np.sort(np.linalg.eigvalsh(inst.Kh))[::-1]
    np.testing.assert_allclose(w[:2], [1e3, 1e3], rtol=1e-12)
    np.testing.assert_allclose(w[3], 1.0, rtol=1e-9)
    assert np.all(np.abs(w[4:]) <= 100 * 6 * np.finfo(float).eps * 1e3)


def test_legacy_kernel_names_are_read():
    """Counterexamples of older reports name arccos1 / nngp / ntk: they build the same matrices."""
    for old, new in (
        ("arccos1", {"kernel": "arccos", "order": 1}),
        ("nngp", {"kernel": "relu_nngp", "bias_var": 0.1}),
        ("ntk", {"kernel": "relu_ntk", "bias_var": 0.1}),
    ):
        base = {"seed": 11, "sizes": [2, 3], "p": 3, "noise": 0.2, "d": 1}
        assert np.array_equal(build({**base, "kernel": old}, HOST).Kh, build({**base, **new}, HOST).Kh)
