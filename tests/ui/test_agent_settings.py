"""Agent profiles in a real browser: the settings page (installed state, versions, masked
credentials, variants added, changed and deleted) and the variant picker of a new attempt."""

from __future__ import annotations

import re
import tomllib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser, Page, expect

from paddock.agents import claude_code
from tests.agents.conftest import AGENTS_CACHE, installed_cli
from tests.e2e.server import ServerProcess, free_port
from tests.ui.conftest import attempt_in_panel, screenshot
from tests.ui.test_board import add_task, card, new_project, open_board, page_expecting_errors

API_KEY = "sk-ant-secret-value-0123456789"
OPENAI_KEY = "sk-openai-abc"  # short: not even its end is shown
GATEWAY = "https://gateway.example/v1"


@pytest.fixture
def server(tmp_path: Path) -> Iterator[ServerProcess]:
    """A server with Claude Code installed (the tests' cache of real CLIs) and credentials set;
    its base URL points at a closed port, so no attempt here reaches a model."""
    installed_cli(claude_code.ADAPTER)
    env = {
        "PADDOCK_AGENTS_DIR": str(AGENTS_CACHE),
        "PADDOCK_ANTHROPIC_API_KEY": API_KEY,
        "PADDOCK_ANTHROPIC_BASE_URL": f"http://127.0.0.1:{free_port()}",
        "PADDOCK_OPENAI_API_KEY": OPENAI_KEY,
        "PADDOCK_OPENAI_BASE_URL": GATEWAY,
    }
    with ServerProcess(tmp_path / "data", env=env) as srv:
        yield srv


def agents(server: ServerProcess) -> list[dict[str, Any]]:
    """GET /api/agents, which asks every installed CLI its version: slow on a busy machine."""
    response = server.client.get("/api/agents", timeout=180)
    assert response.status_code == 200, response.text
    profiles: list[dict[str, Any]] = response.json()
    return profiles


def stored_env(server: ServerProcess, agent: str, variant: str) -> dict[str, str]:
    """A variant's env as kept in the data dir's agents.toml (the API masks secrets)."""
    overrides = tomllib.loads((server.data_dir / "agents.toml").read_text())
    env: dict[str, str] = overrides[agent]["variants"][variant].get("env", {})
    return env


def variants(server: ServerProcess, agent: str) -> dict[str, dict[str, Any]]:
    profiles = agents(server)
    profile = next(p for p in profiles if p["name"] == agent)
    return {v["name"]: v for v in profile["variants"]}


def test_profiles_and_credentials_never_show_a_key(server: ServerProcess, page: Page) -> None:
    server.open(page, "/settings")
    claude = page.locator("#agent-claude-code")
    expect(claude.locator(".agent-state")).to_have_text("installed")
    expect(claude.locator(".agent-version")).to_have_text(re.compile(r"^version \d+\.\d+"))
    expect(claude.locator(".agent-executable")).to_contain_text(str(AGENTS_CACHE))
    for profile in agents(server):
        section = page.locator(f"#agent-{profile['name']}")
        if not profile["installed"]:
            expect(section.locator(".agent-state")).to_have_text("not installed")
            expect(
                section.get_by_role("button", name=f"Install {profile['label']}")
            ).to_be_visible()

    anthropic = page.locator('#credentials tr[data-provider="Anthropic"]')
    expect(anthropic.locator(".credential-key")).to_have_text("set — ends in …6789")
    expect(anthropic.locator(".credential-url")).to_have_text(re.compile(r"^http://127\.0\.0\.1:"))
    openai = page.locator('#credentials tr[data-provider="OpenAI"]')
    expect(openai.locator(".credential-key")).to_have_text("set")
    expect(openai.locator(".credential-url")).to_have_text(GATEWAY)
    gemini = page.locator('#credentials tr[data-provider="Gemini"]')
    expect(gemini.locator(".credential-key")).to_have_text("not set")

    for key in (API_KEY, OPENAI_KEY):
        assert key not in page.content()
        assert key not in server.client.get("/settings").text
    screenshot(page, "settings-agents")


def test_variants_are_added_changed_and_deleted(server: ServerProcess, browser: Browser) -> None:
    with page_expecting_errors(browser) as page:  # one form is sent wrong on purpose
        change_variants_in_the_page(server, page)


def change_variants_in_the_page(server: ServerProcess, page: Page) -> None:
    server.open(page, "/settings")
    claude = page.locator("#agent-claude-code")
    claude.get_by_text("Add a variant to claude-code").click()
    form = claude.locator("#agent-claude-code-new")
    form.get_by_label("Variant name").fill("careful")
    form.get_by_label("Model").fill("opus")
    form.get_by_label("Permission").select_option("plan")
    form.get_by_label("Extra arguments").fill('--max-turns 30 --append-system-prompt "be brief"')
    form.get_by_label("Environment").fill("CLAUDE_CODE_MAX_RETRIES=2\nMY_API_TOKEN=tok-very-secret")
    form.get_by_role("button", name="Add variant").click()

    row = claude.locator('.variant[data-variant="careful"]')
    expect(row.locator(".variant-permission")).to_have_text("plan")
    saved = variants(server, "claude-code")["careful"]
    assert saved["model"] == "opus" and saved["permission"] == "plan"
    assert saved["extra_args"] == ["--max-turns", "30", "--append-system-prompt", "be brief"]
    # The API masks a secret-looking value; the overrides file keeps it.
    assert saved["env"] == {"CLAUDE_CODE_MAX_RETRIES": "2", "MY_API_TOKEN": "********"}
    assert stored_env(server, "claude-code", "careful")["MY_API_TOKEN"] == "tok-very-secret"
    assert "tok-very-secret" not in page.content()  # a secret-looking value stays masked

    # Changed in its edit form; the masked secret, sent back untouched, keeps its value.
    row.get_by_label("Edit the variant careful of claude-code").click()
    edit = row.locator("form")
    expect(edit.get_by_label("Environment")).to_have_value(
        "CLAUDE_CODE_MAX_RETRIES=2\nMY_API_TOKEN=********"
    )
    edit.get_by_label("Permission").select_option("ask")
    edit.get_by_label("Model").fill("")
    edit.get_by_role("button", name="Save").click()
    expect(row.locator(".variant-permission")).to_have_text("ask")
    saved = variants(server, "claude-code")["careful"]
    assert saved["permission"] == "ask" and saved["model"] is None
    assert stored_env(server, "claude-code", "careful")["MY_API_TOKEN"] == "tok-very-secret"

    # A bad line is refused where it was typed.
    claude.get_by_text("Add a variant to claude-code").click()
    form = claude.locator("#agent-claude-code-new")
    form.get_by_label("Variant name").fill("broken")
    form.get_by_label("Environment").fill("not a pair")
    form.get_by_role("button", name="Add variant").click()
    expect(form.locator(".form-error")).to_contain_text("expected NAME=value")
    expect(claude.locator('.variant[data-variant="broken"]')).to_have_count(0)

    page.once("dialog", lambda dialog: dialog.accept())
    row.get_by_role("button", name="Delete the variant careful of claude-code").click()
    expect(row).to_have_count(0)
    assert "careful" not in variants(server, "claude-code")
    # The built-in default can be changed, not deleted.
    default = claude.locator('.variant[data-variant="default"]')
    expect(default.get_by_role("button", name=re.compile("^(Delete|Reset)"))).to_have_count(0)


def test_the_variant_picker_reaches_the_attempt(
    server: ServerProcess, repo: Path, page: Page
) -> None:
    server.api(
        "PUT",
        "/api/agents/claude-code/variants/quick",
        json={"model": "haiku", "permission": "plan", "env": {"CLAUDE_CODE_MAX_RETRIES": "0"}},
    )
    project = new_project(server, repo)
    task = add_task(server, project, "Plan the refactor")
    open_board(page, server, project)
    card(page, task).click()
    panel = page.locator("#panel")
    agent = panel.get_by_label("Agent", exact=True)
    variant = panel.get_by_label("Variant")
    expect(variant.locator("option")).to_have_text([re.compile("^default")])  # the demo's

    agent.select_option("claude-code")
    expect(panel.locator("#attempt-agent-info")).to_have_text(
        re.compile(r"^Installed · version \d+\.\d+")
    )
    expect(variant.locator("option")).to_have_text(
        [re.compile("^default"), re.compile("^plan"), re.compile("^quick — haiku, plan permission")]
    )
    variant.select_option("quick")
    panel.get_by_role("button", name="Start attempt").click()
    attempt = server.api("GET", f"/api/attempts/{attempt_in_panel(page)}")
    assert attempt["agent"] == {**attempt["agent"], "profile": "claude-code", "variant": "quick"}
    expect(page.locator("#attempt-header")).to_contain_text("claude-code (quick)")
