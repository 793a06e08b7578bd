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
from functools import partial
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from astra.errors import DataUnavailable, InputError
from astra.parallel import Runner, pair_blocks, safely
from astra.workflows.common import expand_paths, write_exports

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


def _funding_row(path: str, **options) -> dict:
    from astra.workflows.funding import funding_report

    report = funding_report(path, compare=False, **options)
    book, c, m = report.book, report.carry, report.margin
    return {
        "book": book.name, "group": book.group, "date": c.day.date().isoformat(), "equity": book.equity,
        "gross": book.gross, "net": book.net, "leverage": book.leverage, "model": c.model,
        "benchmark_rate": c.benchmark_rate, "accrual_days": c.accrual_days, "daily_carry": c.daily_carry,
        **c.components, "margin_regime": m.regime, "requirement": m.requirement, "excess": m.excess, "call": m.call,
        "marks": report.marks,
    }  # fmt: skip


def _risk_row(path: str, **options) -> dict:
    from astra.workflows.risk import risk_var

    report = risk_var(path, **options)
    book, result = report.history.book, report.result
    return {"book": book.name, "group": book.group, "gross": book.gross, "method": result.method,
            "level": result.level, "horizon_days": result.horizon_days, "var": result.var, "es": result.es,
            "var_pct_gross": result.var_pct_gross, "marks": report.history.marks}  # fmt: skip


def _many(fn, paths, run: Runner, sums: list[str], out, *, force: bool = False, job: str = "books",
          **kwargs) -> ManyBooks:  # fmt: skip
    """Run ``fn`` on every book; failures are rows with their reason, never the end of the batch.

    When every book fails the batch is an error (the first reasons in the message);
    when some fail, the others' rows and totals stand and the failures are listed.
    """
    paths = expand_paths(paths)
    started = time.perf_counter()
    results = run.map(safely(partial(fn, **kwargs)), [str(p) for p in paths])  # a partial pickles to Dask
    rows = []
    for path, result in zip(paths, results, strict=True):
        if result["status"] == "ok":
            rows.append({"file": str(path), "status": "ok", "error": None, **result["value"]})
        else:
            rows.append({"file": str(path), "status": "failed", "error": result["error"]})
    table = pd.DataFrame(rows)
    failed = table[table["status"] != "ok"]
    if len(failed) == len(table):
        first = failed.head(3)
        reasons = "; ".join(f"{Path(f).name}: {e}" for f, e in zip(first["file"], first["error"], strict=True))
        more = f" (and {len(failed) - 3:,} more)" if len(failed) > 3 else ""
        kind = DataUnavailable if failed["error"].str.startswith("DataUnavailable").all() else InputError
        raise kind(f"all {len(table):,} books failed: {reasons}{more}")
    ok = table[table["status"] == "ok"]
    totals = ok.groupby("group")[[c for c in sums if c in ok]].sum()
    totals.loc["all"] = totals.sum()
    files = write_exports(out, {"books.parquet": table, "totals.parquet": totals}, force=force, job=job)
    return ManyBooks(table, totals, time.perf_counter() - started, run.workers, files)


def funding_many(paths, run: Runner, *, out=None, force: bool = False, **options) -> ManyBooks:
    """Carry and margin of every book (``options`` as :func:`~astra.workflows.funding.funding_report`).

    Totals of carry, gross and calls by account group. A shell pattern (``books/*.toml``)
    is expanded here; one matching nothing is an error.
    """
    sums = ["equity", "gross", "net", "daily_carry", "long_financing", "credit_interest", "short_rebate",
            "borrow_fee", "requirement", "call"]  # fmt: skip
    return _many(_funding_row, paths, run, sums, out, force=force, job="funding-books", **options)


def risk_var_many(paths, run: Runner, *, out=None, force: bool = False, **options) -> ManyBooks:
    """VaR/ES of every book (stand-alone; group totals add gross, and VaR as an undiversified sum)."""
    return _many(_risk_row, paths, run, ["gross", "var", "es"], out, force=force, job="risk-books", **options)


def scan_blocks(prices: pd.DataFrame, run: Runner, *, trend: str = "c", maxlag: int | None = 1,
                autolag: str | None = None, levels: bool = False, min_overlap: int = 100, fdr: float = 0.05,
                block: int = 5_000, only_discoveries: bool = False):  # fmt: skip
    """The pair scan, partitioned into blocks of ``block`` pairs run by ``run``; FDR applied once over all pairs.

    The blocks are :func:`astra.statarb.scan.scan_block` over one shared plan, so the
    numbers equal :func:`astra.statarb.scan.scan` whichever way the blocks run.
    """
    from astra.statarb.scan import finish_scan, plan_scan, scan_block

    plan = plan_scan(prices, trend=trend, maxlag=maxlag, autolag=autolag, levels=levels, min_overlap=min_overlap,
                     fdr=fdr)  # fmt: skip
    parts = pair_blocks(len(plan.names), block)
    return finish_scan(plan, np.concatenate(parts), run.map(scan_block, parts, plan=plan),
                       only_discoveries=only_discoveries)  # fmt: skip


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
