"""End-to-end jobs shared by the CLI, the report and the dashboard.

Each workflow takes plain values, calls the core modules and returns a frozen
result with ``to_dict()``; interfaces only parse inputs and render results.
"""

from astra.workflows.common import cumulative_returns, resolve_rate, write_frame
from astra.workflows.demo import DemoResult, run_demo
from astra.workflows.funding import FundingReport, funding_report, seed_comparison
from astra.workflows.optimize import OptimizeReport, optimize_portfolio
from astra.workflows.statarb import (
    ScanReport,
    StatarbReport,
    load_pair,
    pair_cointegration,
    statarb_run,
    statarb_scan,
    statarb_sweep,
)

__all__ = [
    "DemoResult",
    "FundingReport",
    "OptimizeReport",
    "ScanReport",
    "StatarbReport",
    "cumulative_returns",
    "funding_report",
    "load_pair",
    "optimize_portfolio",
    "pair_cointegration",
    "resolve_rate",
    "run_demo",
    "seed_comparison",
    "statarb_run",
    "statarb_scan",
    "statarb_sweep",
    "write_frame",
]
