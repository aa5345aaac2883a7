"""The proxy's HTTP forwarding against a raw upstream over real sockets: what it sends, what
it passes back, and that one kept-alive connection carries many requests."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor
from contextlib import asynccontextmanager
from typing import Any

from paddock.runtime.readiness import Upstream
from paddock.web.proxy import http

# The whole answer in one write, as Node's http module sends small responses.
ANSWER = (
    b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 5\r\n"
    b"Keep-Alive: timeout=5\r\nConnection: keep-alive, x-hop\r\nX-Hop: 1\r\n\r\nhello"
)


class RawUpstream:
    def __init__(self) -> None:
        self.connections = 0
        self.requests: list[bytes] = []
        self.server: asyncio.Server | None = None

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        try:
            while head := await reader.readuntil(b"\r\n\r\n"):
                self.requests.append(head)
                writer.write(ANSWER)
                await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            writer.close()

    @property
    def port(self) -> int:
        assert self.server is not None
        port: int = self.server.sockets[0].getsockname()[1]
        return port


@asynccontextmanager
async def raw_upstream() -> AsyncIterator[RawUpstream]:
    raw = RawUpstream()
    raw.server = await asyncio.start_server(raw.handle, "127.0.0.1", 0)
    async with raw.server:
        yield raw


def run(test: Callable[[RawUpstream], Awaitable[None]]) -> None:
    """`test` against a fresh upstream, on an event loop of its own thread (the browser tests'
    Playwright keeps a loop running in the main thread for the whole session)."""

    async def main() -> None:
        async with raw_upstream() as upstream:
            await test(upstream)

    with ThreadPoolExecutor(1) as pool:
        pool.submit(asyncio.run, main()).result()


def request(path: bytes = b"/") -> dict[str, Any]:
    return {
        "type": "http",
        "method": "GET",
        "path": path.decode(),
        "raw_path": path,
        "query_string": b"",
        "headers": [
            (b"host", b"abc.preview.localhost:7420"),
            (b"cookie", b"paddock_preview=secret; theirs=1"),
            (b"connection", b"keep-alive, x-mine"),
            (b"x-mine", b"1"),
        ],
        "client": ("127.0.0.1", 50000),
    }


async def forward(raw: RawUpstream, pool: http.Pool) -> list[dict[str, Any]]:
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    target = http.Target(
        upstream=Upstream(raw.port),
        origin=b"http://abc.preview.localhost:7420",
        drop_cookies=(b"paddock_preview",),
    )
    await http.forward(request(), receive, send, target, pool)  # type: ignore[arg-type]
    return sent


def test_one_kept_alive_connection_carries_every_request() -> None:
    run(_one_connection)


async def _one_connection(upstream: RawUpstream) -> None:
    pool = http.Pool()
    for _ in range(5):
        sent = await forward(upstream, pool)
        assert sent[0]["status"] == 200
        assert b"".join(m.get("body", b"") for m in sent[1:]) == b"hello"
        assert sent[-1].get("more_body", False) is False
    assert upstream.connections == 1 and len(upstream.requests) == 5


def test_hop_headers_stay_on_their_hop_and_paddocks_cookie_never_leaves() -> None:
    run(_headers_per_hop)


async def _headers_per_hop(upstream: RawUpstream) -> None:
    sent = await forward(upstream, http.Pool())
    head = upstream.requests[0].decode().lower()
    assert f"host: localhost:{upstream.port}\r\n" in head
    assert "x-forwarded-host: abc.preview.localhost:7420" in head
    assert "cookie: theirs=1" in head and "secret" not in head
    assert "x-mine" not in head and "connection:" not in head
    names = {name.decode().lower() for name, _ in sent[0]["headers"]}
    assert "x-hop" not in names and "connection" not in names and "keep-alive" not in names
    assert "content-length" in names
