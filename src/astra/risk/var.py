"""Value-at-Risk and Expected Shortfall of a book of exposures.

Conventions (see ``DESIGN.md`` — Risk and P&L):

* VaR and ES are **positive USD losses** at confidence ``level`` α over
  ``horizon`` days; ``*_pct_gross`` divide by gross exposure ``Σ|e_i|`` (in %).
* Horizon P&L is buy-and-hold: ``Σ_i e_i (Π_t (1 + r_ti) − 1)``.  Historical
  and parametric ``h``-day figures use overlapping compounded ``h``-day windows
  of the history; simulations compound ``h`` daily draws.  ``scaling="sqrt"``
  instead computes the one-day figure and multiplies it by ``√h``.
* Empirical quantile: ``VaR = −X_(k)``, the ``k = ⌈n(1 − α)⌉``-th worst P&L,
  i.e. ``−numpy.quantile(pnl, 1 − α, method="inverted_cdf")`` (no
  interpolation); ``ES = −mean`` of the ``k`` worst P&L (Acerbi–Tasche).
* Standard errors (``mc_std_error``): VaR by the order-statistic/density
  formula ``√(p(1−p)/n) / f̂(q)`` (``f̂`` a Gaussian kernel density at the
  quantile, Silverman bandwidth); ES by ``√((Var(L | tail) + α(ES − VaR)²)/(n p))``
  (Manistre–Hancock).  For ``hist`` these are sampling errors assuming iid rows.
* ``ci95``: VaR from binomial order statistics (distribution-free:
  ``[X_(l), X_(u)]`` with ``l, u`` binomial 2.5%/97.5% ranks); ES by the normal
  approximation ``ES ± 1.96·se``.  Parametric results report zero error.
* Antithetic Monte Carlo (``antithetic=True``): scenarios come in dependent pairs
  ``(z, −z)``, so the errors are computed over the independent pairs from the
  influence functions — VaR ``√(Var_pairs(1{X ≤ q})/n_pairs) / f̂(q)``, ES
  ``√(Var_pairs((L − VaR)⁺)/n_pairs) / p`` — and both intervals are ``± 1.96·se``.
"""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass, field

import numpy as np
from scipy import stats

from astra.errors import InputError
from astra.risk.attribution import (
    _TailBuffer,
    component_table,
    parametric_components,
    simulation_components,
    tail_rank,
)
from astra.risk.scenarios import (
    COVARIANCE_MODELS,
    _as_exposures,
    _as_returns,
    _check_horizon,
    _check_level,
    _horizon_returns_history,
    bootstrap_model,
    covariance_model,
    fhs_model,
    fit_t_dof,
    iter_pnl_chunks,
    lognormal_horizon_model,
    normal_model,
    t_model,
)

__all__ = ["METHODS", "VaRResult", "tail_statistics", "var"]

METHODS = ("hist", "param", "fhs", "mc")
_DISTS = {"param": ("normal", "t"), "mc": ("normal", "t", "bootstrap")}
_MIN_SCENARIOS = 1_000


@dataclass(frozen=True)
class VaRResult:
    """VaR/ES of a book.  Money in USD (positive = loss); ``*_pct_gross`` in % of gross exposure.

    ``mc_std_error`` and ``ci95`` are keyed ``"var"``/``"es"``; ``components``
    has one dict per name (see :func:`astra.risk.attribution.component_table`);
    ``params`` records the options that produced the numbers (dist, ν, …).
    """

    method: str
    level: float
    horizon_days: int
    var: float
    es: float
    var_pct_gross: float
    es_pct_gross: float
    mc_std_error: dict
    ci95: dict
    scenarios: int
    elapsed_ms: float
    components: list[dict]
    params: dict = field(default_factory=dict)

    def to_dict(self) -> dict:
        """Plain JSON-ready dict (tuples become lists)."""
        out = asdict(self)
        out["ci95"] = {key: list(val) for key, val in self.ci95.items()}
        return out


def tail_statistics(pnl, level: float, *, pairs: bool = False) -> dict:
    """VaR, ES, their standard errors and 95% intervals from a sample of P&L (USD).

    ``pairs=True``: ``pnl[2j]`` and ``pnl[2j + 1]`` are an antithetic pair; the
    standard errors are computed over the pairs (see the module notes).

    Examples
    --------
    >>> pnl = np.random.default_rng(0).normal(0.0, 1.0, 100_000)
    >>> out = tail_statistics(pnl, 0.99)
    >>> round(out["var"], 1), round(out["es"], 1)   # N(0,1): 2.326, 2.665
    (2.3, 2.7)
    """
    x = np.asarray(pnl, dtype=float)
    n, p = x.size, 1.0 - level
    k = tail_rank(n, level)
    lo_rank = int(max(1, stats.binom.ppf(0.025, n, p)))
    hi_rank = int(min(n, stats.binom.ppf(0.975, n, p) + 1))
    quartiles = (n // 4, (3 * n) // 4)  # order statistics for the bandwidth's IQR (no interpolation needed)
    part = np.partition(x, sorted({k - 1, lo_rank - 1, hi_rank - 1, *quartiles}))  # one pass for every rank
    q = part[k - 1]
    tail = part[:k]  # the k smallest, in any order
    value_at_risk, shortfall = float(-q), float(-tail.mean())
    sd = x.std()
    iqr = part[quartiles[1]] - part[quartiles[0]]
    bandwidth = 0.9 * min(sd, iqr / 1.34 if iqr > 0 else sd) * n ** (-0.2)
    density = _density_at(x, q, bandwidth) if bandwidth > 0 else np.inf
    se_var = float(np.sqrt(p * (1.0 - p) / n) / density) if density > 0 else float("nan")
    tail_var = tail.var() if k > 1 else 0.0
    se_es = float(np.sqrt((tail_var + level * (shortfall - value_at_risk) ** 2) / (n * p)))
    ci_var = (float(-part[hi_rank - 1]), float(-part[lo_rank - 1]))
    if pairs:
        if n % 2:
            raise InputError(f"antithetic P&L must hold whole pairs, got {n} values")
        below = (x <= q).reshape(-1, 2).mean(axis=1)
        excess = np.maximum(-x - value_at_risk, 0.0).reshape(-1, 2).mean(axis=1)
        se_var = float(below.std() / np.sqrt(below.size) / density) if density > 0 else float("nan")
        se_es = float(excess.std() / np.sqrt(excess.size) / p)
        ci_var = (value_at_risk - 1.96 * se_var, value_at_risk + 1.96 * se_var)
    return {
        "var": value_at_risk,
        "es": shortfall,
        "k": k,
        "se_var": se_var,
        "se_es": se_es,
        "ci_var": ci_var,
        "ci_es": (shortfall - 1.96 * se_es, shortfall + 1.96 * se_es),
    }


def _density_at(x: np.ndarray, q: float, bandwidth: float) -> float:
    """Gaussian kernel density of ``x`` at ``q``; points beyond 9 bandwidths add < 1e-17 each and are skipped."""
    near = x[np.abs(x - q) < 9.0 * bandwidth]
    u = (near - q) / bandwidth
    return float(np.exp(-0.5 * u * u).sum() / (np.sqrt(2.0 * np.pi) * bandwidth * x.size))


def _tail_warning(scenarios, level) -> str:
    """How thin the tail of ``scenarios`` draws is: scenarios beyond VaR and VaR's relative error (normal P&L)."""
    try:
        n, p = max(int(scenarios), 1), 1.0 - _check_level(level)
    except (TypeError, ValueError):
        return "the tail would be unreliable"
    z = stats.norm.ppf(1.0 - p)
    relative = np.sqrt(p * (1.0 - p) / n) / stats.norm.pdf(z) / z  # order-statistic s.e. / VaR
    return f"the tail rests on {n * p:.0f} scenarios, a standard error of about {relative:.0%} of VaR for a normal P&L"


def _validate(method, dist, level, horizon, scaling, scenarios, window, n_rows):
    if method not in METHODS:
        raise InputError(f"unknown VaR method {method!r}; use one of {', '.join(METHODS)}")
    if method in _DISTS and dist not in _DISTS[method]:
        raise InputError(f"dist {dist!r} is not available for method {method!r}; use one of {_DISTS[method]}")
    if scaling not in (None, "sqrt"):
        raise InputError(f"unknown scaling {scaling!r}; use None (compounded paths) or 'sqrt'")
    if method in ("mc", "fhs") and (int(scenarios) != scenarios or scenarios < _MIN_SCENARIOS):
        raise InputError(f"scenarios {scenarios!r} is too few for Monte Carlo: {_tail_warning(scenarios, level)}; "
                         f"use at least {_MIN_SCENARIOS:,}")  # fmt: skip
    if window is not None and (int(window) != window or not 2 <= window <= n_rows):
        raise InputError(f"window {window!r} must be an integer number of rows in [2, {n_rows}]")
    return _check_level(level), _check_horizon(horizon)


def var(
    exposures,
    returns,
    *,
    method: str = "hist",
    level: float = 0.99,
    horizon: int = 1,
    dist: str = "normal",
    scenarios: int = 100_000,
    seed=None,
    window: int | None = None,
    scaling: str | None = None,
    tickers=None,
    dof: float | None = None,
    dof_method: str = "mle",
    include_mean: bool = False,
    vol_model: str = "ewma",
    block_length: float = 1.0,
    components: bool = True,
    paths: str = "compound",
    covariance: str = "sample",
    factors: int = 8,
    antithetic: bool = False,
    workers: int | None = None,
) -> VaRResult:
    """VaR and ES of a book of exposures, with standard errors and Euler components.

    Parameters
    ----------
    exposures : array_like, shape (N,)
        Signed USD market value per name (shares × price).
    returns : array_like or DataFrame, shape (T, N)
        Simple daily returns, no NaNs; columns in the order of ``exposures``.
    method : {"hist", "param", "fhs", "mc"}
        Historical simulation, closed-form parametric, filtered historical
        simulation (``vol_model`` ``"ewma"`` λ=0.94 or ``"garch"``), or Monte
        Carlo (``dist`` ``"normal"``, ``"t"``, ``"bootstrap"``).
    level : float
        Confidence level α in (0.5, 1).
    horizon : int
        Days; buy-and-hold compounded unless ``scaling="sqrt"``.
    dist : str
        ``param``: ``"normal"``/``"t"``; ``mc``: also ``"bootstrap"``.
    scenarios : int
        Monte-Carlo draws (``mc``, ``fhs``), at least 1000.
    seed : int or None
        Seed of the random generator; same seed, same numbers.
    window : int, optional
        Use only the last ``window`` rows of ``returns``.
    scaling : {None, "sqrt"}
        ``"sqrt"``: one-day figure × √horizon.
    tickers : sequence of str, optional
        Names for ``components`` (default: DataFrame columns or ``name_i``).
    dof : float, optional
        Student-t ν; None fits it on the historical portfolio P&L (``dof_method``).
    include_mean : bool
        ``param``/``mc`` normal/t: include the sample mean (VaR = qσ_p − μ_p).
        Default False, the standard zero-mean choice for short horizons.
        ``hist``/``bootstrap`` keep the mean of the data; ``fhs`` is zero-mean.
    block_length : float
        Mean block length (days) of the stationary bootstrap; 1 = iid rows.
    paths : {"compound", "lognormal"}
        ``mc`` with ``dist="normal"``: ``compound`` draws every day's simple returns and
        compounds them (the default); ``lognormal`` models daily log returns as normal and
        draws the horizon's sum once (exact for that model; h times fewer draws).
    covariance : {"sample", "lw", "ewma", "factor"}
        ``param`` and ``mc`` normal/t: the covariance estimator
        (:func:`astra.risk.scenarios.covariance_model`); ``factor`` is a statistical
        factor model with ``factors`` factors and a specific variance per name, whose
        scenarios cost ``N·k`` instead of ``N²`` per draw.
    antithetic : bool
        ``mc`` normal/t: antithetic variates (pairs ``z``, ``−z``); errors over pairs.
    workers : int, optional
        Threads for the Monte-Carlo chunks (default: the CPUs available); results
        do not depend on it.
    components : bool
        Compute Euler attribution.  Simulations keep the ``≈ S(1−α)`` worst
        scenarios' draws (``≈ S(1−α)·h·k`` floats, k = factor rank) and map
        them back to per-name returns at the end; no second pass.

    Returns
    -------
    VaRResult

    Examples
    --------
    >>> r = np.random.default_rng(0).normal(0.0, 0.01, (500, 2))
    >>> res = var([1e6, 1e6], r, method="param", level=0.99)
    >>> round(res.var / 1e3, 1)   # z_0.99 · σ_p in $k
    32.2
    """
    start = time.perf_counter()
    e = _as_exposures(exposures)
    r, _, columns = _as_returns(returns, e.size)
    level, horizon = _validate(method, dist, level, horizon, scaling, scenarios, window, r.shape[0])
    if paths not in ("compound", "lognormal"):
        raise InputError(f"paths {paths!r}: use compound or lognormal")
    if paths == "lognormal" and (method != "mc" or dist != "normal"):
        raise InputError("lognormal paths are a Monte-Carlo option of the normal model (--method mc --dist normal)")
    if covariance not in COVARIANCE_MODELS:
        raise InputError(f"unknown covariance {covariance!r}; use one of {', '.join(COVARIANCE_MODELS)}")
    uses_covariance = method == "param" or (method == "mc" and dist in ("normal", "t"))
    if covariance != "sample" and not uses_covariance:
        raise InputError(f"covariance {covariance!r} applies to param and mc normal/t, not {method} {dist}")
    if antithetic and not (method == "mc" and dist in ("normal", "t")):
        raise InputError("antithetic variates are a Monte-Carlo option of the normal and t models")
    if window is not None:
        r = r[-int(window) :]
    names = list(tickers) if tickers is not None else ([str(c) for c in columns] if columns is not None else None)
    names = names or [f"name_{i}" for i in range(e.size)]
    if len(names) != e.size:
        raise InputError(f"got {len(names)} tickers for {e.size} exposures")
    days = 1 if scaling == "sqrt" else horizon
    scale = float(np.sqrt(horizon)) if scaling == "sqrt" else 1.0
    params = {"dist": dist if method in _DISTS else None, "scaling": scaling, "window": window}
    if uses_covariance:
        params.update(covariance=covariance, factors=factors if covariance == "factor" else None)
    cov = {"covariance": covariance, "factors": factors}
    n_used = r.shape[0]

    if method == "param":
        r_h = _horizon_returns_history(r, days)
        factor, specific, mean = covariance_model(r_h, **cov)
        if dist == "t" and dof is None:
            dof = fit_t_dof(r_h @ e, method=dof_method)
        parts = parametric_components(e, factor, mean if include_mean else None, level=level, dist=dist, dof=dof,
                                      specific=specific)  # fmt: skip
        tail = {"var": parts["var"], "es": parts["es"], "se_var": 0.0, "se_es": 0.0}
        tail["ci_var"], tail["ci_es"] = (parts["var"],) * 2, (parts["es"],) * 2
        params.update(dof=dof, include_mean=include_mean, sigma_pnl=parts["sigma"] * scale)
    elif method == "hist":
        r_h = _horizon_returns_history(r, days)
        n_used = r_h.shape[0]
        tail = tail_statistics(r_h @ e, level)
        parts = simulation_components(r_h, e, level=level) if components else None
    else:
        if method == "fhs":
            model = fhs_model(r, vol_model=vol_model)
            params.update(vol_model=vol_model)
        elif dist == "normal" and paths == "lognormal":
            model = lognormal_horizon_model(r, days, include_mean=include_mean, **cov)
            days = 1  # the model's single draw is the whole horizon
            params.update(paths=paths)
        elif dist == "normal":
            model = normal_model(r, include_mean=include_mean, **cov)
        elif dist == "t":
            model = t_model(r, dof=dof, exposures=e, dof_method=dof_method, include_mean=include_mean, **cov)
            params.update(dof=model.dof)
        else:
            model = bootstrap_model(r, block_length=block_length)
            params.update(block_length=block_length)
        n_used = int(scenarios)
        buffer = _TailBuffer(n_used, level)
        pnl = np.empty(n_used)
        filled = 0
        chunks = iter_pnl_chunks(model, e, n_used, horizon=days, seed=seed, with_draws=components,
                                 antithetic=antithetic, workers=workers)  # fmt: skip
        for item in chunks:
            draws, chunk = item if components else (None, item)
            if antithetic:  # store pairs side by side: pnl[2j], pnl[2j + 1]
                pnl[filled : filled + chunk.size].reshape(2, -1, order="F")[:] = chunk.reshape(2, -1)
            else:
                pnl[filled : filled + chunk.size] = chunk
            filled += chunk.size
            if components:
                buffer.add(draws, chunk)
        tail = tail_statistics(pnl, level, pairs=antithetic)
        parts = buffer.components(model, e) if components else None
        params.update(seed=seed, antithetic=antithetic)

    gross = float(np.abs(e).sum())
    pct = 100.0 / gross if gross > 0 else float("nan")
    value_at_risk, shortfall = tail["var"] * scale, tail["es"] * scale
    return VaRResult(
        method=method,
        level=level,
        horizon_days=horizon,
        var=value_at_risk,
        es=shortfall,
        var_pct_gross=value_at_risk * pct,
        es_pct_gross=shortfall * pct,
        mc_std_error={"var": tail["se_var"] * scale, "es": tail["se_es"] * scale},
        ci95={"var": tuple(v * scale for v in tail["ci_var"]), "es": tuple(v * scale for v in tail["ci_es"])},
        scenarios=n_used,
        elapsed_ms=1e3 * (time.perf_counter() - start),
        components=component_table(names, e, parts, scale) if parts is not None else [],
        params=params,
    )
