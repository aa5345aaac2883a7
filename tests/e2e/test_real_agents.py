"""Real agent CLIs run by Paddock (the real server) against the fake model in tests/agents:
the file really changes in the worktree, entries are normalised, a follow-up resumes the
agent's own session, the turn is auto-committed with the agent's summary, the API key never
reaches a log, and an unreachable model fails the turn with a clear error instead of hanging.

This module runs Claude Code; test_real_codex.py, test_real_gemini.py and test_real_aider.py do
the same for the other CLIs, with the shared steps in agent_helpers.py."""

from __future__ import annotations

import threading
from pathlib import Path

from paddock.agents import claude_code
from tests.agents.conftest import installed_cli
from tests.agents.dialects.anthropic import AnthropicDialect, RefusedKey
from tests.agents.fake_model import Conversation, FakeModel, Reply, Say, WriteFile
from tests.e2e.agent_helpers import (
    agent_server,
    assert_failed_clearly,
    entries,
    git,
    payloads,
    processes,
    settled,
    start_attempt,
    unreachable_url,
)
from tests.e2e.server import ServerProcess, wait_for

API_KEY = "sk-ant-test-0123456789"


def claude_server(data: Path, base_url: str) -> ServerProcess:
    return agent_server(
        data, {"PADDOCK_ANTHROPIC_BASE_URL": base_url, "PADDOCK_ANTHROPIC_API_KEY": API_KEY}
    )


def start_claude(server: ServerProcess, repo: Path, variant: str = "default") -> dict:
    return start_attempt(server, repo, "claude-code", variant)


def test_claude_code_turn_and_follow_up(tmp_path: Path, repo: Path):
    installed_cli(claude_code.ADAPTER)
    worktree: dict[str, Path] = {}
    known = threading.Event()

    def script(conversation: Conversation) -> Reply:
        if conversation.last_user_text.startswith("And now"):
            return Say("Nothing else to change")
        if conversation.tool_results == 0:
            known.wait(30)  # the worktree's path is known once the attempt exists
            return WriteFile(str(worktree["path"] / "hello.txt"), "hi from claude\n")
        return Say("Wrote hello.txt\n\nIt greets whoever reads it.")

    with (
        FakeModel(script, [AnthropicDialect()]) as fake,
        claude_server(tmp_path / "data", fake.url) as server,
    ):
        attempt = start_claude(server, repo)
        worktree["path"] = Path(attempt["worktree_path"])
        known.set()
        assert settled(server, attempt)["status"] == "awaiting_review"
        assert (worktree["path"] / "hello.txt").read_text() == "hi from claude\n"

        (proc,) = server.api("GET", f"/api/attempts/{attempt['id']}/processes")
        entries = server.api("GET", f"/api/processes/{proc['id']}/entries")["entries"]
        kinds = [e["kind"] for e in entries]
        assert kinds[0] == "user_message" and "session" in kinds and "usage" in kinds
        call = next(e["payload"] for e in entries if e["kind"] == "tool_call")
        assert call["action"] == "write" and call["paths"][0].endswith("hello.txt")
        result = next(e["payload"] for e in entries if e["kind"] == "tool_result")
        assert result["ok"] is True and result["id"] == call["id"]
        said = [e["payload"]["text"] for e in entries if e["kind"] == "assistant_message"]
        assert said[-1].startswith("Wrote hello.txt")
        session = next(e["payload"]["session_id"] for e in entries if e["kind"] == "session")
        assert proc["agent_session"] == session

        # Auto-committed, with the agent's summary as the message.
        assert git(worktree["path"], "log", "-1", "--format=%s") == "Wrote hello.txt"
        assert git(worktree["path"], "log", "-1", "--format=%b") == "It greets whoever reads it."
        assert proc["commit_after"] == git(worktree["path"], "rev-parse", "HEAD")
        assert proc["commit_before"] == git(worktree["path"], "rev-parse", "HEAD~1")

        # The follow-up resumes the same conversation: the model sees the first turn.
        asked = len(fake.posts("/v1/messages"))
        server.api("POST", f"/api/attempts/{attempt['id']}/follow-ups", json={"prompt": "And now?"})
        wait_for(
            lambda: (
                server.api("GET", f"/api/attempts/{attempt['id']}/follow-ups")[0]["status"]
                in ("done", "failed")
            ),
            timeout=180,
        )
        follow_up = server.api("GET", f"/api/attempts/{attempt['id']}/follow-ups")[0]
        assert follow_up["status"] == "done"
        later = fake.posts("/v1/messages")[asked:]
        history = str(later[-1].json()["messages"])
        assert "Say hello in a file" in history and "Wrote hello.txt" in history

        # The key went to the CLI, never to a log.
        for p in server.api("GET", f"/api/attempts/{attempt['id']}/processes"):
            log = server.client.get(f"/api/processes/{p['id']}/logs/download").text
            assert API_KEY not in log
        assert API_KEY not in server.log()


def test_claude_code_with_a_refused_key_fails_with_its_reason(tmp_path: Path, repo: Path):
    """A wrong key: Claude Code retries a few times (Paddock's limit, not its own ten over
    three minutes), each retry an entry of its own, and the turn and the attempt fail with
    Claude Code's reason first, not an exit code alone."""
    installed_cli(claude_code.ADAPTER)
    with (
        FakeModel(lambda _c: Say("never"), [RefusedKey()]) as fake,
        claude_server(tmp_path / "data", fake.url) as server,
    ):
        attempt = start_claude(server, repo)
        errors = assert_failed_clearly(server, attempt)
        assert errors == ["Invalid API key · Fix external API key"]
        done = server.api("GET", f"/api/attempts/{attempt['id']}")
        assert done["error"] == (
            "agent failed: Invalid API key · Fix external API key (exited with code 1)"
        )
        assert len(fake.posts("/v1/messages")) == 1 + claude_code.MAX_RETRIES
        (proc,) = processes(server, attempt)
        found = entries(server, proc)
        retries = payloads(found, "retry")
        assert [(r["attempt"], r["max_attempts"]) for r in retries] == [(1, 3), (2, 3), (3, 3)]
        assert {r["message"] for r in retries} == {"401 authentication_failed"}
        assert payloads(found, "raw") == []


def test_claude_code_with_an_unreachable_model_fails_clearly(tmp_path: Path, repo: Path):
    installed_cli(claude_code.ADAPTER)
    data = tmp_path / "data"
    data.mkdir()
    # A user-defined variant (data dir agents.toml) that retries once, so the test is quick.
    (data / "agents.toml").write_text(
        '[claude-code.variants.quick]\nenv = { CLAUDE_CODE_MAX_RETRIES = "1" }\n'
    )
    with claude_server(data, unreachable_url()) as server:
        attempt = start_claude(server, repo, variant="quick")
        done = settled(server, attempt)
        assert done["status"] == "failed" and "agent failed" in done["error"]
        assert done["debug_id"] and done["debug_id"] in server.log()
        (proc,) = server.api("GET", f"/api/attempts/{attempt['id']}/processes")
        assert proc["status"] == "failed"
        entries = server.api("GET", f"/api/processes/{proc['id']}/entries")["entries"]
        errors = [e["payload"]["message"] for e in entries if e["kind"] == "error"]
        assert errors and "Unable to connect" in errors[0]
