"""The board in a real browser: cards created, moved, filtered, edited and paged, all live."""

from __future__ import annotations

import os
import re
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from playwright.sync_api import Browser, Locator, Page, Route, expect

from tests.e2e.server import ServerProcess
from tests.ui.conftest import attempt_in_panel, screenshot

COLUMNS = ["To do", "In progress", "In review", "Done", "Cancelled"]
DOCS_IMAGES = Path(__file__).resolve().parents[2] / "docs" / "images"

# Set by an init script: the board's live stream is connected, so changes made now reach it.
WATCH_STREAMS = """
window.__liveStreams = 0;
document.addEventListener("htmx:sseOpen", () => { window.__liveStreams += 1; });
"""


# --- helpers -------------------------------------------------------------------------------


def new_project(server: ServerProcess, repo: Path, name: str | None = None) -> dict[str, Any]:
    body = {"path": str(repo), "name": name}
    project: dict[str, Any] = server.api("POST", "/api/projects", json=body)
    steps = server.api("GET", f"/api/projects/{project['id']}/steps")
    project["steps"] = {step["name"]: step["id"] for step in steps}
    return project


def add_task(
    server: ServerProcess, project: dict[str, Any], title: str, column: str = "To do"
) -> dict[str, Any]:
    body = {"title": title, "step_id": project["steps"][column]}
    task: dict[str, Any] = server.api("POST", f"/api/projects/{project['id']}/tasks", json=body)
    return task


def titles_in_api(server: ServerProcess, project: dict[str, Any], column: str) -> list[str]:
    tasks = server.api(
        "GET",
        f"/api/projects/{project['id']}/tasks",
        params={"step_id": project["steps"][column]},
    )
    return [task["title"] for task in tasks]


def open_board(page: Page, server: ServerProcess, project: dict[str, Any], query: str = "") -> None:
    """Load the board and wait until its live stream is connected."""
    page.add_init_script(WATCH_STREAMS)
    server.open(page, f"/projects/{project['id']}{query}")
    page.wait_for_function("window.__liveStreams > 0")


def cards(page: Page, project: dict[str, Any], column: str) -> Locator:
    return page.locator(f"#cards-{project['steps'][column]} > .card")


@contextmanager
def moving(page: Page) -> Iterator[None]:
    """Wait for the move the board sends: SortableJS moves the card in the page first."""
    with page.expect_response(
        lambda response: "/api/tasks/" in response.url and response.request.method == "PATCH"
    ):
        yield


def card(page: Page, task: dict[str, Any]) -> Locator:
    return page.locator(f"#card-{task['id']}")


def expect_count(page: Page, project: dict[str, Any], column: str, number: int) -> None:
    """The count in a column's head: "2" to the eye, "2 tasks" to a screen reader."""
    plural = "" if number == 1 else "s"
    badge = page.locator(f"#count-{project['steps'][column]}")
    expect(badge).to_have_text(f"{number} task{plural}")
    expect(badge.locator(".visually-hidden")).to_have_text(f" task{plural}")


@contextmanager
def page_expecting_errors(browser: Browser) -> Iterator[Page]:
    """Like the `page` fixture, for a test that provokes an error answer on purpose: the
    browser's and htmx's console reports of 4xx answers are expected, anything else fails."""
    context = browser.new_context(viewport={"width": 1400, "height": 900})
    page = context.new_page()
    expected = re.compile(r"status of 4\d\d|Response Status Error Code 4\d\d")
    problems: list[str] = []
    page.on(
        "console",
        lambda m: m.type == "error" and not expected.search(m.text) and problems.append(m.text),
    )
    page.on("pageerror", lambda error: problems.append(f"page error: {error}"))
    page.set_default_timeout(15_000)
    try:
        yield page
    finally:
        context.close()
    assert not problems, "\n".join(problems)


# --- tests ---------------------------------------------------------------------------------


def test_board_shows_the_five_columns_and_new_cards_live(
    server: ServerProcess, repo: Path, page: Page
) -> None:
    project = new_project(server, repo)
    open_board(page, server, project)
    expect(page.locator(".column h2")).to_have_text(COLUMNS)
    expect(page.locator("#column-" + project["steps"]["To do"] + " .column-empty")).to_be_visible()
    page.evaluate("window.__sameDocument = true")

    page.get_by_role("button", name="New task").click()
    page.get_by_label("Title").fill("Write the README")
    page.get_by_label("Description").fill("What it is, how to install it.")
    page.get_by_role("button", name="Add task").click()
    expect(cards(page, project, "To do")).to_have_text([re.compile("Write the README")])
    expect_count(page, project, "To do", 1)
    expect(page.get_by_label("Title")).to_have_value("")  # the form is ready for the next one
    expect(page.get_by_label("Title")).to_be_focused()

    # Another client creates a task: it shows up here too.
    add_task(server, project, "Made through the API")
    expect(cards(page, project, "To do")).to_have_text(
        [re.compile("Write the README"), re.compile("Made through the API")]
    )
    expect_count(page, project, "To do", 2)
    assert page.evaluate("window.__sameDocument") is True  # no reload happened


def test_changes_before_the_stream_connects_are_not_lost(
    server: ServerProcess, repo: Path, page: Page
) -> None:
    project = new_project(server, repo)
    made: list[dict[str, Any]] = []

    def create_then_connect(route: Route) -> None:
        # The page is rendered, its live stream not connected yet: a change now still shows.
        if not made:
            made.append(add_task(server, project, "Created meanwhile"))
        route.continue_()

    page.route("**/board/stream?*", create_then_connect)
    open_board(page, server, project)
    expect(cards(page, project, "To do")).to_have_text([re.compile("Created meanwhile")])
    expect_count(page, project, "To do", 1)


def test_drag_a_card_to_another_column(server: ServerProcess, repo: Path, page: Page) -> None:
    project = new_project(server, repo)
    first = add_task(server, project, "Drag me")
    add_task(server, project, "Stay here")
    open_board(page, server, project)

    with moving(page):
        card(page, first).drag_to(page.locator(f"#cards-{project['steps']['In progress']}"))
    expect(cards(page, project, "In progress")).to_have_text([re.compile("Drag me")])
    expect(cards(page, project, "To do")).to_have_text([re.compile("Stay here")])
    expect_count(page, project, "In progress", 1)
    expect_count(page, project, "To do", 1)
    assert (
        server.api("GET", f"/api/tasks/{first['id']}")["step_id"]
        == (project["steps"]["In progress"])
    )

    page.reload()
    expect(cards(page, project, "In progress")).to_have_text([re.compile("Drag me")])


def test_reorder_cards_within_a_column(server: ServerProcess, repo: Path, page: Page) -> None:
    project = new_project(server, repo)
    for title in ("First", "Second", "Third"):
        add_task(server, project, title)
    open_board(page, server, project)

    column = cards(page, project, "To do")
    with moving(page):
        column.nth(2).drag_to(column.nth(0), target_position={"x": 20, "y": 5})
    expect(column).to_have_text([re.compile(t) for t in ("Third", "First", "Second")])
    assert titles_in_api(server, project, "To do") == ["Third", "First", "Second"]


def test_keyboard_moves_a_card_and_keeps_focus(
    server: ServerProcess, repo: Path, page: Page
) -> None:
    project = new_project(server, repo)
    task = add_task(server, project, "Move me with keys")
    add_task(server, project, "Other")
    open_board(page, server, project)

    card(page, task).focus()
    with moving(page):
        page.keyboard.press("Alt+ArrowRight")
    expect(cards(page, project, "In progress")).to_have_text([re.compile("Move me with keys")])
    expect(card(page, task)).to_be_focused()
    assert (
        server.api("GET", f"/api/tasks/{task['id']}")["step_id"]
        == (project["steps"]["In progress"])
    )

    with moving(page):
        page.keyboard.press("Alt+ArrowLeft")
    expect(cards(page, project, "To do")).to_have_text(
        [re.compile("Move me with keys"), re.compile("Other")]
    )
    expect(card(page, task)).to_be_focused()
    with moving(page):
        page.keyboard.press("Alt+ArrowDown")
    expect(cards(page, project, "To do")).to_have_text(
        [re.compile("Other"), re.compile("Move me with keys")]
    )
    expect(card(page, task)).to_be_focused()
    assert titles_in_api(server, project, "To do") == ["Other", "Move me with keys"]


def test_filter_narrows_the_cards_on_the_server(
    server: ServerProcess, repo: Path, page: Page
) -> None:
    project = new_project(server, repo)
    add_task(server, project, "Fix the login bug")
    add_task(server, project, "Write the docs")
    add_task(server, project, "Fix the signup bug", column="In review")
    open_board(page, server, project)

    page.get_by_label("Filter tasks").fill("fix")
    expect(page).to_have_url(re.compile(r"\?q=fix$"))
    expect(cards(page, project, "To do")).to_have_text([re.compile("Fix the login bug")])
    expect(cards(page, project, "In review")).to_have_text([re.compile("Fix the signup bug")])
    expect_count(page, project, "To do", 1)

    page.get_by_label("Filter tasks").fill("")
    expect(cards(page, project, "To do")).to_have_count(2)
    expect_count(page, project, "To do", 2)
    expect(page).not_to_have_url(re.compile(r"q=fix"))

    # The filter is part of the address: opening it shows the filtered board.
    open_board(page, server, project, "?q=docs")
    expect(page.get_by_label("Filter tasks")).to_have_value("docs")
    expect(page.locator(".card")).to_have_text([re.compile("Write the docs")])


def test_task_panel_edits_the_card_live(server: ServerProcess, repo: Path, page: Page) -> None:
    project = new_project(server, repo)
    task = add_task(server, project, "Old title")
    open_board(page, server, project)

    card(page, task).click()
    panel = page.locator("#panel")
    expect(panel).to_be_visible()
    expect(panel.get_by_role("heading", name="Old title")).to_be_visible()
    panel.get_by_label("Title").fill("New title")
    panel.get_by_role("button", name="Save").click()
    expect(panel.get_by_role("status")).to_have_text("Saved")
    expect(card(page, task).locator(".card-title")).to_have_text("New title")
    assert server.api("GET", f"/api/tasks/{task['id']}")["title"] == "New title"
    screenshot(page, "task-panel")

    panel.get_by_role("button", name="Close the task panel").click()
    expect(panel).to_be_hidden()


def test_start_an_attempt_from_the_panel(server: ServerProcess, repo: Path, page: Page) -> None:
    project = new_project(server, repo)
    task = add_task(server, project, "Bump the app to v2")
    open_board(page, server, project)

    card(page, task).click()
    panel = page.locator("#panel")
    panel.get_by_label("Agent", exact=True).select_option(label="Shell script")
    panel.get_by_label("Command").fill("echo hello; echo v2 > app.txt")
    panel.get_by_role("button", name="Start attempt").click()

    attempt_id = attempt_in_panel(page)  # it opens beside the board
    expect(page.locator("#attempt-status")).to_have_text("awaiting review", timeout=30_000)
    attempt = server.api("GET", f"/api/attempts/{attempt_id}")
    assert attempt["task_id"] == task["id"]
    assert (Path(attempt["worktree_path"]) / "app.txt").read_text() == "v2\n"
    screenshot(page, "workspace")

    open_board(page, server, project)
    expect(card(page, task).locator(".badge")).to_have_text("awaiting review")
    expect(card(page, task)).to_contain_text("script")


def test_delete_a_task_from_the_panel(server: ServerProcess, repo: Path, page: Page) -> None:
    project = new_project(server, repo)
    task = add_task(server, project, "Delete me")
    open_board(page, server, project)

    page.on("dialog", lambda dialog: dialog.accept())
    card(page, task).click()
    page.locator("#panel").get_by_role("button", name="Delete task").click()
    expect(page.locator("#panel")).to_contain_text("Task deleted.")
    expect(card(page, task)).to_have_count(0)
    expect_count(page, project, "To do", 0)
    assert server.client.get(f"/api/tasks/{task['id']}").status_code == 404


def test_a_long_column_shows_50_cards_then_more(
    server: ServerProcess, repo: Path, page: Page
) -> None:
    project = new_project(server, repo)
    for i in range(60):
        add_task(server, project, f"Task {i:02}")
    open_board(page, server, project)

    column = cards(page, project, "To do")
    expect(column).to_have_count(50)
    expect_count(page, project, "To do", 60)
    # A card created below the loaded part of the column shows at once, at the end of the
    # loaded part; "Show more" then puts it in its place, once.
    add_task(server, project, "Task 60")
    expect_count(page, project, "To do", 61)
    expect(column).to_have_count(51)
    expect(column.last.locator(".card-title")).to_have_text("Task 60")

    more = page.get_by_role("button", name="Show 10 more")
    more.click()
    expect(column).to_have_count(61)
    expect(more).to_have_count(0)
    expect(column.locator(".card-title")).to_have_text([f"Task {i:02}" for i in range(61)])


def test_a_refused_move_shows_a_toast(server: ServerProcess, repo: Path, browser: Browser) -> None:
    project = new_project(server, repo)
    task = add_task(server, project, "Gone soon")

    def delete_then_send(route: Route) -> None:
        # Another client deletes the task just before the move reaches the server.
        server.api("DELETE", f"/api/tasks/{task['id']}")
        route.continue_()

    with page_expecting_errors(browser) as page:
        open_board(page, server, project)
        page.route(f"**/api/tasks/{task['id']}", delete_then_send)
        card(page, task).drag_to(page.locator(f"#cards-{project['steps']['Done']}"))
        toast = page.get_by_role("alert")
        expect(toast).to_contain_text("Could not move the card: no task")
        expect(toast).to_contain_text(task["id"])
        expect(page.locator(".card")).to_have_count(0)


def test_board_screenshot(server: ServerProcess, repo: Path, page: Page) -> None:
    """A board with a few meaningful tasks, at 1440x900 and at a phone's 390x844; copied to
    docs/images/ when asked to."""
    page.set_viewport_size({"width": 1440, "height": 900})
    project = new_project(server, repo, name="acme-shop")
    add_task(server, project, "Add a dark theme")
    add_task(server, project, "Paginate the search results")
    add_task(server, project, "Show prices in the visitor's currency")
    working = add_task(server, project, "Rate-limit the login endpoint", column="In progress")
    reviewed = add_task(server, project, "Update the contributing guide", column="In review")
    add_task(server, project, "Set up continuous integration", column="Done")
    add_task(server, project, "Support Python 3.8", column="Cancelled")
    for task, command in ((reviewed, "echo docs > CONTRIBUTING.md"), (working, "sleep 120")):
        server.api(
            "POST",
            f"/api/tasks/{task['id']}/attempts",
            json={"agent": {"profile": "script", "command": command}},
        )
    open_board(page, server, project)
    expect(card(page, reviewed).locator(".badge")).to_have_text("awaiting review", timeout=30_000)
    expect(card(page, working).locator(".badge")).to_have_text("running")
    path = screenshot(page, "board")
    page.set_viewport_size({"width": 390, "height": 844})
    expect(page.get_by_role("navigation", name="Steps")).to_be_visible()
    phone = screenshot(page, "board-phone")
    if os.environ.get("PADDOCK_UPDATE_DOCS_SCREENSHOTS") == "1":
        DOCS_IMAGES.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(path, DOCS_IMAGES / "board.png")
        shutil.copyfile(phone, DOCS_IMAGES / "board-phone.png")
