"""The founder's whole path in Chromium, offline (no key) and with a model key: the questions
answered, the brief, the plan, v0.1 built live, the preview seen, the gate (iterate), a change
talked through and confirmed (v0.2, which leaves a key in the code), the gate again (ship), the
deploy check red with its blockers and fixes, the fix asked for as a change (v0.3), the check
green, then park and resume.

Offline, the `script` agent plays the part (it leaves the key, then moves it out, by a word in
the repository's .git); with a key, the Anthropic planner and the real Claude Code CLI do,
against the tests' fake model (tests/e2e/test_founder_flow.py's script). The app is created
through the API only to name its agent; everything else is done in the page."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Locator, Page, expect

from paddock.agents import claude_code
from paddock.demo import builder_agent
from tests.agents.conftest import installed_cli
from tests.agents.dialects.anthropic import AnthropicDialect
from tests.agents.fake_model import Conversation, FakeModel, Reply, Say
from tests.e2e.agent_helpers import agent_server
from tests.e2e.server import ServerProcess, make_repo
from tests.e2e.test_founder_flow import (
    ANSWERS,
    API_KEY,
    MOVE_KEY,
    PRICES,
    claude_turn,
    planner_answer,
)
from tests.e2e.test_previews import PREVIEW_ENV
from tests.ui.test_builder import (
    BUILD_SECONDS,
    IDEA,
    act,
    answer_and_edit_the_brief,
    founder,
    live,
    no_sideways_scroll,
    pick_static_site,
    talk_through_a_change,
    watch_the_build,
)
from tests.ui.test_builder_decisions import CHECK_SECONDS, decide, gate_after_the_preview
from tests.ui.test_small_widths import DESKTOP

MODE = "founder-mode"
KEY = "AKIA" + "IOSFODNN7" + "EXAMPLH"  # an AWS access key id's shape
SCRIPT = f"""
mode="$(cat "{{git_dir}}/{MODE}" 2>/dev/null || true)"
case "$mode" in
  leak) printf 'const awsKey = "{KEY}";\\nconst stripe = process.env.STRIPE_KEY;\\n' > config.js ;;
  fix) printf 'const stripe = process.env.STRIPE_KEY;\\n' > config.js
       printf '# Your Stripe secret key\\nSTRIPE_KEY=\\n' > .env.example ;;
esac
exec python3 {Path(builder_agent.__file__)}
"""


def confirm_a_change(page: Page, card: Locator, description: str, version: str) -> None:
    """A change talked through, confirmed and built: `version` is on the card, live."""
    change = talk_through_a_change(page, description)
    act(page, change.get_by_role("button", name="Confirm and build"))
    expect(card.locator(".version-badge")).to_have_text(version, timeout=BUILD_SECONDS * 1000)
    expect(card).to_have_attribute("data-status", "ready")


def deploy_check(page: Page, *, press: bool) -> Locator:
    """The deploy section's check (run by deciding "Ship", or with `press` by its button);
    its result."""
    deploy = page.locator("#deploy")
    if press:
        deploy.get_by_role("button", name="Check deploy readiness").click()
    result = deploy.locator("#deploy-result[data-light]")
    expect(result).to_be_visible(timeout=CHECK_SECONDS * 1000)
    return result


@pytest.fixture
def server(tmp_path: Path) -> Iterator[ServerProcess]:
    with ServerProcess(tmp_path / "data", env=PREVIEW_ENV) as srv:
        yield srv


def test_the_founder_path_in_the_browser_offline(
    browser: Browser, server: ServerProcess, tmp_path: Path
) -> None:
    repo = make_repo(tmp_path / "studio")
    mode = repo / ".git" / MODE
    agent = {"profile": "script", "command": SCRIPT.format(git_dir=repo / ".git")}
    app = server.api(
        "POST", "/api/apps", json={"idea": IDEA, "repo_path": str(repo), "agent": agent}
    )
    with founder(browser, DESKTOP) as page:
        server.open(page, f"/apps/{app['id']}")
        live(page)
        answer_and_edit_the_brief(page, server, app["id"])
        pick_static_site(page)
        card = watch_the_build(page)
        expect(card.locator(".version-badge")).to_have_text("v0.1")

        # The preview seen: the gate; iterate with a change that leaves a key in the code.
        gate_after_the_preview(page, card)
        decide(page, "Iterate")
        mode.write_text("leak")
        confirm_a_change(page, card, "Show the price of each class", "v0.2")

        # Seen again: ship; the check is red, its blockers first, each with its fix.
        page.reload()
        card = live(page)
        gate_after_the_preview(page, card)
        decide(page, "Ship")
        red = deploy_check(page, press=False)
        expect(red).to_have_attribute("data-light", "red")
        expect(red.locator(".traffic-light strong")).to_have_text("Not ready yet")
        blocking = red.locator(".checks.blocking .check")
        expect(blocking).to_have_count(2)
        expect(red.locator(".checks.blocking")).to_contain_text("config.js")
        expect(red.locator(".checks.blocking")).to_contain_text("STRIPE_KEY")
        assert KEY not in page.content()
        no_sideways_scroll(page, "a red deploy check")

        # The founder fixes it by a change request; v0.3 is green (no blocker).
        mode.write_text("fix")
        confirm_a_change(page, card, "Move the AWS key out of the code", "v0.3")
        page.reload()
        live(page)
        green = deploy_check(page, press=True)
        expect(green).to_have_attribute("data-light", re.compile("^(green|yellow)$"))
        expect(green.locator(".checks.blocking .check")).to_have_count(0)
        readiness = server.api("GET", f"/api/apps/{app['id']}/deploy-readiness")
        assert readiness["version"] == "v0.3" and readiness["blocking"] == []

        # v0.3's screenshot in the page counts as its preview seen: the gate asks; park.
        expect(page.locator("#gate")).to_be_visible()
        decide(page, "Park")
        expect(page.locator("#parked")).to_contain_text("is parked")
        act(page, page.locator("#parked").get_by_role("button", name="Resume"))
        expect(page.locator("#parked")).to_have_count(0)
        expect(page.get_by_label("What should change?")).to_be_visible()

    kinds = {e["kind"] for e in server.api("GET", f"/api/apps/{app['id']}/timeline")}
    assert {"gate_opened", "decision", "change_confirmed", "deploy_checked", "parked"} <= kinds
    assert "resumed" in kinds


def talk_through(page: Page, description: str) -> Locator:
    """A change in words, whatever questions the planner asked answered; its confirmation."""
    page.get_by_label("What should change?").fill(description)
    act(page, page.get_by_role("button", name="Next: a question or two"))
    change = page.locator("#change")
    answers = change.locator("textarea[id^=change-answer-]")
    expect(answers.first).to_be_visible()
    for index in range(answers.count()):
        answers.nth(index).fill("As you think best")
    act(page, change.get_by_role("button", name="Next: check it"))
    expect(change.locator(".change-confirmation")).to_be_visible()
    return change


def test_the_founder_path_in_the_browser_with_a_model_key(browser: Browser, tmp_path: Path) -> None:
    installed_cli(claude_code.ADAPTER)

    def script(conversation: Conversation) -> Reply:
        answer = planner_answer(conversation.last_user_text)
        return Say(answer) if answer is not None else claude_turn(conversation)

    env = {
        **PREVIEW_ENV,
        "PADDOCK_ANTHROPIC_BASE_URL": "",
        "PADDOCK_ANTHROPIC_API_KEY": API_KEY,
        "PADDOCK_BUILDER_SCREENSHOT": "false",  # the network is the host's here
    }
    with FakeModel(script, [AnthropicDialect()]) as fake:
        env["PADDOCK_ANTHROPIC_BASE_URL"] = fake.url
        with agent_server(tmp_path / "data", env) as server:
            app = server.api(
                "POST", "/api/apps", json={"idea": IDEA, "agent": {"profile": "claude-code"}}
            )
            with founder(browser, DESKTOP) as page:
                server.open(page, f"/apps/{app['id']}")
                live(page)
                expect(page.get_by_text("Offline assistant (no API key)")).to_have_count(0)
                for question, answer in ANSWERS.items():
                    page.locator(f"#answer-{question}").fill(answer)
                act(page, page.get_by_role("button", name="Next: the brief"))
                names = page.locator("#feature-rows input[name=feature_name]")
                expect(names.first).to_have_value("Next gigs")  # the model's brief
                act(page, page.get_by_role("button", name="Next: the plan"))
                act(
                    page,
                    page.locator(".plan-option[data-template=static-site] button[type=submit]"),
                )
                act(page, page.get_by_role("button", name="Build it"))
                card = page.locator("#build-card")
                expect(card).to_have_attribute("data-status", "ready", timeout=BUILD_SECONDS * 1000)

                gate_after_the_preview(page, card)
                decide(page, "Iterate")
                change = talk_through(page, PRICES)
                expect(change.locator(".change-clarified")).to_contain_text(
                    "as the founder described it"
                )
                act(page, change.get_by_role("button", name="Confirm and build"))
                expect(card.locator(".version-badge")).to_have_text(
                    "v0.2", timeout=BUILD_SECONDS * 1000
                )

                page.reload()
                card = live(page)
                gate_after_the_preview(page, card)
                decide(page, "Ship")
                red = deploy_check(page, press=False)
                expect(red).to_have_attribute("data-light", "red")
                expect(red.locator(".checks.blocking")).to_contain_text("STRIPE_KEY")

                change = talk_through(page, MOVE_KEY)
                act(page, change.get_by_role("button", name="Confirm and build"))
                expect(card.locator(".version-badge")).to_have_text(
                    "v0.3", timeout=BUILD_SECONDS * 1000
                )
                page.reload()
                card = live(page)
                green = deploy_check(page, press=True)
                expect(green.locator(".checks.blocking .check")).to_have_count(0)

                gate_after_the_preview(page, card)
                decide(page, "Park")
                expect(page.locator("#parked")).to_contain_text("is parked")
                act(page, page.locator("#parked").get_by_role("button", name="Resume"))
                expect(page.locator("#parked")).to_have_count(0)
            changes = server.api("GET", f"/api/apps/{app['id']}/changes")
            assert [c["model_score"] for c in changes] == [90, 90]  # the model's, beside the score
