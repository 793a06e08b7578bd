"""Benchmark rates: ^IRX discount → money-market yield, flat, CSV, synthetic."""

import numpy as np
import pandas as pd
import pytest

from astra.data import load_rates
from astra.data.calendar import sessions
from astra.data.rates import discount_to_money_market, rate_from_csv, rate_from_discount, synthetic_rate
from astra.errors import InputError


@pytest.mark.parametrize("d", [0.0001, 0.01, 0.045, 0.05, 0.15])
def test_discount_conversion_via_bill_price(d):
    # Independent route (bill pricing, e.g. Fabozzi, Bond Markets, ch. on T-bills):
    # price per 1 of face P = 1 - d*91/360; money-market yield = (1/P - 1) * 360/91.
    price = 1.0 - d * 91.0 / 360.0
    expected = (1.0 / price - 1.0) * 360.0 / 91.0
    assert discount_to_money_market(d) == pytest.approx(expected, rel=1e-12)
    assert discount_to_money_market(d) > d  # a yield on price exceeds a discount on face


def test_textbook_value():
    # 4.50 % discount, 91 days: P = 98.8625 per 100; MMY = (100/98.8625 - 1)*360/91 = 4.5518 %.
    assert discount_to_money_market(0.045) == pytest.approx(0.045518, abs=5e-7)


def test_irx_series_converted_and_aligned():
    raw = pd.Series([0.05, 0.051], index=pd.DatetimeIndex(["2026-03-02", "2026-03-04"]))
    out = rate_from_discount(raw, "2026-03-02", "2026-03-05")
    assert list(out.rates.index) == list(sessions("2026-03-02", "2026-03-05"))
    # 03-03 and 03-05 carry the last fixing forward (never backwards).
    expected = [discount_to_money_market(v) for v in (0.05, 0.05, 0.051, 0.051)]
    np.testing.assert_allclose(out.rates.to_numpy(), expected, rtol=1e-12)
    assert out.filled == 2 and out.source == "irx"


def test_irx_through_load_rates_with_a_fake_downloader(tmp_path):
    # yfinance-shaped frame for ^IRX, quoted in percent.
    idx = pd.DatetimeIndex(["2026-03-02", "2026-03-03"], name="Date")
    cols = pd.MultiIndex.from_product([["Close", "Open"], ["^IRX"]], names=["Price", "Ticker"])
    frame = pd.DataFrame([[4.30, 4.3], [4.32, 4.3]], index=idx, columns=cols)

    def fake_download(*args, **kwargs):
        return frame.copy()

    from astra.data.store import PriceStore

    store = PriceStore(tmp_path / "cache")
    out = load_rates("irx", "2026-03-02", "2026-03-03", store=store, downloader=fake_download)
    np.testing.assert_allclose(out.rates.to_numpy(), discount_to_money_market(np.array([0.043, 0.0432])))
    again = load_rates("irx", "2026-03-02", "2026-03-03", store=store, offline=True)
    pd.testing.assert_series_equal(out.rates, again.rates)


def test_csv_in_percent_with_fred_missing_marker(tmp_path):
    path = tmp_path / "sofr.csv"
    path.write_text("DATE,SOFR\n2026-03-02,4.30\n2026-03-03,.\n2026-03-04,4.31\n")
    out = rate_from_csv(path)
    np.testing.assert_allclose(out.rates.to_numpy(), [0.043, 0.043, 0.0431])


@pytest.mark.parametrize(
    ("text", "match"),
    [
        ("DATE,SOFR\n2026-03-02,abc\n", "line 2, column 'SOFR': 'abc' is not a number"),
        ("DATE,SOFR\nyesterday,4.3\n", "line 2: 'yesterday' is not a date"),
        ("DATE,SOFR\n2026-03-02,4.3\n2026-03-02,4.4\n", "line 3: duplicate date"),
        ("DATE,SOFR\n2026-03-02,430\n", r"outside the plausible range .* percent or bp"),
    ],
)
def test_bad_rate_csv(tmp_path, text, match):
    path = tmp_path / "r.csv"
    path.write_text(text)
    with pytest.raises(InputError, match=match):
        rate_from_csv(path)


def test_flat_and_bad_sources():
    out = load_rates("flat:0.043", "2026-11-23", "2026-11-27")  # Thanksgiving week
    assert len(out.rates) == 4 and (out.rates == 0.043).all()
    for bad in ("flat:4.3", "flat:x", "libor", "csv:"):
        with pytest.raises(InputError):
            load_rates(bad, "2026-01-02", "2026-01-05")


def test_synthetic_rate_is_seeded_and_labelled():
    a = synthetic_rate("2026-01-01", "2026-06-30", seed=4)
    b = synthetic_rate("2026-01-01", "2026-06-30", seed=4)
    pd.testing.assert_series_equal(a.rates, b.rates)
    assert a.synthetic and "synthetic" in a.source
