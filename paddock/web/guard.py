"""Refuse requests that come from inside a sandbox (defence in depth: the API token is the wall).

With network "host" a sandbox shares the host's loopback, where Paddock listens: without this,
an agent could ask the API for an attempt without a sandbox and run anything on the host. When
Paddock runs as root, sandboxes run as their own user: a request whose client socket belongs to
that user is refused (403 `sandboxed_client`). Run by a normal user, sandboxes share its uid and
cannot be told apart this way: docs/sandboxes.md says what that means.
"""

from __future__ import annotations

import json
import logging

from starlette.types import ASGIApp, Receive, Scope, Send

from paddock.runtime.peers import is_loopback, socket_owner

log = logging.getLogger("paddock")

_BODY = json.dumps(
    {
        "code": "sandboxed_client",
        "message": "requests from inside a sandbox are refused: Paddock's API is for its user",
    }
).encode()


class SandboxGuard:
    def __init__(self, app: ASGIApp, sandbox_uid: int | None) -> None:
        self.app = app
        self.sandbox_uid = sandbox_uid

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] in ("http", "websocket") and self._from_sandbox(scope):
            log.warning("refused %s %s from a sandbox", scope.get("method", ""), scope["path"])
            if scope["type"] == "websocket":
                await send({"type": "websocket.close", "code": 1008})
                return
            await send(
                {
                    "type": "http.response.start",
                    "status": 403,
                    "headers": [(b"content-type", b"application/json")],
                }
            )
            await send({"type": "http.response.body", "body": _BODY})
            return
        await self.app(scope, receive, send)

    def _from_sandbox(self, scope: Scope) -> bool:
        client, server = scope.get("client"), scope.get("server")
        if self.sandbox_uid is None or not client or not server or not is_loopback(client[0]):
            return False
        owner = socket_owner((client[0], client[1]), (server[0], server[1]))
        # No established connection found is not a pass: the lookup could not vouch for it.
        return owner is None or owner == self.sandbox_uid
