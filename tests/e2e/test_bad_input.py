"""Bad input gets a clear JSON error with a stable code, and loses nothing."""

import shutil
import subprocess
from pathlib import Path

import pytest

from tests.e2e.server import wait_for
from tests.e2e.test_attempt_flow import agent_process, start_attempt


def error(response) -> str:
    body = response.json()
    assert set(body) >= {"code", "message"} and body["message"]
    return body["code"]


@pytest.mark.parametrize(
    ("make", "code"),
    [
        (lambda p: p / "missing", "path_missing"),
        (lambda p: (p / "plain").mkdir() or p / "plain", "not_a_git_repo"),
        (
            lambda p: (
                subprocess.run(["git", "init", "-q", "--bare", str(p / "bare")], check=True)
                and p / "bare"
            ),
            "bare_repo",
        ),
        (
            lambda p: (
                subprocess.run(["git", "init", "-q", str(p / "empty")], check=True) and p / "empty"
            ),
            "no_commits",
        ),
    ],
)
def test_register_refuses_bad_paths(server, tmp_path, make, code):
    response = server.client.post("/api/projects", json={"path": str(make(tmp_path))})
    assert response.status_code == 422
    assert error(response) == code


def test_register_twice_and_unknown_ids(server, repo):
    server.api("POST", "/api/projects", json={"path": str(repo)})
    again = server.client.post("/api/projects", json={"path": str(repo)})
    assert again.status_code == 409 and error(again) == "project_exists"
    for path, code in [
        ("/api/projects/nope", "project_not_found"),
        ("/api/tasks/nope", "task_not_found"),
        ("/api/attempts/nope", "attempt_not_found"),
        ("/api/processes/nope", "process_not_found"),
        ("/api/processes/nope/logs", "process_not_found"),
        ("/api/no-such-route", "not_found"),
    ]:
        response = server.client.get(path)
        assert response.status_code == 404 and error(response) == code, path


def test_validation_errors_are_json(server, repo):
    project = server.api("POST", "/api/projects", json={"path": str(repo)})
    response = server.client.post(f"/api/projects/{project['id']}/tasks", json={"title": 5})
    assert response.status_code == 422 and error(response) == "validation_error"
    response = server.client.post(f"/api/projects/{project['id']}/tasks", json={"title": "  "})
    assert error(response) == "bad_title"
    task = server.api("POST", f"/api/projects/{project['id']}/tasks", json={"title": "x"})
    response = server.client.post(
        f"/api/tasks/{task['id']}/attempts", json={"agent": {"profile": "script"}}
    )
    assert error(response) == "agent_command_missing"
    response = server.client.post(
        f"/api/tasks/{task['id']}/attempts", json={"agent": {"profile": "gpt-9"}}
    )
    assert error(response) == "unknown_agent"
    response = server.client.post(
        f"/api/tasks/{task['id']}/attempts",
        json={"agent": {"command": "true"}, "base_branch": "nope"},
    )
    assert response.status_code in (409, 422, 500) and error(response) in (
        "unknown_ref",
        "git_failed",
    )
    assert server.api("GET", f"/api/tasks/{task['id']}/attempts") == []  # nothing half-made


def test_branch_name_clash(server, repo):
    subprocess.run(["git", "branch", "taken"], cwd=repo, check=True)
    project = server.api("POST", "/api/projects", json={"path": str(repo)})
    task = server.api("POST", f"/api/projects/{project['id']}/tasks", json={"title": "x"})
    response = server.client.post(
        f"/api/tasks/{task['id']}/attempts", json={"agent": {"command": "true"}, "branch": "taken"}
    )
    assert response.status_code == 409 and error(response) == "branch_exists"
    first = server.api(
        "POST",
        f"/api/tasks/{task['id']}/attempts",
        json={"agent": {"command": "true"}, "branch": "mine"},
    )
    response = server.client.post(
        f"/api/tasks/{task['id']}/attempts", json={"agent": {"command": "true"}, "branch": "mine"}
    )
    assert response.status_code == 409 and error(response) == "branch_exists"
    assert [a["id"] for a in server.api("GET", f"/api/tasks/{task['id']}/attempts")] == [
        first["id"]
    ]
    response = server.client.post(
        f"/api/tasks/{task['id']}/attempts",
        json={"agent": {"command": "true"}, "branch": "bad..name"},
    )
    assert error(response) == "bad_branch_name"


def test_missing_script_and_instant_exit(server, repo):
    attempt = start_attempt(server, repo, "./does-not-exist.sh")
    proc = agent_process(server, attempt["id"])
    end = list(server.sse(f"/api/processes/{proc['id']}/logs/stream"))[-1]
    assert end[1] == "end" and end[2]["status"] == "failed" and end[2]["exit_code"] == 127
    proc = server.api("GET", f"/api/processes/{proc['id']}")
    assert "command not found" in proc["error"] and proc["debug_id"]
    assert proc["debug_id"] in server.log()  # the same id is in the server log
    attempt = wait_for(
        lambda: (
            (a := server.api("GET", f"/api/attempts/{attempt['id']}"))["status"] == "failed" and a
        )
    )
    assert attempt["debug_id"] == proc["debug_id"]


def test_huge_line_invalid_utf8_and_binary(server, repo, tmp_path):
    blob = tmp_path / "blob.bin"
    blob.write_bytes(bytes(range(256)) * 64)
    command = (
        "python3 -c \"import sys; sys.stdout.write('x' * (10 * 1024 * 1024) + '\\n')\"; "
        "printf 'bad \\xff\\xfe utf8\\n'; "
        f"cat {blob}; echo; echo after-binary"
    )
    attempt = start_attempt(server, repo, command)
    proc = agent_process(server, attempt["id"])
    events = list(server.sse(f"/api/processes/{proc['id']}/logs/stream"))
    assert events[-1][1] == "end" and events[-1][2]["status"] == "succeeded"
    logs = [d for _, e, d in events if e == "log"]
    big = []
    for line in logs[1:]:
        big.append(line)
        if not line["continued"]:
            break
    assert len(big) >= 10 and "".join(line["text"] for line in big) == "x" * (10 * 1024 * 1024)
    texts = [line["text"] for line in logs]
    assert "bad \ufffd\ufffd utf8" in texts
    assert "after-binary" in texts
    assert Path(attempt["worktree_path"]).is_dir()
    # The download gives the 10 MB line back whole, the way the program printed it.
    download = server.client.get(f"/api/processes/{proc['id']}/logs/download").text
    assert "\n" + "x" * (10 * 1024 * 1024) + "\n" in download


def test_unknown_agent_variant_and_missing_cli_are_refused(server, repo):
    project = server.api("POST", "/api/projects", json={"path": str(repo)})
    task = server.api("POST", f"/api/projects/{project['id']}/tasks", json={"title": "t"})
    bad_variant = server.client.post(
        f"/api/tasks/{task['id']}/attempts",
        json={"agent": {"profile": "script", "command": "true", "variant": "turbo"}},
    )
    assert bad_variant.status_code == 422
    assert bad_variant.json()["code"] == "unknown_variant"
    assert "turbo" in bad_variant.json()["message"]
    # A CLI neither in the (empty) agents dir nor on PATH: refused before any branch is made.
    absent = next(p for p in ("codex", "gemini", "aider", "claude") if not shutil.which(p))
    profile = {"claude": "claude-code"}.get(absent, absent)
    missing = server.client.post(
        f"/api/tasks/{task['id']}/attempts", json={"agent": {"profile": profile}}
    )
    assert missing.status_code == 503 and missing.json()["code"] == "agent_not_installed"
    assert f"paddock agents install {profile}" in missing.json()["message"]
    assert server.api("GET", f"/api/tasks/{task['id']}/attempts") == []
