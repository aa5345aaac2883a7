"""The `paddock` command line, run as a real subprocess against a real server."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from tests.e2e.server import ServerProcess, free_port

ID_LENGTH = 32


def cli(
    *args: str,
    server: ServerProcess | None = None,
    url: str | None = None,
    cwd: Path | None = None,
) -> subprocess.CompletedProcess[str]:
    """`paddock ARGS` as a user runs it: against `server`, whose token it reads itself from
    the server's data dir."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("PADDOCK_")}
    if server is not None:
        env["PADDOCK_URL"] = server.url
        env["PADDOCK_DATA_DIR"] = str(server.data_dir)
    if url is not None:
        env["PADDOCK_URL"] = url
    env["COLUMNS"] = "250"  # a wide "terminal": rich wraps nothing the asserts look for
    return subprocess.run(
        [sys.executable, "-m", "paddock", *args],
        env=env,
        cwd=cwd,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def ok(result: subprocess.CompletedProcess[str]) -> str:
    assert result.returncode == 0, (result.returncode, result.stdout, result.stderr)
    return result.stdout


def git(repo: Path, *args: str) -> str:
    return subprocess.run(
        ["git", *args], cwd=repo, capture_output=True, text=True, check=True
    ).stdout


def test_project_add_and_list(server: ServerProcess, repo: Path, tmp_path: Path):
    out = ok(cli("project", "add", str(repo), server=server))
    (project,) = server.api("GET", "/api/projects")
    assert project["name"] == "repo" and project["repo_path"] == str(repo)
    assert f"project repo {project['id']} ({repo}, base main)" in out

    # A relative path is resolved against the caller's directory.
    other = tmp_path / "other"
    git(tmp_path, "clone", "-q", str(repo), str(other))
    ok(cli("project", "add", "other", "--name", "second", server=server, cwd=tmp_path))
    assert {p["name"]: p["repo_path"] for p in server.api("GET", "/api/projects")} == {
        "repo": str(repo),
        "second": str(other),
    }

    plain = tmp_path / "plain"
    plain.mkdir()
    failed = cli("project", "add", str(plain), server=server)
    assert failed.returncode != 0
    assert "not_a_git_repo" in failed.stderr
    assert failed.stdout == ""
    assert len(server.api("GET", "/api/projects")) == 2

    listing = ok(cli("project", "list", server=server))
    assert project["id"][:8] in listing and str(repo) in listing and "second" in listing


def test_task_attempt_logs_delete(server: ServerProcess, repo: Path):
    project = server.api("POST", "/api/projects", json={"path": str(repo)})
    out = ok(cli("task", "add", "repo", "Say hello", "-d", "twice", server=server))
    (task,) = server.api("GET", f"/api/projects/{project['id']}/tasks")
    assert (task["title"], task["description"]) == ("Say hello", "twice")
    assert out.strip() == f"task {task['id']} Say hello"
    # A task added by project id lands in the same project.
    ok(cli("task", "add", project["id"], "Second task", server=server))
    listing = ok(cli("task", "list", "repo", server=server))
    assert task["id"] in listing and "Say hello" in listing and "Second task" in listing
    assert "To do" in listing  # the step's name, not its id
    unknown = cli("task", "list", "no-such-project", server=server)
    assert unknown.returncode == 1 and "project_not_found" in unknown.stderr

    out = ok(
        cli(
            "attempt",
            "start",
            task["id"],
            "--command",
            "echo hi; echo there",
            "--follow",
            server=server,
        )
    )
    (attempt,) = server.api("GET", f"/api/tasks/{task['id']}/attempts")
    assert attempt["status"] == "awaiting_review"
    lines = out.splitlines()
    assert lines[0].startswith(f"attempt {attempt['id']} on {attempt['branch']}")
    assert lines.index("hi") + 1 == lines.index("there")  # the agent's output, in order
    assert "-- succeeded (exit 0)" in lines
    assert lines[-1] == "attempt awaiting review"

    (proc,) = server.api("GET", f"/api/attempts/{attempt['id']}/processes")
    logged = ok(cli("logs", proc["id"], server=server)).splitlines()
    assert logged[0] == "$ bash -c 'echo hi; echo there'"
    assert logged[1:] == ["hi", "there", "exited with code 0"]
    followed = ok(cli("logs", proc["id"], "--follow", server=server)).splitlines()
    assert followed == [*logged, "-- succeeded (exit 0)"]  # replays, then ends: no hang
    missing = cli("logs", "0" * ID_LENGTH, server=server)
    assert missing.returncode == 1 and "process_not_found" in missing.stderr

    worktree = Path(attempt["worktree_path"])
    assert worktree.is_dir()
    assert attempt["branch"] in git(repo, "branch", "--list", attempt["branch"])
    out = ok(cli("attempt", "delete", attempt["id"], "--delete-branch", server=server))
    assert out.strip() == f"attempt {attempt['id']} deleted"
    assert not worktree.exists()
    assert git(repo, "branch", "--list", attempt["branch"]).strip() == ""
    assert server.client.get(f"/api/attempts/{attempt['id']}").status_code == 404
    again = cli("attempt", "delete", attempt["id"], server=server)
    assert again.returncode == 1 and "attempt_not_found" in again.stderr


def test_follow_a_failing_attempt_with_a_setup_script(server: ServerProcess, repo: Path):
    """--follow prints every process of the attempt (setup, then agent) and the final error."""
    project = server.api(
        "POST", "/api/projects", json={"path": str(repo), "scripts": {"setup": "echo set up"}}
    )
    task = server.api("POST", f"/api/projects/{project['id']}/tasks", json={"title": "t"})
    result = cli(
        "attempt",
        "start",
        task["id"],
        "--command",
        "echo about to fail; exit 3",
        "--follow",
        server=server,
    )
    assert result.returncode == 0, result.stderr  # the command worked; the attempt failed
    lines = result.stdout.splitlines()
    assert lines.index("set up") < lines.index("about to fail")
    assert "-- failed (exit 3)" in lines
    assert lines[-1].startswith("attempt failed: agent failed: exited with code 3")


def test_attempt_start_picks_a_variant(server: ServerProcess, repo: Path):
    """--variant names one of the profile's variants (a user's, from agents.toml): its env
    reaches the agent; an unknown one is refused and no attempt is made."""
    (server.data_dir / "agents.toml").write_text(
        '[script.variants.loud]\nenv = { GREETING = "HELLO FROM LOUD" }\n'
    )
    project = server.api("POST", "/api/projects", json={"path": str(repo)})
    task = server.api("POST", f"/api/projects/{project['id']}/tasks", json={"title": "t"})
    started = ["attempt", "start", task["id"], "--command", 'echo "$GREETING"', "--follow"]
    out = ok(cli(*started, "--variant", "loud", server=server))
    (attempt,) = server.api("GET", f"/api/tasks/{task['id']}/attempts")
    assert attempt["agent"]["variant"] == "loud"
    assert "HELLO FROM LOUD" in out.splitlines()

    unknown = cli(*started, "--variant", "quiet", server=server)
    assert unknown.returncode == 1 and "unknown_variant" in unknown.stderr
    assert len(server.api("GET", f"/api/tasks/{task['id']}/attempts")) == 1


def test_no_server(tmp_path: Path):
    port = free_port()  # bound then closed: nothing listens there
    result = cli("--help")
    assert result.returncode == 0 and "project" in result.stdout
    for args in (("project", "list"), ("task", "add", "p", "t"), ("logs", "x")):
        result = cli(*args, "--url", f"http://127.0.0.1:{port}", cwd=tmp_path)
        assert result.returncode == 1, (args, result.stdout, result.stderr)
        assert "server_unreachable" in result.stderr
        assert "Traceback" not in result.stderr
    # PADDOCK_URL is read too.
    result = cli("project", "list", url=f"http://127.0.0.1:{port}")
    assert result.returncode == 1 and "server_unreachable" in result.stderr


SERVE_PROBE = """
import json, sys
import paddock.cli.serving

given = {}
paddock.cli.serving.run_server = lambda app, **options: given.update(options)  # just look
from paddock.cli.main import app

try:
    app(["serve", "--no-demo", "--port", "7999"])
except SystemExit:
    pass
loaded = {name: name in sys.modules for name in ("rich", "websockets")}
ws = getattr(given.get("ws"), "__name__", given.get("ws"))
options = {k: given.get(k) for k in ("loop", "proxy_headers", "access_log")}
print(json.dumps({"ws": ws, **options, **loaded}))
"""


def test_serve_keeps_rich_and_websockets_out_of_the_server(tmp_path: Path):
    """The server's memory: rich is only the CLI's output; WebSocket support (previews only)
    is imported on the first upgrade. X-Forwarded-For is never taken as the client."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("PADDOCK_")}
    env["PADDOCK_DATA_DIR"] = str(tmp_path / "data")
    env["PADDOCK_OPEN_BROWSER"] = "false"
    result = subprocess.run(
        [sys.executable, "-c", SERVE_PROBE],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    banner, _, link, probe = result.stdout.splitlines()[-4:]
    assert banner.startswith("Paddock on http://127.0.0.1:7999 (data in ")
    # The link that signs a browser in holds the token the server made, kept for its user only.
    token_file = tmp_path / "data" / "token"
    assert link.strip() == f"http://127.0.0.1:7999/?token={token_file.read_text().strip()}"
    assert token_file.stat().st_mode & 0o777 == 0o600
    expected = {
        "ws": "LazyWebSockets",
        "loop": "asyncio",
        "proxy_headers": False,
        "access_log": False,
        "rich": False,
        "websockets": False,
    }
    assert json.loads(probe) == expected


def test_agents_list_and_install_errors(tmp_path):
    env = {**os.environ, "PADDOCK_DATA_DIR": str(tmp_path / "data")}
    listed = subprocess.run(
        [sys.executable, "-m", "paddock", "agents", "list"],
        capture_output=True,
        text=True,
        env=env,
        check=False,
    )
    assert listed.returncode == 0, listed.stderr
    assert "script" in listed.stdout and "demo" in listed.stdout
    not_ours = subprocess.run(
        [sys.executable, "-m", "paddock", "agents", "install", "script"],
        capture_output=True,
        text=True,
        env=env,
        check=False,
    )
    assert not_ours.returncode == 1 and "not_installable" in not_ours.stderr
    unknown = subprocess.run(
        [sys.executable, "-m", "paddock", "agents", "install", "nope"],
        capture_output=True,
        text=True,
        env=env,
        check=False,
    )
    assert unknown.returncode == 1 and "unknown_agent" in unknown.stderr
