"""/api/tasks: one card; its attempts."""

from __future__ import annotations

from fastapi import APIRouter, status
from pydantic import BaseModel, Field

from paddock.domain.entities import AgentSpec, Attempt, Task
from paddock.web.api.sandbox_models import SandboxIn
from paddock.web.deps import AttemptsDep, TasksDep

router = APIRouter(tags=["tasks"])


class TaskUpdate(BaseModel):
    title: str | None = None
    description: str | None = None
    step_id: str | None = None
    index: int | None = Field(default=None, ge=0, description="Place within the step")
    below: str | None = Field(
        default=None,
        description='Put the card just below this task of the step ("" = at the top); '
        "exact whatever part of the column a client shows. Wins over `index`.",
    )


class AgentIn(BaseModel):
    profile: str = "script"
    variant: str = Field(default="default", description="One of the profile's variants")
    command: str = Field(default="", description="For the script agent: the shell command")
    env: dict[str, str] = Field(default_factory=dict)
    secret_env: list[str] = Field(
        default_factory=list, description="Names in env whose values are secret"
    )


class AttemptCreate(BaseModel):
    agent: AgentIn = Field(default_factory=AgentIn)
    prompt: str | None = Field(default=None, description="Defaults to the task's text")
    base_branch: str | None = None
    branch: str | None = Field(default=None, description="Defaults to paddock/<id>-<slug>")
    sandbox: SandboxIn | None = Field(
        default=None, description="Overrides the project's sandbox choice for this attempt"
    )


@router.get("/tasks/{task_id}", operation_id="get_task")
async def get_task(task_id: str, tasks: TasksDep) -> Task:
    return await tasks.get(task_id)


@router.patch("/tasks/{task_id}", operation_id="update_task")
async def update_task(task_id: str, body: TaskUpdate, tasks: TasksDep) -> Task:
    return await tasks.update(task_id, **body.model_dump(exclude_unset=True))


@router.delete(
    "/tasks/{task_id}", status_code=status.HTTP_204_NO_CONTENT, operation_id="delete_task"
)
async def delete_task(task_id: str, tasks: TasksDep) -> None:
    await tasks.delete(task_id)


@router.get("/tasks/{task_id}/attempts", operation_id="list_attempts")
async def list_attempts(task_id: str, attempts: AttemptsDep) -> list[Attempt]:
    return await attempts.list_for_task(task_id)


@router.post(
    "/tasks/{task_id}/attempts", status_code=status.HTTP_201_CREATED, operation_id="start_attempt"
)
async def start_attempt(task_id: str, body: AttemptCreate, attempts: AttemptsDep) -> Attempt:
    return await attempts.start(
        task_id,
        agent=AgentSpec(**body.agent.model_dump()),
        prompt=body.prompt,
        base_branch=body.base_branch,
        branch=body.branch,
        sandbox=body.sandbox.to_config() if body.sandbox else None,
    )
