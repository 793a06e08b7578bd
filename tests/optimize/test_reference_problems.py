"""Defaults that give the textbook answer, and the target-return / target-volatility problems.

References, each written out in the test:
* the global minimum-variance portfolio ``w = Σ⁻¹1 / (1ᵀΣ⁻¹1)``;
* Merton's (1972) two-fund frontier: ``min ½wᵀAw s.t. 1ᵀw = 1, μᵀw = R`` gives
  ``w = A⁻¹(λ1 + γμ)`` with ``[a b; b c][λ; γ] = [1; R]``, ``a = 1ᵀA⁻¹1``, ``b = 1ᵀA⁻¹μ``,
  ``c = μᵀA⁻¹μ``; on that frontier ``σ²(R) = (aR² − 2bR + c)/(ac − b²)``;
* for constrained cases, the same problem written directly in cvxpy on the dense Σ and solved
  by Clarabel at tight tolerances (no ASTRA code on that side).
"""

import cvxpy as cp
import numpy as np
import pandas as pd
import pytest
from sklearn.covariance import LedoitWolf

from astra.book import Book
from astra.data import load_prices, returns
from astra.data.providers.sample import sample_tickers
from astra.optimize import Limits, Problem, RiskModel, solve
from astra.workflows import optimize_portfolio

TIGHT = {"tol_gap_abs": 1e-10, "tol_gap_rel": 1e-10, "tol_feas": 1e-10, "max_iter": 500}
STOCKS = [t for t in sample_tickers() if t != "SP500"]
FIVE = ["AAPL", "MSFT", "JPM", "XOM", "JNJ"]


def random_cov(n, seed):
    rng = np.random.default_rng(seed)
    a = rng.normal(0, 0.01, (n + 5, n))
    return a.T @ a / (n + 5) + np.diag(rng.uniform(1e-5, 4e-4, n))


def model_of(cov, names=None):
    names = names or [f"A{i}" for i in range(len(cov))]
    return RiskModel.from_covariance(pd.DataFrame(cov, index=names, columns=names))


def merton(cov_ann, mu, target):
    """Two-fund frontier weights for required return ``target`` (budget 1, no sign or box limits)."""
    ones = np.ones(len(mu))
    inv_1, inv_mu = np.linalg.solve(cov_ann, ones), np.linalg.solve(cov_ann, mu)
    a, b, c = ones @ inv_1, ones @ inv_mu, mu @ inv_mu
    lam, gam = np.linalg.solve([[a, b], [b, c]], [1.0, target])
    return lam * inv_1 + gam * inv_mu, (a, b, c)


def lw_cov(names):
    """sklearn's Ledoit-Wolf Σ of the sample's daily returns of ``names`` since 2019 (shrinkage depends on N)."""
    rets = returns(load_prices(names, "sample", start="2019-01-01").prices).dropna()
    return LedoitWolf().fit(rets[names].to_numpy()).covariance_


@pytest.fixture(scope="module")
def sample_lw():
    return lw_cov(STOCKS)


@pytest.fixture(scope="module")
def five_lw():
    return lw_cov(FIVE)


def test_minvar_with_defaults_is_the_global_minimum_variance_portfolio(sample_lw):
    # optimize_portfolio(problem="minvar") with every default on the sample's 20 stocks: no book,
    # so no trading cost; fully invested; the default limits (gross 2, |w| ≤ 1) do not bind.
    cov = sample_lw
    report = optimize_portfolio(problem="minvar", universe=STOCKS, start="2019-01-01")
    inv = np.linalg.solve(cov, np.ones(len(STOCKS)))
    expected = inv / inv.sum()  # Σ⁻¹1 / 1ᵀΣ⁻¹1 on sklearn's Ledoit-Wolf Σ of the same returns
    assert (expected < 0).any() and np.abs(expected).sum() < 2  # shorts, but inside the default gross
    np.testing.assert_allclose(report.result.weights, expected, atol=2e-6)
    assert report.result.trading_cost == 0.0 and report.result.trading_cost_basis == "none"
    assert report.to_dict()["trading_cost_basis"] == "none" and report.inputs["tc_bps"] == 0.0


def test_problem_defaults_give_the_closed_form_minimum_variance():
    # The Python API with default Limits and Costs: the same textbook portfolio.
    cov = random_cov(12, 21)
    inv = np.linalg.solve(cov, np.ones(12))
    expected = inv / inv.sum()
    assert np.abs(expected).sum() < 2 and np.abs(expected).max() < 1  # the default limits do not bind
    res = solve(Problem("minvar", model_of(cov), np.zeros(12)))
    np.testing.assert_allclose(res.weights, expected, atol=2e-6)
    assert res.trading_cost == 0.0 and res.tc_bps == 0.0


def test_long_only_minvar_matches_a_direct_clarabel_formulation(sample_lw):
    cov = sample_lw
    report = optimize_portfolio(problem="minvar", universe=STOCKS, start="2019-01-01", long_only=True)
    w = cp.Variable(len(STOCKS))
    direct = cp.Problem(cp.Minimize(cp.quad_form(w, cp.psd_wrap(cov))), [cp.sum(w) == 1, w >= 0, w <= 1])
    direct.solve(solver="CLARABEL", **TIGHT)
    np.testing.assert_allclose(report.result.weights, w.value, atol=2e-5)
    assert report.result.volatility_ann == pytest.approx(np.sqrt(252 * direct.value), rel=1e-6)


def test_long_only_honours_a_gross_limit(five_lw):
    # Long-only with gross 0.5: invested 50 % (gross = net), the minimum variance at that size.
    report = optimize_portfolio(problem="minvar", universe=FIVE, start="2019-01-01", long_only=True, gross=0.5)
    r = report.result
    assert r.gross == pytest.approx(0.5, abs=1e-9) and r.net == pytest.approx(0.5, abs=1e-9)
    w = cp.Variable(5)
    cp.Problem(cp.Minimize(cp.quad_form(w, cp.psd_wrap(five_lw))), [cp.sum(w) == 0.5, w >= 0]).solve(
        "CLARABEL", **TIGHT
    )
    np.testing.assert_allclose(r.weights, w.value, atol=2e-5)
    # and as a limit on a wider band: net between 0 and 1, gross ≤ 0.5 binds for a positive-alpha book
    mu = pd.Series(0.1, index=FIVE)
    capped = optimize_portfolio(problem="meanvar", universe=FIVE, start="2019-01-01", long_only=True, gross=0.5,
                                net="0:1", mu=mu)  # fmt: skip
    assert capped.result.gross == pytest.approx(0.5, abs=1e-7) and "gross" in capped.result.binding


def test_long_only_meanvar_is_fully_invested_by_default(five_lw):
    mu = pd.Series([0.12, 0.10, 0.06, 0.05, 0.04], index=FIVE)
    report = optimize_portfolio(problem="meanvar", universe=FIVE, start="2019-01-01", long_only=True, mu=mu)
    assert report.inputs["net_band"] == [1.0, 1.0] and report.inputs["max_weight"] == 0.4  # 2/N for 5 names
    w = cp.Variable(5)
    objective = cp.Maximize(mu.to_numpy() @ w - 5.0 / 2 * 252 * cp.quad_form(w, cp.psd_wrap(five_lw)))
    cp.Problem(objective, [cp.sum(w) == 1, w >= 0, w <= 0.4]).solve("CLARABEL", **TIGHT)
    np.testing.assert_allclose(report.result.weights, w.value, atol=2e-5)


def test_trading_cost_only_on_trades_from_a_book():
    names = ["AAPL", "MSFT", "JPM"]
    prices = load_prices(names, "sample", start="2019-01-01").prices.ffill().iloc[-1]
    book = Book.from_positions({"AAPL": 1000, "JPM": -500}, prices.to_dict(), equity=1_000_000)
    w0 = np.array([1000 * prices["AAPL"], 0.0, -500 * prices["JPM"]]) / 1e6
    with_book = optimize_portfolio(problem="minvar", book=book, universe=names, start="2019-01-01")
    r = with_book.result
    # 10 bp (the default with a book) of the traded value Σ|w − w₀|, by hand
    assert r.trading_cost_basis == "trades from current book" and r.tc_bps == 10.0
    assert r.trading_cost == pytest.approx(10e-4 * np.abs(r.weights - w0).sum(), rel=1e-12)
    asked = optimize_portfolio(problem="minvar", universe=names, start="2019-01-01", tc_bps=5.0).result
    assert asked.trading_cost_basis == "whole book from cash"
    assert asked.trading_cost == pytest.approx(5e-4 * np.abs(asked.weights).sum(), rel=1e-12)


def test_target_return_is_mertons_two_fund_frontier():
    # minvar with return_target R above the minimum-variance return: the floor binds, so it is
    # Merton's equality-constrained problem (long/short, no gross limit, wide bounds).
    n = 10
    cov = random_cov(n, 31)
    mu = np.linspace(0.02, 0.14, n)
    a_mat = 252 * cov
    gmv = np.linalg.solve(a_mat, np.ones(n))
    gmv_return = mu @ gmv / gmv.sum()
    target = gmv_return + 0.04
    expected, (a, b, c) = merton(a_mat, mu, target)
    limits = Limits(gross=None, lower=-10, upper=10)
    res = solve(Problem("minvar", model_of(cov), mu, limits, return_target=target))
    np.testing.assert_allclose(res.weights, expected, atol=2e-6)
    assert res.expected_return_ann == pytest.approx(target, abs=1e-7) and "return target" in res.binding
    assert res.volatility_ann**2 == pytest.approx((a * target**2 - 2 * b * target + c) / (a * c - b**2), rel=1e-6)


def test_target_volatility_maxret_is_the_upper_frontier():
    # maxret with vol_target V and a budget: the frontier point with σ(R) = V on the upper branch,
    # R = (b + √(b² − a(c − V²(ac − b²))))/a, then Merton's weights for that R.
    n = 8
    cov = random_cov(n, 41)
    mu = np.linspace(-0.02, 0.16, n)
    a_mat = 252 * cov
    _, (a, b, c) = merton(a_mat, mu, 0.0)
    vol = 1.5 * np.sqrt(1 / a)  # above the minimum-variance volatility √(1/a)
    target = (b + np.sqrt(b**2 - a * (c - vol**2 * (a * c - b**2)))) / a
    expected, _ = merton(a_mat, mu, target)
    limits = Limits(gross=None, net=(1, 1), lower=-10, upper=10)
    res = solve(Problem("maxret", model_of(cov), mu, limits, vol_target=vol))
    np.testing.assert_allclose(res.weights, expected, atol=1e-5)
    assert res.expected_return_ann == pytest.approx(target, rel=1e-6)


def test_constrained_targets_match_direct_clarabel_formulations():
    n = 12
    cov = random_cov(n, 51)
    mu = np.linspace(0.0, 0.2, n)
    sigma = cp.psd_wrap(252 * cov)
    model = model_of(cov)
    # minimum risk for 10 % a year, long-only, at most 30 % a name, fully invested
    res = solve(Problem("minvar", model, mu, Limits(long_only=True, upper=0.3), return_target=0.10))
    w = cp.Variable(n)
    cp.Problem(cp.Minimize(cp.quad_form(w, sigma)), [cp.sum(w) == 1, w >= 0, w <= 0.3, mu @ w >= 0.10]).solve(
        "CLARABEL", **TIGHT
    )
    np.testing.assert_allclose(res.weights, w.value, atol=1e-5)
    # maximum return for 8 % volatility, long/short market-neutral (net 0), gross ≤ 1.5, |w| ≤ 0.25
    res = solve(Problem("maxret", model, mu, Limits(gross=1.5, net=(0, 0), lower=-0.25, upper=0.25), vol_target=0.08))
    w = cp.Variable(n)
    constraints = [cp.sum(w) == 0, cp.norm1(w) <= 1.5, cp.abs(w) <= 0.25, cp.quad_form(w, sigma) <= 0.08**2]
    direct = cp.Problem(cp.Maximize(mu @ w), constraints)
    direct.solve("CLARABEL", **TIGHT)
    assert res.expected_return_ann == pytest.approx(direct.value, rel=1e-6)
    np.testing.assert_allclose(res.weights, w.value, atol=1e-4)


def test_user_covariance_from_a_csv_file(tmp_path):
    # --cov csv:PATH: minvar on the file's matrix is the closed-form GMV of that matrix, whatever
    # the returns say; the file's labels may come in any order.
    names = ["JNJ", "AAPL", "XOM", "MSFT"]
    cov = random_cov(4, 61)
    path = tmp_path / "cov.csv"
    pd.DataFrame(cov, index=names, columns=names).iloc[::-1, :].to_csv(path)  # rows reversed
    report = optimize_portfolio(problem="minvar", cov=f"csv:{path}", start="2019-01-01")
    inv = np.linalg.solve(cov, np.ones(4))
    expected = pd.Series(inv / inv.sum(), index=names)
    got = pd.Series(report.result.weights, index=report.result.tickers)
    np.testing.assert_allclose(got[names].to_numpy(), expected.to_numpy(), atol=2e-6)
    assert report.inputs["covariance"] == f"csv:{path}" and report.inputs["cov_units"] == "daily"
    # annual units: the same matrix × 252 gives the same daily model, so the same volatility
    pd.DataFrame(cov * 252, index=names, columns=names).to_csv(path)
    annual = optimize_portfolio(problem="minvar", cov=f"csv:{path}", cov_units="annual", start="2019-01-01")
    assert annual.result.volatility_ann == pytest.approx(report.result.volatility_ann, rel=1e-9)
    assert annual.result.volatility_ann == pytest.approx(np.sqrt(252 / inv.sum()), rel=1e-6)  # σ² = 1/(1ᵀΣ⁻¹1)


def test_from_covariance_reorders_and_validates():
    cov = random_cov(3, 71)
    frame = pd.DataFrame(cov, index=["A", "B", "C"], columns=["A", "B", "C"])
    shuffled = frame.loc[["C", "A", "B"], ["B", "C", "A"]]
    model = RiskModel.from_covariance(shuffled, ["A", "B", "C"])
    np.testing.assert_allclose(model.dense(), cov, rtol=1e-12, atol=1e-18)
    np.testing.assert_allclose(RiskModel.from_covariance(cov, ["A", "B", "C"]).dense(), cov, rtol=1e-12, atol=1e-18)
    with pytest.raises(Exception, match="not symmetric"):
        RiskModel.from_covariance(cov + np.triu(np.full((3, 3), 1e-4), 1), ["A", "B", "C"])
    indefinite = np.array([[1.0, 0.9, -0.9], [0.9, 1.0, 0.9], [-0.9, 0.9, 1.0]]) * 1e-4
    assert np.linalg.eigvalsh(indefinite).min() < 0  # the reference: numpy's eigenvalues
    with pytest.raises(Exception, match="positive semi-definite"):
        RiskModel.from_covariance(indefinite, ["A", "B", "C"])
    with pytest.raises(Exception, match=r"no value for D.*A not in the model"):
        RiskModel.from_covariance(frame, ["B", "C", "D"])
