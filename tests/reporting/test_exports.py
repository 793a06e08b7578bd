"""The demo's exports read back: named index columns, ISO dates, solver noise written as 0,
book_funding.csv with its date, benchmark and a totals row checked by hand."""

import csv
import math
import re

import numpy as np
import pandas as pd
import pytest

ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


def _header(path) -> list[str]:
    with open(path, newline="", encoding="utf-8") as handle:
        return next(csv.reader(handle))


@pytest.mark.parametrize(
    ("name", "index"),
    [("pair_scan.csv", "rank"), ("optimized_weights.csv", "ticker"), ("book_funding.csv", "ticker"),
     ("stress_scenarios.csv", "scenario"), ("kalman_signals.csv", "timestamp"), ("returns.csv", "date")],
)  # fmt: skip
def test_every_export_names_its_index(demo_run, name, index):
    out, _ = demo_run
    assert _header(out / name)[0] == index


def test_pair_scan_ranks_from_one(demo_run):
    out, result = demo_run
    scan = pd.read_csv(out / "pair_scan.csv")
    assert scan["rank"].tolist() == list(range(1, len(scan) + 1))
    assert scan["p_value"].is_monotonic_increasing  # ranked by Engle–Granger p-value
    n = len(result.objects["statarb"]["scan"].table)
    assert len(scan) == n == math.comb(20, 2)  # every pair of the sample's 20 stocks (the index is not one)


def test_optimized_weights_write_solver_noise_as_zero(demo_run):
    out, result = demo_run
    raw = result.objects["optimize"]["notebook"].result.weights
    noisy = [t for t, w in zip(result.objects["optimize"]["notebook"].result.tickers, raw, strict=True)
             if 0 < abs(w) < 1e-9]  # fmt: skip
    assert noisy, "the notebook's solve leaves solver noise (it did: 5e-11, 2e-12 ...)"
    text = (out / "optimized_weights.csv").read_text()
    assert not re.search(r"\d[eE]-", text)  # no 5e-11
    weights = pd.read_csv(out / "optimized_weights.csv", index_col="ticker")
    for ticker in noisy:
        assert weights.loc[ticker, "notebook"] == 0.0
    big = weights["notebook"].abs() >= 1e-9
    # the long/short problem's constraints (gross 2, |net| <= 5 %) still hold on what is written
    assert weights["notebook"].abs().sum() == pytest.approx(2.0, abs=1e-6)
    assert abs(weights["notebook"].sum()) <= 0.05 + 1e-6
    assert big.sum() == len(raw) - len(noisy)
    parquet = pd.read_parquet(out / "optimized_weights.parquet")
    assert parquet.index.name == "ticker" and (parquet.loc[noisy, "notebook"] == 0.0).all()


def test_dates_are_iso(demo_run):
    out, _ = demo_run
    stress = pd.read_csv(out / "stress_scenarios.csv", dtype=str, keep_default_na=False)
    dated = stress[stress["start"] != ""]
    assert (
        len(dated) >= 6 and dated["start"].map(ISO_DATE.fullmatch).all() and dated["end"].map(ISO_DATE.fullmatch).all()
    )
    returns = pd.read_csv(out / "returns.csv", dtype=str)
    assert returns["date"].map(ISO_DATE.fullmatch).all()
    signals = pd.read_csv(out / "kalman_signals.csv", dtype=str)
    # intraday stamps: ISO 8601 with the exchange's UTC offset
    assert signals["timestamp"].map(re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}-0[45]:00").fullmatch).all()
    parquet = pd.read_parquet(out / "stress_scenarios.parquet")
    assert parquet.index.name == "scenario"


def test_book_funding_carries_date_rate_and_totals(demo_run):
    # Hand-worked from DESIGN.md's cash convention and examples/book.toml (B = 4.3 %, long
    # spread 75 bp on the first $100,000 of debit and 50 bp above, short spread 25 bp, GC fee
    # 25 bp, BAC 40 bp, collateral ceil(1.02 p) per share, ACT/360, one day).
    out, _ = demo_run
    frame = pd.read_csv(out / "book_funding.csv", index_col="ticker")
    prices = pd.read_parquet(out / "prices.parquet")
    assert list(frame.index) == ["AAPL", "MSFT", "AMD", "JPM", "BAC", "TOTAL"]
    assert (frame["date"] == prices.index[-1].date().isoformat()).all()  # the sample's last session
    assert (frame["benchmark_rate"] == 0.043).all() and (frame["model"] == "cash").all()
    assert (frame["accrual_days"] == 1).all()  # 2022-12-28 is a Wednesday
    pos = frame.drop("TOTAL")
    assert np.allclose(pos["price"], prices.iloc[-1][pos.index], rtol=1e-9)  # marks are the last closes
    q, p, b = pos["quantity"], pos["price"], 0.043
    debit = (q * p)[q > 0].sum() - 1_000_000
    financing = -(min(debit, 100_000) * (b + 0.0075) + max(debit - 100_000, 0.0) * (b + 0.005)) / 360
    shorts = q < 0
    rebate = (-q * p * (b - 0.0025) / 360)[shorts].sum()
    fee = pd.Series({"JPM": 0.0025, "BAC": 0.0040})
    borrow = -(-q[shorts] * np.ceil(1.02 * p[shorts]) * fee / 360).sum()
    total = frame.loc["TOTAL"]
    assert total["financing"] == pytest.approx(financing, rel=1e-8)
    assert total["rebate"] == pytest.approx(rebate, rel=1e-8)
    assert total["borrow_fee"] == pytest.approx(borrow, rel=1e-8)
    assert total["carry"] == pytest.approx(financing + rebate + borrow, rel=1e-8)
    assert total["market_value"] == pytest.approx((q * p).sum(), rel=1e-9)  # net
    assert total["reg_t"] == pytest.approx(0.5 * (q.abs() * p).sum(), rel=1e-9)  # Reg T: 50 % of each side
    assert math.isnan(total["quantity"]) and math.isnan(total["price"])  # a sum of shares means nothing
    for column in ("financing", "rebate", "borrow_fee", "carry", "finra", "portfolio"):
        assert total[column] == pytest.approx(pos[column].sum(), rel=1e-9, abs=1e-9)
