"""/api/apps/{id}/gate, /api/gates/{id}, /api/apps/{id}/changes, /api/changes/{id}: the
builder's decisions after a preview — the gate (iterate, ship, park), change requests talked
through and confirmed as iterations, the iteration budget and the alignment score
(docs/builder.md)."""

from __future__ import annotations

from fastapi import APIRouter, Depends, status

from paddock.domain.public import (
    AlignmentPublic,
    AppPublic,
    ChangeRequestPublic,
    GatePublic,
    IterationsPublic,
    PendingGatePublic,
)
from paddock.inputs import AnswersIn, ChangeConfirm, ChangeCreate, GateDecision
from paddock.web.deps import AppsDep, ChangesDep, DecisionsDep, require_feature
from paddock.web.error_docs import errors

router = APIRouter(tags=["decisions"], dependencies=[Depends(require_feature("builder"))])


@router.post("/apps/{app_id}/preview-viewed", operation_id="preview_viewed")
async def preview_viewed(app_id: str, decisions: DecisionsDep) -> PendingGatePublic:
    """The founder saw the latest version's preview: its decision gate (opened now, or the
    one pending); none when there is nothing to decide."""
    gate = await decisions.preview_seen(app_id)
    return PendingGatePublic(gate=GatePublic.of(gate) if gate else None)


@router.get("/apps/{app_id}/gate", operation_id="get_pending_gate")
async def get_pending_gate(app_id: str, decisions: DecisionsDep) -> PendingGatePublic:
    gate = await decisions.pending(app_id)
    return PendingGatePublic(gate=GatePublic.of(gate) if gate else None)


@router.get("/apps/{app_id}/gates", operation_id="list_gates")
async def list_gates(app_id: str, decisions: DecisionsDep) -> list[GatePublic]:
    return [GatePublic.of(g) for g in await decisions.list_for_app(app_id)]


@router.post("/gates/{gate_id}/resolve", operation_id="resolve_gate", responses=errors(409))
async def resolve_gate(gate_id: str, body: GateDecision, decisions: DecisionsDep) -> GatePublic:
    """Decide: iterate, ship or park (once; again is 409 `gate_resolved`)."""
    return GatePublic.of(await decisions.resolve(gate_id, body.choice, body.reason))


@router.post("/apps/{app_id}/park", operation_id="park_app", responses=errors(409))
async def park_app(app_id: str, decisions: DecisionsDep) -> AppPublic:
    """Pause the app: its previews stop and builds wait for a resume; nothing is lost."""
    return AppPublic.of(await decisions.park(app_id))


@router.post("/apps/{app_id}/resume", operation_id="resume_app", responses=errors(409))
async def resume_app(app_id: str, decisions: DecisionsDep) -> AppPublic:
    return AppPublic.of(await decisions.resume(app_id))


@router.post(
    "/apps/{app_id}/changes",
    status_code=status.HTTP_201_CREATED,
    operation_id="create_change",
    responses=errors(409, 502, 503),
)
async def create_change(
    app_id: str, body: ChangeCreate, changes: ChangesDep
) -> ChangeRequestPublic:
    """A change of the latest version in the founder's words, with one or two clarifying
    questions to answer (`questions`)."""
    return ChangeRequestPublic.of(await changes.create(app_id, body.description))


@router.get("/apps/{app_id}/changes", operation_id="list_changes")
async def list_changes(app_id: str, changes: ChangesDep) -> list[ChangeRequestPublic]:
    return [ChangeRequestPublic.of(c) for c in await changes.list_for_app(app_id)]


@router.get("/changes/{change_id}", operation_id="get_change")
async def get_change(change_id: str, changes: ChangesDep) -> ChangeRequestPublic:
    return ChangeRequestPublic.of(await changes.get(change_id))


@router.post(
    "/changes/{change_id}/answers", operation_id="answer_change", responses=errors(409, 502, 503)
)
async def answer_change(
    change_id: str, body: AnswersIn, changes: ChangesDep
) -> ChangeRequestPublic:
    """The answers: the clarified description and the brief features it touches, for the
    founder to confirm."""
    return ChangeRequestPublic.of(await changes.answer(change_id, body.answers))


@router.post("/changes/{change_id}/confirm", operation_id="confirm_change", responses=errors(409))
async def confirm_change(
    change_id: str, body: ChangeConfirm, changes: ChangesDep
) -> ChangeRequestPublic:
    """Yes: an iteration, its build queued (`build_id`). The tier's last iteration needs
    `confirm_last` (409 `last_iteration_unconfirmed`); past it, 409 `iteration_limit_reached`."""
    return ChangeRequestPublic.of(await changes.confirm(change_id, confirm_last=body.confirm_last))


@router.post("/changes/{change_id}/discard", operation_id="discard_change", responses=errors(409))
async def discard_change(change_id: str, changes: ChangesDep) -> ChangeRequestPublic:
    return ChangeRequestPublic.of(await changes.discard(change_id))


@router.get("/apps/{app_id}/iterations", operation_id="get_iterations")
async def get_iterations(app_id: str, changes: ChangesDep) -> IterationsPublic:
    """'Iteration 2 of 5 (Partner tier)': the app's iterations of its tier's limit."""
    return IterationsPublic.of(await changes.budget(app_id))


@router.get("/apps/{app_id}/alignment", operation_id="get_alignment", responses=errors(409))
async def get_alignment(app_id: str, apps: AppsDep, changes: ChangesDep) -> AlignmentPublic:
    """The app's change requests against its brief's core features: which touch which, which
    are new; green >= 80, yellow 60-79, red below (scope creep). It never blocks."""
    await apps.get(app_id)
    return AlignmentPublic.of(await changes.alignment(app_id))
