"""End-to-end jobs shared by the CLI, the report and the dashboard.

Each workflow takes plain values, calls the core modules and returns a frozen
result with ``to_dict()``; interfaces only parse inputs and render results.
"""

from astra.workflows.common import cumulative_returns, resolve_rate, write_frame
from astra.workflows.demo import DemoResult, run_demo
from astra.workflows.funding import FundingReport, funding_report, seed_comparison

__all__ = [
    "DemoResult",
    "FundingReport",
    "cumulative_returns",
    "funding_report",
    "resolve_rate",
    "run_demo",
    "seed_comparison",
    "write_frame",
]
