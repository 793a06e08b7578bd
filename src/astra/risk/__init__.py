"""Risk engine on arrays: VaR/ES, Euler attribution, scenarios, stress tests and back-tests.

Inputs are ``exposures`` (signed USD market value per name, shape ``(N,)``, or a Series
labelled by ticker) and a ``(T, N)`` history of simple daily returns (DataFrames are
converted once at the edge).  VaR and ES are positive USD losses; horizon P&L is
buy-and-hold with compounded daily paths (√h scaling only on request).

* :func:`var` → :class:`VaRResult` (``hist``, ``param``, ``fhs``, ``mc``);
* :mod:`astra.risk.covariance`: covariance factors (N > T is fine), estimators;
* :mod:`astra.risk.models`: one class per scenario model (normal, t, lognormal, bootstrap, FHS);
* :mod:`astra.risk.montecarlo`: Monte Carlo with variance reduction (importance sampling,
  antithetic pairs, the delta control variate) chosen by a pilot, a target standard error,
  one engine in process or on Dask (:mod:`astra.risk.engine`);
* :mod:`astra.risk.tails`: Acerbi–Tasche ES, weighted tails merged exactly;
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
    z2_null,
)
from astra.risk.covariance import covariance_factor, covariance_model, fit_t_dof, returns_factor
from astra.risk.engine import iter_pnl_chunks, sample_returns, simulate_pnl
from astra.risk.models import (
    ScenarioModel,
    bootstrap_model,
    fhs_model,
    lognormal_horizon_model,
    normal_model,
    t_model,
)
from astra.risk.montecarlo import VARIANCE_REDUCTIONS, McOutcome, monte_carlo
from astra.risk.stress import EPISODES, historical_episodes, historical_worst_windows, hypothetical_shocks, stress_test
from astra.risk.tails import acerbi_tasche_es, tail_statistics
from astra.risk.var import METHODS, VaRResult, var

__all__ = [
    "EPISODES",
    "METHODS",
    "VARIANCE_REDUCTIONS",
    "BacktestResult",
    "McOutcome",
    "ScenarioModel",
    "VaRResult",
    "acerbi_tasche_es",
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
    "monte_carlo",
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
    "z2_null",
]
