"""Entry/exit grid sweeps on one pair, with the in-sample warning they deserve."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from astra.config import check_number
from astra.errors import InputError
from astra.statarb.signals import SignalRules, session_positions

__all__ = ["SweepResult", "check_grid", "parse_range", "sweep"]

IN_SAMPLE_WARNING = (
    "the best cell is chosen in-sample: its Sharpe ratio is biased upwards by the search; "
    "confirm it on a later, untouched period"
)


def parse_range(text: str, name: str) -> np.ndarray:
    """``"1.5:3:0.25"`` → 1.5, 1.75, …, 3.0 (inclusive); a single number → that number."""
    try:
        parts = [float(p) for p in str(text).split(":")]
    except ValueError:
        raise InputError(f"{name} {text!r}: use start:stop:step, e.g. 1.5:3:0.25") from None
    if len(parts) == 1:
        return np.array(parts)
    if len(parts) != 3 or parts[2] <= 0 or parts[1] < parts[0]:
        raise InputError(f"{name} {text!r}: use start:stop:step with step > 0 and stop ≥ start")
    count = int(np.floor((parts[1] - parts[0]) / parts[2] + 1e-9)) + 1
    if count > 200:
        raise InputError(f"{name} {text!r}: {count} values; at most 200 per axis")
    return parts[0] + parts[2] * np.arange(count)


@dataclass(frozen=True)
class SweepResult:
    """Net (of trading costs, before funding) return, trades and daily Sharpe per (entry, exit)."""

    table: pd.DataFrame
    warning: str = IN_SAMPLE_WARNING

    def to_frame(self) -> pd.DataFrame:
        return self.table.copy()

    def to_dict(self) -> dict[str, Any]:
        valid = self.table.dropna(subset=["sharpe_ann"])
        best = None if valid.empty else valid.loc[valid["sharpe_ann"].idxmax()].to_dict()
        return {"grid": self.table.to_dict(orient="records"), "best_in_sample": best, "warning": self.warning}


def check_grid(entries, exits, *, stop: float) -> tuple[np.ndarray, np.ndarray]:
    """Validate an entry × exit grid (z units): entries in (0, 50], exits in [−50, 50], every entry
    below ``stop``, and at least one cell with exit < entry (a cell with exit ≥ entry has no
    hysteresis and stays empty); ranges as ``"start:stop:step"`` strings are accepted."""
    entries = parse_range(entries, "--entry") if isinstance(entries, str) else np.atleast_1d(np.asarray(entries, float))
    exits = parse_range(exits, "--exit") if isinstance(exits, str) else np.atleast_1d(np.asarray(exits, float))
    for values, name, low, high in ((entries, "--entry", 0.0, 50.0), (exits, "--exit", -50.0, 50.0)):
        if values.size == 0 or values.size > 200 or values.ndim != 1:
            raise InputError(f"{name}: give 1 to 200 values, got {values.size}")
        lowest_ok = values.min() > low if name == "--entry" else values.min() >= low
        if not (np.isfinite(values).all() and lowest_ok and values.max() <= high):
            bounds = "(0, 50]" if name == "--entry" else "[-50, 50]"
            raise InputError(f"{name} values must be in {bounds}, got {values.min():g} to {values.max():g}")
    check_number(stop, "--stop", minimum=0, exclusive_minimum=True, maximum=1e6)
    if stop <= entries.max():
        raise InputError(f"--stop {stop:g} must be above the largest entry {entries.max():g}")
    if exits.min() >= entries.max():
        raise InputError(
            f"every exit ({exits.min():g} to {exits.max():g}) is at or above every entry ({entries.min():g} to "
            f"{entries.max():g}): no cell of the grid can trade (exit must be below entry)"
        )
    return entries, exits


def sweep(y: pd.Series, x: pd.Series, beta, z, entries, exits, *, stop: float = 4.0, max_hold: int = 0,
          warmup: int = 30, quiet_bars: int = 0, flat_at_close: bool = False, capital: float = 1e6,
          cost_bps: float = 1.0, dollar_neutral: bool = False) -> SweepResult:  # fmt: skip
    """Every (entry, exit) cell of the hold rules on ``z``; cells with exit ≥ entry are left empty.

    Parameters
    ----------
    y, x : Series
        The legs' prices on the same bars.
    beta, z : array_like
        Hedge ratio and z-score per bar (e.g. from :func:`~astra.statarb.kalman_filter`).
    entries, exits : array_like or str
        Entry and exit thresholds in z units (``"1.5:3:0.25"`` ranges accepted).
    stop, max_hold, warmup, quiet_bars, flat_at_close
        The other hold rules, shared by every cell (see :class:`~astra.statarb.SignalRules`).
    capital, cost_bps, dollar_neutral
        Gross notional per position (USD), trading cost in bp of traded notional (≥ 0), sizing.

    Returns
    -------
    SweepResult
        Net return (after trading costs, before funding), trades and daily Sharpe per cell.
    """
    from astra.statarb._fast import sweep_grid

    entries, exits = check_grid(entries, exits, stop=stop)
    # the shared rules are validated as SignalRules would (entry/exit of the grid's first valid cell)
    SignalRules(entry=float(entries.max()), exit=float(exits.min()), stop=float(stop), max_hold=max_hold,
                warmup=warmup, quiet_bars=quiet_bars, flat_at_close=flat_at_close)  # fmt: skip
    check_number(cost_bps, "--cost-bps", minimum=0, maximum=1000)
    check_number(capital, "--capital", minimum=0, exclusive_minimum=True)
    if (quiet_bars or flat_at_close) and not isinstance(y.index, pd.DatetimeIndex):
        raise InputError("session rules (quiet bars, flat at close) need the bars' timestamps")
    bar_in, left = session_positions(y.index)
    index = pd.DatetimeIndex(y.index)
    days = index.tz_localize(None).normalize() if index.tz is not None else index.normalize()
    day_code = pd.factorize(days)[0].astype(np.int64)
    total, trades, sharpe = sweep_grid(
        np.ascontiguousarray(z, dtype=float), y.to_numpy(float), x.to_numpy(float),
        np.where(np.isfinite(beta), beta, 0.0).astype(float), bar_in, left, day_code, int(day_code.max()) + 1,
        entries, exits, float(stop), int(max_hold), int(warmup), int(quiet_bars), bool(flat_at_close),
        float(capital), cost_bps / 1e4, bool(dollar_neutral),
    )  # fmt: skip
    grid = pd.DataFrame(
        {
            "entry": np.repeat(entries, len(exits)),
            "exit": np.tile(exits, len(entries)),
            "total_return": total.ravel(),
            "trades": trades.ravel(),
            "sharpe_ann": sharpe.ravel(),
        },
        index=pd.RangeIndex(1, len(entries) * len(exits) + 1, name="cell"),
    )
    return SweepResult(grid)
