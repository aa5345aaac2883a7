"""The project list and a project's settings in a real browser: add, create, check, configure."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

from playwright.sync_api import Browser, Page, expect

from tests.e2e.server import ServerProcess
from tests.ui.conftest import screenshot
from tests.ui.test_board import COLUMNS, page_expecting_errors


def type_path(page: Page, path: Path | str) -> None:
    """Type a path into the add form as a person would; the live check follows."""
    field = page.get_by_label("Repository path")
    field.fill("")
    field.press_sequentially(str(path))


def test_empty_state_then_add_an_existing_repository(
    server: ServerProcess, repo: Path, tmp_path: Path, page: Page
) -> None:
    server.open(page)
    expect(page.get_by_text("No projects yet.")).to_be_visible()
    expect(page.get_by_role("list", name="Projects")).to_have_count(0)
    check = page.locator("#path-check")

    type_path(page, tmp_path / "nowhere")
    expect(check).to_contain_text("does not exist")
    expect(check).to_contain_text("you can create a new repository here")

    plain = tmp_path / "plain"
    plain.mkdir()
    (plain / "notes.txt").write_text("not a repository\n")
    type_path(page, plain)
    expect(check).to_contain_text("not a git repository")
    expect(check).not_to_contain_text("create a new repository")

    type_path(page, repo)
    expect(check).to_have_text("✓ git repository on branch main")

    page.get_by_role("button", name="Add repository").click()
    page.wait_for_url(re.compile(r"/projects/[0-9a-f]+$"))
    expect(page.locator(".column h2")).to_have_text(COLUMNS)
    (project,) = server.api("GET", "/api/projects")
    assert page.url.endswith(f"/projects/{project['id']}")
    assert project["repo_path"] == str(repo) and project["name"] == "repo"

    server.open(page)
    listed = page.get_by_role("list", name="Projects").get_by_role("listitem")
    expect(listed).to_have_count(1)
    expect(listed).to_contain_text("repo")
    expect(listed).to_contain_text("0 tasks · branch main")
    expect(page.get_by_text("No projects yet.")).to_have_count(0)
    type_path(page, tmp_path / "next-project")
    expect(check).to_contain_text("does not exist")
    screenshot(page, "projects")


def test_create_a_new_repository(server: ServerProcess, tmp_path: Path, page: Page) -> None:
    target = tmp_path / "fresh" / "my-app"
    server.open(page)
    type_path(page, target)
    expect(page.locator("#path-check")).to_contain_text("does not exist")
    page.get_by_label("Name").fill("My app")
    page.get_by_role("button", name="Create a new repository here").click()

    page.wait_for_url(re.compile(r"/projects/[0-9a-f]+$"))
    expect(page.get_by_role("heading", level=1)).to_have_text("My app")
    expect(page.locator(".column h2")).to_have_text(COLUMNS)
    assert (target / ".git").is_dir()
    log = subprocess.run(
        ["git", "log", "--oneline"], cwd=target, capture_output=True, text=True, check=True
    )
    assert len(log.stdout.splitlines()) == 1
    assert (target / "README.md").read_text() == "# My app\n"


def test_a_duplicate_shows_the_api_error_in_the_form(
    server: ServerProcess, repo: Path, browser: Browser
) -> None:
    server.api("POST", "/api/projects", json={"path": str(repo)})
    with page_expecting_errors(browser) as page:
        server.open(page)
        type_path(page, repo)
        expect(page.locator("#path-check")).to_contain_text("already the project 'repo'")
        page.get_by_role("button", name="Add repository").click()
        error = page.locator("#add-project .form-error")
        expect(error).to_have_text(f"{repo} is already a project")
        expect(error).to_have_attribute("data-code", "project_exists")
        assert page.url.rstrip("/") == server.url  # still on the list
    assert len(server.api("GET", "/api/projects")) == 1


def test_project_settings_are_saved(server: ServerProcess, repo: Path, page: Page) -> None:
    project = server.api("POST", "/api/projects", json={"path": str(repo)})
    server.open(page, f"/projects/{project['id']}")
    page.get_by_role("link", name="Project settings").click()
    page.wait_for_url(f"**/projects/{project['id']}/settings")

    page.get_by_label("Dev server").fill("npm run dev -- --port $PORT")
    page.get_by_label("Files copied into each new worktree").fill(".env\nconfig/local.json\n")
    page.get_by_role("button", name="Save").click()
    expect(page.locator("#settings-saved")).to_have_text("Saved")

    page.reload()
    expect(page.get_by_label("Dev server")).to_have_value("npm run dev -- --port $PORT")
    expect(page.get_by_label("Files copied into each new worktree")).to_have_value(
        ".env\nconfig/local.json"
    )
    saved = server.api("GET", f"/api/projects/{project['id']}")
    assert saved["scripts"]["dev"] == "npm run dev -- --port $PORT"
    assert saved["copy_files"] == [".env", "config/local.json"]
    assert saved["name"] == "repo" and saved["default_branch"] == "main"  # untouched
