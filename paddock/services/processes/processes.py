"""Supervised processes: spawn, capture output, record status, stop. Nothing outlives them."""

from __future__ import annotations

import asyncio
import contextlib
import shlex
import signal
from collections.abc import Awaitable
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy.orm import Session

from paddock.domain.entities import Attempt, Process, Project
from paddock.domain.errors import Conflict, PaddockError
from paddock.domain.events import ArtifactsAdded, EventType
from paddock.domain.generated import generated_free_env
from paddock.domain.names import new_debug_id, new_id
from paddock.domain.process_end import end_line, outcome
from paddock.domain.sandbox import LimitHit, Provider
from paddock.domain.secrets import secret_values
from paddock.domain.states import LogStream, ProcessStatus
from paddock.runtime.launcher import Launched, LaunchSpec
from paddock.runtime.logpipe import LogSink, pump
from paddock.services import counters
from paddock.services.context import Context, log
from paddock.services.processes.process_env import ARTIFACTS_ENV, given_env, process_env
from paddock.services.processes.process_log import close_log, open_log
from paddock.services.processes.process_request import UNOBSERVED, ProcessObservers, ProcessRequest
from paddock.services.sandbox.sandboxing import sandbox_spec
from paddock.services.sandbox.stats import Sampler, Sampling
from paddock.services.testing.artifacts import ArtifactService
from paddock.store import processes as store
from paddock.store import projects as project_store


@dataclass
class _Running:
    attempt_id: str
    secrets: list[str]  # the values its log is redacted of
    interrupt: signal.Signals | None = None  # the CLI's own "stop now", tried first
    launched: Launched | None = None
    stopping: bool = False
    done: asyncio.Event = field(default_factory=asyncio.Event)


class ProcessService:
    def __init__(self, ctx: Context, artifacts: ArtifactService) -> None:
        self.ctx = ctx
        self.artifacts = artifacts
        self._running: dict[str, _Running] = {}
        self._sampling = Sampling(ctx)

    async def run(
        self,
        attempt: Attempt,
        request: ProcessRequest,
        observers: ProcessObservers = UNOBSERVED,
        *,
        after: Awaitable[object] | None = None,
    ) -> Process:
        """Run `request` in `attempt` to its end and return the process's final record.

        Its log is redacted of the secrets it was given, and followed by `observers` as it
        comes (see `ProcessRequest` for the sandbox's paths, the interrupt, the network hook).
        `after`: what must be stored first (its attempt's record, being written meanwhile):
        the process is recorded, and its events go out, once it is done.
        """
        process_id = request.process_id or new_id()
        provider = self.ctx.sandboxes.resolve(attempt.sandbox.provider)
        folder = await asyncio.to_thread(
            self.artifacts.prepare, process_id, sandboxed=provider is not Provider.none
        )
        extra = {ARTIFACTS_ENV: str(folder), **generated_free_env(request.reason), **request.env}
        given = given_env(attempt, request.reason, extra)
        full_env = process_env(given)
        if after is not None:
            await after
        project, proc = await self._create(attempt, request, process_id, provider)
        sandbox = sandbox_spec(
            self.ctx.settings,
            attempt,
            project,
            provider,
            given,
            request.argv,
            [*request.writable, folder],
            request.readable,
            request.on_network,
        )
        self.ctx.publish(EventType.process_created, attempt.project_id, proc)
        secrets = secret_values(full_env, list(request.secret_env))
        sink = open_log(self.ctx, process_id, secrets, observers)
        running = self._running[process_id] = _Running(attempt.id, secrets, request.interrupt)
        spec = LaunchSpec(
            argv=list(request.argv),
            cwd=Path(attempt.worktree_path),
            env=full_env,
            stdin=request.stdin,
            tag=process_id,
            sandbox=sandbox,
        )
        try:
            return await self._supervise(attempt, proc, sink, running, spec, observers)
        finally:
            running.done.set()
            del self._running[process_id]
            self.ctx.logs.remove(process_id)
            self.ctx.entries.remove(process_id)

    async def _create(
        self, attempt: Attempt, request: ProcessRequest, process_id: str, provider: Provider
    ) -> tuple[Project, Process]:
        """The process's record, and the project it runs for (its sandbox needs it)."""

        def create(session: Session) -> tuple[Project, Process]:
            project = project_store.get_project(session, attempt.project_id)
            proc = store.create_process(
                session,
                process_id=process_id,
                attempt_id=attempt.id,
                reason=request.reason,
                command=list(request.argv),
                commit_before=request.commit_before,
                provider=provider.value,
            )
            return project, proc

        return await self.ctx.db.run(create)

    async def _supervise(
        self,
        attempt: Attempt,
        proc: Process,
        sink: LogSink,
        running: _Running,
        spec: LaunchSpec,
        observers: ProcessObservers,
    ) -> Process:
        """Launch `spec` and follow it to its end; a stop or a launch error ends it at once."""
        sink.system(f"$ {shlex.join(spec.argv)}")
        if running.stopping:
            return await self._finish(
                attempt, proc, sink, ProcessStatus.stopped, None, "stopped before it started"
            )
        try:
            launched = await self.ctx.launcher.launch(spec)
        except PaddockError as exc:
            return await self._finish(attempt, proc, sink, ProcessStatus.failed, None, exc.message)
        running.launched = launched
        # A stop that came during the launch found nothing to stop: it waits for the end.
        halt = asyncio.create_task(self._halt(running, launched)) if running.stopping else None
        try:
            return await self._follow(attempt, proc, sink, running, launched, observers)
        finally:
            if halt is not None:
                await halt

    async def _halt(self, running: _Running, launched: Launched) -> None:
        """Its interrupt first (an agent CLI saves its session), then whatever is left (the
        CLI ignored it, or its children) is stopped."""
        settings = self.ctx.settings.processes
        if running.interrupt is not None:
            launched.send(running.interrupt)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(launched.wait(), settings.interrupt_grace_seconds)
        await launched.stop(settings.stop_grace_seconds)

    async def _announce(
        self,
        attempt: Attempt,
        proc: Process,
        launched: Launched,
        sampler: Sampler,
        observers: ProcessObservers,
    ) -> Process:
        """Record the process as running (its pid at once: the reaper needs it) while its
        command starts, and say so once it runs: `running` is never published before the
        command was exec'd inside its sandbox. A command that never started (its sandbox could
        not be made) is not announced; its end follows."""
        marked = asyncio.create_task(
            self.ctx.db.run(
                lambda s: store.mark_running(
                    s, proc.id, pid=launched.pid, start_time=launched.start_time
                )
            )
        )
        started = await launched.started()
        proc = await marked
        if started:
            self.ctx.publish(EventType.process_updated, attempt.project_id, proc)
            if observers.started is not None:
                observers.started(proc)
        sampler.start()
        return proc

    async def _follow(
        self,
        attempt: Attempt,
        proc: Process,
        sink: LogSink,
        running: _Running,
        launched: Launched,
        observers: ProcessObservers,
    ) -> Process:
        """Pump its output (from the start: nothing waits on a full pipe) and sample it until
        it exits (or its time is up), then record how it ended, stop what it left behind, and
        keep its artifacts."""
        pumps = [
            asyncio.create_task(pump(launched.stdout, LogStream.stdout, sink)),
            asyncio.create_task(pump(launched.stderr, LogStream.stderr, sink)),
        ]
        sampler = Sampler(self._sampling, attempt, proc.id, launched)
        announced = asyncio.create_task(self._announce(attempt, proc, launched, sampler, observers))
        limits = attempt.sandbox.over(self.ctx.settings.sandbox.defaults).limits
        code, hit = await self._wait(launched, running, limits.timeout_s)
        # `running` goes out (and is stored) before the end, whatever came first.
        proc = await announced
        await sampler.stop()
        if hit is None and code != 0 and not running.stopping:
            hit = launched.limit_hit()
        status, error = outcome(code, hit, limits, stopped=running.stopping)
        await self._record_end(attempt, proc, status, code, error, hit)
        # Whatever the leader left behind in its group is stopped, so the pipes reach EOF.
        await launched.reap_leftovers(self.ctx.settings.processes.stop_grace_seconds)
        await asyncio.gather(*pumps)
        sink.system(end_line(code, hit, error, stopped=status is ProcessStatus.stopped))
        await self._keep_artifacts(attempt, sink)
        return await close_log(self.ctx, attempt, sink)

    async def _wait(
        self, launched: Launched, running: _Running, timeout: float | None
    ) -> tuple[int, LimitHit | None]:
        """The exit code; a process past its wall-clock limit is stopped (LimitHit.timeout)."""
        try:
            return await asyncio.wait_for(asyncio.shield(launched.wait()), timeout), None
        except TimeoutError:
            running.stopping = True
            await launched.stop(self.ctx.settings.processes.stop_grace_seconds)
            return await launched.wait(), LimitHit.timeout

    async def _finish(
        self,
        attempt: Attempt,
        proc: Process,
        sink: LogSink,
        status: ProcessStatus,
        code: int | None,
        error: str,
    ) -> Process:
        recorded = None if status is ProcessStatus.stopped else error
        final = await self._record_end(attempt, proc, status, code, recorded)
        sink.system(error + (f" (debug id {final.debug_id})" if final.debug_id else ""))
        await self._keep_artifacts(attempt, sink)
        return await close_log(self.ctx, attempt, sink)

    async def _record_end(
        self,
        attempt: Attempt,
        proc: Process,
        status: ProcessStatus,
        code: int | None,
        error: str | None,
        hit: LimitHit | None = None,
    ) -> Process:
        debug_id = None
        if hit is not None:
            counters.LIMIT_HITS.inc(hit.value, proc.provider)
        if status is ProcessStatus.failed:
            debug_id = new_debug_id()
            log.warning(
                "process %s (%s of attempt %s) failed: %s [debug_id=%s]",
                proc.id,
                proc.reason,
                attempt.id,
                error,
                debug_id,
            )
        final = await self.ctx.db.run(
            lambda s: store.mark_finished(
                s,
                proc.id,
                status,
                exit_code=code,
                error=error,
                debug_id=debug_id,
                failure=hit.value if hit else None,
            )
        )
        self.ctx.publish(EventType.process_updated, attempt.project_id, final)
        return final

    async def _keep_artifacts(self, attempt: Attempt, sink: LogSink) -> None:
        """What the process left in its artifact folder goes to the store; its log says so."""
        collected = await self.artifacts.collect(attempt.id, sink.process_id)
        if collected.artifacts:
            size = sum(a.size for a in collected.artifacts)
            sink.system(f"artifacts: kept {len(collected.artifacts)} files ({size:,} bytes)")
            self.ctx.publish(
                EventType.artifacts_added,
                attempt.project_id,
                ArtifactsAdded(sink.process_id, attempt.id),
            )
        for reason in collected.skipped[:20]:
            sink.system(f"artifacts: left out {reason}")

    async def stop(self, process_id: str) -> Process:
        proc = await self.ctx.db.run(lambda s: store.get_process(s, process_id))
        running = self._running.get(process_id)
        if running is None:
            if proc.status.finished:
                return proc
            raise Conflict(
                f"process {process_id} is not supervised by this server", code="process_not_running"
            )
        running.stopping = True
        if running.launched is not None:  # else its launch stops it once it has launched
            await self._halt(running, running.launched)
        await running.done.wait()
        return await self.ctx.db.run(lambda s: store.get_process(s, process_id))

    async def stop_all(self, process_ids: list[str] | None = None) -> None:
        ids = list(self._running) if process_ids is None else process_ids
        await asyncio.gather(*(self.stop(pid) for pid in ids if pid in self._running))

    def running_ids(self) -> list[str]:
        return list(self._running)

    def secrets_of_attempt(self, attempt_id: str) -> list[str]:
        """The secret values the attempt's running processes were given (their logs are
        redacted of them): what it says through another door is redacted of them too."""
        found = {
            value
            for running in self._running.values()
            if running.attempt_id == attempt_id
            for value in running.secrets
        }
        return sorted(found, key=len, reverse=True)

    def inside_pid(self, process_id: str) -> int | None:
        """A process inside the sandbox of a running process (to reach its network), if any."""
        running = self._running.get(process_id)
        launched = running.launched if running is not None else None
        return launched.inside_pid() if launched is not None else None

    async def get(self, process_id: str) -> Process:
        return await self.ctx.db.run(lambda s: store.get_process(s, process_id))

    async def list_for_attempt(
        self, attempt_id: str, *, include_dropped: bool = False
    ) -> list[Process]:
        """The attempt's processes, oldest first; turns rewound past only when asked for."""
        return await self.ctx.db.run(
            lambda s: store.list_processes(s, attempt_id, include_dropped=include_dropped)
        )
