"""The event catalogue: every state change Paddock publishes, what it concerns, what it carries.

An event's type is an `EventType` (its wire name, e.g. `attempt.updated`); each has a `Kind` in
`CATALOGUE`: the resource it concerns, the class a publisher hands the bus (an entity, or a
small payload of domain/event_payloads.py) and the public read model its `data` is
(domain/public/). The bus refuses a type that is not here and a payload of another class, and
makes the `data` in one place (`encode`: the read model, masking secrets as every API answer
does, dumped as JSON), so every subscriber (the `/api/events` stream, the UI's live pages, any
future one) sees what a route answering with the same model shows. Subscribers match types by
membership (`EventType.for_resource(Resource.attempt)`, or a set of members), never by string
prefix.

docs/api.md and docs/concepts.md hold `markdown_table()`; a test keeps them equal.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from paddock.domain import event_payloads
from paddock.domain.builder.apps import App
from paddock.domain.builder.builds import Build
from paddock.domain.builder.timeline import TimelineEntry
from paddock.domain.builder.versions import Version
from paddock.domain.entities import (
    Attempt,
    Event,
    FollowUp,
    Process,
    Project,
    Task,
)
from paddock.domain.event_payloads import (
    ArtifactsAdded,
    AttemptDeleted,
    Deleted,
    DiffChanged,
    OpenApiUpdated,
    ResourceUsage,
    StepsUpdated,
)
from paddock.domain.preview import PreviewView
from paddock.domain.public import (
    AppPublic,
    ArtifactsAddedPublic,
    AttemptDeletedPublic,
    AttemptPublic,
    BuildPublic,
    DeletedPublic,
    DiffChangedPublic,
    FollowUpPublic,
    OpenApiUpdatedPublic,
    PreviewPublic,
    ProcessPublic,
    ProjectPublic,
    PublicModel,
    PullRequestPublic,
    ResourceUsagePublic,
    StepsUpdatedPublic,
    TaskMovePublic,
    TaskPublic,
    TestRunPublic,
    TimelineEntryPublic,
    VersionPublic,
)
from paddock.domain.pull_request import PullRequest
from paddock.domain.test_run import TestRun
from paddock.domain.workflow import TaskMove

__all__ = [  # the payloads are published from here, beside their types
    "CATALOGUE",
    "ArtifactsAdded",
    "AttemptDeleted",
    "Deleted",
    "DiffChanged",
    "EventType",
    "Kind",
    "OpenApiUpdated",
    "Resource",
    "ResourceUsage",
    "StepsUpdated",
    "UnknownEventType",
    "WrongEventPayload",
    "encode",
    "event_type",
    "markdown_table",
    "wire",
]


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
    app = "app"  # the builder face's app
    build = "build"
    version = "version"
    timeline = "timeline"  # an app's timeline


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
    app_created = "app.created"
    app_updated = "app.updated"
    build_created = "build.created"
    build_updated = "build.updated"
    version_created = "version.created"
    timeline_added = "timeline.added"

    @property
    def kind(self) -> Kind:
        return CATALOGUE[self]

    @property
    def resource(self) -> Resource:
        return CATALOGUE[self].resource

    @property
    def payload(self) -> type:
        """The class a publisher hands the bus for this type."""
        return CATALOGUE[self].entity

    @property
    def data(self) -> type[PublicModel]:
        """The public read model the event's `data` is."""
        return CATALOGUE[self].data

    @classmethod
    def for_resource(cls, *resources: Resource) -> frozenset[EventType]:
        """Every type concerning one of `resources`."""
        return frozenset(t for t in cls if CATALOGUE[t].resource in resources)


@dataclass(frozen=True, slots=True)
class Kind:
    resource: Resource
    entity: type  # the class of what is published
    data: type[PublicModel]  # the read model made of it: its JSON form is the event's `data`
    when: str  # for people: what happened


CATALOGUE: dict[EventType, Kind] = {
    EventType.project_created: Kind(
        Resource.project, Project, ProjectPublic, "a project was added"
    ),
    EventType.project_updated: Kind(
        Resource.project, Project, ProjectPublic, "its settings changed"
    ),
    EventType.project_deleted: Kind(
        Resource.project, Deleted, DeletedPublic, "a project was removed"
    ),
    EventType.steps_updated: Kind(
        Resource.step,
        StepsUpdated,
        StepsUpdatedPublic,
        "a workflow step was added, changed, moved or removed",
    ),
    EventType.task_created: Kind(
        Resource.task, Task, TaskPublic, "a task was created (or proposed by an agent)"
    ),
    EventType.task_updated: Kind(
        Resource.task, Task, TaskPublic, "a task was edited, moved or accepted"
    ),
    EventType.task_moved: Kind(
        Resource.task,
        TaskMove,
        TaskMovePublic,
        "a task entered a step (again once its automation ran), "
        "or its gate refused the card flow's move",
    ),
    EventType.task_deleted: Kind(
        Resource.task, Deleted, DeletedPublic, "a task was removed (or its proposal dismissed)"
    ),
    EventType.attempt_created: Kind(
        Resource.attempt, Attempt, AttemptPublic, "an attempt was started"
    ),
    EventType.attempt_updated: Kind(
        Resource.attempt,
        Attempt,
        AttemptPublic,
        "its status, branch, merge, worktree or progress line changed",
    ),
    EventType.attempt_deleted: Kind(
        Resource.attempt, AttemptDeleted, AttemptDeletedPublic, "an attempt was removed"
    ),
    EventType.attempt_diff_changed: Kind(
        Resource.attempt,
        DiffChanged,
        DiffChangedPublic,
        "its worktree changed (while its Diff is watched)",
    ),
    EventType.process_created: Kind(
        Resource.process, Process, ProcessPublic, "a process was queued"
    ),
    EventType.process_updated: Kind(
        Resource.process, Process, ProcessPublic, "its status, exit code or line count changed"
    ),
    EventType.resource_usage: Kind(
        Resource.process,
        ResourceUsage,
        ResourceUsagePublic,
        "a running process in a measured sandbox was sampled",
    ),
    EventType.follow_up_created: Kind(
        Resource.follow_up, FollowUp, FollowUpPublic, "a follow-up was queued"
    ),
    EventType.follow_up_updated: Kind(
        Resource.follow_up, FollowUp, FollowUpPublic, "its status changed"
    ),
    EventType.preview_updated: Kind(
        Resource.preview, PreviewView, PreviewPublic, "a preview was created, or its status changed"
    ),
    EventType.test_run_created: Kind(
        Resource.test_run, TestRun, TestRunPublic, "a test run started"
    ),
    EventType.test_run_updated: Kind(
        Resource.test_run, TestRun, TestRunPublic, "a test run finished"
    ),
    EventType.artifacts_added: Kind(
        Resource.artifact, ArtifactsAdded, ArtifactsAddedPublic, "a process's artifacts were kept"
    ),
    EventType.openapi_updated: Kind(
        Resource.openapi,
        OpenApiUpdated,
        OpenApiUpdatedPublic,
        "the attempt's API spec was generated again",
    ),
    EventType.pull_request_created: Kind(
        Resource.pull_request, PullRequest, PullRequestPublic, "a pull request was opened"
    ),
    EventType.pull_request_updated: Kind(
        Resource.pull_request, PullRequest, PullRequestPublic, "its forge status changed"
    ),
    EventType.app_created: Kind(Resource.app, App, AppPublic, "an app was made from an idea"),
    EventType.app_updated: Kind(
        Resource.app, App, AppPublic, "its stage, questions, answers, plan or template changed"
    ),
    EventType.build_created: Kind(Resource.build, Build, BuildPublic, "a build was queued"),
    EventType.build_updated: Kind(
        Resource.build, Build, BuildPublic, "a stage began, or it was ready, failed or cancelled"
    ),
    EventType.version_created: Kind(
        Resource.version, Version, VersionPublic, "a build or a rollback made a version"
    ),
    EventType.timeline_added: Kind(
        Resource.timeline, TimelineEntry, TimelineEntryPublic, "an app's timeline got an entry"
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
    """The type, checked against the catalogue, and the event's `data`: the payload's public
    read model (no secret value), dumped as JSON. The one place an event's `data` is made."""
    checked = event_type(type_)
    kind = CATALOGUE[checked]
    if not isinstance(payload, kind.entity):
        raise WrongEventPayload(
            f"{checked} carries a {kind.entity.__name__}, not a {type(payload).__name__}"
        )
    return checked, kind.data.read(payload).model_dump(mode="json")


def wire(event: Event) -> dict[str, Any]:
    """An event as the `/api/events` stream sends it in `data:` (`ts` left to the encoder)."""
    return {
        "seq": event.seq,
        "type": str(event.type),
        "project_id": event.project_id,
        "data": event.data,
        "ts": event.ts,
    }


def _data_doc(kind: Kind) -> str:
    # A small payload's fields are listed; an entity is named by its read model.
    if kind.entity.__module__ == event_payloads.__name__:
        return "`{" + ", ".join(kind.data.model_fields) + "}`"
    return f"`{kind.data.__name__}`"


def markdown_table() -> str:
    """The catalogue as the docs show it."""
    rows = [
        "| type | resource | data | when |",
        "|---|---|---|---|",
        *(
            f"| `{t.value}` | {k.resource.value} | {_data_doc(k)} | {k.when} |"
            for t, k in CATALOGUE.items()
        ),
    ]
    return "\n".join(rows) + "\n"
