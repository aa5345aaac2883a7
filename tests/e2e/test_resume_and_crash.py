"""Log streams resume without gap or duplicate; a killed server loses nothing it flushed."""

import os
import threading
import time
from pathlib import Path

from tests.e2e.server import ServerProcess, wait_for
from tests.e2e.test_attempt_flow import agent_process, start_attempt


def test_sse_resume_with_last_event_id(server, repo):
    attempt = start_attempt(
        server, repo, "for i in $(seq 1 300); do echo row $i; sleep 0.005; done"
    )
    proc = agent_process(server, attempt["id"])
    url = f"/api/processes/{proc['id']}/logs/stream"
    received: list[int] = []
    for event_id, event, data in server.sse(url):  # disconnect after 40 lines, mid-stream
        assert event == "log"
        received.append(data["seq"])
        assert int(event_id) == data["seq"]
        if len(received) == 40:
            break
    for _, event, data in server.sse(url, headers={"Last-Event-ID": str(received[-1])}):
        if event == "end":
            break
        received.append(data["seq"])
    assert received == list(range(1, len(received) + 1))  # every line exactly once
    texts = [
        line["text"]
        for line in server.api("GET", f"/api/processes/{proc['id']}/logs", params={"limit": 10000})[
            "lines"
        ]
    ]
    assert [t for t in texts if t.startswith("row ")] == [f"row {i}" for i in range(1, 301)]
    # ?after= works like Last-Event-ID, and a finished process replays then ends.
    tail = [
        d["seq"] for _, e, d in server.sse(url, params={"after": len(received) - 3}) if e == "log"
    ]
    assert tail == list(range(len(received) - 2, len(received) + 1))


def test_events_stream_reports_state_changes(server, repo):
    project = server.api("POST", "/api/projects", json={"path": str(repo)})
    task = server.api("POST", f"/api/projects/{project['id']}/tasks", json={"title": "t1"})
    # ?after=0 replays every event this server published for the project, then goes live.
    stream = server.sse("/api/events", params={"project_id": project["id"], "after": 0})
    _, event, data = next(stream)
    assert event == "project.created" and data["data"]["id"] == project["id"]
    task_event_id, event, data = next(stream)
    assert event == "task.created" and data["data"]["id"] == task["id"]
    patch = threading.Timer(
        0.3, lambda: server.api("PATCH", f"/api/tasks/{task['id']}", json={"title": "t2"})
    )
    patch.start()
    _, event, data = next(stream)  # live
    assert event == "task.updated" and data["data"]["title"] == "t2"
    stream.close()
    # Resuming from an event id replays what came after it.
    replay = server.sse(
        "/api/events",
        headers={"Last-Event-ID": task_event_id},
        params={"project_id": project["id"]},
    )
    _, event, data = next(replay)
    assert event == "task.updated" and data["data"]["title"] == "t2"
    replay.close()
    # An id this server never issued (an earlier run) gets `sync`: re-fetch your state.
    stale = server.sse("/api/events", headers={"Last-Event-ID": "999999"})
    assert next(stale)[1] == "sync"
    stale.close()


def _pids_tagged(process_id: str) -> list[int]:
    found = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                env = Path(f"/proc/{entry}/environ").read_bytes().split(b"\0")
            except OSError:
                continue
            if f"PADDOCK_PROCESS_ID={process_id}".encode() in env:
                found.append(int(entry))
    return found


def test_kill9_server_then_restart_reconciles(tmp_path, repo):
    data = tmp_path / "data"
    server = ServerProcess(data).start()
    try:
        attempt = start_attempt(
            server, repo, "for i in $(seq 1 100000); do echo tick $i; sleep 0.01; done"
        )
        proc = agent_process(server, attempt["id"])
        wait_for(
            lambda: server.api("GET", f"/api/processes/{proc['id']}/logs", params={"after": 20})[
                "lines"
            ]
        )
        time.sleep(0.3)  # let a few flushes reach the store
        assert _pids_tagged(proc["id"])
        server.kill9()
    finally:
        server.stop()
    with ServerProcess(data) as restarted:
        after = restarted.api("GET", f"/api/processes/{proc['id']}")
        assert after["status"] in ("stopped", "lost")
        assert after["error"]
        assert _pids_tagged(proc["id"]) == []  # nothing of that attempt survives
        lines = restarted.api("GET", f"/api/processes/{proc['id']}/logs", params={"limit": 10000})[
            "lines"
        ]
        ticks = [int(line["text"].split()[1]) for line in lines if line["text"].startswith("tick ")]
        assert len(ticks) >= 20
        assert ticks == list(range(1, len(ticks) + 1))  # flushed lines kept, in order, no gap
        assert [line["seq"] for line in lines] == list(range(1, len(lines) + 1))
        status = restarted.api("GET", f"/api/attempts/{attempt['id']}")
        assert status["status"] == "failed" and "interrupted" in status["error"]
        # The stream of a reconciled process replays and ends instead of hanging.
        events = list(restarted.sse(f"/api/processes/{proc['id']}/logs/stream"))
        assert events[-1][1] == "end"
