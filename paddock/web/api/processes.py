"""/api/processes: one supervised process; its logs, paged, downloaded or streamed live."""

from __future__ import annotations

from collections.abc import AsyncIterator

from fastapi import APIRouter, Query, Request
from pydantic import Field
from starlette.responses import StreamingResponse

from paddock.domain.public import LogLinePublic, ProcessPublic, PublicModel, ResourceSamplePublic
from paddock.domain.states import LogStream
from paddock.inputs.scalars import MAX_INDEX
from paddock.services.processes.log_follow import EndOfLog
from paddock.web.deps import LogsDep, ProcessesDep, SandboxesDep, SettingsDep
from paddock.web.error_docs import errors
from paddock.web.sse import HEARTBEAT, LogFrameCache, resume_point, sse_event, sse_response

router = APIRouter(prefix="/processes", tags=["processes"])
frame_cache = LogFrameCache()


class LogPage(PublicModel):
    lines: list[LogLinePublic]
    next_after: int = Field(description="Pass as ?after= to get the next page")


@router.get("/{process_id}", operation_id="get_process")
async def get_process(process_id: str, processes: ProcessesDep) -> ProcessPublic:
    return ProcessPublic.of(await processes.get(process_id))


@router.get("/{process_id}/stats", operation_id="get_process_stats")
async def get_process_stats(
    process_id: str,
    sandboxes: SandboxesDep,
    after: int = Query(0, ge=0, le=MAX_INDEX, description="Only samples with seq > after"),
) -> list[ResourceSamplePublic]:
    """The process's resource use over time (its sandbox's cgroup), one sample per
    `stats_interval_seconds`: CPU % of one core since the previous sample, memory now and at
    its peak, processes. Live ones also arrive as `resource_usage` events."""
    return ResourceSamplePublic.of_many(await sandboxes.samples(process_id, after))


@router.post("/{process_id}/stop", operation_id="stop_process", responses=errors(409))
async def stop_process(process_id: str, processes: ProcessesDep) -> ProcessPublic:
    """SIGTERM to the process group, then SIGKILL after the grace period."""
    return ProcessPublic.of(await processes.stop(process_id))


@router.get("/{process_id}/logs", operation_id="get_process_logs")
async def get_logs(
    process_id: str,
    logs: LogsDep,
    after: int = Query(0, ge=0, le=MAX_INDEX, description="Only lines with seq > after"),
    limit: int = Query(1000, ge=1, le=10000),
    stream: LogStream | None = None,
    q: str | None = Query(None, description="Text to find (ANSI colours ignored)"),
) -> LogPage:
    lines = await logs.read(process_id, after=after, limit=limit, stream=stream, q=q or None)
    return LogPage(
        lines=LogLinePublic.of_many(lines),
        next_after=lines[-1].seq if lines else after,
    )


@router.get(
    "/{process_id}/logs/download",
    operation_id="download_process_logs",
    response_class=StreamingResponse,
)
async def download_logs(process_id: str, logs: LogsDep) -> StreamingResponse:
    """The whole log as plain text."""
    body = await logs.download(process_id)
    return StreamingResponse(
        body,
        media_type="text/plain; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="process-{process_id}.log"'},
    )


@router.get(
    "/{process_id}/logs/stream",
    operation_id="stream_process_logs",
    response_class=StreamingResponse,
)
async def stream_logs(
    process_id: str,
    request: Request,
    processes: ProcessesDep,
    settings: SettingsDep,
    logs: LogsDep,
    after: int | None = Query(None, ge=0, le=MAX_INDEX),
    batch: bool = Query(
        False,
        description="One `lines` event per batch of lines (id = its last seq) instead of a "
        "`log` event per line",
    ),
) -> StreamingResponse:
    """Server-sent events: `log` (id = seq), or with ?batch=true `lines` (id = the last seq
    of the lines it carries), replayed after Last-Event-ID or ?after=, then live; `end` once
    the process finished and every line was sent; a comment every 15 s."""
    start = resume_point(request, after)
    await processes.get(process_id)
    heartbeat = settings.server.sse_heartbeat_seconds

    async def body() -> AsyncIterator[bytes]:
        last_seq = 0  # the highest seq sent
        async for item in logs.follow_batches(process_id, after=start, heartbeat=heartbeat):
            if item is None:
                yield HEARTBEAT
            elif isinstance(item, EndOfLog):
                proc = await processes.get(process_id)
                yield sse_event(
                    "end",
                    {
                        "status": proc.status,
                        "exit_code": proc.exit_code,
                        # The row's count is written just after the log closes: it may lag.
                        "line_count": max(proc.line_count, last_seq),
                    },
                )
                return
            else:
                last_seq = item[-1].last_seq
                yield frame_cache.batches(item, batched=batch)

    return sse_response(body())
