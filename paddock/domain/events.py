"""The event catalogue: every state change Paddock publishes, what it concerns, what it carries.

An event's type is an `EventType` (its wire name, e.g. `attempt.updated`); each has a `Kind` in
`CATALOGUE`: the resource it concerns and its payload's class. The bus refuses a type that is
not here and a payload of another class, and turns the payload into its JSON form in one place
(`encode`, with secrets masked), so every subscriber (the `/api/events` stream, the UI's live
pages, any future one) sees the same thing. Subscribers match types by membership
(`EventType.for_resource(Resource.attempt)`, or a set of members), never by string prefix.

docs/api.md and docs/concepts.md hold `markdown_table()`; a test keeps them equal.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

from pydantic_core import to_jsonable_python

from paddock.domain.entities import (
    Attempt,
    Event,
    FollowUp,
    Process,
    Project,
    Task,
    WorkflowStep,
)
from paddock.domain.preview import PreviewView
from paddock.domain.pull_request import PullRequest
from paddock.domain.secrets import public_json
from paddock.domain.test_run import TestRun
from paddock.domain.workflow import TaskMove


class Resource(StrEnum):
    """What an event is about."""

    project = "project"
    step = "step"  # a project's workflow steps (the board's columns)
    task = "task"
    attempt = "attempt"
    process = "process"
    follow_up = "follow_up"
    preview = "preview"
    test_run = "test_run"
    artifact = "artifact"
    openapi = "openapi"  # an attempt's API spec
    pull_request = "pull_request"


# -- payloads of the events that carry no whole entity ----------------------------------------


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


# Payloads shown field by field in the docs; the others are entities, shown by name.
_SMALL: tuple[type, ...] = (
    Deleted,
    AttemptDeleted,
    DiffChanged,
    StepsUpdated,
    ResourceUsage,
    ArtifactsAdded,
    OpenApiUpdated,
)


class EventType(StrEnum):
    """Every event type, by its wire name (`event:` on the stream, `type` in its data)."""

    project_created = "project.created"
    project_updated = "project.updated"
    project_deleted = "project.deleted"
    steps_updated = "steps.updated"
    task_created = "task.created"
    task_updated = "task.updated"
    task_moved = "task.moved"
    task_deleted = "task.deleted"
    attempt_created = "attempt.created"
    attempt_updated = "attempt.updated"
    attempt_deleted = "attempt.deleted"
    attempt_diff_changed = "attempt.diff_changed"
    process_created = "process.created"
    process_updated = "process.updated"
    resource_usage = "resource_usage"
    follow_up_created = "follow_up.created"
    follow_up_updated = "follow_up.updated"
    preview_updated = "preview.updated"
    test_run_created = "test_run.created"
    test_run_updated = "test_run.updated"
    artifacts_added = "artifacts.added"
    openapi_updated = "openapi.updated"
    pull_request_created = "pull_request.created"
    pull_request_updated = "pull_request.updated"

    @property
    def kind(self) -> Kind:
        return CATALOGUE[self]

    @property
    def resource(self) -> Resource:
        return CATALOGUE[self].resource

    @property
    def payload(self) -> type:
        return CATALOGUE[self].payload

    @classmethod
    def for_resource(cls, *resources: Resource) -> frozenset[EventType]:
        """Every type concerning one of `resources`."""
        return frozenset(t for t in cls if CATALOGUE[t].resource in resources)


@dataclass(frozen=True, slots=True)
class Kind:
    resource: Resource
    payload: type  # the class of what is published; its JSON form is the event's `data`
    when: str  # for people: what happened


CATALOGUE: dict[EventType, Kind] = {
    EventType.project_created: Kind(Resource.project, Project, "a project was added"),
    EventType.project_updated: Kind(Resource.project, Project, "its settings changed"),
    EventType.project_deleted: Kind(Resource.project, Deleted, "a project was removed"),
    EventType.steps_updated: Kind(
        Resource.step, StepsUpdated, "a workflow step was added, changed, moved or removed"
    ),
    EventType.task_created: Kind(Resource.task, Task, "a task was created"),
    EventType.task_updated: Kind(Resource.task, Task, "a task was edited or moved"),
    EventType.task_moved: Kind(
        Resource.task, TaskMove, "a task entered a step (again once its automation ran)"
    ),
    EventType.task_deleted: Kind(Resource.task, Deleted, "a task was removed"),
    EventType.attempt_created: Kind(Resource.attempt, Attempt, "an attempt was started"),
    EventType.attempt_updated: Kind(
        Resource.attempt, Attempt, "its status, branch, merge or worktree changed"
    ),
    EventType.attempt_deleted: Kind(Resource.attempt, AttemptDeleted, "an attempt was removed"),
    EventType.attempt_diff_changed: Kind(
        Resource.attempt, DiffChanged, "its worktree changed (while its Diff is watched)"
    ),
    EventType.process_created: Kind(Resource.process, Process, "a process was queued"),
    EventType.process_updated: Kind(
        Resource.process, Process, "its status, exit code or line count changed"
    ),
    EventType.resource_usage: Kind(
        Resource.process, ResourceUsage, "a running process in a measured sandbox was sampled"
    ),
    EventType.follow_up_created: Kind(Resource.follow_up, FollowUp, "a follow-up was queued"),
    EventType.follow_up_updated: Kind(Resource.follow_up, FollowUp, "its status changed"),
    EventType.preview_updated: Kind(
        Resource.preview, PreviewView, "a preview was created, or its status changed"
    ),
    EventType.test_run_created: Kind(Resource.test_run, TestRun, "a test run started"),
    EventType.test_run_updated: Kind(Resource.test_run, TestRun, "a test run finished"),
    EventType.artifacts_added: Kind(
        Resource.artifact, ArtifactsAdded, "a process's artifacts were kept"
    ),
    EventType.openapi_updated: Kind(
        Resource.openapi, OpenApiUpdated, "the attempt's API spec was generated again"
    ),
    EventType.pull_request_created: Kind(
        Resource.pull_request, PullRequest, "a pull request was opened"
    ),
    EventType.pull_request_updated: Kind(
        Resource.pull_request, PullRequest, "its forge status changed"
    ),
}
_missing = set(EventType) - set(CATALOGUE)
assert not _missing, f"event types without a catalogue entry: {sorted(_missing)}"


class UnknownEventType(ValueError):
    """A type the catalogue does not define was published."""


class WrongEventPayload(TypeError):
    """A payload of another class than the catalogue's for its type was published."""


def event_type(name: str) -> EventType:
    """The catalogue's type of that name; UnknownEventType when there is none."""
    try:
        return EventType(name)
    except ValueError:
        raise UnknownEventType(f"{name!r} is not in the event catalogue") from None


def encode(type_: EventType | str, payload: object) -> tuple[EventType, dict[str, Any]]:
    """The type, checked against the catalogue, and the payload's JSON form as it may leave
    the server (`public_json`: no secret value). The one place an event's `data` is made."""
    checked = event_type(type_)
    expected = CATALOGUE[checked].payload
    if not isinstance(payload, expected):
        raise WrongEventPayload(
            f"{checked} carries a {expected.__name__}, not a {type(payload).__name__}"
        )
    data: dict[str, Any] = public_json(to_jsonable_python(payload))
    return checked, data


def wire(event: Event) -> dict[str, Any]:
    """An event as the `/api/events` stream sends it in `data:` (`ts` left to the encoder)."""
    return {
        "seq": event.seq,
        "type": str(event.type),
        "project_id": event.project_id,
        "data": event.data,
        "ts": event.ts,
    }


def _payload_doc(payload: type) -> str:
    if payload in _SMALL:
        return "`{" + ", ".join(f.name for f in dataclasses.fields(payload)) + "}`"
    return f"`{payload.__name__}`"


def markdown_table() -> str:
    """The catalogue as the docs show it."""
    rows = [
        "| type | resource | data | when |",
        "|---|---|---|---|",
        *(
            f"| `{t.value}` | {k.resource.value} | {_payload_doc(k.payload)} | {k.when} |"
            for t, k in CATALOGUE.items()
        ),
    ]
    return "\n".join(rows) + "\n"
