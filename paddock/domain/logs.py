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

    @property
    def count(self) -> int:
        return sum(run.count for run in self.runs)

    @property
    def last_seq(self) -> int:
        return self.first_seq + self.count - 1

    def lines(self, after: int = 0) -> list[LogLine]:
        """The lines of this batch with seq > `after`.

        Materialised once and kept: a hundred readers of a live batch cost one decode.
        """
        if self._lines is None:
            self._lines = list(self._materialise())
        if after < self.first_seq:
            return self._lines
        return self._lines[after - self.first_seq + 1 :]

    def _materialise(self) -> Iterator[LogLine]:
        texts = self.data.decode("utf-8", "replace").split("\n")
        index = 0
        for run in self.runs:
            ts = datetime.fromtimestamp(run.ts, UTC)
            for _ in range(run.count):
                yield LogLine(self.first_seq + index, ts, run.stream, texts[index], run.continued)
                index += 1
