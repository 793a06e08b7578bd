"""CSV / Parquet provider: layouts and every malformed-file case."""

import numpy as np
import pandas as pd
import pytest

from astra.data import load_prices
from astra.data.providers.files import load_file
from astra.errors import InputError


def _write(tmp_path, name, text):
    path = tmp_path / name
    path.write_text(text)
    return path


def test_wide_csv(tmp_path):
    path = _write(tmp_path, "p.csv", "date,aapl,MSFT\n2020-01-02,10,20\n2020-01-03,11,21.5\n")
    data = load_file(path)
    assert data.tickers == ["AAPL", "MSFT"]
    np.testing.assert_array_equal(data.prices.to_numpy(), [[10, 20], [11, 21.5]])
    assert data.meta.source.startswith("csv:")


def test_long_csv_equals_wide(tmp_path):
    wide = _write(tmp_path, "w.csv", "date,A,B\n2020-01-02,1,2\n2020-01-03,3,4\n")
    long = _write(
        tmp_path,
        "l.csv",
        "date,ticker,close\n2020-01-02,A,1\n2020-01-02,B,2\n2020-01-03,A,3\n2020-01-03,B,4\n",
    )
    pd.testing.assert_frame_equal(load_file(wide).prices, load_file(long).prices)


def test_parquet_wide_with_datetime_index(tmp_path):
    frame = pd.DataFrame({"X": [1.0, 2.0]}, index=pd.DatetimeIndex(["2021-06-01", "2021-06-02"], name="date"))
    path = tmp_path / "p.parquet"
    frame.to_parquet(path)
    data = load_prices(source=f"parquet:{path}")
    np.testing.assert_array_equal(data.prices["X"].to_numpy(), [1.0, 2.0])


def test_blank_cells_are_missing_then_cleaned(tmp_path):
    path = _write(tmp_path, "p.csv", "date,A\n2020-01-02,10\n2020-01-03,\n2020-01-06,12\n")
    data = load_prices(source=f"csv:{path}")
    assert data.prices["A"].tolist() == [10.0, 10.0, 12.0]
    assert data.quality.filled == 1


@pytest.mark.parametrize(
    ("text", "match"),
    [
        ("date,A\n2020-01-02,10\n2020-01-03,abc\n", r"line 3, column 'A': 'abc' is not a number"),
        ("date,A\n2020-01-02,10\n2020-01-02,11\n", r"line 3: duplicate timestamp 2020-01-02"),
        ("date,A\nnot-a-date,10\n", r"line 2, column 'date': 'not-a-date' is not a date"),
        ("date,A\n2020-01-02,-5\n", r"price -5.0 for A .* is not positive"),
        ("date\n2020-01-02\n", "no price columns"),
        ("date,ticker,price_x\n2020-01-02,A,1\n", "long layout needs a 'close' column"),
        (
            "date,ticker,close\n2020-01-02,A,1\n2020-01-02,A,2\n",
            r"line 3: duplicate timestamp 2020-01-02 00:00:00 for A",
        ),
        ("date,A\n", "no data rows"),
    ],
)
def test_malformed_csv(tmp_path, text, match):
    path = _write(tmp_path, "bad.csv", text)
    with pytest.raises(InputError, match=match):
        load_file(path)


def test_missing_file_and_bad_parquet(tmp_path):
    with pytest.raises(InputError, match="not found"):
        load_file(tmp_path / "nope.csv")
    bad = _write(tmp_path, "bad.parquet", "this is not parquet")
    with pytest.raises(InputError, match="cannot read as parquet"):
        load_file(bad)


def test_unknown_ticker_and_empty_range(tmp_path):
    path = _write(tmp_path, "p.csv", "date,A\n2020-01-02,10\n")
    with pytest.raises(InputError, match="no column for B"):
        load_file(path, tickers=["B"])
    with pytest.raises(InputError, match="no rows between"):
        load_file(path, start="2021-01-01")


def test_intraday_csv_naive_stamps_are_new_york(tmp_path):
    path = _write(tmp_path, "m.csv", "timestamp,A\n2024-07-03 09:30,10\n2024-07-03 09:31,10.5\n")
    data = load_file(path, interval="1m")
    assert str(data.prices.index.tz) == "America/New_York"
    assert data.prices.index[0].hour == 9


def test_intraday_rows_in_daily_mode_are_rejected(tmp_path):
    path = _write(tmp_path, "m.csv", "timestamp,A\n2024-07-03 09:30,10\n2024-07-03 09:31,10.5\n")
    with pytest.raises(InputError, match="more than one row for the same date"):
        load_file(path)


def test_intraday_offsets_that_change_with_daylight_saving(tmp_path):
    # New York is UTC-5 until 2024-03-10 and UTC-4 after: 09:31 local on both sides is the same session minute.
    text = "timestamp,A\n2024-03-08T09:31:00-05:00,1\n2024-03-11T09:31:00-04:00,2\n"
    data = load_file(_write(tmp_path, "dst.csv", text), interval="1m")
    local = data.prices.index.tz_convert("America/New_York")
    assert [(t.date().isoformat(), t.hour, t.minute) for t in local] == [("2024-03-08", 9, 31), ("2024-03-11", 9, 31)]


def test_intraday_offsets_on_some_rows_only_are_refused(tmp_path):
    text = "timestamp,A\n2024-03-08T09:31:00-05:00,1\n2024-03-11T09:31:00,2\n"
    with pytest.raises(InputError, match=r"line 3, column 'timestamp': '2024-03-11T09:31:00' has no UTC offset"):
        load_file(_write(tmp_path, "mixed.csv", text), interval="1m")
