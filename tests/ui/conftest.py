"""Browser tests: Playwright's Python API driving Debian's Chromium against the real server.

The browser is Debian's `chromium` (installed by scripts/install --dev), never a downloaded
build. Screenshots of the pages go to test-artifacts/screenshots/ (kept by CI runs).
"""

from __future__ import annotations

import re
import shutil
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from playwright.sync_api import (
    Browser,
    ConsoleMessage,
    Error,
    Frame,
    Page,
    Request,
    Response,
    expect,
    sync_playwright,
)

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
    story = PageStory(page)
    try:
        yield page
    except BaseException:
        print(story.told())  # in the failure's report: what the page did before it failed
        raise
    finally:
        context.close()
    assert not problems, "\n".join(problems)


STORY_LINES = 60


class PageStory:
    """What a page did, timed: where it went, its requests' answers (static files left out),
    its console lines. Told when a test fails, with the toasts it showed: a flake is read from
    it, not guessed at."""

    def __init__(self, page: Page) -> None:
        self.page = page
        self.start = time.monotonic()
        self.lines: list[str] = []
        page.on("framenavigated", self._navigated)
        page.on("response", self._answered)
        page.on("requestfailed", self._failed)
        page.on("console", lambda message: self._add(f"console {message.type}: {message.text}"))

    def _add(self, line: str) -> None:
        self.lines.append(f"{time.monotonic() - self.start:8.3f}s {line}")

    def _navigated(self, frame: Frame) -> None:
        if frame == self.page.main_frame:
            self._add(f"at {frame.url}")

    def _answered(self, response: Response) -> None:
        if "/static/" not in response.url:
            self._add(f"{response.request.method} {response.url} -> {response.status}")

    def _failed(self, request: Request) -> None:
        self._add(f"{request.method} {request.url} failed: {request.failure}")

    def told(self) -> str:
        try:
            toasts = self.page.locator(".toast").all_inner_texts()
        except Error as exc:
            toasts = [f"(cannot be read: {exc.message})"]
        lines = "\n".join(self.lines[-STORY_LINES:])
        return f"what the page did (its last {STORY_LINES} lines):\n{lines}\ntoasts: {toasts}"


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
