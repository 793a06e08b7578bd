"""Statistical arbitrage on pairs: scan, Kalman hedge ratios, signals, back-test, metrics.

* :func:`scan`: batched Engle–Granger over every pair with Benjamini–Hochberg q-values;
* :func:`kalman_filter` / :func:`fit_kalman` / :func:`kalman_batch`: hedge ratios
  (``kalman2`` random-walk regression, ``kalman3`` with a mean-reverting spread state);
* :func:`hold_positions` with :class:`SignalRules`: entry/exit hysteresis, stops, session rules;
* :func:`backtest`, :func:`metrics`, :func:`sweep`: two-leg P&L filled at t+1 with costs
  and funding, honest metrics, entry/exit grids.
"""

from astra.statarb.backtest import BacktestResult, backtest
from astra.statarb.kalman import KalmanResult, fit_kalman, kalman_batch, kalman_filter
from astra.statarb.metrics import Metrics, metrics
from astra.statarb.scan import ScanResult, benjamini_hochberg, engle_granger, scan
from astra.statarb.signals import SignalRules, hold_positions
from astra.statarb.sweep import SweepResult, sweep

__all__ = [
    "BacktestResult",
    "KalmanResult",
    "Metrics",
    "ScanResult",
    "SignalRules",
    "SweepResult",
    "backtest",
    "benjamini_hochberg",
    "engle_granger",
    "fit_kalman",
    "hold_positions",
    "kalman_batch",
    "kalman_filter",
    "metrics",
    "scan",
    "sweep",
]
