"""The log store: one `log_chunks` row per batch of consecutive lines of a process.

A row holds `runs`, a JSON list of compact `[count, stream, ts, continued]` lists, and `data`,
the zlib-compressed UTF-8 text of its lines (each ending in "\\n"). Lines are materialised only
when read, and a read decompresses only the rows it needs.
"""

from __future__ import annotations

import asyncio
import re
import zlib
from collections.abc import Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import func, insert, select
from sqlalchemy.orm import Session

from paddock.domain.entities import LogLine
from paddock.domain.logs import LogBatch, LogRun
from paddock.domain.states import LogStream
from paddock.store.db import Database
from paddock.store.tables.processes import LogChunkRow

# ANSI escape sequences, for matching only: CSI (colours, cursor moves), OSC (titles,
# hyperlinks; ended by BEL or ST), and the two-byte escapes. None of them spans a newline.
_ANSI = re.compile(
    r"\x1b\[[0-?]*[ -/]*[@-~]"
    r"|\x1b\][^\x07\x1b\n]*(?:\x07|\x1b\\)?"
    r"|\x1b[@-Z\\-_]"
)

# Rows fetched per query while reading: small, since a read usually stops after a few.
_PAGE = 16


def strip_ansi(text: str) -> str:
    return _ANSI.sub("", text)


def encode_runs(runs: Sequence[LogRun]) -> list[Any]:
    return [[run.count, run.stream.value, run.ts, int(run.continued)] for run in runs]


def decode_runs(raw: Sequence[Sequence[Any]]) -> list[LogRun]:
    return [LogRun(int(c), LogStream(s), float(ts), bool(k)) for c, s, ts, k in raw]


def _row(batch: LogBatch) -> dict[str, Any]:
    return {
        "process_id": batch.process_id,
        "first_seq": batch.first_seq,
        "last_seq": batch.last_seq,
        "runs": encode_runs(batch.runs),
        "data": zlib.compress(batch.data, 1),
    }


def write_batches(session: Session, batches: Sequence[LogBatch]) -> None:
    """One row per (non-empty) batch, in one bulk insert."""
    rows = [_row(batch) for batch in batches if batch.runs and batch.count > 0]
    if rows:
        session.execute(insert(LogChunkRow), rows)


def _chunks(
    session: Session, process_id: str, after: int
) -> Iterator[tuple[int, list[Any], bytes]]:
    """(first_seq, runs, compressed data) of the rows holding lines after `after`, in order,
    fetched a page at a time."""
    # The row holding seq after+1 is the last one starting at or before it (an index seek).
    start = (
        select(func.coalesce(func.max(LogChunkRow.first_seq), 0))
        .where(LogChunkRow.process_id == process_id, LogChunkRow.first_seq <= after + 1)
        .scalar_subquery()
    )
    cond = LogChunkRow.first_seq >= start
    while True:
        query = (
            select(LogChunkRow.first_seq, LogChunkRow.runs, LogChunkRow.data)
            .where(LogChunkRow.process_id == process_id, cond, LogChunkRow.last_seq > after)
            .order_by(LogChunkRow.first_seq)
            .limit(_PAGE)
        )
        rows = session.execute(query).all()
        yield from rows
        if len(rows) < _PAGE:
            return
        cond = LogChunkRow.first_seq > rows[-1][0]


def _lines(
    first_seq: int,
    raw_runs: list[Any],
    data: bytes,
    *,
    after: int,
    stream: LogStream | None,
    needle: str | None,
) -> Iterator[LogLine]:
    runs = decode_runs(raw_runs)
    if stream is not None and all(run.stream != stream for run in runs):
        return
    text = zlib.decompress(data).decode("utf-8", "replace")
    if needle is not None and needle not in strip_ansi(text).casefold():
        return  # no line of this chunk can match
    texts = text.split("\n")
    seq = first_seq
    index = 0
    for run in runs:
        end = seq + run.count
        if end - 1 <= after or (stream is not None and run.stream != stream):
            seq = end
            index += run.count
            continue
        ts = datetime.fromtimestamp(run.ts, UTC)
        for i in range(index + max(0, after + 1 - seq), index + run.count):
            line = texts[i]
            if needle is None or needle in strip_ansi(line).casefold():
                yield LogLine(seq + i - index, ts, run.stream, line, run.continued)
        seq = end
        index += run.count


def read_lines(
    session: Session,
    process_id: str,
    *,
    after: int = 0,
    limit: int = 1000,
    stream: LogStream | None = None,
    q: str | None = None,
) -> list[LogLine]:
    """Up to `limit` lines with seq > `after`, in order; only `stream`'s if given; only those
    whose text, ANSI escapes aside, contains `q` (any case) if given. Texts are as printed."""
    if limit <= 0:
        return []
    needle = q.casefold() if q else None
    out: list[LogLine] = []
    for first_seq, runs, data in _chunks(session, process_id, after):
        for line in _lines(first_seq, runs, data, after=after, stream=stream, needle=needle):
            out.append(line)
            if len(out) >= limit:
                return out
    return out


def read_batches(
    session: Session,
    process_id: str,
    *,
    after: int = 0,
    upto: int | None = None,
    limit: int = 50_000,
) -> list[LogBatch]:
    """The stored lines with after < seq <= upto as batches, one per row, in order, about
    `limit` lines at most (whole rows: at least one). No Python object per line: what a live
    reader that fell behind reads to catch up."""
    out: list[LogBatch] = []
    count = 0
    for first_seq, runs, data in _chunks(session, process_id, after):
        if upto is not None and first_seq > upto:
            break
        row = LogBatch(process_id, first_seq, decode_runs(runs), zlib.decompress(data))
        batch = row.slice(after, upto)
        if batch.runs:
            out.append(batch)
            count += batch.count
        if count >= limit or (upto is not None and row.last_seq >= upto):
            break
    return out


def iter_lines(session: Session, process_id: str, *, after: int = 0) -> Iterator[LogLine]:
    """Every line after `after`, reading a page of rows at a time (for downloads)."""
    for first_seq, runs, data in _chunks(session, process_id, after):
        yield from _lines(first_seq, runs, data, after=after, stream=None, needle=None)


def max_seq(session: Session, process_id: str) -> int:
    """The highest stored seq of a process, 0 when it has none."""
    query = (
        select(LogChunkRow.last_seq)
        .where(LogChunkRow.process_id == process_id)
        .order_by(LogChunkRow.first_seq.desc())
        .limit(1)
    )
    return session.execute(query).scalar_one_or_none() or 0


class LogWriter:
    """Writes log batches in one dedicated thread: log writes are serialised, never wait for the
    general worker pool, and compress (zlib releases the GIL) off the event loop."""

    def __init__(self, db: Database) -> None:
        self._db = db
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="paddock-logwriter")

    async def persist(self, batches: list[LogBatch]) -> None:
        """Write `batches` in one transaction; returns once it is committed."""
        if not batches:
            return
        await asyncio.get_running_loop().run_in_executor(self._executor, self._write, batches)

    def _write(self, batches: list[LogBatch]) -> None:
        with self._db.session() as session:
            write_batches(session, batches)

    def close(self) -> None:
        self._executor.shutdown(wait=True)
