"""An attempt beside the board, in a real browser against the real server: opened from a card
(through its task panel) into the board's side panel with its live workspace; what the panel
shows and the workspace's tab are in the address, so a reload, Back and Forward and a shared
link show the same view; the full page is one link away and keeps the tab; closing the panel
closes its live streams; a new attempt started from the task panel opens beside the board."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlparse

from playwright.sync_api import Page, expect

from tests.e2e.server import ServerProcess, wait_for
from tests.ui.conftest import attempt_in_panel, screenshot
from tests.ui.test_accessibility import assert_every_control_named
from tests.ui.test_board import add_task, card, new_project

# Counts the live streams (htmx's SSE extension) the page opened and closed.
COUNT_STREAMS = """
window.__liveStreams = 0;
window.__closedStreams = 0;
document.addEventListener("htmx:sseOpen", () => { window.__liveStreams += 1; });
document.addEventListener("htmx:sseClose", () => { window.__closedStreams += 1; });
"""
BUSY = ("creating", "setting_up", "running")
# A script agent that writes a file named by its prompt (a follow-up's too): each turn's change.
WRITES_ITS_PROMPT = 'echo hello; read -r name; echo made > "${name:-first}.txt"'


def settled_attempt(server: ServerProcess, task: dict[str, Any], command: str) -> dict[str, Any]:
    attempt: dict[str, Any] = server.api(
        "POST",
        f"/api/tasks/{task['id']}/attempts",
        json={"agent": {"profile": "script", "command": command}},
    )
    wait_for(lambda: server.api("GET", f"/api/attempts/{attempt['id']}")["status"] not in BUSY, 60)
    return attempt


def follow_up(server: ServerProcess, attempt: dict[str, Any], prompt: str) -> None:
    server.api("POST", f"/api/attempts/{attempt['id']}/follow-ups", json={"prompt": prompt})


def address(page: Page) -> dict[str, str]:
    """The page's query parameters, as the page has them (Playwright's `page.url` may miss a
    `history.replaceState`)."""
    href = page.evaluate("location.href")
    return {k: v[0] for k, v in parse_qs(urlparse(href).query).items()}


def selected_tab(page: Page) -> str:
    return page.locator('#panel .tabs [role="tab"][aria-selected="true"]').inner_text()


def test_an_attempt_opens_beside_the_board_and_its_view_is_in_the_address(
    server: ServerProcess, repo: Path, page: Page
) -> None:
    project = new_project(server, repo)
    task = add_task(server, project, "Bump the app to v2")
    attempt = settled_attempt(server, task, WRITES_ITS_PROMPT)
    page.add_init_script(COUNT_STREAMS)
    server.open(page, f"/projects/{project['id']}")
    page.wait_for_function("window.__liveStreams === 1")  # the board's

    # From the card: its task panel, then the attempt, in the same side panel.
    card(page, task).click()
    panel = page.locator("#panel")
    expect(panel.get_by_role("heading", name="Bump the app to v2")).to_be_visible()
    assert address(page) == {"task": task["id"]}
    panel.get_by_role("link", name=attempt["branch"]).click()
    assert attempt_in_panel(page) == attempt["id"]
    assert address(page) == {"attempt": attempt["id"], "tab": "logs"}  # a script's first tab
    # The board stays beside it, live.
    expect(card(page, task)).to_be_visible()
    assert (panel.bounding_box() or {"x": 0})["x"] > 300
    # The workspace's own parts and its live stream, in the panel.
    page.wait_for_function("window.__liveStreams === 2")
    expect(panel.locator("#attempt-header")).to_contain_text(attempt["branch"])
    expect(panel.locator("#logview .log-stdout").filter(has_text="hello")).to_be_visible()
    panel.get_by_role("tab", name="Diff").click()
    assert address(page) == {"attempt": attempt["id"], "tab": "diff"}
    follow_up(server, attempt, "later")
    expect(panel.get_by_role("region", name="later.txt")).to_be_visible(timeout=30_000)  # live
    assert_every_control_named(page)
    screenshot(page, "attempt-panel")

    # A reload shows the same view: the panel, the attempt, the Diff tab, live again.
    page.reload()
    assert attempt_in_panel(page) == attempt["id"]
    expect(panel.get_by_role("tab", name="Diff")).to_have_attribute("aria-selected", "true")
    expect(panel.get_by_role("tabpanel", name="Diff")).to_be_visible()
    page.wait_for_function("window.__liveStreams === 2")
    follow_up(server, attempt, "latest")
    expect(panel.get_by_role("region", name="latest.txt")).to_be_visible(timeout=30_000)

    # Back and Forward walk the views: the Logs tab, the task, the board alone, and back.
    page.go_back()
    expect(panel.get_by_role("tab", name="Logs")).to_have_attribute("aria-selected", "true")
    assert address(page) == {"attempt": attempt["id"], "tab": "logs"}
    page.go_back()
    expect(panel.get_by_role("heading", name="Bump the app to v2", level=2)).to_be_visible()
    expect(panel.locator(".workspace")).to_have_count(0)
    assert address(page) == {"task": task["id"]}
    page.wait_for_function("window.__closedStreams === 1")  # the workspace's went with it
    page.go_back()
    expect(panel).to_be_hidden()
    assert address(page) == {}
    assert page.evaluate("window.__closedStreams") == 1  # the board's stays open
    page.go_forward()
    expect(panel.get_by_role("heading", name="Bump the app to v2", level=2)).to_be_visible()
    page.go_forward()
    assert attempt_in_panel(page) == attempt["id"]
    assert selected_tab(page) == "Logs"


def test_the_full_page_is_one_link_away_and_keeps_the_tab(
    server: ServerProcess, repo: Path, page: Page
) -> None:
    project = new_project(server, repo)
    task = add_task(server, project, "Bump the app to v2")
    attempt = settled_attempt(server, task, "echo hello")
    server.open(page, f"/projects/{project['id']}?attempt={attempt['id']}")
    assert attempt_in_panel(page) == attempt["id"]
    panel = page.locator("#panel")

    # The full page, on the tab the panel shows.
    panel.get_by_role("tab", name="Tests").click()
    panel.get_by_role("link", name="Open full page").click()
    page.wait_for_url(re.compile(rf"/attempts/{attempt['id']}\?tab=tests$"))
    expect(page.get_by_role("tab", name="Tests")).to_have_attribute("aria-selected", "true")
    expect(page.get_by_role("tabpanel", name="Tests")).to_be_visible()
    expect(page.locator("#panel")).to_have_count(0)
    # Its tab is in its address too; Back goes to the tab before.
    page.get_by_role("tab", name="Agent").click()
    assert address(page) == {"tab": "agent"}
    page.go_back()
    expect(page.get_by_role("tab", name="Tests")).to_have_attribute("aria-selected", "true")
    # And back beside the board.
    page.get_by_role("link", name="Show beside the board").click()
    assert attempt_in_panel(page) == attempt["id"]
    assert selected_tab(page) == "Tests"


def test_the_board_keeps_one_main_heading_with_an_attempt_beside_it(
    server: ServerProcess, repo: Path, page: Page
) -> None:
    """The board's title is the page's one h1; the attempt beside it is a level below, also
    after its live stream renders its header again. Its own page keeps the h1."""
    project = new_project(server, repo)
    task = add_task(server, project, "Tidy the README")
    attempt = settled_attempt(server, task, WRITES_ITS_PROMPT)
    server.open(page, f"/projects/{project['id']}?attempt={attempt['id']}")
    assert attempt_in_panel(page) == attempt["id"]
    panel = page.locator("#panel")
    h1 = page.locator("h1")
    expect(h1).to_have_count(1)
    expect(h1).to_have_text(project["name"])
    expect(panel.get_by_role("heading", name="Tidy the README", level=2)).to_be_visible()

    # A turn makes the live stream render the header again (a new element): still a level below.
    page.evaluate("document.getElementById('attempt-header').dataset.old = 'yes'")
    follow_up(server, attempt, "again")
    expect(panel.locator("#attempt-header")).not_to_have_attribute("data-old", "yes")
    expect(h1).to_have_count(1)
    expect(panel.get_by_role("heading", name="Tidy the README", level=2)).to_be_visible()

    server.open(page, f"/attempts/{attempt['id']}")
    expect(h1).to_have_count(1)
    expect(h1).to_have_text("Tidy the README")


def test_a_shared_link_opens_the_same_view(server: ServerProcess, repo: Path, page: Page) -> None:
    project = new_project(server, repo)
    task = add_task(server, project, "Write the changelog")
    attempt = settled_attempt(server, task, "echo done")
    server.open(page, f"/projects/{project['id']}?attempt={attempt['id']}&tab=processes")
    assert attempt_in_panel(page) == attempt["id"]
    expect(page.get_by_role("tabpanel", name="Processes")).to_be_visible()
    expect(page.locator("#process-rows tr[data-process-id]")).to_have_count(1)
    # The board's filter goes into the address beside the panel's view.
    page.get_by_label("Filter tasks").fill("changelog")
    wait_for(lambda: address(page).get("q") == "changelog", 10)
    assert address(page) == {"q": "changelog", "attempt": attempt["id"], "tab": "processes"}
    page.reload()
    assert attempt_in_panel(page) == attempt["id"]
    expect(page.get_by_label("Filter tasks")).to_have_value("changelog")
    # A task's panel too.
    server.open(page, f"/projects/{project['id']}?task={task['id']}")
    expect(
        page.locator("#panel").get_by_role("heading", name="Write the changelog", level=2)
    ).to_be_visible()
    # The ✕ closes it, and the address says so.
    page.get_by_role("button", name="Close the task panel").click()
    expect(page.locator("#panel")).to_be_hidden()
    assert address(page) == {}


def test_a_new_attempt_opens_beside_the_board(
    server: ServerProcess, repo: Path, page: Page
) -> None:
    project = new_project(server, repo)
    task = add_task(server, project, "Say hello")
    page.add_init_script(COUNT_STREAMS)
    server.open(page, f"/projects/{project['id']}")
    page.wait_for_function("window.__liveStreams === 1")
    card(page, task).click()
    panel = page.locator("#panel")
    panel.get_by_label("Agent", exact=True).select_option(label="Shell script")
    panel.get_by_label("Command").fill("echo hello from the panel")
    panel.get_by_role("button", name="Start attempt").click()
    attempt_id = attempt_in_panel(page)
    assert server.api("GET", f"/api/attempts/{attempt_id}")["task_id"] == task["id"]
    expect(panel.locator("#logview .log-stdout .log-text")).to_have_text(
        "hello from the panel", timeout=30_000
    )
    # Its card on the board beside it follows the attempt, live.
    expect(card(page, task).locator(".badge").first).to_have_text("awaiting review", timeout=30_000)
    # The task is one link away.
    panel.get_by_role("link", name="Task").click()
    # (The attempt's own title is a level-2 heading too beside the board: wait for it to go.)
    expect(panel.locator(".workspace")).to_have_count(0)
    expect(panel.get_by_role("heading", name="Say hello", level=2)).to_be_visible()
    assert address(page) == {"task": task["id"]}
