"""/api/events: the stream of state changes, optionally for one project."""

from __future__ import annotations

from collections.abc import AsyncIterator

from fastapi import APIRouter, Query, Request
from starlette.responses import StreamingResponse

from paddock.domain.entities import Event
from paddock.inputs.scalars import MAX_INDEX
from paddock.services.events import SYNC
from paddock.web.deps import EventsDep, SettingsDep
from paddock.web.sse import HEARTBEAT, event_frame, resume_point, sse_event, sse_response

router = APIRouter(tags=["events"])


@router.get("/events", operation_id="stream_events", response_class=StreamingResponse)
async def stream_events(
    request: Request,
    events: EventsDep,
    settings: SettingsDep,
    project_id: str | None = Query(None),
    after: int | None = Query(None, ge=0, le=MAX_INDEX),
) -> StreamingResponse:
    """Server-sent events, one per state change (`project.created`, `attempt.updated`,
    `process.updated` ...). Resume with Last-Event-ID; `sync` means "re-fetch your state"."""
    heartbeat = settings.server.sse_heartbeat_seconds
    resume = (
        resume_point(request, after)
        if (after is not None or "last-event-id" in request.headers)
        else None
    )

    async def body() -> AsyncIterator[bytes]:
        with events.subscribe(project_id) as sub:
            # Subscribed before replaying, so nothing published meanwhile is missed.
            last = events.last_seq
            if resume is not None:
                missed = events.replay(resume, project_id)
                if missed is None:
                    yield sse_event("sync", {"reason": "events were missed; re-fetch"}, last)
                else:
                    for event in missed:
                        yield event_frame(event)
            while True:
                try:
                    first = await sub.get(heartbeat)
                except TimeoutError:
                    yield HEARTBEAT
                    continue
                # What came meanwhile goes out with it, in one write (events come in bursts:
                # a tick's resource samples, a turn's end).
                frames: list[bytes] = []
                for item in (first, *sub.drain()):
                    if item is SYNC:
                        frames.append(
                            sse_event(
                                "sync",
                                {"reason": "the client fell behind; re-fetch"},
                                events.last_seq,
                            )
                        )
                        last = events.last_seq
                    elif isinstance(item, Event) and item.seq > last:
                        frames.append(event_frame(item))
                if frames:
                    yield b"".join(frames)

    return sse_response(body())
