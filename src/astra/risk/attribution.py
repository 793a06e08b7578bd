"""Euler attribution of VaR and ES to names: marginal and component risk.

VaR and ES are positively homogeneous of degree one in the exposures, so
Euler's theorem splits them exactly: ``VaR = Σ_i e_i ∂VaR/∂e_i``.

* Parametric (normal / Student-t, closed form): ``∂VaR/∂e = c·Σe/σ_p − μ``
  with ``c = z_α`` for VaR and ``c = ES-multiplier`` for ES; components sum to
  the total to machine precision.
* Simulation / historical: the gradient is a conditional expectation
  (Gourieroux–Laurent–Scaillet, Tasche): ``∂VaR/∂e_i = −E[R_i | P&L = −VaR]``
  and ``∂ES/∂e_i = −E[R_i | P&L ≤ −VaR]``, with ``R_i`` the horizon return of
  name ``i``.  ES uses the same ``k`` worst scenarios as the ES estimate, so its
  components sum to it exactly; VaR uses the ``2m + 1`` scenarios ranked
  ``k − m … k + m`` (``m = ⌈√k⌉``) around the VaR scenario, so its components
  sum to the total within Monte-Carlo error (they are not rescaled).

All marginals are USD of risk per USD of exposure; components are USD.
"""

from __future__ import annotations

import math

import numpy as np
from scipy import stats

from astra.errors import InputError
from astra.risk.scenarios import _as_exposures, _check_level

__all__ = ["component_table", "parametric_components", "simulation_components", "tail_rank"]


def tail_rank(n: int, level: float) -> int:
    """Rank ``k = ⌈n(1 − α)⌉`` of the VaR scenario among ``n`` sorted P&L (1 = worst).

    Matches ``numpy.quantile(pnl, 1 − α, method="inverted_cdf")`` (a 1e-9 guard
    stops floating noise such as ``(1 − 0.99)·1000 = 10.000000000000009``
    turning 10 into 11).
    """
    return int(min(n, max(1, math.ceil(n * (1.0 - level) - 1e-9))))


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
    e = _as_exposures(exposures)
    level = _check_level(level)
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


def _conditional_means(sorted_returns: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """Mean horizon return per name in the VaR band and in the ES tail, rows sorted worst first."""
    m = _band(k)
    lo, hi = max(0, k - 1 - m), min(sorted_returns.shape[0], k + m)
    return sorted_returns[lo:hi].mean(axis=0), sorted_returns[:k].mean(axis=0)


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
    e = _as_exposures(exposures)
    level = _check_level(level)
    r = np.asarray(scenario_returns, dtype=float)
    pnl = r @ e
    k = tail_rank(pnl.size, level)
    order = np.argsort(pnl, kind="stable")
    keep = order[: min(pnl.size, k + _band(k))]
    return _components_from_tail(r[keep], pnl[keep], e, k)


def _components_from_tail(tail_returns: np.ndarray, tail_pnl: np.ndarray, e: np.ndarray, k: int) -> dict:
    order = np.argsort(tail_pnl, kind="stable")
    band_mean, tail_mean = _conditional_means(tail_returns[order], k)
    return {
        "var": float(-tail_pnl[order][k - 1]),
        "es": float(-tail_pnl[order][:k].mean()),
        "marginal_var": -band_mean,
        "component_var": -band_mean * e,
        "marginal_es": -tail_mean,
        "component_es": -tail_mean * e,
    }


class _TailBuffer:
    """Keep the ``capacity`` worst scenarios (P&L and latent draws) seen over a stream of chunks.

    Rows go into a preallocated buffer of twice the capacity; when it fills, it is compacted
    to the ``capacity`` worst and later rows must beat the worst kept. Each row is copied at
    most a few times, however many chunks arrive (a concatenation per chunk would copy the
    whole tail every time).
    """

    def __init__(self, n_scenarios: int, level: float):
        self.k = tail_rank(n_scenarios, level)
        self.capacity = min(n_scenarios, self.k + _band(self.k))
        self._pnl: np.ndarray | None = None
        self._draws: np.ndarray | None = None
        self._size = 0
        self._threshold = np.inf  # rows must have P&L below this to matter

    def add(self, draws: np.ndarray, pnl: np.ndarray) -> None:
        if self._pnl is None:
            self._pnl = np.empty(2 * self.capacity)
            self._draws = np.empty((2 * self.capacity, *draws.shape[1:]), dtype=draws.dtype)
        take = np.flatnonzero(pnl < self._threshold)
        while take.size:
            room = self._pnl.size - self._size
            head, take = take[:room], take[room:]
            self._pnl[self._size : self._size + head.size] = pnl[head]
            self._draws[self._size : self._size + head.size] = draws[head]
            self._size += head.size
            if self._size == self._pnl.size:
                self._compact()
                take = take[pnl[take] < self._threshold]

    def _compact(self) -> None:
        if self._size > self.capacity:
            keep = np.argpartition(self._pnl[: self._size], self.capacity - 1)[: self.capacity]
            self._pnl[: self.capacity], self._draws[: self.capacity] = self._pnl[keep], self._draws[keep]
            self._size = self.capacity
            self._threshold = float(self._pnl[: self.capacity].max())

    @property
    def pnl(self) -> np.ndarray:
        self._compact()
        return np.empty(0) if self._pnl is None else self._pnl[: self._size]

    @property
    def draws(self) -> np.ndarray | None:
        self._compact()
        return None if self._draws is None else self._draws[: self._size]

    def components(self, model, e: np.ndarray, block: int = 50_000) -> dict:
        """Map the kept draws back to per-name horizon returns (in blocks) and attribute."""
        draws, pnl = self.draws, self.pnl
        rets = np.vstack([model.horizon_returns(draws[i : i + block]) for i in range(0, pnl.size, block)])
        return _components_from_tail(rets, pnl, e, self.k)


def component_table(tickers, exposures, parts: dict, scale: float = 1.0) -> list[dict]:
    """One dict per name: exposure, marginal/component VaR and ES (USD), share of total VaR."""
    e = _as_exposures(exposures)
    total = float(parts["component_var"].sum()) * scale
    rows = []
    for i, name in enumerate(tickers):
        comp = float(parts["component_var"][i]) * scale
        rows.append(
            {
                "ticker": str(name),
                "exposure": float(e[i]),
                "marginal_var": float(parts["marginal_var"][i]) * scale,
                "component_var": comp,
                "pct": 100.0 * comp / total if total else float("nan"),  # share of total VaR, %
                "marginal_es": float(parts["marginal_es"][i]) * scale,
                "component_es": float(parts["component_es"][i]) * scale,
            }
        )
    return rows
