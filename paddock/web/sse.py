"""Server-sent events: framing and the streaming response."""

from __future__ import annotations

import json
from collections import OrderedDict
from collections.abc import AsyncIterator, Iterable, Sequence
from datetime import datetime
from typing import Any

from fastapi import Request
from starlette.responses import StreamingResponse

from paddock.domain.entities import Event, LogLine
from paddock.domain.events import wire

HEARTBEAT = b": ping\n\n"


def iso_utc(value: datetime) -> str:
    """The ISO 8601 form the REST responses use for the same instant (UTC as "Z")."""
    return value.isoformat().replace("+00:00", "Z")


def _json_default(value: object) -> Any:
    if isinstance(value, datetime):
        return iso_utc(value)
    return str(value)


def sse_event(event: str, data: Any, event_id: int | str | None = None) -> bytes:
    payload = json.dumps(data, separators=(",", ":"), ensure_ascii=False, default=_json_default)
    head = f"id: {event_id}\n" if event_id is not None else ""
    return f"{head}event: {event}\ndata: {payload}\n\n".encode()


def event_frame(event: Event) -> bytes:
    """A bus event as every event stream sends it (`/api/events`): the one place it is framed."""
    return sse_event(event.type, wire(event), event.seq)


def log_frames(lines: Iterable[LogLine]) -> bytes:
    """`log` events for many lines, as one write.

    The hot path of every live log stream: only the text goes through the JSON encoder, and
    each distinct timestamp is formatted once (a batch's lines share a few).
    """
    encode = json.JSONEncoder(ensure_ascii=False).encode
    parts: list[str] = []
    last_ts: datetime | None = None
    ts_text = ""
    for line in lines:
        if line.ts is not last_ts:
            last_ts, ts_text = line.ts, iso_utc(line.ts)
        parts.append(
            f'id: {line.seq}\nevent: log\ndata: {{"seq":{line.seq},"ts":"{ts_text}",'
            f'"stream":"{line.stream.value}","text":{encode(line.text)},'
            f'"continued":{"true" if line.continued else "false"}}}\n\n'
        )
    return "".join(parts).encode()


class LogFrameCache:
    """Encoded `log` frames of recent line ranges, shared by every reader of a live log.

    A process's log is append-only, so (process, first seq, last seq) names the frames for good:
    when a hundred clients follow one process, a live batch is encoded once, not a hundred times.
    """

    def __init__(self, size: int = 512) -> None:
        self._size = size
        self._frames: OrderedDict[tuple[str, int, int], bytes] = OrderedDict()

    def frames(self, process_id: str, lines: Sequence[LogLine]) -> bytes:
        key = (process_id, lines[0].seq, lines[-1].seq)
        frames = self._frames.get(key)
        if frames is None:
            frames = self._frames[key] = log_frames(lines)
            if len(self._frames) > self._size:
                self._frames.popitem(last=False)
        return frames


def resume_point(request: Request, after: int | None) -> int:
    """Where a stream resumes: Last-Event-ID wins over ?after=, as EventSource sends it."""
    header = request.headers.get("last-event-id")
    if header and header.strip().isdigit():
        return int(header)
    return after or 0


def sse_response(body: AsyncIterator[bytes]) -> StreamingResponse:
    return StreamingResponse(
        body,
        media_type="text/event-stream",
        headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
    )
