"""What every command shares: one vocabulary of options, running a workflow, printing its result.

One concept, one flag, one meaning on every command that takes it (see DESIGN.md):
``--source`` prices, ``--start/--end`` inclusive dates, ``--date`` a valuation or
accrual day, ``--rate/--rate-source`` the benchmark rate, ``--cov`` the covariance
estimator, ``--tc-bps`` linear trading cost, ``--out``/``--force`` outputs,
``--cluster`` Dask. ``--json`` prints ``to_dict()`` of the result and nothing else
on stdout; messages go to stderr. Exit codes: 0 ok, 2 bad input, 3 data
unavailable, 4 infeasible or solver failure.
"""

from __future__ import annotations

import json
import math
import sys
import warnings
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from astra import format as fmt
from astra.errors import AstraError, rename_parameters

__all__ = [
    "emit_json",
    "money",
    "note",
    "pct",
    "run",
    "table",
]

out = Console(soft_wrap=False, highlight=False)
err = Console(stderr=True, soft_wrap=True, highlight=False)

# ------------------------------------------------------------------ the vocabulary
JsonOpt = Annotated[bool, typer.Option("--json", help="Print the result as JSON (to_dict()) only.")]
SourceOpt = Annotated[
    str,
    typer.Option("--source", help="Prices (marks and history): sample | yahoo | synthetic | csv:PATH | parquet:PATH"),
]
StartOpt = Annotated[str | None, typer.Option("--start", help="First date, YYYY-MM-DD (inclusive).")]
EndOpt = Annotated[str | None, typer.Option("--end", help="Last date, YYYY-MM-DD (inclusive).")]
DateOpt = Annotated[
    str | None,
    typer.Option("--date", help="Valuation day, YYYY-MM-DD: marks are that day's closes (or the last before it)."),
]
IntervalOpt = Annotated[str, typer.Option("--interval", help="1d | 1m")]
OfflineOpt = Annotated[
    bool, typer.Option("--offline", help="Never touch the network; serve Yahoo data from the cache.")
]
BookArg = Annotated[Path, typer.Argument(help="Book file: TOML, or CSV ticker,quantity[,price] with --equity.")]
BooksArg = Annotated[
    list[str], typer.Argument(help="Book file(s) or patterns (books/*.toml): TOML, or CSV ticker,quantity[,price].")
]
EquityOpt = Annotated[float | None, typer.Option("--equity", help="Account equity, USD (required for a CSV book).")]
RateOpt = Annotated[
    float | None, typer.Option("--rate", help="Benchmark rate, decimal money-market yield (0.043 = 4.30 %).")
]
RateSourceOpt = Annotated[
    str | None, typer.Option("--rate-source", help="Benchmark series: irx (network) | flat:R | csv:PATH | synthetic.")
]
CovOpt = Annotated[str, typer.Option("--cov", help="Covariance estimator: sample | lw | ewma | factor")]
FactorsOpt = Annotated[int, typer.Option("--factors", help="Factors of --cov factor.")]
TcOpt = Annotated[float, typer.Option("--tc-bps", help="Linear trading cost, bp of traded notional.")]
OutOpt = Annotated[str | None, typer.Option("--out", help="Output directory for the exports (written as one set).")]
ForceOpt = Annotated[bool, typer.Option("--force", help="Replace files in --out that ASTRA did not write.")]
ClusterOpt = Annotated[
    str | None, typer.Option("--cluster", help="Run on Dask: local (a loopback LocalCluster) or tcp://host:8786")
]
SeedOpt = Annotated[int | None, typer.Option("--seed", help="Random seed (a non-negative integer).")]
LevelOpt = Annotated[float, typer.Option("--level", help="Confidence level, e.g. 0.99.")]
ModelOpt = Annotated[str | None, typer.Option("--model", help="Funding convention: cash | netted | swap | seed")]
ALIGN_HELP = (
    "Names with different histories: common = the days where every name has a return (the output says "
    "what that drops); pairwise = each covariance on the pair's common days, made positive semi-definite."
)
AlignOpt = Annotated[str, typer.Option("--align", help=ALIGN_HELP)]
MinOverlapOpt = Annotated[int, typer.Option("--min-overlap", help="--align pairwise: fewest common days of a pair.")]
GroupsOpt = Annotated[Path | None, typer.Option("--groups", help="CSV ticker,group (sector map).")]


# ------------------------------------------------------------------ running and printing
def _jsonable(value: Any) -> Any:
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    if hasattr(value, "item") and callable(value.item):  # numpy scalars
        return _jsonable(value.item())
    if hasattr(value, "isoformat"):  # dates and timestamps
        return value.isoformat()
    if isinstance(value, Path):
        return str(value)
    return value


def emit_json(payload: dict[str, Any]) -> None:
    """Print ``payload`` as strict JSON (NaN → null) on stdout."""
    sys.stdout.write(json.dumps(_jsonable(payload), allow_nan=False) + "\n")


def note(text: str, *, label: str = "note") -> None:
    """One line on stderr, printed verbatim (parameter names a workflow used shown as this command's flags)."""
    err.print(f"{label}: {flag_names(text, _current_flags())}", markup=False)


def _current_flags() -> dict[str, str]:
    """``{parameter name: flag}`` of the command being run (empty outside a command)."""
    try:  # typer ≥ 0.29 vendors click; its context stack is the only way to the running command
        from typer._click.globals import get_current_context
    except ImportError:  # pragma: no cover - a typer without the vendored click
        return {}
    ctx = get_current_context(silent=True)
    if ctx is None:
        return {}
    flags = {}
    for param in ctx.command.params:
        longest = max(param.opts, key=len)
        if longest.startswith("--"):
            flags[param.name] = longest
    return flags


def flag_names(message: str, flags: dict[str, str]) -> str:
    """A core message (which speaks of parameters) with this command's flags: :func:`astra.errors.rename_parameters`."""
    return rename_parameters(message, flags)


def run(job: Callable[[], Any], render: Callable[[Any], None], as_json: bool) -> None:
    """Run a workflow; print its result; an AstraError becomes one stderr line and its exit code.

    Warnings raised on purpose by ASTRA (e.g. a spread that looks like percent)
    are shown on stderr as one line each.
    """
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            result = job()
    except AstraError as exc:
        err.print(f"error: {flag_names(str(exc), _current_flags())}", markup=False)
        raise typer.Exit(exc.exit_code) from None
    for warning in caught:
        if issubclass(warning.category, UserWarning):
            note(str(warning.message), label="warning")
    if as_json:
        emit_json(result.to_dict())
    else:
        render(result)


def money(value) -> str:
    """``-$1,234.50`` (the report's and the dashboard's rounding: :func:`astra.format.money`)."""
    return fmt.money(value)


def pct(value, digits: int = 1, *, sign: bool = True) -> str:
    """A decimal as a percentage (``+1.2%``), as :func:`astra.format.pct` shows it."""
    return fmt.pct(value, digits, signed=sign)


def shares(value) -> str:
    """``-12,000`` (whole shares with separators, never scientific notation)."""
    return fmt.shares(value)


def num(value, spec: str) -> str:
    """``value`` formatted with ``spec``, or the shared missing-value mark."""
    return fmt.MISSING if fmt.is_missing(value) else format(value, spec)


def table(title: str, columns: Sequence[str], rows: Iterable[Sequence[str]], *, left: Iterable[str] = ()) -> None:
    """Print a table that fits the terminal (80 columns when not a terminal): columns wrap, never overflow."""
    left = set(left) | {columns[0]}
    grid = Table(title=title, title_justify="left", expand=False)
    for col in columns:
        grid.add_column(col, justify="left" if col in left else "right", overflow="fold")
    for row in rows:
        grid.add_row(*row)
    out.print(grid)


def line(text: str) -> None:
    """One line of plain output on stdout (no markup)."""
    out.print(text, markup=False, soft_wrap=True)


def notes(items: Iterable[str]) -> None:
    for item in items:
        note(item)


def render_many(report) -> None:
    """A batch: one row per book, totals by group, the failed books and why."""
    preferred = ("book", "group", "gross", "leverage", "daily_carry", "call", "var", "es")
    columns = [c for c in preferred if c in report.table.columns]
    ok = report.table[report.table["status"] == "ok"]
    rows = [[str(r[c]) if isinstance(r[c], str) else money(float(r[c])) for c in columns] for _, r in ok.iterrows()]
    table(f"{len(report.table)} books on {report.workers} worker(s) in {report.elapsed_s:.1f} s", columns, rows,
          left=("book", "group"))  # fmt: skip
    if not report.totals.empty:
        sums = list(report.totals.columns)
        shown = [c for c in ("gross", "daily_carry", "call", "var", "es") if c in sums]
        table("totals by group", ["group", *shown],
              ([str(g), *(money(float(row[c])) for c in shown)] for g, row in report.totals.iterrows()))  # fmt: skip
    for _, row in report.table[report.table["status"] != "ok"].iterrows():
        note(f"{row['file']}: {row['error']}", label="failed")
    if report.files:
        note(", ".join(report.files), label="wrote")
