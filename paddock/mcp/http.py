"""The user's MCP server over streamable HTTP, as an ASGI endpoint the web app routes /mcp to.

It sits inside the app, behind the same middleware as /api: the Host guard, the sandbox guard
and the access guard (token or session, same-origin proof) see every request first, so the
SDK's own DNS-rebinding check is left off (ours is stricter: our host list, our origins).
Sessions are stateful, so a handshake-era client gets its resource notifications on the GET
stream.

The SDK weighs ~0.7 s of imports and tens of MB (the idle server's goal is 70 MB, bench/
memory.py), and most servers never get an MCP client: it is imported, and its session manager
started, on the first request to /mcp, inside the task group that `running` holds for the app's
lifespan; the manager stops when the app does, before the engine closes.
"""

from __future__ import annotations

import contextlib
import importlib
from collections.abc import AsyncIterator
from typing import Any

import anyio
import anyio.abc
import anyio.to_thread
from starlette.types import Receive, Scope, Send

from paddock.services.engine import Engine

PATH = "/mcp"
METHODS = ["GET", "POST", "DELETE"]
MAX_BODY = 1 << 20  # a tool call's arguments; the API's largest bodies are far smaller


class McpEndpoint:
    """The ASGI app at /mcp."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._group: anyio.abc.TaskGroup | None = None
        self._manager: Any = None  # StreamableHTTPSessionManager, once started
        self._starting = anyio.Lock()

    @contextlib.asynccontextmanager
    async def running(self) -> AsyncIterator[None]:
        """For the app's lifespan: while it is open, /mcp can start and serve."""
        async with anyio.create_task_group() as group:
            self._group = group
            try:
                yield
            finally:
                self._group = None
                group.cancel_scope.cancel()  # ends the manager's run, its sessions with it

    async def _started(self) -> Any:
        async with self._starting:
            if self._manager is None:
                if self._group is None:
                    raise RuntimeError("the app's lifespan is not running")
                self._manager = await self._group.start(self._serve)
            return self._manager

    async def _serve(self, *, task_status: anyio.abc.TaskStatus[Any]) -> None:
        # In a thread: the first import must not hold up the other requests.
        server = await anyio.to_thread.run_sync(importlib.import_module, "paddock.mcp.server")
        manager_module = await anyio.to_thread.run_sync(
            importlib.import_module, "mcp.server.streamable_http_manager"
        )
        manager = manager_module.StreamableHTTPSessionManager(
            app=server.build_server(self.engine),
            json_response=False,
            stateless=False,
            security_settings=None,  # the app's guards (see the module's docstring)
            max_request_body_size=MAX_BODY,
        )
        async with manager.run():
            task_status.started(manager)
            await anyio.sleep_forever()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        manager = await self._started()
        await manager.handle_request(scope, receive, send)
