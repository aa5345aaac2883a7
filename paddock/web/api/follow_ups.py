"""/api/attempts/{id}/follow-ups and /api/follow-ups/{id}: prompts queued for an agent."""

from __future__ import annotations

from fastapi import APIRouter, status

from paddock.domain.public import FollowUpPublic
from paddock.inputs import FollowUpCreate
from paddock.web.deps import AttemptsDep
from paddock.web.error_docs import errors

router = APIRouter(tags=["follow-ups"])


@router.post(
    "/attempts/{attempt_id}/follow-ups",
    status_code=status.HTTP_201_CREATED,
    operation_id="create_follow_up",
    responses=errors(409, 503),
)
async def create_follow_up(
    attempt_id: str, body: FollowUpCreate, attempts: AttemptsDep
) -> FollowUpPublic:
    """Queue a prompt for the attempt's agent. It runs when the agent is free (at once when
    it is idle), resuming the agent's own session; the queue survives a restart."""
    return FollowUpPublic.of(await attempts.follow_up(attempt_id, body.prompt))


@router.get("/attempts/{attempt_id}/follow-ups", operation_id="list_follow_ups")
async def list_follow_ups(attempt_id: str, attempts: AttemptsDep) -> list[FollowUpPublic]:
    return [FollowUpPublic.of(f) for f in await attempts.list_follow_ups(attempt_id)]


@router.delete("/follow-ups/{follow_up_id}", operation_id="cancel_follow_up", responses=errors(409))
async def cancel_follow_up(follow_up_id: str, attempts: AttemptsDep) -> FollowUpPublic:
    """Cancel a queued follow-up (one already running is stopped with the attempt's stop)."""
    return FollowUpPublic.of(await attempts.cancel_follow_up(follow_up_id))
