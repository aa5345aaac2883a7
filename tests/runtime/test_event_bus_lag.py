"""How far behind the event bus's slowest subscriber is (what /metrics reports as its lag):
events waiting unread, since when, and subscribers that fell a whole queue behind."""

from __future__ import annotations

import pytest

from paddock.domain.events import Deleted, EventType
from paddock.runtime.events import SYNC, EventBus

pytestmark = pytest.mark.anyio


def publish(bus: EventBus, count: int) -> None:
    for n in range(count):
        bus.publish(EventType.project_deleted, "p1", Deleted(f"p{n}"))


async def test_a_caught_up_bus_has_no_lag() -> None:
    bus = EventBus()
    lag = bus.lag()
    assert (lag.subscribers, lag.pending, lag.seconds, lag.overflows) == (0, 0, 0.0, 0)
    with bus.subscribe() as sub:
        publish(bus, 2)
        assert (await sub.get(1)).seq == 1  # type: ignore[union-attr]
        assert sub.drain()
        lag = bus.lag()
        assert (lag.subscribers, lag.pending, lag.seconds) == (1, 0, 0.0)
    assert bus.lag().subscribers == 0


async def test_the_slowest_subscriber_is_the_lag() -> None:
    bus = EventBus()
    with bus.subscribe() as slow, bus.subscribe() as quick:
        publish(bus, 3)
        await quick.get(1)
        lag = bus.lag()
        assert lag.pending == 3 and lag.seconds > 0.0
        for _ in range(3):
            await slow.get(1)
        assert bus.lag().pending == 2  # the quick one has read only one of its three
        quick.drain()
        assert (bus.lag().pending, bus.lag().seconds) == (0, 0.0)


async def test_a_subscriber_a_whole_queue_behind_is_an_overflow() -> None:
    bus = EventBus(maxsize=2)
    with bus.subscribe() as sub, bus.subscribe(project_id="other"):
        publish(bus, 3)
        assert bus.lag().overflows == 1
        assert sub.drain() == [SYNC]
