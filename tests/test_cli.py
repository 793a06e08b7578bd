"""CLI contract: --json prints to_dict() only; errors are one stderr line + exit code."""

import json
import subprocess
import sys

import pytest
from typer.testing import CliRunner

import astra
from astra.cli import app

runner = CliRunner()


def invoke(*args):
    return runner.invoke(app, list(args))


def test_version_via_console_script():
    out = subprocess.run([sys.executable, "-m", "astra.cli", "--version"], capture_output=True, text=True)
    assert out.returncode == 0 and out.stdout.strip() == f"astra {astra.__version__}"


def test_data_show_json_shape_and_values():
    res = invoke("data", "show", "AAPL", "MSFT", "JPM", "--source", "sample", "--start", "2020-01-01", "--json")
    assert res.exit_code == 0, res.stderr
    payload = json.loads(res.stdout)
    assert set(payload) >= {"source", "tickers", "index", "close", "quality"}
    assert payload["tickers"] == ["AAPL", "MSFT", "JPM"]
    assert payload["index"][0] == "2020-01-02" and payload["index"][-1] == "2022-12-28"
    from skfolio.datasets import load_sp500_dataset  # independent read of the same file

    ref = load_sp500_dataset().loc["2020-01-02":, "JPM"].tolist()
    assert payload["close"]["JPM"] == ref
    assert payload["quality"]["rows_out"] == len(ref)


def test_data_rates_json():
    res = invoke("data", "rates", "--rate-source", "flat:0.043", "--start", "2026-03-02", "--end", "2026-03-06",
                 "--json")  # fmt: skip
    assert res.exit_code == 0, res.stderr
    payload = json.loads(res.stdout)
    assert payload["rate"] == [0.043] * 5 and payload["convention"].startswith("ACT/360")
    assert payload["index"] == ["2026-03-02", "2026-03-03", "2026-03-04", "2026-03-05", "2026-03-06"]
    # No rate flag: the documented default, flat 4.30 %, offline, and the output says so.
    res = invoke("data", "rates", "--start", "2026-03-02", "--end", "2026-03-06", "--json")
    payload = json.loads(res.stdout)
    assert payload["rate"] == [0.043] * 5 and "default" in payload["source"]


@pytest.mark.parametrize(
    ("args", "code", "needle"),
    [
        (("data", "show", "FOO", "--source", "sample"), 2, "FOO"),
        (("data", "show", "AAPL", "--start", "2022-02-01", "--end", "2022-01-01"), 2, "after end"),
        (("data", "show", "AAPL", "--interval", "5m"), 2, "interval '5m'"),
        (("data", "show", "AAPL", "--source", "csv:/nonexistent.csv"), 2, "not found"),
        (("data", "show", "AAPL", "--source", "bloomberg"), 2, "--source 'bloomberg'"),
        (("data", "show", "AAPL", "--start", "2030-01-01"), 3, "no prices"),
        (("data", "rates", "--rate-source", "flat:4.3"), 2, "plausible"),
        (("data", "rates", "--rate", "4.3"), 2, "plausible"),
    ],
)
def test_bad_input_is_one_line_with_exit_code(args, code, needle):
    res = invoke(*args, "--json")
    assert res.exit_code == code
    assert res.stdout == ""  # nothing on stdout, not even partial JSON
    lines = [ln for ln in res.stderr.splitlines() if ln.strip()]
    assert len(lines) == 1 and lines[0].startswith("error:") and needle in lines[0]
    assert "Traceback" not in res.stderr


def test_offline_yahoo_cache_miss_is_exit_3(tmp_path, monkeypatch):
    monkeypatch.setenv("ASTRA_CACHE_DIR", str(tmp_path / "cache"))
    res = invoke("data", "show", "AAPL", "--source", "yahoo", "--offline", "--start", "2024-01-02")
    assert res.exit_code == 3 and "not in the cache" in res.stderr


def test_demo_writes_exports(tmp_path):
    out = tmp_path / "out"
    res = invoke("demo", "--out", str(out), "--json")
    assert res.exit_code == 0, res.stderr
    payload = json.loads(res.stdout)
    assert (out / "prices.parquet").is_file() and (out / "returns.csv").is_file()
    assert payload["quality"]["calendar"] == "XNYS"
    import pandas as pd

    prices = pd.read_parquet(out / "prices.parquet")
    rets = pd.read_csv(out / "returns.csv", index_col=0, parse_dates=True)
    assert rets.shape == (len(prices) - 1, prices.shape[1])
    # Cumulative "all" return equals last/first price (independent of our helper).
    expected = prices["AAPL"].iloc[-1] / prices["AAPL"].iloc[0] - 1
    assert payload["cumulative_returns"]["AAPL"]["all"] == pytest.approx(expected)
    # every module's section is present and its exports exist
    assert {"funding", "optimize", "statarb"} <= set(payload)
    for name in ("book_funding.csv", "optimized_weights.csv", "kalman_signals.csv", "pair_scan.csv"):
        assert (out / name).is_file(), name
    # the notebook's book is concentrated; the corrected one respects its 25 % bound
    comparison = payload["optimize"]["comparison"]
    assert comparison["corrected"]["largest_position"] <= 0.25 + 1e-7 < comparison["notebook"]["largest_position"]


def test_demo_unwritable_output_is_exit_2_and_writes_nothing(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("x")
    res = invoke("demo", "--out", str(blocker / "sub"))
    assert res.exit_code == 2 and "not writable" in res.stderr


@pytest.mark.parametrize(
    "args",
    [
        ("funding", "examples/book.toml", "--date", "2022-12-23"),
        ("book", "show", "examples/book.toml"),
        ("risk", "var", "examples/book.toml", "--method", "param"),
        ("risk", "stress", "examples/book.toml"),
        ("statarb", "scan", "--universe", "AAPL,MSFT,JPM,BAC,XOM", "--all"),
        ("optimize", "--universe", "AAPL,MSFT,JPM", "--problem", "minvar"),
        ("data", "show", "AAPL", "MSFT", "JPM", "BAC", "XOM", "CVX", "KO", "--start", "2022-12-01"),
    ],
)
def test_terminal_tables_fit_80_columns(args):
    # a terminal of 80 columns (COLUMNS is what rich reads when stdout is not a terminal)
    from pathlib import Path

    root = Path(__file__).parents[1]
    res = runner.invoke(app, [str(root / a) if a.startswith("examples/") else a for a in args], env={"COLUMNS": "80"})
    assert res.exit_code == 0, res.stderr
    table_lines = [ln for ln in res.stdout.splitlines() if ln[:1] in "┏┃┡│└"]
    assert table_lines and max(len(ln) for ln in table_lines) <= 80
    assert "{" not in res.stdout and "dtype" not in res.stdout  # never a raw dict or a pandas repr
