"""Ship: a version's deploy readiness (domain/builder/deploy.py) and its export.

The checks read the version's files from git objects (never the worktree the agent wrote: a
link there cannot make the server read a host file), scan them for secrets, and run the unit
tests and the production build in a sandboxed attempt holding that version (the app's own
when it is at it, else the version's: the work in progress is never disturbed). A commit's
files never change, so its result is kept and given again until asked for a fresh one.

Export: the version as an archive made by git from the tag, or pushed to a remote branch.
"""

from __future__ import annotations

import asyncio
from collections import OrderedDict
from dataclasses import dataclass
from pathlib import Path

import anyio

from paddock.agents.script import shell_argv
from paddock.domain.builder.apps import App
from paddock.domain.builder.deploy import Readiness, RunOutcome, assess
from paddock.domain.builder.timeline import TimelineKind
from paddock.domain.builder.versions import Version
from paddock.domain.entities import Attempt
from paddock.domain.errors import Conflict, PaddockError
from paddock.domain.states import ProcessStatus, RunReason, TestKind
from paddock.runtime import git
from paddock.runtime.git.tree_files import files_at
from paddock.runtime.secret_scan import scan_for_secrets
from paddock.services.builder.build_parts import BuildParts
from paddock.services.builder.templates import get_template
from paddock.services.builder.versions import VersionService
from paddock.services.git.remotes import Pushed, RemoteService
from paddock.services.processes.process_request import ProcessRequest
from paddock.store import builds as build_store
from paddock.store import projects as project_store

# What the checks read of a version: enough for any app the builder makes, and the secret
# scanner's time stays in seconds.
MAX_FILE_BYTES = 256_000
MAX_TOTAL_BYTES = 4_000_000
KEPT = 200  # results kept (a commit's never changes); the oldest go first
_LIGHT_WORDS = {"green": "ready to ship", "yellow": "can ship, with warnings", "red": "not ready"}


@dataclass(frozen=True, slots=True)
class VersionReadiness:
    app_id: str
    version: str
    commit: str
    readiness: Readiness


class DeployService:
    def __init__(self, parts: BuildParts, versions: VersionService, remotes: RemoteService) -> None:
        self.parts = parts
        self.ctx = parts.ctx
        self.versions = versions
        self.remotes = remotes
        # (app, commit) -> its result, the most recently checked last; at most KEPT of them.
        self._checked: OrderedDict[tuple[str, str], VersionReadiness] = OrderedDict()
        self._checking: dict[tuple[str, str], asyncio.Lock] = {}

    async def readiness(
        self, app_id: str, version_name: str | None = None, *, fresh: bool = False
    ) -> VersionReadiness:
        """The readiness of `version_name` (the latest by default): kept per commit; `fresh`
        runs the checks again."""
        app = await self.parts.apps.get(app_id)
        version = await self.versions.named(app.id, version_name)
        key = (app.id, version.commit)
        lock = self._checking.setdefault(key, asyncio.Lock())
        async with lock:  # one check of a commit at a time; the others get its result
            found = None if fresh else self._checked.get(key)
            if found is None:
                found = await self._check(app, version)
                self._checked[key] = found
                self._checked.move_to_end(key)
                while len(self._checked) > KEPT:
                    oldest, _result = self._checked.popitem(last=False)
                    self._checking.pop(oldest, None)
        return found

    def kept(self, app_id: str, commit: str) -> Readiness | None:
        """The readiness checked at `commit` already, if it was (nothing is run)."""
        found = self._checked.get((app_id, commit))
        return found.readiness if found else None

    async def _check(self, app: App, version: Version) -> VersionReadiness:
        await self._refuse_while_building(app)
        repo = await self._repo(app)
        files = await files_at(
            repo, version.commit, max_file_bytes=MAX_FILE_BYTES, max_total_bytes=MAX_TOTAL_BYTES
        )
        # detect-secrets blocks and holds a process-wide lock: off the event loop.
        findings = await anyio.to_thread.run_sync(scan_for_secrets, files)
        attempt = await self.versions.attempt_at(app, version)
        assert app.template is not None  # a version was built from one
        template = get_template(app.template)
        tests = await self._unit_tests(attempt)
        build = await self._production_build(attempt, template.deploy_build)
        readiness = assess(
            files,
            findings=findings,
            tests=tests,
            build=build,
            template_start=template.deploy_start or None,
        )
        failing = [c.title for c in readiness.checks if c.status.value == "fail"]
        said = f"{version.name} is {_LIGHT_WORDS[readiness.light.value]}"
        if failing:
            said += f": {', '.join(failing)}"
        await self.parts.timeline.add(
            app,
            TimelineKind.deploy_checked,
            said[:300],
            data={"version": version.name, "light": readiness.light.value},
        )
        return VersionReadiness(app.id, version.name, version.commit, readiness)

    async def _unit_tests(self, attempt: Attempt) -> RunOutcome:
        if not attempt.scripts.unit_test.strip():
            return RunOutcome(None, "The app has no unit tests")
        try:
            run = await self.parts.test_runs.start(attempt.id, TestKind.unit, wait=True)
        except PaddockError as exc:
            return RunOutcome(False, f"The unit tests could not run: {exc.message}")
        count = run.totals.passed
        if run.status.value == "passed":
            return RunOutcome(True, f"{count} unit test{'s' if count != 1 else ''} passed")
        failed = run.totals.failed + run.totals.errors
        return RunOutcome(False, f"{failed} unit test{'s' if failed != 1 else ''} failed")

    async def _production_build(self, attempt: Attempt, script: str) -> RunOutcome:
        if not script.strip():
            return RunOutcome(True, "Nothing to build: its files are served as they are")
        proc = await self.parts.processes.run(
            attempt, ProcessRequest(RunReason.build, shell_argv(script))
        )
        if proc.status is ProcessStatus.succeeded:
            return RunOutcome(True, "The production build succeeded")
        lines = await self.parts.logs.tail(proc.id, 3)
        last = lines[-1].text if lines else proc.error or "it failed"
        return RunOutcome(False, f"The production build failed: {last}"[:300])

    # -- export ---------------------------------------------------------------------------

    async def archive(self, app_id: str, version_name: str, folder: Path) -> Path:
        """A zip of the version in `folder`, made by git from its commit (the repository's
        objects: links stay links, nothing outside the repository is read)."""
        app = await self.parts.apps.get(app_id)
        version = await self.versions.named(app.id, version_name)
        name = f"{app.slug}-{version.name}"
        made = await git.archive(
            await self._repo(app), version.commit, folder / f"{name}.zip", prefix=f"{name}/"
        )
        await self.parts.timeline.add(
            app,
            TimelineKind.exported,
            f"{version.name} was downloaded",
            data={"version": version.name},
        )
        return made

    async def push(
        self, app_id: str, version_name: str, remote: str, branch: str, *, force: bool = False
    ) -> Pushed:
        """Push the version to `branch` of the app repository's `remote`."""
        app = await self.parts.apps.get(app_id)
        version = await self.versions.named(app.id, version_name)
        pushed = await self.remotes.push_ref(
            app.project_id, version.commit, remote, branch, force=force
        )
        await self.parts.timeline.add(
            app,
            TimelineKind.exported,
            f"{version.name} was pushed to {remote} ({branch})",
            data={"version": version.name, "remote": remote, "branch": branch},
        )
        return pushed

    async def _repo(self, app: App) -> Path:
        project = await self.ctx.db.run(lambda s: project_store.get_project(s, app.project_id))
        return Path(project.repo_path)

    async def _refuse_while_building(self, app: App) -> None:
        running = await self.ctx.db.run(lambda s: build_store.open_build(s, app.id))
        if running is not None:
            raise Conflict(
                f"build {running.number} is {running.status.value}: wait for it or cancel it",
                code="build_in_progress",
                build_id=running.id,
            )
