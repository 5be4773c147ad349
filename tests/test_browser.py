"""Open every page of the built book in headless Chromium, as a reader's browser would.

Checks that the maths is typeset by the offline MathJax (no raw ``$$`` left), every image
loaded, the solution dropdowns exist and open, and the console shows no errors. Saves a
screenshot of each page under ``_build/screenshots/`` for review.

Needs Debian's ``chromium`` and ``chromium-driver`` (``.ci/run`` installs them). Without
them the test is skipped locally, with a message saying how to enable it; in CI it fails.
"""

from __future__ import annotations

import functools
import http.server
import os
import shutil
import threading
from pathlib import Path

import pytest

from tests.site import HTML, book_pages, require_built_site

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMEDRIVER = shutil.which("chromedriver") or "/usr/bin/chromedriver"
SCREENSHOTS = HTML.parent / "screenshots"


def _require_chromium() -> None:
    if Path(CHROMIUM).exists() and Path(CHROMEDRIVER).exists():
        return
    message = "headless Chromium not found: `sudo apt-get install chromium chromium-driver` enables the browser check"
    if os.environ.get("CI"):
        pytest.fail(message)
    pytest.skip(message)


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args) -> None:
        return None


@pytest.fixture(scope="module")
def site_url():
    html = require_built_site()
    handler = functools.partial(_QuietHandler, directory=str(html))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


@pytest.fixture(scope="module")
def browser(tmp_path_factory):
    _require_chromium()
    os.environ.setdefault("SE_OFFLINE", "true")  # never let Selenium Manager look for downloads
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for argument in (
        "--headless=new",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--window-size=1280,1600",
        f"--user-data-dir={tmp_path_factory.mktemp('chromium-profile')}",
    ):
        options.add_argument(argument)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
    driver.set_page_load_timeout(60)
    yield driver
    driver.quit()


def _page_ids():
    return [page.stem for page in book_pages()] if HTML.exists() else []


@pytest.mark.parametrize("name", _page_ids() or ["(book not built)"])
def test_page_renders_in_a_browser(name, site_url, browser):
    from selenium.webdriver.support.ui import WebDriverWait

    browser.get(f"{site_url}/book/{name}.html")
    WebDriverWait(browser, 30).until(lambda d: d.execute_script("return document.readyState") == "complete")
    has_maths = browser.execute_script("return document.querySelectorAll('.math, span.math, div.math').length") > 0
    if has_maths:
        WebDriverWait(browser, 30).until(
            lambda d: d.execute_script(
                "return window.MathJax && MathJax.startup && MathJax.startup.promise "
                "&& document.querySelectorAll('mjx-container').length > 0"
            )
        )
        browser.execute_async_script("MathJax.startup.promise.then(arguments[arguments.length - 1]);")
        assert "$$" not in browser.execute_script("return document.querySelector('main').innerText")
        mathjax_src = browser.execute_script("return document.querySelector('script[src*=\"mathjax\"]').src")
        assert mathjax_src.startswith(site_url), f"MathJax must come from the book itself, not {mathjax_src}"

    text = browser.execute_script("return document.querySelector('main').innerText")
    for raw in ("```{", ":::{", "{doc}`", "{cite}`", "{ref}`", "{numref}`", "{eq}`", "{exercise-", "{solution-"):
        assert raw not in text, f"unrendered MyST markup on the page: {raw}"

    broken = browser.execute_script(
        "return Array.from(document.images).filter(i => !(i.complete && i.naturalWidth > 0)).map(i => i.src)"
    )
    assert not broken, f"images that did not load: {broken}"

    if name[:2].isdigit():
        n_solutions = browser.execute_script("return document.querySelectorAll('.solution.dropdown').length")
        assert n_solutions >= 3, "a chapter has at least three solutions in dropdowns"
        hidden = browser.execute_script(
            "const s = document.querySelector('.solution.dropdown');"
            "return s.classList.contains('toggle-hidden') || getComputedStyle(s.children[1]).display === 'none';"
        )
        assert hidden, "solutions start closed"
        browser.execute_script("document.querySelector('.solution.dropdown button.toggle-button').click();")
        WebDriverWait(browser, 10).until(
            lambda d: d.execute_script(
                "const s = document.querySelector('.solution.dropdown');"
                "return !s.classList.contains('toggle-hidden');"
            )
        )

    errors = [entry for entry in browser.get_log("browser") if entry["level"] == "SEVERE"]
    assert not errors, f"console errors: {errors}"

    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    browser.save_screenshot(str(SCREENSHOTS / f"{name}.png"))
