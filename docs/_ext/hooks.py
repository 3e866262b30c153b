"""MkDocs hooks of the documentation site (``mkdocs.yml``: ``hooks``).

Files outside ``docs/``
    The site shows them without copies in ``docs/``. ``benchmarks/RESULTS.md`` and ``CHANGELOG.md``
    become the pages ``benchmarks.md`` and ``changelog.md``; their relative links and images are
    rewritten to where the targets are on the site: a file under ``docs/``, a notebook or another of
    these pages where the site has it, and any other file of the repository is copied into the site
    under ``repository/`` (at its path in the repository). A target that does not exist is left as
    written, so ``mkdocs build --strict`` reports it. The jupytext notebooks ``notebooks/NN_*.py``
    become the pages ``notebooks/NN_*.py``, rendered by mkdocs-jupyter (with ``include_source``, each
    page offers its notebook for download: the executed ``.ipynb``, outputs included).

Notebooks, executed at build time
    Each notebook is executed here (jupytext, then nbclient, as ``tests/test_notebooks.py`` does),
    one after the other on a background thread that starts as soon as the files are collected, so
    the kernels compute while this process renders the API reference (the build's other long part);
    mkdocs-jupyter then renders the executed ``.ipynb`` (its own ``execute`` stays off). A notebook
    page waits for its notebook. A cell that raises fails the build with the cell's traceback. The
    kernels get the environment of the notebook tests: one BLAS thread (the notebooks' matrices are
    small; on a busy 2-core machine a multi-threaded BLAS made SciPy's L-BFGS-B ~30x slower), no
    progress bars, the kernel's inline matplotlib backend; each runs in a fresh temporary folder.

    An executed notebook is kept in ``.cache/notebooks/<digest>/`` and reused while nothing its
    outputs depend on has changed: the digest covers the notebook's text, every source file of
    ``kssl_theory``, and the versions of Python and of the libraries the notebooks call (folders of
    other digests are removed). A clean checkout (CI) has no cache and executes all five; delete
    ``.cache/`` to force it. ``KSSL_DOCS_EXECUTE=false`` renders the notebooks without outputs
    (a quick preview; ``extra.notebooks.execute`` in ``mkdocs.yml``).
"""

from __future__ import annotations

import hashlib
import os
import platform
import posixpath
import re
import shutil
import tempfile
from concurrent.futures import Future, ThreadPoolExecutor
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any

from mkdocs.exceptions import PluginError
from mkdocs.plugins import event_priority
from mkdocs.structure.files import File, Files

ROOT = Path(__file__).resolve().parents[2]
#: Site page -> the repository file it shows.
EXTERNAL_PAGES = {"benchmarks.md": "benchmarks/RESULTS.md", "changelog.md": "CHANGELOG.md"}
NOTEBOOKS = "notebooks/[0-9][0-9]_*.py"
#: Where other repository files linked from an external page are copied in the site.
REPOSITORY = "repository"
CACHE = ROOT / ".cache"
#: Distributions whose versions change the notebooks' outputs (besides the package's own sources).
NOTEBOOK_LIBRARIES = ("numpy", "scipy", "sympy", "scikit-learn", "matplotlib", "array-api-compat", "jupytext")
#: Seconds a notebook cell may run (as in tests/test_notebooks.py).
CELL_TIMEOUT = 180

_SCHEME = re.compile(r"^([a-z][a-z0-9+.-]*:|/|#)", re.IGNORECASE)
# Inline links and images: [text](target "title") / ![alt](target); and <img src="target">.
_LINK = re.compile(r"(?P<before>\]\(\s*<?)(?P<target>[^)\s>]+)")
_SRC = re.compile(r"(?P<before><img\b[^>]*?\bsrc=[\"'])(?P<target>[^\"']+)")
_FENCE = re.compile(r"^(```|~~~)", re.MULTILINE)

_executor: ThreadPoolExecutor | None = None
_executed: dict[str, Future[Path]] = {}  # page src_uri -> the executed .ipynb


# --- notebooks ------------------------------------------------------------------------------------


def _environment_digest() -> hashlib._Hash:
    """A hash of what every notebook's outputs depend on besides its own text."""
    digest = hashlib.sha256(platform.python_version().encode())
    for name in NOTEBOOK_LIBRARIES:
        try:
            digest.update(f"{name}=={version(name)}".encode())
        except PackageNotFoundError:
            digest.update(f"{name} missing".encode())
    for path in sorted((ROOT / "kssl_theory").rglob("*.py")):
        digest.update(path.relative_to(ROOT).as_posix().encode() + b"\0" + path.read_bytes())
    return digest


def _notebook_digest(environment: hashlib._Hash, source: Path) -> str:
    digest = environment.copy()
    digest.update(source.read_bytes())
    return digest.hexdigest()[:16]


def _execute(source: Path, target: Path) -> Path:
    """Execute the jupytext notebook ``source`` and write it, with its outputs, to ``target``."""
    import jupytext
    import nbclient
    import nbformat

    nb = jupytext.read(source)
    with tempfile.TemporaryDirectory(prefix="kssl-docs-") as cwd:
        client = nbclient.NotebookClient(
            nb, timeout=CELL_TIMEOUT, kernel_name="python3", resources={"metadata": {"path": cwd}}
        )
        client.execute()
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_suffix(".partial")
    nbformat.write(nb, partial)
    partial.replace(target)
    return target


def _start_notebooks(config: Any, files: Files) -> None:
    """Add the notebook pages; start executing the ones without a cached execution."""
    global _executor
    execute = bool(config["extra"].get("notebooks", {}).get("execute", True))
    environment = _environment_digest() if execute else None
    folder = CACHE / "notebooks" / environment.hexdigest()[:16] if environment is not None else None
    if folder is not None and folder.parent.is_dir():
        for old in folder.parent.iterdir():
            if old != folder:
                shutil.rmtree(old, ignore_errors=True)
    _executed.clear()
    for source in sorted(ROOT.glob(NOTEBOOKS)):
        uri = source.relative_to(ROOT).as_posix()
        file = File(
            uri, src_dir=str(ROOT), dest_dir=config["site_dir"], use_directory_urls=config["use_directory_urls"]
        )
        if folder is not None and environment is not None:
            target = folder / _notebook_digest(environment, source) / (source.stem + ".ipynb")
            if target.is_file():
                done: Future[Path] = Future()
                done.set_result(target)
                _executed[uri] = done
            else:
                if _executor is None:
                    _executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="notebooks")
                _executed[uri] = _executor.submit(_execute, source, target)
        files.append(file)
    if folder is not None and environment is not None and folder.is_dir():
        current = {folder / _notebook_digest(environment, source) for source in ROOT.glob(NOTEBOOKS)}
        for old in folder.iterdir():  # executions of earlier versions of the notebooks
            if old not in current:
                shutil.rmtree(old, ignore_errors=True)


def _wait_for_notebook(page: Any) -> None:
    """Point a notebook page at its executed ``.ipynb`` once it is written (the page keeps its path)."""
    future = _executed.get(page.file.src_uri)
    if future is None:
        return
    try:
        target = future.result()
    except Exception as exc:  # a failing cell: nbclient's message holds the cell and its traceback
        raise PluginError(f"notebook {page.file.src_uri} failed to execute:\n{exc}") from exc
    # mkdocs-jupyter wrapped the File in its NotebookFile, whose abs_src_path is a cached property
    # derived from the source folder: set on the instance, it reads (and offers for download) the
    # executed notebook instead of the jupytext script.
    page.file.abs_src_path = str(target)


def _stop_notebooks() -> None:
    global _executor
    if _executor is not None:
        _executor.shutdown(wait=True, cancel_futures=True)
        _executor = None


# --- pages from outside docs/ ---------------------------------------------------------------------


def _outside_fences(text: str) -> list[tuple[bool, str]]:
    """Split Markdown into (is_prose, chunk); fenced code blocks are not rewritten."""
    parts, inside, last = [], False, 0
    for match in _FENCE.finditer(text):
        parts.append((not inside, text[last : match.start()]))
        inside, last = not inside, match.start()
    parts.append((not inside, text[last:]))
    return parts


def _relative_targets(text: str) -> list[str]:
    found = []
    for prose, chunk in _outside_fences(text):
        if prose:
            found += [m["target"] for pattern in (_LINK, _SRC) for m in pattern.finditer(chunk)]
    return [t for t in found if not _SCHEME.match(t)]


def _resolve(source: str, target: str) -> str | None:
    """The repository path (POSIX, relative to the root) that ``target`` in ``source`` points to."""
    path = posixpath.normpath(posixpath.join(posixpath.dirname(source), target.split("#", 1)[0]))
    return None if path.startswith("../") or not (ROOT / path).exists() else path


def _site_uri(repo_path: str) -> str:
    """Where the repository file ``repo_path`` is in the site's source tree."""
    if repo_path.startswith("docs/"):
        return repo_path[len("docs/") :]
    pages = {source: page for page, source in EXTERNAL_PAGES.items()}
    if repo_path in pages:
        return pages[repo_path]
    if Path(repo_path).match(NOTEBOOKS) and repo_path.startswith("notebooks/"):
        return repo_path
    return f"{REPOSITORY}/{repo_path}"


def _add_external_pages(config: Any, files: Files) -> None:
    for page, source in EXTERNAL_PAGES.items():
        if not (ROOT / source).is_file():
            continue  # the nav entry then fails the strict build, naming the page
        files.append(File.generated(config, page, abs_src_path=str(ROOT / source)))
        for target in _relative_targets((ROOT / source).read_text(encoding="utf-8")):
            path = _resolve(source, target)
            if path is not None and (ROOT / path).is_file():
                uri = _site_uri(path)
                if uri.startswith(f"{REPOSITORY}/") and files.get_file_from_path(uri) is None:
                    files.append(File.generated(config, uri, abs_src_path=str(ROOT / path)))


def _rewrite_links(markdown: str, source: str, page_uri: str) -> str:
    def rewrite(match: re.Match[str]) -> str:
        target = match["target"]
        path = None if _SCHEME.match(target) else _resolve(source, target)
        if path is None:
            return match[0]
        anchor = "#" + target.split("#", 1)[1] if "#" in target else ""
        new = posixpath.relpath(_site_uri(path.rstrip("/")), posixpath.dirname(page_uri) or ".")
        return match["before"] + new + anchor

    return "".join(
        _SRC.sub(rewrite, _LINK.sub(rewrite, chunk)) if prose else chunk for prose, chunk in _outside_fences(markdown)
    )


# --- MkDocs events --------------------------------------------------------------------------------


def on_config(config: Any) -> Any:
    os.environ.pop("MPLBACKEND", None)
    os.environ.setdefault("KSSL_NO_PROGRESS", "1")
    for var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ.setdefault(var, "1")
    jupyter = config.plugins.get("mkdocs-jupyter")
    if jupyter is not None:  # its cache of rendered pages, keyed by the executed .ipynb
        jupyter.config["cache_dir"] = str(CACHE / "mkdocs-jupyter")
    return config


@event_priority(100)  # before mkdocs-jupyter turns the notebooks into pages
def on_files(files: Files, config: Any) -> Files:
    _start_notebooks(config, files)
    _add_external_pages(config, files)
    return files


@event_priority(100)  # before mkdocs-jupyter reads the executed notebook
def on_pre_page(page: Any, config: Any, files: Files) -> Any:
    _wait_for_notebook(page)
    return page


def on_page_markdown(markdown: str, page: Any, config: Any, files: Files) -> str:
    source = EXTERNAL_PAGES.get(page.file.src_uri)
    return markdown if source is None else _rewrite_links(markdown, source, page.file.src_uri)


def on_post_build(config: Any) -> None:
    _stop_notebooks()


def on_build_error(error: Exception) -> None:
    _stop_notebooks()
