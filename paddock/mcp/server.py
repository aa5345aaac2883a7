"""The user's MCP server: the tools of mcp/tools.py and the state resources of
mcp/resources.py, on the SDK's low-level `Server` (which serves both eras of the protocol).

Every tool failure is a tool error result (`isError`) whose text is the API's error JSON,
`{"code", "message", ...}` (with `debug_id` for a failure inside a run, as the API logs it), also
given as structured content: a client tells refusals apart by `code` as an API client does.
"""

from __future__ import annotations

import json
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import mcp_types as types
from mcp.server.context import ServerRequestContext
from mcp.server.lowlevel.server import Server
from mcp.server.subscriptions import ListenHandler
from pydantic import ValidationError

from paddock import __version__
from paddock.domain.errors import PaddockError, RunFailure
from paddock.domain.names import new_debug_id
from paddock.mcp.inputs import input_schema
from paddock.mcp.resources import ResourceWatch, read_resource, resource_templates
from paddock.mcp.tools import TOOLS, Json, ToolSpec
from paddock.services.engine import Engine

log = logging.getLogger("paddock.mcp")

INSTRUCTIONS = (
    "Paddock's board: projects hold tasks (cards) in workflow steps (columns); an attempt is one "
    "try at a task by a coding agent, on its own branch, worktree and sandbox. A failed call "
    'answers JSON {"code", "message"}: the code is stable (e.g. not_found, attempt_busy, '
    "base_moved, validation_error)."
)
Context = ServerRequestContext[Any, Any]


def error_body(code: str, message: str, **extra: Any) -> dict[str, Any]:
    return {"code": code, "message": message, **extra}


def validation_body(exc: ValidationError) -> dict[str, Any]:
    """A bad input, worded as the API's `validation_error` (web/errors.py)."""
    details = [
        {"location": ".".join(str(p) for p in err.get("loc", ())), "message": err.get("msg", "")}
        for err in exc.errors()
    ]
    summary = "; ".join(f"{d['location']}: {d['message']}" for d in details[:5])
    return error_body("validation_error", f"invalid request: {summary}", details=details)


def paddock_error_body(exc: PaddockError) -> dict[str, Any]:
    extra = dict(exc.details)
    if isinstance(exc, RunFailure) or exc.http_status >= 500:
        debug_id = exc.debug_id if isinstance(exc, RunFailure) else new_debug_id()
        extra["debug_id"] = debug_id
        log.error("%s: %s %s [debug_id=%s]", exc.code, exc.message, exc.details, debug_id)
    return error_body(exc.code, exc.message, **extra)


def _result(value: Json, *, error: bool = False) -> types.CallToolResult:
    text = json.dumps(value, ensure_ascii=False)
    return types.CallToolResult(
        content=[types.TextContent(type="text", text=text)],
        # An object as itself; a list (the API's list answers) under "items".
        structured_content=value if isinstance(value, dict) else {"items": value},
        is_error=error,
    )


async def call(engine: Engine, spec: ToolSpec, arguments: dict[str, Any] | None) -> Json:
    """Validate as the API does (its JSON, strict scalars included), then run."""
    args = spec.input.model_validate_json(json.dumps(arguments or {}))
    return await spec.run(engine, args)


def _tool(spec: ToolSpec) -> types.Tool:
    return types.Tool(
        name=spec.name,
        description=spec.description,
        input_schema=input_schema(spec.input),
        annotations=types.ToolAnnotations(
            read_only_hint=spec.read_only,
            destructive_hint=spec.destructive,
            open_world_hint=False,
        ),
    )


def build_server(engine: Engine) -> Server[Any]:
    """The user's MCP server over the engine's services."""
    watch = ResourceWatch(engine)
    listen = ListenHandler(watch.bus)

    @asynccontextmanager
    async def lifespan(_server: Server[Any]) -> AsyncIterator[dict[str, Any]]:
        async with watch.running():
            try:
                yield {}
            finally:
                listen.close()

    async def list_tools(
        _ctx: Context, _params: types.PaginatedRequestParams | None
    ) -> types.ListToolsResult:
        return types.ListToolsResult(tools=[_tool(spec) for spec in TOOLS.values()])

    async def call_tool(_ctx: Context, params: types.CallToolRequestParams) -> types.CallToolResult:
        spec = TOOLS.get(params.name)
        if spec is None:
            body = error_body("unknown_tool", f"there is no tool {params.name[:100]!r}")
            return _result(body, error=True)
        try:
            return _result(await call(engine, spec, params.arguments))
        except ValidationError as exc:
            return _result(validation_body(exc), error=True)
        except PaddockError as exc:
            return _result(paddock_error_body(exc), error=True)
        except Exception:
            debug_id = new_debug_id()
            log.exception("unexpected error in the MCP tool %s [debug_id=%s]", spec.name, debug_id)
            message = "an unexpected error happened; the server log has details"
            return _result(error_body("internal_error", message, debug_id=debug_id), error=True)

    async def list_resources(
        _ctx: Context, _params: types.PaginatedRequestParams | None
    ) -> types.ListResourcesResult:
        # A board has thousands of cards: they are reached by template, not listed.
        return types.ListResourcesResult(resources=[])

    async def list_templates(
        _ctx: Context, _params: types.PaginatedRequestParams | None
    ) -> types.ListResourceTemplatesResult:
        return types.ListResourceTemplatesResult(resource_templates=resource_templates())

    async def read(
        _ctx: Context, params: types.ReadResourceRequestParams
    ) -> types.ReadResourceResult:
        return await read_resource(engine, params.uri)

    async def subscribe(ctx: Context, params: types.SubscribeRequestParams) -> types.EmptyResult:
        await read_resource(engine, params.uri)  # a resource that does not exist: refused
        watch.add(ctx.session, params.uri)
        return types.EmptyResult()

    async def unsubscribe(
        ctx: Context, params: types.UnsubscribeRequestParams
    ) -> types.EmptyResult:
        watch.remove(ctx.session, params.uri)
        return types.EmptyResult()

    return Server(
        "paddock",
        version=__version__,
        title="Paddock",
        instructions=INSTRUCTIONS,
        lifespan=lifespan,
        on_list_tools=list_tools,
        on_call_tool=call_tool,
        on_list_resources=list_resources,
        on_list_resource_templates=list_templates,
        on_read_resource=read,
        on_subscribe_resource=subscribe,
        on_unsubscribe_resource=unsubscribe,
        on_subscriptions_listen=listen,
    )
