"""/api/attempts/{id}/merge, /rebase and /push: landing an attempt on its base branch,
bringing it up to date with it, and sending its branch to a remote."""

from __future__ import annotations

from fastapi import APIRouter, status
from pydantic import Field

from paddock.domain.public import (
    AttemptPublic,
    FollowUpPublic,
    PublicModel,
    PullRequestPublic,
    PushedPublic,
)
from paddock.inputs import MergeIn, PullRequestIn, PushIn
from paddock.services.git.rebases import RebaseOutcome
from paddock.web.deps import MergesDep, PullRequestsDep, RebasesDep, RemotesDep
from paddock.web.error_docs import errors

router = APIRouter(tags=["merges"])


@router.post(
    "/attempts/{attempt_id}/merge", operation_id="merge_attempt", responses=errors(409, 500, 503)
)
async def merge_attempt(
    attempt_id: str, merges: MergesDep, body: MergeIn | None = None
) -> AttemptPublic:
    """Merge the attempt into its base branch. Refused (409, nothing changed) when the attempt
    is busy (`attempt_busy`), has uncommitted changes (`attempt_uncommitted`), its base moved on
    (`base_moved`: rebase first), has nothing to merge, or the base is checked out somewhere
    with uncommitted changes (`base_checkout_dirty`). Then its task moves to Done and its
    previews stop."""
    body = body or MergeIn()
    merged = await merges.merge(
        attempt_id,
        body.strategy,
        message=body.message,
        remove_worktree=body.remove_worktree,
        delete_branch=body.delete_branch,
    )
    return AttemptPublic.of(merged)


class RebaseOut(PublicModel):
    attempt: AttemptPublic
    conflicts: list[str] = Field(description="The conflicted files; [] when it went through")

    @classmethod
    def of(cls, outcome: RebaseOutcome) -> RebaseOut:
        return cls.read(outcome)


@router.post(
    "/attempts/{attempt_id}/rebase", operation_id="rebase_attempt", responses=errors(409, 500, 503)
)
async def rebase_attempt(attempt_id: str, rebases: RebasesDep) -> RebaseOut:
    """Rebase the attempt onto the latest base branch. On conflicts the attempt becomes
    `conflicted` with the files listed: then continue, abort, or ask the agent."""
    return RebaseOut.of(await rebases.start(attempt_id))


@router.get(
    "/attempts/{attempt_id}/rebase/conflicts",
    operation_id="list_rebase_conflicts",
    responses=errors(409, 500, 503),
)
async def list_rebase_conflicts(attempt_id: str, rebases: RebasesDep) -> list[str]:
    return await rebases.conflicts(attempt_id)


@router.post(
    "/attempts/{attempt_id}/rebase/continue",
    operation_id="continue_rebase",
    responses=errors(409, 500, 503),
)
async def continue_rebase(attempt_id: str, rebases: RebasesDep) -> RebaseOut:
    """Go on with the files as they are now (409 `conflicts_unresolved` while markers remain)."""
    return RebaseOut.of(await rebases.go_on(attempt_id))


@router.post(
    "/attempts/{attempt_id}/rebase/abort",
    operation_id="abort_rebase",
    responses=errors(409, 500, 503),
)
async def abort_rebase(attempt_id: str, rebases: RebasesDep) -> AttemptPublic:
    return AttemptPublic.of(await rebases.abort(attempt_id))


@router.post(
    "/attempts/{attempt_id}/rebase/ask-agent",
    operation_id="ask_agent_to_resolve",
    responses=errors(409, 500, 503),
)
async def ask_agent_to_resolve(attempt_id: str, rebases: RebasesDep) -> FollowUpPublic:
    """Queue a follow-up for the attempt's agent carrying the conflicted files; after its turn
    the attempt is `conflicted` again, ready to continue."""
    return FollowUpPublic.of(await rebases.ask_agent(attempt_id))


@router.post(
    "/attempts/{attempt_id}/push", operation_id="push_attempt", responses=errors(409, 500, 503)
)
async def push_attempt(
    attempt_id: str, remotes: RemotesDep, body: PushIn | None = None
) -> PushedPublic:
    """Push the attempt's branch to a remote of the project (git's own credentials). A push
    that is not a fast-forward is refused (`push_rejected`) unless `force`."""
    body = body or PushIn()
    return PushedPublic.read(await remotes.push(attempt_id, body.remote, force=body.force))


@router.post(
    "/attempts/{attempt_id}/pull-requests",
    status_code=status.HTTP_201_CREATED,
    operation_id="open_pull_request",
    responses=errors(409, 500, 502, 503),
)
async def open_pull_request(
    attempt_id: str, pull_requests: PullRequestsDep, body: PullRequestIn | None = None
) -> PullRequestPublic:
    """Push the branch and open a pull request with the forge's CLI (gh, glab) when signed in,
    else its REST API with the token from settings. Its state is polled; merged moves the
    task to Done."""
    body = body or PullRequestIn()
    opened = await pull_requests.open(
        attempt_id,
        remote=body.remote,
        forge=body.forge,
        repo=body.repo,
        title=body.title,
        body=body.body,
    )
    return PullRequestPublic.of(opened)


@router.get("/attempts/{attempt_id}/pull-requests", operation_id="list_pull_requests")
async def list_pull_requests(
    attempt_id: str, pull_requests: PullRequestsDep
) -> list[PullRequestPublic]:
    return [PullRequestPublic.of(p) for p in await pull_requests.list_for_attempt(attempt_id)]


@router.post(
    "/pull-requests/{pull_request_id}/refresh",
    operation_id="refresh_pull_request",
    responses=errors(409, 500, 502, 503),
)
async def refresh_pull_request(
    pull_request_id: str, pull_requests: PullRequestsDep
) -> PullRequestPublic:
    """Ask the forge for its state now (it is also polled every `pr_poll_seconds`)."""
    return PullRequestPublic.of(await pull_requests.refresh(pull_request_id))
