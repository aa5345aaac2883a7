"""The tables. Timestamps are UTC; ids are 32-hex strings (see domain.names.new_id)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    TypeDecorator,
    UniqueConstraint,
    false,
    true,
)
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


class UTCDateTime(TypeDecorator[datetime]):
    """Aware UTC datetimes on every backend (SQLite stores them naive)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)

    def result_processor(self, dialect: Dialect, coltype: object) -> Callable[[Any], Any] | None:
        if dialect.name != "sqlite":
            return super().result_processor(dialect, coltype)
        # SQLite hands back the text SQLAlchemy stored ("2026-01-02 03:04:05.678901", UTC):
        # one C-level parse instead of a regex and a second pass (lists of tasks are hot).
        return _parse_sqlite_utc


def _parse_sqlite_utc(value: str | None) -> datetime | None:
    return None if value is None else datetime.fromisoformat(value + "+00:00")


# How SQLAlchemy stores a DateTime in SQLite: "2026-01-02 03:04:05.678901", always 26 characters.
_SQLITE_DATETIME_LENGTH = 26


def sqlite_utc_json(value: str) -> str | datetime:
    """A stored SQLite timestamp as the API's JSON writes it, without building a datetime.

    pydantic writes an aware UTC datetime as "2026-01-02T03:04:05.678901Z", and without the
    fraction when it is zero ("2026-01-02T03:04:05Z"); from the stored text that is two string
    replacements. Text in any other shape is parsed, and pydantic formats the datetime itself.
    """
    if len(value) == _SQLITE_DATETIME_LENGTH:
        return value.replace(" ", "T", 1).replace(".000000", "", 1) + "Z"
    parsed = _parse_sqlite_utc(value)
    assert parsed is not None
    return parsed


def utcnow() -> datetime:
    return datetime.now(UTC)


ID = String(32)


class Base(DeclarativeBase):
    type_annotation_map = {datetime: UTCDateTime(), dict[str, Any]: JSON, list[Any]: JSON}


class ProjectRow(Base):
    __tablename__ = "projects"

    id: Mapped[str] = mapped_column(ID, primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    repo_path: Mapped[str] = mapped_column(Text, unique=True)
    default_branch: Mapped[str] = mapped_column(String(255))
    setup_script: Mapped[str] = mapped_column(Text, default="")
    dev_script: Mapped[str] = mapped_column(Text, default="")
    cleanup_script: Mapped[str] = mapped_column(Text, default="")
    unit_test_script: Mapped[str] = mapped_column(Text, default="")
    e2e_test_script: Mapped[str] = mapped_column(Text, default="")
    openapi_script: Mapped[str] = mapped_column(Text, default="")
    copy_files: Mapped[list[Any]] = mapped_column(default=list)
    # Commit the worktree after each agent turn, with the agent's summary as the message.
    auto_commit: Mapped[bool] = mapped_column(Boolean, default=True, server_default=true())
    sandbox: Mapped[dict[str, Any]] = mapped_column(default=dict)
    # Dev services besides the dev script ({name: command}), and the database each attempt's
    # preview gets ("none", "sqlite", "postgres").
    services: Mapped[dict[str, Any]] = mapped_column(default=dict)
    database: Mapped[str] = mapped_column(String(20), default="none", server_default="none")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class StepRow(Base):
    __tablename__ = "workflow_steps"

    id: Mapped[str] = mapped_column(ID, primary_key=True)
    project_id: Mapped[str] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(100))
    position: Mapped[int] = mapped_column(Integer)
    color: Mapped[str] = mapped_column(String(20))
    agent: Mapped[dict[str, Any] | None] = mapped_column(JSON, default=None)
    prompt_template: Mapped[str] = mapped_column(Text, default="")
    automation: Mapped[str | None] = mapped_column(String(20), default=None)
    gate: Mapped[list[Any]] = mapped_column(default=list)

    __table_args__ = (Index("ix_steps_project_position", "project_id", "position"),)


class TaskStepPromptRow(Base):
    """A task's own prompt for one step, used instead of the step's template."""

    __tablename__ = "task_step_prompts"

    task_id: Mapped[str] = mapped_column(
        ForeignKey("tasks.id", ondelete="CASCADE"), primary_key=True
    )
    step_id: Mapped[str] = mapped_column(
        ForeignKey("workflow_steps.id", ondelete="CASCADE"), primary_key=True
    )
    prompt: Mapped[str] = mapped_column(Text)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class TaskMoveRow(Base):
    """A task changing step (domain/workflow.py TaskMove)."""

    __tablename__ = "task_moves"

    id: Mapped[str] = mapped_column(ID, primary_key=True)
    task_id: Mapped[str] = mapped_column(ForeignKey("tasks.id", ondelete="CASCADE"), index=True)
    # Steps may be deleted later: the history keeps their ids, not a foreign key.
    from_step_id: Mapped[str | None] = mapped_column(ID, default=None)
    to_step_id: Mapped[str] = mapped_column(ID)
    attempt_id: Mapped[str | None] = mapped_column(ID, default=None)
    forced: Mapped[bool] = mapped_column(Boolean, default=False)
    reason: Mapped[str] = mapped_column(Text, default="")
    failing: Mapped[list[Any]] = mapped_column(default=list)
    automation: Mapped[str | None] = mapped_column(String(20), default=None)
    ran: Mapped[str | None] = mapped_column(ID, default=None)
    automation_error: Mapped[str | None] = mapped_column(Text, default=None)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class TaskRow(Base):
    __tablename__ = "tasks"

    id: Mapped[str] = mapped_column(ID, primary_key=True)
    project_id: Mapped[str] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"))
    step_id: Mapped[str] = mapped_column(ForeignKey("workflow_steps.id"))
    title: Mapped[str] = mapped_column(String(500))
    description: Mapped[str] = mapped_column(Text, default="")
    position: Mapped[float] = mapped_column(Float)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    __table_args__ = (Index("ix_tasks_project_step_position", "project_id", "step_id", "position"),)


class AttemptRow(Base):
    __tablename__ = "attempts"

    id: Mapped[str] = mapped_column(ID, primary_key=True)
    task_id: Mapped[str] = mapped_column(ForeignKey("tasks.id", ondelete="CASCADE"), index=True)
    project_id: Mapped[str] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"))
    status: Mapped[str] = mapped_column(String(20))
    branch: Mapped[str] = mapped_column(String(255))
    base_branch: Mapped[str] = mapped_column(String(255))
    base_commit: Mapped[str] = mapped_column(String(64), default="")
    worktree_path: Mapped[str] = mapped_column(Text)
    agent: Mapped[dict[str, Any]] = mapped_column(default=dict)
    prompt: Mapped[str] = mapped_column(Text, default="")
    scripts: Mapped[dict[str, Any]] = mapped_column(default=dict)
    sandbox: Mapped[dict[str, Any]] = mapped_column(default=dict)
    error: Mapped[str | None] = mapped_column(Text, default=None)
    debug_id: Mapped[str | None] = mapped_column(String(32), default=None)
    # The merge that landed it on its base branch (MergeRecord), if any.
    merge_commit: Mapped[str | None] = mapped_column(String(64), default=None)
    merge_strategy: Mapped[str | None] = mapped_column(String(20), default=None)
    merged_into: Mapped[str | None] = mapped_column(String(255), default=None)
    merged_head: Mapped[str | None] = mapped_column(String(64), default=None)
    merged_at: Mapped[datetime | None] = mapped_column(default=None)
    # The worktree's disk use in bytes, measured at the end of the last agent turn.
    worktree_bytes: Mapped[int | None] = mapped_column(BigInteger, default=None)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    __table_args__ = (UniqueConstraint("project_id", "branch", name="uq_attempts_branch"),)


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


class FollowUpRow(Base):
    """A prompt for an attempt's agent, queued while the agent runs (survives restarts)."""

    __tablename__ = "follow_ups"

    id: Mapped[str] = mapped_column(ID, primary_key=True)
    attempt_id: Mapped[str] = mapped_column(
        ForeignKey("attempts.id", ondelete="CASCADE"), index=True
    )
    prompt: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(20), default="queued")
    process_id: Mapped[str | None] = mapped_column(
        ForeignKey("processes.id", ondelete="SET NULL"), default=None
    )
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    # Queued by a workflow step's automation: its agent (None: the attempt's own).
    agent: Mapped[dict[str, Any] | None] = mapped_column(JSON, default=None)
    step_id: Mapped[str | None] = mapped_column(ID, default=None)


class PreviewRow(Base):
    """A dev service of an attempt behind the proxy (domain/preview.py)."""

    __tablename__ = "previews"

    id: Mapped[str] = mapped_column(ID, primary_key=True)
    attempt_id: Mapped[str] = mapped_column(ForeignKey("attempts.id", ondelete="CASCADE"))
    project_id: Mapped[str] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"))
    service: Mapped[str] = mapped_column(String(20))
    command: Mapped[str] = mapped_column(Text)
    host: Mapped[str] = mapped_column(String(63), unique=True)
    # Held while starting or running (unique: the reservation), released (NULL) once stopped.
    port: Mapped[int | None] = mapped_column(Integer, unique=True, default=None)
    # The dev server's current process (named before its row exists: no foreign key).
    process_id: Mapped[str | None] = mapped_column(ID, default=None)
    status: Mapped[str] = mapped_column(String(20), index=True)
    error: Mapped[str | None] = mapped_column(Text, default=None)
    debug_id: Mapped[str | None] = mapped_column(String(32), default=None)
    notice: Mapped[str | None] = mapped_column(Text, default=None)
    token_hash: Mapped[str] = mapped_column(String(64))
    last_access_at: Mapped[datetime | None] = mapped_column(default=None)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    __table_args__ = (UniqueConstraint("attempt_id", "service", name="uq_previews_service"),)


class PreviewTicketRow(Base):
    """A one-time ticket in a preview's Open link, stored hashed; redeemed for a cookie."""

    __tablename__ = "preview_tickets"

    ticket_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    preview_id: Mapped[str] = mapped_column(
        ForeignKey("previews.id", ondelete="CASCADE"), index=True
    )
    expires_at: Mapped[datetime] = mapped_column()
    used_at: Mapped[datetime | None] = mapped_column(default=None)


class PullRequestRow(Base):
    """A pull request opened for an attempt's branch (domain/pull_request.py)."""

    __tablename__ = "pull_requests"

    id: Mapped[str] = mapped_column(ID, primary_key=True)
    attempt_id: Mapped[str] = mapped_column(
        ForeignKey("attempts.id", ondelete="CASCADE"), index=True
    )
    forge: Mapped[str] = mapped_column(String(20))
    repo: Mapped[str] = mapped_column(String(255))
    number: Mapped[int] = mapped_column(Integer)
    url: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(20), index=True)
    via: Mapped[str] = mapped_column(String(10))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class TestRunRow(Base):
    """One run of a test script in an attempt (domain/test_run.py)."""

    __tablename__ = "test_runs"
    __test__ = False

    id: Mapped[str] = mapped_column(ID, primary_key=True)
    attempt_id: Mapped[str] = mapped_column(ForeignKey("attempts.id", ondelete="CASCADE"))
    task_id: Mapped[str] = mapped_column(ForeignKey("tasks.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(10))
    status: Mapped[str] = mapped_column(String(20), index=True)
    # The script's process (named before its row exists: no foreign key).
    process_id: Mapped[str | None] = mapped_column(ID, default=None)
    commit: Mapped[str | None] = mapped_column(String(64), default=None)
    passed: Mapped[int] = mapped_column(Integer, default=0)
    failed: Mapped[int] = mapped_column(Integer, default=0)
    skipped: Mapped[int] = mapped_column(Integer, default=0)
    errors: Mapped[int] = mapped_column(Integer, default=0)
    duration_s: Mapped[float | None] = mapped_column(Float, default=None)
    error: Mapped[str | None] = mapped_column(Text, default=None)
    error_code: Mapped[str | None] = mapped_column(String(40), default=None)
    debug_id: Mapped[str | None] = mapped_column(String(32), default=None)
    preview_url: Mapped[str | None] = mapped_column(Text, default=None)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    finished_at: Mapped[datetime | None] = mapped_column(default=None)

    __table_args__ = (Index("ix_test_runs_attempt_kind", "attempt_id", "kind", "created_at"),)


class TestCaseRow(Base):
    """One test case of a test run, as its JUnit report says."""

    __tablename__ = "test_cases"
    __test__ = False

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    run_id: Mapped[str] = mapped_column(ForeignKey("test_runs.id", ondelete="CASCADE"), index=True)
    suite: Mapped[str] = mapped_column(Text, default="")
    classname: Mapped[str] = mapped_column(Text, default="")
    name: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(10))
    duration_s: Mapped[float] = mapped_column(Float, default=0.0)
    message: Mapped[str] = mapped_column(Text, default="")
    output: Mapped[str] = mapped_column(Text, default="")
    file: Mapped[str] = mapped_column(Text, default="")


class ArtifactRow(Base):
    """A file a process produced, kept in the artifact store (domain/artifact.py)."""

    __tablename__ = "artifacts"

    id: Mapped[str] = mapped_column(ID, primary_key=True)
    attempt_id: Mapped[str] = mapped_column(
        ForeignKey("attempts.id", ondelete="CASCADE"), index=True
    )
    # Named before the process row may exist (and kept past a process's own deletion).
    process_id: Mapped[str | None] = mapped_column(ID, default=None, index=True)
    name: Mapped[str] = mapped_column(Text)
    kind: Mapped[str] = mapped_column(String(20))
    size: Mapped[int] = mapped_column(BigInteger)
    mime_type: Mapped[str] = mapped_column(String(100))
    sha256: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
