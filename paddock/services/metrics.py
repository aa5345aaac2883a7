"""What /metrics reports: Paddock's own counters (services/counters.py), the event bus's lag,
and how many processes, attempts and previews the database holds in each state."""

from __future__ import annotations

from dataclasses import dataclass

from paddock.domain.preview import PreviewStatus
from paddock.domain.sandbox import Provider
from paddock.domain.states import AttemptStatus, ProcessStatus
from paddock.runtime.events import Lag
from paddock.services.context import Context
from paddock.services.counters import METRICS, Metric
from paddock.store.census import Census, take_census


@dataclass(frozen=True)
class MetricsSnapshot:
    census: Census  # every known state is there, at 0 when nothing is in it
    bus: Lag
    events_published: int  # events the bus numbered since the server started
    counters: tuple[Metric, ...]


def _complete(found: Census) -> Census:
    """Every known state and provider, so a gauge reads 0 rather than vanishing."""
    processes = {(s.value, p.value): 0 for s in ProcessStatus for p in Provider}
    attempts = {s.value: 0 for s in AttemptStatus}
    previews = {s.value: 0 for s in PreviewStatus}
    return Census(
        processes={**processes, **found.processes},
        attempts={**attempts, **found.attempts},
        previews={**previews, **found.previews},
    )


class MetricsService:
    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx

    async def read(self) -> MetricsSnapshot:
        census = await self.ctx.db.run(take_census)
        return MetricsSnapshot(
            census=_complete(census),
            bus=self.ctx.bus.lag(),
            events_published=self.ctx.bus.last_seq,
            counters=METRICS,
        )
