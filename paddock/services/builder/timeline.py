"""An app's timeline: written here (and published), read after a seq for the stream."""

from __future__ import annotations

from typing import Any

from paddock.domain.builder.apps import App
from paddock.domain.builder.timeline import TimelineEntry, TimelineKind
from paddock.domain.events import EventType
from paddock.services.context import Context
from paddock.store import timeline as store


class Timeline:
    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx

    async def add(
        self,
        app: App,
        kind: TimelineKind,
        message: str,
        *,
        build_id: str | None = None,
        data: dict[str, Any] | None = None,
    ) -> TimelineEntry:
        entry = await self.ctx.db.run(
            lambda s: store.append(s, app.id, kind, message, build_id=build_id, data=data)
        )
        self.ctx.publish(EventType.timeline_added, app.project_id, entry)
        return entry

    async def entries(self, app_id: str, *, after: int = 0) -> list[TimelineEntry]:
        return await self.ctx.db.run(lambda s: store.entries(s, app_id, after=after))
