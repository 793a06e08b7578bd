"""Child process for the store's crash and concurrency tests.

``write ROOT START [same]``: puts deterministic frames in a loop until killed, printing
each finished ``i`` (``same``: always under one key, the riskiest path for readers).
``read ROOT SECONDS``: reads the shared key in a loop and prints a JSON tally of hits,
misses, wrong frames and errors.
"""

import json
import sys
import time

import numpy as np
import pandas as pd

from astra.data._frame import PriceData, PriceMeta
from astra.data.store import CacheKey, PriceStore


def key_for(i: int) -> CacheKey:
    """Seven keys, reused, so later writes replace earlier files."""
    return CacheKey("crash", tuple(f"K{i % 7}C{c:02d}" for c in range(40)), None, None, "1d")


SHARED = key_for(0)


def frame_for(i: int, key: CacheKey | None = None) -> pd.DataFrame:
    """A large frame fully determined by ``i`` so the test can regenerate it."""
    rng = np.random.default_rng(i)
    index = pd.DatetimeIndex(list(pd.date_range("2000-01-03", periods=4000, freq="B")), name="date")
    return pd.DataFrame(rng.random((4000, 40)) + 1.0, index=index, columns=list((key or key_for(i)).tickers))


def _write(root: str, start: int, same: bool) -> None:
    store = PriceStore(root)
    i = start
    while True:
        key = SHARED if same else key_for(i)
        store.put(key, PriceData(frame_for(i, key), PriceMeta(source=f"crash:{i}")))
        print(i, flush=True)
        i += 1


def _read(root: str, seconds: float) -> None:
    store = PriceStore(root)
    tally = {"hits": 0, "misses": 0, "wrong": 0, "errors": []}
    expected: dict[int, pd.DataFrame] = {}
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            got = store.get(SHARED)
        except Exception as exc:  # the test wants to see any failure, not crash on it
            tally["errors"].append(f"{type(exc).__name__}: {exc}"[:200])
            continue
        if got is None:
            tally["misses"] += 1
            continue
        i = int(got.meta.source.split(":")[1])
        if i not in expected:
            expected = {i: frame_for(i, SHARED)}
        ok = got.prices.shape == expected[i].shape and np.array_equal(got.prices.to_numpy(), expected[i].to_numpy())
        tally["hits" if ok else "wrong"] += 1
    print(json.dumps(tally), flush=True)


if __name__ == "__main__":
    if sys.argv[1] == "write":
        _write(sys.argv[2], int(sys.argv[3]), len(sys.argv) > 4 and sys.argv[4] == "same")
    else:
        _read(sys.argv[2], float(sys.argv[3]))
