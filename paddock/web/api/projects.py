"""/api/projects: register or create repositories; their steps and tasks."""

from __future__ import annotations

from typing import Literal

from fastapi import APIRouter, Response, status
from pydantic import BaseModel, Field

from paddock.domain.entities import Project, Scripts, Task
from paddock.services.usage import ProjectUsage
from paddock.web.api.sandbox_models import SandboxIn
from paddock.web.deps import ProjectsDep, TasksDep, UsageDep

router = APIRouter(prefix="/projects", tags=["projects"])


class ScriptsIn(BaseModel):
    setup: str = ""
    dev: str = ""
    cleanup: str = ""
    unit_test: str = ""
    e2e_test: str = ""
    openapi: str = ""


class ProjectCreate(BaseModel):
    path: str = Field(description="Path of an existing git repository, or of a new one")
    name: str | None = Field(default=None, description="Defaults to the folder name")
    create: bool = Field(default=False, description="Create a new repository at `path`")
    scripts: ScriptsIn = Field(default_factory=ScriptsIn)
    copy_files: list[str] = Field(
        default_factory=list,
        description="Globs copied from the main checkout into each new worktree, e.g. .env",
    )
    sandbox: SandboxIn = Field(
        default_factory=SandboxIn, description="What the project's attempts run in"
    )


class ProjectUpdate(BaseModel):
    name: str | None = None
    default_branch: str | None = None
    scripts: dict[str, str] | None = None
    copy_files: list[str] | None = None
    auto_commit: bool | None = Field(
        default=None, description="Commit the worktree after each agent turn"
    )
    sandbox: SandboxIn | None = Field(
        default=None, description="Replaces the project's sandbox choice (new attempts)"
    )
    services: dict[str, str] | None = Field(
        default=None,
        description="Dev services besides the dev script (`web`), {name: command}; each gets "
        "its own port and preview host",
    )
    database: Literal["none", "sqlite", "postgres"] | None = Field(
        default=None, description="The database each attempt's preview gets as DATABASE_URL"
    )


class TaskCreate(BaseModel):
    title: str
    description: str = ""
    step_id: str | None = None


@router.get("", operation_id="list_projects")
async def list_projects(projects: ProjectsDep) -> list[Project]:
    return await projects.list_all()


@router.post("", status_code=status.HTTP_201_CREATED, operation_id="create_project")
async def create_project(body: ProjectCreate, projects: ProjectsDep) -> Project:
    scripts = Scripts(**body.scripts.model_dump())
    create = projects.create_repository if body.create else projects.register
    return await create(
        body.path,
        name=body.name,
        scripts=scripts,
        copy_files=body.copy_files,
        sandbox=body.sandbox.to_config(),
    )


@router.get("/{project_id}", operation_id="get_project")
async def get_project(project_id: str, projects: ProjectsDep) -> Project:
    return await projects.get(project_id)


@router.patch("/{project_id}", operation_id="update_project")
async def update_project(project_id: str, body: ProjectUpdate, projects: ProjectsDep) -> Project:
    if body.scripts is not None:
        ScriptsIn.model_validate(body.scripts)  # unknown script names are refused below
    changes = body.model_dump(exclude_unset=True, exclude={"sandbox"})
    if body.sandbox is not None:
        changes["sandbox"] = body.sandbox.to_config()
    return await projects.update(project_id, **changes)


@router.delete(
    "/{project_id}", status_code=status.HTTP_204_NO_CONTENT, operation_id="delete_project"
)
async def delete_project(project_id: str, projects: ProjectsDep) -> None:
    await projects.delete(project_id)


@router.get("/{project_id}/usage", operation_id="get_project_usage")
async def get_project_usage(project_id: str, usage: UsageDep) -> ProjectUsage:
    """Tokens and cost of the project's agent turns, in total and per attempt."""
    return await usage.for_project(project_id)


@router.get("/{project_id}/tasks", operation_id="list_tasks", response_model=list[Task])
async def list_tasks(project_id: str, tasks: TasksDep, step_id: str | None = None) -> Response:
    # Already JSON (the response model documents it): FastAPI's validate-and-dump path would
    # cost more than the query on a board of thousands of cards.
    return Response(await tasks.list_json(project_id, step_id), media_type="application/json")


@router.post("/{project_id}/tasks", status_code=status.HTTP_201_CREATED, operation_id="create_task")
async def create_task(project_id: str, body: TaskCreate, tasks: TasksDep) -> Task:
    return await tasks.create(
        project_id, title=body.title, description=body.description, step_id=body.step_id
    )
