"""An attempt's tables: the attempt, its queued follow-up prompts, its pull requests."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from paddock.store.tables.base import ID, Base, utcnow


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
    # The agent's last progress line (domain/progress.py) and when it reported it.
    progress: Mapped[str | None] = mapped_column(String(200), default=None)
    progress_at: Mapped[datetime | None] = mapped_column(default=None)
    # The server that runs it, when servers share the database (None: one server runs all).
    runner_id: Mapped[str | None] = mapped_column(String(32), default=None, index=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    __table_args__ = (UniqueConstraint("project_id", "branch", name="uq_attempts_branch"),)


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
