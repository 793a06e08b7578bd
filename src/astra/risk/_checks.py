"""Input checks shared by the risk modules: exposures, returns, level, horizon, seed, alignment.

Every risk function validates its inputs once, here, and raises :class:`InputError`
naming the parameter and the offending value. Pandas inputs are converted once at
this edge; the numerics below never see a DataFrame.
"""

from __future__ import annotations

from collections.abc import Mapping
from numbers import Integral

import numpy as np
import pandas as pd

from astra.errors import InputError

__all__ = [
    "MAX_EXPOSURE_USD",
    "MAX_HORIZON",
    "align_book",
    "as_exposures",
    "as_returns",
    "check_horizon",
    "check_level",
    "check_seed",
    "horizon_returns_history",
]

MAX_HORIZON = 252  # one trading year: beyond it daily-data VaR says little and paths get huge
MAX_EXPOSURE_USD = 1e15  # ~10x the world's listed equity; beyond it the quantities are a typo, and squares overflow
_LISTED = 8  # names shown in a message before "and N more"


def _listing(items) -> str:
    items = [str(x) for x in items]
    more = f" and {len(items) - _LISTED:,} more" if len(items) > _LISTED else ""
    return ", ".join(items[:_LISTED]) + more


def as_exposures(exposures) -> np.ndarray:
    """Signed USD exposures as a finite 1-D float array (a Series or mapping keeps its order)."""
    if isinstance(exposures, Mapping):
        exposures = list(exposures.values())
    if isinstance(exposures, pd.DataFrame):
        raise InputError(f"exposures must be one value per name (a Series or 1-D array), got a {exposures.shape} table")
    try:
        e = np.asarray(exposures, dtype=float)
    except (TypeError, ValueError) as exc:
        raise InputError(f"exposures must be numbers (USD market values): {exc}") from None
    if e.ndim != 1 or e.size == 0:
        raise InputError(f"exposures must be a non-empty 1-D array of USD market values, got shape {e.shape}")
    bad = np.flatnonzero(~np.isfinite(e))
    if bad.size:
        raise InputError(f"exposures contain non-finite values (overflow or NaN) at positions {_listing(bad)}; "
                         "check the quantities and prices")  # fmt: skip
    huge = np.flatnonzero(np.abs(e) > MAX_EXPOSURE_USD)
    if huge.size:
        raise InputError(f"exposure {e[huge[0]]:.3g} USD at position {huge[0]} is beyond {MAX_EXPOSURE_USD:.0e} USD; "
                         "check the quantities")  # fmt: skip
    return e


def as_returns(returns, n_names: int | None = None) -> tuple[np.ndarray, object, object]:
    """Convert returns once at the edge: ``(R, index or None, columns or None)``."""
    index = getattr(returns, "index", None)
    columns = getattr(returns, "columns", None)
    try:
        r = np.asarray(returns, dtype=float)
    except (TypeError, ValueError) as exc:
        raise InputError(f"returns must be numbers: {exc}") from None
    if r.ndim == 1:
        r = r[:, None]
    if r.ndim != 2 or r.shape[0] < 2:
        raise InputError(f"returns must be a (T, N) matrix with T >= 2 rows, got shape {r.shape}")
    if n_names is not None and r.shape[1] != n_names:
        raise InputError(f"returns have {r.shape[1]} columns but exposures have {n_names} names (shape mismatch)")
    bad = ~np.isfinite(r)
    if bad.any():
        row, col = np.argwhere(bad)[0]
        raise InputError(
            f"returns contain {int(bad.sum())} NaN/inf values (first at row {row}, column {col}); "
            "clean or drop them before computing risk"
        )
    if (r <= -1.0).any():
        raise InputError(f"returns must be simple returns > -1, got a minimum of {r.min()!r}")
    return r, index, columns


def align_book(exposures, returns) -> tuple[np.ndarray, np.ndarray, object, list[str] | None]:
    """Exposures and returns as arrays in the same name order: ``(e, R, index, names)``.

    A pandas Series (or a mapping) of exposures labelled by ticker is aligned by label
    to the columns of a returns DataFrame: its tickers pick their columns (extra
    columns are not used) and a ticker with no column is an error naming it. Arrays
    are taken in position order. ``names`` are the tickers when either side has them.
    """
    labels = None
    if isinstance(exposures, Mapping):
        labels = [str(k) for k in exposures]
    elif isinstance(exposures, pd.Series):
        labels = [str(k) for k in exposures.index]
    e = as_exposures(exposures)
    columns = getattr(returns, "columns", None)
    if labels is not None:
        if len(set(labels)) != len(labels):
            dup = sorted({x for x in labels if labels.count(x) > 1})
            raise InputError(f"exposures list tickers more than once: {_listing(dup)}")
        if columns is not None:
            have = [str(c) for c in columns]
            missing = [t for t in labels if t not in have]
            if missing:
                raise InputError(f"exposures name tickers with no returns column: {_listing(missing)} "
                                 f"(returns have {_listing(have)})")  # fmt: skip
            position = {c: i for i, c in enumerate(have)}
            r, index, _ = as_returns(returns)
            return e, r[:, [position[t] for t in labels]], index, labels
    r, index, columns = as_returns(returns, e.size)
    names = labels if labels is not None else ([str(c) for c in columns] if columns is not None else None)
    return e, r, index, names


def check_level(level) -> float:
    try:
        value = float(level)
    except (TypeError, ValueError):
        raise InputError(f"level {level!r} must be a number in (0.5, 1), e.g. 0.99") from None
    if not 0.5 < value < 1.0:
        raise InputError(f"level {level!r} must lie in (0.5, 1), e.g. 0.99")
    return value


def check_horizon(horizon) -> int:
    if isinstance(horizon, bool) or not isinstance(horizon, Integral | float) or int(horizon) != horizon or horizon < 1:
        raise InputError(f"horizon {horizon!r} must be an integer number of days >= 1")
    if horizon > MAX_HORIZON:
        raise InputError(f"horizon {horizon} days is beyond one trading year ({MAX_HORIZON}); "
                         "VaR that far out is not meaningful from daily returns")  # fmt: skip
    return int(horizon)


def check_seed(seed):
    """``None``, a non-negative integer, a ``SeedSequence`` or a ``Generator``; anything else is an InputError."""
    if seed is None or isinstance(seed, np.random.SeedSequence | np.random.Generator):
        return seed
    if isinstance(seed, bool) or not isinstance(seed, Integral):
        if isinstance(seed, float) and seed.is_integer():
            seed = int(seed)
        else:
            raise InputError(f"seed {seed!r} must be a non-negative integer (or omitted for a fresh random seed)")
    if seed < 0:
        raise InputError(f"seed {seed!r} must be a non-negative integer (or omitted for a fresh random seed)")
    return int(seed)


def horizon_returns_history(r: np.ndarray, horizon: int) -> np.ndarray:
    """Overlapping compounded ``horizon``-day returns of a ``(T, N)`` history, shape ``(T - h + 1, N)``."""
    if horizon == 1:
        return r
    if horizon > r.shape[0]:
        raise InputError(f"horizon {horizon} days exceeds the {r.shape[0]} rows of return history")
    cum = np.vstack([np.zeros((1, r.shape[1])), np.cumsum(np.log1p(r), axis=0)])
    return np.expm1(cum[horizon:] - cum[:-horizon])
