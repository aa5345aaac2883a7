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

    Yields None when `heartbeat` seconds pass with nothing to send. follow_batches, a line at
    a time: for readers that want LogLine objects."""
    async for item in follow_batches(ctx, process_id, after=after, heartbeat=heartbeat):
        if isinstance(item, list):
            yield [line for batch in item for line in batch.lines()]
        else:
            yield item


async def follow_batches(
    ctx: Context, process_id: str, *, after: int = 0, heartbeat: float = 15.0
) -> AsyncIterator[list[LogBatch] | EndOfLog | None]:
    """The lines after `after`, as consecutive batches: from the store, then live, with no gap
    and no duplicate (each list starts right after the last line of the one before), then END.

    What is live is served from the batches the sink already holds (the same objects for every
    reader); a reader that falls behind gets SYNC and reads the store's rows from where it is,
    never a line at a time. The producer never waits for a reader. Yields None when
    `heartbeat` seconds pass with nothing to send.
    """
    await ctx.db.run(lambda s: store.get_process(s, process_id))  # 404 when unknown
    last = after
    while True:
        sink = ctx.logs.get(process_id)
        upto = sink.persisted_seq if sink is not None else None
        snapshot = sink.subscribe() if sink is not None else None
        try:
            async for batches in _stored_batches(ctx, process_id, last, upto):
                last = batches[-1].last_seq
                yield batches
            if snapshot is None:
                yield END
                return
            for batches in _pieces(_after(snapshot.pending, last)):
                last = batches[-1].last_seq
                yield batches
            if snapshot.closed:
                yield END
                return
            assert sink is not None  # a snapshot comes from a live sink
            subscription = snapshot.subscription
            while True:
                # After a send, a paced reader sleeps out its window and takes what came
                # meanwhile in one go: one wake-up per window, not one per batch.
                queued = subscription.drain()
                if not queued:
                    try:
                        queued = [await subscription.get(heartbeat), *subscription.drain()]
                    except TimeoutError:
                        yield None
                        continue
                # Everything queued goes out together, in few large writes: a reader that
                # fell a little behind does not fall further.
                batches, stop = _unpack_live(queued, after=last)
                for piece in _pieces(batches):
                    last = piece[-1].last_seq
                    yield piece
                if stop is None and (window := pace_window(ctx.logs.reader_count)):
                    await asyncio.sleep(window)
                if stop is END:
                    yield END
                    return
                if stop is SYNC:
                    break  # fell behind: read the missed lines from the store
        finally:
            if snapshot is not None:
                snapshot.subscription.close()


async def _stored_batches(
    ctx: Context, process_id: str, after: int, upto: int | None
) -> AsyncIterator[list[LogBatch]]:
    while upto is None or after < upto:
        batches = await ctx.db.run(
            partial(log_store.read_batches, process_id=process_id, after=after, upto=upto)
        )
        if not batches:
            return
        after = batches[-1].last_seq
        yield batches


def _pieces(batches: list[LogBatch], max_bytes: int = 1 << 20) -> list[list[LogBatch]]:
    """Consecutive batches in groups of about `max_bytes` of text (a bigger batch alone): a
    reader far behind sends a few MB of frames at a time, never its whole backlog at once."""
    if len(batches) <= 1:  # a live reader's usual wake-up
        return [batches] if batches else []
    groups: list[list[LogBatch]] = [[]]
    size = 0
    for batch in batches:
        if groups[-1] and size + len(batch.data) > max_bytes:
            groups.append([])
            size = 0
        groups[-1].append(batch)
        size += len(batch.data)
    return groups


def _after(batches: Sequence[LogBatch], after: int) -> list[LogBatch]:
    """The lines after `after` of consecutive batches (cut where needed)."""
    out = []
    for batch in batches:
        if batch.last_seq > after:
            out.append(batch.slice(after) if batch.first_seq <= after else batch)
    return out


# Every send costs the server a write per reader, whatever process it follows: with many live
# readers in all (a hundred browsers on one chatty process, or three on each of twenty agents),
# each sends at most once per window, which grows with their number so that the server's log
# writes stay about SEND_BUDGET a second, and its API answers in time (the soak: 70 readers of
# 20 agents at 2,500 sends/s kept the server at ~90 % of its core and the API's p99 over 100 ms;
# at 1,000, ~75 % and ~35 ms). A few readers (the usual case) are never held back; a line waits
# at most MAX_WINDOW, a tenth of a second, about as often as a terminal redraws.
FANOUT_READERS = 8
FANOUT_WINDOW = 0.01  # the shortest window, once paced
SEND_BUDGET = 1000  # sends a second, all readers together
MAX_WINDOW = 0.1


def pace_window(readers: int) -> float:
    """How long a reader waits between sends when the server has `readers` live readers."""
    if readers <= FANOUT_READERS:
        return 0.0
    return min(MAX_WINDOW, max(FANOUT_WINDOW, readers / SEND_BUDGET))


def _unpack_live(items: Sequence[object], *, after: int) -> tuple[list[LogBatch], object]:
    """The lines after `after` in queued live items, and what stopped them: END when the sink
    closed (None was queued), SYNC after an overflow, else None."""
    batches: list[LogBatch] = []
    for item in items:
        if item is SYNC:
            return batches, SYNC
        if item is None:
            return batches, END
        assert isinstance(item, LogBatch)
        sent = batches[-1].last_seq if batches else after
        if item.first_seq > sent:
            batches.append(item)
        elif item.last_seq > sent:
            batches.append(item.slice(sent))
    return batches, None
