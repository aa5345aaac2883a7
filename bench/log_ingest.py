"""Log ingest: throughput, disk amplification, print → SSE latency, exit → status event, bursts.

a. Throughput: a script agent prints N lines (default 1M) flat out with a fast producer
   (`seq -f`, C speed; the same text a Python loop would print), so the pipe, not the
   producer, is what the baseline measures. Paddock's time runs from releasing the producer
   (it waits on a gate file, so every run starts the same way) to the `process.updated` event
   that carries the log's final line count (the log is closed and stored):
   a1 with no log reader, a2 with one live SSE client on /api/processes/{id}/logs/stream
   (?batch=true, a `lines` event per batch, as the UI and the CLI read it; `--per-line` for a
   `log` event per line), which also gives the time until that client received `end` (every
   line). Baseline:
   `bash -c "PRODUCER | cat > FILE"`. A warm-up round, then ≥ 7 rounds, each running cat, a1
   and a2 in a rotating order; medians and p90s. Targets: a1 ≥ 200k lines/s and ≥ 0.5x cat;
   a2 ÷ a1 ≥ 0.8 (a reader never slows the producer), for the ingest and for the reader.
b. Disk amplification during a1: write_bytes of the server process (/proc/<pid>/io) ÷ bytes
   printed. Target ≤ 3. Also the database (+ WAL) growth.
c. Latency print → SSE client: a producer prints its own time.time() 1,000 lines/s for a few
   seconds; clients (a separate process, asyncio + raw sockets, so the timing side does not
   share the GIL with the clients) compute receive time - printed time per line.
   1 client: target p95 ≤ 5 ms. 100 clients: target p99 < 50 ms.
d. Process exit → status event: the agent sleeps 0.3 s, writes time.time() to a file and
   _exits; the time from that to the `process.updated` event with a final status on
   /api/events. Baseline: the same command under subprocess.Popen, a thread blocked in wait().
   A warm-up each, then runs alternating with the baseline. Target ≤ 10 ms (median).
e. Bursts: the agent prints 2,000 lines in one write (each line starts with the time.time() of
   the write), a few times, then _exits right after its last burst. Burst → the SSE client
   received its last line (a client worker as in c), target ≤ 5 ms (median); exit → the
   `process.updated` event, target ≤ 10 ms (median). Baseline: the same producer under
   subprocess.Popen, its pipe read by a thread and a thread blocked in wait(). A warm-up
   each, then runs alternating with the baseline.

    .venv/bin/python bench/log_ingest.py [--quick | --full] [--only a,b,c,d,e] [--per-line]

The clients of a, c and e read the batched form (`lines` events) unless --per-line is given.
"""

from __future__ import annotations

import argparse
import json
import os
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
    SSEThread,
    fmt,
    make_repo,
    median,
    note_server_problems,
    pct,
    report,
    small_files,
    step,
)
from _log_clients import TOKEN_VAR, CountingSSE, log_stream_path, run_clients

PY3 = shutil.which("python3") or PYTHON

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

BURSTS = (
    "import os, sys, time\n"
    "stamp, bursts, size, pause = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), "
    "float(sys.argv[4])\n"
    "for k in range(bursts):\n"
    "    time.sleep(pause)\n"
    "    t = time.time()\n"
    "    data = ''.join(f'{t:.6f} burst {k} line {j}\\n' for j in range(size)).encode()\n"
    "    view = memoryview(data)\n"
    "    while view:\n"
    "        view = view[os.write(1, view):]\n"
    "f = open(stamp, 'w')\n"
    "f.write(repr(time.time()))\n"
    "f.close()\n"
    "os._exit(0)\n"
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


def flood_command(n: int) -> str:
    """N lines of a flood's text at C speed: the baseline measures the pipe, not a Python loop."""
    return f"seq -f 'line %.0f some log text here' 0 {n - 1}"


# The producers are committed into the bench's repository and the gate and exit files live in
# the attempt's worktree: a sandbox sees its worktree, never the host's /tmp (where the bench's
# own folder is).
SCRIPTS = {"paced.py": PACED, "exiter.py": EXITER, "bursts.py": BURSTS}
GATE = ".bench-gate"
EXIT_STAMP = ".bench-exit.txt"
# The log stream's query: the batched form (`lines` events) unless --per-line; a parameter of
# the client worker too.
BATCHED = "?batch=true"


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
    def __init__(self, server: Server, root: Path, query: str) -> None:
        self.server = server
        self.root = root
        self.query = query  # of the log stream: BATCHED or ""
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
        attempt, process_id = self.attempt(gated(flood_command(lines)))
        gate = worktree(attempt) / GATE
        client = None
        if with_client:
            path = log_stream_path(process_id, self.query)
            client = CountingSSE(self.server, path, batched=self.query == BATCHED)
            client.wait_first(30)  # subscribed: it has the "$ command" line
        self.events.drain()
        io0, db0, cpu0 = self.server.io(), self.db_bytes(), self.server.cpu_seconds()
        t0, wall0 = time.perf_counter(), time.time()
        open_gate(gate)
        # The log is closed and its line count stored: the event that carries the count.
        counted = self.events.wait_for(
            lambda e: (
                e.event == "process.updated"
                and e.json()["data"]["id"] == process_id
                and e.json()["data"]["line_count"] >= lines
            ),
            timeout=600,
        )
        ingest = counted.received - t0
        cpu = self.server.cpu_seconds() - cpu0
        io1, db1 = self.server.io(), self.db_bytes()
        reader = None
        client_lines = client_events = None
        if client is not None:
            reader = client.wait_end(600) - t0
            client_lines, client_events = client.lines, client.events
            client.close()
        self.wait_attempt_done(attempt["id"])
        proc = self.server.api("GET", f"/api/processes/{process_id}")
        finished = datetime.fromisoformat(proc["finished_at"].replace("Z", "+00:00")).timestamp()
        self.server.delete_attempt(attempt["id"])
        return {
            # gate → the server recorded the exit (the producer's run, bash start-up
            # included), then the exit → the log closed and counted
            "gate_to_exit_s": finished - wall0,
            "exit_to_counted_s": ingest - (finished - wall0),
            "lines": lines,
            "seconds": ingest,
            "lines_per_s": lines / ingest,
            "reader_seconds": reader,
            "reader_lines_per_s": lines / reader if reader else None,
            "line_count": proc["line_count"],
            "status": proc["status"],
            "client_lines": client_lines,
            "client_events": client_events,
            "write_bytes": io1["write_bytes"] - io0["write_bytes"],
            "wchar": io1["wchar"] - io0["wchar"],
            "db_growth": db1 - db0,
            "server_cpu_s": cpu,
        }

    # -- c ----------------------------------------------------------------------------------

    def latency(self, clients: int, seconds: float, rate: float) -> dict[str, Any]:
        count = int(seconds * rate)
        attempt, process_id = self.attempt(gated(f"{PY3} paced.py {count} {rate}"))
        gate = worktree(attempt) / GATE
        worker = subprocess.Popen(
            [PYTHON, __file__, "--_clients", str(clients), self.server.url, process_id, self.query],
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

    # -- e ----------------------------------------------------------------------------------

    def bursts(self, bursts: int, size: int, pause: float) -> dict[str, Any]:
        """One agent printing `bursts` bursts of `size` lines and exiting right after the last;
        a client worker (as in c) follows its log."""
        command = f"{PY3} bursts.py {EXIT_STAMP} {bursts} {size} {pause}"
        attempt, process_id = self.attempt(gated(command))
        worktree_path = worktree(attempt)
        worker = subprocess.Popen(
            [PYTHON, __file__, "--_clients", "1", self.server.url, process_id, self.query],
            stdout=subprocess.PIPE,
            text=True,
            env={**os.environ, TOKEN_VAR: self.server.token},
        )
        assert worker.stdout is not None
        ready = worker.stdout.readline().strip()
        if ready != "READY":
            raise RuntimeError(f"client worker did not get ready: {ready!r}")
        self.events.drain()
        open_gate(worktree_path / GATE)
        event = self.events.wait_for(
            lambda e: (
                e.event == "process.updated"
                and e.json()["data"]["id"] == process_id
                and e.json()["data"]["status"] in ("succeeded", "failed", "stopped", "lost")
            ),
            timeout=60,
        )
        out, _ = worker.communicate(timeout=60)
        client: dict[str, Any] = json.loads(out)
        exited = float((worktree_path / EXIT_STAMP).read_text())
        self.wait_attempt_done(attempt["id"])
        self.server.delete_attempt(attempt["id"])
        end_wall = client["end_received_wall"]
        return {
            "burst_ms": client["last_line_ms_per_print"],
            "lines": client["max_lines"],
            "exit_event_ms": (event.received_wall - exited) * 1000,
            "exit_to_end_ms": (end_wall - exited) * 1000 if end_wall else None,
        }


def raw_bursts(root: Path, bursts: int, size: int, pause: float) -> dict[str, Any]:
    """The same producer under Popen: a thread reads its pipe (the time its bursts' last lines
    are read), another is blocked in wait()."""
    stamp = root / "raw-burst-exit.txt"
    proc = subprocess.Popen(
        [PY3, str(root / "bursts.py"), str(stamp), str(bursts), str(size), str(pause)],
        stdout=subprocess.PIPE,
        start_new_session=True,
    )
    assert proc.stdout is not None
    fd = proc.stdout.fileno()
    last: dict[bytes, float] = {}
    done: list[float] = []

    def reader() -> None:
        partial = b""
        while chunk := os.read(fd, 1 << 16):
            now = time.time()
            lines = (partial + chunk).split(b"\n")
            partial = lines.pop()
            for line in lines[-1:]:  # the newest complete line of this read
                last[line.split(b" ", 1)[0]] = now

    def waiter() -> None:
        proc.wait()
        done.append(time.time())

    threads = [threading.Thread(target=reader), threading.Thread(target=waiter)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    proc.stdout.close()
    exited = float(stamp.read_text())
    stamp.unlink()
    return {
        "burst_ms": [(last[k] - float(k)) * 1000 for k in sorted(last)],
        "exit_event_ms": (done[0] - exited) * 1000,
    }


def raw_throughput(root: Path, lines: int) -> dict[str, Any]:
    out = root / "cat-out.txt"
    command = f"{flood_command(lines)} | cat > {out}"
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


# --- main ----------------------------------------------------------------------------------------


Report = tuple[list[Row], list[str], dict[str, Any]]


def spread(values: list[float], unit: str) -> str:
    """Median and p90 of samples, as one cell."""
    return f"{fmt(median(values), unit)} (p90 {fmt(pct(values, 90), unit)})"


def rate_spread(lines: int, seconds: list[float]) -> str:
    """Lines/s of the median run and of the p90 (slow) run."""
    return f"{fmt(lines / median(seconds), '/s')} (p90 {fmt(lines / pct(seconds, 90), '/s')})"


def part_a(bench: Bench, root: Path, lines: int, rounds: int, parts: set[str], out: Report) -> None:
    rows, notes, details = out
    printed = flood_bytes(lines)
    details["printed_bytes"] = printed
    runs: dict[str, list[dict[str, Any]]] = {"cat": [], "a1": [], "a2": []}
    cases = {
        "cat": lambda: raw_throughput(root, lines),
        "a1": lambda: bench.throughput(lines, with_client=False),
        "a2": lambda: bench.throughput(lines, with_client=True),
    }
    order = list(cases)
    step(f"a: warm-up, then {rounds} rounds of cat / a1 (no reader) / a2 (1 SSE reader)")
    for name in order:
        cases[name]()
    for i in range(rounds):
        rotated = order[i % 3 :] + order[: i % 3]
        for name in rotated:
            runs[name].append(cases[name]())
        a1, a2 = runs["a1"][-1], runs["a2"][-1]
        step(
            f"    round {i + 1}: cat {runs['cat'][-1]['seconds']:.2f} s, a1 {a1['seconds']:.2f} s,"
            f" a2 {a2['seconds']:.2f} s (reader {a2['reader_seconds']:.2f} s)"
        )
    details["throughput_raw"] = runs["cat"]
    details["throughput_no_client"] = runs["a1"]
    details["throughput_one_client"] = runs["a2"]
    cat_s = [r["seconds"] for r in runs["cat"]]
    a1_s = [r["seconds"] for r in runs["a1"]]
    a2_s = [r["seconds"] for r in runs["a2"]]
    reader_s = [r["reader_seconds"] for r in runs["a2"]]
    cat, a1, a2, reader = (lines / median(x) for x in (cat_s, a1_s, a2_s, reader_s))
    rows.append(
        Row(
            f"a1. ingest {lines:,} lines, no log reader",
            rate_spread(lines, a1_s),
            rate_spread(lines, cat_s),
            f"{a1 / cat:.2f}x cat",
            "≥ 200k/s and ≥ 0.5x cat",
            a1 >= 200_000 and a1 >= 0.5 * cat,
        )
    )
    rows.append(
        Row(
            "a2. ingest with 1 live SSE reader ÷ a1",
            rate_spread(lines, a2_s),
            fmt(a1, "/s"),
            f"{a2 / a1:.2f}x",
            "≥ 0.8x",
            a2 >= 0.8 * a1,
        )
    )
    rows.append(
        Row(
            "a2. ... the reader got `end` (every line) ÷ a1",
            rate_spread(lines, reader_s),
            fmt(a1, "/s"),
            f"{reader / a1:.2f}x",
            "≥ 0.8x",
            reader >= 0.8 * a1,
        )
    )
    for label, case in (("no log reader", "a1"), ("1 live SSE reader", "a2")):
        bad = [r for r in runs[case] if r["line_count"] < lines or r["status"] != "succeeded"]
        if bad:
            notes.append(f"{label}: line_count/status wrong: {bad[0]}")
    for r in runs["a2"]:
        if r["client_lines"] is not None and r["client_lines"] < lines:
            notes.append(f"the SSE reader received only {r['client_lines']} lines")
    notes.append(
        f"a: server CPU per run (median): a1 {median([r['server_cpu_s'] for r in runs['a1']]):.2f}"
        f" s, a2 {median([r['server_cpu_s'] for r in runs['a2']]):.2f} s (until the count);"
        f" gate → exit {median([r['gate_to_exit_s'] for r in runs['a1']]):.2f} s (a1),"
        f" {median([r['gate_to_exit_s'] for r in runs['a2']]):.2f} s (a2); producer `seq -f`;"
        f" the reader takes {details['stream_form']},"
        f" {median([r['client_events'] for r in runs['a2']]):,.0f} events per run"
    )
    if "b" in parts:
        amp = median([r["write_bytes"] / printed for r in runs["a1"]])
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
        growth = median([r["db_growth"] for r in runs["a1"]])
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
            f"{median([r['wchar'] for r in runs['a1']]) / printed:.2f}x the printed bytes"
        )


def part_c(bench: Bench, clients_many: int, seconds: float, rate: float, out: Report) -> None:
    rows, notes, details = out
    for clients, target_pct, target in ((1, 95, 5.0), (clients_many, 99, 50.0)):
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


def part_d(bench: Bench, root: Path, exits: int, out: Report) -> None:
    rows, notes, details = out
    step(f"d: exit → status event, a warm-up, then {exits} runs alternating with Popen")
    bench.exit_event(0.3)
    raw_exit(root, 0.3)
    bench.exit_split.clear()
    lat: list[float] = []
    base: list[float] = []
    for _ in range(exits):
        lat.append(bench.exit_event(0.3))
        base.append(raw_exit(root, 0.3))
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
            "d. exit → process.updated event",
            spread(lat, "ms"),
            spread(base, "ms"),
            f"{m - b:+.1f} ms",
            "≤ 10 ms (median)",
            m <= 10,
        )
    )


def part_e(bench: Bench, root: Path, runs: int, out: Report) -> None:
    rows, notes, details = out
    bursts, size, pause = 3, 2000, 0.15
    step(
        f"e: {bursts} bursts of {size} lines then exit; a warm-up, then {runs} runs "
        "alternating with Popen"
    )
    bench.bursts(bursts, size, pause)
    raw_bursts(root, bursts, size, pause)
    got: list[dict[str, Any]] = []
    base: list[dict[str, Any]] = []
    for _ in range(runs):
        got.append(bench.bursts(bursts, size, pause))
        base.append(raw_bursts(root, bursts, size, pause))
    details["bursts"] = got
    details["bursts_baseline"] = base
    burst = [ms for r in got for ms in r["burst_ms"]]
    burst_base = [ms for r in base for ms in r["burst_ms"]]
    exit_ms = [r["exit_event_ms"] for r in got]
    exit_base = [r["exit_event_ms"] for r in base]
    short = [r["lines"] for r in got if r["lines"] < bursts * size]
    if short or len(burst) < bursts * runs:
        notes.append(f"e: some bursts were not seen whole: {short}, {len(burst)} bursts timed")
    rows.append(
        Row(
            f"e. burst of {size:,} lines → SSE client got the last",
            spread(burst, "ms"),
            spread(burst_base, "ms"),
            f"{median(burst) - median(burst_base):+.1f} ms",
            "≤ 5 ms (median)",
            median(burst) <= 5,
        )
    )
    rows.append(
        Row(
            "e. exit right after a burst → process.updated",
            spread(exit_ms, "ms"),
            spread(exit_base, "ms"),
            f"{median(exit_ms) - median(exit_base):+.1f} ms",
            "≤ 10 ms (median)",
            median(exit_ms) <= 10,
        )
    )
    ends = [r["exit_to_end_ms"] for r in got if r["exit_to_end_ms"] is not None]
    notes.append(
        f"e: exit → the log stream's `end` (log closed, every line sent): {spread(ends, 'ms')}"
    )


def main() -> None:
    if len(sys.argv) > 1 and sys.argv[1] == "--_clients":
        run_clients(sys.argv[2:])
        return
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    mode = parser.add_mutually_exclusive_group()
    mode.add_argument(
        "--quick", action="store_true", help="300k lines x7, 3 s latency, 9 exits, 7 burst runs"
    )
    mode.add_argument(
        "--full", action="store_true", help="1M lines x11, 10 s latency, 60 exits, 20 burst runs"
    )
    parser.add_argument("--only", default="a,b,c,d,e", help="which parts, e.g. a,b or c")
    parser.add_argument("--clients", type=int, default=100, help="the many-clients case of c")
    parser.add_argument(
        "--per-line",
        action="store_true",
        help="log readers take a `log` event per line (the default form), not `lines` batches",
    )
    args = parser.parse_args()
    parts = set(args.only.split(","))
    if args.quick:
        lines, rounds, seconds, exits, burst_runs = 300_000, 7, 3.0, 9, 7
    elif args.full:
        lines, rounds, seconds, exits, burst_runs = 1_000_000, 11, 10.0, 60, 20
    else:
        lines, rounds, seconds, exits, burst_runs = 1_000_000, 7, 5.0, 30, 10
    rate = 1000.0

    rows: list[Row] = []
    notes: list[str] = []
    details: dict[str, Any] = {
        "lines": lines,
        "rounds": rounds,
        "latency_seconds": seconds,
        "rate": rate,
        "exit_runs": exits,
        "burst_runs": burst_runs,
        "stream_form": "log (per line)" if args.per_line else "lines (?batch=true)",
    }
    out: Report = (rows, notes, details)
    with tempfile.TemporaryDirectory(prefix="paddock-bench-logs-") as tmp:
        root = Path(tmp)
        server = Server(root / "data").start()
        bench = Bench(server, root, "" if args.per_line else BATCHED)
        try:
            if parts & {"a", "b"}:
                part_a(bench, root, lines, rounds, parts, out)
            if "c" in parts:
                part_c(bench, args.clients, seconds, rate, out)
            if "d" in parts:
                part_d(bench, root, exits, out)
            if "e" in parts:
                part_e(bench, root, burst_runs, out)
        finally:
            bench.close()
            server.stop()
            problems = server.problems(keep_as="log_ingest")
        note_server_problems("log_ingest", problems, notes, details)
    report("log_ingest", rows, details, notes)


if __name__ == "__main__":
    main()
