"""/api/attempts: one try at a task; its processes."""

from __future__ import annotations

from fastapi import APIRouter, Query, status

from paddock.domain.public import AttemptPublic, ProcessPublic, UsagePublic
from paddock.inputs import RewindIn
from paddock.web.deps import AttemptsDep, ProcessesDep, UsageDep
from paddock.web.error_docs import errors

router = APIRouter(prefix="/attempts", tags=["attempts"])


@router.get("/{attempt_id}", operation_id="get_attempt")
async def get_attempt(attempt_id: str, attempts: AttemptsDep) -> AttemptPublic:
    return AttemptPublic.of(await attempts.get(attempt_id))


@router.delete(
    "/{attempt_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    operation_id="delete_attempt",
    responses=errors(409, 500, 503),
)
async def delete_attempt(
    attempt_id: str, attempts: AttemptsDep, delete_branch: bool = False
) -> None:
    """Stop its processes, run the cleanup script, remove the worktree (and the branch)."""
    await attempts.delete(attempt_id, delete_branch=delete_branch)


@router.post("/{attempt_id}/stop", operation_id="stop_attempt")
async def stop_attempt(attempt_id: str, attempts: AttemptsDep) -> AttemptPublic:
    return AttemptPublic.of(await attempts.stop(attempt_id))


@router.get("/{attempt_id}/processes", operation_id="list_processes")
async def list_processes(
    attempt_id: str,
    attempts: AttemptsDep,
    processes: ProcessesDep,
    include_dropped: bool = Query(False, description="Also the turns rewound past"),
) -> list[ProcessPublic]:
    await attempts.get(attempt_id)
    found = await processes.list_for_attempt(attempt_id, include_dropped=include_dropped)
    return [ProcessPublic.of(p) for p in found]


@router.post("/{attempt_id}/rewind", operation_id="rewind_attempt", responses=errors(409, 500, 503))
async def rewind_attempt(attempt_id: str, body: RewindIn, attempts: AttemptsDep) -> AttemptPublic:
    """Reset the worktree to the commit recorded before that agent turn (untracked files are
    removed, ignored ones kept). The turn and every later process are marked `dropped`: kept
    for the record, left out of process lists unless `include_dropped=true`. The next
    follow-up resumes the agent's session from the newest kept turn and is told about the
    rewind. 409 `attempt_busy` while something runs."""
    return AttemptPublic.of(await attempts.rewind(attempt_id, body.process_id))


@router.get("/{attempt_id}/usage", operation_id="get_attempt_usage")
async def get_attempt_usage(attempt_id: str, usage: UsageDep) -> UsagePublic:
    """Tokens and cost of every agent turn of the attempt (rewound ones too: they were spent).
    `cost_usd` is null when no turn's CLI reported a cost."""
    return UsagePublic.of(await usage.for_attempt(attempt_id))
