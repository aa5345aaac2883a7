"""The attempt's channel (docs/mcp.md "The attempt's channel"): the SDK's client through the
agent's relay, from inside a real bwrap sandbox with no network and from the tests' process on
a live turn, each tool's effect seen through the REST API; the channel's life (a turn's), the
project's switch, and the unsandboxed provider. A real Claude Code turn that proposes a task is
in test_attempt_channel_claude.py; what the channel refuses, in tests/security/."""

from __future__ import annotations

import json
import shlex
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import anyio
import pytest

from paddock.mcp.attempt_channel import TOOLS, RateBound
from tests.e2e.server import ServerProcess, make_repo, wait_for
from tests.mcp.channel_client import PREFIX, channel, outcome

CLIENT = Path(__file__).with_name("channel_client.py")
FOUR = {"get_own_task", "get_own_attempt", "propose_task", "report_progress"}
WAIT_FOR_GO = "while [ ! -e GO ]; do sleep 0.05; done"
FINISHED = ("succeeded", "failed", "stopped", "lost")
SETTLED = ("awaiting_review", "stopped", "failed")


def client_command(calls: list[tuple[str, dict[str, Any]]], socket: str = "") -> str:
    """The script agent's command that runs the SDK's client on its channel, in its sandbox."""
    args = [sys.executable, str(CLIENT), json.dumps(calls), *([socket] if socket else [])]
    return shlex.join(args)


class Board:
    """A project on the module's server, where tests start script attempts."""

    def __init__(self, server: ServerProcess, project: dict[str, Any]) -> None:
        self.server = server
        self.project = project

    def start(self, command: str, provider: str = "bwrap", network: str = "none") -> dict[str, Any]:
        task = self.server.api(
            "POST", f"/api/projects/{self.project['id']}/tasks", json={"title": "channel"}
        )
        attempt: dict[str, Any] = self.server.api(
            "POST",
            f"/api/tasks/{task['id']}/attempts",
            json={
                "agent": {"profile": "script", "command": command},
                "sandbox": {"provider": provider, "network": network},
            },
        )
        return attempt

    def socket(self, attempt: dict[str, Any]) -> Path:
        return Path(self.server.data_dir, "channels", attempt["id"], "mcp.sock")

    def finish(self, attempt: dict[str, Any]) -> tuple[dict[str, Any], list[str]]:
        """Once the turn ended and its channel is gone: the agent's process and log lines."""

        def settled() -> dict[str, Any] | None:
            procs = self.server.api("GET", f"/api/attempts/{attempt['id']}/processes")
            current = self.server.api("GET", f"/api/attempts/{attempt['id']}")
            agent = next((p for p in procs if p["reason"] == "agent"), None)
            done = agent and agent["status"] in FINISHED and current["status"] in SETTLED
            return agent if done else None

        process: dict[str, Any] = wait_for(settled, 90, interval=0.1)
        wait_for(lambda: not self.socket(attempt).parent.exists(), 30)
        page = self.server.api(
            "GET", f"/api/processes/{process['id']}/logs", params={"limit": 1000}
        )
        return process, [line["text"] for line in page["lines"]]

    def seen(self, lines: list[str]) -> dict[str, Any]:
        found = [line.removeprefix(PREFIX) for line in lines if line.startswith(PREFIX)]
        assert found, "the client printed nothing; log:\n" + "\n".join(lines)
        return dict(json.loads(found[-1]))


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    with ServerProcess(tmp_path_factory.mktemp("channel") / "data") as srv:
        yield srv


@pytest.fixture(scope="module")
def board(server: ServerProcess, tmp_path_factory: pytest.TempPathFactory) -> Board:
    repo = make_repo(tmp_path_factory.mktemp("channel-repo") / "repo")
    (repo / ".git" / "info" / "exclude").write_text("GO\n")
    project = server.api("POST", "/api/projects", json={"path": str(repo)})
    assert project["agent_channel"] is True  # on by default
    return Board(server, project)


def test_an_agent_in_a_sandbox_without_network_uses_its_channel(board: Board) -> None:
    description = "Found while working:\n- the README has no install section\n"
    attempt = board.start(
        client_command(
            [
                ("get_own_task", {}),
                ("get_own_attempt", {}),
                ("propose_task", {"title": "  Document install  ", "description": description}),
                ("report_progress", {"text": "writing\nthe docs"}),
            ]
        )
    )
    process, lines = board.finish(attempt)
    assert process["provider"] == "bwrap" and process["status"] == "succeeded", lines
    seen = board.seen(lines)
    assert set(seen["tools"]) == FOUR and len(seen["tools"]) == 4
    own_task, own_attempt, proposal, progress = seen["calls"]
    assert not any(call["error"] for call in seen["calls"]), seen
    assert own_task["body"]["id"] == attempt["task_id"]
    assert own_attempt["body"]["id"] == attempt["id"]
    assert proposal["body"]["proposed_by"] == attempt["id"]
    assert progress["body"]["progress"] == "writing the docs"  # one line
    # Seen through the API: a proposed card of this attempt, and the card's status line.
    tasks = board.server.api("GET", f"/api/projects/{board.project['id']}/tasks")
    proposed = next(t for t in tasks if t["id"] == proposal["body"]["id"])
    assert proposed["title"] == "Document install"
    assert proposed["description"] == description
    assert proposed["proposed"] is True and proposed["proposed_by"] == attempt["id"]
    current = board.server.api("GET", f"/api/attempts/{attempt['id']}")
    assert current["progress"] == "writing the docs" and current["progress_at"]


def test_the_channel_lives_with_the_turn_and_speaks_both_eras(board: Board) -> None:
    attempt = board.start(f'echo "channel=$PADDOCK_CHANNEL"; {WAIT_FOR_GO}')
    socket = board.socket(attempt)
    wait_for(socket.exists, 60)

    async def scenario() -> None:
        for mode, text in (("legacy", "from the host, legacy"), ("auto", "from the host, 2026")):
            async with channel(str(socket), mode=mode) as client:
                names = [tool.name for tool in (await client.list_tools()).tools]
                assert set(names) == FOUR == set(TOOLS)
                said = await outcome(client, "report_progress", {"text": text})
                assert not said["error"] and said["body"]["progress"] == text
                own = await outcome(client, "get_own_attempt", {})
                assert own["body"]["id"] == attempt["id"]

    anyio.run(scenario)
    assert board.server.api("GET", f"/api/attempts/{attempt['id']}")["progress"] == (
        "from the host, 2026"
    )
    (Path(attempt["worktree_path"]) / "GO").touch()
    _, lines = board.finish(attempt)  # and with the turn, the channel is gone
    assert f"channel={socket}" in lines


def test_a_project_turns_its_channel_off(board: Board) -> None:
    project_id = board.project["id"]
    off = {"agent_channel": False}
    changed = board.server.api("PATCH", f"/api/projects/{project_id}", json=off)
    assert changed["agent_channel"] is False
    try:
        attempt = board.start('echo "channel=${PADDOCK_CHANNEL:-none}"; ' + WAIT_FOR_GO)
        wait_for(lambda: _logged(board, attempt, "channel=none"), 60)
        assert not board.socket(attempt).parent.exists()
        (Path(attempt["worktree_path"]) / "GO").touch()
        board.finish(attempt)
    finally:
        board.server.api("PATCH", f"/api/projects/{project_id}", json={"agent_channel": True})


def _logged(board: Board, attempt: dict[str, Any], text: str) -> bool:
    procs = board.server.api("GET", f"/api/attempts/{attempt['id']}/processes")
    for proc in procs:
        page = board.server.api("GET", f"/api/processes/{proc['id']}/logs", params={"limit": 100})
        if any(text in line["text"] for line in page["lines"]):
            return True
    return False


def test_without_a_sandbox_the_channel_still_works(board: Board) -> None:
    attempt = board.start(client_command([("get_own_attempt", {})]), provider="none")
    process, lines = board.finish(attempt)
    assert process["provider"] == "none"
    (own,) = board.seen(lines)["calls"]
    assert not own["error"] and own["body"]["id"] == attempt["id"]


def test_the_rate_bound_takes_a_burst_then_a_few_a_second() -> None:
    now = [100.0]
    bound = RateBound(burst=5, per_second=2, clock=lambda: now[0])
    assert [bound.take() for _ in range(7)] == [True] * 5 + [False] * 2
    now[0] += 0.5  # one more token
    assert [bound.take(), bound.take()] == [True, False]
    now[0] += 60  # never more than the burst
    assert sum(bound.take() for _ in range(10)) == 5


def test_a_start_removes_the_channels_a_killed_server_left(tmp_path: Path) -> None:
    data = tmp_path / "data"
    stale = data / "channels" / "0123456789abcdef0123456789abcdef"
    stale.mkdir(parents=True)
    (stale / "mcp.sock").write_text("not a socket any more")
    with ServerProcess(data):
        assert not stale.exists()


def test_a_stopped_turn_takes_its_channel_with_it(board: Board) -> None:
    attempt = board.start(WAIT_FOR_GO)
    socket = board.socket(attempt)
    wait_for(socket.exists, 60)
    board.server.api("POST", f"/api/attempts/{attempt['id']}/stop")
    process, _ = board.finish(attempt)  # waits for the channel's dir to go
    assert process["status"] == "stopped"
