"""The dashboard in a real browser: Debian's headless Chromium driven by Playwright.

``astra dashboard`` itself serves the app on a free loopback port (so the flags are the
ones users get: toolbar in viewer mode, the upload limit), and the tests open each page
by its URL, upload books and price files through the sidebar as a user would, and read
what the page shows: the headline figures must equal the workflow's for the same inputs
and the independent references of ``reference.py``. A screenshot of each page goes to
``test-artifacts/``, with the time to the first interactive page and the module's
duration. The server is stopped at the end.
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from astra import format as fmt
from tests.dashboard.reference import SAMPLE_SHARES, book_text, carry, closes, hist_var, money

pytestmark = pytest.mark.browser
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
ARTIFACTS = Path(__file__).parents[2] / "test-artifacts"
SIDEBAR = "[data-testid='stSidebar']"
# the script has finished: no "Running…" status widget and no element left stale from the previous run
IDLE = '() => !document.querySelector(\'[data-testid="stStatusWidget"], [data-stale="true"]\')'
# a plotly chart is drawn when plotly.js has laid it out and drawn at least one trace
DRAWN = """() => Array.from(document.querySelectorAll('.js-plotly-plot'))
    .filter(el => el._fullLayout && el.querySelector('.main-svg g.trace')).length"""
# Streamlit probes /<page>/_stcore/{health,host-config} before the root ones when a page is opened by
# its URL: two 404s logged by the browser, a known upstream quirk (streamlit/streamlit#7074), not ours
PROBE = re.compile(r"/[a-z]+/_stcore/(health|host-config)$")
DESK = {"AAPL": 5_000, "MSFT": 1_600, "AMD": 2_000, "JPM": -3_000, "BAC": -12_000}
WAIT = 120_000  # ms: a loaded 2-core machine runs the risk page's Monte Carlo slowly


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="module")
def timing():
    started = time.perf_counter()
    yield
    ARTIFACTS.mkdir(exist_ok=True)
    (ARTIFACTS / "dashboard-browser-seconds.txt").write_text(f"{time.perf_counter() - started:.1f}\n")


@pytest.fixture(scope="module")
def server(timing):
    """``astra dashboard --port P`` (its own process group, stopped at the end) and when it started."""
    if not Path(CHROMIUM).exists():
        pytest.skip("Debian's chromium is not installed (.ci/run installs it with apt-get)")
    pytest.importorskip("playwright.sync_api", reason="playwright is not installed")
    port = free_port()
    env = {**os.environ, "STREAMLIT_BROWSER_GATHER_USAGE_STATS": "false"}
    started = time.perf_counter()
    proc = subprocess.Popen([sys.executable, "-m", "astra.cli", "dashboard", "--port", str(port)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env,
                            start_new_session=True)  # fmt: skip
    url = f"http://127.0.0.1:{port}"
    deadline = time.time() + 60
    try:
        while True:
            try:
                with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as response:
                    if response.status == 200:
                        break
            except OSError:
                if time.time() > deadline or proc.poll() is not None:
                    pytest.fail("astra dashboard did not answer its health check within 60 s")
                time.sleep(0.3)
        yield url, started
    finally:
        os.killpg(proc.pid, signal.SIGTERM)  # the CLI and the streamlit server it started
        try:
            proc.wait(15)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(5)


@pytest.fixture(scope="module")
def browser(server):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        instance = p.chromium.launch(
            executable_path=CHROMIUM,
            headless=True,
            args=["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                  "--disable-sync", "--no-first-run"],
        )  # fmt: skip
        yield instance
        instance.close()


@pytest.fixture
def tab(browser):
    """A fresh browser page (a new Streamlit session) that records console errors."""
    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    page.errors = []
    page.on("console", lambda m: m.type == "error" and not PROBE.search(m.location.get("url") or "")
            and page.errors.append(f"{m.text} ({m.location.get('url')})"))  # fmt: skip
    page.on("pageerror", lambda exc: page.errors.append(str(exc)))
    yield page
    page.close()


def settle(page, ready: str | None = None, charts: int = 0) -> None:
    """Wait until the page shows ``ready``, has drawn ``charts`` plotly charts and the script has finished."""
    page.wait_for_selector("[data-testid='stApp']", timeout=WAIT)
    if ready:
        page.wait_for_selector(ready, timeout=WAIT)
    page.wait_for_function(IDLE, timeout=WAIT)
    if charts:
        page.wait_for_function(f"() => ({DRAWN})() >= {charts}", timeout=WAIT)


def value(page, label: str):
    """The value (a locator) of the metric whose label contains ``label``."""
    box = page.locator("[data-testid='stMetric']", has=page.locator("[data-testid='stMetricLabel']", has_text=label))
    return box.first.locator("[data-testid='stMetricValue']")


def metric(page, label: str) -> str:
    return value(page, label).inner_text().strip()


def shows(page, label: str, expected: str) -> None:
    """Wait until the metric ``label`` shows ``expected`` (a rerun replaces it), else fail with both values."""
    from playwright.sync_api import expect

    expect(value(page, label)).to_have_text(expected, timeout=WAIT)


def alerts(page, kind: str = "stAlertContentError") -> list[str]:
    return page.locator(f"[data-testid='{kind}']").all_inner_texts()


def in_use(page) -> list[str]:
    return page.locator(f"{SIDEBAR} [data-testid='stCaptionContainer']").all_inner_texts()


def screenshot(page, name: str) -> None:
    """The page down to the end of its content (the viewport is taller than most pages)."""
    bottom = page.evaluate(
        "() => Math.max(0, ...Array.from(document.querySelectorAll('[data-testid=stElementContainer]'),"
        " el => el.getBoundingClientRect().bottom))"
    )
    size = page.viewport_size
    if bottom + 40 > size["height"]:  # a page longer than the viewport: grow it and let the charts resize
        page.set_viewport_size({"width": size["width"], "height": int(bottom) + 40})
        page.wait_for_timeout(500)
    ARTIFACTS.mkdir(exist_ok=True)
    clip = {"x": 0, "y": 0, "width": size["width"], "height": max(800, int(bottom) + 40)}
    page.screenshot(path=str(ARTIFACTS / f"dashboard-{name}.png"), clip=clip)


def upload(page, which: int, path: Path, expect_text: str) -> None:
    """Upload ``path`` through the sidebar's ``which``-th uploader (0 book, 1 prices); wait for ``expect_text``."""
    page.locator(f"{SIDEBAR} [data-testid='stFileUploaderDropzoneInput']").nth(which).set_input_files(str(path))
    page.get_by_text(expect_text).first.wait_for(timeout=WAIT)
    page.wait_for_function(IDLE, timeout=WAIT)


def go(page, title: str, path: str, ready: str, charts: int = 0) -> None:
    """Follow the sidebar's link (same session) to another page."""
    page.locator("[data-testid='stSidebarNavLink']", has_text=title).first.click()
    page.wait_for_url(f"**/{path}", timeout=WAIT)
    settle(page, ready, charts)


# ---------------------------------------------------------------- the workflows' figures, same inputs as the pages
def workflow_headline(path: str) -> tuple[str, str]:
    """(metric label, value as the page writes it) computed by the workflow the page calls, page defaults."""
    from astra.optimize.estimators import NoisyMeanWarning
    from astra.statarb import SignalRules
    from astra.workflows import optimize_portfolio, statarb_run
    from astra.workflows.book import show_book
    from astra.workflows.data import price_data
    from astra.workflows.funding import funding_report
    from astra.workflows.risk import risk_var, var_options
    from tests.dashboard.reference import EXAMPLE

    if path == "":
        return "Gross", fmt.money(show_book(EXAMPLE).gross, 0)
    if path == "data":
        data = price_data(("AAPL", "MSFT", "JPM", "BAC", "XOM"), start="2018-01-01")
        return "Sessions", fmt.count(len(data.prices))
    if path == "funding":
        return "Daily carry on 2022-12-23", fmt.money(
            funding_report(EXAMPLE, rate=0.043, on="2022-12-23").carry.daily_carry
        )
    if path == "optimizer":
        universe = ["AAPL", "MSFT", "AMD", "JPM", "BAC", "XOM", "JNJ", "PG"]
        with pytest.warns(NoisyMeanWarning):  # the page shows it too (asserted below)
            report = optimize_portfolio(problem="meanvar", universe=universe, start="2018-01-01", cov="lw",
                                        gross=2.0, net="-0.05:0.05", max_weight=0.25, gamma=5.0, tc_bps=10.0,
                                        rate=0.043)  # fmt: skip
        return "Volatility", fmt.pct(report.result.volatility_ann)
    if path == "risk":
        options = var_options("hist", level=0.99, horizon=1, scenarios=50_000, seed=7, factors=3)
        return "VaR · historical", fmt.money(risk_var(EXAMPLE, start="2015-01-01", **options).result.var, 0)
    if path == "statarb":
        report = statarb_run("BAC", "JPM", start="2015-01-01", model="kalman2", cost_bps=1.0, rate=0.043,
                             rules=SignalRules(entry=2.0, exit=0.5, stop=4.0))  # fmt: skip
        return "Sharpe (annual)", fmt.ratio(report.to_dict()["sharpe_ann"])
    raise KeyError(path)


def reference_headline(path: str) -> float | None:
    """The same headline from references that do not use ASTRA (None where the workflow is the reference)."""
    last = closes().loc[:"2022-12-28"].iloc[-1]
    return {
        "": sum(abs(q) * float(last[t]) for t, q in SAMPLE_SHARES.items()),  # gross at the latest sample close
        "funding": carry(SAMPLE_SHARES),
        "risk": hist_var(SAMPLE_SHARES),
        "data": len(closes().loc["2018-01-01":]),  # skfolio's sessions since the page's start date
    }.get(path)


PAGES = [("", "ASTRA", 0), ("data", "Data", 2), ("funding", "Book & funding", 5), ("optimizer", "Optimiser", 2),
         ("risk", "Risk", 4), ("statarb", "Stat-arb", 1), ("scanner", "Pair scanner", 0)]  # fmt: skip


@pytest.mark.parametrize(("path", "title", "charts"), PAGES, ids=[p or "overview" for p, _, _ in PAGES])
def test_page_by_url_draws_and_shows_the_workflows_figures(server, tab, path, title, charts):
    url, started = server
    tab.goto(f"{url}/{path}")
    ready = "[data-testid='stMetric']" if path != "scanner" else "[data-testid='stDataFrame']"
    settle(tab, ready, charts)
    if path == "":  # the first page a user sees: interactive this long after the server was started
        ARTIFACTS.mkdir(exist_ok=True)
        (ARTIFACTS / "dashboard-first-page-seconds.txt").write_text(f"{time.perf_counter() - started:.1f}\n")
    assert tab.locator("h1", has_text=title).count() == 1
    assert tab.locator("[data-testid='stException']").count() == 0
    assert tab.get_by_text("Page not found").count() == 0
    assert tab.evaluate(DRAWN) >= charts
    assert tab.locator("[data-testid='stAppDeployButton']").count() == 0
    assert tab.get_by_role("button", name="Deploy").count() == 0
    assert tab.locator(SIDEBAR).get_by_role("button", name="Build the HTML report").count() == 1
    if path == "scanner":  # every pair of the sample's 20 stocks: C(20, 2) = 190
        assert tab.get_by_text("190 pairs tested").count() == 1
    else:
        label, expected = workflow_headline(path)
        assert metric(tab, label) == expected
        reference = reference_headline(path)
        if reference is not None:
            assert money(metric(tab, label)) == pytest.approx(reference, abs=0.5 if path != "funding" else 0.005)
    assert alerts(tab) == []
    warnings = alerts(tab, "stAlertContentWarning")
    assert len(warnings) == (1 if path == "optimizer" else 0) and all("mostly noise" in w for w in warnings)
    screenshot(tab, path or "overview")
    assert tab.errors == []


@pytest.fixture(scope="module")
def files(tmp_path_factory) -> dict[str, Path]:
    """The files a user uploads: a renamed copy of examples/book.toml, two bad books, a price file."""
    folder = tmp_path_factory.mktemp("uploads")
    out = {
        "desk": folder / "desk-alpha-book.toml",  # the file's name differs from its account name
        "broken": folder / "broken.toml",
        "googl": folder / "with-googl.toml",
        "prices": folder / "desk-prices.csv",
    }
    out["desk"].write_text(book_text("desk-alpha", DESK), encoding="utf-8")
    out["broken"].write_text('[account\nname = "broken"\n', encoding="utf-8")
    out["googl"].write_text(book_text("with-googl", {**DESK, "GOOGL": 100}), encoding="utf-8")
    scaled = (closes()[list(SAMPLE_SHARES)].loc["2015-01-01":] * 1.1).round(3)
    scaled.rename_axis("date").to_csv(out["prices"])
    return out


def test_uploaded_book_drives_funding_risk_and_optimiser_bad_uploads_keep_it(server, tab, files):
    from astra.workflows.book import BookText
    from astra.workflows.funding import funding_report
    from astra.workflows.risk import risk_var, var_options

    url, _ = server
    desk = BookText(files["desk"].read_text(encoding="utf-8"), "toml", "desk-alpha-book")
    tab.goto(f"{url}/funding")
    settle(tab, "[data-testid='stMetric']", 5)
    upload(tab, 0, files["desk"], "In use: desk-alpha")
    carry_shown = fmt.money(funding_report(desk, rate=0.043, on="2022-12-23").carry.daily_carry)
    shows(tab, "Daily carry on 2022-12-23", carry_shown)
    assert money(carry_shown) == pytest.approx(carry(DESK), abs=0.005)
    assert tab.locator("h3", has_text="desk-alpha: exposures").count() == 1

    for bad, says in (("broken", "not valid TOML"), ("googl", "GOOGL")):
        upload(tab, 0, files[bad], f"{files[bad].name} was not loaded")
        messages = alerts(tab)
        assert len(messages) == 1 and says in messages[0] and "/tmp" not in messages[0], messages
        assert "In use: desk-alpha (TOML)" in in_use(tab)[0]  # the previous book stays
        assert metric(tab, "Daily carry on 2022-12-23") == carry_shown

    go(tab, "Risk", "risk", "[data-testid='stMetric']", 4)
    options = var_options("hist", level=0.99, horizon=1, scenarios=50_000, seed=7, factors=3)
    var_shown = fmt.money(risk_var(desk, start="2015-01-01", **options).result.var, 0)
    shows(tab, "VaR · historical", var_shown)
    assert money(var_shown) == pytest.approx(hist_var(DESK), abs=0.5)
    assert tab.get_by_text("Book desk-alpha").count() == 1

    go(tab, "Optimiser", "optimizer", "[data-testid='stMetric']", 2)
    tab.get_by_text("the session's book (desk-alpha)").click()
    tab.get_by_text("Book: desk-alpha").wait_for(timeout=WAIT)
    settle(tab, "[data-testid='stMetric']", 2)
    assert alerts(tab) == [] and tab.locator("[data-testid='stException']").count() == 0
    screenshot(tab, "optimizer-from-book")

    tab.locator(SIDEBAR).get_by_role("button", name="Clear: use the sample book").click()
    tab.get_by_text("In use: sample-client").wait_for(timeout=WAIT)
    settle(tab, "[data-testid='stMetric']", 2)  # the sample again (its carry after Clear: test_pages.py)
    assert tab.get_by_text("the session's book (sample-client)").count() == 1
    assert tab.errors == []


def test_uploaded_prices_are_used_and_named_by_their_file(server, tab, files):
    url, _ = server
    tab.goto(f"{url}/funding")
    settle(tab, "[data-testid='stMetric']", 5)
    upload(tab, 1, files["prices"], "In use: uploaded desk-prices.csv")
    scaled = (closes()[list(SAMPLE_SHARES)].loc["2015-01-01":] * 1.1).round(3)
    expected = carry(SAMPLE_SHARES, prices=scaled)
    shows(tab, "Daily carry on 2022-12-23", fmt.money(expected))  # the reference, rounded to the cent
    go(tab, "Data", "data", "[data-testid='stMetric']", 2)
    assert "uploaded desk-prices.csv" in in_use(tab)[1]
    assert metric(tab, "Names") == "5" and metric(tab, "Last session") == "2022-12-28"
    text = tab.locator("[data-testid='stMain']").inner_text()
    assert "astra-uploads" not in text and "/tmp" not in text
    assert "astra-uploads" not in tab.content()  # nor in the page's markup (widget keys, ids)
    screenshot(tab, "data-uploaded-prices")
    tab.locator(SIDEBAR).get_by_role("button", name="Clear: use the offline sample").click()
    tab.locator(SIDEBAR).get_by_text("In use: sample", exact=True).wait_for(timeout=WAIT)
    settle(tab, "[data-testid='stMetric']", 2)
    assert metric(tab, "Names") == "5" and in_use(tab)[1] == "In use: sample"
    assert tab.errors == []
