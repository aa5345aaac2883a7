"""Log ingest: throughput, disk amplification, print → SSE latency, exit → status event.

a. Throughput: a script agent prints N lines (default 1M) flat out. Paddock's time runs from
   releasing the producer (it waits on a gate file, so every run starts the same way) to
   (a1, no log reader) the `attempt.updated` event of the turn's end (awaiting review), which
   follows the log being closed and the line count stored, or (a2, one live SSE client on
   /api/processes/{id}/logs/stream) that client receiving `end`. Baseline:
   `bash -c "PRODUCER | cat > FILE"`.
   Targets: ≥ 200k lines/s and ≥ 0.5 x cat's lines/s.
b. Disk amplification during a1: write_bytes of the server process (/proc/<pid>/io) ÷ bytes
   printed. Target ≤ 3. Also the database (+ WAL) growth.
c. Latency print → SSE client: a producer prints its own time.time() 1,000 lines/s for a few
   seconds; clients (a separate process, asyncio + raw sockets, so the timing side does not
   share the GIL with the clients) compute receive time - printed time per line.
   1 client: target p95 ≤ 5 ms. 100 clients: target p99 < 50 ms.
d. Process exit → status event: the agent sleeps 0.3 s, writes time.time() to a file and
   _exits; the time from that to the `process.updated` event with a final status on
   /api/events. Baseline: the same command under subprocess.Popen, a thread blocked in wait().
   Target ≤ 10 ms (median).

    .venv/bin/python bench/log_ingest.py [--quick | --full] [--only a,b,c,d]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from datetime import datetime
from pathlib import Path
from typing import Any

from _harness import (
    PYTHON,
    SETTLED,
    Row,
    Server,
    SSEEvent,
    SSEParser,
    SSEThread,
    make_repo,
    median,
    note_server_problems,
    pct,
    report,
    small_files,
    step,
)

PY3 = shutil.which("python3") or PYTHON

FLOOD = (
    "import sys\n"
    "n = int(sys.argv[1])\n"
    "w = sys.stdout.write\n"
    "for i in range(n):\n"
    "    w(f'line {i} some log text here\\n')\n"
)

PACED = (
    "import sys, time\n"
    "n, rate = int(sys.argv[1]), float(sys.argv[2])\n"
    "w, f = sys.stdout.write, sys.stdout.flush\n"
    "t0 = time.perf_counter()\n"
    "for i in range(n):\n"
    "    d = t0 + i / rate - time.perf_counter()\n"
    "    if d > 0:\n"
    "        time.sleep(d)\n"
    "    w(f'{time.time():.6f}\\n')\n"
    "    f()\n"
)

EXITER = (
    "import os, sys, time\n"
    "time.sleep(float(sys.argv[2]))\n"
    "f = open(sys.argv[1], 'w')\n"
    "f.write(repr(time.time()))\n"
    "f.close()\n"
    "os._exit(0)\n"
)


def flood_bytes(n: int) -> int:
    return sum(len(f"line {i} some log text here\n") for i in range(n))


# The producers are committed into the bench's repository and the gate and exit files live in
# the attempt's worktree: a sandbox sees its worktree, never the host's /tmp (where the bench's
# own folder is).
SCRIPTS = {"flood.py": FLOOD, "paced.py": PACED, "exiter.py": EXITER}
GATE = ".bench-gate"
TOKEN_VAR = "PADDOCK_BENCH_TOKEN"  # the API token, to the client worker
EXIT_STAMP = ".bench-exit.txt"


def gated(command: str) -> str:
    """The command, started only once the worktree's gate file exists (so readers can attach
    first)."""
    return f"while [ ! -e {GATE} ]; do sleep 0.002; done; exec {command}"


def worktree(attempt: dict[str, Any]) -> Path:
    return Path(attempt["worktree_path"])


def open_gate(gate: Path) -> None:
    """Create the gate in the worktree without following a link there (the tree is the
    agent's: O_NOFOLLOW on the file, O_EXCL so nothing already there is touched)."""
    os.close(os.open(gate, os.O_CREAT | os.O_EXCL | os.O_WRONLY | os.O_NOFOLLOW, 0o644))


class Bench:
    def __init__(self, server: Server, root: Path) -> None:
        self.server = server
        self.root = root
        self.repo = make_repo(root / "repo", {**small_files(20), **SCRIPTS})
        self.project = server.project(self.repo)
        self.events = SSEThread(
            server.url, f"/api/events?project_id={self.project['id']}", token=server.token
        )
        self.n = 0
        self.exit_split: list[tuple[float, float]] = []
        for name, text in SCRIPTS.items():  # the cat and Popen baselines run them here
            (root / name).write_text(text)

    def close(self) -> None:
        self.events.close()

    def attempt(self, command: str) -> tuple[dict[str, Any], str]:
        """Start an attempt; returns it and its agent process id (from the event stream)."""
        self.n += 1
        task = self.server.task(self.project["id"], f"log bench {self.n}")
        attempt = self.server.start_attempt(task["id"], command)
        event = self.events.wait_for(
            lambda e: (
                e.event == "process.created"
                and e.json()["data"]["attempt_id"] == attempt["id"]
                and e.json()["data"]["reason"] == "agent"
            ),
            timeout=60,
        )
        return attempt, event.json()["data"]["id"]

    def wait_attempt_done(self, attempt_id: str, timeout: float = 600) -> SSEEvent:
        return self.events.wait_for(
            lambda e: (
                e.event == "attempt.updated"
                and e.json()["data"]["id"] == attempt_id
                and e.json()["data"]["status"] in SETTLED
            ),
            timeout=timeout,
        )

    def db_bytes(self) -> int:
        data = self.server.data_dir
        return sum(
            (data / name).stat().st_size
            for name in ("paddock.db", "paddock.db-wal")
            if (data / name).exists()
        )

    # -- a + b ------------------------------------------------------------------------------

    def throughput(self, lines: int, with_client: bool) -> dict[str, Any]:
        attempt, process_id = self.attempt(gated(f"{PY3} flood.py {lines}"))
        gate = worktree(attempt) / GATE
        client = None
        if with_client:
            client = SSEThread(
                self.server.url,
                f"/api/processes/{process_id}/logs/stream",
                wanted=frozenset([b"end"]),
                token=self.server.token,
            )
            time.sleep(0.2)  # let it subscribe (it replays from the store anyway)
        self.events.drain()
        io0, db0, cpu0 = self.server.io(), self.db_bytes(), self.server.cpu_seconds()
        t0, wall0 = time.perf_counter(), time.time()
        open_gate(gate)
        client_received: int | None = None
        if client is not None:
            end = client.wait_for(lambda e: e.event == "end", timeout=600)
            t_end = end.received
            client_received = client.parser.skipped
            client.close()
        done = self.wait_attempt_done(attempt["id"])
        if client is None:
            t_end = done.received
        elapsed = t_end - t0
        cpu = self.server.cpu_seconds() - cpu0
        io1, db1 = self.server.io(), self.db_bytes()
        proc = self.server.api("GET", f"/api/processes/{process_id}")
        finished = datetime.fromisoformat(proc["finished_at"].replace("Z", "+00:00")).timestamp()
        return {
            # gate → the server recorded the exit (the producer's run, bash + python start-up
            # included), then the exit → the end of the measurement (the log's tail, closing)
            "gate_to_exit_s": finished - wall0,
            "exit_to_end_s": elapsed - (finished - wall0),
            "lines": lines,
            "seconds": elapsed,
            "lines_per_s": lines / elapsed,
            "line_count": proc["line_count"],
            "status": proc["status"],
            "client_events": client_received,
            "write_bytes": io1["write_bytes"] - io0["write_bytes"],
            "wchar": io1["wchar"] - io0["wchar"],
            "db_growth": db1 - db0,
            "server_cpu_s": cpu,
            "attempt_id": attempt["id"],
        }

    # -- c ----------------------------------------------------------------------------------

    def latency(self, clients: int, seconds: float, rate: float) -> dict[str, Any]:
        count = int(seconds * rate)
        attempt, process_id = self.attempt(gated(f"{PY3} paced.py {count} {rate}"))
        gate = worktree(attempt) / GATE
        worker = subprocess.Popen(
            [PYTHON, __file__, "--_clients", str(clients), self.server.url, process_id],
            stdout=subprocess.PIPE,
            text=True,
            env={**os.environ, TOKEN_VAR: self.server.token},  # not on its command line
        )
        assert worker.stdout is not None
        ready = worker.stdout.readline().strip()
        if ready != "READY":
            raise RuntimeError(f"client worker did not get ready: {ready!r}")
        cpu0 = self.server.cpu_seconds()
        open_gate(gate)
        out, _ = worker.communicate(timeout=seconds * 20 + 120)
        cpu = self.server.cpu_seconds() - cpu0
        result: dict[str, Any] = json.loads(out)
        result["server_cpu_s"] = cpu
        result["expected_lines"] = count
        self.wait_attempt_done(attempt["id"])
        self.server.delete_attempt(attempt["id"])
        return result

    # -- d ----------------------------------------------------------------------------------

    def exit_event(self, sleep: float) -> float:
        attempt, process_id = self.attempt(f"{PY3} exiter.py {EXIT_STAMP} {sleep}")
        stamp = worktree(attempt) / EXIT_STAMP
        event = self.events.wait_for(
            lambda e: (
                e.event == "process.updated"
                and e.json()["data"]["id"] == process_id
                and e.json()["data"]["status"] in ("succeeded", "failed", "stopped", "lost")
            ),
            timeout=60,
        )
        exited = float(stamp.read_text())
        data = event.json()["data"]
        finished = datetime.fromisoformat(data["finished_at"].replace("Z", "+00:00")).timestamp()
        self.exit_split.append(
            ((finished - exited) * 1000, (event.received_wall - finished) * 1000)
        )
        self.wait_attempt_done(attempt["id"])
        self.server.delete_attempt(attempt["id"])
        return (event.received_wall - exited) * 1000


def raw_throughput(root: Path, lines: int) -> dict[str, Any]:
    out = root / "cat-out.txt"
    command = f"{PY3} {root / 'flood.py'} {lines} | cat > {out}"
    t0 = time.perf_counter()
    subprocess.run(["bash", "-c", command], check=True)
    elapsed = time.perf_counter() - t0
    size = out.stat().st_size
    out.unlink()
    return {"seconds": elapsed, "lines_per_s": lines / elapsed, "bytes": size}


def raw_exit(root: Path, sleep: float) -> float:
    stamp = root / "raw-exit.txt"
    proc = subprocess.Popen(
        ["bash", "-c", f"{PY3} {root / 'exiter.py'} {stamp} {sleep}"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        start_new_session=True,
    )
    done: list[float] = []

    def waiter() -> None:
        proc.wait()
        done.append(time.time())

    thread = threading.Thread(target=waiter)
    thread.start()
    thread.join()
    latency = done[0] - float(stamp.read_text())
    stamp.unlink()
    return latency * 1000


# --- the SSE client worker (a separate process) --------------------------------------------------


class _LogClient(asyncio.Protocol):
    def __init__(self, request: bytes) -> None:
        self.request = request
        self.parser = SSEParser(frozenset([b"log", b"end", b"sync"]))
        self.latencies: list[float] = []
        self.printed: list[float] = []
        self.lines = 0
        self.syncs = 0
        self.ready = asyncio.get_running_loop().create_future()
        self.ended = asyncio.get_running_loop().create_future()

    def connection_made(self, transport: Any) -> None:
        transport.write(self.request)

    def data_received(self, data: bytes) -> None:
        wall = time.time()
        for event in self.parser.feed(data, 0.0, wall):
            if event.event == "log":
                self.lines += 1
                if not self.ready.done():
                    self.ready.set_result(None)
                raw = event.data
                i = raw.find(b'"text":"')
                if i >= 0:
                    j = raw.find(b'"', i + 8)
                    try:
                        printed = float(raw[i + 8 : j])
                    except ValueError:
                        continue
                    self.latencies.append(wall - printed)
                    self.printed.append(printed)
            elif event.event == "end":
                if not self.ended.done():
                    self.ended.set_result(None)
            else:
                self.syncs += 1

    def connection_lost(self, exc: Exception | None) -> None:
        if not self.ended.done():
            self.ended.set_result(None)


async def _clients_main(count: int, url: str, process_id: str) -> None:
    host, port = url.removeprefix("http://").split(":")
    path = f"/api/processes/{process_id}/logs/stream"
    token = os.environ.get(TOKEN_VAR, "")
    request = (
        f"GET {path} HTTP/1.1\r\nHost: {host}:{port}\r\nAccept: text/event-stream\r\n"
        f"Authorization: Bearer {token}\r\n\r\n"
    ).encode()
    loop = asyncio.get_running_loop()
    clients: list[_LogClient] = []
    for _ in range(count):
        _, proto = await loop.create_connection(lambda: _LogClient(request), host, int(port))
        clients.append(proto)
    await asyncio.wait_for(asyncio.gather(*(c.ready for c in clients)), 60)
    print("READY", flush=True)
    t0 = time.process_time()
    await asyncio.wait_for(asyncio.gather(*(c.ended for c in clients)), 600)
    cpu = time.process_time() - t0
    all_ms = [x * 1000 for c in clients for x in c.latencies]
    per_client_p99 = [pct([x * 1000 for x in c.latencies], 99) for c in clients]
    # p50 of the lines printed in each half second: does a backlog build up, or stay flat?
    first = min((c.printed[0] for c in clients if c.printed), default=0.0)
    buckets: dict[int, list[float]] = {}
    for c in clients:
        for printed, lat in zip(c.printed, c.latencies, strict=True):
            buckets.setdefault(int((printed - first) * 2), []).append(lat * 1000)
    timeline = [round(pct(buckets[k], 50), 2) for k in sorted(buckets)]
    print(
        json.dumps(
            {
                "clients": count,
                "samples": len(all_ms),
                "p50_ms": pct(all_ms, 50),
                "p95_ms": pct(all_ms, 95),
                "p99_ms": pct(all_ms, 99),
                "max_ms": max(all_ms) if all_ms else None,
                "min_lines": min(c.lines for c in clients),
                "max_lines": max(c.lines for c in clients),
                "syncs": sum(c.syncs for c in clients),
                "worst_client_p99_ms": max(per_client_p99),
                "p50_ms_per_half_second": timeline,
                "client_cpu_s": cpu,
                "client_maxrss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
            }
        ),
        flush=True,
    )


def run_clients(argv: list[str]) -> None:
    """The load generator's own event loop (client side only; the server is `paddock serve`):
    uvloop when it is importable, for cheaper clients, else the standard asyncio loop."""
    count, url, process_id = int(argv[0]), argv[1], argv[2]
    try:
        import uvloop
    except ImportError:
        asyncio.run(_clients_main(count, url, process_id))
    else:
        uvloop.run(_clients_main(count, url, process_id))


# --- main ----------------------------------------------------------------------------------------


def main() -> None:  # noqa: PLR0915 (one script, read top to bottom)
    if len(sys.argv) > 1 and sys.argv[1] == "--_clients":
        run_clients(sys.argv[2:])
        return
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    mode = parser.add_mutually_exclusive_group()
    mode.add_argument("--quick", action="store_true", help="300k lines, 3 s latency, 15 exits")
    mode.add_argument("--full", action="store_true", help="1M lines x2, 10 s latency, 60 exits")
    parser.add_argument("--only", default="a,b,c,d", help="which parts, e.g. a,b or c")
    parser.add_argument("--clients", type=int, default=100, help="the many-clients case of c")
    args = parser.parse_args()
    parts = set(args.only.split(","))
    if args.quick:
        lines, reps, seconds, exits = 300_000, 1, 3.0, 15
    elif args.full:
        lines, reps, seconds, exits = 1_000_000, 2, 10.0, 60
    else:
        lines, reps, seconds, exits = 1_000_000, 1, 5.0, 30
    rate = 1000.0

    rows: list[Row] = []
    notes: list[str] = []
    details: dict[str, Any] = {
        "lines": lines,
        "reps": reps,
        "latency_seconds": seconds,
        "rate": rate,
        "exit_runs": exits,
    }
    with tempfile.TemporaryDirectory(prefix="paddock-bench-logs-") as tmp:
        root = Path(tmp)
        server = Server(root / "data").start()
        bench = Bench(server, root)
        try:
            if parts & {"a", "b"}:
                printed = flood_bytes(lines)
                details["printed_bytes"] = printed
                raw = []
                a1 = []
                a2 = []
                for _rep in range(reps):
                    step(f"a: baseline, {lines} lines into cat (best of 3)")
                    tries = [raw_throughput(root, lines) for _ in range(3)]
                    raw.append(min(tries, key=lambda r: r["seconds"]))
                    step(f"a1: {lines} lines through paddock, no log reader")
                    a1.append(bench.throughput(lines, with_client=False))
                    step(
                        f"    {a1[-1]['lines_per_s']:,.0f} lines/s, {a1[-1]['seconds']:.2f} s "
                        f"(gate → exit {a1[-1]['gate_to_exit_s']:.2f} s)"
                    )
                    step(f"a2: {lines} lines through paddock, one live SSE client")
                    a2.append(bench.throughput(lines, with_client=True))
                    step(
                        f"    {a2[-1]['lines_per_s']:,.0f} lines/s, {a2[-1]['seconds']:.2f} s "
                        f"(gate → exit {a2[-1]['gate_to_exit_s']:.2f} s)"
                    )
                details.update(
                    throughput_raw=raw, throughput_no_client=a1, throughput_one_client=a2
                )
                cat = median([r["lines_per_s"] for r in raw])
                for label, runs in (("no log reader", a1), ("1 live SSE client", a2)):
                    lps = median([r["lines_per_s"] for r in runs])
                    ok = lps >= 200_000 and lps >= 0.5 * cat
                    rows.append(
                        Row(
                            f"a. ingest lines/s, {label}",
                            lps,
                            cat,
                            f"{lps / cat:.2f}x",
                            "≥ 200k/s and ≥ 0.5x cat",
                            ok,
                            "/s",
                        )
                    )
                    bad = [r for r in runs if r["line_count"] < lines or r["status"] != "succeeded"]
                    if bad:
                        notes.append(f"{label}: line_count/status wrong: {bad[0]}")
                for r in a2:
                    if r["client_events"] is not None and r["client_events"] < lines:
                        notes.append(
                            f"1 SSE client received only {r['client_events']} log events of {lines}"
                        )
                cpu = median([r["server_cpu_s"] for r in a1])
                notes.append(
                    f"a1 server CPU {cpu:.2f} s for {lines} lines "
                    f"({cpu / lines * 1e6:.2f} µs/line); a2 server CPU "
                    f"{median([r['server_cpu_s'] for r in a2]):.2f} s"
                )
                if "b" in parts:
                    amp = median([r["write_bytes"] / printed for r in a1])
                    rows.append(
                        Row(
                            "b. disk write amplification (write_bytes/printed)",
                            amp,
                            1.0,
                            f"{amp:.2f}x",
                            "≤ 3",
                            amp <= 3,
                            "x",
                        )
                    )
                    growth = median([r["db_growth"] for r in a1])
                    rows.append(
                        Row(
                            "b. database + WAL growth per printed byte",
                            growth / printed,
                            "-",
                            f"{growth / 1e6:.1f} MB for {printed / 1e6:.1f} MB",
                            "-",
                            None,
                            "x",
                        )
                    )
                    notes.append(
                        "b: write_bytes counts pages the server dirtied (SQLite db, WAL, its "
                        "log file); wchar (bytes passed to write()) was "
                        f"{median([r['wchar'] for r in a1]) / printed:.2f}x the printed bytes"
                    )
            if "c" in parts:
                for clients, target_pct, target in ((1, 95, 5.0), (args.clients, 99, 50.0)):
                    step(f"c: latency print → SSE, {clients} client(s), {seconds:.0f} s")
                    res = bench.latency(clients, seconds, rate)
                    details[f"latency_{clients}_clients"] = res
                    value = res[f"p{target_pct}_ms"]
                    met = value <= target if target_pct == 95 else value < target
                    cmp = "≤" if target_pct == 95 else "<"
                    rows.append(
                        Row(
                            f"c. print → SSE, {clients} client(s), p50",
                            res["p50_ms"],
                            "-",
                            "-",
                            "-",
                            None,
                            "ms",
                        )
                    )
                    rows.append(
                        Row(
                            f"c. print → SSE, {clients} client(s), p95",
                            res["p95_ms"],
                            "-",
                            "-",
                            "≤ 5 ms" if clients == 1 else "-",
                            met if target_pct == 95 else None,
                            "ms",
                        )
                    )
                    rows.append(
                        Row(
                            f"c. print → SSE, {clients} client(s), p99",
                            res["p99_ms"],
                            "-",
                            "-",
                            f"{cmp} {target:g} ms" if target_pct == 99 else "-",
                            met if target_pct == 99 else None,
                            "ms",
                        )
                    )
                    lost = res["expected_lines"] * clients - res["samples"]
                    notes.append(
                        f"c, {clients} client(s): p50 per half second of printing (ms): "
                        f"{res['p50_ms_per_half_second']}"
                    )
                    notes.append(
                        f"c, {clients} client(s): {res['samples']} samples "
                        f"({lost} missing), max {res['max_ms']:.1f} ms, syncs {res['syncs']}, "
                        f"server CPU {res['server_cpu_s']:.2f} s, client-process CPU "
                        f"{res['client_cpu_s']:.2f} s over {seconds:.0f} s (2 cores shared by "
                        "server, clients and producer)"
                    )
            if "d" in parts:
                step(f"d: exit → status event, {exits} runs (each 0.3 s + start/delete)")
                lat = [bench.exit_event(0.3) for _ in range(exits)]
                base = [raw_exit(root, 0.3) for _ in range(exits)]
                details["exit_event_ms"] = lat
                details["exit_wait_baseline_ms"] = base
                details["exit_split_ms"] = bench.exit_split
                notes.append(
                    "d: median exit → finished_at stamped by the server "
                    f"{median([a for a, _ in bench.exit_split]):.1f} ms, finished_at → event "
                    f"received {median([b for _, b in bench.exit_split]):.1f} ms"
                )
                m, b = median(lat), median(base)
                rows.append(
                    Row(
                        "d. exit → process.updated event, median",
                        m,
                        b,
                        f"{m - b:+.1f} ms",
                        "≤ 10 ms",
                        m <= 10,
                        "ms",
                    )
                )
                rows.append(
                    Row(
                        "d. exit → process.updated event, p95",
                        pct(lat, 95),
                        pct(base, 95),
                        f"{pct(lat, 95) - pct(base, 95):+.1f} ms",
                        "-",
                        None,
                        "ms",
                    )
                )
        finally:
            bench.close()
            server.stop()
            problems = server.problems(keep_as="log_ingest")
        note_server_problems("log_ingest", problems, notes, details)
    report("log_ingest", rows, details, notes)


if __name__ == "__main__":
    main()
