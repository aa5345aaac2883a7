"""The workspace's Diff tab, in a real browser against the real server: an attempt's changed
files (a rename, a binary file, a coloured patch) in a unified and a split view; a file written
into the worktree shows up live, keeping the view; merging from the tab, refused while the base
moved on and landed after a rebase; a conflicting rebase lists its file and Abort ends it; a
push to a remote of the project's repository."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path
from typing import Any

from playwright.sync_api import Browser, Locator, Page, expect

from tests.e2e.server import ServerProcess
from tests.e2e.test_merge import commit, git, setup
from tests.e2e.test_pull_requests import FAKE_GH
from tests.ui.conftest import screenshot
from tests.ui.test_accessibility import assert_every_control_named
from tests.ui.test_agent_tab import open_workspace
from tests.ui.test_board import page_expecting_errors

CHANGES = "mv README.md DOC.md; echo v2 > app.txt; printf 'a\\000b\\001' > blob.bin"


def open_diff_tab(page: Page, server: ServerProcess, attempt: dict[str, Any]) -> Locator:
    open_workspace(page, server, attempt)  # its live stream is connected
    page.get_by_role("tab", name="Diff").click()
    panel = page.get_by_role("tabpanel", name="Diff")
    expect(panel).to_be_visible()
    return panel


def file_item(panel: Locator, path: str) -> Locator:
    return (
        panel.get_by_role("list", name="Changed files")
        .get_by_role("listitem")
        .filter(has_text=path)
    )


def test_the_tab_shows_the_changed_files_and_their_patches_live(
    server: ServerProcess, tmp_path: Path, page: Page
) -> None:
    _repo, attempt = setup(server, tmp_path, CHANGES)
    panel = open_diff_tab(page, server, attempt)
    expect(panel.locator("#diff-summary")).to_contain_text("3 files changed")
    renamed = file_item(panel, "DOC.md")
    expect(renamed.locator(".diff-status")).to_have_text("renamed")
    expect(renamed.locator(".diff-old-path")).to_have_text("from README.md")
    expect(file_item(panel, "blob.bin").locator(".diff-binary")).to_have_text("binary")
    app = panel.get_by_role("region", name="app.txt")
    added = app.locator(".diff-unified tr.line-add")
    removed = app.locator(".diff-unified tr.line-del")
    expect(added).to_contain_text("v2")
    expect(removed).to_contain_text("v1")
    expect(app.locator(".diff-unified tr.line-hunk")).to_contain_text("@@ -1 +1 @@")
    colour = added.locator("td.diff-text").evaluate("td => getComputedStyle(td).backgroundColor")
    other = removed.locator("td.diff-text").evaluate("td => getComputedStyle(td).backgroundColor")
    assert colour != other and "0, 0, 0, 0" not in colour
    expect(app.locator(".diff-split")).to_be_hidden()
    assert_every_control_named(page)
    screenshot(page, "diff-tab-unified")

    # Split: the removed line on the left, the added one on the right of the same row.
    panel.get_by_role("button", name="Split").click()
    expect(panel.get_by_role("button", name="Split")).to_have_attribute("aria-pressed", "true")
    expect(app.locator(".diff-unified")).to_be_hidden()
    row = app.locator(".diff-split tr").filter(has=page.locator("td.line-del"))
    expect(row.locator("td.line-del.diff-text")).to_have_text("v1")
    expect(row.locator("td.line-add.diff-text")).to_have_text("v2")
    screenshot(page, "diff-tab-split")

    # A file written into the worktree shows up live (attempt.diff_changed), escaped, and the
    # split view stays chosen.
    Path(attempt["worktree_path"], "late.txt").write_text("<b>late</b>\n")
    late = panel.get_by_role("region", name="late.txt")
    expect(late.locator(".diff-split td.line-add.diff-text")).to_have_text("<b>late</b>")
    expect(late.locator(".diff-unified")).to_be_hidden()
    expect(panel.locator("#diff-summary")).to_contain_text("uncommitted changes")
    expect(panel.get_by_role("button", name="Split")).to_have_attribute("aria-pressed", "true")


def test_merging_from_the_tab_is_refused_while_the_base_moved_then_lands(
    server: ServerProcess, tmp_path: Path, browser: Browser
) -> None:
    repo, attempt = setup(server, tmp_path, "echo v2 > app.txt")
    commit(repo, "other.txt", "meanwhile\n")
    with page_expecting_errors(browser) as page:
        panel = open_diff_tab(page, server, attempt)
        form = panel.get_by_role("form", name="Merge")
        form.get_by_role("button", name="Merge into main").click()
        error = form.locator(".form-error")
        expect(error).to_contain_text("main has new commits: rebase first")
        expect(error).to_have_attribute("data-code", "base_moved")
        screenshot(page, "diff-tab-base-moved")

        form.get_by_role("button", name="Rebase onto main").click()
        # The rebase went through (no conflict), which a toast says: merging lands it now.
        rebased = page.get_by_role("status").filter(has_text="Rebased onto the latest base.")
        expect(rebased).to_be_visible()
        page.get_by_label("Strategy").select_option("merge")
        page.get_by_role("form", name="Merge").get_by_role("button", name="Merge into main").click()
        expect(panel.locator("#diff-merged")).to_contain_text("Merged into main (merge)")
    assert (repo / "app.txt").read_text() == "v2\n"


def test_a_conflicting_rebase_lists_its_files_and_abort_ends_it(
    server: ServerProcess, tmp_path: Path, page: Page
) -> None:
    repo, attempt = setup(server, tmp_path, "echo v2 > app.txt")
    commit(repo, "app.txt", "v3\n")
    panel = open_diff_tab(page, server, attempt)
    panel.get_by_role("button", name="Rebase onto main").click()
    conflicts = panel.get_by_role("region", name="The rebase stopped at conflicts")
    expect(conflicts.get_by_role("list", name="Conflicted files")).to_have_text("app.txt")
    expect(page.locator("#attempt-status")).to_have_text("conflicted")
    expect(conflicts.get_by_role("button", name="Ask the agent")).to_be_visible()
    assert_every_control_named(page)
    screenshot(page, "diff-tab-conflicted")

    conflicts.get_by_role("button", name="Abort").click()
    expect(page.locator("#attempt-status")).to_have_text("awaiting review")
    expect(conflicts).to_have_count(0)
    expect(panel.get_by_role("form", name="Merge")).to_be_visible()


def test_push_sends_the_branch_to_the_chosen_remote(
    server: ServerProcess, tmp_path: Path, page: Page
) -> None:
    repo, attempt = setup(server, tmp_path, "echo v2 > app.txt")
    remote = tmp_path / "remote.git"
    subprocess.run(["git", "init", "-q", "--bare", str(remote)], check=True)
    git(repo, "remote", "add", "origin", str(remote))
    panel = open_diff_tab(page, server, attempt)
    form = panel.get_by_role("form", name="Push")
    expect(form.get_by_label("Remote")).to_have_value("origin")
    form.get_by_role("button", name=f"Push {attempt['branch']}").click()
    expect(page.get_by_role("status").filter(has_text="Pushed.")).to_be_visible()
    head = git(Path(attempt["worktree_path"]), "rev-parse", "HEAD")
    assert git(remote, "rev-parse", attempt["branch"]) == head


def test_a_pull_request_is_created_from_the_tab_and_its_state_refreshed(
    tmp_path: Path, page: Page
) -> None:
    tools = tmp_path / "tools"
    tools.mkdir()
    gh = tools / "gh"
    gh.write_text(FAKE_GH)
    gh.chmod(0o755)
    (tools / "state").write_text("OPEN\n")
    env = {"PATH": f"{tools}:{os.environ['PATH']}"}
    with ServerProcess(tmp_path / "data", env=env) as server:
        repo, attempt = setup(server, tmp_path, "echo v2 > app.txt")
        remote = tmp_path / "remote.git"
        subprocess.run(["git", "init", "-q", "--bare", str(remote)], check=True)
        # A GitHub remote whose pushes go to a mirror on disk.
        git(repo, "remote", "add", "origin", "https://github.com/o/r.git")
        git(repo, "remote", "set-url", "--push", "origin", str(remote))
        panel = open_diff_tab(page, server, attempt)
        form = panel.get_by_role("form", name="Pull request")
        form.get_by_label("Title").fill("Make it v2")
        form.get_by_role("button", name="Create pull request").click()
        pulls = panel.get_by_role("list", name="Pull requests")
        link = pulls.get_by_role("link", name="github #7")
        expect(link).to_have_attribute("href", "https://github.com/o/r/pull/7")
        expect(pulls.locator(".status")).to_have_text("open")
        assert git(remote, "rev-parse", attempt["branch"])  # pushed first
        (tools / "state").write_text("MERGED\n")
        pulls.get_by_role("button", name="Refresh the state of #7").click()
        expect(pulls.locator(".status")).to_have_text("merged")
        assert_every_control_named(page)
        page.goto("about:blank")  # its live stream ends before this test's server does


def test_uncommitted_changes_are_committed_or_discarded_from_the_tab(
    server: ServerProcess, tmp_path: Path, browser: Browser
) -> None:
    """A merge refused for uncommitted changes points at Commit and Discard, right above it;
    untracked files are marked, ignored ones (a cache) listed apart and never committed."""
    repo, attempt = setup(server, tmp_path, "echo v2 > app.txt")
    worktree = Path(attempt["worktree_path"])
    (worktree / "app.txt").write_text("mine\n")
    (worktree / "notes.md").write_text("my notes\n")
    (worktree / "__pycache__").mkdir()
    (worktree / "__pycache__" / "app.cpython-311.pyc").write_bytes(b"\x00bytecode")
    with page_expecting_errors(browser) as page:  # the refused merge answers 409
        panel = open_diff_tab(page, server, attempt)
        changes = panel.get_by_role("region", name="Uncommitted changes")
        expect(changes).to_be_visible()
        expect(file_item(panel, "notes.md").locator(".diff-untracked-file")).to_have_text(
            "untracked"
        )
        expect(file_item(panel, "app.txt").locator(".diff-untracked-file")).to_have_count(0)
        expect(file_item(panel, "__pycache__")).to_have_count(0)  # not a change...
        ignored = panel.locator("#diff-ignored")
        expect(ignored.locator("summary")).to_have_text("Ignored: 1 path, never committed")
        ignored.locator("summary").click()
        expect(ignored.get_by_role("list", name="Ignored paths")).to_have_text("__pycache__/")

        merge = panel.get_by_role("form", name="Merge")
        merge.get_by_role("button", name="Merge into main").click()
        error = merge.locator(".form-error")
        expect(error).to_contain_text("commit or discard them first")
        expect(error).to_have_attribute("data-code", "attempt_uncommitted")
        assert_every_control_named(page)
        screenshot(page, "diff-tab-uncommitted")

        commit_form = changes.get_by_role("form", name="Commit")
        commit_form.get_by_label("Message").fill("My notes and app")
        commit_form.get_by_role("button", name="Commit").click()
        expect(changes).to_have_count(0)  # nothing uncommitted any more (live)
        assert git(worktree, "log", "-1", "--format=%s") == "My notes and app"
        committed = git(worktree, "ls-tree", "-r", "--name-only", "HEAD").splitlines()
        assert "notes.md" in committed and not [p for p in committed if "pycache" in p]

        # A change made afterwards shows up live; Discard asks first, then puts the file back.
        (worktree / "app.txt").write_text("oops\n")
        expect(changes).to_be_visible()
        page.once("dialog", lambda dialog: dialog.dismiss())
        changes.get_by_role("form", name="Discard").get_by_role("button", name="Discard").click()
        expect(changes).to_be_visible()
        assert (worktree / "app.txt").read_text() == "oops\n"  # a "no" changes nothing
        page.once("dialog", lambda dialog: dialog.accept())
        changes.get_by_role("form", name="Discard").get_by_role("button", name="Discard").click()
        expect(changes).to_have_count(0)
        assert (worktree / "app.txt").read_text() == "mine\n"
        assert (worktree / "__pycache__" / "app.cpython-311.pyc").exists()  # ignored: it stays

        merge.get_by_role("button", name="Merge into main").click()
        expect(panel.locator("#diff-merged")).to_contain_text("Merged into main")
        assert (repo / "notes.md").read_text() == "my notes\n"
        assert not (repo / "__pycache__").exists()


def test_what_the_user_typed_and_chose_stays_through_live_re_renders(
    server: ServerProcess, tmp_path: Path, browser: Browser
) -> None:
    """The tab re-renders whenever the worktree changes (an agent writes files many times a
    second): a commit message being typed and a strategy chosen stay, even after a refusal, until
    the server takes their form."""
    repo, attempt = setup(server, tmp_path, "echo v2 > app.txt")
    worktree = Path(attempt["worktree_path"])
    (worktree / "notes.md").write_text("my notes\n")
    with page_expecting_errors(browser) as page:  # the refused merge answers 409
        panel = open_diff_tab(page, server, attempt)
        changes = panel.get_by_role("region", name="Uncommitted changes")
        merge = panel.get_by_role("form", name="Merge")
        merge.get_by_label("Strategy").select_option("merge")
        merge.get_by_role("button", name="Merge into main").click()
        expect(merge.locator(".form-error")).to_have_attribute("data-code", "attempt_uncommitted")
        changes.get_by_label("Message").fill("My notes")

        (worktree / "late.md").write_text("late\n")
        expect(file_item(panel, "late.md")).to_be_visible()  # re-rendered, live
        expect(changes.get_by_label("Message")).to_have_value("My notes")
        expect(merge.get_by_label("Strategy")).to_have_value("merge")

        changes.get_by_role("button", name="Commit").click()
        expect(changes).to_have_count(0)
        (worktree / "later.md").write_text("later\n")
        expect(changes.get_by_label("Message")).to_have_value("")  # the commit took it
        changes.get_by_label("Message").fill("Later")
        changes.get_by_role("button", name="Commit").click()
        expect(changes).to_have_count(0)

        merge.get_by_role("button", name="Merge into main").click()
        expect(panel.locator("#diff-merged")).to_contain_text("Merged into main (merge)")
    assert git(repo, "log", "-3", "--format=%s").splitlines()[1:] == ["Later", "My notes"]
