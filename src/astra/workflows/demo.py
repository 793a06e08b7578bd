"""``astra demo``: the whole pipeline on the offline sample."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from astra._io import ensure_writable_dir
from astra.book import load_book
from astra.data import PriceData, load_prices, returns
from astra.data.providers.sample import MARKET_TICKER
from astra.workflows.common import cumulative_returns, write_frame
from astra.workflows.funding import funding_report, funding_text

__all__ = ["DEMO_RATE", "DEMO_TICKERS", "SAMPLE_BOOK", "DemoResult", "run_demo"]

SAMPLE_BOOK = Path(__file__).parents[1] / "examples" / "book.toml"
DEMO_RATE = 0.043
DEMO_TICKERS = ("AAPL", "MSFT", "AMD", "JPM", "BAC", "XOM", "CVX", "JNJ", "PG", "WMT")


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
    book = load_book(SAMPLE_BOOK, source="sample")
    report = funding_report(book, rate=DEMO_RATE, on=data.prices.index[-1])
    positions = report.carry.to_frame().join(report.margin.to_frame())
    files.append(write_frame(positions, out / "book_funding.csv"))
    sections = {"funding": {**report.to_dict(), "text": funding_text(report)}}
    return DemoResult(data=data, cumulative=cumulative, files=tuple(str(f) for f in files), sections=sections)
