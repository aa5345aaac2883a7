"""The builder face in Chromium: a founder's whole path from the home page, offline (no key),
on the static-site template with the scripted `builder-demo` agent: idea → questions → brief
(edited) → plan → a build watched live, stage by stage → the summary and screenshot → the
preview in a new tab → a second version → a rollback. Then a build that fails (the plain
sentence, Retry, the details) and one cancelled. At a desktop's width and at a phone's, where
no builder page may scroll sideways."""

from __future__ import annotations

import os
import re
import shutil
from collections.abc import Iterator
from contextlib import AbstractContextManager
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi.routing import APIRoute
from playwright.sync_api import Browser, Dialog, Locator, Page, expect

from paddock.web.ui import builder as ui_builder
from paddock.web.ui import builder_builds as ui_builder_builds
from paddock.web.ui import builder_decisions as ui_builder_decisions
from paddock.web.ui import builder_ship as ui_builder_ship
from tests.e2e.server import ServerProcess
from tests.e2e.test_builder_flow import ANSWERS, IDEA, settled
from tests.e2e.test_previews import PREVIEW_ENV
from tests.ui.conftest import screenshot, watched_page
from tests.ui.test_small_widths import DESKTOP, OVERFLOW, PHONE

DOCS_IMAGES = Path(__file__).resolve().parents[2] / "docs" / "images"
BUILD_SECONDS = 240  # a build takes seconds; a loaded CI machine may take far longer
WORKING = re.compile(r"^(starting|scaffold|code|deps|checks)$")

# Every text the build card's label shows while the build goes on, in the order seen: a
# MutationObserver's record, so a change that came through the live stream is caught even when
# the next one follows it quickly; and proof that the page did not reload (the record is lost
# with a reload).
WATCH_LABEL = """() => {
  window.__labels = [];
  const note = () => {
    const label = document.getElementById("build-label");
    const text = label ? label.textContent.trim() : "";
    if (text && window.__labels[window.__labels.length - 1] !== text) window.__labels.push(text);
  };
  note();
  new MutationObserver(note).observe(document.getElementById("app-page"),
    { childList: true, subtree: true, characterData: true });
}"""


@pytest.fixture
def server(tmp_path: Path) -> Iterator[ServerProcess]:
    with ServerProcess(tmp_path / "data", env=PREVIEW_ENV) as srv:
        yield srv


def founder(browser: Browser, size: dict[str, int]) -> AbstractContextManager[Page]:
    """A page at `size`; any JavaScript error on it fails the test (as the `page` fixture)."""
    return watched_page(browser, size, timeout_ms=20_000)


def no_sideways_scroll(page: Page, where: str) -> None:
    found = page.evaluate(OVERFLOW)
    assert found["scrollWidth"] <= found["width"] and not found["wide"], (where, found)


def save(page: Page, name: str) -> None:
    """The page whole, with the tests' screenshots; into docs/images/ too when asked to
    (PADDOCK_UPDATE_DOCS_SCREENSHOTS=1): a test run leaves the repository as it was."""
    path = screenshot(page, f"builder-{name}")
    page.screenshot(path=str(path), full_page=True)
    if os.environ.get("PADDOCK_UPDATE_DOCS_SCREENSHOTS") == "1":
        DOCS_IMAGES.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(path, DOCS_IMAGES / f"builder-{name}.png")


def live(page: Page) -> Locator:
    """The app's page once its timeline stream is connected; its build card."""
    expect(page.locator("#app-page")).to_have_attribute("data-stream", "open")
    return page.locator("#build-card")


def act(page: Page, button: Locator) -> None:
    """A click whose answer sends the browser to the app's page again (HX-Redirect); back
    once that page is live (its scripts ran, its stream is connected)."""
    with page.expect_navigation():
        button.click()
    live(page)


def expect_values(inputs: Locator, wanted: list[str]) -> None:
    expect(inputs).to_have_count(len(wanted))
    for i, value in enumerate(wanted):
        expect(inputs.nth(i)).to_have_value(value)


def app_id_of(page: Page) -> str:
    page.wait_for_url(re.compile(r"/apps/[0-9a-f]{32}$"))
    return page.url.rsplit("/", 1)[1]


def planned_app(server: ServerProcess, agent: dict[str, str] | None = None) -> dict[str, Any]:
    """An app through its questions and plan, static-site picked (through the API)."""
    body: dict[str, Any] = {"idea": IDEA, "agent": agent}
    app: dict[str, Any] = server.api("POST", "/api/apps", json=body)
    server.api("POST", f"/api/apps/{app['id']}/answers", json={"answers": ANSWERS})
    server.api("POST", f"/api/apps/{app['id']}/plan")
    server.api("PUT", f"/api/apps/{app['id']}/plan/choice", json={"template": "static-site"})
    return app


def build_in_the_page(page: Page, server: ServerProcess, app: dict[str, Any]) -> Locator:
    server.open(page, f"/apps/{app['id']}")
    live(page)
    act(page, page.get_by_role("button", name="Build it"))
    return page.locator("#build-card")


# --- the whole path ------------------------------------------------------------------------


def describe_the_idea(page: Page, server: ServerProcess) -> str:
    """From the home page to the app's questions; the app's id."""
    server.open(page, "/")
    no_sideways_scroll(page, "home")
    page.get_by_role("link", name="Build an app").click()
    expect(page.get_by_role("heading", name="What do you want to build?")).to_be_visible()
    no_sideways_scroll(page, "/apps/new")
    page.get_by_label("Your idea").fill(IDEA)
    page.get_by_role("button", name="Next: a few questions").click()
    app_id = app_id_of(page)
    live(page)
    return app_id


def answer_and_edit_the_brief(page: Page, server: ServerProcess, app_id: str) -> dict[str, Any]:
    """The questions answered, a feature of the brief renamed and saved (its version 2)."""
    expect(page.get_by_text("Offline assistant (no API key)")).to_be_visible()
    expect(page.locator(".question-hint").first).not_to_be_empty()
    no_sideways_scroll(page, "the questions")
    for question, answer in ANSWERS.items():
        page.locator(f"#answer-{question}").fill(answer)
    act(page, page.get_by_role("button", name="Next: the brief"))

    names = page.locator("#feature-rows input[name=feature_name]")
    expect_values(names, ["Class schedule", "Book a class"])
    no_sideways_scroll(page, "the brief")
    names.first.fill("Weekly timetable")
    page.get_by_role("button", name="Add a feature").click()
    page.locator("#feature-rows .feature-row").last.get_by_role("button", name="Remove").click()
    act(page, page.get_by_role("button", name="Save the brief"))
    expect(page.locator("#brief")).to_contain_text("version 2")
    expect_values(names, ["Weekly timetable", "Book a class"])
    brief: dict[str, Any] = server.api("GET", f"/api/apps/{app_id}/brief")
    assert [f["name"] for f in brief["features"]] == ["Weekly timetable", "Book a class"]
    return brief


def pick_static_site(page: Page) -> None:
    """The plan's option cards, the recommended one marked; static-site picked."""
    act(page, page.get_by_role("button", name="Next: the plan"))
    cards = page.locator(".plan-option")
    expect(cards.first).to_be_visible()
    assert 2 <= cards.count() <= 3
    recommended = page.locator(".plan-option.recommended")
    expect(recommended).to_have_attribute("data-template", "static-site")
    expect(recommended.locator(".recommended-badge")).to_have_text("Recommended")
    no_sideways_scroll(page, "the plan")
    act(page, page.locator(".plan-option[data-template=static-site] button[type=submit]"))


def watch_the_build(page: Page) -> Locator:
    """Build it, and the stages go by in the card without the page reloading."""
    act(page, page.get_by_role("button", name="Build it"))
    card = page.locator("#build-card")
    page.evaluate(WATCH_LABEL)
    expect(card).to_have_attribute("data-status", WORKING, timeout=BUILD_SECONDS * 1000)
    no_sideways_scroll(page, "a build going on")
    expect(card).to_have_attribute("data-status", "ready", timeout=BUILD_SECONDS * 1000)
    labels: list[str] = page.evaluate("window.__labels")  # None after a reload
    stage_words = {"Setting up the project…", "Writing code…", "Installing dependencies…"}
    assert labels[-1] == "Ready" and stage_words & set(labels), labels
    return card


def check_what_was_built(page: Page, card: Locator) -> None:
    """Ready: the summary and the loaded screenshot, before the preview link."""
    summary = card.locator(".build-summary")
    expect(summary.locator(".summary-features li")).to_have_text(
        ["Weekly timetable", "Book a class"]
    )
    expect(summary).to_contain_text("file")
    expect(summary.locator(".summary-checks li").first).to_contain_text("unit test")
    page.wait_for_function("document.getElementById('build-screenshot')?.naturalWidth > 0")
    expect(card.locator(".build-step.done")).to_have_count(7)
    expect(page.locator("#app-stage")).to_have_text("MVP built")  # the first build was ready
    expect(card.locator(".build-step[data-stage=code] .step-time")).to_have_text(
        re.compile(r"\d s$")
    )
    board = card.get_by_role("link", name="Open in the board")
    expect(board).to_have_attribute("href", re.compile(r"^/projects/\w+\?attempt=\w+$"))
    no_sideways_scroll(page, "a ready build")


def open_the_preview(page: Page, card: Locator) -> None:
    with page.context.expect_page() as opened:
        card.get_by_role("button", name="Open preview").click()
    preview = opened.value
    expect(preview.locator("#features")).to_contain_text("Weekly timetable")
    expect(preview.locator("#features")).to_contain_text("Book a class")
    preview.close()


CHANGE_ANSWERS = {
    "done_looks_like": "A contact section at the bottom of the page with our address",
    "where": "Something new",
}


def talk_through_a_change(page: Page, description: str) -> Locator:
    """The change conversation under the ready card: the change in words, its questions
    answered; the confirmation card."""
    page.get_by_label("What should change?").fill(description)
    act(page, page.get_by_role("button", name="Next: a question or two"))
    change = page.locator("#change")
    expect(change.locator(".change-words")).to_have_text(description)
    for question, answer in CHANGE_ANSWERS.items():
        expect(change.locator(f"#change-hint-{question}")).not_to_be_empty()
        change.locator(f"#change-answer-{question}").fill(answer)
    act(page, change.get_by_role("button", name="Next: check it"))
    expect(change.locator(".change-confirmation")).to_be_visible()
    return change


def second_version_then_roll_back(
    page: Page, server: ServerProcess, app_id: str, card: Locator
) -> None:
    """A change talked through and confirmed on the ready card builds v0.2, live; back to
    v0.1 after a confirmation, as v0.3."""
    change = talk_through_a_change(page, "Add a contact section")
    act(page, change.get_by_role("button", name="Confirm and build"))
    second = server.api("GET", f"/api/apps/{app_id}/builds")[0]
    assert second["number"] == 2 and second["kind"] == "change"
    expect(card).to_have_attribute("data-build-id", second["id"])
    assert settled(server, second)["status"] == "ready"
    expect(page.locator("#version-v0-2")).to_be_visible()
    expect(card).to_have_attribute("data-status", "ready")

    messages: list[str] = []

    def confirm(dialog: Dialog) -> None:
        messages.append(dialog.message)
        dialog.accept()

    page.once("dialog", confirm)
    act(page, page.get_by_role("button", name="Roll back to v0.1"))
    expect(page.locator("#version-v0-3 .version-summary")).to_have_text("rolled back to v0.1")
    assert messages and "v0.1" in messages[0]
    expect(page.locator(".version-name")).to_have_text(["v0.3", "v0.2", "v0.1"])
    timeline = page.locator("#timeline-list .timeline-entry")
    expect(timeline.first).to_have_attribute("data-kind", "rollback")
    no_sideways_scroll(page, "the versions")
    versions = server.api("GET", f"/api/apps/{app_id}/versions")
    assert [v["name"] for v in versions] == ["v0.3", "v0.2", "v0.1"]


@pytest.mark.parametrize("size", [DESKTOP, PHONE], ids=["1440px", "390px"])
def test_a_founder_goes_from_an_idea_to_a_running_app_and_back_a_version(
    browser: Browser, server: ServerProcess, size: dict[str, int]
) -> None:
    with founder(browser, size) as page:
        app_id = describe_the_idea(page, server)
        brief = answer_and_edit_the_brief(page, server, app_id)
        pick_static_site(page)
        card = watch_the_build(page)
        check_what_was_built(page, card)
        save(page, "ready" if size == DESKTOP else "ready-phone")
        open_the_preview(page, card)
        second_version_then_roll_back(page, server, app_id, card)

        server.open(page, "/")  # home lists the app, with its stage
        item = page.locator(".app-item", has=page.get_by_role("link", name=brief["name"]))
        expect(item.locator(".stage-badge")).to_have_text("MVP built")


# --- a failure, a cancellation -------------------------------------------------------------


@pytest.mark.parametrize("size", [DESKTOP, PHONE], ids=["1440px", "390px"])
def test_a_failed_build_says_so_plainly_and_offers_a_retry(
    browser: Browser, server: ServerProcess, size: dict[str, int]
) -> None:
    app = planned_app(server, {"profile": "script", "command": "echo 'no luck' >&2; exit 3"})
    with founder(browser, size) as page:
        card = build_in_the_page(page, server, app)
        expect(card).to_have_attribute("data-status", "failed", timeout=BUILD_SECONDS * 1000)
        failed = server.api("GET", f"/api/builds/{card.get_attribute('data-build-id')}")
        expect(card.locator(".build-label")).to_have_text(failed["error"])
        assert failed["error"].endswith("Want us to try again?")
        expect(card.locator(f".build-step[data-stage={failed['failed_stage']}]")).to_have_class(
            re.compile(r"\bfailed\b")
        )
        expect(card.locator(".debug-id")).to_contain_text(failed["debug_id"])
        details = card.locator("details.technical")
        expect(details.locator(".detail")).to_be_hidden()  # no raw terminal by default
        details.get_by_text("Show details").click()
        expect(details.locator(".detail")).to_have_text(failed["detail"])
        no_sideways_scroll(page, "a failed build")
        if size == DESKTOP:
            save(page, "failed")

        act(page, card.get_by_role("button", name="Retry"))
        expect(card).to_have_attribute("data-status", "failed", timeout=BUILD_SECONDS * 1000)
        retried = server.api("GET", f"/api/builds/{failed['id']}")
        assert retried["retries"] == 1 and retried["status"] == "failed"


def test_a_build_cancelled_after_a_confirmation_ends_cancelled(
    browser: Browser, server: ServerProcess
) -> None:
    app = planned_app(server, {"profile": "script", "command": "sleep 60"})
    with founder(browser, DESKTOP) as page:
        card = build_in_the_page(page, server, app)
        expect(card).to_have_attribute("data-status", "code", timeout=BUILD_SECONDS * 1000)
        expect(card.locator(".build-label")).to_have_text("Writing code…")
        expect(card.locator(".build-step[data-stage=code]")).to_have_class(
            re.compile(r"\bcurrent\b")
        )
        expect(card.locator(".build-step[data-stage=scaffold]")).to_have_class(
            re.compile(r"\bdone\b")
        )
        save(page, "building")

        messages: list[str] = []
        page.once("dialog", lambda dialog: (messages.append(dialog.message), dialog.dismiss()))
        card.get_by_role("button", name="Cancel").click()
        expect(card).to_have_attribute("data-status", "code")  # dismissed: it goes on
        assert messages and "Stop this build?" in messages[0]

        page.once("dialog", lambda dialog: dialog.accept())
        card.get_by_role("button", name="Cancel").click()
        expect(card.locator(".build-label")).to_have_text("Cancelled")
        expect(card).to_have_attribute("data-status", "cancelled")
        build = server.api("GET", f"/api/builds/{card.get_attribute('data-build-id')}")
        assert build["status"] == "cancelled"
        expect(card.get_by_role("button", name="Cancel")).to_have_count(0)

        # Started again, from the start: the same build, back at work.
        act(page, card.get_by_role("button", name="Start it again"))
        expect(card).to_have_attribute("data-build-id", build["id"])
        expect(card).to_have_attribute("data-status", WORKING)
        again = server.api("GET", f"/api/builds/{build['id']}")
        assert again["start_stage"] == "starting" and again["retries"] == 1


# --- the doors -----------------------------------------------------------------------------


def builder_form_routes() -> list[str]:
    """Every form endpoint of the builder's pages, from their routers: a new one is checked
    without being listed here."""
    return sorted(
        {
            route.path
            for module in (ui_builder, ui_builder_builds, ui_builder_decisions, ui_builder_ship)
            for route in module.router.routes
            if isinstance(route, APIRoute) and "POST" in route.methods
        }
    )


def test_every_builder_form_refuses_other_origins_and_strangers(server: ServerProcess) -> None:
    app = planned_app(server)
    paths = builder_form_routes()
    assert "/ui/apps" in paths and "/ui/builds/{build_id}/cancel" in paths
    assert "/ui/changes/{change_id}/confirm" in paths and "/ui/apps/{app_id}/deploy-check" in paths
    signed = httpx.get(f"{server.url}/?token={server.token}")
    cookie = {"Cookie": signed.headers["set-cookie"].split(";", 1)[0]}
    foreign = {**cookie, "Origin": "http://evil.example", "Sec-Fetch-Site": "cross-site"}
    before = server.api("GET", f"/api/apps/{app['id']}/timeline")
    for path in paths:
        concrete = (
            path.replace("{app_id}", app["id"])
            .replace("{build_id}", "0" * 32)
            .replace("{gate_id}", "0" * 32)
            .replace("{change_id}", "0" * 32)
            .replace("{version}", "v0.1")
        )
        form = {"idea": IDEA, "template": "static-site", "answer-users": "x"}
        refused = httpx.post(f"{server.url}{concrete}", data=form, headers=foreign)
        assert refused.status_code == 403, (path, refused.text)
        assert refused.json()["code"] == "cross_origin_request"
        stranger = httpx.post(f"{server.url}{concrete}", data=form, headers={"HX-Request": "true"})
        assert stranger.status_code == 401, (path, stranger.text)
    assert server.api("GET", f"/api/apps/{app['id']}/timeline") == before
    assert [a["id"] for a in server.api("GET", "/api/apps")] == [app["id"]]
    assert server.api("GET", f"/api/apps/{app['id']}/builds") == []
