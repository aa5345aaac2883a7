"""/api/projects: register or create repositories; their steps and tasks."""

from __future__ import annotations

from fastapi import APIRouter, Response, status

from paddock.domain.public import ProjectPublic, PublicModel, TaskPublic, UsagePublic
from paddock.inputs import ProjectCreate, ProjectUpdate, TaskCreate
from paddock.services.sandbox.usage import ProjectUsage
from paddock.web.deps import ProjectsDep, TasksDep, UsageDep
from paddock.web.error_docs import errors

router = APIRouter(prefix="/projects", tags=["projects"])


class AttemptUsageOut(PublicModel):
    attempt_id: str
    task_id: str
    usage: UsagePublic


class ProjectUsageOut(PublicModel):
    total: UsagePublic
    attempts: list[AttemptUsageOut]

    @classmethod
    def of(cls, usage: ProjectUsage) -> ProjectUsageOut:
        return cls.read(usage)


@router.get("", operation_id="list_projects")
async def list_projects(projects: ProjectsDep) -> list[ProjectPublic]:
    return [ProjectPublic.of(p) for p in await projects.list_all()]


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    operation_id="create_project",
    responses=errors(409, 500, 503),
)
async def create_project(body: ProjectCreate, projects: ProjectsDep) -> ProjectPublic:
    create = projects.create_repository if body.create else projects.register
    return ProjectPublic.of(await create(body.path, **body.arguments()))


@router.get("/{project_id}", operation_id="get_project")
async def get_project(project_id: str, projects: ProjectsDep) -> ProjectPublic:
    return ProjectPublic.of(await projects.get(project_id))


@router.patch("/{project_id}", operation_id="update_project", responses=errors(409, 500, 503))
async def update_project(
    project_id: str, body: ProjectUpdate, projects: ProjectsDep
) -> ProjectPublic:
    return ProjectPublic.of(await projects.update(project_id, **body.changes()))


@router.delete(
    "/{project_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    operation_id="delete_project",
    responses=errors(409),
)
async def delete_project(project_id: str, projects: ProjectsDep) -> None:
    await projects.delete(project_id)


@router.get("/{project_id}/usage", operation_id="get_project_usage")
async def get_project_usage(project_id: str, usage: UsageDep) -> ProjectUsageOut:
    """Tokens and cost of the project's agent turns, in total and per attempt."""
    return ProjectUsageOut.of(await usage.for_project(project_id))


@router.get("/{project_id}/tasks", operation_id="list_tasks", response_model=list[TaskPublic])
async def list_tasks(project_id: str, tasks: TasksDep, step_id: str | None = None) -> Response:
    # Already JSON, TaskPublic's fields made by the store (the response model documents it;
    # tests/store/test_tasks_json.py keeps them equal): FastAPI's validate-and-dump path would
    # cost more than the query on a board of thousands of cards.
    return Response(await tasks.list_json(project_id, step_id), media_type="application/json")


@router.post("/{project_id}/tasks", status_code=status.HTTP_201_CREATED, operation_id="create_task")
async def create_task(project_id: str, body: TaskCreate, tasks: TasksDep) -> TaskPublic:
    created = await tasks.create(
        project_id, title=body.title, description=body.description, step_id=body.step_id
    )
    return TaskPublic.of(created)
