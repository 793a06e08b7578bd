"""Back-testing VaR and ES forecasts: coverage, independence, Basel zones, Acerbi–Székely.

An *exception* on day t is ``pnl_t < −VaR_t`` (VaR a positive USD loss).

* Kupiec (1995) proportion of failures, χ²(1):
  ``LR_pof = −2 ln[(1−p)^{T−x} p^x / ((1−x/T)^{T−x} (x/T)^x)]``, ``p = 1 − α``.
* Christoffersen (1998) independence, χ²(1), from the transition counts
  ``n_ij`` (state i on day t−1, j on day t) of the exception indicator, and
  conditional coverage ``LR_cc = LR_pof + LR_ind``, χ²(2).
* Basel traffic light: green while the binomial probability of at most ``x``
  exceptions ``P(X ≤ x)`` is below 95%, red from 99.99%, yellow between.  For
  250 days at 99% this is green ≤ 4, yellow 5–9, red ≥ 10 (Basel 1996 table);
  other lengths and levels use the same probability thresholds.
* Acerbi–Székely (2014) ``Z2 = Σ_t X_t I_t / (T (1−α) ES_t) + 1`` (ES at the
  same level as VaR; E[Z2] = 0 under H0, negative when ES is too small).
  The p-value is simulated under H0 for a location–scale family (standard
  normal, or a Student-t with ``h0_dof``): there ``Z2`` does not depend on the
  scale, so ``Y_t ~ F`` with ``F``'s own VaR/ES reproduces its law.  The
  published critical values −0.70 (5%) and −1.8 (0.01%) — AS 2014, for
  α = 97.5% and T = 250, stable across t tails — are reported as flags too.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass

import numpy as np
import pandas as pd
from scipy import special, stats

from astra.errors import InputError
from astra.risk.scenarios import _as_exposures, _as_returns, _check_level

__all__ = ["BacktestResult", "backtest_var", "christoffersen", "kupiec", "rolling_var_forecasts", "traffic_light"]

Z2_CRITICAL_5PCT = -0.70
Z2_CRITICAL_001PCT = -1.8


@dataclass(frozen=True)
class BacktestResult:
    """Outcome of :func:`backtest_var`; LR statistics are χ² with the p-values beside them."""

    level: float
    n_obs: int
    n_exceptions: int
    expected_exceptions: float
    exception_index: tuple[int, ...]
    exception_dates: tuple | None
    kupiec_lr: float
    kupiec_pvalue: float
    independence_lr: float
    independence_pvalue: float
    conditional_coverage_lr: float
    conditional_coverage_pvalue: float
    transitions: dict
    traffic_light: str
    traffic_light_cumprob: float
    es_z2: float | None = None
    es_z2_pvalue: float | None = None
    es_z2_reject_5pct: bool | None = None
    es_z2_reject_001pct: bool | None = None

    def to_dict(self) -> dict:
        out = asdict(self)
        out["exception_index"] = list(self.exception_index)
        out["exception_dates"] = None if self.exception_dates is None else [str(d) for d in self.exception_dates]
        return out


def kupiec(n_obs: int, n_exceptions: int, level: float) -> tuple[float, float]:
    """Kupiec POF likelihood ratio and its χ²(1) p-value.

    Examples
    --------
    >>> lr, pv = kupiec(250, 8, 0.99)
    >>> round(lr, 3), round(pv, 4)
    (7.734, 0.0054)
    """
    p, t, x = 1.0 - level, n_obs, n_exceptions
    ll_null = special.xlogy(t - x, 1.0 - p) + special.xlogy(x, p)
    ll_alt = special.xlogy(t - x, 1.0 - x / t) + special.xlogy(x, x / t)
    lr = max(0.0, float(-2.0 * (ll_null - ll_alt)))
    return lr, float(stats.chi2.sf(lr, 1))


def christoffersen(hits) -> tuple[float, float, dict]:
    """Christoffersen independence LR, its χ²(1) p-value, and the transition counts ``n00 … n11``."""
    h = np.asarray(hits, dtype=bool).astype(int)
    prev, nxt = h[:-1], h[1:]
    n = {f"n{i}{j}": int(np.sum((prev == i) & (nxt == j))) for i in (0, 1) for j in (0, 1)}
    n00, n01, n10, n11 = n["n00"], n["n01"], n["n10"], n["n11"]
    pi01 = n01 / (n00 + n01) if n00 + n01 else 0.0
    pi11 = n11 / (n10 + n11) if n10 + n11 else 0.0
    pi = (n01 + n11) / max(1, n00 + n01 + n10 + n11)
    ll_null = special.xlogy(n00 + n10, 1.0 - pi) + special.xlogy(n01 + n11, pi)
    ll_alt = (
        special.xlogy(n00, 1.0 - pi01)
        + special.xlogy(n01, pi01)
        + special.xlogy(n10, 1.0 - pi11)
        + special.xlogy(n11, pi11)
    )
    lr = max(0.0, float(-2.0 * (ll_null - ll_alt)))
    return lr, float(stats.chi2.sf(lr, 1)), n


def traffic_light(n_obs: int, n_exceptions: int, level: float = 0.99) -> tuple[str, float]:
    """Basel zone (``"green"``/``"yellow"``/``"red"``) and ``P(X ≤ x)`` for ``X ~ Bin(T, 1 − α)``.

    Examples
    --------
    >>> [traffic_light(250, x)[0] for x in (4, 5, 9, 10)]
    ['green', 'yellow', 'yellow', 'red']
    """
    cum = float(stats.binom.cdf(n_exceptions, n_obs, 1.0 - level))
    zone = "green" if cum < 0.95 else ("red" if cum >= 0.9999 else "yellow")
    return zone, cum


def _h0_family(h0_dof: float | None):
    if h0_dof is None:
        return stats.norm()
    if not h0_dof > 2.0:
        raise InputError(f"h0_dof {h0_dof!r} must exceed 2")
    return stats.t(h0_dof, scale=math.sqrt((h0_dof - 2.0) / h0_dof))


def _z2(pnl, hits, es, p) -> float:
    return float(np.sum(pnl * hits / es) / (pnl.size * p) + 1.0)


def _z2_pvalue(z2: float, n_obs: int, level: float, h0_dof, n_sim: int, seed) -> float:
    family = _h0_family(h0_dof)
    p = 1.0 - level
    var_f = -float(family.ppf(p))  # positive loss
    es_f = -float(family.expect(lambda y: y, ub=-var_f) / p)
    rng = np.random.default_rng(seed)
    below = 0
    for start in range(0, n_sim, 1000):
        m = min(1000, n_sim - start)
        y = family.rvs(size=(m, n_obs), random_state=rng)
        sims = np.sum(y * (y < -var_f), axis=1) / (n_obs * p * es_f) + 1.0
        below += int(np.sum(sims <= z2))
    return (below + 1.0) / (n_sim + 1.0)


def backtest_var(
    pnl,
    var_forecasts,
    level: float = 0.99,
    es_forecasts=None,
    *,
    h0_dof: float | None = None,
    n_sim: int = 10_000,
    seed=None,
) -> BacktestResult:
    """Back-test one-day VaR (and optionally ES) forecasts against realised P&L.

    Parameters
    ----------
    pnl : array_like or Series, shape (T,)
        Realised daily P&L (USD); a Series' index gives ``exception_dates``.
    var_forecasts : array_like, shape (T,)
        VaR forecast for each day (positive USD loss), made before the day.
    level : float
        VaR (and ES) confidence level α.
    es_forecasts : array_like, shape (T,), optional
        ES forecasts (positive USD) at the same level; enables the Z2 test.
    h0_dof : float, optional
        Student-t ν of the H0 law simulated for the Z2 p-value (None = normal).
    n_sim : int
        Simulations for the Z2 p-value.
    seed : int or None
        Seed of those simulations.

    Returns
    -------
    BacktestResult

    Examples
    --------
    >>> pnl = np.zeros(250); pnl[[10, 11, 100]] = -5.0
    >>> res = backtest_var(pnl, np.ones(250), 0.99)
    >>> res.n_exceptions, res.traffic_light, res.transitions["n11"]
    (3, 'green', 1)
    """
    level = _check_level(level)
    dates = getattr(pnl, "index", None)
    x = np.asarray(pnl, dtype=float).ravel()
    v = np.asarray(var_forecasts, dtype=float).ravel()
    if x.size != v.size or x.size < 2:
        raise InputError(f"pnl ({x.size}) and var_forecasts ({v.size}) must have the same length >= 2")
    if not (np.all(np.isfinite(x)) and np.all(np.isfinite(v))):
        raise InputError("pnl and var_forecasts must not contain NaN; drop the days without a forecast")
    hits = x < -v
    n_obs, n_exc = x.size, int(hits.sum())
    lr_pof, pv_pof = kupiec(n_obs, n_exc, level)
    lr_ind, pv_ind, trans = christoffersen(hits)
    lr_cc = lr_pof + lr_ind
    zone, cum = traffic_light(n_obs, n_exc, level)
    idx = tuple(int(i) for i in np.flatnonzero(hits))
    z2 = pv_z2 = rej5 = rej001 = None
    if es_forecasts is not None:
        es = np.asarray(es_forecasts, dtype=float).ravel()
        if es.size != x.size or not np.all(es > 0):
            raise InputError(f"es_forecasts must be {x.size} positive USD values, got size {es.size}")
        z2 = _z2(x, hits, es, 1.0 - level)
        pv_z2 = _z2_pvalue(z2, n_obs, level, h0_dof, int(n_sim), seed)
        rej5, rej001 = z2 < Z2_CRITICAL_5PCT, z2 < Z2_CRITICAL_001PCT
    return BacktestResult(
        level=level,
        n_obs=n_obs,
        n_exceptions=n_exc,
        expected_exceptions=n_obs * (1.0 - level),
        exception_index=idx,
        exception_dates=tuple(dates[list(idx)]) if dates is not None else None,
        kupiec_lr=lr_pof,
        kupiec_pvalue=pv_pof,
        independence_lr=lr_ind,
        independence_pvalue=pv_ind,
        conditional_coverage_lr=lr_cc,
        conditional_coverage_pvalue=float(stats.chi2.sf(lr_cc, 2)),
        transitions=trans,
        traffic_light=zone,
        traffic_light_cumprob=cum,
        es_z2=z2,
        es_z2_pvalue=pv_z2,
        es_z2_reject_5pct=rej5,
        es_z2_reject_001pct=rej001,
    )


def rolling_var_forecasts(
    exposures, returns, method: str = "hist", window: int = 250, level: float = 0.99, **var_kwargs
) -> pd.DataFrame:
    """One-day-ahead VaR/ES forecasts with no look-ahead, next to the realised P&L.

    The forecast for row ``t`` uses rows ``t − window … t − 1`` only; the
    realised P&L of row ``t`` is ``R_t · e`` (exposures held fixed).  ``hist``
    and ``param``-normal (zero mean) are vectorised; other methods call
    :func:`astra.risk.var.var` per day (a ``seed`` is spawned into one
    independent stream per day).

    Returns
    -------
    pandas.DataFrame
        Index: dates (or row numbers) ``window … T − 1``; columns ``pnl``,
        ``var``, ``es`` in USD.
    """
    from astra.risk.var import _DISTS, METHODS, var

    e = _as_exposures(exposures)
    r, index, _ = _as_returns(returns, e.size)
    level = _check_level(level)
    if method not in METHODS:
        raise InputError(f"unknown VaR method {method!r}; use one of {', '.join(METHODS)}")
    if int(window) != window or not 2 <= window < r.shape[0]:
        raise InputError(f"window {window!r} must be an integer in [2, {r.shape[0] - 1}] (rows of history)")
    pnl = r @ e
    past = np.lib.stride_tricks.sliding_window_view(pnl, window)[:-1]  # row j = days j … j+window−1
    dist = var_kwargs.get("dist", "normal")
    if method == "hist" and var_kwargs.keys() <= {"tickers"}:
        k = max(1, math.ceil(window * (1.0 - level) - 1e-9))
        worst = np.sort(np.partition(past, k - 1, axis=1)[:, :k], axis=1)
        fc_var, fc_es = -worst[:, k - 1], -worst.mean(axis=1)
    elif method == "param" and dist == "normal" and not var_kwargs.get("include_mean", False):
        sd = past.std(axis=1, ddof=1)
        z = stats.norm.ppf(level)
        fc_var, fc_es = z * sd, sd * stats.norm.pdf(z) / (1.0 - level)
    else:
        if method in _DISTS and dist not in _DISTS[method]:
            raise InputError(f"dist {dist!r} is not available for method {method!r}")
        seeds = np.random.SeedSequence(var_kwargs.pop("seed", None)).spawn(past.shape[0])
        out = [
            var(e, r[t - window : t], method=method, level=level, seed=s, components=False, **var_kwargs)
            for t, s in zip(range(window, r.shape[0]), seeds, strict=True)
        ]
        fc_var, fc_es = np.array([o.var for o in out]), np.array([o.es for o in out])
    idx = index[window:] if index is not None else pd.RangeIndex(window, r.shape[0])
    return pd.DataFrame({"pnl": pnl[window:], "var": fc_var, "es": fc_es}, index=idx)
