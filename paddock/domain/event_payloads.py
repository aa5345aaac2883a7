"""What publishers hand the bus for the events that carry no whole entity (domain/events.py).

Each has its public read model in domain/public/events.py: the event's `data` is that."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from paddock.domain.entities import WorkflowStep


@dataclass(frozen=True, slots=True)
class Deleted:
    id: str


@dataclass(frozen=True, slots=True)
class AttemptDeleted:
    id: str
    task_id: str


@dataclass(frozen=True, slots=True)
class DiffChanged:
    id: str  # the attempt's


@dataclass(frozen=True, slots=True)
class StepsUpdated:
    project_id: str
    steps: list[WorkflowStep]  # all of the project's steps, in order


@dataclass(frozen=True, slots=True)
class ResourceUsage:
    """One sample of a process's resource use (see `ResourceSample`)."""

    process_id: str
    attempt_id: str
    seq: int
    ts: datetime
    cpu_percent: float
    memory_bytes: int
    peak_bytes: int
    pids: int


@dataclass(frozen=True, slots=True)
class ArtifactsAdded:
    process_id: str
    attempt_id: str


@dataclass(frozen=True, slots=True)
class OpenApiUpdated:
    attempt_id: str
