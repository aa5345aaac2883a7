"""The entities, as plain frozen dataclasses. The store maps rows to these; the services pass
them around; clients see their public read models (domain/public/), never these."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

from paddock.domain.autocommit import LeftOut
from paddock.domain.merge import MergeRecord
from paddock.domain.sandbox import SandboxConfig
from paddock.domain.states import (
    AttemptStatus,
    Automation,
    FollowUpStatus,
    LogStream,
    ProcessStatus,
    RunReason,
    StepRole,
    TestKind,
)

if TYPE_CHECKING:
    from paddock.domain.events import EventType


@dataclass(frozen=True, slots=True)
class Scripts:
    """The shell scripts a project runs; an empty string means "none"."""

    setup: str = ""
    dev: str = ""
    cleanup: str = ""
    unit_test: str = ""
    e2e_test: str = ""
    openapi: str = ""


@dataclass(frozen=True, slots=True)
class Project:
    id: str
    name: str
    repo_path: str
    default_branch: str
    scripts: Scripts
    copy_files: list[str]
    created_at: datetime
    updated_at: datetime
    auto_commit: bool = True  # commit the worktree after each agent turn
    # what the project's attempts default to
    sandbox: SandboxConfig = field(default_factory=SandboxConfig)
    # dev services besides the dev script ("web"): {name: command}
    services: dict[str, str] = field(default_factory=dict)
    database: str = "none"  # what each attempt's preview gets: none, sqlite, postgres
    # Move cards by themselves: to the in-progress step when an attempt starts, to the review
    # step when the agent's turn ends (domain/workflow.py flow_target).
    card_flow: bool = True
    auto_preview: bool = False  # start the attempt's preview when the agent's turn ends
    # Offer the attempt's agent its channel to Paddock: propose tasks, report progress
    # (docs/mcp.md "The attempt's channel").
    agent_channel: bool = True


@dataclass(frozen=True, slots=True)
class Task:
    id: str
    project_id: str
    step_id: str
    title: str
    description: str
    position: float
    created_at: datetime
    updated_at: datetime
    # Proposed by an agent (the attempt's id; None: the user's task) and, while `proposed`,
    # waiting for the user to accept or dismiss it: no attempt starts on it, no move runs
    # automation on it (domain/tasks.py check_not_proposed).
    proposed: bool = False
    proposed_by: str | None = None


@dataclass(frozen=True, slots=True)
class AgentSpec:
    """What an attempt runs as its agent: a profile and one of its variants; the `script`
    agent also takes a shell command."""

    profile: str = "script"
    command: str = ""
    env: dict[str, str] = field(default_factory=dict)
    secret_env: list[str] = field(default_factory=list)
    variant: str = "default"


@dataclass(frozen=True, slots=True)
class WorkflowStep:
    """A board column. Entering it may run its automation; its gate may refuse entry."""

    id: str
    project_id: str
    name: str
    position: int
    color: str
    agent: AgentSpec | None = None  # the agent its automation runs (None: the attempt's own)
    prompt_template: str = ""  # see domain/workflow.py for its variables
    automation: Automation | None = None  # what entering the step runs
    gate: list[TestKind] = field(default_factory=list)  # test kinds whose latest run must pass
    role: StepRole | None = None  # what the card flow (and a merge) use the step for


@dataclass(frozen=True, slots=True)
class Attempt:
    id: str
    task_id: str
    project_id: str
    status: AttemptStatus
    branch: str
    base_branch: str
    base_commit: str
    worktree_path: str
    agent: AgentSpec
    prompt: str
    scripts: Scripts  # effective scripts: the project's, overridden by the branch's .paddock.toml
    error: str | None
    debug_id: str | None
    created_at: datetime
    updated_at: datetime
    # resolved at start: settings ← project ← request
    sandbox: SandboxConfig = field(default_factory=SandboxConfig)
    merged: MergeRecord | None = None  # set once it landed on its base branch
    # The worktree's disk use (bytes) at the end of its last agent turn; None: not measured.
    # Past the `worktree_warn_mb` setting the attempt page warns (no quota is enforced).
    worktree_bytes: int | None = None
    # The agent's last status line (domain/progress.py) and when it said it; None: none yet.
    progress: str | None = None
    progress_at: datetime | None = None
    # The server that runs it when servers share the database (docs/scale-out.md); None: any
    # (one server, or made before they shared it).
    runner_id: str | None = None


def runs_here(attempt: Attempt, runner_id: str | None) -> bool:
    """Whether the server that is runner `runner_id` runs the attempt (None: the only one)."""
    return runner_id is None or attempt.runner_id in (None, runner_id)


@dataclass(frozen=True, slots=True)
class Process:
    id: str
    attempt_id: str
    reason: RunReason
    command: list[str]
    status: ProcessStatus
    pid: int | None
    pid_start_time: int | None  # /proc/<pid>/stat field 22, to tell a reused pid apart
    exit_code: int | None
    error: str | None
    debug_id: str | None
    line_count: int
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None
    commit_before: str | None = None  # agent turns: the worktree's HEAD before and after
    commit_after: str | None = None
    agent_session: str | None = None  # the agent CLI's own session id (for follow-ups)
    dropped: bool = False  # rewound past: kept for the record, hidden by default
    provider: str = "none"  # the sandbox provider it ran in
    failure: str | None = None  # a sandbox limit that ended it (LimitHit), else None
    left_out: list[LeftOut] = field(default_factory=list)  # files its auto-commit did not take


@dataclass(frozen=True, slots=True)
class ResourceSample:
    """A process's (its sandbox's) resource use at one moment."""

    seq: int
    ts: datetime
    cpu_percent: float  # of one core since the previous sample (200 = two cores busy)
    memory_bytes: int
    peak_bytes: int
    pids: int


@dataclass(frozen=True, slots=True)
class LogLine:
    seq: int
    ts: datetime
    stream: LogStream
    text: str
    continued: bool = False  # this line was cut at the length limit; the next line goes on


@dataclass(frozen=True, slots=True)
class FollowUp:
    """A prompt for an attempt's agent, run after the current turn (queued durably)."""

    id: str
    attempt_id: str
    prompt: str
    status: FollowUpStatus
    process_id: str | None  # the turn that ran it
    created_at: datetime
    agent: AgentSpec | None = None  # a workflow step's agent for this turn (None: the attempt's)
    step_id: str | None = None  # the workflow step whose automation queued it


@dataclass(frozen=True, slots=True)
class Event:
    """A state change, as published on the bus and streamed to clients."""

    seq: int
    type: EventType  # one of the catalogue's (domain/events.py)
    project_id: str | None
    data: dict[str, Any]  # its public read model's JSON form (domain/public/): no secret
    ts: datetime
