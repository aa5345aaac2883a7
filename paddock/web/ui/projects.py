"""Pages: the project list (with the add form) and a project's settings."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from starlette.responses import HTMLResponse, Response

from paddock.web.deps import EngineDep, ProjectsDep
from paddock.web.ui.forms import lines
from paddock.web.ui.sandbox_views import project_form, sandbox_from_form
from paddock.web.ui.templating import render

router = APIRouter(include_in_schema=False)

SCRIPT_FIELDS = [
    ("setup", "Setup", "(after the worktree is made, before the agent)"),
    ("dev", "Dev server", "(for previews; use $PORT)"),
    ("cleanup", "Cleanup", "(when an attempt is deleted)"),
    ("unit_test", "Unit tests", ""),
    ("e2e_test", "End-to-end tests", ""),
    ("openapi", "OpenAPI spec", "(writes to $OPENAPI_OUTPUT)"),
]


def redirect(url: str) -> Response:
    """Where htmx should go next (a full page load)."""
    return Response(status_code=204, headers={"HX-Redirect": url})


@router.get("/", response_class=HTMLResponse)
async def projects_page(request: Request, projects: ProjectsDep) -> HTMLResponse:
    summaries = await projects.summaries()
    return render(request, "projects/list.html", {"projects": summaries})


@router.post("/ui/projects/check", response_class=HTMLResponse)
async def check_path(
    request: Request, projects: ProjectsDep, path: Annotated[str, Form()] = ""
) -> HTMLResponse:
    check = await projects.check_path(path)
    return render(request, "projects/_path_check.html", {"check": check})


@router.post("/ui/projects")
async def add_project(
    projects: ProjectsDep,
    # An empty path is the service's to refuse (path_not_absolute), as through the API.
    path: Annotated[str, Form()] = "",
    name: Annotated[str, Form()] = "",
    mode: Annotated[str, Form()] = "register",
) -> Response:
    if mode == "create":
        project = await projects.create_repository(path.strip(), name=name or None)
    else:
        project = await projects.register(path.strip(), name=name or None)
    return redirect(f"/projects/{project.id}")


@router.get("/projects/{project_id}/settings", response_class=HTMLResponse)
async def settings_page(request: Request, project_id: str, engine: EngineDep) -> HTMLResponse:
    project = await engine.projects.get(project_id)
    context = {
        "project": project,
        "script_fields": SCRIPT_FIELDS,
        "sandbox": await project_form(engine, project.sandbox),
    }
    return render(request, "projects/settings.html", context)


@router.post("/ui/projects/{project_id}/settings", response_class=HTMLResponse)
async def save_settings(request: Request, project_id: str, projects: ProjectsDep) -> HTMLResponse:
    form = await request.form()
    scripts = {key: str(form.get(f"script_{key}", "")).strip() for key, _, _ in SCRIPT_FIELDS}
    await projects.update(
        project_id,
        name=str(form.get("name", "")),
        default_branch=str(form.get("default_branch", "")).strip(),
        scripts=scripts,
        copy_files=lines(str(form.get("copy_files", ""))),
        sandbox=sandbox_from_form(form, image=True),  # what PATCH /api/projects/{id} does
    )
    return HTMLResponse('<span class="ok" role="status">Saved</span>')


@router.post("/ui/projects/{project_id}/delete")
async def forget_project(project_id: str, projects: ProjectsDep) -> Response:
    await projects.delete(project_id)
    return redirect("/")
