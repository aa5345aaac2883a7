"""The public read models of the builder face: apps, briefs, builds, versions, the timeline."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Self

from pydantic import Field, computed_field

from paddock.domain.builder.apps import App, AppStage
from paddock.domain.builder.brief import Brief
from paddock.domain.builder.builds import Build, BuildKind, BuildStatus, failure_sentence
from paddock.domain.builder.templates import AppTemplate
from paddock.domain.builder.timeline import TimelineEntry, TimelineKind
from paddock.domain.builder.versions import Version
from paddock.domain.public.agent import AgentSpecPublic
from paddock.domain.public.model import PublicModel


class QuestionPublic(PublicModel):
    id: str
    text: str
    hint: str


class AnswerPublic(PublicModel):
    question_id: str
    text: str


class PlanOptionPublic(PublicModel):
    template: str
    title: str
    summary: str
    pros: list[str]
    cons: list[str]
    recommended: bool


class AppPublic(PublicModel):
    """An app of the builder face, on its own Paddock project."""

    id: str
    name: str
    slug: str
    idea: str
    stage: AppStage
    project_id: str
    task_id: str | None
    attempt_id: str | None
    questions: list[QuestionPublic]
    answers: list[AnswerPublic]
    plan: list[PlanOptionPublic]
    template: str | None
    agent: AgentSpecPublic
    planner: str = Field(description="Who answers the questions: `offline` needs no key")
    parked: bool = Field(description="Paused by the founder: no previews, no builds")
    parked_at: datetime | None
    created_at: datetime
    updated_at: datetime

    @computed_field  # type: ignore[prop-decorator]
    @property
    def stage_label(self) -> str:
        return self.stage.label

    @classmethod
    def of(cls, app: App) -> Self:
        return cls.read(app)


class FeaturePublic(PublicModel):
    name: str
    description: str


class BriefPublic(PublicModel):
    """The app's brief: what it is for and what it must do (`version` counts the edits)."""

    version: int
    problem: str
    name: str
    users: str
    features: list[FeaturePublic]
    non_goals: list[str]

    @classmethod
    def of(cls, version: int, brief: Brief) -> Self:
        return cls.model_validate({"version": version, **brief.model_dump()})


class StageTimePublic(PublicModel):
    stage: BuildStatus
    started_at: datetime
    ended_at: datetime | None
    seconds: float | None


class BuildSummaryPublic(PublicModel):
    files_changed: list[str]
    insertions: int
    deletions: int
    features: list[str] = Field(description="The brief's features the build touched")
    stack: list[str]
    checks: list[str]


class BuildPublic(PublicModel):
    """One run of an app through named stages; `label` and `progress` are for the bar."""

    id: str
    app_id: str
    number: int
    kind: BuildKind
    status: BuildStatus
    progress: int = Field(description="0 to 100")
    start_stage: BuildStatus
    failed_stage: BuildStatus | None
    error: str | None = Field(description="What went wrong, in plain words")
    detail: str | None = Field(description="The technical details (behind 'Show details')")
    debug_id: str | None
    retries: int
    stage_times: list[StageTimePublic]
    version: str | None
    preview_id: str | None
    screenshot_id: str | None
    summary: BuildSummaryPublic | None
    queue_position: int | None = Field(
        default=None, description="1 = next to start; set while queued"
    )
    created_at: datetime
    started_at: datetime | None
    ended_at: datetime | None

    @computed_field  # type: ignore[prop-decorator]
    @property
    def label(self) -> str:
        if self.status is BuildStatus.failed and self.failed_stage is not None:
            return failure_sentence(self.failed_stage)
        return self.status.label

    @classmethod
    def of(cls, build: Build, queue_position: int | None = None) -> Self:
        model = cls.read(build)
        return model.model_copy(update={"queue_position": queue_position})


class VersionPublic(PublicModel):
    id: str
    app_id: str
    name: str
    commit: str
    build_id: str | None
    rolled_back_to: str | None = Field(description="The version whose tree a rollback restored")
    summary: BuildSummaryPublic | None
    screenshot_id: str | None
    created_at: datetime

    @classmethod
    def of(cls, version: Version) -> Self:
        return cls.read(version)


class TimelineEntryPublic(PublicModel):
    app_id: str
    seq: int
    kind: TimelineKind
    message: str
    build_id: str | None
    data: dict[str, Any]
    at: datetime

    @classmethod
    def of(cls, entry: TimelineEntry) -> Self:
        return cls.read(entry)


class TemplatePublic(PublicModel):
    name: str
    label: str
    summary: str
    stack: list[str]
    pros: list[str]
    cons: list[str]
    needs_network: bool

    @classmethod
    def of(cls, template: AppTemplate) -> Self:
        return cls.read(template)


__all__ = [
    "AnswerPublic",
    "AppPublic",
    "BriefPublic",
    "BuildPublic",
    "BuildSummaryPublic",
    "FeaturePublic",
    "PlanOptionPublic",
    "QuestionPublic",
    "StageTimePublic",
    "TemplatePublic",
    "TimelineEntryPublic",
    "VersionPublic",
]
