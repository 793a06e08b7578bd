"""Crash-safe file reading and writing shared by the store, the loaders and every output.

- :func:`atomic_path` writes one file: a temporary sibling, flushed and fsync'ed,
  then moved into place with :func:`os.replace`, so a reader sees either the old
  file or the new one, never a half-written one.
- :func:`output_dir` writes a *set* of files (a report and its exports): built in a
  temporary directory beside the target, swapped in together on success, nothing
  new left in the target on failure; a user's own files are never overwritten
  without ``force``.
- :func:`read_text` / :func:`decode_text` read a user's text file as UTF-8 (a
  byte-order mark accepted) and refuse anything else with the byte offset.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import json
import os
import shutil
import tempfile
import uuid
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

from filelock import FileLock, Timeout

from astra.errors import InputError, excerpt, listing

__all__ = [
    "OUTPUTS_RECORD",
    "atomic_path",
    "atomic_write_bytes",
    "atomic_write_text",
    "decode_text",
    "ensure_writable_dir",
    "fsync_dir",
    "output_dir",
    "read_bytes",
    "read_text",
]

_BOM = b"\xef\xbb\xbf"


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


def fsync_dir(directory: Path) -> None:
    """Flush a directory entry change (a rename) to disk, where the platform allows it."""
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
        fsync_dir(target.parent)
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


# ---------------------------------------------------------------------- reading text
def decode_text(data: bytes, where: str) -> str:
    """UTF-8 ``data`` as text (a leading byte-order mark dropped), else ``InputError`` with the byte offset.

    Examples
    --------
    >>> decode_text(b"\\xef\\xbb\\xbfticker", "f.csv")
    'ticker'
    >>> try:
    ...     decode_text(b"ticker\\n\\xe9", "f.csv")
    ... except InputError as exc:
    ...     print(str(exc)[:39])
    f.csv: not UTF-8 text (byte 7 is 0xe9);
    """
    skip = len(_BOM) if data.startswith(_BOM) else 0
    try:
        return data[skip:].decode("utf-8")
    except UnicodeDecodeError as exc:
        offset = exc.start + skip
        hint = " (it looks like UTF-16)" if data[:2] in (b"\xff\xfe", b"\xfe\xff") else ""
        raise InputError(
            f"{where}: not UTF-8 text{hint} (byte {offset:,} is 0x{data[offset]:02x}); "
            "save it as UTF-8 (e.g. 'CSV UTF-8' in a spreadsheet)"
        ) from None


def read_bytes(path: str | os.PathLike[str], *, what: str = "file") -> bytes:
    """The bytes of ``path``; a missing or unreadable file (or a directory) is an ``InputError``.

    Messages name the file as ``"{what} '{path}'"``.
    """
    path = Path(path)
    where = f"{what} {str(path)!r}"
    try:
        return path.read_bytes()
    except FileNotFoundError:
        raise InputError(f"{where}: file not found") from None
    except IsADirectoryError:
        raise InputError(f"{where}: is a directory, not a file") from None
    except OSError as exc:
        raise InputError(f"{where}: cannot read ({exc.strerror or exc})") from None


def read_text(path: str | os.PathLike[str], *, what: str = "file") -> str:
    """The UTF-8 text of ``path``; a missing, unreadable or non-UTF-8 file is an ``InputError``.

    Messages name the file as ``"{what} '{path}'"``.
    """
    return decode_text(read_bytes(path, what=what), f"{what} {str(Path(path))!r}")


# ---------------------------------------------------------------------- transactional output sets
OUTPUTS_RECORD = ".astra-outputs.json"
"""The file in an output directory that records what ASTRA wrote there (name → SHA-256, job)."""

_JOURNAL = ".astra-commit.json"
_RECORD_VERSION = 1
_LOCK_WAIT_S = 60.0
_SHA256_HEX = 64


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


@contextlib.contextmanager
def _held(path: Path, *, wait: float, busy: str) -> Iterator[None]:
    """Hold the lock file ``path``; it is removed before release so nothing is left behind.

    (filelock re-tries when the inode it locked was unlinked, so removing a held lock file is safe.)
    """
    lock = FileLock(str(path), timeout=wait)
    try:
        lock.acquire()
    except Timeout:
        raise InputError(busy) from None
    try:
        yield
    finally:
        with contextlib.suppress(OSError):
            path.unlink()
        lock.release()


def _try_hold(path: Path) -> FileLock | None:
    """The lock at ``path`` if nobody holds it (its owner is gone), else None."""
    lock = FileLock(str(path), timeout=0)
    try:
        lock.acquire()
    except (Timeout, OSError):
        return None
    return lock


def _files_under(root: Path) -> list[str]:
    """Relative POSIX paths of every non-directory entry under ``root``, sorted."""
    found = []
    for folder, dirs, names in os.walk(root):
        base = Path(folder)
        found += [(base / name).relative_to(root).as_posix() for name in names]
        found += [(base / d).relative_to(root).as_posix() for d in dirs if (base / d).is_symlink()]
    return sorted(found)


class _Outputs:
    """One run's output set: where it stages, what it may overwrite, how it commits (see :func:`output_dir`)."""

    def __init__(self, target: Any, *, force: bool, job: str, what: str) -> None:
        text = "" if target is None else os.fspath(target)
        self.shown = f"{what} {excerpt(text, 200)}"
        if not str(text).strip():
            raise InputError(f"{what} {text!r}: give a directory path")
        self.target = Path(text).expanduser().resolve()
        if self.target.exists() and not self.target.is_dir():
            raise InputError(f"{self.shown} is a file, not a directory; give a directory")
        self.force, self.job, self.what = bool(force), str(job), what
        self.created: list[Path] = []
        name = self.target.name
        self.home = self.target.parent if name else self.target
        self.tag = f".{name}.astra-stage-" if name else ".astra-stage-"
        self.commit_lock = self.home / (f".{name}.astra-commit.lock" if name else ".astra-commit.lock")

    # ------------------------------------------------------------------ set-up
    def prepare(self) -> None:
        """Create missing parents, choose where to stage, and check that the target is writable."""
        missing = [p for p in [self.target.parent, *self.target.parent.parents] if not p.exists()]
        try:
            for folder in reversed(missing):
                folder.mkdir()
                self.created.append(folder)
        except OSError as exc:
            raise InputError(f"{self.shown} cannot be created: {exc.strerror or exc}") from None
        if self.target.exists():
            self._probe(self.target)
        try:
            self._probe(self.home)
        except InputError:
            if not self.target.exists():
                raise
            # The parent is read-only but the target is writable: stage inside the target.
            self.home = self.target
            self.tag = ".astra-stage-"
            self.commit_lock = self.target / ".astra-commit.lock"

    def _probe(self, folder: Path) -> None:
        try:
            with tempfile.NamedTemporaryFile(dir=folder, prefix=".astra-probe-"):
                pass
        except OSError as exc:
            raise InputError(f"{self.shown} is not writable ({folder}: {exc.strerror or exc})") from None

    def undo_parents(self) -> None:
        for folder in reversed(self.created):
            with contextlib.suppress(OSError):
                folder.rmdir()  # only if still empty

    def locked(self) -> contextlib.AbstractContextManager[None]:
        busy = f"{self.shown} is being written by another ASTRA run (lock {self.commit_lock}); try again"
        return _held(self.commit_lock, wait=_LOCK_WAIT_S, busy=busy)

    def new_stage(self) -> tuple[Path, FileLock]:
        for _attempt in range(5):
            stage = self.home / f"{self.tag}{uuid.uuid4().hex[:16]}"
            lock = _try_hold(Path(str(stage) + ".lock"))  # before the directory exists: never taken for an orphan
            if lock is not None:
                break
            # another run's recovery caught our fresh lock file between its creation and its lock: new name
        else:
            raise InputError(f"{self.shown}: could not lock a staging directory in {self.home}")
        try:
            stage.mkdir()
        except OSError as exc:
            self.drop_stage(stage, lock)
            raise InputError(f"{self.shown} is not writable ({exc.strerror or exc})") from None
        return stage, lock

    @staticmethod
    def drop_stage(stage: Path, lock: FileLock | None, *, remove: bool = True) -> None:
        if remove:
            shutil.rmtree(stage, ignore_errors=True)
        with contextlib.suppress(OSError):
            Path(str(stage) + ".lock").unlink()
        if lock is not None:
            lock.release()

    # ------------------------------------------------------------------ recovery
    def recover(self) -> None:
        """Under the commit lock: finish or remove what killed runs left; remove stray temporary files."""
        for entry in sorted(p for p in self.home.iterdir() if p.name.startswith(self.tag)):
            stage = Path(str(entry).removesuffix(".lock"))
            if entry.name.endswith(".lock") and stage.exists():
                continue  # handled with its directory
            lock = _try_hold(Path(str(stage) + ".lock"))
            if lock is None:
                continue  # a live run
            finished = (stage / _JOURNAL).is_file()
            if finished:
                self.finish(stage)
            self.drop_stage(stage, lock, remove=True)
        if self.target.is_dir():
            names = set(self.read_record())
            for tmp in self.target.glob(".*.tmp"):  # atomic_path temporaries of our own outputs
                if any(tmp.name.startswith(f".{Path(n).name}.") for n in names):
                    with contextlib.suppress(OSError):
                        tmp.unlink()

    # ------------------------------------------------------------------ ownership
    def read_record(self) -> dict[str, dict[str, Any]]:
        """What ASTRA wrote in the target (invalid entries dropped; an unreadable record owns nothing)."""
        try:
            payload = json.loads((self.target / OUTPUTS_RECORD).read_text("utf-8"))
        except (OSError, ValueError):
            return {}
        files = payload.get("files") if isinstance(payload, dict) else None
        if not isinstance(files, dict) or payload.get("version") != _RECORD_VERSION:
            return {}
        return {
            name: entry
            for name, entry in files.items()
            if isinstance(entry, dict)
            and isinstance(entry.get("sha256"), str)
            and len(entry["sha256"]) == _SHA256_HEX
            and isinstance(entry.get("job"), str)
        }

    def _owned(self, name: str, record: dict[str, dict[str, Any]]) -> bool:
        path = self.target / name
        entry = record.get(name)
        if entry is None or path.is_symlink() or not path.is_file():
            return False
        try:
            return _sha256(path) == entry["sha256"]
        except OSError:
            return False

    def check(self, names: list[str] | tuple[str, ...], record: dict[str, dict[str, Any]]) -> None:
        """``InputError`` if writing ``names`` would replace a user's file (unless force) or a directory."""
        blocked, foreign = [], []
        for name in names:
            path = self.target / name
            ancestors = [p for p in path.relative_to(self.target).parents if str(p) != "."]
            under_a_file = any((self.target / a).exists() and not (self.target / a).is_dir() for a in ancestors)
            if under_a_file or (path.is_dir() and not path.is_symlink()):
                blocked.append(name)
            elif (path.exists() or path.is_symlink()) and not self._owned(name, record):
                foreign.append(name)
        if blocked:
            raise InputError(
                f"{self.shown}: {listing(blocked)} would replace a directory (or sit under a file) there; "
                "choose another directory"
            )
        if foreign and not self.force:
            raise InputError(
                f"{self.shown} already holds {listing(foreign)}, not written by ASTRA (or changed since); "
                "choose another directory, or force to overwrite"
            )

    # ------------------------------------------------------------------ commit
    def commit(self, stage: Path) -> None:
        """Under the commit lock: check, record, then swap the staged files in as one set."""
        produced = [n for n in _files_under(stage) if n not in (OUTPUTS_RECORD, _JOURNAL)]
        record = self.read_record() if self.target.is_dir() else {}
        self.check(produced, record)
        stale = [
            name
            for name, entry in record.items()
            if entry["job"] == self.job and name not in produced and self._owned(name, record)
        ]
        written = dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
        files = {
            name: entry
            for name, entry in record.items()
            if name not in produced and name not in stale and (self.target / name).exists()
        }
        for name in produced:
            path = stage / name
            digest = "0" * _SHA256_HEX if path.is_symlink() else _sha256(path)
            files[name] = {"sha256": digest, "job": self.job, "written": written}
        payload = json.dumps({"version": _RECORD_VERSION, "files": dict(sorted(files.items()))}, indent=1)
        with atomic_path(stage / OUTPUTS_RECORD) as tmp:
            tmp.write_text(payload, "utf-8")
        if not self.target.exists():
            with contextlib.suppress(OSError):  # created meanwhile: swap file by file below
                os.rename(stage, self.target)
                fsync_dir(self.target.parent)
                return
        journal = json.dumps({"write": produced, "remove": stale})
        with atomic_path(stage / _JOURNAL) as tmp:  # the point of no return: a killed run is completed later
            tmp.write_text(journal, "utf-8")
        try:
            self.finish(stage)
        except OSError as exc:
            raise InputError(
                f"{self.shown}: could not finish replacing the files ({exc.strerror or exc}); "
                "the next run into the same directory completes it"
            ) from None

    def finish(self, stage: Path) -> None:
        """Move a journaled stage's files into the target (idempotent: a killed commit resumes here)."""
        journal = json.loads((stage / _JOURNAL).read_text("utf-8"))
        self.target.mkdir(exist_ok=True)
        for name in journal.get("write", []):
            source = stage / name
            if source.exists() or source.is_symlink():
                (self.target / name).parent.mkdir(parents=True, exist_ok=True)
                os.replace(source, self.target / name)
        for name in journal.get("remove", []):
            with contextlib.suppress(FileNotFoundError):
                (self.target / name).unlink()
        if (stage / OUTPUTS_RECORD).exists():
            os.replace(stage / OUTPUTS_RECORD, self.target / OUTPUTS_RECORD)
        fsync_dir(self.target)
        (stage / _JOURNAL).unlink()


@contextlib.contextmanager
def output_dir(
    target: str | os.PathLike[str],
    *,
    force: bool = False,
    files: Iterable[str] = (),
    job: str = "output",
    what: str = "output directory",
) -> Iterator[Path]:
    """Build a set of output files aside and swap them into ``target`` together, or leave it untouched.

    Parameters
    ----------
    target
        The output directory (created with its parents if missing).
    force
        Overwrite files in ``target`` that ASTRA did not write, or that were changed
        since it wrote them. Without it such a file is an ``InputError`` (nothing written).
    files
        Names (relative paths) the job expects to write, checked on entry so a
        conflict fails before any work is done; every file actually written is
        checked again at commit.
    job
        What writes the set (``"report"``, ``"demo"``, ``"funding"``…). Files the
        same job wrote last time and does not write now are removed at commit,
        so a directory never mixes two runs of one job; other jobs' files stay.
    what
        How messages name the target (``"out"``; the CLI may pass ``"--out"``).

    Yields
    ------
    pathlib.Path
        A fresh, empty staging directory: write every output there, by any means
        (sub-directories allowed).

    Raises
    ------
    InputError
        ``target`` is ``''``, a file, or not writable; or the set would overwrite a
        user's file (without ``force``) or a directory.

    Notes
    -----
    The staging directory is ``.<name>.astra-stage-<id>`` beside the target (inside
    it when only the target is writable), on the same file system, so every move
    is a rename. On success the files replace their namesakes as one set (a new
    target is one directory rename) and ``target/.astra-outputs.json`` records
    what ASTRA wrote (name, SHA-256, job). On an exception, and after a SIGKILL,
    nothing new is in the target; the next run into the same target removes
    what a killed run left, or completes a run killed while it was swapping.

    Examples
    --------
    >>> import pathlib, tempfile
    >>> out = pathlib.Path(tempfile.mkdtemp()) / "report"
    >>> with output_dir(out, job="example") as stage:
    ...     _ = (stage / "a.csv").write_text("x\\n1\\n")
    >>> sorted(p.name for p in out.iterdir())
    ['.astra-outputs.json', 'a.csv']
    """
    outputs = _Outputs(target, force=force, job=job, what=what)
    stage: Path | None = None
    lock: FileLock | None = None
    try:
        outputs.prepare()
        with outputs.locked():
            outputs.recover()
            if outputs.target.is_dir():
                outputs.check(tuple(files), outputs.read_record())
        stage, lock = outputs.new_stage()
        yield stage
        with outputs.locked():
            outputs.commit(stage)
    except BaseException:
        if stage is not None:
            journaled = (stage / _JOURNAL).is_file()
            outputs.drop_stage(stage, lock, remove=not journaled)  # a journaled set is completed by the next run
            lock = None
        outputs.undo_parents()
        raise
    if lock is not None:
        outputs.drop_stage(stage, lock)
