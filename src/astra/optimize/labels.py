"""Inputs as users have them: values labelled by ticker (pandas) or plain arrays, aligned to a model.

A ``pd.Series`` (or a mapping) is matched to the model's tickers by label, case-insensitively;
a label the model does not know, or a ticker with no value, is an :class:`~astra.errors.InputError`
naming them. An array is taken in the model's ticker order and must have one entry per ticker.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence

import numpy as np
import pandas as pd

from astra.errors import InputError
from astra.errors import listing as _listing

__all__ = ["MAX_LISTED", "by_ticker", "listing", "square_by_ticker"]

MAX_LISTED = 8  # names shown in a message before "and N more"


def listing(names: Iterable[object], limit: int = MAX_LISTED) -> str:
    """:func:`astra.errors.listing` with the optimiser's limit of names (messages stay one short line)."""
    return _listing(names, limit)


def _labels(keys: Iterable[object], what: str) -> list[str]:
    labels = [str(k).strip().upper() for k in keys]
    seen: set[str] = set()
    twice = sorted({x for x in labels if x in seen or seen.add(x)})
    if twice:
        raise InputError(f"{what} lists {listing(twice)} more than once")
    return labels


def _match(labels: Sequence[str], tickers: Sequence[str], what: str) -> np.ndarray:
    """Position in ``labels`` of each ticker; an error naming missing and extra names otherwise."""
    where = {label: i for i, label in enumerate(labels)}
    wanted = [t.upper() for t in tickers]
    missing = [t for t, key in zip(tickers, wanted, strict=True) if key not in where]
    extra = sorted(set(labels) - set(wanted))
    if missing or extra:
        parts = ([f"no value for {listing(missing)}"] if missing else []) + (
            [f"{listing(extra)} not in the model's tickers"] if extra else []
        )
        raise InputError(f"{what}: {'; '.join(parts)} (the model has {len(tickers)}: {listing(tickers)})")
    return np.array([where[key] for key in wanted], dtype=int)


def by_ticker(values, tickers: Sequence[str], what: str, *, scalar: bool = False) -> np.ndarray:
    """``values`` as a float array in the order of ``tickers``.

    Parameters
    ----------
    values
        A ``pd.Series`` or mapping labelled by ticker (aligned by label), an array-like with one
        entry per ticker (taken in order), or, when ``scalar`` is true, one number for every name.
    tickers
        The model's tickers.
    what
        The parameter's name, for messages (``"mu"``, ``"upper"``…).

    Examples
    --------
    >>> by_ticker(pd.Series({"MSFT": 2.0, "AAPL": 1.0}), ("AAPL", "MSFT"), "mu").tolist()
    [1.0, 2.0]
    """
    n = len(tickers)
    if isinstance(values, pd.DataFrame):
        if values.shape[1] != 1:
            raise InputError(f"{what}: give a Series or one column labelled by ticker, not {values.shape[1]} columns")
        values = values.iloc[:, 0]
    if isinstance(values, pd.Series | Mapping):
        keys = list(values.index if isinstance(values, pd.Series) else values.keys())
        raw = list(values.to_numpy() if isinstance(values, pd.Series) else values.values())
        order = _match(_labels(keys, what), tickers, what)
        array = _floats([raw[i] for i in order], what)
    else:
        array = _floats(values, what)
        if scalar and array.ndim == 0:
            array = np.full(n, float(array))
        if array.shape != (n,):
            raise InputError(f"{what}: expected {n} values (one per ticker), got shape {array.shape}")
    if np.isnan(array).any():
        bad = [tickers[i] for i in np.nonzero(np.isnan(array))[0]]
        raise InputError(f"{what}: NaN for {listing(bad)}")
    return array


def square_by_ticker(frame: pd.DataFrame, tickers: Sequence[str] | None, what: str) -> tuple[np.ndarray, tuple]:
    """A square frame labelled by ticker on both axes, reordered to ``tickers`` (default: its rows)."""
    rows, cols = _labels(frame.index, f"{what} rows"), _labels(frame.columns, f"{what} columns")
    if set(rows) != set(cols):
        raise InputError(
            f"{what}: rows and columns name different tickers (rows only: {listing(sorted(set(rows) - set(cols)))}; "
            f"columns only: {listing(sorted(set(cols) - set(rows)))})"
        )
    names = tuple(str(t).strip() for t in (frame.index if tickers is None else tickers))
    r, c = _match(rows, names, what), _match(cols, names, what)
    return _floats(frame.to_numpy(dtype=object)[np.ix_(r, c)], what), names


def _floats(values, what: str) -> np.ndarray:
    try:
        return np.asarray(values, dtype=float)
    except (TypeError, ValueError):
        raise InputError(f"{what}: expected numbers") from None
