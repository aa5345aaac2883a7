"""Pages: a project's workflow manager (its board columns: order, names, colours, what each
runs on entry and what its gate requires). Every change goes through the WorkflowService; the
board follows through its live stream (steps.updated)."""

from __future__ import annotations

import json
from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from starlette.datastructures import FormData
from starlette.responses import HTMLResponse

from paddock.domain.entities import WorkflowStep
from paddock.domain.errors import Conflict, InvalidInput
from paddock.domain.states import Automation, StepRole, TestKind
from paddock.domain.workflow import PROMPT_VARIABLES
from paddock.inputs import StepCreate, StepUpdate
from paddock.services.agents import AgentService
from paddock.services.board import BoardService
from paddock.web.deps import AgentsDep, BoardDep, ProjectsDep, WorkflowDep
from paddock.web.ui.forms import parse, sent
from paddock.web.ui.templating import render, render_fragment

router = APIRouter(include_in_schema=False)

AUTOMATIONS = [
    ("", "Nothing"),
    (Automation.run_agent.value, "Run the agent with the step's prompt"),
    (Automation.run_unit_tests.value, "Run the unit tests"),
    (Automation.run_e2e_tests.value, "Run the end-to-end tests"),
]
GATE_KINDS = [(TestKind.unit.value, "Unit tests"), (TestKind.e2e.value, "End-to-end tests")]
ROLES = [
    ("", "None"),
    (StepRole.in_progress.value, "In progress: a card comes here when an attempt starts"),
    (StepRole.review.value, "Review: a card comes here when the agent's turn ends"),
    (StepRole.done.value, "Done: a card comes here when its attempt is merged"),
]
# Errors of the step editor that belong to one of its fields (focused, shown beside it).
FIELD_OF_CODE = {
    "bad_prompt_template": "prompt_template",
    "agent_command_missing": "command",
    "unknown_variant": "agent",
    "bad_gate": "gate",
    "bad_step_name": "name",
    "bad_color": "color",
}


async def _list_context(
    board: BoardService, agents: AgentService, project_id: str
) -> dict[str, Any]:
    """What the list of steps shows: each step, how many tasks it holds, the agents to pick."""
    counts = await board.counts(project_id)
    return {
        "project_id": project_id,
        "steps": [step for step, _ in counts],
        "counts": {step.id: total for step, total in counts},
        "agents": agents.list_quick(),
        "automations": AUTOMATIONS,
        "gate_kinds": GATE_KINDS,
        "roles": ROLES,
        "variables": [("{{ " + name + " }}", what) for name, what in PROMPT_VARIABLES.items()],
    }


def _render_list(request: Request, context: dict[str, Any]) -> HTMLResponse:
    return render(request, "workflow/_list.html", context)


def _with_field(error: InvalidInput | Conflict) -> InvalidInput | Conflict:
    """The error, naming the form field it is about (the page marks and focuses it)."""
    field = FIELD_OF_CODE.get(error.code)
    if field and "field" not in error.details:
        error.details["field"] = field
    return error


@router.get("/projects/{project_id}/workflow", response_class=HTMLResponse)
async def workflow_page(
    request: Request, project_id: str, projects: ProjectsDep, board: BoardDep, agents: AgentsDep
) -> HTMLResponse:
    project = await projects.get(project_id)
    context = await _list_context(board, agents, project_id)
    return render(request, "workflow/page.html", {**context, "project": project})


@router.get("/ui/projects/{project_id}/steps", response_class=HTMLResponse)
async def step_list(
    request: Request, project_id: str, board: BoardDep, agents: AgentsDep
) -> HTMLResponse:
    return _render_list(request, await _list_context(board, agents, project_id))


@router.post("/ui/projects/{project_id}/steps", response_class=HTMLResponse)
async def add_step(
    request: Request,
    project_id: str,
    workflow: WorkflowDep,
    board: BoardDep,
    agents: AgentsDep,
) -> HTMLResponse:
    """POST /api/projects/{id}/steps, from the list's "add a step" form."""
    body = parse(StepCreate, sent(await request.form(), "name", "color"))
    try:
        step = await workflow.create(project_id, **body.arguments())
    except InvalidInput as error:
        raise _with_field(error) from None
    context = await _list_context(board, agents, project_id)
    return render(
        request,
        "workflow/_list.html",
        {**context, "added": step.id},
        headers={"HX-Trigger": json.dumps({"stepAdded": step.id})},
    )


@router.post("/ui/steps/{step_id}", response_class=HTMLResponse)
async def save_step_head(request: Request, step_id: str, workflow: WorkflowDep) -> HTMLResponse:
    """Rename and recolour (PATCH /api/steps/{id}): answers "Saved", and the step's title and
    swatch (out of band)."""
    body = parse(StepUpdate, sent(await request.form(), "name", "color"))
    try:
        step = await workflow.update(step_id, **body.changes())
    except InvalidInput as error:
        raise _with_field(error) from None
    return HTMLResponse(render_fragment("workflow/_saved.html", step=step, head=True))


@router.post("/ui/steps/{step_id}/settings", response_class=HTMLResponse)
async def save_step_settings(request: Request, step_id: str, workflow: WorkflowDep) -> HTMLResponse:
    """The step's agent, prompt template, automation and gate, from its editor (PATCH
    /api/steps/{id})."""
    body = parse(StepUpdate, _settings_from_form(await request.form()), fields=SETTINGS_FIELDS)
    try:
        step = await workflow.update(step_id, **body.changes())
    except (InvalidInput, Conflict) as error:
        raise _with_field(error) from None
    return HTMLResponse(render_fragment("workflow/_saved.html", step=step, head=False))


# The editor's field of each part of StepUpdate it fills in another shape.
SETTINGS_FIELDS = {"agent.command": "command"}


def _settings_from_form(form: FormData) -> dict[str, Any]:
    """The editor as StepUpdate's fields: the agent picker's "profile/variant" ("" is the
    attempt's own agent), a radio for the automation and one for the card flow's role ("" is
    none), a box per gate kind (the unchecked ones are not sent)."""
    return {
        "agent": _agent_from_form(str(form.get("agent", "")), form.get("command", "")),
        "prompt_template": form.get("prompt_template", ""),
        "automation": form.get("automation") or None,
        "gate": form.getlist("gate"),
        "role": form.get("role") or None,
    }


def _agent_from_form(choice: str, command: Any) -> dict[str, Any] | None:
    if not choice:
        return None
    profile, _, variant = choice.partition("/")
    return {"profile": profile, "variant": variant, "command": command}


@router.post("/ui/steps/{step_id}/delete", response_class=HTMLResponse)
async def delete_step(
    request: Request,
    step_id: str,
    workflow: WorkflowDep,
    board: BoardDep,
    agents: AgentsDep,
    move_tasks_to: Annotated[str, Form()] = "",
) -> HTMLResponse:
    step = await workflow.get(step_id)
    try:
        await workflow.delete(step_id, move_tasks_to=move_tasks_to or None)
    except Conflict as error:
        if error.code != "step_has_tasks":
            raise
        context = await _list_context(board, agents, step.project_id)
        return _ask_for_target(request, context, step, int(error.details.get("tasks", 0)))
    return _render_list(request, await _list_context(board, agents, step.project_id))


def _ask_for_target(
    request: Request, context: dict[str, Any], step: WorkflowStep, tasks: int
) -> HTMLResponse:
    """The step gained tasks since the page showed it: its delete form again, asking where
    they go, in place of the list the request expected."""
    context["counts"][step.id] = max(tasks, context["counts"].get(step.id, 0))
    return render(
        request,
        "workflow/_delete.html",
        {**context, "step": step, "asked": True},
        headers={"HX-Retarget": f"#delete-{step.id}", "HX-Reswap": "outerHTML"},
    )
