"""kill -9 of the server while it works on a repository: making a worktree, merging, rebasing
onto a conflict, auto-committing. After the restart on the same data dir: nothing of the dead
server runs, every status says what happened, and the repository is whole (docs/reliability.md,
"Crash matrix")."""

from __future__ import annotations

import contextlib
import threading
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.e2e.server import ServerProcess, make_repo, wait_for
from tests.reliability.crash_kit import (
    Crash,
    all_processes,
    assert_attempt_says,
    assert_nothing_left,
    assert_reconciled,
    assert_repo_consistent,
    git,
    git_pause_env,
    wait_for_marker,
)

TITLE = "Change the app"


def project_and_task(server: ServerProcess, repo: Path) -> tuple[dict[str, Any], dict[str, Any]]:
    project = server.api("POST", "/api/projects", json={"path": str(repo)})
    task = server.api("POST", f"/api/projects/{project['id']}/tasks", json={"title": TITLE})
    return project, task


def in_background(call: Any) -> threading.Thread:
    """A request the kill interrupts: its connection error is the expected end."""

    def run() -> None:
        with contextlib.suppress(httpx.TransportError, AssertionError):
            call()

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    return thread


def idle_attempt(server: ServerProcess, task: dict[str, Any], agent: str) -> dict[str, Any]:
    attempt: dict[str, Any] = server.api(
        "POST", f"/api/tasks/{task['id']}/attempts", json={"agent": {"command": agent}}
    )
    wait_for(
        lambda: server.api("GET", f"/api/attempts/{attempt['id']}")["status"] == "awaiting_review",
        60,
    )
    return attempt


@pytest.mark.parametrize("when", ["before", "after"])
def test_kill_during_worktree_creation(tmp_path: Path, when: str) -> None:
    """Killed while `git worktree add` is about to run, or has just run: the attempt fails
    saying it was interrupted, and no worktree or branch is left half-made."""
    repo = make_repo(tmp_path / "repo", {"app.txt": "v1\n"})
    env, marker = git_pause_env(tmp_path, "worktree add", when=when)
    crash = Crash(tmp_path / "data", env)
    _, task = project_and_task(crash.server, repo)
    server = crash.server
    in_background(
        lambda: server.api(
            "POST", f"/api/tasks/{task['id']}/attempts", json={"agent": {"command": "true"}}
        )
    )
    wait_for_marker(marker)
    crash.kill()
    server = crash.restart()
    [attempt] = server.api("GET", f"/api/tasks/{task['id']}/attempts")
    assert_nothing_left(crash, [])
    assert_attempt_says(server, attempt["id"], "failed", "interrupted")
    assert not Path(attempt["worktree_path"]).exists()  # a half-made worktree is removed
    assert git(repo, "branch", "--list", attempt["branch"]).stdout.strip() == ""
    assert_repo_consistent(repo, crash.data / "worktrees")
    # The task is not stuck: a new attempt starts and finishes.
    again = idle_attempt(server, task, "echo v2 > app.txt")
    assert (Path(again["worktree_path"]) / "app.txt").read_text() == "v2\n"
    server.stop()


@pytest.mark.parametrize("when", ["before", "after"])
def test_kill_during_a_merge(tmp_path: Path, when: str) -> None:
    """Killed as the base branch is about to move (`merge --ff-only` in the user's checkout),
    or has just moved: the user's checkout is clean and on a whole commit, and the attempt
    either is merged or can be merged now."""
    repo = make_repo(tmp_path / "repo", {"app.txt": "v1\n"})
    env, marker = git_pause_env(tmp_path, "merge --ff-only", when=when)
    crash = Crash(tmp_path / "data", env)
    _, task = project_and_task(crash.server, repo)
    attempt = idle_attempt(crash.server, task, "echo v2 > app.txt")
    before = git(repo, "rev-parse", "main").stdout.strip()
    server = crash.server
    in_background(lambda: server.api("POST", f"/api/attempts/{attempt['id']}/merge", json={}))
    wait_for_marker(marker)
    crash.kill()
    server = crash.restart()
    assert_nothing_left(crash, [p["id"] for p in all_processes(server, [attempt["id"]])])
    assert_repo_consistent(repo, crash.data / "worktrees")
    assert git(repo, "status", "--porcelain").stdout == ""  # the user's checkout is clean
    tip = git(repo, "rev-parse", "main").stdout.strip()
    now = server.api("GET", f"/api/attempts/{attempt['id']}")
    if tip == before:  # the branch never moved: the merge can be done again
        assert now["status"] == "awaiting_review", now
        answer = server.client.post(f"/api/attempts/{attempt['id']}/merge", json={})
        assert answer.status_code == 200, answer.text
    else:  # it moved: the attempt says it landed, or can be merged again without harm
        assert (repo / "app.txt").read_text() == "v2\n"
        if now["status"] != "merged":
            answer = server.client.post(f"/api/attempts/{attempt['id']}/merge", json={})
            assert answer.status_code in (200, 409), answer.text
    assert (repo / "app.txt").read_text() == "v2\n"
    assert_repo_consistent(repo, crash.data / "worktrees")
    server.stop()


def test_kill_during_a_rebase_with_conflicts(tmp_path: Path) -> None:
    """Killed once `git rebase` stopped at a conflict, before the server recorded it: the
    attempt is `conflicted` with its conflicts listed, and the rebase can be aborted."""
    repo = make_repo(tmp_path / "repo", {"app.txt": "v1\n"})
    env, marker = git_pause_env(tmp_path, "rebase", when="after")
    crash = Crash(tmp_path / "data", env)
    _, task = project_and_task(crash.server, repo)
    attempt = idle_attempt(crash.server, task, "echo v2 > app.txt")
    (repo / "app.txt").write_text("v1 changed on main\n")
    git(repo, "-c", "user.name=u", "-c", "user.email=u@u", "commit", "-qam", "main moves")
    server = crash.server
    in_background(lambda: server.client.post(f"/api/attempts/{attempt['id']}/rebase"))
    wait_for_marker(marker)
    crash.kill()
    server = crash.restart()
    assert_nothing_left(crash, [p["id"] for p in all_processes(server, [attempt["id"]])])
    assert_attempt_says(server, attempt["id"], "conflicted", "app.txt")
    assert server.api("GET", f"/api/attempts/{attempt['id']}/rebase/conflicts") == ["app.txt"]
    assert_repo_consistent(repo, crash.data / "worktrees")
    aborted = server.client.post(f"/api/attempts/{attempt['id']}/rebase/abort")
    assert aborted.status_code == 200, aborted.text
    assert aborted.json()["status"] == "awaiting_review"
    assert (Path(attempt["worktree_path"]) / "app.txt").read_text() == "v2\n"
    server.stop()


def test_kill_during_an_auto_commit(tmp_path: Path) -> None:
    """Killed as the agent's turn is being committed (`git commit`): the turn's process is
    finished, the attempt failed with the reason, the agent's files are still there and the
    index is whole (no `index.lock`)."""
    repo = make_repo(tmp_path / "repo", {"app.txt": "v1\n"})
    env, marker = git_pause_env(tmp_path, "commit", when="before")
    crash = Crash(tmp_path / "data", env)
    _, task = project_and_task(crash.server, repo)
    attempt = crash.server.api(
        "POST",
        f"/api/tasks/{task['id']}/attempts",
        json={
            "agent": {"command": "for i in $(seq 1 40); do echo row $i; done; echo v2 > app.txt"}
        },
    )
    wait_for_marker(marker)
    before = all_processes(crash.server, [attempt["id"]])
    crash.kill()
    server = crash.restart()
    assert_nothing_left(crash, [p["id"] for p in before])
    assert_reconciled(server, before)
    assert_attempt_says(server, attempt["id"], "failed", "interrupted")
    assert (Path(attempt["worktree_path"]) / "app.txt").read_text() == "v2\n"
    [agent] = [p for p in all_processes(server, [attempt["id"]]) if p["reason"] == "agent"]
    lines = server.api("GET", f"/api/processes/{agent['id']}/logs", params={"limit": 1000})
    rows = [line["text"] for line in lines["lines"] if line["text"].startswith("row ")]
    assert rows == [f"row {i}" for i in range(1, 41)]  # the whole turn's output was flushed
    assert_repo_consistent(repo, crash.data / "worktrees")
    server.stop()
