"""/api/tasks: one card; its attempts."""

from __future__ import annotations

from fastapi import APIRouter, status

from paddock.domain.public import AttemptPublic, TaskPublic
from paddock.inputs import AttemptCreate, TaskUpdate
from paddock.web.deps import AttemptsDep, TasksDep
from paddock.web.error_docs import errors

router = APIRouter(tags=["tasks"])


@router.get("/tasks/{task_id}", operation_id="get_task")
async def get_task(task_id: str, tasks: TasksDep) -> TaskPublic:
    return TaskPublic.of(await tasks.get(task_id))


@router.patch("/tasks/{task_id}", operation_id="update_task", responses=errors(409, 500, 503))
async def update_task(task_id: str, body: TaskUpdate, tasks: TasksDep) -> TaskPublic:
    return TaskPublic.of(await tasks.update(task_id, **body.changes()))


@router.delete(
    "/tasks/{task_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    operation_id="delete_task",
    responses=errors(409, 500, 503),
)
async def delete_task(task_id: str, tasks: TasksDep) -> None:
    await tasks.delete(task_id)


@router.post("/tasks/{task_id}/accept", operation_id="accept_task", responses=errors(409))
async def accept_task(task_id: str, tasks: TasksDep) -> TaskPublic:
    """Accept a task an agent proposed: it becomes an ordinary task (`proposed` false,
    `proposed_by` kept). 409 `not_proposed` for a task that is not a pending proposal."""
    return TaskPublic.of(await tasks.accept(task_id))


@router.post(
    "/tasks/{task_id}/dismiss",
    status_code=status.HTTP_204_NO_CONTENT,
    operation_id="dismiss_task",
    responses=errors(409),
)
async def dismiss_task(task_id: str, tasks: TasksDep) -> None:
    """Dismiss a task an agent proposed: it is deleted (`task.deleted`). 409 `not_proposed`
    for a task that is not a pending proposal (delete that one with DELETE)."""
    await tasks.dismiss(task_id)


@router.get("/tasks/{task_id}/attempts", operation_id="list_attempts")
async def list_attempts(task_id: str, attempts: AttemptsDep) -> list[AttemptPublic]:
    return [AttemptPublic.of(a) for a in await attempts.list_for_task(task_id)]


@router.post(
    "/tasks/{task_id}/attempts",
    status_code=status.HTTP_201_CREATED,
    operation_id="start_attempt",
    responses=errors(409, 500, 503),
)
async def start_attempt(task_id: str, body: AttemptCreate, attempts: AttemptsDep) -> AttemptPublic:
    return AttemptPublic.of(await attempts.start(task_id, **body.arguments()))
