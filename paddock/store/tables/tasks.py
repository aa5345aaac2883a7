"""A task's tables: the card, its own prompts per step, and its moves between steps."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Boolean, Float, ForeignKey, Index, String, Text, false
from sqlalchemy.orm import Mapped, mapped_column

from paddock.store.tables.base import ID, Base, utcnow


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
    # A task an agent proposed: pending while `proposed`; `proposed_by` (the attempt's id) is
    # kept after it is accepted, for the record, and after that attempt is gone: no foreign key.
    proposed: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    proposed_by: Mapped[str | None] = mapped_column(ID, default=None)

    __table_args__ = (
        Index("ix_tasks_project_step_position", "project_id", "step_id", "position"),
        Index("ix_tasks_proposed_by", "proposed_by"),  # an attempt's pending proposals, counted
    )


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
    # The gate refused it (a card flow move): the task stayed where it was.
    refused: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
