"""An agent's failures and side events in plain words, in a real browser: the real Claude Code CLI,
run by the real server against the fake model of tests/agents.

A refused key fails the attempt with Claude Code's own reason first (not "exited with code 1"
alone), its retries read as retries; work the agent runs in the background reads as such, not
as raw JSON."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from paddock.agents import claude_code
from tests.agents.conftest import AGENTS_CACHE, installed_cli
from tests.agents.dialects.anthropic import AnthropicDialect, RefusedKey
from tests.agents.fake_model import Conversation, Dialect, FakeModel, Reply, RunShell, Say
from tests.e2e.server import ServerProcess

SLOW = 180_000  # ms: a real CLI turn on a small machine (no timing is asserted)
REASON = "Invalid API key · Fix external API key"


@contextmanager
def claude_against(dialect: Dialect, data: Path, script: Any) -> Iterator[ServerProcess]:
    installed_cli(claude_code.ADAPTER)
    with FakeModel(script, [dialect]) as fake:
        env = {
            "PADDOCK_AGENTS_DIR": str(AGENTS_CACHE),
            "PADDOCK_ANTHROPIC_BASE_URL": fake.url,
            "PADDOCK_ANTHROPIC_API_KEY": "sk-ant-wrong-0123456789",
            "PADDOCK_SANDBOX_NETWORK": "host",  # the fake listens on the host's loopback
        }
        with ServerProcess(data, env=env) as server:
            yield server


Claude = Callable[..., ServerProcess]


@pytest.fixture
def claude(tmp_path: Path) -> Iterator[Claude]:
    """Starts the server with Claude Code pointed at a fake model speaking `dialect`. Comes
    before `page` in a test's arguments, so the page is closed before the server stops."""
    with ExitStack() as stack:

        def against(dialect: Dialect, script: Any = lambda _c: Say("Done")) -> ServerProcess:
            return stack.enter_context(claude_against(dialect, tmp_path / "data", script))

        yield against


def start(server: ServerProcess, repo: Path) -> dict[str, Any]:
    project = server.api("POST", "/api/projects", json={"path": str(repo)})
    task = server.api("POST", f"/api/projects/{project['id']}/tasks", json={"title": "Say hi"})
    attempt: dict[str, Any] = server.api(
        "POST", f"/api/tasks/{task['id']}/attempts", json={"agent": {"profile": "claude-code"}}
    )
    return attempt


def test_a_refused_key_says_why_first(claude: Claude, repo: Path, page: Page) -> None:
    server = claude(RefusedKey())
    attempt = start(server, repo)
    server.open(page, f"/attempts/{attempt['id']}")
    header = page.locator("#attempt-header .error-text")
    expect(header).to_contain_text(REASON, timeout=SLOW)
    assert header.inner_text().startswith(f"agent failed: {REASON} (exited with code 1)")
    turn = page.locator("#turns > .turn").first
    expect(turn.locator(".turn-head .error-text")).to_have_text(f"{REASON} (exited with code 1)")
    retries = turn.locator(".entry-retry")
    expect(retries).to_have_count(claude_code.MAX_RETRIES)
    expect(retries.first).to_contain_text("Retry 1 of 3")
    expect(retries.first).to_contain_text("after 401 authentication_failed")
    expect(turn.locator(".entry-error")).to_contain_text(REASON)
    expect(turn.locator("pre.raw")).to_have_count(0)  # no event left as raw JSON


def test_background_work_reads_as_such(claude: Claude, repo: Path, page: Page) -> None:
    def script(conversation: Conversation) -> Reply:
        if "<task-notification>" in conversation.last_user_text:
            return Say("The background job finished")
        if conversation.tool_results == 0:
            return RunShell("sleep 1; echo done", background=True)
        return Say("Started it")

    server = claude(AnthropicDialect(), script)
    attempt = start(server, repo)
    server.open(page, f"/attempts/{attempt['id']}")
    turn = page.locator("#turns > .turn").first
    expect(turn.locator(".entry-assistant_message .text").last).to_have_text(
        "The background job finished", timeout=SLOW
    )
    tasks = turn.locator(".entry-background_task")
    expect(tasks).to_have_count(2)
    expect(tasks.first).to_contain_text("started")
    expect(tasks.first).to_contain_text("Background task Run a command")
    expect(tasks.last).to_contain_text("completed")
    expect(tasks.last).to_contain_text("completed (exit code 0)")
    expect(turn.locator("pre.raw")).to_have_count(0)
