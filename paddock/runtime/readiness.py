"""Is a dev server ready? A TCP connect, then an HTTP request until any answer.

Backoff starts at 10 ms and doubles up to 20 ms (as often as a developer's script polls: a probe
costs a refused connect, a late one adds to every start); the wait ends early when the server's
process exits (`gone` is set). Works over TCP or a Unix socket (a bridge into a network-"none"
sandbox).
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path

FIRST_DELAY = 0.01
MAX_DELAY = 0.02  # a failed probe costs microseconds; a late one adds to every start
REQUEST_TIMEOUT = 5.0


@dataclass(frozen=True, slots=True)
class Upstream:
    """Where a preview's server is reached: a loopback TCP port or a Unix socket path."""

    port: int
    socket_path: Path | None = None

    async def open(self) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
        if self.socket_path is not None:
            return await asyncio.open_unix_connection(str(self.socket_path))
        return await asyncio.open_connection("127.0.0.1", self.port)


@dataclass(frozen=True, slots=True)
class Readiness:
    ready: bool
    status: int | None = None  # the HTTP status that made it ready
    reason: str = ""  # why not


async def http_status(upstream: Upstream, path: str, host: str) -> int | None:
    """The status of `GET path`, or None when nothing (or no HTTP) answers."""
    try:
        reader, writer = await asyncio.wait_for(upstream.open(), REQUEST_TIMEOUT)
    except (OSError, TimeoutError):
        return None
    try:
        request = f"GET {path} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n"
        writer.write(request.encode())
        line = await asyncio.wait_for(reader.readline(), REQUEST_TIMEOUT)
    except (OSError, TimeoutError):
        return None
    finally:
        writer.close()
        with contextlib.suppress(OSError):
            await writer.wait_closed()
    parts = line.split()
    if len(parts) >= 2 and parts[0].startswith(b"HTTP/") and parts[1].isdigit():
        return int(parts[1])
    return None


async def fetch(
    upstream: Upstream, path: str, *, limit: int, timeout: float = REQUEST_TIMEOUT
) -> tuple[int | None, bytes]:
    """`GET path` of a dev server: its status (None when nothing, or no HTTP, answers) and its
    body, read until the server closes. HTTP/1.0, so no chunked body comes back; a body over
    `limit` bytes raises ValueError."""
    try:
        reader, writer = await asyncio.wait_for(upstream.open(), timeout)
    except (OSError, TimeoutError):
        return None, b""
    try:
        request = (
            f"GET {path} HTTP/1.0\r\nHost: localhost:{upstream.port}\r\n"
            "Accept: application/json, */*\r\nConnection: close\r\n\r\n"
        )
        writer.write(request.encode())
        head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), timeout)
        body = bytearray()
        while chunk := await asyncio.wait_for(reader.read(1 << 16), timeout):
            body += chunk
            if len(body) > limit:
                raise ValueError(f"the answer to {path} is larger than {limit} bytes")
    except (OSError, TimeoutError, asyncio.IncompleteReadError, asyncio.LimitOverrunError):
        return None, b""
    finally:
        writer.close()
        with contextlib.suppress(OSError):
            await writer.wait_closed()
    parts = head.split(b"\r\n", 1)[0].split()
    if len(parts) >= 2 and parts[0].startswith(b"HTTP/") and parts[1].isdigit():
        return int(parts[1]), bytes(body)
    return None, b""


async def wait_until_ready(
    upstream: Callable[[], Awaitable[Upstream | None]],
    *,
    gone: asyncio.Event,
    timeout: float,
    path: str = "/",
    statuses: frozenset[int] = frozenset(),
) -> Readiness:
    """Poll until the server answers `path` (with one of `statuses`, when given).

    `upstream()` is asked on every try: it may change (the app chose another port) or not be
    known yet (None)."""
    deadline = time.monotonic() + timeout
    delay = FIRST_DELAY
    last = "nothing answered"
    while True:
        target = await upstream()
        if target is not None:
            host = f"localhost:{target.port}"
            status = await http_status(target, path, host)
            if status is not None and (not statuses or status in statuses):
                return Readiness(True, status)
            if status is not None:
                last = f"it answered {status} on {path}"
        if gone.is_set():
            return Readiness(False, reason="the dev server exited")
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            return Readiness(False, reason=f"not ready after {timeout:g} s: {last}")
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(gone.wait(), min(delay, remaining))
        delay = min(delay * 2, MAX_DELAY)
