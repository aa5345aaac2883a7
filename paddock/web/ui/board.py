"""Pages: the board of a project, its paged columns, and the live stream that keeps it current."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Query, Request
from starlette.responses import HTMLResponse, Response, StreamingResponse

from paddock.domain.entities import Event
from paddock.domain.errors import NotFound
from paddock.domain.events import EventType, Resource
from paddock.services.board import Column
from paddock.services.engine import Engine
from paddock.web.deps import BoardDep, EngineDep, TasksDep, UsageDep
from paddock.web.ui.agent_views import with_versions
from paddock.web.ui.live import fragment_stream
from paddock.web.ui.templating import render, render_fragment

router = APIRouter(include_in_schema=False)
STEPS = EventType.steps_updated  # the project's columns changed
# Events that change a card's badges (its attempts' and test runs' statuses); each carries
# the card's task as `task_id`.
CARD_EVENTS = frozenset(
    {EventType.attempt_created, EventType.attempt_updated, EventType.attempt_deleted}
) | EventType.for_resource(Resource.test_run)
BOARD_EVENTS = (
    EventType.for_resource(Resource.task)
    | CARD_EVENTS
    | frozenset({EventType.preview_updated, STEPS})
)


@router.get("/projects/{project_id}", response_class=HTMLResponse)
async def board_page(
    request: Request, project_id: str, engine: EngineDep, q: str = ""
) -> HTMLResponse:
    seq = engine.bus.last_seq  # before loading: the live stream replays what comes after
    board = await engine.board.load(project_id, query=q)
    costs = await engine.usage.by_task(project_id)
    await with_versions(engine)  # asked in the background, for the task panel's agent picker
    return render(request, "board/board.html", {"board": board, "seq": seq, "costs": costs})


@router.get("/ui/steps/{step_id}/cards", response_class=HTMLResponse)
async def more_cards(
    request: Request,
    step_id: str,
    board: BoardDep,
    usage: UsageDep,
    offset: Annotated[int, Query(ge=0)] = 0,
    q: str = "",
) -> HTMLResponse:
    column = await board.column(step_id, query=q, offset=offset)
    costs = await usage.by_task(column.step.project_id)
    context = {"column": column, "query": q, "costs": costs}
    return render(request, "board/_cards_page.html", context)


@router.post("/ui/projects/{project_id}/tasks")
async def add_task(
    project_id: str,
    tasks: TasksDep,
    title: Annotated[str, Form()],
    description: Annotated[str, Form()] = "",
    step_id: Annotated[str, Form()] = "",
) -> Response:
    # The card appears through the board's live stream, like any other change.
    task = await tasks.create(
        project_id, title=title, description=description, step_id=step_id or None
    )
    return Response(status_code=204, headers={"HX-Trigger": f'{{"taskCreated": "{task.id}"}}'})


@router.get("/ui/projects/{project_id}/board/stream", response_class=StreamingResponse)
async def board_stream(
    request: Request, project_id: str, engine: EngineDep, q: str = ""
) -> StreamingResponse:
    await engine.projects.get(project_id)

    async def render_changes(events: list[Event] | None) -> str:
        return await _board_patch(engine, project_id, q, events)

    return fragment_stream(
        request,
        engine.bus,
        project_id,
        render_changes,
        heartbeat=engine.settings.sse_heartbeat_seconds,
        wanted=lambda e: e.type in BOARD_EVENTS,
    )


async def _tasks_of_previews(engine: Engine, events: list[Event]) -> list[str]:
    """The tasks whose attempts' previews changed (their cards' preview badges)."""
    attempt_ids = {e.data.get("attempt_id") for e in events if e.type == EventType.preview_updated}
    tasks: list[str] = []
    for attempt_id in attempt_ids:
        try:
            tasks.append((await engine.attempts.get(str(attempt_id))).task_id)
        except NotFound:
            continue
    return tasks


async def _board_patch(engine: Engine, project_id: str, q: str, events: list[Event] | None) -> str:
    """Out-of-band swaps that bring a board page up to date with `events` (None: everything)."""
    costs = await engine.usage.by_task(project_id)  # "cost so far" on the cards
    if events is None or any(e.type == STEPS for e in events):
        # Everything, or the columns themselves changed: the whole board again.
        board = await engine.board.load(project_id, query=q)
        return render_fragment("board/_columns_patch.html", board=board, query=q, costs=costs)
    moved: dict[str, None] = {}  # created or updated tasks, in order, once each
    deleted: set[str] = set()
    refreshed: dict[str, None] = {}  # tasks whose attempts changed
    for event in events:
        if event.type in (EventType.task_created, EventType.task_updated):
            moved[event.data["id"]] = None
        elif event.type == EventType.task_deleted:
            deleted.add(event.data["id"])
        elif event.type in CARD_EVENTS:  # statuses on the card
            refreshed[event.data["task_id"]] = None
    refreshed.update(dict.fromkeys(await _tasks_of_previews(engine, events)))
    parts = [render_fragment("board/_card_delete.html", task_id=tid) for tid in deleted]
    for task_id in moved:
        if task_id in deleted:
            continue
        parts.append(render_fragment("board/_card_delete.html", task_id=task_id))
        try:
            placement = await engine.board.placement(task_id, query=q)
        except NotFound:
            continue
        if placement is not None:
            parts.append(
                render_fragment("board/_card_insert.html", placement=placement, costs=costs)
            )
    for task_id in refreshed:
        if task_id in moved or task_id in deleted:
            continue
        try:
            card = await engine.board.card(task_id)
        except NotFound:
            continue
        parts.append(render_fragment("board/_card.html", card=card, costs=costs, oob=True))
    if moved or deleted:
        for step, total in await engine.board.counts(project_id, query=q):
            column = Column(step, [], total, 0)
            parts.append(render_fragment("board/_count.html", column=column, oob=True))
    return "".join(parts)
