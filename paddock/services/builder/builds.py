"""Builds: queued durably, run one at a time per app and `max_builds` at once, cancelled
(back to the last version), retried from the stage that failed, and resumed after a restart
(a build the server stopped mid-stage is failed with that reason, and can be retried).

How a run ends is recorded by build_outcomes.py: a ready build makes a version (a git tag on
the app's branch, a row with its summary, and on the first one the app's stage "MVP built").
"""

from __future__ import annotations

import asyncio
from dataclasses import replace
from datetime import UTC, datetime

from sqlalchemy.orm import Session

from paddock.domain.builder.apps import App
from paddock.domain.builder.builds import (
    Build,
    BuildKind,
    BuildStatus,
    failure_sentence,
    retry_stage,
)
from paddock.domain.builder.changes import check_description
from paddock.domain.builder.prompts import build_prompt
from paddock.domain.builder.timeline import TimelineKind
from paddock.domain.entities import runs_here
from paddock.domain.errors import Conflict, InvalidInput, PaddockError
from paddock.domain.events import EventType
from paddock.services.builder.build_outcomes import BuildOutcomes
from paddock.services.builder.build_parts import BuildParts, StageFailed
from paddock.services.builder.build_run import BuildCancelled, BuildRun
from paddock.services.builder.templates import get_template
from paddock.services.context import log
from paddock.store import apps as app_store
from paddock.store import builds as store

_CANCEL_RECHECK = 0.5  # seconds between a cancel's stops while the run ends


class BuildService:
    def __init__(self, parts: BuildParts) -> None:
        self.parts = parts
        self.ctx = parts.ctx
        self._running: dict[str, asyncio.Task[None]] = {}  # build id -> its run
        self._app_of: dict[str, str] = {}  # build id -> its app, while it runs
        self._pump_lock = asyncio.Lock()
        self._cancelling: set[str] = set()
        self._closing = False
        self.outcomes = BuildOutcomes(parts, self._save)

    # -- starting -----------------------------------------------------------------------

    async def start(self, app_id: str, change: str | None = None) -> Build:
        """Queue a build of the app: its first from the brief, or a change request onto the
        last version. One build per app at a time."""
        app = await self.parts.apps.get(app_id)
        if app.template is None:
            raise Conflict("choose how to build the app first (its plan)", code="no_plan_chosen")
        if app.parked:
            raise Conflict("the app is parked: resume it first", code="app_parked")
        _version, brief = await self.parts.apps.brief(app.id)
        if change is not None:
            change = check_description(change)
        versions = await self.ctx.db.run(lambda s: store.list_versions(s, app.id))
        kind = BuildKind.change if versions and change is not None else BuildKind.first
        if versions and change is None:
            raise InvalidInput(
                "the app has a version: ask for a change (POST /api/apps/{id}/changes)",
                code="change_required",
            )
        prompt = build_prompt(brief, get_template(app.template), change)

        def create(session: Session) -> Build:
            app_store.lock_app(session, app.id)  # two starts at once: one sees the other's
            running = store.open_build(session, app.id)
            if running is not None:
                raise Conflict(
                    f"build {running.number} of this app is {running.status.value}: wait for "
                    "it or cancel it",
                    code="build_in_progress",
                    build_id=running.id,
                )
            return store.create_build(session, app.id, kind, prompt)

        build = await self.ctx.db.run(create)
        self.ctx.publish(EventType.build_created, app.project_id, build)
        what = "the first version" if kind is BuildKind.first else f"the change: {change}"
        await self.parts.timeline.add(
            app,
            TimelineKind.build_queued,
            f"Build {build.number} queued: {what}"[:300],
            build_id=build.id,
        )
        self.pump()
        return build

    def pump(self) -> None:
        """Start queued builds while there is room (at most one per app)."""
        if not self._closing:
            asyncio.get_running_loop().create_task(self._pump(), name="paddock-build-pump")

    async def _pump(self) -> None:
        # One pump at a time: two that both saw a build queued would both start it.
        async with self._pump_lock:
            limit = self.ctx.settings.builder.max_builds
            queued = await self.ctx.db.run(store.queued_builds)
            busy = {b.app_id for b in await self._working()} | set(self._app_of.values())
            for build in queued:
                if len(self._running) >= limit or self._closing:
                    return
                if build.id in self._running or build.app_id in busy:
                    continue
                busy.add(build.app_id)
                self._app_of[build.id] = build.app_id
                self._running[build.id] = asyncio.create_task(
                    self._run(build), name=f"paddock-build-{build.id}"
                )

    async def _working(self) -> list[Build]:
        return await self.ctx.db.run(store.working_builds)

    # -- the run ------------------------------------------------------------------------

    async def _run(self, build: Build) -> None:
        app = await self.parts.apps.get(build.app_id)
        run = BuildRun(
            self.parts,
            app,
            build,
            saved=lambda b: self._save(app, b),
            cancelled=lambda: build.id in self._cancelling,
        )
        try:
            await run.run()
            await self.outcomes.ready(run)
        except BuildCancelled:
            await self.outcomes.cancelled(run)
        except StageFailed as exc:
            await self.outcomes.failed(run, exc.detail)
        except PaddockError as exc:
            await self.outcomes.failed(run, f"{exc.code}: {exc.message}")
        except asyncio.CancelledError:
            # The server stops: the build stays where it was; the next start fails it with
            # that reason (`resume`).
            raise
        except Exception as exc:
            log.exception("build %s crashed", build.id)
            await self.outcomes.failed(run, f"internal error: {exc!r}")
        finally:
            self._running.pop(build.id, None)
            self._app_of.pop(build.id, None)
            self._cancelling.discard(build.id)
            self.pump()

    async def _save(self, app: App, build: Build) -> Build:
        saved = await self.ctx.db.run(lambda s: store.save_build(s, build))
        self.ctx.publish(EventType.build_updated, app.project_id, saved)
        return saved

    # -- cancel and retry ---------------------------------------------------------------

    async def cancel(self, build_id: str) -> Build:
        """Stop the build: a queued one never starts; a running one has its agent and
        processes stopped and its partial work undone."""
        build = await self.get(build_id)
        app = await self.parts.apps.get(build.app_id)
        if build.status.finished:
            raise Conflict(f"build {build.number} has {build.status.value}", code="build_finished")
        task = self._running.get(build.id)
        if task is None:  # queued (or left working by a server that stopped)
            build = await self._save(
                app, replace(build, status=BuildStatus.cancelled, ended_at=datetime.now(UTC))
            )
            await self.parts.timeline.add(
                app,
                TimelineKind.build_cancelled,
                f"Build {build.number} was cancelled before it started",
                build_id=build.id,
            )
            return build
        self._cancelling.add(build.id)
        # A stage may be about to start a process when the stop lands (the agent's turn is
        # queued a moment after the stage is entered): stop again until the run has ended.
        while True:
            attempt_id = (await self.parts.apps.get(build.app_id)).attempt_id
            if attempt_id is not None:
                await self.parts.attempts.stop(attempt_id)
            done, _ = await asyncio.wait([task], timeout=_CANCEL_RECHECK)
            if done:
                return await self.get(build.id)

    async def retry(self, build_id: str) -> Build:
        """Queue a failed or cancelled build again: from the start of the stage that failed
        (what the stages before it made is kept); a cancelled one from the start."""
        build = await self.get(build_id)
        app = await self.parts.apps.get(build.app_id)
        if app.parked:
            raise Conflict("the app is parked: resume it first", code="app_parked")
        if build.status not in (BuildStatus.failed, BuildStatus.cancelled):
            raise Conflict(
                f"build {build.number} is {build.status.value}: only a failed or cancelled "
                "build is retried",
                code="build_not_retryable",
            )
        start = (
            retry_stage(build.failed_stage)
            if build.status is BuildStatus.failed
            else BuildStatus.starting
        )

        def requeue(session: Session) -> Build:
            app_store.lock_app(session, app.id)
            running = store.open_build(session, app.id)
            if running is not None:
                raise Conflict(
                    f"build {running.number} of this app is {running.status.value}",
                    code="build_in_progress",
                    build_id=running.id,
                )
            return store.save_build(
                session,
                replace(
                    build,
                    status=BuildStatus.queued,
                    start_stage=start,
                    failed_stage=None,
                    error=None,
                    detail=None,
                    debug_id=None,
                    retries=build.retries + 1,
                    ended_at=None,
                ),
            )

        build = await self.ctx.db.run(requeue)
        self.ctx.publish(EventType.build_updated, app.project_id, build)
        await self.parts.timeline.add(
            app,
            TimelineKind.build_retried,
            f"Build {build.number} retried from: {start.label}",
            build_id=build.id,
            data={"stage": start.value, "retry": build.retries},
        )
        self.pump()
        return build

    # -- reading ------------------------------------------------------------------------

    async def get(self, build_id: str) -> Build:
        return await self.ctx.db.run(lambda s: store.get_build(s, build_id))

    async def list_for_app(self, app_id: str) -> list[Build]:
        await self.parts.apps.get(app_id)
        return await self.ctx.db.run(lambda s: store.list_builds(s, app_id))

    async def queue_positions(self) -> dict[str, int]:
        """Each queued build's place in the queue (1 = next to start)."""
        queued = await self.ctx.db.run(store.queued_builds)
        return {b.id: i for i, b in enumerate(queued, start=1)}

    # -- start-up and shut-down ---------------------------------------------------------

    async def resume(self) -> None:
        """At start-up: a build the last server left in a stage lost its processes: it fails
        with that reason (Retry goes on from that stage); queued builds start."""
        for build in await self._working():
            app = await self.parts.apps.get(build.app_id)
            attempt = await self.parts.attempts.get(app.attempt_id) if app.attempt_id else None
            if attempt is not None and not runs_here(attempt, self.ctx.runner_id):
                continue  # another server's build, running there
            stage = build.status
            await self.outcomes.record_failure(
                app,
                build,
                stage,
                f"The server stopped while the build was at {stage.value}.",
                f"Build {build.number} stopped with the server: {failure_sentence(stage)}",
            )
        self.pump()

    async def close(self) -> None:
        """Server shutdown: no build starts; running ones are left as they are (their
        processes stop with the server; the next start fails them, retryable)."""
        self._closing = True
        for task in list(self._running.values()):
            task.cancel()
        if self._running:
            await asyncio.wait(list(self._running.values()))
