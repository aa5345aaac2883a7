"""WebSocket through the preview proxy: upstream first, then the browser.

The upstream connection is made first (with the browser's subprotocols, cookies minus
Paddock's, and Origin), so the browser is accepted with the subprotocol the dev server chose
(Vite's HMR insists on `vite-hmr`) or refused the way the upstream refused. Then text and
binary messages flow both ways, each side waiting for the other to take them (websockets' queue
and the ASGI server's writes give backpressure), and a close on either side closes the other
with its code. Pings are answered on each leg by its own end (ASGI has no ping messages).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import Any

from paddock.web.proxy.http import HOP_BY_HOP, Receive, Scope, Send, Target, without_cookies

log = logging.getLogger("paddock.proxy")

MAX_MESSAGE = 64 * 1024 * 1024
# Set by the websockets client itself, or meaningless upstream.
_HANDSHAKE = frozenset(
    {
        b"host",
        b"sec-websocket-key",
        b"sec-websocket-version",
        b"sec-websocket-extensions",
        b"sec-websocket-protocol",
        b"x-paddock-preview-key",
    }
)


def _upstream_headers(scope: Scope, target: Target) -> list[tuple[str, str]]:
    headers = scope["headers"]
    assert isinstance(headers, list)
    out: list[tuple[str, str]] = []
    for name, value in headers:
        lower = name.lower()
        if lower in HOP_BY_HOP or lower in _HANDSHAKE or lower.startswith(b"x-forwarded-"):
            continue
        if lower == b"cookie" and target.drop_cookies:
            value = without_cookies(value, target.drop_cookies)  # noqa: PLW2901
            if not value:
                continue
        out.append((name.decode("latin-1"), value.decode("latin-1")))
    return out


def _uri(scope: Scope, target: Target) -> str:
    raw = scope.get("raw_path") or str(scope["path"]).encode()
    assert isinstance(raw, bytes)
    path = raw[len(target.prefix) :] if target.prefix else raw
    query = scope.get("query_string") or b""
    assert isinstance(query, bytes)
    tail = (path or b"/").decode("latin-1") + ("?" + query.decode("latin-1") if query else "")
    return f"ws://localhost:{target.upstream.port}{tail}"


async def relay(scope: Scope, receive: Receive, send: Send, target: Target) -> None:
    from websockets.asyncio.client import connect, unix_connect
    from websockets.exceptions import InvalidStatus, WebSocketException

    first = await receive()
    if first["type"] != "websocket.connect":
        return
    subprotocols = scope.get("subprotocols") or []
    assert isinstance(subprotocols, list)
    options: dict[str, Any] = {
        "subprotocols": subprotocols or None,
        "additional_headers": _upstream_headers(scope, target),
        "user_agent_header": None,
        "compression": None,  # frames pass through as they are; the browser's leg compresses
        "max_size": MAX_MESSAGE,
        "ping_interval": None,  # the dev server's own pings, if any, are answered
        "proxy": None,
        "open_timeout": 10,
    }
    uri = _uri(scope, target)
    socket_path = target.upstream.socket_path
    try:
        if socket_path is not None:
            upstream = await unix_connect(str(socket_path), uri, **options)
        else:
            upstream = await connect(uri, **options)
    except InvalidStatus as exc:
        log.info("upstream refused the WebSocket %s: %s", uri, exc.response.status_code)
        await send({"type": "websocket.close", "code": 1008, "reason": "refused by the dev server"})
        return
    except (OSError, TimeoutError, WebSocketException) as exc:
        log.info("upstream WebSocket %s failed: %s", uri, exc)
        await send(
            {"type": "websocket.close", "code": 1011, "reason": "the dev server does not answer"}
        )
        return
    await send({"type": "websocket.accept", "subprotocol": upstream.subprotocol})
    async with upstream:
        to_upstream = asyncio.create_task(_browser_to_upstream(receive, upstream))
        to_browser = asyncio.create_task(_upstream_to_browser(upstream, send))
        done, pending = await asyncio.wait(
            [to_upstream, to_browser], return_when=asyncio.FIRST_COMPLETED
        )
        for task in pending:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        for task in done:
            with contextlib.suppress(Exception):
                task.result()


async def _browser_to_upstream(receive: Receive, upstream: Any) -> None:
    while True:
        message = await receive()
        if message["type"] == "websocket.disconnect":
            code = message.get("code", 1000)
            with contextlib.suppress(Exception):
                await upstream.close(code=code if isinstance(code, int) and code != 1006 else 1000)
            return
        if message.get("bytes") is not None:
            await upstream.send(message["bytes"])
        elif message.get("text") is not None:
            await upstream.send(message["text"])


async def _upstream_to_browser(upstream: Any, send: Send) -> None:
    from websockets.exceptions import ConnectionClosed

    try:
        async for data in upstream:
            if isinstance(data, bytes):
                await send({"type": "websocket.send", "bytes": data})
            else:
                await send({"type": "websocket.send", "text": data})
    except ConnectionClosed:
        pass
    code = upstream.close_code or 1000
    reason = upstream.close_reason or ""
    with contextlib.suppress(Exception):
        await send(
            {"type": "websocket.close", "code": code if code != 1006 else 1011, "reason": reason}
        )
