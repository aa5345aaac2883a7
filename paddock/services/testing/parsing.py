"""Parsing what agents' code wrote (test reports, API specs) off the event loop.

A worker thread, not a subprocess: the parsers check their limits while they read
(domain/reports.py), so a parse is bounded in memory (no more than its limits let it keep) and
in time (at most `report_max_mb` of input per file: about a second). A subprocess would add an
interpreter start and a copy of every result to each parse, against a cost the limits already
cap; it would only be worth it for a parser that could not be bounded.

The thread shares the GIL with the event loop, so a parse works in small steps: a report is fed
to the parser in 64 KiB chunks, the parser calls back into Python for every element (where the
interpreter hands the GIL over every few milliseconds), and the chunk reader gives the GIL up
between chunks. The server keeps answering while a report is read.

A caller that is cancelled (a stopped run, a server shutting down) does not wait for the
thread: it abandons it, and the thread stops at its next chunk. One parse runs at a time per
service, so reports read together cannot add up past what one may take.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterable, Iterator
from typing import TypeVar

import anyio
import anyio.to_thread

from paddock.config import Settings
from paddock.domain.reports import ReportLimits

T = TypeVar("T")


class Abandoned(Exception):
    """Raised in a parse's thread at its next chunk once its caller went away."""


def report_limits(settings: Settings) -> ReportLimits:
    return ReportLimits(max_mb=settings.reports.max_mb, max_cases=settings.reports.max_cases)


def until_stopped(stop: threading.Event, chunks: Iterable[bytes]) -> Iterator[bytes]:
    """`chunks`, given up on once `stop` is set, and the GIL offered up between them."""
    for chunk in chunks:
        if stop.is_set():
            raise Abandoned
        yield chunk
        time.sleep(0)  # releases the GIL: the event loop's thread takes it if it waits


class Parser:
    """Runs parses in a worker thread, `slots` at a time."""

    def __init__(self, slots: int = 1) -> None:
        self._slots = slots
        self._limiter: anyio.CapacityLimiter | None = None  # made in the loop, on first use

    async def run(self, work: Callable[[threading.Event], T]) -> T:
        """`work(stop)` in a worker thread; `stop` is set once the caller no longer waits."""
        if self._limiter is None:
            self._limiter = anyio.CapacityLimiter(self._slots)
        stop = threading.Event()
        try:
            return await anyio.to_thread.run_sync(
                work, stop, abandon_on_cancel=True, limiter=self._limiter
            )
        finally:
            stop.set()
