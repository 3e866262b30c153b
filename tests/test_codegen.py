"""Tests of the generated target builders: freshness, contract, portability, agreement with NumPy."""

from __future__ import annotations

import importlib.util
import inspect
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from conftest import to_np

from kssl_theory._generated import targets
from kssl_theory.errors import InputError
from kssl_theory.kernel_regime.kernel_factor import KernelFactor

PACKAGE = Path(targets.__file__).resolve().parents[1]
GENERATED = PACKAGE / "_generated"

CONTRACT = {
    "contrastive_target": ["A", "kf", "reg"],
    "contrastive_minimum": ["A", "top"],
    "contrastive_free": ["A", "kf"],
    "contrastive_penalty": ["reg"],
    "contrastive_apply": ["X", "A", "kf", "reg"],
    "contrastive_apply_majorant": ["X", "A", "kf", "reg"],
    "contrastive_loss": ["Z", "A", "reg", "K", "C"],
    "vicreg_target": ["L", "kf", "beta", "reg"],
    "vicreg_minimum": ["dim", "top"],
    "vicreg_free": ["L", "kf", "beta"],
    "vicreg_penalty": ["reg"],
    "vicreg_apply": ["X", "L", "kf", "beta", "reg"],
    "vicreg_apply_majorant": ["X", "L", "kf", "beta", "reg"],
    "vicreg_loss": ["Z", "L", "beta", "reg", "K", "C"],
    "vicreg_centred_target": ["L", "beta", "c"],
    "vicreg_centred_minimum": ["dim", "top"],
    "vicreg_centred_scale": ["c"],
    "vicreg_centred_loss": ["Z", "L", "beta", "c"],
    "laplacian_eigenmaps_matrix": ["L"],
    "laplacian_eigenmaps_apply": ["X", "L"],
    "laplacian_eigenmaps_apply_majorant": ["X", "L"],
    "laplacian_eigenmaps_loss": ["Z", "L"],
    "whitened_matrix": ["A", "kf"],
    "whitened_apply": ["X", "A", "kf"],
    "whitened_apply_majorant": ["X", "A", "kf"],
    "whitened_loss": ["Z", "A"],
    "whitened_laplacian_matrix": ["L", "kf"],
    "whitened_laplacian_apply": ["X", "L", "kf"],
    "whitened_laplacian_apply_majorant": ["X", "L", "kf"],
    "whitened_laplacian_loss": ["Z", "L"],
}


def test_generated_file_is_fresh():
    from kssl_theory.symbolic import codegen

    assert codegen.OUTPUT == GENERATED / "targets.py"
    assert codegen.generate_source().encode("utf-8") == codegen.OUTPUT.read_bytes()
    # the table of objectives in the docs is printed from the same declarations
    assert codegen.objectives_markdown().encode("utf-8") == codegen.DOCS_OUTPUT.read_bytes()
    for decl in codegen.declarations():
        assert f"`{decl.key}_loss`" in codegen.DOCS_OUTPUT.read_text(encoding="utf-8")


def test_check_flag_detects_stale_and_missing_files(tmp_path):
    from kssl_theory.symbolic import codegen

    out = tmp_path / "targets.py"
    assert codegen.main(["--check", "--output", str(out)]) == 1
    assert codegen.main(["--output", str(out)]) == 0
    assert codegen.main(["--check", "--output", str(out)]) == 0
    out.write_text(out.read_text(encoding="utf-8").replace("reg/2", "reg"), encoding="utf-8")
    assert codegen.main(["--check", "--output", str(out)]) == 1


def test_check_command_line():
    done = subprocess.run(
        [sys.executable, "-m", "kssl_theory.symbolic.codegen", "--check"],
        cwd=PACKAGE.parent,
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr


def test_no_explicit_inverse_or_numpy_in_generated_code():
    for path in GENERATED.glob("*.py"):
        source = path.read_text(encoding="utf-8")
        code = re.sub(r'r?"""[\s\S]*?"""', "", source)  # docstrings may name K^+ in LaTeX
        assert not re.search(r"\binv\b|pinv|inverse|\*\*\s*\(?-1", code), path
        assert not re.search(r"\bnp\.|\bnumpy\b|\bscipy\b", code), path
    source = (GENERATED / "targets.py").read_text(encoding="utf-8")
    assert "kf.solve_scaled_identity(" in source and "kf.project(" in source and "kf.root_t(" in source
    assert "python -m kssl_theory.symbolic.codegen" in source and "GENERATED" in source


def test_printer_applies_operators_and_solves():
    from sympy import Inverse, MatrixSymbol, Symbol

    from kssl_theory.symbolic.objectives import A, Kp, P, R
    from kssl_theory.symbolic.printer import ArrayAPIPrinter, KernelFactorPrinter

    n = Symbol("n")
    B, X = MatrixSymbol("B", n, n), MatrixSymbol("X", n, 2)
    printer = ArrayAPIPrinter({"dtype": "B.dtype"})
    assert printer.doprint(Inverse(B) * X) == "xp.linalg.solve(B, X)"
    assert printer.doprint(X.T * Inverse(B)) == "xp.linalg.solve(B.T, X).T"
    assert printer.doprint(Inverse(B)) == "xp.linalg.solve(B, xp.eye(n, dtype=B.dtype))"
    on_device = ArrayAPIPrinter({"dtype": "B.dtype", "device": "device(B)"})
    assert on_device.doprint(Inverse(B)) == "xp.linalg.solve(B, xp.eye(n, dtype=B.dtype, device=device(B)))"
    kernel_printer = KernelFactorPrinter({"dtype": "A.dtype"})
    assert kernel_printer.doprint(P * A * P) == "kf.project(kf.project(A).T)"
    lam = Symbol("lam")
    assert kernel_printer.doprint(A - lam / 2 * Kp) == "A - kf.solve_scaled_identity(lam/2)"
    code = kernel_printer.doprint(Kp * A * Kp * R - 3 * A)
    # A R = (R^T A)^T: the non-symmetric root on the right is applied transposed
    assert code == "kf.solve(kf.root_t(kf.solve(A)).T) - 3 * A"
    sandwich = kernel_printer.doprint(R.T * A * R)
    assert sandwich == "kf.root_t(kf.root_t(A).T)"
    assert kernel_printer.doprint(R * X) == "kf.root(X)" and kernel_printer.doprint(R.T * X) == "kf.root_t(X)"
    rng = np.random.default_rng(7)
    K, A_val, _ = _instance(rng, 5, 5)
    w, V = np.linalg.eigh(K)
    Kp_val, root = (V / w) @ V.T, np.linalg.cholesky(K)  # K > 0: the factor's root is the Cholesky factor
    value = eval(code, {"kf": KernelFactor(K), "A": A_val})
    np.testing.assert_allclose(value, Kp_val @ A_val @ Kp_val @ root - 3 * A_val, atol=1e-10)
    value = eval(sandwich, {"kf": KernelFactor(K), "A": A_val})
    np.testing.assert_allclose(value, root.T @ A_val @ root, atol=1e-10)


def test_generated_contract():
    assert sorted(targets.__all__) == sorted([*CONTRACT, "DECLARATIONS"])
    roles = {name for record in targets.DECLARATIONS for name in record.values() if callable(name)}
    assert {f.__name__ for f in roles} == set(CONTRACT)
    for name, args in CONTRACT.items():
        func = getattr(targets, name)
        assert list(inspect.signature(func).parameters) == args
        assert ".. math::" in func.__doc__ and "Parameters" in func.__doc__ and "Returns" in func.__doc__


def test_docstrings_carry_the_derived_latex():
    from kssl_theory.symbolic import derive

    formulas = derive.latex_formulas()
    assert formulas["contrastive"]["target"] in targets.contrastive_target.__doc__
    assert formulas["vicreg"]["target"] in targets.vicreg_target.__doc__
    assert formulas["vicreg_centred"]["target"] in targets.vicreg_centred_target.__doc__


def test_hand_written_targets_are_gone():
    assert importlib.util.find_spec("kssl_theory.targets") is None
    pattern = re.compile(
        r"^\s*(from \. import targets|from \.targets import|import kssl_theory\.targets|"
        r"from kssl_theory import targets\b|from kssl_theory\.targets import)",
        re.MULTILINE,
    )
    for path in PACKAGE.rglob("*.py"):
        if "symbolic" in path.parts or "_generated" in path.parts:
            continue
        assert not pattern.search(path.read_text(encoding="utf-8")), path


def test_numeric_import_does_not_import_sympy():
    code = (
        "import sys, time\n"
        "t = time.perf_counter()\n"
        "import kssl_theory, kssl_theory._generated.targets, kssl_theory.symbolic\n"
        "assert 'sympy' not in sys.modules, sorted(m for m in sys.modules if m.startswith('sympy'))[:5]\n"
        "print(time.perf_counter() - t)\n"
    )
    done = subprocess.run([sys.executable, "-c", code], cwd=PACKAGE.parent, capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr
    assert float(done.stdout.strip()) >= 0


# Agreement with an independent NumPy construction --------------------------------------------


def _instance(rng, n, rank):
    Q, _ = np.linalg.qr(rng.standard_normal((n, n)))
    spectrum = rng.uniform(0.2, 3.0, n)
    spectrum[rank:] = 0.0
    K = (Q * spectrum) @ Q.T
    K = (K + K.T) / 2
    groups = rng.integers(0, max(2, n // 3), n)
    A = (groups[:, None] == groups[None, :]).astype(float)
    L = np.diag(A.sum(1)) - A
    return K, A, L


def _reference(K, A, L, reg, beta, c):
    w, V = np.linalg.eigh(K)
    keep = w > 1e-10 * w.max()
    Vr, wr = V[:, keep], w[keep]
    Kp = (Vr / wr) @ Vr.T
    P = Vr @ Vr.T
    root = (Vr * np.sqrt(wr)) @ Vr.T
    n = K.shape[0]
    H = np.eye(n) - np.ones((n, n)) / n
    return {
        "contrastive": P @ A @ P - reg / 2 * Kp,
        "vicreg": P @ (np.eye(n) - beta / 2 * L) @ P - reg / 2 * Kp,
        "vicreg_centred": H - beta / (2 * c) * L,
        "whitened_A": root @ A @ root,
        "whitened_L": root @ L @ root,
    }


@pytest.mark.parametrize("n, rank", [(6, 6), (7, 4), (10, 10), (9, 5)])
def test_builders_match_numpy(xp, n, rank):
    rng = np.random.default_rng(100 * n + rank)
    K, A, L = _instance(rng, n, rank)
    reg, beta, c = 0.37, 0.81, 1.6
    ref = _reference(K, A, L, reg, beta, c)
    Kx, Ax, Lx = (xp.asarray(M) for M in (K, A, L))
    kf = KernelFactor(Kx)
    assert kf.is_pd == (rank == n)
    got = {
        "contrastive": targets.contrastive_target(Ax, kf, reg),
        "vicreg": targets.vicreg_target(Lx, kf, beta, reg),
        "vicreg_centred": targets.vicreg_centred_target(Lx, beta, c),
        "whitened_A": targets.whitened_matrix(Ax, kf),
        "whitened_L": targets.whitened_laplacian_matrix(Lx, kf),
    }
    # Tolerance: K's eigenvalues lie in [0.2, 3], so K^+ and K^{1/2} carry an error of a few
    # hundred eps relative to their scale; 1e-10 leaves a wide margin.
    for key, value in got.items():
        assert type(value) is type(Ax), key
        if key.startswith("whitened"):
            # R^T M R depends on the root R the factor picked (Cholesky, or U_r Lambda^1/2 when K is
            # singular: r x r); what every root shares with K^1/2 M K^1/2 is the spectrum, zeros aside.
            assert value.shape == ((n, n) if rank == n else (rank, rank)), key
            got_w = np.sort(np.concatenate([np.linalg.eigvalsh(to_np(value)), np.zeros(n - value.shape[0])]))
            np.testing.assert_allclose(
                got_w, np.linalg.eigvalsh(ref[key]), rtol=0, atol=1e-10 * (1 + np.abs(ref[key]).max()), err_msg=key
            )
            continue
        np.testing.assert_allclose(
            to_np(value), ref[key], rtol=0, atol=1e-10 * (1 + np.abs(ref[key]).max()), err_msg=key
        )
    for key, fn, base in [
        ("contrastive", lambda top: targets.contrastive_minimum(Ax, top), float(np.sum(A * A))),
        ("vicreg", lambda top: targets.vicreg_minimum(3, top), 3.0),
    ]:
        top = np.linalg.eigvalsh(ref[key])[::-1][:3]
        expected = base - np.sum(np.maximum(top, 0) ** 2)
        assert float(fn(xp.asarray(top.copy()))) == pytest.approx(expected, rel=1e-12, abs=1e-12)
    # the penalty split T = free - p K^+ of the penalised objectives: p = lambda/2 (docs/theory.md §3)
    assert targets.contrastive_penalty(reg) == targets.vicreg_penalty(reg) == reg / 2
    w, V = np.linalg.eigh(K)
    keep = w > 1e-10 * w.max()
    Kp = (V[:, keep] / w[keep]) @ V[:, keep].T
    for key, free in [("contrastive", targets.contrastive_free(Ax, kf)), ("vicreg", targets.vicreg_free(Lx, kf, beta))]:
        np.testing.assert_allclose(to_np(free), ref[key] + reg / 2 * Kp, rtol=0, atol=1e-10 * (1 + np.abs(Kp).max()))
    assert targets.vicreg_centred_scale(c) == c
    assert float(targets.vicreg_centred_minimum(3, xp.asarray(np.array([0.9, 0.5, -0.1])))) == pytest.approx(
        3 - 0.81 - 0.25, rel=1e-14
    )


@pytest.mark.parametrize("n, rank", [(6, 6), (7, 4)])
def test_generated_losses_match_the_definitions(xp, n, rank):
    """Each generated loss against the docs/theory.md §3 definition written out in NumPy, at a random
    candidate (not an optimum, so no term vanishes); float64 sums of O(N d) products of O(1) entries:
    1e-12 relative."""
    rng = np.random.default_rng(10 * n + rank)
    K, A, L = _instance(rng, n, rank)
    C = rng.standard_normal((n, 3))
    Z = K @ C
    reg, beta, c = 0.37, 0.81, 1.6
    H = np.eye(n) - np.ones((n, n)) / n
    fro2 = lambda M: float(np.sum(M * M))  # noqa: E731
    expected = {
        "contrastive": fro2(Z @ Z.T - A) + reg * np.trace(C.T @ K @ C),
        "vicreg": fro2(Z.T @ Z - np.eye(3)) + beta * np.trace(Z.T @ L @ Z) + reg * np.trace(C.T @ K @ C),
        "vicreg_centred": fro2(c * Z.T @ H @ Z - np.eye(3)) + beta * np.trace(Z.T @ L @ Z),
        "laplacian_eigenmaps": np.trace(Z.T @ L @ Z),
        "whitened": -np.trace(C.T @ K @ A @ K @ C),
        "whitened_laplacian": np.trace(C.T @ K @ L @ K @ C),
    }
    Zx, Ax, Lx, Kx, Cx = (xp.asarray(M) for M in (Z, A, L, K, C))
    got = {
        "contrastive": targets.contrastive_loss(Zx, Ax, reg, K=Kx, C=Cx),
        "vicreg": targets.vicreg_loss(Zx, Lx, beta, reg, K=Kx, C=Cx),
        "vicreg_centred": targets.vicreg_centred_loss(Zx, Lx, beta, c),
        "laplacian_eigenmaps": targets.laplacian_eigenmaps_loss(Zx, Lx),
        "whitened": targets.whitened_loss(Zx, Ax),
        "whitened_laplacian": targets.whitened_laplacian_loss(Zx, Lx),
    }
    for key, value in got.items():
        assert float(value) == pytest.approx(expected[key], rel=1e-12, abs=1e-12), key
    # the terms in C need K and C; with reg = 0 they are skipped and Z alone suffices
    with pytest.raises(InputError, match=r"^reg = 0\.37 != 0 needs K= and coef= to evaluate"):
        targets.contrastive_loss(Zx, Ax, reg)
    assert float(targets.contrastive_loss(Zx, Ax, 0.0)) == pytest.approx(fro2(Z @ Z.T - A), rel=1e-12)


@pytest.mark.parametrize("n, rank", [(6, 6), (7, 4), (10, 10)])
def test_apply_is_the_formed_matrix_times_the_block(n, rank):
    """``*_apply(X)`` equals the generated formed matrix (itself checked against NumPy above) times
    ``X``, for positive definite and singular K and reg > 0; on absolute values and with reg = 0,
    ``*_apply_majorant`` bounds ``|*_apply(X)|`` entrywise (K positive definite: |L| X majorises L X).
    Tolerance: K's nonzero eigenvalues lie in [0.2, 3]; 1e-10 relative leaves a wide margin."""
    rng = np.random.default_rng(10 * n + rank)
    K, A, L = _instance(rng, n, rank)
    kf = KernelFactor(K)
    X = rng.standard_normal((n, 3))
    cases = [
        ("contrastive", dict(A=A, reg=0.37), targets.contrastive_target),
        ("vicreg", dict(L=L, beta=0.81, reg=0.37), targets.vicreg_target),
        ("laplacian_eigenmaps", dict(L=L), targets.laplacian_eigenmaps_matrix),
        ("whitened", dict(A=A), targets.whitened_matrix),
        ("whitened_laplacian", dict(L=L), targets.whitened_laplacian_matrix),
    ]
    for key, args, formed in cases:
        apply = getattr(targets, f"{key}_apply")
        names = CONTRACT[f"{key}_apply"]
        call = {k: v for k, v in {**args, "kf": kf}.items() if k in names}
        M = formed(**{k: v for k, v in call.items() if k in CONTRACT[formed.__name__]})
        if M.shape[0] != n:  # the whitened matrix in the coordinates of a singular K's root (r x r)
            continue
        got = apply(X, **call)
        np.testing.assert_allclose(got, M @ X, rtol=0, atol=1e-10 * (1 + np.abs(M).sum(axis=1).max()), err_msg=key)
        if not kf.is_pd:
            continue
        absolute = {k: (np.abs(v) if isinstance(v, np.ndarray) else v) for k, v in call.items()}
        absolute.update(**({"kf": kf.majorant()} if "kf" in call else {}), **({"reg": 0.0} if "reg" in call else {}))
        bound = getattr(targets, f"{key}_apply_majorant")(np.abs(X), **absolute)
        exact = apply(X, **{**call, **({"reg": 0.0} if "reg" in call else {})})
        assert np.all(np.abs(exact) <= bound * (1 + 1e-12) + 1e-300), key
