"""The log sink: numbering, live publishing, batched persisting, back-pressure, the pump."""

from __future__ import annotations

import asyncio
import logging
import sys

import pytest

from paddock.domain.logs import LogBatch, LogRun
from paddock.domain.secrets import REDACTED
from paddock.domain.states import LogStream
from paddock.runtime.events import SYNC
from paddock.runtime.logpipe import LogHub, LogSink, merge_batches, pump

SAMPLE = (
    "first line\n"
    "\n"
    "héllo wörld \u2013 ünïcode €uro 🚀 rocket\n"
    "\x1b[32mgreen\x1b[0m and a tab\there\n"
    "windows line\r\n"
    "progress 10%\rprogress 50%\rprogress 100%\n"
    "last line without newline"
).encode()

SAMPLE_LINES = [
    "first line",
    "",
    "héllo wörld \u2013 ünïcode €uro 🚀 rocket",
    "\x1b[32mgreen\x1b[0m and a tab\there",
    "windows line",
    "progress 100%",
    "last line without newline",
]


class FakeStore:
    """Test double for the log store: persist() keeps the batches it is handed."""

    def __init__(self) -> None:
        self.batches: list[LogBatch] = []
        self.calls = 0
        self.in_flight = 0
        self.max_in_flight = 0

    async def persist(self, batches: list[LogBatch]) -> None:
        self.calls += 1
        self.in_flight += 1
        self.max_in_flight = max(self.max_in_flight, self.in_flight)
        await asyncio.sleep(0)
        self.in_flight -= 1
        self.batches.extend(batches)

    def lines(self, after: int = 0, upto: int | None = None):
        return [
            line
            for batch in self.batches
            if batch.last_seq > after
            for line in batch.lines(after)
            if upto is None or line.seq <= upto
        ]


def batch_lines(batches: list[LogBatch]):
    return [line for batch in batches for line in batch.lines()]


@pytest.mark.anyio
async def test_seq_numbering_without_gaps_across_streams():
    store = FakeStore()
    sink = LogSink("p1", store.persist)
    snapshot = sink.subscribe()
    sink.system("process started")
    sink.write(LogStream.stdout, b"out 1\nout")
    sink.write(LogStream.stderr, b"err 1\nerr 2\n")
    sink.write(LogStream.stdout, b" 2\nout 3\n")
    sink.system("two\nlines")
    sink.write(LogStream.stderr, b"unterminated")
    assert sink.last_seq == 8
    await sink.close()
    published = []
    while True:
        item = await snapshot.subscription.get(1)
        if item is None:
            break
        assert isinstance(item, LogBatch)
        published.append(item)
    expected = [
        (1, LogStream.system, "process started"),
        (2, LogStream.stdout, "out 1"),
        (3, LogStream.stderr, "err 1"),
        (4, LogStream.stderr, "err 2"),
        (5, LogStream.stdout, "out 2"),
        (6, LogStream.stdout, "out 3"),
        (7, LogStream.system, "two"),
        (8, LogStream.system, "lines"),
        (9, LogStream.stderr, "unterminated"),
    ]
    assert [(x.seq, x.stream, x.text) for x in batch_lines(published)] == expected
    assert [(x.seq, x.stream, x.text) for x in store.lines()] == expected
    assert sink.last_seq == sink.persisted_seq == sink.line_count == 9
    assert sink.closed


@pytest.mark.anyio
async def test_first_seq_continues_numbering():
    store = FakeStore()
    sink = LogSink("p1", store.persist, first_seq=101)
    assert (sink.last_seq, sink.persisted_seq, sink.line_count) == (100, 100, 0)
    sink.write(LogStream.stdout, b"a\nb\n")
    await sink.close()
    assert [x.seq for x in store.lines()] == [101, 102]
    assert sink.line_count == 2


@pytest.mark.anyio
async def test_one_persist_at_a_time_and_small_batches_merged():
    store = FakeStore()
    sink = LogSink("p1", store.persist, flush_seconds=0.01)
    for i in range(500):
        sink.write(LogStream.stdout if i % 2 else LogStream.stderr, b"line %d\n" % i)
        if i % 50 == 0:
            await asyncio.sleep(0)
    await sink.close()
    assert store.max_in_flight == 1
    assert len(store.batches) < 100  # 500 writes, far fewer rows
    assert [x.seq for x in store.lines()] == list(range(1, 501))
    assert [x.text for x in store.lines()] == [f"line {i}" for i in range(500)]
    firsts = [b.first_seq for b in store.batches]
    assert firsts == sorted(firsts)


def test_merge_batches_keeps_continued_runs_apart():
    sink_batches = []
    for seq in range(1, 5):
        sink_batches.append(
            LogBatch("p", seq, [LogRun(1, LogStream.stdout, 1.0, seq == 2)], b"x%d\n" % seq)
        )
    merged = merge_batches(sink_batches, 1 << 20)
    assert len(merged) == 1
    assert [(r.count, r.continued) for r in merged[0].runs] == [(1, False), (1, True), (2, False)]
    assert [x.text for x in merged[0].lines()] == ["x1", "x2", "x3", "x4"]
    assert len(merge_batches(sink_batches, 6)) == 2


@pytest.mark.anyio
async def test_snapshot_then_live_without_gap_or_duplicate():
    store = FakeStore()
    # A small queue, so readers also go through SYNC and back to the store.
    sink = LogSink("p1", store.persist, flush_seconds=0.001, flush_bytes=200, queue_size=4)
    total = 3000

    async def writer():
        for i in range(1, total + 1):
            stream = LogStream.stdout if i % 3 else LogStream.stderr
            sink.write(stream, b"line %d\n" % i)
            if i % 7 == 0:
                await asyncio.sleep(0)
        await sink.close()

    async def reader(start_at: int):
        """What a log follower does: store up to persisted_seq, pending, live; SYNC: again."""
        while sink.last_seq < start_at:  # noqa: ASYNC110 (a test: poll the writer's progress)
            await asyncio.sleep(0)
        got: list[int] = []
        last = 0
        syncs = 0
        while True:
            snapshot = sink.subscribe()
            with snapshot.subscription as subscription:
                for line in store.lines(after=last, upto=snapshot.persisted_seq):
                    got.append(line.seq)
                    last = line.seq
                for batch in snapshot.pending:
                    for line in batch.lines(after=last):
                        got.append(line.seq)
                        last = line.seq
                if snapshot.closed:
                    return got, syncs
                while True:
                    item = await subscription.get()
                    if item is SYNC:
                        syncs += 1
                        break
                    if item is None:
                        return got, syncs
                    assert isinstance(item, LogBatch)
                    for line in item.lines(after=last):
                        got.append(line.seq)
                        last = line.seq

    results = await asyncio.gather(writer(), reader(1), reader(500), reader(2000), reader(total))
    for got, _syncs in results[1:]:
        assert got == list(range(1, total + 1))
    assert sum(syncs for _got, syncs in results[1:]) > 0  # the SYNC path was taken too


@pytest.mark.anyio
async def test_slow_subscriber_gets_sync():
    store = FakeStore()
    sink = LogSink("p1", store.persist, queue_size=4)
    snapshot = sink.subscribe()
    for i in range(10):
        sink.write(LogStream.stdout, b"line %d\n" % i)
    assert await snapshot.subscription.get(1) is SYNC
    await sink.close()
    # After SYNC, the reader re-reads from the store: nothing was lost there.
    assert [x.seq for x in store.lines()] == list(range(1, 11))


@pytest.mark.anyio
async def test_drain_blocks_while_persist_is_slow():
    release = asyncio.Event()
    persisted: list[LogBatch] = []

    async def slow_persist(batches: list[LogBatch]) -> None:
        await release.wait()
        persisted.extend(batches)

    sink = LogSink("p1", slow_persist, flush_bytes=100, max_pending_bytes=1000)
    await sink.drain()  # nothing pending: returns at once
    sink.write(LogStream.stdout, b"x" * 99 + b"\n")
    await sink.drain()  # below the limit
    for _ in range(20):
        sink.write(LogStream.stdout, b"y" * 99 + b"\n")
    assert sink.pending_bytes == 2100
    drain = asyncio.create_task(sink.drain())
    await asyncio.sleep(0.05)
    assert not drain.done()
    release.set()
    await asyncio.wait_for(drain, 5)
    assert sink.pending_bytes <= 1000
    await sink.close()
    assert sum(b.count for b in persisted) == 21
    assert sink.persisted_seq == 21


@pytest.mark.anyio
async def test_persist_failure_is_retried_without_loss(caplog):
    store = FakeStore()
    failures = 3

    async def flaky(batches: list[LogBatch]) -> None:
        nonlocal failures
        if failures:
            failures -= 1
            raise RuntimeError("database is locked")
        await store.persist(batches)

    sink = LogSink("p1", flaky, flush_seconds=0.001)
    with caplog.at_level(logging.ERROR, logger="paddock.runtime.logpipe"):
        for i in range(100):
            sink.write(LogStream.stdout, b"line %d\n" % i)
            await asyncio.sleep(0)
        await asyncio.wait_for(sink.close(), 10)
    assert failures == 0
    assert [x.text for x in store.lines()] == [f"line {i}" for i in range(100)]
    assert [x.seq for x in store.lines()] == list(range(1, 101))
    assert "database is locked" in caplog.text
    assert sink.persisted_seq == 100


@pytest.mark.anyio
async def test_close_gives_up_on_a_persist_that_never_works(caplog, monkeypatch):
    async def broken(batches: list[LogBatch]) -> None:
        raise RuntimeError("no such table")

    monkeypatch.setattr(LogSink, "close_retries", 1)
    sink = LogSink("p1", broken, flush_seconds=0.001)
    sink.write(LogStream.stdout, b"doomed\n")
    with caplog.at_level(logging.ERROR, logger="paddock.runtime.logpipe"):
        await asyncio.wait_for(sink.close(), 10)
    assert "giving up" in caplog.text
    assert sink.closed


@pytest.mark.anyio
async def test_close_is_idempotent_and_flushes_partials():
    store = FakeStore()
    sink = LogSink("p1", store.persist)
    snapshot = sink.subscribe()
    sink.write(LogStream.stdout, b"no newline")
    sink.write(LogStream.stderr, b"neither")
    await asyncio.gather(sink.close(), sink.close())
    await sink.close()
    assert [x.text for x in store.lines()] == ["no newline", "neither"]
    items = []
    while True:
        item = await snapshot.subscription.get(1)
        items.append(item)
        if item is None:
            break
    assert items.count(None) == 1
    late = sink.subscribe()
    assert late.closed and late.pending == [] and late.persisted_seq == 2
    sink.write(LogStream.stdout, b"after close\n")  # dropped with a warning
    assert sink.last_seq == 2


@pytest.mark.anyio
async def test_sink_redacts_secrets():
    store = FakeStore()
    sink = LogSink("p1", store.persist, secrets=["tok-123456"])
    sink.system("$ deploy --token tok-123456")
    sink.write(LogStream.stdout, b"using tok-12")
    sink.write(LogStream.stdout, b"3456\n")
    await sink.close()
    assert [x.text for x in store.lines()] == [
        f"$ deploy --token {REDACTED}",
        f"using {REDACTED}",
    ]


@pytest.mark.anyio
async def test_pump_from_a_real_subprocess():
    code = (
        "import sys\n"
        "for i in range(20000):\n"
        "    print(f'out {i} ' + 'x' * (i % 50))\n"
        "    if i % 1000 == 0:\n"
        "        print(f'err {i}', file=sys.stderr)\n"
        "sys.stdout.write('tail without newline')\n"
    )
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-c",
        code,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    assert proc.stdout is not None and proc.stderr is not None
    store = FakeStore()
    sink = LogSink("p1", store.persist, max_pending_bytes=1 << 16, flush_bytes=1 << 14)
    await asyncio.gather(
        pump(proc.stdout, LogStream.stdout, sink, chunk_size=4096),
        pump(proc.stderr, LogStream.stderr, sink),
    )
    assert await proc.wait() == 0
    sink.system("exit code 0")
    await sink.close()
    lines = store.lines()
    assert [x.seq for x in lines] == list(range(1, len(lines) + 1))
    out = [x.text for x in lines if x.stream is LogStream.stdout]
    err = [x.text for x in lines if x.stream is LogStream.stderr]
    assert out == [f"out {i} " + "x" * (i % 50) for i in range(20000)] + ["tail without newline"]
    assert err == [f"err {i}" for i in range(0, 20000, 1000)]
    assert lines[-1].stream is LogStream.system and lines[-1].text == "exit code 0"


def test_hub_registry():
    hub = LogHub()

    async def persist(batches: list[LogBatch]) -> None:
        return None

    sink = LogSink("p1", persist)
    hub.add(sink)
    assert hub.get("p1") is sink
    assert hub.get("p2") is None
    hub.remove("p1")
    hub.remove("p1")
    assert hub.get("p1") is None


def test_batch_lines_are_materialised_once_and_sliced_by_seq():
    batch = LogBatch(
        "p",
        10,
        [LogRun(2, LogStream.stdout, 1.0), LogRun(1, LogStream.stderr, 2.0)],
        b"a\nb\nc\n",
    )
    every = batch.lines()
    assert [(line.seq, line.text, line.stream) for line in every] == [
        (10, "a", LogStream.stdout),
        (11, "b", LogStream.stdout),
        (12, "c", LogStream.stderr),
    ]
    assert batch.lines(after=5) is every  # shared by all readers, not rebuilt
    assert [line.seq for line in batch.lines(after=10)] == [11, 12]
    assert batch.lines(after=12) == []


def test_batch_slice_cuts_lines_and_runs():
    batch = LogBatch(
        "p",
        10,
        [
            LogRun(2, LogStream.stdout, 1.0),
            LogRun(1, LogStream.stderr, 2.0, True),
            LogRun(3, LogStream.stderr, 2.0),
        ],
        "a\nb\ncut\nrest ✓\ne\nf\n".encode(),
    )

    def seen(b: LogBatch) -> list[tuple[int, str, LogStream, bool]]:
        return [(x.seq, x.text, x.stream, x.continued) for x in b.lines()]

    assert batch.slice() is batch
    assert batch.slice(after=9, upto=20) is batch
    every = seen(batch)
    for after in range(8, 17):
        for upto in range(after, 17):
            cut = batch.slice(after, upto)
            assert seen(cut) == [x for x in every if after < x[0] <= upto]
            assert cut.count == len(seen(cut))
    middle = batch.slice(after=11, upto=14)
    assert (middle.first_seq, middle.last_seq, middle.data) == (12, 14, "cut\nrest ✓\ne\n".encode())
    assert [(r.count, r.continued) for r in middle.runs] == [(1, True), (2, False)]
