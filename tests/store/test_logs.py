"""The log store: batches in, lines out."""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
from sqlalchemy import delete, func, select

from paddock.domain.logs import LogBatch, LogRun
from paddock.domain.states import LogStream
from paddock.runtime.logpipe import LogSink
from paddock.store import logs as log_store
from paddock.store.db import Database
from paddock.store.tables.attempts import AttemptRow
from paddock.store.tables.processes import LogChunkRow, ProcessRow
from paddock.store.tables.projects import ProjectRow, StepRow
from paddock.store.tables.tasks import TaskRow

OUT, ERR, SYS = LogStream.stdout, LogStream.stderr, LogStream.system


def make_process(db: Database, process_id: str = "p" * 32, suffix: str = "1") -> str:
    """A projects → steps → tasks → attempts → processes chain."""
    with db.session() as s:
        s.add(
            ProjectRow(
                id="a" * 31 + suffix,
                name=f"proj{suffix}",
                repo_path=f"/repo{suffix}",
                default_branch="main",
            )
        )
        s.flush()
        s.add(
            StepRow(
                id="b" * 31 + suffix,
                project_id="a" * 31 + suffix,
                name="Build",
                position=0,
                color="blue",
            )
        )
        s.flush()
        s.add(
            TaskRow(
                id="c" * 31 + suffix,
                project_id="a" * 31 + suffix,
                step_id="b" * 31 + suffix,
                title="t",
                position=1.0,
            )
        )
        s.flush()
        s.add(
            AttemptRow(
                id="d" * 31 + suffix,
                task_id="c" * 31 + suffix,
                project_id="a" * 31 + suffix,
                status="running",
                branch=f"b{suffix}",
                base_branch="main",
                worktree_path="/wt",
            )
        )
        s.flush()
        s.add(
            ProcessRow(
                id=process_id, attempt_id="d" * 31 + suffix, reason="agent", status="running"
            )
        )
    return process_id


@pytest.fixture
def pid(database: Database) -> str:
    return make_process(database)


def batch(
    pid: str, first_seq: int, texts: list[str], stream: LogStream = OUT, ts: float = 1_700_000_000.5
) -> LogBatch:
    data = "".join(t + "\n" for t in texts).encode()
    return LogBatch(pid, first_seq, [LogRun(len(texts), stream, ts)], data)


def numbered(pid: str, chunks: int, per_chunk: int) -> Iterator[LogBatch]:
    seq = 1
    for _ in range(chunks):
        yield batch(
            pid, seq, [f"line {seq + i}" for i in range(per_chunk)], OUT if seq % 2 else ERR
        )
        seq += per_chunk


def test_round_trip(database: Database, pid: str):
    first = LogBatch(
        pid,
        1,
        [
            LogRun(2, OUT, 1_700_000_000.25),
            LogRun(1, ERR, 1_700_000_001.5, continued=True),
            LogRun(1, ERR, 1_700_000_001.5),
        ],
        "hello\nwörld 🚀\ncut he\nre\n".encode(),
    )
    second = LogBatch(pid, 5, [LogRun(1, SYS, 1_700_000_002.0)], b"exit code 0\n")
    with database.session() as s:
        log_store.write_batches(s, [first, second])
    with database.session() as s:
        lines = log_store.read_lines(s, pid)
        assert log_store.max_seq(s, pid) == 5
        assert log_store.max_seq(s, "x" * 32) == 0
    assert [(x.seq, x.stream, x.text, x.continued) for x in lines] == [
        (1, OUT, "hello", False),
        (2, OUT, "wörld 🚀", False),
        (3, ERR, "cut he", True),
        (4, ERR, "re", False),
        (5, SYS, "exit code 0", False),
    ]
    assert lines[0].ts == datetime.fromtimestamp(1_700_000_000.25, UTC)
    assert lines[2].ts == datetime(2023, 11, 14, 22, 13, 21, 500000, tzinfo=UTC)
    with database.session() as s:
        row = s.scalars(select(LogChunkRow).order_by(LogChunkRow.first_seq)).first()
        assert row is not None
        assert (row.first_seq, row.last_seq) == (1, 4)
        assert row.runs == [
            [2, "stdout", 1_700_000_000.25, 0],
            [1, "stderr", 1_700_000_001.5, 1],
            [1, "stderr", 1_700_000_001.5, 0],
        ]


def test_empty_batches_are_skipped(database: Database, pid: str):
    with database.session() as s:
        log_store.write_batches(s, [])
        log_store.write_batches(s, [LogBatch(pid, 1)])
        assert s.scalar(select(func.count()).select_from(LogChunkRow)) == 0


def test_after_and_limit_paging(database: Database, pid: str):
    with database.session() as s:
        log_store.write_batches(s, list(numbered(pid, 3, 10)))
    with database.session() as s:
        assert [x.seq for x in log_store.read_lines(s, pid, after=5, limit=10)] == list(
            range(6, 16)
        )
        assert log_store.read_lines(s, pid, after=30) == []
        assert log_store.read_lines(s, pid, limit=0) == []
        assert [x.text for x in log_store.read_lines(s, pid, after=29)] == ["line 30"]
        seen: list[int] = []
        after = 0
        while page := log_store.read_lines(s, pid, after=after, limit=7):
            seen.extend(x.seq for x in page)
            after = page[-1].seq
        assert seen == list(range(1, 31))


def test_stream_filter(database: Database, pid: str):
    with database.session() as s:
        log_store.write_batches(
            s,
            [
                LogBatch(
                    pid,
                    1,
                    [LogRun(2, OUT, 1.0), LogRun(1, ERR, 2.0), LogRun(1, OUT, 3.0)],
                    b"o1\no2\ne1\no3\n",
                ),
                batch(pid, 5, ["e2", "e3"], ERR),
                batch(pid, 7, ["o4"], OUT),
            ],
        )
    with database.session() as s:
        errs = log_store.read_lines(s, pid, stream=ERR)
        outs = log_store.read_lines(s, pid, stream=OUT, after=1, limit=2)
    assert [(x.seq, x.text) for x in errs] == [(3, "e1"), (5, "e2"), (6, "e3")]
    assert [(x.seq, x.text) for x in outs] == [(2, "o2"), (4, "o3")]


def test_search_ignores_ansi_and_case(database: Database, pid: str):
    red_error = "\x1b[1;31mERROR\x1b[0m: Boom in \x1b]8;;http://x\x07module\x1b]8;;\x07"
    with database.session() as s:
        log_store.write_batches(
            s,
            [
                batch(pid, 1, ["all good", red_error, "error: boom elsewhere"]),
                batch(pid, 4, ["nothing here"]),
                batch(pid, 5, ["\x1b[33mwarn\x1b[0m", "ERROR: BOOM again"], ERR),
            ],
        )
    with database.session() as s:
        hits = log_store.read_lines(s, pid, q="error: boom")
        assert [(x.seq, x.text) for x in hits] == [
            (2, red_error),  # the text comes back as printed, escapes and all
            (3, "error: boom elsewhere"),
            (6, "ERROR: BOOM again"),
        ]
        assert [x.seq for x in log_store.read_lines(s, pid, q="boom in module")] == [2]
        assert log_store.read_lines(s, pid, q="31m") == []
        assert [x.seq for x in log_store.read_lines(s, pid, q="Boom", stream=ERR)] == [6]
        assert [x.seq for x in log_store.read_lines(s, pid, q="boom", after=2, limit=1)] == [3]


def test_iter_lines_over_many_chunks(database: Database, pid: str):
    with database.session() as s:
        log_store.write_batches(s, list(numbered(pid, 100, 7)))
    with database.session() as s:
        lines = list(log_store.iter_lines(s, pid))
        assert [x.seq for x in lines] == list(range(1, 701))
        assert [x.text for x in lines] == [f"line {i}" for i in range(1, 701)]
        assert [x.seq for x in log_store.iter_lines(s, pid, after=350)] == list(range(351, 701))
        assert log_store.max_seq(s, pid) == 700


@pytest.mark.anyio
async def test_log_writer_persist_then_read_elsewhere(database: Database, pid: str):
    writer = log_store.LogWriter(database)
    try:
        await writer.persist(list(numbered(pid, 3, 4)))
        await writer.persist([])
    finally:
        writer.close()
    lines = database.call(lambda s: log_store.read_lines(s, pid))
    assert [x.text for x in lines] == [f"line {i}" for i in range(1, 13)]
    raw = database.call(lambda s: s.scalars(select(LogChunkRow.data)).first())
    assert raw is not None and raw != b"line 1\n"  # compressed


@pytest.mark.anyio
async def test_sink_with_log_writer_end_to_end(database: Database, pid: str):
    writer = log_store.LogWriter(database)
    sink = LogSink(
        pid, writer.persist, secrets=["sekrit-token"], flush_seconds=0.001, flush_bytes=4096
    )
    try:
        sink.system("$ run")
        for i in range(5000):
            sink.write(OUT if i % 5 else ERR, b"line %d sekrit-" % i)
            sink.write(OUT if i % 5 else ERR, b"token\n")
            if i % 100 == 0:
                await asyncio.sleep(0)
        await sink.close()
    finally:
        writer.close()
    lines = database.call(lambda s: log_store.read_lines(s, pid, limit=10_000))
    assert [x.seq for x in lines] == list(range(1, 5002))
    assert lines[0].text == "$ run"
    assert lines[1].text == "line 0 [REDACTED]" and lines[1].stream is ERR
    assert all("sekrit" not in x.text for x in lines)
    chunks = database.call(lambda s: s.scalar(select(func.count()).select_from(LogChunkRow)))
    assert chunks is not None and chunks < 1000


def test_deleting_a_process_deletes_its_chunks(database: Database, pid: str):
    other = make_process(database, "q" * 32, suffix="2")
    with database.session() as s:
        log_store.write_batches(s, list(numbered(pid, 5, 3)) + list(numbered(other, 2, 3)))
    with database.session() as s:
        s.execute(delete(ProcessRow).where(ProcessRow.id == pid))
    with database.session() as s:
        assert s.scalar(select(func.count()).select_from(LogChunkRow)) == 2
        assert log_store.read_lines(s, pid) == []
        assert len(log_store.read_lines(s, other)) == 6


def test_read_batches_cuts_rows_to_the_range_and_matches_read_lines(database: Database, pid: str):
    # 40 rows of 25 lines: more than one page of rows (16) per query.
    with database.session() as s:
        log_store.write_batches(s, list(numbered(pid, 40, 25)))

    def fields(lines):
        return [(x.seq, x.ts, x.stream, x.text, x.continued) for x in lines]

    for after, upto in [(0, None), (0, 1000), (12, 13), (24, 26), (37, 612), (990, None)]:
        with database.session() as s:
            batches = log_store.read_batches(s, pid, after=after, upto=upto)
            expected = log_store.read_lines(s, pid, after=after, limit=10_000)
        expected = [x for x in expected if upto is None or x.seq <= upto]
        got = [line for b in batches for line in b.lines()]
        assert fields(got) == fields(expected)
        # One batch per row (cut at the ends), consecutive.
        assert all(b.first_seq == a.last_seq + 1 for a, b in itertools.pairwise(batches))
    with database.session() as s:
        limited = log_store.read_batches(s, pid, after=10, limit=60)
    # Whole rows up to about `limit` lines: 15 + 25 + 25, then it stops.
    assert [(b.first_seq, b.last_seq) for b in limited] == [(11, 25), (26, 50), (51, 75)]
    with database.session() as s:
        assert log_store.read_batches(s, pid, after=1000) == []
        assert log_store.read_batches(s, pid, after=5, upto=5) == []
