"""Live pages: a bus subscription turned into server-sent HTML fragments.

A page connects with htmx's SSE extension (`sse-connect`, `sse-swap="patch"`, `hx-swap="none"`);
every message is a set of out-of-band swaps (`hx-swap-oob`) that htmx applies in order. Events
that arrive together are rendered together, so a burst costs one render, not one per event.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Awaitable, Callable

from fastapi import Request
from starlette.responses import StreamingResponse

from paddock.domain.entities import Event
from paddock.domain.names import new_debug_id
from paddock.services.events import SYNC, EventService
from paddock.web.sse import HEARTBEAT, sse_response

# Render what changed in these events; None means "everything may have changed" (after a gap).
Renderer = Callable[[list[Event] | None], Awaitable[str]]

log = logging.getLogger("paddock.web")

BURST_SECONDS = 0.05  # events this close together are rendered as one message


def html_event(event: str, html: str, event_id: int | None = None) -> bytes:
    """An SSE message carrying HTML: each line of it its own `data:` line."""
    head = f"id: {event_id}\n" if event_id is not None else ""
    data = "".join(f"data: {line}\n" for line in html.splitlines() or [""])
    return f"{head}event: {event}\n{data}\n".encode()


def fragment_stream(
    request: Request,
    events: EventService,
    project_id: str | None,
    render: Renderer,
    *,
    heartbeat: float,
    wanted: Callable[[Event], bool] = lambda _e: True,
) -> StreamingResponse:
    """Stream `patch` messages rendered from the events `wanted` picks.

    A reconnecting EventSource sends Last-Event-ID: the events it missed are replayed when the
    bus still holds them, otherwise the page is re-rendered whole. A first connection gives
    `?after=`, the bus position when its page was rendered, so nothing that happens between
    the render and the connection is lost.
    """
    header = request.headers.get("last-event-id", "")
    after = request.query_params.get("after", "")
    resume = int(header) if header.isdigit() else int(after) if after.isdigit() else None

    async def body() -> AsyncIterator[bytes]:
        # Only wanted events are queued: the others would restart the wait for the next one
        # and hold back the heartbeat.
        with events.subscribe(project_id, wanted) as sub:
            last = events.last_seq
            if resume is not None:
                missed = events.replay(resume, project_id)
                replayed = None if missed is None else [e for e in missed if wanted(e)]
                if replayed is None or replayed:
                    yield html_event("patch", await render(replayed), last)
            while True:
                try:
                    first = await sub.get(heartbeat)
                except TimeoutError:
                    yield HEARTBEAT
                    continue
                await asyncio.sleep(BURST_SECONDS)
                items = [first, *sub.drain()]
                if any(item is SYNC for item in items):
                    last = events.last_seq
                    chosen: list[Event] | None = None
                else:
                    chosen = [e for e in items if isinstance(e, Event) and e.seq > last]
                    if not chosen:
                        continue
                    last = chosen[-1].seq
                html = await _rendered(request, render, chosen)
                if html is not None:
                    yield html_event("patch", html, last)

    return sse_response(body())


async def _rendered(request: Request, render: Renderer, chosen: list[Event] | None) -> str | None:
    """The patch for `chosen`; when rendering it fails (a record changing under it), the whole
    page's, once: a stream that broke off would make the browser reconnect and the page show
    an error. None when that fails too: the stream lives on (logged with a debug id), and the
    next event renders again."""
    try:
        return await render(chosen)
    except Exception as exc:
        debug_id = new_debug_id()
        log.error(
            "a live patch of %s could not be rendered [debug_id=%s]",
            request.url.path,
            debug_id,
            exc_info=exc,
        )
        if chosen is None:
            return None
    try:
        return await render(None)
    except Exception as exc:
        log.error("the whole page could not be rendered either: %r [debug_id=%s]", exc, debug_id)
        return None
