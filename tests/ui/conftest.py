"""Browser tests: Playwright's Python API driving Debian's Chromium against the real server.

The browser is Debian's `chromium` (installed by scripts/install --dev), never a downloaded
build. Screenshots of the pages go to test-artifacts/screenshots/ (kept by CI runs).
"""

from __future__ import annotations

import re
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from playwright.sync_api import Browser, ConsoleMessage, Page, expect, sync_playwright

from tests.e2e.server import ServerProcess, make_repo

SCREENSHOTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "screenshots"


def chromium_path() -> str:
    for name in ("chromium", "chromium-browser"):
        found = shutil.which(name)
        if found:
            return found
    raise RuntimeError("Chromium is not installed: run ./scripts/install --dev")


@pytest.fixture(scope="package")
def browser() -> Iterator[Browser]:
    # Package scope: Playwright's sync API holds an event loop as the main thread's running
    # one while it is open, so no asyncio test after tests/ui could run its own loop.
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=chromium_path(),
            # As root in CI containers Chromium's own sandbox cannot start.
            args=["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage"],
        )
        yield browser
        browser.close()


@pytest.fixture
def server(tmp_path: Path) -> Iterator[ServerProcess]:
    with ServerProcess(tmp_path / "data") as srv:
        yield srv


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    return make_repo(tmp_path / "repo", {"README.md": "# demo\n", "app.txt": "v1\n"})


@contextmanager
def watched_page(
    browser: Browser, viewport: dict[str, int], timeout_ms: int = 15_000
) -> Iterator[Page]:
    """A fresh page at `viewport`; any JavaScript error or failed request on it fails the
    test once it is closed."""
    context = browser.new_context(viewport=viewport)  # type: ignore[arg-type]
    page = context.new_page()
    problems: list[str] = []

    def on_console(message: ConsoleMessage) -> None:
        if message.type == "error":
            problems.append(f"console error: {message.text} at {message.location}")

    page.on("console", on_console)
    page.on("pageerror", lambda error: problems.append(f"page error: {error}"))
    page.set_default_timeout(timeout_ms)
    try:
        yield page
    finally:
        context.close()
    assert not problems, "\n".join(problems)


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    with watched_page(browser, {"width": 1400, "height": 900}) as fresh:
        yield fresh


ATTEMPT_IN_PANEL = re.compile(r"[?&]attempt=([0-9a-f]{32})")


def attempt_in_panel(page: Page) -> str:
    """The id of the attempt the board's side panel shows, once it shows one (its address
    says which: ?attempt=<id>)."""
    page.wait_for_url(ATTEMPT_IN_PANEL)
    expect(page.locator("#panel .workspace")).to_be_visible()
    found = ATTEMPT_IN_PANEL.search(page.url)
    assert found is not None
    return found[1]


def screenshot(page: Page, name: str) -> Path:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    page.screenshot(path=str(path))
    return path
