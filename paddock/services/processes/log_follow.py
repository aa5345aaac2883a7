"""Following a process's log: what the store has, then live lines, with no gap and no
duplicate; readers that fall behind catch up from the store.

The algorithm behind LogService.follow, kept apart as one generator (and its helpers) rather
than a second service class: LogService is the service the routes call."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Sequence
from functools import partial
from typing import Final

from paddock.domain.entities import LogLine
from paddock.domain.logs import LogBatch
from paddock.runtime.events import SYNC
from paddock.runtime.logpipe import LogSink
from paddock.services.context import Context
from paddock.store import logs as log_store
from paddock.store import processes as store


class EndOfLog:
    """The process has finished and every line was delivered."""


END: Final = EndOfLog()


async def follow_logs(
    ctx: Context, process_id: str, *, after: int = 0, heartbeat: float = 15.0
) -> AsyncIterator[list[LogLine] | EndOfLog | None]:
    """Lines after `after` from the store, then live: no gap, no duplicate, then END.

    Yields None when `heartbeat` seconds pass with nothing to send.
    """
    await ctx.db.run(lambda s: store.get_process(s, process_id))  # 404 when unknown
    last = after
    while True:
        sink = ctx.logs.get(process_id)
        upto = sink.persisted_seq if sink is not None else None
        snapshot = sink.subscribe() if sink is not None else None
        try:
            async for lines in _stored_lines(ctx, process_id, last, upto):
                last = lines[-1].seq
                yield lines
            if snapshot is None:
                yield END
                return
            for batch in snapshot.pending:
                lines = list(batch.lines(after=last))
                if lines:
                    last = lines[-1].seq
                    yield lines
            if snapshot.closed:
                yield END
                return
            assert sink is not None  # a snapshot comes from a live sink
            subscription = snapshot.subscription
            last_send = 0.0
            while True:
                try:
                    first = await subscription.get(heartbeat)
                except TimeoutError:
                    yield None
                    continue
                await _pace(sink, last_send)
                # Everything else already queued goes out with it: one write per wake-up
                # keeps a reader that fell a little behind from falling further.
                lines, stop = _unpack_live([first, *subscription.drain()], after=last)
                if lines:
                    last = lines[-1].seq
                    yield lines
                    last_send = asyncio.get_running_loop().time()
                if stop is END:
                    yield END
                    return
                if stop is SYNC:
                    break  # fell behind: read the missed lines from the store
        finally:
            if snapshot is not None:
                snapshot.subscription.close()


async def _stored_lines(
    ctx: Context, process_id: str, after: int, upto: int | None
) -> AsyncIterator[list[LogLine]]:
    while upto is None or after < upto:
        lines = await ctx.db.run(
            partial(log_store.read_lines, process_id=process_id, after=after, limit=5000)
        )
        if upto is not None:
            lines = [line for line in lines if line.seq <= upto]
        if not lines:
            return
        after = lines[-1].seq
        yield lines


# With many live readers of one process, each sends at most once per window: every send costs
# the server a write per reader, so a chatty process followed by a hundred browsers would
# otherwise spend its time in per-line writes. One reader (the usual case) is never held back.
FANOUT_READERS = 8
FANOUT_WINDOW = 0.01


async def _pace(sink: LogSink, last_send: float) -> None:
    if sink.reader_count > FANOUT_READERS:
        wait = last_send + FANOUT_WINDOW - asyncio.get_running_loop().time()
        if wait > 0:
            await asyncio.sleep(wait)


def _unpack_live(items: Sequence[object], *, after: int) -> tuple[list[LogLine], object]:
    """The lines after `after` in queued live items, and what stopped them: END when the sink
    closed (None was queued), SYNC after an overflow, else None."""
    lines: list[LogLine] = []
    for item in items:
        if item is SYNC:
            return lines, SYNC
        if item is None:
            return lines, END
        assert isinstance(item, LogBatch)
        lines.extend(item.lines(after=lines[-1].seq if lines else after))
    return lines, None
