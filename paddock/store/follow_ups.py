"""Follow-ups: prompts queued for an attempt's agent, run in order, durable across restarts."""

from __future__ import annotations

from dataclasses import asdict

from sqlalchemy import select
from sqlalchemy.orm import Session

from paddock.domain.entities import AgentSpec, FollowUp
from paddock.domain.errors import Conflict, NotFound
from paddock.domain.names import new_id
from paddock.domain.states import FollowUpStatus
from paddock.store.attempts import run_by
from paddock.store.tables.attempts import FollowUpRow


def to_follow_up(row: FollowUpRow) -> FollowUp:
    return FollowUp(
        id=row.id,
        attempt_id=row.attempt_id,
        prompt=row.prompt,
        status=FollowUpStatus(row.status),
        process_id=row.process_id,
        created_at=row.created_at,
        agent=AgentSpec(**row.agent) if row.agent else None,
        step_id=row.step_id,
    )


def enqueue(
    session: Session,
    attempt_id: str,
    prompt: str,
    *,
    agent: AgentSpec | None = None,
    step_id: str | None = None,
) -> FollowUp:
    row = FollowUpRow(
        id=new_id(),
        attempt_id=attempt_id,
        prompt=prompt,
        status="queued",
        agent=asdict(agent) if agent else None,
        step_id=step_id,
    )
    session.add(row)
    session.flush()
    return to_follow_up(row)


def list_for_attempt(session: Session, attempt_id: str) -> list[FollowUp]:
    query = (
        select(FollowUpRow)
        .where(FollowUpRow.attempt_id == attempt_id)
        .order_by(FollowUpRow.created_at, FollowUpRow.id)
    )
    return [to_follow_up(row) for row in session.scalars(query)]


def next_queued(session: Session, attempt_id: str) -> FollowUp | None:
    query = (
        select(FollowUpRow)
        .where(FollowUpRow.attempt_id == attempt_id, FollowUpRow.status == "queued")
        .order_by(FollowUpRow.created_at, FollowUpRow.id)
        .limit(1)
    )
    row = session.scalar(query)
    return to_follow_up(row) if row else None


def attempts_with_queued(session: Session, runner_id: str | None = None) -> list[str]:
    """Attempts (that `runner_id` runs; all: None) with follow-ups queued."""
    query = (
        select(FollowUpRow.attempt_id)
        .where(FollowUpRow.status == "queued", run_by(FollowUpRow.attempt_id, runner_id))
        .distinct()
    )
    return list(session.scalars(query))


def _row(session: Session, follow_up_id: str) -> FollowUpRow:
    row = session.get(FollowUpRow, follow_up_id)
    if row is None:
        raise NotFound(f"no follow-up {follow_up_id}", code="follow_up_not_found")
    return row


def get(session: Session, follow_up_id: str) -> FollowUp:
    return to_follow_up(_row(session, follow_up_id))


def set_status(
    session: Session, follow_up_id: str, status: FollowUpStatus, process_id: str | None = None
) -> FollowUp:
    row = _row(session, follow_up_id)
    row.status = status.value
    if process_id is not None:
        row.process_id = process_id
    session.flush()
    return to_follow_up(row)


def cancel(session: Session, follow_up_id: str) -> FollowUp:
    row = _row(session, follow_up_id)
    if row.status != "queued":
        raise Conflict(
            f"follow-up {follow_up_id} is {row.status}; only queued ones can be cancelled",
            code="follow_up_not_queued",
        )
    row.status = FollowUpStatus.cancelled.value
    session.flush()
    return to_follow_up(row)


def cancel_queued(session: Session, attempt_id: str) -> list[FollowUp]:
    query = select(FollowUpRow).where(
        FollowUpRow.attempt_id == attempt_id, FollowUpRow.status == "queued"
    )
    rows = list(session.scalars(query))
    for row in rows:
        row.status = FollowUpStatus.cancelled.value
    session.flush()
    return [to_follow_up(row) for row in rows]


def fail_interrupted(session: Session, runner_id: str | None = None) -> int:
    """Follow-ups (of the attempts `runner_id` runs; all: None) that were running when the
    server stopped: their process is gone."""
    rows = session.scalars(
        select(FollowUpRow).where(
            FollowUpRow.status == "running", run_by(FollowUpRow.attempt_id, runner_id)
        )
    )
    count = 0
    for row in rows:
        row.status = FollowUpStatus.failed.value
        count += 1
    return count
