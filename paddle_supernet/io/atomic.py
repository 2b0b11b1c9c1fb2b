"""Atomic file writes: write to a temporary file in the same folder, then rename.

A reader never sees a half-written file and a killed writer leaves the old
file (or nothing) in place.

Example:
    >>> atomic_write_text("out.json", "{}")  # doctest: +SKIP
"""
from __future__ import annotations

import contextlib
import os
import tempfile
from pathlib import Path
from typing import Iterator

from ..errors import InputError


@contextlib.contextmanager
def atomic_open(path: str | os.PathLike, mode: str = "w", encoding: str | None = "utf-8") -> Iterator:
    """Open a temporary file beside ``path``; rename it onto ``path`` on success.

    On an exception the temporary file and any folder made for it are removed and ``path`` is
    untouched. A directory, an unwritable place or a missing permission given as ``path`` is an
    :class:`InputError` naming ``path`` as the user gave it (never the temporary file).
    """
    path = Path(path)
    if path.is_dir():
        raise InputError("is a directory; give a file name to write", file=str(path))
    made = [p for p in reversed(path.parents) if not p.exists()]
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    except OSError as err:
        _remove_dirs(made)
        raise InputError(f"cannot write here ({err.strerror or err})", file=str(path)) from None
    os.chmod(tmp, 0o666 & ~_umask())  # mkstemp makes 0600; give the file a normal write's mode
    binary = "b" in mode
    try:
        with os.fdopen(fd, mode, encoding=None if binary else encoding) as handle:
            yield handle
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException as err:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        _remove_dirs(made)
        if isinstance(err, OSError):
            raise InputError(f"cannot write here ({err.strerror or err})", file=str(path)) from None
        raise


def _remove_dirs(made: list) -> None:
    """Remove the folders made for a failed write, deepest first, if they are still empty."""
    for folder in reversed(made):
        with contextlib.suppress(OSError):
            folder.rmdir()


def _umask() -> int:
    current = os.umask(0)
    os.umask(current)
    return current


def atomic_write_text(path: str | os.PathLike, text: str) -> None:
    """Write ``text`` to ``path`` atomically (UTF-8)."""
    with atomic_open(path, "w") as handle:
        handle.write(text)


def atomic_write_bytes(path: str | os.PathLike, data: bytes) -> None:
    """Write ``data`` to ``path`` atomically."""
    with atomic_open(path, "wb") as handle:
        handle.write(data)


def copy_if_changed(source: str | os.PathLike, target: str | os.PathLike) -> bool:
    """Copy ``source`` to ``target`` byte for byte and atomically unless ``target`` already holds the
    same bytes (a run's submission kept beside a benchmark for committing); True when it wrote."""
    data = Path(source).read_bytes()
    if Path(target).exists() and Path(target).read_bytes() == data:
        return False
    atomic_write_bytes(target, data)
    return True
