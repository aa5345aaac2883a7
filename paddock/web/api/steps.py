"""Workflow steps (board columns) and moving tasks between them: /api/projects/{id}/steps,
/api/steps/{id}, /api/tasks/{id}/move, /api/tasks/{id}/step-prompts."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, status
from pydantic import BaseModel, Field

from paddock.domain.entities import AgentSpec, Task, WorkflowStep
from paddock.domain.states import Automation, TestKind
from paddock.domain.workflow import PROMPT_VARIABLES, TaskMove
from paddock.web.deps import MovesDep, WorkflowDep

router = APIRouter(tags=["workflow"])

_TEMPLATE_HELP = "Variables, as {{ name }}: " + ", ".join(PROMPT_VARIABLES)


class StepAgentIn(BaseModel):
    profile: str
    variant: str = "default"
    command: str = Field("", description="For the script agent: the shell command")
    env: dict[str, str] = Field(default_factory=dict)
    secret_env: list[str] = Field(default_factory=list)

    def to_spec(self) -> AgentSpec:
        return AgentSpec(**self.model_dump())


class StepCreate(BaseModel):
    name: str
    color: str = Field("#64748b", description="#rrggbb")
    position: int | None = Field(None, ge=0, description="0 = first; none = last")
    agent: StepAgentIn | None = Field(None, description="none: the attempt's own agent")
    prompt_template: str = Field("", description=_TEMPLATE_HELP)
    automation: Automation | None = Field(None, description="What entering the step runs")
    gate: list[TestKind] = Field(
        default_factory=list,
        description="Test kinds whose latest run (on the attempt's latest commit) must pass",
    )


class StepUpdate(BaseModel):
    name: str | None = None
    color: str | None = None
    agent: StepAgentIn | None = None
    prompt_template: str | None = Field(None, description=_TEMPLATE_HELP)
    automation: Automation | None = None
    gate: list[TestKind] | None = None


class StepOrder(BaseModel):
    step_ids: list[str] = Field(description="Every step of the project, in its new order")


class TaskMoveIn(BaseModel):
    step_id: str
    position: int | None = Field(None, ge=0, description="Place within the step; none = last")
    below: str | None = Field(None, description='Just below this card ("" = at the top)')
    force: bool = Field(False, description="Past a failing gate (needs a reason; recorded)")
    reason: str = ""


class StepPromptIn(BaseModel):
    prompt: str = Field(description=_TEMPLATE_HELP)


class StepDeleted(BaseModel):
    tasks_moved: int


@router.get("/projects/{project_id}/steps", operation_id="list_steps")
async def list_steps(project_id: str, workflow: WorkflowDep) -> list[WorkflowStep]:
    return await workflow.steps(project_id)


@router.post(
    "/projects/{project_id}/steps", status_code=status.HTTP_201_CREATED, operation_id="create_step"
)
async def create_step(project_id: str, body: StepCreate, workflow: WorkflowDep) -> WorkflowStep:
    return await workflow.create(
        project_id,
        name=body.name,
        color=body.color,
        position=body.position,
        agent=body.agent.to_spec() if body.agent else None,
        prompt_template=body.prompt_template,
        automation=body.automation,
        gate=[kind.value for kind in body.gate],
    )


@router.post("/projects/{project_id}/steps/reorder", operation_id="reorder_steps")
async def reorder_steps(
    project_id: str, body: StepOrder, workflow: WorkflowDep
) -> list[WorkflowStep]:
    return await workflow.reorder(project_id, body.step_ids)


@router.get("/steps/{step_id}", operation_id="get_step")
async def get_step(step_id: str, workflow: WorkflowDep) -> WorkflowStep:
    return await workflow.get(step_id)


@router.patch("/steps/{step_id}", operation_id="update_step")
async def update_step(step_id: str, body: StepUpdate, workflow: WorkflowDep) -> WorkflowStep:
    """Only the fields sent change; `agent`, `automation` sent as null clear them."""
    changes = body.model_dump(exclude_unset=True)
    if "agent" in changes:
        changes["agent"] = body.agent.to_spec() if body.agent else None
    if "gate" in changes:
        changes["gate"] = [kind.value for kind in body.gate or []]
    return await workflow.update(step_id, **changes)


@router.delete("/steps/{step_id}", operation_id="delete_step")
async def delete_step(
    step_id: str,
    workflow: WorkflowDep,
    move_tasks_to: Annotated[
        str | None, Query(description="Where its tasks go; needed when it holds any")
    ] = None,
) -> StepDeleted:
    moved = await workflow.delete(step_id, move_tasks_to=move_tasks_to)
    return StepDeleted(tasks_moved=moved)


@router.post("/tasks/{task_id}/move", operation_id="move_task")
async def move_task(task_id: str, body: TaskMoveIn, moves: MovesDep) -> Task:
    """Into another step: its gate applies (409 `gate_failed` with `failing`), then its
    automation runs in the task's current attempt (see GET …/moves for what ran)."""
    return await moves.move(
        task_id,
        body.step_id,
        index=body.position,
        below=body.below,
        force=body.force,
        reason=body.reason,
    )


@router.get("/tasks/{task_id}/moves", operation_id="list_task_moves")
async def list_task_moves(task_id: str, moves: MovesDep) -> list[TaskMove]:
    """The task's steps over time, oldest first: forced moves with why, what entering ran."""
    return await moves.history(task_id)


@router.get("/tasks/{task_id}/step-prompts", operation_id="list_task_step_prompts")
async def list_task_step_prompts(task_id: str, workflow: WorkflowDep) -> dict[str, str]:
    """The task's own prompts, by step id (they replace those steps' templates)."""
    return await workflow.task_prompts(task_id)


@router.put(
    "/tasks/{task_id}/step-prompts/{step_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    operation_id="set_task_step_prompt",
)
async def set_task_step_prompt(
    task_id: str, step_id: str, body: StepPromptIn, workflow: WorkflowDep
) -> None:
    await workflow.set_task_prompt(task_id, step_id, body.prompt)


@router.delete(
    "/tasks/{task_id}/step-prompts/{step_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    operation_id="delete_task_step_prompt",
)
async def delete_task_step_prompt(task_id: str, step_id: str, workflow: WorkflowDep) -> None:
    await workflow.set_task_prompt(task_id, step_id, None)
