"""An attempt's diff against its base: what its branch and worktree changed."""

from __future__ import annotations

from pathlib import Path

from paddock.domain.autocommit import limit_bytes
from paddock.domain.diff import Diff, FileDiff
from paddock.domain.errors import NotFound
from paddock.runtime import git
from paddock.runtime.git.diff import worktree_diff
from paddock.services.attempts.attempt_worktrees import attempt_worktree
from paddock.services.context import Context
from paddock.store import attempts as attempt_store
from paddock.store import projects as project_store


class DiffService:
    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx

    async def diff(self, attempt_id: str, *, patches: bool = True) -> Diff:
        """Committed and uncommitted changes since the merge-base with the base branch."""
        worktree, base = await self._where(attempt_id)
        return await worktree_diff(worktree, base, patches=patches, max_file_bytes=self._limit)

    async def file(self, attempt_id: str, path: str) -> FileDiff:
        worktree, base = await self._where(attempt_id)
        diff = await worktree_diff(worktree, base, only=path, max_file_bytes=self._limit)
        if not diff.files:
            raise NotFound(f"{path} has no changes in this attempt", code="file_not_changed")
        return diff.files[0]

    @property
    def _limit(self) -> int | None:
        """Files larger than auto-commit's limit are not hashed for a diff either."""
        return limit_bytes(self.ctx.settings.git.autocommit_max_file_mb)

    async def _where(self, attempt_id: str) -> tuple[git.Worktree, str]:
        attempt = await self.ctx.db.run(lambda s: attempt_store.get_attempt(s, attempt_id))
        project = await self.ctx.db.run(lambda s: project_store.get_project(s, attempt.project_id))
        worktree = await attempt_worktree(self.ctx, attempt)
        # The base branch's tip (the merge-base follows it); its commit at the start if the
        # branch is gone.
        base = attempt.base_branch
        if not await git.branch_exists(Path(project.repo_path), base):
            base = attempt.base_commit
        return worktree, base
