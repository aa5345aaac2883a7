"""The workflow manager in a real browser: steps added, renamed, recoloured, reordered, given
an automation, a prompt and a gate, deleted with their tasks moved; the board following the
steps live, and refusing a card at a failing gate unless it is moved anyway with a reason."""

from __future__ import annotations

import re
import sys
from pathlib import Path
from typing import Any

from playwright.sync_api import Browser, Locator, Page, expect

from tests.e2e.server import ServerProcess, make_repo, wait_for
from tests.ui.conftest import screenshot
from tests.ui.test_accessibility import assert_every_control_named
from tests.ui.test_board import (
    add_task,
    card,
    cards,
    new_project,
    open_board,
    page_expecting_errors,
)

COLUMNS = ["To do", "In progress", "In review", "Done", "Cancelled"]

# A unit suite with one failing case out of three, as JUnit XML.
UNIT = """
import os
cases = '<testcase name="adds"/><testcase name="rounds"/>'
cases += '<testcase name="divides"><failure message="ZeroDivisionError"/></testcase>'
with open(os.environ["JUNIT_OUTPUT"], "w") as fh:
    fh.write(f'<testsuite name="calc">{cases}</testsuite>')
raise SystemExit(1)
"""


# --- helpers -------------------------------------------------------------------------------


def steps_in_api(server: ServerProcess, project: dict[str, Any]) -> list[dict[str, Any]]:
    steps: list[dict[str, Any]] = server.api("GET", f"/api/projects/{project['id']}/steps")
    return steps


def names_in_api(server: ServerProcess, project: dict[str, Any]) -> list[str]:
    return [step["name"] for step in steps_in_api(server, project)]


def step_in_api(server: ServerProcess, project: dict[str, Any], name: str) -> dict[str, Any]:
    return next(s for s in steps_in_api(server, project) if s["name"] == name)


def open_workflow(page: Page, server: ServerProcess, project: dict[str, Any]) -> None:
    server.open(page, f"/projects/{project['id']}/workflow")
    expect(page.get_by_role("heading", name="Workflow", level=1)).to_be_visible()


def step_item(page: Page, step_id: str) -> Locator:
    return page.locator(f"#step-{step_id}")


def step_titles(page: Page) -> Locator:
    return page.locator("#step-list > .step .step-title")


def saving(page: Page, path: str) -> Any:
    """Wait for the answer of a form that posts to `path`."""
    return page.expect_response(
        lambda r: r.url.endswith(path) and r.request.method == "POST", timeout=15_000
    )


def reload_then_clear_agent_and_automation(page: Page, server: ServerProcess, step_id: str) -> None:
    page.reload()
    item = step_item(page, step_id)
    item.get_by_text("Agent, prompt, automation, gate and card flow").click()
    expect(item.get_by_label("Run the unit tests")).to_be_checked()
    expect(item.get_by_label("End-to-end tests", exact=True)).to_be_checked()
    expect(item.get_by_label("Unit tests", exact=True)).not_to_be_checked()
    expect(item.get_by_label("Command")).to_have_value('echo "$PADDOCK_PROMPT"')
    item.get_by_label(re.compile("^Agent")).select_option(label="The attempt's own agent")
    item.get_by_label("Nothing", exact=True).check()
    with saving(page, f"/ui/steps/{step_id}/settings"):
        item.get_by_role("button", name="Save step settings").click()
    step = server.api("GET", f"/api/steps/{step_id}")
    assert step["agent"] is None and step["automation"] is None
    assert step["gate"] == ["e2e"]


# --- the workflow manager ------------------------------------------------------------------


def test_add_rename_recolour_and_reorder_steps(
    server: ServerProcess, repo: Path, page: Page
) -> None:
    project = new_project(server, repo)
    open_workflow(page, server, project)
    expect(step_titles(page)).to_have_text(COLUMNS)

    # Add a step: it comes last, with its colour.
    form = page.locator("#add-step")
    form.get_by_label("Name").fill("QA")
    form.get_by_label("Colour").fill("#22aa55")
    form.get_by_role("button", name="Add step").click()
    expect(step_titles(page)).to_have_text([*COLUMNS, "QA"])
    expect(form.get_by_label("Name")).to_have_value("")
    expect(form.get_by_label("Name")).to_be_focused()
    qa = step_in_api(server, project, "QA")
    assert qa["color"] == "#22aa55"
    assert names_in_api(server, project) == [*COLUMNS, "QA"]

    # Rename it.
    item = step_item(page, qa["id"])
    item.get_by_label("Name").fill("Quality")
    with saving(page, f"/ui/steps/{qa['id']}"):
        item.get_by_role("button", name="Save", exact=True).click()
    expect(item.get_by_role("status")).to_have_text("Saved")
    expect(item.locator(".step-title")).to_have_text("Quality")
    assert step_in_api(server, project, "Quality")["id"] == qa["id"]

    # Recolour it: choosing the colour saves it.
    with saving(page, f"/ui/steps/{qa['id']}"):
        item.get_by_label("Colour").fill("#aa3300")
    assert server.api("GET", f"/api/steps/{qa['id']}")["color"] == "#aa3300"
    expect(item.locator(".step-swatch")).to_have_css("background-color", "rgb(170, 51, 0)")

    # Reorder by keyboard: its "Move up" button, twice; the focus stays on it.
    up = item.get_by_role("button", name="Move up")
    up.focus()
    for _ in range(2):
        with page.expect_response(lambda r: r.url.endswith("/steps/reorder")):
            page.keyboard.press("Enter")
    expect(up).to_be_focused()
    order = ["To do", "In progress", "In review", "Quality", "Done", "Cancelled"]
    expect(step_titles(page)).to_have_text(order)
    assert names_in_api(server, project) == order
    expect(page.locator("#workflow-status")).to_have_text("Quality moved to position 4 of 6")

    # Reorder by dragging a step by its handle: Cancelled to the top (both in view: a native
    # drag and drop does not scroll the page).
    page.set_viewport_size({"width": 1400, "height": 1800})
    cancelled = step_item(page, project["steps"]["Cancelled"])
    with page.expect_response(lambda r: r.url.endswith("/steps/reorder")):
        cancelled.locator(".step-handle").drag_to(
            step_item(page, project["steps"]["To do"]), target_position={"x": 40, "y": 5}
        )
    order = ["Cancelled", "To do", "In progress", "In review", "Quality", "Done"]
    expect(step_titles(page)).to_have_text(order)
    assert names_in_api(server, project) == order

    # The board shows the new order, after a reload too.
    open_board(page, server, project)
    expect(page.locator(".column h2")).to_have_text(order)
    screenshot(page, "workflow-board-reordered")


def test_step_settings_and_a_bad_template(
    server: ServerProcess, repo: Path, browser: Browser
) -> None:
    project = new_project(server, repo)
    review = project["steps"]["In review"]
    with page_expecting_errors(browser) as page:
        open_workflow(page, server, project)
        item = step_item(page, review)
        item.get_by_text("Agent, prompt, automation, gate and card flow").click()
        prompt = item.get_by_label("Prompt template")
        expect(prompt).to_be_visible()
        # The variables are listed as help.
        expect(item.locator(".variables")).to_contain_text("{{ task_title }}")
        expect(item.locator(".variables")).to_contain_text("the task's title")
        item.get_by_text("Delete this step…").click()
        assert_every_control_named(page)

        # An unknown variable: the error beside the field, which is marked and focused.
        prompt.fill("Review {{ task_title }} and {{ nonsense }}")
        with saving(page, f"/ui/steps/{review}/settings"):
            item.get_by_role("button", name="Save step settings").click()
        error = item.locator(f"#prompt_template-error-{review}")
        expect(error).to_contain_text("unknown variable(s) nonsense")
        expect(prompt).to_have_attribute("aria-invalid", "true")
        expect(prompt).to_be_focused()
        assert server.api("GET", f"/api/steps/{review}")["prompt_template"] == ""

        # A good one, with an agent, an automation and a gate.
        prompt.fill("Review {{ task_title }}.\n{{ test_failures }}")
        command = item.get_by_label("Command")
        expect(command).to_be_hidden()
        item.get_by_label(re.compile("^Agent")).select_option(label="Shell script · default")
        expect(command).to_be_visible()
        command.fill('echo "$PADDOCK_PROMPT"')
        item.get_by_label("Run the unit tests").check()
        item.get_by_label("End-to-end tests", exact=True).check()
        with saving(page, f"/ui/steps/{review}/settings"):
            item.get_by_role("button", name="Save step settings").click()
        expect(error).to_be_empty()
        expect(item.locator(f"#settings-saved-{review}")).to_have_text("Saved")
        expect(item.locator(".step-summary")).to_contain_text("run unit tests")
        expect(item.locator(".step-summary")).to_contain_text("gate: e2e must pass")
        step = server.api("GET", f"/api/steps/{review}")
        assert step["prompt_template"] == "Review {{ task_title }}.\n{{ test_failures }}"
        assert step["automation"] == "run_unit_tests"
        assert step["gate"] == ["e2e"]
        assert step["agent"]["profile"] == "script"
        assert step["agent"]["command"] == 'echo "$PADDOCK_PROMPT"'

        # A reload shows what was saved; clearing the agent and the automation saves too.
        reload_then_clear_agent_and_automation(page, server, review)
        screenshot(page, "workflow-manager")


def test_delete_a_step_moves_its_tasks(server: ServerProcess, repo: Path, page: Page) -> None:
    project = new_project(server, repo)
    held = add_task(server, project, "Waiting for review", column="In review")
    open_workflow(page, server, project)

    # The page knows In review holds a task: it asks where it goes.
    item = step_item(page, project["steps"]["In review"])
    item.get_by_text("Delete this step…").click()
    item.get_by_label("Move its 1 task to").select_option(label="Done")
    item.get_by_role("button", name="Delete step").click()
    expect(step_titles(page)).to_have_text(["To do", "In progress", "Done", "Cancelled"])
    assert server.api("GET", f"/api/tasks/{held['id']}")["step_id"] == project["steps"]["Done"]
    assert names_in_api(server, project) == ["To do", "In progress", "Done", "Cancelled"]

    # A task arrives in a step after the page showed it empty: deleting it asks first.
    item = step_item(page, project["steps"]["Cancelled"])
    item.get_by_text("Delete this step…").click()
    expect(item.get_by_text("It holds no tasks.")).to_be_visible()
    late = add_task(server, project, "Arrived late", column="Cancelled")
    item.get_by_role("button", name="Delete step").click()
    expect(item.get_by_role("alert")).to_have_text(
        "“Cancelled” holds 1 task: choose the step they move to, then delete it."
    )
    assert "Cancelled" in names_in_api(server, project)
    # Deleting without a choice still says so.
    item.get_by_role("button", name="Delete step").click()
    expect(item.get_by_role("alert")).to_contain_text("choose the step they move to")
    item.get_by_label("Move its 1 task to").select_option(label="To do")
    item.get_by_role("button", name="Delete step").click()
    expect(step_titles(page)).to_have_text(["To do", "In progress", "Done"])
    assert server.api("GET", f"/api/tasks/{late['id']}")["step_id"] == project["steps"]["To do"]


def test_the_board_follows_step_changes_live(server: ServerProcess, repo: Path, page: Page) -> None:
    project = new_project(server, repo)
    task = add_task(server, project, "Stays put", column="In progress")
    open_board(page, server, project)
    page.evaluate("window.__sameDocument = true")
    base = f"/api/projects/{project['id']}/steps"

    qa = server.api("POST", base, json={"name": "QA", "color": "#22aa55", "position": 2})
    expect(page.locator(".column h2")).to_have_text(
        ["To do", "In progress", "QA", "In review", "Done", "Cancelled"]
    )
    server.api("PATCH", f"/api/steps/{project['steps']['To do']}", json={"name": "Backlog"})
    expect(page.locator(".column h2").first).to_have_text("Backlog")
    server.api("DELETE", f"/api/steps/{project['steps']['Cancelled']}")
    expect(page.locator(".column h2")).to_have_count(5)
    expect(cards(page, project, "In progress")).to_have_text([re.compile("Stays put")])
    # The new column takes cards, and the new-task form offers it.
    expect(page.locator("#new-task-step option")).to_have_count(5)
    card(page, task).focus()
    with page.expect_response(lambda r: f"/api/tasks/{task['id']}" in r.url):
        page.keyboard.press("Alt+ArrowRight")
    expect(page.locator(f"#cards-{qa['id']} > .card")).to_have_text([re.compile("Stays put")])
    assert page.evaluate("window.__sameDocument") is True  # no reload happened


# --- the gate on the board -----------------------------------------------------------------


def gated_project(server: ServerProcess, tmp_path: Path) -> tuple[dict[str, Any], dict[str, Any]]:
    """A project whose In review step is gated on unit and e2e tests, and a task in To do whose
    attempt's latest unit run failed (1 of 3)."""
    repo = make_repo(tmp_path / "gated", {"README.md": "# gated\n", "unit.py": UNIT})
    body = {"path": str(repo), "scripts": {"unit_test": f"{sys.executable} unit.py"}}
    project: dict[str, Any] = server.api("POST", "/api/projects", json=body)
    # The card stays in To do while its attempt runs: it is moved by hand here.
    server.api("PATCH", f"/api/projects/{project['id']}", json={"card_flow": False})
    project["steps"] = {s["name"]: s["id"] for s in steps_in_api(server, project)}
    task = add_task(server, project, "Divide by zero")
    attempt = server.api(
        "POST",
        f"/api/tasks/{task['id']}/attempts",
        json={"agent": {"profile": "script", "command": "true"}},
    )
    wait_for(
        lambda: server.api("GET", f"/api/attempts/{attempt['id']}")["status"] == "awaiting_review",
        timeout=60,
    )
    run = server.api(
        "POST", f"/api/attempts/{attempt['id']}/test-runs", json={"kind": "unit", "wait": True}
    )
    assert run["status"] == "failed", run
    server.api(
        "PATCH", f"/api/steps/{project['steps']['In review']}", json={"gate": ["unit", "e2e"]}
    )
    return project, task


def test_a_gate_refuses_a_card_until_moved_anyway(
    server: ServerProcess, tmp_path: Path, browser: Browser
) -> None:
    project, task = gated_project(server, tmp_path)
    review = project["steps"]["In review"]
    with page_expecting_errors(browser) as page:
        open_board(page, server, project)
        dialog = page.get_by_role("dialog")
        # The card says how its attempt's latest unit run went.
        expect(card(page, task).locator(".test-badge")).to_have_text(["unit ✗"])
        expect(card(page, task)).to_have_attribute("aria-label", re.compile("unit tests failed"))

        # Dragged into the gated step: refused, back in To do, with the reasons.
        with page.expect_response(lambda r: r.request.method == "PATCH"):
            card(page, task).drag_to(page.locator(f"#cards-{review}"))
        expect(dialog).to_be_visible()
        expect(dialog.get_by_role("heading")).to_have_text(
            "“Divide by zero” cannot enter “In review”"
        )
        reasons = dialog.locator("#gate-reasons li")
        expect(reasons).to_have_count(2)
        expect(reasons.nth(0)).to_contain_text("The latest unit tests failed: 1 failed of 3")
        expect(reasons.nth(0).get_by_role("link", name=re.compile("test run"))).to_have_attribute(
            "href", re.compile(r"^/attempts/[0-9a-f]+$")
        )
        expect(reasons.nth(1)).to_have_text("The e2e tests have not run in this attempt")
        expect(cards(page, project, "To do")).to_have_text([re.compile("Divide by zero")])
        expect(cards(page, project, "In review")).to_have_count(0)
        assert server.api("GET", f"/api/tasks/{task['id']}")["step_id"] == project["steps"]["To do"]
        assert_every_control_named(page)
        screenshot(page, "gate-refused")

        # Cancel leaves it there, and gives the focus back to the card.
        dialog.get_by_role("button", name="Cancel").click()
        expect(dialog).to_be_hidden()
        expect(card(page, task)).to_be_focused()
        assert server.api("GET", f"/api/tasks/{task['id']}/moves") == []

        # By keyboard: into In progress (no gate), then In review: refused again.
        with page.expect_response(lambda r: r.request.method == "PATCH"):
            page.keyboard.press("Alt+ArrowRight")
        expect(cards(page, project, "In progress")).to_have_text([re.compile("Divide by zero")])
        expect(card(page, task)).to_be_focused()
        with page.expect_response(lambda r: r.request.method == "PATCH"):
            page.keyboard.press("Alt+ArrowRight")
        expect(dialog).to_be_visible()
        expect(cards(page, project, "In progress")).to_have_text([re.compile("Divide by zero")])

        # Moving anyway needs a reason.
        dialog.get_by_role("button", name="Move anyway").click()
        expect(dialog.get_by_role("alert")).to_contain_text("Say why it moves anyway")
        reason_field = dialog.get_by_label(re.compile("Reason to move it anyway"))
        expect(reason_field).to_be_focused()
        reason_field.fill("Divide-by-zero is tracked in its own task")
        with page.expect_response(lambda r: r.url.endswith(f"/api/tasks/{task['id']}/move")):
            dialog.get_by_role("button", name="Move anyway").click()
        expect(dialog).to_be_hidden()
        expect(cards(page, project, "In review")).to_have_text([re.compile("Divide by zero")])
        assert server.api("GET", f"/api/tasks/{task['id']}")["step_id"] == review
        moves = server.api("GET", f"/api/tasks/{task['id']}/moves")
        assert moves[-1]["to_step_id"] == review
        assert moves[-1]["forced"] is True
        assert moves[-1]["reason"] == "Divide-by-zero is tracked in its own task"
        assert [f["kind"] for f in moves[-1]["failing"]] == ["unit", "e2e"]
        assert not any(m["forced"] for m in moves[:-1])
