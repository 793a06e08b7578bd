"""Pair scan: batched Engle–Granger over every pair, MacKinnon p-values, Benjamini–Hochberg.

For each pair (y, x) in universe order: OLS ``y = α + βx + e`` on log prices, then
the augmented Dickey–Fuller regression on the residual without a constant,
``Δe_t = ρ e_{t−1} + Σ_{k=1..p} φ_k Δe_{t−k} + ε_t``; the statistic is ρ's
t-value and its p-value comes from MacKinnon's (1994) response surface for two
I(1) series (the coefficients statsmodels publishes). This is what
``statsmodels.tsa.stattools.coint(y, x, maxlag=p, autolag=None)`` computes, but for
all pairs at once, chunked over pairs so memory stays bounded, in a parallel
numba kernel (:func:`astra.statarb._fast.eg_pairs`).

Many pairs means many tests: q-values control the false-discovery rate
(Benjamini & Hochberg 1995); ``fdr`` keeps only the discoveries.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from scipy.stats import norm

from astra.errors import InputError

__all__ = ["ScanResult", "benjamini_hochberg", "engle_granger", "mackinnon_pvalue", "scan"]


def mackinnon_pvalue(stat, n_series: int = 2) -> np.ndarray:
    """MacKinnon (1994) asymptotic p-value of a cointegration t-statistic (constant, ``n_series`` I(1) series).

    Vectorised version of ``statsmodels.tsa.adfvalues.mackinnonp(stat, "c", N)``, using its
    published coefficients.
    """
    from statsmodels.tsa import adfvalues as mk

    i = n_series - 1
    stat = np.asarray(stat, dtype=float)
    small = np.polynomial.polynomial.polyval(stat, mk._tau_smallps["c"][i])
    large = np.polynomial.polynomial.polyval(stat, mk._tau_largeps["c"][i])
    p = norm.cdf(np.where(stat <= mk._tau_stars["c"][i], small, large))
    p = np.where(stat > mk._tau_maxs["c"][i], 1.0, p)
    return np.where(stat < mk._tau_mins["c"][i], 0.0, p)


def benjamini_hochberg(pvalues) -> np.ndarray:
    """Benjamini–Hochberg q-values (step-up, monotone), same order as ``pvalues``.

    Examples
    --------
    >>> benjamini_hochberg([0.01, 0.04, 0.03, 0.5]).round(4).tolist()
    [0.04, 0.0533, 0.0533, 0.5]
    """
    p = np.asarray(pvalues, dtype=float)
    m = p.size
    order = np.argsort(p)
    ranked = p[order] * m / np.arange(1, m + 1)
    q = np.minimum.accumulate(ranked[::-1])[::-1]
    out = np.empty(m)
    out[order] = np.minimum(q, 1.0)
    return out


def _pairs_stats(logp: np.ndarray, first: np.ndarray, second: np.ndarray, lags: int) -> dict[str, np.ndarray]:
    from astra.statarb._fast import eg_pairs

    t = logp.shape[1]
    p = int(lags)
    if p < 0 or t < 3 * (p + 2) + 10:
        raise InputError(f"Engle-Granger needs at least {3 * (p + 2) + 10} bars for {p} lag(s), got {t}")
    flat = np.ptp(logp, axis=1) == 0
    if flat.any():
        raise InputError("a leg has constant prices over the window; drop it")
    stat, beta, alpha, phi, sd = eg_pairs(np.ascontiguousarray(logp), first, second, p)
    with np.errstate(divide="ignore", invalid="ignore"):
        half_life = np.where((phi > 0) & (phi < 1), -np.log(2.0) / np.log(phi), np.inf)
    return {
        "stat": stat,
        "pvalue": mackinnon_pvalue(stat),
        "beta": beta,
        "alpha": alpha,
        "half_life": half_life,
        "spread_vol": sd,
    }


def engle_granger(y, x, lags: int = 1) -> dict[str, np.ndarray]:
    """Engle–Granger for pairs stacked as rows: ``y``, ``x`` of shape (P, T) (or 1-D for one pair).

    Returns arrays of length P: ``stat``, ``pvalue``, ``beta``, ``alpha``, ``half_life``
    (bars, from the AR(1) coefficient of the residual; ``inf`` if not mean reverting)
    and ``spread_vol`` (residual standard deviation).
    """
    y = np.atleast_2d(np.asarray(y, dtype=float))
    x = np.atleast_2d(np.asarray(x, dtype=float))
    if y.shape != x.shape:
        raise InputError(f"legs differ in shape: {y.shape} and {x.shape}")
    pairs = y.shape[0]
    rows = np.arange(pairs, dtype=np.int64)
    return _pairs_stats(np.vstack([y, x]), rows, rows + pairs, lags)


@dataclass(frozen=True)
class ScanResult:
    """Every pair ranked by p-value, with BH q-values; ``discoveries`` pass the FDR level."""

    table: pd.DataFrame
    fdr: float
    lags: int
    bars: int
    log_prices: bool
    tested: int

    @property
    def discoveries(self) -> pd.DataFrame:
        return self.table[self.table["q_value"] <= self.fdr]

    def to_frame(self) -> pd.DataFrame:
        return self.table.copy()

    def to_dict(self) -> dict[str, Any]:
        rows = self.table.replace({np.inf: None}).to_dict(orient="records")
        return {
            "pairs_tested": self.tested,
            "discoveries": int((self.table["q_value"] <= self.fdr).sum()),
            "fdr": self.fdr,
            "lags": self.lags,
            "bars": self.bars,
            "log_prices": self.log_prices,
            "table": rows,
        }


def scan(
    prices: pd.DataFrame,
    *,
    lags: int = 1,
    fdr: float = 0.05,
    log_prices: bool = True,
    block: int = 2_000,
    only_discoveries: bool = False,
) -> ScanResult:
    """Engle–Granger on every pair of ``prices`` columns (y = earlier column, x = later).

    Rows with a missing price in any column are dropped first (the legs must be
    aligned). ``block`` pairs are processed at a time.
    """
    if not 0 < fdr < 1:
        raise InputError(f"--fdr {fdr!r} must be between 0 and 1")
    frame = prices.dropna()
    names = [str(c) for c in frame.columns]
    if len(names) < 2:
        raise InputError("a scan needs at least two tickers")
    if len(frame) < 30:
        raise InputError(f"only {len(frame)} bars where every ticker has a price; widen the window")
    values = frame.to_numpy(dtype=float).T
    if log_prices:
        if np.any(values <= 0):
            raise InputError("log prices need positive prices")
        values = np.log(values)
    pairs = np.array(list(itertools.combinations(range(len(names)), 2)), dtype=np.int64)
    parts = [
        _pairs_stats(values, chunk[:, 0].copy(), chunk[:, 1].copy(), lags)
        for chunk in (pairs[i : i + block] for i in range(0, len(pairs), block))
    ]
    stats = {key: np.concatenate([p[key] for p in parts]) for key in parts[0]}
    table = pd.DataFrame(
        {
            "y": [names[i] for i in pairs[:, 0]],
            "x": [names[j] for j in pairs[:, 1]],
            "eg_stat": stats["stat"],
            "p_value": stats["pvalue"],
            "q_value": benjamini_hochberg(stats["pvalue"]),
            "beta": stats["beta"],
            "half_life_bars": stats["half_life"],
            "spread_vol": stats["spread_vol"],
        }
    )
    table = table.sort_values(["p_value", "eg_stat"], kind="stable").reset_index(drop=True)
    if only_discoveries:
        table = table[table["q_value"] <= fdr].reset_index(drop=True)
    return ScanResult(table=table, fdr=fdr, lags=int(lags), bars=len(frame), log_prices=log_prices, tested=len(pairs))
