"""The demo project a first start creates: a repository, a task and an attempt, run end to end."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from paddock.services.demo import DEMO_NAME, DEMO_TASK
from paddock.services.engine import DEMO_MARKER
from tests.e2e.server import ServerProcess, wait_for
from tests.e2e.test_previews import key_of, start, through_proxy

_BUSY = ("creating", "setting_up", "running")


def git(repo: Path | str, *args: str) -> str:
    return subprocess.run(
        ["git", *args], cwd=repo, capture_output=True, text=True, check=True
    ).stdout


def unittest_passes(where: Path, count: int) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "unittest", "-v"],
        cwd=where,
        env={**os.environ, "PYTHONDONTWRITEBYTECODE": "1"},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert f"Ran {count} tests" in result.stderr and "OK" in result.stderr


def test_demo_project_runs_once(tmp_path: Path):
    data = tmp_path / "data"
    with ServerProcess(data, demo=True, env={"DEMO_AGENT_DELAY": "0"}) as server:
        (project,) = server.api("GET", "/api/projects")
        assert project["name"] == DEMO_NAME
        repo = Path(project["repo_path"])
        assert repo == data / "demo" / DEMO_NAME
        assert project["scripts"]["unit_test"] == "python3 run_tests.py"  # it writes JUnit
        assert project["scripts"]["openapi"] == 'python3 app.py --openapi "$OPENAPI_OUTPUT"'
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
        assert attempt["status"] == "awaiting_review", attempt
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
        # The demo app's own unit tests pass, before and after the agent's change (which
        # adds two).
        unittest_passes(repo, 5)
        unittest_passes(worktree, 7)

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


def test_the_demo_tour_ends_green_and_leaves_main_clean(tmp_path: Path):
    """Every tab of the demo attempt at its best, offline and with no key: the agent's change
    in the diff, unit tests that pass with a JUnit report, an API spec whose diff shows the
    agent's new parameter, a preview serving the changed API; then a merge that brings main
    the change and nothing generated."""
    data = tmp_path / "data"
    env = {"DEMO_AGENT_DELAY": "0", "ANTHROPIC_API_KEY": "", "OPENAI_API_KEY": ""}
    with ServerProcess(data, demo=True, env=env) as server:
        (project,) = server.api("GET", "/api/projects")
        repo = Path(project["repo_path"])
        assert (repo / ".gitignore").is_file()
        (task,) = server.api("GET", f"/api/projects/{project['id']}/tasks")
        (attempt,) = server.api("GET", f"/api/tasks/{task['id']}/attempts")
        base = f"/api/attempts/{attempt['id']}"
        wait_for(lambda: server.api("GET", base)["status"] not in _BUSY, 60)
        worktree = Path(attempt["worktree_path"])

        diff = server.api("GET", f"{base}/diff")
        assert {f["path"] for f in diff["files"]} == {
            "api.py",
            "public/index.html",
            "tests/test_greeting_by_name.py",
        }
        assert diff["uncommitted"] is False and diff["ignored"] == []

        run = server.api("POST", f"{base}/test-runs", json={"kind": "unit", "wait": True})
        assert run["status"] == "passed", run
        assert run["totals"] == {"passed": 7, "failed": 0, "skipped": 0, "errors": 0}
        names = {c["name"] for c in server.api("GET", f"/api/test-runs/{run['id']}/cases")}
        assert "test_the_api_greets_by_name" in names

        spec = server.api("POST", f"{base}/openapi")
        assert (spec["title"], spec["version"], spec["endpoints"]) == ("Hello Paddock", "1.1.0", 1)
        compared = server.api("GET", f"{base}/openapi/diff")["diff"]
        assert (compared["base_version"], compared["head_version"]) == ("1.0.0", "1.1.0")
        (changed,) = compared["changed"]
        assert (changed["method"], changed["path"]) == ("GET", "/api/greeting")
        assert any("name" in change for change in changed["changes"]), changed

        (preview,) = start(server, attempt)
        assert preview["status"] == "running", preview
        key = {"x-paddock-preview-key": key_of(server, preview)}
        answer = through_proxy(server, preview, "/api/greeting?name=Ada", headers=key)
        assert answer.status_code == 200 and answer.json() == {"greeting": "Hello, Ada"}
        page = through_proxy(server, preview, "/", headers=key)
        assert "Hello from Paddock's demo agent" in page.text
        server.api("DELETE", f"/api/previews/{preview['id']}")

        # Tests, spec and preview ran the project's Python: none of it left bytecode behind.
        assert not list(worktree.rglob("__pycache__")), list(worktree.rglob("*"))
        merged = server.client.post(f"{base}/merge", json={})
        assert merged.status_code == 200, merged.text
        files = set(git(repo, "ls-tree", "-r", "--name-only", "main").splitlines())
        assert "tests/test_greeting_by_name.py" in files
        assert not [f for f in files if "__pycache__" in f or f.endswith(".pyc")]
        assert git(repo, "status", "--porcelain", "--ignored", "--untracked-files=all") == ""
