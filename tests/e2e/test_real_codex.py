"""Codex run by Paddock (the real server) against the fake model's Responses API: a turn that
writes a file, a follow-up that resumes Codex's thread, the auto-commit, the key kept out of the
logs, and an unreachable model that fails the turn by itself (Codex alone would wait for the
network forever)."""

from __future__ import annotations

from pathlib import Path

from paddock.agents import codex
from tests.agents.conftest import installed_cli
from tests.agents.dialects.openai_responses import OpenAIResponses, conversation
from tests.agents.fake_model import Conversation, FakeModel, Reply, Say, WriteFile
from tests.e2e.agent_helpers import (
    FOLLOW_UP,
    SUMMARY,
    TITLE,
    WorktreeGate,
    agent_server,
    assert_committed,
    assert_failed_clearly,
    assert_first_turn_normalised,
    assert_secret_kept_out_of_logs,
    entries,
    payloads,
    processes,
    run_follow_up,
    settled,
    start_attempt,
    unreachable_url,
)
from tests.e2e.server import ServerProcess

API_KEY = "sk-openai-test-0123456789"


def codex_server(data: Path, base_url: str) -> ServerProcess:
    return agent_server(
        data, {"PADDOCK_OPENAI_BASE_URL": base_url, "PADDOCK_OPENAI_API_KEY": API_KEY}
    )


def test_codex_turn_and_follow_up(tmp_path: Path, repo: Path) -> None:
    installed_cli(codex.ADAPTER)
    gate = WorktreeGate()

    def script(conv: Conversation) -> Reply:
        if conv.last_user_text.startswith(FOLLOW_UP):
            return Say("Nothing else to change")
        if conv.tool_results == 0:
            return WriteFile(str(gate.wait() / "hello.txt"), "hi from codex\n")
        return Say(SUMMARY)

    with (
        FakeModel(script, [OpenAIResponses()]) as fake,
        codex_server(tmp_path / "data", f"{fake.url}/v1") as server,
    ):
        attempt = start_attempt(server, repo, "codex")
        worktree = gate.open(attempt)
        assert settled(server, attempt)["status"] == "awaiting_review"
        assert (worktree / "hello.txt").read_text() == "hi from codex\n"

        (proc,) = processes(server, attempt)
        assert proc["status"] == "succeeded"
        assert_first_turn_normalised(server, proc, "hello.txt")
        # The key reached Codex (as its provider's env_key), the fake saw it.
        headers = {k.lower(): v for k, v in fake.posts("/responses")[0].headers.items()}
        assert headers["authorization"] == f"Bearer {API_KEY}"
        assert_committed(worktree, proc, ["hello.txt"])

        # The follow-up resumes Codex's thread: the model sees the first turn.
        asked = len(fake.posts("/responses"))
        assert run_follow_up(server, attempt)["status"] == "done"
        history = conversation(fake.posts("/responses")[asked:][-1].json())
        assert history.last_user_text.startswith(FOLLOW_UP)
        assert history.mentions(TITLE) and history.mentions("Wrote hello.txt")
        first, second = processes(server, attempt)
        assert second["agent_session"] == first["agent_session"]  # the same thread

        assert_secret_kept_out_of_logs(server, attempt, API_KEY)


def test_codex_with_an_unreachable_model_fails_clearly(tmp_path: Path, repo: Path) -> None:
    installed_cli(codex.ADAPTER)
    with codex_server(tmp_path / "data", unreachable_url("/v1")) as server:
        attempt = start_attempt(server, repo, "codex")
        # Without its stall guard Codex would wait for the network for ever.
        errors = assert_failed_clearly(server, attempt, within=60)
        assert errors[-1].startswith("Connection failed"), errors
        # Its reconnects are retries (counted out), not errors: the reason is the final error.
        assert not [e for e in errors if e.startswith("Reconnecting")], errors
        (proc,) = processes(server, attempt)
        retries = payloads(entries(server, proc), "retry")
        assert [r["attempt"] for r in retries] == list(range(1, codex.MAX_RETRIES + 1)), retries
        assert_secret_kept_out_of_logs(server, attempt, API_KEY)
