"""Linked worktrees of a repository: list, add (with its new branch), remove, prune."""

from __future__ import annotations

import asyncio
import contextlib
import shutil
import stat
from dataclasses import dataclass
from pathlib import Path

from paddock.domain.errors import Conflict, InvalidInput, PaddockError
from paddock.runtime import safefs
from paddock.runtime.git import (
    GitError,
    Worktree,
    branch_exists,
    check_branch_name,
    path_exists,
    resolve_revs,
    rev_parse,
    run_git,
)

GIT_LINK_MAX = 4096  # a worktree's `.git` file: one `gitdir:` line
# What `git worktree add -b` says of a start point that names no commit (it made nothing).
UNKNOWN_BASE = ("not a valid object name", "not a valid branch point", "invalid reference")
HEX = frozenset("0123456789abcdef")


@dataclass(frozen=True)
class WorktreeInfo:
    path: Path
    head: str | None  # None for a bare entry
    branch: str | None  # short name; None when detached or bare
    prunable: bool = False
    locked: bool = False
    detached: bool = False
    bare: bool = False


async def list_worktrees(repo: Path | str) -> list[WorktreeInfo]:
    """The repository's worktrees, main checkout first (`git worktree list --porcelain`)."""
    out = (await run_git(repo, "worktree", "list", "--porcelain")).stdout
    found: list[WorktreeInfo] = []
    for block in out.split("\n\n"):
        fields: dict[str, str] = {}
        for line in block.splitlines():
            key, _, value = line.partition(" ")
            fields[key] = value
        if "worktree" not in fields:
            continue
        branch = fields.get("branch")
        found.append(
            WorktreeInfo(
                path=Path(fields["worktree"]),
                head=fields.get("HEAD"),
                branch=branch.removeprefix("refs/heads/") if branch else None,
                prunable="prunable" in fields,
                locked="locked" in fields,
                detached="detached" in fields,
                bare="bare" in fields,
            )
        )
    return found


# --- mutating (hold repo_lock) -----------------------------------------------------------------


async def add_worktree(repo: Path | str, path: Path | str, branch: str, base: str) -> str:
    """Create `branch` at `base` checked out in a new worktree at `path`. Returns the base sha.

    On any failure the half-made worktree directory and branch are removed before raising."""
    check_branch_name(branch)
    target = _new_path(path)  # checked first: git makes the branch before it looks at the path
    if not base or base.startswith("-"):  # no ref does; git would take it for an option
        raise InvalidInput(f"unknown revision {base!r}", code="unknown_ref", rev=base)
    # Knowing the branch is new is what makes deleting it on a failure below safe. Where the
    # refs are plain files that is a file lookup; elsewhere one git process tells both whether
    # the branch is taken and which commit `base` is.
    refs = _plain_refs(repo)
    start = f"{base}^{{commit}}"
    if refs is not None:
        if _branch_on_file(refs, branch):
            raise Conflict(f"branch {branch!r} already exists", code="branch_exists", branch=branch)
    else:
        taken, sha = await resolve_revs(repo, f"refs/heads/{branch}", start)
        if taken is not None:
            raise Conflict(f"branch {branch!r} already exists", code="branch_exists", branch=branch)
        if sha is None:
            raise InvalidInput(f"unknown revision {base!r}", code="unknown_ref", rev=base)
        start = sha
    try:
        await run_git(repo, "worktree", "add", "-q", "-b", branch, "--", str(target), start)
    except GitError as exc:
        if "already exists" in exc.stderr:  # lost a race with a caller not holding repo_lock
            code = "branch_exists" if "a branch named" in exc.stderr else "worktree_exists"
            raise Conflict(exc.stderr.strip(), code=code, branch=branch) from exc
        if any(refused in exc.stderr for refused in UNKNOWN_BASE):  # nothing was made
            raise InvalidInput(f"unknown revision {base!r}", code="unknown_ref", rev=base) from exc
        await _undo_worktree(repo, target, branch)
        raise
    except BaseException:  # cancelled half-way
        await _undo_worktree(repo, target, branch)
        raise
    # The branch's tip is the commit checked out: read where git just wrote it.
    written = _branch_tip(refs, branch) if refs is not None else start
    return written or await rev_parse(repo, f"refs/heads/{branch}")


def _plain_refs(repo: Path | str) -> Path | None:
    """The repository's `.git` directory when its branches are plain files (git's `files`
    refs, the default), so a branch is looked up without a git process; None otherwise (a
    reftable, a `.git` file): then git is asked."""
    git_dir = Path(repo) / ".git"
    if not (git_dir / "refs" / "heads").is_dir() or (git_dir / "reftable").exists():
        return None
    return git_dir


def _branch_on_file(git_dir: Path, branch: str) -> bool:
    """Whether `refs/heads/<branch>` exists: a loose ref, or a line of packed-refs."""
    if (git_dir / "refs" / "heads" / branch).is_file():
        return True
    try:
        packed = (git_dir / "packed-refs").read_bytes()
    except FileNotFoundError:
        return False
    return f" refs/heads/{branch}\n".encode() in packed


def _branch_tip(git_dir: Path, branch: str) -> str | None:
    """The commit a just-made branch names, from its loose ref; None when it is not one."""
    try:
        text = (git_dir / "refs" / "heads" / branch).read_text(errors="replace").strip()
    except OSError:
        return None
    return text if len(text) in (40, 64) and all(c in HEX for c in text) else None


async def _undo_worktree(repo: Path | str, target: Path, branch: str) -> None:
    await run_git(repo, "worktree", "remove", "--force", "--force", str(target), check=False)
    await asyncio.to_thread(shutil.rmtree, target, True)
    if await branch_exists(repo, branch):
        await run_git(repo, "branch", "-D", "--", branch, check=False)
    await run_git(repo, "worktree", "prune", check=False)


async def remove_worktree(repo: Path | str, path: Path | str) -> None:
    """Remove the linked worktree at `path`, even if dirty or locked; fine if already gone.

    Never touches the main checkout nor a directory that is not a worktree of this repository."""
    target = _resolve(path)
    trees = await list_worktrees(repo)
    if trees and _resolve(trees[0].path) == target:
        raise InvalidInput(f"{target} is the main checkout", code="main_worktree")
    if any(_resolve(t.path) == target for t in trees[1:]):
        await run_git(repo, "worktree", "remove", "--force", "--force", str(target), check=False)
    else:
        link = _worktree_link(target)
        if link is not None or path_exists(target):
            common = (await run_git(repo, "rev-parse", "--git-common-dir")).stdout.strip()
            admin = _resolve(Path(repo) / common) / "worktrees"
            if link is None or link.parent != admin:
                raise InvalidInput(f"{target} is not a worktree of {repo}", code="not_a_worktree")
    await asyncio.to_thread(shutil.rmtree, target, True)  # leftovers git would not delete
    await prune_worktrees(repo)


async def prune_worktrees(repo: Path | str) -> None:
    await run_git(repo, "worktree", "prune")


# --- file system (small synchronous checks) ----------------------------------------------------


def _resolve(path: Path | str) -> Path:
    return Path(path).expanduser().resolve()


def _new_path(path: Path | str) -> Path:
    target = Path(path).expanduser().absolute()
    if path_exists(target):
        raise Conflict(f"{target} already exists", code="worktree_exists", path=str(target))
    return target


def _worktree_link(target: Path) -> Path | None:
    """The admin dir a linked worktree's `.git` file points to, or None if it is not one.
    The agent could have replaced that file: it is read through no link, size-capped."""
    try:
        link = safefs.read_bytes(target, ".git", limit=GIT_LINK_MAX).decode().strip()
    except (OSError, UnicodeDecodeError, PaddockError):
        return None
    if not link.startswith("gitdir:"):
        return None
    return _resolve(target / link.removeprefix("gitdir:").strip())


def linked(repo: Path | str, worktree: Path | str) -> Worktree:
    """The worktree with its admin dir, found from the main repository's side (each admin dir's
    `gitdir` file names its worktree), never from the worktree's own `.git` file."""
    target = _resolve(worktree)
    admin_dirs = Path(repo) / ".git" / "worktrees"
    with contextlib.suppress(OSError):
        for admin in admin_dirs.iterdir():
            with contextlib.suppress(OSError):
                named = Path((admin / "gitdir").read_text().strip())
                if named.parent == target or _resolve(named.parent) == target:
                    return Worktree(target, admin)
    raise Conflict(f"{target} is not a worktree of {repo}", code="worktree_missing")


def restore_link(worktree: Worktree) -> bool:
    """Put the worktree's `.git` file back when something replaced it (so the user's own git
    in the worktree finds the real repository). True when it had to."""
    expected = f"gitdir: {worktree.git_dir}\n".encode()
    with contextlib.suppress(OSError, PaddockError):
        if safefs.read_bytes(worktree.path, ".git", limit=GIT_LINK_MAX) == expected:
            return False
    # Whatever the agent put there is replaced, never written through: a directory removed
    # (rmtree follows no link), anything else renamed over (safefs).
    info = safefs.lstat(worktree.path, ".git")
    if info is not None and stat.S_ISDIR(info.st_mode):
        shutil.rmtree(worktree.path / ".git")
    safefs.write_bytes(worktree.path, ".git", expected, over_links=True)
    return True


def disk_usage(root: Path) -> int:
    """The bytes `root` takes on disk (allocated blocks, as `du` counts them; a hard-linked
    file once), walked through no link (safefs). What was counted when the tree is gone or
    nested too deep half-way."""
    seen: set[tuple[int, int]] = set()
    total = 0
    try:
        for entry in safefs.walk(root):
            info = entry.info
            if info.st_nlink > 1 and not entry.is_dir:
                if (info.st_dev, info.st_ino) in seen:
                    continue
                seen.add((info.st_dev, info.st_ino))
            total += info.st_blocks * 512
    except (OSError, PaddockError):
        pass
    return total
