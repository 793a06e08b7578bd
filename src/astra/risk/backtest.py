"""Back-testing VaR and ES forecasts: coverage, independence, Basel zones, Acerbi–Székely.

An *exception* on day t is ``pnl_t < −VaR_t`` (VaR a positive USD loss).

* Kupiec (1995) proportion of failures, χ²(1):
  ``LR_pof = −2 ln[(1−p)^{T−x} p^x / ((1−x/T)^{T−x} (x/T)^x)]``, ``p = 1 − α``.
* Christoffersen (1998) independence, χ²(1), from the transition counts
  ``n_ij`` (state i on day t−1, j on day t) of the exception indicator, and
  conditional coverage ``LR_cc = LR_pof + LR_ind``, χ²(2).
* Basel traffic light (BCBS, *Supervisory framework for the use of "backtesting" in
  conjunction with the internal models approach to market risk capital requirements*,
  January 1996, Table 2): green while the binomial probability of at most ``x``
  exceptions ``P(X ≤ x)``, ``X ~ Bin(T, 1 − α)``, is below 95 %, red from 99.99 %, yellow
  between.  For 250 days at 99 % this is the Basel table (green ≤ 4, yellow 5–9, red ≥ 10);
  other lengths and levels use the same cumulative-probability thresholds.
* Acerbi–Székely (2014) ``Z2 = Σ_t X_t I_t / (T (1−α) ES_t) + 1`` (ES at the
  same level as VaR; E[Z2] = 0 under H0, negative when ES is too small).
  Its null distribution is simulated for the actual ``T`` and level under a
  location–scale family (standard normal, or a Student-t with ``h0_dof``; there ``Z2``
  does not depend on the scale, so ``Y_t ~ F`` with ``F``'s own VaR/ES reproduces its
  law), seeded and cached. The p-value and both decisions come from that one
  simulation: reject at 5 % exactly when ``p ≤ 0.05``, i.e. when ``Z2`` is below the
  reported critical value. (The paper's −0.70 / −1.8 hold for T = 250 at 97.5 % only.)
* When Kupiec's coverage test and Christoffersen's independence test disagree, a note
  says what that means.
"""

from __future__ import annotations

import functools
import math
from dataclasses import asdict, dataclass

import numpy as np
import pandas as pd
from scipy import special, stats

from astra.errors import InputError
from astra.risk._checks import align_book, check_level, check_seed
from astra.risk.tails import _tail_count

__all__ = [
    "BacktestResult",
    "backtest_var",
    "christoffersen",
    "kupiec",
    "rolling_var_forecasts",
    "traffic_light",
    "z2_null",
]

Z2_SEED = 0  # the null distribution is simulated with this seed unless one is given


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
    es_z2_critical_5pct: float | None = None
    es_z2_critical_001pct: float | None = None
    notes: tuple[str, ...] = ()

    def to_dict(self) -> dict:
        out = asdict(self)
        out["notes"] = list(self.notes)
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

    Zones at the cumulative probabilities of BCBS (1996): green below 95 %, red from 99.99 %.

    Examples
    --------
    >>> [traffic_light(250, x)[0] for x in (4, 5, 9, 10)]
    ['green', 'yellow', 'yellow', 'red']
    >>> [traffic_light(1000, x)[0] for x in (14, 15, 23, 24)]   # four years of 99 % VaR: P(X ≤ 15) = 95.2 %
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


@functools.lru_cache(maxsize=16)
def _z2_null_cached(n_obs: int, level: float, h0_dof: float | None, n_sim: int, seed: int) -> np.ndarray:
    family = _h0_family(h0_dof)
    p = 1.0 - level
    var_f = -float(family.ppf(p))  # positive loss
    es_f = -float(family.expect(lambda y: y, ub=-var_f) / p)
    rng = np.random.default_rng(seed)
    sims = np.empty(n_sim)
    rows = max(1, 2_000_000 // n_obs)  # ≈ 16 MB of draws at a time
    for start in range(0, n_sim, rows):
        m = min(rows, n_sim - start)
        y = family.rvs(size=(m, n_obs), random_state=rng)
        sims[start : start + m] = np.sum(y * (y < -var_f), axis=1) / (n_obs * p * es_f) + 1.0
    sims.sort()
    sims.flags.writeable = False
    return sims


def z2_null(n_obs: int, level: float, *, h0_dof: float | None = None, n_sim: int = 10_000, seed=None) -> np.ndarray:
    """Sorted Z2 statistics simulated under H0 for ``n_obs`` days at ``level`` (seeded; cached for int seeds).

    Examples
    --------
    >>> sims = z2_null(250, 0.975, n_sim=20_000)
    >>> round(float(np.quantile(sims, 0.05)), 1)   # Acerbi–Székely (2014): −0.70 at T = 250, α = 97.5 %
    -0.7
    """
    if int(n_sim) != n_sim or n_sim < 100:
        raise InputError(f"n_sim {n_sim!r} must be an integer >= 100 simulations")
    seed = check_seed(seed)
    if seed is None or isinstance(seed, int):
        dof = None if h0_dof is None else float(h0_dof)
        return _z2_null_cached(int(n_obs), float(level), dof, int(n_sim), Z2_SEED if seed is None else seed)
    return _z2_null_cached.__wrapped__(int(n_obs), float(level), h0_dof, int(n_sim), seed)


def _z2_decision(z2: float, sims: np.ndarray, alpha: float) -> tuple[bool, float | None]:
    """Reject iff the simulated p-value ``(#{sims ≤ z2} + 1)/(n + 1) ≤ alpha``; and the critical value saying so."""
    allowed = math.floor(alpha * (sims.size + 1) - 1.0 + 1e-9)  # most simulations at or below z2 for a rejection
    if allowed < 0:
        return False, None  # too few simulations to ever reach this level
    critical = float(sims[allowed])
    return bool(z2 < critical), critical


def _disagreement(n_obs, n_exc, level, pv_pof, pv_ind, trans) -> str | None:
    expected = n_obs * (1.0 - level)
    if pv_pof < 0.05 <= pv_ind:
        side = "too many" if n_exc > expected else "too few"
        return (f"coverage is rejected ({n_exc} exceptions, {expected:.1f} expected: {side}) but the exceptions do not "
                f"cluster (independence p = {pv_ind:.2f}): the VaR level is off, not its timing")  # fmt: skip
    if pv_ind < 0.05 <= pv_pof:
        return (f"coverage is consistent ({n_exc} exceptions, {expected:.1f} expected) but the exceptions cluster "
                f"({trans['n11']} back to back; independence p = {pv_ind:.3f}): the VaR reacts too slowly to "
                "changing volatility")  # fmt: skip
    return None


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
        Student-t ν of the H0 law simulated for the Z2 test (None = normal).
    n_sim : int
        Simulations of the Z2 null distribution (for this T and level).
    seed : int or None
        Seed of those simulations (None: a fixed seed, so results repeat).

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
    level = check_level(level)
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
    z2 = pv_z2 = rej5 = rej001 = crit5 = crit001 = None
    if es_forecasts is not None:
        es = np.asarray(es_forecasts, dtype=float).ravel()
        if es.size != x.size:
            raise InputError(f"es_forecasts must have one value per day ({x.size}), got {es.size}")
        bad = np.flatnonzero(~(es > 0) | ~np.isfinite(es))
        if bad.size:
            raise InputError(f"es_forecasts must be positive USD losses; day {bad[0]} has {es[bad[0]]!r}")
        z2 = _z2(x, hits, es, 1.0 - level)
        sims = z2_null(n_obs, level, h0_dof=h0_dof, n_sim=n_sim, seed=seed)
        pv_z2 = float((np.searchsorted(sims, z2, side="right") + 1.0) / (sims.size + 1.0))
        rej5, crit5 = _z2_decision(z2, sims, 0.05)
        rej001, crit001 = _z2_decision(z2, sims, 0.0001)
    note = _disagreement(n_obs, n_exc, level, pv_pof, pv_ind, trans)
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
        es_z2_critical_5pct=crit5,
        es_z2_critical_001pct=crit001,
        notes=(note,) if note else (),
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

    e, r, index, _ = align_book(exposures, returns)
    level = check_level(level)
    if method not in METHODS:
        raise InputError(f"unknown VaR method {method!r}; use one of {', '.join(METHODS)}")
    if int(window) != window or not 2 <= window < r.shape[0]:
        raise InputError(f"window {window!r} must be an integer in [2, {r.shape[0] - 1}] (rows of history)")
    pnl = r @ e
    past = np.lib.stride_tricks.sliding_window_view(pnl, window)[:-1]  # row j = days j … j+window−1
    dist = var_kwargs.get("dist", "normal")
    if method == "hist" and var_kwargs.keys() <= {"tickers"}:
        k = max(1, math.ceil(window * (1.0 - level) - 1e-9))
        count = _tail_count(window, level)  # Acerbi–Tasche: ⌊count⌋ worst + the next by its fractional share
        whole = math.floor(count)
        worst = np.sort(np.partition(past, k - 1, axis=1)[:, :k], axis=1)
        total = worst[:, :whole].sum(axis=1) + ((count - whole) * worst[:, whole] if count > whole else 0.0)
        fc_var, fc_es = -worst[:, k - 1], -total / count
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
