"""Builds: queued durably, run one at a time per app and `max_builds` at once, cancelled
(back to the last version), retried from the stage that failed, and resumed after a restart
(a build the server stopped mid-stage is failed with that reason, and can be retried).

A ready build makes a version: a git tag on the app's branch, a row with its summary, and on
the first one the app's stage "MVP built".
"""

from __future__ import annotations

import asyncio
from dataclasses import replace
from datetime import UTC, datetime

from sqlalchemy.orm import Session

from paddock.domain.builder.apps import App, AppStage
from paddock.domain.builder.builds import (
    Build,
    BuildKind,
    BuildStatus,
    failure_sentence,
    retry_stage,
)
from paddock.domain.builder.prompts import build_prompt
from paddock.domain.builder.timeline import TimelineKind
from paddock.domain.errors import Conflict, InvalidInput, PaddockError
from paddock.domain.events import EventType
from paddock.domain.names import new_debug_id
from paddock.runtime import git
from paddock.services.attempts.attempt_worktrees import attempt_worktree
from paddock.services.builder.build_parts import BuildParts, StageFailed
from paddock.services.builder.build_run import BuildCancelled, BuildRun, ended
from paddock.services.builder.templates import get_template
from paddock.services.builder.versions import record_version
from paddock.services.context import log
from paddock.store import apps as app_store
from paddock.store import builds as store

MAX_CHANGE = 4000
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
            change = change.strip()
            if not change:
                raise InvalidInput("say what to change", code="empty_change")
            if len(change) > MAX_CHANGE:
                raise InvalidInput(
                    f"a change is at most {MAX_CHANGE} characters", code="change_too_long"
                )
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
            await self._ready(run)
        except BuildCancelled:
            await self._cancelled(run)
        except StageFailed as exc:
            await self._failed(run, exc.detail)
        except PaddockError as exc:
            await self._failed(run, f"{exc.code}: {exc.message}")
        except asyncio.CancelledError:
            # The server stops: the build stays where it was; the next start fails it with
            # that reason (`resume`).
            raise
        except Exception as exc:
            log.exception("build %s crashed", build.id)
            await self._failed(run, f"internal error: {exc!r}")
        finally:
            self._running.pop(build.id, None)
            self._app_of.pop(build.id, None)
            self._cancelling.discard(build.id)
            self.pump()

    async def _save(self, app: App, build: Build) -> Build:
        saved = await self.ctx.db.run(lambda s: store.save_build(s, build))
        self.ctx.publish(EventType.build_updated, app.project_id, saved)
        return saved

    async def _ready(self, run: BuildRun) -> None:
        app, build = run.app, run.build
        assert app.attempt_id is not None  # made by the build's first stage
        tree = await attempt_worktree(self.ctx, await self.parts.attempts.get(app.attempt_id))
        commit = await git.rev_parse(tree, "HEAD")
        versions = await self.ctx.db.run(lambda s: store.list_versions(s, app.id))
        summary = await run.summary(versions[0].commit if versions else None)
        version = await record_version(
            self.ctx,
            app,
            tree,
            commit,
            build_id=build.id,
            summary=summary,
            screenshot_id=build.screenshot_id,
        )
        name = version.name
        build = await self._save(
            app,
            replace(
                build,
                status=BuildStatus.ready,
                version=name,
                summary=summary,
                base_commit=commit,
                ended_at=datetime.now(UTC),
            ),
        )
        url = await self._preview_url(build)
        await self.parts.timeline.add(
            app,
            TimelineKind.build_ready,
            f"Build {build.number} is ready: {name}",
            build_id=build.id,
            data={"version": name, "preview_url": url, "seconds": _seconds(build)},
        )
        await self.parts.timeline.add(
            app, TimelineKind.version, f"Version {name}", build_id=build.id, data={"version": name}
        )
        if app.stage is not AppStage.mvp_built:
            app = await self.parts.apps.set_stage(app, AppStage.mvp_built)
            await self.parts.timeline.add(
                app,
                TimelineKind.mvp_built,
                f"MVP built: {name} is running",
                build_id=build.id,
                data={"version": name, "preview_url": url},
            )

    async def _preview_url(self, build: Build) -> str | None:
        if build.preview_id is None:
            return None
        preview = await self.parts.previews.get(build.preview_id)
        return self.parts.previews.url(preview)

    async def _failed(self, run: BuildRun, detail: str) -> None:
        build = run.build
        stage = build.status if build.status.working else build.start_stage
        await self._record_failure(
            run.app, build, stage, detail, f"Build {build.number} failed: {failure_sentence(stage)}"
        )

    async def _record_failure(
        self, app: App, build: Build, stage: BuildStatus, detail: str, entry: str
    ) -> Build:
        """The build failed at `stage`: its plain sentence, details and a debug id (also in
        the server log), and `entry` on the app's timeline."""
        debug_id = new_debug_id()
        log.warning(
            "build %s of app %s failed at %s: %s [debug_id=%s]",
            build.number,
            app.id,
            stage.value,
            detail.splitlines()[0] if detail else "",
            debug_id,
        )
        build = await self._save(
            app,
            replace(
                build,
                status=BuildStatus.failed,
                failed_stage=stage,
                error=failure_sentence(stage),
                detail=detail[-20_000:],
                debug_id=debug_id,
                stage_times=ended(build, stage),
                ended_at=datetime.now(UTC),
            ),
        )
        await self.parts.timeline.add(
            app,
            TimelineKind.build_failed,
            entry,
            build_id=build.id,
            data={"stage": stage.value, "debug_id": debug_id},
        )
        return build

    async def _cancelled(self, run: BuildRun) -> None:
        """Everything of the build stopped, and the worktree back at the last version (or at
        its start): nothing half-built stays, nothing is committed."""
        app, build = run.app, run.build
        stage = build.status if build.status.working else build.start_stage
        if app.attempt_id is not None:
            await self.parts.previews.stop_for_attempt(app.attempt_id)
            attempt = await self.parts.attempts.get(app.attempt_id)
            if build.base_commit is not None:
                tree = await attempt_worktree(self.ctx, attempt)
                await git.reset_to(tree, build.base_commit)
        build = await self._save(
            app,
            replace(
                build,
                status=BuildStatus.cancelled,
                failed_stage=stage,
                stage_times=ended(build, stage),
                ended_at=datetime.now(UTC),
            ),
        )
        await self.parts.timeline.add(
            app,
            TimelineKind.build_cancelled,
            f"Build {build.number} was cancelled while {stage.label.lower().rstrip('…')}",
            build_id=build.id,
        )

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
            stage = build.status
            await self._record_failure(
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


def _seconds(build: Build) -> float | None:
    if build.started_at is None or build.ended_at is None:
        return None
    return round((build.ended_at - build.started_at).total_seconds(), 1)
