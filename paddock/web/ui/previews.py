"""The workspace's Preview tab: the attempt's dev services, each with its preview's state and
the actions on it (start, stop, restart, open), kept live by the workspace's fragment stream.

The routes are thin: they call the PreviewService and answer 204; what changed reaches the page
as `preview.updated` events. Open links carry a one-time ticket, so they are fetched by a click
(js/preview.js) and never written into the page.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from starlette.responses import JSONResponse, Response

from paddock.domain.entities import Attempt, Event
from paddock.domain.events import EventType, Resource
from paddock.domain.preview import Preview
from paddock.inputs import PreviewStart
from paddock.services.previews.previews import PreviewService
from paddock.services.projects import ProjectService
from paddock.web.deps import PreviewsDep, ProjectsDep
from paddock.web.ui.forms import parse, sent
from paddock.web.ui.templating import render_fragment

router = APIRouter(include_in_schema=False)

NOT_STARTED = "not started"


@dataclass(frozen=True, slots=True)
class ServiceRow:
    """One dev service of the attempt, with its preview once it has one."""

    name: str
    command: str
    preview: Preview | None
    url: str | None  # where the proxy serves it (a ticket is still needed to get in)

    @property
    def status(self) -> str:
        return self.preview.status.value if self.preview is not None else NOT_STARTED

    @property
    def active(self) -> bool:
        return self.preview is not None and self.preview.status.active

    @property
    def running(self) -> bool:
        return self.status == "running"


@dataclass(frozen=True, slots=True)
class PreviewTab:
    """The Preview tab, from the services it reads: the project's declared services and the
    attempt's previews."""

    projects: ProjectService
    previews: PreviewService

    async def rows(self, attempt: Attempt) -> list[ServiceRow]:
        """The attempt's services (its dev script as `web`, the project's, its worktree's), and
        the previews it has of services no longer declared."""
        project = await self.projects.get(attempt.project_id)
        services = await self.previews.services(attempt, project)
        previews = {p.service: p for p in await self.previews.list_for_attempt(attempt.id)}
        rows = [self._row(s.name, s.command, previews.pop(s.name, None)) for s in services]
        rows += [self._row(p.service, p.command, p) for p in previews.values()]
        return rows

    def _row(self, name: str, command: str, preview: Preview | None) -> ServiceRow:
        url = self.previews.url(preview) if preview is not None else None
        return ServiceRow(name, command, preview, url)

    async def parts(self, attempt: Attempt) -> dict[str, Any]:
        """What the Preview tab shows."""
        return {"services": await self.rows(attempt)}

    async def patch(self, attempt: Attempt) -> str:
        """The tab's live part, as an out-of-band swap."""
        parts = await self.parts(attempt)
        return render_fragment("attempts/_preview_list.html", attempt=attempt, **parts, oob=True)


async def preview_tab(projects: ProjectsDep, previews: PreviewsDep) -> PreviewTab:
    return PreviewTab(projects, previews)


PreviewTabDep = Annotated[PreviewTab, Depends(preview_tab)]

PREVIEW_EVENTS = EventType.for_resource(Resource.preview)


def previews_changed(events: list[Event]) -> bool:
    return any(e.type in PREVIEW_EVENTS for e in events)


# -- actions --------------------------------------------------------------------------------


@router.post("/ui/attempts/{attempt_id}/previews")
async def start_previews(request: Request, attempt_id: str, previews: PreviewsDep) -> Response:
    """Start every service of the attempt, or one (POST /api/attempts/{id}/previews); the tab
    follows through the live stream."""
    body = parse(PreviewStart, sent(await request.form(), "service", "wait"))
    await previews.start(attempt_id, body.service, wait=body.wait)
    return Response(status_code=204)


@router.post("/ui/previews/{preview_id}/stop")
async def stop_preview(preview_id: str, previews: PreviewsDep) -> Response:
    await previews.stop(preview_id)
    return Response(status_code=204)


@router.post("/ui/previews/{preview_id}/restart")
async def restart_preview(preview_id: str, previews: PreviewsDep) -> Response:
    await previews.restart(preview_id)
    return Response(status_code=204)


@router.post("/ui/previews/{preview_id}/open")
async def open_preview(
    preview_id: str, previews: PreviewsDep, embed: bool = False, path: str = "/"
) -> JSONResponse:
    """A fresh one-time link for this browser (`embed`: for the tab's iframe) at `path` (the
    tab's address bar); only the URL, not the key other clients use."""
    link = await previews.open_link(preview_id, embed=embed, path=path)
    return JSONResponse({"url": link["url"]}, headers={"cache-control": "no-store"})
