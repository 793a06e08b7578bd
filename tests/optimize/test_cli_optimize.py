"""`astra optimize`: JSON contract, numbers against independent references, errors and exit codes."""

import json
from pathlib import Path

import numpy as np
import pytest
from scipy.optimize import minimize
from sklearn.covariance import LedoitWolf
from typer.testing import CliRunner

from astra.cli import app
from astra.data import load_prices, returns

runner = CliRunner()
EXAMPLE = Path(__file__).parents[2] / "examples" / "book.toml"
NAMES = ["AAPL", "MSFT", "JPM", "XOM", "JNJ"]


def invoke(*args):
    return runner.invoke(app, [str(a) for a in args])


@pytest.fixture(scope="module")
def lw_cov():
    rets = returns(load_prices(NAMES, "sample", start="2019-01-01").prices).dropna()
    return LedoitWolf().fit(rets.to_numpy()).covariance_


def test_minvar_long_only_matches_scipy(lw_cov):
    res = invoke(
        "optimize", "--problem", "minvar", "--universe", " ".join(NAMES), "--long-only", "--max-weight", "1",
        "--start", "2019-01-01", "--tc-bps", "0", "--json",
    )  # fmt: skip
    assert res.exit_code == 0, res.stderr
    out = json.loads(res.stdout)
    w = np.array([out["weights"][t] for t in NAMES])
    # Independent reference: SLSQP on sklearn's Ledoit-Wolf covariance of the same returns.
    ref = minimize(
        lambda x: x @ lw_cov @ x * 1e4,
        np.full(5, 0.2),
        method="SLSQP",
        bounds=[(0, 1)] * 5,
        constraints=[{"type": "eq", "fun": lambda x: x.sum() - 1}],
        options={"ftol": 1e-14, "maxiter": 500},
    )
    np.testing.assert_allclose(w, ref.x, atol=1e-5)
    assert out["volatility_ann"] == pytest.approx(np.sqrt(252 * w @ lw_cov @ w), rel=1e-9)
    assert out["net"] == pytest.approx(1.0, abs=1e-9)


def test_meanvar_json_contract(lw_cov, tmp_path):
    res = invoke(
        "optimize", "--problem", "meanvar", "--universe", ",".join(NAMES), "--gross", "2", "--net", "0.05",
        "--gamma", "5", "--start", "2019-01-01", "--rate", "0.043", "--lot", "10", "--out", tmp_path, "--json",
    )  # fmt: skip
    assert res.exit_code == 0, res.stderr
    assert "noise" in res.stderr  # historical means warned about
    out = json.loads(res.stdout)
    keys = {"status", "solver", "solve_ms", "weights", "shares", "gross", "net", "volatility_ann",
            "expected_return_ann", "carry_ann", "trading_cost", "turnover", "binding", "duals"}  # fmt: skip
    assert keys <= set(out)
    w = np.array([out["weights"][t] for t in NAMES])
    assert out["volatility_ann"] == pytest.approx(np.sqrt(252 * w @ lw_cov @ w), rel=1e-9)
    assert abs(out["net"]) <= 0.05 + 1e-7 and out["gross"] <= 2 + 1e-7
    assert all(abs(out["shares"][t]) % 10 == 0 for t in NAMES)
    assert out["lot_rounding"]["max_weight_drift"] < 10 * max(out["prices"].values()) / 1e6
    assert (tmp_path / "optimized_weights.csv").exists() and (tmp_path / "optimized_weights.parquet").exists()


def test_book_start_prices_turnover():
    # The book is 35 % net long with 38 % in AAPL: give limits it can reach within the turnover.
    res = invoke(
        "optimize", "--book", EXAMPLE, "--turnover", "0.3", "--rate", "0.043", "--net", "0:0.4", "--max-weight", "0.5",
        "--json",
    )  # fmt: skip
    assert res.exit_code == 0, res.stderr
    out = json.loads(res.stdout)
    assert out["turnover"] <= 0.3 + 1e-7 and "turnover" in out["binding"]
    assert set(out["weights"]) == {"AAPL", "MSFT", "AMD", "JPM", "BAC"}
    assert out["trading_cost"] == pytest.approx(out["turnover"] * 10 / 1e4, rel=1e-9)


def test_infeasible_limits_exit_4_and_explain(tmp_path):
    res = invoke(
        "optimize", "--universe", " ".join(NAMES), "--net", "0.5:0.6", "--max-weight", "0.05", "--out", tmp_path
    )
    assert res.exit_code == 4, res.stderr
    assert "net band" in res.stderr and "position bounds" in res.stderr
    assert list(tmp_path.iterdir()) == []  # nothing written


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (("--gamma", "-1"), "gamma"),
        (("--gross", "0.01", "--net", "0.5:0.6"), "below the net exposure"),
        (("--problem", "best"), "best"),
        (("--cov", "garch"), "garch"),
        (("--net", "abc"), "--net"),
        (("--problem", "maxret"), "volatility target"),
    ],
)
def test_bad_input(args, needle):
    res = invoke("optimize", "--universe", " ".join(NAMES), *args)
    assert res.exit_code == 2, (res.stdout, res.stderr)
    assert needle in res.stderr


def test_unknown_ticker_in_locates_file(tmp_path):
    locates = tmp_path / "locates.csv"
    locates.write_text("ticker,shares\nAAPL,100\nZZZZ,5\n")
    res = invoke("optimize", "--universe", " ".join(NAMES), "--locates", locates)
    assert res.exit_code == 2 and "ZZZZ" in res.stderr


def test_groups_and_beta_band(tmp_path):
    groups = tmp_path / "sectors.csv"
    groups.write_text("ticker,group\nAAPL,tech\nMSFT,tech\nJPM,fin\nXOM,energy\nJNJ,health\n")
    res = invoke(
        "optimize", "--universe", " ".join(NAMES), "--groups", groups, "--group-net", "0.02", "--beta-band", "0.01",
        "--start", "2019-01-01", "--json",
    )  # fmt: skip
    assert res.exit_code == 0, res.stderr
    out = json.loads(res.stdout)
    w = out["weights"]
    assert abs(w["AAPL"] + w["MSFT"]) <= 0.02 + 1e-7
    # Beta against the sample's S&P 500, estimated independently with numpy.
    data = load_prices([*NAMES, "SP500"], "sample", start="2019-01-01")
    rets = returns(data.prices).dropna()
    m = rets["SP500"].to_numpy()
    betas = np.array([np.cov(rets[t].to_numpy(), m)[0, 1] / np.var(m, ddof=1) for t in NAMES])
    assert abs(betas @ np.array([w[t] for t in NAMES])) <= 0.01 + 1e-6


def test_the_issues_minvar_example_runs_with_defaults():
    # `astra optimize --problem minvar --universe AAPL MSFT JPM --source sample --json` (issue 5): a fully
    # invested book of three names needs a per-name cap of at least 1/3, so minvar defaults to 100 %.
    res = invoke("optimize", "--problem", "minvar", "--universe", "AAPL", "MSFT", "JPM", "--source", "sample", "--json")
    assert res.exit_code == 0, res.stderr
    out = json.loads(res.stdout)
    assert out["status"] == "optimal" and out["net"] == pytest.approx(1.0, abs=1e-9)
    assert out["inputs"]["max_weight"] == 1.0


def test_meanvar_without_a_universe_uses_the_sample():
    # `astra optimize --problem meanvar --gross 2 --net 0.05 --gamma 5 --json` (issue 5)
    res = invoke("optimize", "--problem", "meanvar", "--gross", "2", "--net", "0.05", "--gamma", "5", "--json")
    assert res.exit_code == 0, res.stderr
    out = json.loads(res.stdout)
    assert len(out["weights"]) == 20 and out["gross"] <= 2 + 1e-7 and abs(out["net"]) <= 0.05 + 1e-7
