"""The builder face's tables: apps, their briefs (each edit a new version), builds, versions,
the timeline, decision gates and change requests (domain/builder/)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    Boolean,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    false,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from paddock.store.tables.base import ID, Base, utcnow


class AppRow(Base):
    __tablename__ = "apps"

    id: Mapped[str] = mapped_column(ID, primary_key=True)
    name: Mapped[str] = mapped_column(String(80))
    slug: Mapped[str] = mapped_column(String(60))
    idea: Mapped[str] = mapped_column(Text)
    stage: Mapped[str] = mapped_column(String(20))
    project_id: Mapped[str] = mapped_column(
        ForeignKey("projects.id", ondelete="CASCADE"), index=True
    )
    task_id: Mapped[str | None] = mapped_column(
        ForeignKey("tasks.id", ondelete="SET NULL"), default=None
    )
    attempt_id: Mapped[str | None] = mapped_column(
        ForeignKey("attempts.id", ondelete="SET NULL"), default=None
    )
    questions: Mapped[list[Any]] = mapped_column(default=list)
    answers: Mapped[list[Any]] = mapped_column(default=list)
    plan: Mapped[list[Any]] = mapped_column(default=list)
    template: Mapped[str | None] = mapped_column(String(60), default=None)
    agent: Mapped[dict[str, Any]] = mapped_column(default=dict)
    tag_prefix: Mapped[str] = mapped_column(String(80), default="")
    planner: Mapped[str] = mapped_column(String(20), default="offline")
    parked_at: Mapped[datetime | None] = mapped_column(default=None)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


class BriefRow(Base):
    """One version of an app's brief: an edit adds a row, the newest is the brief."""

    __tablename__ = "app_briefs"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    app_id: Mapped[str] = mapped_column(ForeignKey("apps.id", ondelete="CASCADE"))
    version: Mapped[int] = mapped_column(Integer)
    content: Mapped[dict[str, Any]] = mapped_column()
    author: Mapped[str] = mapped_column(String(20))  # the planner's name, or "founder"
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    __table_args__ = (UniqueConstraint("app_id", "version", name="uq_app_briefs_version"),)


class BuildRow(Base):
    __tablename__ = "builds"

    id: Mapped[str] = mapped_column(ID, primary_key=True)
    app_id: Mapped[str] = mapped_column(ForeignKey("apps.id", ondelete="CASCADE"))
    number: Mapped[int] = mapped_column(Integer)
    kind: Mapped[str] = mapped_column(String(10))
    status: Mapped[str] = mapped_column(String(12), index=True)
    prompt: Mapped[str] = mapped_column(Text)
    start_stage: Mapped[str] = mapped_column(String(12), default="starting")
    failed_stage: Mapped[str | None] = mapped_column(String(12), default=None)
    error: Mapped[str | None] = mapped_column(Text, default=None)
    detail: Mapped[str | None] = mapped_column(Text, default=None)
    debug_id: Mapped[str | None] = mapped_column(String(32), default=None)
    retries: Mapped[int] = mapped_column(Integer, default=0)
    stage_times: Mapped[list[Any]] = mapped_column(default=list)
    base_commit: Mapped[str | None] = mapped_column(String(64), default=None)
    version: Mapped[str | None] = mapped_column(String(20), default=None)
    preview_id: Mapped[str | None] = mapped_column(ID, default=None)
    screenshot_id: Mapped[str | None] = mapped_column(ID, default=None)
    summary: Mapped[dict[str, Any] | None] = mapped_column(default=None)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
    started_at: Mapped[datetime | None] = mapped_column(default=None)
    ended_at: Mapped[datetime | None] = mapped_column(default=None)

    __table_args__ = (
        UniqueConstraint("app_id", "number", name="uq_builds_app_number"),
        Index("ix_builds_status_created", "status", "created_at"),
    )


class VersionRow(Base):
    __tablename__ = "app_versions"

    id: Mapped[str] = mapped_column(ID, primary_key=True)
    app_id: Mapped[str] = mapped_column(ForeignKey("apps.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(20))
    commit: Mapped[str] = mapped_column(String(64))
    build_id: Mapped[str | None] = mapped_column(
        ForeignKey("builds.id", ondelete="SET NULL"), default=None
    )
    rolled_back_to: Mapped[str | None] = mapped_column(String(20), default=None)
    summary: Mapped[dict[str, Any] | None] = mapped_column(default=None)
    screenshot_id: Mapped[str | None] = mapped_column(ID, default=None)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    __table_args__ = (UniqueConstraint("app_id", "name", name="uq_app_versions_name"),)


class TimelineRow(Base):
    __tablename__ = "app_timeline"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    app_id: Mapped[str] = mapped_column(ForeignKey("apps.id", ondelete="CASCADE"))
    seq: Mapped[int] = mapped_column(Integer)
    kind: Mapped[str] = mapped_column(String(20))
    message: Mapped[str] = mapped_column(Text)
    build_id: Mapped[str | None] = mapped_column(ID, default=None)
    data: Mapped[dict[str, Any]] = mapped_column(default=dict)
    at: Mapped[datetime] = mapped_column(default=utcnow)

    __table_args__ = (UniqueConstraint("app_id", "seq", name="uq_app_timeline_seq"),)


_PENDING = text("status = 'pending'")


class GateRow(Base):
    """A decision gate; at most one pending per app (a partial unique index: two requests
    racing to open one cannot both insert)."""

    __tablename__ = "app_gates"

    id: Mapped[str] = mapped_column(ID, primary_key=True)
    app_id: Mapped[str] = mapped_column(ForeignKey("apps.id", ondelete="CASCADE"))
    version: Mapped[str] = mapped_column(String(20))
    status: Mapped[str] = mapped_column(String(10))
    choice: Mapped[str | None] = mapped_column(String(10), default=None)
    reason: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    resolved_at: Mapped[datetime | None] = mapped_column(default=None)

    __table_args__ = (
        Index(
            "uq_app_gates_pending",
            "app_id",
            unique=True,
            sqlite_where=_PENDING,
            postgresql_where=_PENDING,
        ),
    )


class ChangeRow(Base):
    __tablename__ = "app_changes"

    id: Mapped[str] = mapped_column(ID, primary_key=True)
    app_id: Mapped[str] = mapped_column(ForeignKey("apps.id", ondelete="CASCADE"), index=True)
    description: Mapped[str] = mapped_column(Text)
    version: Mapped[str] = mapped_column(String(20))
    status: Mapped[str] = mapped_column(String(12))
    questions: Mapped[list[Any]] = mapped_column(default=list)
    answers: Mapped[list[Any]] = mapped_column(default=list)
    clarified: Mapped[str] = mapped_column(Text, default="")
    features: Mapped[list[Any]] = mapped_column(default=list)
    new_capability: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    against_non_goals: Mapped[list[Any]] = mapped_column(default=list)
    iteration: Mapped[int | None] = mapped_column(Integer, default=None)
    tier: Mapped[str] = mapped_column(String(40), default="")
    tier_limit: Mapped[int | None] = mapped_column(Integer, default=None)
    alignment_score: Mapped[int | None] = mapped_column(Integer, default=None)
    model_score: Mapped[int | None] = mapped_column(Integer, default=None)
    model_reason: Mapped[str] = mapped_column(Text, default="")
    build_id: Mapped[str | None] = mapped_column(
        ForeignKey("builds.id", ondelete="SET NULL"), default=None
    )
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
