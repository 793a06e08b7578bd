"""`astra book show` and `astra funding`: JSON contract, worked numbers, errors and exit codes."""

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from astra.cli import app
from tests.funding._books import ISSUE_BOOK

runner = CliRunner()
EXAMPLE = Path(__file__).parents[2] / "examples" / "book.toml"


def invoke(*args):
    return runner.invoke(app, [str(a) for a in args])


@pytest.fixture
def issue_book(tmp_path):
    path = tmp_path / "book.toml"
    path.write_text(ISSUE_BOOK)
    return path


def test_book_show_json(issue_book):
    res = invoke("book", "show", issue_book, "--json")
    assert res.exit_code == 0, res.stderr
    out = json.loads(res.stdout)
    assert out["gross"] == pytest.approx(795_459.0) and out["leverage"] == pytest.approx(0.795459)
    assert [p["ticker"] for p in out["positions"]] == ["AAPL", "JPM"]
    assert out["positions"][1]["weight"] == pytest.approx(-380_724 / 795_459)


def test_funding_json_on_a_friday(issue_book):
    # 2026-03-06 is a Friday → 3 accrual days; B = 3.63 %.
    # credit  = (1,000,000 − 414,735) × (0.0363 − 0.0025) × 3 / 360 = 164.849642
    # rebate  = 380,724 × 0.0338 × 3 / 360                         = 107.237260
    # fee     = 1,200 × ceil(1.02 × 317.27 = 323.6154 → 324) × 0.0040 × 3 / 360 = 12.96
    res = invoke("funding", issue_book, "--rate", "0.0363", "--date", "2026-03-06", "--json")
    assert res.exit_code == 0, res.stderr
    out = json.loads(res.stdout)
    assert out["model"] == "cash" and out["accrual_days"] == 3 and out["benchmark_rate"] == 0.0363
    c = out["components"]
    assert c["credit_interest"] == pytest.approx(164.849642, abs=1e-6)
    assert c["short_rebate"] == pytest.approx(107.23726, abs=1e-6)
    assert c["borrow_fee"] == pytest.approx(-12.96, abs=1e-9)
    assert c["long_financing"] == 0.0
    assert out["daily_carry"] == pytest.approx(164.849642 + 107.23726 - 12.96, abs=1e-6)
    assert set(out["margin"]) >= {"reg_t_initial", "finra_maintenance", "portfolio_margin", "equity", "excess", "call"}
    # Reg T: 50 % × 795,459 = 397,729.50
    assert out["margin"]["reg_t_initial"] == pytest.approx(397_729.5)
    assert set(out["by_model"]["daily_carry"]) == {"cash", "netted", "swap", "seed"}
    assert [p["ticker"] for p in out["positions"]] == ["AAPL", "JPM"]


def test_funding_model_override_and_period(issue_book):
    res = invoke(
        "funding", issue_book, "--rate", "0.0363", "--model", "netted", "--start", "2026-03-02", "--end", "2026-03-31",
        "--compounded", "--json",
    )  # fmt: skip
    assert res.exit_code == 0, res.stderr
    out = json.loads(res.stdout)
    assert out["model"] == "netted"
    period = out["period"]
    assert period["compounded"] and period["business_days"] == 22 and period["accrual_days"] == 30

    # netted: cash = 1,000,000 − 414,735 + 380,724 = 965,989 earning 3.38 %; fee 1,200 × 324 at 40 bp.
    # Compounded in arrears per balance over 18 one-day and 4 three-day accruals.
    def grow(rate):
        return (1 + rate / 360) ** 18 * (1 + 3 * rate / 360) ** 4 - 1

    expected = 965_989 * grow(0.0338) - 1_200 * 324 * grow(0.004)
    assert period["total"] == pytest.approx(expected, abs=1e-6)
    assert len(period["daily"]) == 22


def test_example_book_runs_offline():
    res = invoke("funding", EXAMPLE, "--rate", "0.043", "--date", "2022-12-23")
    assert res.exit_code == 0, res.stderr
    assert "4 day(s)" in res.stdout  # Friday before the Monday Christmas holiday
    assert "notebook charged" in res.stdout


DAY = ("--rate", "0.04", "--date", "2026-03-06")


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        ((*DAY, "--model", "repo"), "repo"),
        (("--rate", "0.04", "--date", "2026-03-07"), "not an XNYS business day"),
        (("--rate", "3.63", "--date", "2026-03-06"), "decimal"),
        (("--rate", "0.04", "--start", "2026-03-02"), "needs both start and end"),
        (("--rate", "0.04", "--date", "2022-02-30"), "date '2022-02-30' is not a calendar date"),
        (("--rate", "0.04", "--start", "2026-03-09", "--end", "2026-03-02"), "after end"),
        ((*DAY, "--compounded"), "period"),
        ((*DAY, "--rate-source", "irx"), "not both"),
        (("--rate-source", "csv:/nonexistent/sofr.csv", "--date", "2026-03-06"), "sofr.csv"),
        ((*DAY, "--margin", "spam"), "regime"),
    ],
)
def test_bad_input(issue_book, args, needle):
    res = invoke("funding", issue_book, *args)
    assert res.exit_code == 2, (res.stdout, res.stderr)
    assert needle in res.stderr and res.stdout == ""
    assert len(res.stderr.strip().splitlines()) == 1


def test_spread_in_percent_warns(tmp_path):
    path = tmp_path / "book.toml"
    path.write_text(ISSUE_BOOK.replace("long_spread_bps = 50", "long_spread_bps = 0.5"))
    res = invoke("funding", path, "--rate", "0.04", "--date", "2026-03-06", "--json")
    assert res.exit_code == 0
    assert "below 1 bp" in res.stderr
    json.loads(res.stdout)


def test_malformed_book_and_offline_rate(tmp_path, issue_book):
    bad = tmp_path / "bad.toml"
    bad.write_text("[account]\nequity = 'lots'\n[positions]\nAAPL = 1\n")
    res = invoke("book", "show", bad)
    assert res.exit_code == 2 and "account.equity" in res.stderr
    res = invoke("funding", issue_book, "--rate-source", "irx", "--offline", "--date", "2026-03-06")
    assert res.exit_code == 3 and "cache" in res.stderr
