"""The task panel: edit a card, see its attempts and its history, start a new attempt; accept
or dismiss a task an agent proposed (from the panel or from its card)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from starlette.responses import HTMLResponse, Response

from paddock.config import Settings
from paddock.domain.entities import Task
from paddock.domain.errors import NotFound
from paddock.inputs import AttemptCreate, TaskUpdate
from paddock.services.agents import AgentService
from paddock.services.attempts.attempts import AttemptService, default_prompt
from paddock.services.projects import ProjectService
from paddock.services.sandbox.sandbox_service import SandboxService
from paddock.services.task_moves import MoveService
from paddock.services.workflow import WorkflowService
from paddock.web.deps import (
    AgentsDep,
    AttemptsDep,
    MovesDep,
    ProjectsDep,
    SandboxesDep,
    SettingsDep,
    TasksDep,
    WorkflowDep,
)
from paddock.web.ui.agent_views import with_versions
from paddock.web.ui.forms import env_lines, parse, sent
from paddock.web.ui.sandbox_views import attempt_form, sandbox_from_form
from paddock.web.ui.templating import render

router = APIRouter(include_in_schema=False)

DEFAULT_AGENT = "demo"
# Seconds the panel waits for CLIs not asked for their version yet (the board page asks them
# first, in the background); a version still unknown then is left out.
PANEL_VERSION_WAIT = 2.0


@dataclass(frozen=True, slots=True)
class TaskPanel:
    """The task panel, from the services it reads: the project's steps and branches, the
    task's attempts and moves (its history), the agents and sandboxes a new attempt may use."""

    settings: Settings
    projects: ProjectService
    workflow: WorkflowService
    attempts: AttemptService
    agents: AgentService
    sandboxes: SandboxService
    moves: MoveService

    async def render(self, request: Request, task: Task, *, saved: bool = False) -> HTMLResponse:
        project = await self.projects.get(task.project_id)
        steps = await self.workflow.steps(task.project_id)
        context = {
            "task": task,
            "proposer": await self._proposer(task),
            "project": project,
            "steps": steps,
            # Newest first; a step deleted since is named as such.
            "history": list(reversed(await self.moves.history(task.id))),
            "step_names": {step.id: step.name for step in steps},
            "attempts": await self.attempts.list_for_task(task.id),
            "agents": await with_versions(self.agents, wait=PANEL_VERSION_WAIT),
            "default_agent": DEFAULT_AGENT,
            "branches": await self.projects.branches(project.id),
            "prompt": default_prompt(task),
            "sandbox": await attempt_form(self.settings, self.sandboxes, project.sandbox),
            "saved": saved,
        }
        return render(request, "tasks/_panel.html", context)

    async def _proposer(self, task: Task) -> str | None:
        """The branch of the attempt that proposed the task, while it still exists."""
        if task.proposed_by is None:
            return None
        try:
            return (await self.attempts.get(task.proposed_by)).branch
        except NotFound:
            return None


async def task_panel_of(
    settings: SettingsDep,
    projects: ProjectsDep,
    workflow: WorkflowDep,
    attempts: AttemptsDep,
    agents: AgentsDep,
    sandboxes: SandboxesDep,
    moves: MovesDep,
) -> TaskPanel:
    return TaskPanel(settings, projects, workflow, attempts, agents, sandboxes, moves)


TaskPanelDep = Annotated[TaskPanel, Depends(task_panel_of)]


@router.get("/ui/tasks/{task_id}/panel", response_class=HTMLResponse)
async def task_panel(
    request: Request, task_id: str, tasks: TasksDep, panel: TaskPanelDep
) -> HTMLResponse:
    return await panel.render(request, await tasks.get(task_id))


@router.post("/ui/tasks/{task_id}", response_class=HTMLResponse)
async def save_task(
    request: Request, task_id: str, tasks: TasksDep, panel: TaskPanelDep
) -> HTMLResponse:
    """PATCH /api/tasks/{id}, from the panel's form (its step picker shows the current step:
    the same step is no move)."""
    form = await request.form()
    body = parse(TaskUpdate, sent(form, "title", "description", "step_id"))
    task = await tasks.update(task_id, **body.changes())
    return await panel.render(request, task, saved=True)


@router.post("/ui/tasks/{task_id}/delete", response_class=HTMLResponse)
async def delete_task(task_id: str, tasks: TasksDep) -> HTMLResponse:
    await tasks.delete(task_id)
    return HTMLResponse('<p class="muted" role="status">Task deleted.</p>')


@router.post("/ui/tasks/{task_id}/accept")
async def accept_task(
    request: Request, task_id: str, tasks: TasksDep, panel: TaskPanelDep, in_panel: bool = False
) -> Response:
    """POST /api/tasks/{id}/accept, from the card (204: the board's live stream shows it) or
    from the task panel (`in_panel`: the panel again)."""
    task = await tasks.accept(task_id)
    if in_panel:
        return await panel.render(request, task)
    return Response(status_code=204)


@router.post("/ui/tasks/{task_id}/dismiss")
async def dismiss_task(task_id: str, tasks: TasksDep, in_panel: bool = False) -> Response:
    """POST /api/tasks/{id}/dismiss, from the card or from the task panel."""
    await tasks.dismiss(task_id)
    if in_panel:
        return HTMLResponse('<p class="muted" role="status">Proposal dismissed.</p>')
    return Response(status_code=204)


@router.post("/ui/tasks/{task_id}/attempts")
async def start_attempt(request: Request, task_id: str, attempts: AttemptsDep) -> Response:
    """POST /api/tasks/{id}/attempts, from the panel's form."""
    body = parse(AttemptCreate, attempt_values(await request.form()), fields=ATTEMPT_FIELDS)
    attempt = await attempts.start(task_id, **body.arguments())
    # It opens beside the board, in the panel the form was in (js/address.js).
    return Response(
        status_code=204, headers={"HX-Trigger": f'{{"attemptStarted": "{attempt.id}"}}'}
    )


# The form's field of each part of AttemptCreate it fills in another shape.
ATTEMPT_FIELDS = {
    "agent.profile": "profile",
    "agent.variant": "variant",
    "agent.command": "command",
    "agent.env": "env",
    "agent.secret_env": "secret_env",
}


def attempt_values(form: Mapping[str, Any]) -> dict[str, Any]:
    """The new-attempt form as AttemptCreate's fields: its agent fields flat, its variables as
    NAME=value lines (the secret ones in their own box, marked secret), its "Sandbox" section
    (blank fields keep the project's choice, as the API's `sandbox` left out does)."""
    plain = env_lines(str(form.get("env", "")), "Environment variables")
    secret = env_lines(str(form.get("secret_env", "")), "Secret variables")
    agent = sent(form, "profile", "variant", "command")
    return {
        **sent(form, "prompt", "base_branch"),
        "agent": {**agent, "env": {**plain, **secret}, "secret_env": sorted(secret)},
        "sandbox": sandbox_from_form(form),
    }
