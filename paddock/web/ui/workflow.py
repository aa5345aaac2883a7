"""Pages: a project's workflow manager (its board columns: order, names, colours, what each
runs on entry and what its gate requires). Every change goes through engine.workflow; the
board follows through its live stream (steps.updated)."""

from __future__ import annotations

import json
from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from starlette.datastructures import FormData
from starlette.responses import HTMLResponse

from paddock.domain.entities import AgentSpec, WorkflowStep
from paddock.domain.errors import Conflict, InvalidInput
from paddock.domain.states import Automation, TestKind
from paddock.domain.workflow import PROMPT_VARIABLES
from paddock.services.engine import Engine
from paddock.web.deps import EngineDep, WorkflowDep
from paddock.web.ui.templating import render, render_fragment

router = APIRouter(include_in_schema=False)

AUTOMATIONS = [
    ("", "Nothing"),
    (Automation.run_agent.value, "Run the agent with the step's prompt"),
    (Automation.run_unit_tests.value, "Run the unit tests"),
    (Automation.run_e2e_tests.value, "Run the end-to-end tests"),
]
GATE_KINDS = [(TestKind.unit.value, "Unit tests"), (TestKind.e2e.value, "End-to-end tests")]
# Errors of the step editor that belong to one of its fields (focused, shown beside it).
FIELD_OF_CODE = {
    "bad_prompt_template": "prompt_template",
    "agent_command_missing": "command",
    "unknown_variant": "agent",
    "bad_automation": "automation",
    "bad_gate": "gate",
    "bad_step_name": "name",
    "bad_color": "color",
}


async def _list_context(engine: Engine, project_id: str) -> dict[str, Any]:
    """What the list of steps shows: each step, how many tasks it holds, the agents to pick."""
    counts = await engine.board.counts(project_id)
    return {
        "project_id": project_id,
        "steps": [step for step, _ in counts],
        "counts": {step.id: total for step, total in counts},
        "agents": engine.agents.list_quick(),
        "automations": AUTOMATIONS,
        "gate_kinds": GATE_KINDS,
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
async def workflow_page(request: Request, project_id: str, engine: EngineDep) -> HTMLResponse:
    project = await engine.projects.get(project_id)
    context = await _list_context(engine, project_id)
    return render(request, "workflow/page.html", {**context, "project": project})


@router.get("/ui/projects/{project_id}/steps", response_class=HTMLResponse)
async def step_list(request: Request, project_id: str, engine: EngineDep) -> HTMLResponse:
    return _render_list(request, await _list_context(engine, project_id))


@router.post("/ui/projects/{project_id}/steps", response_class=HTMLResponse)
async def add_step(
    request: Request,
    project_id: str,
    engine: EngineDep,
    name: Annotated[str, Form()],
    color: Annotated[str, Form()] = "#64748b",
) -> HTMLResponse:
    try:
        step = await engine.workflow.create(project_id, name=name, color=color)
    except InvalidInput as error:
        raise _with_field(error) from None
    context = await _list_context(engine, project_id)
    return render(
        request,
        "workflow/_list.html",
        {**context, "added": step.id},
        headers={"HX-Trigger": json.dumps({"stepAdded": step.id})},
    )


@router.post("/ui/steps/{step_id}", response_class=HTMLResponse)
async def save_step_head(
    step_id: str,
    workflow: WorkflowDep,
    name: Annotated[str, Form()],
    color: Annotated[str, Form()],
) -> HTMLResponse:
    """Rename and recolour: answers "Saved", and the step's title and swatch (out of band)."""
    try:
        step = await workflow.update(step_id, name=name, color=color)
    except InvalidInput as error:
        raise _with_field(error) from None
    return HTMLResponse(render_fragment("workflow/_saved.html", step=step, head=True))


@router.post("/ui/steps/{step_id}/settings", response_class=HTMLResponse)
async def save_step_settings(request: Request, step_id: str, workflow: WorkflowDep) -> HTMLResponse:
    """The step's agent, prompt template, automation and gate, from its editor."""
    form = await request.form()
    try:
        step = await workflow.update(step_id, **_settings_from_form(form))
    except (InvalidInput, Conflict) as error:
        raise _with_field(error) from None
    return HTMLResponse(render_fragment("workflow/_saved.html", step=step, head=False))


def _settings_from_form(form: FormData) -> dict[str, Any]:
    automation = str(form.get("automation", ""))
    if automation and automation not in {a.value for a in Automation}:
        raise InvalidInput(f"no automation {automation!r}", code="bad_automation")
    return {
        "agent": _agent_from_form(str(form.get("agent", "")), str(form.get("command", ""))),
        "prompt_template": str(form.get("prompt_template", "")),
        "automation": Automation(automation) if automation else None,
        "gate": [str(kind) for kind in form.getlist("gate")],
    }


def _agent_from_form(choice: str, command: str) -> AgentSpec | None:
    """ "profile/variant" from the agent picker; "" is the attempt's own agent."""
    if not choice:
        return None
    profile, _, variant = choice.partition("/")
    return AgentSpec(profile=profile, variant=variant or "default", command=command.strip())


@router.post("/ui/steps/{step_id}/delete", response_class=HTMLResponse)
async def delete_step(
    request: Request,
    step_id: str,
    engine: EngineDep,
    move_tasks_to: Annotated[str, Form()] = "",
) -> HTMLResponse:
    step = await engine.workflow.get(step_id)
    try:
        await engine.workflow.delete(step_id, move_tasks_to=move_tasks_to or None)
    except Conflict as error:
        if error.code != "step_has_tasks":
            raise
        return await _ask_for_target(request, engine, step, int(error.details.get("tasks", 0)))
    return _render_list(request, await _list_context(engine, step.project_id))


async def _ask_for_target(
    request: Request, engine: Engine, step: WorkflowStep, tasks: int
) -> HTMLResponse:
    """The step gained tasks since the page showed it: its delete form again, asking where
    they go, in place of the list the request expected."""
    context = await _list_context(engine, step.project_id)
    context["counts"][step.id] = max(tasks, context["counts"].get(step.id, 0))
    return render(
        request,
        "workflow/_delete.html",
        {**context, "step": step, "asked": True},
        headers={"HX-Retarget": f"#delete-{step.id}", "HX-Reswap": "outerHTML"},
    )
