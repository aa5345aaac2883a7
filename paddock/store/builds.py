"""Builds and the versions ready builds made (domain/builder/builds.py, versions.py)."""

from __future__ import annotations

from dataclasses import asdict
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from paddock.domain.builder.builds import (
    STAGES,
    Build,
    BuildKind,
    BuildStatus,
    BuildSummary,
    StageTime,
)
from paddock.domain.builder.versions import Version
from paddock.domain.errors import NotFound
from paddock.domain.names import new_id
from paddock.store.apps import lock_app
from paddock.store.tables.apps import BuildRow, VersionRow
from paddock.store.tables.base import utcnow

_WORKING = [s.value for s in STAGES]


def summary_of(data: dict[str, Any] | None) -> BuildSummary | None:
    if not data:
        return None
    return BuildSummary(
        files_changed=tuple(data.get("files_changed", ())),
        insertions=int(data.get("insertions", 0)),
        deletions=int(data.get("deletions", 0)),
        features=tuple(data.get("features", ())),
        stack=tuple(data.get("stack", ())),
        checks=tuple(data.get("checks", ())),
    )


def _stage_time(data: dict[str, Any]) -> StageTime:
    ended = data.get("ended_at")
    return StageTime(
        stage=BuildStatus(data["stage"]),
        started_at=datetime.fromisoformat(data["started_at"]),
        ended_at=datetime.fromisoformat(ended) if ended else None,
    )


def _stage_time_data(time: StageTime) -> dict[str, Any]:
    return {
        "stage": time.stage.value,
        "started_at": time.started_at.isoformat(),
        "ended_at": time.ended_at.isoformat() if time.ended_at else None,
    }


def to_build(row: BuildRow) -> Build:
    return Build(
        id=row.id,
        app_id=row.app_id,
        number=row.number,
        kind=BuildKind(row.kind),
        status=BuildStatus(row.status),
        prompt=row.prompt,
        created_at=row.created_at,
        updated_at=row.updated_at,
        start_stage=BuildStatus(row.start_stage),
        failed_stage=BuildStatus(row.failed_stage) if row.failed_stage else None,
        error=row.error,
        detail=row.detail,
        debug_id=row.debug_id,
        retries=row.retries,
        stage_times=tuple(_stage_time(t) for t in row.stage_times),
        base_commit=row.base_commit,
        version=row.version,
        preview_id=row.preview_id,
        screenshot_id=row.screenshot_id,
        summary=summary_of(row.summary),
        started_at=row.started_at,
        ended_at=row.ended_at,
    )


def create_build(session: Session, app_id: str, kind: BuildKind, prompt: str) -> Build:
    """The app's next build, queued. The caller locks the app first (apps.lock_app) when it
    checks that no other build is open in the same transaction."""
    lock_app(session, app_id)
    last = session.scalar(select(func.max(BuildRow.number)).where(BuildRow.app_id == app_id))
    row = BuildRow(
        id=new_id(),
        app_id=app_id,
        number=(last or 0) + 1,
        kind=kind.value,
        status=BuildStatus.queued.value,
        prompt=prompt,
        start_stage=BuildStatus.starting.value,
        retries=0,
        stage_times=[],
    )
    session.add(row)
    session.flush()
    return to_build(row)


def get_build(session: Session, build_id: str) -> Build:
    return to_build(_row(session, build_id))


def list_builds(session: Session, app_id: str) -> list[Build]:
    query = select(BuildRow).where(BuildRow.app_id == app_id).order_by(BuildRow.number.desc())
    return [to_build(row) for row in session.scalars(query)]


def open_build(session: Session, app_id: str) -> Build | None:
    """The app's build that is queued or working, if any (there is at most one)."""
    query = (
        select(BuildRow)
        .where(BuildRow.app_id == app_id, BuildRow.status.in_(["queued", *_WORKING]))
        .limit(1)
    )
    row = session.scalar(query)
    return to_build(row) if row else None


def queued_builds(session: Session) -> list[Build]:
    """Every queued build, first come first served."""
    query = (
        select(BuildRow)
        .where(BuildRow.status == BuildStatus.queued.value)
        .order_by(BuildRow.updated_at, BuildRow.id)
    )
    return [to_build(row) for row in session.scalars(query)]


def working_builds(session: Session) -> list[Build]:
    query = select(BuildRow).where(BuildRow.status.in_(_WORKING))
    return [to_build(row) for row in session.scalars(query)]


def save_build(session: Session, build: Build) -> Build:
    """Write every changeable field of `build`."""
    row = _row(session, build.id)
    row.status = build.status.value
    row.start_stage = build.start_stage.value
    row.failed_stage = build.failed_stage.value if build.failed_stage else None
    row.error = build.error
    row.detail = build.detail
    row.debug_id = build.debug_id
    row.retries = build.retries
    row.stage_times = [_stage_time_data(t) for t in build.stage_times]
    row.base_commit = build.base_commit
    row.version = build.version
    row.preview_id = build.preview_id
    row.screenshot_id = build.screenshot_id
    row.summary = asdict(build.summary) if build.summary else None
    row.started_at = build.started_at
    row.ended_at = build.ended_at
    row.updated_at = utcnow()
    session.flush()
    return to_build(row)


def _row(session: Session, build_id: str) -> BuildRow:
    row = session.get(BuildRow, build_id)
    if row is None:
        raise NotFound(f"no build {build_id}", code="build_not_found")
    return row


# -- versions -------------------------------------------------------------------------------


def to_version(row: VersionRow) -> Version:
    return Version(
        id=row.id,
        app_id=row.app_id,
        name=row.name,
        commit=row.commit,
        created_at=row.created_at,
        build_id=row.build_id,
        rolled_back_to=row.rolled_back_to,
        summary=summary_of(row.summary),
        screenshot_id=row.screenshot_id,
    )


def add_version(session: Session, version: Version) -> Version:
    row = VersionRow(
        id=version.id,
        app_id=version.app_id,
        name=version.name,
        commit=version.commit,
        build_id=version.build_id,
        rolled_back_to=version.rolled_back_to,
        summary=asdict(version.summary) if version.summary else None,
        screenshot_id=version.screenshot_id,
    )
    session.add(row)
    session.flush()
    return to_version(row)


def list_versions(session: Session, app_id: str) -> list[Version]:
    query = (
        select(VersionRow)
        .where(VersionRow.app_id == app_id)
        .order_by(VersionRow.created_at.desc(), VersionRow.name.desc())
    )
    return [to_version(row) for row in session.scalars(query)]


def get_version(session: Session, app_id: str, name: str) -> Version:
    row = session.scalar(
        select(VersionRow).where(VersionRow.app_id == app_id, VersionRow.name == name)
    )
    if row is None:
        raise NotFound(f"the app has no version {name}", code="version_not_found")
    return to_version(row)
