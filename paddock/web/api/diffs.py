"""/api/attempts/{id}/diff: what an attempt changed against its base branch; /commit and
/discard: its worktree's uncommitted changes committed by hand, or undone."""

from __future__ import annotations

from collections.abc import AsyncIterator

from fastapi import APIRouter, Query
from starlette.responses import StreamingResponse

from paddock.domain.entities import Event
from paddock.domain.events import EventType
from paddock.domain.public import DiffPublic, DiscardedPublic, FileDiffPublic, ManualCommitPublic
from paddock.inputs import CommitIn
from paddock.web.deps import (
    AttemptsDep,
    DiffsDep,
    DiffWatchDep,
    EventsDep,
    SettingsDep,
    WorktreeChangesDep,
)
from paddock.web.error_docs import errors
from paddock.web.sse import HEARTBEAT, sse_event, sse_response

router = APIRouter(tags=["diffs"])


@router.get(
    "/attempts/{attempt_id}/diff", operation_id="get_attempt_diff", responses=errors(409, 500, 503)
)
async def get_attempt_diff(
    attempt_id: str,
    diffs: DiffsDep,
    patches: bool = Query(True, description="Include each file's unified diff (within limits)"),
) -> DiffPublic:
    """Committed and uncommitted changes (untracked files included, each marked `untracked`)
    since the merge-base with the base branch: per file its status, line counts, rename source;
    binary files listed without content; patches over the size limits left out with
    `too_large`, and `truncated` when the whole would be too big. Ignored paths (.gitignore,
    generated files) are listed apart in `ignored`: they are never committed."""
    return DiffPublic.of(await diffs.diff(attempt_id, patches=patches))


@router.post(
    "/attempts/{attempt_id}/commit",
    operation_id="commit_attempt_changes",
    responses=errors(409, 500, 503),
)
async def commit_attempt_changes(
    attempt_id: str, body: CommitIn, changes: WorktreeChangesDep
) -> ManualCommitPublic:
    """Commit the worktree's uncommitted changes on the attempt's branch with `message` (as
    auto-commit does: ignored files and files over its size limit stay out). Refused (409)
    when there is nothing to commit (`nothing_to_commit`) or the attempt is running or
    mid-rebase (`attempt_busy`); 422 `empty_commit_message` without a message."""
    return ManualCommitPublic.of(await changes.commit(attempt_id, body.message))


@router.post(
    "/attempts/{attempt_id}/discard",
    operation_id="discard_attempt_changes",
    responses=errors(409, 500, 503),
)
async def discard_attempt_changes(attempt_id: str, changes: WorktreeChangesDep) -> DiscardedPublic:
    """Undo the worktree's uncommitted changes: tracked files back to the last commit,
    untracked ones removed; ignored files (.gitignore, generated files) stay. Refused (409)
    when there is nothing to discard (`nothing_to_discard`) or the attempt is running or
    mid-rebase (`attempt_busy`)."""
    return DiscardedPublic.of(await changes.discard(attempt_id))


@router.get(
    "/attempts/{attempt_id}/diff/file",
    operation_id="get_attempt_file_diff",
    responses=errors(409, 500, 503),
)
async def get_attempt_file_diff(
    attempt_id: str, diffs: DiffsDep, path: str = Query(..., description="The file's path")
) -> FileDiffPublic:
    return FileDiffPublic.of(await diffs.file(attempt_id, path))


@router.get(
    "/attempts/{attempt_id}/diff/stream",
    operation_id="stream_attempt_diff_changes",
    responses=errors(409, 500, 503),
    response_class=StreamingResponse,
)
async def stream_attempt_diff_changes(
    attempt_id: str,
    attempts: AttemptsDep,
    diff_watch: DiffWatchDep,
    events: EventsDep,
    settings: SettingsDep,
) -> StreamingResponse:
    """Server-sent `diff_changed` events while connected: the attempt's worktree is watched
    (checked every `diff_watch_seconds`) for as long as someone listens. Re-fetch the diff on
    each."""
    attempt = await attempts.get(attempt_id)  # 404 first, not inside the stream
    heartbeat = settings.server.sse_heartbeat_seconds

    def its_diff(event: Event) -> bool:
        return event.type == EventType.attempt_diff_changed and event.data.get("id") == attempt_id

    async def body() -> AsyncIterator[bytes]:
        async with diff_watch.watching(attempt_id):
            # Only its own changes are queued: other events of the project (resource use,
            # other attempts' diffs) would restart the wait and hold back the heartbeat.
            with events.subscribe(attempt.project_id, its_diff) as sub:
                while True:
                    try:
                        item = await sub.get(heartbeat)
                    except TimeoutError:
                        yield HEARTBEAT
                        continue
                    if isinstance(item, Event):  # not SYNC: the next change is news enough
                        yield sse_event("diff_changed", {"id": attempt_id}, item.seq)

    return sse_response(body())
