"""Attempt states in words and colour on the cards and in the workspace, and the card's history
(moves, a gate forced with its reason, a card flow move the gate kept out) in the task panel."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from playwright.sync_api import Locator, Page, expect

from tests.e2e.server import ServerProcess, wait_for
from tests.ui.test_board import open_board


def new_project(server: ServerProcess, repo: Path) -> dict[str, Any]:
    project: dict[str, Any] = server.api(
        "POST", "/api/projects", json={"path": str(repo), "sandbox": {"provider": "none"}}
    )
    project["steps"] = {
        s["name"]: s for s in server.api("GET", f"/api/projects/{project['id']}/steps")
    }
    return project


def attempt_for(
    server: ServerProcess, project: dict[str, Any], title: str, command: str
) -> tuple[dict[str, Any], dict[str, Any]]:
    task = server.api("POST", f"/api/projects/{project['id']}/tasks", json={"title": title})
    attempt = server.api(
        "POST",
        f"/api/tasks/{task['id']}/attempts",
        json={"agent": {"profile": "script", "command": command}},
    )
    return task, attempt


def settled(server: ServerProcess, attempt: dict[str, Any], status: str) -> None:
    wait_for(
        lambda: server.api("GET", f"/api/attempts/{attempt['id']}")["status"] == status,
        timeout=60,
    )


def badge(page: Page, task: dict[str, Any]) -> Locator:
    return page.locator(f"#card-{task['id']} .attempt-status")


def colour(locator: Locator) -> str:
    return str(locator.evaluate("element => getComputedStyle(element).color"))


def test_states_read_as_words_in_colour_on_cards_and_in_the_workspace(
    server: ServerProcess, repo: Path, page: Page
) -> None:
    project = new_project(server, repo)
    reviewed, done = attempt_for(server, project, "Finished turn", "echo v2 > app.txt")
    halted, stopped = attempt_for(server, project, "Stopped turn", "sleep 300")
    landed, merged = attempt_for(server, project, "Merged work", "echo v3 > app.txt")
    busy, running = attempt_for(server, project, "Working turn", "sleep 300")
    settled(server, done, "awaiting_review")
    settled(server, merged, "awaiting_review")
    server.api("POST", f"/api/attempts/{merged['id']}/merge", json={})
    settled(server, stopped, "running")
    server.api("POST", f"/api/attempts/{stopped['id']}/stop")
    settled(server, running, "running")

    server.open(page, f"/projects/{project['id']}")
    words = {
        reviewed["id"]: "awaiting review",
        halted["id"]: "stopped",
        landed["id"]: "merged",
        busy["id"]: "running",
    }
    for task_id, text in words.items():
        expect(badge(page, {"id": task_id})).to_have_text(text)
    expect(badge(page, reviewed)).to_have_attribute(
        "title", "Latest attempt: The agent's turn ended: its work waits for your review"
    )
    colours = {text: colour(badge(page, {"id": task_id})) for task_id, text in words.items()}
    assert len(set(colours.values())) == 4, colours  # each state its own colour

    # The workspace's header badge says the same, and a stop is no error.
    server.open(page, f"/attempts/{stopped['id']}")
    expect(page.locator("#attempt-status")).to_have_text("stopped")
    expect(page.locator("#attempt-header .error-text")).to_have_count(0)
    expect(page.locator("#attempt-header")).not_to_contain_text("exited with code")
    assert colour(page.locator("#attempt-status")) == colours["stopped"]
    server.open(page, f"/attempts/{done['id']}")
    expect(page.locator("#attempt-status")).to_have_text("awaiting review")
    expect(page.locator("#attempt-status")).to_have_attribute(
        "title", "The agent's turn ended: its work waits for your review"
    )
    server.api("POST", f"/api/attempts/{running['id']}/stop")


def test_the_task_panel_shows_every_move_and_the_gates_reasons(
    server: ServerProcess, repo: Path, page: Page
) -> None:
    project = new_project(server, repo)
    review = project["steps"]["In review"]
    server.api("PATCH", f"/api/steps/{review['id']}", json={"gate": ["unit"]})
    open_board(page, server, project)
    task, attempt = attempt_for(server, project, "Gated card", "echo v2 > app.txt")
    settled(server, attempt, "awaiting_review")
    # The board follows live: the card went to "In progress", and the refusal shows on it.
    card = page.locator(f"#cards-{project['steps']['In progress']['id']} #card-{task['id']}")
    expect(card.locator(".card-notice")).to_have_text("⚠ held at a gate")
    expect(card.locator(".card-notice")).to_have_attribute(
        "title",
        "Not moved: the gate kept it out (the unit tests have not run in this attempt). "
        "card flow: the agent's turn ended",
    )

    # Past the gate by hand, with a reason: the card's notice goes, the history keeps it all.
    server.api(
        "POST",
        f"/api/tasks/{task['id']}/move",
        json={"step_id": review["id"], "force": True, "reason": "reviewed by hand"},
    )
    moved = page.locator(f"#cards-{review['id']} #card-{task['id']}")
    expect(moved.locator(".card-notice")).to_have_count(0)
    moved.click()
    history = page.locator("#panel .move-history > li")
    expect(history).to_have_count(3)
    newest, refused, started = history.nth(0), history.nth(1), history.nth(2)
    expect(newest).to_contain_text("In progress → In review")
    expect(newest.locator(".move-reason")).to_have_text("Forced past the gate: reviewed by hand")
    expect(newest.locator(".move-failing")).to_have_text(
        "the unit tests have not run in this attempt"
    )
    expect(refused).to_contain_text("Not moved to In review: its gate kept the card out")
    expect(refused.locator(".move-reason")).to_have_text("card flow: the agent's turn ended")
    expect(refused.get_by_role("list", name="Why the gate kept it out")).to_have_text(
        "the unit tests have not run in this attempt"
    )
    expect(started).to_contain_text("To do → In progress")
    expect(started.locator(".move-reason")).to_have_text("card flow: an attempt started")


def test_the_project_settings_turn_the_card_flow_and_the_preview_start_on_and_off(
    server: ServerProcess, repo: Path, page: Page
) -> None:
    project = new_project(server, repo)
    server.open(page, f"/projects/{project['id']}/settings")
    flow = page.get_by_label("Move cards by themselves")
    preview = page.get_by_label("Start the preview when the agent's turn ends")
    channel = page.get_by_label("Let the agent propose tasks and report progress")
    expect(flow).to_be_checked()
    expect(preview).not_to_be_checked()
    expect(channel).to_be_checked()
    flow.uncheck()
    preview.check()
    channel.uncheck()
    page.get_by_role("button", name="Save", exact=True).click()
    expect(page.locator("#settings-saved")).to_have_text("Saved")
    saved = server.api("GET", f"/api/projects/{project['id']}")
    assert (saved["card_flow"], saved["auto_preview"], saved["agent_channel"]) == (
        False,
        True,
        False,
    )
    page.reload()
    expect(flow).not_to_be_checked()
    expect(preview).to_be_checked()
    expect(channel).not_to_be_checked()


def test_the_workflow_manager_gives_a_step_its_card_flow_role(
    server: ServerProcess, repo: Path, page: Page
) -> None:
    project = new_project(server, repo)
    qa = server.api("POST", f"/api/projects/{project['id']}/steps", json={"name": "QA"})
    server.open(page, f"/projects/{project['id']}/workflow")
    item = page.locator(f"#step-{qa['id']}")
    item.get_by_text("Agent, prompt, automation, gate and card flow").click()
    expect(item.get_by_label("None", exact=True)).to_be_checked()
    item.get_by_label("Review: a card comes here when the agent's turn ends").check()
    with page.expect_response(lambda r: r.url.endswith(f"/ui/steps/{qa['id']}/settings")):
        item.get_by_role("button", name="Save step settings").click()
    expect(item.locator(".step-summary")).to_contain_text("card flow: the review step")
    roles = {
        s["name"]: s["role"] for s in server.api("GET", f"/api/projects/{project['id']}/steps")
    }
    assert roles["QA"] == "review" and roles["In review"] is None  # one step per role
