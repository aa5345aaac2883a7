"""/api/attempts: one try at a task; its processes."""

from __future__ import annotations

from fastapi import APIRouter, status

from paddock.domain.entities import Attempt, Process
from paddock.web.api.tasks import public_attempt
from paddock.web.deps import EngineDep

router = APIRouter(prefix="/attempts", tags=["attempts"])


@router.get("/{attempt_id}", operation_id="get_attempt")
async def get_attempt(attempt_id: str, engine: EngineDep) -> Attempt:
    return public_attempt(await engine.attempts.get(attempt_id))


@router.delete(
    "/{attempt_id}", status_code=status.HTTP_204_NO_CONTENT, operation_id="delete_attempt"
)
async def delete_attempt(attempt_id: str, engine: EngineDep, delete_branch: bool = False) -> None:
    """Stop its processes, run the cleanup script, remove the worktree (and the branch)."""
    await engine.attempts.delete(attempt_id, delete_branch=delete_branch)


@router.post("/{attempt_id}/stop", operation_id="stop_attempt")
async def stop_attempt(attempt_id: str, engine: EngineDep) -> Attempt:
    return public_attempt(await engine.attempts.stop(attempt_id))


@router.get("/{attempt_id}/processes", operation_id="list_processes")
async def list_processes(attempt_id: str, engine: EngineDep) -> list[Process]:
    await engine.attempts.get(attempt_id)
    return await engine.processes.list_for_attempt(attempt_id)
