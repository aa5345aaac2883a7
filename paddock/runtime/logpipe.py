"""The log pipeline: number a process's lines, publish them at once, persist them in batches.

The splitter (runtime/linesplit.py) hands out pieces of many lines; the sink turns each write
into one LogBatch that is published at once and persisted later, merged with its neighbours, by
a single flusher task.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass

from paddock.domain.logs import LogBatch, LogRun
from paddock.domain.states import LogStream
from paddock.runtime.events import ByProcess, Subscription, Topic
from paddock.runtime.linesplit import LineSplitter, Piece

log = logging.getLogger(__name__)


@dataclass
class LogSnapshot:
    """A consistent view of a sink for a reader that wants every line once.

    Read seq <= persisted_seq from the store, then `pending`, then live batches (None means the
    sink closed), skipping any seq already sent. SYNC from the subscription: re-read the store
    from the last seq sent.
    """

    persisted_seq: int
    pending: list[LogBatch]
    subscription: Subscription[LogBatch | None]
    closed: bool


PersistFn = Callable[[list[LogBatch]], Awaitable[None]]


class LogSink:
    """Numbers the lines of one process, publishes them at once and persists them in batches."""

    # After close() began, a batch that fails this many more times is given up (and logged).
    close_retries = 5
    max_backoff = 5.0

    def __init__(
        self,
        process_id: str,
        persist: PersistFn,
        *,
        secrets: Sequence[str] = (),
        max_line_bytes: int = 1 << 20,
        flush_seconds: float = 0.05,
        flush_bytes: int = 1 << 20,
        max_pending_bytes: int = 16 << 20,
        first_seq: int = 1,
        queue_size: int = 1024,
    ) -> None:
        self.process_id = process_id
        self._persist = persist
        self._splitters = {stream: LineSplitter(secrets, max_line_bytes) for stream in LogStream}
        self._flush_seconds = flush_seconds
        self._flush_bytes = max(1, flush_bytes)
        self._max_pending = max(max_pending_bytes, self._flush_bytes)
        self._first_seq = first_seq
        self._next_seq = first_seq
        self._persisted_seq = first_seq - 1
        self._topic: Topic[LogBatch | None] = Topic(queue_size)
        # Batches not yet persisted, in seq order; the first `_handed` are with persist().
        self._pending: list[LogBatch] = []
        self._handed = 0
        self._pending_bytes = 0
        self._unhanded_bytes = 0
        self._unhanded_since = 0.0
        self._flusher: asyncio.Task[None] | None = None
        self._urgent = asyncio.Event()
        self._progress = asyncio.Event()
        self._closing = False
        self._closed = False
        self._close_task: asyncio.Task[None] | None = None
        self._observers: list[Callable[[LogStream, list[Piece]], None]] = []

    def observe(self, observer: Callable[[LogStream, list[Piece]], None]) -> None:
        """Call `observer` with every stream's new lines (redacted), as they are numbered."""
        self._observers.append(observer)

    @property
    def reader_count(self) -> int:
        """How many live readers follow this log right now."""
        return self._topic.subscriber_count

    # -- what the pumps call ------------------------------------------------------------------

    def write(self, stream: LogStream, chunk: bytes) -> None:
        """Take a chunk of output (any size, any split): number, publish, queue for the store."""
        if self._closing:
            log.warning(
                "log of process %s is closed; %d bytes of %s dropped",
                self.process_id,
                len(chunk),
                stream,
            )
            return
        pieces = self._splitters[stream].feed(chunk)
        if pieces:
            self._emit(stream, pieces)

    def end_stream(self, stream: LogStream) -> None:
        """The stream reached EOF: its unterminated last line becomes a line now, so that it is
        numbered before whatever the supervisor writes next (e.g. the exit code)."""
        if self._closing:
            return
        pieces = self._splitters[stream].finish()
        if pieces:
            self._emit(stream, pieces)

    def system(self, text: str) -> None:
        """One line (or several, if `text` has newlines) that Paddock writes into the log."""
        self.write(LogStream.system, text.encode() + b"\n")

    async def drain(self) -> None:
        """Back-pressure: wait while more than max_pending_bytes are not yet persisted."""
        while self._pending_bytes > self._max_pending and not self._closed:
            self._urgent.set()
            self._start_flusher()
            self._progress.clear()
            await self._progress.wait()

    async def close(self) -> None:
        """Flush the partial lines, persist everything, publish None. Idempotent; closing goes
        on even if a caller waiting for it is cancelled."""
        if self._close_task is None:
            self._closing = True  # from now on, writes are refused
            self._close_task = asyncio.get_running_loop().create_task(
                self._close(), name=f"paddock-logclose-{self.process_id}"
            )
        await asyncio.shield(self._close_task)

    async def _close(self) -> None:
        for stream, splitter in self._splitters.items():
            pieces = splitter.finish()
            if pieces:
                self._emit(stream, pieces)
        self._urgent.set()
        while self._pending:
            await self._start_flusher()
        self._closed = True
        self._topic.publish(None)

    # -- what readers use ---------------------------------------------------------------------

    @property
    def last_seq(self) -> int:
        """The highest seq assigned (first_seq - 1, so 0 by default, when none)."""
        return self._next_seq - 1

    @property
    def persisted_seq(self) -> int:
        return self._persisted_seq

    @property
    def line_count(self) -> int:
        return self._next_seq - self._first_seq

    @property
    def closed(self) -> bool:
        return self._closed

    @property
    def pending_bytes(self) -> int:
        return self._pending_bytes

    def subscribe(self) -> LogSnapshot:
        """Taken in one go (no await), so store + pending + live has no gap and no overlap."""
        return LogSnapshot(
            persisted_seq=self._persisted_seq,
            pending=list(self._pending),
            subscription=self._topic.subscribe(),
            closed=self._closed,
        )

    # -- inside -------------------------------------------------------------------------------

    def _emit(self, stream: LogStream, pieces: list[Piece]) -> None:
        ts = time.time()
        first = self._next_seq
        if len(pieces) == 1:
            piece = pieces[0]
            data, count = piece.data, piece.count
            runs = [LogRun(count, stream, ts, piece.continued)]
        else:
            runs = [LogRun(p.count, stream, ts, p.continued) for p in pieces]
            data = b"".join([p.data for p in pieces])
            count = sum(p.count for p in pieces)
        self._next_seq = first + count
        batch = LogBatch(self.process_id, first, runs, data)
        self._pending.append(batch)
        size = len(data)
        self._pending_bytes += size
        if not self._unhanded_bytes:
            self._unhanded_since = time.monotonic()
        self._unhanded_bytes += size
        self._topic.publish(batch)
        for observer in self._observers:
            observer(stream, pieces)
        if self._unhanded_bytes >= self._flush_bytes:
            self._urgent.set()
        self._start_flusher()

    def _start_flusher(self) -> asyncio.Task[None]:
        if self._flusher is None:
            self._flusher = asyncio.get_running_loop().create_task(
                self._flush_loop(), name=f"paddock-logflush-{self.process_id}"
            )
        return self._flusher

    async def _flush_loop(self) -> None:
        try:
            while self._handed < len(self._pending):
                if not self._closing and self._unhanded_bytes < self._flush_bytes:
                    delay = self._unhanded_since + self._flush_seconds - time.monotonic()
                    if delay > 0:
                        self._urgent.clear()
                        with contextlib.suppress(TimeoutError):
                            await asyncio.wait_for(self._urgent.wait(), delay)
                batches = self._pending[self._handed :]
                self._handed = len(self._pending)
                self._unhanded_bytes = 0
                await self._persist_with_retry(merge_batches(batches, self._flush_bytes))
                del self._pending[: len(batches)]
                self._handed -= len(batches)
                self._pending_bytes -= sum(len(b.data) for b in batches)
                self._persisted_seq = batches[-1].last_seq
                self._progress.set()
        finally:
            self._flusher = None

    async def _persist_with_retry(self, batches: list[LogBatch]) -> None:
        failures = 0
        failures_closing = 0
        while True:
            try:
                await self._persist(batches)
                if failures:
                    log.info(
                        "log lines %d-%d of process %s persisted after %d failures",
                        batches[0].first_seq,
                        batches[-1].last_seq,
                        self.process_id,
                        failures,
                    )
                return
            except Exception:
                failures += 1
                if self._closing:
                    failures_closing += 1
                first, last = batches[0].first_seq, batches[-1].last_seq
                if failures_closing > self.close_retries:
                    log.exception(
                        "giving up persisting log lines %d-%d of process %s after "
                        "%d failures: they are lost from the store",
                        first,
                        last,
                        self.process_id,
                        failures,
                    )
                    return
                log.exception(
                    "persisting log lines %d-%d of process %s failed (try %d); retrying",
                    first,
                    last,
                    self.process_id,
                    failures,
                )
            await asyncio.sleep(min(self.max_backoff, 0.05 * 2 ** min(failures - 1, 10)))


def merge_batches(batches: Sequence[LogBatch], max_bytes: int) -> list[LogBatch]:
    """Join adjacent batches into batches of about `max_bytes` (a bigger one stays alone)."""
    out: list[LogBatch] = []
    group: list[LogBatch] = []
    size = 0
    for batch in batches:
        if group and size + len(batch.data) > max_bytes:
            out.append(_join(group))
            group, size = [], 0
        group.append(batch)
        size += len(batch.data)
    if group:
        out.append(_join(group))
    return out


def _join(group: list[LogBatch]) -> LogBatch:
    if len(group) == 1:
        return group[0]
    runs: list[LogRun] = []
    for batch in group:
        for run in batch.runs:
            if runs:
                prev = runs[-1]
                if (
                    not prev.continued
                    and not run.continued
                    and prev.stream == run.stream
                    and prev.ts == run.ts
                ):
                    runs[-1] = LogRun(prev.count + run.count, run.stream, run.ts)
                    continue
            runs.append(run)
    data = b"".join([batch.data for batch in group])
    return LogBatch(group[0].process_id, group[0].first_seq, runs, data)


async def pump(
    reader: asyncio.StreamReader, stream: LogStream, sink: LogSink, chunk_size: int = 1 << 16
) -> None:
    """Copy one output stream into the sink until EOF, waiting when the store falls behind."""
    while True:
        chunk = await reader.read(chunk_size)
        if not chunk:
            sink.end_stream(stream)
            return
        sink.write(stream, chunk)
        await sink.drain()


class LogHub(ByProcess[LogSink]):
    """The live logs of running processes, by process id."""

    @property
    def reader_count(self) -> int:
        """How many live readers follow the logs, all processes together."""
        return sum(sink.reader_count for sink in self._sinks.values())
