"""Margin (Reg T, FINRA 4210, portfolio margin), daycount schedules and book loading."""

import numpy as np
import pytest

from astra import Book, load_book
from astra.errors import InputError
from astra.funding import accrual_schedule, margin
from astra.funding.margin import requirements
from tests.funding._books import ISSUE_BOOK


def test_reg_t_call():
    # Long 1,000 × $200 = 200,000; short 500 × $100 = 50,000; equity 100,000.
    # Reg T initial = 50 % × 200,000 + 50 % × 50,000 = 125,000 → call 25,000, excess −25,000.
    # FINRA: 25 % × 200,000 + max(30 % × 50,000, $5 × 500) = 50,000 + 15,000 = 65,000.
    # Portfolio margin: 15 % × 250,000 = 37,500.
    b = Book.from_positions({"AAPL": 1000, "JPM": -500}, {"AAPL": 200.0, "JPM": 100.0}, equity=100_000)
    m = margin(b, regime="reg_t")
    assert (m.reg_t_initial, m.finra_maintenance, m.portfolio_margin) == (125_000, 65_000, 37_500)
    assert m.call == 25_000 and m.excess == -25_000
    # Max gross the equity supports, in the book's proportions: 250,000 × 100,000 / requirement.
    assert m.max_gross("reg_t") == pytest.approx(200_000)
    assert m.max_gross("finra") == pytest.approx(250_000 * 100_000 / 65_000)
    assert m.max_gross("portfolio") == pytest.approx(250_000 / 0.15 * 100_000 / 250_000)
    fm = margin(b, regime="finra")
    assert fm.call == 0 and fm.excess == 35_000
    with pytest.raises(InputError, match="regime"):
        margin(b, regime="spam")


def test_calls_on_a_held_book_come_from_maintenance():
    # FINRA 4210(c): on positions already held the call is against maintenance; Reg T (12 CFR 220.12)
    # governs new purchases. Same book as above: Reg T initial 125,000 > equity 100,000, FINRA 65,000.
    b = Book.from_positions({"AAPL": 1000, "JPM": -500}, {"AAPL": 200.0, "JPM": 100.0}, equity=100_000)
    m = margin(b)
    assert m.regime == "finra" and m.account == "reg_t"
    assert m.call == 0 and m.excess == 35_000
    assert m.initial_requirement == 125_000 and m.buying_power == 0  # no purchases until equity > 125,000
    # Equity 160,000: 35,000 over Reg T initial buys 35,000 / 50 % = 70,000 of new long value.
    rich = Book.from_positions({"AAPL": 1000, "JPM": -500}, {"AAPL": 200.0, "JPM": 100.0}, equity=160_000)
    assert margin(rich).buying_power == pytest.approx(70_000)
    # A portfolio-margin account: calls and purchases against the PM requirement (37,500); 62,500 / 15 %.
    pm = Book.from_positions({"AAPL": 1000, "JPM": -500}, {"AAPL": 200.0, "JPM": 100.0}, equity=100_000,
                             margin_regime="portfolio")  # fmt: skip
    m = margin(pm)
    assert (m.regime, m.requirement, m.call) == ("portfolio", 37_500, 0)
    assert m.buying_power == pytest.approx(62_500 / 0.15)


@pytest.mark.parametrize(
    ("qty", "price", "finra"),
    [
        (100, 50.0, 1_250.0),  # long: 25 % × 5,000
        (-100, 20.0, 600.0),  # short ≥ $5: max(30 % × 2,000 = 600, $5 × 100 = 500)
        (-1_000, 6.0, 5_000.0),  # short ≥ $5: max(30 % × 6,000 = 1,800, $5 × 1,000 = 5,000)
        (-1_000, 3.0, 3_000.0),  # short < $5: max($2.50 × 1,000 = 2,500, 100 % × 3,000)
        (-1_000, 1.0, 2_500.0),  # short < $5: max($2.50 × 1,000, 100 % × 1,000 = 1,000)
        (-1_000, 5.0, 5_000.0),  # exactly $5 counts as ≥ $5: max(1,500, 5,000)
    ],
)
def test_finra_short_rules(qty, price, finra):
    # FINRA Rule 4210(c)(2)(B)-(D) per-share minimums.
    assert requirements([qty], [price])["finra"].iloc[0] == finra


def test_requirement_is_linear_in_the_book():
    rng = np.random.default_rng(1)
    q = rng.integers(-5_000, 5_000, 40).astype(float)
    p = rng.uniform(0.5, 400, 40)
    base = requirements(q, p).sum()
    np.testing.assert_allclose(requirements(3 * q, p).sum(), 3 * base, rtol=1e-12)


def test_accrual_schedule_tiles_periods():
    # 2026-03-02 (Mon) to 2026-03-06 (Fri), both inclusive: Mon-Thu 1 day each, Fri 3 → 7 days.
    s = accrual_schedule("2026-03-02", "2026-03-06")
    assert s.accrual_days.tolist() == [1, 1, 1, 1, 3]
    # Ending on the Sunday changes nothing (no business day added); a one-day period is allowed.
    assert accrual_schedule("2026-03-02", "2026-03-08").accrual_days.tolist() == [1, 1, 1, 1, 3]
    assert accrual_schedule("2026-03-06", "2026-03-06").total_days == 3
    # Two consecutive inclusive periods [a, b] and [b + 1, c] cover the same calendar days as their union.
    a, b = accrual_schedule("2026-01-01", "2026-01-31"), accrual_schedule("2026-02-01", "2026-03-01")
    assert a.total_days + b.total_days == accrual_schedule("2026-01-01", "2026-03-01").total_days
    # 2026-01-02 (Fri) .. 2026-03-02 (Mon, first session after 03-01): 59 calendar days.
    assert accrual_schedule("2026-01-01", "2026-03-01").total_days == 59
    with pytest.raises(InputError, match="before its start"):
        accrual_schedule("2026-03-09", "2026-03-02")


# ---------------------------------------------------------------- book
# the issue's example with a zero position added (dropped with a note)
BOOK = ISSUE_BOOK.replace("JPM = -1200\n", "JPM = -1200\nmsft = 0\n", 1)


def write(tmp_path, text, name="book.toml"):
    path = tmp_path / name
    path.write_text(text)
    return path


def test_toml_book_exposures(tmp_path):
    b = load_book(write(tmp_path, BOOK))
    # long 1,500 × 276.49 = 414,735; short 1,200 × 317.27 = 380,724
    assert b.long_market_value == pytest.approx(414_735.0)
    assert b.short_market_value == pytest.approx(380_724.0)
    assert b.gross == pytest.approx(795_459.0) and b.net == pytest.approx(34_011.0)
    assert b.leverage == pytest.approx(0.795459)
    assert b.tickers == ("AAPL", "JPM")
    assert b.notes == ("dropped zero positions: MSFT",)
    assert b.funding.fee_bps("JPM") == 40 and b.funding.tiers[0].up_to == 1_000_000
    frame = b.to_frame()
    assert frame["weight"].abs().sum() == pytest.approx(1.0)


def test_unmarked_names_take_the_latest_sample_close(tmp_path):
    text = BOOK.replace("AAPL = 276.49\n", "")
    b = load_book(write(tmp_path, text), as_of="2020-03-20")
    # skfolio's sample: AAPL closes on Friday 2020-03-20, read independently of the loader.
    from skfolio.datasets import load_sp500_dataset

    expected = load_sp500_dataset().loc[:"2020-03-20", "AAPL"].iloc[-1]
    assert b.prices[0] == pytest.approx(expected)
    assert b.prices[1] == 317.27
    assert any("sample close of 2020-03-20" in note for note in b.notes)


def test_csv_book(tmp_path):
    path = write(tmp_path, "ticker,quantity,price\nAAPL,1500,276.49\njpm,-1_200,317.27\n", "book.csv")
    b = load_book(path, equity=1_000_000)
    assert b.gross == pytest.approx(795_459.0)
    with pytest.raises(InputError, match="--equity"):
        load_book(path)


@pytest.mark.parametrize(
    ("text", "match"),
    [
        (BOOK.replace("equity = 1_000_000", "equity = -5"), "equity"),
        (BOOK.replace('model = "cash"', 'model = "repo"'), "repo"),
        (BOOK.replace("JPM = 317.27", "JPM = 0"), "prices.JPM"),
        (BOOK.replace("up_to = 1_000_000", "up_to = -1"), "up_to"),
        (BOOK + "[[funding.tiers]]\nup_to = 500_000\nlong_spread_bps = 60\n", "previous tier"),
        (BOOK.replace("msft = 0", "aapl = 5"), "twice"),
        (BOOK.replace("[account]", "[acount]"), "unknown table"),
        (BOOK.replace("gc_fee_bps = 40", "gc_fee = 40"), "unknown field"),
        (BOOK.replace("AAPL = 1500", "'AA PL' = 1500"), "not a ticker"),
        ("[positions\n", "not valid TOML"),
    ],
)
def test_bad_books(tmp_path, text, match):
    with pytest.raises(InputError, match=match):
        load_book(write(tmp_path, text))


@pytest.mark.parametrize(
    ("text", "match"),
    [
        ("ticker,quantity\nAAPL,abc\n", "line 2, column quantity"),
        ("ticker,qty\nAAPL,1\n", "header"),
        ("ticker,quantity\nAAPL,1\naapl,2\n", r"appear more than once \(AAPL; first repeat on line 3\)"),
        ("ticker,quantity\nAAPL,1,2\n", "line 2: 3 fields, but the header has 2"),
        ("ticker,quantity,price\nAAPL,1\n", "line 2: 2 fields, but the header has 3"),
        ("", "empty"),
    ],
)
def test_bad_csv_books(tmp_path, text, match):
    with pytest.raises(InputError, match=match):
        load_book(write(tmp_path, text, "book.csv"), equity=1e6)


def test_missing_price_from_a_source_without_the_name(tmp_path):
    text = BOOK.replace("[positions]", "[positions]\nZZZQ = 10")
    with pytest.raises(InputError, match="ZZZQ not in the offline sample"):  # the sample's names are fixed
        load_book(write(tmp_path, text))
    with pytest.raises(InputError, match="no price for ZZZQ"):
        Book.from_positions({"ZZZQ": 10}, {}, equity=1.0)
