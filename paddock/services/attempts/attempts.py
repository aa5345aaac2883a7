"""Attempts: a branch and worktree per try at a task, then setup, then the agent.

Creating, following up, rewinding, stopping and deleting are here; the background run that
works through setup, the agent's turn and queued follow-ups is services/attempts/attempt_runs.py."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Protocol

import anyio.to_thread
from sqlalchemy.orm import Session

from paddock.agents.script import shell_argv
from paddock.domain.entities import (
    AgentSpec,
    Attempt,
    FollowUp,
    Process,
    Project,
    Task,
)
from paddock.domain.errors import Conflict, InvalidInput, PaddockError
from paddock.domain.events import AttemptDeleted, EventType
from paddock.domain.names import (
    attempt_branch,
    check_branch_name,
    new_id,
)
from paddock.domain.progress import clean_progress
from paddock.domain.sandbox import SandboxConfig
from paddock.domain.states import AttemptStatus, RunReason
from paddock.domain.tasks import check_not_proposed
from paddock.runtime import git
from paddock.runtime.git import worktrees
from paddock.services import counters
from paddock.services.agents import AgentService
from paddock.services.attempts.agent_turns import AgentTurns
from paddock.services.attempts.attempt_runs import AttemptRuns
from paddock.services.attempts.attempt_worktrees import AttemptWorktrees, attempt_worktree
from paddock.services.attempts.watchers import AttemptWatcher, AttemptWatchers
from paddock.services.context import Context, log
from paddock.services.processes.process_request import ProcessRequest
from paddock.services.processes.processes import ProcessService
from paddock.services.sandbox.sandboxing import sandbox_network
from paddock.store import attempts as store
from paddock.store import follow_ups as follow_up_store
from paddock.store import processes as process_store
from paddock.store import projects as project_store
from paddock.store import tasks as task_store


def default_prompt(task: Task) -> str:
    return f"{task.title}\n\n{task.description}".strip()


def check_rewind(attempt: Attempt, turn: Process) -> None:
    """Whether the attempt can be rewound to before `turn`."""
    if turn.attempt_id != attempt.id:
        raise InvalidInput(
            f"process {turn.id} belongs to another attempt", code="process_not_in_attempt"
        )
    if turn.reason not in (RunReason.agent, RunReason.follow_up):
        raise InvalidInput(
            f"process {turn.id} is a {turn.reason.value} run, not an agent turn",
            code="not_an_agent_turn",
        )
    if turn.commit_before is None:
        raise Conflict(
            f"no commit was recorded before process {turn.id}", code="no_commit_recorded"
        )


class AttemptBelongings(Protocol):
    """Something that keeps things of an attempt elsewhere (its previews and their database,
    its artifacts' files), and lets them go when the attempt is deleted."""

    async def forget_attempt(self, attempt: Attempt) -> None: ...


class AttemptService:
    def __init__(
        self,
        ctx: Context,
        processes: ProcessService,
        agents: AgentService,
        belongings: Sequence[AttemptBelongings] = (),
    ) -> None:
        self.ctx = ctx
        self.processes = processes
        self.agents = agents
        self.turns = AgentTurns(ctx, processes, agents)
        self.worktrees = AttemptWorktrees(ctx)
        # Told when the agent starts working and when its turn ends (the card flow, previews).
        self.watchers = AttemptWatchers()
        self.runs = AttemptRuns(ctx, processes, self.turns, self.watchers)
        # What else goes with an attempt, before its worktree.
        self.belongings = tuple(belongings)

    async def start(
        self,
        task_id: str,
        *,
        agent: AgentSpec,
        prompt: str | None = None,
        base_branch: str | None = None,
        branch: str | None = None,
        sandbox: SandboxConfig | None = None,
        run: bool = True,
    ) -> Attempt:
        """Create the branch and worktree now (so their errors answer the request), then run
        setup and the agent in the background. `sandbox` overrides the project's choice.
        Without `run`, nothing runs: the attempt waits for its follow-ups (`awaiting_review`),
        as a builder's does, whose build runs its stages itself."""
        self.agents.check(agent)
        if branch is not None:
            check_branch_name(branch)
        attempt_id = new_id()

        def create(session: Session) -> tuple[Attempt, Project]:
            # Loading the task and project and claiming the branch share one transaction: one
            # round trip to the database before git starts.
            task = task_store.get_task(session, task_id)
            check_not_proposed(task.proposed, task.title, "start an attempt on it")
            project = project_store.get_project(session, task.project_id)
            chosen = self.worktrees.choose_sandbox(sandbox or SandboxConfig(), project)
            name = branch or attempt_branch(
                attempt_id, task.title, self.ctx.settings.git.branch_template
            )
            if store.branch_taken(session, project.id, name):
                raise Conflict(f"branch {name!r} is used by another attempt", code="branch_exists")
            attempt = store.create_attempt(
                session,
                attempt_id=attempt_id,
                task_id=task.id,
                project_id=project.id,
                branch=name,
                base_branch=base_branch or project.default_branch,
                worktree_path=str(self.worktrees.path_for(project, name)),
                agent=agent,
                prompt=prompt if prompt is not None else default_prompt(task),
                sandbox=chosen,
                runner_id=self.ctx.runner_id,
            )
            return attempt, project

        attempt, project = await self.ctx.db.run(create)
        counters.ATTEMPTS_STARTED.inc()
        self.ctx.publish(EventType.attempt_created, project.id, attempt)
        # The run's first process (setup, else the agent) is named now, so its sandbox's
        # network is made while git makes the worktree.
        first = new_id() if run else None
        if first is not None:
            provider = self.ctx.sandboxes.resolve(attempt.sandbox.provider)
            network = sandbox_network(self.ctx.settings, attempt)
            self.ctx.sandboxes.prepare(provider, network, first)
        try:
            # Without `run` setup does not run either (a builder's build runs it as a stage).
            made = await self.worktrees.add(project, attempt, setup=run)
        except PaddockError as exc:
            await self.ctx.db.run(lambda s: store.delete_attempt(s, attempt_id))
            self.ctx.publish(
                EventType.attempt_deleted, project.id, AttemptDeleted(attempt_id, attempt.task_id)
            )
            raise exc from None
        if not run:
            attempt = await self.worktrees.record(project.id, made)
            return await self.runs.set_status(attempt, AttemptStatus.awaiting_review)
        # The worktree is recorded while the run gets its first process ready (its HOME, its
        # command): that process is recorded after it, and nothing of the run's writes before.
        recorded = asyncio.ensure_future(self.worktrees.record(project.id, made))
        self.runs.begin(made, first, project.repo_path, recorded=recorded)
        return await asyncio.shield(recorded)

    def watch(self, watcher: AttemptWatcher) -> None:
        """Tell `watcher` when an attempt's agent starts working and when its turn ends."""
        self.watchers.add(watcher)

    # -- follow-ups ---------------------------------------------------------------------------

    async def follow_up(
        self,
        attempt_id: str,
        prompt: str,
        *,
        agent: AgentSpec | None = None,
        step_id: str | None = None,
    ) -> FollowUp:
        """Queue `prompt` for the attempt's agent, or for `agent` (a workflow step's), durably;
        it runs as soon as the attempt is free, resuming that agent's own session."""
        attempt = await self.get(attempt_id)
        if not prompt.strip():
            raise InvalidInput("a follow-up needs a prompt", code="empty_prompt")
        if attempt.status in (AttemptStatus.creating, AttemptStatus.vanished):
            raise Conflict(
                f"attempt {attempt_id} is {attempt.status.value}", code="attempt_not_ready"
            )
        if agent is not None:
            self.agents.check(agent)
        follow_up = await self.ctx.db.run(
            lambda s: follow_up_store.enqueue(
                s, attempt_id, prompt.strip(), agent=agent, step_id=step_id
            )
        )
        self.ctx.publish(EventType.follow_up_created, attempt.project_id, follow_up)
        self.runs.wake(attempt)
        return follow_up

    async def list_follow_ups(self, attempt_id: str) -> list[FollowUp]:
        await self.get(attempt_id)
        return await self.ctx.db.run(lambda s: follow_up_store.list_for_attempt(s, attempt_id))

    async def cancel_follow_up(self, follow_up_id: str) -> FollowUp:
        follow_up = await self.ctx.db.run(lambda s: follow_up_store.cancel(s, follow_up_id))
        attempt = await self.get(follow_up.attempt_id)
        self.ctx.publish(EventType.follow_up_updated, attempt.project_id, follow_up)
        return follow_up

    async def resume_queues(self) -> None:
        """At start-up: queued follow-ups of settled attempts run; one that was running when the
        server stopped has lost its process and is marked failed."""

        def load(session: Session) -> list[Attempt]:
            follow_up_store.fail_interrupted(session, self.ctx.runner_id)
            ids = follow_up_store.attempts_with_queued(session, self.ctx.runner_id)
            return [store.get_attempt(session, attempt_id) for attempt_id in ids]

        for attempt in await self.ctx.db.run(load):
            if attempt.status.settled:
                self.runs.wake(attempt)

    # -- rewind -------------------------------------------------------------------------------

    async def rewind(self, attempt_id: str, process_id: str) -> Attempt:
        """Put the worktree back to how it was before the agent turn `process_id`; that turn
        and every later process are marked dropped (kept for the record)."""
        attempt = await self.get(attempt_id)
        turn = await self.processes.get(process_id)
        check_rewind(attempt, turn)
        if self.runs.busy(attempt_id) or any(
            not p.status.finished for p in await self.processes.list_for_attempt(attempt_id)
        ):
            raise Conflict(
                f"attempt {attempt_id} is running; stop it before rewinding", code="attempt_busy"
            )
        assert turn.commit_before is not None  # check_rewind
        tree = await attempt_worktree(self.ctx, attempt)
        async with git.repo_lock(tree.git_dir.parent.parent.parent):  # moves the branch
            await anyio.to_thread.run_sync(worktrees.restore_link, tree)
            await git.reset_to(tree, turn.commit_before)
        await anyio.to_thread.run_sync(self.ctx.sandboxes.hand_over, Path(attempt.worktree_path))
        dropped = await self.ctx.db.run(lambda s: process_store.drop_from(s, process_id))
        for proc in dropped:
            self.ctx.publish(EventType.process_updated, attempt.project_id, proc)
        log.info("attempt %s: rewound to %s (before %s)", attempt_id, turn.commit_before, turn.id)
        return await self.runs.set_status(attempt, AttemptStatus.awaiting_review)

    async def get(self, attempt_id: str) -> Attempt:
        return await self.ctx.db.run(lambda s: store.get_attempt(s, attempt_id))

    # -- progress -----------------------------------------------------------------------------

    async def report_progress(self, attempt_id: str, text: str) -> Attempt:
        """The agent's status line: `text` made one short line of plain text
        (domain/progress.py; blank clears it), kept with its time and published as the
        attempt's `attempt.updated` (its card and header show it). The same line again
        changes nothing and publishes nothing."""
        line = clean_progress(text)

        def report(session: Session) -> tuple[Attempt, bool]:
            attempt = store.get_attempt(session, attempt_id)
            if attempt.progress == line:
                return attempt, False
            at = datetime.now(UTC) if line is not None else None
            return store.update_attempt(session, attempt_id, progress=line, progress_at=at), True

        attempt, changed = await self.ctx.db.run(report)
        if changed:
            self.ctx.publish(EventType.attempt_updated, attempt.project_id, attempt)
        return attempt

    async def has_worktree(self, attempt: Attempt) -> bool:
        """Whether the attempt's worktree is still there: a merge may have removed it (or
        someone, by hand), and then nothing that works in it can be offered."""
        try:
            await attempt_worktree(self.ctx, attempt)
        except PaddockError:
            return False
        return True

    async def list_for_task(self, task_id: str) -> list[Attempt]:
        def query(session: Session) -> list[Attempt]:
            task_store.get_task(session, task_id)
            return store.list_attempts(session, task_id=task_id)

        return await self.ctx.db.run(query)

    async def stop(self, attempt_id: str) -> Attempt:
        """Stop every running process of the attempt, and its pending run."""
        attempt = await self.get(attempt_id)
        await self.runs.stop(attempt)
        return await self.get(attempt.id)

    async def delete(self, attempt_id: str, *, delete_branch: bool = False) -> None:
        """Stop its processes, run the cleanup script, remove the worktree (and the branch)."""
        attempt = await self.stop(attempt_id)
        for belonging in self.belongings:
            await belonging.forget_attempt(attempt)
        project = await self.ctx.db.run(lambda s: project_store.get_project(s, attempt.project_id))
        worktree = Path(attempt.worktree_path)
        if attempt.scripts.cleanup.strip() and worktree.is_dir():
            await self.processes.run(
                attempt, ProcessRequest(RunReason.cleanup, shell_argv(attempt.scripts.cleanup))
            )
        repo = Path(project.repo_path)
        async with git.repo_lock(repo):
            await worktrees.remove_worktree(repo, worktree)
            if delete_branch and await git.branch_exists(repo, attempt.branch):
                await git.delete_branch(repo, attempt.branch, force=True)
        await self.ctx.db.run(lambda s: store.delete_attempt(s, attempt_id))
        self.ctx.publish(
            EventType.attempt_deleted,
            attempt.project_id,
            AttemptDeleted(attempt_id, attempt.task_id),
        )

    async def stop_all(self) -> None:
        """Stop every attempt's pending steps and processes (server shutdown)."""
        await self.runs.stop_all()

    async def wait(self, attempt_id: str) -> None:
        """Wait for the attempt's background run (setup and agent) to end."""
        await self.runs.wait(attempt_id)
