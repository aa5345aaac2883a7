"""The demo project a first start creates: a repository, a task and an attempt, run end to end."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from paddock.services.demo import DEMO_NAME, DEMO_TASK
from paddock.services.engine import DEMO_MARKER
from tests.e2e.server import ServerProcess, wait_for


def git(repo: Path | str, *args: str) -> str:
    return subprocess.run(
        ["git", *args], cwd=repo, capture_output=True, text=True, check=True
    ).stdout


def unittest_passes(where: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "unittest", "-v"],
        cwd=where,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Ran 1 test" in result.stderr and "OK" in result.stderr


def test_demo_project_runs_once(tmp_path: Path):
    data = tmp_path / "data"
    with ServerProcess(data, demo=True, env={"DEMO_AGENT_DELAY": "0"}) as server:
        (project,) = server.api("GET", "/api/projects")
        assert project["name"] == DEMO_NAME
        repo = Path(project["repo_path"])
        assert repo == data / "demo" / DEMO_NAME
        assert project["scripts"]["unit_test"] == "python3 -m unittest -v"
        (task,) = server.api("GET", f"/api/projects/{project['id']}/tasks")
        assert task["title"] == DEMO_TASK

        (attempt,) = server.api("GET", f"/api/tasks/{task['id']}/attempts")
        assert attempt["agent"]["profile"] == "demo"
        attempt = wait_for(
            lambda: (
                a
                if (a := server.api("GET", f"/api/attempts/{attempt['id']}"))["status"]
                not in ("creating", "setting_up", "running")
                else None
            )
        )
        assert attempt["status"] == "idle", attempt
        (proc,) = server.api("GET", f"/api/attempts/{attempt['id']}/processes")
        assert (proc["reason"], proc["status"], proc["exit_code"]) == ("agent", "succeeded", 0)
        texts = [
            line["text"] for line in server.api("GET", f"/api/processes/{proc['id']}/logs")["lines"]
        ]
        assert "demo agent: this is a scripted demo, no AI model is called" in texts
        assert texts[-2] == "demo agent: done (Paddock commits the change)"

        worktree = Path(attempt["worktree_path"])
        page = (worktree / "public" / "index.html").read_text()
        assert "Hello from Paddock's demo agent" in page and "Hello, world" not in page
        # Paddock's auto-commit, named after the turn (the demo agent prints no summary).
        assert git(worktree, "log", "-1", "--format=%s") == f"agent: {DEMO_TASK}\n"
        assert git(worktree, "rev-parse", "HEAD^") == attempt["base_commit"] + "\n"
        assert git(repo, "log", "-1", "--format=%s", attempt["branch"]).startswith("agent: ")
        assert git(worktree, "status", "--porcelain") == ""  # everything was committed
        # The main checkout is untouched: the agent worked in the attempt's worktree only.
        assert '<h1 id="greeting">Hello, world</h1>' in (repo / "public/index.html").read_text()
        assert git(repo, "rev-parse", "HEAD").strip() == attempt["base_commit"]
        assert git(repo, "status", "--porcelain") == ""
        # The demo app's own unit test passes, before and after the agent's change.
        unittest_passes(repo)
        unittest_passes(worktree)

    marker = data / DEMO_MARKER
    assert marker.is_file()
    with ServerProcess(data, demo=True) as again:  # a restart: no second demo
        assert [p["id"] for p in again.api("GET", "/api/projects")] == [project["id"]]
        assert len(again.api("GET", f"/api/tasks/{task['id']}/attempts")) == 1
        again.api("DELETE", f"/api/attempts/{attempt['id']}", params={"delete_branch": True})
        again.api("DELETE", f"/api/projects/{project['id']}")
        assert again.api("GET", "/api/projects") == []

    # Even with no project left (and the demo folder still on disk), the marker says "done".
    with ServerProcess(data, demo=True) as third:
        assert third.api("GET", "/api/projects") == []
        assert third.api("GET", "/api/health")["running_processes"] == 0
    assert marker.is_file()


def test_no_demo_when_disabled_or_when_projects_exist(tmp_path: Path, repo: Path):
    data = tmp_path / "data"
    with ServerProcess(data) as server:  # PADDOCK_DEMO=false
        assert server.api("GET", "/api/projects") == []
        server.api("POST", "/api/projects", json={"path": str(repo)})
    assert not (data / DEMO_MARKER).exists()
    assert not (data / "demo").exists()
    # A data dir that already has projects is not a first start: no demo is added to it.
    with ServerProcess(data, demo=True) as server:
        assert [p["name"] for p in server.api("GET", "/api/projects")] == ["repo"]
    assert not (data / "demo").exists()
