"""Log batches: many consecutive lines of one process, kept as one bytes blob.

The pipeline never makes a Python object per line on its hot path: a batch is the UTF-8 text of
its lines, each ending in b"\\n" (a line never contains one), plus runs that say which stream and
time each stretch of lines has. Lines are materialised only when someone reads them.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime

from paddock.domain.entities import LogLine
from paddock.domain.states import LogStream


@dataclass(frozen=True, slots=True)
class LogRun:
    """`count` consecutive lines that share a stream and a timestamp (seconds since the epoch).

    `continued` marks a run of one line that was cut at the line-length limit: the line that
    follows it is the rest of the same output line.
    """

    count: int
    stream: LogStream
    ts: float
    continued: bool = False


@dataclass(slots=True)
class LogBatch:
    """Immutable once published: every live reader of a process shares the same batch."""

    process_id: str
    first_seq: int
    runs: list[LogRun] = field(default_factory=list)
    data: bytes = b""
    _lines: list[LogLine] | None = field(default=None, repr=False, compare=False)
    # Every live reader asks a batch where it ends, on each wake-up: counted once.
    count: int = field(init=False, repr=False, compare=False)
    last_seq: int = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        self.count = sum(run.count for run in self.runs)
        self.last_seq = self.first_seq + self.count - 1

    def lines(self, after: int = 0) -> list[LogLine]:
        """The lines of this batch with seq > `after`.

        Materialised once and kept: a hundred readers of a live batch cost one decode.
        """
        if self._lines is None:
            self._lines = list(self._materialise())
        if after < self.first_seq:
            return self._lines
        return self._lines[after - self.first_seq + 1 :]

    def slice(self, after: int = 0, upto: int | None = None) -> LogBatch:
        """The lines with after < seq <= upto as a batch of their own (this batch itself when
        that is all of it). Cutting finds the newlines it needs, it does not split every line."""
        last = self.last_seq
        end = last if upto is None else min(upto, last)
        start = max(after + 1, self.first_seq)
        if start == self.first_seq and end == last:
            return self
        if start > end:
            return LogBatch(self.process_id, start, [], b"")
        begin = _nth_newline(self.data, start - self.first_seq)
        stop = _nth_newline(self.data, end - self.first_seq + 1)
        runs: list[LogRun] = []
        seq = self.first_seq
        for run in self.runs:
            lo, hi = max(seq, start), min(seq + run.count - 1, end)
            if lo <= hi:
                runs.append(LogRun(hi - lo + 1, run.stream, run.ts, run.continued))
            seq += run.count
        return LogBatch(self.process_id, start, runs, self.data[begin:stop])

    def _materialise(self) -> Iterator[LogLine]:
        texts = self.data.decode("utf-8", "replace").split("\n")
        index = 0
        for run in self.runs:
            ts = datetime.fromtimestamp(run.ts, UTC)
            for _ in range(run.count):
                yield LogLine(self.first_seq + index, ts, run.stream, texts[index], run.continued)
                index += 1


def _nth_newline(data: bytes, n: int) -> int:
    """The offset just after the n-th b"\\n" of `data` (0 for n = 0)."""
    pos = 0
    for _ in range(n):
        pos = data.index(b"\n", pos) + 1
    return pos
