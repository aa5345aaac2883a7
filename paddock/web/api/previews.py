"""/api/attempts/{id}/previews and /api/previews/{id}: an attempt's dev services behind the
proxy, each at its own host."""

from __future__ import annotations

from datetime import datetime

from fastapi import APIRouter, status
from pydantic import BaseModel, Field

from paddock.domain.preview import Preview, PreviewStatus
from paddock.services.previews.previews import PreviewService
from paddock.web.deps import PreviewsDep

router = APIRouter(tags=["previews"])


class PreviewOut(BaseModel):
    id: str
    attempt_id: str
    project_id: str
    service: str
    command: str
    host: str = Field(description="The host label under the preview domain")
    url: str = Field(description="Where the preview is served (the proxy); open it with /open")
    port: int | None = Field(description="The dev server's port while it starts or runs")
    process_id: str | None = Field(description="The dev server's process (its log streams)")
    status: PreviewStatus
    error: str | None = Field(description="Why it failed, with the dev server's last lines")
    debug_id: str | None
    notice: str | None = Field(description="e.g. the app ignored PORT, or it was idle")
    last_access_at: datetime | None
    created_at: datetime
    updated_at: datetime


class PreviewStart(BaseModel):
    service: str | None = Field(None, description="One service; none: every service")
    wait: bool = Field(False, description="Answer once each preview runs or failed")


class PreviewRestart(BaseModel):
    wait: bool = False


class OpenLink(BaseModel):
    url: str = Field(description="The preview's URL with a one-time ticket, for a browser")
    key: str = Field(
        description="For clients without a browser: send it as the X-Paddock-Preview-Key header"
    )


def _out(previews: PreviewService, preview: Preview) -> PreviewOut:
    return PreviewOut.model_validate(previews.view(preview))


@router.post(
    "/attempts/{attempt_id}/previews",
    status_code=status.HTTP_201_CREATED,
    operation_id="start_previews",
)
async def start_previews(
    attempt_id: str, previews: PreviewsDep, body: PreviewStart | None = None
) -> list[PreviewOut]:
    """Start the attempt's dev services (or one) in its worktree and sandbox, each with its own
    PORT. They answer as `starting`; `preview.updated` events (or `wait`) tell the rest."""
    body = body or PreviewStart()
    started = await previews.start(attempt_id, body.service, wait=body.wait)
    return [_out(previews, p) for p in started]


@router.get("/attempts/{attempt_id}/previews", operation_id="list_previews")
async def list_previews(attempt_id: str, previews: PreviewsDep) -> list[PreviewOut]:
    return [_out(previews, p) for p in await previews.list_for_attempt(attempt_id)]


@router.get("/previews/{preview_id}", operation_id="get_preview")
async def get_preview(preview_id: str, previews: PreviewsDep) -> PreviewOut:
    return _out(previews, await previews.get(preview_id))


@router.delete("/previews/{preview_id}", operation_id="stop_preview")
async def stop_preview(preview_id: str, previews: PreviewsDep) -> PreviewOut:
    """Stop the dev server; the preview keeps its host for a later start."""
    return _out(previews, await previews.stop(preview_id))


@router.post("/previews/{preview_id}/restart", operation_id="restart_preview")
async def restart_preview(
    preview_id: str, previews: PreviewsDep, body: PreviewRestart | None = None
) -> PreviewOut:
    wait = body.wait if body is not None else False
    return _out(previews, await previews.restart(preview_id, wait=wait))


@router.post("/previews/{preview_id}/open", operation_id="open_preview")
async def open_preview(preview_id: str, previews: PreviewsDep, embed: bool = False) -> OpenLink:
    """A link that lets one browser in: its one-time ticket becomes a cookie for the
    preview's host, then the browser is sent to the clean URL. `embed=true`: for an iframe
    (a partitioned cookie, the only kind a browser sends to an embedded page of another site)."""
    return OpenLink(**await previews.open_link(preview_id, embed=embed))
