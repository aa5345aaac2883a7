"""The newcomer's tour of the demo attempt in Chromium, offline and with no API key: every tab
shows the demo agent's change at its best (Diff: its three files; Tests: a run that passes,
read from its JUnit report; API: the spec, and the new `name` parameter against main; Preview:
the changed page, its API answering), and merging from the Diff tab brings main the change and
no generated file."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

from playwright.sync_api import Page, expect

from tests.e2e.server import ServerProcess, wait_for
from tests.ui.conftest import screenshot
from tests.ui.test_agent_tab import open_workspace
from tests.ui.test_diff_tab import file_item

DEMO_FILES = ("api.py", "public/index.html", "tests/test_greeting_by_name.py")


def git(where: Path, *args: str) -> str:
    done = subprocess.run(["git", *args], cwd=where, capture_output=True, text=True, check=True)
    return done.stdout.strip()


def test_the_demo_tour_ends_green_with_a_clean_main(tmp_path: Path, page: Page) -> None:
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
        open_workspace(page, server, attempt)

        diff = page.get_by_role("tabpanel", name="Diff")
        page.get_by_role("tab", name="Diff", exact=True).click()
        expect(diff.locator("#diff-summary")).to_contain_text("3 files changed")
        for path in DEMO_FILES:
            expect(file_item(diff, path)).to_be_visible()
        expect(diff.locator(".diff-changes")).to_have_count(0)  # everything was committed
        expect(diff.locator("#diff-ignored")).to_have_count(0)

        page.get_by_role("tab", name="Tests", exact=True).click()
        page.get_by_role("button", name="Run unit tests").click()
        row = page.locator("#test-runs .test-run-row").first
        expect(row.locator(".test-status")).to_have_text("passed", timeout=60_000)
        expect(row.locator("td.passed")).to_have_text("7")
        screenshot(page, "demo-tests-passed")

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
        screenshot(page, "demo-api-diff")

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
