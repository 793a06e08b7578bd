"""The pair-scan workflow: universe → prices → Engle–Granger on every pair → FDR, in-process or on Dask."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pandas as pd

from astra.statarb.scan import ScanResult, scan
from astra.workflows.common import write_exports
from astra.workflows.data import price_data

__all__ = ["ScanReport", "pair_scan"]


@dataclass(frozen=True)
class ScanReport:
    """The scan's result, where its prices came from, and the files written."""

    result: ScanResult
    source: str
    files: tuple[str, ...] = ()

    @property
    def table(self) -> pd.DataFrame:
        return self.result.table

    def to_frame(self) -> pd.DataFrame:
        return self.result.table.rename_axis("rank")

    def to_dict(self) -> dict[str, Any]:
        return {"source": self.source, **self.result.to_dict(), "files": list(self.files)}


def pair_scan(tickers=(), *, universe_file=None, source: str = "sample", start=None, end=None, interval: str = "1d",
              fdr: float = 0.05, keep_all: bool = False, lags: int = 1, cluster=None, block: int = 5_000,
              offline: bool = False, out=None, force: bool = False) -> ScanReport:  # fmt: skip
    """Scan every pair of the universe (all the source has when none is given).

    ``cluster`` (``local`` or a scheduler address) splits the pairs into blocks of
    ``block`` on Dask; the Benjamini–Hochberg step runs once over all pairs either way.
    ``out`` receives ``pair_scan.csv``.
    """
    data = price_data(tickers, universe_file=universe_file, source=source, start=start, end=end, interval=interval,
                      offline=offline)  # fmt: skip
    if cluster is None:
        result = scan(data.prices, lags=lags, fdr=fdr, only_discoveries=not keep_all)
    else:
        from astra.parallel import runner
        from astra.workflows.scale import scan_blocks

        with runner(cluster) as pool:
            result = scan_blocks(data.prices, pool, lags=lags, fdr=fdr, block=block, only_discoveries=not keep_all)
    report = ScanReport(result, data.meta.source)
    files = write_exports(out, {"pair_scan.csv": report.to_frame()}, force=force, job="scan")
    return ScanReport(result, data.meta.source, files)
