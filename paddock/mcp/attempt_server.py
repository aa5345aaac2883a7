"""The attempt channel's MCP server on the SDK (imported on a channel's first connection; see
mcp/attempt_channel.py for what it offers and why): the SDK's low-level `Server` with the four
tools, served over one connection of the channel as the stdio transport frames messages."""

from __future__ import annotations

import json
from typing import Any

import anyio
import anyio.abc
import mcp_types as types
from anyio.streams.buffered import BufferedByteReceiveStream
from mcp.server.context import ServerRequestContext
from mcp.server.lowlevel.server import Server
from mcp.shared.message import SessionMessage
from pydantic import ValidationError

from paddock import __version__
from paddock.domain.errors import PaddockError
from paddock.domain.names import new_debug_id
from paddock.mcp.attempt_channel import INSTRUCTIONS, MAX_LINE, TOOLS, RateLimited, Scope
from paddock.mcp.inputs import input_schema
from paddock.mcp.server import _result, error_body, log, paddock_error_body, validation_body

Context = ServerRequestContext[Any, Any]


def _tool(name: str) -> types.Tool:
    spec = TOOLS[name]
    return types.Tool(
        name=spec.name,
        description=spec.description,
        input_schema=input_schema(spec.input),
        annotations=types.ToolAnnotations(
            read_only_hint=spec.read_only, destructive_hint=False, open_world_hint=False
        ),
    )


def build_server(scope: Scope) -> Server[Any]:
    """The MCP server of the attempt `scope` names: tools only."""

    async def list_tools(
        _ctx: Context, _params: types.PaginatedRequestParams | None
    ) -> types.ListToolsResult:
        return types.ListToolsResult(tools=[_tool(name) for name in TOOLS])

    async def call_tool(_ctx: Context, params: types.CallToolRequestParams) -> types.CallToolResult:
        spec = TOOLS.get(params.name)
        if spec is None:
            body = error_body("unknown_tool", f"there is no tool {params.name[:100]!r}")
            return _result(body, error=True)
        try:
            # As the API reads a body: its JSON, strict scalars included; unknown fields refused.
            args = spec.input.model_validate_json(json.dumps(params.arguments or {}))
            return _result(await spec.run(scope, args))
        except ValidationError as exc:
            return _result(validation_body(exc), error=True)
        except RateLimited:
            message = "too many status lines: at most a few a second; the last one stays"
            return _result(error_body("rate_limited", message), error=True)
        except PaddockError as exc:
            return _result(paddock_error_body(exc), error=True)
        except Exception:
            debug_id = new_debug_id()
            log.exception(
                "attempt %s: unexpected error in the channel tool %s [debug_id=%s]",
                scope.attempt_id,
                spec.name,
                debug_id,
            )
            message = "an unexpected error happened; the server log has details"
            return _result(error_body("internal_error", message, debug_id=debug_id), error=True)

    return Server(
        "paddock",
        version=__version__,
        title="Paddock (this attempt)",
        instructions=INSTRUCTIONS,
        on_list_tools=list_tools,
        on_call_tool=call_tool,
    )


async def serve_stream(server: Server[Any], stream: anyio.abc.ByteStream) -> None:
    """Serve MCP on one connection until the client closes it (or sends a line too long)."""
    from_client, read_stream = anyio.create_memory_object_stream[SessionMessage | Exception](0)
    write_stream, to_client = anyio.create_memory_object_stream[SessionMessage](0)
    lines = BufferedByteReceiveStream(stream)

    async def reader() -> None:
        async with from_client:
            while True:
                try:
                    line = await lines.receive_until(b"\n", MAX_LINE)
                except (anyio.EndOfStream, anyio.IncompleteRead, anyio.BrokenResourceError):
                    return
                except anyio.DelimiterNotFound:
                    log.warning("an attempt's channel got a message over %d bytes", MAX_LINE)
                    return
                if not line.strip():
                    continue
                try:
                    message = types.jsonrpc_message_adapter.validate_json(line, by_name=False)
                except Exception as exc:
                    await from_client.send(exc)
                    continue
                await from_client.send(SessionMessage(message))

    async def writer() -> None:
        async with to_client:
            async for session_message in to_client:
                text = session_message.message.model_dump_json(by_alias=True, exclude_unset=True)
                try:
                    await stream.send(text.encode() + b"\n")
                except (anyio.BrokenResourceError, anyio.ClosedResourceError):
                    return

    async with anyio.create_task_group() as group:
        group.start_soon(reader)
        group.start_soon(writer)
        await server.run(read_stream, write_stream, server.create_initialization_options())
        group.cancel_scope.cancel()
