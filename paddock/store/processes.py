"""Processes: one supervised OS process of an attempt."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from pathlib import PurePath

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from paddock.domain.autocommit import LeftOut, LeftOutReason
from paddock.domain.entities import Process
from paddock.domain.errors import NotFound
from paddock.domain.states import ProcessStatus, RunReason, check_process_move
from paddock.store.attempts import run_by
from paddock.store.tables.base import utcnow
from paddock.store.tables.processes import ProcessRow


def to_process(row: ProcessRow) -> Process:
    return Process(
        id=row.id,
        attempt_id=row.attempt_id,
        reason=RunReason(row.reason),
        command=list(row.command),
        status=ProcessStatus(row.status),
        pid=row.pid,
        pid_start_time=row.pid_start_time,
        exit_code=row.exit_code,
        error=row.error,
        debug_id=row.debug_id,
        line_count=row.line_count,
        created_at=row.created_at,
        started_at=row.started_at,
        finished_at=row.finished_at,
        commit_before=row.commit_before,
        commit_after=row.commit_after,
        agent_session=row.agent_session,
        dropped=row.dropped,
        provider=row.provider,
        failure=row.failure,
        left_out=[
            LeftOut(f["path"], f["size"], f["limit"], LeftOutReason(f["reason"]), f["new"])
            for f in row.left_out or []
        ],
    )


def create_process(
    session: Session,
    *,
    process_id: str,
    attempt_id: str,
    reason: RunReason,
    command: list[str],
    commit_before: str | None = None,
    provider: str = "none",
) -> Process:
    row = ProcessRow(
        provider=provider,
        id=process_id,
        attempt_id=attempt_id,
        reason=reason,
        command=command,
        status=ProcessStatus.queued,
        commit_before=commit_before,
    )
    session.add(row)
    session.flush()
    return to_process(row)


def _process_row(session: Session, process_id: str) -> ProcessRow:
    row = session.get(ProcessRow, process_id)
    if row is None:
        raise NotFound(f"no process {process_id}", code="process_not_found")
    return row


def get_process(session: Session, process_id: str) -> Process:
    return to_process(_process_row(session, process_id))


def list_processes(
    session: Session, attempt_id: str, *, include_dropped: bool = True
) -> list[Process]:
    query = (
        select(ProcessRow)
        .where(ProcessRow.attempt_id == attempt_id)
        .order_by(ProcessRow.created_at, ProcessRow.id)
    )
    if not include_dropped:
        query = query.where(ProcessRow.dropped.is_(False))
    return [to_process(r) for r in session.scalars(query)]


def drop_from(session: Session, process_id: str) -> list[Process]:
    """Mark the process and every later process of its attempt dropped (rewound past)."""
    first = _process_row(session, process_id)
    query = select(ProcessRow).where(
        ProcessRow.attempt_id == first.attempt_id,
        ProcessRow.created_at >= first.created_at,
        ProcessRow.dropped.is_(False),
    )
    rows = list(session.scalars(query))
    for row in rows:
        row.dropped = True
    session.flush()
    return [to_process(row) for row in rows]


def rewound_since_last_turn(session: Session, attempt_id: str) -> bool:
    """Whether a turn was rewound after the attempt's newest kept agent turn: the agent's
    own session may still remember what the rewind undid."""
    turns = (RunReason.agent.value, RunReason.follow_up.value)
    newest_kept = (
        select(func.max(ProcessRow.created_at))
        .where(
            ProcessRow.attempt_id == attempt_id,
            ProcessRow.reason.in_(turns),
            ProcessRow.dropped.is_(False),
        )
        .scalar_subquery()
    )
    query = select(ProcessRow.id).where(
        ProcessRow.attempt_id == attempt_id,
        ProcessRow.reason.in_(turns),
        ProcessRow.dropped.is_(True),
        ProcessRow.created_at > func.coalesce(newest_kept, ProcessRow.created_at),
    )
    return session.scalar(query.limit(1)) is not None


def list_unfinished(session: Session, runner_id: str | None = None) -> list[Process]:
    """Processes queued or running, of the attempts `runner_id` runs (all: None)."""
    query = select(ProcessRow).where(
        ProcessRow.status.in_([ProcessStatus.queued, ProcessStatus.running]),
        run_by(ProcessRow.attempt_id, runner_id),
    )
    return [to_process(r) for r in session.scalars(query)]


def mark_running(
    session: Session, process_id: str, *, pid: int | None, start_time: int | None
) -> Process:
    row = _process_row(session, process_id)
    check_process_move(ProcessStatus(row.status), ProcessStatus.running)
    row.status = ProcessStatus.running
    row.pid = pid
    row.pid_start_time = start_time
    row.started_at = utcnow()
    session.flush()
    return to_process(row)


def mark_finished(
    session: Session,
    process_id: str,
    status: ProcessStatus,
    *,
    exit_code: int | None = None,
    error: str | None = None,
    debug_id: str | None = None,
    finished_at: datetime | None = None,
    failure: str | None = None,
) -> Process:
    row = _process_row(session, process_id)
    check_process_move(ProcessStatus(row.status), status)
    row.status = status
    row.exit_code = exit_code
    row.error = error
    row.debug_id = debug_id
    row.failure = failure
    row.finished_at = finished_at or utcnow()
    session.flush()
    return to_process(row)


def set_line_count(
    session: Session, process_id: str, line_count: int, *, agent_session: str | None = None
) -> Process:
    row = _process_row(session, process_id)
    row.line_count = line_count
    if agent_session is not None:
        row.agent_session = agent_session
    session.flush()
    return to_process(row)


def set_error(session: Session, process_id: str, error: str) -> Process:
    row = _process_row(session, process_id)
    row.error = error
    session.flush()
    return to_process(row)


def set_commit_after(
    session: Session,
    process_id: str,
    commit: str | None,
    left_out: Sequence[LeftOut] = (),
) -> Process:
    row = _process_row(session, process_id)
    row.commit_after = commit
    row.left_out = [
        {"path": f.path, "size": f.size, "limit": f.limit, "reason": f.reason.value, "new": f.new}
        for f in left_out
    ]
    session.flush()
    return to_process(row)


def last_agent_session(session: Session, attempt_id: str, program: str) -> str | None:
    """The session id of the attempt's newest turn (not rewound) run by `program` (a CLI's
    name) that had one: a workflow step may have run another agent in between."""
    query = (
        select(ProcessRow.agent_session, ProcessRow.command)
        .where(
            ProcessRow.attempt_id == attempt_id,
            ProcessRow.agent_session.is_not(None),
            ProcessRow.dropped.is_(False),
        )
        .order_by(ProcessRow.created_at.desc())
        .limit(50)
    )
    for agent_session, command in session.execute(query):
        # The CLI is the command's program, or what a wrapper (Aider's guard) runs.
        if any(PurePath(str(word)).name == program for word in (command or [])[:4]):
            return str(agent_session)
    return None
