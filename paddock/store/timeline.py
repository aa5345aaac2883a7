"""An app's timeline (domain/builder/timeline.py): entries numbered per app, read after a seq."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from paddock.domain.builder.timeline import TimelineEntry, TimelineKind
from paddock.store.apps import lock_app
from paddock.store.tables.apps import TimelineRow

MAX_PAGE = 1000


def to_entry(row: TimelineRow) -> TimelineEntry:
    return TimelineEntry(
        app_id=row.app_id,
        seq=row.seq,
        kind=TimelineKind(row.kind),
        message=row.message,
        at=row.at,
        build_id=row.build_id,
        data=dict(row.data or {}),
    )


def append(
    session: Session,
    app_id: str,
    kind: TimelineKind,
    message: str,
    *,
    build_id: str | None = None,
    data: dict[str, Any] | None = None,
) -> TimelineEntry:
    lock_app(session, app_id)  # entries racing each other for the next seq take turns
    last = session.scalar(select(func.max(TimelineRow.seq)).where(TimelineRow.app_id == app_id))
    row = TimelineRow(
        app_id=app_id,
        seq=(last or 0) + 1,
        kind=kind.value,
        message=message,
        build_id=build_id,
        data=data or {},
    )
    session.add(row)
    session.flush()
    return to_entry(row)


def entries(
    session: Session, app_id: str, *, after: int = 0, limit: int = MAX_PAGE
) -> list[TimelineEntry]:
    query = (
        select(TimelineRow)
        .where(TimelineRow.app_id == app_id, TimelineRow.seq > after)
        .order_by(TimelineRow.seq)
        .limit(min(limit, MAX_PAGE))
    )
    return [to_entry(row) for row in session.scalars(query)]
