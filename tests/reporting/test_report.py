"""The HTML report: self-contained, plotly.js inlined unescaped, every section and figure present,
every table formatted (no scientific notation, no Python repr), numbers checked by hand."""

import math
import re
from html.parser import HTMLParser

import numpy as np
import pytest
from scipy import stats

FIGURES = {"cumulative", "carry-components", "carry-positions", "carry-models", "margin", "weights-notebook",
           "weights-corrected", "frontier", "pnl-distribution", "component-var", "stress", "backtest",
           "pair-daily", "pair-intraday"}  # fmt: skip


class Inventory(HTMLParser):
    """Sections, figures, scripts, lead sentences and every table cell of the report."""

    def __init__(self):
        super().__init__()
        self.sections, self.figures, self.external, self.plotly_divs = [], [], [], 0
        self.scripts: list[str] = []
        self.leads: list[str] = []
        self.tables: dict[str, list[list[str]]] = {}
        self._table = self._row = self._in = None

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "section":
            self.sections.append(attrs.get("data-section"))
        if tag == "div" and "data-figure" in attrs:
            self.figures.append(attrs["data-figure"])
        if tag == "div" and "data-table" in attrs:
            self._table = attrs["data-table"]
            self.tables[self._table] = []
        if tag == "div" and attrs.get("class") == "plotly-graph-div":
            self.plotly_divs += 1
        if tag in ("script", "link", "img") and (attrs.get("src") or attrs.get("href", "")).startswith("http"):
            self.external.append(attrs)
        if tag == "script":
            self.scripts.append("")
            self._in = "script"
        if tag == "p" and attrs.get("class") == "lead":
            self.leads.append("")
            self._in = "lead"
        if tag == "tr" and self._table:
            self._row = []
            self.tables[self._table].append(self._row)
        if tag in ("td", "th") and self._row is not None:
            self._row.append("")
            self._in = "cell"

    def handle_endtag(self, tag):
        if tag in ("script", "p", "td", "th"):
            self._in = None
        if tag == "table":
            self._table = self._row = None

    def handle_data(self, data):
        if self._in == "script":
            self.scripts[-1] += data
        elif self._in == "lead":
            self.leads[-1] += data
        elif self._in == "cell":
            self._row[-1] += data


@pytest.fixture(scope="module")
def report(demo_run):
    out, result = demo_run
    text = (out / "report.html").read_text(encoding="utf-8")
    inventory = Inventory()
    inventory.feed(text)
    return text, inventory, result


def _table(inventory, ident) -> dict[str, dict[str, str]]:
    """A report table as {row label: {column: cell}}."""
    header, *rows = inventory.tables[ident]
    return {row[0]: dict(zip(header[1:], row[1:], strict=True)) for row in rows}


def test_report_has_every_section_and_figure(report):
    text, inventory, _ = report
    assert inventory.sections == ["data", "funding", "optimize", "risk", "statarb"]
    assert set(inventory.figures) == FIGURES and len(inventory.figures) == len(FIGURES)
    assert inventory.plotly_divs == len(inventory.figures)  # every figure container holds a plot
    assert inventory.external == []  # opens offline: no remote scripts, styles or images
    assert text.count("Plotly.newPlot") == len(FIGURES)


def test_plotly_js_is_inlined_once_and_unescaped(report):
    # The reference is plotly's own bundle: the report must carry it byte for byte. Under
    # Jinja autoescape it came out as `&amp;&amp;` / `&#34;` and the browser stopped at '&'.
    from plotly.offline import get_plotlyjs

    _, inventory, _ = report
    bundle = get_plotlyjs()
    assert inventory.scripts[0] == bundle  # in <head>, before any figure
    assert sum(bundle[:2000] in script for script in inventory.scripts) == 1  # and only once


def test_every_section_says_what_it_shows(report):
    _, inventory, _ = report
    assert len(inventory.leads) == len(inventory.sections)
    for lead in inventory.leads:
        sentence = " ".join(lead.split())
        assert len(sentence) > 40 and sentence.endswith(".") and sentence.count(". ") == 0, sentence


def test_tables_have_no_scientific_notation_repr_or_raw_floats(report):
    _, inventory, _ = report
    cells = [cell for rows in inventory.tables.values() for row in rows for cell in row]
    assert len(cells) > 300
    scientific = re.compile(r"\d[eE][+-]?\d")
    raw_float = re.compile(r"\d\.\d{5,}")  # 3698149.558 or 0.000000000001: more decimals than any kind shows
    for cell in cells:
        assert not scientific.search(cell), cell
        assert not raw_float.search(cell), cell
        assert cell not in ("nan", "None", "NaT", "-0", "-$0.00", "-0.00%") and "{" not in cell and "'" not in cell
        assert "00:00:00" not in cell, cell  # dates as dates


def test_funding_table_totals_and_carry_by_hand(report):
    # Cash PB convention (DESIGN.md) on examples/book.toml, worked by hand: the debit
    # LMV − E pays B + 75 bp on its first $100,000 (tier) and B + 50 bp above; each short earns
    # B − 25 bp on its value and pays its fee on ceil(1.02 p) per share; ACT/360, 1 day.
    _, inventory, result = report
    table = _table(inventory, "positions")
    book = result.objects["funding"].book
    b = 0.043
    q = dict(zip(book.tickers, book.quantities, strict=True))
    p = dict(zip(book.tickers, book.prices, strict=True))
    lmv = sum(q[t] * p[t] for t in q if q[t] > 0)
    debit = lmv - 1_000_000
    financing = -(min(debit, 100_000) * (b + 0.0075) + max(debit - 100_000, 0) * (b + 0.005)) / 360
    fees = {"JPM": 0.0025, "BAC": 0.0040}
    rebate = sum(-q[t] * p[t] * (b - 0.0025) / 360 for t in ("JPM", "BAC"))
    borrow = -sum(-q[t] * math.ceil(1.02 * p[t]) * fees[t] / 360 for t in ("JPM", "BAC"))
    total = table["TOTAL"]
    assert total["financing"] == f"-${-financing:,.2f}"
    assert total["rebate"] == f"${rebate:,.2f}"
    assert total["borrow fee"] == f"-${-borrow:,.2f}"
    assert total["carry"] == f"${financing + rebate + borrow:,.2f}"
    # Reg T initial: 50 % of long value + 50 % of short value
    assert total["Reg T initial"] == f"${0.5 * sum(abs(q[t]) * p[t] for t in q):,.0f}"
    assert table["BAC"]["shares"] == "-12,000" and table["AAPL"]["shares"] == "3,000"
    assert total["shares"] == "\u2014" and total["price"] == "\u2014"


def test_var_table_shows_sampling_error_only_where_it_exists(report):
    _, inventory, result = report
    table = _table(inventory, "var")
    param = next(row for label, row in table.items() if label.startswith("parametric"))
    assert param["s.e. of VaR"] == "\u2014" and param["95 % interval of VaR"] == "\u2014"
    assert param["from"] == "closed form"
    # historical: the VaR is the ⌈n(1−α)⌉-th loss and its 95 % interval the binomial order
    # statistics (DESIGN.md; scipy's binomial quantiles), recomputed from the P&L sample
    pnl = np.sort(result.objects["risk"]["var"]["hist"].history.pnl.to_numpy())
    n = pnl.size
    k = math.ceil(n * 0.01 - 1e-9)
    lo_rank = int(max(1, stats.binom.ppf(0.025, n, 0.01)))
    hi_rank = int(min(n, stats.binom.ppf(0.975, n, 0.01) + 1))
    hist = table["historical"]
    assert hist["VaR"] == f"${-pnl[k - 1]:,.0f}"
    assert hist["95 % interval of VaR"] == f"${-pnl[hi_rank - 1]:,.0f} to ${-pnl[lo_rank - 1]:,.0f}"
    assert hist["from"] == f"{n:,} days"


def test_reverse_stress_is_a_sentence(report):
    text, _, result = report
    reverse = result.objects["risk"]["stress"].reverse
    assert "{" not in text.split("Reverse stress", 1)[1][:400]
    # the workflow's bisection result, written out as the sentence a desk reads (1 decimal of %)
    for side, verb in (("up", "rise"), ("down", "fall")):
        move = reverse[side]
        expected = (f"a uniform {verb} of {abs(move) * 100:.1f}% in every price wipes it out" if move is not None
                    else f"no uniform {verb} within the tested range breaches it")  # fmt: skip
        assert expected in text


def test_stress_dates_are_plain_dates(report):
    _, inventory, _ = report
    table = _table(inventory, "stress")
    assert table["worst 1d"]["from"] == table["worst 1d"]["to"]
    assert re.fullmatch(r"\d{4}-\d{2}-\d{2}", table["covid crash"]["from"])
    assert table["market -10%"]["from"] == "\u2014"


def test_exports_and_permissions(demo_run):
    out, result = demo_run
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
