"""Scenario generation for the risk engine (a facade over its parts).

* :mod:`astra.risk.covariance` — covariance factors (sample SVD, Ledoit–Wolf, EWMA, factor model);
* :mod:`astra.risk.models` — one class per scenario model (normal, Student t, lognormal,
  bootstrap, filtered historical) and their ``*_model`` constructors;
* :mod:`astra.risk.engine` — seeded streams, the chunk driver, threads or Dask tasks, and the
  plain sampling utilities :func:`iter_pnl_chunks`, :func:`simulate_pnl`, :func:`sample_returns`;
* :mod:`astra.risk.montecarlo` — Monte-Carlo VaR/ES with variance reduction chosen by a pilot;
* :mod:`astra.risk.tails` — tail statistics and their mergeable summaries.

Horizon returns are buy-and-hold: an ``h``-day scenario is a path of ``h`` daily draws
compounded per name, ``Π_t (1 + r_t) − 1``.

Examples
--------
>>> m = normal_model(np.random.default_rng(0).normal(0, 0.01, (250, 3)))
>>> pnl = simulate_pnl(m, [1e6, -5e5, 2e5], 2_000, horizon=5, seed=1)
>>> pnl.shape, bool(np.all(np.isfinite(pnl)))
((2000,), True)
"""

from __future__ import annotations

import numpy as np

from astra.risk.covariance import COVARIANCE_MODELS, covariance_factor, covariance_model, fit_t_dof, returns_factor
from astra.risk.engine import default_workers, iter_pnl_chunks, sample_returns, simulate_pnl
from astra.risk.models import (
    BootstrapModel,
    FilteredHistoricalModel,
    LognormalModel,
    NormalModel,
    ScenarioModel,
    StudentTModel,
    bootstrap_model,
    fhs_model,
    lognormal_horizon_model,
    normal_model,
    t_model,
)

__all__ = [
    "COVARIANCE_MODELS",
    "BootstrapModel",
    "FilteredHistoricalModel",
    "LognormalModel",
    "NormalModel",
    "ScenarioModel",
    "StudentTModel",
    "bootstrap_model",
    "covariance_factor",
    "covariance_model",
    "default_workers",
    "fhs_model",
    "fit_t_dof",
    "iter_pnl_chunks",
    "lognormal_horizon_model",
    "normal_model",
    "returns_factor",
    "sample_returns",
    "simulate_pnl",
    "t_model",
]

_ = np  # the doctest above uses numpy through this module's namespace
