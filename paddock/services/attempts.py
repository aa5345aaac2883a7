"""Attempts: a branch and worktree per try at a task, then setup, then the agent."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
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
    new_debug_id,
    new_id,
)
from paddock.domain.sandbox import SandboxConfig
from paddock.domain.states import AttemptStatus, FollowUpStatus, ProcessStatus, RunReason
from paddock.runtime import git
from paddock.runtime.git import worktrees
from paddock.runtime.git.rebase import rebase_in_progress
from paddock.services.agent_turns import AgentTurns, attempt_worktree
from paddock.services.agents import AgentService
from paddock.services.attempt_worktrees import AttemptWorktrees
from paddock.services.context import Context, log
from paddock.services.processes import ProcessService
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
        self._runs: dict[str, asyncio.Task[None]] = {}
        self._stopping: set[str] = set()  # attempts whose pending steps must not start
        self._rewake: set[str] = set()  # follow-ups queued while a run was finishing
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
        agent_turn: bool = True,
    ) -> Attempt:
        """Create the branch and worktree now (so their errors answer the request), then run
        setup and the agent in the background. `sandbox` overrides the project's choice.
        Without `agent_turn` the attempt waits after setup (a workflow step runs its tests)."""
        if agent_turn:
            self.agents.check(agent)
        if branch is not None:
            check_branch_name(branch)
        attempt_id = new_id()

        def create(session: Session) -> tuple[Attempt, Project]:
            # Loading the task and project and claiming the branch share one transaction: one
            # round trip to the database before git starts.
            task = task_store.get_task(session, task_id)
            project = project_store.get_project(session, task.project_id)
            chosen = self.worktrees.choose_sandbox(sandbox or SandboxConfig(), project)
            name = branch or attempt_branch(
                attempt_id, task.title, self.ctx.settings.branch_template
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
            )
            return attempt, project

        attempt, project = await self.ctx.db.run(create)
        self.ctx.publish(EventType.attempt_created, project.id, attempt)
        try:
            attempt = await self.worktrees.make(project, attempt)
        except PaddockError as exc:
            await self.ctx.db.run(lambda s: store.delete_attempt(s, attempt_id))
            self.ctx.publish(
                EventType.attempt_deleted, project.id, AttemptDeleted(attempt_id, attempt.task_id)
            )
            raise exc from None
        self._runs[attempt.id] = asyncio.create_task(self._run(attempt, agent_turn))
        return attempt

    async def _run(self, attempt: Attempt, agent_turn: bool = True) -> None:
        """Setup if the attempt starts `setting_up`, then the agent (if it has a turn)."""
        try:
            if attempt.status is AttemptStatus.setting_up:
                setup = await self.processes.run(
                    attempt, RunReason.setup, shell_argv(attempt.scripts.setup)
                )
                if setup.status is not ProcessStatus.succeeded:
                    await self._process_failed(attempt, setup, "setup script")
                    return
            if attempt.id in self._stopping:
                await self._set_status(attempt, AttemptStatus.idle, error="stopped")
                return
            if not agent_turn:
                attempt = await self._set_status(attempt, AttemptStatus.idle)
                await self._run_queue(attempt)
                return
            if attempt.status is not AttemptStatus.running:
                attempt = await self._set_status(attempt, AttemptStatus.running)
            agent = await self._turn(attempt, attempt.prompt, RunReason.agent)
            if agent is None:
                return
            attempt = await self._after_turn(attempt, agent, "agent")
            await self._run_queue(attempt)
        except Exception:
            log.exception("attempt %s: run crashed", attempt.id)
            raise
        finally:
            self._end_run(attempt)

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
        self._wake(attempt)
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
        """At start-up: queued follow-ups of idle attempts run; one that was running when the
        server stopped has lost its process and is marked failed."""

        def load(session: Session) -> list[Attempt]:
            follow_up_store.fail_interrupted(session)
            ids = follow_up_store.attempts_with_queued(session)
            return [store.get_attempt(session, attempt_id) for attempt_id in ids]

        for attempt in await self.ctx.db.run(load):
            if attempt.status in (AttemptStatus.idle, AttemptStatus.failed):
                self._wake(attempt)

    def _wake(self, attempt: Attempt) -> None:
        if attempt.id in self._runs:
            self._rewake.add(attempt.id)  # the run checks the queue again before it ends
            return
        self._runs[attempt.id] = asyncio.get_running_loop().create_task(
            self._continue(attempt), name=f"paddock-follow-ups-{attempt.id}"
        )

    def _end_run(self, attempt: Attempt) -> None:
        self._runs.pop(attempt.id, None)
        if attempt.id in self._rewake and attempt.id not in self._stopping:
            self._rewake.discard(attempt.id)
            self._wake(attempt)

    async def _continue(self, attempt: Attempt) -> None:
        try:
            await self._run_queue(await self.get(attempt.id))
        except Exception:
            log.exception("attempt %s: follow-ups crashed", attempt.id)
            raise
        finally:
            self._end_run(attempt)

    async def _run_queue(self, attempt: Attempt) -> None:
        """Run queued follow-ups one after the other until none is left (or a stop)."""
        attempt_id = attempt.id
        while attempt_id not in self._stopping:
            self._rewake.discard(attempt_id)
            follow_up = await self.ctx.db.run(lambda s: follow_up_store.next_queued(s, attempt_id))
            if follow_up is None:
                return
            follow_up = await self._set_follow_up(attempt, follow_up, FollowUpStatus.running)
            attempt = await self._set_status(attempt, AttemptStatus.running)
            proc = await self._turn(attempt, follow_up.prompt, RunReason.follow_up, follow_up.agent)
            if proc is None:
                await self._set_follow_up(attempt, follow_up, FollowUpStatus.failed)
                return
            ok = proc.status is ProcessStatus.succeeded
            status = FollowUpStatus.done if ok else FollowUpStatus.failed
            await self._set_follow_up(attempt, follow_up, status, proc.id)
            attempt = await self._after_turn(attempt, proc, "follow-up")

    async def _turn(
        self, attempt: Attempt, prompt: str, reason: RunReason, agent: AgentSpec | None = None
    ) -> Process | None:
        """One agent turn; None when it could not even start (the attempt is then failed,
        with the reason and a debug id that is also in the server log)."""
        try:
            return await self.turns.run(attempt, prompt, reason, agent)
        except (PaddockError, OSError) as exc:
            debug_id = new_debug_id()
            message = exc.message if isinstance(exc, PaddockError) else str(exc)
            log.warning(
                "attempt %s: the %s could not start: %s [debug_id=%s]",
                attempt.id,
                reason.value,
                message,
                debug_id,
            )
            await self._set_status(
                attempt,
                AttemptStatus.failed,
                error=f"the {reason.value.replace('_', '-')} could not start: {message}",
                debug_id=debug_id,
            )
            return None

    async def _set_follow_up(
        self,
        attempt: Attempt,
        follow_up: FollowUp,
        status: FollowUpStatus,
        process_id: str | None = None,
    ) -> FollowUp:
        follow_up = await self.ctx.db.run(
            lambda s: follow_up_store.set_status(s, follow_up.id, status, process_id)
        )
        self.ctx.publish(EventType.follow_up_updated, attempt.project_id, follow_up)
        return follow_up

    async def _after_turn(self, attempt: Attempt, proc: Process, what: str) -> Attempt:
        if proc.status is ProcessStatus.succeeded:
            # A turn asked to resolve a rebase's conflicts leaves the rebase waiting.
            status = (
                AttemptStatus.conflicted if await self._rebasing(attempt) else AttemptStatus.idle
            )
            return await self._set_status(attempt, status)
        await self._process_failed(attempt, proc, what)
        return await self.get(attempt.id)

    async def _rebasing(self, attempt: Attempt) -> bool:
        try:
            return rebase_in_progress(await attempt_worktree(self.ctx, attempt))
        except PaddockError:  # no worktree (any more): no rebase either
            return False

    async def _process_failed(self, attempt: Attempt, proc: Process, what: str) -> None:
        if proc.status is ProcessStatus.killed:
            await self._set_status(attempt, AttemptStatus.idle, error=f"{what} was stopped")
        else:
            await self._set_status(
                attempt,
                AttemptStatus.failed,
                error=f"{what} failed: {proc.error}",
                debug_id=proc.debug_id,
            )

    async def _set_status(
        self,
        attempt: Attempt,
        status: AttemptStatus,
        *,
        error: str | None = None,
        debug_id: str | None = None,
    ) -> Attempt:
        attempt = await self.ctx.db.run(
            lambda s: store.set_attempt_status(
                s, attempt.id, status, error=error, debug_id=debug_id
            )
        )
        self.ctx.publish(EventType.attempt_updated, attempt.project_id, attempt)
        return attempt

    # -- rewind -------------------------------------------------------------------------------

    async def rewind(self, attempt_id: str, process_id: str) -> Attempt:
        """Put the worktree back to how it was before the agent turn `process_id`; that turn
        and every later process are marked dropped (kept for the record)."""
        attempt = await self.get(attempt_id)
        turn = await self.processes.get(process_id)
        check_rewind(attempt, turn)
        if attempt_id in self._runs or any(
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
        return await self._set_status(attempt, AttemptStatus.idle)

    async def get(self, attempt_id: str) -> Attempt:
        return await self.ctx.db.run(lambda s: store.get_attempt(s, attempt_id))

    async def list_for_task(self, task_id: str) -> list[Attempt]:
        def query(session: Session) -> list[Attempt]:
            task_store.get_task(session, task_id)
            return store.list_attempts(session, task_id=task_id)

        return await self.ctx.db.run(query)

    async def stop(self, attempt_id: str) -> Attempt:
        """Stop every running process of the attempt, and its pending run."""
        attempt = await self.get(attempt_id)
        processes = await self.processes.list_for_attempt(attempt_id)
        run = self._runs.get(attempt_id)
        self._stopping.add(attempt_id)
        try:
            # A stop means "no more turns": queued follow-ups are cancelled, not kept for later.
            cancelled = await self.ctx.db.run(
                lambda s: follow_up_store.cancel_queued(s, attempt_id)
            )
            for follow_up in cancelled:
                self.ctx.publish(EventType.follow_up_updated, attempt.project_id, follow_up)
            # Its previews' dev servers keep running: they go with the attempt, or when stopped.
            await self.processes.stop_all(
                [
                    p.id
                    for p in processes
                    if not p.status.finished and p.reason is not RunReason.dev_server
                ]
            )
            if run is not None:
                await asyncio.wait([run])
        finally:
            self._stopping.discard(attempt_id)
            self._rewake.discard(attempt_id)
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
                attempt, RunReason.cleanup, shell_argv(attempt.scripts.cleanup)
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
        self._stopping.update(self._runs)
        await self.processes.stop_all()
        if self._runs:
            await asyncio.wait(list(self._runs.values()))

    async def wait(self, attempt_id: str) -> None:
        """Wait for the attempt's background run (setup and agent) to end."""
        run = self._runs.get(attempt_id)
        if run is not None:
            await asyncio.wait([run])
