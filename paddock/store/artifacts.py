"""Artifacts' records (their files live in the artifact store: services/testing/artifacts.py)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from paddock.domain.artifact import Artifact, ArtifactKind
from paddock.domain.errors import NotFound
from paddock.store.tables.artifacts import ArtifactRow


def to_artifact(row: ArtifactRow) -> Artifact:
    return Artifact(
        id=row.id,
        attempt_id=row.attempt_id,
        process_id=row.process_id,
        name=row.name,
        kind=ArtifactKind(row.kind),
        size=row.size,
        mime_type=row.mime_type,
        sha256=row.sha256,
        created_at=row.created_at,
    )


def add_artifacts(session: Session, artifacts: list[Artifact]) -> None:
    session.add_all(
        ArtifactRow(
            id=a.id,
            attempt_id=a.attempt_id,
            process_id=a.process_id,
            name=a.name,
            kind=a.kind.value,
            size=a.size,
            mime_type=a.mime_type,
            sha256=a.sha256,
            created_at=a.created_at,
        )
        for a in artifacts
    )
    session.flush()


def get_artifact(session: Session, artifact_id: str) -> Artifact:
    row = session.get(ArtifactRow, artifact_id)
    if row is None:
        raise NotFound(f"no artifact {artifact_id}", code="artifact_not_found")
    return to_artifact(row)


def find_by_name(session: Session, process_id: str, name: str) -> Artifact | None:
    query = select(ArtifactRow).where(
        ArtifactRow.process_id == process_id, ArtifactRow.name == name
    )
    row = session.scalar(query.limit(1))
    return to_artifact(row) if row else None


def list_for_process(session: Session, process_id: str) -> list[Artifact]:
    query = (
        select(ArtifactRow).where(ArtifactRow.process_id == process_id).order_by(ArtifactRow.name)
    )
    return [to_artifact(row) for row in session.scalars(query)]


def list_for_attempt(
    session: Session, attempt_id: str, kind: ArtifactKind | None = None
) -> list[Artifact]:
    """Newest first."""
    query = select(ArtifactRow).where(ArtifactRow.attempt_id == attempt_id)
    if kind is not None:
        query = query.where(ArtifactRow.kind == kind.value)
    query = query.order_by(ArtifactRow.created_at.desc(), ArtifactRow.name)
    return [to_artifact(row) for row in session.scalars(query)]


def delete_artifact(session: Session, artifact_id: str) -> Artifact:
    row = session.get(ArtifactRow, artifact_id)
    if row is None:
        raise NotFound(f"no artifact {artifact_id}", code="artifact_not_found")
    artifact = to_artifact(row)
    session.delete(row)
    return artifact


def older_than(session: Session, cutoff: datetime, limit: int = 1000) -> list[str]:
    query = select(ArtifactRow.id).where(ArtifactRow.created_at < cutoff).limit(limit)
    return list(session.scalars(query))


def ids_of_attempt(session: Session, attempt_id: str) -> list[str]:
    return list(session.scalars(select(ArtifactRow.id).where(ArtifactRow.attempt_id == attempt_id)))


def delete_ids(session: Session, ids: list[str]) -> None:
    session.execute(delete(ArtifactRow).where(ArtifactRow.id.in_(ids)))
