"""The soak, short (bench/soak.py is the long one, docs/reliability.md "Soak"): a real server,
agents printing lines, a dev server each, SSE clients on the board, the event stream and the
logs, each reconnecting once with Last-Event-ID. No stream has a gap or a duplicate, every line
of every agent reaches each of its log clients, and once everything stopped nothing is left:
no tagged process alive, the server's fds and threads back to what it held before the load
(give or take its bounded pools)."""

from __future__ import annotations

import json
import os
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from paddock.runtime.proctree import find_tagged
from tests.e2e.server import ServerProcess, make_repo, wait_for
from tests.e2e.test_previews import PREVIEW_ENV, STATIC

AGENTS = 3
LINES = 12_000  # per agent, at RATE: ~12 s of printing
RATE = 1_000
LOG_CLIENTS_PER_AGENT = 3
EVENT_CLIENTS = 3
BOARD_CLIENTS = 2
# A paced printer: a batch every 10 ms, like a busy agent's output.
PRINTER = (
    "import sys, time\n"
    "lines, rate = int(sys.argv[1]), float(sys.argv[2])\n"
    "t0, done = time.monotonic(), 0\n"
    "while done < lines:\n"
    "    due = min(lines, int((time.monotonic() - t0) * rate) + 1)\n"
    "    sys.stdout.write(''.join(f'{n} soak line\\n' for n in range(done + 1, due + 1)))\n"
    "    sys.stdout.flush()\n"
    "    done = due\n"
    "    time.sleep(0.01)\n"
)
ENV = {**PREVIEW_ENV, "PADDOCK_SSE_HEARTBEAT_SECONDS": "1"}
# Pools the server keeps once grown (see bench/_soak_report.py): the database's connections
# (each holding the database file and its WAL) and asyncio's default executor.
DB_FD_MARGIN = 20
FD_MARGIN = 2
THREAD_MARGIN = min(32, (os.cpu_count() or 1) + 4)


@dataclass
class Stream:
    """One SSE client: reads `path`, reconnects once with Last-Event-ID after `reconnect_after`
    events, and records what breaks its kind's order."""

    server: ServerProcess
    kind: str  # log | events | board
    path: str
    reconnect_after: int
    last: int = 0
    events: int = 0
    connects: int = 0
    syncs: int = 0
    end_line_count: int | None = None
    problems: list[str] = field(default_factory=list)
    stop: threading.Event = field(default_factory=threading.Event)
    thread: threading.Thread | None = None

    def start(self) -> Stream:
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()
        return self

    def close(self) -> None:
        self.stop.set()
        assert self.thread is not None
        self.thread.join(30)
        assert not self.thread.is_alive(), f"{self.path} did not stop"

    def _run(self) -> None:
        try:
            while not self.stop.is_set() and self.end_line_count is None:
                self._connection()
        except Exception as exc:  # the test reads it from problems
            self.problems.append(f"{type(exc).__name__}: {exc}")

    def _connection(self) -> None:
        self.connects += 1
        headers = {**self.server.auth, "Accept": "text/event-stream"}
        if self.last:
            headers["Last-Event-ID"] = str(self.last)
        timeout = httpx.Timeout(30)
        with (
            httpx.Client(base_url=self.server.url, timeout=timeout) as client,
            client.stream("GET", self.path, headers=headers) as response,
        ):
            assert response.status_code == 200, response.read()
            for event_id, event, data in frames(response.iter_lines()):
                if self.stop.is_set():
                    return
                if event is None:
                    continue  # a heartbeat: a moment to look at `stop`
                self.on_event(event_id, event, data)
                if self.end_line_count is not None:
                    return
                if self.connects == 1 and self.events >= self.reconnect_after:
                    return  # reconnect, resuming after the last id

    def on_event(self, event_id: str | None, event: str, data: str) -> None:
        if event == "end":
            self.end_line_count = json.loads(data)["line_count"]
            return
        self.events += 1
        assert event_id is not None, (self.path, event)
        eid = int(event_id)
        if event == "sync":
            self.syncs += 1
            self.last = eid
        elif self.kind == "log":
            body = json.loads(data)
            self.follows(body["first_seq"], body["last_seq"])
        elif self.kind == "events":
            self.follows(eid, eid)
        elif eid <= self.last:  # the board's patches: its events are filtered, ids increase
            self.problems.append(f"patch {eid} after {self.last}")
        else:
            self.last = eid

    def follows(self, first: int, last: int) -> None:
        expected = first if (self.kind == "events" and self.last == 0) else self.last + 1
        if first != expected:
            kind = "gap" if first > expected else "duplicate"
            self.problems.append(f"{kind}: expected {expected}, got {first}..{last}")
        self.last = max(self.last, last)


def frames(lines: Iterator[str]) -> Iterator[tuple[str | None, str | None, str]]:
    """(id, event, data) per SSE event; (None, None, "") per comment (heartbeat)."""
    event_id: str | None = None
    event, data = "message", ""
    for line in lines:
        if line.startswith(":"):
            yield None, None, ""
        elif line.startswith("id:"):
            event_id = line[3:].strip()
        elif line.startswith("event:"):
            event = line[6:].strip()
        elif line.startswith("data:"):
            data += line[5:].strip()
        elif not line and data:
            yield event_id, event, data
            event_id, event, data = None, "message", ""


def held(pid: int) -> tuple[int, int, int]:
    """(the database's open fds, the other open fds, threads) of a process."""
    db = other = 0
    for fd in os.listdir(f"/proc/{pid}/fd"):
        try:
            target = os.readlink(f"/proc/{pid}/fd/{fd}")
        except OSError:
            continue
        if ".db" in target:
            db += 1
        else:
            other += 1
    return db, other, len(os.listdir(f"/proc/{pid}/task"))


def steady(pid: int) -> tuple[int, int, int]:
    """What the process holds once two readings a second apart agree."""
    reading = held(pid)
    for _ in range(10):
        time.sleep(1)
        reading, previous = held(pid), reading
        if reading == previous:
            break
    return reading


def settled(server: ServerProcess, attempt_id: str) -> bool:
    status = server.api("GET", f"/api/attempts/{attempt_id}")["status"]
    return status in ("awaiting_review", "failed", "stopped")


class Churn:
    """A task created, renamed and deleted every half second: traffic for the board and the
    event stream (the logs publish no bus event per line)."""

    def __init__(self, server: ServerProcess, project_id: str) -> None:
        self.server, self.project_id = server, project_id
        self.stop = threading.Event()
        self.errors: list[str] = []
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self) -> None:
        k = 0
        while not self.stop.wait(0.5):
            k += 1
            try:
                task = self.server.api(
                    "POST", f"/api/projects/{self.project_id}/tasks", json={"title": f"c{k}"}
                )
                self.server.api("PATCH", f"/api/tasks/{task['id']}", json={"title": f"c{k}'"})
                self.server.api("DELETE", f"/api/tasks/{task['id']}")
            except AssertionError as exc:
                self.errors.append(str(exc))

    def close(self) -> None:
        self.stop.set()
        self.thread.join(30)


def new_attempt(server: ServerProcess, project_id: str, command: str) -> dict[str, Any]:
    task = server.api("POST", f"/api/projects/{project_id}/tasks", json={"title": "soak"})
    attempt: dict[str, Any] = server.api(
        "POST", f"/api/tasks/{task['id']}/attempts", json={"agent": {"command": command}}
    )
    return attempt


def agent_id(server: ServerProcess, attempt_id: str) -> str:
    def find() -> str | None:
        procs = server.api("GET", f"/api/attempts/{attempt_id}/processes")
        return next((p["id"] for p in procs if p["reason"] == "agent"), None)

    found: str = wait_for(find, 60)
    return found


def start_preview(server: ServerProcess, attempt_id: str) -> str:
    [preview] = server.api("POST", f"/api/attempts/{attempt_id}/previews", json={"wait": True})
    assert preview["status"] == "running", preview
    return str(preview["id"])


def test_streams_stay_whole_and_nothing_is_left(tmp_path: Path) -> None:
    repo = make_repo(tmp_path / "repo", {"printer.py": PRINTER, "index.html": "soak\n"})
    server = ServerProcess(tmp_path / "data", env=ENV).start()
    assert server.proc is not None
    pid = server.proc.pid
    tags: list[str] = []
    try:
        project = server.api(
            "POST", "/api/projects", json={"path": str(repo), "scripts": {"dev": STATIC}}
        )
        pid_ = project["id"]
        # A round of everything first: what the server starts once and keeps (the previews'
        # data plane, a spare sandbox, its pools) is then in the baseline.
        primer = new_attempt(server, pid_, "seq 1 100")
        wait_for(lambda: settled(server, primer["id"]), 60)
        server.api("DELETE", f"/api/previews/{start_preview(server, primer['id'])}")
        before = steady(pid)

        attempts = [
            new_attempt(server, pid_, f"python3 printer.py {LINES} {RATE}") for _ in range(AGENTS)
        ]
        agents = [agent_id(server, a["id"]) for a in attempts]
        previews = [start_preview(server, a["id"]) for a in attempts]
        streams = [
            *(
                Stream(server, "log", f"/api/processes/{a}/logs/stream?batch=true", 20)
                for a in agents
                for _ in range(LOG_CLIENTS_PER_AGENT)
            ),
            *(Stream(server, "events", "/api/events", 5) for _ in range(EVENT_CLIENTS)),
            *(
                Stream(server, "board", f"/ui/projects/{pid_}/board/stream", 3)
                for _ in range(BOARD_CLIENTS)
            ),
        ]
        for stream in streams:
            stream.start()
        churn = Churn(server, pid_)

        for attempt in attempts:
            wait_for(lambda a=attempt: settled(server, a["id"]), 120, 0.5)
        logs = [s for s in streams if s.kind == "log"]
        wait_for(lambda: all(s.end_line_count is not None or s.problems for s in logs), 60)
        churn.close()
        for preview in previews:
            server.api("DELETE", f"/api/previews/{preview}")
        for stream in streams:
            stream.close()

        assert churn.errors == []
        for stream in streams:
            assert stream.problems == [], (stream.kind, stream.path, stream.problems)
            assert stream.connects >= 2, (stream.kind, stream.path)  # a resume was checked
            assert stream.events > 0, (stream.kind, stream.path)
        counts = {a: server.api("GET", f"/api/processes/{a}")["line_count"] for a in agents}
        for stream in logs:
            agent = stream.path.split("/")[3]
            assert counts[agent] >= LINES  # the agent's lines, and Paddock's own
            assert stream.last == stream.end_line_count == counts[agent], stream

        tags = [
            p["id"]
            for a in [primer, *attempts]
            for p in server.api("GET", f"/api/attempts/{a['id']}/processes")
        ]
        assert len(tags) >= 2 * AGENTS + 2  # every agent and dev server
        try:
            wait_for(lambda: not any(find_tagged(t) for t in tags), 30)
        except AssertionError:
            alive = {t: find_tagged(t) for t in tags if find_tagged(t)}
            raise AssertionError(f"tagged processes still alive: {alive}") from None

        def back() -> bool:
            # A call prunes AnyIO's worker threads idle for 10 s (Starlette's thread pool).
            server.api("GET", f"/api/projects/{pid_}/tasks")
            db, other, threads = held(pid)
            return (
                other <= before[1] + FD_MARGIN
                and db <= before[0] + DB_FD_MARGIN
                and threads <= before[2] + THREAD_MARGIN
            )

        try:
            wait_for(back, 30, 0.5)
        except AssertionError:
            raise AssertionError(f"held before {before}, after {held(pid)}") from None
    finally:
        server.stop()
    assert [t for t in tags if find_tagged(t)] == []
