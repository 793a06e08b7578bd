"""A crash-safe cache of fetched price frames.

Layout under the root (``$ASTRA_CACHE_DIR`` or the platform user cache dir)::

    frames/<digest>-<uuid>.parquet   immutable, written once (temp file + fsync + os.replace)
    manifest.json                    key digest → entry; replaced atomically under a lock
    locks/<digest>.lock, manifest.lock

Each Parquet file carries its key and metadata in its schema metadata, so a
corrupted or stale manifest is rebuilt from the files alone. A writer killed
at any moment leaves at worst an orphan temporary file, which readers ignore.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import time
import uuid
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
from filelock import FileLock

from astra._io import atomic_path, atomic_write_text, ensure_writable_dir
from astra.data._frame import PriceData, PriceMeta
from astra.errors import InputError

__all__ = ["CacheKey", "PriceStore", "default_cache_dir"]

_ORPHAN_AGE_S = 600.0  # a temporary file this old has no live writer

_META_KEY = b"astra"
_MANIFEST_VERSION = 1


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

    @classmethod
    def from_dict(cls, payload: dict[str, Any]) -> CacheKey:
        return cls(
            source=str(payload["source"]),
            tickers=tuple(payload["tickers"]),
            start=payload.get("start"),
            end=payload.get("end"),
            interval=str(payload.get("interval", "1d")),
        )


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

    # -------------------------------------------------------------- paths and locks
    @property
    def _frames(self) -> Path:
        return self.root / "frames"

    @property
    def _manifest_path(self) -> Path:
        return self.root / "manifest.json"

    def _lock(self, name: str) -> FileLock:
        return FileLock(str(self.root / "locks" / f"{name}.lock"), timeout=60)

    def _ensure(self) -> None:
        ensure_writable_dir(self.root, what="cache directory (set ASTRA_CACHE_DIR to move it)")
        for sub in (self._frames, self.root / "locks"):
            sub.mkdir(exist_ok=True)

    # -------------------------------------------------------------- manifest
    def _read_manifest(self) -> dict[str, Any] | None:
        """The manifest's entries, or None when it is missing, corrupted or stale."""
        try:
            payload = json.loads(self._manifest_path.read_text())
        except FileNotFoundError:
            return {} if not self._frames.exists() or not any(self._frames.glob("*.parquet")) else None
        except (OSError, ValueError):
            return None
        entries = payload.get("entries") if isinstance(payload, dict) else None
        if not isinstance(entries, dict) or payload.get("version") != _MANIFEST_VERSION:
            return None
        for digest, entry in entries.items():
            if not isinstance(entry, dict) or not (self._frames / str(entry.get("file", ""))).is_file():
                return None
            if entry.get("key", {}).get("source") is None or digest != CacheKey.from_dict(entry["key"]).digest:
                return None
        return entries

    def _write_manifest(self, entries: dict[str, Any]) -> None:
        atomic_write_text(self._manifest_path, json.dumps({"version": _MANIFEST_VERSION, "entries": entries}, indent=1))

    def _entries(self) -> dict[str, Any]:
        entries = self._read_manifest()
        if entries is None:
            entries = self.rebuild()
        return entries

    def rebuild(self) -> dict[str, Any]:
        """Rebuild the manifest from the Parquet files present; returns the entries.

        Unreadable files and orphan temporary files are skipped (temporaries older than
        ten minutes removed);
        for each key the newest file wins.
        """
        entries = self._scan()
        if self._frames.is_dir():
            with contextlib.suppress(OSError, InputError):  # a read-only cache still serves what it has
                self._ensure()
                with self._lock("manifest"):
                    self._write_manifest(entries)
        return entries

    def _scan(self) -> dict[str, Any]:
        entries: dict[str, Any] = {}
        if not self._frames.exists():
            return entries
        stale = time.time() - _ORPHAN_AGE_S
        for tmp in self._frames.glob(".*.tmp"):
            # Only orphans of a crashed writer: a fresh temporary file may belong to a writer
            # in another process that is about to move it into place (it holds its key's lock,
            # not the manifest's).
            with contextlib.suppress(OSError):
                if tmp.stat().st_mtime < stale:
                    tmp.unlink()
        for path in sorted(self._frames.glob("*.parquet")):
            try:
                raw = pq.read_schema(path).metadata or {}
                info = json.loads(raw[_META_KEY])
                key = CacheKey.from_dict(info["key"])
            except (OSError, KeyError, ValueError, pa.ArrowException):
                continue
            entry = {"file": path.name, "key": asdict(key), "meta": info["meta"]}
            current = entries.get(key.digest)
            if current is None or entry["meta"].get("fetched_at", "") >= current["meta"].get("fetched_at", ""):
                entries[key.digest] = entry
        return entries

    # -------------------------------------------------------------- public API
    def entries(self) -> list[dict[str, Any]]:
        """What is cached: one dict per key (file, key, metadata)."""
        return list(self._entries().values())

    def put(self, key: CacheKey, data: PriceData) -> Path:
        """Store ``data`` under ``key``: Parquet first (atomic), then the manifest."""
        self._ensure()
        target = self._frames / f"{key.digest}-{uuid.uuid4().hex[:12]}.parquet"
        info = {"key": asdict(key), "meta": data.meta.to_dict()}
        table = pa.Table.from_pandas(data.prices, preserve_index=True)
        table = table.replace_schema_metadata({**(table.schema.metadata or {}), _META_KEY: json.dumps(info)})
        with self._lock(key.digest):
            with atomic_path(target) as tmp:
                pq.write_table(table, tmp)
            with self._lock("manifest"):
                entries = self._read_manifest()
                if entries is None:  # missing or corrupted: rebuild from the files (ours included)
                    entries = self._scan()
                previous = entries.get(key.digest)
                entries[key.digest] = {"file": target.name, **info}
                self._write_manifest(entries)
            if previous and previous["file"] != target.name:
                with contextlib.suppress(OSError):
                    (self._frames / previous["file"]).unlink()
        return target

    def get(self, key: CacheKey) -> PriceData | None:
        """The cached frame for ``key`` (or sliced from a covering entry), else None."""
        entries = self._entries()
        entry = entries.get(key.digest)
        if entry is None:
            covering = [e for e in entries.values() if CacheKey.from_dict(e["key"]).covers(key)]
            if not covering:
                return None
            entry = max(covering, key=lambda e: e["meta"].get("fetched_at", ""))
        try:
            frame = pq.read_table(self._frames / entry["file"]).to_pandas()
        except (OSError, pa.ArrowException):
            self.rebuild()
            return None
        frame = _slice(frame, key)
        return PriceData(frame, PriceMeta.from_dict(entry["meta"]))


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
