"""Funding and margin: what a book earns or pays per day, and what it must post.

* :func:`carry`: one business day's carry under a convention (``cash``,
  ``netted``, ``swap``, ``seed``), by component and by position;
* :func:`accrue`: carry over a period, simple or compounded in arrears;
* :func:`margin`: Reg T initial, FINRA maintenance, portfolio margin;
* :func:`funding_legs`: the array form the optimiser and back-test price with.
"""

from astra.funding.daycount import accrual_schedule, year_fraction
from astra.funding.margin import MarginResult, margin
from astra.funding.model import (
    COMPONENTS,
    CarryResult,
    FundingLegs,
    PeriodCarry,
    accrue,
    carry,
    carry_of_values,
    collateral_per_share,
    funding_legs,
)
from astra.funding.terms import MODELS, FundingRates, FundingTerms, SpreadUnitWarning, Tier

__all__ = [
    "COMPONENTS",
    "MODELS",
    "CarryResult",
    "FundingLegs",
    "FundingRates",
    "FundingTerms",
    "MarginResult",
    "PeriodCarry",
    "SpreadUnitWarning",
    "Tier",
    "accrual_schedule",
    "accrue",
    "carry",
    "carry_of_values",
    "collateral_per_share",
    "funding_legs",
    "margin",
    "year_fraction",
]
