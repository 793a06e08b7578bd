"""Crash-safe file writing shared by the store and the exporters.

A file is written to a temporary sibling, flushed and fsync'ed, then moved into
place with :func:`os.replace`, so a reader sees either the old file or the new
one, never a half-written one.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path

from astra.errors import InputError

__all__ = ["atomic_path", "atomic_write_bytes", "atomic_write_text", "ensure_writable_dir"]


def ensure_writable_dir(path: Path, *, what: str) -> Path:
    """Create ``path`` if needed and check we can write there, else ``InputError``."""
    path = Path(path).expanduser()
    try:
        path.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=path, prefix=".astra-probe-"):
            pass
    except OSError as exc:
        raise InputError(f"{what} {str(path)!r} is not writable: {exc.strerror or exc}") from exc
    return path


def _fsync_dir(directory: Path) -> None:
    with contextlib.suppress(OSError):  # not every platform/filesystem allows it
        fd = os.open(directory, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def _umask() -> int:
    current = os.umask(0)
    os.umask(current)
    return current


@contextlib.contextmanager
def atomic_path(target: Path) -> Iterator[Path]:
    """Yield a temporary path next to ``target``; on success move it into place.

    The caller writes the temporary file by any means (pandas, pyarrow, ...).
    On an exception the temporary file is removed and ``target`` is untouched.
    """
    target = Path(target)
    fd, tmp_name = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".tmp")
    os.close(fd)
    tmp = Path(tmp_name)
    os.chmod(tmp, 0o666 & ~_umask())  # mkstemp makes 0600; exports are ordinary files
    try:
        yield tmp
        with open(tmp, "rb+") as handle:
            os.fsync(handle.fileno())
        os.replace(tmp, target)
        _fsync_dir(target.parent)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()
        raise


def atomic_write_bytes(target: Path, payload: bytes) -> None:
    """Write ``payload`` to ``target`` atomically."""
    with atomic_path(target) as tmp:
        tmp.write_bytes(payload)


def atomic_write_text(target: Path, text: str) -> None:
    """Write ``text`` (UTF-8) to ``target`` atomically."""
    atomic_write_bytes(target, text.encode("utf-8"))
