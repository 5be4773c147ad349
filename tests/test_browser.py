"""Open every page of the built book in headless Chromium, as a reader's browser would.

Checks that the maths is typeset by the offline MathJax (no raw ``$$`` left), every image
loaded, the solution dropdowns exist and open, every animated figure's player works (its
controls change the frame, and it plays), and the console shows no errors. Saves a
screenshot of each page under ``_build/screenshots/`` for review, in the theme's light and
dark modes, and checks that figures keep their white ground in dark mode
(book/_static/natgrad.css). The player check runs on any matplotlib JavaScript player
found on a page, and on a page built here from ``natgrad.animation`` (so it is tested
before any chapter has an animation).

Needs Debian's ``chromium`` and ``chromium-driver`` (``.ci/run`` installs them). Without
them the test is skipped locally, with a message saying how to enable it; in CI it fails.
"""

from __future__ import annotations

import functools
import http.server
import os
import shutil
import threading
import time
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


def _serve(directory: Path):
    handler = functools.partial(_QuietHandler, directory=str(directory))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


@pytest.fixture(scope="module")
def site_url():
    html = require_built_site()
    server = _serve(html)
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


# Every matplotlib JavaScript player: its frame image, its slider and its buttons.
PLAYERS = "document.querySelectorAll('div.animation')"


def _player_state(browser, index: int) -> dict:
    return browser.execute_script(
        f"const p = {PLAYERS}[arguments[0]];"
        "const img = p.querySelector('img'); const slider = p.querySelector('input.anim-slider');"
        "return {src: img.src, alt: img.alt, frame: parseInt(slider.value), last: parseInt(slider.max),"
        " loaded: img.complete && img.naturalWidth > 0};",
        index,
    )


def _press(browser, index: int, title: str) -> None:
    browser.execute_script(f"{PLAYERS}[arguments[0]].querySelector('button[title=\"' + arguments[1] + '\"]').click();", index, title)


def check_animated_players(browser) -> int:
    """Work every player on the current page as a reader would; return how many there are."""
    from selenium.webdriver.support.ui import WebDriverWait

    n_players = browser.execute_script(f"return {PLAYERS}.length")
    for index in range(n_players):
        WebDriverWait(browser, 10).until(lambda d: _player_state(d, index)["last"] > 0 and _player_state(d, index)["loaded"])
        state = _player_state(browser, index)
        assert state["alt"].strip(), f"player {index}: its image has no alt text"
        assert state["last"] >= 1, f"player {index}: an animation needs two frames or more"
        _press(browser, index, "First frame")
        first = _player_state(browser, index)
        assert first["frame"] == 0
        _press(browser, index, "Next frame")
        second = _player_state(browser, index)
        assert second["frame"] == 1 and second["src"] != first["src"], f"player {index}: 'Next frame' did not change the frame"
        _press(browser, index, "Previous frame")
        assert _player_state(browser, index)["src"] == first["src"], f"player {index}: 'Previous frame' did not go back"
        _press(browser, index, "Last frame")
        last = _player_state(browser, index)
        assert last["frame"] == last["last"] and last["src"] != first["src"]
        _press(browser, index, "First frame")
        _press(browser, index, "Play")
        WebDriverWait(browser, 10).until(lambda d: _player_state(d, index)["frame"] >= 1)
        _press(browser, index, "Pause")
        paused = _player_state(browser, index)["frame"]
        time.sleep(0.5)
        assert _player_state(browser, index)["frame"] == paused, f"player {index}: 'Pause' did not stop it"
    return n_players


def screenshot_both_modes(browser, name: str) -> None:
    """Light and dark screenshots of the page's top and of its first figure; in dark mode,
    figures keep their white ground, undimmed."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    has_figure = browser.execute_script("return document.querySelector('main figure') !== null")
    for mode, suffix in (("light", ""), ("dark", "-dark")):
        browser.execute_script(f"document.documentElement.dataset.theme = '{mode}'; document.documentElement.dataset.mode = '{mode}';")
        if mode == "dark":
            looks = browser.execute_script(
                "return Array.from(document.querySelectorAll('main .cell_output img, main figure img'))"
                ".map(i => [getComputedStyle(i).backgroundColor, getComputedStyle(i).filter]);"
            )
            for background, image_filter in looks:
                assert background == "rgb(255, 255, 255)" and image_filter == "none", f"a figure in dark mode: {background}, {image_filter}"
        browser.execute_script("window.scrollTo(0, 0);")
        browser.save_screenshot(str(SCREENSHOTS / f"{name}{suffix}.png"))
        if has_figure:
            browser.execute_script("document.querySelector('main figure').scrollIntoView();")
            browser.save_screenshot(str(SCREENSHOTS / f"{name}-figure{suffix}.png"))
    browser.execute_script("document.documentElement.dataset.theme = 'light'; document.documentElement.dataset.mode = 'light';")


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

    check_animated_players(browser)

    errors = [entry for entry in browser.get_log("browser") if entry["level"] == "SEVERE"]
    assert not errors, f"console errors: {errors}"

    screenshot_both_modes(browser, name)


@pytest.mark.filterwarnings("ignore:Animation was deleted without rendering anything")
def test_animated_figure_plays_offline_in_a_browser(browser, tmp_path):
    """A throwaway page with two players from natgrad.animation, as a chapter would show them."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import numpy as np
    from matplotlib.animation import FuncAnimation

    from natgrad.animation import animated_figure

    def moving_dot(n_frames):
        fig, ax = plt.subplots(figsize=(2, 1.6), dpi=50)
        ax.set_xlim(0, 1)
        (dot,) = ax.plot([0.0], [0.5], "o")
        return FuncAnimation(fig, lambda k: dot.set_data([k / (n_frames - 1)], [0.5]) or (dot,), frames=n_frames, interval=50)

    players = [animated_figure(moving_dot(n), alt=f"A dot crosses the plot in {n} frames.", loop="loop") for n in (4, 6)]
    assert all(np.frombuffer(p.still_png[:8], dtype=np.uint8).tolist() == [137, 80, 78, 71, 13, 10, 26, 10] for p in players)
    (tmp_path / "index.html").write_text(
        "<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'><link rel='icon' href='data:,'><title>players</title></head><body>"
        + "".join(player.html for player in players)
        + "</body></html>",
        encoding="utf-8",
    )
    server = _serve(tmp_path)
    try:
        browser.get(f"http://127.0.0.1:{server.server_address[1]}/index.html")
        browser.get_log("browser")
        assert check_animated_players(browser) == 2
        assert [_player_state(browser, i)["last"] for i in range(2)] == [3, 5]
        errors = [entry for entry in browser.get_log("browser") if entry["level"] == "SEVERE"]
        assert not errors, f"console errors: {errors}"
    finally:
        server.shutdown()
        server.server_close()
