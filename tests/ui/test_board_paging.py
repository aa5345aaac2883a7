"""Long columns in a real browser: honest "Show N more", loading as you scroll, and new cards
that always show, whatever the length of their column."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from playwright.sync_api import Page, expect

from tests.e2e.server import ServerProcess
from tests.ui.test_board import add_task, cards, expect_count, new_project, open_board


def fill_column(server: ServerProcess, project: dict[str, Any], number: int) -> None:
    for i in range(number):
        add_task(server, project, f"Task {i:03}")


def titles(number: int) -> list[str]:
    return [f"Task {i:03}" for i in range(number)]


def scroll_to_end(page: Page, project: dict[str, Any], column: str) -> None:
    """Scroll a column's list to its end, as a person does with the wheel or a finger."""
    page.locator(f"#cards-{project['steps'][column]}").evaluate(
        "list => { list.scrollTop = list.scrollHeight; }"
    )


def test_show_more_says_what_it_loads_and_what_is_left(
    server: ServerProcess, repo: Path, page: Page
) -> None:
    project = new_project(server, repo)
    fill_column(server, project, 120)
    open_board(page, server, project)
    column = cards(page, project, "To do")
    expect(column).to_have_count(50)
    more = page.locator(f"#more-{project['steps']['To do']} button")
    expect(more).to_have_text("Show 50 more (70 not shown)")

    more.click()
    expect(column).to_have_count(100)
    more = page.locator(f"#more-{project['steps']['To do']} button")
    expect(more).to_have_text("Show 20 more")
    more.click()
    expect(column).to_have_count(120)
    expect(more).to_have_count(0)
    expect(column.locator(".card-title")).to_have_text(titles(120))


def test_scrolling_to_the_end_of_a_column_loads_the_next_page(
    server: ServerProcess, repo: Path, page: Page
) -> None:
    project = new_project(server, repo)
    fill_column(server, project, 120)
    open_board(page, server, project)
    column = cards(page, project, "To do")
    expect(column).to_have_count(50)

    scroll_to_end(page, project, "To do")
    expect(column).to_have_count(100)
    scroll_to_end(page, project, "To do")
    expect(column).to_have_count(120)
    expect(page.locator(f"#more-{project['steps']['To do']}")).to_have_count(0)
    expect(column.locator(".card-title")).to_have_text(titles(120))


def test_a_task_added_to_a_long_column_shows_with_feedback(
    server: ServerProcess, repo: Path, page: Page
) -> None:
    project = new_project(server, repo)
    fill_column(server, project, 55)
    open_board(page, server, project)
    column = cards(page, project, "To do")
    expect(column).to_have_count(50)

    page.get_by_role("button", name="New task").click()
    page.get_by_label("Title").fill("The new one")
    page.get_by_role("button", name="Add task").click()
    new = column.filter(has_text="The new one")
    expect(new).to_be_visible()
    expect(new).to_be_in_viewport()  # its column scrolled to it
    expect(page.get_by_role("status").filter(has_text="Added")).to_have_text(
        "Added “The new one” to To do."
    )
    expect(page.get_by_label("Title")).to_have_value("")
    expect_count(page, project, "To do", 56)
    # The numbers of "Show more" follow: 56 cards, 51 shown.
    more = page.locator(f"#more-{project['steps']['To do']} button")
    expect(more).to_have_text("Show 5 more")

    # The page that holds its place puts it there: every card once, in order.
    more.click()
    expect(column).to_have_count(56)
    expect(column.locator(".card-title")).to_have_text([*titles(55), "The new one"])


def test_a_task_moved_above_the_loaded_part_does_not_repeat_a_card(
    server: ServerProcess, repo: Path, page: Page
) -> None:
    """The next page starts below the last card loaded, not at a count that a live change
    made stale."""
    project = new_project(server, repo)
    fill_column(server, project, 60)
    other = add_task(server, project, "From another column", column="In progress")
    open_board(page, server, project)
    column = cards(page, project, "To do")
    expect(column).to_have_count(50)

    # Another client moves a card to the top of the long column: the loaded part grows by one.
    server.api(
        "PATCH",
        f"/api/tasks/{other['id']}",
        json={"step_id": project["steps"]["To do"], "below": ""},
    )
    expect(column.first).to_have_text(re.compile("From another column"))
    expect(column).to_have_count(51)
    page.locator(f"#more-{project['steps']['To do']} button").click()
    expect(column).to_have_count(61)
    expect(column.locator(".card-title")).to_have_text(["From another column", *titles(60)])


def test_a_task_the_filter_hides_is_announced(
    server: ServerProcess, repo: Path, page: Page
) -> None:
    project = new_project(server, repo)
    add_task(server, project, "Fix the login bug")
    open_board(page, server, project, "?q=fix")

    page.get_by_role("button", name="New task").click()
    page.get_by_label("Title").fill("Write the docs")
    page.get_by_role("button", name="Add task").click()
    expect(page.get_by_role("status").filter(has_text="Added")).to_have_text(
        "Added “Write the docs” to To do. The filter “fix” hides it."
    )
    expect_count(page, project, "To do", 1)
    expect(cards(page, project, "To do")).to_have_text([re.compile("Fix the login bug")])
