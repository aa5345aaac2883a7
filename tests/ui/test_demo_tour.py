"""The newcomer's tour of the demo attempt in Chromium, offline and with no API key: every tab
shows the demo agent's change at its best (Diff: its three files; Tests: a run that passes,
read from its JUnit report; API: the spec, and the new `name` parameter against main; Preview:
the changed page, its API answering), and merging from the Diff tab brings main the change and
no generated file. Walked from the demo's card on the board to its attempt in the side panel, at
a desktop's width and at a phone's (one column at a time, the panel over the whole screen).

With PADDOCK_UPDATE_DOCS_SCREENSHOTS=1 the desktop walk also refreshes docs/images/
attempt-panel.png (the attempt beside the board) and workspace.png (its page, Tests green)."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Page, ViewportSize, expect

from tests.e2e.server import ServerProcess, wait_for
from tests.ui.conftest import attempt_in_panel, screenshot
from tests.ui.test_board import DOCS_IMAGES, WATCH_STREAMS
from tests.ui.test_diff_tab import file_item

DEMO_FILES = ("api.py", "public/index.html", "tests/test_greeting_by_name.py")
DESKTOP: ViewportSize = {"width": 1440, "height": 900}
PHONE: ViewportSize = {"width": 390, "height": 844}
UPDATE_DOCS = os.environ.get("PADDOCK_UPDATE_DOCS_SCREENSHOTS") == "1"


def git(where: Path, *args: str) -> str:
    done = subprocess.run(["git", *args], cwd=where, capture_output=True, text=True, check=True)
    return done.stdout.strip()


def open_from_the_board(
    page: Page, server: ServerProcess, project: dict[str, Any], task: dict[str, Any]
) -> str:
    """Open the task's attempt the way a newcomer does: its card on the board (at a phone's
    width, its column picked from the steps first), then the attempt in the task's panel; the
    attempt opens in the side panel. Returns the attempt's id."""
    page.add_init_script(WATCH_STREAMS)
    server.open(page, f"/projects/{project['id']}")
    card = page.locator(f"#card-{task['id']}")
    if page.viewport_size == PHONE:
        steps = server.api("GET", f"/api/projects/{project['id']}/steps")
        (step,) = [s["name"] for s in steps if s["id"] == task["step_id"]]
        page.get_by_role("navigation", name="Steps").get_by_role("button", name=step).click()
        expect(card).to_be_in_viewport()
    card.click()
    page.locator("#panel .attempt-list a").first.click()
    shown = attempt_in_panel(page)
    page.wait_for_function("window.__liveStreams > 0")
    return shown


def run_the_unit_tests(page: Page) -> None:
    """The Tests tab: the demo's unit tests pass, all 7, and the runs table stays clear of the
    run's detail (in the side panel the tab is narrower than the window)."""
    page.get_by_role("tab", name="Tests", exact=True).click()
    page.get_by_role("button", name="Run unit tests").click()
    row = page.locator("#test-runs .test-run-row").first
    expect(row.locator(".test-status")).to_have_text("passed", timeout=60_000)
    expect(row.locator("td.passed")).to_have_text("7")
    runs = page.locator("#test-runs .test-runs-table").bounding_box()
    detail = page.locator("#test-run-detail .test-run-detail").bounding_box()
    assert runs is not None and detail is not None
    side_by_side = runs["x"] + runs["width"] <= detail["x"]
    assert side_by_side or runs["y"] + runs["height"] <= detail["y"], (runs, detail)


def screenshots_for_docs(
    page: Page, server: ServerProcess, attempt: dict[str, Any], panel_shot: Path
) -> None:
    """docs/images/attempt-panel.png: the attempt beside the board, its tests green; and
    workspace.png: the same attempt on its own page, on the Tests tab."""
    DOCS_IMAGES.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(panel_shot, DOCS_IMAGES / "attempt-panel.png")
    whole = page.context.new_page()
    whole.set_viewport_size(DESKTOP)
    server.open(whole, f"/attempts/{attempt['id']}")
    whole.get_by_role("tab", name="Tests", exact=True).click()
    status = whole.locator("#test-runs .test-run-row").first.locator(".test-status")
    expect(status).to_have_text("passed")
    shutil.copyfile(screenshot(whole, "demo-workspace-tests"), DOCS_IMAGES / "workspace.png")
    whole.close()


@pytest.mark.parametrize("viewport", [DESKTOP, PHONE], ids=["1440px", "390px"])
def test_the_demo_tour_ends_green_with_a_clean_main(
    tmp_path: Path, page: Page, viewport: ViewportSize
) -> None:
    page.set_viewport_size(viewport)
    env = {"DEMO_AGENT_DELAY": "0", "ANTHROPIC_API_KEY": "", "OPENAI_API_KEY": ""}
    with ServerProcess(tmp_path / "data", demo=True, env=env) as server:
        (project,) = server.api("GET", "/api/projects")
        (task,) = server.api("GET", f"/api/projects/{project['id']}/tasks")
        (attempt,) = server.api("GET", f"/api/tasks/{task['id']}/attempts")
        wait_for(
            lambda: (
                server.api("GET", f"/api/attempts/{attempt['id']}")["status"]
                not in ("creating", "setting_up", "running")
            ),
            60,
        )
        (task,) = server.api("GET", f"/api/projects/{project['id']}/tasks")  # where it is now
        assert open_from_the_board(page, server, project, task) == attempt["id"]
        if page.viewport_size == PHONE:  # the panel takes the whole screen
            box = page.locator("#panel").bounding_box()
            assert box is not None and box["x"] == 0 and box["width"] == PHONE["width"]

        diff = page.get_by_role("tabpanel", name="Diff")
        page.get_by_role("tab", name="Diff", exact=True).click()
        expect(diff.locator("#diff-summary")).to_contain_text("3 files changed")
        for path in DEMO_FILES:
            expect(file_item(diff, path)).to_be_visible()
        expect(diff.locator(".diff-changes")).to_have_count(0)  # everything was committed
        expect(diff.locator("#diff-ignored")).to_have_count(0)

        run_the_unit_tests(page)
        shot = screenshot(page, f"demo-tests-passed-{viewport['width']}")
        if UPDATE_DOCS and viewport == DESKTOP:
            screenshots_for_docs(page, server, attempt, panel_shot=shot)

        api = page.get_by_role("tabpanel", name="API", exact=True)
        page.get_by_role("tab", name="API", exact=True).click()
        api.get_by_role("button", name="Generate spec").click()
        expect(api.locator(".api-version")).to_have_text("1.1.0", timeout=30_000)
        api.get_by_role("button", name="Compare with main").click()
        compared = api.locator("#api-diff .api-diff-result")
        expect(compared).to_contain_text("version 1.0.0 → 1.1.0", timeout=30_000)
        changed = compared.get_by_role("list", name="Endpoints changed")
        expect(changed).to_contain_text("/api/greeting")
        expect(changed).to_contain_text(re.compile(r"name"))
        screenshot(page, f"demo-api-diff-{viewport['width']}")

        page.get_by_role("tab", name="Preview", exact=True).click()
        page.get_by_role("button", name="Start web").click()
        page.get_by_role("button", name="View web here").click()
        frame = page.frame_locator("#preview-frame")
        expect(frame.locator("h1")).to_contain_text("Hello from Paddock's demo agent")
        expect(frame.locator("#api-greeting")).to_have_text("Hello from Paddock's demo agent")

        # Nothing the tests, the spec or the preview ran left a file behind.
        worktree = Path(attempt["worktree_path"])
        assert git(worktree, "status", "--porcelain", "--ignored", "--untracked-files=all") == ""

        page.get_by_role("tab", name="Diff", exact=True).click()
        diff.get_by_role("form", name="Merge").get_by_role("button", name="Merge into main").click()
        expect(diff.locator("#diff-merged")).to_contain_text("Merged into main")
        repo = Path(project["repo_path"])
        files = set(git(repo, "ls-tree", "-r", "--name-only", "main").splitlines())
        assert set(DEMO_FILES) <= files
        assert not [f for f in files if "__pycache__" in f or f.endswith(".pyc")]
        assert git(repo, "status", "--porcelain", "--ignored", "--untracked-files=all") == ""
        page.goto("about:blank")  # its live stream ends before this test's server does
