"""Scale-out workflows: many books, a block-partitioned pair scan, chunked Monte-Carlo VaR.

Each runs through :func:`astra.parallel.runner`, in-process or on Dask, with the same
results: books are independent; scan blocks are concatenated in pair order before the
Benjamini–Hochberg step (applied once, globally); Monte-Carlo VaR is the risk engine's own
run (:func:`astra.risk.var`, ``method="mc"``) with its chunks as Dask tasks: the same chunk
function, the same spawned streams and the same fixed-order merge of the tails, so a seed
gives the same VaR and ES bit for bit in process, with threads and on a cluster.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from astra.errors import InputError
from astra.parallel import Runner, pair_blocks, safely
from astra.workflows.common import write_frame

__all__ = ["ManyBooks", "MonteCarloTail", "funding_many", "mc_var_chunked", "risk_var_many", "scan_blocks"]


@dataclass(frozen=True)
class ManyBooks:
    """One row per book (failed books carry their reason) and totals by account group."""

    table: pd.DataFrame
    totals: pd.DataFrame
    elapsed_s: float
    workers: int
    files: tuple[str, ...] = ()

    def to_frame(self) -> pd.DataFrame:
        return self.table.copy()

    def to_dict(self) -> dict[str, Any]:
        table = self.table.astype(object).where(self.table.notna(), None)
        totals = self.totals.astype(object).where(self.totals.notna(), None)
        return {
            "books": len(self.table),
            "failed": int((self.table["status"] != "ok").sum()),
            "elapsed_s": self.elapsed_s,
            "workers": self.workers,
            "rows": table.to_dict(orient="records"),
            "totals": totals.reset_index().to_dict(orient="records"),
            "files": list(self.files),
        }


def _funding_row(path: str, *, rate: float, model: str | None, on, marks: str) -> dict:
    from astra.book import load_book
    from astra.workflows.funding import funding_report

    book = load_book(path, source=marks)
    report = funding_report(book, rate=rate, model=model, on=on, compare=False)
    c, m = report.carry, report.margin
    return {
        "book": book.name, "group": book.group, "equity": book.equity, "gross": book.gross, "net": book.net,
        "leverage": book.leverage, "model": c.model, "accrual_days": c.accrual_days, "daily_carry": c.daily_carry,
        **c.components, "margin_regime": m.regime, "requirement": m.requirement, "excess": m.excess, "call": m.call,
    }  # fmt: skip


def _risk_row(path: str, *, options: dict, marks: str, source: str, start, end) -> dict:
    from astra.book import load_book
    from astra.workflows.risk import risk_var

    book = load_book(path, source=marks)
    result = risk_var(book, source=source, start=start, end=end, **options).result
    return {"book": book.name, "group": book.group, "gross": book.gross, "method": result.method,
            "level": result.level, "horizon_days": result.horizon_days, "var": result.var, "es": result.es,
            "var_pct_gross": result.var_pct_gross}  # fmt: skip


def _many(fn, paths, run: Runner, sums: list[str], out: Path | None, **kwargs) -> ManyBooks:
    if not paths:
        raise InputError("no book files given")
    started = time.perf_counter()
    results = run.map(safely(_bind(fn, kwargs)), [str(p) for p in paths])
    rows = []
    for path, result in zip(paths, results, strict=True):
        if result["status"] == "ok":
            rows.append({"file": str(path), "status": "ok", "error": None, **result["value"]})
        else:
            rows.append({"file": str(path), "status": "failed", "error": result["error"]})
    table = pd.DataFrame(rows)
    ok = table[table["status"] == "ok"]
    totals = ok.groupby("group")[[c for c in sums if c in ok]].sum() if not ok.empty else pd.DataFrame()
    if not totals.empty:
        totals.loc["all"] = totals.sum()
    files: list[str] = []
    if out is not None:
        from astra._io import ensure_writable_dir

        target = ensure_writable_dir(Path(out), what="--out directory")
        files = [str(write_frame(table, target / "books.parquet")), str(write_frame(totals, target / "totals.parquet"))]
    return ManyBooks(table, totals, time.perf_counter() - started, run.workers, tuple(files))


class _bind:
    """A picklable partial (Dask ships functions to workers)."""

    def __init__(self, fn, kwargs):
        self.fn, self.kwargs = fn, kwargs

    def __call__(self, item, **shared):
        return self.fn(item, **self.kwargs, **shared)


def funding_many(paths, run: Runner, *, rate: float, model: str | None = None, on=None, marks: str = "sample",
                 out: Path | None = None) -> ManyBooks:  # fmt: skip
    """Carry and margin of every book; totals of carry, gross and calls by account group."""
    sums = ["equity", "gross", "net", "daily_carry", "long_financing", "credit_interest", "short_rebate",
            "borrow_fee", "requirement", "call"]  # fmt: skip
    return _many(_funding_row, paths, run, sums, out, rate=rate, model=model, on=on, marks=marks)


def risk_var_many(paths, run: Runner, *, options: dict, marks: str = "sample", source: str = "sample", start=None,
                  end=None, out: Path | None = None) -> ManyBooks:  # fmt: skip
    """VaR/ES of every book (stand-alone; group totals add gross, and VaR as an undiversified sum)."""
    return _many(_risk_row, paths, run, ["gross", "var", "es"], out, options=options, marks=marks, source=source,
                 start=start, end=end)  # fmt: skip


def _scan_block(pairs: np.ndarray, *, logp: np.ndarray, lags: int) -> dict[str, np.ndarray]:
    from astra.statarb.scan import _pairs_stats

    return _pairs_stats(logp, np.ascontiguousarray(pairs[:, 0]), np.ascontiguousarray(pairs[:, 1]), lags)


def scan_blocks(prices: pd.DataFrame, run: Runner, *, lags: int = 1, fdr: float = 0.05, block: int = 5_000,
                only_discoveries: bool = False):  # fmt: skip
    """The pair scan, partitioned into blocks of pairs; FDR applied once over all pairs."""
    from astra.statarb.scan import ScanResult, benjamini_hochberg

    if not 0 < fdr < 1:
        raise InputError(f"--fdr {fdr!r} must be between 0 and 1")
    frame = prices.dropna()
    names = [str(c) for c in frame.columns]
    if len(names) < 2 or len(frame) < 30:
        raise InputError("a scan needs at least two tickers and 30 common bars")
    values = frame.to_numpy(dtype=float).T
    if np.any(values <= 0):
        raise InputError("log prices need positive prices")
    logp = np.ascontiguousarray(np.log(values))
    parts = pair_blocks(len(names), block)
    stats = run.map(_bind(_scan_block, {"lags": int(lags)}), parts, logp=logp)
    pairs = np.concatenate(parts)
    merged = {key: np.concatenate([s[key] for s in stats]) for key in stats[0]}
    table = pd.DataFrame(
        {
            "y": np.asarray(names)[pairs[:, 0]], "x": np.asarray(names)[pairs[:, 1]], "eg_stat": merged["stat"],
            "p_value": merged["pvalue"], "q_value": benjamini_hochberg(merged["pvalue"]), "beta": merged["beta"],
            "half_life_bars": merged["half_life"], "spread_vol": merged["spread_vol"],
        }
    ).sort_values(["p_value", "eg_stat"], kind="stable").reset_index(drop=True)  # fmt: skip
    if only_discoveries:
        table = table[table["q_value"] <= fdr].reset_index(drop=True)
    return ScanResult(table=table, fdr=fdr, lags=int(lags), bars=len(frame), log_prices=True, tested=len(pairs))


@dataclass(frozen=True)
class MonteCarloTail:
    """Monte-Carlo VaR/ES (USD losses) of a run whose chunks went to a runner, with errors and the design used.

    ``chunks`` counts the engine's chunks (their size depends on the model, not on the
    runner), ``tasks`` the groups of consecutive chunks sent to the workers (0 in process).
    """

    var: float
    es: float
    level: float
    scenarios: int
    chunks: int
    tail_size: int
    elapsed_s: float
    workers: int
    mc_std_error: dict = field(default_factory=dict)
    ci95: dict = field(default_factory=dict)
    variance_reduction: dict | None = None
    converged: bool | None = None
    tasks: int = 0
    notes: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        out = dict(self.__dict__)
        out["ci95"] = {key: list(val) for key, val in self.ci95.items()}
        out["notes"] = list(self.notes)
        return out


def mc_var_chunked(exposures, returns, run: Runner, *, scenarios: int = 100_000, level: float = 0.99, horizon: int = 1,
                   dist: str = "normal", seed=None, chunk: int = 2_000_000, **options) -> MonteCarloTail:  # fmt: skip
    """Monte-Carlo VaR/ES at any scenario count with the chunks on ``run``: :func:`astra.risk.var` (``mc``) itself.

    ``chunk`` is the number of scenarios per task (rounded to whole chunks of the engine);
    ``options`` are :func:`astra.risk.var`'s (``variance_reduction``, ``target_se``,
    ``max_scenarios``, ``paths``, ``covariance``, …). Euler components are not computed.
    """
    from astra.risk import var
    from astra.risk.tails import tail_rank

    started = time.perf_counter()
    result = var(exposures, returns, method="mc", scenarios=scenarios, level=level, horizon=horizon, dist=dist,
                 seed=seed, runner=run, chunk=chunk, components=False, **options)  # fmt: skip
    chunks = int(result.params["chunks"])
    size = max(1, -(-result.scenarios // max(chunks, 1)))  # the engine's chunk size
    per_task = max(1, round(int(chunk) / size))
    return MonteCarloTail(var=result.var, es=result.es, level=result.level, scenarios=result.scenarios, chunks=chunks,
                          tail_size=tail_rank(max(result.scenarios, 1), result.level),
                          elapsed_s=time.perf_counter() - started, workers=run.workers,
                          mc_std_error=result.mc_std_error, ci95=result.ci95,
                          variance_reduction=result.variance_reduction, converged=result.converged,
                          tasks=-(-chunks // per_task) if run.distributed else 0, notes=result.notes)  # fmt: skip
