"""/api/processes/{id}/entries: an agent process's normalised conversation, paged or live."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import APIRouter, Query, Request
from pydantic import Field
from starlette.responses import StreamingResponse

from paddock.domain.entries import EntryKind
from paddock.domain.public import AgentEntryPublic, PublicModel
from paddock.inputs.scalars import MAX_INDEX
from paddock.services.processes.log_follow import EndOfLog
from paddock.web.deps import EntriesDep, ProcessesDep, SettingsDep
from paddock.web.sse import HEARTBEAT, resume_point, sse_event, sse_response

router = APIRouter(prefix="/processes", tags=["entries"])


class EntryPage(PublicModel):
    entries: list[AgentEntryPublic]
    next_after: int = Field(description="Pass as ?after= to get the next page")


@router.get("/{process_id}/entries", operation_id="get_process_entries")
async def get_entries(
    process_id: str,
    entries: EntriesDep,
    after: Annotated[
        int, Query(ge=0, le=MAX_INDEX, description="Only entries with seq > after")
    ] = 0,
    limit: Annotated[int, Query(ge=1, le=5000)] = 1000,
    kind: Annotated[list[EntryKind] | None, Query(description="Only these kinds")] = None,
) -> EntryPage:
    found = await entries.read(process_id, after=after, limit=limit, kinds=kind)
    return EntryPage(
        entries=AgentEntryPublic.of_many(found),
        next_after=found[-1].seq if found else after,
    )


@router.get(
    "/{process_id}/entries/stream",
    operation_id="stream_process_entries",
    response_class=StreamingResponse,
)
async def stream_entries(
    process_id: str,
    request: Request,
    processes: ProcessesDep,
    settings: SettingsDep,
    entries: EntriesDep,
    after: int | None = Query(None, ge=0, le=MAX_INDEX),
) -> StreamingResponse:
    """Server-sent events: `entry` (id = seq) replayed after Last-Event-ID or ?after=, then
    live; `end` once the process finished and every entry was sent; a comment every 15 s."""
    start = resume_point(request, after)
    await processes.get(process_id)
    heartbeat = settings.server.sse_heartbeat_seconds

    async def body() -> AsyncIterator[bytes]:
        async for item in entries.follow(process_id, after=start, heartbeat=heartbeat):
            if item is None:
                yield HEARTBEAT
            elif isinstance(item, EndOfLog):
                yield sse_event("end", {"process_id": process_id})
                return
            else:
                yield b"".join(
                    sse_event("entry", AgentEntryPublic.of(e).model_dump(mode="json"), e.seq)
                    for e in item
                )

    return sse_response(body())
