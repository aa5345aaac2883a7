"""One event bus for every control-plane server on one database, carried by a Redis stream
(docs/decisions/022).

Each server sends its events to the stream `paddock:events` through a Lua script that numbers
an event and appends it in one step, and reads the stream back into its bus: every server's
subscribers see the same gap-free sequence, its own events included, so an event caused
through one server reaches the pages open on another, and `Last-Event-ID` resumes on any of
them. Redis is imported only when a server is configured with it.

Should Redis be unreachable, what this server publishes waits in order (and is sent once it is
back), and its subscribers hear nothing meanwhile; should the stream have moved past what this
server read (trimmed while it was away), its subscribers get SYNC and re-read.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from datetime import datetime
from typing import TYPE_CHECKING, Any, cast

from paddock.domain.entities import Event
from paddock.domain.errors import Unavailable
from paddock.domain.events import EventType
from paddock.runtime.events import EventBus
from paddock.runtime.redis_url import without_credentials

if TYPE_CHECKING:
    from redis.asyncio import Redis

log = logging.getLogger("paddock.cluster")

STREAM = "paddock:events"
COUNTER = "paddock:events:seq"
KEEP = 100_000  # about this many events stay in the stream (older ones are trimmed)
RETRY_S = 0.5  # between tries while Redis is unreachable
READ_BLOCK_MS = 5_000

# Number and append in one step: Redis runs a script alone, so the stream's order is the
# numbers' order, whichever server sent first.
_APPEND = """
local seq = redis.call('INCR', KEYS[2])
redis.call('XADD', KEYS[1], 'MAXLEN', '~', ARGV[2], '*', 'seq', seq, 'e', ARGV[1])
return seq
"""


# A stream's entries as redis-py returns them (its own hints are looser).
Entries = list[tuple[bytes, dict[bytes, bytes]]]


def _body(type_: EventType, project_id: str | None, data: dict[str, Any], ts: datetime) -> bytes:
    return json.dumps(
        {"type": str(type_), "project_id": project_id, "data": data, "ts": ts.isoformat()},
        separators=(",", ":"),
    ).encode()


def _event(fields: dict[bytes, bytes]) -> Event:
    body = json.loads(fields[b"e"])
    return Event(
        int(fields[b"seq"]),
        EventType(body["type"]),
        body["project_id"],
        body["data"],
        datetime.fromisoformat(body["ts"]),
    )


class SharedEvents:
    """The carrier of one server's bus (`EventBus.carrier`) while started."""

    def __init__(self, url: str, bus: EventBus) -> None:
        self._url = url
        self._bus = bus
        self._outbox: asyncio.Queue[bytes] = asyncio.Queue()
        self._tasks: list[asyncio.Task[None]] = []
        self._last_id: bytes | str = "0-0"
        self._writer: Redis | None = None
        self._reader: Redis | None = None

    async def start(self) -> None:
        """Connect, take up the stream where it is (its last events kept for replays), and
        carry the bus's events from now on. Raises Unavailable (`cluster_unreachable`) when
        Redis cannot be reached."""
        import redis.asyncio as aredis
        from redis.exceptions import RedisError

        self._writer = aredis.from_url(self._url)
        self._reader = aredis.from_url(self._url)
        try:
            await self._catch_up()
        except RedisError as exc:
            await self.close()
            where = without_credentials(self._url)
            raise Unavailable(
                f"cannot reach the cluster's Redis at {where} (cluster_redis_url): {exc}",
                code="cluster_unreachable",
            ) from exc
        self._bus.carrier = self
        self._tasks = [
            asyncio.create_task(self._send_all(), name="shared-events-send"),
            asyncio.create_task(self._read_all(), name="shared-events-read"),
        ]

    async def close(self) -> None:
        """Send what is waiting (briefly), stop reading, disconnect."""
        self._bus.carrier = None
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(2):
                await self._outbox.join()
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        for conn in (self._writer, self._reader):
            if conn is not None:
                await conn.aclose()

    def send(
        self, type_: EventType, project_id: str | None, data: dict[str, Any], ts: datetime
    ) -> None:
        self._outbox.put_nowait(_body(type_, project_id, data, ts))

    async def _catch_up(self) -> None:
        assert self._reader is not None
        newest = cast(Entries, await self._reader.xrevrange(STREAM, count=self._bus.history))
        recent = [_event(fields) for _id, fields in reversed(newest)]
        if newest:
            self._last_id = newest[0][0]
            seq = recent[-1].seq
        else:
            seq = int(await self._reader.get(COUNTER) or 0)
        self._bus.restart_at(seq, recent)

    async def _send_all(self) -> None:
        # Any refusal is waited out (a Redis out of memory, a user short of a permission): the
        # events stay in order, and the log says why they wait.
        from redis.exceptions import RedisError

        assert self._writer is not None
        append = self._writer.register_script(_APPEND)
        while True:
            body = await self._outbox.get()
            while True:
                try:
                    await append(keys=[STREAM, COUNTER], args=[body, KEEP])
                    break
                except (RedisError, OSError) as exc:
                    log.warning("events wait for Redis (%s): %d queued", exc, self._outbox.qsize())
                    await asyncio.sleep(RETRY_S)
            self._outbox.task_done()

    async def _read_all(self) -> None:
        from redis.exceptions import RedisError

        assert self._reader is not None
        while True:
            try:
                found = cast(
                    list[tuple[bytes, Entries]],
                    await self._reader.xread(
                        {STREAM: self._last_id}, block=READ_BLOCK_MS, count=500
                    ),
                )
            except (RedisError, OSError) as exc:
                log.warning("cannot read the shared events from Redis (%s): retrying", exc)
                await asyncio.sleep(RETRY_S)
                continue
            for _stream, entries in found:
                for entry_id, fields in entries:
                    self._last_id = entry_id
                    try:
                        event = _event(fields)
                    except (KeyError, ValueError, TypeError) as exc:
                        log.error("skipped a shared event that is not one (%s): %r", exc, entry_id)
                        continue
                    self._take(event)

    def _take(self, event: Event) -> None:
        if event.seq != self._bus.last_seq + 1:
            # Trimmed past what this server read, or a counter set back: the subscribers'
            # positions mean nothing any more.
            log.warning("shared events jumped from %d to %d", self._bus.last_seq, event.seq)
            self._bus.restart_at(event.seq - 1, [])
        self._bus.deliver(event)
