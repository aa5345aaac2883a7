"""An attempt's background run: setup, the agent's first turn, then its queued follow-ups one
at a time until none is left; stopped as a whole. The attempt's status follows each step."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable
from pathlib import Path

from paddock.agents.script import shell_argv
from paddock.domain.entities import AgentSpec, Attempt, FollowUp, Process
from paddock.domain.errors import PaddockError
from paddock.domain.events import EventType
from paddock.domain.names import new_debug_id
from paddock.domain.states import AttemptStatus, FollowUpStatus, ProcessStatus, RunReason
from paddock.runtime.git.rebase import rebase_in_progress
from paddock.services.attempts.agent_turns import AgentTurns
from paddock.services.attempts.attempt_worktrees import attempt_worktree
from paddock.services.attempts.watchers import AttemptWatchers
from paddock.services.context import Context, log
from paddock.services.processes.process_request import ProcessObservers, ProcessRequest
from paddock.services.processes.processes import ProcessService
from paddock.store import attempts as store
from paddock.store import follow_ups as follow_up_store

STOP_RECHECK_SECONDS = 0.5  # a stop looks for its attempt's processes again this often


class StartNotice:
    """Tells an attempt's watchers that its agent started working, once: when the first
    process of the step runs (a process observer), or when the step ends without one."""

    def __init__(self, watchers: AttemptWatchers, attempt: Attempt) -> None:
        self.watchers = watchers
        self.attempt = attempt
        self._telling: asyncio.Task[None] | None = None

    def __call__(self, proc: Process | None = None) -> None:
        if self._telling is None:
            self._telling = asyncio.get_running_loop().create_task(
                self.watchers.started(self.attempt), name=f"paddock-started-{self.attempt.id}"
            )

    async def done(self) -> None:
        """Told (now, if no process ran), and every watcher done with it."""
        self()
        assert self._telling is not None
        await self._telling


class AttemptRuns:
    def __init__(
        self,
        ctx: Context,
        processes: ProcessService,
        turns: AgentTurns,
        watchers: AttemptWatchers,
    ) -> None:
        self.ctx = ctx
        self.processes = processes
        self.turns = turns
        self.watchers = watchers  # told when a follow-up's turn begins and when a turn ends
        self._runs: dict[str, asyncio.Task[None]] = {}
        self._stopping: set[str] = set()  # attempts whose pending steps must not start
        self._shutdown = False  # the server stops: what it stops says so
        self._rewake: set[str] = set()  # follow-ups queued while a run was finishing

    def begin(
        self,
        attempt: Attempt,
        first_process: str | None = None,
        repo: str | None = None,
        *,
        recorded: Awaitable[Attempt] | None = None,
    ) -> None:
        """Run the attempt's setup and agent in the background; the first of them gets the
        id `first_process` when given (its sandbox may have been prepared under it). `repo`:
        the project's repository, when the caller has it at hand. `recorded`: the attempt
        being stored as it is given here (its worktree just made); the run gets its first
        process ready meanwhile, and writes nothing before it is done."""
        self._runs[attempt.id] = asyncio.create_task(
            self._run(attempt, first_process, repo, recorded)
        )

    def busy(self, attempt_id: str) -> bool:
        """Whether the attempt has a run going (between its processes too)."""
        return attempt_id in self._runs

    async def stop(self, attempt: Attempt) -> None:
        """No more steps for the attempt: its queued follow-ups are cancelled, its processes
        stopped (but its dev servers), and its pending run waited for."""
        attempt_id = attempt.id
        run = self._runs.get(attempt_id)
        self._stopping.add(attempt_id)
        try:
            # A stop means "no more turns": queued follow-ups are cancelled, not kept for later.
            cancelled = await self.ctx.db.run(
                lambda s: follow_up_store.cancel_queued(s, attempt_id)
            )
            for follow_up in cancelled:
                self.ctx.publish(EventType.follow_up_updated, attempt.project_id, follow_up)
            # A turn taken from the queue a moment ago may launch its agent after a look for
            # processes found none: look again until the run has ended.
            while True:
                await self._stop_processes(attempt_id)
                if run is None:
                    return
                done, _ = await asyncio.wait([run], timeout=STOP_RECHECK_SECONDS)
                if done:
                    return
        finally:
            self._stopping.discard(attempt_id)
            self._rewake.discard(attempt_id)

    async def _stop_processes(self, attempt_id: str) -> None:
        # Its previews' dev servers keep running: they go with the attempt, or when stopped.
        processes = await self.processes.list_for_attempt(attempt_id)
        await self.processes.stop_all(
            [
                p.id
                for p in processes
                if not p.status.finished and p.reason is not RunReason.dev_server
            ]
        )

    async def stop_all(self) -> None:
        """Stop every attempt's pending steps and processes (server shutdown)."""
        self._shutdown = True
        self._stopping.update(self._runs)
        await self.processes.stop_all()
        if self._runs:
            await asyncio.wait(list(self._runs.values()))

    async def wait(self, attempt_id: str) -> None:
        """Wait for the attempt's background run (setup and agent) to end."""
        run = self._runs.get(attempt_id)
        if run is not None:
            await asyncio.wait([run])

    async def _run(
        self,
        attempt: Attempt,
        first_process: str | None = None,
        repo: str | None = None,
        recorded: Awaitable[Attempt] | None = None,
    ) -> None:
        """Setup if the attempt starts `setting_up`, then the agent. Its watchers hear of the
        start once its first process runs (here, not in the request; and after the launch, so
        moving the card never delays the agent), and of the turn's end after it."""
        told = StartNotice(self.watchers, attempt)
        try:
            if recorded is not None and attempt.status is not AttemptStatus.running:
                attempt, recorded = await recorded, None  # setup first: it waits for it
            # The worktree was just made at its base: nothing ran in it before the agent.
            head: str | None = attempt.base_commit or None
            if attempt.status is AttemptStatus.setting_up:
                head = None
                argv = shell_argv(attempt.scripts.setup)
                setup = await self.processes.run(
                    attempt,
                    ProcessRequest(RunReason.setup, argv, process_id=first_process),
                    ProcessObservers(started=told),
                )
                first_process = None
                if setup.status is not ProcessStatus.succeeded:
                    await told.done()
                    await self._process_failed(attempt, setup, "setup script")
                    return
            if attempt.id in self._stopping:
                if recorded is not None:
                    attempt = await recorded
                await told.done()
                await self.set_status(attempt, AttemptStatus.stopped, error=self._stop_reason())
                return
            if attempt.status is not AttemptStatus.running:
                attempt = await self.set_status(attempt, AttemptStatus.running)
            agent = await self._turn(
                attempt,
                attempt.prompt,
                RunReason.agent,
                told,
                head=head,
                process_id=first_process,
                repo=repo,
                recorded=recorded,
            )
            if agent is None:
                return
            attempt = await self._after_turn(attempt, agent, "agent")
            await self._run_queue(attempt)
        except Exception:
            log.exception("attempt %s: run crashed", attempt.id)
            raise
        finally:
            self._end_run(attempt)

    def wake(self, attempt: Attempt) -> None:
        """Run the attempt's queued follow-ups: now, or once its current run ends."""
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
            self.wake(attempt)

    async def _continue(self, attempt: Attempt) -> None:
        try:
            await self._run_queue(await self._get(attempt.id))
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
            attempt = await self.set_status(attempt, AttemptStatus.running)
            told = StartNotice(self.watchers, attempt)
            proc = await self._turn(
                attempt, follow_up.prompt, RunReason.follow_up, told, follow_up.agent
            )
            if proc is None:
                await self._set_follow_up(attempt, follow_up, FollowUpStatus.failed)
                return
            ok = proc.status is ProcessStatus.succeeded
            status = FollowUpStatus.done if ok else FollowUpStatus.failed
            await self._set_follow_up(attempt, follow_up, status, proc.id)
            attempt = await self._after_turn(attempt, proc, "follow-up")

    async def _turn(
        self,
        attempt: Attempt,
        prompt: str,
        reason: RunReason,
        told: StartNotice,
        agent: AgentSpec | None = None,
        *,
        head: str | None = None,
        process_id: str | None = None,
        repo: str | None = None,
        recorded: Awaitable[Attempt] | None = None,
    ) -> Process | None:
        """One agent turn; None when it could not even start (the attempt is then failed,
        with the reason and a debug id that is also in the server log). The watchers have
        heard of the start (`told`) by the time it returns. `recorded`: see `begin`."""
        try:
            proc = await self.turns.run(
                attempt,
                prompt,
                reason,
                agent,
                started=told,
                head=head,
                process_id=process_id,
                repo=repo,
                recorded=recorded,
            )
        except (PaddockError, OSError) as exc:
            if recorded is not None:
                await recorded  # the attempt's own record first: its status follows it
            await told.done()
            debug_id = new_debug_id()
            message = exc.message if isinstance(exc, PaddockError) else str(exc)
            log.warning(
                "attempt %s: the %s failed: %s [debug_id=%s]",
                attempt.id,
                reason.value,
                message,
                debug_id,
            )
            if not Path(attempt.worktree_path).is_dir():
                # Taken away under it (as the reconcile at start words it).
                status, error = AttemptStatus.vanished, "the worktree is gone from disk"
            else:
                status = AttemptStatus.failed
                error = f"the {reason.value.replace('_', '-')} could not start: {message}"
            await self.set_status(attempt, status, error=error, debug_id=debug_id)
            return None
        await told.done()
        return proc

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
            if await self._rebasing(attempt):
                return await self.set_status(attempt, AttemptStatus.conflicted)
            # Its watchers first (the card moves, the preview starts), the status last: a
            # client that sees `awaiting_review` finds what the turn's end did already done.
            await self.watchers.turn_ended(attempt)
            return await self.set_status(attempt, AttemptStatus.awaiting_review)
        await self._process_failed(attempt, proc, what)
        return await self._get(attempt.id)

    async def _rebasing(self, attempt: Attempt) -> bool:
        try:
            return rebase_in_progress(await attempt_worktree(self.ctx, attempt))
        except PaddockError:  # no worktree (any more): no rebase either
            return False

    async def _process_failed(self, attempt: Attempt, proc: Process, what: str) -> None:
        if proc.status is ProcessStatus.stopped:  # someone stopped it: not a failure
            await self.set_status(attempt, AttemptStatus.stopped, error=self._stop_reason())
        else:
            await self.set_status(
                attempt,
                AttemptStatus.failed,
                error=f"{what} failed: {proc.error}",
                debug_id=proc.debug_id,
            )

    def _stop_reason(self) -> str | None:
        """Why an attempt stopped when nobody asked for it: the server was stopping."""
        return "stopped: the server was shutting down" if self._shutdown else None

    async def set_status(
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

    async def _get(self, attempt_id: str) -> Attempt:
        return await self.ctx.db.run(lambda s: store.get_attempt(s, attempt_id))
