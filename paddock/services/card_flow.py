"""The card flow: a card moves by itself to its project's in-progress step when an attempt
starts (or a follow-up's turn begins), and to its review step when the agent's turn ends.

A project setting (`card_flow`, on by default). The steps are found by their role
(`in_progress`, `review`: domain/workflow.py `flow_target` says which card moves where), and
the move is the workflow's own (services/task_moves.py `MoveService.flow`): the step's
automation runs, its gate applies, and a move the gate refuses is not made but kept in the
card's history, where the board and the task panel show it. Only the task's newest attempt
moves its card: an older attempt's turn says nothing about where the task stands.
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from paddock.domain.entities import Attempt, Project, Task, WorkflowStep
from paddock.domain.workflow import FlowMoment, flow_target
from paddock.services.context import Context
from paddock.services.task_moves import MoveService
from paddock.store import attempts as attempt_store
from paddock.store import projects as project_store
from paddock.store import steps as step_store
from paddock.store import tasks as task_store


class CardFlow:
    """An attempt watcher (services/attempts/watchers.py) that moves the attempt's card."""

    def __init__(self, ctx: Context, moves: MoveService) -> None:
        self.ctx = ctx
        self.moves = moves

    async def started(self, attempt: Attempt) -> None:
        await self._flow(attempt, FlowMoment.started)

    async def turn_ended(self, attempt: Attempt) -> None:
        await self._flow(attempt, FlowMoment.turn_ended)

    async def _flow(self, attempt: Attempt, moment: FlowMoment) -> None:
        loaded = await self.ctx.db.run(lambda s: _load(s, attempt))
        if loaded is None:
            return
        project, task, steps = loaded
        if not project.card_flow:
            return
        target = flow_target(steps, task.step_id, moment)
        if target is not None:
            await self.moves.flow(task.id, target.id, moment.why)


def _load(session: Session, attempt: Attempt) -> tuple[Project, Task, list[WorkflowStep]] | None:
    """The attempt's project, task and steps; None when it is not its task's newest attempt."""
    newest = attempt_store.latest_for_tasks(session, [attempt.task_id]).get(attempt.task_id)
    if newest is None or newest[0].id != attempt.id:
        return None
    project = project_store.get_project(session, attempt.project_id)
    task = task_store.get_task(session, attempt.task_id)
    return project, task, step_store.list_steps(session, project.id)
