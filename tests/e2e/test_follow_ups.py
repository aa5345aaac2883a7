"""Follow-ups through the real server: queued while the agent runs, run in order after it,
cancellable, cancelled by a stop, and durable across a kill -9 of the server."""

from pathlib import Path

from tests.e2e.server import ServerProcess, wait_for
from tests.e2e.test_attempt_flow import agent_process

# The script agent gets each turn's prompt on stdin: it appends it to a file, so the worktree
# shows which turns ran and in which order. It waits for a gate file before the first turn ends.
AGENT = (
    'read -r prompt; echo "turn: $prompt" >> turns.txt; '
    'if [ "$prompt" = "first" ]; then while [ ! -f GO ]; do sleep 0.05; done; fi; '
    'echo "done: $prompt"'
)


def start(server: ServerProcess, repo: Path) -> dict:
    # The gate file lives in the worktree (a sandbox sees nothing else), ignored by git.
    (repo / ".git" / "info" / "exclude").write_text("GO\n")
    project = server.api("POST", "/api/projects", json={"path": str(repo)})
    task = server.api("POST", f"/api/projects/{project['id']}/tasks", json={"title": "first"})
    return server.api(
        "POST", f"/api/tasks/{task['id']}/attempts", json={"agent": {"command": AGENT}}
    )


def follow_ups(server: ServerProcess, attempt: dict) -> list[dict]:
    return server.api("GET", f"/api/attempts/{attempt['id']}/follow-ups")


def test_queued_follow_ups_run_in_order_and_commit(server: ServerProcess, repo: Path):
    attempt = start(server, repo)
    worktree = Path(attempt["worktree_path"])
    agent_process(server, attempt["id"])
    second = server.api(
        "POST", f"/api/attempts/{attempt['id']}/follow-ups", json={"prompt": "second"}
    )
    third = server.api(
        "POST", f"/api/attempts/{attempt['id']}/follow-ups", json={"prompt": "third"}
    )
    dropped = server.api(
        "POST", f"/api/attempts/{attempt['id']}/follow-ups", json={"prompt": "never"}
    )
    assert second["status"] == third["status"] == "queued"
    cancelled = server.api("DELETE", f"/api/follow-ups/{dropped['id']}")
    assert cancelled["status"] == "cancelled"
    (worktree / "GO").write_text("")  # ignored: never committed

    wait_for(
        lambda: [f["status"] for f in follow_ups(server, attempt)] == ["done", "done", "cancelled"]
    )
    assert (worktree / "turns.txt").read_text() == "turn: first\nturn: second\nturn: third\n"
    procs = server.api("GET", f"/api/attempts/{attempt['id']}/processes")
    assert [p["reason"] for p in procs] == ["agent", "follow_up", "follow_up"]
    assert [f["process_id"] for f in follow_ups(server, attempt)][:2] == [
        procs[1]["id"],
        procs[2]["id"],
    ]
    # Each turn was auto-committed: its commit_after is the next one's commit_before.
    assert procs[0]["commit_after"] == procs[1]["commit_before"] != procs[0]["commit_before"]
    assert procs[2]["commit_after"] != procs[2]["commit_before"]
    # Each turn's entries open with its own prompt.
    entries = server.api("GET", f"/api/processes/{procs[2]['id']}/entries")["entries"]
    assert entries[0]["kind"] == "user_message" and entries[0]["payload"]["text"] == "third"
    wait_for(
        lambda: server.api("GET", f"/api/attempts/{attempt['id']}")["status"] == "awaiting_review"
    )

    # An idle attempt runs a follow-up at once.
    server.api("POST", f"/api/attempts/{attempt['id']}/follow-ups", json={"prompt": "fourth"})
    wait_for(lambda: follow_ups(server, attempt)[-1]["status"] == "done")
    assert (worktree / "turns.txt").read_text().endswith("turn: fourth\n")
    refused = server.client.delete(f"/api/follow-ups/{second['id']}")
    assert refused.status_code == 409 and refused.json()["code"] == "follow_up_not_queued"
    empty = server.client.post(f"/api/attempts/{attempt['id']}/follow-ups", json={"prompt": "  "})
    assert empty.status_code == 422 and empty.json()["code"] == "empty_prompt"


def test_a_stop_cancels_the_queue(server: ServerProcess, repo: Path):
    attempt = start(server, repo)
    agent_process(server, attempt["id"])
    server.api("POST", f"/api/attempts/{attempt['id']}/follow-ups", json={"prompt": "later"})
    server.api("POST", f"/api/attempts/{attempt['id']}/stop")
    assert [f["status"] for f in follow_ups(server, attempt)] == ["cancelled"]
    procs = server.api("GET", f"/api/attempts/{attempt['id']}/processes")
    assert [p["reason"] for p in procs] == ["agent"]


def test_the_queue_survives_a_kill_9(tmp_path: Path, repo: Path):
    data = tmp_path / "data"
    server = ServerProcess(data).start()
    try:
        attempt = start(server, repo)
        agent_process(server, attempt["id"])
        server.api(
            "POST", f"/api/attempts/{attempt['id']}/follow-ups", json={"prompt": "after crash"}
        )
        server.kill9()
    finally:
        server.stop()
    worktree = Path(attempt["worktree_path"])
    with ServerProcess(data) as restarted:
        # The first turn died with the server; the queued follow-up runs after the restart.
        wait_for(lambda: follow_ups(restarted, attempt)[0]["status"] == "done")
        assert (worktree / "turns.txt").read_text().endswith("turn: after crash\n")
        procs = restarted.api("GET", f"/api/attempts/{attempt['id']}/processes")
        assert [p["reason"] for p in procs] == ["agent", "follow_up"]
        assert procs[0]["status"] in ("stopped", "lost")
