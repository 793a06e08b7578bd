"""Risk on a client book through the CLI: closed forms, independent recomputation, signs, errors."""

import json
from pathlib import Path

import numpy as np
import pytest
from scipy.stats import norm
from typer.testing import CliRunner

from astra import Book, load_book
from astra.cli import app
from astra.data import load_prices, returns
from astra.funding import carry
from astra.workflows.risk import reverse_stress, risk_stress

runner = CliRunner()
EXAMPLE = Path(__file__).parents[2] / "examples" / "book.toml"


def invoke(*args):
    return runner.invoke(app, [str(a) for a in args])


@pytest.fixture(scope="module")
def book():
    return load_book(EXAMPLE)


def history(book, start=None):
    rets = returns(load_prices(list(book.tickers), "sample", start=start).prices).dropna()
    return rets, book.quantities * book.prices


def test_parametric_var_matches_the_closed_form(book):
    res = invoke("risk", "var", EXAMPLE, "--method", "param", "--level", "0.99", "--start", "2018-01-01", "--json")
    assert res.exit_code == 0, res.stderr
    out = json.loads(res.stdout)
    rets, e = history(book, "2018-01-01")
    sigma = np.sqrt(e @ np.cov(rets.to_numpy(), rowvar=False) @ e)
    # Zero-mean normal: VaR = z σ, ES = σ φ(z)/(1 − α) (e.g. Hull, Risk Management, ch. 12).
    z = norm.ppf(0.99)
    assert out["var"] == pytest.approx(z * sigma, rel=1e-9)
    assert out["es"] == pytest.approx(sigma * norm.pdf(z) / 0.01, rel=1e-9)
    assert sum(c["component_var"] for c in out["components"]) == pytest.approx(out["var"], rel=1e-9)
    assert out["var_pct_gross"] == pytest.approx(100 * out["var"] / book.gross, rel=1e-12)


def test_mc_json_contract_and_seed(book):
    args = ("risk", "var", EXAMPLE, "--method", "mc", "--dist", "t", "--horizon", "10", "--scenarios", "20000",
            "--seed", "7", "--start", "2015-01-01", "--json")  # fmt: skip
    first, second = invoke(*args), invoke(*args)
    assert first.exit_code == 0, first.stderr
    out = json.loads(first.stdout)
    assert out == {**json.loads(second.stdout), "elapsed_ms": out["elapsed_ms"]}  # same seed, same numbers
    keys = {"method", "level", "horizon_days", "var", "es", "var_pct_gross", "es_pct_gross", "mc_std_error", "ci95",
            "scenarios", "elapsed_ms", "components"}  # fmt: skip
    assert keys <= set(out)
    lo, hi = out["ci95"]["var"]
    assert lo < out["var"] < hi and out["mc_std_error"]["var"] > 0
    assert {"ticker", "component_var", "marginal_var", "pct"} <= set(out["components"][0])


def test_historical_var_is_the_empirical_quantile(book):
    res = invoke("risk", "var", EXAMPLE, "--method", "hist", "--window", "500", "--json")
    out = json.loads(res.stdout)
    rets, e = history(book)
    pnl = rets.to_numpy()[-500:] @ e
    # 99 % VaR of 500 P&Ls: the 5th worst loss (inverted-CDF quantile, rank ⌈500·0.01⌉ = 5).
    assert out["var"] == pytest.approx(-np.sort(pnl)[4], rel=1e-12)
    assert out["es"] == pytest.approx(-np.sort(pnl)[:5].mean(), rel=1e-12)


def test_backtest_counts_exceptions_independently(book):
    res = invoke("risk", "backtest", EXAMPLE, "--window", "250", "--start", "2012-01-01", "--json")
    assert res.exit_code == 0, res.stderr
    out = json.loads(res.stdout)
    rets, e = history(book, "2012-01-01")
    pnl = rets.to_numpy() @ e
    hits = 0
    for t in range(250, len(pnl)):
        window = np.sort(pnl[t - 250 : t])
        hits += pnl[t] < window[2]  # rank ⌈250·0.01⌉ = 3 → the 3rd worst is the VaR
    assert out["n_exceptions"] == hits and out["n_obs"] == len(pnl) - 250
    assert out["traffic_light"] in ("green", "yellow", "red")


def test_stress_funding_shock_and_reverse_stress(book):
    report = risk_stress(book, rate=0.04, rate_shock_bp=100)
    funding = report.table.loc["benchmark_+100bp_1y", "pnl"]
    expected = 360 * (carry(book, 0.05, days=1).daily_carry - carry(book, 0.04, days=1).daily_carry)
    assert funding == pytest.approx(expected, rel=1e-12)
    # Calls on a held book are measured against FINRA 4210 maintenance (25 % of longs, 30 % of shorts while
    # 30 % of each short's price stays above $5 a share, true for every short here on an up move):
    # excess(m) = E + net·m − (0.25 L + 0.30 S)(1 + m) = 0 → m = (E − R)/(R − net), R = 0.25 L + 0.30 S.
    maintenance = 0.25 * book.long_market_value + 0.30 * book.short_market_value
    assert report.reverse["regime"] == "finra"
    assert report.reverse["up"] == pytest.approx((book.equity - maintenance) / (maintenance - book.net), abs=2e-6)
    # Against Reg T initial: m = (E − 0.5 gross)/(0.5 gross − net)
    reg_t = reverse_stress(book, regime="reg_t")
    closed = (book.equity - 0.5 * book.gross) / (0.5 * book.gross - book.net)
    assert reg_t["up"] == pytest.approx(closed, abs=2e-6)
    assert reg_t["down"] is None  # prices falling shrink the requirement faster than the equity


def test_market_shock_signs():
    # A long-only book loses in a market fall; a dollar-neutral pair of similar names barely moves.
    prices = {"AAPL": 100.0, "MSFT": 100.0}
    long_only = Book.from_positions({"AAPL": 1000, "MSFT": 1000}, prices, equity=1e6)
    neutral = Book.from_positions({"AAPL": 1000, "MSFT": -1000}, prices, equity=1e6)
    down_long = risk_stress(long_only).table.loc["market_-10%", "pnl"]
    down_neutral = risk_stress(neutral).table.loc["market_-10%", "pnl"]
    assert down_long < 0 and abs(down_neutral) < 0.2 * abs(down_long)


def test_reverse_stress_already_in_deficit():
    book = Book.from_positions({"AAPL": 1000}, {"AAPL": 100.0}, equity=20_000)  # FINRA maintenance needs 25,000
    assert reverse_stress(book)["note"].startswith("already in deficit")


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (("var", EXAMPLE, "--level", "1.5"), "level"),
        (("var", EXAMPLE, "--horizon", "0"), "horizon"),
        (("var", EXAMPLE, "--method", "mc", "--scenarios", "10"), "scenarios"),
        (("var", EXAMPLE, "--method", "magic"), "magic"),
        (("var", EXAMPLE, "--window", "100000"), "window"),
        (("backtest", EXAMPLE, "--window", "100000"), "--window"),
    ],
)
def test_bad_input(args, needle):
    res = invoke("risk", *args)
    assert res.exit_code == 2, (res.stdout, res.stderr)
    assert needle in res.stderr.lower()


def test_factor_covariance_and_antithetic_options_reach_the_engine(book):
    res = invoke("risk", "var", EXAMPLE, "--method", "param", "--cov", "factor", "--factors", "2",
                 "--start", "2018-01-01", "--json")  # fmt: skip
    assert res.exit_code == 0, res.stderr
    out = json.loads(res.stdout)
    # reference: PCA by numpy's SVD — Σ = V₂S₂²V₂ᵀ/(T−1) plus the residual variance on the diagonal
    rets, e = history(book, "2018-01-01")
    x = rets.to_numpy() - rets.to_numpy().mean(axis=0)
    _, s, vt = np.linalg.svd(x / np.sqrt(len(x) - 1), full_matrices=False)
    top = (vt[:2].T * s[:2]) @ (vt[:2].T * s[:2]).T
    cov = top + np.diag(np.var(x, axis=0, ddof=1) - np.diag(top))
    assert out["var"] == pytest.approx(norm.ppf(0.99) * np.sqrt(e @ cov @ e), rel=1e-9)
    mc = invoke("risk", "var", EXAMPLE, "--method", "mc", "--horizon", "10", "--paths", "lognormal", "--cov",
                "factor", "--factors", "2", "--antithetic", "--scenarios", "50000", "--seed", "3", "--start",
                "2018-01-01", "--json")  # fmt: skip
    assert mc.exit_code == 0, mc.stderr
    params = json.loads(mc.stdout)["params"]
    assert params["antithetic"] is True and params["covariance"] == "factor" and params["factors"] == 2
    odd = invoke("risk", "var", EXAMPLE, "--method", "mc", "--antithetic", "--scenarios", "5001")
    assert odd.exit_code == 2 and "even number" in odd.stderr
