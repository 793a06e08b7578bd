"""`astra statarb run|scan|sweep`: JSON contract, exports, errors and exit codes."""

import json

import pandas as pd
import pytest
from typer.testing import CliRunner

from astra.cli import app

runner = CliRunner()


def invoke(*args):
    return runner.invoke(app, [str(a) for a in args])


def test_run_on_the_synthetic_intraday_pair(tmp_path):
    res = invoke(
        "statarb", "run", "--x", "C", "--y", "JPM", "--source", "synthetic", "--interval", "1m", "--filter", "kalman3",
        "--entry", "2", "--exit", "0.5", "--stop", "4", "--tc-bps", "1", "--out", tmp_path, "--json",
    )  # fmt: skip
    assert res.exit_code == 0, res.stderr
    out = json.loads(res.stdout)
    keys = {
        "pair", "bars", "model", "params", "beta_last", "half_life_bars", "trades", "total_return", "sharpe_ann",
        "sharpe_ci95", "max_drawdown", "turnover", "hit_rate", "avg_hold_bars", "costs", "borrow", "elapsed_ms",
    }  # fmt: skip
    assert keys <= set(out)
    assert out["pair"] == {"x": "C", "y": "JPM"} and out["model"] == "kalman3"
    assert any("too short" in note for note in out["notes"])  # five days of minutes
    signals = pd.read_parquet(tmp_path / "kalman_signals.parquet")
    assert list(signals.columns)[:6] == ["x", "y", "alpha", "beta", "spread", "z"]
    assert {"position_y", "position_x", "pnl"} <= set(signals.columns)
    # the exported P&L is the reported total
    assert signals["pnl"].sum() / 1e6 == pytest.approx(out["total_return"], rel=1e-9, abs=1e-12)
    assert (tmp_path / "trades.csv").exists()


def test_run_on_a_daily_sample_pair_with_funding():
    res = invoke("statarb", "run", "--x", "BAC", "--y", "JPM", "--start", "2015-01-01", "--rate", "0.043", "--json")
    assert res.exit_code == 0, res.stderr
    out = json.loads(res.stdout)
    assert out["bars"] > 2000 and out["trades"] > 0
    assert out["borrow"] != 0  # overnight funding charged through the funding model
    lo, hi = out["sharpe_ci95"]
    assert lo < out["sharpe_ann"] < hi


def test_scan_json():
    res = invoke("statarb", "scan", "--universe", "JPM BAC KO PEP XOM CVX", "--start", "2018-01-01", "--all", "--json")
    assert res.exit_code == 0, res.stderr
    out = json.loads(res.stdout)
    assert out["pairs_tested"] == 15 and len(out["table"]) == 15
    assert {"y", "x", "eg_stat", "p_value", "q_value", "beta", "half_life_bars", "spread_vol"} <= set(out["table"][0])


def test_sweep_json_warns_in_sample():
    res = invoke(
        "statarb", "sweep", "--x", "BAC", "--y", "JPM", "--start", "2018-01-01", "--entry", "1.5:2.5:0.5",
        "--exit", "0:1:0.5", "--json",
    )  # fmt: skip
    assert res.exit_code == 0, res.stderr
    out = json.loads(res.stdout)
    assert len(out["grid"]) == 9 and "in-sample" in out["warning"]


@pytest.mark.parametrize(
    ("args", "code", "needle"),
    [
        (("run", "--x", "JPM", "--y", "JPM"), 2, "two different"),
        (("run", "--x", "BAC", "--y", "JPM", "--entry", "1", "--exit", "1"), 2, "hysteresis"),
        (("run", "--x", "BAC", "--y", "JPM", "--tc-bps", "-1"), 2, "--tc-bps"),
        (("run", "--x", "BAC", "--y", "ZZZZ"), 2, "ZZZZ"),  # not in the offline sample: bad input
        (("run", "--x", "BAC", "--y", "JPM", "--filter", "kalman9"), 2, "kalman9"),
        (("run", "--x", "BAC", "--y", "JPM", "--start", "2022-12-01"), 2, "warm-up"),
        (("scan", "--universe", "JPM", "--fdr", "2"), 2, "fdr"),
        (("sweep", "--x", "BAC", "--y", "JPM", "--entry", "3:1:0.5"), 2, "start:stop:step"),
    ],
)
def test_bad_input(args, code, needle):
    res = invoke("statarb", *args)
    assert res.exit_code == code, (res.stdout, res.stderr)
    assert needle in res.stderr


def test_walk_forward_split_fits_before_and_trades_after(tmp_path):
    from astra.statarb import fit_kalman
    from astra.workflows import load_pair

    res = invoke(
        "statarb", "run", "--x", "BAC", "--y", "JPM", "--start", "2015-01-01", "--split", "2020-01-01",
        "--out", tmp_path, "--json",
    )  # fmt: skip
    assert res.exit_code == 0, res.stderr
    out = json.loads(res.stdout)
    assert out["out_of_sample"] is True
    # parameters are the MLE on the formation bars alone, computed independently here
    pair = load_pair("BAC", "JPM", start="2015-01-01")
    formation = pair.y.index < "2020-01-01"
    fitted = fit_kalman(pair.y[formation], pair.x[formation])
    assert out["params"]["q_beta"] == pytest.approx(fitted.params["q_beta"], rel=1e-9)
    signals = pd.read_parquet(tmp_path / "kalman_signals.parquet")
    assert signals.index[0] >= pd.Timestamp("2020-01-01")  # only the trading period is reported
    assert out["bars"] == len(signals)
