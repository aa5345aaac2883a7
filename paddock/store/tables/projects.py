"""A project's table and its workflow steps (the board's columns)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Boolean, ForeignKey, Index, Integer, String, Text, false, true
from sqlalchemy.orm import Mapped, mapped_column

from paddock.store.tables.base import ID, Base, utcnow


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
    # Cards move by themselves (to the in-progress step, then to review); the preview starts
    # when the agent's turn ends.
    card_flow: Mapped[bool] = mapped_column(Boolean, default=True, server_default=true())
    auto_preview: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    # The agent's channel to Paddock (propose tasks, report progress): on unless turned off.
    agent_channel: Mapped[bool] = mapped_column(Boolean, default=True, server_default=true())
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
    # What the card flow uses it for (StepRole): in_progress, review, done; one step each.
    role: Mapped[str | None] = mapped_column(String(20), default=None)

    __table_args__ = (Index("ix_steps_project_position", "project_id", "position"),)
