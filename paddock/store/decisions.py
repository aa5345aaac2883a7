"""Decision gates and change requests (domain/builder/gates.py, changes.py)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from paddock.domain.builder.brief import Answer, Question
from paddock.domain.builder.changes import ChangeRequest, ChangeStatus
from paddock.domain.builder.gates import Gate, GateChoice, GateStatus, check_resolvable
from paddock.domain.errors import NotFound
from paddock.domain.names import new_id
from paddock.store.tables.apps import ChangeRow, GateRow
from paddock.store.tables.base import utcnow

# -- gates ------------------------------------------------------------------------------------


def to_gate(row: GateRow) -> Gate:
    return Gate(
        id=row.id,
        app_id=row.app_id,
        version=row.version,
        status=GateStatus(row.status),
        created_at=row.created_at,
        choice=GateChoice(row.choice) if row.choice else None,
        reason=row.reason,
        resolved_at=row.resolved_at,
    )


def pending_gate(session: Session, app_id: str) -> Gate | None:
    row = session.scalar(
        select(GateRow).where(GateRow.app_id == app_id, GateRow.status == GateStatus.pending.value)
    )
    return to_gate(row) if row else None


def open_gate(session: Session, app_id: str, version: str) -> tuple[Gate, bool]:
    """The app's pending gate, made for `version` if there is none; and whether it was made.
    Two sessions racing: the partial unique index makes the second insert do nothing (no
    savepoint: on SQLite one would commit on its own), and it reads the first's gate."""
    found = pending_gate(session, app_id)
    if found is not None:
        return found, False
    pending = GateStatus.pending.value
    insert = pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
    statement = (
        insert(GateRow)
        .values(
            id=new_id(),
            app_id=app_id,
            version=version,
            status=pending,
            reason="",
            created_at=utcnow(),
        )
        .on_conflict_do_nothing(
            index_elements=[GateRow.app_id], index_where=GateRow.status == pending
        )
        .returning(GateRow.id)
    )
    made = session.execute(statement).scalar() is not None
    gate = pending_gate(session, app_id)
    assert gate is not None  # made now, or by the session that won the race
    return gate, made


def get_gate(session: Session, gate_id: str) -> Gate:
    row = session.get(GateRow, gate_id)
    if row is None:
        raise NotFound(f"no decision gate {gate_id}", code="gate_not_found")
    return to_gate(row)


def list_gates(session: Session, app_id: str) -> list[Gate]:
    query = select(GateRow).where(GateRow.app_id == app_id).order_by(GateRow.created_at)
    return [to_gate(row) for row in session.scalars(query)]


def resolve_gate(session: Session, gate_id: str, choice: GateChoice, reason: str) -> Gate:
    """Decide the gate; refused (`gate_resolved`) when it was decided already, also by a
    request racing this one (the row is locked on PostgreSQL; SQLite has one writer)."""
    row = session.get(GateRow, gate_id, with_for_update=True)
    if row is None:
        raise NotFound(f"no decision gate {gate_id}", code="gate_not_found")
    check_resolvable(to_gate(row))
    row.status = GateStatus.resolved.value
    row.choice = choice.value
    row.reason = reason
    row.resolved_at = utcnow()
    session.flush()
    return to_gate(row)


# -- change requests --------------------------------------------------------------------------


def to_change(row: ChangeRow) -> ChangeRequest:
    return ChangeRequest(
        id=row.id,
        app_id=row.app_id,
        description=row.description,
        version=row.version,
        status=ChangeStatus(row.status),
        created_at=row.created_at,
        updated_at=row.updated_at,
        questions=tuple(Question.model_validate(q) for q in row.questions),
        answers=tuple(Answer.model_validate(a) for a in row.answers),
        clarified=row.clarified,
        features=tuple(row.features),
        new_capability=row.new_capability,
        against_non_goals=tuple(row.against_non_goals),
        iteration=row.iteration,
        tier=row.tier,
        tier_limit=row.tier_limit,
        alignment_score=row.alignment_score,
        model_score=row.model_score,
        model_reason=row.model_reason,
        build_id=row.build_id,
    )


def add_change(session: Session, change: ChangeRequest) -> ChangeRequest:
    row = ChangeRow(id=change.id, app_id=change.app_id)
    _fill(row, change)
    session.add(row)
    session.flush()
    return to_change(row)


def save_change(session: Session, change: ChangeRequest) -> ChangeRequest:
    row = session.get(ChangeRow, change.id)
    if row is None:
        raise NotFound(f"no change request {change.id}", code="change_not_found")
    _fill(row, change)
    row.updated_at = utcnow()
    session.flush()
    return to_change(row)


def _fill(row: ChangeRow, change: ChangeRequest) -> None:
    fields: dict[str, Any] = {
        "description": change.description,
        "version": change.version,
        "status": change.status.value,
        "questions": [q.model_dump() for q in change.questions],
        "answers": [a.model_dump() for a in change.answers],
        "clarified": change.clarified,
        "features": list(change.features),
        "new_capability": change.new_capability,
        "against_non_goals": list(change.against_non_goals),
        "iteration": change.iteration,
        "tier": change.tier,
        "tier_limit": change.tier_limit,
        "alignment_score": change.alignment_score,
        "model_score": change.model_score,
        "model_reason": change.model_reason,
        "build_id": change.build_id,
    }
    for key, value in fields.items():
        setattr(row, key, value)


def get_change(session: Session, change_id: str) -> ChangeRequest:
    row = session.get(ChangeRow, change_id)
    if row is None:
        raise NotFound(f"no change request {change_id}", code="change_not_found")
    return to_change(row)


def list_changes(session: Session, app_id: str) -> list[ChangeRequest]:
    query = select(ChangeRow).where(ChangeRow.app_id == app_id).order_by(ChangeRow.created_at)
    return [to_change(row) for row in session.scalars(query)]
