"""HTTP through the preview proxy: one request forwarded to the dev server, both bodies
streamed as they come (no buffering), upstream connections kept alive and reused.

HTTP/1.1 to the upstream, parsed with httptools (the parser uvicorn uses). Hop-by-hop headers
are dropped both ways, those named in `Connection` too; the upstream sees `Host:
localhost:<port>` (what dev servers with host checks accept) and `X-Forwarded-*` with the
browser's view; a `Location` pointing at the upstream is rewritten to the preview's origin; a
`Set-Cookie` loses its `Domain` (a preview's cookies stay on its own host). Bodies pass
through as they are (compressed ones too).
"""

from __future__ import annotations

import asyncio
import contextlib
import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

import httptools

from paddock.runtime.readiness import Upstream

Scope = dict[str, object]
Message = dict[str, object]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
Headers = list[tuple[bytes, bytes]]

READ_SIZE = 256 * 1024
IDLE_PER_UPSTREAM = 256  # above the connections a load keeps open: closing them costs more
CONNECT_TIMEOUT = 10.0
HOP_BY_HOP = frozenset(
    {
        b"connection",
        b"keep-alive",
        b"proxy-authenticate",
        b"proxy-authorization",
        b"proxy-connection",
        b"te",
        b"trailer",
        b"transfer-encoding",
        b"upgrade",
        b"expect",  # uvicorn answers 100-continue itself
    }
)
_UPSTREAM_ORIGIN = re.compile(rb"^https?://(?:localhost|127\.0\.0\.1|0\.0\.0\.0|\[::1?\])(?::\d+)?")
_COOKIE_DOMAIN = re.compile(rb";\s*domain=[^;]*", re.I)


class UpstreamError(Exception):
    """The dev server could not be reached, or broke off before answering."""


@dataclass(frozen=True, slots=True)
class Target:
    """Where a request goes and how the browser sees it."""

    upstream: Upstream
    origin: (
        bytes  # the preview's origin as the browser knows it: b"http://x.preview.localhost:7420"
    )
    prefix: bytes = b""  # the path-based fallback's prefix: b"/preview/<id>"
    drop_cookies: tuple[bytes, ...] = ()  # Paddock's own cookies, never forwarded


class Connection:
    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader = reader
        self.writer = writer

    def usable(self) -> bool:
        return not self.writer.is_closing() and not self.reader.at_eof()

    def close(self) -> None:
        self.writer.close()


class Pool:
    """Idle keep-alive connections per upstream."""

    def __init__(self) -> None:
        self._idle: dict[Upstream, list[Connection]] = {}

    async def get(self, upstream: Upstream) -> tuple[Connection, bool]:
        """A connection, and whether it was used before (it may have been closed since)."""
        idle = self._idle.get(upstream)
        while idle:
            conn = idle.pop()
            if conn.usable():
                return conn, True
            conn.close()
        return await self.open(upstream), False

    async def open(self, upstream: Upstream) -> Connection:
        try:
            reader, writer = await asyncio.wait_for(upstream.open(), CONNECT_TIMEOUT)
        except (OSError, TimeoutError) as exc:
            raise UpstreamError(f"the dev server does not answer: {exc}") from exc
        return Connection(reader, writer)

    def put(self, upstream: Upstream, conn: Connection) -> None:
        idle = self._idle.setdefault(upstream, [])
        if len(idle) < IDLE_PER_UPSTREAM and conn.usable():
            idle.append(conn)
        else:
            conn.close()

    def forget(self, upstream: Upstream) -> None:
        for conn in self._idle.pop(upstream, []):
            conn.close()


class _Response:
    """httptools' callbacks: what has arrived of one response."""

    def __init__(self) -> None:
        self.headers: Headers = []
        self.headers_done = False
        self.chunks: list[bytes] = []
        self.done = False
        self.keep_alive = False
        self.parser = httptools.HttpResponseParser(self)

    def on_header(self, name: bytes, value: bytes) -> None:
        self.headers.append((name, value))

    def on_headers_complete(self) -> None:
        self.headers_done = True

    def on_body(self, body: bytes) -> None:
        self.chunks.append(body)

    def on_message_complete(self) -> None:
        self.done = True
        # Only meaningful now: once the message is complete the parser starts on the next.
        self.keep_alive = bool(self.parser.should_keep_alive())

    def take(self) -> bytes:
        if not self.chunks:
            return b""
        data = b"".join(self.chunks) if len(self.chunks) != 1 else self.chunks[0]
        self.chunks.clear()
        return data


def _named_in_connection(headers: Headers) -> set[bytes]:
    named: set[bytes] = set()
    for name, value in headers:
        if name.lower() == b"connection":
            named.update(token.strip().lower() for token in value.split(b","))
    return named


def request_head(scope: Scope, target: Target, headers: Headers, *, chunked: bool) -> bytes:
    method = str(scope["method"]).encode()
    raw_path = scope.get("raw_path") or str(scope["path"]).encode()
    assert isinstance(raw_path, bytes)
    path = raw_path[len(target.prefix) :] if target.prefix else raw_path
    query = scope.get("query_string") or b""
    assert isinstance(query, bytes)
    if query:
        path += b"?" + query
    skip = HOP_BY_HOP | _named_in_connection(headers) | {b"host", b"x-paddock-preview-key"}
    lines = [method + b" " + (path or b"/") + b" HTTP/1.1"]
    lines.append(b"host: localhost:%d" % target.upstream.port)
    client_host = b""
    forwarded_host = b""
    for name, value in headers:
        lower = name.lower()
        if lower == b"host":
            forwarded_host = value
        if lower in skip or lower.startswith(b"x-forwarded-"):
            continue
        if lower == b"cookie" and target.drop_cookies:
            kept = without_cookies(value, target.drop_cookies)
            if kept:
                lines.append(name + b": " + kept)
            continue
        lines.append(name + b": " + value)
    client = scope.get("client")
    if isinstance(client, (list, tuple)) and client:
        client_host = str(client[0]).encode()
    lines.append(b"x-forwarded-for: " + client_host)
    lines.append(b"x-forwarded-proto: " + target.origin.split(b":", 1)[0])
    lines.append(b"x-forwarded-host: " + forwarded_host)
    if target.prefix:
        lines.append(b"x-forwarded-prefix: " + target.prefix)
    if chunked:
        lines.append(b"transfer-encoding: chunked")
    return b"\r\n".join(lines) + b"\r\n\r\n"


def without_cookies(header: bytes, names: tuple[bytes, ...]) -> bytes:
    kept = [
        part.strip()
        for part in header.split(b";")
        if part.strip() and part.strip().split(b"=", 1)[0] not in names
    ]
    return b"; ".join(kept)


def response_headers(headers: Headers, target: Target) -> Headers:
    skip = HOP_BY_HOP | _named_in_connection(headers)
    out: Headers = []
    for name, value in headers:
        lower = name.lower()
        if lower in skip:
            continue
        if lower == b"location":
            out.append((name, _UPSTREAM_ORIGIN.sub(target.origin + target.prefix, value, count=1)))
        elif lower == b"set-cookie":
            out.append((name, _COOKIE_DOMAIN.sub(b"", value)))
        else:
            out.append((name, value))
    return out


def _request_body_kind(headers: Headers) -> tuple[bool, bool]:
    """(has a body, must be sent chunked): a length is passed on as it is."""
    length = None
    chunked = False
    for name, value in headers:
        lower = name.lower()
        if lower == b"content-length":
            length = value.strip()
        elif lower == b"transfer-encoding":
            chunked = b"chunked" in value.lower()
    if length is not None:
        return length != b"0", False
    return chunked, chunked


async def _send_body(receive: Receive, writer: asyncio.StreamWriter, *, chunked: bool) -> bool:
    """The browser's body to the upstream, as it arrives. False when the browser left."""
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            return False
        body = message.get("body", b"")
        assert isinstance(body, bytes)
        if body:
            writer.write(b"%x\r\n%s\r\n" % (len(body), body) if chunked else body)
            await writer.drain()
        if not message.get("more_body", False):
            if chunked:
                writer.write(b"0\r\n\r\n")
                await writer.drain()
            return True


async def _until_disconnect(receive: Receive) -> None:
    while (await receive())["type"] != "http.disconnect":
        pass


async def forward(scope: Scope, receive: Receive, send: Send, target: Target, pool: Pool) -> None:
    """Forward one request. UpstreamError when nothing was answered yet (the caller sends an
    error page); a break-off after the answer started just ends it."""
    headers = scope["headers"]
    assert isinstance(headers, list)
    has_body, chunked = _request_body_kind(headers)
    head = request_head(scope, target, headers, chunked=chunked)
    upstream = target.upstream
    # A body cannot be sent twice: it goes on a fresh connection, never retried.
    conn, reused = (await pool.open(upstream), False) if has_body else await pool.get(upstream)
    try:
        try:
            keep = await _exchange(
                scope, receive, send, target, conn, head, has_body, chunked, reused
            )
        except _Retry:
            conn.close()
            conn = await pool.open(upstream)
            keep = await _exchange(
                scope, receive, send, target, conn, head, has_body, chunked, False
            )
    except BaseException:
        conn.close()
        raise
    if keep:
        pool.put(upstream, conn)
    else:
        conn.close()


class _Retry(Exception):
    """A reused connection was closed by the upstream before it answered: try a fresh one."""


async def _exchange(
    scope: Scope,
    receive: Receive,
    send: Send,
    target: Target,
    conn: Connection,
    head: bytes,
    has_body: bool,
    chunked: bool,
    reused: bool,
) -> bool:
    """One request/response on `conn`; True when it can carry another."""
    conn.writer.write(head)
    sender = (
        asyncio.create_task(_send_body(receive, conn.writer, chunked=chunked)) if has_body else None
    )
    response = _Response()
    parser = response.parser
    started = False
    watcher: asyncio.Task[None] | None = None
    try:
        while not response.done:
            try:
                data = await conn.reader.read(READ_SIZE)
            except ConnectionError:
                data = b""
            if not data:
                if started:
                    raise _BrokenOff
                if reused:
                    raise _Retry
                raise UpstreamError("the dev server closed the connection without answering")
            try:
                parser.feed_data(data)
            except httptools.HttpParserError as exc:
                if started:
                    raise _BrokenOff from exc
                raise UpstreamError(f"the dev server's answer is not HTTP: {exc}") from exc
            if response.headers_done and not started:
                started = True
                await send(
                    {
                        "type": "http.response.start",
                        "status": parser.get_status_code(),
                        "headers": response_headers(response.headers, target),
                    }
                )
                if scope["method"] == "HEAD":
                    await send({"type": "http.response.body", "body": b""})
                    return False  # httptools expects a body after HEAD's headers: start anew
                if not response.done and sender is None:
                    # A streamed answer (SSE, a download): stop when the browser leaves.
                    watcher = asyncio.create_task(_until_disconnect(receive))
            if response.chunks or response.done:
                body = response.take()
                if watcher is not None and watcher.done():
                    raise _BrokenOff
                # The last piece ends the answer: one send less for the common small one.
                more = not response.done
                await send({"type": "http.response.body", "body": body, "more_body": more})
        if sender is not None:
            sent = await sender
            sender = None
            return sent and response.keep_alive
        return response.keep_alive
    except _BrokenOff:
        return False
    finally:
        for task in (sender, watcher):
            if task is not None and not task.done():
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await task


class _BrokenOff(Exception):
    """The answer had started when one side went away: end it, drop the connection."""
