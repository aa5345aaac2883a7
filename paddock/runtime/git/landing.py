"""Moving a branch to a new commit without disturbing whoever has it checked out.

A branch checked out somewhere (the user's main checkout, another worktree) is moved there
with `git merge --ff-only`, and only when that checkout has no uncommitted changes: its files
then follow the branch and nothing of the user's is lost. A branch checked out nowhere is moved
with `update-ref`, as a compare-and-swap on its old tip.
"""

from __future__ import annotations

from pathlib import Path

from paddock.domain.errors import Conflict
from paddock.runtime.git import GitError, Where, has_changes, run_git
from paddock.runtime.git.worktrees import WorktreeInfo, linked, list_worktrees


async def checkout_of(repo: Path | str, branch: str) -> WorktreeInfo | None:
    """Where `branch` is checked out, if anywhere (git allows one place)."""
    for found in await list_worktrees(repo):
        if found.branch == branch:
            return found
    return None


async def check_landing(repo: Path | str, branch: str) -> None:
    """Refuse (Conflict) when `branch` is checked out with uncommitted changes."""
    checkout = await checkout_of(repo, branch)
    if checkout is not None and await has_changes(_where(repo, checkout)):
        raise Conflict(
            f"{branch} is checked out at {checkout.path} with uncommitted changes: commit or "
            "stash them there first (Paddock never touches them)",
            code="base_checkout_dirty",
            checkout=str(checkout.path),
        )


async def move_branch(repo: Path | str, branch: str, new: str, old: str) -> None:
    """Move `branch` from `old` to `new` (a descendant of `old`). Hold repo_lock."""
    await check_landing(repo, branch)
    checkout = await checkout_of(repo, branch)
    if checkout is None:
        await run_git(repo, "update-ref", f"refs/heads/{branch}", new, old)
        return
    try:
        await run_git(_where(repo, checkout), "merge", "--ff-only", "-q", new)
    except GitError as exc:
        raise Conflict(
            f"could not move {branch} in its checkout at {checkout.path}: {exc.stderr.strip()}",
            code="base_update_failed",
        ) from exc


def _where(repo: Path | str, checkout: WorktreeInfo) -> Where:
    if Path(checkout.path).resolve() == Path(repo).resolve():
        return Path(repo)  # the main checkout: its .git is the repository itself
    return linked(repo, checkout.path)
