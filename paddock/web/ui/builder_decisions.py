"""The builder face's decisions after a preview: the gate (iterate / ship / park), parking, the
change conversation that replaces "Want something changed?", and the header's iteration badge
and alignment meter.

    preview seen (js/builder.js, once a page)  → DecisionService.preview_seen → the gate panel
    gate choice                                → DecisionService.resolve (park parks the app)
    "What should change?"                      → ChangeService.create     (its questions)
    the answers                                → ChangeService.answer     (the confirmation card)
    Confirm / Discard                          → ChangeService.confirm / discard

Each form posts here, is read by the API's input model and calls the same service method as
/api/apps/{id}/...; the answer sends the browser to the app's page (HX-Redirect), where the
next step shows. The one exception is the preview-seen call, whose answer is the gate panel
itself: the page shows it without a reload.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from fastapi import APIRouter, Request
from starlette.responses import HTMLResponse, Response

from paddock.domain.builder.apps import App
from paddock.domain.builder.changes import ChangeRequest, IterationBudget
from paddock.domain.builder.gates import Gate, GateChoice
from paddock.domain.errors import Conflict
from paddock.inputs import AnswersIn, ChangeConfirm, ChangeCreate, GateDecision
from paddock.services.builder.changes import ChangeService
from paddock.services.builder.decisions import DecisionService
from paddock.web.deps import AppsDep, ChangesDep, DecisionsDep
from paddock.web.ui.forms import answers_from, checked, parse
from paddock.web.ui.projects import redirect
from paddock.web.ui.templating import render_fragment

router = APIRouter(include_in_schema=False)

# Where the app's page goes once loaded again (js/builder.js reads `at`, then drops it from the
# address). A query, not a #fragment: a redirect to the same page with only a fragment added
# would scroll the old page instead of loading the new one.
AT_CHANGE = "?at=change"  # the change conversation, its first field focused
AT_DEPLOY_CHECK = "?at=deploy-check"  # the deploy section, its check run
AT_BUILDS = "?at=builds"  # the build card


def app_url(app_id: str) -> str:
    return f"/apps/{app_id}"


# -- what the page shows --------------------------------------------------------------------


def gate_context(app: App, gate: Gate | None) -> dict[str, Any]:
    """What builder/_gate.html shows: the pending gate's question and its choices."""
    return {"app": app, "gate": gate, "choices": list(GateChoice)}


async def change_context(app: App, changes: ChangeService) -> dict[str, Any]:
    """What builder/_change.html shows: the open change (its questions, or its clarified
    description awaiting a yes) or the empty form, and the iteration it would be."""
    budget = await changes.budget(app.id)
    open_change = next((c for c in await changes.list_for_app(app.id) if c.status.open), None)
    return {
        "app": app,
        "change": open_change,
        "budget": budget,
        "next_label": next_iteration_label(budget),
    }


def next_iteration_label(budget: IterationBudget) -> str:
    """'Iteration 3 of 5 (Partner tier)': the one a confirmed change would use."""
    return replace(budget, used=budget.next).label


async def header_context(app: App, changes: ChangeService, has_version: bool) -> dict[str, Any]:
    """The header's iteration badge and alignment meter, once there is a first version."""
    if not has_version:
        return {"budget": None, "alignment": None}
    budget = await changes.budget(app.id)
    try:
        alignment = await changes.alignment(app.id)
    except Conflict:  # no brief: nothing to align with
        alignment = None
    return {"budget": budget, "alignment": alignment}


async def decisions_context(
    app: App, decisions: DecisionService, changes: ChangeService, has_version: bool
) -> dict[str, Any]:
    """Everything of this module the app's page shows on load."""
    gate = await decisions.pending(app.id) if has_version and not app.parked else None
    context = gate_context(app, gate)
    context.update(await header_context(app, changes, has_version))
    if has_version:
        context["change_ctx"] = await change_context(app, changes)
    return context


# -- the gate -------------------------------------------------------------------------------


@router.post("/ui/apps/{app_id}/preview-viewed", response_class=HTMLResponse)
async def preview_viewed(app_id: str, apps: AppsDep, decisions: DecisionsDep) -> HTMLResponse:
    """POST /api/apps/{id}/preview-viewed: the gate panel to show (empty when there is
    nothing to decide)."""
    gate = await decisions.preview_seen(app_id)
    if gate is None:
        return HTMLResponse("", headers={"cache-control": "no-store"})
    app = await apps.get(app_id)
    html = render_fragment("builder/_gate.html", **gate_context(app, gate))
    return HTMLResponse(html, headers={"cache-control": "no-store"})


@router.post("/ui/gates/{gate_id}/resolve")
async def resolve_gate(request: Request, gate_id: str, decisions: DecisionsDep) -> Response:
    """POST /api/gates/{id}/resolve; then the part of the page the choice leads to."""
    form = await request.form()
    body = parse(GateDecision, {"choice": form.get("choice", ""), "reason": form.get("reason", "")})
    gate = await decisions.resolve(gate_id, body.choice, body.reason)
    return redirect(app_url(gate.app_id) + after_choice(body.choice))


def after_choice(choice: GateChoice) -> str:
    """Where the page goes after a decision: the change form, the deploy check, the top."""
    return {
        GateChoice.iterate: AT_CHANGE,
        GateChoice.ship: AT_DEPLOY_CHECK,
        GateChoice.park: "",
    }[choice]


@router.post("/ui/apps/{app_id}/resume")
async def resume_app(app_id: str, decisions: DecisionsDep) -> Response:
    """POST /api/apps/{id}/resume: the parked app is back."""
    await decisions.resume(app_id)
    return redirect(app_url(app_id))


# -- the change conversation ----------------------------------------------------------------


@router.post("/ui/apps/{app_id}/changes")
async def create_change(request: Request, app_id: str, changes: ChangesDep) -> Response:
    """POST /api/apps/{id}/changes: "What should change?"; its questions come next."""
    body = parse(ChangeCreate, {"description": (await request.form()).get("description", "")})
    await changes.create(app_id, body.description)
    return redirect(app_url(app_id) + AT_CHANGE)


@router.post("/ui/changes/{change_id}/answers")
async def answer_change(request: Request, change_id: str, changes: ChangesDep) -> Response:
    """POST /api/changes/{id}/answers: each question's text area, by the question's id."""
    form = await request.form()
    body = parse(AnswersIn, {"answers": answers_from(form)})
    change = await changes.answer(change_id, body.answers)
    return redirect(app_url(change.app_id) + AT_CHANGE)


@router.post("/ui/changes/{change_id}/confirm")
async def confirm_change(request: Request, change_id: str, changes: ChangesDep) -> Response:
    """POST /api/changes/{id}/confirm: an iteration, its build queued (shown live)."""
    form = await request.form()
    body = parse(ChangeConfirm, {"confirm_last": checked(form, "confirm_last")})
    change = await changes.confirm(change_id, confirm_last=body.confirm_last)
    return redirect(app_url(change.app_id) + AT_BUILDS)


@router.post("/ui/changes/{change_id}/discard")
async def discard_change(change_id: str, changes: ChangesDep) -> Response:
    """POST /api/changes/{id}/discard: the change is dropped; the empty form again."""
    change: ChangeRequest = await changes.discard(change_id)
    return redirect(app_url(change.app_id) + AT_CHANGE)
