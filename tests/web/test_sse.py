"""SSE framing of log lines: the hand-built frames are valid JSON equal to the line's fields,
and a live range is encoded once however many readers ask for it."""

from __future__ import annotations

import json
from datetime import UTC, datetime

from paddock.domain.entities import LogLine
from paddock.domain.states import LogStream
from paddock.web.sse import LogFrameCache, iso_utc, log_frames

TS = datetime(2026, 1, 2, 3, 4, 5, 678901, tzinfo=UTC)


def _parse(frames: bytes) -> list[tuple[str, str, dict]]:
    out = []
    for block in frames.decode().split("\n\n"):
        if not block:
            continue
        fields = dict(line.split(": ", 1) for line in block.split("\n"))
        out.append((fields["id"], fields["event"], json.loads(fields["data"])))
    return out


def test_log_frames_carry_every_field_as_json():
    texts = ['say "hi"', "back\\slash", "tab\tand ✓", "\x1b[1mbold\x1b[0m", ""]
    lines = [
        LogLine(i + 1, TS, LogStream.stderr if i % 2 else LogStream.stdout, t, i == 4)
        for i, t in enumerate(texts)
    ]
    parsed = _parse(log_frames(lines))
    assert [(i, e) for i, e, _ in parsed] == [(str(n), "log") for n in range(1, 6)]
    assert [d for _, _, d in parsed] == [
        {
            "seq": line.seq,
            "ts": "2026-01-02T03:04:05.678901Z",
            "stream": line.stream.value,
            "text": line.text,
            "continued": line.continued,
        }
        for line in lines
    ]


def test_iso_utc_matches_the_rest_form():
    assert iso_utc(TS) == "2026-01-02T03:04:05.678901Z"
    assert iso_utc(TS.replace(microsecond=0)) == "2026-01-02T03:04:05Z"


def test_frame_cache_encodes_a_range_once():
    cache = LogFrameCache(size=2)
    lines = [LogLine(i, TS, LogStream.stdout, f"l{i}") for i in (7, 8, 9)]
    first = cache.frames("p1", lines)
    assert cache.frames("p1", list(lines)) is first  # same range: the same bytes object
    assert cache.frames("p2", lines) is not first  # another process is another log
    assert _parse(cache.frames("p1", lines[1:]))[0][0] == "8"
    # Bounded: the oldest range is dropped, and encoding it again gives equal frames.
    again = cache.frames("p1", lines)
    assert again == first and again is not first
