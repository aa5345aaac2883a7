"""SSE framing of log lines: the hand-built frames are valid JSON equal to the line's fields,
a batch's frames (made from its text, no object per line) are the same bytes as its lines'
frames, a batch's one `lines` event carries exactly the lines of its `log` events, and a live
range is encoded once however many readers ask for it."""

from __future__ import annotations

import json
import random
from datetime import UTC, datetime

from paddock.domain.entities import LogLine
from paddock.domain.logs import LogBatch, LogRun
from paddock.domain.states import LogStream
from paddock.web.sse import LogFrameCache, batch_event, batch_frames, iso_utc, log_frames

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
    def batch(process_id: str, first: int, count: int) -> LogBatch:
        data = "".join(f"l{first + i}\n" for i in range(count)).encode()
        return LogBatch(process_id, first, [LogRun(count, LogStream.stdout, TS.timestamp())], data)

    one = batch("p1", 7, 3)
    cache = LogFrameCache(max_bytes=2 * len(log_frames(one.lines())))  # room for two ranges
    first = cache.batches([one])
    assert cache.batches([batch("p1", 7, 3)]) is first  # same range: the same bytes object
    assert cache.batches([batch("p2", 7, 3)]) is not first  # another process is another log
    assert _parse(cache.batches([batch("p1", 8, 2)]))[0][0] == "8"
    # Bounded: the oldest range is dropped, and encoding it again gives equal frames.
    again = cache.batches([one])
    assert again == first and again is not first


def test_batch_frames_are_the_frames_of_its_lines():
    texts = ['say "hi"', "back\\slash", "tab\tand ✓", "\x1b[1mbold\x1b[0m", "", "100% %s %d"]
    texts += ["\x00\x01\x08\x0c\x1f\x7f", "line\u2028sep 🚀"]
    data = "".join(t + "\n" for t in texts).encode()
    runs = [
        LogRun(3, LogStream.stdout, TS.timestamp()),
        LogRun(1, LogStream.stdout, TS.timestamp(), True),
        LogRun(4, LogStream.stderr, TS.timestamp() + 1.5),
    ]
    batch = LogBatch("p", 41, runs, data)
    frames = batch_frames(batch)
    assert frames == log_frames(batch.lines())
    parsed = _parse(frames)
    assert [d["text"] for _, _, d in parsed] == texts
    assert [d["continued"] for _, _, d in parsed] == [False] * 3 + [True] + [False] * 4
    assert [i for i, _, _ in parsed] == [str(n) for n in range(41, 49)]


def test_batch_frames_match_for_random_batches_and_invalid_utf8():
    rnd = random.Random(18)
    alphabet = ["a", " ", '"', "\\", "\t", "\x1b", "\x00", "é", "🚀", "%", "\r", "{"]
    for _ in range(500):
        texts = ["".join(rnd.choices(alphabet, k=rnd.randint(0, 6))) for _ in range(5)]
        data = "".join(t + "\n" for t in texts).encode()
        if rnd.random() < 0.2:
            data = data.replace(b"a", b"\xff\xc3", 1)  # a reader of its lines gets U+FFFD
        runs = [LogRun(2, LogStream.stderr, 1.25), LogRun(3, LogStream.stdout, 1765000000.5)]
        batch = LogBatch("p", rnd.randint(1, 10**6), runs, data)
        assert batch_frames(batch) == log_frames(batch.lines())


def test_frame_cache_encodes_a_batch_once_and_joins_consecutive_ones():
    cache = LogFrameCache()
    one = LogBatch("p1", 1, [LogRun(2, LogStream.stdout, 1.0)], b"a\nb\n")
    two = LogBatch("p1", 3, [LogRun(1, LogStream.stderr, 2.0)], b"c\n")
    first = cache.batches([one])
    assert cache.batches([LogBatch("p1", 1, one.runs, one.data)]) is first
    joined = cache.batches([one, two])
    assert joined == log_frames([*one.lines(), *two.lines()])
    assert [i for i, _, _ in _parse(joined)] == ["1", "2", "3"]


def _lines_of_event(event: bytes) -> tuple[str, list[dict]]:
    """The id of one `lines` event and its lines as `log` events carry them. The event is split
    at every line break str.splitlines knows (as httpx's iter_lines does): it must still be
    exactly three lines, so any SSE client reads its data whole."""
    assert event.endswith(b"\n\n")
    head, kind, data = event.decode()[:-2].splitlines()
    assert kind == "event: lines" and head.startswith("id: ") and data.startswith("data: ")
    batch = json.loads(data.removeprefix("data: "))
    texts = iter(batch["texts"])
    seq = batch["first_seq"]
    lines = []
    for run in batch["runs"]:
        for _ in range(run["count"]):
            line = {"seq": seq, "ts": run["ts"], "stream": run["stream"], "text": next(texts)}
            lines.append({**line, "continued": run["continued"]})
            seq += 1
    assert next(texts, None) is None  # no text without a run
    assert batch["last_seq"] == seq - 1
    return head.removeprefix("id: "), lines


def test_a_batch_event_carries_exactly_the_lines_of_its_log_events():
    rnd = random.Random(5)
    alphabet = ["a", " ", '"', "\\", "\t", "\x1b", "\x00", "\x7f", "é", "🚀", "%", "\r", "{"]
    alphabet += ["\u2028", "\u2029", "\x85", "\x0b", "\x1c", '","', "]}", "\\n", "\ufeff"]
    for _ in range(500):
        count = rnd.randint(1, 12)
        texts = ["".join(rnd.choices(alphabet, k=rnd.randint(0, 8))) for _ in range(count)]
        data = "".join(t + "\n" for t in texts).encode()
        for _ in range(rnd.randint(0, 3)):  # invalid UTF-8: a cut sequence, a stray byte
            at = rnd.randint(0, len(data) - 1)
            if data[at : at + 1] != b"\n":
                data = (
                    data[:at]
                    + rnd.choice([b"\xff", b"\xc3", b"\xe2\x80", b"\xed\xa0\x80"])
                    + data[at:]
                )
        runs, left = [], count
        while left:  # streams, times and cut lines (a `continued` run of one) vary
            n = 1 if rnd.random() < 0.3 else rnd.randint(1, left)
            stream = rnd.choice(list(LogStream))
            runs.append(
                LogRun(n, stream, 1765000000 + rnd.random() * 100, n == 1 and rnd.random() < 0.5)
            )
            left -= n
        batch = LogBatch("p", rnd.randint(1, 10**6), runs, data)
        event_id, lines = _lines_of_event(batch_event(batch))
        expected = [d for _, _, d in _parse(batch_frames(batch))]
        assert lines == expected
        assert event_id == str(batch.last_seq)  # resuming after it skips the whole batch


def test_a_cut_batch_is_an_event_of_the_rest():
    data = b"".join(b"line %d\n" % i for i in range(1, 11))
    runs = [LogRun(4, LogStream.stdout, 1.0), LogRun(1, LogStream.stderr, 2.0, True)]
    batch = LogBatch("p", 1, [*runs, LogRun(5, LogStream.stderr, 2.0)], data)
    event_id, lines = _lines_of_event(batch_event(batch.slice(3)))  # resumed after seq 3
    assert event_id == "10"
    assert [(line["seq"], line["text"]) for line in lines] == [
        (s, f"line {s}") for s in range(4, 11)
    ]
    assert [line["continued"] for line in lines] == [False, True, *[False] * 5]
    assert batch_event(batch.slice(10)) == b""  # nothing after the last line: no event


def test_frame_cache_keeps_both_forms_apart():
    cache = LogFrameCache()
    one = LogBatch("p1", 1, [LogRun(2, LogStream.stdout, 1.0)], b"a\nb\n")
    two = LogBatch("p1", 3, [LogRun(1, LogStream.stderr, 2.0)], b"c\n")
    assert cache.batches([one]) == batch_frames(one)
    batched = cache.batches([one], batched=True)
    assert batched == batch_event(one)
    assert cache.batches([LogBatch("p1", 1, one.runs, one.data)], batched=True) is batched
    assert cache.batches([one, two], batched=True) == batch_event(one) + batch_event(two)
