"""What a newcomer sees on the first start: the demo project's board, its attempt run by the
demo agent (no model, no key), and the agent's log streaming in the attempt's workspace."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from paddock.services.demo import DEMO_NAME, DEMO_TASK
from tests.e2e.server import ServerProcess
from tests.ui.conftest import attempt_in_panel, screenshot


@pytest.fixture
def demo_server(tmp_path: Path) -> Iterator[ServerProcess]:
    # Slow enough that the log is seen arriving, quick enough for a test.
    with ServerProcess(tmp_path / "data", demo=True, env={"DEMO_AGENT_DELAY": "0.3"}) as srv:
        yield srv


def test_the_demo_attempt_streams_its_log_in_the_browser(demo_server: ServerProcess, page: Page):
    demo_server.open(page)
    page.get_by_role("link", name=re.compile(DEMO_NAME)).first.click()
    expect(page.get_by_role("heading", name=DEMO_NAME, level=1)).to_be_visible()
    card = page.locator(".card", has_text=DEMO_TASK)
    expect(card).to_be_visible()

    card.click()
    panel = page.locator("#panel")
    panel.locator(".attempt-list a").first.click()
    attempt_in_panel(page)  # beside the board

    rows = page.locator("#logview .log-row")
    # Lines arrive while the agent runs: the first ones show before it has finished.
    expect(rows.filter(has_text="demo agent: this is a scripted demo")).to_be_visible()
    expect(rows.filter(has_text="demo agent: done")).to_be_visible(timeout=30_000)
    expect(page.locator("#attempt-status")).to_have_text("awaiting review", timeout=30_000)
    expect(page.locator("#log-status")).to_contain_text("exited 0")
    screenshot(page, "demo-workspace")

    page.get_by_role("button", name="Close the attempt panel").click()
    expect(page.locator(".card", has_text=DEMO_TASK).locator(".badge")).to_have_text(
        "awaiting review"
    )
