"""Rebasing a worktree's branch onto the latest base, stopping at conflicts.

Runs in the worktree through its admin dir (git.Worktree) with hooks off; commit messages are
kept (`GIT_EDITOR=true`). A rebase that stops leaves git's own state in the admin dir; the
conflicted files are those git lists as unmerged.
"""

from __future__ import annotations

from paddock.domain.errors import Conflict
from paddock.runtime.git import Worktree, identity_args, run_git

NO_EDITOR = {"GIT_EDITOR": "true", "GIT_SEQUENCE_EDITOR": "true"}
MARKER = "<<<<<<< "


def rebase_in_progress(worktree: Worktree) -> bool:
    return (worktree.git_dir / "rebase-merge").exists() or (
        worktree.git_dir / "rebase-apply"
    ).exists()


async def conflicted_files(worktree: Worktree) -> list[str]:
    result = await run_git(worktree, "diff", "--name-only", "--diff-filter=U", "-z")
    return [path for path in result.stdout.split("\0") if path]


async def start(worktree: Worktree, onto: str) -> list[str]:
    """Rebase onto `onto`; the conflicted files when it stopped ([] when it went through)."""
    identity = await identity_args(worktree)
    done = await run_git(worktree, *identity, "rebase", onto, env=NO_EDITOR, check=False)
    return await _outcome(worktree, done.returncode, done.stderr)


async def go_on(worktree: Worktree) -> list[str]:
    """Take the files as they are now and continue; refused while conflict markers remain."""
    unresolved = [p for p in await conflicted_files(worktree) if _has_markers(worktree, p)]
    if unresolved:
        raise Conflict(
            f"conflict markers remain in {', '.join(unresolved)}",
            code="conflicts_unresolved",
            files=unresolved,
        )
    await run_git(worktree, "add", "-A")
    identity = await identity_args(worktree)
    done = await run_git(worktree, *identity, "rebase", "--continue", env=NO_EDITOR, check=False)
    return await _outcome(worktree, done.returncode, done.stderr)


async def abort(worktree: Worktree) -> None:
    await run_git(worktree, "rebase", "--abort")


async def _outcome(worktree: Worktree, returncode: int, stderr: str) -> list[str]:
    if returncode == 0:
        return []
    if rebase_in_progress(worktree):
        files = await conflicted_files(worktree)
        if files:
            return files
    raise Conflict(f"git rebase failed: {stderr.strip()[-500:]}", code="rebase_failed")


def _has_markers(worktree: Worktree, path: str) -> bool:
    try:
        text = (worktree.path / path).read_text(errors="replace")
    except OSError:
        return False  # deleted: a resolution too
    return any(line.startswith(MARKER) for line in text.splitlines())
