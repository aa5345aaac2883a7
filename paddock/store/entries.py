"""Agent entries: a process's normalised conversation, numbered like its log lines."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import func, insert, select
from sqlalchemy.orm import Session

from paddock.domain.entries import AgentEntry, EntryKind
from paddock.domain.usage import UsageReport
from paddock.store.tables.attempts import AttemptRow
from paddock.store.tables.processes import AgentEntryRow, ProcessRow


def write_entries(session: Session, entries: Sequence[AgentEntry]) -> None:
    if entries:
        session.execute(
            insert(AgentEntryRow),
            [
                {
                    "process_id": e.process_id,
                    "seq": e.seq,
                    "kind": e.kind.value,
                    "payload": e.payload,
                    "ts": e.ts,
                }
                for e in entries
            ],
        )


def read_entries(
    session: Session,
    process_id: str,
    *,
    after: int = 0,
    limit: int = 1000,
    kinds: Sequence[EntryKind] | None = None,
) -> list[AgentEntry]:
    query = select(AgentEntryRow).where(
        AgentEntryRow.process_id == process_id, AgentEntryRow.seq > after
    )
    if kinds:
        query = query.where(AgentEntryRow.kind.in_([k.value for k in kinds]))
    query = query.order_by(AgentEntryRow.seq).limit(limit)
    return [
        AgentEntry(row.process_id, row.seq, EntryKind(row.kind), row.payload, row.ts)
        for row in session.scalars(query)
    ]


def last_seq(session: Session, process_id: str) -> int:
    query = select(func.max(AgentEntryRow.seq)).where(AgentEntryRow.process_id == process_id)
    return session.scalar(query) or 0


def usage_reports(
    session: Session, *, attempt_id: str | None = None, project_id: str | None = None
) -> list[UsageReport]:
    """Every `usage` entry of an attempt's or a project's turns, in the order they ran."""
    query = (
        select(
            AgentEntryRow.process_id,
            AttemptRow.id,
            AttemptRow.task_id,
            ProcessRow.agent_session,
            AgentEntryRow.payload,
        )
        .join(ProcessRow, ProcessRow.id == AgentEntryRow.process_id)
        .join(AttemptRow, AttemptRow.id == ProcessRow.attempt_id)
        .where(AgentEntryRow.kind == EntryKind.usage.value)
        .order_by(ProcessRow.created_at, ProcessRow.id, AgentEntryRow.seq)
    )
    if attempt_id is not None:
        query = query.where(ProcessRow.attempt_id == attempt_id)
    if project_id is not None:
        query = query.where(AttemptRow.project_id == project_id)
    return [UsageReport(*row) for row in session.execute(query)]


def last_text(session: Session, process_id: str, kind: EntryKind) -> str | None:
    """The text of the process's last entry of `kind` (e.g. its final assistant message)."""
    query = (
        select(AgentEntryRow.payload)
        .where(AgentEntryRow.process_id == process_id, AgentEntryRow.kind == kind.value)
        .order_by(AgentEntryRow.seq.desc())
        .limit(1)
    )
    payload = session.scalar(query)
    text = payload.get("text") if payload else None
    return str(text) if text else None
