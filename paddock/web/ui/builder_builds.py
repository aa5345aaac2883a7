"""The builder face's build card, versions list and their actions (cancel, retry, roll back).

The card is a progress bar in words: the named stages (queued → starting → scaffold → code →
deps → checks → ready), each done, current, failed or still to come, with its time. It is kept
live by js/builder.js, which listens to the app's timeline stream (GET /api/apps/{id}/timeline/
stream: `build` events carry the build's state) and fetches the card again from here; so the
card is rendered in one place, by the server, whether the page loads or a stage begins.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from fastapi import APIRouter, Request
from starlette.responses import HTMLResponse, Response

from paddock.domain.builder.apps import App
from paddock.domain.builder.builds import STAGES, BuildStatus
from paddock.domain.public import BuildPublic
from paddock.web.deps import AppsDep, BuildsDep, ChangesDep, VersionsDep
from paddock.web.ui.builder_decisions import change_context
from paddock.web.ui.projects import redirect
from paddock.web.ui.templating import render, render_fragment

router = APIRouter(include_in_schema=False)

# The bar's steps, in the words a founder reads under it.
STEP_NAMES = {
    BuildStatus.queued: "In line",
    BuildStatus.starting: "Starting",
    BuildStatus.scaffold: "Project set up",
    BuildStatus.code: "Code",
    BuildStatus.deps: "Dependencies",
    BuildStatus.checks: "Checks",
    BuildStatus.ready: "Ready",
}


@dataclass(frozen=True, slots=True)
class Step:
    """One stage on the bar: `state` is done, current, failed, stopped or todo."""

    stage: str
    name: str
    state: str
    seconds: float | None

    @property
    def time(self) -> str:
        """How long the stage took, for people: "0.4 s", "12 s", "3 min 5 s"."""
        if self.seconds is None:
            return ""
        if self.seconds < 10:
            return f"{self.seconds:.1f} s"
        if self.seconds < 120:
            return f"{self.seconds:.0f} s"
        minutes, seconds = divmod(round(self.seconds), 60)
        return f"{minutes} min {seconds} s"


def steps_of(build: BuildPublic) -> list[Step]:
    """The bar's steps for `build`, from its status and the times of the stages it ran."""
    times = {t.stage: t.seconds for t in build.stage_times}
    ran = {t.stage for t in build.stage_times}
    steps = [Step("queued", STEP_NAMES[BuildStatus.queued], _queued_state(build), None)]
    for stage in STAGES:
        state = _stage_state(build, stage, ran)
        steps.append(Step(stage.value, STEP_NAMES[stage], state, times.get(stage)))
    ready = "done" if build.status is BuildStatus.ready else "todo"
    steps.append(Step("ready", STEP_NAMES[BuildStatus.ready], ready, None))
    return steps


def _queued_state(build: BuildPublic) -> str:
    return "current" if build.status is BuildStatus.queued else "done"


def _stage_state(build: BuildPublic, stage: BuildStatus, ran: set[BuildStatus]) -> str:
    if build.status is BuildStatus.ready:
        return "done"
    if build.status is stage:
        return "current"
    if build.status is BuildStatus.failed and build.failed_stage is stage:
        return "failed"
    before_start = STAGES.index(stage) < STAGES.index(build.start_stage)
    if build.status is BuildStatus.cancelled and stage in ran and not _ended(build, stage):
        return "stopped"
    if before_start or _ended(build, stage):
        return "done"
    return "todo"


def _ended(build: BuildPublic, stage: BuildStatus) -> bool:
    return any(t.stage is stage and t.ended_at is not None for t in build.stage_times)


def build_card_context(app: App, build: BuildPublic) -> dict[str, Any]:
    """What builder/_build_card.html shows."""
    return {
        "app": app,
        "build": build,
        "steps": steps_of(build),
        "board_url": _board_url(app),
        "screenshot_url": artifact_url(build.screenshot_id),
    }


def artifact_url(artifact_id: str | None) -> str | None:
    """The screenshot's bytes (GET /api/artifacts/{id}/download: an <img> shows them in place;
    the attachment disposition only matters when the address is opened on its own)."""
    return f"/api/artifacts/{artifact_id}/download" if artifact_id else None


def _board_url(app: App) -> str | None:
    """The developer's view of the same attempt: the board with its panel open."""
    if app.attempt_id is None:
        return None
    return f"/projects/{app.project_id}?attempt={app.attempt_id}"


# -- live fragments -------------------------------------------------------------------------


@router.get("/ui/builds/{build_id}/card", response_class=HTMLResponse)
async def build_card(
    build_id: str, apps: AppsDep, builds: BuildsDep, changes: ChangesDep
) -> HTMLResponse:
    """The card of one build, as the page has it (fetched again when its state changes); a
    ready one with the change conversation under it."""
    build = await builds.get(build_id)
    app = await apps.get(build.app_id)
    positions = await builds.queue_positions()
    card = BuildPublic.of(build, positions.get(build.id))
    context = build_card_context(app, card)
    if build.status is BuildStatus.ready:
        context["change_ctx"] = await change_context(app, changes)
    html = render_fragment("builder/_build_card.html", **context)
    return HTMLResponse(html, headers={"cache-control": "no-store"})


@router.get("/ui/apps/{app_id}/versions", response_class=HTMLResponse)
async def versions_list(
    request: Request, app_id: str, apps: AppsDep, versions: VersionsDep
) -> HTMLResponse:
    app = await apps.get(app_id)
    context = {"app": app, "versions": await versions.list_for_app(app.id)}
    return render(request, "builder/_versions.html", context, headers={"cache-control": "no-store"})


# -- actions --------------------------------------------------------------------------------


@router.post("/ui/builds/{build_id}/cancel", response_class=HTMLResponse)
async def cancel_build(build_id: str, apps: AppsDep, builds: BuildsDep) -> HTMLResponse:
    """POST /api/builds/{id}/cancel; the card as it is now."""
    build = await builds.cancel(build_id)
    app = await apps.get(build.app_id)
    html = render_fragment(
        "builder/_build_card.html", **build_card_context(app, BuildPublic.of(build))
    )
    return HTMLResponse(html)


@router.post("/ui/builds/{build_id}/retry")
async def retry_build(build_id: str, builds: BuildsDep) -> Response:
    """POST /api/builds/{id}/retry: a failed build again from the start of the stage that
    failed; a cancelled one from the start."""
    build = await builds.retry(build_id)
    return redirect(f"/apps/{build.app_id}")


@router.post("/ui/apps/{app_id}/versions/{version}/rollback")
async def roll_back(app_id: str, version: str, versions: VersionsDep) -> Response:
    """POST /api/apps/{id}/versions/{version}/rollback: a new version with `version`'s files."""
    await versions.roll_back(app_id, version)
    return redirect(f"/apps/{app_id}")
