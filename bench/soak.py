"""Soak: many SSE clients and many busy attempts for minutes; does anything grow, break or stay?

One `paddock serve` (a temporary data dir, previews never stopped for idleness). The load:
- `--attempts` attempts (default 20) of the `script` agent, each printing `--rate` lines/s
  (default 1,000; a paced Python loop writing every 10 ms) for the whole load, then exiting;
  each with a dev server (`python3 -m http.server $PORT`, the project's `dev` script) started
  through `POST /api/attempts/{id}/previews {"wait": true}` before the load;
- `--clients` SSE clients (default 100) in a process of their own (bench/_soak_clients.py):
  10 % on the board's live stream, 20 % on `/api/events` (unfiltered), the rest on the agents'
  log streams (`?batch=true`, spread evenly). Each checks its stream for gaps and duplicates
  and reconnects every 60 s or so with Last-Event-ID (staggered), as EventSource does;
- board churn: every 2 s a task is created, renamed, and the one made 10 s earlier deleted,
  so the event and board streams carry traffic (the logs send no bus event per line);
- a steady probe from a thread of the bench: GET /api/projects/{id}/tasks and /api/health,
  alternating, 10 requests/s, one keep-alive connection; its latency is the API's p50/p99.

Every 10 s a sample: the server's RSS, open fds, threads, CPU, the probe's p50/p99 over the
window, lines ingested (`paddock_log_lines_ingested_total` from /metrics, scraped once before
the baseline so its first import is not counted as growth), the clients' counts.

Warm-up: the first 20 % of the load (2 min of 10) is left out of the growth figures; growth is
the largest sample after it against the first sample after it. Baselines in the same run: the
idle server (project registered, /metrics scraped) before any attempt: RSS, fds, threads and
the probe's p99 over 10 s. After the agents end: previews stopped, clients closed, then the
tagged processes (`PADDOCK_PROCESS_ID=<id>` of every agent and dev server) must be gone, the
fds and threads back near the baseline; and once more after the server stopped.

    flock /root/bench.lock .venv/bin/python bench/soak.py [--quick] [--minutes M] [--attempts N]
        [--clients N] [--rate LINES_PER_S]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import tempfile
import time
from pathlib import Path
from typing import Any

from _harness import (
    PYTHON,
    ROOT,
    SETTLED,
    Server,
    SSEThread,
    make_repo,
    note_server_problems,
    report,
    step,
)
from _soak_load import (
    Churn,
    Probe,
    host_busy,
    host_cpu,
    metric,
    proc_counts,
    proc_inventory,
)
from _soak_report import (
    WARMUP_SHARE,
    Plan,
    Sample,
    inventory_diff,
    print_head,
    print_sample,
    summary,
)

from paddock.runtime.proctree import find_tagged

AGENT = (
    "import os, sys, time\n"
    "lines, rate, gate, tick = int(sys.argv[1]), float(sys.argv[2]), sys.argv[3], "
    "float(sys.argv[4])\n"
    "while not os.path.exists(gate):\n"
    "    time.sleep(0.05)\n"
    "t0, done, out = time.monotonic(), 0, sys.stdout\n"
    "while done < lines:\n"
    "    due = min(lines, int((time.monotonic() - t0) * rate) + 1)\n"
    "    if due > done:\n"
    "        out.write(''.join(f'{n} soak line, some log text here\\n' "
    "for n in range(done + 1, due + 1)))\n"
    "        out.flush()\n"
    "        done = due\n"
    "    time.sleep(tick)\n"
)
DEV = "python3 -m http.server $PORT --bind 127.0.0.1"
GATE = ".soak-gate"
SERVER_ENV = {"PADDOCK_PREVIEW_IDLE_MINUTES": "0", "PADDOCK_PREVIEW_READY_TIMEOUT_S": "60"}
SAMPLE_S = 10.0
RECONNECT_S = 60.0


class Soak:
    def __init__(self, server: Server, root: Path, plan: Plan) -> None:
        self.server = server
        self.root = root
        self.plan = plan
        repo = make_repo(root / "repo", {"README.md": "# soak\n", "soak_agent.py": AGENT})
        self.project = server.api(
            "POST", "/api/projects", json={"path": str(repo), "scripts": {"dev": DEV}}
        )
        self.attempts: list[dict[str, Any]] = []
        self.primed: list[dict[str, Any]] = []
        self.agents: list[str] = []  # agent process ids
        self.previews: list[dict[str, Any]] = []
        self.worker: subprocess.Popen[str] | None = None

    @property
    def lines_per_agent(self) -> int:
        return int(self.plan.rate * self.plan.minutes * 60)

    def prime(self, count: int, lines: int) -> None:
        """A small round of everything the load does, before the baseline: what the server
        starts once and keeps (the previews' data plane, a spare sandbox, its pools of threads
        and database connections) is then in the baseline, and what is left after the load
        is what the load left."""
        primed = []
        for i in range(count):
            task = self.server.task(self.project["id"], f"prime {i}")
            primed.append(self.server.start_attempt(task["id"], f"seq 1 {lines}"))
        streams = [
            SSEThread(self.server.url, "/api/events", token=self.server.token) for _ in range(5)
        ]
        deadline = time.monotonic() + 120
        while any(
            self.server.api("GET", f"/api/attempts/{a['id']}")["status"] not in SETTLED
            for a in primed
        ):
            if time.monotonic() > deadline:
                raise RuntimeError("the priming attempts did not finish")
            time.sleep(0.2)
        for attempt in primed:
            [preview] = self.server.api(
                "POST", f"/api/attempts/{attempt['id']}/previews", json={"wait": True}
            )
            self.server.api("DELETE", f"/api/previews/{preview['id']}")
        for stream in streams:
            stream.close()
        self.primed = primed  # their processes are checked at the end too

    def start_attempts(self) -> None:
        command = (
            f"python3 soak_agent.py {self.lines_per_agent} {self.plan.rate} {GATE} {self.plan.tick}"
        )
        for i in range(self.plan.attempts):
            task = self.server.task(self.project["id"], f"soak {i}")
            attempt = self.server.start_attempt(task["id"], command)
            self.attempts.append(attempt)
            self.agents.append(self.server.agent_process(attempt["id"], 60)["id"])
        for attempt in self.attempts:
            [preview] = self.server.api(
                "POST", f"/api/attempts/{attempt['id']}/previews", json={"wait": True}
            )
            if preview["status"] != "running":
                raise RuntimeError(f"a preview did not start: {preview}")
            self.previews.append(preview)

    def client_spec(self) -> dict[str, Any]:
        n = self.plan.clients
        boards = max(1, n // 10)
        events = max(1, n // 5)
        clients: list[dict[str, Any]] = []
        for i in range(n):
            if i < boards:
                kind, path = "board", f"/ui/projects/{self.project['id']}/board/stream"
            elif i < boards + events:
                kind, path = "events", "/api/events"
            else:
                agent = self.agents[(i - boards - events) % len(self.agents)]
                kind, path = "log", f"/api/processes/{agent}/logs/stream?batch=true"
            # Staggered, so the reconnections spread over the minute.
            offset = RECONNECT_S * i / n
            clients.append(
                {"name": f"{kind}-{i}", "kind": kind, "path": path, "reconnect": RECONNECT_S}
                | {"offset": offset}
            )
        return {"url": self.server.url, "token": self.server.token, "clients": clients}

    def start_clients(self) -> None:
        self.worker = subprocess.Popen(
            [PYTHON, str(ROOT / "bench" / "_soak_clients.py"), json.dumps(self.client_spec())],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
            cwd=ROOT / "bench",
        )
        line = self.ask(None)
        if line != "READY":
            raise RuntimeError(f"the client worker said {line!r}")

    def ask(self, command: str | None) -> str:
        assert self.worker is not None and self.worker.stdin and self.worker.stdout
        if command:
            self.worker.stdin.write(command + "\n")
            self.worker.stdin.flush()
        return self.worker.stdout.readline().strip()

    def open_gates(self) -> None:
        for attempt in self.attempts:
            gate = Path(attempt["worktree_path"]) / GATE
            os.close(os.open(gate, os.O_CREAT | os.O_EXCL | os.O_WRONLY | os.O_NOFOLLOW, 0o644))

    def agents_done(self) -> bool:
        for attempt in self.attempts:
            current = self.server.api("GET", f"/api/attempts/{attempt['id']}")
            if current["status"] not in SETTLED:
                return False
        return True

    def stop_everything(self) -> dict[str, Any]:
        """Stop the previews (and any attempt still running), close the clients: the worker's
        final report."""
        for attempt in self.attempts:
            current = self.server.api("GET", f"/api/attempts/{attempt['id']}")
            if current["status"] not in SETTLED:
                self.server.api("POST", f"/api/attempts/{attempt['id']}/stop")
        for preview in self.previews:
            self.server.api("DELETE", f"/api/previews/{preview['id']}")
        final: dict[str, Any] = json.loads(self.ask("STOP"))
        assert self.worker is not None
        self.worker.wait(30)
        return final

    def process_ids(self) -> list[str]:
        """Every process of every attempt (agents, dev servers, anything else run)."""
        ids = []
        for attempt in self.attempts + self.primed:
            for proc in self.server.api("GET", f"/api/attempts/{attempt['id']}/processes"):
                ids.append(proc["id"])
        return ids

    def line_counts(self) -> dict[str, int]:
        return {
            pid: int(self.server.api("GET", f"/api/processes/{pid}")["line_count"])
            for pid in self.agents
        }


def alive_tagged(process_ids: list[str]) -> list[tuple[str, int]]:
    return [(tag, pid) for tag in process_ids for pid in find_tagged(tag)]


def wait_tagged_gone(process_ids: list[str], timeout: float) -> list[tuple[str, int]]:
    deadline = time.monotonic() + timeout
    while True:
        alive = alive_tagged(process_ids)
        if not alive or time.monotonic() > deadline:
            return alive
        time.sleep(0.5)


def idle_state(server: Server, probe: Probe, seconds: float) -> dict[str, Any]:
    """The idle server: RSS, fds, threads (no probe connection open), then the probe's p50/p99
    over `seconds`."""
    time.sleep(2)
    fds, threads = proc_counts(server.pid)
    state: dict[str, Any] = {"rss": server.rss_mb(), "fds": fds, "threads": threads}
    state["inventory"] = proc_inventory(server.pid)
    probe.start()
    time.sleep(seconds)
    p50, p99, n = probe.window()
    probe.stop()
    return state | {"p50": p50, "p99": p99, "probes": n}


def settle(server: Server, project_id: str) -> None:
    """Let the load's leftovers go before the "after" reading: closed streams' tasks and
    sockets, and AnyIO's worker threads (Starlette's thread pool), which a call prunes once
    they have been idle for 10 s (anyio WorkerThread.MAX_IDLE_TIME), not before."""
    time.sleep(11)
    for _ in range(3):
        server.api("GET", f"/api/projects/{project_id}/tasks")
        server.api("GET", "/api/health")
    time.sleep(1)


def run_load(soak: Soak, probe: Probe, churn: Churn) -> list[Sample]:
    server = soak.server
    samples: list[Sample] = []
    t0 = time.monotonic()
    soak.open_gates()
    probe.start()
    churn.start()
    step(
        f"load started: {soak.plan.attempts} agents x {soak.plan.rate} lines/s, "
        f"{soak.plan.clients} clients, {soak.plan.minutes:g} min"
    )
    print_head()
    last_lines, last_cpu, last_t = 0.0, server.cpu_seconds(), 0.0
    last_host = host_cpu()
    probe.window()  # start the first window here
    next_at = SAMPLE_S
    while True:
        time.sleep(max(0.0, t0 + next_at - time.monotonic()))
        t = time.monotonic() - t0
        totals = json.loads(soak.ask("SAMPLE"))
        lines = metric(server, "paddock_log_lines_ingested_total")
        streams = metric(server, "paddock_sse_clients")
        cpu = server.cpu_seconds()
        fds, threads = proc_counts(server.pid)
        p50, p99, n = probe.window()
        sample = Sample(
            t=t,
            rss=server.rss_mb(),
            fds=fds,
            threads=threads,
            cpu_pct=(cpu - last_cpu) / (t - last_t) * 100,
            host_pct=host_busy(last_host, (last_host := host_cpu())),
            p50=p50,
            p99=p99,
            probes=n,
            lines=lines,
            lines_per_s=(lines - last_lines) / (t - last_t),
            received=totals["log"]["last_sum"],
            bus_events=totals["events"]["events"],
            patches=totals["board"]["events"],
            syncs=totals["events"]["syncs"] + totals["log"]["syncs"],
            gaps_dups=sum(
                totals[k]["gaps"] + totals[k]["dups"] for k in ("log", "events", "board")
            ),
            streams=streams,
        )
        samples.append(sample)
        print_sample(sample)
        last_lines, last_cpu, last_t = lines, cpu, t
        next_at += SAMPLE_S
        if t > soak.plan.minutes * 60 and soak.agents_done():
            break
        if t > soak.plan.minutes * 60 + 300:
            raise RuntimeError("the agents did not finish 5 minutes after their time")
    churn.stop()
    probe.stop()
    return samples


# --- main --------------------------------------------------------------------------------------


def parse() -> Plan:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="1 min, 5 attempts, 20 clients")
    parser.add_argument("--minutes", type=float)
    parser.add_argument("--attempts", type=int)
    parser.add_argument("--clients", type=int)
    parser.add_argument("--rate", type=int, help="lines/s per agent")
    parser.add_argument(
        "--env",
        action="append",
        default=[],
        help="extra NAME=VALUE in the server's environment, e.g. MALLOC_ARENA_MAX=2",
    )
    parser.add_argument(
        "--tick", type=float, default=0.01, help="seconds between an agent's writes (0.01)"
    )
    args = parser.parse_args()
    base = Plan(1, 5, 20, 1000) if args.quick else Plan(10, 20, 100, 1000)
    return Plan(
        minutes=args.minutes or base.minutes,
        attempts=args.attempts or base.attempts,
        clients=args.clients or base.clients,
        rate=args.rate or base.rate,
        tick=args.tick,
        env=dict(item.split("=", 1) for item in args.env),
    )


def main() -> None:
    plan = parse()
    notes: list[str] = []
    details: dict[str, Any] = {"plan": plan.__dict__}
    with tempfile.TemporaryDirectory(prefix="paddock-soak-") as tmp:
        server = Server(Path(tmp) / "data", env=SERVER_ENV | plan.env).start()
        try:
            soak = Soak(server, Path(tmp), plan)
            metric(server, "paddock_sse_clients")  # its first scrape imports prometheus_client
            probe = Probe(server, soak.project["id"])
            step("idle baseline (10 s of probes)")
            soak.prime(min(3, plan.attempts), 5000)
            idle = idle_state(server, probe, 10)
            step(f"idle: {idle}")
            step(f"starting {plan.attempts} attempts and their dev servers")
            soak.start_attempts()
            step(f"opening {plan.clients} SSE clients")
            soak.start_clients()
            samples = run_load(soak, probe, Churn(server, soak.project["id"]))
            step("agents done; stopping previews and clients")
            line_counts = soak.line_counts()
            final = soak.stop_everything()
            tags = soak.process_ids()
            alive = wait_tagged_gone(tags, 30)
            settle(server, soak.project["id"])
            fds, threads = proc_counts(server.pid)
            stopped: dict[str, Any] = {
                "tags": len(tags),
                "alive": alive,
                "fds": fds,
                "threads": threads,
                "rss": server.rss_mb(),
                "inventory": proc_inventory(server.pid),
            }
            problems = server.problems(keep_as="soak")
        finally:
            server.stop()
        stopped["alive_after_server"] = wait_tagged_gone(tags, 10)
    rows = summary(plan, idle, samples, final, line_counts, stopped)
    details |= {
        "idle": idle,
        "samples": [s.__dict__ for s in samples],
        "stopped": stopped,
        "clients": {k: final[k] for k in ("log", "events", "board", "cpu_s", "maxrss_mb")},
        "client_problems": [(r["name"], r["problems"]) for r in final["records"] if r["problems"]][
            :20
        ],
        "probe_errors": probe.errors,
        "line_counts": line_counts,
    }
    warm = plan.minutes * 60 * WARMUP_SHARE
    notes.append(
        f"load: {plan.attempts} agents x {plan.rate:,} lines/s (a write every "
        f"{plan.tick * 1000:g} ms) for {plan.minutes:g} min "
        f"({sum(line_counts.values()):,} lines stored), a dev server each, {plan.clients} SSE "
        f"clients ({final['board']['clients']} board, {final['events']['clients']} events, "
        f"{final['log']['clients']} log), reconnecting every ~{RECONNECT_S:.0f} s with "
        f"Last-Event-ID ({sum(final[k]['connects'] for k in ('log', 'events', 'board'))} "
        "connections in all), a task created/renamed/deleted every 2 s"
    )
    notes.append(f"warm-up: the first {warm:.0f} s of the load, left out of RSS/fd/thread figures")
    notes.append(
        f"the client process used {final['cpu_s']:.0f} s of CPU ({final['maxrss_mb']:.0f} MB); "
        f"probe errors: {probe.errors}"
    )
    churn_errors = details.get("churn_errors")
    if churn_errors:
        notes.append(f"churn errors: {churn_errors[:3]}")
    for name, problems in details["client_problems"][:5]:
        notes.append(f"client {name}: {problems[:3]}")
    notes.append(
        f"held after everything stopped, beyond the idle server: {inventory_diff(idle, stopped)}"
    )
    note_server_problems("soak", problems, notes, details)
    report("soak", rows, details, notes)


if __name__ == "__main__":
    main()
