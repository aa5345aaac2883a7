"""Workflow steps (a project's board columns) and tasks' own prompts for them."""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from paddock.domain.entities import AgentSpec, WorkflowStep
from paddock.domain.errors import NotFound
from paddock.domain.names import new_id
from paddock.domain.states import Automation, StepRole, TestKind
from paddock.store.tables.projects import StepRow
from paddock.store.tables.tasks import TaskRow, TaskStepPromptRow

UNSET: Any = object()  # "leave as it is", where None means "none"


def to_step(row: StepRow) -> WorkflowStep:
    return WorkflowStep(
        row.id,
        row.project_id,
        row.name,
        row.position,
        row.color,
        agent=AgentSpec(**row.agent) if row.agent else None,
        prompt_template=row.prompt_template or "",
        automation=Automation(row.automation) if row.automation else None,
        gate=[TestKind(kind) for kind in row.gate or []],
        role=StepRole(row.role) if row.role else None,
    )


def list_steps(session: Session, project_id: str) -> list[WorkflowStep]:
    query = select(StepRow).where(StepRow.project_id == project_id).order_by(StepRow.position)
    return [to_step(r) for r in session.scalars(query)]


def _step_row(session: Session, step_id: str) -> StepRow:
    row = session.get(StepRow, step_id)
    if row is None:
        raise NotFound(f"no workflow step {step_id}", code="step_not_found")
    return row


def get_step(session: Session, step_id: str) -> WorkflowStep:
    return to_step(_step_row(session, step_id))


def create_step(
    session: Session,
    *,
    project_id: str,
    name: str,
    color: str,
    position: int | None = None,
    agent: AgentSpec | None = None,
    prompt_template: str = "",
    automation: Automation | None = None,
    gate: list[TestKind] | None = None,
    role: StepRole | None = None,
) -> WorkflowStep:
    """A new step at `position` (0 = first; None = last); the steps after it move along.
    Taking a `role` takes it from the step that had it."""
    count = session.scalar(
        select(func.count()).select_from(StepRow).where(StepRow.project_id == project_id)
    )
    index = count or 0 if position is None else max(0, min(position, count or 0))
    session.execute(
        update(StepRow)
        .where(StepRow.project_id == project_id, StepRow.position >= index)
        .values(position=StepRow.position + 1)
    )
    row = StepRow(
        id=new_id(),
        project_id=project_id,
        name=name,
        position=index,
        color=color,
        agent=asdict(agent) if agent else None,
        prompt_template=prompt_template,
        automation=automation.value if automation else None,
        gate=[kind.value for kind in gate or []],
        role=_take_role(session, project_id, role),
    )
    session.add(row)
    session.flush()
    return to_step(row)


def _take_role(session: Session, project_id: str, role: StepRole | None) -> str | None:
    """`role` for a step of the project: no other step keeps it (one step per role)."""
    if role is None:
        return None
    session.execute(
        update(StepRow)
        .where(StepRow.project_id == project_id, StepRow.role == role.value)
        .values(role=None)
    )
    return role.value


def update_step(
    session: Session,
    step_id: str,
    *,
    name: str = UNSET,
    color: str = UNSET,
    agent: AgentSpec | None = UNSET,
    prompt_template: str = UNSET,
    automation: Automation | None = UNSET,
    gate: list[TestKind] = UNSET,
    role: StepRole | None = UNSET,
) -> WorkflowStep:
    row = _step_row(session, step_id)
    if name is not UNSET:
        row.name = name
    if color is not UNSET:
        row.color = color
    if agent is not UNSET:
        row.agent = asdict(agent) if agent else None
    if prompt_template is not UNSET:
        row.prompt_template = prompt_template
    if automation is not UNSET:
        row.automation = automation.value if automation else None
    if gate is not UNSET:
        row.gate = [kind.value for kind in gate]
    if role is not UNSET and (role.value if role else None) != row.role:
        row.role = _take_role(session, row.project_id, role)
    session.flush()
    return to_step(row)


def reorder_steps(session: Session, project_id: str, step_ids: list[str]) -> list[WorkflowStep]:
    """Positions 0, 1, 2... in the order given (which names every step of the project once)."""
    rows = {
        row.id: row
        for row in session.scalars(select(StepRow).where(StepRow.project_id == project_id))
    }
    for index, step_id in enumerate(step_ids):
        rows[step_id].position = index
    session.flush()
    return list_steps(session, project_id)


def delete_step(session: Session, step_id: str) -> None:
    row = _step_row(session, step_id)
    project_id, position = row.project_id, row.position
    session.delete(row)
    session.flush()
    session.execute(
        update(StepRow)
        .where(StepRow.project_id == project_id, StepRow.position > position)
        .values(position=StepRow.position - 1)
    )


def count_tasks(session: Session, step_id: str) -> int:
    return session.scalar(select(func.count()).where(TaskRow.step_id == step_id)) or 0


def move_all_tasks(session: Session, from_step: str, to_step: str) -> int:
    """Every task of `from_step` to the end of `to_step`, keeping their order."""
    last = session.scalar(select(func.max(TaskRow.position)).where(TaskRow.step_id == to_step))
    offset = (last or 0.0) + 1024.0
    result = session.execute(
        update(TaskRow)
        .where(TaskRow.step_id == from_step)
        .values(step_id=to_step, position=TaskRow.position + offset)
    )
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


def task_prompt(session: Session, task_id: str, step_id: str) -> str | None:
    row = session.get(TaskStepPromptRow, (task_id, step_id))
    return row.prompt if row else None


def task_prompts(session: Session, task_id: str) -> dict[str, str]:
    query = select(TaskStepPromptRow).where(TaskStepPromptRow.task_id == task_id)
    return {row.step_id: row.prompt for row in session.scalars(query)}


def set_task_prompt(session: Session, task_id: str, step_id: str, prompt: str | None) -> None:
    """A task's own prompt for a step; None removes it (the step's template applies again)."""
    row = session.get(TaskStepPromptRow, (task_id, step_id))
    if prompt is None:
        if row is not None:
            session.delete(row)
    elif row is None:
        session.add(TaskStepPromptRow(task_id=task_id, step_id=step_id, prompt=prompt))
    else:
        row.prompt = prompt
    session.flush()
