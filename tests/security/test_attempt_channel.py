"""An attempt's channel (docs/mcp.md "The attempt's channel") is a door from a sandbox into the
server: it must open onto its own attempt's four tools and nothing else. Each test names the
plausible wrong implementation it catches."""

from __future__ import annotations

import json
import os
import shlex
import stat
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import anyio

from paddock.agents import channel_relay
from paddock.config import Settings
from paddock.domain.secrets import REDACTED
from paddock.domain.tasks import MAX_DESCRIPTION_BYTES, MAX_PENDING_PROPOSALS, MAX_TITLE_CHARS
from paddock.mcp.tools import TOOLS as USER_TOOLS
from paddock.runtime.sandbox.sandbox_identity import find_user
from paddock.services.attempts.agent_turns import IMAGE_PYTHON
from tests.e2e.server import wait_for
from tests.mcp.channel_client import PREFIX, channel, outcome
from tests.security.helpers import Bench, Run

CLIENT = Path(__file__).parents[1] / "mcp" / "channel_client.py"
WAIT_FOR_GO = "while [ ! -e GO ]; do sleep 0.05; done"


def socket_of(bench: Bench, attempt: dict[str, Any]) -> Path:
    return Path(bench.server.data_dir, "channels", attempt["id"], "mcp.sock")


def live(bench: Bench, provider: str = "bwrap", script: str = "", **options: Any) -> dict[str, Any]:
    """An attempt whose turn runs `script`, then waits for GO: its channel stays open."""
    attempt = bench.start(f"{script}\n{WAIT_FOR_GO}", provider=provider, network="none", **options)
    wait_for(socket_of(bench, attempt).exists, 60)
    return attempt


def end(bench: Bench, attempt: dict[str, Any]) -> Run:
    (Path(attempt["worktree_path"]) / "GO").touch()
    run = bench.finish(attempt)
    wait_for(lambda: not socket_of(bench, attempt).parent.exists(), 30)
    return run


def on_channel(
    bench: Bench, attempt: dict[str, Any], calls: list[tuple[str, dict[str, Any]]]
) -> list[dict[str, Any]]:
    """Each call's outcome on `attempt`'s channel, in one session (from the host, as its relay)."""

    async def session() -> list[dict[str, Any]]:
        async with channel(str(socket_of(bench, attempt))) as client:
            return [await outcome(client, name, args) for name, args in calls]

    return anyio.run(session)


def codes(outcomes: list[dict[str, Any]]) -> list[str | None]:
    return [o["body"].get("code") if o["error"] else None for o in outcomes]


def test_no_tool_of_the_users_server_answers_on_the_channel(bench: Bench) -> None:
    """Wrong: the channel serving the user's server (mcp/server.py, every TOOLS entry) with the
    attempt merely remembered. Every one of its names, with ids that exist, is unknown here;
    from inside the sandbox, through the relay."""
    other = live(bench)
    try:
        ids = {
            "project_id": bench.project["id"],
            "task_id": other["task_id"],
            "attempt_id": other["id"],
        }
        calls = [(name, ids) for name in USER_TOOLS]
        command = shlex.join([sys.executable, str(CLIENT), json.dumps(calls)])
        run = bench.run(command, provider="bwrap", network="none")
    finally:
        end(bench, other)
    seen = json.loads(next(x for x in run.lines if x.startswith(PREFIX)).removeprefix(PREFIX))
    assert set(seen["tools"]).isdisjoint(USER_TOOLS)
    assert len(seen["tools"]) == 4
    assert codes(seen["calls"]) == ["unknown_tool"] * len(USER_TOOLS), seen["calls"]
    # Nothing those calls named happened: the other attempt still runs... ran, untouched.
    after = bench.server.api("GET", f"/api/attempts/{other['id']}")
    assert after["progress"] is None and after["merged"] is None


def test_no_argument_names_another_attempt(bench: Bench) -> None:
    """Wrong: input models that ignore unknown fields (pydantic's default), or a tool that
    honours an `attempt_id`/`task_id` it is given. Every id sent is refused as an unknown
    field, and the other attempt gets no proposal and no status line."""
    victim = live(bench)
    mine = live(bench)
    try:
        elsewhere = {"attempt_id": victim["id"]}
        outcomes = on_channel(
            bench,
            mine,
            [
                ("propose_task", {"title": "t", **elsewhere}),
                ("propose_task", {"title": "t", "project_id": bench.project["id"]}),
                ("propose_task", {"title": "t", "step_id": "anything"}),
                ("report_progress", {"text": "pwned", **elsewhere}),
                ("get_own_task", {"task_id": victim["task_id"]}),
                ("get_own_attempt", elsewhere),
            ],
        )
        assert codes(outcomes) == ["validation_error"] * 6, outcomes
        tasks = bench.server.api("GET", f"/api/projects/{bench.project['id']}/tasks")
        assert not [t for t in tasks if t["proposed_by"] in (victim["id"], mine["id"])]
        assert bench.server.api("GET", f"/api/attempts/{victim['id']}")["progress"] is None
    finally:
        end(bench, victim)
        end(bench, mine)


def test_another_sandbox_cannot_see_or_reach_this_channel(bench: Bench, provider: str) -> None:
    """Wrong: sockets in a dir every sandbox sees (the whole channels dir bound, or a shared
    host dir such as /run/paddock): any attempt's agent could speak for another. The other
    sandbox finds no trace of this channel and cannot connect; its own channel works, and it
    cannot change or replace its own socket."""
    python = IMAGE_PYTHON if provider == "container" else sys.executable
    # The relay the sandbox has: the copy beside its own socket (Paddock's install may be
    # unreadable to the sandbox's user).
    relay = f'{shlex.quote(python)} -I "$(dirname "$PADDOCK_CHANNEL")/{channel_relay.RELAY_NAME}"'
    victim = live(bench, provider)
    theirs = socket_of(bench, victim)
    try:
        run = bench.run(
            f"""
            probe list ls -a {shlex.quote(str(theirs.parent.parent))}
            probe see test -e {shlex.quote(str(theirs))}
            probe reach {relay} {shlex.quote(str(theirs))} </dev/null
            probe own {relay} "$PADDOCK_CHANNEL" </dev/null
            probe plant touch "$(dirname "$PADDOCK_CHANNEL")/planted"
            probe replace rm -f "$PADDOCK_CHANNEL"
            """,
            provider=provider,
            network="none",
        )
    finally:
        end(bench, victim)
    listed = run.allowed("list").out.split("|")
    assert victim["id"] not in listed
    assert set(listed) <= {".", "..", run.attempt["id"]}, listed  # at most its own
    run.refused("see", "")
    run.refused("reach", "No such file or directory", "cannot reach")
    run.allowed("own")
    run.refused("plant", "Read-only file system", "Permission denied")
    run.refused("replace", "Read-only file system", "Permission denied")


def test_the_channel_files_are_the_servers_and_the_sandbox_users_alone(bench: Bench) -> None:
    """Wrong: dirs and socket made with the default umask (0755, a 0777 socket): any local
    user could connect and speak for the attempt. The channels dir is the server's (0700), an
    attempt's dir lets in the sandbox's group to traverse (0710), the socket to connect (0660);
    when sandboxes run as the server's own user, 0700 and 0600."""
    attempt = live(bench)
    socket = socket_of(bench, attempt)
    try:
        paths = (socket.parent.parent, socket.parent, socket, socket.parent / "relay.py")
        root, folder, sock, relay = (os.stat(p) for p in paths)
    finally:
        end(bench, attempt)
    assert stat.S_ISSOCK(sock.st_mode)
    mode: Callable[[os.stat_result], int] = lambda s: stat.S_IMODE(s.st_mode)  # noqa: E731
    assert (mode(root), root.st_uid) == (0o700, os.geteuid())
    user = find_user(Settings().sandbox.user) if os.geteuid() == 0 else None
    if user is None:
        assert (mode(folder), mode(sock), mode(relay)) == (0o700, 0o600, 0o600)
        return
    assert (mode(folder), folder.st_uid, folder.st_gid) == (0o710, 0, user.gid)
    assert (mode(sock), sock.st_uid, sock.st_gid) == (0o660, 0, user.gid)
    assert (mode(relay), relay.st_uid, relay.st_gid) == (0o640, 0, user.gid)  # read, not write


def test_floods_are_capped(bench: Bench) -> None:
    """Wrong: a channel with no bound on status lines (every one an event to every board), or
    proposals past the pending cap. A burst of status lines is cut to a few (`rate_limited`);
    proposals stop at MAX_PENDING_PROPOSALS (`too_many_proposals`)."""
    attempt = live(bench)
    try:
        said = on_channel(
            bench, attempt, [("report_progress", {"text": f"line {i}"}) for i in range(30)]
        )
        proposed = on_channel(
            bench,
            attempt,
            [("propose_task", {"title": f"idea {i}"}) for i in range(MAX_PENDING_PROPOSALS + 3)],
        )
    finally:
        end(bench, attempt)
    said_codes = codes(said)
    assert said_codes[:5] == [None] * 5
    assert said_codes.count("rate_limited") >= 20, said_codes
    assert set(said_codes) == {None, "rate_limited"}
    assert codes(proposed) == [None] * MAX_PENDING_PROPOSALS + ["too_many_proposals"] * 3
    tasks = bench.server.api("GET", f"/api/projects/{bench.project['id']}/tasks")
    assert len([t for t in tasks if t["proposed_by"] == attempt["id"]]) == MAX_PENDING_PROPOSALS


def test_oversized_input_is_refused_with_the_apis_codes(bench: Bench) -> None:
    """Wrong: a channel that skips the API's rules, or reads a message without a size limit.
    A title too long or with a line break is `bad_title`, a description over 64 KiB
    `description_too_large` (the API's codes); a status line's input is bounded; a line over
    the channel's limit ends that connection, and the channel keeps serving."""
    attempt = live(bench)
    try:
        outcomes = on_channel(
            bench,
            attempt,
            [
                ("propose_task", {"title": "x" * (MAX_TITLE_CHARS + 1)}),
                ("propose_task", {"title": "two\nlines"}),
                ("propose_task", {"title": "t", "description": "d" * (MAX_DESCRIPTION_BYTES + 1)}),
                ("report_progress", {"text": "p" * 100_000}),
            ],
        )
        assert codes(outcomes) == [
            "bad_title",
            "bad_title",
            "description_too_large",
            "validation_error",
        ], outcomes
        flooded = channel_relay.connect(str(socket_of(bench, attempt)))
        flooded.settimeout(20)  # an unbounded reader would wait for the line's end: a timeout
        try:
            for _ in range(64):  # 4 MiB without a line break
                flooded.sendall(b"x" * 65536)
            closed = flooded.recv(1) == b""
        except (BrokenPipeError, ConnectionResetError):
            closed = True
        finally:
            flooded.close()
        assert closed
        (after,) = on_channel(bench, attempt, [("get_own_attempt", {})])
        assert not after["error"] and after["body"]["id"] == attempt["id"]
    finally:
        end(bench, attempt)
    tasks = bench.server.api("GET", f"/api/projects/{bench.project['id']}/tasks")
    assert not [t for t in tasks if t["proposed_by"] == attempt["id"]]


def test_the_secrets_the_turn_was_given_are_redacted_from_what_it_says(bench: Bench) -> None:
    """Wrong: the channel keeping the agent's words as sent while its log hides its secrets: a
    status line or a proposed task (on every board, in every event) would show a value the
    agent read from its env. A secret-looking name's value and a marked one's are redacted."""
    token, marked = f"tok-{os.urandom(6).hex()}", f"word-{os.urandom(6).hex()}"
    env = {"DEPLOY_TOKEN": token, "OWNER_WORD": marked, "PLAIN": "plain-value"}
    attempt = live(bench, env=env, secret_env=["OWNER_WORD"])
    try:
        outcomes = on_channel(
            bench,
            attempt,
            [
                ("report_progress", {"text": f"using {token} and plain-value"}),
                ("propose_task", {"title": f"rotate {token}", "description": f"{marked}\n"}),
            ],
        )
    finally:
        end(bench, attempt)
    assert codes(outcomes) == [None, None], outcomes
    shown = bench.server.api("GET", f"/api/attempts/{attempt['id']}")
    assert shown["progress"] == f"using {REDACTED} and plain-value"
    tasks = bench.server.api("GET", f"/api/projects/{bench.project['id']}/tasks")
    (proposed,) = [t for t in tasks if t["proposed_by"] == attempt["id"]]
    assert (proposed["title"], proposed["description"]) == (f"rotate {REDACTED}", f"{REDACTED}\n")
