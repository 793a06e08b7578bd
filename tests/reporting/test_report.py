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
