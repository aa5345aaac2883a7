"""The workspace's Preview tab and the board's preview badge, in a real browser against the real
server: a preview started from the tab runs (live), shows the attempt's page in the embedded
view at device sizes, opens in a new tab through a one-time link, stops (live); Start all starts
every service; a failing dev script says why; a project without one says what to do; a board
card shows a badge while its attempt's preview runs."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Locator, Page, expect

from tests.e2e.server import ServerProcess, make_repo
from tests.e2e.test_previews import PREVIEW_ENV, STATIC, attempt_writing, project_with
from tests.ui.conftest import screenshot
from tests.ui.test_accessibility import assert_every_control_named
from tests.ui.test_agent_tab import open_workspace
from tests.ui.test_board import open_board

# The attempt's page: its number changes at every load (to see that Reload reloads).
PAGE = "<h1>attempt page</h1><p id=load></p><script>load.textContent = Math.random()</script>"


@pytest.fixture
def server(tmp_path: Path) -> Iterator[ServerProcess]:
    with ServerProcess(tmp_path / "data", env=PREVIEW_ENV) as srv:
        yield srv


def attempt_of(server: ServerProcess, tmp_path: Path, dev: str, **changes: Any) -> dict[str, Any]:
    """An attempt of a project whose dev script is `dev` (and `changes`, e.g. more services);
    its agent wrote index.html."""
    repo = make_repo(tmp_path / "repo", {"index.html": "<h1>main</h1>\n"})
    if dev:
        project = project_with(server, repo, dev, **changes)
    else:
        project = project_without_dev(server, repo)
    return attempt_writing(server, project, f"echo '{PAGE}' > index.html")


def project_without_dev(server: ServerProcess, repo: Path) -> dict[str, Any]:
    project: dict[str, Any] = server.api("POST", "/api/projects", json={"path": str(repo)})
    return project


def open_preview_tab(page: Page, server: ServerProcess, attempt: dict[str, Any]) -> Locator:
    open_workspace(page, server, attempt)  # its live stream is connected
    page.get_by_role("tab", name="Preview").click()
    panel = page.get_by_role("tabpanel", name="Preview")
    expect(panel).to_be_visible()
    return panel


def service(page: Page, name: str) -> Locator:
    return page.get_by_role("listitem", name=name)


def status_of(page: Page, name: str) -> Locator:
    return service(page, name).locator(".preview-status")


def test_a_preview_starts_shows_in_the_frame_opens_in_a_tab_and_stops(
    server: ServerProcess, tmp_path: Path, page: Page
) -> None:
    attempt = attempt_of(server, tmp_path, STATIC)
    open_preview_tab(page, server, attempt)
    expect(status_of(page, "web")).to_have_text("not started")
    assert_every_control_named(page)

    page.get_by_role("button", name="Start web").click()
    expect(status_of(page, "web")).to_have_text("running", timeout=30_000)  # live, no reload
    host = attempt["id"][:10].lower()
    expect(service(page, "web").locator(".preview-url")).to_have_text(
        f"http://{host}.preview.localhost:{server.preview_port}/"
    )
    assert "paddock_ticket" not in page.content()  # links are fetched on a click only
    assert_every_control_named(page)
    screenshot(page, "preview-tab-running")

    # The embedded view: the attempt's own page, through an embed link.
    page.get_by_role("button", name="View web here").click()
    frame = page.frame_locator("#preview-frame")
    expect(frame.locator("h1")).to_have_text("attempt page")
    iframe = page.locator("#preview-frame")
    for device, (width, height) in {"Phone": (390, 844), "Tablet": (820, 1180)}.items():
        page.get_by_role("button", name=device, exact=True).click()
        expect(page.get_by_role("button", name=device, exact=True)).to_have_attribute(
            "aria-pressed", "true"
        )
        expect(iframe).to_have_css("width", f"{width}px")
        expect(iframe).to_have_css("height", f"{height}px")
    page.get_by_role("button", name="Desktop", exact=True).click()
    expect(iframe).not_to_have_css("width", "820px")
    assert (iframe.bounding_box() or {"width": 0})["width"] > 820
    first_load = frame.locator("#load").inner_text()
    page.get_by_role("button", name="Reload").click()
    expect(frame.locator("#load")).not_to_have_text(first_load)
    expect(frame.locator("h1")).to_have_text("attempt page")
    assert_every_control_named(page)
    screenshot(page, "preview-tab")

    # Open: a fresh one-time link, in a new tab.
    with page.context.expect_page() as opened:
        page.get_by_role("button", name="Open web in a new tab").click()
    expect(opened.value.locator("h1")).to_have_text("attempt page")
    assert opened.value.url == f"http://{host}.preview.localhost:{server.preview_port}/"
    opened.value.close()

    # Log: the dev server's own log, in the Logs tab.
    page.get_by_role("button", name="Log of web").click()
    expect(page.get_by_role("tabpanel", name="Logs")).to_be_visible()
    pick = page.locator("#process-list .process-pick[data-reason='dev_server']")
    expect(pick).to_have_attribute("aria-pressed", "true")

    page.get_by_role("tab", name="Preview").click()
    page.get_by_role("button", name="Stop web").click()
    expect(status_of(page, "web")).to_have_text("stopped")
    expect(page.locator("#preview-viewer-status")).to_have_text(re.compile("web is stopped"))
    expect(iframe).to_have_attribute("src", "about:blank")
    expect(page.get_by_role("button", name="Start web")).to_be_visible()


def test_a_failing_dev_script_shows_why(server: ServerProcess, tmp_path: Path, page: Page) -> None:
    attempt = attempt_of(server, tmp_path, "echo boom >&2; exit 3")
    open_preview_tab(page, server, attempt)
    page.get_by_role("button", name="Start web").click()
    expect(status_of(page, "web")).to_have_text("failed", timeout=30_000)
    reason = page.get_by_label("Why the preview of web failed")
    expect(reason).to_contain_text("boom")
    expect(reason).to_contain_text("exited")
    expect(page.get_by_role("button", name="Start web")).to_be_visible()  # try again
    expect(page.get_by_role("button", name="View web here")).to_have_count(0)
    screenshot(page, "preview-tab-failed")


def test_start_all_starts_every_service(server: ServerProcess, tmp_path: Path, page: Page) -> None:
    attempt = attempt_of(server, tmp_path, STATIC, services={"docs": STATIC})
    open_preview_tab(page, server, attempt)
    expect(page.locator(".preview-service h3")).to_have_text(["docs", "web"])
    page.get_by_role("button", name="Start all").click()
    for name in ("docs", "web"):
        expect(status_of(page, name)).to_have_text("running", timeout=30_000)
    host = attempt["id"][:10].lower()
    expect(service(page, "docs").locator(".preview-url")).to_contain_text(f"//docs-{host}.")
    page.get_by_role("button", name="Stop docs").click()
    expect(status_of(page, "docs")).to_have_text("stopped")
    expect(status_of(page, "web")).to_have_text("running")


def test_a_project_without_a_dev_script_says_so(
    server: ServerProcess, tmp_path: Path, page: Page
) -> None:
    attempt = attempt_of(server, tmp_path, "")
    panel = open_preview_tab(page, server, attempt)
    expect(panel).to_contain_text("no dev script and no services")
    link = panel.get_by_role("link", name="project settings")
    expect(link).to_have_attribute("href", f"/projects/{attempt['project_id']}/settings")
    assert_every_control_named(page)


def test_the_board_card_shows_a_badge_while_a_preview_runs(
    server: ServerProcess, tmp_path: Path, page: Page
) -> None:
    attempt = attempt_of(server, tmp_path, STATIC)
    open_board(page, server, {"id": attempt["project_id"]})
    card = page.locator(f"#card-{attempt['task_id']}")
    badge = card.locator(".preview-badge")
    expect(card).to_be_visible()
    expect(badge).to_have_count(0)

    path = f"/api/attempts/{attempt['id']}/previews"
    [preview] = server.api("POST", path, json={"wait": True})
    assert preview["status"] == "running", preview
    expect(badge).to_have_text("● preview")  # live
    expect(badge).to_have_attribute("title", re.compile("preview starting or running"))
    expect(card).to_have_accessible_name(re.compile(", preview running$"))

    server.api("DELETE", f"/api/previews/{preview['id']}")
    expect(badge).to_have_count(0)
    expect(card).not_to_have_accessible_name(re.compile("preview"))
