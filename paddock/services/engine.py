"""The engine: every service, wired once, with start-up and shut-down."""

from __future__ import annotations

import logging

import anyio
import anyio.to_thread

from paddock.config import Settings
from paddock.runtime.events import EventBus
from paddock.runtime.launcher import Launcher
from paddock.runtime.logpipe import LogHub
from paddock.runtime.shared_events import SharedEvents
from paddock.services.agents import AgentService
from paddock.services.attempts.attempts import AttemptService
from paddock.services.attempts.editor import EditorService
from paddock.services.board import BoardService
from paddock.services.builder.apps import AppService
from paddock.services.builder.build_parts import BuildParts
from paddock.services.builder.builds import BuildService
from paddock.services.builder.changes import ChangeService
from paddock.services.builder.chat import ChatService
from paddock.services.builder.decisions import DecisionService
from paddock.services.builder.deploy import DeployService
from paddock.services.builder.planning import planner_for
from paddock.services.builder.timeline import Timeline
from paddock.services.builder.versions import VersionService
from paddock.services.card_flow import CardFlow
from paddock.services.context import Context
from paddock.services.demo import create_demo, demo_path
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
from paddock.services.previews.preview_autostart import PreviewAutostart
from paddock.services.previews.previews import PreviewService
from paddock.services.processes.entries import EntryService
from paddock.services.processes.logs import LogService
from paddock.services.processes.processes import ProcessService
from paddock.services.projects import ProjectService
from paddock.services.reconcile import Reconciler, ReconcileReport
from paddock.services.runner_identity import local_runner_id
from paddock.services.runners import RunnerService
from paddock.services.sandbox.sandbox_service import SandboxService
from paddock.services.sandbox.sandboxing import make_sandboxes
from paddock.services.sandbox.usage import UsageService
from paddock.services.task_moves import MoveService
from paddock.services.tasks import TaskService
from paddock.services.testing.artifacts import ArtifactService
from paddock.services.testing.openapi import OpenApiService
from paddock.services.testing.test_runs import TestRunService
from paddock.services.workflow import WorkflowService
from paddock.store.db import Database
from paddock.store.logs import LogWriter
from paddock.store.projects import count_projects

log = logging.getLogger("paddock")

DEMO_MARKER = ".demo-created"
# How long `close` may take: processes get stop_grace_seconds to end (in parallel), test runs up
# to 10 s to record how they ended, then the log writer and the sandboxes close.
CLOSE_TIMEOUT_S = 20.0


class Engine:
    def __init__(self, settings: Settings, launcher: Launcher | None = None) -> None:
        db = Database(settings.storage.database_url)
        sandboxes = make_sandboxes(settings)
        self.ctx = Context(
            settings=settings,
            db=db,
            bus=EventBus(),
            logs=LogHub(),
            log_writer=LogWriter(db),
            launcher=launcher or sandboxes,
            sandboxes=sandboxes,
        )
        self.artifacts = ArtifactService(self.ctx)
        self.processes = ProcessService(self.ctx, self.artifacts)
        self.entries = EntryService(self.ctx)
        self.events = EventService(self.ctx)
        self.agents = AgentService(settings)
        self.previews = PreviewService(self.ctx, self.processes)
        self.attempts = AttemptService(
            self.ctx, self.processes, self.agents, belongings=(self.previews, self.artifacts)
        )
        self.test_runs = TestRunService(self.ctx, self.processes, self.previews, self.artifacts)
        self.openapi = OpenApiService(self.ctx, self.processes, self.previews, self.artifacts)
        self.moves = MoveService(self.ctx, self.attempts, self.test_runs)
        # When an agent starts working or its turn ends: the preview starts, the card moves.
        self.attempts.watch(PreviewAutostart(self.ctx, self.previews))
        self.attempts.watch(CardFlow(self.ctx, self.moves))
        self.workflow = WorkflowService(self.ctx, self.agents)
        self.diffs = DiffService(self.ctx)
        self.editor = EditorService(self.ctx)
        self.worktree_changes = WorktreeChangeService(self.ctx)
        self.diff_watch = DiffWatch(self.ctx, settings.git.diff_watch_seconds)
        self.merges = MergeService(self.ctx, self.previews, self.moves)
        self.rebases = RebaseService(self.ctx, self.attempts)
        self.remotes = RemoteService(self.ctx)
        self.pull_requests = PullRequestService(self.ctx, self.remotes, self.merges)
        self.projects = ProjectService(self.ctx)
        self.tasks = TaskService(self.ctx, self.attempts, self.moves)
        self.board = BoardService(self.ctx)
        self.usage = UsageService(self.ctx)
        self.logs = LogService(self.ctx)
        self.sandboxes = SandboxService(self.ctx)
        self.health = HealthService(self.ctx, self.processes)
        self.metrics = MetricsService(self.ctx)
        self.timeline = Timeline(self.ctx)
        self.apps = AppService(
            self.ctx, self.projects, self.agents, self.timeline, lambda: planner_for(settings)
        )
        build_parts = BuildParts(
            ctx=self.ctx,
            apps=self.apps,
            tasks=self.tasks,
            attempts=self.attempts,
            processes=self.processes,
            previews=self.previews,
            test_runs=self.test_runs,
            logs=self.logs,
            timeline=self.timeline,
        )
        self.builds = BuildService(build_parts)
        self.versions = VersionService(build_parts)
        self.decisions = DecisionService(build_parts)
        self.changes = ChangeService(build_parts, self.builds, self.decisions, self.versions)
        self.deploys = DeployService(build_parts, self.versions, self.remotes)
        self.chat = ChatService(
            build_parts, self.builds, self.changes, self.decisions, self.deploys
        )
        self.runners = RunnerService(self.ctx)
        self.last_reconcile = ReconcileReport()
        # Control-plane servers sharing one database share their events (docs/scale-out.md).
        redis_url = settings.cluster.redis_url
        self.shared_events = (
            SharedEvents(redis_url.get_secret_value(), self.ctx.bus) if redis_url else None
        )

    @property
    def settings(self) -> Settings:
        return self.ctx.settings

    @property
    def bus(self) -> EventBus:
        return self.ctx.bus

    async def start(self) -> None:
        settings = self.settings
        settings.storage.data_dir.mkdir(parents=True, exist_ok=True)
        settings.storage.worktrees.mkdir(parents=True, exist_ok=True)
        await anyio.to_thread.run_sync(self.ctx.db.migrate_in_child)
        if self.shared_events is not None:
            # Servers on one database: each reconciles only the attempts it runs.
            self.ctx.runner_id = local_runner_id(settings.storage.data_dir)
            await self.shared_events.start()  # before anything publishes
        self.last_reconcile = await Reconciler(self.ctx).run()
        stale = await anyio.to_thread.run_sync(self.ctx.sandboxes.reap_stale)
        await anyio.to_thread.run_sync(self.attempts.turns.channels.reap_stale)
        if stale:
            log.info("removed %d cgroups left by servers that are gone", len(stale))
        await self.previews.open()
        await self.previews.reconcile()
        await self.test_runs.reconcile()
        await anyio.to_thread.run_sync(self.artifacts.clear_staging)
        await anyio.to_thread.run_sync(self.openapi.clear_checkouts)
        self.previews.start_loop()
        self.artifacts.start_loop()
        self.pull_requests.start_loop()
        await self.attempts.resume_queues()
        await self.builds.resume()
        if settings.storage.demo:
            await self._create_demo_once()

    async def _create_demo_once(self) -> None:
        marker = self.settings.storage.data_dir / DEMO_MARKER
        if marker.exists() or await self.ctx.db.run(count_projects) > 0:
            return
        marker.write_text("the demo project was created once; delete this file to redo it\n")
        path = demo_path(self.settings.storage.data_dir)
        project, attempt = await create_demo(self.projects, self.tasks, self.attempts, str(path))
        log.info("created the demo project %s at %s (attempt %s)", project.name, path, attempt.id)

    async def close(self) -> None:
        """Stop every process this server supervises (nothing outlives it), then the store.

        Within CLOSE_TIMEOUT_S, so that stopping the server always ends (cli/serving.py counts
        on it): past it, what is left is given up and logged. A process it did not get to stop
        is in a cgroup the next start reaps.
        """
        with anyio.move_on_after(CLOSE_TIMEOUT_S) as bound:
            await self.builds.close()
            await self.moves.close()
            await self.previews.close()
            await self.diff_watch.close()
            await self.pull_requests.close()
            await self.artifacts.close()
            await self.attempts.stop_all()
            await self.processes.stop_all()  # processes not started by an attempt run
            await self.test_runs.close()
            await self.runners.close()
            if self.shared_events is not None:
                await self.shared_events.close()  # after the stops' events
            # Threads a stuck write would hold are abandoned, not waited for.
            await anyio.to_thread.run_sync(self.ctx.log_writer.close, abandon_on_cancel=True)
            await self.ctx.sandboxes.settle()
            await anyio.to_thread.run_sync(self.ctx.sandboxes.close, abandon_on_cancel=True)
        if bound.cancelled_caught:
            log.error("shutting down took over %g s: the rest was given up", CLOSE_TIMEOUT_S)
        self.ctx.db.dispose()
