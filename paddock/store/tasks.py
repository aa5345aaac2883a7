"""Tasks: the cards on the board."""

from __future__ import annotations

from typing import Any

from sqlalchemy import ColumnElement, Select, func, or_, select, true
from sqlalchemy.orm import Session

from paddock.domain.entities import Task, WorkflowStep
from paddock.domain.errors import Conflict, NotFound
from paddock.domain.names import new_id
from paddock.domain.workflow import position_between
from paddock.store.tables.base import sqlite_utc_json
from paddock.store.tables.tasks import TaskRow

_COLUMNS = (
    TaskRow.id,
    TaskRow.project_id,
    TaskRow.step_id,
    TaskRow.title,
    TaskRow.description,
    TaskRow.position,
    TaskRow.created_at,
    TaskRow.updated_at,
    TaskRow.proposed,
    TaskRow.proposed_by,
)


def to_task(row: TaskRow) -> Task:
    return Task(
        row.id,
        row.project_id,
        row.step_id,
        row.title,
        row.description,
        row.position,
        row.created_at,
        row.updated_at,
        row.proposed,
        row.proposed_by,
    )


def last_position(session: Session, step_id: str) -> float | None:
    return session.scalar(select(func.max(TaskRow.position)).where(TaskRow.step_id == step_id))


def create_task(
    session: Session,
    *,
    project_id: str,
    step_id: str,
    title: str,
    description: str,
    proposed_by: str | None = None,
) -> Task:
    """A card at the bottom of its step; with `proposed_by` (an attempt's id), a pending
    proposal of that attempt."""
    row = TaskRow(
        id=new_id(),
        project_id=project_id,
        step_id=step_id,
        title=title,
        description=description,
        position=position_between(last_position(session, step_id), None),
        proposed=proposed_by is not None,
        proposed_by=proposed_by,
    )
    session.add(row)
    session.flush()
    return to_task(row)


def _task_row(session: Session, task_id: str) -> TaskRow:
    row = session.get(TaskRow, task_id)
    if row is None:
        raise NotFound(f"no task {task_id}", code="task_not_found")
    return row


def get_task(session: Session, task_id: str) -> Task:
    return to_task(_task_row(session, task_id))


def _list_query(project_id: str, step_id: str | None) -> Select[*tuple[Any, ...]]:
    # Plain column tuples, not ORM objects: listing a board of thousands of cards stays cheap.
    query = select(*_COLUMNS).where(TaskRow.project_id == project_id)
    if step_id is not None:
        query = query.where(TaskRow.step_id == step_id)
    return query.order_by(TaskRow.step_id, TaskRow.position)


def list_tasks(session: Session, project_id: str, step_id: str | None = None) -> list[Task]:
    # Through the connection (Core), not the ORM session: no ORM loading step per row.
    query = _list_query(project_id, step_id)
    return [Task(*row) for row in session.connection().execute(query).all()]


# list_tasks in plain SQL, for SQLite's driver: the columns in `Task`'s order, but project_id,
# which is the parameter (1,000 copies of it cost 5% of the list).
_LIST_SQL = (
    f"SELECT {', '.join(column.key for column in _COLUMNS if column is not TaskRow.project_id)}"
    f" FROM {TaskRow.__tablename__} WHERE project_id = ?{{}} ORDER BY step_id, position"
)
_LIST_SQL_ALL = _LIST_SQL.format("")
_LIST_SQL_STEP = _LIST_SQL.format(" AND step_id = ?")


def list_task_dicts(
    session: Session, project_id: str, step_id: str | None = None
) -> list[dict[str, Any]]:
    """`list_tasks` as JSON-ready dicts: `Task`'s fields in its order, with values that
    `pydantic_core.to_json` writes exactly as `TypeAdapter(list[Task])` writes the tasks.

    For the API's task list (a board has thousands of cards). On SQLite the rows come from
    the driver as they are, without Core's result rows and type processing, and neither a
    `Task` nor two datetimes are built per row: the stored timestamps become the JSON's
    "...Z" text directly (tables.sqlite_utc_json). For 1,000 tasks, list and JSON take 29M
    CPU instructions this way, 53M through list_tasks and TypeAdapter(list[Task]).
    """
    conn = session.connection()
    if conn.dialect.name != "sqlite":
        # Aware UTC datetimes from the driver, which pydantic formats as it formats a Task's.
        return [row._asdict() for row in conn.execute(_list_query(project_id, step_id))]
    # The DBAPI cursor of this transaction's connection: plain tuples, where Core would build a
    # (garbage-collected) Row per row, which cost as much as fetching them.
    cursor = conn.connection.cursor()
    try:
        if step_id is None:
            cursor.execute(_LIST_SQL_ALL, (project_id,))
        else:
            cursor.execute(_LIST_SQL_STEP, (project_id, step_id))
        rows = cursor.fetchall()
    finally:
        cursor.close()
    return [
        {
            "id": id_,
            "project_id": project_id,
            "step_id": step,
            "title": title,
            "description": description,
            "position": position,
            "created_at": sqlite_utc_json(created),
            "updated_at": sqlite_utc_json(updated),
            "proposed": bool(proposed),  # SQLite has 0 and 1
            "proposed_by": proposed_by,
        }
        for id_, step, title, description, position, created, updated, proposed, proposed_by in rows
    ]


def update_task(
    session: Session,
    task_id: str,
    *,
    title: str | None = None,
    description: str | None = None,
    step_id: str | None = None,
    position: float | None = None,
) -> Task:
    row = _task_row(session, task_id)
    if title is not None:
        row.title = title
    if description is not None:
        row.description = description
    if step_id is not None and step_id != row.step_id:
        row.step_id = step_id
        if position is None:
            position = position_between(last_position(session, step_id), None)
    if position is not None:
        row.position = position
    session.flush()
    return to_task(row)


def neighbour_positions(
    session: Session, step_id: str, index: int, exclude: str
) -> tuple[float | None, float | None]:
    """Positions of the cards that would sit before and after a card dropped at `index`."""
    query = (
        select(TaskRow.position)
        .where(TaskRow.step_id == step_id, TaskRow.id != exclude)
        .order_by(TaskRow.position)
    )
    positions = list(session.scalars(query))
    index = max(0, min(index, len(positions)))
    before = positions[index - 1] if index > 0 else None
    after = positions[index] if index < len(positions) else None
    return before, after


def neighbours_below(
    session: Session, step_id: str, above: str | None, exclude: str
) -> tuple[float | None, float | None]:
    """Positions around a card dropped just below the card `above` (None: at the top)."""
    before = None
    if above is not None:
        row = session.get(TaskRow, above)
        if row is None or row.step_id != step_id or row.id == exclude:
            # The board's state, not the request's form: 409, as for any stale view of it.
            raise Conflict(f"task {above} is not another card of that column", code="bad_anchor")
        before = row.position
    query = select(func.min(TaskRow.position)).where(
        TaskRow.step_id == step_id, TaskRow.id != exclude
    )
    if before is not None:
        query = query.where(TaskRow.position > before)
    return before, session.scalar(query)


def accept_proposal(session: Session, task_id: str) -> Task:
    """The pending proposal becomes an ordinary task (who proposed it is kept)."""
    row = _task_row(session, task_id)
    row.proposed = False
    session.flush()
    return to_task(row)


def pending_proposals(session: Session, attempt_id: str) -> int:
    """How many of the attempt's proposals wait for the user."""
    query = select(func.count()).where(TaskRow.proposed_by == attempt_id, TaskRow.proposed)
    return session.connection().execute(query).scalar() or 0


def delete_task(session: Session, task_id: str) -> None:
    session.delete(_task_row(session, task_id))


def _matching(text: str | None) -> ColumnElement[bool]:
    """Title or description contains `text`, in any case; everything when there is no text."""
    if not text:
        return true()
    pattern = "%" + text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
    return or_(
        TaskRow.title.ilike(pattern, escape="\\"),
        TaskRow.description.ilike(pattern, escape="\\"),
    )


def count_by_step(session: Session, project_id: str, text: str | None = None) -> dict[str, int]:
    """How many tasks of each step match `text` (title or description, any case)."""
    query = (
        select(TaskRow.step_id, func.count())
        .where(TaskRow.project_id == project_id, _matching(text))
        .group_by(TaskRow.step_id)
    )
    return {key: count for key, count in session.connection().execute(query).all()}


def page_of_step(
    session: Session,
    step: WorkflowStep,
    *,
    text: str | None = None,
    offset: int = 0,
    limit: int = 50,
    after: float | None = None,
) -> list[Task]:
    """Tasks of one step in board order, one page, optionally only those matching `text`;
    `after` (a position) starts the page below that card, however the cards above it moved."""
    # project_id too, so the (project_id, step_id, position) index serves the order.
    query: Select[*tuple[Any, ...]] = select(*_COLUMNS).where(
        TaskRow.project_id == step.project_id, TaskRow.step_id == step.id, _matching(text)
    )
    if after is not None:
        query = query.where(TaskRow.position > after)
    query = query.order_by(TaskRow.position).offset(offset).limit(limit)
    return [Task(*row) for row in session.connection().execute(query).all()]


def count_up_to(
    session: Session, step: WorkflowStep, position: float, text: str | None = None
) -> int:
    """How many tasks of one step matching `text` sit at `position` or above it."""
    query = select(func.count()).where(
        TaskRow.project_id == step.project_id,
        TaskRow.step_id == step.id,
        TaskRow.position <= position,
        _matching(text),
    )
    return session.connection().execute(query).scalar() or 0


def matches(session: Session, task_id: str, text: str | None) -> bool:
    if not text:
        return True
    query = select(TaskRow.id).where(TaskRow.id == task_id, _matching(text))
    return session.connection().execute(query).first() is not None


def previous_in_step(session: Session, task: Task, text: str | None = None) -> str | None:
    """The id of the card just above `task` in its column (among those matching `text`)."""
    query = (
        select(TaskRow.id)
        .where(TaskRow.step_id == task.step_id, TaskRow.position < task.position, _matching(text))
        .order_by(TaskRow.position.desc())
        .limit(1)
    )
    return session.connection().execute(query).scalar()


def count_by_project(session: Session) -> dict[str, int]:
    query = select(TaskRow.project_id, func.count()).group_by(TaskRow.project_id)
    return {key: count for key, count in session.connection().execute(query).all()}
