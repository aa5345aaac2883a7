"""A preview of any version: the app's latest one is its attempt's own preview; an older one
gets an attempt of its own on the app's task, its branch started at the version's tag, set up
as the deps stage does, then previewed. Nothing of the app's attempt changes (no checkout of
an old tree over the work in progress)."""

from __future__ import annotations

from paddock.agents.script import shell_argv
from paddock.domain.builder.apps import App
from paddock.domain.builder.versions import Version, tag_name
from paddock.domain.entities import Attempt
from paddock.domain.errors import Conflict, Unavailable
from paddock.domain.preview import Preview
from paddock.domain.states import ProcessStatus, RunReason
from paddock.runtime import git
from paddock.services.attempts.attempt_worktrees import attempt_worktree
from paddock.services.builder.build_parts import BuildParts
from paddock.services.builder.templates import get_template
from paddock.services.processes.process_request import ProcessRequest
from paddock.store import builds as store


def preview_branch(app: App, version: str) -> str:
    return f"paddock/{app.slug}/preview-{version}"


class VersionPreviews:
    def __init__(self, parts: BuildParts) -> None:
        self.parts = parts
        self.ctx = parts.ctx

    async def start(self, app_id: str, name: str) -> Preview:
        """The running preview of version `name` (started, and waited for, when need be)."""
        app = await self.parts.apps.get(app_id)
        version = await self.ctx.db.run(lambda s: store.get_version(s, app.id, name))
        if app.attempt_id is None or app.task_id is None:
            raise Conflict("the app has no build yet", code="no_attempt")
        attempt = await self.parts.attempts.get(app.attempt_id)
        head = await git.rev_parse(await attempt_worktree(self.ctx, attempt), "HEAD")
        if head != version.commit:
            attempt = await self._version_attempt(app, version)
        return await self._preview(attempt)

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
