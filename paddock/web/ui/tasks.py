"""The task panel: edit a card, see its attempts, start a new one."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from starlette.responses import HTMLResponse, Response

from paddock.domain.entities import AgentSpec, Task
from paddock.services.attempts import default_prompt
from paddock.services.engine import Engine
from paddock.web.deps import AttemptsDep, EngineDep, TasksDep
from paddock.web.ui.agent_views import with_versions
from paddock.web.ui.forms import env_lines
from paddock.web.ui.projects import redirect
from paddock.web.ui.sandbox_views import attempt_form, sandbox_from_form
from paddock.web.ui.templating import render

router = APIRouter(include_in_schema=False)

DEFAULT_AGENT = "demo"
# Seconds the panel waits for CLIs not asked for their version yet (the board page asks them
# first, in the background); a version still unknown then is left out.
PANEL_VERSION_WAIT = 2.0


async def _panel(
    request: Request, engine: Engine, task: Task, *, saved: bool = False
) -> HTMLResponse:
    project = await engine.projects.get(task.project_id)
    context = {
        "task": task,
        "project": project,
        "steps": await engine.workflow.steps(task.project_id),
        "attempts": await engine.attempts.list_for_task(task.id),
        "agents": await with_versions(engine, wait=PANEL_VERSION_WAIT),
        "default_agent": DEFAULT_AGENT,
        "branches": await engine.projects.branches(project.id),
        "prompt": default_prompt(task),
        "sandbox": await attempt_form(engine, project.sandbox),
        "saved": saved,
    }
    return render(request, "tasks/_panel.html", context)


@router.get("/ui/tasks/{task_id}/panel", response_class=HTMLResponse)
async def task_panel(request: Request, task_id: str, engine: EngineDep) -> HTMLResponse:
    return await _panel(request, engine, await engine.tasks.get(task_id))


@router.post("/ui/tasks/{task_id}", response_class=HTMLResponse)
async def save_task(
    request: Request,
    task_id: str,
    engine: EngineDep,
    title: Annotated[str, Form()],
    description: Annotated[str, Form()] = "",
    step_id: Annotated[str, Form()] = "",
) -> HTMLResponse:
    current = await engine.tasks.get(task_id)
    moved = step_id and step_id != current.step_id
    task = await engine.tasks.update(
        task_id, title=title, description=description, step_id=step_id if moved else None
    )
    return await _panel(request, engine, task, saved=True)


@router.post("/ui/tasks/{task_id}/delete", response_class=HTMLResponse)
async def delete_task(task_id: str, tasks: TasksDep) -> HTMLResponse:
    await tasks.delete(task_id)
    return HTMLResponse('<p class="muted" role="status">Task deleted.</p>')


@router.post("/ui/tasks/{task_id}/attempts")
async def start_attempt(
    request: Request,
    task_id: str,
    attempts: AttemptsDep,
    profile: Annotated[str, Form()],
    variant: Annotated[str, Form()] = "default",
    command: Annotated[str, Form()] = "",
    prompt: Annotated[str, Form()] = "",
    base_branch: Annotated[str, Form()] = "",
    env: Annotated[str, Form()] = "",
    secret_env: Annotated[str, Form()] = "",
) -> Response:
    plain = env_lines(env, "Environment variables")
    secret = env_lines(secret_env, "Secret variables")
    # The "Sandbox" section: blank fields keep the project's choice (as the API's `sandbox`).
    sandbox = sandbox_from_form(await request.form())
    attempt = await attempts.start(
        task_id,
        agent=AgentSpec(
            profile=profile,
            variant=variant.strip() or "default",
            command=command.strip(),
            env={**plain, **secret},
            secret_env=sorted(secret),
        ),
        prompt=prompt.strip() or None,
        base_branch=base_branch.strip() or None,
        sandbox=sandbox,
    )
    return redirect(f"/attempts/{attempt.id}")
