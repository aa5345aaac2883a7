"""Rebasing a worktree's branch onto the latest base, stopping at conflicts.

Runs in the worktree through its admin dir (git.Worktree) with hooks off; commit messages are
kept (`GIT_EDITOR=true`). A rebase that stops leaves git's own state in the admin dir; the
conflicted files are those git lists as unmerged.
"""

from __future__ import annotations

from paddock.domain.errors import Conflict
from paddock.runtime import safefs
from paddock.runtime.git import Worktree, identity_args, run_git
from paddock.runtime.git.staging import stage_all

NO_EDITOR = {"GIT_EDITOR": "true", "GIT_SEQUENCE_EDITOR": "true"}
MARKER = "<<<<<<< "
CHUNK = 1 << 20


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


async def go_on(worktree: Worktree, max_file_bytes: int | None = None) -> list[str]:
    """Take the files as they are now and continue; refused while conflict markers remain.
    Files larger than `max_file_bytes` are not taken (staging.stage_all): they stay untracked."""
    unresolved = [p for p in await conflicted_files(worktree) if _has_markers(worktree, p)]
    if unresolved:
        raise Conflict(
            f"conflict markers remain in {', '.join(unresolved)}",
            code="conflicts_unresolved",
            files=unresolved,
        )
    await stage_all(worktree, max_file_bytes=max_file_bytes)
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
    """Whether a line of the file starts with a conflict marker. The agent resolved the
    conflict: the file is read through no link (safefs), in chunks (any size, no line limit)."""
    try:
        fh = safefs.open_read(worktree.path, path)
    except (OSError, safefs.UnsafePath):
        return False  # deleted, or a link (git stages the link itself): a resolution too
    needle = b"\n" + MARKER.encode()
    with fh:
        seen = b"\n"  # the file's start counts as a line start
        while chunk := fh.read(CHUNK):
            seen = seen[-len(needle) :] + chunk
            if needle in seen:
                return True
    return False
