"""Public read models of an attempt and what belongs to it: its follow-ups, its diff (and its
uncommitted changes committed or discarded), its token use, its pull requests."""

from __future__ import annotations

from datetime import datetime
from typing import Self

from pydantic import Field

from paddock.domain.diff import Diff, Discarded, FileDiff, FileStatus, ManualCommit
from paddock.domain.entities import Attempt, FollowUp
from paddock.domain.merge import MergeRecord, MergeStrategy
from paddock.domain.public.agent import AgentSpecPublic
from paddock.domain.public.model import PublicModel
from paddock.domain.public.processes import LeftOutPublic
from paddock.domain.public.projects import SandboxConfigPublic, ScriptsPublic
from paddock.domain.pull_request import Forge, PullRequest, PullRequestStatus
from paddock.domain.states import AttemptStatus, FollowUpStatus
from paddock.domain.usage import Usage


class MergeRecordPublic(PublicModel):
    """How an attempt landed on its base branch."""

    commit: str = Field(description="The base branch's new tip")
    strategy: MergeStrategy
    into: str = Field(description="The base branch")
    head: str = Field(description="The attempt's head that was merged")
    merged_at: datetime

    @classmethod
    def of(cls, merged: MergeRecord) -> Self:
        return cls.read(merged)


class AttemptPublic(PublicModel):
    """One try at a task: a branch, a worktree, a sandbox, an agent (its secrets masked)."""

    id: str
    task_id: str
    project_id: str
    status: AttemptStatus
    branch: str
    base_branch: str
    base_commit: str
    worktree_path: str
    agent: AgentSpecPublic
    prompt: str
    scripts: ScriptsPublic = Field(
        description="Effective scripts: the project's, overridden by the branch's .paddock.toml"
    )
    error: str | None
    debug_id: str | None
    created_at: datetime
    updated_at: datetime
    sandbox: SandboxConfigPublic = Field(description="Resolved at start")
    merged: MergeRecordPublic | None = Field(description="Set once it landed on its base")
    worktree_bytes: int | None = Field(
        description="The worktree's disk use at the end of its last agent turn; null: unknown"
    )
    progress: str | None = Field(
        description="The agent's last status line (one line, at most 200 characters); null: "
        "none reported"
    )
    progress_at: datetime | None = Field(description="When the agent reported `progress`")

    @classmethod
    def of(cls, attempt: Attempt) -> Self:
        return cls.read(attempt)


class FollowUpPublic(PublicModel):
    """A prompt for an attempt's agent, run after the current turn."""

    id: str
    attempt_id: str
    prompt: str
    status: FollowUpStatus
    process_id: str | None = Field(description="The turn that ran it")
    created_at: datetime
    agent: AgentSpecPublic | None = Field(
        description="A workflow step's agent for this turn; null: the attempt's"
    )
    step_id: str | None = Field(description="The workflow step whose automation queued it")

    @classmethod
    def of(cls, follow_up: FollowUp) -> Self:
        return cls.read(follow_up)


class UsagePublic(PublicModel):
    """Tokens and cost of agent turns."""

    input_tokens: int
    output_tokens: int
    cost_usd: float | None = Field(description="null: no turn reported a cost")
    turns: int = Field(description="Agent turns that reported usage")

    @classmethod
    def of(cls, usage: Usage) -> Self:
        return cls.read(usage)


class FileDiffPublic(PublicModel):
    path: str
    status: FileStatus
    old_path: str | None = Field(description="Renamed or copied from")
    additions: int
    deletions: int
    binary: bool = Field(description="Listed, never dumped")
    too_large: bool = Field(description="Its patch is left out (see the limits)")
    patch: str | None = Field(description="Unified diff; null: binary, too large or not asked")
    untracked: bool = Field(
        description="A new file git does not know yet: not committed, the next commit takes it"
    )

    @classmethod
    def of(cls, diff: FileDiff) -> Self:
        return cls.read(diff)


class DiffPublic(PublicModel):
    """What an attempt changed against the merge-base with its base branch."""

    base_commit: str
    head_commit: str
    uncommitted: bool = Field(description="The worktree holds changes not committed yet")
    files: list[FileDiffPublic]
    truncated: bool = Field(description="Some patches were left out to keep the whole small")
    ignored: list[str] = Field(
        description="Untracked paths that are ignored (the project's .gitignore, or generated "
        "files such as __pycache__/ and node_modules/): in the worktree, never committed, not "
        "in `files`. A folder ignored whole is one `dir/`; at most 200"
    )
    ignored_total: int = Field(description="How many ignored paths there are in all")

    @classmethod
    def of(cls, diff: Diff) -> Self:
        return cls.read(diff)


class ManualCommitPublic(PublicModel):
    """The worktree's uncommitted changes, committed by hand."""

    commit: str = Field(description="The new commit on the attempt's branch")
    left_out: list[LeftOutPublic] = Field(
        description="Files over the auto-commit size limit: not committed, still in the worktree"
    )

    @classmethod
    def of(cls, commit: ManualCommit) -> Self:
        return cls.read(commit)


class DiscardedPublic(PublicModel):
    """The worktree's uncommitted changes, undone."""

    files: list[str] = Field(description="The paths put back as committed, or removed")

    @classmethod
    def of(cls, discarded: Discarded) -> Self:
        return cls.read(discarded)


class PullRequestPublic(PublicModel):
    id: str
    attempt_id: str
    forge: Forge
    repo: str = Field(description="owner/name (GitLab: the project's full path)")
    number: int
    url: str
    status: PullRequestStatus
    via: str = Field(description='"gh", "glab" or "api": how it was opened (and is polled)')
    created_at: datetime
    updated_at: datetime

    @classmethod
    def of(cls, pull_request: PullRequest) -> Self:
        return cls.read(pull_request)
