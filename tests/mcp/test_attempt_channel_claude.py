"""Real agent CLIs, in their bwrap sandboxes, against the tests' fake model. Claude Code: the
"model" calls the attempt channel's `propose_task` under the name Claude Code gives MCP tools
(`mcp__paddock__propose_task`), and the card appears on the board as proposed by the attempt.
Codex and Gemini CLI: the model is offered the channel's tools (their fakes cannot call one)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from paddock.agents import claude_code, codex, gemini
from paddock.mcp.attempt_channel import INSTRUCTIONS
from tests.agents.conftest import installed_cli
from tests.agents.dialects.anthropic import AnthropicDialect
from tests.agents.dialects.gemini import GeminiDialect
from tests.agents.dialects.openai_responses import OpenAIResponses
from tests.agents.fake_model import CallTool, Conversation, FakeModel, Reply, Say
from tests.e2e.agent_helpers import TURN_TIMEOUT, agent_server
from tests.e2e.server import make_repo, wait_for

API_KEY = "sk-ant-test-channel-0123456789"
TOOL = "mcp__paddock__propose_task"
PROPOSAL = {"title": "Add a changelog", "description": "Nobody can tell what changed.\n"}
SETTLED = ("awaiting_review", "failed", "stopped")
CODEX_OFFERS = ("mcp__paddock", INSTRUCTIONS[:60])
GEMINI_OFFERS = ("propose_task", "report_progress", "get_own_task", "get_own_attempt")


def test_claude_code_proposes_a_task_through_its_channel(tmp_path: Path) -> None:
    installed_cli(claude_code.ADAPTER)

    def script(conversation: Conversation) -> Reply:
        if conversation.tool_results == 0:
            return CallTool(TOOL, PROPOSAL, text="I'll propose a follow-up task.")
        return Say("Proposed: Add a changelog")

    repo = make_repo(tmp_path / "repo")
    env = {"PADDOCK_ANTHROPIC_API_KEY": API_KEY}
    with FakeModel(script, [AnthropicDialect()], root=str(repo)) as fake:
        env["PADDOCK_ANTHROPIC_BASE_URL"] = fake.url
        with agent_server(tmp_path / "data", env) as server:
            project = server.api("POST", "/api/projects", json={"path": str(repo)})
            task = server.api(
                "POST", f"/api/projects/{project['id']}/tasks", json={"title": "Ship it"}
            )
            attempt = server.api(
                "POST",
                f"/api/tasks/{task['id']}/attempts",
                json={"agent": {"profile": "claude-code"}},
            )

            def settled() -> dict[str, Any] | None:
                current: dict[str, Any] = server.api("GET", f"/api/attempts/{attempt['id']}")
                return current if current["status"] in SETTLED else None

            assert wait_for(settled, TURN_TIMEOUT)["status"] == "awaiting_review"
            tasks = server.api("GET", f"/api/projects/{project['id']}/tasks")
            procs = server.api("GET", f"/api/attempts/{attempt['id']}/processes")
    # The model was offered the channel's tools under Claude Code's names for MCP tools...
    offered = [
        {tool.get("name") for tool in request.json().get("tools", [])}
        for request in fake.posts("/v1/messages")
    ]
    assert any(TOOL in names for names in offered), offered
    assert any("mcp__paddock__report_progress" in names for names in offered)
    # ...and its call went through: the tool's answer came back to the model, not an error.
    answered = [json.dumps(r.json()) for r in fake.posts("/v1/messages")]
    assert any("proposed_by" in text and attempt["id"] in text for text in answered)
    (turn,) = [p for p in procs if p["reason"] == "agent"]
    assert turn["provider"] == "bwrap" and turn["status"] == "succeeded"
    (card,) = [t for t in tasks if t["proposed_by"] == attempt["id"]]
    assert card["proposed"] is True
    assert (card["title"], card["description"]) == (PROPOSAL["title"], PROPOSAL["description"])


@pytest.mark.parametrize(
    ("adapter", "dialect", "settings", "base", "asks", "offered"),
    [
        # Codex defers MCP tools: the model sees the server's namespace and its instructions
        # (which only the channel's `initialize` answer, through the relay, carries).
        (codex.ADAPTER, OpenAIResponses, "OPENAI", "/v1", "/v1/responses", CODEX_OFFERS),
        (gemini.ADAPTER, GeminiDialect, "GEMINI", "", "streamGenerateContent", GEMINI_OFFERS),
    ],
    ids=["codex", "gemini"],
)
def test_codex_and_gemini_offer_the_channels_tools_to_the_model(
    tmp_path: Path,
    adapter: Any,
    dialect: Any,
    settings: str,
    base: str,
    asks: str,
    offered: tuple[str, ...],
) -> None:
    """Their config names the channel, and the CLI started the relay and spoke MCP with it:
    the model is offered its tools (the fakes of their APIs cannot call an MCP tool yet)."""
    installed_cli(adapter)
    repo = make_repo(tmp_path / "repo")
    with FakeModel(lambda _c: Say("Nothing to do"), [dialect()], root=str(repo)) as fake:
        env = {
            f"PADDOCK_{settings}_API_KEY": API_KEY,
            f"PADDOCK_{settings}_BASE_URL": fake.url + base,
        }
        with agent_server(tmp_path / "data", env) as server:
            project = server.api("POST", "/api/projects", json={"path": str(repo)})
            task = server.api("POST", f"/api/projects/{project['id']}/tasks", json={"title": "t"})
            attempt = server.api(
                "POST",
                f"/api/tasks/{task['id']}/attempts",
                json={"agent": {"profile": adapter.name}},
            )

            def settled() -> dict[str, Any] | None:
                current: dict[str, Any] = server.api("GET", f"/api/attempts/{attempt['id']}")
                return current if current["status"] in SETTLED else None

            assert wait_for(settled, TURN_TIMEOUT)["status"] == "awaiting_review"
    asked = [json.dumps(request.json()) for request in fake.posts(asks)]
    assert asked and all(name in asked[0] for name in offered), asked[0][:3000]
