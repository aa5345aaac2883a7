"""An app: the builder face's project. Made from an idea; it gets a brief, a plan (a template),
then builds and versions. It runs on the engine: a Paddock project (its repository), a task
("Build <name>") and one attempt whose branch and worktree every build works in."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum

from paddock.domain.builder.brief import Answer, Question
from paddock.domain.builder.templates import PlanOption
from paddock.domain.entities import AgentSpec


class AppStage(StrEnum):
    """Where the founder is on their path."""

    idea = "idea"  # described; questions asked
    brief = "brief"  # a brief exists; the plan is next
    plan = "plan"  # plan options made; one to pick
    building = "building"  # a template picked; builds run, none ready yet
    mvp_built = "mvp_built"  # the first build was ready

    @property
    def label(self) -> str:
        return _STAGE_LABELS[self]


_STAGE_LABELS = {
    AppStage.idea: "Idea",
    AppStage.brief: "Brief",
    AppStage.plan: "Plan",
    AppStage.building: "Building",
    AppStage.mvp_built: "MVP built",
}


@dataclass(frozen=True, slots=True)
class App:
    id: str
    name: str
    slug: str
    idea: str
    stage: AppStage
    project_id: str
    created_at: datetime
    updated_at: datetime
    questions: tuple[Question, ...] = ()
    answers: tuple[Answer, ...] = ()
    plan: tuple[PlanOption, ...] = ()
    template: str | None = None  # the plan option picked
    agent: AgentSpec = field(default_factory=lambda: AgentSpec(profile="builder-demo"))
    task_id: str | None = None  # made with the first build
    attempt_id: str | None = None
    tag_prefix: str = ""  # versions' git tags: "" in Paddock's own repository (versions.py)
    planner: str = "offline"  # which planner answered (`offline` needs no key)
    parked_at: datetime | None = None  # parked by the founder: previews stopped, no builds

    @property
    def parked(self) -> bool:
        return self.parked_at is not None
