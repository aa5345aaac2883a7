"""Two control-plane servers on one PostgreSQL database, their events carried by a Redis of the
test's own (docs/scale-out.md): what is done through one is seen live on the other, with one
numbering, so a client resumes on either."""

from __future__ import annotations

import contextlib
import queue
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.cluster.cluster import Cluster
from tests.e2e.server import ServerProcess, make_repo, wait_for
from tests.pg import PgServer
from tests.redis_server import RedisServer


@pytest.fixture
def planes(cluster: Cluster, tmp_path: Path) -> Iterator[tuple[ServerProcess, ServerProcess]]:
    with cluster.server(tmp_path / "a") as a, cluster.server(tmp_path / "b") as b:
        yield a, b  # A migrated the database before B started


def until(events: Iterator[tuple[str | None, str, Any]], wanted: str, task_id: str) -> str:
    """The id of the first `wanted` event of the task `task_id` on the stream."""
    for event_id, event, data in events:
        if event == wanted and data["data"]["id"] == task_id:
            assert event_id is not None
            return event_id
    raise AssertionError(f"the stream ended before {wanted} of {task_id}")


def read_in_background(server: ServerProcess, path: str) -> queue.Queue[str]:
    """The raw text of a stream, chunk by chunk, as a thread reads it (daemon: it ends with
    the server)."""
    chunks: queue.Queue[str] = queue.Queue()
    opened = threading.Event()

    def read() -> None:
        with (
            contextlib.suppress(httpx.HTTPError),  # the server stopped at the test's end
            httpx.stream("GET", f"{server.url}{path}", headers=server.auth, timeout=60) as answer,
        ):
            opened.set()
            for chunk in answer.iter_text():
                chunks.put(chunk)

    threading.Thread(target=read, daemon=True).start()
    assert opened.wait(30)
    return chunks


def test_what_is_done_through_one_control_plane_is_seen_live_on_the_other(
    planes: tuple[ServerProcess, ServerProcess], tmp_path: Path
) -> None:
    a, b = planes
    project = a.api("POST", "/api/projects", json={"path": str(make_repo(tmp_path / "repo"))})
    tasks = f"/api/projects/{project['id']}/tasks"
    first = a.api("POST", tasks, json={"title": "Made through A"})
    board = read_in_background(b, f"/ui/projects/{project['id']}/board/stream")

    # B's event stream: what A published (replayed), then, live, what A publishes next.
    events = b.sse("/api/events", params={"after": 0})
    until(events, "task.created", first["id"])
    second = a.api("POST", tasks, json={"title": "Also through A"})
    seen_on_b = until(events, "task.created", second["id"])
    events.close()  # type: ignore[attr-defined]

    # One numbering: resuming on A from just before what B saw gives the same event.
    resumed = a.sse("/api/events", headers={"Last-Event-ID": str(int(seen_on_b) - 1)})
    event_id, event, data = next(resumed)
    resumed.close()  # type: ignore[attr-defined]
    assert (event_id, event, data["data"]["id"]) == (seen_on_b, "task.created", second["id"])

    # The board open on B patched in the card made through A.
    text = ""
    while "Also through A" not in text:
        text += board.get(timeout=30)


def test_a_control_plane_starting_leaves_the_attempts_another_runs_alone(
    cluster: Cluster, planes: tuple[ServerProcess, ServerProcess], tmp_path: Path
) -> None:
    """Each server reconciles at start what it ran: not what another runs now (it would have
    stopped A's agent as a leftover of its own)."""
    a, b = planes
    project = a.api("POST", "/api/projects", json={"path": str(make_repo(tmp_path / "repo"))})
    task = a.api("POST", f"/api/projects/{project['id']}/tasks", json={"title": "Long"})
    agent = {"profile": "script", "command": "echo started; sleep 120"}
    attempt = a.api("POST", f"/api/tasks/{task['id']}/attempts", json={"agent": agent})
    processes = f"/api/attempts/{attempt['id']}/processes"

    def agent_running() -> dict[str, Any] | None:
        turns = [p for p in a.api("GET", processes) if p["reason"] == "agent"]
        return turns[0] if turns and turns[0]["status"] == "running" else None

    turn = wait_for(agent_running, 60)

    b.stop()
    with cluster.server(b.data_dir):
        pass  # B again: started (its reconciliation done), healthy, stopped

    assert a.api("GET", f"/api/processes/{turn['id']}")["status"] == "running"
    assert a.api("GET", f"/api/attempts/{attempt['id']}")["status"] == "running"
    a.api("POST", f"/api/attempts/{attempt['id']}/stop")


def test_a_control_plane_whose_redis_cannot_be_reached_says_so_and_does_not_start(
    tmp_path: Path, pg_server: PgServer
) -> None:
    closed = RedisServer(tmp_path / "never").port  # a free port nothing listens on
    env = {"PADDOCK_CLUSTER_REDIS_URL": f"redis://paddock:hunter2-secret@127.0.0.1:{closed}/0"}
    database = pg_server.url_for(pg_server.create_database())
    server = ServerProcess(tmp_path / "a", env=env, database_url=database)
    with pytest.raises(RuntimeError) as exited:
        server.start()
    server.stop()
    assert f"cannot reach the cluster's Redis at redis://127.0.0.1:{closed}/0" in str(exited.value)
    assert "hunter2-secret" not in str(exited.value)
