"""Two control-plane servers on one PostgreSQL database, their events carried by a Redis of the
test's own (docs/scale-out.md): what is done through one is seen live on the other, with one
numbering, so a client resumes on either."""

from __future__ import annotations

import contextlib
import queue
import secrets
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.e2e.server import ServerProcess, make_repo
from tests.pg import PgServer
from tests.redis_server import RedisServer


@pytest.fixture
def planes(tmp_path: Path, pg_server: PgServer) -> Iterator[tuple[ServerProcess, ServerProcess]]:
    redis = RedisServer(tmp_path / "redis").start()
    database = pg_server.url_for(pg_server.create_database())
    env = {"PADDOCK_CLUSTER_REDIS_URL": redis.url, "PADDOCK_SECRET_KEY": secrets.token_hex(32)}
    a = ServerProcess(tmp_path / "a", env=env, database_url=database)
    b = ServerProcess(tmp_path / "b", env=env, database_url=database)
    try:
        with a, b:  # A migrates the database before B starts
            yield a, b
    finally:
        redis.stop()


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
