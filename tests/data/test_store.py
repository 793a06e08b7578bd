"""The crash-safe cache: round trips, covering reads, self-healing manifest, SIGKILL safety."""

import json
import multiprocessing as mp
import os
import queue
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow.parquet as pq
import pytest
from filelock import FileLock

from astra.data._frame import PriceData, PriceMeta
from astra.data.store import CacheKey, PriceStore, default_cache_dir
from astra.errors import DataUnavailable, InputError

from ._store_writer import SHARED, frame_for, key_for

ROOT = Path(__file__).parents[2]


def _daily(n=30, cols=("A", "B")):
    index = pd.DatetimeIndex(list(pd.bdate_range("2024-01-02", periods=n)), name="date")  # no freq
    values = np.arange(n * len(cols), dtype=float).reshape(n, len(cols)) + 1.0
    values[3, 0] = np.nan
    return pd.DataFrame(values, index=index, columns=list(cols))


def test_default_cache_dir_honours_env(tmp_path, monkeypatch):
    monkeypatch.setenv("ASTRA_CACHE_DIR", str(tmp_path / "c"))
    assert default_cache_dir() == tmp_path / "c"
    assert PriceStore().root == tmp_path / "c"


def test_daily_round_trip_is_exact(tmp_path):
    store = PriceStore(tmp_path)
    key = CacheKey("yahoo", ("B", "A"), "2024-01-02", "2024-02-12", "1d")
    frame = _daily()
    store.put(key, PriceData(frame, PriceMeta(source="yahoo", notes=("n",))))
    got = store.get(CacheKey("yahoo", ("A", "B"), "2024-01-02", "2024-02-12", "1d"))  # order-insensitive
    pd.testing.assert_frame_equal(got.prices, frame)
    assert got.meta.source == "yahoo"
    assert got.meta.notes == ("n",)


def test_intraday_round_trip_keeps_timezone(tmp_path):
    store = PriceStore(tmp_path)
    index = pd.date_range("2026-11-20 09:30", periods=5, freq="min", tz="America/New_York", name="timestamp")
    frame = pd.DataFrame({"X": np.linspace(1, 2, 5)}, index=index)
    key = CacheKey("yahoo", ("X",), "2026-11-20", "2026-11-20", "1m")
    store.put(key, PriceData(frame, PriceMeta(source="yahoo", interval="1m", timezone="America/New_York")))
    pd.testing.assert_frame_equal(store.get(key).prices, frame, check_freq=False)


def test_covering_entry_is_sliced(tmp_path):
    store = PriceStore(tmp_path)
    frame = _daily(cols=("A", "B", "C"))
    store.put(CacheKey("yahoo", ("A", "B", "C"), "2024-01-01", "2024-03-01"), PriceData(frame, PriceMeta("yahoo")))
    got = store.get(CacheKey("yahoo", ("B",), "2024-01-10", "2024-01-20"))
    pd.testing.assert_frame_equal(got.prices, frame.loc["2024-01-10":"2024-01-20", ["B"]])
    assert store.get(CacheKey("yahoo", ("D",), "2024-01-10", "2024-01-20")) is None
    assert store.get(CacheKey("yahoo", ("A",), "2023-12-01", "2024-01-20")) is None  # not covered
    assert store.get(CacheKey("yahoo", ("A",), "2024-01-10", "2024-01-20", "1m")) is None


def test_corrupted_manifest_is_rebuilt_from_files(tmp_path):
    store = PriceStore(tmp_path)
    key = CacheKey("yahoo", ("A", "B"), None, None)
    store.put(key, PriceData(_daily(), PriceMeta("yahoo")))
    (tmp_path / "manifest.json").write_text("{ this is not json")
    pd.testing.assert_frame_equal(PriceStore(tmp_path).get(key).prices, _daily())
    assert json.loads((tmp_path / "manifest.json").read_text())["version"] == 1  # healed on disk


def test_manifest_pointing_at_a_deleted_file_drops_the_entry(tmp_path):
    store = PriceStore(tmp_path)
    k1, k2 = CacheKey("yahoo", ("A",), None, None), CacheKey("yahoo", ("B",), None, None)
    p1 = store.put(k1, PriceData(_daily(cols=("A",)), PriceMeta("yahoo")))
    store.put(k2, PriceData(_daily(cols=("B",)), PriceMeta("yahoo")))
    p1.unlink()
    assert store.get(k1) is None
    assert store.get(k2) is not None
    assert len(store.entries()) == 1


def test_unwritable_root_is_input_error(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("x")  # a regular file where the directory should be: fails for root too
    store = PriceStore(blocker / "cache")
    with pytest.raises(InputError, match="ASTRA_CACHE_DIR"):
        store.put(CacheKey("yahoo", ("A",), None, None), PriceData(_daily(cols=("A",)), PriceMeta("yahoo")))
    assert store.get(CacheKey("yahoo", ("A",), None, None)) is None  # reading a missing cache is a miss


def _put_many(root: str, label: str) -> None:
    store = PriceStore(root)
    for i in range(5):
        store.put(CacheKey("yahoo", (f"{label}{i}",), None, None), PriceData(_daily(cols=("A",)), PriceMeta("yahoo")))


def test_concurrent_writers_both_land(tmp_path):
    ctx = mp.get_context("spawn")
    procs = [ctx.Process(target=_put_many, args=(str(tmp_path), label)) for label in ("P", "Q")]
    for p in procs:
        p.start()
    for p in procs:
        p.join(60)
        assert p.exitcode == 0
    tickers = sorted(e["key"]["tickers"][0] for e in PriceStore(tmp_path).entries())
    assert tickers == sorted([f"P{i}" for i in range(5)] + [f"Q{i}" for i in range(5)])


class _Child:
    """A ``tests.data._store_writer`` process whose stdout lines arrive on a queue (never blocks the test)."""

    def __init__(self, *args: str) -> None:
        env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "tests.data._store_writer", *args],
            cwd=ROOT,
            env=env,
            stdout=subprocess.PIPE,
            text=True,
        )
        self.lines: queue.Queue[str] = queue.Queue()
        self._pumping = threading.Thread(target=self._pump, daemon=True)
        self._pumping.start()

    def _pump(self) -> None:
        for line in self.proc.stdout:
            self.lines.put(line.strip())

    def next_line(self, timeout: float = 90.0) -> str:
        return self.lines.get(timeout=timeout)

    def kill(self) -> None:
        self.proc.send_signal(signal.SIGKILL)
        self.finish()

    def finish(self) -> None:
        self.proc.wait(30)
        self._pumping.join(10)
        self.proc.stdout.close()


def _assert_no_orphans(root: Path) -> None:
    """After garbage collection the frames on disk are exactly the manifest's, with no temporary file."""
    manifest = json.loads((root / "manifest.json").read_text())
    named = {entry["file"] for entry in manifest["entries"].values()}
    on_disk = {p.name for p in (root / "frames").iterdir()}
    assert on_disk == named
    assert not list(root.glob(".manifest.json.*.tmp"))


def test_sigkill_mid_write_leaves_a_consistent_store(tmp_path):
    rng = np.random.default_rng(20261125)
    start = 0
    for _round in range(3):
        writer = _Child("write", str(tmp_path), str(start))
        writer.next_line()  # one put finished: the next is under way
        time.sleep(float(rng.uniform(0.0, 0.3)))
        writer.kill()
        start += 50
        store = PriceStore(tmp_path)
        # Every entry's file is complete and holds what was written under that key.
        for entry in store.entries():
            i = int(entry["meta"]["source"].split(":")[1])
            got = store.get(CacheKey.from_dict(entry["key"]))
            assert got is not None
            assert key_for(i) == CacheKey.from_dict(entry["key"])
            pd.testing.assert_frame_equal(got.prices, frame_for(i), check_freq=False)
        # No partial file is ever visible under a final name.
        for path in (tmp_path / "frames").glob("*.parquet"):
            pd.read_parquet(path)
    store = PriceStore(tmp_path)
    assert len(store.entries()) >= 1
    store.put(key_for(1000), PriceData(frame_for(1000), PriceMeta(source="crash:1000")))  # collects garbage
    _assert_no_orphans(tmp_path)


def test_readers_never_miss_while_a_writer_replaces_the_key_then_is_killed(tmp_path):
    # Three reader processes hammer one key while a writer replaces it in a loop (the writer
    # deletes each superseded file); every read must return a complete frame of some committed
    # version: no miss, no wrong contents, no error. Then the writer is SIGKILLed mid-put and the
    # next put collects everything it left.
    store = PriceStore(tmp_path)
    store.put(SHARED, PriceData(frame_for(0, SHARED), PriceMeta(source="crash:0")))
    writer = _Child("write", str(tmp_path), "1", "same")
    try:
        writer.next_line()
        readers = [_Child("read", str(tmp_path), "3") for _ in range(3)]
        tallies = [json.loads(reader.next_line(timeout=120)) for reader in readers]
        for reader in readers:
            reader.finish()
        versions = writer.lines.qsize()
    finally:
        writer.kill()
    assert versions >= 3  # the writer really replaced the key while the readers read
    assert sum(t["hits"] for t in tallies) >= 30
    assert [(t["misses"], t["wrong"], t["errors"]) for t in tallies] == [(0, 0, [])] * 3
    store.put(key_for(1), PriceData(frame_for(1), PriceMeta(source="crash:1")))
    _assert_no_orphans(tmp_path)
    got = store.get(SHARED)
    i = int(got.meta.source.split(":")[1])
    pd.testing.assert_frame_equal(got.prices, frame_for(i, SHARED), check_freq=False)


def test_superseded_files_and_orphans_are_collected(tmp_path):
    store = PriceStore(tmp_path)
    key, other = CacheKey("yahoo", ("A",), None, None), CacheKey("yahoo", ("B",), None, None)
    first = store.put(key, PriceData(_daily(cols=("A",)), PriceMeta("yahoo")))
    second = store.put(key, PriceData(_daily(cols=("A",)), PriceMeta("yahoo")))
    assert not first.exists() and second.exists()  # superseded: deleted at once
    frames = tmp_path / "frames"
    # What a writer killed at each step leaves: a temporary Parquet file, a renamed file the
    # manifest never named, a temporary manifest. And a live writer's temporary file.
    orphan_tmp = frames / f".{other.digest}-{'0' * 12}.parquet.abc.tmp"
    unnamed = frames / f"{other.digest}-{'1' * 12}.parquet"
    manifest_tmp = tmp_path / ".manifest.json.xyz.tmp"
    live_key = CacheKey("yahoo", ("C",), None, None)
    live_tmp = frames / f".{live_key.digest}-{'2' * 12}.parquet.def.tmp"
    for path in (orphan_tmp, unnamed, manifest_tmp, live_tmp):
        path.write_bytes(b"partial")
    with FileLock(str(tmp_path / "locks" / f"{live_key.digest}.lock")):  # its writer is alive
        store.put(other, PriceData(_daily(cols=("B",)), PriceMeta("yahoo")))
        assert live_tmp.exists()
    assert not any(p.exists() for p in (orphan_tmp, unnamed, manifest_tmp))
    store.rebuild()  # the writer has gone now: its temporary file is an orphan
    assert not live_tmp.exists()
    _assert_no_orphans(tmp_path)


def _entry_edits():
    def set_in(path, value):
        def edit(entry):
            target = entry
            for part in path[:-1]:
                target = target[part]
            target[path[-1]] = value

        return edit

    return {
        "tickers is a number": set_in(("key", "tickers"), 5),
        "key is null": set_in(("key",), None),
        "a ticker is a number": set_in(("key", "tickers"), [1]),
        "start is a number": set_in(("key", "start"), 20240102),
        "file is a number": set_in(("file",), 5),
        "file escapes the cache": set_in(("file",), "../../outside.parquet"),
        "meta is a list": set_in(("meta",), []),
        "meta source missing": set_in(("meta", "source"), None),
        "notes hold a number": set_in(("meta", "notes"), [1]),
        "adjusted is text": set_in(("meta", "adjusted"), "yes"),
        "key of another digest": set_in(("key", "source"), "sample"),
    }


@pytest.mark.parametrize("edit", list(_entry_edits()))
def test_manifest_with_a_wrong_type_is_rebuilt_and_put_still_works(tmp_path, edit):
    store = PriceStore(tmp_path)
    key = CacheKey("yahoo", ("A", "B"), None, None)
    store.put(key, PriceData(_daily(), PriceMeta("yahoo")))
    manifest = json.loads((tmp_path / "manifest.json").read_text())
    _entry_edits()[edit](next(iter(manifest["entries"].values())))
    (tmp_path / "manifest.json").write_text(json.dumps(manifest))
    pd.testing.assert_frame_equal(PriceStore(tmp_path).get(key).prices, _daily())  # rebuilt from the file
    healed = json.loads((tmp_path / "manifest.json").read_text())
    assert [e["key"]["tickers"] for e in healed["entries"].values()] == [["A", "B"]]
    other = CacheKey("yahoo", ("C",), None, None)
    store.put(other, PriceData(_daily(cols=("C",)), PriceMeta("yahoo")))
    assert store.get(other) is not None and store.get(key) is not None


@pytest.mark.parametrize(
    "payload", ['{"version": 1, "entries": []}', '{"version": "1", "entries": {}}', "[]", "null", '{"entries": 5}']
)
def test_manifest_of_the_wrong_shape_is_rebuilt(tmp_path, payload):
    store = PriceStore(tmp_path)
    key = CacheKey("yahoo", ("A",), None, None)
    store.put(key, PriceData(_daily(cols=("A",)), PriceMeta("yahoo")))
    (tmp_path / "manifest.json").write_text(payload)
    assert store.get(key) is not None
    store.put(key, PriceData(_daily(cols=("A",)), PriceMeta("yahoo")))
    _assert_no_orphans(tmp_path)


@pytest.mark.parametrize("damage", ["truncate", "flip a data byte", "garbage"])
def test_corrupt_frame_is_reported_as_corrupt_and_removed(tmp_path, damage):
    store = PriceStore(tmp_path)
    key = CacheKey("yahoo", ("A", "B"), "2024-01-02", "2024-02-12")
    path = store.put(key, PriceData(_daily(), PriceMeta("yahoo")))
    data = bytearray(path.read_bytes())
    if damage == "truncate":
        data = data[: len(data) // 2]
    elif damage == "flip a data byte":
        # One bit near the end of column A's chunk: inside its data page's payload, where pyarrow
        # without page checksums silently reads a wrong number; the page's CRC32 catches it.
        column = pq.read_metadata(path).row_group(0).column(0)
        chunk_end = (column.dictionary_page_offset or column.data_page_offset) + column.total_compressed_size
        data[chunk_end - 3] ^= 0x01
    else:
        data = bytearray(b"not parquet at all" * 10)
    path.write_bytes(bytes(data))
    with pytest.raises(DataUnavailable, match=r"corrupt .*removed from the cache"):
        store.get(key)
    assert not path.exists() and store.entries() == []
    assert store.get(key) is None  # from now on an ordinary miss


def test_corrupt_entry_falls_back_to_a_covering_one(tmp_path):
    store = PriceStore(tmp_path)
    wide = CacheKey("yahoo", ("A", "B"), None, None)
    narrow = CacheKey("yahoo", ("A",), None, None)
    store.put(wide, PriceData(_daily(), PriceMeta("yahoo")))
    path = store.put(narrow, PriceData(_daily(cols=("A",)), PriceMeta("yahoo")))
    path.write_bytes(b"garbage")
    pd.testing.assert_frame_equal(store.get(narrow).prices, _daily()[["A"]])
