"""Gemini CLI run by Paddock (the real server) against the fake model's Gemini API: a turn
that writes a file (after the CLI's model router asked which model to use), a follow-up that
resumes the CLI's session, the auto-commit, the key kept out of the logs, and an unreachable
model that fails the turn within seconds instead of retrying for about a minute and a half."""

from __future__ import annotations

from pathlib import Path

from paddock.agents import gemini
from tests.agents.conftest import installed_cli
from tests.agents.dialects.gemini import GeminiDialect, conversation
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
    processes,
    run_follow_up,
    settled,
    start_attempt,
    unreachable_url,
)
from tests.e2e.server import ServerProcess

API_KEY = "gemini-test-key-0123456789"


def gemini_server(data: Path, base_url: str) -> ServerProcess:
    return agent_server(
        data, {"PADDOCK_GEMINI_BASE_URL": base_url, "PADDOCK_GEMINI_API_KEY": API_KEY}
    )


def test_gemini_turn_and_follow_up(tmp_path: Path, repo: Path) -> None:
    installed_cli(gemini.ADAPTER)
    gate = WorktreeGate()

    def script(conv: Conversation) -> Reply:
        if conv.last_user_text.startswith(FOLLOW_UP):
            return Say("Nothing else to change")
        if conv.tool_results == 0:
            return WriteFile(str(gate.wait() / "hello.txt"), "hi from gemini\n")
        return Say(SUMMARY)

    with (
        FakeModel(script, [GeminiDialect()]) as fake,
        gemini_server(tmp_path / "data", fake.url) as server,
    ):
        attempt = start_attempt(server, repo, "gemini")
        worktree = gate.open(attempt)
        assert settled(server, attempt)["status"] == "awaiting_review"
        assert (worktree / "hello.txt").read_text() == "hi from gemini\n"

        (proc,) = processes(server, attempt)
        assert proc["status"] == "succeeded"
        assert_first_turn_normalised(server, proc, "hello.txt")
        headers = {k.lower(): v for k, v in fake.posts("streamGenerateContent")[0].headers.items()}
        assert headers["x-goog-api-key"] == API_KEY  # the key reached the CLI
        assert_committed(worktree, proc, ["hello.txt"])

        # The follow-up resumes the CLI's session: the model sees the first turn.
        asked = len(fake.posts("streamGenerateContent"))
        assert run_follow_up(server, attempt)["status"] == "done"
        history = conversation(fake.posts("streamGenerateContent")[asked:][0].json())
        assert history.last_user_text.startswith(FOLLOW_UP)
        assert history.mentions(TITLE) and history.mentions("Wrote hello.txt")
        first, second = processes(server, attempt)
        assert second["agent_session"] == first["agent_session"]  # the same session

        assert_secret_kept_out_of_logs(server, attempt, API_KEY)


def test_gemini_with_an_unreachable_model_fails_clearly(tmp_path: Path, repo: Path) -> None:
    """The default variant: the model router's classifier call comes first (it retries on its
    own, whatever `maxAttempts` says), then the chat model's; neither retries a request that
    could not be sent."""
    installed_cli(gemini.ADAPTER)
    with gemini_server(tmp_path / "data", unreachable_url()) as server:
        attempt = start_attempt(server, repo, "gemini")
        # Without its stall guard: about 90 s of retries.
        errors = assert_failed_clearly(server, attempt, within=60)
        assert "fetch failed" in errors[-1], errors
        assert_secret_kept_out_of_logs(server, attempt, API_KEY)
