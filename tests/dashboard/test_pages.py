"""Every dashboard page with Streamlit's AppTest: default run, a changed widget, a bad input."""

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from astra.workflows.book import BookText

PAGES = Path(__file__).parents[2] / "src" / "astra" / "dashboard" / "views"


def page(name: str, **state) -> AppTest:
    app = AppTest.from_file(str(PAGES / f"{name}.py"), default_timeout=120)
    for key, value in state.items():
        app.session_state[key] = value
    return app.run()


def charts(app: AppTest) -> int:
    return len(app.get("plotly_chart"))


def clean(app: AppTest) -> bool:
    return not app.exception and not app.error


@pytest.mark.parametrize(
    ("name", "min_charts", "min_tables"),
    [
        ("home", 0, 0),
        ("data", 1, 1),
        ("funding", 4, 4),
        ("optimizer", 2, 1),
        ("risk", 4, 2),
        ("statarb", 1, 2),
        ("scanner", 0, 1),
    ],
)
def test_default_run(name, min_charts, min_tables):
    app = page(name)
    assert clean(app), [e.value for e in (*app.exception, *app.error)]
    assert charts(app) >= min_charts and len(app.dataframe) >= min_tables


def test_data_changed_tickers_and_bad_ticker():
    app = page("data")
    app.text_input(key="data-tickers").set_value("KO PEP").run()
    assert clean(app) and list(app.dataframe[0].value.columns) == ["KO", "PEP"]
    app.text_input(key="data-tickers").set_value("AA$PL").run()
    assert not app.exception and "not a ticker" in app.error[0].value


def test_funding_model_switch_and_bad_book():
    app = page("funding")
    before = app.get("plotly_chart")[0].proto.spec
    app.selectbox[0].set_value("seed").run()
    assert clean(app) and app.get("plotly_chart")[0].proto.spec != before  # the components changed
    carry = app.metric[5].value
    app.text_area(key="book-editor-0").set_value("[account]\nequity = -5\n[positions]\nAAPL = 1\n").run()
    assert not app.exception and "equity" in app.error[0].value
    # the bad edit is refused: the session keeps the previous book and its figures
    assert "book" not in app.session_state and app.metric[5].value == carry


def test_optimizer_slider_and_infeasible_limits():
    app = page("optimizer")
    app.slider[0].set_value(3.0).run()  # gross leverage
    assert clean(app)
    app.selectbox[0].set_value("minvar").run()
    app.checkbox[0].check().run()  # long only
    app.slider[3].set_value(0.05).run()  # max weight 5 % × 8 names cannot sum to 100 %
    assert not app.exception and "conflict" in app.error[0].value


def test_statarb_entry_and_same_ticker_twice():
    app = page("statarb")
    app.slider[0].set_value(1.5).run()
    assert clean(app)
    app.text_input(key="sa-y").set_value("BAC").run()
    assert not app.exception and "two different" in app.error[0].value


def test_risk_methods_and_bad_book():
    app = page("risk")
    app.multiselect[0].set_value(["param"]).run()
    assert clean(app) and len(app.dataframe[0].value) == 1
    app.multiselect[0].set_value(["param", "mc"]).run()
    app.selectbox(key="risk-cov").set_value("factor").run()
    app.selectbox(key="risk-paths").set_value("lognormal").run()
    app.checkbox(key="risk-anti").check().run()
    assert clean(app) and len(app.dataframe[0].value) == 2
    frame = app.dataframe[0].value
    assert frame.loc["mc", "s.e. VaR"] > 0 and abs(frame.loc["mc", "VaR"] / frame.loc["param", "VaR"] - 1) < 0.2
    bad = page("risk", book=BookText("[account]\nequity = 1e6\n[positions]\nAAPL = 1\nGOOGL = 5\nGS = 2\n"))
    # one message, not one per method
    assert not bad.exception and len(bad.error) == 1 and "GOOGL" in bad.error[0].value


def test_scanner_fdr_and_tiny_universe():
    app = page("scanner")
    app.checkbox[0].uncheck().run()
    assert clean(app)
    app.multiselect[0].set_value(["AAPL"]).run()
    assert not app.exception and "at least two" in app.error[0].value
