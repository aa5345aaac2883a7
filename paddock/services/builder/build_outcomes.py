"""How a build's run ends, recorded: ready (a version, its summary, the app's MVP), failed
(its plain sentence, details and a debug id, also in the server log) or cancelled (everything
stopped, the worktree back at the last version)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import replace
from datetime import UTC, datetime

from paddock.domain.builder.apps import App, AppStage
from paddock.domain.builder.builds import Build, BuildStatus, failure_sentence
from paddock.domain.builder.timeline import TimelineKind
from paddock.domain.names import new_debug_id
from paddock.runtime import git
from paddock.services.attempts.attempt_worktrees import attempt_worktree
from paddock.services.builder.build_parts import BuildParts
from paddock.services.builder.build_run import BuildRun, ended
from paddock.services.builder.versions import record_version
from paddock.services.context import log
from paddock.store import builds as store


class BuildOutcomes:
    def __init__(self, parts: BuildParts, save: Callable[[App, Build], Awaitable[Build]]):
        self.parts = parts
        self.ctx = parts.ctx
        self.save = save  # the build stored and published

    async def ready(self, run: BuildRun) -> None:
        """The version the build made (tagged, stored), its summary, its timeline entries;
        the first one makes the app's MVP."""
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
        build = await self.save(
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

    async def failed(self, run: BuildRun, detail: str) -> None:
        build = run.build
        stage = build.status if build.status.working else build.start_stage
        await self.record_failure(
            run.app, build, stage, detail, f"Build {build.number} failed: {failure_sentence(stage)}"
        )

    async def record_failure(
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
        build = await self.save(
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

    async def cancelled(self, run: BuildRun) -> None:
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
        build = await self.save(
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


def _seconds(build: Build) -> float | None:
    if build.started_at is None or build.ended_at is None:
        return None
    return round((build.ended_at - build.started_at).total_seconds(), 1)
