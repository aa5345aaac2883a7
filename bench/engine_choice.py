"""Which engine carries a team's Paddock between machines: NATS JetStream, Redis Streams or
PostgreSQL (LISTEN/NOTIFY and tables), measured side by side on this machine.

Each engine is a server of the bench's own (a throwaway data dir, a free port), durable the way
Paddock would run it (JetStream on file storage; Redis with its append-only file, fsync every
second; PostgreSQL as the tests start it, synchronous_commit off). Per engine:

- **event latency**: a small event (~300 bytes of JSON) published every 5 ms, durably, and read
  by a second connection that follows the stream: publish → received, p50 and p99;
- **log lines/s**: batches of 50 lines (80 bytes each), one message per batch, 32 in flight,
  for 5 s, while a second connection reads them all: lines stored and read per second;
- **idle RSS** of the engine's server.

The figures back docs/decisions/022-the-engine-between-machines.md.

    .venv/bin/python bench/engine_choice.py [--seconds 5] [--events 2000]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench._engines import IN_FLIGHT, Engine, Nats, Postgres, Redis
from bench._harness import Row, free_port, pct, report, rss_mb, step

BATCH = 50
LINE = b"x" * 79 + b"\n"
EVENT = json.dumps({"type": "process.state", "id": "p" * 26, "state": "running", "pad": "y" * 200})


@dataclass
class Figures:
    engine: str
    p50_ms: float
    p99_ms: float
    lines_per_s: float
    rss_mb: float


# --- the engines' servers ----------------------------------------------------------------------


@contextlib.contextmanager
def started(argv: list[str], port: int, log: Path) -> Any:
    proc = subprocess.Popen(argv, stdout=log.open("wb"), stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            with contextlib.suppress(OSError):
                socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                break
            time.sleep(0.05)
        else:
            raise RuntimeError(f"{argv[0]} did not listen: {log.read_text()[-2000:]}")
        yield proc
    finally:
        proc.terminate()
        proc.wait(10)


# --- the measurements ---------------------------------------------------------------------------


async def stopped(task: asyncio.Task[None]) -> None:
    """The follower ended before its connection closes (else it fails on the closed one)."""
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task


async def event_latency(engine: Engine, count: int) -> list[float]:
    """Publish → received, in ms, for `count` events published every 5 ms."""
    sent: dict[int, float] = {}
    latencies: list[float] = []
    done = asyncio.Event()

    async def follow() -> None:
        async for body in engine.follow_events():
            seq = json.loads(body)["seq"]
            latencies.append((time.perf_counter() - sent[seq]) * 1000)
            if len(latencies) == count:
                done.set()
                return

    follower = asyncio.create_task(follow())
    await asyncio.sleep(0.5)  # the follower is listening
    for seq in range(count):
        body = json.dumps({"seq": seq, "event": EVENT}).encode()
        sent[seq] = time.perf_counter()
        await engine.publish_event(body)
        await asyncio.sleep(0.005)
    await asyncio.wait_for(done.wait(), 60)
    await stopped(follower)
    return latencies


async def log_throughput(engine: Engine, seconds: float) -> float:
    """Lines stored and read per second: 32 batches in flight for `seconds`."""
    body = LINE * BATCH
    stored = 0
    read = 0
    stop = time.monotonic() + seconds
    written = False
    caught_up = asyncio.Event()

    async def write() -> None:
        nonlocal stored
        while time.monotonic() < stop:
            await engine.append_batch(body)
            stored += BATCH

    async def follow() -> None:
        nonlocal read
        async for batch in engine.follow_log():
            read += batch.count(b"\n")
            if written and read >= stored:
                caught_up.set()

    follower = asyncio.create_task(follow())
    await asyncio.sleep(0.5)
    began = time.monotonic()
    await asyncio.gather(*(write() for _ in range(IN_FLIGHT)))
    written = True
    if read >= stored:
        caught_up.set()
    await asyncio.wait_for(caught_up.wait(), 60)
    elapsed = time.monotonic() - began
    await stopped(follower)
    return min(stored, read) / elapsed


async def measure(engine: Engine, pid: int, events: int, seconds: float) -> Figures:
    await engine.open()
    try:
        rss = rss_mb(pid)
        latencies = await event_latency(engine, events)
        lines = await log_throughput(engine, seconds)
    finally:
        await engine.close()
    return Figures(engine.name, pct(latencies, 50), pct(latencies, 99), lines, rss)


def run_engine(
    make: Callable[[Path, int], tuple[list[str], Callable[[int], Engine]]],
    events: int,
    seconds: float,
) -> Figures:
    with tempfile.TemporaryDirectory(prefix="paddock-engine-") as tmp:
        port = free_port()
        argv, engine_of = make(Path(tmp), port)
        with started(argv, port, Path(tmp) / "server.log") as proc:
            time.sleep(0.5)
            return asyncio.run(measure(engine_of(port), proc.pid, events, seconds))


def nats_server(tmp: Path, port: int) -> tuple[list[str], Callable[[int], Engine]]:
    argv = ["nats-server", "-js", "-a", "127.0.0.1", "-p", str(port), "-sd", str(tmp / "js")]
    return argv, Nats


def redis_server(tmp: Path, port: int) -> tuple[list[str], Callable[[int], Engine]]:
    argv = [
        "redis-server",
        "--port",
        str(port),
        "--bind",
        "127.0.0.1",
        "--dir",
        str(tmp),
        "--appendonly",
        "yes",
        "--appendfsync",
        "everysec",
        "--save",
        "",
    ]
    return argv, Redis


def postgres(events: int, seconds: float) -> Figures:
    from tests.pg import PgServer  # the suite's throwaway server, durable settings and all

    server = PgServer.start()
    try:
        pid = int((server.data_dir / "postmaster.pid").read_text().split()[0])
        return asyncio.run(measure(Postgres(server.url), pid, events, seconds))
    finally:
        server.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--events", type=int, default=2000)
    args = parser.parse_args()
    missing = [b for b in ("nats-server", "redis-server") if shutil.which(b) is None]
    if missing:
        sys.exit(f"missing: {', '.join(missing)} (./scripts/install --dev installs them)")
    results: list[Figures] = []
    for name, make in (("NATS", nats_server), ("Redis", redis_server)):
        step(f"{name}: {args.events} events, then {args.seconds:.0f} s of log batches")
        results.append(run_engine(make, args.events, args.seconds))
    step(f"PostgreSQL: {args.events} events, then {args.seconds:.0f} s of log batches")
    results.append(postgres(args.events, args.seconds))

    base = results[-1]  # PostgreSQL: the control plane's database, there in any case
    rows: list[Row] = []
    for f in results:
        rows += [
            Row(f"{f.engine}: event p50", f.p50_ms, base.p50_ms, "-", "-", None, "ms"),
            Row(f"{f.engine}: event p99", f.p99_ms, base.p99_ms, "-", "-", None, "ms"),
            Row(
                f"{f.engine}: log lines/s stored and read",
                f.lines_per_s,
                base.lines_per_s,
                f"{f.lines_per_s / base.lines_per_s:.2f}x",
                "-",
                None,
            ),
            Row(f"{f.engine}: server's idle RSS", f.rss_mb, base.rss_mb, "-", "-", None, "MB"),
        ]
    notes = [
        f"baseline: PostgreSQL; {args.events} events every 5 ms; {BATCH}-line batches, "
        f"{IN_FLIGHT} in flight, {args.seconds:.0f} s",
        "PostgreSQL's RSS is its postmaster only (each connection is a process of its own)",
    ]
    report("engine_choice", rows, {"figures": [f.__dict__ for f in results]}, notes)


if __name__ == "__main__":
    main()
