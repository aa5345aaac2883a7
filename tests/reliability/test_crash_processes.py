"""kill -9 of the server while it supervises processes: during setup, with 10 agents running and
5 previews serving, with follow-ups queued, during a preview's start, while a test run's report
is parsed. After the restart on the same data dir: nothing of the dead server runs (no process,
no cgroup), every status says what happened and why, every line flushed before the kill is
kept (docs/reliability.md, "Crash matrix")."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from tests.e2e.server import make_repo, wait_for
from tests.e2e.test_previews import PREVIEW_ENV, STATIC
from tests.reliability.crash_kit import (
    AFTER_LAST_FLUSH_S,
    LINES,
    Crash,
    all_processes,
    assert_attempt_says,
    assert_lines_kept,
    assert_nothing_left,
    assert_reconciled,
    assert_repo_consistent,
    busy,
    new_attempt,
    printed_ready,
    process_of,
    settled,
)
from tests.reliability.reports import REPORT_ENV, big_report_repo, parsing_started


def test_kill_during_setup(tmp_path: Path) -> None:
    repo = make_repo(tmp_path / "repo")
    crash = Crash(tmp_path / "data")
    project = crash.server.api(
        "POST", "/api/projects", json={"path": str(repo), "scripts": {"setup": busy("setup")}}
    )
    attempt = new_attempt(crash.server, project, "echo never")
    setup = process_of(crash.server, attempt["id"], "setup")
    wait_for(lambda: printed_ready(crash.server, setup["id"]), 60)
    time.sleep(AFTER_LAST_FLUSH_S)
    before = all_processes(crash.server, [attempt["id"]])
    crash.kill()
    server = crash.restart()
    assert_nothing_left(crash, [p["id"] for p in before])
    assert_reconciled(server, before)
    assert_lines_kept(server, setup["id"], "setup", LINES)
    assert_attempt_says(server, attempt["id"], "failed", "interrupted")
    assert [p["reason"] for p in all_processes(server, [attempt["id"]])] == ["setup"]
    assert_repo_consistent(repo, crash.data / "worktrees")
    server.stop()


def test_kill_with_ten_agents_running_and_five_previews_serving(tmp_path: Path) -> None:
    repo = make_repo(tmp_path / "repo", {"index.html": "main\n"})
    crash = Crash(tmp_path / "data", PREVIEW_ENV)
    server = crash.server
    project = server.api(
        "POST", "/api/projects", json={"path": str(repo), "scripts": {"dev": STATIC}}
    )
    served = [new_attempt(server, project, f"echo page {n} > index.html") for n in range(5)]
    previews = []
    for attempt in served:
        settled(server, attempt)
        [preview] = server.api(
            "POST", f"/api/attempts/{attempt['id']}/previews", json={"wait": True}
        )
        assert preview["status"] == "running", preview
        previews.append(preview)
    running = [new_attempt(server, project, busy("tick")) for _ in range(10)]
    agents = [process_of(server, a["id"]) for a in running]
    for agent in agents:
        wait_for(lambda agent=agent: printed_ready(server, agent["id"]), 60)
    time.sleep(AFTER_LAST_FLUSH_S)
    ids = [a["id"] for a in served + running]
    before = all_processes(server, ids)
    assert sum(p["status"] == "running" for p in before) == 15  # 10 agents, 5 dev servers
    crash.kill()
    server = crash.restart()
    assert_nothing_left(crash, [p["id"] for p in before])
    assert_reconciled(server, before)
    for agent in agents:
        assert_lines_kept(server, agent["id"], "tick", LINES)
    for attempt in running:
        assert_attempt_says(server, attempt["id"], "failed", "interrupted")
    for attempt in served:  # their agents had finished: their work waits for review still
        assert server.api("GET", f"/api/attempts/{attempt['id']}")["status"] == "awaiting_review"
    for preview in previews:
        now = server.api("GET", f"/api/previews/{preview['id']}")
        assert now["status"] == "stopped" and "restarted" in now["notice"], now
    assert_repo_consistent(repo, crash.data / "worktrees")
    server.stop()


def test_kill_with_follow_ups_queued(tmp_path: Path) -> None:
    repo = make_repo(tmp_path / "repo")
    crash = Crash(tmp_path / "data")
    project = crash.server.api("POST", "/api/projects", json={"path": str(repo)})
    # Only the first turn waits; each turn writes its prompt to a file, in order.
    agent = (
        'read -r prompt; echo "turn: $prompt" >> turns.txt; '
        'if [ "$prompt" = "Work" ]; then ' + busy("first") + "; fi"
    )
    attempt = new_attempt(crash.server, project, agent)
    first = process_of(crash.server, attempt["id"])
    wait_for(lambda: printed_ready(crash.server, first["id"]), 60)
    queued = [
        crash.server.api(
            "POST", f"/api/attempts/{attempt['id']}/follow-ups", json={"prompt": prompt}
        )
        for prompt in ("second", "third")
    ]
    assert [q["status"] for q in queued] == ["queued", "queued"]
    time.sleep(AFTER_LAST_FLUSH_S)
    crash.kill()
    server = crash.restart()
    assert_nothing_left(crash, [first["id"]])
    assert_reconciled(server, [first])
    assert_lines_kept(server, first["id"], "first", LINES)

    def ran() -> list[dict[str, Any]] | None:
        ups = server.api("GET", f"/api/attempts/{attempt['id']}/follow-ups")
        return ups if all(u["status"] == "done" for u in ups) else None

    ups = wait_for(ran, 60)
    assert [u["prompt"] for u in ups] == ["second", "third"]  # kept, in order, run once each
    turns = (Path(attempt["worktree_path"]) / "turns.txt").read_text().splitlines()
    assert turns == ["turn: Work", "turn: second", "turn: third"]
    settled(server, attempt)
    assert_repo_consistent(repo, crash.data / "worktrees")
    server.stop()


def test_kill_during_a_preview_start(tmp_path: Path) -> None:
    repo = make_repo(tmp_path / "repo")
    crash = Crash(tmp_path / "data", PREVIEW_ENV)
    dev = busy("boot")  # prints, never listens: the preview is starting when the server dies
    project = crash.server.api(
        "POST", "/api/projects", json={"path": str(repo), "scripts": {"dev": dev}}
    )
    attempt = new_attempt(crash.server, project, "true")
    settled(crash.server, attempt)
    [preview] = crash.server.api(
        "POST", f"/api/attempts/{attempt['id']}/previews", json={"wait": False}
    )
    dev_process = process_of(crash.server, attempt["id"], "dev_server")
    wait_for(lambda: printed_ready(crash.server, dev_process["id"]), 60)
    assert crash.server.api("GET", f"/api/previews/{preview['id']}")["status"] == "starting"
    time.sleep(AFTER_LAST_FLUSH_S)
    crash.kill()
    server = crash.restart()
    assert_nothing_left(crash, [dev_process["id"]])
    assert_reconciled(server, [dev_process])
    assert_lines_kept(server, dev_process["id"], "boot", LINES)
    now = server.api("GET", f"/api/previews/{preview['id']}")
    assert now["status"] == "stopped" and "restarted" in now["notice"], now
    assert server.api("GET", f"/api/attempts/{attempt['id']}")["status"] == "awaiting_review"
    server.stop()


def test_kill_while_a_test_report_is_parsed(tmp_path: Path) -> None:
    crash = Crash(tmp_path / "data", REPORT_ENV)
    repo = big_report_repo(tmp_path / "repo")
    project = crash.server.api(
        "POST",
        "/api/projects",
        json={"path": str(repo), "scripts": {"unit_test": "python3 report.py"}},
    )
    attempt = new_attempt(crash.server, project, "true")
    settled(crash.server, attempt)
    run = crash.server.api(
        "POST", f"/api/attempts/{attempt['id']}/test-runs", json={"kind": "unit"}
    )
    wait_for(lambda: parsing_started(crash.server, run), 120, 0.01)
    before = all_processes(crash.server, [attempt["id"]])
    crash.kill()
    server = crash.restart()
    assert_nothing_left(crash, [p["id"] for p in before])
    assert_reconciled(server, before)
    after = server.api("GET", f"/api/test-runs/{run['id']}")["run"]
    assert after["status"] == "error", after
    assert after["error"] == "the server stopped while the tests ran"
    assert not (crash.data / "artifact-staging").exists()
    assert server.api("GET", f"/api/attempts/{attempt['id']}")["status"] == "awaiting_review"
    server.stop()
