"""One answer everywhere: the CLI (--json), the Python workflow and the dashboard give the same carry.

For the example book on a Friday, on the day before a holiday, and over a period spanning a
month end, the three surfaces agree to the cent, and all three equal a carry computed here
from first principles (DESIGN.md's cash convention, the sample's closes of each day, the
XNYS calendar from exchange_calendars).
"""

import json
import math
import re
import warnings
from pathlib import Path

import exchange_calendars as xcals
import pandas as pd
import pytest
from skfolio.datasets import load_sp500_dataset
from streamlit.testing.v1 import AppTest
from typer.testing import CliRunner

from astra.cli import app
from astra.workflows.funding import funding_report

ROOT = Path(__file__).parents[1]
EXAMPLE = ROOT / "examples" / "book.toml"
FUNDING_PAGE = ROOT / "src" / "astra" / "dashboard" / "views" / "funding.py"
SHARES = {"AAPL": 3_000, "MSFT": 1_600, "AMD": 6_000, "JPM": -3_000, "BAC": -12_000}
RATE = 0.043
FRIDAY, BEFORE_HOLIDAY = "2022-12-16", "2022-11-23"  # Thanksgiving is 2022-11-24
PERIOD = ("2022-11-21", "2022-12-09")


def sessions(start, end) -> pd.DatetimeIndex:
    """XNYS sessions from exchange_calendars (its pandas-3.1 deprecation warning is not ours to fix)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", pd.errors.Pandas4Warning)
        return xcals.get_calendar("XNYS", start="2022-01-01", end="2023-12-31").sessions_in_range(start, end)


def reference_carry(day: pd.Timestamp) -> float:
    """examples/book.toml's carry on ``day`` under the cash convention, written out from DESIGN.md."""
    closes = load_sp500_dataset().loc[:day].iloc[-1]
    following = sessions(day + pd.Timedelta(days=1), day + pd.Timedelta(days=10))[0]
    nights = (following - day).days
    values = {t: q * float(closes[t]) for t, q in SHARES.items()}
    longs = sum(v for v in values.values() if v > 0)
    debit = max(0.0, longs - 1_000_000)
    # tiered debit: the first 100,000 at B + 75 bp, the rest at B + 50 bp
    financing = -(min(debit, 100_000) * (RATE + 0.0075) + max(0.0, debit - 100_000) * (RATE + 0.0050))
    credit = max(0.0, 1_000_000 - longs) * (RATE - 0.0025)
    rebate = sum(-v * (RATE - 0.0025) for v in values.values() if v < 0)
    fee = {"JPM": 0.0025, "BAC": 0.0040}  # GC 25 bp; BAC hard to borrow at 40 bp
    borrow = -sum(-q * math.ceil(round(1.02 * float(closes[t]), 8)) * fee[t] for t, q in SHARES.items() if q < 0)
    return (financing + credit + rebate + borrow) * nights / 360


def cli(*args) -> dict:
    res = CliRunner().invoke(app, ["funding", str(EXAMPLE), "--rate", str(RATE), *args, "--json"])
    assert res.exit_code == 0, res.stderr
    return json.loads(res.stdout)


def dollars(text: str) -> float:
    return float(re.sub(r"[$,]", "", text))


@pytest.fixture(scope="module")
def dashboard():
    page = AppTest.from_file(str(FUNDING_PAGE), default_timeout=120)
    page.run()
    page.number_input[0].set_value(RATE).run()
    return page


@pytest.mark.parametrize("day", [FRIDAY, BEFORE_HOLIDAY])
def test_daily_carry_is_the_same_everywhere(dashboard, day):
    expected = reference_carry(pd.Timestamp(day))
    from_cli = cli("--date", day)["daily_carry"]
    from_python = funding_report(EXAMPLE, rate=RATE, on=day).carry.daily_carry
    dashboard.date_input[0].set_value(pd.Timestamp(day).date()).run()
    assert not dashboard.exception and not dashboard.error
    metric = next(m for m in dashboard.metric if m.label.startswith(f"Daily carry on {day}"))
    assert from_cli == pytest.approx(expected, abs=1e-6)
    assert from_python == pytest.approx(expected, abs=1e-6)
    assert dollars(metric.value) == pytest.approx(expected, abs=0.005)  # the page shows cents


def test_period_spanning_a_month_end_is_the_same_everywhere(dashboard):
    start, end = PERIOD
    days = sessions(start, end)
    expected = sum(reference_carry(pd.Timestamp(d)) for d in days)  # re-marked at each day's close
    out = cli("--start", start, "--end", end)
    from_python = funding_report(EXAMPLE, rate=RATE, start=start, end=end).period.total
    dashboard.date_input[1].set_value(pd.Timestamp(start).date())
    dashboard.date_input[2].set_value(pd.Timestamp(end).date()).run()
    metric = next(m for m in dashboard.metric if m.label.startswith(f"Carry {start} to {end}"))
    assert out["period"]["business_days"] == len(days) == 14  # Thanksgiving closed
    assert out["period"]["total"] == pytest.approx(expected, abs=1e-6)
    assert from_python == pytest.approx(expected, abs=1e-6)
    assert dollars(metric.value) == pytest.approx(expected, abs=0.005)
