"""Accessibility smoke tests: every visible control has a name, and the board works by keyboard."""

from __future__ import annotations

from pathlib import Path

from playwright.sync_api import Page, expect

from tests.e2e.server import ServerProcess, wait_for
from tests.ui.test_board import add_task, card, new_project, open_board

# Elements with tabindex=-1 (<main>, a panel's title) only take focus from scripts: not controls.
CONTROLS = 'a, button, input, select, textarea, [tabindex]:not([tabindex="-1"]), [role=tab]'

# The accessible name of each visible control, from what assistive technology reads: aria-
# labelledby, aria-label, a <label>, the text inside, a title. A placeholder does not count.
UNNAMED_CONTROLS = """(selector) => {
  const text = (el) => (el ? el.textContent.replace(/\\s+/g, " ").trim() : "");
  const name = (el) => {
    const ids = el.getAttribute("aria-labelledby");
    if (ids) return ids.split(/\\s+/).map((id) => text(document.getElementById(id))).join(" ");
    if (el.getAttribute("aria-label")) return el.getAttribute("aria-label");
    if (el.matches("input, select, textarea")) {
      const labels = [...(el.labels || [])].map(text).join(" ");
      if (el.type === "submit" || el.type === "button") return el.value || labels;
      return labels || el.title || "";
    }
    const images = [...el.querySelectorAll("img[alt]")].map((img) => img.alt).join(" ");
    return text(el) || images || el.title || "";
  };
  return [...document.querySelectorAll(selector)]
    .filter((el) => el.checkVisibility() && el.type !== "hidden")
    .filter((el) => !name(el).trim())
    .map((el) => el.outerHTML.slice(0, 160));
}"""

# Where focus is, as a short description: its id (or the card's), else its role and text.
FOCUSED = """() => {
  const el = document.activeElement;
  if (!el || el === document.body) return "body";
  if (el.id) return "#" + el.id;
  return `${el.tagName.toLowerCase()}:${el.textContent.trim().slice(0, 40)}`;
}"""


def assert_every_control_named(page: Page) -> None:
    unnamed = page.evaluate(UNNAMED_CONTROLS, CONTROLS)
    assert unnamed == [], f"controls without an accessible name on {page.url}: {unnamed}"


def tab_through(page: Page, limit: int = 200) -> list[str]:
    """Press Tab from the top of the page until focus comes back round; where it went."""
    page.locator("body").focus()
    seen: list[str] = []
    for _ in range(limit):
        page.keyboard.press("Tab")
        where = page.evaluate(FOCUSED)
        if where in seen[:1]:
            break
        seen.append(where)
    return seen


def test_projects_page_controls_are_named(
    server: ServerProcess, repo: Path, tmp_path: Path, page: Page
) -> None:
    server.open(page)
    assert_every_control_named(page)  # the empty state
    new_project(server, repo)
    page.reload()
    page.get_by_label("Repository path").fill(str(tmp_path / "elsewhere"))
    expect(page.locator("#path-check")).to_contain_text("does not exist")
    expect(page.get_by_role("link", name="Settings of repo")).to_be_visible()
    assert_every_control_named(page)


def test_board_panel_and_workspace_controls_are_named(
    server: ServerProcess, repo: Path, page: Page
) -> None:
    project = new_project(server, repo)
    task = add_task(server, project, "Write the changelog")
    add_task(server, project, "Review the API", column="In review")
    open_board(page, server, project)
    # A column's count is read out with what it counts.
    assert "text: 1 task" in page.get_by_role("region", name="In review").aria_snapshot()
    page.get_by_role("button", name="New task").click()
    expect(page.locator("#new-task")).to_be_visible()
    assert_every_control_named(page)

    card(page, task).click()
    expect(page.locator("#panel")).to_be_visible()
    assert_every_control_named(page)

    attempt = server.api(
        "POST",
        f"/api/tasks/{task['id']}/attempts",
        json={"agent": {"profile": "script", "command": "echo hello"}},
    )
    wait_for(
        lambda: server.api("GET", f"/api/attempts/{attempt['id']}")["status"] == "awaiting_review"
    )
    server.open(page, f"/attempts/{attempt['id']}")
    expect(page.locator("#process-list button")).to_have_count(1)
    assert_every_control_named(page)
    page.get_by_role("tab", name="Processes").click()
    expect(page.get_by_role("tabpanel", name="Processes")).to_be_visible()
    assert_every_control_named(page)
    page.get_by_role("tab", name="Agent").click()
    expect(page.get_by_role("tabpanel", name="Agent")).to_be_visible()
    assert_every_control_named(page)


def test_the_board_works_by_keyboard(server: ServerProcess, repo: Path, page: Page) -> None:
    project = new_project(server, repo)
    tasks = [
        add_task(server, project, "Plan the release"),
        add_task(server, project, "Fix the flaky test"),
        add_task(server, project, "Ship it", column="In progress"),
        add_task(server, project, "Old idea", column="Cancelled"),
    ]
    open_board(page, server, project)

    visited = tab_through(page)
    for task in tasks:
        assert f"#card-{task['id']}" in visited, visited
    for control in ("#board-q", "#notify-toggle", "button:New task", "a:Project settings"):
        assert control in visited, visited
    # Focus goes down the page in reading order: the filter before the first card.
    assert visited.index("#board-q") < visited.index(f"#card-{tasks[0]['id']}")

    first = card(page, tasks[0])
    first.focus()
    page.keyboard.press("Enter")
    panel = page.locator("#panel")
    expect(panel).to_be_visible()
    expect(panel.get_by_role("heading", name="Plan the release")).to_be_focused()
    page.keyboard.press("Escape")
    expect(panel).to_be_hidden()
    expect(first).to_be_focused()
