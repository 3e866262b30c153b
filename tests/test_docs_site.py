"""The documentation site builds with ``mkdocs build --strict`` (mkdocs.yml; install the ``docs`` extra).

Strict mode turns every warning into an error: a broken link or anchor, a nav entry without its page,
an API reference that names a missing object, a docstring that griffe cannot parse (a documented
parameter the signature lacks, a section that does not parse), a notebook cell that raises. Skipped
where the ``docs`` extra is not installed.

Time on a shared 2-core machine: about 45 s from a clean checkout, which executes the notebooks
(on a background thread, while the API reference renders), and about 15 s when their executions are
cached in ``.cache/notebooks`` (docs/_ext/hooks.py: reused while the notebooks, the package's sources
and the library versions are unchanged).
"""

from __future__ import annotations

import os
import pathlib
import re
import subprocess
import sys
import time

import pytest

for _module in ("mkdocs", "material", "mkdocstrings_handlers.python", "mkdocs_jupyter"):
    pytest.importorskip(_module, reason="the docs extra is not installed: pip install -e '.[docs]'")

ROOT = pathlib.Path(__file__).resolve().parents[1]


def test_site_builds_strictly(tmp_path):
    env = dict(os.environ, NO_MKDOCS_2_WARNING="1")
    start = time.perf_counter()
    result = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir", str(tmp_path / "site")],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    elapsed = time.perf_counter() - start
    output = result.stdout + result.stderr
    assert result.returncode == 0, f"mkdocs build --strict failed (exit {result.returncode}):\n{output}"
    site = tmp_path / "site"
    for page in ("index.html", "api/kernel_regime/engine/index.html", "benchmarks/index.html", "changelog/index.html"):
        assert (site / page).is_file(), page
    notebooks = sorted(site.glob("notebooks/[0-9][0-9]_*/index.html"))
    assert len(notebooks) == len(list(ROOT.glob("notebooks/[0-9][0-9]_*.py"))), notebooks
    if os.environ.get("KSSL_DOCS_EXECUTE", "true").lower() not in ("false", "0", "no", "off"):
        for page in notebooks:  # rendered with outputs: every walkthrough shows at least one figure
            html = page.read_text(encoding="utf-8")
            assert re.search(r'<img[^>]*src="data:image/png', html), f"{page.parent.name} shows no figure"
    print(f"mkdocs build --strict: {elapsed:.1f} s")
