"""/api/attempts/{id}/merge: landing an attempt on its base branch."""

from __future__ import annotations

from fastapi import APIRouter
from pydantic import BaseModel, Field

from paddock.domain.entities import Attempt
from paddock.domain.merge import MergeStrategy
from paddock.web.api.tasks import public_attempt
from paddock.web.deps import EngineDep

router = APIRouter(tags=["merges"])


class MergeIn(BaseModel):
    strategy: MergeStrategy = Field(
        MergeStrategy.squash,
        description="squash (one commit), merge (a merge commit) or rebase (fast-forward)",
    )
    message: str | None = Field(None, description="The commit message; default: the task's")
    remove_worktree: bool = Field(False, description="Remove the attempt's worktree afterwards")
    delete_branch: bool = Field(False, description="Delete the attempt's branch afterwards")


@router.post("/attempts/{attempt_id}/merge", operation_id="merge_attempt")
async def merge_attempt(attempt_id: str, engine: EngineDep, body: MergeIn | None = None) -> Attempt:
    """Merge the attempt into its base branch. Refused (409, nothing changed) when the attempt
    is busy (`attempt_busy`), has uncommitted changes (`attempt_uncommitted`), its base moved on
    (`base_moved`: rebase first), has nothing to merge, or the base is checked out somewhere
    with uncommitted changes (`base_checkout_dirty`). Then its task moves to Done and its
    previews stop."""
    body = body or MergeIn()
    attempt = await engine.merges.merge(
        attempt_id,
        body.strategy,
        message=body.message,
        remove_worktree=body.remove_worktree,
        delete_branch=body.delete_branch,
    )
    return public_attempt(attempt)
