"""Task and attempt state as MCP resources, and their `updated` notifications from the bus.

`paddock://tasks/{id}` and `paddock://attempts/{id}` read as the API's TaskPublic and
AttemptPublic JSON. A client that subscribes to one (handshake-era `resources/subscribe`, or a
2026 `subscriptions/listen` naming it) is told when it changes: one subscription to the engine's
event bus fans each task and attempt event out as the URI it changes. A resource that cannot be
read is a JSON-RPC error whose `data` is the API's {"code", "message"}.
"""

from __future__ import annotations

import contextlib
import logging
import re
from collections.abc import AsyncIterator

import anyio
import mcp_types as types
from mcp.server.session import ServerSession
from mcp.server.subscriptions import InMemorySubscriptionBus, ResourceUpdated
from mcp.shared.exceptions import MCPError

from paddock.domain.entities import Event
from paddock.domain.errors import PaddockError
from paddock.domain.public import AttemptPublic, TaskPublic
from paddock.runtime.events import SYNC
from paddock.services.engine import Engine

log = logging.getLogger("paddock.mcp")

SCHEME = "paddock://"
_URI = re.compile(r"paddock://(tasks|attempts)/([A-Za-z0-9_-]{1,64})")
RESOURCE_NOT_FOUND = -32002  # the MCP spec's code for a resource that is not there
JSON = "application/json"


def task_uri(task_id: str) -> str:
    return f"{SCHEME}tasks/{task_id}"


def attempt_uri(attempt_id: str) -> str:
    return f"{SCHEME}attempts/{attempt_id}"


def resource_templates() -> list[types.ResourceTemplate]:
    return [
        types.ResourceTemplate(
            name="task",
            uri_template=f"{SCHEME}tasks/{{task_id}}",
            description="A task (card): title, description, step; as get_task answers",
            mime_type=JSON,
        ),
        types.ResourceTemplate(
            name="attempt",
            uri_template=f"{SCHEME}attempts/{{attempt_id}}",
            description="An attempt: status, branch, agent; as get_attempt answers",
            mime_type=JSON,
        ),
    ]


def _refused(code: str, message: str, status: int = RESOURCE_NOT_FOUND) -> MCPError:
    return MCPError(status, message, data={"code": code, "message": message})


async def read_resource(engine: Engine, uri: str) -> types.ReadResourceResult:
    match = _URI.fullmatch(uri)
    if match is None:
        raise _refused("unknown_resource", f"no resource {uri[:200]!r}: see the templates")
    kind, key = match.groups()
    try:
        if kind == "tasks":
            text = TaskPublic.of(await engine.tasks.get(key)).model_dump_json()
        else:
            text = AttemptPublic.of(await engine.attempts.get(key)).model_dump_json()
    except PaddockError as exc:
        raise _refused(exc.code, exc.message) from None
    return types.ReadResourceResult(
        contents=[types.TextResourceContents(uri=uri, mime_type=JSON, text=text)]
    )


def changed_uri(event: Event) -> str | None:
    """The resource an event changes, if it is one of ours."""
    key = event.data.get("id")
    if not isinstance(key, str):
        return None
    if event.type.startswith("task."):
        return task_uri(key)
    if event.type.startswith("attempt.") and event.type != "attempt.diff_changed":
        return attempt_uri(key)
    return None


class ResourceWatch:
    """Who subscribed to what, and the one bus subscription that tells them."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.bus = InMemorySubscriptionBus()  # the 2026 listen streams'
        self._sessions: dict[str, set[ServerSession]] = {}  # handshake-era, by URI

    def add(self, session: ServerSession, uri: str) -> None:
        self._sessions.setdefault(uri, set()).add(session)

    def remove(self, session: ServerSession, uri: str) -> None:
        sessions = self._sessions.get(uri)
        if sessions is not None:
            sessions.discard(session)
            if not sessions:
                del self._sessions[uri]

    @contextlib.asynccontextmanager
    async def running(self) -> AsyncIterator[None]:
        async with anyio.create_task_group() as group:
            group.start_soon(self._pump)
            try:
                yield
            finally:
                group.cancel_scope.cancel()

    async def _pump(self) -> None:
        with self.engine.events.subscribe(None, lambda e: changed_uri(e) is not None) as sub:
            while True:
                item = await sub.get()
                if item is SYNC or not isinstance(item, Event):
                    continue  # missed some: the next change is news enough
                uri = changed_uri(item)
                if uri is not None:
                    await self._tell(uri)

    async def _tell(self, uri: str) -> None:
        await self.bus.publish(ResourceUpdated(uri))
        for session in list(self._sessions.get(uri, ())):
            try:
                with anyio.fail_after(5):
                    await session.send_resource_updated(uri)
            except Exception as exc:  # the client went away: forget it
                log.debug("dropped a subscriber of %s: %r", uri, exc)
                self.remove(session, uri)

    def subscribers(self, uri: str) -> int:
        return len(self._sessions.get(uri, ()))
