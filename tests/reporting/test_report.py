"""The HTML report: every section and figure present, self-contained (no network assets)."""

from html.parser import HTMLParser

import pytest

from astra.workflows import run_demo


class Inventory(HTMLParser):
    def __init__(self):
        super().__init__()
        self.sections, self.figures, self.external, self.plotly_divs, self.scripts = [], [], [], 0, 0

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "section":
            self.sections.append(attrs.get("data-section"))
        if tag == "div" and "data-figure" in attrs:
            self.figures.append(attrs["data-figure"])
        if tag == "div" and attrs.get("class") == "plotly-graph-div":
            self.plotly_divs += 1
        if tag in ("script", "link", "img") and (attrs.get("src") or attrs.get("href", "")).startswith("http"):
            self.external.append(attrs)
        if tag == "script":
            self.scripts += 1


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    out = tmp_path_factory.mktemp("report")
    return out, run_demo(out)


def test_report_has_every_section_and_figure(demo):
    out, _ = demo
    text = (out / "report.html").read_text(encoding="utf-8")
    inventory = Inventory()
    inventory.feed(text)
    assert inventory.sections == ["data", "funding", "optimize", "risk", "statarb"]
    expected = {"cumulative", "carry-components", "carry-positions", "carry-models", "margin", "weights-notebook",
                "weights-corrected", "frontier", "pnl-distribution", "component-var", "stress", "backtest",
                "pair-daily", "pair-intraday"}  # fmt: skip
    assert expected <= set(inventory.figures)
    assert inventory.plotly_divs == len(inventory.figures)  # every figure container holds a rendered plot
    assert inventory.external == []  # opens offline: no remote scripts, styles or images
    assert text.count("Plotly.newPlot") >= len(expected)


def test_exports_and_permissions(demo):
    out, result = demo
    for name in ("optimized_weights.csv", "optimized_weights.parquet", "kalman_signals.csv", "kalman_signals.parquet",
                 "stress_scenarios.csv", "stress_scenarios.parquet"):  # fmt: skip
        path = out / name
        assert path.is_file() and str(path) in result.files
        assert path.stat().st_mode & 0o044  # readable by group/others like any file the user writes


def test_report_for_a_book_priced_from_a_file(tmp_path):
    # `astra report --out DIR --book BOOK --source csv:PATH`: the book's marks and risk history come
    # from the file; the historical VaR is recomputed here from the file itself.
    import json
    from pathlib import Path

    import numpy as np
    from typer.testing import CliRunner

    from astra.cli import app
    from astra.data import load_prices

    tickers = ["AAPL", "MSFT", "AMD", "JPM", "BAC"]
    prices = load_prices(tickers, "sample", start="2014-01-01").prices * 1.5  # a file that is not the sample
    path = tmp_path / "prices.csv"
    prices.to_csv(path)
    book = Path(__file__).parents[2] / "examples" / "book.toml"
    res = CliRunner().invoke(app, ["report", "--out", str(tmp_path / "out"), "--book", str(book), "--source",
                                   f"csv:{path}", "--json"])  # fmt: skip
    assert res.exit_code == 0, res.stderr
    hist = json.loads(res.stdout)["risk"]["var"]["hist"]
    assert hist["source"].startswith("csv")
    last = prices.iloc[-1]
    shares = np.array([3_000, 1_600, 6_000, -3_000, -12_000])
    rets = prices.loc["2015-01-01":].pct_change().dropna()
    pnl = rets.to_numpy() @ (shares * last.to_numpy())
    k = int(np.ceil(len(pnl) * 0.01 - 1e-9))
    assert hist["var"] == pytest.approx(-np.sort(pnl)[k - 1], rel=1e-9)
    assert (tmp_path / "out" / "report.html").is_file()
