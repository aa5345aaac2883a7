"""The Diff tab's buttons: merge, rebase (continue, abort, ask the agent), push, pull request.
Thin: each calls its service and answers 204; the tab follows through the workspace's live
stream. Refusals go back as the API's JSON errors ({code, message}), shown in the form that
sent them."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form
from starlette.responses import Response

from paddock.domain.errors import Conflict
from paddock.domain.merge import MergeStrategy
from paddock.web.deps import AttemptsDep, MergesDep, PullRequestsDep, RebasesDep, RemotesDep

router = APIRouter(include_in_schema=False)


@router.post("/ui/attempts/{attempt_id}/merge")
async def merge(
    attempt_id: str,
    merges: MergesDep,
    attempts: AttemptsDep,
    strategy: Annotated[MergeStrategy, Form()] = MergeStrategy.squash,
    remove_worktree: Annotated[bool, Form()] = False,
    delete_branch: Annotated[bool, Form()] = False,
) -> Response:
    try:
        await merges.merge(
            attempt_id,
            strategy,
            remove_worktree=remove_worktree,
            delete_branch=delete_branch,
        )
    except Conflict as error:
        if error.code == "base_moved":
            attempt = await attempts.get(attempt_id)
            # The page's words, next to the Rebase button (same code).
            text = f"{attempt.base_branch} has new commits: rebase first"
            raise Conflict(text, code=error.code) from error
        raise
    return Response(status_code=204)


@router.post("/ui/attempts/{attempt_id}/rebase")
async def rebase(attempt_id: str, rebases: RebasesDep) -> Response:
    await rebases.start(attempt_id)
    return Response(status_code=204)


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
async def push(
    attempt_id: str,
    remotes: RemotesDep,
    remote: Annotated[str, Form()] = "origin",
    force: Annotated[bool, Form()] = False,
) -> Response:
    await remotes.push(attempt_id, remote, force=force)
    return Response(status_code=204, headers={"HX-Trigger": "paddock-pushed"})


@router.post("/ui/attempts/{attempt_id}/pull-requests")
async def open_pull_request(
    attempt_id: str,
    pull_requests: PullRequestsDep,
    remote: Annotated[str, Form()] = "origin",
    title: Annotated[str, Form()] = "",
) -> Response:
    await pull_requests.open(attempt_id, remote=remote, title=title.strip() or None)
    return Response(status_code=204)


@router.post("/ui/pull-requests/{pull_request_id}/refresh")
async def refresh_pull_request(pull_request_id: str, pull_requests: PullRequestsDep) -> Response:
    await pull_requests.refresh(pull_request_id)
    return Response(status_code=204)
