"""The whole path through the real HTTP server: project → task → attempt → logs → delete."""

import os
import subprocess
from pathlib import Path

from tests.e2e.server import ServerProcess, wait_for

AGENT = (
    'echo "agent starting: $PADDOCK_PROMPT"; read -r first; echo "stdin: $first"; '
    'for i in $(seq 1 50); do echo "line $i"; done; echo oops >&2; '
    "echo v2 > app.txt; echo done"
)


def start_attempt(server: ServerProcess, repo: Path, command: str, **extra) -> dict:
    project = server.api("POST", "/api/projects", json={"path": str(repo), **extra})
    task = server.api(
        "POST",
        f"/api/projects/{project['id']}/tasks",
        json={"title": "Change the app", "description": "make it v2"},
    )
    return server.api(
        "POST",
        f"/api/tasks/{task['id']}/attempts",
        json={"agent": {"profile": "script", "command": command}},
    )


def agent_process(server: ServerProcess, attempt_id: str) -> dict:
    def find():
        procs = server.api("GET", f"/api/attempts/{attempt_id}/processes")
        return next((p for p in procs if p["reason"] == "agent"), None)

    return wait_for(find)


def test_attempt_end_to_end(server, repo):
    attempt = start_attempt(server, repo, AGENT)
    assert attempt["branch"].startswith(f"paddock/{attempt['id'][:8]}-change-the-app")
    worktree = Path(attempt["worktree_path"])
    assert worktree.is_dir() and (worktree / ".git").is_file()

    proc = agent_process(server, attempt["id"])
    events = list(server.sse(f"/api/processes/{proc['id']}/logs/stream"))
    logs = [data for _, event, data in events if event == "log"]
    assert events[-1][1] == "end"
    assert events[-1][2]["status"] == "succeeded"
    texts = [line["text"] for line in logs]
    assert texts[0].startswith("$ bash -c")  # Paddock's own system line comes first
    assert texts[1] == "agent starting: Change the app"
    assert "stdin: Change the app" in texts
    assert [t for t in texts if t.startswith("line ")] == [f"line {i}" for i in range(1, 51)]
    assert any(line["stream"] == "stderr" and line["text"] == "oops" for line in logs)
    assert [line["seq"] for line in logs] == list(range(1, len(logs) + 1))
    assert [int(i) for i, _, _ in events[:-1]] == [line["seq"] for line in logs]

    assert (worktree / "app.txt").read_text() == "v2\n"
    assert (repo / "app.txt").read_text() == "v1\n"  # the main checkout is untouched
    wait_for(
        lambda: server.api("GET", f"/api/attempts/{attempt['id']}")["status"] == "awaiting_review"
    )
    # The process's last published state carries its final line count, so a client of
    # /api/events never has to poll for it.
    updates = []
    for _, event, data in server.sse("/api/events", params={"after": 0}):
        if event == "process.updated" and data["data"]["id"] == proc["id"]:
            updates.append(data["data"])
            if data["data"]["line_count"]:
                break
    assert updates[-1]["status"] == "succeeded"
    assert updates[-1]["line_count"] == len(logs)

    page = server.api("GET", f"/api/processes/{proc['id']}/logs", params={"q": "line 4"})
    assert [line["text"] for line in page["lines"]] == ["line 4"] + [
        f"line {i}" for i in range(40, 50)
    ]
    text = server.client.get(f"/api/processes/{proc['id']}/logs/download").text
    assert "line 50\n" in text and text.count("\n") == len(logs)

    response = server.client.delete(
        f"/api/attempts/{attempt['id']}", params={"delete_branch": True}
    )
    assert response.status_code == 204
    assert not worktree.exists()
    branches = subprocess.run(
        ["git", "branch", "--list", attempt["branch"]],
        cwd=repo,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert branches.strip() == ""
    assert server.client.get(f"/api/attempts/{attempt['id']}").json()["code"] == "attempt_not_found"


def test_setup_script_and_repo_config(server, repo, tmp_path):
    (repo / ".paddock.toml").write_text('[scripts]\nsetup = "echo from-branch > setup.txt"\n')
    (repo / ".env").write_text("SECRET=1\n")
    subprocess.run(["git", "add", ".paddock.toml"], cwd=repo, check=True)
    subprocess.run(
        ["git", "-c", "user.name=t", "-c", "user.email=t@t", "commit", "-qm", "cfg"],
        cwd=repo,
        check=True,
    )
    attempt = start_attempt(
        server,
        repo,
        "cat setup.txt; cat .env",
        scripts={"setup": "echo project > setup.txt"},
        copy_files=[".env", "../outside"],
    )
    wait_for(
        lambda: server.api("GET", f"/api/attempts/{attempt['id']}")["status"] == "awaiting_review"
    )
    procs = server.api("GET", f"/api/attempts/{attempt['id']}/processes")
    assert [p["reason"] for p in procs] == ["setup", "agent"]
    lines = server.api("GET", f"/api/processes/{procs[1]['id']}/logs")["lines"]
    assert "from-branch" in [line["text"] for line in lines]
    assert "SECRET=1" in [line["text"] for line in lines]


def test_secret_env_values_never_reach_the_log(server, repo):
    project = server.api("POST", "/api/projects", json={"path": str(repo)})
    task = server.api("POST", f"/api/projects/{project['id']}/tasks", json={"title": "t"})
    attempt = server.api(
        "POST",
        f"/api/tasks/{task['id']}/attempts",
        json={
            "agent": {
                "command": 'echo "key=$MY_API_KEY other=$PLAIN marked=$MARKED"',
                "env": {"MY_API_KEY": "sk-very-secret", "PLAIN": "visible", "MARKED": "hush-hush"},
                "secret_env": ["MARKED"],
            }
        },
    )
    assert attempt["agent"]["env"]["MY_API_KEY"] == "********"
    proc = agent_process(server, attempt["id"])
    events = list(server.sse(f"/api/processes/{proc['id']}/logs/stream"))
    texts = [d["text"] for _, e, d in events if e == "log"]
    assert "key=[REDACTED] other=visible marked=[REDACTED]" in texts
    download = server.client.get(f"/api/processes/{proc['id']}/logs/download").text
    assert "sk-very-secret" not in download and "hush-hush" not in download


def test_stop_kills_the_whole_tree(server, repo, tmp_path):
    """Sandbox "none": the process group and the tag find the tree (in a sandbox its pid
    namespace does; tests/security covers that)."""
    pidfile = tmp_path / "grandchild.pid"
    command = (
        f"(sleep 300 & echo $! > {pidfile}; wait) & "
        "trap '' TERM; echo started; while true; do sleep 1; done"
    )
    attempt = start_attempt(server, repo, command, sandbox={"provider": "none"})
    proc = agent_process(server, attempt["id"])
    wait_for(pidfile.exists)
    grandchild = int(wait_for(lambda: pidfile.read_text().strip()))
    stopped = server.api("POST", f"/api/processes/{proc['id']}/stop")
    # A stop is not a failure: no "exited with code N" as its error.
    assert stopped["status"] == "stopped" and stopped["error"] is None
    wait_for(
        lambda: (
            not Path(f"/proc/{grandchild}").exists()
            or Path(f"/proc/{grandchild}/stat").read_text().split(")")[-1].split()[0] == "Z"
        )
    )
    # The attempt settles after its process (the turn's result is committed first).
    attempt = wait_for(
        lambda: (
            (a := server.api("GET", f"/api/attempts/{attempt['id']}"))["status"] == "stopped" and a
        )
    )
    assert attempt["error"] is None
    assert os.path.isdir(attempt["worktree_path"])
