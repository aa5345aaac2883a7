"""Runners (domain/runners.py): made, found by their token's hash, revoked."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from paddock.domain.errors import Conflict, NotFound
from paddock.domain.names import new_id
from paddock.domain.runners import Runner
from paddock.store.tables.base import utcnow
from paddock.store.tables.runners import RunnerRow


def to_runner(row: RunnerRow) -> Runner:
    return Runner(
        id=row.id,
        name=row.name,
        labels=list(row.labels),
        created_at=row.created_at,
        revoked_at=row.revoked_at,
    )


def create(session: Session, *, name: str, labels: list[str], token_hash: str) -> Runner:
    if session.scalar(select(RunnerRow.id).where(RunnerRow.name == name)) is not None:
        raise Conflict(f"a runner named {name!r} exists", code="runner_name_taken")
    row = RunnerRow(id=new_id(), name=name, labels=labels, token_hash=token_hash)
    session.add(row)
    session.flush()
    return to_runner(row)


def get(session: Session, runner_id: str) -> Runner:
    row = session.get(RunnerRow, runner_id)
    if row is None:
        raise NotFound(f"no runner {runner_id}", code="runner_not_found")
    return to_runner(row)


def by_token_hash(session: Session, token_hash: str) -> Runner | None:
    row = session.scalar(select(RunnerRow).where(RunnerRow.token_hash == token_hash))
    return None if row is None else to_runner(row)


def list_runners(session: Session) -> list[Runner]:
    return [to_runner(r) for r in session.scalars(select(RunnerRow).order_by(RunnerRow.name))]


def revoke(session: Session, runner_id: str) -> Runner:
    row = session.get(RunnerRow, runner_id)
    if row is None:
        raise NotFound(f"no runner {runner_id}", code="runner_not_found")
    if row.revoked_at is None:
        row.revoked_at = utcnow()
        session.flush()
    return to_runner(row)
