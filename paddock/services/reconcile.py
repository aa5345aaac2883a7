"""Start-up reconciliation: make the database agree with what really runs and exists on disk.

Processes still marked running by an earlier server are checked by pid *and* start time:
a process that is still alive is stopped (nothing may outlive its server unsupervised: its
output has nowhere to go) and marked `stopped`; one that is gone is marked `lost`, since its
end was never seen. Descendants that escaped the process group are found by their
PADDOCK_PROCESS_ID tag and stopped too. Before all that, the commands an earlier server ran
outside supervision (git) and left running are stopped: they would change a repository under
this one. An attempt whose worktree was being made is undone (worktree and branch), as a
failure to make it is.
"""

from __future__ import annotations

import contextlib
import shutil
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path

import anyio.to_thread

from paddock.domain.entities import Attempt, runs_here
from paddock.domain.errors import PaddockError
from paddock.domain.states import AttemptStatus, ProcessStatus
from paddock.runtime import git, proctree, safefs
from paddock.runtime.git import rebase, worktrees
from paddock.services.context import Context, log
from paddock.store import attempts as attempt_store
from paddock.store import processes as process_store
from paddock.store import projects as project_store


@dataclass
class ReconcileReport:
    orphans: list[int] = field(default_factory=list)  # pids of a gone server's git, stopped
    stopped: list[str] = field(default_factory=list)
    lost: list[str] = field(default_factory=list)
    interrupted_attempts: list[str] = field(default_factory=list)
    vanished_attempts: list[str] = field(default_factory=list)
    removed_worktrees: list[str] = field(default_factory=list)
    missing_branches: list[str] = field(default_factory=list)  # attempts whose branch is gone
    rebasing_attempts: list[str] = field(default_factory=list)  # a rebase found stopped: conflicted


class Reconciler:
    """Run once at start, before anything else touches processes, attempts or worktrees."""

    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx

    async def run(self) -> ReconcileReport:
        report = ReconcileReport()
        report.orphans = await proctree.stop_orphans(self.ctx.settings.processes.stop_grace_seconds)
        if report.orphans:
            log.warning(
                "reconcile: stopped %d git process(es) of a gone server", len(report.orphans)
            )
        await self._processes(report)
        await self._attempts(report)
        await self._rebases(report)
        await self._worktrees(report)
        await self._check_branches(report)
        return report

    async def _own_attempts(self) -> list[Attempt]:
        """The attempts this server runs (with servers on one database, another's are not
        this one's to judge: it runs them, on its own disk)."""
        attempts = await self.ctx.db.run(attempt_store.list_attempts)
        return [a for a in attempts if runs_here(a, self.ctx.runner_id)]

    async def _check_branches(self, report: ReconcileReport) -> None:
        """Say which attempts' branches are gone (deleted outside Paddock); change nothing."""
        attempts = await self.ctx.db.run(attempt_store.list_attempts)
        projects = {p.id: p for p in await self.ctx.db.run(project_store.list_projects)}
        for attempt in attempts:
            project = projects.get(attempt.project_id)
            if attempt.status is AttemptStatus.vanished or project is None:
                continue
            with contextlib.suppress(PaddockError):  # a repository gone is said elsewhere
                if not await git.branch_exists(Path(project.repo_path), attempt.branch):
                    report.missing_branches.append(attempt.id)
                    log.warning(
                        "reconcile: attempt %s: its branch %s is gone from %s",
                        attempt.id,
                        attempt.branch,
                        project.repo_path,
                    )

    async def _processes(self, report: ReconcileReport) -> None:
        grace = self.ctx.settings.processes.stop_grace_seconds
        unfinished = partial(process_store.list_unfinished, runner_id=self.ctx.runner_id)
        for proc in await self.ctx.db.run(unfinished):
            alive = (
                proc.pid is not None
                and proc.pid_start_time is not None
                and proctree.is_alive(proc.pid, proc.pid_start_time)
            )
            if alive:
                assert proc.pid is not None
                await proctree.kill_tree(proc.pid, proc.id, grace, leader_start=proc.pid_start_time)
                status, error = (
                    ProcessStatus.stopped,
                    "still running after a server restart: stopped",
                )
                report.stopped.append(proc.id)
            else:
                status, error = (
                    ProcessStatus.lost,
                    "the server stopped while it ran; its end is unknown",
                )
                report.lost.append(proc.id)
            for pid in proctree.find_tagged(proc.id):  # escaped the group; leader may be gone
                await proctree.kill_tree(pid, proc.id, grace)
            await self.ctx.db.run(
                partial(process_store.mark_finished, process_id=proc.id, status=status, error=error)
            )
            log.warning("reconcile: process %s marked %s", proc.id, status)

    async def _attempts(self, report: ReconcileReport) -> None:
        for attempt in await self._own_attempts():
            if attempt.status.busy:
                error = "interrupted: the server stopped while it ran"
                if attempt.status is AttemptStatus.creating:
                    await self._undo_creation(attempt)
                    error = (
                        "interrupted: the server stopped while its worktree was being made "
                        "(nothing of it was kept)"
                    )
                await self.ctx.db.run(
                    partial(
                        attempt_store.set_attempt_status,
                        attempt_id=attempt.id,
                        status=AttemptStatus.failed,
                        error=error,
                    )
                )
                report.interrupted_attempts.append(attempt.id)
            elif (
                attempt.status is not AttemptStatus.vanished
                and attempt.merged is None  # a merge may have removed it on purpose
                and not Path(attempt.worktree_path).is_dir()
            ):
                await self.ctx.db.run(
                    partial(
                        attempt_store.set_attempt_status,
                        attempt_id=attempt.id,
                        status=AttemptStatus.vanished,
                        error="the worktree is gone from disk",
                    )
                )
                report.vanished_attempts.append(attempt.id)

    async def _rebases(self, report: ReconcileReport) -> None:
        """An attempt whose worktree is mid-rebase but is not `conflicted`: the server stopped
        between git stopping the rebase and recording it. It becomes `conflicted` (continue,
        abort or ask the agent), its worktree handed back to its sandbox as a rebase does."""
        projects = {p.id: p for p in await self.ctx.db.run(project_store.list_projects)}
        for attempt in await self._own_attempts():
            project = projects.get(attempt.project_id)
            if attempt.status not in _MAY_BE_REBASING or project is None:
                continue
            if not Path(attempt.worktree_path).is_dir():
                continue
            try:
                tree = worktrees.linked(project.repo_path, attempt.worktree_path)
                if not rebase.rebase_in_progress(tree):
                    continue
                conflicts = await rebase.conflicted_files(tree)
            except PaddockError:
                continue
            if attempt.sandbox.provider is not None and attempt.sandbox.provider != "none":
                await anyio.to_thread.run_sync(self.ctx.sandboxes.hand_over, tree.path)
            error = f"the server stopped during a rebase onto {attempt.base_branch}; " + (
                "it stopped at conflicts in: " + ", ".join(conflicts)
                if conflicts
                else "continue or abort it"
            )
            await self.ctx.db.run(
                partial(
                    attempt_store.set_attempt_status,
                    attempt_id=attempt.id,
                    status=AttemptStatus.conflicted,
                    error=error,
                )
            )
            report.rebasing_attempts.append(attempt.id)
            log.warning("reconcile: attempt %s: %s", attempt.id, error)

    async def _undo_creation(self, attempt: Attempt) -> None:
        """Remove what making the attempt's worktree left: the worktree and its new branch
        (add_worktree made the branch, refusing one that existed)."""
        project = await self.ctx.db.run(
            partial(project_store.get_project, project_id=attempt.project_id)
        )
        repo = Path(project.repo_path)
        if not repo.is_dir():
            return
        with contextlib.suppress(PaddockError):
            async with git.repo_lock(repo):
                await worktrees.remove_worktree(repo, Path(attempt.worktree_path))
                if await git.branch_exists(repo, attempt.branch):
                    await git.delete_branch(repo, attempt.branch, force=True)
        log.warning(
            "reconcile: attempt %s was being made: its worktree and branch removed", attempt.id
        )

    async def _worktrees(self, report: ReconcileReport) -> None:
        attempts = await self.ctx.db.run(attempt_store.list_attempts)
        known = {str(Path(a.worktree_path)) for a in attempts}
        root = self.ctx.settings.storage.worktrees
        if root.is_dir():
            for group in root.iterdir():
                for candidate in group.iterdir() if group.is_dir() else ():
                    if str(candidate) not in known and _is_worktree_dir(candidate):
                        shutil.rmtree(candidate, ignore_errors=True)
                        report.removed_worktrees.append(str(candidate))
        for project in await self.ctx.db.run(project_store.list_projects):
            repo = Path(project.repo_path)
            if repo.is_dir():
                async with git.repo_lock(repo):
                    await worktrees.prune_worktrees(repo)


_MAY_BE_REBASING = frozenset(
    {AttemptStatus.awaiting_review, AttemptStatus.stopped, AttemptStatus.failed}
)


def _is_worktree_dir(path: Path) -> bool:
    # A linked worktree has a `.git` *file* (gitdir: ...). Anything else is not ours to delete.
    # The agent may have replaced it: read through no link, size-capped (safefs).
    try:
        data = safefs.read_bytes(path, ".git", limit=worktrees.GIT_LINK_MAX)
    except (OSError, PaddockError):
        return False
    return data.startswith(b"gitdir:")
