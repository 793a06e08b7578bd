"""A crash-safe cache of fetched price frames.

Layout under the root (``$ASTRA_CACHE_DIR`` or the platform user cache dir)::

    frames/<digest>-<uuid>.parquet   immutable, written once, with page checksums
    manifest.json                    key digest → entry; replaced atomically under a lock
    locks/<digest>.lock, manifest.lock

The protocol, and why readers never see a false miss:

- A writer writes its Parquet file under a temporary name (holding its key's
  lock), then, holding the manifest lock, renames it into place, writes the new
  manifest atomically and garbage-collects: every Parquet file the manifest no
  longer names, every ``.manifest.json.*.tmp`` and every temporary Parquet file
  whose writer is gone (its key lock is free) is deleted. So under the manifest
  lock, the files on disk are exactly the manifest's.
- A reader reads the manifest once per lookup and opens the file it names. If
  the file vanished (a writer superseded it since), it reads the manifest again;
  after a few such races it reads under the manifest lock, where nothing moves.
- A manifest that is not valid JSON, has the wrong version, or any entry with a
  field of the wrong type is rebuilt from the files: each Parquet file carries
  its key and metadata in its schema metadata.
- A frame that fails to read (bad footer, checksum mismatch, wrong contents) is
  *corrupt*, not missing: it is removed and the lookup raises
  :class:`~astra.errors.DataUnavailable` saying so (unless another cached entry
  covers the request).
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import re
import tempfile
import uuid
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
from filelock import FileLock, Timeout

from astra._io import atomic_write_text, ensure_writable_dir, fsync_dir
from astra.data._frame import PriceData, PriceMeta
from astra.errors import DataUnavailable, InputError, listing

__all__ = ["CacheKey", "PriceStore", "default_cache_dir"]

_META_KEY = b"astra"
_MANIFEST_VERSION = 1
_FRAME_FILE = re.compile(r"^([0-9a-f]{24})-[0-9a-f]{12}\.parquet$")
_OPTIMISTIC_READS = 3  # lookups that race a writer; then one under the manifest lock
_LOCK_WAIT_S = 60.0


def default_cache_dir() -> Path:
    """``$ASTRA_CACHE_DIR`` if set, else the platform's user cache directory for astra."""
    env = os.environ.get("ASTRA_CACHE_DIR")
    if env:
        return Path(env).expanduser()
    import platformdirs

    return Path(platformdirs.user_cache_dir("astra"))


@dataclass(frozen=True)
class CacheKey:
    """What was fetched: provider, tickers, inclusive date range, interval."""

    source: str
    tickers: tuple[str, ...]
    start: str | None
    end: str | None
    interval: str = "1d"

    def __post_init__(self) -> None:
        object.__setattr__(self, "tickers", tuple(sorted(str(t).upper() for t in self.tickers)))

    @property
    def digest(self) -> str:
        canonical = json.dumps(asdict(self), sort_keys=True, separators=(",", ":"))
        return hashlib.sha256(canonical.encode()).hexdigest()[:24]

    def covers(self, other: CacheKey) -> bool:
        """True when an entry under ``self`` holds everything ``other`` asks for."""
        if (self.source, self.interval) != (other.source, other.interval):
            return False
        if not set(other.tickers) <= set(self.tickers):
            return False
        start_ok = self.start is None or (other.start is not None and self.start <= other.start)
        end_ok = self.end is None or (other.end is not None and other.end <= self.end)
        return start_ok and end_ok

    def describe(self) -> str:
        """``yahoo AAPL, MSFT 2022-01-03 to 2022-12-30 (1d)``, tickers capped, for messages."""
        span = f"{self.start or 'first date'} to {self.end or 'last date'}"
        return f"{self.source} {listing(self.tickers)} {span} ({self.interval})"

    @classmethod
    def from_dict(cls, payload: dict[str, Any]) -> CacheKey:
        return cls(
            source=str(payload["source"]),
            tickers=tuple(payload["tickers"]),
            start=payload.get("start"),
            end=payload.get("end"),
            interval=str(payload.get("interval", "1d")),
        )


# ---------------------------------------------------------------------- schema checks
def _is(value: Any, *types: type) -> bool:
    return isinstance(value, types) and not (isinstance(value, bool) and bool not in types)


def _valid_key(key: Any) -> bool:
    return (
        isinstance(key, dict)
        and _is(key.get("source"), str)
        and isinstance(key.get("tickers"), list)
        and all(_is(t, str) for t in key["tickers"])
        and all(key.get(k) is None or _is(key[k], str) for k in ("start", "end"))
        and _is(key.get("interval", "1d"), str)
    )


def _valid_meta(meta: Any) -> bool:
    return (
        isinstance(meta, dict)
        and _is(meta.get("source"), str)
        and _is(meta.get("interval", "1d"), str)
        and _is(meta.get("adjusted", True), bool)
        and (meta.get("timezone") is None or _is(meta["timezone"], str))
        and _is(meta.get("synthetic", False), bool)
        and _is(meta.get("fetched_at", ""), str)
        and isinstance(meta.get("notes", []), list)
        and all(_is(n, str) for n in meta.get("notes", []))
    )


def _valid_entry(digest: Any, entry: Any) -> bool:
    """Every field of a manifest entry has the right type, and the names agree with the key."""
    if not (isinstance(entry, dict) and _is(entry.get("file"), str) and _valid_key(entry.get("key"))):
        return False
    match = _FRAME_FILE.match(entry["file"])
    return (
        match is not None
        and _valid_meta(entry.get("meta"))
        and digest == match.group(1) == CacheKey.from_dict(entry["key"]).digest
    )


class _Corrupt(Exception):
    """A cached frame that cannot be what its entry says it is."""


class PriceStore:
    """Cache of :class:`PriceData` frames keyed by :class:`CacheKey`.

    Examples
    --------
    >>> import tempfile
    >>> from astra.data.providers.sample import load_sample
    >>> store = PriceStore(tempfile.mkdtemp())
    >>> key = CacheKey("sample", ("AAPL",), "2022-12-01", "2022-12-28")
    >>> _ = store.put(key, load_sample(["AAPL"], "2022-12-01", "2022-12-28"))
    >>> store.get(key).prices.shape
    (19, 1)
    """

    def __init__(self, root: str | os.PathLike[str] | None = None) -> None:
        self.root = Path(root).expanduser() if root is not None else default_cache_dir()
        self._manifest_lock: FileLock | None = None

    # -------------------------------------------------------------- paths and locks
    @property
    def _frames(self) -> Path:
        return self.root / "frames"

    @property
    def _manifest_path(self) -> Path:
        return self.root / "manifest.json"

    def _lock(self, name: str, timeout: float = _LOCK_WAIT_S) -> FileLock:
        return FileLock(str(self.root / "locks" / f"{name}.lock"), timeout=timeout)

    def _ensure(self) -> None:
        ensure_writable_dir(self.root, what="cache directory (set ASTRA_CACHE_DIR to move it)")
        for sub in (self._frames, self.root / "locks"):
            sub.mkdir(exist_ok=True)

    @contextlib.contextmanager
    def _key_locked(self, key: CacheKey) -> Iterator[None]:
        try:
            with self._lock(key.digest):
                yield
        except Timeout as exc:
            raise DataUnavailable(f"the cache entry for {key.describe()} stayed locked for {_LOCK_WAIT_S:g} s") from exc

    @contextlib.contextmanager
    def _locked(self) -> Iterator[bool]:
        """Hold the manifest lock (re-entrant); yields False when the cache is read-only and cannot be locked."""
        if self._manifest_lock is None:
            self._manifest_lock = self._lock("manifest")
        try:
            self._manifest_lock.acquire()
        except Timeout as exc:
            raise DataUnavailable(f"the cache {self.root} stayed locked for {_LOCK_WAIT_S:g} s ({exc})") from exc
        except OSError:  # no locks directory and no right to create it: nobody writes here
            yield False
            return
        try:
            yield True
        finally:
            self._manifest_lock.release()

    # -------------------------------------------------------------- manifest
    def _load(self) -> dict[str, Any] | None:
        """The manifest's entries (read once), or None when it is missing, corrupted or of the wrong schema."""
        try:
            payload = json.loads(self._manifest_path.read_text("utf-8"))
        except FileNotFoundError:
            return {} if not self._frames.exists() or not any(self._frame_files()) else None
        except (OSError, ValueError):
            return None
        entries = payload.get("entries") if isinstance(payload, dict) else None
        if not isinstance(entries, dict) or payload.get("version") != _MANIFEST_VERSION:
            return None
        if not all(_valid_entry(digest, entry) for digest, entry in entries.items()):
            return None
        return entries

    def _write_manifest(self, entries: dict[str, Any]) -> None:
        atomic_write_text(self._manifest_path, json.dumps({"version": _MANIFEST_VERSION, "entries": entries}, indent=1))

    def _entries(self) -> dict[str, Any]:
        entries = self._load()
        return self.rebuild() if entries is None else entries

    def _frame_files(self) -> Iterator[Path]:
        return (p for p in self._frames.iterdir() if _FRAME_FILE.match(p.name))

    def rebuild(self) -> dict[str, Any]:
        """Rebuild the manifest from the Parquet files present and collect garbage; returns the entries.

        Unreadable files are skipped (and deleted with the other unreachable files);
        for each key the newest file wins.
        """
        if not self._frames.is_dir():
            return {}
        try:
            self._ensure()
        except (OSError, InputError):  # a read-only cache still serves what it has
            return self._scan()
        with self._locked() as locked:
            if not locked:
                return self._scan()
            entries = self._load()  # another process may have rebuilt it meanwhile
            if entries is None:
                entries = self._scan()
                self._write_manifest(entries)
            self._collect(entries)
            return entries

    def _scan(self) -> dict[str, Any]:
        entries: dict[str, Any] = {}
        newest: dict[str, tuple[str, int]] = {}
        if not self._frames.exists():
            return entries
        for path in sorted(self._frame_files()):
            try:
                info = json.loads(pq.read_schema(path).metadata[_META_KEY])
                stamp = path.stat().st_mtime_ns
            except (OSError, KeyError, ValueError, TypeError, pa.ArrowException):
                continue
            entry = {"file": path.name, **info} if isinstance(info, dict) else {}
            digest = path.name[:24]
            if not _valid_entry(digest, entry):
                continue
            order = (entry["meta"].get("fetched_at", ""), stamp)
            if digest not in newest or order >= newest[digest]:
                entries[digest], newest[digest] = entry, order
        return entries

    def _collect(self, entries: dict[str, Any], held: str | None = None) -> None:
        """Delete what no reader can reach. The caller holds the manifest lock (and ``held``'s key lock)."""
        live = {entry["file"] for entry in entries.values()}
        for path in list(self._frames.iterdir()) if self._frames.is_dir() else []:
            if _FRAME_FILE.match(path.name):
                if path.name not in live:
                    with contextlib.suppress(OSError):
                        path.unlink()
            elif path.name.startswith(".") and path.name.endswith(".tmp"):
                # A writer's temporary file: an orphan only if no process holds that key's lock
                # (the caller's own key: its file is in place already, so any other is an orphan).
                digest = path.name[1:25]
                key_lock = contextlib.nullcontext() if digest == held else self._lock(digest, timeout=0)
                with contextlib.suppress(Timeout, OSError), key_lock:
                    path.unlink()
        for tmp in self.root.glob(f".{self._manifest_path.name}.*.tmp"):  # written only under this lock
            with contextlib.suppress(OSError):
                tmp.unlink()

    # -------------------------------------------------------------- public API
    def entries(self) -> list[dict[str, Any]]:
        """What is cached: one dict per key (file, key, metadata)."""
        entries = self._entries()
        if any(not (self._frames / e["file"]).is_file() for e in entries.values()):
            with self._locked() as locked:  # files deleted by hand: drop their entries
                entries = {d: e for d, e in self._entries().items() if (self._frames / e["file"]).is_file()}
                if locked:
                    self._write_manifest(entries)
        return list(entries.values())

    def put(self, key: CacheKey, data: PriceData) -> Path:
        """Store ``data`` under ``key``: Parquet first (atomic), then the manifest, then garbage collection."""
        self._ensure()
        target = self._frames / f"{key.digest}-{uuid.uuid4().hex[:12]}.parquet"
        info = {"key": asdict(key), "meta": data.meta.to_dict()}
        table = pa.Table.from_pandas(data.prices, preserve_index=True)
        table = table.replace_schema_metadata({**(table.schema.metadata or {}), _META_KEY: json.dumps(info)})
        with self._key_locked(key):
            fd, name = tempfile.mkstemp(dir=self._frames, prefix=f".{target.name}.", suffix=".tmp")
            os.close(fd)
            tmp = Path(name)
            try:
                pq.write_table(table, tmp, write_page_checksum=True)
                with open(tmp, "rb+") as handle:
                    os.fsync(handle.fileno())
                with self._locked():
                    entries = self._load()
                    if entries is None:  # missing, corrupted or wrong schema: rebuild from the files
                        entries = self._scan()
                    os.replace(tmp, target)
                    fsync_dir(self._frames)
                    entries[key.digest] = {"file": target.name, **info}
                    self._write_manifest(entries)
                    self._collect(entries, held=key.digest)
            finally:
                with contextlib.suppress(FileNotFoundError):
                    tmp.unlink()
        return target

    def get(self, key: CacheKey) -> PriceData | None:
        """The cached frame for ``key`` (or sliced from a covering entry), else None.

        Raises
        ------
        DataUnavailable
            The frame that would serve ``key`` is corrupt (it has been removed), or
            the cache cannot be read.
        """
        corrupt: list[str] = []
        for _ in range(_OPTIMISTIC_READS):
            entry = _pick(self._entries(), key)
            if entry is None:
                return self._miss(key, corrupt)
            try:
                return self._read(entry, key)
            except FileNotFoundError:
                continue  # superseded since we read the manifest: read it again
            except _Corrupt as exc:
                corrupt.append(str(exc))
                self._drop(entry)
        tried: set[str] = set()
        with self._locked():  # nothing moves while we hold it
            while (entry := _pick(self._entries(), key)) is not None and entry["file"] not in tried:
                tried.add(entry["file"])
                try:
                    return self._read(entry, key)
                except FileNotFoundError:
                    self._drop(entry)  # deleted by hand: the entry is stale
                except _Corrupt as exc:
                    corrupt.append(str(exc))
                    self._drop(entry)
        return self._miss(key, corrupt)

    def _miss(self, key: CacheKey, corrupt: list[str]) -> None:
        if corrupt:
            raise DataUnavailable(
                f"the cached frame for {key.describe()} was corrupt ({corrupt[0]}); it was removed from the "
                f"cache ({self.root}); download it again (without --offline)"
            )
        return None

    def _read(self, entry: dict[str, Any], key: CacheKey) -> PriceData:
        path = self._frames / entry["file"]
        try:
            table = pq.read_table(path, page_checksum_verification=True)
        except FileNotFoundError:
            raise
        except PermissionError as exc:
            raise DataUnavailable(f"cannot read the cache file {path}: {exc.strerror or exc}") from exc
        except (OSError, pa.ArrowException) as exc:
            raise _Corrupt(f"{path.name}: {str(exc)[:120]}") from exc
        try:
            info = json.loads((table.schema.metadata or {})[_META_KEY])
            frame = table.to_pandas()
        except (KeyError, ValueError, TypeError, pa.ArrowException) as exc:
            raise _Corrupt(f"{path.name}: unreadable metadata or columns") from exc
        if not isinstance(info, dict) or info.get("key") != entry["key"]:
            raise _Corrupt(f"{path.name}: holds another key than the manifest says")
        if not isinstance(frame.index, pd.DatetimeIndex) or any(
            not pd.api.types.is_float_dtype(dtype) for dtype in frame.dtypes
        ):
            raise _Corrupt(f"{path.name}: not a price frame (dates × float columns)")
        return PriceData(_slice(frame, key), PriceMeta.from_dict(entry["meta"]))

    def _drop(self, entry: dict[str, Any]) -> None:
        """Remove ``entry`` (and its file) if the manifest still names that file."""
        with self._locked() as locked:
            if not locked:
                return
            entries = self._entries()
            digest = entry["file"][:24]
            if entries.get(digest, {}).get("file") == entry["file"]:
                del entries[digest]
                self._write_manifest(entries)
                self._collect(entries)


def _pick(entries: dict[str, Any], key: CacheKey) -> dict[str, Any] | None:
    """The entry stored under ``key``, else the newest entry covering it, else None."""
    entry = entries.get(key.digest)
    if entry is not None:
        return entry
    covering = [e for e in entries.values() if CacheKey.from_dict(e["key"]).covers(key)]
    return max(covering, key=lambda e: e["meta"].get("fetched_at", "")) if covering else None


def _slice(frame: pd.DataFrame, key: CacheKey) -> pd.DataFrame:
    present = [t for t in frame.columns if str(t).upper() in key.tickers]
    frame = frame[present]
    index = frame.index
    lo = None if key.start is None else pd.Timestamp(key.start)
    hi = None if key.end is None else pd.Timestamp(key.end) + pd.Timedelta(days=1) - pd.Timedelta(1, "ns")
    if index.tz is not None:
        lo = None if lo is None else lo.tz_localize(index.tz)
        hi = None if hi is None else hi.tz_localize(index.tz)
    return frame.loc[lo:hi]
