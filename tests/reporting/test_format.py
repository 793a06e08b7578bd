"""astra.format against hand-written expected strings (the reference is the string a desk reads)."""

import datetime as dt
import math

import numpy as np
import pandas as pd
import pytest

from astra import format as fmt


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (1234.5, "$1,234.50"),
        (-1234.5, "-$1,234.50"),
        (0.0, "$0.00"),
        (-0.0, "$0.00"),
        (5e-11, "$0.00"),
        (-1e-12, "$0.00"),  # the dashboard's "-0.000000000001"
        (-0.004, "$0.00"),  # rounds to zero: no "-$0.00"
        (-0.005000001, "-$0.01"),
        (3.77e05, "$377,000.00"),
        (3698149.558, "$3,698,149.56"),
        (1.5e15, "$1,500,000,000,000,000.00"),
        (np.float32(2.5), "$2.50"),
        (7, "$7.00"),
        (float("nan"), "\u2014"),
        (None, "\u2014"),
        (pd.NA, "\u2014"),
        (math.inf, "\u221e"),
    ],
)
def test_money(value, expected):
    assert fmt.money(value) == expected


def test_money_digits_and_missing():
    assert fmt.money(-51195.274, 0) == "-$51,195"
    assert fmt.money(None, missing="n/a") == "n/a"


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (-1.2e04, "-12,000"),  # the report's "-1.2e+04"
        (3000, "3,000"),
        (np.int64(-3000), "-3,000"),
        (-0.0, "0"),
        (1e-9, "0"),
        (2.6e9, "2,600,000,000"),
        (float("nan"), "\u2014"),
    ],
)
def test_shares(value, expected):
    assert fmt.shares(value) == expected


def test_rates_weights_and_bp():
    assert fmt.pct(0.043) == "4.30%"
    assert fmt.pct(-0.0123, 1) == "-1.2%"
    assert fmt.pct(0.05, 1, signed=True) == "+5.0%"
    assert fmt.pct(-1e-12, signed=True) == "0.00%"
    assert fmt.pct(4.3, points=True) == "4.30%"  # var_pct_gross is already in percent
    assert fmt.format_value(-2.75, "pct_pts") == "-2.75%"
    assert fmt.weight(0.25) == "25.00%"
    assert fmt.weight(-5e-11) == "0.00%"
    assert fmt.weight(12.5) == "1,250.00%"
    assert fmt.bp(12.5) == "12.5 bp"
    assert fmt.bp(0.0025, 0, from_decimal=True) == "25 bp"
    assert fmt.bp(-0.0) == "0.0 bp"
    assert fmt.ratio(1234.5678) == "1,234.57"
    assert fmt.ratio(0.00049, 3) == "0.000"
    assert fmt.ratio(-0.0004, 3) == "0.000"
    assert fmt.count(12345) == "12,345"
    assert fmt.pct(None) == "\u2014"


def test_dates():
    assert fmt.date(pd.Timestamp("2022-12-01 00:00:00")) == "2022-12-01"  # not "2022-12-01 00:00:00"
    assert fmt.date(dt.date(2022, 12, 1)) == "2022-12-01"
    assert fmt.date(np.datetime64("2022-12-01T00:00")) == "2022-12-01"
    assert fmt.date("2022-12-01") == "2022-12-01"
    assert fmt.date(pd.NaT) == "\u2014"
    ny = pd.Timestamp("2024-03-01 09:31", tz="America/New_York")
    assert fmt.datetime(ny) == "2024-03-01 09:31"  # local exchange time, not UTC
    assert fmt.date(ny) == "2024-03-01"
    assert fmt.datetime(pd.Timestamp("2024-03-01")) == "2024-03-01"


def test_unknown_kind_is_a_clear_error():
    with pytest.raises(ValueError, match="unknown format kind 'usd'"):
        fmt.format_value(1.0, "usd")
    with pytest.raises(ValueError, match="unknown format kind"):
        fmt.format_frame(pd.DataFrame({"a": [1.0]}), {"a": "usd"})


def test_clean_noise_is_relative_to_the_column_scale():
    weights = pd.Series([0.25, -5e-11, 0.75, -0.0, np.nan], index=list("abcde"), name="w")
    cleaned = fmt.clean_noise(weights)
    assert cleaned.tolist()[:4] == [0.25, 0.0, 0.75, 0.0]
    assert math.copysign(1.0, cleaned["d"]) == 1.0  # -0.0 written as 0
    assert math.isnan(cleaned["e"]) and cleaned.name == "w" and list(cleaned.index) == list("abcde")
    # 5e-11 in a column of cents is not noise: nothing else in it is larger.
    assert fmt.clean_noise(np.array([5e-11, 1e-11])).tolist() == [5e-11, 1e-11]
    # with an absolute floor it is
    assert fmt.clean_noise(np.array([5e-11, 1e-11]), abs_tol=1e-9).tolist() == [0.0, 0.0]
    # at rel_tol 1e-9, 1e-4 is noise only beside a value above 1e5
    assert fmt.clean_noise([1e4, 1e-4]).tolist() == [1e4, 1e-4]
    assert fmt.clean_noise([1e6, 1e-4]).tolist() == [1e6, 0.0]
    assert fmt.clean_noise([1e6, 1e-4], rel_tol=1e-11).tolist() == [1e6, 1e-4]


def test_format_frame_by_declared_kind():
    frame = pd.DataFrame(
        {
            "pnl": [-1234.5, 3.77e05, np.nan],
            "shares": [-1.2e04, 3000.0, 0.0],
            "rate": [0.043, 0.0431, 0.04305],
            "fee_bps": [25.0, 0.0, 300.0],
            "w": [0.25, -5e-11, 0.75],
            "when": pd.to_datetime(["2022-12-01", "2022-12-02", None]),
            "p_value": [0.0123, 0.5, 1.0],
            "trades": [3, 12000, 0],
            "kind": ["historical", "funding", None],
        },
        index=pd.Index(["a", "b", "c"], name="ticker"),
    )
    shown = fmt.format_frame(
        frame,
        {"pnl": "money", "shares": "shares", "rate": ("pct", {"digits": 3}), "fee_bps": ("bp", {"digits": 0}),
         "w": "weight", "p_value": ("ratio", {"digits": 3})},
    )  # fmt: skip
    assert shown.to_dict(orient="list") == {
        "pnl": ["-$1,234.50", "$377,000.00", "\u2014"],
        "shares": ["-12,000", "3,000", "0"],
        "rate": ["4.300%", "4.310%", "4.305%"],
        "fee_bps": ["25 bp", "0 bp", "300 bp"],
        "w": ["25.00%", "0.00%", "75.00%"],
        "when": ["2022-12-01", "2022-12-02", "\u2014"],  # inferred: datetimes at midnight are dates
        "p_value": ["0.012", "0.500", "1.000"],
        "trades": ["3", "12,000", "0"],  # inferred: integers are counts
        "kind": ["historical", "funding", "\u2014"],
    }
    assert shown.index.name == "ticker" and list(shown.index) == ["a", "b", "c"]
    assert list(frame["w"]) == [0.25, -5e-11, 0.75]  # the input is not modified


def test_format_frame_noise_is_per_column_and_index_dates():
    # 1e-7 is noise next to 3.7 million dollars but not in a column whose scale is 1e-7
    frame = pd.DataFrame(
        {"big": [3_698_149.558, -1e-7], "small": [1e-7, 2e-7]},
        index=pd.DatetimeIndex(["2022-12-01", "2022-12-02"], name="date"),
    )
    shown = fmt.format_frame(frame, {"big": "money", "small": ("ratio", {"digits": 8})})
    assert shown["big"].tolist() == ["$3,698,149.56", "$0.00"]
    assert shown["small"].tolist() == ["0.00000010", "0.00000020"]
    assert list(shown.index) == ["2022-12-01", "2022-12-02"] and shown.index.name == "date"
    # a callable kind and an explicit index kind
    custom = fmt.format_frame(frame, {"big": lambda v: f"<{v:.0f}>"}, index=lambda d: d.strftime("%d %b"))
    assert custom["big"].tolist() == ["<3698150>", "<-0>"] and list(custom.index) == ["01 Dec", "02 Dec"]


def test_docstring_examples():
    import doctest

    result = doctest.testmod(fmt, optionflags=doctest.ELLIPSIS)
    assert result.attempted >= 2 and result.failed == 0
