"""Staging and committing everything in a worktree, but what must never reach the repository:
ignored files (the worktree's ignore rules and the generated files' patterns: domain/generated.py),
files larger than the auto-commit limit (their blobs would stay in the shared object store for
good) and repositories made inside the worktree (a gitlink the user's git would look into)."""

from __future__ import annotations

import asyncio
import os
import stat
from dataclasses import dataclass
from pathlib import Path

from paddock.domain.autocommit import LeftOut, too_large
from paddock.domain.errors import PaddockError
from paddock.runtime import safefs
from paddock.runtime.git import (
    GENERATED_EXCLUDES,
    GitError,
    Where,
    Worktree,
    identity_args,
    rev_parse,
    run_git,
)


@dataclass(frozen=True, slots=True)
class Committed:
    sha: str | None  # the new commit; None when nothing changed
    left_out: list[LeftOut]  # files not committed (too large)


async def commit_all(
    worktree: Where, message: str, *, max_file_bytes: int | None = None
) -> Committed:
    """Stage everything (but files larger than `max_file_bytes`: see `stage_all`) and commit.

    A repository made inside the worktree is never committed (as a gitlink, the user's own
    git would run its hooks and fsmonitor when it looks into it): it stays untracked."""
    left_out = await stage_all(worktree, max_file_bytes=max_file_bytes)
    await _unstage_new_gitlinks(worktree)
    diff = await run_git(worktree, "diff", "--cached", "--quiet", check=False)
    if diff.returncode == 0:
        return Committed(None, left_out)
    if diff.returncode != 1:
        raise GitError(diff.command, diff.returncode, diff.stderr)
    identity = await identity_args(worktree)
    await run_git(worktree, *identity, "commit", "-q", "--no-verify", "-m", message)
    return Committed(await rev_parse(worktree, "HEAD"), left_out)


async def discard_all(worktree: Where) -> list[str]:
    """Put the worktree back to its HEAD: changes to tracked files undone, untracked files and
    folders removed, but the ignored ones (.gitignore, generated files: node_modules/ stays)
    and repositories made inside it (`git clean` without -ff leaves them). The paths discarded,
    sorted."""
    tracked = await run_git(
        worktree, "status", "--porcelain=v1", "-z", "--untracked-files=no", "--no-renames"
    )
    paths = {entry[3:] for entry in tracked.stdout.split("\0") if len(entry) > 3}  # "XY path"
    # A repository inside is listed as its folder ("inner/"): `git clean` leaves it.
    paths |= {path for path in await untracked_files(worktree) if not path.endswith("/")}
    if not paths:
        return []
    await run_git(worktree, "reset", "-q", "--hard", "HEAD")
    await run_git(worktree, "clean", "-q", "-f", "-d", *GENERATED_EXCLUDES)
    return sorted(paths)


async def untracked_files(worktree: Where) -> set[str]:
    """The untracked files a commit would take (neither ignored nor generated), as shown."""
    result = await run_git(
        worktree, "ls-files", "-z", "--others", "--exclude-standard", *GENERATED_EXCLUDES
    )
    return {path for path in result.stdout.split("\0") if path}


async def stage_all(
    worktree: Where,
    *,
    max_file_bytes: int | None,
    env: dict[str, str] | None = None,
    ignore_errors: bool = False,
) -> list[LeftOut]:
    """`git add -A`, except ignored files (`ignored_paths`: git's own rules and the generated
    files' patterns) and regular files larger than `max_file_bytes` (None: no limit).

    `git add` writes a blob for every file it stages into the repository's object store, where
    it outlives the attempt. So the files too large are found first, from `git status` and an
    lstat of each changed path (through no link: safefs), and excluded by literal pathspecs:
    git never reads them (one staged earlier is unstaged). Returns them; they stay in the
    worktree as they are. `env` may name another index (GIT_INDEX_FILE).

    A process still running in the worktree (a dev server) can grow a file between the lstat
    and `git add`: that race is not closed (docs/security.md)."""
    ignored = [f":(exclude,literal){raw}" for raw in await _generated_only(worktree, env)]
    found = await _too_large(worktree, max_file_bytes, env, ignored) if max_file_bytes else []
    specs = [":/", *ignored, *(f":(exclude,literal){raw}" for raw, _ in found)]
    await run_git(
        worktree,
        "add",
        "-A",
        *(["--ignore-errors"] if ignore_errors else []),
        "--pathspec-from-file=-",
        "--pathspec-file-nul",
        input="\0".join(specs),
        env=env,
        check=not ignore_errors,
        errors="surrogateescape",
    )
    if found:  # staged before (by hand, say): back to HEAD's version in the index, if any
        await run_git(
            worktree,
            "reset",
            "-q",
            "--pathspec-from-file=-",
            "--pathspec-file-nul",
            input="\0".join(f":(literal){raw}" for raw, _ in found),
            env=env,
            check=not ignore_errors,
            errors="surrogateescape",
        )
    return [left for _, left in found]


async def ignored_paths(
    worktree: Where, *, env: dict[str, str] | None = None, generated: bool = True
) -> list[str]:
    """The untracked paths that are ignored: by the worktree's own rules (.gitignore,
    info/exclude, the user's excludes file) and, with `generated`, as generated files
    (domain/generated.py). A folder ignored whole is named once, as `dir/`, and not looked
    into. Names that are not UTF-8 are kept as they are (surrogateescape), for pathspecs."""
    result = await run_git(
        worktree,
        "ls-files",
        "-z",
        "--others",
        "--ignored",
        "--exclude-standard",
        *(GENERATED_EXCLUDES if generated else ()),
        "--directory",
        env=env,
        errors="surrogateescape",
    )
    return outermost([path for path in result.stdout.split("\0") if path])


async def _generated_only(worktree: Where, env: dict[str, str] | None) -> list[str]:
    """The paths ignored as generated files that the worktree's own rules do not ignore: what
    `git add -A` would take and must not. (Those git ignores itself must not be named: an
    exclude pathspec that names an ignored path is an error to `git add`.)"""
    everything = await ignored_paths(worktree, env=env)
    if not everything:
        return []
    own = set(await ignored_paths(worktree, env=env, generated=False))
    return [path for path in everything if path not in own]


def outermost(paths: list[str]) -> list[str]:
    """`paths` without those inside a folder listed too (git may name both `d/` and `d/x`)."""
    folders = {path for path in paths if path.endswith("/")}

    def inside(path: str) -> bool:
        parts = path.rstrip("/").split("/")
        return any("/".join(parts[:n]) + "/" in folders for n in range(1, len(parts)))

    return sorted(path for path in paths if not inside(path))


async def _too_large(
    worktree: Where, limit: int, env: dict[str, str] | None, ignored: list[str]
) -> list[tuple[str, LeftOut]]:
    """The changed files larger than `limit`, but the `ignored` ones (exclude pathspecs): each
    as git names it (a name that is not UTF-8 kept as it is, for the pathspec) and as it is
    shown."""
    status = await run_git(
        worktree,
        "status",
        "--porcelain=v1",
        "-z",
        "--untracked-files=all",
        "--no-renames",
        "--ignore-submodules=all",
        "--",
        ":/",
        *ignored,
        env=env,
        errors="surrogateescape",
    )
    # "XY path" per entry (no renames: no second path); a deleted file has nothing to weigh.
    paths = [(entry[3:], entry[0] in "?A") for entry in status.stdout.split("\0") if len(entry) > 3]
    root = worktree.path if isinstance(worktree, Worktree) else Path(worktree)
    return await asyncio.to_thread(_weigh, root, paths, limit)


def _weigh(root: Path, paths: list[tuple[str, bool]], limit: int) -> list[tuple[str, LeftOut]]:
    found: list[tuple[str, LeftOut]] = []
    for path, new in paths:
        try:
            info = safefs.lstat(root, path.rstrip("/"))
        except (OSError, PaddockError):  # gone, or beyond a link: git does not follow it either
            continue
        if info is not None and stat.S_ISREG(info.st_mode):
            shown = os.fsencode(path).decode(errors="replace")
            left = too_large(shown, info.st_size, limit, new=new)
            if left is not None:
                found.append((path, left))
    return found


async def _unstage_new_gitlinks(worktree: Where) -> None:
    raw = await run_git(worktree, "diff", "--cached", "--raw", "-z", "--diff-filter=A")
    fields = raw.stdout.split("\0")
    # -z --raw: ":<old mode> <new mode> <old sha> <new sha> A", then the path.
    gitlinks = [
        path
        for meta, path in zip(fields[::2], fields[1::2], strict=False)
        if meta.split(" ")[1:2] == ["160000"]
    ]
    if gitlinks:
        await run_git(worktree, "reset", "-q", "--", *gitlinks)
