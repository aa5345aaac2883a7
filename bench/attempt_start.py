"""Attempt start: POST /api/tasks/{id}/attempts → the agent *actually* running, and known to be.

The agent is the `script` profile running `COMMAND`, whose first action writes bash's
`$EPOCHREALTIME` (the wall clock, the clock `time.time()` reads) to a file in its worktree:
the moment the agent really runs, seen from inside its sandbox.

Paddock: from sending the POST (on an already open GET /api/events?project_id=... stream) to
the later of (a) the `process.updated` event with reason "agent" and status "running"
received and (b) the agent's first action: the moment the agent runs *and* the user can know
it. Both are reported apart too, and how far the event came after the first action (the
event must never come before the command started; the command's first action comes ~1 ms
after its exec, bash's own start, so a small negative figure is still "after the fact": the
ordering itself is proven by tests/services/processes/test_running_is_true.py).

Baseline, same repository, same run: `git worktree add -b BR PATH main` then
`subprocess.Popen(["bash", "-c", COMMAND], cwd=PATH)`, to the same first action.

Two repositories: a 20-file repo and a generated many-file repo (50k files; `--quick`: 5k).
One warm-up run of each side per repository first, then samples alternating paddock/raw (the
order flipping every pair, so neither always runs on a just-warmed cache), with a pause after
each sample so the last one's teardown (the attempt's deletion, its sandbox's exit) is not
inside the next. Attempts are deleted between runs (DELETE /api/attempts/{id}
?delete_branch=true); the raw worktrees are removed with `git worktree remove --force` +
`git branch -D`.

Targets: small repo ≤ raw + 25 ms (median); many files ≤ 1.05 x raw (median).

    .venv/bin/python bench/attempt_start.py [--quick | --full] [--files N] [--runs N]
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

MARKER = ".bench-started"
COMMAND = f"echo $EPOCHREALTIME > {MARKER}; exec sleep 30"
SETTLE_S = 0.25  # after each sample: the previous one's teardown is not measured
SMALL_TARGET_MS = 25.0
LARGE_TARGET = 1.05


def first_action(worktree: Path, timeout: float = 30) -> float:
    """When the agent's first action ran (time.time() seconds), read from its marker file."""
    marker = worktree / MARKER
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            text = marker.read_text().strip()
        except OSError:
            text = ""
        if text:
            return float(text)
        time.sleep(0.002)
    raise TimeoutError(f"{marker} was never written")


def paddock_run(server: Server, events: SSEThread, project_id: str, i: int) -> dict[str, Any]:
    task = server.task(project_id, f"bench attempt {i}")
    # The task's own event proves the stream is subscribed and drained up to here.
    events.wait_for(lambda e: e.event == "task.created" and e.json()["data"]["id"] == task["id"])
    t0_wall = time.time()
    t0 = time.perf_counter()
    response = server.client.post(
        f"/api/tasks/{task['id']}/attempts",
        json={"agent": {"profile": "script", "command": COMMAND}},
    )
    t_post = time.perf_counter()
    if response.status_code != 201:
        raise RuntimeError(f"start attempt: {response.status_code} {response.text}")
    attempt = response.json()
    attempt_id = attempt["id"]

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
    event_ms = (event.received - t0) * 1000
    started_ms = (first_action(Path(attempt["worktree_path"])) - t0_wall) * 1000
    server.delete_attempt(attempt_id)
    return {
        "total": max(event_ms, started_ms),
        "event": event_ms,
        "started": started_ms,
        "post": (t_post - t0) * 1000,
        "phases": seen,
    }


def raw_run(repo: Path, root: Path, i: int) -> dict[str, float]:
    branch = f"raw/bench-{i}"
    path = root / f"raw-{i}"
    t0_wall = time.time()
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
    t_spawned = time.perf_counter()
    started_ms = (first_action(path) - t0_wall) * 1000
    proc.kill()
    proc.communicate()
    git(repo, "worktree", "remove", "--force", str(path))
    git(repo, "branch", "-D", branch)
    return {
        "total": started_ms,
        "spawned": (t_spawned - t0) * 1000,
        "worktree": (t_wt - t0) * 1000,
    }


def measure(server: Server, repo: Path, root: Path, runs: int, label: str) -> dict[str, Any]:
    project = server.project(repo)
    events = SSEThread(server.url, f"/api/events?project_id={project['id']}", token=server.token)
    out: dict[str, Any] = {
        "paddock": [],
        "paddock_event": [],
        "paddock_started": [],
        "paddock_post": [],
        "raw": [],
        "raw_spawned": [],
        "raw_git": [],
        "phases": {},
    }
    try:
        step(f"{label}: warm-up run of each")
        paddock_run(server, events, project["id"], -1)
        time.sleep(SETTLE_S)
        raw_run(repo, root, -1)
        time.sleep(SETTLE_S)
        for i in range(runs):
            order = [0, 1] if i % 2 == 0 else [1, 0]
            for which in order:
                if which == 0:
                    p = paddock_run(server, events, project["id"], i)
                    out["paddock"].append(p["total"])
                    out["paddock_event"].append(p["event"])
                    out["paddock_started"].append(p["started"])
                    out["paddock_post"].append(p["post"])
                    for key, ms in p["phases"].items():
                        out["phases"].setdefault(key, []).append(ms)
                else:
                    r = raw_run(repo, root, i)
                    out["raw"].append(r["total"])
                    out["raw_spawned"].append(r["spawned"])
                    out["raw_git"].append(r["worktree"])
                time.sleep(SETTLE_S)
            step(
                f"{label}: run {i + 1}/{runs}: paddock {out['paddock'][-1]:.1f} ms "
                f"(event {out['paddock_event'][-1]:.1f}, agent {out['paddock_started'][-1]:.1f}), "
                f"raw {out['raw'][-1]:.1f} ms"
            )
    finally:
        events.close()
    return out


def rows_for(r: dict[str, Any], label: str, small: bool) -> list[Row]:
    pm, rm = median(r["paddock"]), median(r["raw"])
    p90p, p90r = pct(r["paddock"], 90), pct(r["raw"], 90)

    def versus(p: float, b: float) -> str:
        return f"{p - b:+.1f} ms" if small else f"{p / b:.3f}x"

    target = f"≤ raw + {SMALL_TARGET_MS:.0f} ms" if small else f"≤ {LARGE_TARGET}x raw"
    met = pm <= rm + SMALL_TARGET_MS if small else pm <= LARGE_TARGET * rm
    late = [e - s for e, s in zip(r["paddock_event"], r["paddock_started"], strict=True)]
    return [
        Row(f"start → agent running, {label}, median", pm, rm, versus(pm, rm), target, met, "ms"),
        Row(
            f"start → agent running, {label}, p90",
            p90p,
            p90r,
            versus(p90p, p90r),
            "-",
            None,
            "ms",
        ),
        Row(
            f"  agent's first action / raw's, {label}, median",
            median(r["paddock_started"]),
            rm,
            versus(median(r["paddock_started"]), rm),
            "-",
            None,
            "ms",
        ),
        Row(
            f"  `running` received / Popen returned, {label}, median",
            median(r["paddock_event"]),
            median(r["raw_spawned"]),
            versus(median(r["paddock_event"]), median(r["raw_spawned"])),
            "-",
            None,
            "ms",
        ),
        Row(
            f"  `running` received minus agent's first action, {label}, median (min)",
            median(late),
            "-",
            f"min {min(late):+.1f} ms",
            "-",
            None,
            "ms",
        ),
        Row(
            f"  POST answered / git worktree add, {label}, median",
            median(r["paddock_post"]),
            median(r["raw_git"]),
            versus(median(r["paddock_post"]), median(r["raw_git"])),
            "-",
            None,
            "ms",
        ),
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    mode = parser.add_mutually_exclusive_group()
    mode.add_argument("--quick", action="store_true", help="10 small + 7 large runs (5k files)")
    mode.add_argument("--full", action="store_true", help="40 small + 10 large runs")
    parser.add_argument("--files", type=int, default=None, help="files in the large repo")
    parser.add_argument("--runs", type=int, default=None, help="samples per side, both repos")
    args = parser.parse_args()
    if args.files is None:
        args.files = 5_000 if args.quick else 50_000
    small_runs, large_runs = (10, 7) if args.quick else (40, 10) if args.full else (20, 7)
    if args.runs is not None:
        small_runs = large_runs = max(7, args.runs)

    rows: list[Row] = []
    details: dict[str, Any] = {
        "command": COMMAND,
        "small_runs": small_runs,
        "large_runs": large_runs,
        "large_files": args.files,
        "settle_s": SETTLE_S,
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
                "large": measure(server, large, root, large_runs, f"{args.files} files"),
            }
        finally:
            server.stop()
            problems = server.problems(keep_as="attempt_start")
        details["samples_ms"] = results
        rows += rows_for(results["small"], "20-file repo", small=True)
        rows += rows_for(results["large"], f"{args.files / 1000:g}k-file repo", small=False)
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
            "paddock = POST sent → the later of `process.updated(agent, running)` received on "
            "/api/events and the agent's first action (bash writing $EPOCHREALTIME); raw = git "
            "worktree add + Popen(bash -c) → the same first action"
        )
    report("attempt_start", rows, details, notes)


if __name__ == "__main__":
    main()
