"""End-to-end jobs shared by the CLI, the report and the dashboard.

Each workflow takes plain values, calls the core modules and returns a frozen
result with ``to_dict()``; interfaces only parse inputs and render results.
"""

from astra.workflows.common import cumulative_returns, resolve_rate, write_frame
from astra.workflows.demo import DemoResult, run_demo
from astra.workflows.funding import FundingReport, funding_report, seed_comparison
from astra.workflows.optimize import OptimizeReport, optimize_portfolio
from astra.workflows.statarb import StatarbReport, load_pair, statarb_run, statarb_sweep

__all__ = [
    "DemoResult",
    "FundingReport",
    "OptimizeReport",
    "StatarbReport",
    "cumulative_returns",
    "funding_report",
    "load_pair",
    "optimize_portfolio",
    "resolve_rate",
    "run_demo",
    "seed_comparison",
    "statarb_run",
    "statarb_sweep",
    "write_frame",
]
