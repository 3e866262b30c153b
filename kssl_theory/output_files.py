"""Result files: create output folders and check, before a long run starts, that its files can be written.

Shared by the experiment runner (:mod:`kssl_theory.experiments`) and the verification runner
(:mod:`proofs_check`): a bad output path fails at once with one :class:`~kssl_theory.errors.OutputError`
line naming the path and the reason, not with a traceback after minutes of computation.
Checks never change an existing file (it is opened without truncation) and work as root, where
``os.access`` says yes to everything.
"""

from __future__ import annotations

import contextlib
import os
import pathlib
import tempfile
from collections.abc import Iterator

from .errors import OutputError

__all__ = ["ensure_folder", "check_writable", "writing", "new_folders_removed_on_error"]


def _nearest_existing(path: pathlib.Path) -> pathlib.Path:
    """``path`` or its closest ancestor that exists."""
    for candidate in (path, *path.parents):
        if candidate.exists():
            return candidate
    return path


def ensure_folder(folder: pathlib.Path, what: str = "output folder") -> pathlib.Path:
    """Create ``folder`` (and its parents) if needed.

    Raises
    ------
    OutputError
        If ``folder`` is a file, lies under a file, or cannot be created; one line naming the path.
    """
    folder = pathlib.Path(folder)
    if folder.exists() and not folder.is_dir():
        raise OutputError(f"cannot write the {what} {folder}: it is a file, not a folder.")
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        blocker = _nearest_existing(folder.parent)
        why = (
            f"{blocker} is a file, not a folder"
            if blocker.exists() and not blocker.is_dir()
            else exc.strerror or str(exc)
        )
        raise OutputError(f"cannot create the {what} {folder}: {why}.") from exc
    return folder


@contextlib.contextmanager
def new_folders_removed_on_error(*folders: pathlib.Path) -> Iterator[None]:
    """Remove what the block created of ``folders`` (and their missing parents) if it raises.

    For checks that create one output folder and then refuse another: the refused run leaves no
    empty folders behind. Only folders that did not exist on entry and are empty are removed,
    deepest first; files written meanwhile are never touched.
    """
    missing = {p for folder in folders for p in (pathlib.Path(folder), *pathlib.Path(folder).parents) if not p.exists()}
    try:
        yield
    except BaseException:
        for path in sorted(missing, key=lambda p: len(p.parts), reverse=True):
            with contextlib.suppress(OSError):  # not created, or not empty: leave it
                path.rmdir()
        raise


def check_writable(path: str | os.PathLike[str], what: str = "") -> None:
    """Check, without changing it, that the file ``path`` can be written.

    An existing file is opened for writing without truncation; otherwise a temporary file is
    created next to it and removed.

    Parameters
    ----------
    path : path-like
    what : str, optional
        What the file is, for the message (``"the report"`` gives "cannot write the report PATH: ...").

    Raises
    ------
    OutputError
        If ``path`` is a directory, its folder is missing, or it cannot be written; one line
        naming the path and the reason.
    """
    path = pathlib.Path(path)
    label = f"{what} {path}" if what else str(path)
    if path.is_dir():
        raise OutputError(f"cannot write {label}: it is a directory, not a writable file.")
    if not path.parent.is_dir():
        parent = path.parent
        why = f"{parent} is a file, not a directory" if parent.exists() else f"directory {parent} does not exist"
        raise OutputError(f"cannot write {label}: {why}.")
    try:
        if path.exists():
            with open(path, "r+b"):
                pass
        else:
            fd, probe = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".probe", dir=path.parent)
            os.close(fd)
            os.unlink(probe)
    except OSError as exc:
        where = "it is not a writable file" if path.exists() else f"folder {path.parent} is not writable"
        raise OutputError(f"cannot write {label}: {where} ({exc.strerror or exc}).") from exc


@contextlib.contextmanager
def writing(path: pathlib.Path) -> Iterator[None]:
    """Turn an :class:`OSError` while writing ``path`` (a file or a folder) into a one-line :class:`OutputError`."""
    try:
        yield
    except OSError as exc:
        if isinstance(exc, OutputError):
            raise
        raise OutputError(f"cannot write {exc.filename or path}: {exc.strerror or exc}.") from exc
