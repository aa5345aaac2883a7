"""Pages: the board of a project, its paged columns, and the live stream that keeps it current."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Annotated

from fastapi import APIRouter, Query, Request
from starlette.responses import HTMLResponse, Response, StreamingResponse

from paddock.domain.entities import Event
from paddock.domain.errors import NotFound
from paddock.domain.events import EventType, Resource
from paddock.domain.usage import Usage
from paddock.inputs import TaskCreate
from paddock.services.attempts.attempts import AttemptService
from paddock.services.board import BoardService, Column
from paddock.services.demo import is_demo
from paddock.services.sandbox.usage import UsageService
from paddock.web.deps import (
    AgentsDep,
    AttemptsDep,
    BoardDep,
    EventsDep,
    ProjectsDep,
    SettingsDep,
    TasksDep,
    UsageDep,
    WorkflowDep,
)
from paddock.web.ui.agent_views import with_versions
from paddock.web.ui.forms import parse, sent
from paddock.web.ui.live import fragment_stream
from paddock.web.ui.templating import render, render_fragment

router = APIRouter(include_in_schema=False)
STEPS = EventType.steps_updated  # the project's columns changed
# Events that change a card's badges (its attempts' and test runs' statuses, a move its gate
# refused or whose automation did not run); each carries the card's task as `task_id`.
CARD_EVENTS = frozenset(
    {
        EventType.attempt_created,
        EventType.attempt_updated,
        EventType.attempt_deleted,
        EventType.task_moved,
    }
) | EventType.for_resource(Resource.test_run)
BOARD_EVENTS = (
    EventType.for_resource(Resource.task)
    | CARD_EVENTS
    | frozenset({EventType.preview_updated, STEPS})
)


@router.get("/projects/{project_id}", response_class=HTMLResponse)
async def board_page(
    request: Request,
    project_id: str,
    board: BoardDep,
    usage: UsageDep,
    agents: AgentsDep,
    events: EventsDep,
    settings: SettingsDep,
    q: str = "",
) -> HTMLResponse:
    seq = events.last_seq  # before loading: the live stream replays what comes after
    loaded = await board.load(project_id, query=q)
    costs = await usage.by_task(project_id)
    await with_versions(agents)  # asked in the background, for the task panel's agent picker
    context = {
        "board": loaded,
        "seq": seq,
        "costs": costs,
        "demo": is_demo(loaded.project, settings.storage.data_dir),  # the first-run hint
    }
    return render(request, "board/board.html", context)


@router.get("/ui/steps/{step_id}/cards", response_class=HTMLResponse)
async def more_cards(
    request: Request,
    step_id: str,
    board: BoardDep,
    usage: UsageDep,
    offset: Annotated[int, Query(ge=0)] = 0,
    after: float | None = None,
    q: str = "",
) -> HTMLResponse:
    """The next page of a column: "Show N more", or scrolling to its end."""
    column = await board.column(step_id, query=q, offset=offset, after=after)
    costs = await usage.by_task(column.step.project_id)
    context = {"column": column, "query": q, "costs": costs}
    return render(request, "board/_cards_page.html", context)


@router.post("/ui/projects/{project_id}/tasks")
async def add_task(
    request: Request, project_id: str, tasks: TasksDep, board: BoardDep, workflow: WorkflowDep
) -> Response:
    """POST /api/projects/{id}/tasks, from the board's form; the card appears through the
    board's live stream, like any other change, and the answer says where it went (the
    board's filter, `q`, may hide it)."""
    form = await request.form()
    body = parse(TaskCreate, sent(form, "title", "description", "step_id"))
    task = await tasks.create(
        project_id, title=body.title, description=body.description, step_id=body.step_id
    )
    step = await workflow.get(task.step_id)
    message = f"Added “{task.title}” to {step.name}."
    query = str(form.get("q") or "")
    if await board.placement(task.id, query=query) is None:
        message += f" The filter “{query}” hides it."
    trigger = {"taskCreated": {"id": task.id, "message": message}}
    # json.dumps escapes what is not ASCII: a header is latin-1.
    return Response(status_code=204, headers={"HX-Trigger": json.dumps(trigger)})


@router.get("/ui/projects/{project_id}/board/stream", response_class=StreamingResponse)
async def board_stream(
    request: Request,
    project_id: str,
    board: BoardDep,
    usage: UsageDep,
    attempts: AttemptsDep,
    projects: ProjectsDep,
    events: EventsDep,
    settings: SettingsDep,
    q: str = "",
) -> StreamingResponse:
    """The open board's live patches: the events of its project that change it, rendered."""
    await projects.get(project_id)
    return fragment_stream(
        request,
        events,
        project_id,
        BoardPatches(board, usage, attempts, project_id, q).render,
        heartbeat=settings.server.sse_heartbeat_seconds,
        wanted=lambda e: e.type in BOARD_EVENTS,
    )


@dataclass(slots=True)
class CardChanges:
    """The cards that `events` change: in the order they come, each once."""

    moved: dict[str, None] = field(default_factory=dict)  # created or updated tasks
    deleted: set[str] = field(default_factory=set)
    refreshed: dict[str, None] = field(default_factory=dict)  # tasks whose attempts changed

    @classmethod
    def of(cls, events: list[Event]) -> CardChanges:
        changes = cls()
        for event in events:
            if event.type in (EventType.task_created, EventType.task_updated):
                changes.moved[event.data["id"]] = None
            elif event.type == EventType.task_deleted:
                changes.deleted.add(event.data["id"])
            elif event.type in CARD_EVENTS:  # statuses on the card
                changes.refreshed[event.data["task_id"]] = None
        return changes


@dataclass(frozen=True, slots=True)
class BoardPatches:
    """How the events of a project become out-of-band swaps of its open board (searched for
    `query`): the renderer of its fragment stream."""

    board: BoardService
    usage: UsageService
    attempts: AttemptService
    project_id: str
    query: str

    async def render(self, events: list[Event] | None) -> str:
        """What changed in `events`; None (after a gap): the whole board."""
        costs = await self.usage.by_task(self.project_id)  # "cost so far" on the cards
        if events is None or any(e.type == STEPS for e in events):
            # Everything, or the columns themselves changed: the whole board again.
            board = await self.board.load(self.project_id, query=self.query)
            return render_fragment(
                "board/_columns_patch.html", board=board, query=self.query, costs=costs
            )
        changes = CardChanges.of(events)
        changes.refreshed.update(dict.fromkeys(await self._tasks_of_previews(events)))
        parts = [render_fragment("board/_card_delete.html", task_id=t) for t in changes.deleted]
        parts += await self._moved(changes, costs)
        parts += await self._refreshed(changes, costs)
        if changes.moved or changes.deleted:
            parts += await self._counts()
        return "".join(parts)

    async def _tasks_of_previews(self, events: list[Event]) -> list[str]:
        """The tasks whose attempts' previews changed (their cards' preview badges)."""
        attempt_ids = {
            e.data.get("attempt_id") for e in events if e.type == EventType.preview_updated
        }
        tasks: list[str] = []
        for attempt_id in attempt_ids:
            try:
                tasks.append((await self.attempts.get(str(attempt_id))).task_id)
            except NotFound:
                continue
        return tasks

    async def _moved(self, changes: CardChanges, costs: dict[str, Usage]) -> list[str]:
        """Moved or new cards: taken out, and put in where they are now (if the search shows
        them)."""
        parts: list[str] = []
        for task_id in changes.moved:
            if task_id in changes.deleted:
                continue
            parts.append(render_fragment("board/_card_delete.html", task_id=task_id))
            try:
                placement = await self.board.placement(task_id, query=self.query)
            except NotFound:
                continue
            if placement is not None:
                parts.append(
                    render_fragment("board/_card_insert.html", placement=placement, costs=costs)
                )
        return parts

    async def _refreshed(self, changes: CardChanges, costs: dict[str, Usage]) -> list[str]:
        """Cards whose badges changed, in place."""
        parts: list[str] = []
        for task_id in changes.refreshed:
            if task_id in changes.moved or task_id in changes.deleted:
                continue
            try:
                card = await self.board.card(task_id)
            except NotFound:
                continue
            parts.append(render_fragment("board/_card.html", card=card, costs=costs, oob=True))
        return parts

    async def _counts(self) -> list[str]:
        """Each column's count of cards."""
        parts: list[str] = []
        for step, total in await self.board.counts(self.project_id, query=self.query):
            column = Column(step, [], total, 0)
            parts.append(render_fragment("board/_count.html", column=column, oob=True))
        return parts
