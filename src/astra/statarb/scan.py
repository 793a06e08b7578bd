"""Pair scan: batched Engle–Granger over every pair, MacKinnon p-values, Benjamini–Hochberg.

For each pair (y, x) in universe order, on the bars where **both** legs have a price
(pairwise complete: a late listing or a gap in one name never shortens another pair's
history): OLS ``y = βx + deterministic terms + e`` on log prices (or prices with
``levels``), then the augmented Dickey–Fuller regression on the residual without
deterministic terms, ``Δe_t = ρ e_{t−1} + Σ_{k=1..p} φ_k Δe_{t−k} + ε_t``, with ``p``
fixed or chosen by AIC, BIC or the t-statistic of the last lag; the statistic is ρ's
t-value and its p-value comes from MacKinnon's (1994, 2010) response surface for two I(1)
series. This is ``statsmodels.tsa.stattools.coint(y, x, trend=…, maxlag=…, autolag=…)``
on each pair's common bars, for all pairs at once in a parallel numba kernel
(:mod:`astra.statarb._eg`), chunked over pairs so memory stays bounded.

Many pairs means many tests: q-values control the false-discovery rate
(Benjamini & Hochberg 1995) over the pairs tested; ``fdr`` keeps only the discoveries.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from scipy.stats import norm

from astra.errors import InputError
from astra.statarb import _eg

__all__ = [
    "DEFAULT_MIN_OVERLAP",
    "ScanPlan",
    "ScanResult",
    "benjamini_hochberg",
    "engle_granger",
    "finish_scan",
    "mackinnon_pvalue",
    "plan_scan",
    "scan",
    "scan_block",
]

DEFAULT_MIN_OVERLAP = 100  # common bars a pair needs to be tested


def mackinnon_pvalue(stat, n_series: int = 2, trend: str = "c") -> np.ndarray:
    """MacKinnon (1994) asymptotic p-value of a cointegration t-statistic (``n_series`` I(1) series).

    Vectorised ``statsmodels.tsa.adfvalues.mackinnonp(stat, trend, N)``, using its published
    coefficients; ``trend`` is the cointegrating regression's deterministic part (n, c, ct, ctt).

    Examples
    --------
    >>> mackinnon_pvalue([-3.5, -2.0]).round(4).tolist()  # statsmodels mackinnonp(-3.5, "c", 2) = 0.0324
    [0.0324, 0.5286]
    """
    from statsmodels.tsa import adfvalues as mk

    i = n_series - 1
    stat = np.asarray(stat, dtype=float)
    finite = np.where(np.isfinite(stat), stat, 0.0)  # ±inf and NaN are settled by the cases below
    small = np.polynomial.polynomial.polyval(finite, mk._tau_smallps[trend][i])
    large = np.polynomial.polynomial.polyval(finite, mk._tau_largeps[trend][i])
    p = norm.cdf(np.where(stat <= mk._tau_stars[trend][i], small, large))
    p = np.where(stat > mk._tau_maxs[trend][i], 1.0, p)
    return np.where(stat < mk._tau_mins[trend][i], 0.0, np.where(np.isnan(stat), np.nan, p))


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


def _options(trend: str, maxlag, autolag) -> tuple[int, int, int]:
    """Kernel codes for (trend, maxlag, autolag), validated with statsmodels' vocabulary."""
    if trend not in _eg.TRENDS:
        raise InputError(f"trend {trend!r} is not one of n (none), c (constant), ct (+ trend), ctt (+ squared trend)")
    if autolag not in _eg.AUTOLAG:
        raise InputError(f"autolag {autolag!r} is not one of aic, bic, t-stat, or None (use maxlag as given)")
    if maxlag is None:
        code = -1  # Schwert's rule, per pair: ⌈12 (n/100)^¼⌉
    elif isinstance(maxlag, bool) or not isinstance(maxlag, int | np.integer) or not 0 <= maxlag <= 100:
        raise InputError(f"maxlag {maxlag!r} must be a whole number of lags from 0 to 100, or None (Schwert's rule)")
    else:
        code = int(maxlag)
    if autolag is None and code < 0:
        code = -1  # no search: the Schwert lag itself, as statsmodels' adfuller(maxlag=None, autolag=None)
    return _eg.TRENDS.index(trend), code, _eg.AUTOLAG.index(autolag)


def _pairs_stats(values: np.ndarray, first: np.ndarray, second: np.ndarray, lags=1, *, trend: str = "c",
                 autolag: str | None = None, min_overlap: int | None = None,
                 chunk: int = 64) -> dict[str, np.ndarray]:  # fmt: skip
    """Engle–Granger for the pairs ``(first[p], second[p])`` of rows of ``values`` (names × bars, NaN = no value)."""
    n_det, maxlag, auto = _options(trend, lags, autolag)
    values = np.ascontiguousarray(values, dtype=float)
    complete = ~np.isnan(values).any(axis=1)
    floor = _min_overlap_floor(maxlag)
    overlap = floor if min_overlap is None else int(min_overlap)
    if overlap < floor:
        raise InputError(f"min_overlap {min_overlap!r}: at least {floor} common bars for maxlag {lags}")
    stat, beta, alpha, phi, rms, nobs, lo, hi, used, status = _eg.eg_pairs(
        values, complete, np.ascontiguousarray(first, dtype=np.int64), np.ascontiguousarray(second, dtype=np.int64),
        n_det, maxlag, auto, overlap, int(chunk),
    )  # fmt: skip
    with np.errstate(divide="ignore", invalid="ignore"):
        half_life = np.where((phi > 0) & (phi < 1), -np.log(2.0) / np.log(phi), np.inf)
    return {
        "stat": stat,
        "pvalue": mackinnon_pvalue(stat, trend=trend),
        "beta": beta,
        "alpha": alpha,
        "half_life": half_life,
        "spread_vol": rms,
        "bars": nobs,
        "first_bar": lo,
        "last_bar": hi,
        "lags": used,
        "status": status,
    }


def _min_overlap_floor(maxlag: int) -> int:
    """Fewest common bars worth testing: 20, and room for the ADF regression (``maxlag ≤ n/2 − 1``)."""
    return max(20, 2 * (max(maxlag, 0) + 1) + 2)


def engle_granger(
    y, x, *, trend: str = "c", maxlag: int | None = 1, autolag: str | None = None
) -> dict[str, np.ndarray]:
    """Engle–Granger for pairs stacked as rows: ``y``, ``x`` of shape (P, T) (or 1-D for one pair).

    Each pair uses the bars where both rows have a value (NaN = none). ``trend``, ``maxlag`` and
    ``autolag`` have the meaning of ``statsmodels.tsa.stattools.coint``'s (``maxlag=None``:
    Schwert's ``⌈12 (n/100)^¼⌉``); the values are tested as given (take logs first if wanted).

    Returns arrays of length P: ``stat``, ``pvalue``, ``beta``, ``alpha`` (the regression's
    constant in statsmodels' parametrisation), ``half_life`` (bars, from the AR(1) coefficient
    of the residual; ``inf`` if not mean reverting), ``spread_vol`` (residual RMS), ``bars``
    (common bars), ``lags`` (ADF lags used) and ``status`` (0 tested; see ``_eg.STATUS``).

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> x = np.cumsum(rng.normal(size=500))
    >>> out = engle_granger(2 * x + rng.normal(size=500), x, autolag="aic", maxlag=None)
    >>> bool(out["pvalue"][0] < 0.01), int(out["lags"][0]) >= 0
    (True, True)
    """
    y = np.atleast_2d(np.asarray(y, dtype=float))
    x = np.atleast_2d(np.asarray(x, dtype=float))
    if y.shape != x.shape:
        raise InputError(f"legs differ in shape: {y.shape} and {x.shape}")
    pairs = y.shape[0]
    rows = np.arange(pairs, dtype=np.int64)
    return _pairs_stats(np.vstack([y, x]), rows, rows + pairs, maxlag, trend=trend, autolag=autolag)


@dataclass(frozen=True)
class ScanResult:
    """Every tested pair ranked by p-value, with BH q-values; ``discoveries`` pass the FDR level.

    ``table`` (index ``rank``, 1 = most significant): ``y``, ``x``, ``eg_stat``, ``p_value``,
    ``q_value``, ``beta``, ``half_life_bars``, ``spread_vol``, ``bars`` (the pair's common
    bars), ``lags`` (ADF lags used), ``start``/``end`` (its first and last common bar, ISO text).
    ``lags`` (the field) is the maximum lag asked (``None``: Schwert's rule), ``bars`` the
    panel's rows; ``skipped`` pairs were not tested (``notes`` say why).
    """

    table: pd.DataFrame
    fdr: float
    lags: int | None
    bars: int
    log_prices: bool
    tested: int
    trend: str = "c"
    autolag: str | None = None
    min_overlap: int = DEFAULT_MIN_OVERLAP
    skipped: int = 0
    notes: tuple[str, ...] = field(default_factory=tuple)

    @property
    def discoveries(self) -> pd.DataFrame:
        return self.table[self.table["q_value"] <= self.fdr]

    def to_frame(self) -> pd.DataFrame:
        return self.table.copy()

    def to_dict(self) -> dict[str, Any]:
        rows = self.table.replace({np.inf: None, -np.inf: None}).to_dict(orient="records")
        return {
            "pairs_tested": self.tested,
            "pairs_skipped": self.skipped,
            "discoveries": int((self.table["q_value"] <= self.fdr).sum()),
            "fdr": self.fdr,
            "trend": self.trend,
            "maxlag": self.lags,
            "autolag": self.autolag,
            "min_overlap": self.min_overlap,
            "bars": self.bars,
            "log_prices": self.log_prices,
            "notes": list(self.notes),
            "table": rows,
        }


def _iso_text(index: pd.Index) -> np.ndarray:
    """The index as text, once: ISO dates for daily bars, ISO times otherwise."""
    if isinstance(index, pd.DatetimeIndex):
        daily = index.tz is None and bool((index == index.normalize()).all())
        return np.asarray(index.strftime("%Y-%m-%d") if daily else index.map(pd.Timestamp.isoformat), dtype=object)
    return np.asarray(index.astype(str), dtype=object)


def scan(
    prices: pd.DataFrame,
    *,
    trend: str = "c",
    maxlag: int | None = 1,
    autolag: str | None = None,
    levels: bool = False,
    min_overlap: int = DEFAULT_MIN_OVERLAP,
    fdr: float = 0.05,
    block: int = 20_000,
    only_discoveries: bool = False,
) -> ScanResult:
    """Engle–Granger on every pair of ``prices`` columns (y = earlier column, x = later).

    Parameters
    ----------
    prices : DataFrame
        Prices (bars × tickers); NaN where a ticker has no price (before its listing, in a gap).
        Each pair uses the bars where both have a price: no universe-wide intersection.
    trend : {"c", "ct", "ctt", "n"}
        Deterministic terms of the cointegrating regression: constant (default), constant and
        linear trend, and squared trend, or none (statsmodels' ``coint`` ``trend``).
    maxlag : int or None
        Lagged differences in the ADF regression (``autolag=None``), or the most tried
        (with ``autolag``); ``None`` is Schwert's ``⌈12 (n/100)^¼⌉`` for the pair's ``n`` bars.
    autolag : {None, "aic", "bic", "t-stat"}
        Choose the lag by information criterion or by the last lag's t-statistic
        (statsmodels' ``adfuller`` semantics, models compared on a common sample).
    levels : bool
        Test prices rather than log prices (default: log prices, so β is an elasticity).
    min_overlap : int
        Fewest common bars for a pair to be tested (default 100); shorter pairs are skipped,
        counted and left out of the FDR.
    fdr : float
        False-discovery rate for the Benjamini–Hochberg q-values (0 < fdr < 1).
    block : int
        Pairs per kernel call (memory bound: 11 values a pair).
    only_discoveries : bool
        Keep only the pairs with q ≤ ``fdr``.

    Returns
    -------
    ScanResult

    Examples
    --------
    >>> rng = np.random.default_rng(1)
    >>> x = np.exp(np.cumsum(rng.normal(0, 0.01, 400)))
    >>> y = x**1.5 * np.exp(rng.normal(0, 0.005, 400))  # log y = 1.5 log x + noise: cointegrated
    >>> frame = pd.DataFrame({"Y": y, "X": x, "Z": rng.lognormal(0, 0.01, 400)})
    >>> result = scan(frame, fdr=0.05)
    >>> result.table.loc[1, ["y", "x"]].tolist(), result.tested
    (['Y', 'X'], 3)
    """
    plan = plan_scan(prices, trend=trend, maxlag=maxlag, autolag=autolag, levels=levels, min_overlap=min_overlap,
                     fdr=fdr)  # fmt: skip
    if isinstance(block, bool) or not isinstance(block, int | np.integer) or block < 1:
        raise InputError(f"--block {block!r} must be a whole number of pairs ≥ 1")
    pairs = plan.pairs()
    blocks = [scan_block(pairs[i : i + block], plan=plan) for i in range(0, len(pairs), block)]
    return finish_scan(plan, pairs, blocks, only_discoveries=only_discoveries)


@dataclass(frozen=True)
class ScanPlan:
    """A validated scan: the values tested (names × bars: log prices, or prices with ``levels``)
    and the options. :func:`scan_block` runs any block of pairs of it (on a worker too: it pickles),
    :func:`finish_scan` ranks the blocks' results."""

    values: np.ndarray
    names: tuple[str, ...]
    index: pd.Index
    trend: str
    maxlag: int | None
    autolag: str | None
    levels: bool
    min_overlap: int
    fdr: float

    def pairs(self) -> np.ndarray:
        """Every pair ``(i, j)``, ``i < j``, in universe order: shape (P, 2)."""
        return np.array(list(itertools.combinations(range(len(self.names)), 2)), dtype=np.int64).reshape(-1, 2)


def plan_scan(prices: pd.DataFrame, *, trend: str = "c", maxlag: int | None = 1, autolag: str | None = None,
              levels: bool = False, min_overlap: int = DEFAULT_MIN_OVERLAP,
              fdr: float = 0.05) -> ScanPlan:  # fmt: skip
    """Validate :func:`scan`'s inputs once and prepare the values tested."""
    if not 0 < fdr < 1:
        raise InputError(f"--fdr {fdr!r} must be between 0 and 1")
    if isinstance(min_overlap, bool) or not isinstance(min_overlap, int | np.integer):
        raise InputError(f"min_overlap {min_overlap!r} must be a whole number of bars")
    _, code, _ = _options(trend, maxlag, autolag)
    floor = _min_overlap_floor(code)
    if min_overlap < floor:
        raise InputError(f"min_overlap {min_overlap!r}: at least {floor} common bars for maxlag {maxlag}")
    names = tuple(str(c) for c in prices.columns)
    if len(names) < 2:
        raise InputError("a scan needs at least two tickers")
    values = prices.to_numpy(dtype=float).T
    if levels:
        values = np.ascontiguousarray(values)
    else:
        if np.any(values <= 0):  # NaN compares false: missing prices pass
            raise InputError("log prices need positive prices (or scan --levels)")
        values = np.ascontiguousarray(np.log(values))
    return ScanPlan(values, names, prices.index, trend, maxlag, autolag, bool(levels), int(min_overlap), float(fdr))


def scan_block(pairs: np.ndarray, *, plan: ScanPlan) -> dict[str, np.ndarray]:
    """Engle–Granger statistics of the pairs (rows of ``pairs``: indices into ``plan.names``)."""
    pairs = np.asarray(pairs, dtype=np.int64).reshape(-1, 2)
    return _pairs_stats(plan.values, pairs[:, 0], pairs[:, 1], plan.maxlag, trend=plan.trend, autolag=plan.autolag,
                        min_overlap=plan.min_overlap)  # fmt: skip


def finish_scan(plan: ScanPlan, pairs: np.ndarray, blocks, *, only_discoveries: bool = False) -> ScanResult:
    """Rank the pairs, q-values over all those tested (whatever the blocks), notes on the rest.

    ``pairs`` is the concatenation of the blocks' pairs, in the order of ``blocks``.
    """
    blocks = list(blocks)
    stats = {key: np.concatenate([b[key] for b in blocks]) for key in blocks[0]}
    return _scan_result(plan.index, list(plan.names), np.asarray(pairs).reshape(-1, 2), stats, fdr=plan.fdr,
                        maxlag=plan.maxlag, trend=plan.trend, autolag=plan.autolag, levels=plan.levels,
                        min_overlap=plan.min_overlap, only_discoveries=only_discoveries)  # fmt: skip


def _scan_result(index, names, pairs, stats, *, fdr, maxlag, trend, autolag, levels, min_overlap,
                 only_discoveries) -> ScanResult:  # fmt: skip
    """The ranked table of the tested pairs, q-values over them, and notes on the others."""
    status = stats["status"]
    tested = (status == _eg.OK) | (status == _eg.COLLINEAR)
    if not tested.any():
        longest = int(stats["bars"].max(initial=0))
        raise InputError(
            f"no pair could be tested: the longest common history is {longest} bars (min_overlap {min_overlap}); "
            "widen the window or lower min_overlap"
        )
    keep = np.flatnonzero(tested)
    order = np.lexsort((stats["stat"][keep], stats["pvalue"][keep]))  # p-value, then statistic
    rows = keep[order]
    labels = np.asarray(names, dtype=object)
    stamps = _iso_text(pd.Index(index))
    table = pd.DataFrame(
        {
            "y": labels[pairs[rows, 0]],
            "x": labels[pairs[rows, 1]],
            "eg_stat": stats["stat"][rows],
            "p_value": stats["pvalue"][rows],
            "q_value": benjamini_hochberg(stats["pvalue"][rows]),
            "beta": stats["beta"][rows],
            "half_life_bars": stats["half_life"][rows],
            "spread_vol": stats["spread_vol"][rows],
            "bars": stats["bars"][rows],
            "lags": stats["lags"][rows],
            "start": stamps[stats["first_bar"][rows]],
            "end": stamps[stats["last_bar"][rows]],
        },
        index=pd.RangeIndex(1, len(rows) + 1, name="rank"),
    )
    if only_discoveries:
        table = table[table["q_value"] <= fdr]
        table.index = pd.RangeIndex(1, len(table) + 1, name="rank")
    notes = _scan_notes(names, pairs, stats, index, min_overlap)
    return ScanResult(table=table, fdr=fdr, lags=maxlag, bars=len(index), log_prices=not levels, tested=len(rows),
                      trend=trend, autolag=autolag, min_overlap=int(min_overlap), skipped=int((~tested).sum()),
                      notes=tuple(notes))  # fmt: skip


def _scan_notes(names, pairs, stats, index, min_overlap) -> list[str]:
    status, bars = stats["status"], stats["bars"]
    notes = []
    full = len(index)
    short = np.flatnonzero(bars < full)
    if short.size and (status == _eg.OK).any():
        notes.append(
            f"{short.size} pairs use fewer than the panel's {full} bars (each pair: the bars where both legs "
            "have a price); the others keep their full history"
        )
    for code, what in ((_eg.TOO_SHORT, f"fewer than min_overlap = {min_overlap} common bars"),
                       (_eg.CONSTANT, "a leg with constant prices over the common bars"),
                       (_eg.LAG_TOO_LONG, "too few common bars for maxlag")):  # fmt: skip
        hit = np.flatnonzero(status == code)
        if hit.size:
            shown = ", ".join(f"{names[pairs[p, 0]]}/{names[pairs[p, 1]]} ({bars[p]})" for p in hit[:3])
            more = f" and {hit.size - 3:,} more" if hit.size > 3 else ""
            notes.append(f"{hit.size} pairs not tested, {what}: {shown}{more}")
    collinear = int((status == _eg.COLLINEAR).sum())
    if collinear:
        notes.append(
            f"{collinear} pairs have (almost) collinear legs (R² ≥ 1 − 100√ε): statistic −∞ and p-value 0, "
            "as statsmodels; the test is not reliable for them"
        )
    return notes
