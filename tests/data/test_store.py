"""The crash-safe cache: round trips, covering reads, self-healing manifest, SIGKILL safety."""

import json
import multiprocessing as mp
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from astra.data._frame import PriceData, PriceMeta
from astra.data.store import CacheKey, PriceStore, default_cache_dir
from astra.errors import InputError

from ._store_writer import frame_for, key_for


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


def test_sigkill_mid_write_leaves_a_consistent_store(tmp_path):
    rng = np.random.default_rng(20261125)
    writer = Path(__file__).with_name("_store_writer.py")
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    start = 0
    for _round in range(5):
        proc = subprocess.Popen(
            [sys.executable, "-m", "tests.data._store_writer", str(tmp_path), str(start)],
            cwd=writer.parents[2],
            env=env,
        )
        time.sleep(float(rng.uniform(0.8, 2.0)))  # import (~0.7 s) then several puts
        proc.send_signal(signal.SIGKILL)
        proc.wait(10)
        start += 50
        # The manifest parses, and each entry's file is complete and holds what was written.
        manifest = (
            json.loads((tmp_path / "manifest.json").read_text()) if (tmp_path / "manifest.json").exists() else None
        )
        if manifest is not None:
            for entry in manifest["entries"].values():
                assert (tmp_path / "frames" / entry["file"]).is_file()
        store = PriceStore(tmp_path)
        for entry in store.entries():
            i = int(entry["meta"]["source"].split(":")[1])
            got = store.get(CacheKey.from_dict(entry["key"]))
            assert got is not None
            assert key_for(i) == CacheKey.from_dict(entry["key"])
            pd.testing.assert_frame_equal(got.prices, frame_for(i), check_freq=False)
        # No partial file is ever visible under a final name.
        for path in (tmp_path / "frames").glob("*.parquet"):
            pd.read_parquet(path)
    assert len(PriceStore(tmp_path).entries()) >= 1


def test_rebuild_keeps_a_live_writers_temporary_file(tmp_path):
    # A concurrent writer's temporary file (fresh) must survive another process's rebuild; an
    # orphan of a crashed writer (old) is cleaned up. (Found by test_concurrent_writers_both_land
    # failing once under load: a rebuild deleted the other writer's file before its rename.)
    store = PriceStore(tmp_path)
    store.put(CacheKey("yahoo", ("A",), None, None), PriceData(_daily(cols=("A",)), PriceMeta("yahoo")))
    frames = next(p for p in tmp_path.iterdir() if p.is_dir() and any(p.glob("*.parquet")))
    live, orphan = frames / ".live.parquet.x.tmp", frames / ".orphan.parquet.y.tmp"
    live.write_bytes(b"partial")
    orphan.write_bytes(b"partial")
    old = time.time() - 3600
    os.utime(orphan, (old, old))
    store.rebuild()
    assert live.exists() and not orphan.exists()
