"""Euler attribution of VaR and ES to names: marginal and component risk.

VaR and ES are positively homogeneous of degree one in the exposures, so
Euler's theorem splits them exactly: ``VaR = Σ_i e_i ∂VaR/∂e_i``.

* Parametric (normal / Student-t, closed form): ``∂VaR/∂e = c·Σe/σ_p − μ``
  with ``c = z_α`` for VaR and ``c = ES-multiplier`` for ES; components sum to
  the total to machine precision.
* Simulation / historical: the gradient is a conditional expectation
  (Gourieroux–Laurent–Scaillet, Tasche): ``∂VaR/∂e_i = −E[R_i | P&L = −VaR]``
  and ``∂ES/∂e_i = −E[R_i | P&L ≤ −VaR]``, with ``R_i`` the horizon return of
  name ``i``.  ES weighs the worst scenarios exactly as the Acerbi–Tasche ES estimate
  does (the ``⌊np⌋`` worst fully, the next by its fractional share), so its components
  sum to it exactly; VaR uses the ``2m + 1`` scenarios ranked ``k − m … k + m``
  (``m = ⌈√k⌉``) around the VaR scenario, so its components sum to the total within
  Monte-Carlo error (they are not rescaled).

All marginals are USD of risk per USD of exposure; components are USD. A book whose VaR
is about zero (a perfect hedge) has no meaningful shares of VaR: they are reported as
undefined (None) with a note, never as ±10¹⁷ %.
"""

from __future__ import annotations

import math

import numpy as np
from scipy import stats

from astra.errors import InputError
from astra.risk._checks import as_exposures, check_level
from astra.risk.tails import _tail_count, tail_rank

__all__ = ["component_table", "parametric_components", "simulation_components", "tail_rank"]

_HEDGED = 1e-9  # |VaR| below this fraction of the components' absolute sum: shares are undefined


def _band(k: int) -> int:
    return math.ceil(math.sqrt(k))


def parametric_components(
    exposures,
    factor,
    mean=None,
    *,
    level: float = 0.99,
    dist: str = "normal",
    dof: float | None = None,
    specific=None,
) -> dict[str, np.ndarray]:
    """Closed-form Euler marginals and components of VaR and ES.

    The horizon P&L is ``eᵀ(μ + L x)`` with ``x`` standard normal or
    variance-matched Student-t (ν = ``dof``): ``σ_p = ‖Lᵀe‖`` and
    ``VaR = q·σ_p − eᵀμ``, ``ES = s·σ_p − eᵀμ`` with, for the normal,
    ``q = z_α`` and ``s = φ(z_α)/(1 − α)``; for the t,
    ``q = √((ν−2)/ν)·t_ν⁻¹(α)`` and
    ``s = √((ν−2)/ν)·f_ν(t_α)(ν + t_α²)/((ν − 1)(1 − α))``.

    Parameters
    ----------
    exposures : array_like, shape (N,)
        Signed USD market values.
    factor : array_like, shape (N, k)
        Covariance factor of horizon returns, ``Σ = L Lᵀ``.
    mean : array_like, shape (N,), optional
        Mean horizon returns (None = zero mean).
    specific : array_like, shape (N,), optional
        Specific (idiosyncratic) sd per name: ``Σ = L Lᵀ + diag(specific²)``.
    level : float
        Confidence level α, e.g. 0.99.

    Returns
    -------
    dict
        ``var``, ``es`` (USD), ``sigma`` (USD sd of P&L) and arrays
        ``marginal_var``, ``component_var``, ``marginal_es``, ``component_es``.

    Examples
    --------
    >>> out = parametric_components([1e6, 1e6], np.diag([0.01, 0.02]), level=0.99)
    >>> bool(np.isclose(out["component_var"].sum(), out["var"]))
    True
    """
    e = as_exposures(exposures)
    level = check_level(level)
    lf = np.asarray(factor, dtype=float)
    mu = np.zeros(e.size) if mean is None else np.asarray(mean, dtype=float)
    q, s = _multipliers(level, dist, dof)
    beta = lf.T @ e
    cov_e = lf @ beta  # Σe
    variance = float(beta @ beta)
    if specific is not None:
        own = np.asarray(specific, dtype=float) ** 2 * e
        cov_e, variance = cov_e + own, variance + float(own @ e)
    sigma = float(np.sqrt(variance))
    grad_sigma = cov_e / sigma if sigma > 0 else np.zeros(e.size)
    marginal_var = q * grad_sigma - mu
    marginal_es = s * grad_sigma - mu
    return {
        "var": q * sigma - float(mu @ e),
        "es": s * sigma - float(mu @ e),
        "sigma": sigma,
        "marginal_var": marginal_var,
        "component_var": e * marginal_var,
        "marginal_es": marginal_es,
        "component_es": e * marginal_es,
    }


def _multipliers(level: float, dist: str, dof: float | None) -> tuple[float, float]:
    """(VaR, ES) multipliers of a unit-variance loss distribution."""
    if dist == "normal":
        z = stats.norm.ppf(level)
        return float(z), float(stats.norm.pdf(z) / (1.0 - level))
    if dist == "t":
        if dof is None or not dof > 2.0:
            raise InputError(f"Student-t needs dof > 2, got {dof!r}")
        t_q = stats.t.ppf(level, dof)
        scale = math.sqrt((dof - 2.0) / dof)
        es = stats.t.pdf(t_q, dof) * (dof + t_q**2) / ((dof - 1.0) * (1.0 - level))
        return float(scale * t_q), float(scale * es)
    raise InputError(f"unknown parametric dist {dist!r}; use 'normal' or 't'")


def _conditional_means(sorted_returns: np.ndarray, k: int, count: float) -> tuple[np.ndarray, np.ndarray]:
    """Mean horizon return per name in the VaR band and in the Acerbi–Tasche-weighted tail (rows worst first)."""
    m = _band(k)
    lo, hi = max(0, k - 1 - m), min(sorted_returns.shape[0], k + m)
    whole = math.floor(count)
    tail = sorted_returns[:whole].sum(axis=0)
    if count > whole:
        tail = tail + (count - whole) * sorted_returns[whole]
    return sorted_returns[lo:hi].mean(axis=0), tail / count


def simulation_components(scenario_returns, exposures, *, level: float = 0.99) -> dict[str, np.ndarray]:
    """Conditional-expectation Euler components from a matrix of scenario horizon returns.

    Parameters
    ----------
    scenario_returns : array_like, shape (S, N)
        Horizon returns per scenario (historical windows or simulated).
    exposures : array_like, shape (N,)
        Signed USD market values.
    level : float
        Confidence level α.

    Returns
    -------
    dict
        ``var``/``es`` (USD, from the ``k = ⌈S(1−α)⌉`` worst scenarios) and
        arrays ``marginal_var``, ``component_var``, ``marginal_es``,
        ``component_es``; ``component_es`` sums to ``es`` exactly.

    Examples
    --------
    >>> r = np.random.default_rng(0).normal(0, 0.01, (10_000, 2))
    >>> out = simulation_components(r, [1e6, -5e5], level=0.99)
    >>> bool(np.isclose(out["component_es"].sum(), out["es"]))
    True
    """
    e = as_exposures(exposures)
    level = check_level(level)
    r = np.asarray(scenario_returns, dtype=float)
    pnl = r @ e
    n = pnl.size
    k = tail_rank(n, level)
    count = _tail_count(n, level)
    order = np.argsort(pnl, kind="stable")[: min(n, k + _band(k))]
    band_mean, tail_mean = _conditional_means(r[order], k, count)
    worst = -pnl[order]
    whole = math.floor(count)
    es = (worst[:whole].sum() + ((count - whole) * worst[whole] if count > whole else 0.0)) / count
    return {
        "var": float(worst[k - 1]),
        "es": float(es),
        "marginal_var": -band_mean,
        "component_var": -band_mean * e,
        "marginal_es": -tail_mean,
        "component_es": -tail_mean * e,
    }


def component_table(tickers, exposures, parts: dict, scale: float = 1.0,
                    total_var: float | None = None) -> tuple[list[dict], str | None]:  # fmt: skip
    """One dict per name — exposure, marginal/component VaR and ES (USD), share of VaR (%) — and a note.

    ``pct`` is each component's share of the components' total; when that total (or
    ``total_var``) is about zero next to the components themselves — a hedged book — the
    shares are None and the note says why.
    """
    e = as_exposures(exposures)
    comps = np.asarray(parts["component_var"], dtype=float) * scale
    total = float(comps.sum())
    size = float(np.abs(comps).sum())
    hedged = not size > 0 or abs(total) <= _HEDGED * size
    if total_var is not None and abs(total_var) <= _HEDGED * max(size, float(np.abs(e).sum()) * 1e-12):
        hedged = True
    note = ("VaR is about zero (the book is hedged against this model's risk): shares of VaR are undefined"
            if hedged else None)  # fmt: skip
    rows = []
    for i, name in enumerate(tickers):
        rows.append(
            {
                "ticker": str(name),
                "exposure": float(e[i]),
                "marginal_var": float(parts["marginal_var"][i]) * scale,
                "component_var": float(comps[i]),
                "pct": None if hedged else 100.0 * float(comps[i]) / total,  # share of total VaR, %
                "marginal_es": float(parts["marginal_es"][i]) * scale,
                "component_es": float(parts["component_es"][i]) * scale,
            }
        )
    return rows, note
