"""The soak's SSE clients, in a process of their own (bench/soak.py starts it), so a hundred
streams read and checked do not take the bench's cores from the server's measurements.

Every client checks its own stream as it reads it (a few bytes per event: the id, the event's
name and, for a log batch, its `first_seq`), and reconnects now and then with Last-Event-ID, as
a browser's EventSource does after a network hiccup, so a resume is part of what is checked:

- `log` (`/api/processes/{id}/logs/stream?batch=true`): each `lines` event's first_seq is the
  last seq received + 1 (from 1), its id its last_seq; `end` carries the log's line count, which
  must be the last seq received.
- `events` (`/api/events`, unfiltered): ids contiguous (each the previous + 1), except right
  after a `sync` (the client fell behind: counted apart, continuity restarts at its id).
- `board` (`/ui/projects/{id}/board/stream`): `patch` ids strictly increasing (its events are
  filtered, so not contiguous).

Protocol: the spec (JSON) is argv[1]. The worker prints `READY` once every stream answered
200, then reads commands on stdin: `SAMPLE` prints one JSON line of totals per kind; `STOP`
closes every stream and prints the final JSON (totals and every client's record), then exits.
"""

from __future__ import annotations

import asyncio
import json
import resource
import sys
import time
from dataclasses import asdict, dataclass, field
from typing import Any

from _harness import SSEParser

RETRY_S = 1.0  # after a failed (re)connection


@dataclass
class Record:
    """What one client saw, over all its connections."""

    name: str
    kind: str  # log | events | board
    path: str
    events: int = 0  # `lines`, bus events or `patch` (not heartbeats)
    last: int = 0  # the last id received (log: the last seq)
    syncs: int = 0
    gaps: int = 0
    dups: int = 0
    problems: list[str] = field(default_factory=list)  # the first few gaps/dups, described
    connects: int = 0
    failed_connects: int = 0
    end_line_count: int | None = None  # a log stream's `end`
    status: int = 0  # HTTP status of the last connection

    def bad(self, text: str) -> None:
        if len(self.problems) < 10:
            self.problems.append(text)


class _Body(SSEParser):
    """The harness's HTTP/chunked decoding; the SSE blocks are handed back raw."""

    def __init__(self) -> None:
        super().__init__(frozenset())
        self.rest = b""
        self.pending: list[bytes] = []

    def blocks(self, data: bytes) -> list[bytes]:
        self.pending = []
        self.feed(data, 0.0, 0.0)
        return self.pending

    def _events(self, body: bytes, now: float, wall: float) -> list[Any]:
        buf = self.rest + body if self.rest else body
        parts = buf.split(b"\n\n")  # a JSON text never holds a raw newline
        self.rest = parts.pop()
        self.pending = parts
        return []


def _field(block: bytes, name: bytes) -> bytes | None:
    """The value of the block's `name:` line (only the first 3 lines are looked at)."""
    for line in block.split(b"\n", 3)[:3]:
        if line.startswith(name):
            return line[len(name) :].strip()
    return None


class Client(asyncio.Protocol):
    def __init__(self, record: Record, host: str, port: int, token: str, reconnect: float) -> None:
        self.record = record
        self.host, self.port, self.token = host, port, token
        self.reconnect = reconnect  # seconds between reconnections; 0: never
        self.transport: asyncio.Transport | None = None
        self.body = _Body()
        self.connected = asyncio.get_running_loop().create_future()
        self.closed = asyncio.Event()
        self.done = False  # the log ended, or STOP

    # -- connection -------------------------------------------------------------------------

    def request(self) -> bytes:
        resume = f"Last-Event-ID: {self.record.last}\r\n" if self.record.last else ""
        return (
            f"GET {self.record.path} HTTP/1.1\r\nHost: {self.host}:{self.port}\r\n"
            f"Accept: text/event-stream\r\nAuthorization: Bearer {self.token}\r\n{resume}\r\n"
        ).encode()

    def connection_made(self, transport: Any) -> None:
        self.transport = transport
        self.body = _Body()
        self.closed.clear()
        transport.write(self.request())

    def connection_lost(self, exc: Exception | None) -> None:
        self.transport = None
        self.closed.set()

    def data_received(self, data: bytes) -> None:
        blocks = self.body.blocks(data)
        if self.body.status and not self.connected.done():
            self.record.status = self.body.status
            self.connected.set_result(self.body.status)
        for block in blocks:
            if not block.startswith(b":"):
                self.on_block(block)

    # -- checks -----------------------------------------------------------------------------

    def on_block(self, block: bytes) -> None:
        rec = self.record
        event = _field(block, b"event:") or b"message"
        raw_id = _field(block, b"id:")
        eid = int(raw_id) if raw_id else None
        if event == b"end":
            data = json.loads(block[block.index(b"data:") + 5 :])
            rec.end_line_count = int(data["line_count"])
            if rec.end_line_count != rec.last:
                rec.bad(f"end says {rec.end_line_count} lines, received up to {rec.last}")
            self.done = True
            return
        rec.events += 1
        if event == b"sync":
            rec.syncs += 1
            rec.last = eid or rec.last
            return
        if eid is None:
            rec.bad(f"an event without id: {block[:80]!r}")
            return
        if rec.kind == "log":
            self.check_lines(block, eid)
        elif rec.kind == "events":
            self.check_next(eid, eid)
        elif eid <= rec.last:  # board: filtered, only increasing
            rec.dups += 1
            rec.bad(f"patch id {eid} after {rec.last}")
        else:
            rec.last = eid

    def check_lines(self, block: bytes, last_seq: int) -> None:
        at = block.find(b'"first_seq":')
        if at < 0:  # a `log` event (per line): its id is its seq
            self.check_next(last_seq, last_seq)
            return
        end = block.find(b",", at)
        self.check_next(int(block[at + 12 : end]), last_seq)

    def check_next(self, first: int, last: int) -> None:
        """The event carries ids first..last: first must follow the last one received (any
        first id is fine for a bus stream's first connection)."""
        rec = self.record
        expected = rec.last + 1
        if rec.kind == "events" and rec.last == 0:
            expected = first
        if first > expected:
            rec.gaps += 1
            rec.bad(f"gap: {expected}..{first - 1} missing")
        elif first < expected:
            rec.dups += 1
            rec.bad(f"duplicate: {first}..{min(last, expected - 1)} again")
        rec.last = max(rec.last, last)

    # -- life -------------------------------------------------------------------------------

    async def run(self, offset: float) -> None:
        loop = asyncio.get_running_loop()
        first = True
        while not self.done:
            try:
                await loop.create_connection(lambda: self, self.host, self.port)
                self.record.connects += 1
            except OSError as exc:
                self.record.failed_connects += 1
                self.record.bad(f"connect: {exc}")
                await asyncio.sleep(RETRY_S)
                continue
            wait = self.reconnect + (offset if first else 0.0)
            first = False
            try:
                await asyncio.wait_for(self.closed.wait(), wait if self.reconnect else None)
            except TimeoutError:
                if self.transport is not None:
                    self.transport.close()
                await self.closed.wait()
            if not self.done and self.reconnect == 0 and self.record.kind != "log":
                self.record.bad("the stream closed")
                await asyncio.sleep(RETRY_S)

    def stop(self) -> None:
        self.done = True
        if self.transport is not None:
            self.transport.close()


def totals(clients: list[Client]) -> dict[str, Any]:
    out: dict[str, Any] = {"cpu_s": time.process_time()}
    for kind in ("log", "events", "board"):
        recs = [c.record for c in clients if c.record.kind == kind]
        out[kind] = {
            "clients": len(recs),
            "open": sum(1 for c in clients if c.record.kind == kind and c.transport is not None),
            "events": sum(r.events for r in recs),
            "last_sum": sum(r.last for r in recs),
            "syncs": sum(r.syncs for r in recs),
            "gaps": sum(r.gaps for r in recs),
            "dups": sum(r.dups for r in recs),
            "connects": sum(r.connects for r in recs),
            "ended": sum(1 for r in recs if r.end_line_count is not None),
        }
    return out


async def main(spec: dict[str, Any]) -> None:
    host, port = spec["url"].removeprefix("http://").split(":")
    clients = [
        Client(
            Record(c["name"], c["kind"], c["path"]), host, int(port), spec["token"], c["reconnect"]
        )
        for c in spec["clients"]
    ]
    tasks = [
        asyncio.create_task(c.run(spec["clients"][i].get("offset", 0.0)))
        for i, c in enumerate(clients)
    ]
    statuses = await asyncio.wait_for(asyncio.gather(*(c.connected for c in clients)), 60)
    if any(s != 200 for s in statuses):
        print(f"FAILED {statuses}", flush=True)
    print("READY", flush=True)
    loop = asyncio.get_running_loop()
    reader = asyncio.StreamReader()
    await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader), sys.stdin)
    while True:
        command = (await reader.readline()).decode().strip()
        if command == "SAMPLE":
            print(json.dumps(totals(clients)), flush=True)
        elif command in ("STOP", ""):
            break
    for c in clients:
        c.stop()
    await asyncio.wait_for(asyncio.gather(*tasks, return_exceptions=True), 10)
    final = totals(clients)
    final["maxrss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    final["records"] = [asdict(c.record) for c in clients]
    print(json.dumps(final), flush=True)


if __name__ == "__main__":
    spec = json.loads(sys.argv[1])
    try:
        import uvloop
    except ImportError:
        asyncio.run(main(spec))
    else:
        uvloop.run(main(spec))
