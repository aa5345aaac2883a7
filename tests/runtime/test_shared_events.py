"""The event bus shared through a Redis stream (runtime/shared_events.py), against a real
redis-server of the test's own: servers on one database see one gap-free sequence of events."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
import redis.asyncio as aredis

from paddock.domain.entities import Event
from paddock.domain.events import Deleted, EventType
from paddock.runtime.events import SYNC, EventBus, Subscription
from paddock.runtime.shared_events import COUNTER, STREAM, SharedEvents
from tests.redis_server import RedisServer

pytestmark = pytest.mark.anyio


@pytest.fixture
def redis_server(tmp_path: Path) -> Iterator[RedisServer]:
    server = RedisServer(tmp_path / "redis").start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
async def shared(redis_server: RedisServer) -> AsyncIterator[list[SharedEvents]]:
    """Carriers to close at the end (made by `carried`)."""
    made: list[SharedEvents] = []
    yield made
    for carrier in made:
        await carrier.close()


async def carried(redis_server: RedisServer, made: list[SharedEvents]) -> EventBus:
    bus = EventBus(history=16)
    carrier = SharedEvents(redis_server.url, bus)
    await carrier.start()
    made.append(carrier)
    return bus


async def next_event(sub: Subscription[Event]) -> Event | object:
    return await sub.get(timeout=10)


async def test_an_event_published_on_one_server_reaches_the_other_with_one_number(
    redis_server: RedisServer, shared: list[SharedEvents]
) -> None:
    a = await carried(redis_server, shared)
    b = await carried(redis_server, shared)
    on_a, on_b = a.subscribe(), b.subscribe()

    assert a.publish(EventType.task_deleted, "p1", Deleted("t1")) is None  # numbered by Redis
    b.publish(EventType.task_deleted, "p1", Deleted("t2"))

    seen_a = [await next_event(on_a), await next_event(on_a)]
    seen_b = [await next_event(on_b), await next_event(on_b)]
    assert seen_a == seen_b  # the same events, the same numbers, the same order
    assert [e.seq for e in seen_a] == [1, 2]  # type: ignore[union-attr]
    assert {e.data["id"] for e in seen_a} == {"t1", "t2"}  # type: ignore[union-attr]
    assert a.last_seq == b.last_seq == 2


async def test_a_server_started_later_holds_the_last_events_for_replays(
    redis_server: RedisServer, shared: list[SharedEvents]
) -> None:
    a = await carried(redis_server, shared)
    sub = a.subscribe()
    for n in range(20):
        a.publish(EventType.task_deleted, "p1", Deleted(f"t{n}"))
    for _ in range(20):
        await next_event(sub)

    late = await carried(redis_server, shared)
    assert late.last_seq == 20
    replay = late.replay(15)
    assert replay is not None and [e.seq for e in replay] == [16, 17, 18, 19, 20]
    assert late.replay(2) is None  # older than the 16 it keeps: the client re-reads


async def test_a_jump_in_the_numbers_makes_every_subscriber_re_read(
    redis_server: RedisServer, shared: list[SharedEvents]
) -> None:
    a = await carried(redis_server, shared)
    sub = a.subscribe()
    a.publish(EventType.task_deleted, "p1", Deleted("t1"))
    assert (await next_event(sub)).seq == 1  # type: ignore[union-attr]

    # Numbers this server never read (a stream trimmed while it was away, say).
    admin = aredis.from_url(redis_server.url)
    await admin.incrby(COUNTER, 5)
    await admin.aclose()
    a.publish(EventType.task_deleted, "p1", Deleted("t2"))

    assert await next_event(sub) is SYNC
    after = await next_event(sub)
    assert after.seq == 7 and a.last_seq == 7  # type: ignore[union-attr]
    assert a.replay(6) == [after]


async def test_events_published_while_redis_is_away_are_sent_in_order_when_it_is_back(
    redis_server: RedisServer, shared: list[SharedEvents]
) -> None:
    a = await carried(redis_server, shared)
    sub = a.subscribe()
    redis_server.stop()
    for n in range(3):
        a.publish(EventType.task_deleted, "p1", Deleted(f"t{n}"))
    await asyncio.sleep(1)  # the carrier tries, and waits
    redis_server.start()  # same port, same data dir

    seen = [await next_event(sub) for _ in range(3)]
    assert [e.data["id"] for e in seen] == ["t0", "t1", "t2"]  # type: ignore[union-attr]
    assert [e.seq for e in seen] == [1, 2, 3]  # type: ignore[union-attr]


async def test_an_entry_that_is_no_event_is_skipped_and_the_stream_goes_on(
    redis_server: RedisServer, shared: list[SharedEvents]
) -> None:
    a = await carried(redis_server, shared)
    sub = a.subscribe()
    admin = aredis.from_url(redis_server.url)
    await admin.xadd(STREAM, {"seq": "x", "e": "not json"})
    await admin.xadd(STREAM, {"other": "fields"})
    await admin.aclose()
    a.publish(EventType.task_deleted, "p1", Deleted("t1"))

    event = await next_event(sub)
    assert (event.seq, event.data["id"]) == (1, "t1")  # type: ignore[union-attr]
