"""Task moves: the history of a card's steps, with forced moves and what entering ran."""

from __future__ import annotations

from dataclasses import asdict

from sqlalchemy import select
from sqlalchemy.orm import Session

from paddock.domain.names import new_id
from paddock.domain.states import TestKind
from paddock.domain.workflow import GateFailure, TaskMove
from paddock.store.tables.tasks import TaskMoveRow


def to_move(row: TaskMoveRow) -> TaskMove:
    failing = [
        GateFailure(TestKind(f["kind"]), f["reason"], f.get("test_run_id")) for f in row.failing
    ]
    return TaskMove(
        id=row.id,
        task_id=row.task_id,
        from_step_id=row.from_step_id,
        to_step_id=row.to_step_id,
        attempt_id=row.attempt_id,
        forced=row.forced,
        reason=row.reason,
        failing=failing,
        automation=row.automation,
        ran=row.ran,
        automation_error=row.automation_error,
        created_at=row.created_at,
    )


def record_move(
    session: Session,
    *,
    task_id: str,
    from_step_id: str | None,
    to_step_id: str,
    attempt_id: str | None,
    forced: bool = False,
    reason: str = "",
    failing: list[GateFailure] | None = None,
    automation: str | None = None,
) -> TaskMove:
    row = TaskMoveRow(
        id=new_id(),
        task_id=task_id,
        from_step_id=from_step_id,
        to_step_id=to_step_id,
        attempt_id=attempt_id,
        forced=forced,
        reason=reason,
        failing=[asdict(f) for f in failing or []],
        automation=automation,
    )
    session.add(row)
    session.flush()
    return to_move(row)


def set_ran(
    session: Session,
    move_id: str,
    *,
    attempt_id: str | None,
    ran: str | None,
    error: str | None,
) -> TaskMove:
    row = session.get(TaskMoveRow, move_id)
    assert row is not None
    row.attempt_id = attempt_id or row.attempt_id
    row.ran = ran
    row.automation_error = error
    session.flush()
    return to_move(row)


def list_moves(session: Session, task_id: str) -> list[TaskMove]:
    """Oldest first."""
    query = (
        select(TaskMoveRow)
        .where(TaskMoveRow.task_id == task_id)
        .order_by(TaskMoveRow.created_at, TaskMoveRow.id)
    )
    return [to_move(row) for row in session.scalars(query)]
