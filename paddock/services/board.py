"""The board as people see it: steps as columns, tasks as cards with their latest attempt.

Columns are paged: a board of ten thousand tasks shows the first cards of each column and
loads the rest on demand, so opening it stays fast whatever its size.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import ClassVar

from sqlalchemy.orm import Session

from paddock.domain.entities import Attempt, Project, Task, WorkflowStep
from paddock.domain.states import TestKind, TestRunStatus
from paddock.domain.workflow import TaskMove
from paddock.services.context import Context
from paddock.store import attempts as attempt_store
from paddock.store import previews as preview_store
from paddock.store import projects as project_store
from paddock.store import steps as step_store
from paddock.store import task_moves as move_store
from paddock.store import tasks as task_store
from paddock.store import test_runs as test_run_store

PAGE_SIZE = 50


@dataclass(frozen=True, slots=True)
class Card:
    task: Task
    attempt: Attempt | None  # the newest attempt, if any
    attempt_count: int
    active_previews: int = 0  # the newest attempt's previews starting or running
    # The newest attempt's latest test run of each kind: its status.
    tests: dict[TestKind, TestRunStatus] = field(default_factory=dict)
    # The task's newest move, when it went wrong: a gate refused it, an automation did not run.
    notice: TaskMove | None = None
    # A pending proposal: the branch of the attempt that proposed it (None: that attempt is gone).
    proposer_branch: str | None = None


@dataclass(frozen=True, slots=True)
class Column:
    step: WorkflowStep
    cards: list[Card]
    total: int  # tasks in this step that match the filter
    offset: int  # of the first card in `cards`
    page_size: ClassVar[int] = PAGE_SIZE  # of the next pages

    @property
    def more(self) -> int:
        """How many matching cards come after this page."""
        return max(0, self.total - self.offset - len(self.cards))

    @property
    def next_page(self) -> int:
        """How many cards the next page brings: what "Show N more" promises."""
        return min(self.page_size, self.more)


@dataclass(frozen=True, slots=True)
class Placement:
    card: Card
    after: str | None  # the id of the card just above it; None at the top of its column


@dataclass(frozen=True, slots=True)
class Board:
    project: Project
    columns: list[Column]
    query: str

    @property
    def empty(self) -> bool:
        """No task at all (not merely none matching a filter): a new project's board."""
        return not self.query and all(column.total == 0 for column in self.columns)


def _cards(session: Session, tasks: list[Task]) -> list[Card]:
    latest = attempt_store.latest_for_tasks(session, [t.id for t in tasks])
    attempt_ids = [a.id for a, _ in latest.values()]
    active = preview_store.active_for_attempts(session, attempt_ids)
    tests = test_run_store.latest_statuses(session, attempt_ids)
    notices = move_store.notices(session, [t.id for t in tasks])
    proposers = attempt_store.branches_of(
        session, {t.proposed_by for t in tasks if t.proposed and t.proposed_by}
    )
    cards: list[Card] = []
    for task in tasks:
        attempt, count = latest.get(task.id, (None, 0))
        notice = notices.get(task.id)
        if attempt is None:
            branch = proposers.get(task.proposed_by) if task.proposed_by else None
            cards.append(Card(task, None, 0, notice=notice, proposer_branch=branch))
            continue
        cards.append(
            Card(
                task,
                attempt,
                count,
                active.get(attempt.id, 0),
                tests.get(attempt.id, {}),
                notice,
            )
        )
    return cards


class BoardService:
    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx

    async def load(self, project_id: str, *, query: str = "", limit: int = PAGE_SIZE) -> Board:
        """Every column with its first `limit` cards matching `query`."""
        text = query.strip() or None

        def load(session: Session) -> Board:
            project = project_store.get_project(session, project_id)
            counts = task_store.count_by_step(session, project_id, text)
            steps = step_store.list_steps(session, project_id)
            pages = [task_store.page_of_step(session, s, text=text, limit=limit) for s in steps]
            # One query for the newest attempts of every card on the board, not one per column.
            cards = iter(_cards(session, [task for page in pages for task in page]))
            columns = [
                Column(step, [next(cards) for _ in page], counts.get(step.id, 0), 0)
                for step, page in zip(steps, pages, strict=True)
            ]
            return Board(project, columns, query.strip())

        return await self.ctx.db.run(load)

    async def column(
        self,
        step_id: str,
        *,
        query: str = "",
        offset: int = 0,
        limit: int = PAGE_SIZE,
        after: float | None = None,
    ) -> Column:
        """One page of one column: from `offset`, or below the card at position `after` (a
        page that cards moved in or out above it since the last one cannot skip or repeat)."""
        text = query.strip() or None

        def load(session: Session) -> Column:
            step = step_store.get_step(session, step_id)
            total = task_store.count_by_step(session, step.project_id, text).get(step_id, 0)
            tasks = task_store.page_of_step(
                session, step, text=text, offset=offset, limit=limit, after=after
            )
            first = offset
            if after is not None:
                first += task_store.count_up_to(session, step, after, text)
            return Column(step, _cards(session, tasks), total, first)

        return await self.ctx.db.run(load)

    async def counts(self, project_id: str, *, query: str = "") -> list[tuple[WorkflowStep, int]]:
        """Every step with how many of its tasks match `query`."""
        text = query.strip() or None

        def load(session: Session) -> list[tuple[WorkflowStep, int]]:
            counts = task_store.count_by_step(session, project_id, text)
            steps = step_store.list_steps(session, project_id)
            return [(step, counts.get(step.id, 0)) for step in steps]

        return await self.ctx.db.run(load)

    async def placement(self, task_id: str, *, query: str = "") -> Placement | None:
        """Where a card goes in its column, or None when it does not match `query`."""
        text = query.strip() or None

        def load(session: Session) -> Placement | None:
            task = task_store.get_task(session, task_id)
            if not task_store.matches(session, task_id, text):
                return None
            after = task_store.previous_in_step(session, task, text)
            return Placement(_cards(session, [task])[0], after)

        return await self.ctx.db.run(load)

    async def card(self, task_id: str) -> Card:
        def load(session: Session) -> Card:
            return _cards(session, [task_store.get_task(session, task_id)])[0]

        return await self.ctx.db.run(load)
