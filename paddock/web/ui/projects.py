"""Pages: the project list (with the add form) and a project's settings."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from starlette.responses import HTMLResponse, Response

from paddock.inputs import ProjectCreate, ProjectUpdate
from paddock.web.deps import AppsDep, ProjectsDep, SandboxesDep, SettingsDep
from paddock.web.ui.forms import checked, lines, parse, sent
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
async def projects_page(request: Request, projects: ProjectsDep, apps: AppsDep) -> HTMLResponse:
    summaries = await projects.summaries()
    context = {"projects": summaries, "apps": await apps.list_all()}  # the builder face's too
    return render(request, "projects/list.html", context)


@router.post("/ui/projects/check", response_class=HTMLResponse)
async def check_path(
    request: Request, projects: ProjectsDep, path: Annotated[str, Form()] = ""
) -> HTMLResponse:
    check = await projects.check_path(path)
    return render(request, "projects/_path_check.html", {"check": check})


@router.post("/ui/projects")
async def add_project(request: Request, projects: ProjectsDep) -> Response:
    """POST /api/projects, from the list's form: its two buttons say register or create."""
    form = await request.form()
    # An empty path is the service's to refuse (path_not_absolute), as through the API.
    values = {**sent(form, "path", "name"), "create": form.get("mode") == "create"}
    body = parse(ProjectCreate, values)
    create = projects.create_repository if body.create else projects.register
    project = await create(body.path, **body.arguments())
    return redirect(f"/projects/{project.id}")


@router.get("/projects/{project_id}/settings", response_class=HTMLResponse)
async def settings_page(
    request: Request,
    project_id: str,
    projects: ProjectsDep,
    sandboxes: SandboxesDep,
    settings: SettingsDep,
) -> HTMLResponse:
    project = await projects.get(project_id)
    context = {
        "project": project,
        "script_fields": SCRIPT_FIELDS,
        "sandbox": await project_form(settings, sandboxes, project.sandbox),
    }
    return render(request, "projects/settings.html", context)


@router.post("/ui/projects/{project_id}/settings", response_class=HTMLResponse)
async def save_settings(request: Request, project_id: str, projects: ProjectsDep) -> HTMLResponse:
    """PATCH /api/projects/{id}, from the settings page."""
    form = await request.form()
    body = parse(ProjectUpdate, settings_values(form), fields=SETTINGS_FIELDS)
    await projects.update(project_id, **body.changes())
    return HTMLResponse('<span class="ok" role="status">Saved</span>')


# The form's field of each part of ProjectUpdate it fills in another shape.
SETTINGS_FIELDS = {f"scripts.{key}": f"script_{key}" for key, _, _ in SCRIPT_FIELDS}


def settings_values(form: Mapping[str, Any]) -> dict[str, Any]:
    """The settings form as ProjectUpdate's fields: a text area per script, the globs one per
    line, the "Sandbox" section."""
    scripts = {key: form[f"script_{key}"] for key, _, _ in SCRIPT_FIELDS if f"script_{key}" in form}
    values = {**sent(form, "name", "default_branch"), "scripts": scripts}
    if "copy_files" in form:
        values["copy_files"] = lines(str(form["copy_files"]))
    # The page's "When the agent works" boxes.
    for box in ("card_flow", "auto_preview", "agent_channel"):
        values[box] = checked(form, box)
    return {**values, "sandbox": sandbox_from_form(form, image=True)}


@router.post("/ui/projects/{project_id}/delete")
async def forget_project(project_id: str, projects: ProjectsDep) -> Response:
    await projects.delete(project_id)
    return redirect("/")
