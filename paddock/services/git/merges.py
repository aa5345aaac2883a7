"""Merging an attempt into its base branch.

Refused, with nothing changed, when: the attempt is busy; its worktree has uncommitted changes
(commit or discard them first: worktree_changes.py; ignored and generated files do not count);
its base branch moved on since the attempt branched off (rebase first); the base is checked out
somewhere with uncommitted changes. The new base tip is made without any checkout
(`commit-tree`), then the branch is moved (runtime/git/landing.py). Afterwards: the merge is
recorded on the attempt (now `merged`), its task goes to the step whose role is `done` (new
projects: "Done"), its previews stop, and on request its worktree and branch go.
"""

from __future__ import annotations

from pathlib import Path

from sqlalchemy.orm import Session

from paddock.domain.entities import Attempt, Project, Task
from paddock.domain.errors import Conflict
from paddock.domain.events import EventType
from paddock.domain.merge import MergeRecord, MergeStrategy
from paddock.domain.states import AttemptStatus, StepRole
from paddock.domain.workflow import step_with_role
from paddock.runtime import git
from paddock.runtime.git import worktrees
from paddock.runtime.git.landing import check_landing, move_branch
from paddock.services.attempts.attempt_worktrees import attempt_worktree
from paddock.services.context import Context
from paddock.services.git.worktree_changes import uncommitted_refusal
from paddock.services.previews.previews import PreviewService
from paddock.services.task_moves import MoveService
from paddock.store import attempts as attempt_store
from paddock.store import projects as project_store
from paddock.store import steps as step_store
from paddock.store import tasks as task_store
from paddock.store.tables.base import utcnow


class MergeService:
    def __init__(self, ctx: Context, previews: PreviewService, moves: MoveService) -> None:
        self.ctx = ctx
        self.previews = previews
        self.moves = moves

    async def merge(
        self,
        attempt_id: str,
        strategy: MergeStrategy | None = None,
        *,
        message: str | None = None,
        remove_worktree: bool | None = None,
        delete_branch: bool | None = None,
    ) -> Attempt:
        """Merge with `strategy` (None: the settings' `merge_strategy`); the worktree and the
        branch go afterwards when asked (None: `merge_removes_worktree`, `merge_deletes_branch`)."""
        settings = self.ctx.settings
        strategy = strategy or settings.git.merge_strategy
        if remove_worktree is None:
            remove_worktree = settings.git.merge_removes_worktree
        if delete_branch is None:
            delete_branch = settings.git.merge_deletes_branch
        attempt, project, task = await self._load(attempt_id)
        if attempt.status.busy or attempt.status is AttemptStatus.conflicted:
            raise Conflict(
                f"the attempt is {attempt.status.value}: stop it, let it finish or end its "
                "rebase first",
                code="attempt_busy",
            )
        repo = Path(project.repo_path)
        async with git.repo_lock(repo):
            worktree = await attempt_worktree(self.ctx, attempt)
            if await git.has_changes(worktree):
                raise uncommitted_refusal()
            head = await git.rev_parse(worktree, "HEAD")
            base_tip = await git.rev_parse(repo, f"refs/heads/{attempt.base_branch}")
            await self._check_ahead(worktree, attempt, head, base_tip)
            await check_landing(repo, attempt.base_branch)
            new_tip = await self._new_tip(
                worktree, strategy, head, base_tip, message or _message(task)
            )
            await move_branch(repo, attempt.base_branch, new_tip, base_tip)
        record = MergeRecord(new_tip, strategy, attempt.base_branch, head, utcnow())
        attempt = await self.ctx.db.run(lambda s: attempt_store.record_merge(s, attempt.id, record))
        self.ctx.publish(EventType.attempt_updated, attempt.project_id, attempt)
        await self._after(attempt, project, task, remove_worktree, delete_branch)
        return attempt

    async def _check_ahead(
        self, worktree: git.Worktree, attempt: Attempt, head: str, base_tip: str
    ) -> None:
        if head == base_tip:
            raise Conflict("the attempt has nothing to merge", code="nothing_to_merge")
        base = await git.run_git(worktree, "merge-base", head, base_tip)
        if base.stdout.strip() != base_tip:
            raise Conflict(
                f"{attempt.base_branch} has moved on since the attempt branched off: rebase "
                "the attempt onto it first",
                code="base_moved",
            )

    async def _new_tip(
        self,
        worktree: git.Worktree,
        strategy: MergeStrategy,
        head: str,
        base_tip: str,
        message: str,
    ) -> str:
        if strategy is MergeStrategy.rebase:
            return head  # the base is an ancestor: its commits land as they are
        tree = (await git.run_git(worktree, "rev-parse", f"{head}^{{tree}}")).stdout.strip()
        parents = [base_tip] if strategy is MergeStrategy.squash else [base_tip, head]
        return await git.commit_tree(worktree, tree, parents, message)

    async def _after(
        self,
        attempt: Attempt,
        project: Project,
        task: Task,
        remove_worktree: bool,
        delete_branch: bool,
    ) -> None:
        await self.previews.stop_for_attempt(attempt.id)
        await self.to_done(project, task, f"merged into {attempt.base_branch}")
        repo = Path(project.repo_path)
        if remove_worktree or delete_branch:  # a branch checked out cannot go: the worktree first
            async with git.repo_lock(repo):
                await worktrees.remove_worktree(repo, Path(attempt.worktree_path))
                if delete_branch:
                    # Safe: the branch's tip is the head that was just merged.
                    await git.delete_branch(repo, attempt.branch, force=True)

    async def to_done(self, project: Project, task: Task, reason: str) -> None:
        """Move the task to the project's `done` step (when it has one): the merge is the
        user's decision, so a gate there is passed, and the move records why."""
        steps = await self.ctx.db.run(lambda s: step_store.list_steps(s, project.id))
        done = step_with_role(steps, StepRole.done)
        if done is None or task.step_id == done.id:
            return
        await self.moves.move(task.id, done.id, force=True, reason=reason)

    async def _load(self, attempt_id: str) -> tuple[Attempt, Project, Task]:
        def load(session: Session) -> tuple[Attempt, Project, Task]:
            attempt = attempt_store.get_attempt(session, attempt_id)
            project = project_store.get_project(session, attempt.project_id)
            return attempt, project, task_store.get_task(session, attempt.task_id)

        return await self.ctx.db.run(load)


def _message(task: Task) -> str:
    body = f"\n\n{task.description.strip()}" if task.description.strip() else ""
    return f"{task.title}{body}\n"
