"""The attempt workspace's routes: its state, the agent's conversation, its processes and
their logs, all live; follow-ups, stop and rewind. What the page is assembled from, and how
events patch it, is in web/ui/workspace.py."""

from __future__ import annotations

from collections.abc import AsyncIterator
from functools import partial
from typing import Annotated

from fastapi import APIRouter, Query, Request
from starlette.responses import HTMLResponse, Response, StreamingResponse

from paddock.domain.entries import EntryKind
from paddock.inputs import FollowUpCreate, RewindIn
from paddock.services.git.diff_watch import DiffWatch
from paddock.services.processes.log_follow import EndOfLog
from paddock.web.deps import (
    AttemptsDep,
    DiffWatchDep,
    EntriesDep,
    EventsDep,
    ProcessesDep,
    SettingsDep,
)
from paddock.web.sse import HEARTBEAT, resume_point, sse_response
from paddock.web.ui.conversation import pair
from paddock.web.ui.forms import parse, sent
from paddock.web.ui.live import fragment_stream, html_event
from paddock.web.ui.projects import redirect
from paddock.web.ui.templating import render, render_fragment
from paddock.web.ui.workspace import WorkspaceDep, WorkspacePatches, concerns

router = APIRouter(include_in_schema=False)


@router.get("/attempts/{attempt_id}", response_class=HTMLResponse)
async def workspace_page(
    request: Request, attempt_id: str, workspace: WorkspaceDep, events: EventsDep, tab: str = ""
) -> HTMLResponse:
    """The attempt's own page, showing `tab` (the address's ?tab=, js/address.js)."""
    seq = events.last_seq  # before loading: the live stream replays what comes after
    attempt = await workspace.attempts.get(attempt_id)
    context = {**await workspace.page(attempt, tab), "seq": seq}
    return render(request, "attempts/workspace.html", context)


@router.get("/ui/attempts/{attempt_id}/panel", response_class=HTMLResponse)
async def workspace_panel(
    request: Request, attempt_id: str, workspace: WorkspaceDep, events: EventsDep, tab: str = ""
) -> HTMLResponse:
    """The same workspace beside the board (its side panel: ?attempt=<id>&tab=<tab>), with
    its own live stream."""
    seq = events.last_seq
    attempt = await workspace.attempts.get(attempt_id)
    context = {**await workspace.page(attempt, tab), "seq": seq}
    return render(request, "attempts/_panel.html", context)


@router.get("/ui/attempts/{attempt_id}/stream", response_class=StreamingResponse)
async def workspace_stream(
    request: Request,
    attempt_id: str,
    workspace: WorkspaceDep,
    events: EventsDep,
    diff_watch: DiffWatchDep,
    settings: SettingsDep,
    panel: bool = False,
) -> StreamingResponse:
    """The open workspace's live patches: the events that concern its attempt, rendered (for
    the board's side panel with `panel`: its header's title a level below the board's)."""
    attempt = await workspace.attempts.get(attempt_id)
    response = fragment_stream(
        request,
        events,
        attempt.project_id,
        WorkspacePatches(workspace, attempt, panel).render,
        heartbeat=settings.server.sse_heartbeat_seconds,
        wanted=partial(concerns, attempt_id),
    )
    return watching_diff(response, diff_watch, attempt_id)


def watching_diff(
    response: StreamingResponse, diff_watch: DiffWatch, attempt_id: str
) -> StreamingResponse:
    """The stream, with the attempt's worktree watched while it is open: the Diff tab follows
    `attempt.diff_changed`."""
    inner = response.body_iterator

    async def watched() -> AsyncIterator[str | bytes | memoryview]:
        async with diff_watch.watching(attempt_id):
            async for chunk in inner:
                yield chunk

    response.body_iterator = watched()
    return response


@router.get("/ui/processes/{process_id}/entries/stream", response_class=StreamingResponse)
async def entries_stream(
    request: Request,
    process_id: str,
    processes: ProcessesDep,
    attempts: AttemptsDep,
    entries: EntriesDep,
    settings: SettingsDep,
    after: Annotated[int | None, Query(ge=0)] = None,
) -> StreamingResponse:
    """A running turn's new entries as HTML fragments that append to it (`entries`, id = the
    last entry's seq, so a reconnection resumes), then `end`."""
    start = resume_point(request, after)
    proc = await processes.get(process_id)
    attempt = await attempts.get(proc.attempt_id)
    # Tool calls already on the page: their results go into them.
    earlier = await entries.read(process_id, limit=100_000, kinds=[EntryKind.tool_call])
    calls = {str(e.payload.get("id", "")) for e in earlier if e.seq <= start}

    async def body() -> AsyncIterator[bytes]:
        heartbeat = settings.server.sse_heartbeat_seconds
        follow = entries.follow(process_id, after=start, heartbeat=heartbeat)
        async for batch in follow:
            if batch is None:
                yield HEARTBEAT
            elif isinstance(batch, EndOfLog):
                yield html_event("end", "")
                return
            else:
                items = pair(batch, calls)
                calls.update(
                    str(e.payload.get("id", "")) for e in batch if e.kind is EntryKind.tool_call
                )
                html = render_fragment(
                    "attempts/_entries_patch.html",
                    items=items,
                    process_id=process_id,
                    reason=proc.reason.value,
                    root=attempt.worktree_path,
                )
                yield html_event("entries", html, batch[-1].seq)

    return sse_response(body())


@router.post("/ui/attempts/{attempt_id}/stop")
async def stop_attempt(attempt_id: str, attempts: AttemptsDep) -> Response:
    await attempts.stop(attempt_id)
    return Response(status_code=204)


@router.post("/ui/attempts/{attempt_id}/follow-ups")
async def add_follow_up(request: Request, attempt_id: str, attempts: AttemptsDep) -> Response:
    """POST /api/attempts/{id}/follow-ups; the queue and the new turn appear through the
    workspace's live stream."""
    body = parse(FollowUpCreate, sent(await request.form(), "prompt"))
    follow_up = await attempts.follow_up(attempt_id, body.prompt)
    return Response(
        status_code=204, headers={"HX-Trigger": f'{{"followUpQueued": "{follow_up.id}"}}'}
    )


@router.post("/ui/follow-ups/{follow_up_id}/cancel")
async def cancel_follow_up(follow_up_id: str, attempts: AttemptsDep) -> Response:
    await attempts.cancel_follow_up(follow_up_id)
    return Response(status_code=204)


@router.post("/ui/attempts/{attempt_id}/rewind")
async def rewind_attempt(request: Request, attempt_id: str, attempts: AttemptsDep) -> Response:
    """POST /api/attempts/{id}/rewind."""
    body = parse(RewindIn, sent(await request.form(), "process_id"))
    await attempts.rewind(attempt_id, body.process_id)
    return Response(status_code=204)


@router.post("/ui/attempts/{attempt_id}/delete")
async def delete_attempt(request: Request, attempt_id: str, attempts: AttemptsDep) -> Response:
    attempt = await attempts.get(attempt_id)
    form = await request.form()
    await attempts.delete(attempt_id, delete_branch=form.get("delete_branch") == "on")
    return redirect(f"/projects/{attempt.project_id}")
