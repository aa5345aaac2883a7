"""The benches' fast SSE log clients: `CountingSSE`, a thread that counts a log stream's lines
without parsing them, and the many-clients load generator `run_clients` (run as a process of its
own by bench/log_ingest.py, so its work is not the server's)."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import resource
import socket
import threading
import time
from typing import Any

from _harness import Server, SSEParser, pct

TOKEN_VAR = "PADDOCK_BENCH_TOKEN"  # the API token, to the client worker


def log_stream_path(process_id: str, query: str) -> str:
    return f"/api/processes/{process_id}/logs/stream{query}"


class CountingSSE:
    """A log stream read as fast as a native client reads it: a thread that counts the lines
    received with bytes.count / rfind and notes when `end` arrives, never parsing an event in
    Python (the harness's SSEParser would cost the shared cores more than the server's sending).
    Per-line form: it counts `log` events. Batched form: the id of the newest `lines` event is
    the last line received (the server's tests hold that it sends every line once, in order)."""

    LOG = b"\nevent: log\n"
    LINES = b"\nevent: lines\n"
    END = b"\nevent: end\n"

    def __init__(self, server: Server, path: str, *, batched: bool) -> None:
        host, port = server.url.removeprefix("http://").split(":")
        self.batched = batched
        self.sock = socket.create_connection((host, int(port)))
        self.sock.sendall(
            f"GET {path} HTTP/1.1\r\nHost: {host}:{port}\r\nAccept: text/event-stream\r\n"
            f"Authorization: Bearer {server.token}\r\n\r\n".encode()
        )
        self.lines = 0
        self.events = 0  # `log` or `lines` events
        self.first = threading.Event()
        self.ended = threading.Event()
        self.end_at = 0.0
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self) -> None:
        tail = b""
        # A marker split between two reads is still seen once (a `log` marker never whole in
        # the tail); a `lines` marker's id line, before it, is in the tail too.
        keep = 64 if self.batched else len(self.END) - 1
        try:
            while True:
                data = self.sock.recv(1 << 20)
                now = time.perf_counter()
                if not data:
                    return
                buf = tail + data
                if self.batched:
                    self.events += data.count(self.LINES)  # (a split marker is not counted)
                    at = buf.rfind(self.LINES)
                    head = buf.rfind(b"id: ", 0, at) if at >= 0 else -1
                    if head >= 0:
                        self.lines = max(self.lines, int(buf[head + 4 : at]))
                else:
                    self.lines += buf.count(self.LOG)
                    self.events = self.lines
                if self.lines:
                    self.first.set()
                if self.END in buf:
                    self.end_at = now
                    return
                tail = buf[-keep:]
        except OSError:
            pass
        finally:
            self.ended.set()

    def wait_first(self, timeout: float) -> None:
        if not self.first.wait(timeout):
            raise TimeoutError("the log stream sent nothing")

    def wait_end(self, timeout: float) -> float:
        """perf_counter() when `end` arrived."""
        if not self.ended.wait(timeout) or not self.end_at:
            raise TimeoutError("the log stream did not end")
        return self.end_at

    def close(self) -> None:
        with contextlib.suppress(OSError):
            self.sock.shutdown(socket.SHUT_RDWR)
        self.sock.close()
        self.thread.join(5)


# --- the SSE client worker (a separate process) --------------------------------------------------


class _LogClient(asyncio.Protocol):
    """Notes when each read arrived and parses the reads after the stream ended: parsing
    thousands of events as they come would delay the next read and be timed as the server's."""

    def __init__(self, request: bytes) -> None:
        self.request = request
        self.reads: list[tuple[float, bytes]] = []
        self.tail = b""
        self.latencies: list[float] = []
        self.printed: list[float] = []
        self.lines = 0
        self.syncs = 0
        self.end_wall = 0.0
        self.ready = asyncio.get_running_loop().create_future()
        self.ended = asyncio.get_running_loop().create_future()

    def connection_made(self, transport: Any) -> None:
        transport.write(self.request)

    def data_received(self, data: bytes) -> None:
        wall = time.time()
        self.reads.append((wall, data))
        seen = self.tail + data  # a marker split between two reads is still seen
        self.tail = data[-16:]
        if not self.ready.done() and (b"event: log\n" in seen or b"event: lines\n" in seen):
            self.ready.set_result(None)
        if b"event: end\n" in seen and not self.ended.done():
            self.ended.set_result(None)

    def connection_lost(self, exc: Exception | None) -> None:
        if not self.ended.done():
            self.ended.set_result(None)

    def parse(self) -> None:
        parser = SSEParser(frozenset([b"log", b"lines", b"end", b"sync"]))
        for wall, data in self.reads:
            for event in parser.feed(data, 0.0, wall):
                if event.event == "lines":
                    for text in event.json()["texts"]:
                        self.lines += 1
                        try:  # the printed time starts the text (a burst's lines go on)
                            printed = float(text.split(" ", 1)[0])
                        except ValueError:
                            continue
                        self.latencies.append(wall - printed)
                        self.printed.append(printed)
                elif event.event == "log":
                    self.lines += 1
                    raw = event.data
                    i = raw.find(b'"text":"')
                    if i >= 0:
                        j = raw.find(b'"', i + 8)
                        try:  # the printed time starts the text (a burst's lines go on)
                            printed = float(raw[i + 8 : j].split(b" ", 1)[0])
                        except ValueError:
                            continue
                        self.latencies.append(wall - printed)
                        self.printed.append(printed)
                elif event.event == "end":
                    self.end_wall = wall
                else:
                    self.syncs += 1
        self.reads = []


async def _clients_main(count: int, url: str, process_id: str, query: str) -> None:
    host, port = url.removeprefix("http://").split(":")
    path = log_stream_path(process_id, query)
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
    for client in clients:
        client.parse()
    all_ms = [x * 1000 for c in clients for x in c.latencies]
    per_client_p99 = [pct([x * 1000 for x in c.latencies], 99) for c in clients]
    # p50 of the lines printed in each half second: does a backlog build up, or stay flat?
    first = min((c.printed[0] for c in clients if c.printed), default=0.0)
    buckets: dict[int, list[float]] = {}
    for c in clients:
        for printed, lat in zip(c.printed, c.latencies, strict=True):
            buckets.setdefault(int((printed - first) * 2), []).append(lat * 1000)
    timeline = [round(pct(buckets[k], 50), 2) for k in sorted(buckets)]
    # Per printed time (a burst's lines share one), when its last line arrived.
    last: dict[float, float] = {}
    for c in clients:
        for printed, lat in zip(c.printed, c.latencies, strict=True):
            last[printed] = max(last.get(printed, 0.0), lat * 1000)
    end_wall = [c.end_wall for c in clients if c.end_wall]
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
                "last_line_ms_per_print": [last[k] for k in sorted(last)] if count == 1 else [],
                "end_received_wall": min(end_wall) if end_wall else None,
                "client_cpu_s": cpu,
                "client_maxrss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
            }
        ),
        flush=True,
    )


def run_clients(argv: list[str]) -> None:
    """The load generator's own event loop (client side only; the server is `paddock serve`):
    uvloop when it is importable, for cheaper clients, else the standard asyncio loop."""
    count, url, process_id, query = int(argv[0]), argv[1], argv[2], argv[3]
    try:
        import uvloop
    except ImportError:
        asyncio.run(_clients_main(count, url, process_id, query))
    else:
        uvloop.run(_clients_main(count, url, process_id, query))
