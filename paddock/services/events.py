"""Following state changes: where the event bus is now, subscriptions to it, and replays.

The read side of the bus, for the event streams and live pages; services publish through their
context."""

from __future__ import annotations

from collections.abc import Callable

from paddock.domain.entities import Event
from paddock.runtime.events import SYNC, Subscription
from paddock.services.context import Context

__all__ = ["SYNC", "EventService", "Subscription"]


class EventService:
    def __init__(self, ctx: Context) -> None:
        self._bus = ctx.bus

    @property
    def last_seq(self) -> int:
        """The number of the newest event: a page rendered now is current up to it."""
        return self._bus.last_seq

    def subscribe(
        self, project_id: str | None = None, wanted: Callable[[Event], bool] | None = None
    ) -> Subscription[Event]:
        """New events of a project (and the server's own), or of all; of those, the ones
        `wanted` picks. An overflowing subscription gets SYNC: re-read, then go on."""
        return self._bus.subscribe(project_id, wanted)

    def replay(self, after: int, project_id: str | None = None) -> list[Event] | None:
        """The events after `after`, or None when they are no longer all held (re-read)."""
        return self._bus.replay(after, project_id)
