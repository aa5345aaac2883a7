"""In-process publish/subscribe with bounded queues.

A subscriber that falls behind is not allowed to grow memory: its queue is dropped and it
receives SYNC, meaning "you missed items; re-read from the store from your last position".
"""

from __future__ import annotations

import asyncio
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Final, Generic, Protocol, TypeVar

from paddock.domain.entities import Event
from paddock.domain.events import EventType, encode

T = TypeVar("T")


class _Sync:
    def __repr__(self) -> str:
        return "SYNC"


SYNC: Final = _Sync()


class Subscription(Generic[T]):
    def __init__(self, hub: Topic[T], maxsize: int, accept: Callable[[T], bool] | None) -> None:
        self._hub = hub
        self._queue: asyncio.Queue[T | _Sync] = asyncio.Queue(maxsize)
        self._accept = accept
        self.closed = False
        # Since when items have been waiting unread (None: caught up): the subscriber's lag.
        self.behind_since: float | None = None

    def offer(self, item: T) -> None:
        if self._accept is not None and not self._accept(item):
            return
        if self.behind_since is None:
            self.behind_since = time.monotonic()
        try:
            self._queue.put_nowait(item)
        except asyncio.QueueFull:
            self._overflow()

    def _overflow(self) -> None:
        self._hub.overflows += 1
        self.resync()

    def resync(self) -> None:
        while not self._queue.empty():
            self._queue.get_nowait()
        self._queue.put_nowait(SYNC)
        if self.behind_since is None:
            self.behind_since = time.monotonic()

    @property
    def pending(self) -> int:
        """Items waiting to be read."""
        return self._queue.qsize()

    def _taken(self) -> None:
        if self._queue.empty():
            self.behind_since = None

    async def get(self, timeout: float | None = None) -> T | _Sync:
        """The next item, or SYNC after an overflow. Raises TimeoutError when `timeout` passes."""
        if not self._queue.empty():
            item = self._queue.get_nowait()  # no timer and no task when an item is waiting
        else:
            async with asyncio.timeout(timeout):
                item = await self._queue.get()
        self._taken()
        return item

    def drain(self) -> list[T | _Sync]:
        """Every item already queued, without waiting: lets a slow reader catch up in one go."""
        items: list[T | _Sync] = []
        while not self._queue.empty():
            items.append(self._queue.get_nowait())
        self.behind_since = None
        return items

    def close(self) -> None:
        if not self.closed:
            self.closed = True
            self._hub.unsubscribe(self)

    def __enter__(self) -> Subscription[T]:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()


class _Keyed(Protocol):
    @property
    def process_id(self) -> str: ...


K = TypeVar("K", bound=_Keyed)


class ByProcess(Generic[K]):
    """The live sinks (of log lines, of entries) of running processes, by process id."""

    def __init__(self) -> None:
        self._sinks: dict[str, K] = {}

    def add(self, sink: K) -> None:
        self._sinks[sink.process_id] = sink

    def get(self, process_id: str) -> K | None:
        return self._sinks.get(process_id)

    def remove(self, process_id: str) -> None:
        self._sinks.pop(process_id, None)


class Topic(Generic[T]):
    """Fans items out to subscribers. Call from the event loop's thread only."""

    def __init__(self, maxsize: int = 1024) -> None:
        self._maxsize = maxsize
        self._subscribers: set[Subscription[T]] = set()
        self.overflows = 0  # subscribers that fell behind and were sent SYNC

    def subscribe(self, accept: Callable[[T], bool] | None = None) -> Subscription[T]:
        sub = Subscription(self, self._maxsize, accept)
        self._subscribers.add(sub)
        return sub

    def unsubscribe(self, sub: Subscription[T]) -> None:
        self._subscribers.discard(sub)

    def publish(self, item: T) -> None:
        for sub in tuple(self._subscribers):
            sub.offer(item)

    def sync_all(self) -> None:
        """Every subscriber re-reads: drop what it has queued, send it SYNC."""
        for sub in tuple(self._subscribers):
            sub.resync()

    @property
    def subscriber_count(self) -> int:
        return len(self._subscribers)

    def lag(self) -> Lag:
        """How far behind its slowest subscriber is, now."""
        now = time.monotonic()
        subs = tuple(self._subscribers)
        since = [s.behind_since for s in subs if s.behind_since is not None]
        return Lag(
            subscribers=len(subs),
            pending=max((s.pending for s in subs), default=0),
            seconds=now - min(since) if since else 0.0,
            overflows=self.overflows,
        )


@dataclass(frozen=True)
class Lag:
    """A topic's subscribers, the most items one of them has yet to read, how long the
    furthest behind has had items waiting (0: all caught up), and overflows so far."""

    subscribers: int
    pending: int
    seconds: float
    overflows: int


class Carrier(Protocol):
    """What carries a bus's events to every server sharing one database, and back to this one
    numbered (runtime/shared_events.py): the bus then hears its own events as the others'."""

    def send(
        self, type_: EventType, project_id: str | None, data: dict[str, Any], ts: datetime
    ) -> None: ...


class EventBus:
    """State changes of projects, tasks, attempts and processes, numbered per server run — or,
    with a carrier, across the servers sharing one database.

    The last `history` events are kept so a client can resume with Last-Event-ID; a client
    further behind (or from an earlier server run) gets SYNC and re-fetches.
    """

    def __init__(self, history: int = 4096, maxsize: int = 1024) -> None:
        self._topic: Topic[Event] = Topic(maxsize)
        self._recent: deque[Event] = deque(maxlen=history)
        self._seq = 0
        self.carrier: Carrier | None = None

    @property
    def last_seq(self) -> int:
        return self._seq

    @property
    def history(self) -> int:
        """How many of the last events are kept for replays."""
        return self._recent.maxlen or 0

    def lag(self) -> Lag:
        """How far behind the bus's slowest subscriber is (/metrics)."""
        return self._topic.lag()

    def publish(self, type_: EventType, project_id: str | None, payload: object) -> Event | None:
        """Number and fan out a state change (None: the carrier numbers it, and it comes back
        through `deliver`).

        `type_` must be in the event catalogue and `payload` of its class (UnknownEventType,
        WrongEventPayload otherwise). What is kept and sent is its public read model's JSON form
        (`encode`): no secret value ever enters the bus (every reader of events, the SSE
        stream, the UI's fragments, replays, sees the same masked form)."""
        checked, data = encode(type_, payload)
        if self.carrier is not None:
            self.carrier.send(checked, project_id, data, datetime.now(UTC))
            return None
        event = Event(self._seq + 1, checked, project_id, data, datetime.now(UTC))
        self.deliver(event)
        return event

    def deliver(self, event: Event) -> None:
        """Keep and fan out an event numbered `last_seq + 1` (by this bus or its carrier)."""
        self._seq = event.seq
        self._recent.append(event)
        self._topic.publish(event)

    def restart_at(self, seq: int, recent: list[Event]) -> None:
        """Go on from `seq` (a carrier's numbering), holding `recent` (the events up to it, as
        many as are kept) for replays. Subscribers re-read (SYNC): what they hold is of
        another numbering, or has a gap."""
        self._seq = seq
        self._recent.clear()
        self._recent.extend(recent)
        self._topic.sync_all()

    def subscribe(
        self, project_id: str | None = None, wanted: Callable[[Event], bool] | None = None
    ) -> Subscription[Event]:
        """The events of one project (and the server's own), or all; of those, the ones
        `wanted` picks. Others never reach the subscription, so a reader's wait for the next
        one (and its heartbeat) is not reset by events it ignores."""
        if project_id is None:
            return self._topic.subscribe(wanted)
        if wanted is None:
            return self._topic.subscribe(lambda e: e.project_id in (project_id, None))
        return self._topic.subscribe(lambda e: e.project_id in (project_id, None) and wanted(e))

    def replay(self, after: int, project_id: str | None = None) -> list[Event] | None:
        """Events after `after`, or None when they are no longer all held (the caller syncs)."""
        if after > self._seq:
            return None  # from an earlier server run
        if after == self._seq:
            return []
        if not self._recent or self._recent[0].seq > after + 1:
            return None
        return [
            e
            for e in self._recent
            if e.seq > after and (project_id is None or e.project_id in (project_id, None))
        ]
