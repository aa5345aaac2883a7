"""Public read models of the events that carry no whole entity: the `data` of each, built from
what its publisher handed the bus (domain/event_payloads.py)."""

from __future__ import annotations

from datetime import datetime
from typing import Self

from pydantic import Field

from paddock.domain.event_payloads import (
    ArtifactsAdded,
    AttemptDeleted,
    Deleted,
    DiffChanged,
    OpenApiUpdated,
    ResourceUsage,
    StepsUpdated,
)
from paddock.domain.public.model import PublicModel
from paddock.domain.public.projects import WorkflowStepPublic


class DeletedPublic(PublicModel):
    id: str

    @classmethod
    def of(cls, deleted: Deleted) -> Self:
        return cls.read(deleted)


class AttemptDeletedPublic(PublicModel):
    id: str
    task_id: str

    @classmethod
    def of(cls, deleted: AttemptDeleted) -> Self:
        return cls.read(deleted)


class DiffChangedPublic(PublicModel):
    id: str = Field(description="The attempt's")

    @classmethod
    def of(cls, changed: DiffChanged) -> Self:
        return cls.read(changed)


class StepsUpdatedPublic(PublicModel):
    project_id: str
    steps: list[WorkflowStepPublic] = Field(description="All of the project's steps, in order")

    @classmethod
    def of(cls, updated: StepsUpdated) -> Self:
        return cls.read(updated)


class ResourceUsagePublic(PublicModel):
    """One sample of a process's resource use (see `ResourceSamplePublic`)."""

    process_id: str
    attempt_id: str
    seq: int
    ts: datetime
    cpu_percent: float
    memory_bytes: int
    peak_bytes: int
    pids: int

    @classmethod
    def of(cls, usage: ResourceUsage) -> Self:
        return cls.read(usage)


class ArtifactsAddedPublic(PublicModel):
    process_id: str
    attempt_id: str

    @classmethod
    def of(cls, added: ArtifactsAdded) -> Self:
        return cls.read(added)


class OpenApiUpdatedPublic(PublicModel):
    attempt_id: str

    @classmethod
    def of(cls, updated: OpenApiUpdated) -> Self:
        return cls.read(updated)
