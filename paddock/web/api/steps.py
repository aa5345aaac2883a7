"""Workflow steps (board columns) and moving tasks between them: /api/projects/{id}/steps,
/api/steps/{id}, /api/tasks/{id}/move, /api/tasks/{id}/step-prompts."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, status
from pydantic import BaseModel

from paddock.domain.public import TaskMovePublic, TaskPublic, WorkflowStepPublic
from paddock.inputs import StepCreate, StepOrder, StepPromptIn, StepUpdate, TaskMoveIn
from paddock.web.deps import MovesDep, WorkflowDep
from paddock.web.error_docs import errors

router = APIRouter(tags=["workflow"])


class StepDeleted(BaseModel):
    tasks_moved: int


@router.get("/projects/{project_id}/steps", operation_id="list_steps")
async def list_steps(project_id: str, workflow: WorkflowDep) -> list[WorkflowStepPublic]:
    return [WorkflowStepPublic.of(s) for s in await workflow.steps(project_id)]


@router.post(
    "/projects/{project_id}/steps",
    status_code=status.HTTP_201_CREATED,
    operation_id="create_step",
    responses=errors(503),
)
async def create_step(
    project_id: str, body: StepCreate, workflow: WorkflowDep
) -> WorkflowStepPublic:
    return WorkflowStepPublic.of(await workflow.create(project_id, **body.arguments()))


@router.post(
    "/projects/{project_id}/steps/reorder", operation_id="reorder_steps", responses=errors(409)
)
async def reorder_steps(
    project_id: str, body: StepOrder, workflow: WorkflowDep
) -> list[WorkflowStepPublic]:
    return [WorkflowStepPublic.of(s) for s in await workflow.reorder(project_id, body.step_ids)]


@router.get("/steps/{step_id}", operation_id="get_step")
async def get_step(step_id: str, workflow: WorkflowDep) -> WorkflowStepPublic:
    return WorkflowStepPublic.of(await workflow.get(step_id))


@router.patch("/steps/{step_id}", operation_id="update_step", responses=errors(503))
async def update_step(step_id: str, body: StepUpdate, workflow: WorkflowDep) -> WorkflowStepPublic:
    """Only the fields sent change; `agent`, `automation` sent as null clear them."""
    return WorkflowStepPublic.of(await workflow.update(step_id, **body.changes()))


@router.delete("/steps/{step_id}", operation_id="delete_step", responses=errors(409))
async def delete_step(
    step_id: str,
    workflow: WorkflowDep,
    move_tasks_to: Annotated[
        str | None, Query(description="Where its tasks go; needed when it holds any")
    ] = None,
) -> StepDeleted:
    moved = await workflow.delete(step_id, move_tasks_to=move_tasks_to)
    return StepDeleted(tasks_moved=moved)


@router.post("/tasks/{task_id}/move", operation_id="move_task", responses=errors(409, 500, 503))
async def move_task(task_id: str, body: TaskMoveIn, moves: MovesDep) -> TaskPublic:
    """Into another step: its gate applies (409 `gate_failed` with `failing`), then its
    automation runs in the task's current attempt (see GET …/moves for what ran)."""
    moved = await moves.move(
        task_id,
        body.step_id,
        index=body.position,
        below=body.below,
        force=body.force,
        reason=body.reason,
    )
    return TaskPublic.of(moved)


@router.get("/tasks/{task_id}/moves", operation_id="list_task_moves")
async def list_task_moves(task_id: str, moves: MovesDep) -> list[TaskMovePublic]:
    """The task's steps over time, oldest first: forced moves with why, what entering ran."""
    return [TaskMovePublic.of(m) for m in await moves.history(task_id)]


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
