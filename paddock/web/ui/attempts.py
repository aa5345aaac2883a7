"""The attempt workspace: its state, its processes and their logs, live."""

from __future__ import annotations

from fastapi import APIRouter, Request
from starlette.responses import HTMLResponse, Response, StreamingResponse

from paddock.domain.entities import Attempt, Event
from paddock.domain.states import RunReason
from paddock.services.engine import Engine
from paddock.web.deps import EngineDep
from paddock.web.ui.live import fragment_stream
from paddock.web.ui.projects import redirect
from paddock.web.ui.templating import render, render_fragment

router = APIRouter(include_in_schema=False)


async def _workspace(engine: Engine, attempt: Attempt) -> dict[str, object]:
    processes = await engine.processes.list_for_attempt(attempt.id)
    agents = [p for p in processes if p.reason is RunReason.agent]
    return {
        "attempt": attempt,
        "task": await engine.tasks.get(attempt.task_id),
        "project": await engine.projects.get(attempt.project_id),
        "processes": processes,
        # The log shown first: the newest agent run, else the newest process.
        "selected": (agents or processes)[-1] if processes else None,
    }


@router.get("/attempts/{attempt_id}", response_class=HTMLResponse)
async def workspace_page(request: Request, attempt_id: str, engine: EngineDep) -> HTMLResponse:
    seq = engine.bus.last_seq  # before loading: the live stream replays what comes after
    context = await _workspace(engine, await engine.attempts.get(attempt_id))
    return render(request, "attempts/workspace.html", {**context, "seq": seq})


@router.get("/ui/attempts/{attempt_id}/stream", response_class=StreamingResponse)
async def workspace_stream(
    request: Request, attempt_id: str, engine: EngineDep
) -> StreamingResponse:
    attempt = await engine.attempts.get(attempt_id)

    def concerns_attempt(event: Event) -> bool:
        if event.type.startswith("attempt."):
            return bool(event.data.get("id") == attempt_id)
        if event.type.startswith("process."):
            return bool(event.data.get("attempt_id") == attempt_id)
        return False

    async def render_changes(_events: list[Event] | None) -> str:
        current = await engine.attempts.get(attempt_id)
        context = await _workspace(engine, current)
        return "".join(
            render_fragment(name, **context, oob=True)
            for name in (
                "attempts/_header.html",
                "attempts/_process_list.html",
                "attempts/_process_rows.html",
            )
        )

    return fragment_stream(
        request,
        engine.bus,
        attempt.project_id,
        render_changes,
        heartbeat=engine.settings.sse_heartbeat_seconds,
        wanted=concerns_attempt,
    )


@router.post("/ui/attempts/{attempt_id}/stop")
async def stop_attempt(attempt_id: str, engine: EngineDep) -> Response:
    await engine.attempts.stop(attempt_id)
    return Response(status_code=204)


@router.post("/ui/attempts/{attempt_id}/delete")
async def delete_attempt(request: Request, attempt_id: str, engine: EngineDep) -> Response:
    attempt = await engine.attempts.get(attempt_id)
    form = await request.form()
    await engine.attempts.delete(attempt_id, delete_branch=form.get("delete_branch") == "on")
    return redirect(f"/projects/{attempt.project_id}")
