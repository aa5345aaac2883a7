"""Aider run by Paddock (the real server) against the fake model's chat completions API: a
turn that writes a file, a follow-up that restores Aider's chat history, the auto-commit (which
holds the agent's change only, not the repo-map cache Aider keeps in the worktree), the key kept
out of the logs, an unreachable model (Aider gives up after its own retries and exits 0, and
Paddock still records a failed turn with the reason), and a stop whose interrupt reaches Aider
through the guard Paddock runs it under."""

from __future__ import annotations

import threading
from pathlib import Path

from paddock.agents import aider
from tests.agents.conftest import installed_cli
from tests.agents.dialects.openai_chat import OpenAIChat, conversation
from tests.agents.fake_model import Conversation, FakeModel, Reply, Say, WriteFile
from tests.e2e.agent_helpers import (
    FOLLOW_UP,
    SUMMARY,
    TITLE,
    TURN_TIMEOUT,
    add_variant,
    agent_server,
    assert_committed,
    assert_failed_clearly,
    assert_first_turn_normalised,
    assert_secret_kept_out_of_logs,
    entries,
    git,
    payloads,
    processes,
    run_follow_up,
    settled,
    start_attempt,
    unreachable_url,
)
from tests.e2e.server import ServerProcess, wait_for

API_KEY = "sk-openai-test-aider-0123456789"
# A model litellm does not know, sent to the base URL as `openai/fake-model`: Aider then uses
# its `whole` edit format, which the fake writes (a file name, then the file in a fence).
VARIANT = "fake"


def aider_server(data: Path, base_url: str) -> ServerProcess:
    add_variant(data, "aider", VARIANT, 'model = "fake-model"')
    return agent_server(
        data, {"PADDOCK_OPENAI_BASE_URL": base_url, "PADDOCK_OPENAI_API_KEY": API_KEY}
    )


def script(conv: Conversation) -> Reply:
    """Aider sends few-shot examples too: decide on the last user message only."""
    if conv.last_user_text.startswith(FOLLOW_UP):
        return Say("Nothing else to change")
    if TITLE in conv.last_user_text and conv.tool_results == 0:
        return WriteFile("hello.txt", "hi from aider\n")
    if TITLE in conv.last_user_text:
        return Say(SUMMARY)
    return Say("Ok.")


def test_aider_turn_and_follow_up(tmp_path: Path, repo: Path) -> None:
    installed_cli(aider.ADAPTER)
    with (
        FakeModel(script, [OpenAIChat()]) as fake,
        aider_server(tmp_path / "data", f"{fake.url}/v1") as server,
    ):
        attempt = start_attempt(server, repo, "aider", VARIANT)
        worktree = Path(attempt["worktree_path"])
        assert settled(server, attempt)["status"] == "awaiting_review"
        assert (worktree / "hello.txt").read_text() == "hi from aider\n"

        (proc,) = processes(server, attempt)
        assert proc["status"] == "succeeded"
        assert_first_turn_normalised(server, proc, "hello.txt")
        headers = {k.lower(): v for k, v in fake.posts("/chat/completions")[0].headers.items()}
        assert headers["authorization"] == f"Bearer {API_KEY}"  # the key reached Aider

        # Aider built its repo map in the worktree; the commit holds the agent's change only,
        # the diff has nothing uncommitted (the cache is a generated file), and the
        # repository's own files are as they were (Paddock writes nothing into them).
        assert any(worktree.glob(".aider.tags.cache.v*"))
        assert_committed(worktree, proc, ["hello.txt"])
        assert server.api("GET", f"/api/attempts/{attempt['id']}/diff")["uncommitted"] is False
        exclude = repo / ".git" / "info" / "exclude"
        assert not exclude.exists() or "aider" not in exclude.read_text()

        # The follow-up restores Aider's chat history: the model sees the first turn.
        asked = len(fake.posts("/chat/completions"))
        assert run_follow_up(server, attempt)["status"] == "done"
        history = conversation(fake.posts("/chat/completions")[asked:][0].json())
        assert history.last_user_text.startswith(FOLLOW_UP)
        assert history.mentions(TITLE) and history.mentions("Wrote hello.txt")

        assert_secret_kept_out_of_logs(server, attempt, API_KEY)


def test_aider_with_an_unreachable_model_fails_clearly(tmp_path: Path, repo: Path) -> None:
    """Aider retries for about a minute by itself, then gives up and exits 0: its guard turns
    that into a failed process, so the turn fails with Aider's own reason."""
    installed_cli(aider.ADAPTER)
    with aider_server(tmp_path / "data", unreachable_url("/v1")) as server:
        attempt = start_attempt(server, repo, "aider", VARIANT)
        errors = assert_failed_clearly(server, attempt)
        assert "Connection error" in errors[-1], errors
        (proc,) = processes(server, attempt)
        assert proc["exit_code"] == 1
        log = server.client.get(f"/api/processes/{proc['id']}/logs/download").text
        assert "paddock: Aider's turn ended on an error: litellm." in log
        assert_secret_kept_out_of_logs(server, attempt, API_KEY)


def test_stopping_aider_mid_turn(tmp_path: Path, repo: Path) -> None:
    """The stop's interrupt reaches Aider through its guard, and the turn ends as stopped."""
    installed_cli(aider.ADAPTER)
    release = threading.Event()

    def slow(conv: Conversation) -> Reply:
        release.wait(120)  # the model "thinks" until the test is done
        return Say("too late")

    with (
        FakeModel(slow, [OpenAIChat()]) as fake,
        aider_server(tmp_path / "data", f"{fake.url}/v1") as server,
    ):
        try:
            attempt = start_attempt(server, repo, "aider", VARIANT)
            wait_for(lambda: fake.posts("/chat/completions"), timeout=TURN_TIMEOUT)
            # Something for the stopped turn's auto-commit to take.
            worktree = Path(attempt["worktree_path"])
            (worktree / "notes.txt").write_text("written while the model thought\n")
            stopped = server.api("POST", f"/api/attempts/{attempt['id']}/stop")
        finally:
            release.set()
        assert stopped["status"] == "stopped" and stopped["error"] is None
        (proc,) = processes(server, attempt)
        assert proc["status"] == "stopped"
        log = server.client.get(f"/api/processes/{proc['id']}/logs/download").text
        assert "^C again to exit" in log  # Aider's own answer to the interrupt
        # ... is not the model's: neither the turn's summary nor its commit message.
        found = entries(server, proc)
        said = [p["text"] for p in payloads(found, "assistant_message")]
        assert "^C again to exit" not in said
        assert payloads(found, "error") == []  # a stop is not an error of the agent
        assert git(worktree, "log", "-1", "--format=%s") == f"agent: {TITLE}"
        assert git(worktree, "show", "--name-only", "--format=", "HEAD") == "notes.txt"
