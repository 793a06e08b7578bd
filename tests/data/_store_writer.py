"""Writer process for the store crash test: puts deterministic frames in a loop until killed."""

import sys

import numpy as np
import pandas as pd

from astra.data._frame import PriceData, PriceMeta
from astra.data.store import CacheKey, PriceStore


def frame_for(i: int) -> pd.DataFrame:
    """A large frame fully determined by ``i`` so the test can regenerate it."""
    rng = np.random.default_rng(i)
    index = pd.DatetimeIndex(list(pd.date_range("2000-01-03", periods=4000, freq="B")), name="date")
    return pd.DataFrame(rng.random((4000, 40)) + 1.0, index=index, columns=list(key_for(i).tickers))


def key_for(i: int) -> CacheKey:
    """Seven keys, reused, so later writes replace earlier files (the riskiest path)."""
    return CacheKey("crash", tuple(f"K{i % 7}C{c:02d}" for c in range(40)), None, None, "1d")


if __name__ == "__main__":
    store = PriceStore(sys.argv[1])
    i = int(sys.argv[2])
    while True:
        store.put(key_for(i), PriceData(frame_for(i), PriceMeta(source=f"crash:{i}")))
        i += 1
