"""Carry under each convention, checked against hand-worked examples and an independent loop.

Every expected number below is worked out by hand in the comment above it from
the formulas in DESIGN.md ("Funding conventions"), ACT/360.
"""

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from astra import Book
from astra.data.rates import flat_rate
from astra.errors import InputError
from astra.funding import FundingTerms, Tier, accrue, carry, carry_of_values, collateral_per_share, funding_legs


def book(positions, prices, equity, **terms):
    return Book.from_positions(positions, prices, equity=equity, funding=FundingTerms(**terms))


# ---------------------------------------------------------------- worked examples
def test_tiered_debit_is_split_across_tiers():
    # equity 1,000,000; long 25,000 × $100 = 2,500,000 → debit D = 1,500,000.
    # Tier 1: first 1,000,000 at B + 75 bp = 4.75 %  → 1,000,000 × 0.0475 / 360 = 131.944444
    # Above:   remaining 500,000 at B + 50 bp = 4.50 % →   500,000 × 0.0450 / 360 =  62.500000
    # carry = −194.444444 (a cost); no shorts, no credit balance.
    b = book({"AAPL": 25_000}, {"AAPL": 100.0}, 1_000_000, tiers=(Tier(1_000_000, 75),), long_spread_bps=50)
    result = carry(b, 0.04)
    assert result.components["long_financing"] == pytest.approx(-(131.944444444 + 62.5), abs=1e-6)
    assert result.components["credit_interest"] == 0.0
    assert result.daily_carry == pytest.approx(-194.444444444, abs=1e-6)
    # The allocated financing of the only long is the whole debit's cost.
    assert result.positions.loc["AAPL", "financing"] == pytest.approx(result.daily_carry, abs=1e-9)


def test_debit_inside_the_first_tier_pays_only_its_spread():
    # D = 300,000 < 1,000,000: 300,000 × 4.75 % / 360 = 39.583333
    b = book({"AAPL": 13_000}, {"AAPL": 100.0}, 1_000_000, tiers=(Tier(1_000_000, 75),))
    assert carry(b, 0.04).daily_carry == pytest.approx(-39.5833333333, abs=1e-8)


def test_friday_and_holiday_accrual():
    # Friday 2026-03-06 accrues Fri, Sat, Sun = 3 days; Thursday 2026-04-02 accrues to
    # Monday 2026-04-06 (Good Friday 2026-04-03 is an XNYS holiday) = 4 days.
    b = book({}, {}, 360_000, short_spread_bps=0)
    # Flat book: credit 360,000 at B − 0 = 5 % → 360,000 × 0.05 × n / 360 = 50 × n.
    assert carry(b, 0.05, on="2026-03-05").daily_carry == pytest.approx(50.0)
    assert carry(b, 0.05, on="2026-03-06").daily_carry == pytest.approx(150.0)
    assert carry(b, 0.05, on="2026-04-02").accrual_days == 4
    assert carry(b, 0.05, on="2026-04-02").daily_carry == pytest.approx(200.0)
    with pytest.raises(InputError, match="not an XNYS business day"):
        carry(b, 0.05, on="2026-03-07")


def test_negative_rebate_on_a_hard_to_borrow_name():
    # Short 1,000 GME at $50.00 with an 800 bp fee; B = 4 %, short spread 25 bp; equity 100,000.
    # rebate     = 50,000 × (0.04 − 0.0025) / 360          = +5.208333
    # collateral = 1,000 × ceil(1.02 × 50.00) = 1,000 × 51 = 51,000
    # borrow fee = 51,000 × 0.08 / 360                     = −11.333333
    # credit     = 100,000 × 0.0375 / 360                  = +10.416667
    b = book({"GME": -1000}, {"GME": 50.0}, 100_000, borrow_fee_bps={"GME": 800})
    result = carry(b, 0.04)
    assert result.components["short_rebate"] == pytest.approx(5.2083333333, abs=1e-8)
    assert result.components["borrow_fee"] == pytest.approx(-11.3333333333, abs=1e-8)
    assert result.positions.loc["GME", "carry"] == pytest.approx(5.2083333333 - 11.3333333333, abs=1e-8)
    assert result.components["credit_interest"] == pytest.approx(10.4166666667, abs=1e-8)
    assert result.negative_rebates == ("GME",)


@pytest.mark.parametrize(
    ("price", "per_share"),
    [(317.27, 324.0), (50.0, 51.0), (10.01, 11.0), (100.0, 102.0), (0.5, 1.0), (249.02, 255.0)],
)
def test_collateral_rounds_up_to_a_whole_dollar(price, per_share):
    # 1.02 × 317.27 = 323.6154 → 324; 1.02 × 50 = 51 exactly → 51; 1.02 × 10.01 = 10.2102 → 11;
    # 1.02 × 249.02 = 254.0004 → 255.
    assert collateral_per_share(price) == per_share


def test_borrow_fee_uses_rounded_collateral():
    # Short 1,200 JPM at 317.27, fee 40 bp, one day: 1,200 × 324 × 0.004 / 360 = 4.32
    b = book({"JPM": -1200}, {"JPM": 317.27}, 1_000_000, borrow_fee_bps={"JPM": 40})
    assert carry(b, 0.0363).components["borrow_fee"] == pytest.approx(-4.32, abs=1e-10)


def test_compounded_and_simple_over_a_month():
    # Flat book, equity 1,000,000 earning B − 25 bp = 4.75 % from 2026-03-02 to 2026-03-31 (inclusive):
    # 22 business days, the four Fridays accrue 3 days, the other 18 accrue 1 → 30 days.
    # simple     = 1,000,000 × 0.0475 × 30 / 360                                  = 3,958.333333
    # compounded = 1,000,000 × ((1 + 0.0475/360)^18 × (1 + 3 × 0.0475/360)^4 − 1)
    b = book({}, {}, 1_000_000)
    simple = accrue(b, 0.05, "2026-03-02", "2026-03-31")
    compounded = accrue(b, 0.05, "2026-03-02", "2026-03-31", compounded=True)
    expected = 1e6 * ((1 + 0.0475 / 360) ** 18 * (1 + 3 * 0.0475 / 360) ** 4 - 1)
    assert len(simple.daily) == 22 and simple.daily["accrual_days"].sum() == 30
    assert simple.total == pytest.approx(3958.333333333, abs=1e-6)
    assert compounded.total == pytest.approx(expected, abs=1e-6)
    assert compounded.total > simple.total
    assert simple.daily["carry"].sum() == pytest.approx(simple.total)


def test_period_follows_a_rate_series():
    # Rate 4 % until 2026-03-03, 6 % from 03-04; credit balance 360,000 at B (no spread):
    # 03-02 (Mon, 1 day) 40, 03-03 (1 day) 40, 03-04 (1 day) 60  → total 140.
    import pandas as pd

    series = flat_rate(0.04, "2026-03-02", "2026-03-04")
    rates = series.rates.copy()
    rates.loc[pd.Timestamp("2026-03-04")] = 0.06
    series = type(series)(rates=rates, source="test")
    b = book({}, {}, 360_000, short_spread_bps=0)
    assert accrue(b, series, "2026-03-02", "2026-03-04").total == pytest.approx(140.0)


def test_models_on_one_book():
    # Long 10,000 × $100 = 1,000,000; short 5,000 × $100 = 500,000; equity 600,000.
    # B = 4 %, long spread 50 bp, short spread 25 bp, GC fee 30 bp; collateral per short share ceil(102) = 102.
    # cash:   debit 400,000 × 4.5 % = −18,000; rebate 500,000 × 3.75 % = +18,750; fee 510,000 × 0.3 % = −1,530
    # netted: cash = 600,000 − 1,000,000 + 500,000 = +100,000 → credit 100,000 × 3.75 % = +3,750; fee −1,530
    # swap:   long 1,000,000 × 4.5 % = −45,000; posted 600,000 × 3.75 % = +22,500;
    #         short 500,000 × 3.75 % = +18,750; fee on notional 500,000 × 0.3 % = −1,500
    # seed:   long −45,000; short +18,750; fee −1,500
    # (annual amounts; one day is /360)
    b = book({"L": 10_000, "S": -5_000}, {"L": 100.0, "S": 100.0}, 600_000, gc_fee_bps=30)
    expected = {
        "cash": -18_000 + 18_750 - 1_530,
        "netted": 3_750 - 1_530,
        "swap": -45_000 + 22_500 + 18_750 - 1_500,
        "seed": -45_000 + 18_750 - 1_500,
    }
    for model, annual in expected.items():
        assert carry(b, 0.04, model=model).daily_carry == pytest.approx(annual / 360, abs=1e-9), model


def test_act_365f_day_count():
    # 365,000 credit at 5 % − 25 bp, ACT/365F: 365,000 × 0.0475 / 365 = 47.50
    b = book({}, {}, 365_000, day_count="ACT/365F")
    result = carry(b, 0.05)
    assert result.daily_carry == pytest.approx(47.5)
    assert result.annual_rate_on_gross != result.annual_rate_on_gross  # NaN: no gross


def test_annual_rate_on_gross():
    # Tiered example above: −194.444444/day × 360 / gross 2,500,000 = −2.8 %
    b = book({"AAPL": 25_000}, {"AAPL": 100.0}, 1_000_000, tiers=(Tier(1_000_000, 75),))
    assert carry(b, 0.04).annual_rate_on_gross == pytest.approx(-0.028)


# ---------------------------------------------------------------- an independent reference
def reference_cash_carry(quantities, prices, equity, rate, long_bps, short_bps, fees_bps, days):
    """DESIGN.md's cash convention written as a plain per-position loop (no shared code)."""
    lmv = sum(q * p for q, p in zip(quantities, prices, strict=True) if q > 0)
    total = 0.0
    debit = max(0.0, lmv - equity)
    total -= debit * (rate + long_bps / 1e4) * days / 360
    total += max(0.0, equity - lmv) * (rate - short_bps / 1e4) * days / 360
    for q, p, fee in zip(quantities, prices, fees_bps, strict=True):
        if q < 0:
            total += -q * p * (rate - short_bps / 1e4) * days / 360
            total -= -q * math.ceil(round(1.02 * p, 8)) * fee / 1e4 * days / 360
    return total


quantity = st.integers(-50_000, 50_000)
price = st.floats(0.5, 2_000, allow_nan=False).map(lambda x: round(x, 2))


@st.composite
def books(draw, max_names=8):
    n = draw(st.integers(0, max_names))
    qs = draw(st.lists(quantity.filter(bool), min_size=n, max_size=n))
    ps = draw(st.lists(price, min_size=n, max_size=n))
    fees = draw(st.lists(st.floats(1, 3_000), min_size=n, max_size=n))
    equity = draw(st.floats(1_000, 5e7))
    names = [f"N{i}" for i in range(n)]
    b = Book.from_positions(
        dict(zip(names, qs, strict=True)),
        dict(zip(names, ps, strict=True)),
        equity=equity,
        funding=FundingTerms(
            long_spread_bps=60, short_spread_bps=30, borrow_fee_bps=dict(zip(names, fees, strict=True))
        ),
    )
    return b, qs, ps, fees


@settings(max_examples=150, deadline=None)
@given(books(), st.floats(-0.01, 0.12))
def test_cash_model_matches_independent_loop(drawn, rate):
    b, qs, ps, fees = drawn
    expected = reference_cash_carry(qs, ps, b.equity, rate, 60, 30, fees, 1)
    assert carry(b, rate).daily_carry == pytest.approx(expected, rel=1e-10, abs=1e-8)


@settings(max_examples=100, deadline=None)
@given(books(), st.floats(-0.01, 0.12), st.floats(-0.01, 0.12), st.sampled_from(["cash", "netted", "swap", "seed"]))
def test_carry_is_affine_in_the_benchmark(drawn, r1, r2, model):
    # Balances do not depend on B, so carry(B) = a + b·B: the midpoint rule holds exactly.
    b = drawn[0]
    mid = carry(b, (r1 + r2) / 2, model=model).daily_carry
    ends = (carry(b, r1, model=model).daily_carry + carry(b, r2, model=model).daily_carry) / 2
    assert mid == pytest.approx(ends, rel=1e-9, abs=1e-7)


@settings(max_examples=100, deadline=None)
@given(books(), st.integers(2, 50), st.sampled_from(["cash", "netted", "swap", "seed"]))
def test_scaling_positions_and_equity_scales_carry(drawn, k, model):
    # No tiers (fixed USD breakpoints are the one thing that does not scale); integer k keeps
    # the per-share collateral rounding exact.
    b = drawn[0]
    assert carry(b.scaled(k), 0.04, model=model).daily_carry == pytest.approx(
        k * carry(b, 0.04, model=model).daily_carry, rel=1e-9, abs=1e-7
    )


@settings(max_examples=50, deadline=None)
@given(st.floats(1_000, 1e9), st.floats(-0.01, 0.2), st.sampled_from(["cash", "netted", "swap"]))
def test_flat_book_earns_only_credit_interest(equity, rate, model):
    b = book({"AAPL": 0}, {"AAPL": 10.0}, equity)
    result = carry(b, rate, model=model)
    assert result.daily_carry == pytest.approx(equity * (rate - 0.0025) / 360, rel=1e-12, abs=1e-9)
    assert result.daily_carry == result.components["credit_interest"]
    assert "dropped zero positions: AAPL" in b.notes


def test_candidate_weights_priced_by_the_same_legs():
    # The optimiser's entry point: market values without share counts, collateral 1.02 × |v|.
    terms = FundingTerms(gc_fee_bps=30)
    rates = terms.annual_rates(0.04, ["L", "S"])
    values = np.array([1_000_000.0, -500_000.0])
    # as in test_models_on_one_book, but collateral 510,000 = 1.02 × 500,000 exactly
    assert carry_of_values(values, 600_000, rates, "cash") == pytest.approx((-18_000 + 18_750 - 1_530) / 360)
    legs = funding_legs(values, 600_000, rates)
    assert legs.annual(0.04).sum() == pytest.approx(-18_000 + 18_750 - 1_530)


# ---------------------------------------------------------------- bad input
def test_bad_terms():
    with pytest.raises(InputError, match="not one of cash, netted, swap, seed"):
        FundingTerms(model="repo")
    with pytest.raises(InputError, match=r"tiers\[1\]\.up_to"):
        FundingTerms(tiers=(Tier(1_000_000, 75), Tier(500_000, 60)))
    with pytest.raises(InputError, match="long_spread_bps"):
        FundingTerms(long_spread_bps=-5)
    with pytest.warns(UserWarning, match="below 1 bp"):
        FundingTerms(long_spread_bps=0.5)
    b = book({"A": 1}, {"A": 1.0}, 10)
    with pytest.raises(InputError, match="decimals"):
        carry(b, 4.3)  # percent where a decimal was meant
    with pytest.raises(InputError, match="not a number"):
        carry(b, float("nan"))
