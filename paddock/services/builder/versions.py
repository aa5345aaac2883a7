"""Versions: each ready build's (a git tag on the app's branch and a row with its summary),
a rollback (a new version whose tree is an old one's: history is kept, nothing rewritten), and
a preview of any version — the latest in the app's attempt; an older one in an attempt of its
own on the app's task, its branch started at the version's tag and set up as the deps stage
does, so the work in progress is never disturbed."""

from __future__ import annotations

from datetime import UTC, datetime

from paddock.agents.script import shell_argv
from paddock.domain.builder.apps import App
from paddock.domain.builder.builds import BuildSummary
from paddock.domain.builder.timeline import TimelineKind
from paddock.domain.builder.versions import Version, next_version, tag_name
from paddock.domain.entities import Attempt
from paddock.domain.errors import Conflict, Unavailable
from paddock.domain.events import EventType
from paddock.domain.names import new_id
from paddock.domain.preview import Preview
from paddock.domain.states import ProcessStatus, RunReason
from paddock.runtime import git
from paddock.services.attempts.attempt_worktrees import attempt_worktree
from paddock.services.builder.build_parts import BuildParts
from paddock.services.builder.templates import get_template
from paddock.services.context import Context
from paddock.services.processes.process_request import ProcessRequest
from paddock.store import builds as store


async def record_version(
    ctx: Context,
    app: App,
    tree: git.Worktree,
    commit: str,
    *,
    build_id: str | None = None,
    rolled_back_to: str | None = None,
    summary: BuildSummary | None = None,
    screenshot_id: str | None = None,
) -> Version:
    """The app's next version at `commit`: tagged, stored, published."""
    versions = await ctx.db.run(lambda s: store.list_versions(s, app.id))
    name = next_version([v.name for v in versions])
    await git.run_git(tree, "tag", "-f", tag_name(app.tag_prefix, name), commit)
    version = Version(
        id=new_id(),
        app_id=app.id,
        name=name,
        commit=commit,
        created_at=datetime.now(UTC),
        build_id=build_id,
        rolled_back_to=rolled_back_to,
        summary=summary,
        screenshot_id=screenshot_id,
    )
    version = await ctx.db.run(lambda s: store.add_version(s, version))
    ctx.publish(EventType.version_created, app.project_id, version)
    return version


def preview_branch(app: App, version: str) -> str:
    return f"paddock/{app.slug}/preview-{version}"


class VersionService:
    def __init__(self, parts: BuildParts) -> None:
        self.parts = parts
        self.ctx = parts.ctx

    async def list_for_app(self, app_id: str) -> list[Version]:
        """The app's versions, newest first."""
        await self.parts.apps.get(app_id)
        return await self.ctx.db.run(lambda s: store.list_versions(s, app_id))

    async def roll_back(self, app_id: str, name: str) -> Version:
        """A new version whose files are `name`'s: a commit of its tree on top of the
        branch; the app's running preview then serves it."""
        app = await self.parts.apps.get(app_id)
        old = await self.ctx.db.run(lambda s: store.get_version(s, app.id, name))
        running = await self.ctx.db.run(lambda s: store.open_build(s, app.id))
        if running is not None:
            raise Conflict(
                f"build {running.number} is {running.status.value}: wait for it or cancel it",
                code="build_in_progress",
                build_id=running.id,
            )
        assert app.attempt_id is not None  # a version was built in it
        attempt = await self.parts.attempts.get(app.attempt_id)
        if attempt.status.busy:
            raise Conflict(f"the app's attempt is {attempt.status.label}", code="attempt_busy")
        tree = await attempt_worktree(self.ctx, attempt)
        head = await git.rev_parse(tree, "HEAD")
        commit = await git.commit_tree(
            tree, f"{old.commit}^{{tree}}", [head], f"Roll back to {name}"
        )
        await git.reset_to(tree, commit)
        version = await record_version(
            self.ctx,
            app,
            tree,
            commit,
            rolled_back_to=name,
            summary=old.summary,
            screenshot_id=old.screenshot_id,
        )
        await self.parts.timeline.add(
            app,
            TimelineKind.rollback,
            f"Rolled back to {name}: it is now {version.name}",
            data={"version": version.name, "from": name},
        )
        for preview in await self.parts.previews.list_for_attempt(attempt.id):
            if preview.status.active:
                await self.parts.previews.restart(preview.id, wait=True)
        return version

    async def preview(self, app_id: str, name: str) -> Preview:
        """The running preview of version `name` (started, and waited for, when need be)."""
        app = await self.parts.apps.get(app_id)
        version = await self.ctx.db.run(lambda s: store.get_version(s, app.id, name))
        if app.parked:
            raise Conflict("the app is parked: resume it to see its preview", code="app_parked")
        return await self._preview(await self.attempt_at(app, version))

    async def attempt_at(self, app: App, version: Version) -> Attempt:
        """An attempt whose worktree holds `version`: the app's own when its HEAD is the
        version, else the version's attempt (made and set up the first time)."""
        if app.attempt_id is None or app.task_id is None:
            raise Conflict("the app has no build yet", code="no_attempt")
        attempt = await self.parts.attempts.get(app.attempt_id)
        head = await git.rev_parse(await attempt_worktree(self.ctx, attempt), "HEAD")
        if head != version.commit:
            attempt = await self._version_attempt(app, version)
        return attempt

    async def named(self, app_id: str, name: str | None) -> Version:
        """The app's version `name`, or its latest (409 `no_version` when it has none)."""
        if name is not None:
            return await self.ctx.db.run(lambda s: store.get_version(s, app_id, name))
        versions = await self.list_for_app(app_id)
        if not versions:
            raise Conflict("the app has no version yet: build it first", code="no_version")
        return versions[0]

    async def _version_attempt(self, app: App, version: Version) -> Attempt:
        """The attempt holding `version` alone: found again, or made and set up."""
        assert app.task_id is not None
        branch = preview_branch(app, version.name)
        for attempt in await self.parts.attempts.list_for_task(app.task_id):
            if attempt.branch == branch:
                return attempt
        attempt = await self.parts.attempts.start(
            app.task_id,
            agent=app.agent,
            prompt=f"A preview of {version.name} (nothing is built here)",
            base_branch=tag_name(app.tag_prefix, version.name),
            branch=branch,
            run=False,
        )
        assert app.template is not None  # a version was built from one
        setup = get_template(app.template).scripts.setup
        if setup.strip():
            proc = await self.parts.processes.run(
                attempt, ProcessRequest(RunReason.setup, shell_argv(setup))
            )
            if proc.status is not ProcessStatus.succeeded:
                raise Unavailable(
                    f"{version.name} could not be set up for its preview: {proc.error}",
                    code="version_setup_failed",
                    debug_id=proc.debug_id,
                )
        return attempt

    async def _preview(self, attempt: Attempt) -> Preview:
        previews = self.parts.previews
        running = [p for p in await previews.list_for_attempt(attempt.id) if p.status.active]
        if running:
            return running[0]
        return (await previews.start(attempt.id, wait=True))[0]
