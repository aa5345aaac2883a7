"""An app's timeline: what happened to it, in order, in plain words. Entries are numbered per
app (`seq`), so a stream of them resumes where a client left off, as a log does."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any


class TimelineKind(StrEnum):
    idea = "idea"
    brief = "brief"  # written or edited
    plan = "plan"  # options made
    plan_chosen = "plan_chosen"
    build_queued = "build_queued"
    build_stage = "build_stage"  # a stage began
    build_ready = "build_ready"
    build_failed = "build_failed"
    build_retried = "build_retried"
    build_cancelled = "build_cancelled"
    version = "version"
    rollback = "rollback"
    mvp_built = "mvp_built"
    gate_opened = "gate_opened"  # the decision gate, after a preview was seen
    decision = "decision"  # iterate, ship or park
    parked = "parked"
    resumed = "resumed"
    change_requested = "change_requested"  # its clarifying questions asked
    change_clarified = "change_clarified"
    change_confirmed = "change_confirmed"  # an iteration: its build queued
    change_discarded = "change_discarded"
    deploy_checked = "deploy_checked"  # a version's deploy readiness
    exported = "exported"  # a version downloaded or pushed


@dataclass(frozen=True, slots=True)
class TimelineEntry:
    app_id: str
    seq: int
    kind: TimelineKind
    message: str
    at: datetime
    build_id: str | None = None
    data: dict[str, Any] = field(default_factory=dict)
