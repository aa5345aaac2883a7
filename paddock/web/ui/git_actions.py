"""The Diff tab's buttons: commit or discard the uncommitted changes, merge, rebase (continue,
abort, ask the agent), push, pull request. Thin: each calls its service and answers 204; the tab
follows through the workspace's live stream. Refusals go back as the API's JSON errors ({code,
message}), shown in the form that sent them."""

from __future__ import annotations

from fastapi import APIRouter, Request
from starlette.responses import Response

from paddock.domain.errors import Conflict
from paddock.inputs import CommitIn, MergeIn, PullRequestIn, PushIn
from paddock.web.deps import (
    AttemptsDep,
    MergesDep,
    PullRequestsDep,
    RebasesDep,
    RemotesDep,
    WorktreeChangesDep,
)
from paddock.web.ui.forms import checked, parse, sent

router = APIRouter(include_in_schema=False)


@router.post("/ui/attempts/{attempt_id}/merge")
async def merge(
    request: Request, attempt_id: str, merges: MergesDep, attempts: AttemptsDep
) -> Response:
    """POST /api/attempts/{id}/merge; the tab's boxes show the settings' defaults, so an
    unchecked one is a "no"."""
    form = await request.form()
    values = {
        **sent(form, "strategy", "message"),
        "remove_worktree": checked(form, "remove_worktree"),
        "delete_branch": checked(form, "delete_branch"),
    }
    body = parse(MergeIn, values)
    try:
        await merges.merge(
            attempt_id,
            body.strategy,
            message=body.message,
            remove_worktree=body.remove_worktree,
            delete_branch=body.delete_branch,
        )
    except Conflict as error:
        if error.code == "base_moved":
            attempt = await attempts.get(attempt_id)
            # The page's words, next to the Rebase button (same code).
            text = f"{attempt.base_branch} has new commits: rebase first"
            raise Conflict(text, code=error.code) from error
        if error.code == "attempt_uncommitted":
            raise _uncommitted(error) from error
        raise
    return Response(status_code=204)


def _uncommitted(error: Conflict) -> Conflict:
    """The refusal for uncommitted changes, pointing at the page's way forward (same code)."""
    text = "The worktree has uncommitted changes: commit or discard them first (Diff tab)"
    return Conflict(text, code=error.code)


@router.post("/ui/attempts/{attempt_id}/commit")
async def commit(request: Request, attempt_id: str, changes: WorktreeChangesDep) -> Response:
    """POST /api/attempts/{id}/commit."""
    form = await request.form()
    body = parse(CommitIn, sent(form, "message"))
    await changes.commit(attempt_id, body.message)
    return Response(status_code=204)


@router.post("/ui/attempts/{attempt_id}/discard")
async def discard(attempt_id: str, changes: WorktreeChangesDep) -> Response:
    """POST /api/attempts/{id}/discard (the button asks first)."""
    await changes.discard(attempt_id)
    return Response(status_code=204)


@router.post("/ui/attempts/{attempt_id}/rebase")
async def rebase(attempt_id: str, rebases: RebasesDep) -> Response:
    try:
        outcome = await rebases.start(attempt_id)
    except Conflict as error:
        if error.code == "attempt_uncommitted":
            raise _uncommitted(error) from error
        raise
    if outcome.conflicts:
        return Response(status_code=204)  # the Diff tab lists them, live
    # A clean rebase changes nothing the page shows (same files changed): a toast says it.
    return Response(status_code=204, headers={"HX-Trigger": "paddock-rebased"})


@router.post("/ui/attempts/{attempt_id}/rebase/continue")
async def rebase_continue(attempt_id: str, rebases: RebasesDep) -> Response:
    await rebases.go_on(attempt_id)
    return Response(status_code=204)


@router.post("/ui/attempts/{attempt_id}/rebase/abort")
async def rebase_abort(attempt_id: str, rebases: RebasesDep) -> Response:
    await rebases.abort(attempt_id)
    return Response(status_code=204)


@router.post("/ui/attempts/{attempt_id}/rebase/ask-agent")
async def rebase_ask_agent(attempt_id: str, rebases: RebasesDep) -> Response:
    await rebases.ask_agent(attempt_id)
    return Response(status_code=204)


@router.post("/ui/attempts/{attempt_id}/push")
async def push(request: Request, attempt_id: str, remotes: RemotesDep) -> Response:
    """POST /api/attempts/{id}/push."""
    form = await request.form()
    body = parse(PushIn, {**sent(form, "remote"), "force": checked(form, "force")})
    await remotes.push(attempt_id, body.remote, force=body.force)
    return Response(status_code=204, headers={"HX-Trigger": "paddock-pushed"})


@router.post("/ui/attempts/{attempt_id}/pull-requests")
async def open_pull_request(
    request: Request, attempt_id: str, pull_requests: PullRequestsDep
) -> Response:
    """POST /api/attempts/{id}/pull-requests."""
    form = await request.form()
    body = parse(PullRequestIn, sent(form, "remote", "forge", "repo", "title", "body"))
    await pull_requests.open(
        attempt_id,
        remote=body.remote,
        forge=body.forge,
        repo=body.repo,
        title=body.title,
        body=body.body,
    )
    return Response(status_code=204)


@router.post("/ui/pull-requests/{pull_request_id}/refresh")
async def refresh_pull_request(pull_request_id: str, pull_requests: PullRequestsDep) -> Response:
    await pull_requests.refresh(pull_request_id)
    return Response(status_code=204)
