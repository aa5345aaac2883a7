"""Committing or discarding, by hand, what an attempt's worktree holds uncommitted.

An agent's turn is committed for it (auto-commit); what changes after that (the user's own
edits, a turn with auto-commit off, a file too large for auto-commit) stays uncommitted, and a
merge or a rebase refuses it (`attempt_uncommitted`). From the Diff tab it is committed with
the user's message, or discarded: tracked files back to the last commit, untracked ones
removed. Ignored files (the project's .gitignore, generated files such as node_modules/) are
neither: they are not changes (runtime/git/staging.py).

Refused while the attempt is busy or stopped mid-rebase (`attempt_busy`: its agent or setup may
be writing, or the rebase owns the files), and when there is nothing to commit or discard.
"""

from __future__ import annotations

from pathlib import Path

import anyio.to_thread

from paddock.domain.autocommit import limit_bytes
from paddock.domain.diff import Discarded, ManualCommit
from paddock.domain.entities import Attempt
from paddock.domain.errors import Conflict, InvalidInput
from paddock.domain.events import DiffChanged, EventType
from paddock.domain.states import AttemptStatus
from paddock.runtime import git
from paddock.runtime.git import staging
from paddock.services.attempts.attempt_worktrees import attempt_worktree
from paddock.services.context import Context
from paddock.store import attempts as attempt_store
from paddock.store import projects as project_store

MAX_MESSAGE_CHARS = 20_000


def uncommitted_refusal() -> Conflict:
    """Why a merge or a rebase does not start while the worktree holds uncommitted changes,
    and the way forward."""
    return Conflict(
        "the attempt's worktree has uncommitted changes: commit or discard them first (Commit "
        "and Discard in the Diff tab; POST /api/attempts/{id}/commit or /discard)",
        code="attempt_uncommitted",
    )


def check_message(message: str) -> str:
    """The commit message, trimmed; refused when blank or too long."""
    text = message.strip()
    if not text:
        raise InvalidInput("a commit needs a message", code="empty_commit_message")
    if len(text) > MAX_MESSAGE_CHARS:
        raise InvalidInput(
            f"the commit message is longer than {MAX_MESSAGE_CHARS} characters",
            code="commit_message_too_long",
        )
    return text + "\n"


class WorktreeChangeService:
    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx

    async def commit(self, attempt_id: str, message: str) -> ManualCommit:
        """Commit everything uncommitted (but ignored files and files over the auto-commit
        size limit) on the attempt's branch, with `message`."""
        text = check_message(message)
        attempt = await self._settled(attempt_id)
        worktree = await attempt_worktree(self.ctx, attempt)
        limit = limit_bytes(self.ctx.settings.git.autocommit_max_file_mb)
        async with git.repo_lock(await self._repo(attempt)):
            done = await staging.commit_all(worktree, text, max_file_bytes=limit)
        if done.sha is None:
            larger = f" ({len(done.left_out)} file(s) over the size limit stay out)"
            raise Conflict(
                "the attempt's worktree has nothing to commit" + (larger if done.left_out else ""),
                code="nothing_to_commit",
            )
        self._changed(attempt)
        return ManualCommit(done.sha, done.left_out)

    async def discard(self, attempt_id: str) -> Discarded:
        """Undo every uncommitted change: the worktree as its last commit left it (ignored
        files stay)."""
        attempt = await self._settled(attempt_id)
        worktree = await attempt_worktree(self.ctx, attempt)
        async with git.repo_lock(await self._repo(attempt)):
            files = await staging.discard_all(worktree)
        if not files:
            raise Conflict(
                "the attempt's worktree has nothing to discard", code="nothing_to_discard"
            )
        # git ran as the server's user: the files it put back are the sandbox user's again.
        await anyio.to_thread.run_sync(self.ctx.sandboxes.hand_over, worktree.path)
        self._changed(attempt)
        return Discarded(files)

    async def _settled(self, attempt_id: str) -> Attempt:
        attempt = await self.ctx.db.run(lambda s: attempt_store.get_attempt(s, attempt_id))
        if attempt.status.busy or attempt.status is AttemptStatus.conflicted:
            raise Conflict(
                f"the attempt is {attempt.status.label}: stop it, let it finish or end its "
                "rebase first",
                code="attempt_busy",
            )
        return attempt

    async def _repo(self, attempt: Attempt) -> Path:
        project = await self.ctx.db.run(lambda s: project_store.get_project(s, attempt.project_id))
        return Path(project.repo_path)

    def _changed(self, attempt: Attempt) -> None:
        self.ctx.publish(
            EventType.attempt_diff_changed, attempt.project_id, DiffChanged(attempt.id)
        )
