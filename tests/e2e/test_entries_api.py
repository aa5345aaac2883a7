"""Agent entries through the real server: every agent turn opens with the prompt as the
user's message; entries page and stream (with resume) like logs."""

from pathlib import Path

from tests.e2e.server import ServerProcess, wait_for
from tests.e2e.test_attempt_flow import agent_process, start_attempt


def test_entries_of_a_script_agent_turn(server: ServerProcess, repo: Path):
    attempt = start_attempt(server, repo, "echo working")
    proc = agent_process(server, attempt["id"])
    events = list(server.sse(f"/api/processes/{proc['id']}/entries/stream"))
    assert [event for _, event, _ in events] == ["entry", "end"]
    first = events[0][2]
    assert first["kind"] == "user_message" and first["seq"] == 1
    assert first["payload"] == {"text": "Change the app\n\nmake it v2"}
    assert events[0][0] == "1"

    page = server.api("GET", f"/api/processes/{proc['id']}/entries")
    assert [e["seq"] for e in page["entries"]] == [1] and page["next_after"] == 1
    assert server.api("GET", f"/api/processes/{proc['id']}/entries", params={"after": 1}) == {
        "entries": [],
        "next_after": 1,
    }
    only = server.api("GET", f"/api/processes/{proc['id']}/entries", params={"kind": "usage"})
    assert only["entries"] == []
    # Resuming after the last entry sends only `end`.
    resumed = list(
        server.sse(f"/api/processes/{proc['id']}/entries/stream", headers={"Last-Event-ID": "1"})
    )
    assert [event for _, event, _ in resumed] == ["end"]
    wait_for(
        lambda: server.api("GET", f"/api/attempts/{attempt['id']}")["status"] == "awaiting_review"
    )
    missing = server.client.get("/api/processes/nope/entries")
    assert missing.status_code == 404 and missing.json()["code"] == "process_not_found"
