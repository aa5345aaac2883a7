"""What landing an attempt's branch takes: merging it, pushing it, opening a pull request."""

from __future__ import annotations

from pydantic import BaseModel, Field

from paddock.domain.merge import MergeStrategy
from paddock.domain.pull_request import Forge
from paddock.inputs.scalars import Flag
from paddock.inputs.text import Trimmed, TrimmedOrNone


class MergeIn(BaseModel):
    strategy: MergeStrategy | None = Field(
        None,
        description="squash (one commit), merge (a merge commit) or rebase (fast-forward); "
        "default: the merge_strategy setting (squash)",
    )
    message: TrimmedOrNone = Field(None, description="The commit message; blank: the task's")
    remove_worktree: Flag | None = Field(
        None, description="Remove the attempt's worktree afterwards (default: setting)"
    )
    delete_branch: Flag | None = Field(
        None, description="Delete the attempt's branch afterwards (default: setting)"
    )


class PushIn(BaseModel):
    remote: Trimmed = Field("origin", description="A remote of the project's repository")
    force: Flag = Field(False, description="Replace what the remote has (--force-with-lease)")


class PullRequestIn(BaseModel):
    remote: Trimmed = Field("origin", description="The remote the branch is pushed to")
    forge: Forge | None = Field(None, description="github, gitlab or gitea; default: from the URL")
    repo: TrimmedOrNone = Field(None, description="owner/name on the forge; default: from the URL")
    title: TrimmedOrNone = Field(None, description="Blank: the task's title")
    body: TrimmedOrNone = Field(None, description="Blank: the task and the agent's summary")
