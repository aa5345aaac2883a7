"""A newcomer's first look: the demo's hints on its board and its attempt (dismissed for good),
and what a new project's empty board asks for."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from paddock.services.demo import DEMO_NAME
from tests.e2e.server import ServerProcess
from tests.ui.test_board import WATCH_STREAMS, add_task, new_project, open_board


@pytest.fixture
def demo_server(tmp_path: Path) -> Iterator[ServerProcess]:
    with ServerProcess(tmp_path / "data", demo=True) as srv:
        yield srv


def demo_project(server: ServerProcess) -> dict[str, Any]:
    projects = server.api("GET", "/api/projects")
    project: dict[str, Any] = next(p for p in projects if p["name"] == DEMO_NAME)
    return project


def open_live(page: Page, server: ServerProcess, path: str) -> None:
    """Open a page and wait until its live stream is connected: its scripts have run."""
    page.add_init_script(WATCH_STREAMS)
    server.open(page, path)
    page.wait_for_function("window.__liveStreams > 0")


def test_the_demo_board_and_attempt_hint_the_way_until_dismissed(
    demo_server: ServerProcess, page: Page
) -> None:
    project = demo_project(demo_server)
    open_live(page, demo_server, f"/projects/{project['id']}")
    hint = page.get_by_role("complementary", name="This is the demo project")
    expect(hint).to_be_visible()
    expect(hint).to_contain_text("Open the card, then its attempt")
    expect(hint).to_contain_text("Preview")
    expect(hint).to_contain_text("Tests")

    tasks = demo_server.api("GET", f"/api/projects/{project['id']}/tasks")
    attempt = demo_server.api("GET", f"/api/tasks/{tasks[0]['id']}/attempts")[0]
    open_live(page, demo_server, f"/attempts/{attempt['id']}")
    workspace_hint = page.get_by_role("complementary", name="This is the demo's attempt")
    expect(workspace_hint).to_be_visible()
    expect(workspace_hint).to_contain_text("Try Preview")

    # Dismissed on the workspace: gone there for good, still shown on the board.
    workspace_hint.get_by_role("button", name="Dismiss this hint").click()
    expect(workspace_hint).to_be_hidden()
    open_live(page, demo_server, f"/attempts/{attempt['id']}")
    expect(page.locator(".hint")).to_have_count(1)  # rendered, and kept hidden
    expect(page.locator(".hint")).to_be_hidden()

    open_live(page, demo_server, f"/projects/{project['id']}")
    expect(hint).to_be_visible()
    hint.get_by_role("button", name="Dismiss this hint").click()
    expect(hint).to_be_hidden()
    page.reload()
    page.wait_for_function("window.__liveStreams > 0")
    expect(page.locator(".hint")).to_have_count(1)
    expect(page.locator(".hint")).to_be_hidden()


def test_no_hint_on_other_projects(server: ServerProcess, repo: Path, page: Page) -> None:
    project = new_project(server, repo)
    add_task(server, project, "Something")
    open_board(page, server, project)
    expect(page.locator(".hint")).to_have_count(0)
    expect(page.locator(".board-empty")).to_have_count(0)


def test_a_new_projects_board_says_what_to_do_first(
    server: ServerProcess, repo: Path, page: Page
) -> None:
    project = new_project(server, repo)
    server.api("PATCH", f"/api/projects/{project['id']}", json={"scripts": {"unit_test": "pytest"}})
    open_board(page, server, project)
    empty = page.get_by_role("region", name="No tasks yet")
    expect(empty).to_be_visible()
    expect(empty).to_contain_text(re.compile(r"dev\s+script runs each attempt's app[^;]*not set"))
    expect(empty).to_contain_text(re.compile(r"unit set,\s+e2e not set"))
    settings = empty.get_by_role("link", name="the project's settings")
    expect(settings).to_have_attribute("href", f"/projects/{project['id']}/settings#script-dev")

    empty.get_by_role("button", name="Add a task").click()
    expect(page.get_by_label("Title")).to_be_focused()
    page.get_by_label("Title").fill("The first task")
    page.get_by_role("button", name="Add task").click()
    expect(page.locator(".card", has_text="The first task")).to_be_visible()
    expect(empty).to_be_hidden()  # a board with a card needs no such help

    server.open(page, f"/projects/{project['id']}/settings#script-dev")
    expect(page.locator("#script-dev")).to_be_visible()  # where the link goes
