"""/api/apps: the builder face — an app from an idea, its questions, brief, plan, builds,
versions and timeline (docs/builder.md). /api/builds/{id}: one build (cancel, retry)."""

from __future__ import annotations

from collections.abc import AsyncIterator

from fastapi import APIRouter, Depends, Query, Request, status
from starlette.responses import StreamingResponse

from paddock.domain.entities import Event
from paddock.domain.events import EventType, encode
from paddock.domain.public import (
    AppPublic,
    BriefPublic,
    BuildPublic,
    PreviewPublic,
    TemplatePublic,
    TimelineEntryPublic,
    VersionPublic,
)
from paddock.inputs import AnswersIn, AppCreate, BriefIn, BuildCreate, PlanChoice
from paddock.inputs.scalars import MAX_INDEX
from paddock.services.events import SYNC
from paddock.web.deps import (
    AppsDep,
    BuildsDep,
    EventsDep,
    PreviewsDep,
    SettingsDep,
    VersionsDep,
    require_feature,
)
from paddock.web.error_docs import errors
from paddock.web.sse import HEARTBEAT, resume_point, sse_event, sse_response

router = APIRouter(tags=["apps"], dependencies=[Depends(require_feature("builder"))])


@router.get("/app-templates", operation_id="list_app_templates")
async def list_app_templates(apps: AppsDep) -> list[TemplatePublic]:
    """The templates a plan can offer, each a working app Paddock ships."""
    return [TemplatePublic.of(t) for t in apps.templates()]


@router.get("/apps", operation_id="list_apps")
async def list_apps(apps: AppsDep) -> list[AppPublic]:
    return [AppPublic.of(a) for a in await apps.list_all()]


@router.post(
    "/apps",
    status_code=status.HTTP_201_CREATED,
    operation_id="create_app",
    responses=errors(409, 500, 502, 503),
)
async def create_app(body: AppCreate, apps: AppsDep) -> AppPublic:
    """An app from an idea: its repository and its clarifying questions (`questions`)."""
    agent = body.agent.to_spec() if body.agent is not None else None
    return AppPublic.of(await apps.create(body.idea, repo_path=body.repo_path, agent=agent))


@router.get("/apps/{app_id}", operation_id="get_app")
async def get_app(app_id: str, apps: AppsDep) -> AppPublic:
    return AppPublic.of(await apps.get(app_id))


@router.post("/apps/{app_id}/answers", operation_id="answer_questions")
async def answer_questions(app_id: str, body: AnswersIn, apps: AppsDep) -> BriefPublic:
    """The founder's answers; the brief made of them (a new version of it)."""
    _app, version, brief = await apps.answer(app_id, body.answers)
    return BriefPublic.of(version, brief)


@router.get("/apps/{app_id}/brief", operation_id="get_brief", responses=errors(409))
async def get_brief(app_id: str, apps: AppsDep) -> BriefPublic:
    version, brief = await apps.brief(app_id)
    return BriefPublic.of(version, brief)


@router.put("/apps/{app_id}/brief", operation_id="edit_brief", responses=errors(409))
async def edit_brief(app_id: str, body: BriefIn, apps: AppsDep) -> BriefPublic:
    """The founder's edit of the brief: its next version (earlier ones are kept)."""
    brief = body.brief()
    _app, version = await apps.edit_brief(app_id, brief)
    return BriefPublic.of(version, brief)


@router.post("/apps/{app_id}/plan", operation_id="make_plan", responses=errors(409, 502, 503))
async def make_plan(app_id: str, apps: AppsDep) -> AppPublic:
    """2 or 3 ways to build the app (`plan`), each a template, one recommended."""
    return AppPublic.of(await apps.make_plan(app_id))


@router.put(
    "/apps/{app_id}/plan/choice", operation_id="choose_plan", responses=errors(409, 500, 503)
)
async def choose_plan(app_id: str, body: PlanChoice, apps: AppsDep) -> AppPublic:
    return AppPublic.of(await apps.choose(app_id, body.template))


@router.post(
    "/apps/{app_id}/builds",
    status_code=status.HTTP_202_ACCEPTED,
    operation_id="start_build",
    responses=errors(409),
)
async def start_build(app_id: str, body: BuildCreate, builds: BuildsDep) -> BuildPublic:
    """Queue the app's first build, from the brief (later ones come from change requests:
    POST /api/apps/{id}/changes)."""
    build = await builds.start(app_id)
    positions = await builds.queue_positions()
    return BuildPublic.of(build, positions.get(build.id))


@router.get("/apps/{app_id}/builds", operation_id="list_builds")
async def list_builds(app_id: str, builds: BuildsDep) -> list[BuildPublic]:
    positions = await builds.queue_positions()
    return [BuildPublic.of(b, positions.get(b.id)) for b in await builds.list_for_app(app_id)]


@router.get("/builds/{build_id}", operation_id="get_build")
async def get_build(build_id: str, builds: BuildsDep) -> BuildPublic:
    positions = await builds.queue_positions()
    return BuildPublic.of(await builds.get(build_id), positions.get(build_id))


@router.post("/builds/{build_id}/cancel", operation_id="cancel_build", responses=errors(409))
async def cancel_build(build_id: str, builds: BuildsDep) -> BuildPublic:
    """Stop the build's agent and processes; the worktree goes back to the last version."""
    return BuildPublic.of(await builds.cancel(build_id))


@router.post("/builds/{build_id}/retry", operation_id="retry_build", responses=errors(409))
async def retry_build(build_id: str, builds: BuildsDep) -> BuildPublic:
    """Queue a failed build again, from the start of the stage that failed."""
    build = await builds.retry(build_id)
    positions = await builds.queue_positions()
    return BuildPublic.of(build, positions.get(build.id))


@router.get("/apps/{app_id}/versions", operation_id="list_versions")
async def list_versions(app_id: str, versions: VersionsDep) -> list[VersionPublic]:
    return [VersionPublic.of(v) for v in await versions.list_for_app(app_id)]


@router.post(
    "/apps/{app_id}/versions/{version}/rollback",
    operation_id="roll_back",
    responses=errors(409, 500, 503),
)
async def roll_back(app_id: str, version: str, versions: VersionsDep) -> VersionPublic:
    """A new version whose files are those of `version` (nothing is rewritten)."""
    return VersionPublic.of(await versions.roll_back(app_id, version))


@router.post(
    "/apps/{app_id}/versions/{version}/preview",
    operation_id="preview_version",
    responses=errors(409, 500, 503),
)
async def preview_version(
    app_id: str, version: str, versions: VersionsDep, previews: PreviewsDep
) -> PreviewPublic:
    """The version running at a preview: the latest in the app's attempt, an older one in an
    attempt of its own, started at its tag (answers once it runs or failed)."""
    preview = await versions.preview(app_id, version)
    return PreviewPublic.of(previews.view(preview))


@router.get("/apps/{app_id}/timeline", operation_id="get_timeline")
async def get_timeline(
    app_id: str, apps: AppsDep, after: int = Query(0, ge=0, le=MAX_INDEX)
) -> list[TimelineEntryPublic]:
    return [TimelineEntryPublic.of(e) for e in await apps.timeline_entries(app_id, after=after)]


@router.get(
    "/apps/{app_id}/timeline/stream",
    operation_id="stream_timeline",
    response_class=StreamingResponse,
)
async def stream_timeline(
    app_id: str,
    request: Request,
    apps: AppsDep,
    builds: BuildsDep,
    events: EventsDep,
    settings: SettingsDep,
    after: int | None = Query(None, ge=0, le=MAX_INDEX),
) -> StreamingResponse:
    """The app's timeline as server-sent events: `timeline` (id = its seq: resume with
    Last-Event-ID or ?after=) from the store, then live; and `build` (a build's state, for
    the progress bar): the newest build as it is when the stream (re)connects, then each
    change."""
    app = await apps.get(app_id)
    start = resume_point(request, after)
    heartbeat = settings.server.sse_heartbeat_seconds
    kinds = {EventType.timeline_added, EventType.build_updated, EventType.build_created}

    def wanted(event: Event) -> bool:
        return event.type in kinds and event.data.get("app_id") == app.id

    async def newest_build() -> bytes:
        # A build's changes are states, not a history: one that changed while this client had
        # no stream (before it connected, between two connections) or whose news overflowed
        # is sent as it is now, so a progress bar never stays on an old stage.
        built = await builds.list_for_app(app.id)
        if not built:
            return b""
        newest = max(built, key=lambda build: build.number)
        return sse_event("build", encode(EventType.build_updated, newest)[1])

    async def body() -> AsyncIterator[bytes]:
        last = start
        with events.subscribe(app.project_id, wanted) as sub:
            for entry in await apps.timeline_entries(app.id, after=last):
                yield _entry_frame(entry)
                last = entry.seq
            if frame := await newest_build():
                yield frame
            while True:
                try:
                    item = await sub.get(heartbeat)
                except TimeoutError:
                    yield HEARTBEAT
                    continue
                if item is SYNC or (isinstance(item, Event) and item.type in _TIMELINE):
                    # From the store, after what was sent: nothing twice, nothing missed.
                    for entry in await apps.timeline_entries(app.id, after=last):
                        yield _entry_frame(entry)
                        last = entry.seq
                    if item is SYNC and (frame := await newest_build()):
                        yield frame
                elif isinstance(item, Event):
                    yield sse_event("build", item.data)

    return sse_response(body())


_TIMELINE = {EventType.timeline_added}


def _entry_frame(entry: object) -> bytes:
    model = TimelineEntryPublic.read(entry)
    return sse_event("timeline", model.model_dump(mode="json"), model.seq)
