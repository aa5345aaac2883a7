"""/api/attempts/{id}/previews and /api/previews/{id}: an attempt's dev services behind the
proxy, each at its own host."""

from __future__ import annotations

from fastapi import APIRouter, status
from pydantic import BaseModel, Field

from paddock.domain.preview import Preview
from paddock.domain.public import PreviewPublic
from paddock.inputs import PreviewRestart, PreviewStart
from paddock.services.previews.previews import PreviewService
from paddock.web.deps import PreviewsDep
from paddock.web.error_docs import errors

router = APIRouter(tags=["previews"])


class OpenLink(BaseModel):
    url: str = Field(description="The preview's URL with a one-time ticket, for a browser")
    key: str = Field(
        description="For clients without a browser: send it as the X-Paddock-Preview-Key header"
    )


def _out(previews: PreviewService, preview: Preview) -> PreviewPublic:
    return PreviewPublic.of(previews.view(preview))


@router.post(
    "/attempts/{attempt_id}/previews",
    status_code=status.HTTP_201_CREATED,
    operation_id="start_previews",
    responses=errors(409, 503),
)
async def start_previews(
    attempt_id: str, previews: PreviewsDep, body: PreviewStart | None = None
) -> list[PreviewPublic]:
    """Start the attempt's dev services (or one) in its worktree and sandbox, each with its own
    PORT. They answer as `starting`; `preview.updated` events (or `wait`) tell the rest."""
    body = body or PreviewStart()
    started = await previews.start(attempt_id, body.service, wait=body.wait)
    return [_out(previews, p) for p in started]


@router.get("/attempts/{attempt_id}/previews", operation_id="list_previews")
async def list_previews(attempt_id: str, previews: PreviewsDep) -> list[PreviewPublic]:
    return [_out(previews, p) for p in await previews.list_for_attempt(attempt_id)]


@router.get("/previews/{preview_id}", operation_id="get_preview")
async def get_preview(preview_id: str, previews: PreviewsDep) -> PreviewPublic:
    return _out(previews, await previews.get(preview_id))


@router.delete("/previews/{preview_id}", operation_id="stop_preview", responses=errors(409))
async def stop_preview(preview_id: str, previews: PreviewsDep) -> PreviewPublic:
    """Stop the dev server; the preview keeps its host for a later start."""
    return _out(previews, await previews.stop(preview_id))


@router.post(
    "/previews/{preview_id}/restart", operation_id="restart_preview", responses=errors(409, 503)
)
async def restart_preview(
    preview_id: str, previews: PreviewsDep, body: PreviewRestart | None = None
) -> PreviewPublic:
    wait = body.wait if body is not None else False
    return _out(previews, await previews.restart(preview_id, wait=wait))


@router.post("/previews/{preview_id}/open", operation_id="open_preview", responses=errors(409))
async def open_preview(
    preview_id: str, previews: PreviewsDep, embed: bool = False, path: str = "/"
) -> OpenLink:
    """A link that lets one browser in: its one-time ticket becomes a cookie for the
    preview's host, then the browser is sent to the clean URL. `embed=true`: for an iframe
    (a partitioned cookie, the only kind a browser sends to an embedded page of another site).
    `path`: where inside the preview the link goes (its host stays the preview's)."""
    return OpenLink(**await previews.open_link(preview_id, embed=embed, path=path))
