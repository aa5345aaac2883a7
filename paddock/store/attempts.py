"""Attempts: one try at a task, in its own branch and worktree."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import asdict
from typing import Any

from sqlalchemy import ColumnElement, func, or_, select, true
from sqlalchemy.orm import InstrumentedAttribute, Session

from paddock.domain.entities import AgentSpec, Attempt, Scripts
from paddock.domain.errors import NotFound
from paddock.domain.merge import MergeRecord, MergeStrategy
from paddock.domain.sandbox import SandboxConfig, parse_sandbox
from paddock.domain.states import AttemptStatus, check_attempt_move
from paddock.store.tables.attempts import AttemptRow


def run_by(attempt_id: InstrumentedAttribute[str], runner_id: str | None) -> ColumnElement[bool]:
    """Rows (of any table with an `attempt_id`) of the attempts `runner_id` runs: its own, and
    those no runner was named for; every row when `runner_id` is None (one server)."""
    if runner_id is None:
        return true()
    ours = select(AttemptRow.id).where(
        or_(AttemptRow.runner_id.is_(None), AttemptRow.runner_id == runner_id)
    )
    return attempt_id.in_(ours)


def to_attempt(row: AttemptRow) -> Attempt:
    return Attempt(
        id=row.id,
        task_id=row.task_id,
        project_id=row.project_id,
        status=AttemptStatus(row.status),
        branch=row.branch,
        base_branch=row.base_branch,
        base_commit=row.base_commit,
        worktree_path=row.worktree_path,
        agent=AgentSpec(**row.agent),
        prompt=row.prompt,
        scripts=Scripts(**row.scripts),
        error=row.error,
        debug_id=row.debug_id,
        created_at=row.created_at,
        updated_at=row.updated_at,
        sandbox=parse_sandbox(row.sandbox),
        merged=_merge_of(row),
        worktree_bytes=row.worktree_bytes,
        progress=row.progress,
        progress_at=row.progress_at,
        runner_id=row.runner_id,
    )


def _merge_of(row: AttemptRow) -> MergeRecord | None:
    if row.merge_commit is None or row.merged_at is None:
        return None
    return MergeRecord(
        commit=row.merge_commit,
        strategy=MergeStrategy(row.merge_strategy or MergeStrategy.squash),
        into=row.merged_into or "",
        head=row.merged_head or "",
        merged_at=row.merged_at,
    )


def record_merge(session: Session, attempt_id: str, merge: MergeRecord) -> Attempt:
    """The merge that landed the attempt on its base branch; the attempt is `merged`."""
    row = _attempt_row(session, attempt_id)
    check_attempt_move(AttemptStatus(row.status), AttemptStatus.merged)
    row.status = AttemptStatus.merged
    row.error = None
    row.debug_id = None
    row.merge_commit = merge.commit
    row.merge_strategy = merge.strategy.value
    row.merged_into = merge.into
    row.merged_head = merge.head
    row.merged_at = merge.merged_at
    session.flush()
    return to_attempt(row)


def create_attempt(
    session: Session,
    *,
    attempt_id: str,
    task_id: str,
    project_id: str,
    branch: str,
    base_branch: str,
    worktree_path: str,
    agent: AgentSpec,
    prompt: str,
    sandbox: SandboxConfig | None = None,
    runner_id: str | None = None,
) -> Attempt:
    row = AttemptRow(
        id=attempt_id,
        task_id=task_id,
        project_id=project_id,
        status=AttemptStatus.creating,
        branch=branch,
        base_branch=base_branch,
        worktree_path=worktree_path,
        agent=asdict(agent),
        prompt=prompt,
        scripts=asdict(Scripts()),
        sandbox=(sandbox or SandboxConfig()).to_json(),
        runner_id=runner_id,
    )
    session.add(row)
    session.flush()
    return to_attempt(row)


def _attempt_row(session: Session, attempt_id: str) -> AttemptRow:
    row = session.get(AttemptRow, attempt_id)
    if row is None:
        raise NotFound(f"no attempt {attempt_id}", code="attempt_not_found")
    return row


def lock_attempt(session: Session, attempt_id: str) -> Attempt:
    """The attempt, its row locked until the transaction ends (PostgreSQL; SQLite has one
    writer at a time anyway)."""
    row = session.get(AttemptRow, attempt_id, with_for_update=True)
    if row is None:
        raise NotFound(f"no attempt {attempt_id}", code="attempt_not_found")
    return to_attempt(row)


def get_attempt(session: Session, attempt_id: str) -> Attempt:
    return to_attempt(_attempt_row(session, attempt_id))


def branches_of(session: Session, attempt_ids: Collection[str]) -> dict[str, str]:
    """The branch of each of these attempts that still exists."""
    if not attempt_ids:
        return {}
    query = select(AttemptRow.id, AttemptRow.branch).where(AttemptRow.id.in_(attempt_ids))
    return {id_: branch for id_, branch in session.execute(query).all()}


def list_attempts(
    session: Session, *, task_id: str | None = None, project_id: str | None = None
) -> list[Attempt]:
    query = select(AttemptRow).order_by(AttemptRow.created_at)
    if task_id is not None:
        query = query.where(AttemptRow.task_id == task_id)
    if project_id is not None:
        query = query.where(AttemptRow.project_id == project_id)
    return [to_attempt(r) for r in session.scalars(query)]


def branch_taken(session: Session, project_id: str, branch: str) -> bool:
    query = select(AttemptRow.id).where(
        AttemptRow.project_id == project_id, AttemptRow.branch == branch
    )
    return session.scalar(query) is not None


def set_attempt_status(
    session: Session,
    attempt_id: str,
    status: AttemptStatus,
    *,
    error: str | None = None,
    debug_id: str | None = None,
) -> Attempt:
    row = _attempt_row(session, attempt_id)
    check_attempt_move(AttemptStatus(row.status), status)
    row.status = status
    row.error = error
    row.debug_id = debug_id
    session.flush()
    return to_attempt(row)


def update_attempt(session: Session, attempt_id: str, **values: Any) -> Attempt:
    """Set plain columns (base_commit, scripts ...). Status goes through set_attempt_status."""
    row = _attempt_row(session, attempt_id)
    for key, value in values.items():
        setattr(row, key, asdict(value) if isinstance(value, Scripts) else value)
    session.flush()
    return to_attempt(row)


def delete_attempt(session: Session, attempt_id: str) -> None:
    session.delete(_attempt_row(session, attempt_id))


def latest_for_tasks(session: Session, task_ids: Sequence[str]) -> dict[str, tuple[Attempt, int]]:
    """Each task's newest attempt and how many it has, for tasks that have any."""
    if not task_ids:
        return {}
    counts = dict(
        session.execute(
            select(AttemptRow.task_id, func.count())
            .where(AttemptRow.task_id.in_(task_ids))
            .group_by(AttemptRow.task_id)
        ).all()
    )
    newest = (
        select(AttemptRow.task_id, func.max(AttemptRow.created_at).label("created_at"))
        .where(AttemptRow.task_id.in_(task_ids))
        .group_by(AttemptRow.task_id)
        .subquery()
    )
    rows = session.scalars(
        select(AttemptRow).join(
            newest,
            (AttemptRow.task_id == newest.c.task_id)
            & (AttemptRow.created_at == newest.c.created_at),
        )
    )
    return {row.task_id: (to_attempt(row), counts[row.task_id]) for row in rows}
