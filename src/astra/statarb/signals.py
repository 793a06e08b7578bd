"""Trading signals from a z-score: hysteresis, stops, holding limits, session rules.

The state machine (one numba kernel, :func:`hold_positions`), evaluated on bar
``t`` after ``z_t`` is known; the back-test fills the decision at bar ``t + 1``:

* flat → short the spread (−1) when ``z > entry``, long (+1) when ``z < −entry``,
  unless in the warm-up, in the first/last ``quiet_bars`` of a session, or in a
  cool-down after a stop (until ``|z| < entry`` again);
* long → flat when ``z ≥ −exit``; short → flat when ``z ≤ exit`` (hold until exit);
* any position → flat when ``|z| ≥ stop`` (stop-loss), after ``max_hold`` bars,
  or at the session's last bar when ``flat_at_close``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numba
import numpy as np

from astra.config import check_number
from astra.errors import InputError

__all__ = ["SignalRules", "hold_positions", "session_positions"]


@dataclass(frozen=True)
class SignalRules:
    """Entry/exit thresholds (in z units) and holding rules (in bars)."""

    entry: float = 2.0
    exit: float = 0.5
    stop: float = 4.0
    max_hold: int = 0  # 0 = no limit
    warmup: int = 30
    quiet_bars: int = 0  # no entries in the first/last N bars of a session
    flat_at_close: bool = False

    def __post_init__(self) -> None:
        check_number(self.entry, "--entry", minimum=0, exclusive_minimum=True, maximum=50)
        check_number(self.exit, "--exit", minimum=-50, maximum=50)
        check_number(self.stop, "--stop", minimum=0, exclusive_minimum=True, maximum=1e6)
        if self.exit >= self.entry:
            raise InputError(f"--exit {self.exit:g} must be below --entry {self.entry:g} (hysteresis)")
        if self.stop <= self.entry:
            raise InputError(f"--stop {self.stop:g} must be above --entry {self.entry:g}")
        for name in ("max_hold", "warmup", "quiet_bars"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int | np.integer) or value < 0:
                raise InputError(f"--{name.replace('_', '-')} {value!r} must be a whole number of bars ≥ 0")


@numba.njit(cache=True, nogil=True, inline="always")
def hold_step(
    zt, t, pos, held, cooling, bar_in, left, entry, exit_, stop, max_hold, warmup, quiet, flat_close
):  # pragma: no cover
    """One bar of the state machine: ``(pos, held, cooling)`` after seeing ``z_t``.

    The single definition of the rules; the signal kernel and the fused sweep kernel both call it.
    """
    if t < warmup or not np.isfinite(zt):
        return 0, 0, cooling
    if cooling and abs(zt) < entry:
        cooling = False
    if pos != 0:
        held += 1
        done = (pos == 1 and zt >= -exit_) or (pos == -1 and zt <= exit_)
        if abs(zt) >= stop:
            done = True
            cooling = True
        if max_hold > 0 and held >= max_hold:
            done = True
        if done:
            pos = 0
            held = 0
    if pos == 0 and not cooling:
        quiet_now = bar_in < quiet or left < quiet
        if not quiet_now and abs(zt) < stop:
            if zt > entry:
                pos = -1
            elif zt < -entry:
                pos = 1
    if flat_close and left == 0:
        pos = 0
        held = 0
    return pos, held, cooling


@numba.njit(cache=True, nogil=True)
def _hold(z, bar_in_session, bars_left, entry, exit_, stop, max_hold, warmup, quiet, flat_close):  # pragma: no cover
    n = z.shape[0]
    out = np.zeros(n, dtype=np.int8)
    pos, held, cooling = 0, 0, False
    for t in range(n):
        pos, held, cooling = hold_step(
            z[t], t, pos, held, cooling, bar_in_session[t], bars_left[t], entry, exit_, stop, max_hold, warmup,
            quiet, flat_close,
        )  # fmt: skip
        out[t] = pos
    return out


def session_positions(index) -> tuple[np.ndarray, np.ndarray]:
    """Bar number within its session and bars left until the session's last bar.

    A session is a calendar day in the index's timezone (New York for intraday
    bars from the data layer); daily bars are each their own session.
    """
    import pandas as pd

    stamps = pd.DatetimeIndex(index)
    days = stamps.normalize()
    codes = pd.factorize(days)[0]
    first = np.r_[True, codes[1:] != codes[:-1]]
    start_pos = np.maximum.accumulate(np.where(first, np.arange(len(codes)), 0))
    bar_in = np.arange(len(codes)) - start_pos
    last = np.r_[codes[1:] != codes[:-1], True]
    end_pos = np.minimum.accumulate(np.where(last, np.arange(len(codes)), len(codes))[::-1])[::-1]
    return bar_in.astype(np.int64), (end_pos - np.arange(len(codes))).astype(np.int64)


def hold_positions(z, rules: SignalRules, index=None) -> np.ndarray:
    """Spread position (+1 long y / short x, −1 short y / long x, 0 flat) decided on each bar.

    Examples
    --------
    >>> z = np.array([0, 2.5, 1.0, 0.4, -2.2, -1.0, -4.5, -3.0, -1.5, -2.1])
    >>> hold_positions(z, SignalRules(entry=2, exit=0.5, stop=4, warmup=0)).tolist()
    [0, -1, -1, 0, 1, 1, 0, 0, 0, 1]
    """
    z = np.ascontiguousarray(z, dtype=np.float64)
    if index is None:
        bar_in = np.arange(len(z), dtype=np.int64)
        left = np.full(len(z), 1 << 40, dtype=np.int64)
        if rules.flat_at_close or rules.quiet_bars:
            raise InputError("session rules (quiet bars, flat at close) need the bars' timestamps")
    else:
        bar_in, left = session_positions(index)
    return _hold(
        z, bar_in, left, rules.entry, rules.exit, rules.stop, rules.max_hold, rules.warmup,
        rules.quiet_bars, rules.flat_at_close,
    )  # fmt: skip
