"""/api/attempts/{id}/merge, /rebase and /push: landing an attempt on its base branch,
bringing it up to date with it, and sending its branch to a remote."""

from __future__ import annotations

from fastapi import APIRouter, status
from pydantic import BaseModel, Field

from paddock.domain.entities import Attempt, FollowUp
from paddock.domain.merge import MergeStrategy
from paddock.domain.pull_request import Forge, PullRequest
from paddock.services.remotes import Pushed
from paddock.web.deps import MergesDep, PullRequestsDep, RebasesDep, RemotesDep

router = APIRouter(tags=["merges"])


class MergeIn(BaseModel):
    strategy: MergeStrategy | None = Field(
        None,
        description="squash (one commit), merge (a merge commit) or rebase (fast-forward); "
        "default: the merge_strategy setting (squash)",
    )
    message: str | None = Field(None, description="The commit message; default: the task's")
    remove_worktree: bool | None = Field(
        None, description="Remove the attempt's worktree afterwards (default: setting)"
    )
    delete_branch: bool | None = Field(
        None, description="Delete the attempt's branch afterwards (default: setting)"
    )


@router.post("/attempts/{attempt_id}/merge", operation_id="merge_attempt")
async def merge_attempt(attempt_id: str, merges: MergesDep, body: MergeIn | None = None) -> Attempt:
    """Merge the attempt into its base branch. Refused (409, nothing changed) when the attempt
    is busy (`attempt_busy`), has uncommitted changes (`attempt_uncommitted`), its base moved on
    (`base_moved`: rebase first), has nothing to merge, or the base is checked out somewhere
    with uncommitted changes (`base_checkout_dirty`). Then its task moves to Done and its
    previews stop."""
    body = body or MergeIn()
    return await merges.merge(
        attempt_id,
        body.strategy,
        message=body.message,
        remove_worktree=body.remove_worktree,
        delete_branch=body.delete_branch,
    )


class RebaseOut(BaseModel):
    attempt: Attempt
    conflicts: list[str] = Field(description="The conflicted files; [] when it went through")


@router.post("/attempts/{attempt_id}/rebase", operation_id="rebase_attempt")
async def rebase_attempt(attempt_id: str, rebases: RebasesDep) -> RebaseOut:
    """Rebase the attempt onto the latest base branch. On conflicts the attempt becomes
    `conflicted` with the files listed: then continue, abort, or ask the agent."""
    outcome = await rebases.start(attempt_id)
    return RebaseOut(attempt=outcome.attempt, conflicts=outcome.conflicts)


@router.get("/attempts/{attempt_id}/rebase/conflicts", operation_id="list_rebase_conflicts")
async def list_rebase_conflicts(attempt_id: str, rebases: RebasesDep) -> list[str]:
    return await rebases.conflicts(attempt_id)


@router.post("/attempts/{attempt_id}/rebase/continue", operation_id="continue_rebase")
async def continue_rebase(attempt_id: str, rebases: RebasesDep) -> RebaseOut:
    """Go on with the files as they are now (409 `conflicts_unresolved` while markers remain)."""
    outcome = await rebases.go_on(attempt_id)
    return RebaseOut(attempt=outcome.attempt, conflicts=outcome.conflicts)


@router.post("/attempts/{attempt_id}/rebase/abort", operation_id="abort_rebase")
async def abort_rebase(attempt_id: str, rebases: RebasesDep) -> Attempt:
    return await rebases.abort(attempt_id)


@router.post("/attempts/{attempt_id}/rebase/ask-agent", operation_id="ask_agent_to_resolve")
async def ask_agent_to_resolve(attempt_id: str, rebases: RebasesDep) -> FollowUp:
    """Queue a follow-up for the attempt's agent carrying the conflicted files; after its turn
    the attempt is `conflicted` again, ready to continue."""
    return await rebases.ask_agent(attempt_id)


class PushIn(BaseModel):
    remote: str = Field("origin", description="A remote of the project's repository")
    force: bool = Field(False, description="Replace what the remote has (--force-with-lease)")


@router.post("/attempts/{attempt_id}/push", operation_id="push_attempt")
async def push_attempt(attempt_id: str, remotes: RemotesDep, body: PushIn | None = None) -> Pushed:
    """Push the attempt's branch to a remote of the project (git's own credentials). A push
    that is not a fast-forward is refused (`push_rejected`) unless `force`."""
    body = body or PushIn()
    return await remotes.push(attempt_id, body.remote, force=body.force)


class PullRequestIn(BaseModel):
    remote: str = Field("origin", description="The remote the branch is pushed to")
    forge: Forge | None = Field(None, description="github, gitlab or gitea; default: from the URL")
    repo: str | None = Field(None, description="owner/name on the forge; default: from the URL")
    title: str | None = Field(None, description="Default: the task's title")
    body: str | None = Field(None, description="Default: the task and the agent's summary")


@router.post(
    "/attempts/{attempt_id}/pull-requests",
    status_code=status.HTTP_201_CREATED,
    operation_id="open_pull_request",
)
async def open_pull_request(
    attempt_id: str, pull_requests: PullRequestsDep, body: PullRequestIn | None = None
) -> PullRequest:
    """Push the branch and open a pull request with the forge's CLI (gh, glab) when signed in,
    else its REST API with the token from settings. Its state is polled; merged moves the
    task to Done."""
    body = body or PullRequestIn()
    return await pull_requests.open(
        attempt_id,
        remote=body.remote,
        forge=body.forge,
        repo=body.repo,
        title=body.title,
        body=body.body,
    )


@router.get("/attempts/{attempt_id}/pull-requests", operation_id="list_pull_requests")
async def list_pull_requests(attempt_id: str, pull_requests: PullRequestsDep) -> list[PullRequest]:
    return await pull_requests.list_for_attempt(attempt_id)


@router.post("/pull-requests/{pull_request_id}/refresh", operation_id="refresh_pull_request")
async def refresh_pull_request(pull_request_id: str, pull_requests: PullRequestsDep) -> PullRequest:
    """Ask the forge for its state now (it is also polled every `pr_poll_seconds`)."""
    return await pull_requests.refresh(pull_request_id)
