"""Tasks: the cards on a project's board."""

from __future__ import annotations

import pydantic_core
from sqlalchemy.orm import Session

from paddock.domain.entities import Task
from paddock.domain.errors import InvalidInput
from paddock.domain.events import Deleted, EventType
from paddock.domain.tasks import check_can_propose, check_description, check_pending, check_title
from paddock.domain.workflow import position_between
from paddock.services.attempts.attempts import AttemptService
from paddock.services.context import Context, log
from paddock.services.task_moves import MoveService
from paddock.store import attempts as attempt_store
from paddock.store import projects as project_store
from paddock.store import steps as step_store
from paddock.store import tasks as store


class TaskService:
    def __init__(self, ctx: Context, attempts: AttemptService, moves: MoveService) -> None:
        self.ctx = ctx
        self.attempts = attempts
        self.moves = moves

    async def create(
        self, project_id: str, *, title: str, description: str = "", step_id: str | None = None
    ) -> Task:
        title = check_title(title)
        description = check_description(description)

        def create(session: Session) -> Task:
            project_store.get_project(session, project_id)
            target = self._step_of(session, project_id, step_id)
            return store.create_task(
                session, project_id=project_id, step_id=target, title=title, description=description
            )

        task = await self.ctx.db.run(create)
        self.ctx.publish(EventType.task_created, project_id, task)
        return task

    # -- proposals: tasks an agent proposes from inside its attempt ------------------------------

    async def propose(self, attempt_id: str, title: str, description: str = "") -> Task:
        """A task proposed by the agent of `attempt_id`: in the attempt's project, at the bottom
        of its first step, pending until the user accepts it (`accept`) or dismisses it
        (`dismiss`); until then no attempt starts on it and it moves to no other step.

        The agent is the author: the title and description meet the rules of any task (a title
        with a control character is refused, `bad_title`, as the API refuses it), and the
        attempt may have at most MAX_PENDING_PROPOSALS pending (409 `too_many_proposals`). An
        attempt that is gone (its task or project deleted) answers 404 `attempt_not_found`."""
        title = check_title(title)
        description = check_description(description)

        def create(session: Session) -> Task:
            # Locked (PostgreSQL): two proposals of one attempt at once count one after the other.
            attempt = attempt_store.lock_attempt(session, attempt_id)
            check_can_propose(store.pending_proposals(session, attempt_id))
            target = self._step_of(session, attempt.project_id, None)
            return store.create_task(
                session,
                project_id=attempt.project_id,
                step_id=target,
                title=title,
                description=description,
                proposed_by=attempt_id,
            )

        task = await self.ctx.db.run(create)
        log.info("attempt %s proposed task %s: %r", attempt_id, task.id, task.title)
        self.ctx.publish(EventType.task_created, task.project_id, task)
        return task

    async def accept(self, task_id: str) -> Task:
        """The pending proposal becomes an ordinary task (409 `not_proposed` for any other);
        `proposed_by` stays, for the record."""

        def accept(session: Session) -> Task:
            task = store.get_task(session, task_id)
            check_pending(task.proposed, task.title)
            return store.accept_proposal(session, task_id)

        task = await self.ctx.db.run(accept)
        self.ctx.publish(EventType.task_updated, task.project_id, task)
        return task

    async def dismiss(self, task_id: str) -> Task:
        """Delete the pending proposal (409 `not_proposed` for any other task). Deleted, not
        archived: a pending proposal has no attempt, no move and no test run to keep, and
        the board has no archive; the server's log keeps the dismissal."""

        def dismiss(session: Session) -> Task:
            task = store.get_task(session, task_id)
            check_pending(task.proposed, task.title)  # in one transaction with the delete
            store.delete_task(session, task_id)
            return task

        task = await self.ctx.db.run(dismiss)
        log.info("task %s proposed by attempt %s was dismissed", task_id, task.proposed_by)
        self.ctx.publish(EventType.task_deleted, task.project_id, Deleted(task_id))
        return task

    @staticmethod
    def _step_of(session: Session, project_id: str, step_id: str | None) -> str:
        if step_id is None:
            steps = step_store.list_steps(session, project_id)
            if not steps:
                raise InvalidInput("the project has no workflow steps", code="no_steps")
            return steps[0].id
        step = step_store.get_step(session, step_id)
        if step.project_id != project_id:
            raise InvalidInput("that step belongs to another project", code="step_not_in_project")
        return step.id

    async def get(self, task_id: str) -> Task:
        return await self.ctx.db.run(lambda s: store.get_task(s, task_id))

    async def list_json(self, project_id: str, step_id: str | None = None) -> bytes:
        """The project's tasks (or one step's) as the JSON of `list[Task]`, byte for byte.

        Boards have thousands of cards: JSON-ready dicts straight from the rows, serialised by
        one pydantic-core call in the worker thread, cost half of building `Task`s and letting
        FastAPI validate and dump them (tests/store/test_tasks_json.py checks the bytes).
        """

        def query(session: Session) -> bytes:
            tasks = store.list_task_dicts(session, project_id, step_id)
            if not tasks:  # tasks name an existing project (a foreign key): check when empty
                project_store.get_project(session, project_id)
            return pydantic_core.to_json(tasks)

        return await self.ctx.db.run(query)

    async def update(
        self,
        task_id: str,
        *,
        title: str | None = None,
        description: str | None = None,
        step_id: str | None = None,
        index: int | None = None,
        below: str | None = None,
    ) -> Task:
        """Edit a card; `step_id` with `index` (its place in the column) or `below` (the id of
        the card it goes under; "" for the top) move it. Into another step, that is a move:
        the step's gate applies and its automation runs (services/task_moves.py)."""
        if title is not None:
            title = check_title(title)
        if description is not None:
            description = check_description(description)
        if step_id and step_id != (await self.get(task_id)).step_id:
            if title is not None or description is not None:
                await self.update(task_id, title=title, description=description)
            return await self.moves.move(task_id, step_id, index=index, below=below)

        def update(session: Session) -> Task:
            task = store.get_task(session, task_id)
            target = self._step_of(session, task.project_id, step_id) if step_id else None
            position = None
            if below is not None:
                before, after = store.neighbours_below(
                    session, target or task.step_id, below or None, exclude=task_id
                )
                position = position_between(before, after)
            elif index is not None:
                before, after = store.neighbour_positions(
                    session, target or task.step_id, index, exclude=task_id
                )
                position = position_between(before, after)
            return store.update_task(
                session,
                task_id,
                title=title,
                description=description,
                step_id=target,
                position=position,
            )

        task = await self.ctx.db.run(update)
        self.ctx.publish(EventType.task_updated, task.project_id, task)
        return task

    async def delete(self, task_id: str) -> Task:
        """Delete the card and its attempts (worktrees removed; branches kept)."""
        task = await self.get(task_id)
        for attempt in await self.attempts.list_for_task(task_id):
            await self.attempts.delete(attempt.id)
        await self.ctx.db.run(lambda s: store.delete_task(s, task_id))
        self.ctx.publish(EventType.task_deleted, task.project_id, Deleted(task_id))
        return task
