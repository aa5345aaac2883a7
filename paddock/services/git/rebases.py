"""Rebasing an attempt onto the latest base branch, through its conflicts.

A rebase that stops makes the attempt `conflicted`, with the files in its `error`; then
`go_on` (the files as they are now; refused while conflict markers remain), `abort`, or
`ask_agent` (a follow-up carrying the conflict, after which the attempt is `conflicted`
again, ready to go on). Paddock runs git on the host; the agent only edits files.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import anyio.to_thread

from paddock.domain.autocommit import limit_bytes
from paddock.domain.entities import Attempt, FollowUp
from paddock.domain.errors import Conflict
from paddock.domain.events import EventType
from paddock.domain.states import AttemptStatus
from paddock.runtime import git
from paddock.runtime.git import rebase
from paddock.services.attempts.attempt_worktrees import attempt_worktree
from paddock.services.attempts.attempts import AttemptService
from paddock.services.context import Context
from paddock.services.git.worktree_changes import uncommitted_refusal
from paddock.store import attempts as store
from paddock.store import projects as project_store


@dataclass(frozen=True, slots=True)
class RebaseOutcome:
    attempt: Attempt
    conflicts: list[str]  # [] when the rebase went through


class RebaseService:
    def __init__(self, ctx: Context, attempts: AttemptService) -> None:
        self.ctx = ctx
        self.attempts = attempts

    async def start(self, attempt_id: str) -> RebaseOutcome:
        attempt = await self.attempts.get(attempt_id)
        if not attempt.status.settled:
            raise Conflict(
                f"the attempt is {attempt.status.label}: a rebase needs it to be awaiting "
                "review, stopped, failed or merged",
                code="attempt_busy",
            )
        worktree = await attempt_worktree(self.ctx, attempt)
        if await git.has_changes(worktree):
            raise uncommitted_refusal()
        async with git.repo_lock(await self._repo(attempt)):
            conflicts = await rebase.start(worktree, attempt.base_branch)
        return await self._settle(attempt, worktree, conflicts)

    async def go_on(self, attempt_id: str) -> RebaseOutcome:
        attempt, worktree = await self._rebasing(attempt_id)
        async with git.repo_lock(await self._repo(attempt)):
            _still_rebasing(worktree)
            limit = limit_bytes(self.ctx.settings.git.autocommit_max_file_mb)
            conflicts = await rebase.go_on(worktree, limit)
        return await self._settle(attempt, worktree, conflicts)

    async def abort(self, attempt_id: str) -> Attempt:
        attempt, worktree = await self._rebasing(attempt_id)
        async with git.repo_lock(await self._repo(attempt)):
            _still_rebasing(worktree)
            await rebase.abort(worktree)
        await anyio.to_thread.run_sync(self.ctx.sandboxes.hand_over, worktree.path)
        return await self._status(attempt, AttemptStatus.awaiting_review, None)

    async def conflicts(self, attempt_id: str) -> list[str]:
        attempt = await self.attempts.get(attempt_id)
        worktree = await attempt_worktree(self.ctx, attempt)
        if not rebase.rebase_in_progress(worktree):
            return []
        return await rebase.conflicted_files(worktree)

    async def ask_agent(self, attempt_id: str) -> FollowUp:
        """A follow-up for the attempt's agent: resolve the conflicts in the files."""
        attempt, worktree = await self._rebasing(attempt_id)
        files = await rebase.conflicted_files(worktree)
        listed = "\n".join(f"- {path}" for path in files)
        prompt = (
            f"Rebasing this branch onto {attempt.base_branch} stopped at conflicts in:\n"
            f"{listed}\n\nResolve each conflict in those files: keep what both sides meant, "
            "and remove every conflict marker (<<<<<<<, =======, >>>>>>>). Do not run git "
            "commands; Paddock continues the rebase when you are done."
        )
        return await self.attempts.follow_up(attempt_id, prompt)

    async def _settle(
        self, attempt: Attempt, worktree: git.Worktree, conflicts: list[str]
    ) -> RebaseOutcome:
        # git wrote files as the server's user: the sandbox's user edits them next.
        await anyio.to_thread.run_sync(self.ctx.sandboxes.hand_over, worktree.path)
        if conflicts:
            error = f"rebase onto {attempt.base_branch} stopped at conflicts in: " + ", ".join(
                conflicts
            )
            return RebaseOutcome(
                await self._status(attempt, AttemptStatus.conflicted, error), conflicts
            )
        return RebaseOutcome(await self._status(attempt, AttemptStatus.awaiting_review, None), [])

    async def _rebasing(self, attempt_id: str) -> tuple[Attempt, git.Worktree]:
        attempt = await self.attempts.get(attempt_id)
        worktree = await attempt_worktree(self.ctx, attempt)
        if attempt.status.busy:
            raise _no_rebase()
        _still_rebasing(worktree)
        return attempt, worktree

    async def _status(self, attempt: Attempt, status: AttemptStatus, error: str | None) -> Attempt:
        if attempt.status is status and attempt.error == error:
            return attempt
        updated = await self.ctx.db.run(
            lambda s: store.set_attempt_status(s, attempt.id, status, error=error)
        )
        self.ctx.publish(EventType.attempt_updated, updated.project_id, updated)
        return updated

    async def _repo(self, attempt: Attempt) -> Path:
        project = await self.ctx.db.run(lambda s: project_store.get_project(s, attempt.project_id))
        return Path(project.repo_path)


def _no_rebase() -> Conflict:
    return Conflict("the attempt has no rebase waiting", code="no_rebase")


def _still_rebasing(worktree: git.Worktree) -> None:
    """Checked again under the repository's lock: a request that got there first (an abort,
    a continue) may have ended the rebase since (git's own answer would be a 500)."""
    if not rebase.rebase_in_progress(worktree):
        raise _no_rebase()
