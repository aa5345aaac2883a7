"""Server-sent event details through the real server: heartbeats on quiet streams, and a slow
client of a flat-out log that still gets every line exactly once."""

from __future__ import annotations

import json
import time
from collections.abc import Generator, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.e2e.server import ServerProcess
from tests.e2e.test_attempt_flow import agent_process, start_attempt

HEARTBEAT = "0.2"
LINES = 20_000


@pytest.fixture
def server(tmp_path: Path) -> Iterator[ServerProcess]:
    env = {"PADDOCK_SSE_HEARTBEAT_SECONDS": HEARTBEAT}
    with ServerProcess(tmp_path / "data", env=env) as srv:
        yield srv


def raw_lines(server: ServerProcess, path: str) -> Generator[str, None, None]:
    """The raw lines of an event stream, comments included."""
    with (
        httpx.Client(base_url=server.url, headers=server.auth, timeout=httpx.Timeout(30)) as client,
        client.stream("GET", path) as response,
    ):
        assert response.status_code == 200, response.read()
        assert response.headers["content-type"].startswith("text/event-stream")
        yield from response.iter_lines()


def test_quiet_log_stream_heartbeats_then_ends(server: ServerProcess, repo: Path):
    attempt = start_attempt(server, repo, "sleep 5")
    proc = agent_process(server, attempt["id"])
    stream = raw_lines(server, f"/api/processes/{proc['id']}/logs/stream")
    before_ping: list[str] = []
    for line in stream:
        if line == ": ping":
            break
        before_ping.append(line)
    # Paddock's own first line came before any ping: the stream was live from the start.
    assert before_ping[:3] == ["id: 1", "event: log", before_ping[2]]
    assert json.loads(before_ping[2].removeprefix("data: "))["text"] == "$ bash -c 'sleep 5'"
    pings = 1
    for line in stream:  # nothing else is printed: only heartbeats keep coming
        if line:
            assert line == ": ping"
            pings += 1
        if pings == 3:
            break
    # Heartbeats did not disturb the stream: stopping the process still ends it properly.
    assert server.api("POST", f"/api/processes/{proc['id']}/stop")["status"] == "stopped"
    rest = [line for line in stream if line and line != ": ping"]
    events = [line.removeprefix("event: ") for line in rest if line.startswith("event: ")]
    assert events[-1] == "end"
    assert json.loads(rest[-1].removeprefix("data: "))["status"] == "stopped"
    assert set(events[:-1]) <= {"log"}


def test_events_stream_heartbeats(server: ServerProcess, repo: Path):
    stream = raw_lines(server, "/api/events")
    assert next(stream) == ": ping"  # nothing happened yet: a comment, not an event
    assert next(stream) == ""
    assert next(stream) == ": ping"
    # Still live after the pings: a real event gets through.
    project = server.api("POST", "/api/projects", json={"path": str(repo)})
    seen = []
    for line in stream:
        if line.startswith("data: "):
            seen.append(json.loads(line.removeprefix("data: ")))
            break
        assert line in ("", ": ping") or line.startswith(("id: ", "event: ")), line
    assert seen[0]["type"] == "project.created" and seen[0]["data"]["id"] == project["id"]
    stream.close()


def test_slow_client_of_a_flat_out_log_gets_every_line_once(server: ServerProcess, repo: Path):
    # ~400-byte lines, one write each: thousands of live batches, megabytes of events, so a
    # client that reads slowly makes the server's send block while its live queue overflows.
    command = f'pad=$(printf "%0400d" 0); for i in $(seq 1 {LINES}); do echo "line $i $pad"; done'
    attempt = start_attempt(server, repo, command)
    proc = agent_process(server, attempt["id"])
    seqs: list[int] = []
    texts: dict[int, str] = {}
    end: dict[str, Any] | None = None
    slow = True
    event = ""
    for line in raw_lines(server, f"/api/processes/{proc['id']}/logs/stream"):
        if line.startswith("event: "):
            event = line.removeprefix("event: ")
        elif line.startswith("data: "):
            data = json.loads(line.removeprefix("data: "))
            if event == "end":
                end = data
                break
            seqs.append(data["seq"])
            texts[data["seq"]] = data["text"]
            if slow:
                time.sleep(0.002)
                # Slow until the process has printed everything, then as fast as possible.
                if len(seqs) % 100 == 0:
                    slow = server.api("GET", f"/api/processes/{proc['id']}")["status"] == "running"
    assert end is not None, "the stream ended without `end`"
    assert end["status"] == "succeeded" and end["exit_code"] == 0
    assert seqs == list(range(1, len(seqs) + 1))  # every seq, once, in order
    total = LINES + 2  # Paddock's command line and exit line around the program's output
    assert len(seqs) == total
    assert end["line_count"] == total
    printed = [texts[s].split()[1] for s in seqs if texts[s].startswith("line ")]
    assert printed == [str(i) for i in range(1, LINES + 1)]
    assert texts[total] == "exited with code 0"


def test_streamed_lines_equal_the_rest_page(server: ServerProcess, repo: Path):
    # Quotes, backslashes, tabs, non-ASCII and an ANSI colour: the stream's hand-built JSON
    # must say exactly what the REST page (pydantic) says, timestamps included.
    command = (
        r"""printf '%s\n' 'plain' 'a "quoted" \back\slash' "$(printf 'tab\there')" 'héllo ✓';"""
        r""" printf '\033[31mred\033[0m\n' >&2"""
    )
    attempt = start_attempt(server, repo, command)
    proc = agent_process(server, attempt["id"])
    streamed: list[dict[str, Any]] = []
    event = ""
    for line in raw_lines(server, f"/api/processes/{proc['id']}/logs/stream"):
        if line.startswith("event: "):
            event = line.removeprefix("event: ")
        elif line.startswith("data: "):
            if event == "end":
                break
            streamed.append(json.loads(line.removeprefix("data: ")))
    page = server.api("GET", f"/api/processes/{proc['id']}/logs")
    assert streamed == page["lines"]
    texts = [line["text"] for line in streamed]
    assert 'a "quoted" \\back\\slash' in texts and "tab\there" in texts and "héllo ✓" in texts
    assert "\x1b[31mred\x1b[0m" in texts
    assert all(line["ts"].endswith("Z") for line in streamed)
