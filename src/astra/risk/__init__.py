"""Risk engine on arrays: VaR/ES, Euler attribution, scenarios, stress tests and back-tests.

Inputs are ``exposures`` (signed USD market value per name, shape ``(N,)``) and
a ``(T, N)`` history of simple daily returns (DataFrames are converted once at
the edge).  VaR and ES are positive USD losses; horizon P&L is buy-and-hold
with compounded daily paths (√h scaling only on request).

* :func:`var` → :class:`VaRResult` (``hist``, ``param``, ``fhs``, ``mc``);
* :mod:`astra.risk.scenarios`: eigen/SVD covariance factors (N > T is fine),
  normal / Student-t / bootstrap / FHS generators, chunked P&L;
* :mod:`astra.risk.attribution`: marginal and component VaR/ES;
* :func:`backtest_var`, :func:`rolling_var_forecasts`: Kupiec, Christoffersen,
  Basel traffic light, Acerbi–Székely Z2;
* :func:`stress_test`: worst windows, named episodes, hypothetical shocks.
"""

from astra.risk.attribution import parametric_components, simulation_components
from astra.risk.backtest import (
    BacktestResult,
    backtest_var,
    christoffersen,
    kupiec,
    rolling_var_forecasts,
    traffic_light,
)
from astra.risk.scenarios import (
    ScenarioModel,
    bootstrap_model,
    covariance_factor,
    covariance_model,
    fhs_model,
    fit_t_dof,
    iter_pnl_chunks,
    lognormal_horizon_model,
    normal_model,
    returns_factor,
    sample_returns,
    simulate_pnl,
    t_model,
)
from astra.risk.stress import EPISODES, historical_episodes, historical_worst_windows, hypothetical_shocks, stress_test
from astra.risk.var import METHODS, VaRResult, tail_statistics, var

__all__ = [
    "EPISODES",
    "METHODS",
    "BacktestResult",
    "ScenarioModel",
    "VaRResult",
    "backtest_var",
    "bootstrap_model",
    "christoffersen",
    "covariance_factor",
    "covariance_model",
    "fhs_model",
    "fit_t_dof",
    "historical_episodes",
    "historical_worst_windows",
    "hypothetical_shocks",
    "iter_pnl_chunks",
    "kupiec",
    "lognormal_horizon_model",
    "normal_model",
    "parametric_components",
    "returns_factor",
    "rolling_var_forecasts",
    "sample_returns",
    "simulate_pnl",
    "simulation_components",
    "stress_test",
    "t_model",
    "tail_statistics",
    "traffic_light",
    "var",
]
