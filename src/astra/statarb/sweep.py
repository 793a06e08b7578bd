"""Entry/exit grid sweeps on one pair, with the in-sample warning they deserve."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from astra.errors import InputError
from astra.statarb.signals import SignalRules, session_positions

__all__ = ["SweepResult", "parse_range", "sweep"]

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


def sweep(y: pd.Series, x: pd.Series, beta, z, entries, exits, rules: SignalRules, *, capital: float = 1e6,
          cost_bps: float = 1.0, dollar_neutral: bool = False) -> SweepResult:  # fmt: skip
    """Every (entry, exit) cell of the hold rules on ``z``; cells with exit ≥ entry are left empty."""
    from astra.statarb._fast import sweep_grid

    entries = np.asarray(entries, dtype=float)
    exits = np.asarray(exits, dtype=float)
    bar_in, left = session_positions(y.index)
    index = pd.DatetimeIndex(y.index)
    days = index.tz_localize(None).normalize() if index.tz is not None else index.normalize()
    day_code = pd.factorize(days)[0].astype(np.int64)
    total, trades, sharpe = sweep_grid(
        np.ascontiguousarray(z, dtype=float), y.to_numpy(float), x.to_numpy(float),
        np.where(np.isfinite(beta), beta, 0.0).astype(float), bar_in, left, day_code, int(day_code.max()) + 1,
        entries, exits, rules.stop, rules.max_hold, rules.warmup, rules.quiet_bars, rules.flat_at_close,
        float(capital), cost_bps / 1e4, bool(dollar_neutral),
    )  # fmt: skip
    grid = pd.DataFrame(
        {
            "entry": np.repeat(entries, len(exits)),
            "exit": np.tile(exits, len(entries)),
            "total_return": total.ravel(),
            "trades": trades.ravel(),
            "sharpe_ann": sharpe.ravel(),
        }
    )
    return SweepResult(grid)
