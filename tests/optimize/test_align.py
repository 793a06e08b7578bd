"""Names with different histories in the optimiser: --align common drops and says so; pairwise keeps them.

References: pandas' pairwise-complete covariance (``DataFrame.cov``) and the closed-form
minimum-variance portfolio Σ⁻¹1/(1ᵀΣ⁻¹1); the common window is ``dropna`` of the panel.
"""

import numpy as np
import pytest

from astra.data import load_prices
from astra.workflows import optimize_portfolio

NAMES = ["AAPL", "MSFT", "JPM", "XOM"]


@pytest.fixture(scope="module")
def ragged(tmp_path_factory):
    """Sample closes from 2016 with XOM 'listed' only in 2019: a late listing."""
    prices = load_prices(NAMES, "sample", start="2016-01-01").prices
    prices.loc[:"2018-12-31", "XOM"] = np.nan
    path = tmp_path_factory.mktemp("ragged") / "prices.csv"
    prices.to_csv(path)
    return prices, f"csv:{path}"


def closed_form_minvar(cov: np.ndarray) -> np.ndarray:
    inverse_ones = np.linalg.solve(cov, np.ones(len(cov)))
    return inverse_ones / inverse_ones.sum()


LOOSE = {"problem": "minvar", "gross": 10.0, "max_weight": 10.0}  # no binding bound: the closed form applies


def test_pairwise_is_the_closed_form_on_pandas_pairwise_covariance(ragged):
    prices, source = ragged
    report = optimize_portfolio(universe=NAMES, source=source, align="pairwise", **LOOSE)
    cov = prices.pct_change(fill_method=None).cov().loc[NAMES, NAMES].to_numpy()  # pairwise complete
    assert np.all(np.linalg.eigvalsh(cov) > 0)  # already PSD: the nearest-correlation step changes nothing
    np.testing.assert_allclose(report.result.weights, closed_form_minvar(cov), atol=2e-6)
    assert any("pairwise" in note for note in report.notes)


def test_common_drops_the_days_before_the_late_listing_and_says_so(ragged):
    prices, source = ragged
    report = optimize_portfolio(universe=NAMES, source=source, cov="sample", **LOOSE)
    common = prices.pct_change(fill_method=None).dropna()
    np.testing.assert_allclose(report.result.weights, closed_form_minvar(common.cov().to_numpy()), atol=2e-6)
    note = next(n for n in report.notes if "dropped" in n)
    assert "XOM" in note and report.inputs["observations"] == len(common)
