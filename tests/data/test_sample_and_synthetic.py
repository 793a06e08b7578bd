"""Offline sample (skfolio) and seeded synthetic generators."""

import numpy as np
import pandas as pd
import pytest

from astra.data import load_prices
from astra.data.calendar import sessions
from astra.data.providers.sample import load_sample, sample_tickers
from astra.data.providers.synthetic import cointegrated_pair, factor_panel
from astra.errors import DataUnavailable, InputError


def test_sample_matches_skfolio_values():
    # Reference: skfolio's bundled CSV read directly, independent of our provider.
    from skfolio.datasets import load_sp500_dataset

    ref = load_sp500_dataset()
    data = load_sample(["JPM", "AAPL"], start="2020-03-02", end="2020-03-31")
    expected = ref.loc["2020-03-02":"2020-03-31", ["JPM", "AAPL"]]
    np.testing.assert_array_equal(data.prices.to_numpy(), expected.to_numpy())
    assert data.prices.index.name == "date"
    assert data.prices.dtypes.eq("float64").all()
    assert data.meta.source == "sample" and not data.meta.synthetic


def test_sample_has_market_series_and_twenty_stocks():
    names = sample_tickers()
    assert "SP500" in names and len(names) == 21
    assert load_sample().prices.shape[1] == 20


def test_sample_unknown_ticker_lists_what_it_has():
    with pytest.raises(InputError, match=r"FOO.*not in the offline sample.*AAPL"):
        load_sample(["AAPL", "FOO"])


def test_sample_range_outside_coverage():
    with pytest.raises(DataUnavailable, match="covers 1990-01-02 to 2022-12-28"):
        load_sample(["AAPL"], start="2024-01-01")


def test_sample_is_daily_only():
    with pytest.raises(InputError, match="daily only"):
        load_prices(["AAPL"], "sample", interval="1m")


def test_sample_is_on_the_xnys_calendar():
    data = load_prices(["AAPL", "JPM"], "sample", start="2001-09-01", end="2001-09-30")
    # The exchange was closed 11-14 Sep 2001; sessions() (exchange_calendars) knows it.
    assert list(data.prices.index) == list(sessions("2001-09-04", "2001-09-28"))
    assert pd.Timestamp("2001-09-12") not in data.prices.index


def test_pair_is_seeded_labelled_and_on_session_minutes():
    a = cointegrated_pair(days=2, seed=7)
    b = cointegrated_pair(days=2, seed=7)
    c = cointegrated_pair(days=2, seed=8)
    pd.testing.assert_frame_equal(a.data.prices, b.data.prices)
    assert not np.allclose(a.data.prices.to_numpy(), c.data.prices.to_numpy())
    assert a.data.meta.synthetic and "synthetic" in a.data.meta.source
    idx = a.data.prices.index
    assert str(idx.tz) == "America/New_York"
    assert idx[0].strftime("%H:%M") == "09:30" and idx[-1].strftime("%H:%M") == "15:59"
    assert len(idx) == 2 * 390


def test_pair_construction_identity_and_half_life():
    pair = cointegrated_pair(days=60, seed=3, tail_df=None, beta_drift=0.0, half_life_bars=20)
    x, y = pair.data.prices.iloc[:, 0], pair.data.prices.iloc[:, 1]
    np.testing.assert_allclose(y - pair.alpha - pair.beta * x, pair.spread, atol=1e-9)
    # AR(1) coefficient of the true spread: phi = 0.5 ** (1/20) = 0.96594...
    s = pair.spread.to_numpy()
    phi_hat = np.dot(s[1:], s[:-1]) / np.dot(s[:-1], s[:-1])
    assert abs(phi_hat - 0.5 ** (1 / 20)) < 0.01


def test_pair_bad_parameters():
    with pytest.raises(InputError, match="tail_df"):
        cointegrated_pair(days=1, tail_df=2.0)
    with pytest.raises(InputError, match="days"):
        cointegrated_pair(days=0)


def test_factor_panel_moments():
    data = factor_panel([f"N{i}" for i in range(40)], "2015-01-01", "2022-12-30", seed=1)
    r = np.log(data.prices).diff().iloc[1:]
    # Variance of each name: |b|²·σf²/252 + σe²/252; with loadings ~N(1/√8, 0.5/√8) the
    # mean idiosyncratic share is checked loosely: average daily vol within 20 % of theory.
    expected = np.sqrt((8 * (1 / 8 + 0.25 / 8)) * 0.12**2 / 252 + 0.25**2 / 252)
    assert abs(r.std().mean() / expected - 1) < 0.2
    assert data.meta.synthetic


def test_sample_frame_equals_skfolios_own_loaders():
    # We read skfolio's bundled files without importing skfolio (its import costs ~1.8 s);
    # the frame must be exactly what skfolio's loaders return.
    import pandas as pd
    from skfolio.datasets import load_sp500_dataset, load_sp500_index

    from astra.data.providers.sample import _sample_frame

    reference = pd.concat([load_sp500_dataset(), load_sp500_index()], axis=1)
    pd.testing.assert_frame_equal(_sample_frame(), reference)
