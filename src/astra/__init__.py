"""ASTRA: Adaptive Statistical Trading & Risk Architecture.

Prime-brokerage funding and margin, funding-aware portfolio construction, risk
(VaR/ES, stress, backtests) and statistical arbitrage on one data layer.
"""

from astra.book import Book, load_book
from astra.errors import AstraError, DataUnavailable, Infeasible, InputError, SolverError

__version__ = "0.1.0"

__all__ = [
    "AstraError",
    "Book",
    "DataUnavailable",
    "Infeasible",
    "InputError",
    "SolverError",
    "__version__",
    "load_book",
]
