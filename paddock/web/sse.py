"""Server-sent events: framing and the streaming response."""

from __future__ import annotations

import json
import re
from collections import OrderedDict
from collections.abc import AsyncIterator, Callable, Iterable, Sequence
from datetime import UTC, datetime
from functools import partial
from typing import Any

from fastapi import Request
from starlette.responses import StreamingResponse
from starlette.types import Receive, Scope, Send

from paddock.domain.entities import Event, LogLine
from paddock.domain.events import wire
from paddock.domain.logs import LogBatch
from paddock.inputs.scalars import MAX_INDEX
from paddock.services import counters

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


# What JSON escapes in a string (json.dumps with ensure_ascii=False): the quote, the backslash
# and the control characters. A line never holds b"\n", so it is left out: the batch's lines
# stay apart while the whole batch is escaped in one pass.
_JSON_SPECIAL = re.compile(rb'[\x00-\x09\x0b-\x1f"\\]')
_JSON_SPECIAL_BYTES = bytes([*range(0x0A), *range(0x0B, 0x20), ord('"'), ord("\\")])
_JSON_ESCAPES = {
    bytes([c]): json.dumps(chr(c)).encode()[1:-1] for c in (*range(0x20), ord('"'), ord("\\"))
}


# The constant parts of a `log` frame around its seq (it comes twice: the id, and in the data).
_ID = b"id: "
_AFTER_ID = b'\nevent: log\ndata: {"seq":'


def _escape(match: re.Match[bytes]) -> bytes:
    return _JSON_ESCAPES[match.group()]


def batch_frames(batch: LogBatch) -> bytes:
    """`log` events for every line of a batch, as one write: the same bytes as log_frames of
    its lines, made from the batch's text without a Python object per line.

    The hot path of every live log stream, so every step is one C-level pass over the batch:
    the text is escaped for JSON at once, the seqs are formatted by one `%`, and the frames
    are the seqs and texts put into a list of the frames' constant parts, then joined.
    """
    data = batch.data
    if not data.isascii():
        data = data.decode("utf-8", "replace").encode()  # what a reader of its lines gets
    if len(data.translate(None, _JSON_SPECIAL_BYTES)) != len(data):  # faster than a search
        data = _JSON_SPECIAL.sub(_escape, data)
    texts = data.split(b"\n")
    count = len(texts) - 1  # the text ends in b"\n"
    if count <= 0:
        return b""
    seqs = (b"%d\n" * count % tuple(range(batch.first_seq, batch.first_seq + count))).split(b"\n")
    # Per line: id: SEQ\nevent: log\ndata: {"seq":SEQ,"ts":…,"text":"TEXT",…}\n\n; a frame's
    # end and the next one's "id: " are one constant part.
    parts: list[bytes] = [_ID]
    index = 0
    for run in batch.runs:
        ts = iso_utc(datetime.fromtimestamp(run.ts, UTC)).encode()
        after_seq2 = b',"ts":"' + ts + b'","stream":"' + run.stream.value.encode() + b'","text":"'
        after_text = b'","continued":' + (b"true" if run.continued else b"false") + b"}\n\n"
        frames: list[bytes] = [b"", _AFTER_ID, b"", after_seq2, b"", after_text + _ID] * run.count
        end = index + run.count
        frames[0::6] = seqs[index:end]
        frames[2::6] = seqs[index:end]
        frames[4::6] = texts[index:end]
        parts += frames
        index = end
    parts[-1] = parts[-1][: -len(_ID)]
    return b"".join(parts)


# The batched form (`lines` events): every line of a batch in one event whose id is its last
# seq. Its texts are one JSON array: the batch's newlines become the separators between them.
_LINES_EVENT = b'\nevent: lines\ndata: {"first_seq":'
# Line separators that JSON leaves raw but some clients split lines at (Python's
# str.splitlines, which httpx's iter_lines uses): escaped, so an event is always one line.
_LINE_SEPARATORS = {"\u0085": b"\\u0085", "\u2028": b"\\u2028", "\u2029": b"\\u2029"}


def batch_event(batch: LogBatch) -> bytes:
    """One `lines` event for every line of a batch: what a `?batch=true` stream sends.

    `data: {"first_seq", "last_seq", "runs": [{count, stream, ts, continued}], "texts"}`: the
    runs say, in order, which stream, time and `continued` flag each stretch of lines has; the
    texts are exactly the `text` of each line's `log` event. About the size of the text itself
    (a `log` event per line is ~5 times it), made in a few C-level passes over the batch.
    """
    count = batch.count
    if count <= 0:
        return b""
    data = batch.data
    text = None
    if not data.isascii():
        text = data.decode("utf-8", "replace")  # what a reader of its lines gets
        data = text.encode()
    if len(data.translate(None, _JSON_SPECIAL_BYTES)) != len(data):
        data = _JSON_SPECIAL.sub(_escape, data)
    if text is not None:
        for char, escaped in _LINE_SEPARATORS.items():
            if char in text:
                data = data.replace(char.encode(), escaped)
    runs = b",".join(
        b'{"count":%d,"stream":"%s","ts":"%s","continued":%s}'
        % (
            run.count,
            run.stream.value.encode(),
            iso_utc(datetime.fromtimestamp(run.ts, UTC)).encode(),
            b"true" if run.continued else b"false",
        )
        for run in batch.runs
    )
    last = batch.first_seq + count - 1
    return b"".join(
        [
            b"id: %d" % last,
            _LINES_EVENT,
            b'%d,"last_seq":%d,"runs":[' % (batch.first_seq, last),
            runs,
            b'],"texts":["',
            data[:-1].replace(b"\n", b'","'),  # the text ends in b"\n"
            b'"]}\n\n',
        ]
    )


class LogFrameCache:
    """Encoded frames of recent batches (`log` events, or one `lines` event each), shared by
    every reader of a live log.

    A process's log is append-only, so (process, first seq, last seq, form) names the frames for
    good: when a hundred clients follow one process, a live batch is encoded once, not a hundred
    times. Bounded by bytes: a flood's batches are large, and one reader needs none of them again.
    """

    def __init__(self, max_bytes: int = 8 << 20) -> None:
        self._max_bytes = max_bytes
        self._bytes = 0
        self._frames: OrderedDict[tuple[str, int, int, bool], bytes] = OrderedDict()

    def batches(self, batches: Sequence[LogBatch], *, batched: bool = False) -> bytes:
        """The frames of consecutive batches, as one write: a `log` event per line, or with
        `batched` a `lines` event per batch."""
        if len(batches) == 1:  # per reader and wake-up, usually: one lookup
            return self._batch(batches[0], batched)
        return b"".join([self._batch(b, batched) for b in batches])

    def _batch(self, batch: LogBatch, batched: bool) -> bytes:
        key = (batch.process_id, batch.first_seq, batch.last_seq, batched)
        frames = self._frames.get(key)
        if frames is not None:
            return frames
        return self._get(key, partial(batch_event if batched else batch_frames, batch))

    def _get(self, key: tuple[str, int, int, bool], encode: Callable[[], bytes]) -> bytes:
        frames = self._frames.get(key)
        if frames is None:
            frames = self._frames[key] = encode()
            self._bytes += len(frames)
            while self._bytes > self._max_bytes and len(self._frames) > 1:
                self._bytes -= len(self._frames.popitem(last=False)[1])
        return frames


def resume_point(request: Request, after: int | None) -> int:
    """Where a stream resumes: Last-Event-ID wins over ?after=, as EventSource sends it."""
    header = request.headers.get("last-event-id")
    if header and header.strip().isdigit():
        return min(int(header), MAX_INDEX)  # past every seq; a bigger one would overflow
    return after or 0


class _CountedStream(StreamingResponse):
    """A stream counted in `paddock_sse_clients` while it is open (once per stream, not per
    event: nothing is added to the events' path)."""

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        counters.SSE_CONNECTIONS.inc()
        counters.SSE_CLIENTS.inc()
        try:
            await super().__call__(scope, receive, send)
        finally:
            counters.SSE_CLIENTS.dec()


def sse_response(body: AsyncIterator[bytes]) -> StreamingResponse:
    return _CountedStream(
        body,
        media_type="text/event-stream",
        headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
    )
