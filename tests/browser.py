"""Browser tests: Playwright's Python package driving Debian's Chromium.

No browser is downloaded: Playwright launches ``/usr/bin/chromium`` (the
``chromium`` Debian package, which .ci/run installs when it is missing).
Without it the browser tests are skipped with the reason, except where
``REQUIRE_BROWSER=1`` (.ci/run sets it), where they fail.

Fixtures (imported by tests/conftest.py, so every test may ask for them):
- ``browser``: one headless Chromium per test module. Not per session on
  purpose: while Playwright's synchronous API is open it keeps an asyncio loop
  running in the main thread, so any later test calling ``asyncio.run`` (the
  webhook intake's) would fail, and Django's guard against database calls
  from async code would stay off; closing it after each module ends both;
- ``page_at``: ``page_at(360)`` / ``page_at(1280)`` opens a page of a phone
  (360×780) or a desktop (1280×800), ``page_at(360, height=740)`` another
  height, in a fresh context (no cookies) whose
  browser asks for English (``Accept-Language: en-US``), as many phones in
  Vietnam do; pages and contexts are closed after the test;
- ``screenshot(page, name)`` (a plain function): saves the whole page (or the
  window only, ``full_page=False``) to
  ``var/screenshots/<name>.png``, prints the path, and the paths are listed
  again at the end of the run.

The pages run under the site's Content-Security-Policy (no eval): give
``page.wait_for_function`` a function (``"() => …"``), not an expression,
which Playwright would evaluate in the page with ``eval`` and the page would
refuse (``page.evaluate`` and ``add_init_script`` are not affected).

Tests using them take pytest-django's ``live_server`` (which needs
``transactional_db``) and open ``live_server.url + path``.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

CHROMIUM = Path(os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium"))
CHROMIUM_ARGS = ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage"]
SCREENSHOTS = Path(__file__).resolve().parent.parent / "var" / "screenshots"
VIEWPORTS = {360: 780, 1280: 800}  # width: height
BROWSER_LOCALE = "en-US"

_saved: list[Path] = []


# Every control a thumb must hit, at least 44 px high (a checkbox or radio
# counts by its label, which is what the thumb taps); hidden and off-screen
# ones are skipped. ``page.evaluate(TAP_TARGETS_TOO_SMALL)`` lists the offenders.
TAP_TARGETS_TOO_SMALL = """() => [...document.querySelectorAll('a, button, input:not([type=hidden]), select, textarea, summary')]
  .map(el => ['checkbox', 'radio'].includes(el.type) && el.closest('label') ? el.closest('label') : el)
  .map(el => [el, el.getBoundingClientRect()])
  .filter(([el, r]) => r.width > 0 && r.height > 0 && r.right > 0 && r.bottom > 0
                       && getComputedStyle(el).visibility !== 'hidden')
  .filter(([el, r]) => r.height < 44)
  .map(([el, r]) => `${el.tagName.toLowerCase()} "${(el.innerText || el.name || '').trim()}" ${Math.round(r.height)}px`)"""


def _unavailable(reason: str) -> None:
    if os.environ.get("REQUIRE_BROWSER") == "1":
        pytest.fail(f"{reason} (REQUIRE_BROWSER=1: browser tests must run here)", pytrace=False)
    pytest.skip(reason)


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    if not CHROMIUM.exists():
        _unavailable(f"no Chromium at {CHROMIUM}: apt-get install chromium to run the browser tests")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        _unavailable("the playwright package is not installed (requirements-dev.txt)")
    # Playwright's synchronous API keeps an asyncio loop running in this thread, which
    # makes Django refuse database calls from the test itself ("async context"); the
    # test and the loop never run at once, so the calls are safe. Until the module ends.
    previous = os.environ.get("DJANGO_ALLOW_ASYNC_UNSAFE")
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    try:
        with sync_playwright() as playwright:
            chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
            yield chromium
            chromium.close()
    finally:
        if previous is None:
            os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
        else:
            os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = previous


@pytest.fixture
def page_at(browser: Any) -> Iterator[Callable[..., Any]]:
    contexts: list[Any] = []

    def open_page(width: int, height: int | None = None) -> Any:
        context = browser.new_context(
            viewport={"width": width, "height": height or VIEWPORTS.get(width, 800)},
            locale=BROWSER_LOCALE,
            extra_http_headers={"Accept-Language": "en-US,en;q=0.9"},
        )
        context.set_default_timeout(15_000)
        contexts.append(context)
        return context.new_page()

    yield open_page
    for context in contexts:
        context.close()


def screenshot(page: Any, name: str, *, full_page: bool = True) -> Path:
    """Save the page (the whole of it, or what the window shows) as
    ``var/screenshots/<name>.png`` and print where."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=full_page)
    _saved.append(path)
    print(f"screenshot: {path}")
    return path


def pytest_terminal_summary(terminalreporter: Any) -> None:
    if _saved:
        terminalreporter.section("screenshots")
        terminalreporter.write_line(f"{len(_saved)} saved in {SCREENSHOTS}:")
        for path in _saved:
            terminalreporter.write_line(f"  {path}")
