"""`paddock mcp`: the user's MCP server on stdio, for a desktop agent, relayed to the running
server's /mcp over streamable HTTP with the user's token.

One implementation of the tools, on the server: this process only carries JSON-RPC messages,
each way, as they are (initialize, tools, resources, and the server's notifications on the
session's GET stream). HTTP wants what stdio does not carry: the protocol version (and on the
2026 wire the method and name) as headers of each request, which `Stamp` adds as the SDK's own
client would, so both eras pass through. It speaks for the user, so it needs the token the CLI reads
(cli/connection.py), and a running server: checked first, so that a desktop agent's log shows
why it has no tools.
"""

from __future__ import annotations

import logging
import sys
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import anyio

from paddock.mcp.http import PATH

if TYPE_CHECKING:
    from mcp.shared.message import SessionMessage

log = logging.getLogger("paddock.mcp")


class RelayError(Exception):
    """The server cannot be reached, or refuses the token: said on stderr, exit code 1."""


def check_server(base_url: str, token: str) -> None:
    """Raise RelayError unless a Paddock server answers at base_url and takes the token."""
    import httpx

    try:
        response = httpx.get(
            f"{base_url}/api/health",
            headers={"Authorization": f"Bearer {token}"},
            timeout=10,
        )
    except httpx.HTTPError as exc:
        raise RelayError(
            f"no Paddock server at {base_url} ({exc.__class__.__name__}): start one with "
            "`paddock serve`, or point --url / PADDOCK_URL at it"
        ) from None
    if response.status_code == 401:
        raise RelayError(
            f"the server at {base_url} refused the token: run as the user that runs "
            "`paddock serve`, or set PADDOCK_TOKEN"
        )
    if response.status_code != 200:
        raise RelayError(f"the server at {base_url} answered {response.status_code}")


@dataclass
class Stamp:
    """The headers each request to the server needs, from what the messages say."""

    initialize_id: Any = None  # the handshake's request, until answered
    negotiated: str | None = None  # the handshake's protocol version

    def outgoing(self, message: SessionMessage) -> SessionMessage:
        from mcp.shared.inbound import (
            MCP_METHOD_HEADER,
            MCP_NAME_HEADER,
            MCP_PROTOCOL_VERSION_HEADER,
            NAME_BEARING_METHODS,
            encode_header_value,
        )
        from mcp.shared.message import ClientMessageMetadata, SessionMessage
        from mcp_types import PROTOCOL_VERSION_META_KEY, JSONRPCRequest

        request = message.message
        if not isinstance(request, JSONRPCRequest):
            return message
        if request.method == "initialize":
            self.initialize_id = request.id
            return message
        params = request.params or {}
        modern = (params.get("_meta") or {}).get(PROTOCOL_VERSION_META_KEY)
        headers: dict[str, str] = {}
        if isinstance(modern, str):
            headers[MCP_PROTOCOL_VERSION_HEADER] = modern
            headers[MCP_METHOD_HEADER] = request.method
            name_key = NAME_BEARING_METHODS.get(request.method)
            name = params.get(name_key) if name_key is not None else None
            if isinstance(name, str):
                headers[MCP_NAME_HEADER] = encode_header_value(name)
        elif self.negotiated is not None:
            headers[MCP_PROTOCOL_VERSION_HEADER] = self.negotiated
        if not headers:
            return message
        return SessionMessage(request, metadata=ClientMessageMetadata(headers=headers))

    def incoming(self, message: SessionMessage) -> None:
        from mcp_types import JSONRPCResponse

        answer = message.message
        if (
            self.initialize_id is not None
            and isinstance(answer, JSONRPCResponse)
            and answer.id == self.initialize_id
        ):
            version = (answer.result or {}).get("protocolVersion")
            self.negotiated = version if isinstance(version, str) else None
            self.initialize_id = None


async def relay(base_url: str, token: str) -> None:
    """Carry messages between stdin/stdout and base_url's /mcp until stdin closes."""
    import httpx2
    from mcp.client.streamable_http import streamable_http_client
    from mcp.server.stdio import stdio_server

    stamp = Stamp()
    http = httpx2.AsyncClient(
        headers={"Authorization": f"Bearer {token}"},
        timeout=httpx2.Timeout(30.0, read=300.0),  # the SDK's: a stream may stay open
    )
    async with (
        http,
        stdio_server() as (from_agent, to_agent),
        streamable_http_client(f"{base_url}{PATH}", http_client=http) as (from_server, to_server),
        anyio.create_task_group() as group,
    ):

        async def up() -> None:
            async with to_server:
                async for message in from_agent:
                    if isinstance(message, Exception):  # a line that is not JSON-RPC
                        _warn("from the agent", message)
                        continue
                    await to_server.send(stamp.outgoing(message))
            group.cancel_scope.cancel()  # the agent closed stdin: done

        async def down() -> None:
            async with to_agent:
                async for message in from_server:
                    if isinstance(message, Exception):
                        _warn("from the server", message)
                        continue
                    stamp.incoming(message)
                    await to_agent.send(message)

        group.start_soon(up)
        group.start_soon(down)


def _warn(where: str, problem: Any) -> None:
    print(f"paddock mcp: dropped a message {where}: {problem}", file=sys.stderr, flush=True)
