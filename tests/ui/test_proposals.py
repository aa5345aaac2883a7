"""A task an agent proposed, on the board in a real browser: its card is marked with the
proposing attempt's branch and accepted from the card itself (without opening its panel);
the attempt's progress line shows on its task's card and in the attempt's header; a proposal
is dismissed from its panel."""

from __future__ import annotations

from pathlib import Path

from playwright.sync_api import Page, expect

from tests.e2e.server import ServerProcess
from tests.e2e.test_proposals import plant_progress, plant_proposal, start_attempt
from tests.ui.conftest import screenshot

# As tests/ui/test_board.py's: set once the board's live stream is connected.
WATCH_STREAMS = """
window.__liveStreams = 0;
document.addEventListener("htmx:sseOpen", () => { window.__liveStreams += 1; });
"""


def open_board(page: Page, server: ServerProcess, project_id: str) -> None:
    page.add_init_script(WATCH_STREAMS)
    server.open(page, f"/projects/{project_id}")
    page.wait_for_function("window.__liveStreams > 0")


def test_a_proposed_card_is_accepted_from_the_board(
    server: ServerProcess, repo: Path, page: Page
) -> None:
    attempt = start_attempt(server, repo)
    proposal = plant_proposal(server, attempt, "Add a logout button")
    plant_progress(server, attempt["id"], "Writing the login form")
    open_board(page, server, attempt["project_id"])

    worked = page.locator(f"#card-{attempt['task_id']}")
    expect(worked.locator(".card-progress")).to_have_text("Writing the login form")
    card = page.locator(f"#card-{proposal}")
    badge = card.locator(".proposed-badge")
    expect(badge).to_have_text(f"proposed by {attempt['branch']}")
    expect(card).to_have_class("card card-proposed")
    screenshot(page, "board-proposed-card")
    asked: list[str] = []
    page.on("request", lambda request: asked.append(request.url))

    card.get_by_role("button", name="Accept the proposed task Add a logout button").click()

    # The board's live stream puts the accepted card back, as an ordinary one.
    expect(card.locator(".proposed-badge")).to_have_count(0)
    expect(card).to_contain_text("no attempt yet")
    expect(card).to_have_class("card")
    task = server.api("GET", f"/api/tasks/{proposal}")
    assert (task["proposed"], task["proposed_by"]) == (False, attempt["id"])
    # The click was the button's, not the card's: the panel was not asked for (its request
    # would have gone out with the accept's, on the same click).
    assert any(url.endswith(f"/ui/tasks/{proposal}/accept") for url in asked), asked
    assert not any("/panel" in url for url in asked), asked
    expect(page.locator("#panel")).to_be_hidden()

    # The attempt's header shows its progress line too.
    server.open(page, f"/projects/{attempt['project_id']}?attempt={attempt['id']}")
    expect(page.locator("#attempt-progress")).to_contain_text("Writing the login form")


def test_a_proposal_is_dismissed_from_its_panel(
    server: ServerProcess, repo: Path, page: Page
) -> None:
    attempt = start_attempt(server, repo)
    proposal = plant_proposal(server, attempt, "Rewrite it in Rust")
    open_board(page, server, attempt["project_id"])

    page.locator(f"#card-{proposal} .card-title").click()
    panel = page.locator("#panel")
    expect(panel.get_by_role("heading", name="Proposed by an agent")).to_be_visible()
    expect(panel).to_contain_text(attempt["branch"])
    expect(panel.get_by_role("button", name="Start attempt")).to_have_count(0)
    panel.get_by_role("button", name="Dismiss").click()

    expect(panel).to_contain_text("Proposal dismissed.")
    expect(page.locator(f"#card-{proposal}")).to_have_count(0)
    assert server.client.get(f"/api/tasks/{proposal}").status_code == 404
