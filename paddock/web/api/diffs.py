"""/api/attempts/{id}/diff: what an attempt changed against its base branch."""

from __future__ import annotations

from fastapi import APIRouter, Query

from paddock.domain.diff import Diff, FileDiff
from paddock.web.deps import EngineDep

router = APIRouter(tags=["diffs"])


@router.get("/attempts/{attempt_id}/diff", operation_id="get_attempt_diff")
async def get_attempt_diff(
    attempt_id: str,
    engine: EngineDep,
    patches: bool = Query(True, description="Include each file's unified diff (within limits)"),
) -> Diff:
    """Committed and uncommitted changes (untracked files included) since the merge-base with
    the base branch: per file its status, line counts, rename source; binary files listed
    without content; patches over the size limits left out with `too_large`, and `truncated`
    when the whole would be too big."""
    return await engine.diffs.diff(attempt_id, patches=patches)


@router.get("/attempts/{attempt_id}/diff/file", operation_id="get_attempt_file_diff")
async def get_attempt_file_diff(
    attempt_id: str, engine: EngineDep, path: str = Query(..., description="The file's path")
) -> FileDiff:
    return await engine.diffs.file(attempt_id, path)
