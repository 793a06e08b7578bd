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
  interpolation); ES is Acerbi–Tasche's estimator (the ``⌊n(1−α)⌋`` worst plus the
  next weighted by its fractional share, over ``n(1−α)``), see :mod:`astra.risk.tails`.
* Monte Carlo (``mc``, ``fhs``) runs :func:`astra.risk.montecarlo.monte_carlo`: a pilot
  chooses the variance reduction (importance sampling along the book's loss direction,
  antithetic pairs, the delta control variate) and the result reports the measured
  variance-reduction factor; standard errors come from the influence functions.
* Historical standard errors (``mc_std_error``) assume iid rows: VaR by the
  order-statistic/density formula, ES by Manistre–Hancock; ``ci95`` for VaR from binomial
  order statistics, otherwise ``± 1.96·se``.  Parametric results report zero error.
"""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass, field

import numpy as np

from astra.errors import InputError
from astra.risk._checks import align_book, check_horizon, check_level, check_seed, horizon_returns_history
from astra.risk.attribution import component_table, parametric_components, simulation_components
from astra.risk.covariance import COVARIANCE_MODELS, covariance_model, fit_t_dof
from astra.risk.models import bootstrap_model, fhs_model, lognormal_horizon_model, normal_model, t_model
from astra.risk.montecarlo import monte_carlo, parse_variance_reduction
from astra.risk.tails import tail_statistics

__all__ = ["METHODS", "VaRResult", "tail_statistics", "var"]

METHODS = ("hist", "param", "fhs", "mc")
_DISTS = {"param": ("normal", "t"), "mc": ("normal", "t", "bootstrap")}
_THIN_TAIL = 5.0  # fewer observations than this beyond VaR: say so


@dataclass(frozen=True)
class VaRResult:
    """VaR/ES of a book.  Money in USD (positive = loss); ``*_pct_gross`` in % of gross exposure.

    ``mc_std_error`` and ``ci95`` are keyed ``"var"``/``"es"``; ``components`` has one dict
    per name (see :func:`astra.risk.attribution.component_table`); ``params`` records the
    options that produced the numbers. Monte Carlo adds ``variance_reduction`` (the design,
    its measured variance-reduction factors, the pilot), ``converged`` (with a target standard
    error) and ``scenarios`` used; ``notes`` say what a reader should know (thin tails,
    fallbacks, undefined shares).
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
    variance_reduction: dict | None = None
    converged: bool | None = None
    notes: tuple[str, ...] = ()

    def to_dict(self) -> dict:
        """Plain JSON-ready dict (tuples become lists)."""
        out = asdict(self)
        out["ci95"] = {key: list(val) for key, val in self.ci95.items()}
        out["notes"] = list(self.notes)
        return out


def _thin_tail_note(n: int, level: float) -> str | None:
    beyond = n * (1.0 - level)
    if beyond >= _THIN_TAIL:
        return None
    if beyond < 1.0:
        return (f"{level:.1%} VaR from {n} observations is the worst one and ES equals it (n(1-α) = {beyond:.2f}); "
                "use more history or a lower level")  # fmt: skip
    return (f"the {level:.1%} tail holds {beyond:.2f} of {n} observations: VaR and ES rest on the "
            f"{int(np.ceil(beyond - 1e-9))} worst; use more history or a lower level")  # fmt: skip


def _validate(method, dist, level, horizon, scaling, window, n_rows):
    if method not in METHODS:
        raise InputError(f"unknown VaR method {method!r}; use one of {', '.join(METHODS)}")
    if method in _DISTS and dist not in _DISTS[method]:
        raise InputError(f"dist {dist!r} is not available for method {method!r}; use one of {_DISTS[method]}")
    if scaling not in (None, "sqrt"):
        raise InputError(f"unknown scaling {scaling!r}; use None (compounded paths) or 'sqrt'")
    if window is not None and (isinstance(window, bool) or int(window) != window or not 2 <= window <= n_rows):
        raise InputError(f"window {window!r} must be an integer number of rows in [2, {n_rows}]")
    return check_level(level), check_horizon(horizon)


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
    variance_reduction: str = "auto",
    target_se: float | None = None,
    max_scenarios: int = 10_000_000,
    antithetic: bool = False,
    workers: int | None = None,
    runner=None,
    chunk: int | None = None,
) -> VaRResult:
    """VaR and ES of a book of exposures, with standard errors and Euler components.

    Parameters
    ----------
    exposures : array_like or Series, shape (N,)
        Signed USD market value per name (shares × price). A Series (or dict) labelled by
        ticker is aligned to the columns of a returns DataFrame by label.
    returns : array_like or DataFrame, shape (T, N)
        Simple daily returns, no NaNs; columns in the order of ``exposures`` (arrays).
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
        Monte-Carlo scenarios of the main run (``mc``, ``fhs``), at least 1,000.
    seed : int or None
        Seed (a non-negative integer); the same seed gives the same numbers in process,
        with any number of threads and on a cluster.
    window : int, optional
        Use only the last ``window`` rows of ``returns``.
    scaling : {None, "sqrt"}
        ``"sqrt"``: one-day figure × √horizon.
    tickers : sequence of str, optional
        Names for ``components`` (default: the Series' labels, DataFrame columns or ``name_i``).
    dof : float, optional
        Student-t ν; None fits it on the historical portfolio P&L (``dof_method``).
    include_mean : bool
        ``param``/``mc`` normal/t: include the sample mean (VaR = qσ_p − μ_p).
        Default False, the standard zero-mean choice for short horizons.
    block_length : float
        Mean block length (days) of the stationary bootstrap; 1 = iid rows.
    paths : {"compound", "lognormal"}
        ``mc`` normal: ``compound`` draws every day's simple returns and compounds them
        (the default); ``lognormal`` models daily log returns as normal and draws the
        horizon's sum once.
    covariance : {"sample", "lw", "ewma", "factor"}
        ``param`` and ``mc`` normal/t: the covariance estimator
        (:func:`astra.risk.covariance.covariance_model`).
    variance_reduction : str
        ``mc``: ``"auto"`` (a pilot picks the design with the smallest variance per unit of
        work), ``"none"``, or ``importance``, ``antithetic``, ``control`` joined by ``+``.
        Importance sampling and antithetic pairs need a normal, lognormal or t model; the
        control variate the normal or lognormal model.
    target_se : float, optional
        ``mc``/``fhs``: stop when VaR's standard error is this fraction of VaR (e.g. 0.005);
        ``scenarios`` is then ignored and ``max_scenarios`` caps the run.
    max_scenarios : int
        Cap of a ``target_se`` run; reaching it without the target sets ``converged=False``.
    antithetic : bool
        Same as ``variance_reduction="antithetic"`` (kept for compatibility).
    workers : int, optional
        Threads for the Monte-Carlo chunks (default: the CPUs available).
    runner : astra.parallel.Runner, optional
        Run the Monte-Carlo chunks on this (Dask) runner, ``chunk`` scenarios per task; the
        numbers are the same as in process.
    components : bool
        Compute Euler attribution.

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
    e, r, _, labels = align_book(exposures, returns)
    level, horizon = _validate(method, dist, level, horizon, scaling, window, r.shape[0])
    seed = check_seed(seed)
    simulated = method in ("mc", "fhs")
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
    design = parse_variance_reduction(variance_reduction)
    if antithetic:
        if design not in ("auto", "antithetic"):
            raise InputError(f"antithetic=True conflicts with variance_reduction={variance_reduction!r}")
        design = "antithetic"
    if design != "auto" and not simulated:
        raise InputError(f"variance_reduction applies to Monte Carlo (mc, fhs), not {method}")
    if target_se is not None and not simulated:
        raise InputError(f"target_se applies to Monte Carlo (mc, fhs), not {method}")
    if window is not None:
        r = r[-int(window) :]
    names = list(tickers) if tickers is not None else labels
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
    notes: list[str] = []
    extra: dict = {}

    if method == "param":
        r_h = horizon_returns_history(r, days)
        factor, specific, mean = covariance_model(r_h, **cov)
        if dist == "t" and dof is None:
            dof = fit_t_dof(r_h @ e, method=dof_method)
        parts = parametric_components(e, factor, mean if include_mean else None, level=level, dist=dist, dof=dof,
                                      specific=specific)  # fmt: skip
        tail = {"var": parts["var"], "es": parts["es"], "se_var": 0.0, "se_es": 0.0}
        tail["ci_var"], tail["ci_es"] = (parts["var"],) * 2, (parts["es"],) * 2
        params.update(dof=dof, include_mean=include_mean, sigma_pnl=parts["sigma"] * scale)
    elif method == "hist":
        r_h = horizon_returns_history(r, days)
        n_used = r_h.shape[0]
        tail = tail_statistics(r_h @ e, level)
        parts = simulation_components(r_h, e, level=level) if components else None
        if note := _thin_tail_note(n_used, level):
            notes.append(note)
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
        mc = monte_carlo(model, e, level=level, horizon=days, scenarios=scenarios, seed=seed,
                         variance_reduction=design, target_se=target_se, max_scenarios=max_scenarios,
                         components=components, workers=workers, runner=runner, chunk=chunk)  # fmt: skip
        n_used = mc.scenarios
        tail = {"var": mc.var, "es": mc.es, "se_var": mc.se_var, "se_es": mc.se_es}
        tail["ci_var"] = (mc.var - 1.96 * mc.se_var, mc.var + 1.96 * mc.se_var)
        tail["ci_es"] = (mc.es - 1.96 * mc.se_es, mc.es + 1.96 * mc.se_es)
        parts = None
        if components and mc.parts is not None:
            parts = {key: mc.parts[key] for key in ("marginal_var", "marginal_es")}
            parts.update(component_var=e * parts["marginal_var"], component_es=e * parts["marginal_es"])
        params.update(seed=seed if isinstance(seed, int | None) else "generator", target_se=target_se,
                      chunks=mc.chunks, workers=mc.workers, memory_estimate_mib=round(mc.memory_mib, 1))  # fmt: skip
        notes += mc.notes
        extra = {"variance_reduction": mc.variance_reduction, "converged": mc.converged}
        params["antithetic"] = "antithetic" in mc.variance_reduction["method"].split("+")

    gross = float(np.abs(e).sum())
    pct = 100.0 / gross if gross > 0 else float("nan")
    value_at_risk, shortfall = tail["var"] * scale, tail["es"] * scale
    table = []
    if parts is not None:
        table, undefined = component_table(names, e, parts, scale, total_var=value_at_risk)
        if undefined:
            notes.append(undefined)
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
        components=table,
        params=params,
        notes=tuple(notes),
        **extra,
    )
