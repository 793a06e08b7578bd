"""End-to-end jobs shared by the CLI, the report and the dashboard.

Each workflow takes plain values, calls the core modules and returns a frozen
result with ``to_dict()``; interfaces only parse inputs and render results.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from astra._io import atomic_path, ensure_writable_dir
from astra.data import PriceData, load_prices, returns
from astra.data.providers.sample import MARKET_TICKER

__all__ = ["DemoResult", "cumulative_returns", "run_demo", "write_frame"]

DEMO_TICKERS = ("AAPL", "MSFT", "AMD", "JPM", "BAC", "XOM", "CVX", "JNJ", "PG", "WMT")


def cumulative_returns(prices: pd.DataFrame, horizons: dict[str, int] | None = None) -> pd.DataFrame:
    """Buy-and-hold return of each column over trailing windows of sessions.

    ``(p_T / p_{T−h}) − 1`` using the last valid price at or before each end.
    """
    horizons = horizons or {"1m": 21, "1y": 252, "5y": 1260, "all": len(prices) - 1}
    last = prices.ffill().iloc[-1]
    rows = {}
    for label, h in horizons.items():
        if h <= 0 or h >= len(prices):
            continue
        base = prices.iloc[: len(prices) - h].ffill().iloc[-1]
        rows[label] = last / base - 1.0
    return pd.DataFrame(rows)


def write_frame(frame: pd.DataFrame, target: Path) -> Path:
    """Write ``frame`` as CSV or Parquet (by extension), atomically."""
    target = Path(target)
    with atomic_path(target) as tmp:
        if target.suffix == ".parquet":
            frame.to_parquet(tmp)
        else:
            frame.to_csv(tmp, float_format="%.10g")
    return target


@dataclass(frozen=True)
class DemoResult:
    """What ``astra demo`` produced."""

    data: PriceData
    cumulative: pd.DataFrame
    files: tuple[str, ...]
    sections: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        cum = self.cumulative.replace({np.nan: None})
        return {
            "source": self.data.meta.source,
            "tickers": self.data.tickers,
            "start": self.data.prices.index[0].date().isoformat(),
            "end": self.data.prices.index[-1].date().isoformat(),
            "quality": None if self.data.quality is None else self.data.quality.to_dict(),
            "cumulative_returns": {t: cum.loc[t].to_dict() for t in cum.index},
            "files": list(self.files),
            **self.sections,
        }


def run_demo(out_dir: str | Path = "astra-out", *, tickers=DEMO_TICKERS, start="2015-01-01") -> DemoResult:
    """The whole pipeline on the offline sample; writes exports into ``out_dir``.

    Nothing touches the network. Files are written atomically, each one whole
    or not at all.
    """
    out = ensure_writable_dir(Path(out_dir), what="output directory")
    data = load_prices([*tickers, MARKET_TICKER], "sample", start=start)
    daily = returns(data.prices)
    cumulative = cumulative_returns(data.prices)
    files = [
        write_frame(data.prices, out / "prices.parquet"),
        write_frame(daily, out / "returns.csv"),
    ]
    return DemoResult(data=data, cumulative=cumulative, files=tuple(str(f) for f in files))
