"""Attempt start: POST /api/tasks/{id}/attempts → the agent process is `running`.

Paddock: the wall-clock from sending the POST to receiving, on an already open
GET /api/events?project_id=... stream, the `process.updated` event whose data has reason
"agent" and status "running".

Baseline, same repository, same run: `git worktree add -b BR PATH main` then
`subprocess.Popen(["bash", "-c", COMMAND], cwd=PATH)` (Popen returns once exec succeeded).

Two repositories: a 20-file repo and a generated 50k-file repo. Runs alternate paddock/raw so
drift (page cache, other load) hits both alike. Attempts are deleted between runs
(DELETE /api/attempts/{id}?delete_branch=true); the raw worktrees are removed with
`git worktree remove --force` + `git branch -D`.

Targets: small repo ≤ raw + 30 ms (median); 50k files ≤ 1.05 x raw (median).

    .venv/bin/python bench/attempt_start.py [--quick | --full] [--files N]
"""

from __future__ import annotations

import argparse
import subprocess
import tempfile
import time
from pathlib import Path
from typing import Any

from _harness import (
    Row,
    Server,
    SSEThread,
    git,
    make_big_repo,
    make_repo,
    median,
    note_server_problems,
    pct,
    report,
    small_files,
    step,
)

COMMAND = "sleep 30"


def paddock_run(server: Server, events: SSEThread, project_id: str, i: int) -> dict[str, Any]:
    task = server.task(project_id, f"bench attempt {i}")
    # The task's own event proves the stream is subscribed and drained up to here.
    events.wait_for(lambda e: e.event == "task.created" and e.json()["data"]["id"] == task["id"])
    t0 = time.perf_counter()
    response = server.client.post(
        f"/api/tasks/{task['id']}/attempts",
        json={"agent": {"profile": "script", "command": COMMAND}},
    )
    t_post = time.perf_counter()
    if response.status_code != 201:
        raise RuntimeError(f"start attempt: {response.status_code} {response.text}")
    attempt_id = response.json()["id"]

    def running(e: Any) -> bool:
        if e.event != "process.updated":
            return False
        data = e.json()["data"]
        return bool(
            data["attempt_id"] == attempt_id
            and data["reason"] == "agent"
            and data["status"] == "running"
        )

    # Every event of this attempt on the way, for the phase breakdown.
    seen: dict[str, float] = {}
    while True:
        event = events.next(60)
        data = event.json()["data"]
        if data.get("id") == attempt_id or data.get("attempt_id") == attempt_id:
            key = event.event + (f"({data['status']})" if "status" in data else "")
            seen.setdefault(key, (event.received - t0) * 1000)
        if running(event):
            break
    server.delete_attempt(attempt_id)
    return {"total": event.received - t0, "post": t_post - t0, "phases": seen}


def raw_run(repo: Path, root: Path, i: int) -> dict[str, float]:
    branch = f"raw/bench-{i}"
    path = root / f"raw-{i}"
    t0 = time.perf_counter()
    git(repo, "worktree", "add", "-q", "-b", branch, str(path), "main")
    t_wt = time.perf_counter()
    proc = subprocess.Popen(
        ["bash", "-c", COMMAND],
        cwd=path,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        start_new_session=True,
    )
    t1 = time.perf_counter()
    proc.kill()
    proc.communicate()
    git(repo, "worktree", "remove", "--force", str(path))
    git(repo, "branch", "-D", branch)
    return {"total": t1 - t0, "worktree": t_wt - t0}


def measure(
    server: Server, repo: Path, root: Path, runs: int, label: str, warmup: bool = True
) -> dict[str, Any]:
    project = server.project(repo)
    events = SSEThread(server.url, f"/api/events?project_id={project['id']}", token=server.token)
    out: dict[str, Any] = {
        "paddock": [],
        "paddock_post": [],
        "raw": [],
        "raw_git": [],
        "phases": {},
    }
    try:
        if warmup:
            step(f"{label}: warm-up run of each")
            paddock_run(server, events, project["id"], -1)
            raw_run(repo, root, -1)
        for i in range(runs):
            # Alternate which goes first, so neither always runs on a just-warmed cache.
            order = [0, 1] if i % 2 == 0 else [1, 0]
            for which in order:
                if which == 0:
                    p = paddock_run(server, events, project["id"], i)
                    out["paddock"].append(p["total"] * 1000)
                    out["paddock_post"].append(p["post"] * 1000)
                    for key, ms in p["phases"].items():
                        out["phases"].setdefault(key, []).append(ms)
                else:
                    r = raw_run(repo, root, i)
                    out["raw"].append(r["total"] * 1000)
                    out["raw_git"].append(r["worktree"] * 1000)
            step(
                f"{label}: run {i + 1}/{runs}: paddock {out['paddock'][-1]:.1f} ms, "
                f"raw {out['raw'][-1]:.1f} ms"
            )
    finally:
        events.close()
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    mode = parser.add_mutually_exclusive_group()
    mode.add_argument("--quick", action="store_true", help="8 small + 2 large runs (10k files)")
    mode.add_argument("--full", action="store_true", help="40 small + 10 large runs")
    parser.add_argument("--files", type=int, default=None, help="files in the large repo")
    args = parser.parse_args()
    if args.files is None:
        args.files = 10_000 if args.quick else 50_000
    small_runs, large_runs = (8, 2) if args.quick else (40, 10) if args.full else (15, 4)

    rows: list[Row] = []
    details: dict[str, Any] = {
        "command": COMMAND,
        "small_runs": small_runs,
        "large_runs": large_runs,
        "large_files": args.files,
    }
    notes: list[str] = []
    with tempfile.TemporaryDirectory(prefix="paddock-bench-start-") as tmp:
        root = Path(tmp)
        small = make_repo(root / "small", small_files(20))
        step(f"generating the {args.files}-file repo")
        t = time.perf_counter()
        large = make_big_repo(root / "large", args.files)
        details["large_repo_generation_s"] = time.perf_counter() - t
        server = Server(root / "data").start()
        try:
            results = {
                "small": measure(server, small, root, small_runs, "20 files"),
                "large": measure(
                    server, large, root, large_runs, f"{args.files} files", warmup=False
                ),
            }
        finally:
            server.stop()
            problems = server.problems(keep_as="attempt_start")
        details["samples_ms"] = results
        for key, label in (
            ("small", "20-file repo"),
            ("large", f"{args.files // 1000}k-file repo"),
        ):
            r = results[key]
            pm, rm = median(r["paddock"]), median(r["raw"])
            p90p, p90r = pct(r["paddock"], 90), pct(r["raw"], 90)
            if key == "small":
                rows.append(
                    Row(
                        f"start → running, {label}, median",
                        pm,
                        rm,
                        f"{pm - rm:+.1f} ms",
                        "≤ raw + 30 ms",
                        pm <= rm + 30,
                        "ms",
                    )
                )
                rows.append(
                    Row(
                        f"start → running, {label}, p90",
                        p90p,
                        p90r,
                        f"{p90p - p90r:+.1f} ms",
                        "-",
                        None,
                        "ms",
                    )
                )
            else:
                rows.append(
                    Row(
                        f"start → running, {label}, median",
                        pm,
                        rm,
                        f"{pm / rm:.3f}x",
                        "≤ 1.05x raw",
                        pm <= 1.05 * rm,
                        "ms",
                    )
                )
                rows.append(
                    Row(
                        f"start → running, {label}, p90",
                        p90p,
                        p90r,
                        f"{p90p / p90r:.3f}x",
                        "-",
                        None,
                        "ms",
                    )
                )
            rows.append(
                Row(
                    f"  of which POST answered / git worktree add, {label}",
                    median(r["paddock_post"]),
                    median(r["raw_git"]),
                    f"{median(r['paddock_post']) - median(r['raw_git']):+.1f} ms",
                    "-",
                    None,
                    "ms",
                )
            )
        for key in ("small", "large"):
            phases = results[key]["phases"]
            order = sorted(phases, key=lambda k: median(phases[k]))
            details[f"{key}_phase_medians_ms"] = {k: median(phases[k]) for k in order}
            notes.append(
                f"{key} repo, median ms after the POST was sent at which each event arrived: "
                + ", ".join(f"{k} {median(phases[k]):.1f}" for k in order)
            )
        note_server_problems("attempt_start", problems, notes, details)
        notes.append(
            "paddock = POST sent → SSE process.updated(agent, running) received; "
            "raw = git worktree add + Popen(bash -c) returned"
        )
    report("attempt_start", rows, details, notes)


if __name__ == "__main__":
    main()
