"""Memory, start-up and board listing: server RSS idle, with 1,000 tasks, per finished attempt,
and whether finished attempts' logs stay in memory; start → /api/health answering;
GET /api/projects/{id}/tasks latency.

RSS is VmRSS of the `paddock serve` process (uvicorn runs in that one process).

Baselines in the same run:
- RSS of a bare `python -c "import fastapi, sqlalchemy.orm, uvicorn"` process (the stack's
  floor), and of a process that imports what the server imports (paddock.cli.main,
  paddock.cli.serving, paddock.web.app) but serves nothing, to split "imports" from "running";
- per package: what each big package the server imports adds (in import order), and what each
  package it imports only on first use would add (jinja2 for the first page, tomlkit for an
  edit of agents.toml, alembic when the schema is behind, the model SDKs, ...) and that it is
  not loaded;
- start-up: the time from spawning `paddock serve` to /api/health answering, ≥ 7 starts (the
  first a warm-up), beside the time a bare interpreter takes to import the stack's floor;
- GET /api/health over the same keep-alive connection, the floor for the list latency.

Targets: idle ≤ 70 MB (issue 18); ≤ 0.5 MB per finished attempt; no growth from finished
attempts' logs (the second batch of attempts costs no more than the first); list 1,000 tasks
≤ 10 ms median.

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

STACK = "fastapi, sqlalchemy.orm, uvicorn"
# What the server process imports before serving, in import order: each step's figure is what
# that package adds on top of the ones before it (the last three are Paddock's serve path).
IMPORT_STEPS = [
    "pydantic",
    "fastapi",
    "sqlalchemy.orm",
    "uvicorn",
    "typer",
    "pydantic_settings",
    "paddock.config",
    "paddock.store.tables",
    "paddock.domain.public",
    "paddock.services.engine",
    "paddock.cli.main",
    "paddock.cli.serving",
    "paddock.web.app",
]
# What the server imports only on first use, each with what uses it; the figure is what it adds
# on top of the server's imports (and of the ones listed before it).
LAZY = {
    "starlette.templating": "the first HTML page (Jinja2)",
    "tomlkit": "an edit of agents.toml",
    "alembic.command": "migrations, when the schema is behind",
    # Paddock's own server loads it on the first upgrade (cli/serving.py); the preview
    # gateway's uvicorn (web/proxy/gateway.py, ws="auto") still loads it at start.
    "uvicorn.protocols.websockets.websockets_sansio_impl": "a preview's first WebSocket",
    # uvicorn imports it at start when installed; Paddock no longer installs it.
    "watchfiles": "nothing: uvicorn --reload only",
    "anthropic": "a planner asked for by name",
    "openai": "a planner asked for by name",
    "detect_secrets": "a deploy check",
    "prometheus_client": "the first scrape of /metrics",
}
IMPORT_SNIPPET = (
    "import importlib, json, os, sys\n"
    "def rss():\n"
    "    for line in open(f'/proc/{os.getpid()}/status'):\n"
    "        if line.startswith('VmRSS:'):\n"
    "            return int(line.split()[1]) / 1024\n"
    "steps, lazy = json.loads(sys.argv[1])\n"
    "out = [['python', rss(), True]]\n"
    "for name in steps:\n"
    "    importlib.import_module(name)\n"
    "    out.append([name, rss(), True])\n"
    "loaded = {name: name in sys.modules for name in lazy}\n"
    "for name in lazy:\n"
    "    try:\n"
    "        importlib.import_module(name)\n"
    "    except ImportError:\n"
    "        continue\n"
    "    out.append([name, rss(), loaded[name]])\n"
    "print(json.dumps(out))\n"
)
START_SAMPLES = 7  # after one warm-up start

IDLE_TARGET_MB = 70
AGENT = "seq -f 'line %g of a finished attempt, some log text here' {lines}"
NOISE_MB = 0.05  # per-attempt RSS differences below this are measurement noise


def bare_rss(modules: str) -> float:
    code = (f"import {modules}\n" if modules else "") + RSS_SNIPPET
    out = subprocess.run([PYTHON, "-c", code], capture_output=True, text=True, check=True, cwd=ROOT)
    return float(out.stdout.strip())


def import_profile() -> list[tuple[str, float, bool]]:
    """(module, RSS after importing it, whether the server's imports had loaded it), for the
    server's imports in order and then each lazily imported package."""
    out = subprocess.run(
        [PYTHON, "-c", IMPORT_SNIPPET, json.dumps([IMPORT_STEPS, list(LAZY)])],
        capture_output=True,
        text=True,
        check=True,
        cwd=ROOT,
    )
    return [(name, float(rss), bool(loaded)) for name, rss, loaded in json.loads(out.stdout)]


def per_package(profile: list[tuple[str, float, bool]]) -> list[tuple[str, float, str]]:
    """(package, MB it adds, "imported at start" or what imports it on first use)."""
    rows = []
    for (name, rss, loaded), (_, prev, _) in zip(profile[1:], profile[:-1], strict=True):
        if name in LAZY:
            # Loaded at start, its cost is in the steps above (importing it again adds 0).
            when = "LOADED AT START" if loaded else f"lazy: {LAZY[name]}"
        else:
            when = "imported at start"
        rows.append((name, rss - prev, when))
    return rows


def time_import(modules: str) -> float:
    """Seconds for a fresh interpreter to import `modules` and exit."""
    t0 = time.perf_counter()
    subprocess.run([PYTHON, "-c", f"import {modules}"], check=True, cwd=ROOT)
    return time.perf_counter() - t0


def timed_start(
    data_dir: Path, env: dict[str, str], cwd: Path = ROOT
) -> tuple[float, float, float]:
    """Spawn `paddock serve`, poll /api/health every 5 ms: (seconds until it answers, the CPU
    seconds the server used until then, idle RSS 1 s later). Server.start polls every 50 ms,
    too coarse to compare start-ups; on a shared machine the CPU figure is the steadier one."""
    server = Server(data_dir, env=env)
    data_dir.mkdir(parents=True, exist_ok=True)
    log = server.log_path.open("ab")
    t0 = time.perf_counter()
    server.proc = subprocess.Popen(
        [PYTHON, "-m", "paddock", "serve", "--no-demo"],
        env=server.env,
        cwd=str(cwd),
        stdout=log,
        stderr=subprocess.STDOUT,
        stdin=subprocess.DEVNULL,
    )
    log.close()
    try:
        deadline = time.monotonic() + 60
        while True:
            if server.proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"server did not start: {server.log()[-3000:]}")
            try:
                if server.client.get("/api/health").status_code == 200:
                    break
            except httpx.TransportError:
                time.sleep(0.005)
        started = time.perf_counter() - t0
        cpu = server.cpu_seconds()
        return started, cpu, settle(server, 1.0)
    finally:
        server.stop()


def start_samples(
    root: Path, env: dict[str, str], count: int
) -> tuple[list[float], list[float], list[float]]:
    """Start-up seconds and idle RSS of `count` starts on one data dir whose schema is current
    (every start but the first), after a warm-up start that creates it (and fills the page
    cache)."""
    timed_start(root, env)
    times, cpu, rss = [], [], []
    for _ in range(count):
        seconds, cpu_s, mb = timed_start(root, env)
        times.append(seconds)
        cpu.append(cpu_s)
        rss.append(mb)
    return times, cpu, rss


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
    step(f"baselines: bare interpreter, {STACK}, the server's imports package by package")
    rss_python = bare_rss("")
    rss_stack = bare_rss(STACK)
    profile = import_profile()
    packages = per_package(profile)
    details["rss_bare_python_mb"] = rss_python
    details["rss_fastapi_sqlalchemy_uvicorn_mb"] = rss_stack
    details["import_profile_mb"] = profile
    details["per_package_mb"] = packages

    with tempfile.TemporaryDirectory(prefix="paddock-bench-mem-") as tmp:
        root = Path(tmp)
        step(f"start-up: {START_SAMPLES} starts (+1 warm-up) to /api/health answering")
        start_s, start_cpu, start_rss = start_samples(root / "starts", extra_env, START_SAMPLES)
        stack_s = [time_import(STACK) for _ in range(START_SAMPLES)]
        details["start_s"] = start_s
        details["start_cpu_s"] = start_cpu
        details["start_idle_rss_mb"] = start_rss
        details["stack_import_s"] = stack_s
        step(
            f"start → health median {median(start_s) * 1000:.0f} ms, "
            f"idle RSS median {median(start_rss):.1f} MB"
        )
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
            f"≤ {IDLE_TARGET_MB} MB",
            idle <= IDLE_TARGET_MB,
            "MB",
        )
    )
    idle_median = median(start_rss)
    rows.append(
        Row(
            f"RSS idle 1 s after a start (schema current), median of {START_SAMPLES}",
            idle_median,
            rss_stack,
            f"{idle_median - rss_stack:+.1f} MB",
            f"≤ {IDLE_TARGET_MB} MB",
            idle_median <= IDLE_TARGET_MB,
            "MB",
        )
    )
    rows.append(
        Row(
            "RSS idle after a restart (schema current)",
            rss_restart,
            rss_stack,
            f"{rss_restart - rss_stack:+.1f} MB",
            f"≤ {IDLE_TARGET_MB} MB",
            rss_restart <= IDLE_TARGET_MB,
            "MB",
        )
    )
    rows.append(
        Row(
            "CPU used by the server until /api/health answers, median",
            median(start_cpu) * 1000,
            "-",
            "-",
            "no more than before (see notes)",
            None,
            "ms",
        )
    )
    for label, value in (("median", median(start_s)), ("p90", pct(start_s, 90))):
        rows.append(
            Row(
                f"start (schema current) → /api/health answering, {label}",
                value * 1000,
                median(stack_s) * 1000,
                f"{(value - median(stack_s)) * 1000:+.0f} ms",
                "no slower than before (see notes)",
                None,
                "ms",
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
    server_imports = profile[len(IMPORT_STEPS)][1]
    notes.append(
        f"baseline RSS: bare python {rss_python:.1f} MB; {STACK} {rss_stack:.1f} MB; "
        f"importing what the server imports {server_imports:.1f} MB (per package below)"
    )
    notes.append(
        "start-up baseline: a bare interpreter importing the stack's floor; the goal is no "
        "slower than the last run's start median (bench/results/memory.json, details.start_s "
        "and start_cpu_s)"
    )
    notes.append(
        f"the list response is {list_size / 1024:.0f} KB; RSS 3 s after batch 2: {rss_later:.1f} MB"
    )
    note_server_problems("memory", problems, notes, details)
    report("memory", rows, details, notes)
    print_packages(packages)


def print_packages(packages: list[tuple[str, float, str]]) -> None:
    """The idle RSS per package: what each one the server imports at start adds, and what each
    one it imports on first use would add."""
    print("\n| package | RSS it adds | when |\n|---|---|---|")
    for name, mb, when in packages:
        print(f"| {name} | {mb:+.1f} MB | {when} |")


if __name__ == "__main__":
    main()
