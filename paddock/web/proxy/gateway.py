"""The gate to the previews inside a sandbox's own network (services/previews/preview_gate.py): the
preview proxy with nothing behind it, served by a small uvicorn server of its own on a socket
the server made inside the sandbox.

Whatever comes through the gate is a preview request or nothing: a request for any other host
or path gets a 404 from the gate itself, never Paddock's API or UI (no router, no auth, no
session is behind it). The proxy's own guard still applies: a request needs the run's key.
"""

from __future__ import annotations

import asyncio
import json
import socket
from typing import Any

import uvicorn

from paddock.services.engine import Engine
from paddock.web.proxy.http import Receive, Scope, Send
from paddock.web.proxy.routing import PreviewProxy

CLOSE_GRACE = 2.0
NOT_FOUND = json.dumps({"code": "not_found", "message": "only previews are served here"}).encode()


async def nothing_else(scope: Scope, receive: Receive, send: Send) -> None:
    """What lies behind the proxy at the gate: nothing."""
    if scope["type"] == "websocket":
        await send({"type": "websocket.close", "code": 1008})
        return
    if scope["type"] != "http":
        return
    await send(
        {
            "type": "http.response.start",
            "status": 404,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(NOT_FOUND)).encode()),
                (b"cache-control", b"no-store"),
            ],
        }
    )
    await send({"type": "http.response.body", "body": NOT_FOUND})


class GateServer:
    """One gate: a uvicorn server on one listening socket, without its signal handling (the
    main server's), its logging set-up, its start and stop messages or a lifespan."""

    def __init__(self, server: uvicorn.Server, sock: socket.socket) -> None:
        self._server = server
        self._sock = sock

    async def close(self) -> None:
        """Stop listening, end the connections (their requests get CLOSE_GRACE seconds)."""
        server = self._server
        for listening in server.servers:
            listening.close()
        self._sock.close()
        for connection in list(server.server_state.connections):
            connection.shutdown()
        requests = list(server.server_state.tasks)
        if requests:
            _, pending = await asyncio.wait(requests, timeout=CLOSE_GRACE)
            for task in pending:
                task.cancel()
        for listening in server.servers:
            await listening.wait_closed()


class PreviewGateway:
    """Serves previews only, on sockets the engine makes inside sandboxes."""

    def __init__(self, engine: Engine) -> None:
        self.app = PreviewProxy(nothing_else, engine)

    async def serve(self, sock: socket.socket) -> GateServer:
        config = uvicorn.Config(
            self._asgi,
            interface="asgi3",
            lifespan="off",
            log_config=None,  # the main server's logging stays as it is
            access_log=False,
            proxy_headers=False,  # what the sandbox claims about itself is not believed
            server_header=False,
        )
        config.load()
        server = uvicorn.Server(config)
        server.lifespan = config.lifespan_class(config)
        await server.startup(sockets=[sock])
        return GateServer(server, sock)

    async def _asgi(self, scope: dict[str, Any], receive: Receive, send: Send) -> None:
        await self.app(scope, receive, send)
