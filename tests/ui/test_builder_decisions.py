"""The builder's decisions in Chromium, through the real server (offline, the scripted
`builder-demo` agent, the static-site template): after a ready build the preview opens the
gate; Iterate leads to a change talked through and confirmed as the next iteration (its build
live, the iteration badge and alignment meter in the header); Ship to the deploy check (the
traffic light, the deploy paths, the zip); Park to the banner and back with Resume. Then the
floating chat, on and switched off, and the accessibility of the page with all of it open."""

from __future__ import annotations

import json
import re
import subprocess
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser, Locator, Page, Request, Route, expect

from tests.e2e.builder_helpers import settled
from tests.e2e.server import ServerProcess
from tests.e2e.test_previews import PREVIEW_ENV
from tests.ui.test_accessibility import assert_every_control_named
from tests.ui.test_builder import (
    BUILD_SECONDS,
    act,
    founder,
    live,
    no_sideways_scroll,
    planned_app,
    save,
    talk_through_a_change,
)
from tests.ui.test_small_widths import DESKTOP

CHECK_SECONDS = 240  # the deploy check runs the unit tests and the production build
GATE_QUESTION = "You've seen your MVP. Ready to decide what's next?"
ITERATION = re.compile(r"^Iteration \d+ of \d+ \(\w+ tier\)$")


@pytest.fixture
def server(tmp_path: Path) -> Iterator[ServerProcess]:
    with ServerProcess(tmp_path / "data", env=PREVIEW_ENV) as srv:
        yield srv


def ready_app(server: ServerProcess) -> dict[str, Any]:
    """An app with its first version (v0.1) built, through the API."""
    app = planned_app(server)
    build = server.api("POST", f"/api/apps/{app['id']}/builds", json={})
    assert settled(server, build)["status"] == "ready"
    return app


def open_app(page: Page, server: ServerProcess, app: dict[str, Any]) -> Locator:
    server.open(page, f"/apps/{app['id']}")
    return live(page)


def gate_after_the_preview(page: Page, card: Locator) -> Locator:
    """The preview opened from the ready card: the gate shows without a reload."""
    page.evaluate("window.__samePage = true")
    with page.context.expect_page() as opened:
        card.get_by_role("button", name="Open preview").click()
    opened.value.close()
    gate = page.locator("#gate")
    expect(gate.get_by_role("heading", name=GATE_QUESTION)).to_be_visible()
    assert page.evaluate("window.__samePage") is True  # shown in place, not by a reload
    return gate


def decide(page: Page, choice: str) -> None:
    act(page, page.locator("#gate").get_by_role("button", name=choice, exact=True))


# --- iterate ---------------------------------------------------------------------------------


def test_iterate_talks_a_change_through_and_builds_the_next_version_live(
    browser: Browser, server: ServerProcess
) -> None:
    app = ready_app(server)
    with founder(browser, DESKTOP) as page:
        card = open_app(page, server, app)
        expect(page.locator("#iteration-badge")).to_have_text("Iteration 1 of 5 (Partner tier)")
        expect(page.locator("#alignment")).to_contain_text("100% aligned with your brief")
        gate = gate_after_the_preview(page, card)
        choices = gate.locator(".gate-choice")
        expect(choices.locator("button")).to_have_text(["Iterate", "Ship", "Park"])
        expect(choices.locator(".gate-explanation").first).to_have_text(
            "Ask for a change; we build the next version."
        )
        save(page, "gate")

        gate.get_by_label("Why?").fill("The booking needs a waitlist")
        decide(page, "Iterate")
        expect(page.locator("#gate")).to_have_count(0)  # decided: not asked again
        expect(page.get_by_label("What should change?")).to_be_focused()
        gates = server.api("GET", f"/api/apps/{app['id']}/gates")
        assert [(g["choice"], g["reason"]) for g in gates] == [
            ("iterate", "The booking needs a waitlist")
        ]

        change = talk_through_a_change(page, "Add a waitlist when a class is full")
        confirmation = change.locator(".change-confirmation")
        clarified = server.api("GET", f"/api/apps/{app['id']}/changes")[0]
        expect(confirmation.locator(".change-clarified")).to_have_text(clarified["clarified"])
        assert "contact section at the bottom" in clarified["clarified"]  # the answers in it
        touches = (
            f"Touches: {', '.join(clarified['features'])}"
            if clarified["features"]
            else "Adds a new capability your brief does not have"
        )
        expect(confirmation.locator(".change-touches")).to_have_text(touches)
        expect(confirmation.locator(".iteration-badge")).to_have_text(
            "Iteration 2 of 5 (Partner tier)"
        )
        expect(confirmation.get_by_label("Yes, use my last iteration")).to_have_count(0)
        no_sideways_scroll(page, "a change to confirm")
        save(page, "change")

        act(page, confirmation.get_by_role("button", name="Confirm and build"))
        second = server.api("GET", f"/api/apps/{app['id']}/builds")[0]
        assert second["number"] == 2 and second["kind"] == "change"
        expect(card).to_have_attribute("data-build-id", second["id"])
        expect(card).to_have_attribute("data-status", "ready", timeout=BUILD_SECONDS * 1000)
        expect(card.locator(".version-badge")).to_have_text("v0.2")  # the card, live
        expect(page.locator("#version-v0-2")).to_be_visible()

        page.reload()
        live(page)
        expect(page.locator("#iteration-badge")).to_have_text("Iteration 2 of 5 (Partner tier)")
        meter = page.locator("#alignment")
        score = server.api("GET", f"/api/apps/{app['id']}/alignment")
        expect(meter.locator(".alignment-score")).to_have_text(
            f"{score['score']}% aligned with your brief"
        )
        expect(meter).to_have_attribute("data-band", score["band"])
        meter.get_by_text("Why this score").click()
        expect(meter.locator(".alignment-why p").first).to_have_text(score["explanation"])


def test_the_last_iteration_needs_an_explicit_yes(browser: Browser, tmp_path: Path) -> None:
    tiers = {"PADDOCK_BUILDER_TIERS": '{"starter": 2}', "PADDOCK_BUILDER_TIER": "starter"}
    with ServerProcess(tmp_path / "data", env={**PREVIEW_ENV, **tiers}) as srv:
        app = ready_app(srv)
        with founder(browser, DESKTOP) as page:
            open_app(page, srv, app)
            expect(page.locator("#iteration-badge")).to_have_text(ITERATION)
            change = talk_through_a_change(page, "Add a contact section")
            confirmation = change.locator(".change-confirmation")
            expect(confirmation.locator(".iteration-badge")).to_have_text(
                "Iteration 2 of 2 (Starter tier)"
            )
            last = confirmation.get_by_label("Yes, use my last iteration")
            expect(last).not_to_be_checked()
            last.check()
            act(page, confirmation.get_by_role("button", name="Confirm and build"))
            confirmed = srv.api("GET", f"/api/apps/{app['id']}/changes")[0]
            assert confirmed["status"] == "confirmed" and confirmed["iteration"] == 2


CARD_URL = re.compile(r"/ui/builds/[0-9a-f]+/card$")


def test_what_the_founder_types_stays_through_a_re_render_of_the_card(
    browser: Browser, server: ServerProcess
) -> None:
    """The change form is in the build card, which the page's stream renders again (as it
    connects, on a build's news): what was typed there, and the caret, stay."""
    app = ready_app(server)
    held: list[Route] = []  # the card the stream's first news asks for, until let go
    let_go = False

    def hold(route: Route) -> None:
        if let_go:
            route.continue_()
        else:
            held.append(route)

    with founder(browser, DESKTOP) as page:
        page.route(CARD_URL, hold)
        open_app(page, server, app)
        for _ in range(200):
            if held:
                break
            page.wait_for_timeout(25)
        assert held, "the stream's news of the build never asked for its card"
        field = page.get_by_label("What should change?")
        field.fill("Add a waitlist")
        page.evaluate("document.getElementById('build-card').dataset.stale = 'yes'")
        let_go = True
        for route in held:
            route.continue_()
        expect(page.locator("#build-card")).not_to_have_attribute("data-stale", "yes")
        expect(field).to_have_value("Add a waitlist")
        expect(field).to_be_focused()


# --- ship --------------------------------------------------------------------------------------


def push_to_a_remote(
    page: Page, server: ServerProcess, app: dict[str, Any], tmp_path: Path
) -> None:
    """v0.1 pushed from the deploy section to a branch of a remote of the app's repository
    (a bare one here): the branch holds the version's commit."""
    remote = tmp_path / "backup.git"
    subprocess.run(["git", "init", "--bare", "-q", str(remote)], check=True)
    project = server.api("GET", f"/api/projects/{app['project_id']}")
    git = ["git", "-C", project["repo_path"]]
    subprocess.run([*git, "remote", "add", "backup", str(remote)], check=True)
    push = page.locator("#deploy .push-form")
    push.get_by_label("Remote").fill("backup")
    push.get_by_label("Branch").fill("site")
    push.get_by_role("button", name="Push v0.1").click()
    expect(push.locator("#pushed")).to_contain_text("v0.1 is on backup/site")
    tag = subprocess.run(
        [*git, "rev-parse", "v0.1^{commit}"], check=True, capture_output=True, text=True
    )
    pushed = subprocess.run(
        ["git", "-C", str(remote), "rev-parse", "site"], check=True, capture_output=True, text=True
    )
    assert pushed.stdout.strip() == tag.stdout.strip() != ""


def test_ship_runs_the_deploy_check_and_offers_the_paths_and_the_zip(
    browser: Browser, server: ServerProcess, tmp_path: Path
) -> None:
    app = ready_app(server)
    with founder(browser, DESKTOP) as page:
        card = open_app(page, server, app)
        gate_after_the_preview(page, card)
        decide(page, "Ship")
        deploy = page.locator("#deploy")
        expect(deploy.get_by_role("heading", name=re.compile("^Ship it"))).to_be_visible()
        expect(deploy.locator(".beta-badge")).to_have_text("Beta")
        result = deploy.locator("#deploy-result[data-light]")
        expect(result).to_be_visible(timeout=CHECK_SECONDS * 1000)  # the check ran by itself
        kept = server.api("GET", f"/api/apps/{app['id']}/deploy-readiness")
        words = {
            "green": "Ready to ship",
            "yellow": "Can ship, with warnings",
            "red": "Not ready yet",
        }
        expect(result).to_have_attribute("data-light", kept["light"])
        expect(result.locator(".traffic-light strong")).to_have_text(words[kept["light"]])
        expect(result.locator(".checks.blocking .check")).to_have_count(len(kept["blocking"]))
        expect(result.locator(".checks.warnings .check")).to_have_count(len(kept["warnings"]))
        passes = [c for c in kept["checks"] if c["status"] == "pass"]
        expect(result.locator(".passes .check")).to_have_count(len(passes))
        if passes:
            expect(result.locator(".passes .check").first).to_be_hidden()  # collapsed
        paths = result.locator(".deploy-path")
        expect(paths).to_have_count(len(kept["paths"]))
        recommended = result.locator(".deploy-path.recommended")
        expect(recommended).to_have_attribute("data-path", kept["recommended"])
        expect(recommended.locator(".why-recommended")).to_have_text(kept["why_recommended"])
        expect(paths.first.locator(".path-facts")).to_contain_text("Cost")
        paths.first.get_by_text("Steps").click()
        expect(paths.first.locator(".path-steps ol li")).to_have_count(
            len(kept["paths"][0]["steps"])
        )
        no_sideways_scroll(page, "the deploy check")
        save(page, "deploy")

        with page.expect_download() as download:
            deploy.get_by_role("link", name="Download v0.1 (.zip)").click()
        saved = tmp_path / "v0.1.zip"
        download.value.save_as(saved)
        with zipfile.ZipFile(saved) as archive:
            assert any(name.endswith("index.html") for name in archive.namelist())

        push_to_a_remote(page, server, app, tmp_path)

        page.reload()  # the kept result shows on load, nothing run again
        live(page)
        expect(page.locator("#deploy-result")).to_have_attribute("data-light", kept["light"])


# --- park --------------------------------------------------------------------------------------


def test_park_shows_the_banner_and_hides_the_change_form_until_resumed(
    browser: Browser, server: ServerProcess
) -> None:
    app = ready_app(server)
    with founder(browser, DESKTOP) as page:
        card = open_app(page, server, app)
        gate_after_the_preview(page, card)
        decide(page, "Park")
        banner = page.locator("#parked")
        expect(banner).to_contain_text("is parked")
        expect(page.get_by_label("What should change?")).to_have_count(0)
        expect(card.get_by_role("button", name="Open preview")).to_have_count(0)
        assert server.api("GET", f"/api/apps/{app['id']}")["parked"] is True

        act(page, banner.get_by_role("button", name="Resume"))
        expect(page.locator("#parked")).to_have_count(0)
        expect(page.get_by_label("What should change?")).to_be_visible()
        assert server.api("GET", f"/api/apps/{app['id']}")["parked"] is False


# --- the chat ----------------------------------------------------------------------------------


def open_chat(page: Page) -> Locator:
    page.get_by_role("button", name="Open the app's chat").click()
    panel = page.get_by_role("dialog", name=re.compile("^Ask about"))
    expect(panel).to_be_visible()
    expect(panel.get_by_label("Your message")).to_be_focused()
    return panel


def ask(panel: Locator, message: str) -> Locator:
    """The message sent; the chat's answer to it."""
    replies = panel.locator(".chat-message.paddock")
    before = replies.count()
    panel.get_by_label("Your message").fill(message)
    panel.get_by_role("button", name="Send").click()
    expect(replies).to_have_count(before + 1)
    return replies.last


def test_the_chat_answers_and_acts_once_confirmed(browser: Browser, server: ServerProcess) -> None:
    app = ready_app(server)
    with founder(browser, DESKTOP) as page:
        opened: list[str] = []

        def note(request: Request) -> None:
            if request.url.endswith("/chat/open"):
                opened.append(request.method)

        page.on("request", note)
        open_app(page, server, app)
        expect(page.locator("#chat .beta-badge")).to_have_text("Beta")
        panel = open_chat(page)
        expect(panel.locator(".chat-message.paddock").first).to_contain_text("Ask me anything")
        page.keyboard.press("Escape")
        expect(panel).to_be_hidden()
        expect(page.get_by_role("button", name="Open the app's chat")).to_be_focused()
        panel = open_chat(page)

        blocking = ask(panel, "What's blocking my deploy?")
        expect(blocking).to_contain_text("deploy")
        save(page, "chat")

        proposal = ask(panel, "Can you add a contact form?")
        action = proposal.locator(".chat-action")
        expect(action.locator("p")).not_to_be_empty()  # the action's question
        expect(action.get_by_role("button", name="Cancel")).to_be_visible()
        assert opened == ["POST"]  # the snapshot once, not per message
        assert server.api("GET", f"/api/apps/{app['id']}/changes") == []  # nothing yet

        with page.expect_navigation():
            action.locator("button.primary").click()
        live(page)
        changes = server.api("GET", f"/api/apps/{app['id']}/changes")
        assert len(changes) == 1 and changes[0]["status"] == "draft"
        change = page.locator("#change")
        expect(change).to_have_attribute("data-change-status", "draft")
        expect(change.locator(".change-answers label")).to_have_text(
            [q["text"] for q in changes[0]["questions"]]
        )
        assert page.url.endswith("#builds")


def test_a_switched_off_chat_is_not_on_the_page(browser: Browser, tmp_path: Path) -> None:
    env = {**PREVIEW_ENV, "PADDOCK_FEATURES": json.dumps({"builder_chat": False})}
    with ServerProcess(tmp_path / "data", env=env) as srv:
        app = ready_app(srv)
        with founder(browser, DESKTOP) as page:
            open_app(page, srv, app)
            expect(page.locator("#deploy")).to_be_visible()  # the other beta part stays
            expect(page.get_by_role("button", name="Open the app's chat")).to_have_count(0)
            expect(page.locator("#chat-panel")).to_have_count(0)


# --- accessibility -----------------------------------------------------------------------------


def test_the_app_page_with_everything_open_names_every_control(
    browser: Browser, server: ServerProcess
) -> None:
    app = ready_app(server)
    with founder(browser, DESKTOP) as page:
        card = open_app(page, server, app)
        gate_after_the_preview(page, card)
        page.get_by_label("What should change?").fill("Add a contact section")
        act(page, page.get_by_role("button", name="Next: a question or two"))
        deploy = page.locator("#deploy")
        deploy.get_by_role("button", name="Check deploy readiness").click()
        expect(deploy.locator("#deploy-result[data-light]")).to_be_visible(
            timeout=CHECK_SECONDS * 1000
        )
        open_chat(page)
        expect(page.locator("#gate")).to_be_visible()
        expect(page.locator("#change .change-answers")).to_be_visible()
        assert_every_control_named(page)
        # Colour is never the only sign: the light and the alignment say it in words too.
        expect(deploy.locator(".traffic-light strong")).not_to_be_empty()
        expect(page.locator("#alignment .alignment-band")).not_to_be_empty()
        expect(page.locator("#chat-messages")).to_have_attribute("aria-live", "polite")
