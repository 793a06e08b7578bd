"""Funding terms: the spreads, fees and tiers a prime broker quotes a client.

:class:`FundingTerms` is the parsed ``[funding]`` table of a book file; it is
the single source of every rate the carry engine, the optimiser and the
stat-arb back-test charge (see :meth:`FundingTerms.annual_rates`).
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

import numpy as np

from astra.config import MAX_NOTIONAL, Table, check_number
from astra.data.tables import check_ticker
from astra.errors import InputError, did_you_mean, excerpt

__all__ = ["MODELS", "FundingRates", "FundingTerms", "SpreadUnitWarning", "Tier", "terms_from_table"]

MODELS = ("cash", "netted", "swap", "seed")
"""Funding conventions, see DESIGN.md "Funding conventions"."""

_MAX_SPREAD_BPS = 5_000.0  # 50 %: anything above is a typo, not a quote
_MAX_FEE_BPS = 100_000.0  # 1000 %: extreme hard-to-borrow names do print in the hundreds of percent
_FIELDS = ("model", "long_spread_bps", "short_spread_bps", "gc_fee_bps", "borrow_fee_bps", "tiers", "day_count")
_TIER_FIELDS = ("up_to", "long_spread_bps")


class SpreadUnitWarning(UserWarning):
    """A spread or fee looks like it was given in percent instead of basis points."""


@dataclass(frozen=True)
class Tier:
    """One marginal slice of a debit: balances up to ``up_to`` USD pay ``long_spread_bps``."""

    up_to: float
    long_spread_bps: float


@dataclass(frozen=True)
class FundingRates:
    """Annual rates (decimal, per unit of balance) for one benchmark fixing.

    Everything a convex optimiser needs to price a candidate book with the same
    model as :func:`astra.funding.carry`: the debit is charged tier by tier
    (``debit_breaks`` are the slice upper bounds in USD, ``debit_rates`` the rate
    of each slice, the last slice unbounded), credit balances and short proceeds
    earn ``credit_rate`` / ``rebate_rate``, and each short pays ``borrow_rates``
    on its collateral (102 % of the mark).
    """

    benchmark: float
    debit_breaks: np.ndarray
    debit_rates: np.ndarray
    credit_rate: float
    rebate_rate: float
    borrow_rates: np.ndarray
    collateral_factor: float = 1.02


@dataclass(frozen=True)
class FundingTerms:
    """A client's funding terms.

    Parameters
    ----------
    model
        ``cash`` (default), ``netted``, ``swap`` or ``seed`` (the original
        notebook's formula, kept for comparison only).
    long_spread_bps
        Spread over the benchmark paid on a debit (or long swap notional), bp.
    short_spread_bps
        Spread under the benchmark on short rebates and credit balances, bp.
    gc_fee_bps
        General-collateral borrow fee, bp a year on the collateral.
    borrow_fee_bps
        Per-name borrow fees overriding ``gc_fee_bps`` (hard-to-borrow names).
    tiers
        Marginal tiers on the debit, by increasing ``up_to``; the slice above the
        last tier pays ``long_spread_bps``.
    day_count
        ``ACT/360`` (USD money market, default) or ``ACT/365F``.
    """

    model: str = "cash"
    long_spread_bps: float = 50.0
    short_spread_bps: float = 25.0
    gc_fee_bps: float = 25.0
    borrow_fee_bps: Mapping[str, float] = field(default_factory=dict)
    tiers: tuple[Tier, ...] = ()
    day_count: str = "ACT/360"

    def __post_init__(self) -> None:
        if self.model not in MODELS:
            hint = did_you_mean(self.model, MODELS)
            raise InputError(f"funding.model: {excerpt(self.model)} is not one of {', '.join(MODELS)}{hint}")
        for name in ("long_spread_bps", "short_spread_bps", "gc_fee_bps"):
            _check_bps(getattr(self, name), f"funding.{name}", _MAX_SPREAD_BPS if "spread" in name else _MAX_FEE_BPS)
        fees = {}
        for raw, fee in dict(self.borrow_fee_bps).items():
            ticker = check_ticker(raw, "funding.borrow_fee_bps")
            if ticker in fees:
                raise InputError(f"funding.borrow_fee_bps: {ticker} has two fees")
            fees[ticker] = _check_bps(fee, f"funding.borrow_fee_bps.{ticker}", _MAX_FEE_BPS)
        object.__setattr__(self, "borrow_fee_bps", MappingProxyType(fees))
        previous = 0.0
        for i, tier in enumerate(self.tiers):
            where = f"funding.tiers[{i}]"
            check_number(tier.up_to, f"{where}.up_to", minimum=0, exclusive_minimum=True, maximum=MAX_NOTIONAL)
            _check_bps(tier.long_spread_bps, f"{where}.long_spread_bps", _MAX_SPREAD_BPS)
            if tier.up_to <= previous:
                raise InputError(
                    f"{where}.up_to: {tier.up_to:,.0f} must be above the previous tier's {previous:,.0f} "
                    "(tiers are listed by increasing balance)"
                )
            previous = tier.up_to
        from astra.funding.daycount import check_day_count

        check_day_count(self.day_count)

    def fee_bps(self, ticker: str) -> float:
        """Borrow fee of ``ticker`` in bp a year (the per-name override or GC)."""
        return float(self.borrow_fee_bps.get(ticker.upper(), self.gc_fee_bps))

    def with_model(self, model: str | None) -> FundingTerms:
        """The same terms under another convention (``None`` keeps this one)."""
        if model is None or model == self.model:
            return self
        return FundingTerms(
            model,
            self.long_spread_bps,
            self.short_spread_bps,
            self.gc_fee_bps,
            dict(self.borrow_fee_bps),
            self.tiers,
            self.day_count,
        )

    def annual_rates(self, benchmark: float, tickers) -> FundingRates:
        """Annual rates for benchmark ``benchmark`` (decimal), per name of ``tickers``."""
        breaks = np.array([t.up_to for t in self.tiers] + [math.inf])
        spreads = np.array([t.long_spread_bps for t in self.tiers] + [self.long_spread_bps])
        return FundingRates(
            benchmark=float(benchmark),
            debit_breaks=breaks,
            debit_rates=benchmark + spreads / 1e4,
            credit_rate=benchmark - self.short_spread_bps / 1e4,
            rebate_rate=benchmark - self.short_spread_bps / 1e4,
            borrow_rates=np.array([self.fee_bps(t) for t in tickers], dtype=float) / 1e4,
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "model": self.model,
            "long_spread_bps": self.long_spread_bps,
            "short_spread_bps": self.short_spread_bps,
            "gc_fee_bps": self.gc_fee_bps,
            "borrow_fee_bps": dict(self.borrow_fee_bps),
            "tiers": [{"up_to": t.up_to, "long_spread_bps": t.long_spread_bps} for t in self.tiers],
            "day_count": self.day_count,
        }


def _check_bps(value: Any, where: str, maximum: float) -> float:
    number = check_number(value, where, minimum=0, maximum=maximum)
    if 0 < number < 1:
        warnings.warn(
            f"{where} = {number:g} bp is below 1 bp; spreads and fees are in basis points "
            f"(write {number * 100:g} for {number:g} %)",
            SpreadUnitWarning,
            stacklevel=4,
        )
    return number


def terms_from_table(table: Table) -> FundingTerms:
    """Build :class:`FundingTerms` from a book file's ``[funding]`` table."""
    table.check_fields(_FIELDS)
    defaults = FundingTerms()
    fees_table = table.table("borrow_fee_bps")
    fees = {check_ticker(key, fees_table.path(key)): fees_table.number(key) for key in fees_table}
    if len(fees) != len(fees_table.keys()):
        raise InputError(f"{fees_table.where}: a ticker has two fees (tickers are not case-sensitive)")
    tiers = []
    for tier in table.tables("tiers"):
        tier.check_fields(_TIER_FIELDS)
        tiers.append(Tier(tier.number("up_to"), tier.number("long_spread_bps")))
    return FundingTerms(
        model=table.string("model", defaults.model).lower(),
        long_spread_bps=table.number("long_spread_bps", defaults.long_spread_bps),
        short_spread_bps=table.number("short_spread_bps", defaults.short_spread_bps),
        gc_fee_bps=table.number("gc_fee_bps", defaults.gc_fee_bps),
        borrow_fee_bps=fees,
        tiers=tuple(tiers),
        day_count=table.string("day_count", defaults.day_count).upper(),
    )
