"""Apps and their briefs (domain/builder/apps.py, brief.py): an edit of a brief is a new
version of it; the newest is the app's brief."""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from paddock.domain.builder.apps import App, AppStage
from paddock.domain.builder.brief import Answer, Brief, Question
from paddock.domain.builder.templates import PlanOption
from paddock.domain.entities import AgentSpec
from paddock.domain.errors import NotFound
from paddock.store.tables.apps import AppRow, BriefRow
from paddock.store.tables.base import utcnow


def to_app(row: AppRow) -> App:
    return App(
        id=row.id,
        name=row.name,
        slug=row.slug,
        idea=row.idea,
        stage=AppStage(row.stage),
        project_id=row.project_id,
        created_at=row.created_at,
        updated_at=row.updated_at,
        questions=tuple(Question.model_validate(q) for q in row.questions),
        answers=tuple(Answer.model_validate(a) for a in row.answers),
        plan=tuple(PlanOption.model_validate(o) for o in row.plan),
        template=row.template,
        agent=AgentSpec(**row.agent) if row.agent else AgentSpec(profile="builder-demo"),
        task_id=row.task_id,
        attempt_id=row.attempt_id,
        tag_prefix=row.tag_prefix,
        planner=row.planner,
        parked_at=row.parked_at,
    )


def create_app(session: Session, app: App) -> App:
    row = AppRow(
        id=app.id,
        name=app.name,
        slug=app.slug,
        idea=app.idea,
        stage=app.stage.value,
        project_id=app.project_id,
        questions=[q.model_dump() for q in app.questions],
        answers=[],
        plan=[],
        agent=asdict(app.agent),
        tag_prefix=app.tag_prefix,
        planner=app.planner,
    )
    session.add(row)
    session.flush()
    return to_app(row)


def get_app(session: Session, app_id: str) -> App:
    return to_app(_row(session, app_id))


def list_apps(session: Session) -> list[App]:
    query = select(AppRow).order_by(AppRow.updated_at.desc(), AppRow.id)
    return [to_app(row) for row in session.scalars(query)]


def app_for_project(session: Session, project_id: str) -> App | None:
    row = session.scalar(select(AppRow).where(AppRow.project_id == project_id).limit(1))
    return to_app(row) if row else None


def update_app(session: Session, app_id: str, **changes: Any) -> App:
    """Set the given fields (domain values are turned into their stored form)."""
    row = _row(session, app_id)
    for key, value in changes.items():
        setattr(row, key, _stored(key, value))
    row.updated_at = utcnow()
    session.flush()
    return to_app(row)


def _stored(key: str, value: Any) -> Any:
    if key in ("questions", "answers", "plan"):
        return [item.model_dump() for item in value]
    if key == "agent":
        return asdict(value)
    if key == "stage":
        return AppStage(value).value
    return value


def delete_app(session: Session, app_id: str) -> None:
    session.delete(_row(session, app_id))


def lock_app(session: Session, app_id: str) -> None:
    """Hold the app's row for the rest of the transaction, so what numbers its records one by
    one (timeline entries, builds, brief versions) runs one at a time: a write takes SQLite's
    one write lock (a transaction that read before it and fell behind is retried by
    Database.call), a row lock on PostgreSQL. Reading the highest number and inserting the
    next is then safe."""
    session.execute(update(AppRow).where(AppRow.id == app_id).values(id=AppRow.id))


def _row(session: Session, app_id: str) -> AppRow:
    row = session.get(AppRow, app_id)
    if row is None:
        raise NotFound(f"no app {app_id}", code="app_not_found")
    return row


# -- briefs ---------------------------------------------------------------------------------


def add_brief(session: Session, app_id: str, brief: Brief, author: str) -> int:
    """Store `brief` as the app's next brief version; returns its number (1, 2 ...)."""
    lock_app(session, app_id)
    last = session.scalar(select(func.max(BriefRow.version)).where(BriefRow.app_id == app_id))
    version = (last or 0) + 1
    session.add(BriefRow(app_id=app_id, version=version, content=brief.model_dump(), author=author))
    session.flush()
    return version


def current_brief(session: Session, app_id: str) -> tuple[int, Brief] | None:
    row = session.scalar(
        select(BriefRow).where(BriefRow.app_id == app_id).order_by(BriefRow.version.desc()).limit(1)
    )
    return (row.version, Brief.model_validate(row.content)) if row else None


def brief_versions(session: Session, app_id: str) -> list[tuple[int, str, Brief]]:
    """Every version of the app's brief, oldest first: (number, author, brief)."""
    query = select(BriefRow).where(BriefRow.app_id == app_id).order_by(BriefRow.version)
    return [(r.version, r.author, Brief.model_validate(r.content)) for r in session.scalars(query)]
