"""Memory and board listing: server RSS idle, with 1,000 tasks, per finished attempt, and
whether finished attempts' logs stay in memory; GET /api/projects/{id}/tasks latency.

RSS is VmRSS of the `paddock serve` process (uvicorn runs in that one process).

Baselines in the same run:
- RSS of a bare `python -c "import fastapi, sqlalchemy, uvicorn"` process (the stack's floor),
  and of a process that imports what the server imports (paddock.cli.main, paddock.web.app) but
  serves nothing, to split "imports" from "running";
- GET /api/health over the same keep-alive connection, the floor for the list latency.

Targets: idle ≤ 80 MB; ≤ 0.5 MB per finished attempt; no growth from finished attempts' logs
(the second batch of attempts costs no more than the first); list 1,000 tasks ≤ 10 ms median.

    .venv/bin/python bench/memory.py [--quick | --full]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx
from _harness import (
    PYTHON,
    ROOT,
    SETTLED,
    Row,
    Server,
    SSEThread,
    make_repo,
    median,
    note_server_problems,
    pct,
    report,
    small_files,
    step,
)

RSS_SNIPPET = (
    "import os\n"
    "for line in open(f'/proc/{os.getpid()}/status'):\n"
    "    if line.startswith('VmRSS:'):\n"
    "        print(int(line.split()[1]) / 1024)\n"
)

# What the server process imports before serving, and the contribution of each big package.
IMPORT_STEPS = [
    "pydantic",
    "fastapi",
    "sqlalchemy.orm",
    "uvicorn",
    "alembic.command",
    "httpx",
    "typer",
    "jinja2",
    "paddock.cli.main",
    "paddock.web.app",
]
IMPORT_SNIPPET = (
    "import importlib, json, os, sys\n"
    "def rss():\n"
    "    for line in open(f'/proc/{os.getpid()}/status'):\n"
    "        if line.startswith('VmRSS:'):\n"
    "            return int(line.split()[1]) / 1024\n"
    "out = [['python', rss()]]\n"
    "for name in sys.argv[1:]:\n"
    "    importlib.import_module(name)\n"
    "    out.append([name, rss()])\n"
    "print(json.dumps(out))\n"
)

AGENT = "seq -f 'line %g of a finished attempt, some log text here' {lines}"
NOISE_MB = 0.05  # per-attempt RSS differences below this are measurement noise


def bare_rss(modules: str) -> float:
    code = (f"import {modules}\n" if modules else "") + RSS_SNIPPET
    out = subprocess.run([PYTHON, "-c", code], capture_output=True, text=True, check=True, cwd=ROOT)
    return float(out.stdout.strip())


def import_profile() -> list[tuple[str, float]]:
    out = subprocess.run(
        [PYTHON, "-c", IMPORT_SNIPPET, *IMPORT_STEPS],
        capture_output=True,
        text=True,
        check=True,
        cwd=ROOT,
    )
    return [(name, float(rss)) for name, rss in json.loads(out.stdout)]


def latency(client: httpx.Client, path: str, runs: int) -> tuple[list[float], int]:
    for _ in range(5):  # warm-up
        client.get(path).raise_for_status()
    samples = []
    size = 0
    for _ in range(runs):
        t0 = time.perf_counter()
        response = client.get(path)
        response.read()
        samples.append((time.perf_counter() - t0) * 1000)
        response.raise_for_status()
        size = len(response.content)
    return samples, size


def settle(server: Server, seconds: float = 1.0) -> float:
    """RSS after `seconds` without requests (threads finish, nothing pending)."""
    time.sleep(seconds)
    return server.rss_mb()


def run_attempts(
    server: Server, events: SSEThread, project_id: str, count: int, lines: int, tag: str
) -> list[str]:
    """Start `count` attempts (each printing `lines` lines) and wait until all have finished."""
    ids = []
    for i in range(count):
        task = server.task(project_id, f"memory {tag} {i}")
        ids.append(server.start_attempt(task["id"], AGENT.format(lines=lines))["id"])
    pending = set(ids)
    deadline = time.monotonic() + 300
    while pending and time.monotonic() < deadline:
        event = events.next(timeout=max(1.0, deadline - time.monotonic()))
        if event.event == "attempt.updated":
            data = event.json()["data"]
            if data["id"] in pending and data["status"] in SETTLED:
                pending.discard(data["id"])
                if data["status"] == "failed":
                    print(f"  attempt {data['id']} failed: {data.get('error')}")
    if pending:
        raise RuntimeError(f"{len(pending)} attempts did not finish")
    return ids


def main() -> None:  # noqa: PLR0915 (one script, read top to bottom)
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    mode = parser.add_mutually_exclusive_group()
    mode.add_argument("--quick", action="store_true", help="20 + 20 attempts, 20 list requests")
    mode.add_argument("--full", action="store_true", help="100 + 100 attempts, 200 requests")
    parser.add_argument(
        "--env",
        action="append",
        default=[],
        help="extra NAME=VALUE in the server's environment, e.g. MALLOC_ARENA_MAX=2",
    )
    args = parser.parse_args()
    attempts, requests = (20, 20) if args.quick else (100, 200) if args.full else (50, 50)
    tasks, lines = 1000, 2000
    extra_env = dict(item.split("=", 1) for item in args.env)

    rows: list[Row] = []
    notes: list[str] = []
    details: dict[str, Any] = {
        "tasks": tasks,
        "attempts_per_batch": attempts,
        "lines_per_attempt": lines,
        "list_requests": requests,
        "server_env": extra_env,
    }
    step("baselines: bare interpreter, fastapi+sqlalchemy+uvicorn, the server's imports")
    rss_python = bare_rss("")
    rss_stack = bare_rss("fastapi, sqlalchemy, uvicorn")
    profile = import_profile()
    details["rss_bare_python_mb"] = rss_python
    details["rss_fastapi_sqlalchemy_uvicorn_mb"] = rss_stack
    details["import_profile_mb"] = profile

    with tempfile.TemporaryDirectory(prefix="paddock-bench-mem-") as tmp:
        root = Path(tmp)
        repo = make_repo(root / "repo", small_files(20))
        server = Server(root / "data", env=extra_env).start()
        try:
            idle = settle(server, 2.0)
            step(f"idle RSS {idle:.1f} MB")
            project = server.project(repo)
            events = SSEThread(
                server.url, f"/api/events?project_id={project['id']}", token=server.token
            )
            try:
                step(f"creating {tasks} tasks")
                t0 = time.perf_counter()
                for i in range(tasks):
                    server.task(project["id"], f"task {i}: something to do on the board")
                create_s = time.perf_counter() - t0
                rss_tasks = settle(server)
                step(f"RSS with {tasks} tasks {rss_tasks:.1f} MB ({create_s:.1f} s to create)")

                step(f"list {tasks} tasks x {requests} and /api/health x {requests}")
                with httpx.Client(
                    base_url=server.url, timeout=30, headers=server.client.headers
                ) as client:
                    list_ms, list_size = latency(
                        client, f"/api/projects/{project['id']}/tasks", requests
                    )
                    health_ms, _ = latency(client, "/api/health", requests)
                rss_listed = settle(server)

                step(f"{attempts} attempts x {lines} lines (batch 1)")
                t0 = time.perf_counter()
                run_attempts(server, events, project["id"], attempts, lines, "a")
                batch1_s = time.perf_counter() - t0
                rss_batch1 = settle(server, 2.0)
                step(f"RSS after batch 1: {rss_batch1:.1f} MB ({batch1_s:.1f} s)")
                step(f"{attempts} attempts x {lines} lines (batch 2)")
                run_attempts(server, events, project["id"], attempts, lines, "b")
                rss_batch2 = settle(server, 2.0)
                step(f"RSS after batch 2: {rss_batch2:.1f} MB")
                # A third look after a pause: anything still held by finished attempts stays.
                rss_later = settle(server, 3.0)
            finally:
                events.close()
            db = server.data_dir / "paddock.db"
            details["db_mb"] = db.stat().st_size / 1e6 if db.exists() else None
        finally:
            server.stop()
            problems = server.problems(keep_as="memory")
        # A restart on the same data dir: the schema is current, nothing to migrate, the
        # board and the finished attempts are only in the store.
        step("restart on the same data dir")
        again = Server(root / "data", env=extra_env).start()
        try:
            rss_restart = settle(again, 2.0)
        finally:
            again.stop()
        step(f"idle RSS after a restart {rss_restart:.1f} MB")

    per1 = (rss_batch1 - rss_listed) / attempts
    per2 = (rss_batch2 - rss_batch1) / attempts
    details.update(
        rss_idle_mb=idle,
        rss_tasks_mb=rss_tasks,
        rss_after_listing_mb=rss_listed,
        rss_restart_mb=rss_restart,
        rss_batch1_mb=rss_batch1,
        rss_batch2_mb=rss_batch2,
        rss_later_mb=rss_later,
        create_tasks_s=create_s,
        list_ms=list_ms,
        health_ms=health_ms,
        list_response_bytes=list_size,
        batch1_s=batch1_s,
    )
    rows.append(
        Row(
            "RSS idle after start",
            idle,
            rss_stack,
            f"{idle - rss_stack:+.1f} MB",
            "≤ 80 MB",
            idle <= 80,
            "MB",
        )
    )
    rows.append(
        Row(
            "RSS idle after a restart (schema current)",
            rss_restart,
            rss_stack,
            f"{rss_restart - rss_stack:+.1f} MB",
            "≤ 80 MB",
            rss_restart <= 80,
            "MB",
        )
    )
    rows.append(
        Row(
            f"RSS with {tasks} tasks (+ listing)",
            rss_listed,
            idle,
            f"{rss_listed - idle:+.1f} MB",
            "-",
            None,
            "MB",
        )
    )
    rows.append(
        Row(
            f"RSS per finished attempt (batch 1 of {attempts})",
            per1,
            0.0,
            f"{per1 * 1024:.0f} KB",
            "≤ 0.5 MB",
            per1 <= 0.5,
            "MB",
        )
    )
    grows = per2 > per1 + NOISE_MB  # a smaller figure is no growth
    rows.append(
        Row(
            f"RSS per finished attempt (batch 2 of {attempts})",
            per2,
            per1,
            f"{per2 - per1:+.3f} MB",
            "no growth (≤ batch 1)",
            not grows,
            "MB",
        )
    )
    lm, hm = median(list_ms), median(health_ms)
    rows.append(
        Row(f"GET {tasks} tasks, median", lm, hm, f"{lm - hm:+.1f} ms", "≤ 10 ms", lm <= 10, "ms")
    )
    rows.append(
        Row(
            f"GET {tasks} tasks, p90",
            pct(list_ms, 90),
            pct(health_ms, 90),
            f"{pct(list_ms, 90) - pct(health_ms, 90):+.1f} ms",
            "-",
            None,
            "ms",
        )
    )
    steps = ", ".join(
        f"{name} +{rss - prev:.1f}"
        for (name, rss), (_, prev) in zip(profile[1:], profile[:-1], strict=True)
    )
    notes.append(
        f"baseline RSS: bare python {rss_python:.1f} MB; fastapi+sqlalchemy+uvicorn "
        f"{rss_stack:.1f} MB; importing what the server imports {profile[-1][1]:.1f} MB "
        f"({steps})"
    )
    notes.append(
        f"the list response is {list_size / 1024:.0f} KB; RSS 3 s after batch 2: {rss_later:.1f} MB"
    )
    note_server_problems("memory", problems, notes, details)
    report("memory", rows, details, notes)


if __name__ == "__main__":
    main()
