"""The dashboard in a real browser: Debian's headless Chromium driven by Playwright.

Starts ``streamlit run`` on a free loopback port, opens every page, waits for it to render,
checks that no exception element is shown and that a chart (or the scan table) is drawn,
clicks through the navigation, and saves a screenshot of each page in ``test-artifacts/``.
"""

import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from astra.dashboard import APP

pytestmark = pytest.mark.browser
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
ARTIFACTS = Path(__file__).parents[2] / "test-artifacts"
CHART, TABLE = ".js-plotly-plot", "[data-testid='stDataFrame']"
PAGES = [("", CHART), ("funding", CHART), ("optimizer", CHART), ("risk", CHART), ("statarb", CHART),
         ("scanner", TABLE)]  # fmt: skip


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="module")
def server():
    if not Path(CHROMIUM).exists():
        pytest.skip("Debian's chromium is not installed (.ci/run installs it with apt-get)")
    port = free_port()
    env = {**os.environ, "STREAMLIT_BROWSER_GATHER_USAGE_STATS": "false"}
    started = time.perf_counter()
    command = [sys.executable, "-m", "streamlit", "run", str(APP), "--server.port", str(port),
               "--server.address", "127.0.0.1", "--server.headless", "true"]  # fmt: skip
    proc = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env)
    url = f"http://127.0.0.1:{port}"
    deadline = time.time() + 60
    while time.time() < deadline:
        try:
            with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as response:
                if response.status == 200:
                    break
        except OSError:
            time.sleep(0.3)
    else:
        proc.kill()
        pytest.fail("streamlit did not answer its health check within 60 s")
    yield url, started
    proc.terminate()
    try:
        proc.wait(15)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(5)


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        instance = p.chromium.launch(
            executable_path=CHROMIUM,
            args=[
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--no-first-run",
            ],
        )
        yield instance
        instance.close()


def settle(page, ready: str) -> None:
    page.wait_for_selector("[data-testid='stApp']", timeout=60_000)
    page.wait_for_selector(ready, timeout=120_000)
    # wait until Streamlit has finished running the script (no status widget "Running…")
    page.wait_for_function("() => !document.querySelector('[data-testid=\"stStatusWidget\"]')", timeout=120_000)


@pytest.mark.parametrize(("path", "ready"), PAGES)
def test_page_renders_without_exception(server, browser, path, ready):
    url, started = server
    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    page.goto(f"{url}/{path}")
    settle(page, ready)
    assert page.locator("[data-testid='stException']").count() == 0
    assert page.locator(ready).count() >= 1
    ARTIFACTS.mkdir(exist_ok=True)
    assert page.get_by_text("Page not found").count() == 0
    page.screenshot(path=str(ARTIFACTS / f"dashboard-{path or 'data'}.png"), full_page=True)
    if path == "":  # the first page a user sees (Data): interactive soon after the server started
        (ARTIFACTS / "dashboard-first-page-seconds.txt").write_text(f"{time.perf_counter() - started:.2f}\n")
    page.close()


def test_navigation_clicks_through(server, browser):
    url, _ = server
    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    page.goto(url)
    settle(page, ".js-plotly-plot")
    for title, path in (("Optimiser", "optimizer"), ("Stat-arb", "statarb"), ("Book & funding", "funding")):
        page.locator("[data-testid='stSidebarNavLink']", has_text=title).first.click()
        page.wait_for_url(f"**/{path}", timeout=30_000)
        settle(page, ".js-plotly-plot")
        assert page.locator("[data-testid='stException']").count() == 0
    page.close()
