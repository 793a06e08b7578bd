"""report.html in a real browser: Debian's headless Chromium driven by Playwright, offline.

Opens the demo's report via ``file://`` with every network request refused, waits until
plotly has drawn, and checks what a user would see: one rendered plotly chart per figure
in the file, no console error, no page error. Saves ``test-artifacts/report.png``.
"""

import contextlib
import shutil
from pathlib import Path

import pytest

pytestmark = pytest.mark.browser
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
ARTIFACTS = Path(__file__).parents[2] / "test-artifacts"
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--no-first-run"]  # fmt: skip
# a figure counts as drawn when plotly has put its SVG layers inside the container
DRAWN = "document.querySelectorAll('[data-figure] .js-plotly-plot').length"
DRAWN_SVG = (
    "Array.from(document.querySelectorAll('[data-figure]'))"
    ".filter(f => f.querySelector('.js-plotly-plot .main-svg')).length"
)


@pytest.fixture(scope="module")
def page_of_report(demo_run):
    if not Path(CHROMIUM).exists():
        pytest.skip("Debian's chromium is not installed (.ci/run installs it with apt-get)")
    from playwright.sync_api import TimeoutError as PlaywrightTimeout
    from playwright.sync_api import sync_playwright

    out, _ = demo_run
    html = (out / "report.html").read_text(encoding="utf-8")
    expected = html.count('data-figure="')
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 900})
            console, errors, remote = [], [], []
            page.on("console", lambda m: console.append((m.type, m.text)))
            page.on("pageerror", lambda e: errors.append(str(e)))

            def refuse(route):  # self-contained means nothing is fetched from anywhere
                remote.append(route.request.url)
                route.abort()

            page.route("http*://**", refuse)
            page.goto((out / "report.html").as_uri(), wait_until="load", timeout=20_000)
            with contextlib.suppress(PlaywrightTimeout):  # the assertions below say what is missing
                page.wait_for_function(f"{DRAWN_SVG} >= {expected}", timeout=20_000)
            drawn = page.evaluate(DRAWN_SVG)
            plots = page.evaluate(DRAWN)
            ARTIFACTS.mkdir(exist_ok=True)
            page.screenshot(path=str(ARTIFACTS / "report.png"), full_page=True)
            yield {"expected": expected, "drawn": drawn, "plots": plots, "console": console, "errors": errors,
                   "remote": remote, "page": page}  # fmt: skip
        finally:
            browser.close()


def test_every_figure_is_drawn(page_of_report):
    r = page_of_report
    assert r["expected"] == 14  # the demo's figures (tests/reporting/test_report.py lists them)
    assert r["plots"] == r["expected"]
    assert r["drawn"] == r["expected"], f"{r['expected'] - r['drawn']} figure(s) not drawn; errors: {r['errors']}"


def test_no_console_or_page_error_and_nothing_fetched(page_of_report):
    r = page_of_report
    assert r["errors"] == []
    assert [text for kind, text in r["console"] if kind in ("error", "warning")] == []
    assert r["remote"] == []
    assert (ARTIFACTS / "report.png").stat().st_size > 100_000


def test_intraday_chart_is_on_trading_time(page_of_report):
    # Drawn, the 1-minute pair's x-axis carries its rangebreaks: plotly maps a bar just after
    # a session's close and the next session's open to adjacent pixels.
    page = page_of_report["page"]
    gap = page.evaluate(
        """() => {
            const gd = document.getElementById('fig-pair-intraday');
            const ax = gd._fullLayout.xaxis;
            const x = gd._fullData[0].x;
            let worst = 0;
            const px = x.map(v => ax.d2p(v));
            const steps = px.slice(1).map((v, i) => v - px[i]).filter(s => s >= 0);
            const median = steps.slice().sort((a, b) => a - b)[Math.floor(steps.length / 2)];
            for (const s of steps) worst = Math.max(worst, s / median);
            return {breaks: (ax.rangebreaks || []).length, worst: worst};
        }"""
    )
    assert gap["worst"] < 3, gap  # no step between bars is more than a few bars wide: no overnight gap
    assert gap["breaks"] >= 1
