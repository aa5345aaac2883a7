"""The attempt header's actions, in a real browser against the real server: only those that can
work for the attempt's state (a running attempt can be stopped, a settled one merged, rebased,
pushed, previewed, opened in an editor), Delete behind a menu and a confirmation; and after a
merge that removed the worktree, a plain "merged" workspace: no internal error in any tab or
in its live stream, and no action that cannot work."""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.sync_api import Locator, Page, expect

from tests.e2e.server import ServerProcess, make_repo, wait_for
from tests.e2e.test_merge import git
from tests.e2e.test_previews import PREVIEW_ENV, STATIC, project_with
from tests.ui.conftest import screenshot
from tests.ui.test_accessibility import assert_every_control_named
from tests.ui.test_agent_tab import open_workspace
from tests.ui.test_attempt_panel import BUSY
from tests.ui.test_logs_tab import gated

TABS = ("Agent", "Logs", "Processes", "Preview", "Diff", "Tests", "API", "Artifacts")
# What a workspace must never show of an attempt whose worktree a merge removed.
INTERNAL = ("is not a worktree of", "worktree_missing", "not_a_worktree", "debug id")


@pytest.fixture
def server(tmp_path: Path) -> Iterator[ServerProcess]:
    env = {**PREVIEW_ENV, "PADDOCK_MERGE_REMOVES_WORKTREE": "true"}
    with ServerProcess(tmp_path / "data", env=env) as srv:
        yield srv


def start(server: ServerProcess, project: dict[str, Any], command: str) -> dict[str, Any]:
    task = server.api("POST", f"/api/projects/{project['id']}/tasks", json={"title": "Page"})
    attempt: dict[str, Any] = server.api(
        "POST",
        f"/api/tasks/{task['id']}/attempts",
        json={"agent": {"profile": "script", "command": command}},
    )
    return attempt


def settle(server: ServerProcess, attempt: dict[str, Any]) -> dict[str, Any]:
    return wait_for(
        lambda: (
            (a := server.api("GET", f"/api/attempts/{attempt['id']}"))["status"] not in BUSY and a
        ),
        60,
    )


def actions(page: Page) -> Locator:
    return page.get_by_role("form", name="Attempt actions")


def main_actions(page: Page) -> list[str]:
    return [t.strip() for t in actions(page).locator("button, a").all_inner_texts()]


def test_the_header_offers_what_can_work_now(
    server: ServerProcess, tmp_path: Path, page: Page
) -> None:
    repo = make_repo(tmp_path / "repo", {"index.html": "<h1>main</h1>\n"})
    remote = tmp_path / "remote.git"
    subprocess.run(["git", "init", "-q", "--bare", str(remote)], check=True)
    git(repo, "remote", "add", "origin", str(remote))
    gated(repo)
    project = project_with(server, repo, STATIC)
    waiting = "echo '<h1>attempt page</h1>' > index.html; while [ ! -f GO ]; do sleep 0.05; done"
    attempt = start(server, project, waiting)
    open_workspace(page, server, attempt)

    # Running: it can be stopped; nothing that needs it settled is offered.
    expect(page.locator("#attempt-status")).to_have_text("running", timeout=30_000)
    expect(actions(page).get_by_role("button", name="Stop")).to_be_visible()
    for name in ("Merge", "Rebase", "Push", "Pull request"):
        expect(actions(page).get_by_role("button", name=name, exact=True)).to_have_count(0)
    Path(attempt["worktree_path"], "GO").touch()

    # Awaiting review: merge, rebase, push, a pull request, the preview, the editor.
    expect(page.locator("#attempt-status")).to_have_text("awaiting review", timeout=30_000)
    expect(actions(page).get_by_role("button", name="Stop")).to_have_count(0)
    assert main_actions(page) == [
        "Merge",
        "Rebase",
        "Push",
        "Pull request",
        "Start preview",
        "Open in editor",
    ]
    editor = actions(page).get_by_role("link", name="Open in editor")
    expect(editor).to_have_attribute("href", f"vscode://file{attempt['worktree_path']}")
    # Delete is not one of them: it waits in the More menu, behind a confirmation.
    delete = page.get_by_role("button", name="Delete attempt")
    expect(delete).to_be_hidden()
    assert_every_control_named(page)
    screenshot(page, "attempt-header")

    # Start preview: once it runs, the header opens it (live) in a new tab.
    actions(page).get_by_role("button", name="Start preview").click()
    opener = actions(page).get_by_role("button", name="Open preview")
    expect(opener).to_be_visible(timeout=30_000)
    expect(actions(page).get_by_role("button", name="Start preview")).to_have_count(0)
    with page.context.expect_page() as opened:
        opener.click()
    expect(opened.value.locator("h1")).to_have_text("attempt page")
    host = attempt["id"][:10].lower()
    assert opened.value.url == f"http://{host}.preview.localhost:{server.preview_port}/"
    opened.value.close()

    # Push: the branch is on the remote.
    actions(page).get_by_role("button", name="Push").click()
    expect(page.locator("#toasts")).to_contain_text("Pushed.")
    head = git(Path(attempt["worktree_path"]), "rev-parse", "HEAD")
    assert git(remote, "rev-parse", attempt["branch"]) == head

    # Delete, from the menu, after saying yes.
    page.get_by_text("More", exact=True).click()
    expect(delete).to_be_visible()
    messages: list[str] = []

    def answer(dialog: Any) -> None:
        messages.append(dialog.message)
        dialog.accept()

    page.on("dialog", answer)
    delete.click()
    page.wait_for_url(f"**/projects/{project['id']}")
    assert "Delete this attempt and its worktree?" in messages[0]
    assert server.client.get(f"/api/attempts/{attempt['id']}").status_code == 404


def test_a_merged_attempt_whose_worktree_went_is_a_plain_merged_workspace(
    server: ServerProcess, tmp_path: Path, page: Page
) -> None:
    repo = make_repo(tmp_path / "repo", {"index.html": "<h1>main</h1>\n"})
    project = project_with(server, repo, STATIC, scripts={"dev": STATIC, "unit_test": "true"})
    attempt = settle(server, start(server, project, "echo v2 > index.html"))
    open_workspace(page, server, attempt)
    page.on("dialog", lambda dialog: dialog.accept())

    # The header's Merge: the settings' merge, which removes the worktree here.
    actions(page).get_by_role("button", name="Merge").click()
    expect(page.locator("#attempt-status")).to_have_text("merged", timeout=30_000)
    assert not Path(attempt["worktree_path"]).exists()
    assert git(repo, "show", "main:index.html") == "v2"

    def tab(name: str) -> Locator:
        page.get_by_role("tab", name=name).click()
        return page.get_by_role("tabpanel", name=name)

    def plain_merged() -> None:
        landed = page.locator("#attempt-landed")
        expect(landed).to_contain_text("Merged into main")
        expect(landed).to_contain_text("Its worktree was removed")
        assert main_actions(page) == []  # nothing that needs the worktree
        expect(page.get_by_text("More", exact=True)).to_be_visible()  # Delete still can
        for name in TABS:
            text = tab(name).inner_text()
            for word in INTERNAL:
                assert word not in text, (name, word, text)
        agent = tab("Agent")
        expect(agent.get_by_role("button", name="Send follow-up")).to_be_hidden()
        expect(agent).to_contain_text("No follow-up: the attempt has no worktree any more.")
        tests = tab("Tests")
        expect(tests.get_by_role("button", name="Run unit tests")).to_be_hidden()
        preview = tab("Preview")
        expect(preview.get_by_role("button", name="Start web")).to_be_hidden()
        expect(preview).to_contain_text("Nothing to preview: the attempt has no worktree")
        diff = tab("Diff")
        expect(diff.locator("#diff-gone")).to_contain_text(
            "The worktree was removed after the merge"
        )
        expect(diff.get_by_role("button", name="Merge into main")).to_have_count(0)
        expect(diff.get_by_role("button", name="Rebase onto main")).to_have_count(0)
        expect(tab("API").get_by_role("button", name="Generate spec")).to_be_hidden()

    plain_merged()  # live, as the merge happened on the open page
    screenshot(page, "attempt-merged")
    page.reload()
    plain_merged()  # and as the page is loaded now

    # The live stream's whole render (what a page gets after a gap) has no internal error.
    body = ""
    url = f"{server.url}/ui/attempts/{attempt['id']}/stream"
    with (
        httpx.Client(headers=server.auth, timeout=30) as client,
        client.stream("GET", url, params={"after": 0}) as response,
    ):
        assert response.status_code == 200
        for line in response.iter_lines():
            if not line and "event: patch" in body:
                break  # the end of its first message: the whole workspace
            body += line + "\n"
    assert 'id="attempt-header"' in body and 'id="diff-gone"' in body
    for word in INTERNAL:
        assert word not in body, word


@pytest.fixture
def editor_server(tmp_path: Path) -> Iterator[ServerProcess]:
    # A command editor: the server runs it on the worktree.
    env = {"PADDOCK_EDITOR": "touch {path}/.opened-in-editor"}
    with ServerProcess(tmp_path / "data", env=env) as srv:
        yield srv


def test_a_command_editor_is_run_by_the_server(
    editor_server: ServerProcess, tmp_path: Path, page: Page
) -> None:
    repo = make_repo(tmp_path / "repo", {"app.txt": "v1\n"})
    project = editor_server.api("POST", "/api/projects", json={"path": str(repo)})
    attempt = settle(editor_server, start(editor_server, project, "echo v2 > app.txt"))
    open_workspace(page, editor_server, attempt)
    actions(page).get_by_role("button", name="Open in editor").click()
    opened = Path(attempt["worktree_path"], ".opened-in-editor")
    wait_for(opened.exists, 10)
