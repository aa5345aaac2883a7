"""Task moves: the history of a card's steps, with forced moves and what entering ran."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict

from sqlalchemy import func, select
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
        refused=row.refused,
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
    refused: bool = False,
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
        refused=refused,
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


def notices(session: Session, task_ids: Sequence[str]) -> dict[str, TaskMove]:
    """Each task's newest move where it says something went wrong: its gate refused it, or
    its automation could not run. A task whose newest move went well has none."""
    if not task_ids:
        return {}
    newest = (
        select(TaskMoveRow.task_id, func.max(TaskMoveRow.created_at).label("created_at"))
        .where(TaskMoveRow.task_id.in_(task_ids))
        .group_by(TaskMoveRow.task_id)
        .subquery()
    )
    rows = session.scalars(
        select(TaskMoveRow)
        .join(
            newest,
            (TaskMoveRow.task_id == newest.c.task_id)
            & (TaskMoveRow.created_at == newest.c.created_at),
        )
        .where(TaskMoveRow.refused | TaskMoveRow.automation_error.is_not(None))
    )
    return {row.task_id: to_move(row) for row in rows}
