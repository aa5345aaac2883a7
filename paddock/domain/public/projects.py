"""Public read models of a project and its board: the project, its workflow steps, its tasks
and their moves between steps."""

from __future__ import annotations

from datetime import datetime
from typing import Self

from pydantic import Field

from paddock.domain.entities import Project, Scripts, Task, WorkflowStep
from paddock.domain.public.agent import AgentSpecPublic
from paddock.domain.public.model import PublicModel
from paddock.domain.sandbox import Limits, Network, Provider, SandboxConfig
from paddock.domain.states import Automation, StepRole, TestKind
from paddock.domain.workflow import GateFailure, TaskMove


class ScriptsPublic(PublicModel):
    """The shell scripts a project runs; "" means none."""

    setup: str
    dev: str
    cleanup: str
    unit_test: str
    e2e_test: str
    openapi: str

    @classmethod
    def of(cls, scripts: Scripts) -> Self:
        return cls.read(scripts)


class LimitsPublic(PublicModel):
    """A sandbox's limits; null: none (or inherited)."""

    memory_mb: int | None
    swap_mb: int | None
    cpus: float | None
    pids: int | None
    timeout_s: float | None

    @classmethod
    def of(cls, limits: Limits) -> Self:
        return cls.read(limits)


class SandboxConfigPublic(PublicModel):
    """What processes run in; null fields: inherited (settings, then the project)."""

    provider: Provider | None
    network: Network | None
    limits: LimitsPublic
    image: str | None = Field(description="The container provider's image; null: Paddock's")

    @classmethod
    def of(cls, sandbox: SandboxConfig) -> Self:
        return cls.read(sandbox)


class ProjectPublic(PublicModel):
    id: str
    name: str
    repo_path: str
    default_branch: str
    scripts: ScriptsPublic
    copy_files: list[str]
    created_at: datetime
    updated_at: datetime
    auto_commit: bool = Field(description="Commit the worktree after each agent turn")
    sandbox: SandboxConfigPublic = Field(description="What the project's attempts default to")
    services: dict[str, str] = Field(description="Dev services besides `web`: {name: command}")
    database: str = Field(description="What each attempt's preview gets: none, sqlite, postgres")
    card_flow: bool = Field(
        description="Cards move by themselves: to the `in_progress` step when an attempt "
        "starts, to the `review` step when the agent's turn ends"
    )
    auto_preview: bool = Field(description="Start the attempt's preview when the agent's turn ends")
    agent_channel: bool = Field(
        description="Offer each attempt's agent its MCP channel to Paddock: read its own task "
        "and attempt, propose tasks, report progress (docs/mcp.md)"
    )

    @classmethod
    def of(cls, project: Project) -> Self:
        return cls.read(project)


class TaskPublic(PublicModel):
    id: str
    project_id: str
    step_id: str
    title: str
    description: str
    position: float
    created_at: datetime
    updated_at: datetime
    proposed: bool = Field(
        description="An agent proposed it and the user has not accepted it yet: no attempt "
        "starts on it and it moves to no other step until accepted (POST .../accept)"
    )
    proposed_by: str | None = Field(
        description="The attempt whose agent proposed it (kept once accepted); null: the user's"
    )

    @classmethod
    def of(cls, task: Task) -> Self:
        return cls.read(task)


class WorkflowStepPublic(PublicModel):
    """A board column. Entering it may run its automation; its gate may refuse entry."""

    id: str
    project_id: str
    name: str
    position: int
    color: str
    agent: AgentSpecPublic | None = Field(
        description="The agent its automation runs; null: the attempt's own"
    )
    prompt_template: str
    automation: Automation | None
    gate: list[TestKind] = Field(description="Test kinds whose latest run must pass")
    role: StepRole | None = Field(
        description="What the card flow uses it for (in_progress, review) and where a merge "
        "puts the card (done); one step of a project each"
    )

    @classmethod
    def of(cls, step: WorkflowStep) -> Self:
        return cls.read(step)


class GateFailurePublic(PublicModel):
    kind: TestKind
    reason: str
    test_run_id: str | None

    @classmethod
    def of(cls, failure: GateFailure) -> Self:
        return cls.read(failure)


class TaskMovePublic(PublicModel):
    """A task entering a step: forced past its gate (with why), and what entering ran; or a
    card flow move its gate refused."""

    id: str
    task_id: str
    from_step_id: str | None
    to_step_id: str
    attempt_id: str | None
    forced: bool
    reason: str
    failing: list[GateFailurePublic]
    automation: str | None = Field(description="What entering the step ran")
    ran: str | None = Field(description="The id of what it ran: a follow-up, attempt, test run")
    automation_error: str | None = Field(description="Why the automation could not run")
    created_at: datetime
    refused: bool = Field(
        description="The step's gate refused it (a card flow move): the task stayed where it was"
    )

    @classmethod
    def of(cls, move: TaskMove) -> Self:
        return cls.read(move)
