"""The attempt workspace: its state, the agent's conversation, its processes and their logs,
all live; follow-ups, stop and rewind."""

from __future__ import annotations

from collections.abc import AsyncIterator, Collection
from typing import Annotated, Any

from fastapi import APIRouter, Form, Query, Request
from starlette.responses import HTMLResponse, Response, StreamingResponse

from paddock.config import Settings
from paddock.domain.autocommit import MB, over_warning
from paddock.domain.entities import Attempt, Event, Process
from paddock.domain.entries import EntryKind
from paddock.domain.events import EventType, Resource
from paddock.services.engine import Engine
from paddock.services.log_follow import EndOfLog
from paddock.web.deps import AttemptsDep, EngineDep, EntriesDep, ProcessesDep, SettingsDep
from paddock.web.sse import HEARTBEAT, resume_point, sse_response
from paddock.web.ui.conversation import TURN_REASONS, load_turns, pair
from paddock.web.ui.diff_views import diff_changed, diff_parts, diff_patch
from paddock.web.ui.live import fragment_stream, html_event
from paddock.web.ui.previews import preview_parts, preview_patch, previews_changed
from paddock.web.ui.projects import redirect
from paddock.web.ui.sandbox_views import latest_usage, summary, usage_events
from paddock.web.ui.templating import render, render_fragment
from paddock.web.ui.test_views import TAB_EVENTS, tabs_parts, tabs_patch

router = APIRouter(include_in_schema=False)

# The attempt's own events, which carry its id as `id`.
OWN_EVENTS = EventType.for_resource(Resource.attempt)
# Events about an attempt's parts, which carry its id as `attempt_id` (resource use included).
ATTEMPT_EVENTS = (
    EventType.for_resource(
        Resource.process, Resource.follow_up, Resource.preview, Resource.pull_request
    )
    | TAB_EVENTS
)
# Events the header, the process list and the Agent tab are rendered again for; the others
# patch their own tab (or, resource use, its figures).
PART_EVENTS = EventType.for_resource(Resource.process, Resource.follow_up)
WHOLE_EVENTS = (OWN_EVENTS | PART_EVENTS) - {
    EventType.attempt_diff_changed,
    EventType.resource_usage,
}


def worktree_warning(settings: Settings, attempt: Attempt) -> int | None:
    """The warning threshold (bytes) when the attempt's worktree passed it, else None."""
    if over_warning(attempt.worktree_bytes, settings.worktree_warn_mb):
        return int(settings.worktree_warn_mb * MB)
    return None


def default_process(processes: list[Process]) -> Process | None:
    """The log shown first: the newest agent turn (first prompt or follow-up), else the newest
    process."""
    turns = [p for p in processes if p.reason in TURN_REASONS]
    return (turns or processes)[-1] if processes else None


def _agent_first(engine: Engine, attempt: Attempt) -> bool:
    """Whether the Agent tab is the one shown first: for agents that report a conversation
    (the CLIs Paddock installs), not for shell scripts whose log is their whole record."""
    info = next((a for a in engine.agents.list_quick() if a.name == attempt.agent.profile), None)
    return info is not None and info.installable


async def _agent_parts(
    engine: Engine, attempt: Attempt, *, whole: Collection[str] | None = None
) -> dict[str, Any]:
    """What the Agent tab shows: every turn (dropped ones too; those in `whole`, or all, with
    their entries), the attempt's usage, its follow-ups."""
    every = await engine.processes.list_for_attempt(attempt.id, include_dropped=True)
    turns = await load_turns(engine, attempt, every, whole=whole)
    return {
        "turns": turns,
        "dropped_count": sum(1 for t in turns if t.process.dropped),
        "usage": await engine.usage.for_attempt(attempt.id),
        "follow_ups": await engine.attempts.list_follow_ups(attempt.id),
    }


async def _workspace(engine: Engine, attempt: Attempt) -> dict[str, object]:
    processes = await engine.processes.list_for_attempt(attempt.id)
    return {
        "attempt": attempt,
        "task": await engine.tasks.get(attempt.task_id),
        "project": await engine.projects.get(attempt.project_id),
        "processes": processes,
        "selected": default_process(processes),
        "sandbox": summary(engine, attempt.sandbox),
        "resources": await latest_usage(engine, processes),
        "worktree_warning": worktree_warning(engine.settings, attempt),
    }


@router.get("/attempts/{attempt_id}", response_class=HTMLResponse)
async def workspace_page(request: Request, attempt_id: str, engine: EngineDep) -> HTMLResponse:
    seq = engine.bus.last_seq  # before loading: the live stream replays what comes after
    attempt = await engine.attempts.get(attempt_id)
    context = {
        **await _workspace(engine, attempt),
        **await _agent_parts(engine, attempt),
        **await preview_parts(engine, attempt),
        **await diff_parts(engine, attempt),
        **await tabs_parts(engine, attempt),
        "agent_first": _agent_first(engine, attempt),
        "seq": seq,
    }
    return render(request, "attempts/workspace.html", context)


@router.get("/ui/attempts/{attempt_id}/stream", response_class=StreamingResponse)
async def workspace_stream(
    request: Request, attempt_id: str, engine: EngineDep
) -> StreamingResponse:
    attempt = await engine.attempts.get(attempt_id)

    def concerns_attempt(event: Event) -> bool:
        if event.type in OWN_EVENTS:
            return bool(event.data.get("id") == attempt_id)
        if event.type in ATTEMPT_EVENTS:
            return bool(event.data.get("attempt_id") == attempt_id)
        return False

    async def render_changes(events: list[Event] | None) -> str:
        if events is None:
            whole = await render_whole(None) + await preview_patch(engine, attempt)
            whole += await tabs_patch(engine, attempt, None)
            return whole + await diff_patch(engine, attempt_id)
        # The Preview, Diff, Tests, API and Artifacts tabs are re-rendered only for their own
        # events.
        previews = await preview_patch(engine, attempt) if previews_changed(events) else ""
        previews += await tabs_patch(engine, attempt, events)
        if diff_changed(events):
            previews += await diff_patch(engine, attempt_id)
        events = [e for e in events if e.type != EventType.attempt_diff_changed]
        changes = [e for e in events if e.type in WHOLE_EVENTS]
        if changes:  # the whole render shows the latest stored samples too
            return await render_whole(changes) + previews
        # Resource use alone (about once a second per running process) patches its figures
        # only: no database read, no other part re-rendered.
        usage = usage_events(events)
        patch = render_fragment("attempts/_resources_patch.html", updates=usage) if usage else ""
        return patch + previews

    async def render_whole(events: list[Event] | None) -> str:
        current = await engine.attempts.get(attempt_id)
        context = await _workspace(engine, current)
        parts = [
            render_fragment(name, **context, oob=True)
            for name in (
                "attempts/_header.html",
                "attempts/_process_list.html",
                "attempts/_process_table.html",
            )
        ]
        if events is None:  # after a gap: every turn again, whole
            agent = await _agent_parts(engine, current)
        else:  # new turns come whole (their first entries and their live stream), others' heads
            created = {
                e.data["id"]
                for e in events
                if e.type == EventType.process_created and e.data.get("reason") in TURN_REASONS
            }
            agent = await _agent_parts(engine, current, whole=created)
        parts += [
            render_fragment(name, **context, **agent, oob=True)
            for name in ("attempts/_agent_bar.html", "attempts/_follow_ups.html")
        ]
        if events is None:
            parts.append(render_fragment("attempts/_turns.html", **context, **agent, oob=True))
            return "".join(parts)
        for turn in agent["turns"]:
            if turn.id in created:
                parts.append(render_fragment("attempts/_turn_insert.html", turn=turn, **context))
            # Also for a new turn: a page loaded just after the turn was created has it already
            # and skips the insert, but its head must still move on (queued → running).
            parts.append(render_fragment("attempts/_turn_head.html", turn=turn, oob=True))
        return "".join(parts)

    response = fragment_stream(
        request,
        engine.bus,
        attempt.project_id,
        render_changes,
        heartbeat=engine.settings.sse_heartbeat_seconds,
        wanted=concerns_attempt,
    )
    # While the page is open its worktree is watched: the Diff tab follows `attempt.diff_changed`.
    inner = response.body_iterator

    async def watched() -> AsyncIterator[str | bytes | memoryview]:
        async with engine.diff_watch.watching(attempt_id):
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
        follow = entries.follow(process_id, after=start, heartbeat=settings.sse_heartbeat_seconds)
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
async def add_follow_up(
    attempt_id: str, attempts: AttemptsDep, prompt: Annotated[str, Form()] = ""
) -> Response:
    # The queue and the new turn appear through the workspace's live stream.
    follow_up = await attempts.follow_up(attempt_id, prompt)
    return Response(
        status_code=204, headers={"HX-Trigger": f'{{"followUpQueued": "{follow_up.id}"}}'}
    )


@router.post("/ui/follow-ups/{follow_up_id}/cancel")
async def cancel_follow_up(follow_up_id: str, attempts: AttemptsDep) -> Response:
    await attempts.cancel_follow_up(follow_up_id)
    return Response(status_code=204)


@router.post("/ui/attempts/{attempt_id}/rewind")
async def rewind_attempt(
    attempt_id: str, attempts: AttemptsDep, process_id: Annotated[str, Form()]
) -> Response:
    await attempts.rewind(attempt_id, process_id)
    return Response(status_code=204)


@router.post("/ui/attempts/{attempt_id}/delete")
async def delete_attempt(request: Request, attempt_id: str, attempts: AttemptsDep) -> Response:
    attempt = await attempts.get(attempt_id)
    form = await request.form()
    await attempts.delete(attempt_id, delete_branch=form.get("delete_branch") == "on")
    return redirect(f"/projects/{attempt.project_id}")
