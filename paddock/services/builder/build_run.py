"""One build's run through its stages (domain/builder/builds.py), on the app's attempt.

Each stage uses the engine as a developer's attempt does: the code stage is a follow-up of
the attempt's agent (auto-committed), deps the template's setup as a process, checks a unit
test run, the preview, a screenshot and an e2e run. A stage that fails raises `StageFailed`
with its technical details; the build (builds.py) turns it into a plain sentence, a debug id
and a Retry that starts again at that stage.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import TypeVar

import anyio.to_thread

from paddock.agents.script import shell_argv
from paddock.domain.builder.apps import App
from paddock.domain.builder.builds import (
    Build,
    BuildStatus,
    BuildSummary,
    StageTime,
    stages_from,
)
from paddock.domain.builder.templates import AppTemplate
from paddock.domain.builder.timeline import TimelineKind
from paddock.domain.entities import Attempt, Process
from paddock.domain.errors import PaddockError
from paddock.domain.preview import Preview, PreviewStatus
from paddock.domain.states import FollowUpStatus, ProcessStatus, RunReason, TestKind
from paddock.domain.test_run import TestRun
from paddock.runtime import git, safefs
from paddock.runtime.git import staging
from paddock.services.attempts.attempt_worktrees import attempt_worktree
from paddock.services.builder.build_parts import BuildParts, StageFailed, build_summary
from paddock.services.builder.build_screenshot import (
    SCREENSHOT,
    EarlyScreenshot,
    screenshot_argv,
    screenshot_env,
)
from paddock.services.builder.templates import get_template, template_files
from paddock.services.processes.process_request import ProcessRequest
from paddock.store import artifacts as artifact_store

A = TypeVar("A")
B = TypeVar("B")
LOG_TAIL = 40  # lines of a failed process's log in a failure's details
SCAFFOLD_MESSAGE = "Scaffold: the {label} template"


class BuildCancelled(Exception):
    """The founder cancelled the build while a stage ran."""


@dataclass
class BuildRun:
    """The stages of `build` from its start stage; `saved` writes each change of the build
    (and publishes it), `cancelled` says whether the founder cancelled it."""

    parts: BuildParts
    app: App
    build: Build
    saved: Callable[[Build], Awaitable[Build]]
    cancelled: Callable[[], bool]
    attempt: Attempt | None = None
    checks: tuple[str, ...] = ()  # what the checks stage found, for the summary
    screenshot: EarlyScreenshot | None = None  # its browser, started at the code stage

    async def run(self) -> Build:
        """Run the stages; the build as it ended a stage short of `ready` raises (StageFailed,
        BuildCancelled), and `ready` is the caller's to record."""
        try:
            for stage in stages_from(self.build.start_stage):
                self._check_cancelled()
                await self._enter(stage)
                await _STAGES[stage](self)
                await self._leave(stage)
        finally:
            await self._end_screenshot()  # ended before the checks: no page, it just ends
        self._check_cancelled()
        return self.build

    # -- stages -------------------------------------------------------------------------

    async def _starting(self) -> None:
        """The app's task and attempt (made by its first build; nothing runs in it yet)."""
        parts = self.parts
        if self.app.attempt_id is None:
            task = await parts.tasks.create(
                self.app.project_id,
                title=f"Build {self.app.name}",
                description=f"{self.app.idea}\n\n(The builder's task: its builds run here.)",
            )
            attempt = await parts.attempts.start(
                task.id, agent=self.app.agent, prompt=self.build.prompt, run=False
            )
            self.app = await parts.apps.link_attempt(self.app, task.id, attempt.id)
        attempt = await parts.attempts.get(self._attempt_id())
        if attempt.status.busy:
            raise StageFailed(
                f"the app's attempt is {attempt.status.label}: something else runs in it"
            )
        self.attempt = attempt
        if self.build.base_commit is None:  # a retry keeps the first start's
            base = await git.rev_parse(await self._tree(), "HEAD")
            await self._save(replace(self.build, base_commit=base))

    async def _scaffold(self) -> None:
        """The first build copies the template in and commits it; a later one puts the
        worktree back at its last commit (nothing of a stopped turn is built on)."""
        tree = await self._tree()
        template = self._template()
        if await git.has_changes(tree):
            await staging.discard_all(tree)
        if await _scaffolded(tree, template):
            return
        files = template_files(template.name)
        root = Path(tree.path)

        sandboxed = self._attempt().sandbox.provider not in (None, "none")

        def write() -> None:
            for relative, data in files.items():
                safefs.write_bytes(root, relative, data)
            if sandboxed:  # the sandbox's user changes them from now on (as attempts' files)
                self.parts.ctx.sandboxes.hand_over(root)

        await anyio.to_thread.run_sync(write)
        committed = await staging.commit_all(tree, SCAFFOLD_MESSAGE.format(label=template.label))
        if committed.sha is None:
            raise StageFailed("the template's files changed nothing in the repository")

    async def _code(self) -> None:
        """One turn of the app's agent with the build's prompt, as a follow-up of the attempt
        (it resumes the agent's session: later builds' agents know the earlier ones)."""
        parts = self.parts
        self._start_screenshot()
        follow_up = await parts.attempts.follow_up(self._attempt_id(), self.build.prompt)
        while True:
            await parts.attempts.wait(self._attempt_id())
            found = await parts.attempts.list_follow_ups(self._attempt_id())
            follow_up = next(f for f in found if f.id == follow_up.id)
            if follow_up.status not in (FollowUpStatus.queued, FollowUpStatus.running):
                break
            await asyncio.sleep(0.05)  # queued behind a turn that just ended: it starts now
        # A cancel stops the attempt: its turn ends failed (stopped), not cancelled.
        if follow_up.status is FollowUpStatus.cancelled or self.cancelled():
            raise BuildCancelled()
        if follow_up.status is FollowUpStatus.failed:
            attempt = await parts.attempts.get(self._attempt_id())
            detail = attempt.error or "the agent's turn failed"
            if follow_up.process_id is not None:
                detail = await self._process_detail(follow_up.process_id, detail)
            raise StageFailed(detail)

    async def _deps(self) -> None:
        """The template's setup script (installing its packages) in the attempt's sandbox."""
        setup = self._template().scripts.setup
        if not setup.strip():
            return
        # The attempt as it is now: a retry from deps ran no `starting` to load it.
        proc = await self.parts.processes.run(
            await self._current_attempt(), ProcessRequest(RunReason.setup, shell_argv(setup))
        )
        self._process_ok(proc)
        if proc.status is not ProcessStatus.succeeded:
            raise StageFailed(await self._process_detail(proc.id, proc.error or "setup failed"))

    async def _checks(self) -> None:
        """Unit tests, the preview answering through the proxy, a screenshot of its home page,
        and the template's e2e test against the preview. What does not wait on another runs
        beside it (the unit tests beside the preview, which the screenshot and the e2e test
        follow as soon as it answers); every part ends before the first failure is said."""
        template = self._template()
        unit_run = self._test_run(TestKind.unit) if template.scripts.unit_test.strip() else _none()
        unit, (preview, screenshot_id, e2e) = await _together(unit_run, self._preview_checks())
        checks = [_passed(unit, "unit")] if unit is not None else []
        checks.append("The app started and answered through its preview")
        if screenshot_id is None and self.parts.ctx.settings.builder.screenshot:
            checks.append("No screenshot could be taken")
        if e2e is not None:
            checks.append(_passed(e2e, "end-to-end"))
        self.checks = tuple(checks)
        await self._save(replace(self.build, preview_id=preview, screenshot_id=screenshot_id))

    async def _preview_checks(self) -> tuple[str, str | None, TestRun | None]:
        """The preview, then its screenshot beside the e2e test; the screenshot's browser
        starts beside the preview (it is sent the page once the preview answers)."""
        self._start_screenshot()  # started at the code stage; a retry of the checks: now
        early = self.screenshot
        preview = await self._preview()
        if early is not None:
            early.preview.set_result(preview)
        template = self._template()
        e2e_run = self._test_run(TestKind.e2e) if template.scripts.e2e_test.strip() else _none()
        screenshot_id, e2e = await _together(early.task if early else _none(), e2e_run)
        self.screenshot = None
        return preview.id, screenshot_id, e2e

    def _start_screenshot(self) -> None:
        """The screenshot's browser started now, to be sent the preview in the checks: its
        start-up (a second or more, beside the checks' other parts on the same cores) is then
        behind the stages before them."""
        if self.screenshot is None and self.parts.ctx.settings.builder.screenshot:
            preview: asyncio.Future[Preview] = asyncio.get_running_loop().create_future()
            task = asyncio.ensure_future(self._screenshot(preview))
            self.screenshot = EarlyScreenshot(preview, task)

    async def _end_screenshot(self) -> None:
        """A screenshot started and never sent its page (a stage failed or was cancelled
        first): told there is none, it ends."""
        early, self.screenshot = self.screenshot, None
        if early is not None:
            early.preview.cancel()
            await asyncio.gather(early.task, return_exceptions=True)

    # -- checks' parts ------------------------------------------------------------------

    async def _test_run(self, kind: TestKind) -> TestRun:
        try:
            run = await self.parts.test_runs.start(self._attempt_id(), kind, wait=True)
        except PaddockError as exc:
            raise StageFailed(f"the {kind.value} tests could not run: {exc.message}") from None
        self._check_cancelled()
        if run.status.value != "passed":
            raise StageFailed(await self._failing_tests(run))
        return run

    async def _failing_tests(self, run: TestRun) -> str:
        lines = [f"{run.kind.value} tests: {run.status.value}: {run.error or ''}".strip()]
        for case in await self.parts.test_runs.cases(run.id, status="failed", limit=10):
            lines.append(f"FAILED {case.classname}.{case.name}: {case.message}".strip())
        if run.process_id is not None:
            lines.append(await self._process_detail(run.process_id, ""))
        return "\n".join(line for line in lines if line)

    async def _preview(self) -> Preview:
        """The preview running the build's code: restarted when it ran an older one."""
        previews = self.parts.previews
        running = [
            p for p in await previews.list_for_attempt(self._attempt_id()) if p.status.active
        ]
        try:
            if running:
                started = [await previews.restart(running[0].id, wait=True)]
            else:
                started = await previews.start(self._attempt_id(), wait=True)
        except PaddockError as exc:
            raise StageFailed(f"the app could not start: {exc.message}") from None
        self._check_cancelled()
        preview = started[0]
        if preview.status is not PreviewStatus.running:
            raise StageFailed(f"the app did not start: {preview.error or preview.status.value}")
        return preview

    async def _screenshot(self, preview: asyncio.Future[Preview]) -> str | None:
        """A picture of the home page, taken by Chromium in the attempt's sandbox (the page
        is the agent's: never rendered by the server); None when none could be taken.
        `preview`: the attempt's, once it runs (cancelled: it never did)."""
        parts = self.parts
        request = ProcessRequest(RunReason.screenshot, screenshot_argv(), env=screenshot_env())
        try:
            proc = await parts.test_runs.run_against_preview(self._attempt_id(), request, preview)
        except PaddockError:
            return None
        if proc.status is not ProcessStatus.succeeded:
            return None
        found = await parts.ctx.db.run(
            lambda s: artifact_store.find_by_name(s, proc.id, SCREENSHOT)
        )
        return found.id if found else None

    # -- bookkeeping --------------------------------------------------------------------

    async def summary(self, previous_commit: str | None) -> BuildSummary:
        """What this build made, from the last version (or the scaffold) to HEAD."""
        tree = await self._tree()
        _version, brief = await self.parts.apps.brief(self.app.id)
        base = previous_commit or self.build.base_commit or "HEAD"
        return await build_summary(tree, base, brief, self._template(), self.checks)

    async def _enter(self, stage: BuildStatus) -> None:
        now = datetime.now(UTC)
        times = (*self.build.stage_times, StageTime(stage, now))
        build = replace(self.build, status=stage, stage_times=times)
        if build.started_at is None:
            build = replace(build, started_at=now)
        await self._save(build)
        await self.parts.timeline.add(
            self.app,
            TimelineKind.build_stage,
            f"Build {self.build.number}: {stage.label}",
            build_id=self.build.id,
            data={"stage": stage.value},
        )

    async def _leave(self, stage: BuildStatus) -> None:
        await self._save(replace(self.build, stage_times=ended(self.build, stage)))

    async def _save(self, build: Build) -> None:
        self.build = await self.saved(build)

    def _check_cancelled(self) -> None:
        if self.cancelled():
            raise BuildCancelled()

    def _process_ok(self, proc: Process) -> None:
        if proc.status is ProcessStatus.stopped and self.cancelled():
            raise BuildCancelled()

    async def _process_detail(self, process_id: str, first: str) -> str:
        lines = await self.parts.logs.tail(process_id, LOG_TAIL)
        tail = "\n".join(line.text for line in lines)
        return f"{first}\n--- last lines of its log ---\n{tail}" if tail else first

    def _template(self) -> AppTemplate:
        assert self.app.template is not None  # a build starts only once a plan was chosen
        return get_template(self.app.template)

    def _attempt_id(self) -> str:
        assert self.app.attempt_id is not None
        return self.app.attempt_id

    def _attempt(self) -> Attempt:
        assert self.attempt is not None
        return self.attempt

    async def _tree(self) -> git.Worktree:
        return await attempt_worktree(self.parts.ctx, await self._current_attempt())

    async def _current_attempt(self) -> Attempt:
        self.attempt = await self.parts.attempts.get(self._attempt_id())
        return self.attempt


_STAGES: dict[BuildStatus, Callable[[BuildRun], Awaitable[None]]] = {
    BuildStatus.starting: BuildRun._starting,
    BuildStatus.scaffold: BuildRun._scaffold,
    BuildStatus.code: BuildRun._code,
    BuildStatus.deps: BuildRun._deps,
    BuildStatus.checks: BuildRun._checks,
}


def ended(build: Build, stage: BuildStatus) -> tuple[StageTime, ...]:
    """The build's stage times with `stage`'s (its last start) ended now."""
    times = list(build.stage_times)
    for index in range(len(times) - 1, -1, -1):
        if times[index].stage is stage and times[index].ended_at is None:
            times[index] = replace(times[index], ended_at=datetime.now(UTC))
            break
    return tuple(times)


async def _none() -> None:
    return None


async def _together(first: Awaitable[A], second: Awaitable[B]) -> tuple[A, B]:
    """Both, side by side; each ends (none is cancelled half-way: a test run must record
    how it ended) before the first one's failure is raised."""
    a, b = await asyncio.gather(first, second, return_exceptions=True)
    for outcome in (a, b):
        if isinstance(outcome, BaseException):
            raise outcome
    return a, b  # type: ignore[return-value]


def _passed(run: TestRun, what: str) -> str:
    count = run.totals.passed
    return f"{count} {what} test{'s' if count != 1 else ''} passed"


async def _scaffolded(tree: git.Worktree, template: AppTemplate) -> bool:
    """Whether the branch has the template's commit already (a retry, or a later build)."""
    message = SCAFFOLD_MESSAGE.format(label=template.label)
    found = await git.run_git(
        tree, "log", "--format=%H", "--fixed-strings", f"--grep={message}", "-n", "1"
    )
    return bool(found.stdout.strip())
