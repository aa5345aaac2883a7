"""Dependencies shared by the routers: each route asks for the service(s) it uses, by name.

They are read from the engine the app was made with (`app.state.engine`), wired once. No route
takes the engine itself: a page assembled from many services' parts asks for a small object
grouping just those (e.g. web/ui/workspace.py's `Workspace`), built from these."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Annotated, TypeVar

from fastapi import Depends, Request

from paddock.config import Settings
from paddock.domain import features
from paddock.domain.features import FEATURES
from paddock.services.agents import AgentService
from paddock.services.attempts.attempts import AttemptService
from paddock.services.attempts.editor import EditorService
from paddock.services.board import BoardService
from paddock.services.builder.apps import AppService
from paddock.services.builder.builds import BuildService
from paddock.services.builder.changes import ChangeService
from paddock.services.builder.chat import ChatService
from paddock.services.builder.decisions import DecisionService
from paddock.services.builder.deploy import DeployService
from paddock.services.builder.versions import VersionService
from paddock.services.engine import Engine
from paddock.services.events import EventService
from paddock.services.git.diff_watch import DiffWatch
from paddock.services.git.diffs import DiffService
from paddock.services.git.merges import MergeService
from paddock.services.git.pull_requests import PullRequestService
from paddock.services.git.rebases import RebaseService
from paddock.services.git.remotes import RemoteService
from paddock.services.git.worktree_changes import WorktreeChangeService
from paddock.services.health import HealthService
from paddock.services.metrics import MetricsService
from paddock.services.previews.previews import PreviewService
from paddock.services.processes.entries import EntryService
from paddock.services.processes.logs import LogService
from paddock.services.processes.processes import ProcessService
from paddock.services.projects import ProjectService
from paddock.services.runners import RunnerService
from paddock.services.sandbox.sandbox_service import SandboxService
from paddock.services.sandbox.usage import UsageService
from paddock.services.task_moves import MoveService
from paddock.services.tasks import TaskService
from paddock.services.testing.artifacts import ArtifactService
from paddock.services.testing.openapi import OpenApiService
from paddock.services.testing.test_runs import TestRunService
from paddock.services.workflow import WorkflowService

T = TypeVar("T")


def _of_engine(pick: Callable[[Engine], T]) -> Callable[[Request], Awaitable[T]]:
    # async: a plain def would run in the thread pool, a thread hop on every request.
    async def dependency(request: Request) -> T:
        return pick(request.app.state.engine)

    return dependency


SettingsDep = Annotated[Settings, Depends(_of_engine(lambda e: e.settings))]
AgentsDep = Annotated[AgentService, Depends(_of_engine(lambda e: e.agents))]
AppsDep = Annotated[AppService, Depends(_of_engine(lambda e: e.apps))]
BuildsDep = Annotated[BuildService, Depends(_of_engine(lambda e: e.builds))]
VersionsDep = Annotated[VersionService, Depends(_of_engine(lambda e: e.versions))]
DecisionsDep = Annotated[DecisionService, Depends(_of_engine(lambda e: e.decisions))]
ChangesDep = Annotated[ChangeService, Depends(_of_engine(lambda e: e.changes))]
ChatDep = Annotated[ChatService, Depends(_of_engine(lambda e: e.chat))]
DeploysDep = Annotated[DeployService, Depends(_of_engine(lambda e: e.deploys))]
ArtifactsDep = Annotated[ArtifactService, Depends(_of_engine(lambda e: e.artifacts))]
AttemptsDep = Annotated[AttemptService, Depends(_of_engine(lambda e: e.attempts))]
BoardDep = Annotated[BoardService, Depends(_of_engine(lambda e: e.board))]
DiffWatchDep = Annotated[DiffWatch, Depends(_of_engine(lambda e: e.diff_watch))]
DiffsDep = Annotated[DiffService, Depends(_of_engine(lambda e: e.diffs))]
EditorDep = Annotated[EditorService, Depends(_of_engine(lambda e: e.editor))]
EntriesDep = Annotated[EntryService, Depends(_of_engine(lambda e: e.entries))]
EventsDep = Annotated[EventService, Depends(_of_engine(lambda e: e.events))]
HealthDep = Annotated[HealthService, Depends(_of_engine(lambda e: e.health))]
LogsDep = Annotated[LogService, Depends(_of_engine(lambda e: e.logs))]
MetricsDep = Annotated[MetricsService, Depends(_of_engine(lambda e: e.metrics))]
MergesDep = Annotated[MergeService, Depends(_of_engine(lambda e: e.merges))]
MovesDep = Annotated[MoveService, Depends(_of_engine(lambda e: e.moves))]
OpenApiDep = Annotated[OpenApiService, Depends(_of_engine(lambda e: e.openapi))]
PreviewsDep = Annotated[PreviewService, Depends(_of_engine(lambda e: e.previews))]
ProcessesDep = Annotated[ProcessService, Depends(_of_engine(lambda e: e.processes))]
ProjectsDep = Annotated[ProjectService, Depends(_of_engine(lambda e: e.projects))]
PullRequestsDep = Annotated[PullRequestService, Depends(_of_engine(lambda e: e.pull_requests))]
RebasesDep = Annotated[RebaseService, Depends(_of_engine(lambda e: e.rebases))]
RemotesDep = Annotated[RemoteService, Depends(_of_engine(lambda e: e.remotes))]
RunnersDep = Annotated[RunnerService, Depends(_of_engine(lambda e: e.runners))]
SandboxesDep = Annotated[SandboxService, Depends(_of_engine(lambda e: e.sandboxes))]
TasksDep = Annotated[TaskService, Depends(_of_engine(lambda e: e.tasks))]
TestRunsDep = Annotated[TestRunService, Depends(_of_engine(lambda e: e.test_runs))]
UsageDep = Annotated[UsageService, Depends(_of_engine(lambda e: e.usage))]
WorkflowDep = Annotated[WorkflowService, Depends(_of_engine(lambda e: e.workflow))]
WorktreeChangesDep = Annotated[
    WorktreeChangeService, Depends(_of_engine(lambda e: e.worktree_changes))
]


def require_feature(name: str) -> Callable[[Request], Awaitable[None]]:
    """A route dependency: 403 `feature_disabled` when the feature flag `name` is off."""
    if name not in FEATURES:  # a typo here would gate nothing
        raise ValueError(f"no feature flag {name!r}")

    async def dependency(request: Request) -> None:
        features.require(name, request.app.state.engine.settings.flags.features)

    return dependency
