"""Every dashboard page with Streamlit's AppTest: what it shows, checked against references written here.

AppTest cannot upload a file, so the session's book and price file are set in session
state exactly as the sidebar stores them after an upload (the browser tests upload for
real). References come from tests/dashboard/reference.py (skfolio closes, exchange
calendars, DESIGN.md's carry formula, numpy quantiles) or statsmodels.
"""

import itertools
import json
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from streamlit import dataframe_util
from streamlit.testing.v1 import AppTest

from astra.workflows.book import BookText
from tests.dashboard.reference import SAMPLE_SHARES, book_text, carry, closes, hist_var, money

PAGES = Path(__file__).parents[2] / "src" / "astra" / "dashboard" / "views"
DESK = {"AAPL": 5_000, "MSFT": 1_600, "AMD": 2_000, "JPM": -3_000, "BAC": -12_000}
# what a desk user must never read: scientific notation, a time of midnight, raw float tails or
# thousands without separators, Python reprs of dicts/containers, missing-value reprs, a negative zero
UNREADABLE = re.compile(
    r"\d[eE][+-]?\d|00:00:00|\d\.\d{5,}|\d{4,}\.\d|\d{5,}|[{}]|\bnan\b|\bNone\b|\bNaT\b|-\$?0\.0+%?$|-\$?0$"
)


def page(name: str, **state) -> AppTest:
    app = AppTest.from_file(str(PAGES / f"{name}.py"), default_timeout=120)
    for key, value in state.items():
        app.session_state[key] = value
    return app.run()


def desk_book(**extra) -> dict:
    """Session state as the sidebar leaves it after a good upload of a 'desk-alpha' book."""
    return {"book": BookText(book_text("desk-alpha", DESK), "toml", "desk-alpha"), "book_name": "desk-alpha",
            "book_equity": None, **extra}  # fmt: skip


def shown(element) -> pd.DataFrame:
    """A table as the grid displays it: the formatted strings (styled tables), else its values."""
    display = element.proto.arrow_data.styler.display_values
    return dataframe_util.convert_arrow_bytes_to_pandas_df(display) if display else element.value


def texts(app: AppTest) -> list[str]:
    """Every string the page shows outside tables: titles, captions, messages, metrics, widget labels."""
    out = []
    for kind in ("title", "subheader", "caption", "markdown", "info", "error", "warning", "success"):
        out += [str(e.value) for e in app.get(kind)]
    out += [f"{m.label} {m.value}" for m in app.metric]
    for kind in ("multiselect", "selectbox", "text_input", "radio"):
        out += [str(w.label) for w in app.get(kind)]
    return out


def readable(app: AppTest) -> list[str]:
    """Cells, metric values and texts a desk user would trip on (empty when the page reads well)."""
    bad = []
    for element in app.dataframe:
        frame = shown(element)
        cells = [str(v) for v in frame.to_numpy().ravel()] + [str(i) for i in frame.index]
        bad += [c for c in cells if UNREADABLE.search(c.strip())]
    bad += [m.value for m in app.metric if UNREADABLE.search(m.value)]
    bad += [t for t in texts(app) if "astra-uploads" in t or "astra-book-" in t or "/tmp/" in t]
    # a page names its own controls, not the CLI's flags (the overview's text about the CLI aside)
    messages = [str(e.value) for kind in ("caption", "error", "warning", "info") for e in app.get(kind)]
    bad += [t for t in messages if re.search(r"(?<![\w-])--[a-z]", t)]
    return bad


def table_by_column(app: AppTest, column: str) -> pd.DataFrame:
    return next(shown(e) for e in app.dataframe if column in shown(e).columns)


def charts(app: AppTest) -> int:
    return len(app.get("plotly_chart"))


def clean(app: AppTest) -> bool:
    return not app.exception and not app.error


@pytest.mark.parametrize(
    ("name", "min_charts", "min_tables"),
    [
        ("home", 0, 1),
        ("data", 2, 2),
        ("funding", 5, 3),
        ("optimizer", 2, 1),
        ("risk", 4, 4),
        ("statarb", 1, 2),
        ("scanner", 0, 1),
    ],
)
def test_default_run_draws_and_reads_well(name, min_charts, min_tables):
    app = page(name)
    assert clean(app), [e.value for e in (*app.exception, *app.error)]
    assert charts(app) >= min_charts and len(app.dataframe) >= min_tables
    assert readable(app) == []


def test_funding_headline_is_the_reference_carry_and_the_table_agrees():
    app = page("funding")
    expected = carry(SAMPLE_SHARES)  # DESIGN.md's cash convention on skfolio's closes of 2022-12-23
    metric = next(m for m in app.metric if m.label.startswith("Daily carry on 2022-12-23"))
    assert money(metric.value) == pytest.approx(expected, abs=0.005)
    positions = table_by_column(app, "carry")
    assert money(positions.loc["TOTAL", "carry"]) == pytest.approx(expected, abs=0.005)
    # the margin table: Reg T initial is 50 % of gross (Regulation T), gross from skfolio's closes
    close = closes().loc[:"2022-12-23"].iloc[-1]
    gross = sum(abs(q) * float(close[t]) for t, q in SAMPLE_SHARES.items())
    regimes = table_by_column(app, "requirement")
    assert money(regimes.loc["Reg T", "requirement"]) == pytest.approx(0.5 * gross, abs=0.5)


def test_funding_model_switch_and_bad_edit_keeps_the_book():
    app = page("funding")
    before = app.get("plotly_chart")[0].proto.spec
    app.selectbox[0].set_value("seed").run()
    assert clean(app) and app.get("plotly_chart")[0].proto.spec != before  # the components changed
    carry_now = next(m.value for m in app.metric if m.label.startswith("Daily carry"))
    app.text_area(key="book-editor-0").set_value("[account]\nequity = -5\n[positions]\nAAPL = 1\n").run()
    assert not app.exception and len(app.error) == 1 and "equity" in app.error[0].value
    # the bad edit is refused: the session keeps the previous book and its figures
    assert "book" not in app.session_state
    assert next(m.value for m in app.metric if m.label.startswith("Daily carry")) == carry_now


def test_session_book_drives_funding_risk_and_optimiser():
    funding = page("funding", **desk_book())
    assert clean(funding) and any("desk-alpha" in s.value for s in funding.subheader)
    metric = next(m for m in funding.metric if m.label.startswith("Daily carry on 2022-12-23"))
    assert money(metric.value) == pytest.approx(carry(DESK), abs=0.005)

    risk = page("risk", **desk_book())
    assert clean(risk) and any("desk-alpha" in c.value for c in risk.caption)
    hist = next(m for m in risk.metric if m.label == "VaR · historical")
    assert money(hist.value) == pytest.approx(hist_var(DESK), abs=0.5)  # shown in whole dollars

    optimizer = page("optimizer", **desk_book())
    choice = optimizer.radio(key="opt-start-from")
    choice.set_value(choice.options[1]).run()
    optimizer.number_input(key="opt-turnover").set_value(1.0).run()
    assert clean(optimizer) and any("desk-alpha" in c.value for c in optimizer.caption)
    weights = table_by_column(optimizer, "weight (× equity)")
    assert set(DESK) <= set(weights.index)
    # the turnover limit against the book's own weights (shares × last close / $1,000,000 equity)
    last = closes().iloc[-1]
    current = pd.Series({t: DESK.get(t, 0) * float(last[t]) / 1e6 for t in weights.index})
    new = weights["weight (× equity)"].str.rstrip("%").astype(float) / 100
    # shown to 0.01 %; bringing the book inside ±25 % a name and ±5 % net takes about 0.85 of turnover
    assert float((new - current).abs().sum()) <= 1.0 + 5e-5 * len(new)


def test_sample_book_back_after_clear():
    app = page("funding", **desk_book())
    app.button(key="book-clear").click().run()
    assert clean(app) and any("sample-client" in s.value for s in app.subheader)
    metric = next(m for m in app.metric if m.label.startswith("Daily carry on 2022-12-23"))
    assert money(metric.value) == pytest.approx(carry(SAMPLE_SHARES), abs=0.005)


@pytest.fixture(scope="module")
def price_file(tmp_path_factory) -> tuple[Path, pd.DataFrame]:
    """A desk's own closes: the book's names since 2015, 10 % above the sample, rounded to 0.001."""
    frame = (closes()[list(SAMPLE_SHARES)].loc["2015-01-01":] * 1.1).round(3)
    path = tmp_path_factory.mktemp("prices") / "desk-prices.csv"
    frame.rename_axis("date").to_csv(path)
    return path, frame


def test_session_prices_are_used_and_named_by_their_file(price_file):
    path, frame = price_file
    prices = {"prices": {"source": f"csv:{path}", "name": "desk-prices.csv"}}
    funding = page("funding", **prices)
    assert clean(funding) and readable(funding) == []
    metric = next(m for m in funding.metric if m.label.startswith("Daily carry on 2022-12-23"))
    assert money(metric.value) == pytest.approx(carry(SAMPLE_SHARES, prices=frame), abs=0.005)
    data = page("data", **prices)
    assert clean(data) and readable(data) == []
    assert any("uploaded desk-prices.csv" in c.value for c in data.caption)
    assert not any(str(path.parent) in t for t in texts(data))
    last = shown(data.dataframe[1]).iloc[-1]  # closes, shown to the cent
    assert [money(v) for v in last] == pytest.approx(frame.iloc[-1].tolist(), abs=0.005)


def test_a_book_outside_the_prices_is_one_message_and_the_hint():
    bad = BookText("[account]\nequity = 1e6\n[positions]\nAAPL = 1\nGOOGL = 5\nGS = 2\n")
    for name in ("funding", "risk"):
        app = page(name, book=bad)
        assert not app.exception and len(app.error) == 1, [e.value for e in app.error]
        assert "GOOGL" in app.error[0].value and "Upload a price file" in app.error[0].value


def test_risk_methods_table_and_standard_errors():
    app = page("risk")
    hist = next(m for m in app.metric if m.label == "VaR · historical")
    assert money(hist.value) == pytest.approx(hist_var(SAMPLE_SHARES), abs=0.5)
    table = table_by_column(app, "s.e. of VaR")
    assert table.loc["parametric (normal)", "s.e. of VaR"] == "—"  # a closed form has no sampling error
    assert table.loc["historical", "from"] == "2,011 days"
    app.multiselect[0].set_value(["param", "mc"]).run()
    app.selectbox(key="risk-cov").set_value("factor").run()
    app.selectbox(key="risk-vr").set_value("antithetic").run()
    assert clean(app)
    table = table_by_column(app, "s.e. of VaR")
    assert list(table.index) == ["parametric (normal)", "Monte Carlo (normal)"]
    assert money(table.loc["Monte Carlo (normal)", "s.e. of VaR"]) > 0
    assert money(table.loc["Monte Carlo (normal)", "VaR"]) / money(table.loc["parametric (normal)", "VaR"]) == (
        pytest.approx(1, abs=0.2)
    )


def test_optimizer_weights_read_back_and_infeasible_limits():
    app = page("optimizer")
    weights = table_by_column(app, "weight (× equity)")
    raw = next(e.value for e in app.dataframe if "weight (× equity)" in e.value.columns)["weight (× equity)"]
    read = weights["weight (× equity)"].str.rstrip("%").astype(float) / 100
    assert np.allclose(read.to_numpy(), raw.to_numpy(), atol=5e-5)  # a faithful rounding, noise as 0.00%
    app.selectbox[0].set_value("minvar").run()
    app.checkbox[0].check().run()  # long only
    app.slider[3].set_value(0.05).run()  # max weight 5 % × 8 names cannot sum to 100 %
    assert not app.exception and len(app.error) == 1 and "conflict" in app.error[0].value


def test_data_closes_dates_and_bad_ticker():
    app = page("data")
    app.text_input(key="data-tickers").set_value("KO PEP").run()
    assert clean(app)
    prices = shown(app.dataframe[1])
    assert list(prices.columns) == ["KO", "PEP"] and prices.index[-1] == "2022-12-28"
    assert [money(v) for v in prices.iloc[-1]] == pytest.approx(closes()[["KO", "PEP"]].iloc[-1], abs=0.005)
    app.text_input(key="data-tickers").set_value("AA$PL").run()
    assert not app.exception and "not a ticker" in app.error[0].value


def test_statarb_intraday_axis_skips_nights_and_weekends():
    app = page("statarb")
    app.selectbox(key="sa-origin").set_value("synthetic (1-minute)").run()
    assert clean(app) and readable(app) == []
    spec = json.loads(app.get("plotly_chart")[0].proto.spec)
    days = sorted({stamp[:10] for stamp in spec["data"][0]["x"]})
    # 390 one-minute bars a session: the axis jumps from the bar after 15:59 (16:00) to the next 09:30,
    # 17.5 hours between weekdays, 65.5 hours over a weekend (calendar arithmetic, in ms)
    nights = {pd.Timestamp(f"{b} 09:30") - pd.Timestamp(f"{a} 16:00") for a, b in itertools.pairwise(days)}
    for axis in ("xaxis", "xaxis2", "xaxis3"):
        breaks = spec["layout"][axis]["rangebreaks"]
        assert {b["dvalue"] for b in breaks} == {n.total_seconds() * 1e3 for n in nights}
        assert sorted(v for b in breaks for v in b["values"]) == [f"{d} 16:00:00" for d in days[:-1]]
    trades = next(shown(e) for e in app.dataframe if "entry" in shown(e).columns)
    assert re.fullmatch(r"\d{4}-\d\d-\d\d \d\d:\d\d", trades["entry"].iloc[0])
    app.text_input(key="sa-y").set_value("BAC").run()
    assert not app.exception and "two different" in app.error[0].value


def test_scanner_top_pair_is_statsmodels_engle_granger():
    app = page("scanner")
    top = shown(app.dataframe[0]).iloc[0]
    # statsmodels.tsa.stattools.coint(log JNJ, log LLY, trend="c", maxlag=1, autolag=None) on skfolio's
    # closes since 2018-01-01 gives t = -4.5104, p = 0.001178
    assert (top["y"], top["x"], top["Engle–Granger t"], top["p-value"]) == ("JNJ", "LLY", "-4.51", "0.0012")
    app.multiselect[0].set_value(["AAPL"]).run()
    assert not app.exception and "at least two" in app.error[0].value
