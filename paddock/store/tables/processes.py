"""A process's tables: the process, its resource samples, its agent entries and log lines."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    Float,
    ForeignKey,
    Integer,
    LargeBinary,
    String,
    Text,
    false,
)
from sqlalchemy.orm import Mapped, mapped_column

from paddock.store.tables.base import ID, Base, utcnow


class ProcessRow(Base):
    __tablename__ = "processes"

    id: Mapped[str] = mapped_column(ID, primary_key=True)
    attempt_id: Mapped[str] = mapped_column(
        ForeignKey("attempts.id", ondelete="CASCADE"), index=True
    )
    reason: Mapped[str] = mapped_column(String(20))
    command: Mapped[list[Any]] = mapped_column(default=list)
    status: Mapped[str] = mapped_column(String(20), index=True)
    pid: Mapped[int | None] = mapped_column(Integer, default=None)
    pid_start_time: Mapped[int | None] = mapped_column(BigInteger, default=None)
    exit_code: Mapped[int | None] = mapped_column(Integer, default=None)
    error: Mapped[str | None] = mapped_column(Text, default=None)
    debug_id: Mapped[str | None] = mapped_column(String(32), default=None)
    line_count: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    started_at: Mapped[datetime | None] = mapped_column(default=None)
    finished_at: Mapped[datetime | None] = mapped_column(default=None)
    # Agent turns: the worktree's HEAD before and after, and the agent's own session id.
    commit_before: Mapped[str | None] = mapped_column(String(64), default=None)
    commit_after: Mapped[str | None] = mapped_column(String(64), default=None)
    agent_session: Mapped[str | None] = mapped_column(String(200), default=None)
    # Rewound past: kept for the record, hidden by default.
    dropped: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    provider: Mapped[str] = mapped_column(String(20), default="none", server_default="none")
    failure: Mapped[str | None] = mapped_column(String(20), default=None)
    # Agent turns: the files the auto-commit left out ([{path, size, limit, reason}]).
    left_out: Mapped[list[Any]] = mapped_column(default=list)


class ResourceSampleRow(Base):
    """One sample of a process's resource use (a small time series per process)."""

    __tablename__ = "resource_samples"

    process_id: Mapped[str] = mapped_column(
        ForeignKey("processes.id", ondelete="CASCADE"), primary_key=True
    )
    seq: Mapped[int] = mapped_column(Integer, primary_key=True)
    ts: Mapped[datetime] = mapped_column(default=utcnow)
    cpu_percent: Mapped[float] = mapped_column(Float)
    memory_bytes: Mapped[int] = mapped_column(BigInteger)
    peak_bytes: Mapped[int] = mapped_column(BigInteger)
    pids: Mapped[int] = mapped_column(Integer)


class AgentEntryRow(Base):
    """One normalised agent entry (domain/entries.py), numbered per process."""

    __tablename__ = "agent_entries"

    process_id: Mapped[str] = mapped_column(
        ForeignKey("processes.id", ondelete="CASCADE"), primary_key=True
    )
    seq: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[str] = mapped_column(String(30))
    payload: Mapped[dict[str, Any]] = mapped_column()
    ts: Mapped[datetime] = mapped_column(default=utcnow)


class LogChunkRow(Base):
    """Many consecutive log lines of one process in one row (see docs/decisions/001)."""

    __tablename__ = "log_chunks"

    process_id: Mapped[str] = mapped_column(
        ForeignKey("processes.id", ondelete="CASCADE"), primary_key=True
    )
    first_seq: Mapped[int] = mapped_column(Integer, primary_key=True)
    last_seq: Mapped[int] = mapped_column(Integer)
    runs: Mapped[list[Any]] = mapped_column()
    data: Mapped[bytes] = mapped_column(LargeBinary)
