"""A worktree's changes against a base commit: committed and not, untracked files included.

The worktree's index is never touched: a copy of it takes what a commit would
(staging.stage_all: untracked files count, ignored ones do not), then `git diff --cached`
compares that copy with the base. Renames are detected (-M). Binary files are listed, never
dumped; patches are only asked of git for files within the size limits, and the rest carry a
marker instead. Untracked files are marked as such, and the ignored paths are listed apart.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
from collections.abc import AsyncIterator
from dataclasses import replace
from pathlib import Path

from paddock.domain.autocommit import LeftOut
from paddock.domain.diff import (
    MAX_FILE_CHANGED_LINES,
    MAX_FILE_PATCH_BYTES,
    MAX_TOTAL_PATCH_BYTES,
    Diff,
    FileDiff,
    FileStatus,
    status_of,
)
from paddock.domain.generated import MAX_IGNORED_LISTED
from paddock.runtime import safefs
from paddock.runtime.git import Worktree, rev_parse, run_git
from paddock.runtime.git.staging import ignored_paths, stage_all, untracked_files

# A rough size of a changed line in a patch, to keep what is asked of git within the limits.
BYTES_PER_LINE = 80


@contextlib.asynccontextmanager
async def snapshot_index(
    worktree: Worktree, max_file_bytes: int | None = None
) -> AsyncIterator[tuple[dict[str, str], list[LeftOut]]]:
    """The env of a throwaway index holding the worktree as it is now (untracked files added),
    and the files left out of it: larger than `max_file_bytes`, never hashed (their blobs
    would stay in the repository's object store), as in an auto-commit (staging.stage_all)."""
    folder = Path(tempfile.mkdtemp(prefix="paddock-diff-"))
    index = folder / "index"
    try:
        with contextlib.suppress(FileNotFoundError):
            shutil.copyfile(worktree.git_dir / "index", index)
        env = {"GIT_INDEX_FILE": str(index)}
        left_out = await stage_all(
            worktree, max_file_bytes=max_file_bytes, env=env, ignore_errors=True
        )
        yield env, left_out
    finally:
        shutil.rmtree(folder, ignore_errors=True)


async def merge_base(worktree: Worktree, base_ref: str) -> str:
    result = await run_git(worktree, "merge-base", "HEAD", base_ref)
    return result.stdout.strip()


async def worktree_diff(
    worktree: Worktree,
    base_ref: str,
    *,
    patches: bool = True,
    only: str | None = None,
    max_file_bytes: int | None = None,
) -> Diff:
    """What `worktree` changed since its merge-base with `base_ref` (only the file `only`, when
    given). With `patches`, each file within the limits carries its unified diff. A file larger
    than `max_file_bytes` is listed as too large, never read."""
    head = await rev_parse(worktree, "HEAD")
    base = await merge_base(worktree, base_ref)
    async with snapshot_index(worktree, max_file_bytes) as (env, left_out):
        quiet = await run_git(worktree, "diff", "--cached", "--quiet", "HEAD", env=env, check=False)
        uncommitted = quiet.returncode == 1 or bool(left_out)
        files = await _changed_files(worktree, base, env)
        listed = {f.path for f in files}
        files += [
            FileDiff(
                path=f.path,
                status=FileStatus.added if f.new else FileStatus.modified,
                binary=True,
                too_large=True,
            )
            for f in left_out
            if f.path not in listed
        ]
        if only is not None:
            files = [f for f in files if only in (f.path, f.old_path)]
        new = await untracked_files(worktree)
        files = [replace(f, untracked=True) if f.path in new else f for f in files]
        truncated = False
        if patches:
            files, truncated = await _with_patches(worktree, base, env, files)
    ignored = [_shown(path) for path in await ignored_paths(worktree)]
    return Diff(
        base,
        head,
        uncommitted,
        files,
        truncated,
        ignored=ignored[:MAX_IGNORED_LISTED],
        ignored_total=len(ignored),
    )


def _shown(raw: str) -> str:
    """A path as git gave it (surrogateescape), as it is shown."""
    return os.fsencode(raw).decode(errors="replace")


async def _changed_files(worktree: Worktree, base: str, env: dict[str, str]) -> list[FileDiff]:
    statuses = await run_git(
        worktree, "diff", "--cached", "-M", "--name-status", "-z", base, env=env
    )
    numbers = await run_git(worktree, "diff", "--cached", "-M", "--numstat", "-z", base, env=env)
    stats = _parse_numstat(numbers.stdout)
    files = []
    for letter, path, old_path in _parse_name_status(statuses.stdout):
        added, deleted = stats.get(path, (None, None))
        binary = added is None
        files.append(
            FileDiff(
                path=path,
                status=status_of(letter),
                old_path=old_path,
                additions=added or 0,
                deletions=deleted or 0,
                binary=binary,
                too_large=not binary and (added or 0) + (deleted or 0) > MAX_FILE_CHANGED_LINES,
            )
        )
    return files


def _parse_name_status(output: str) -> list[tuple[str, str, str | None]]:
    """`M\\0path\\0`, `R087\\0old\\0new\\0` → (letter, path, old path or None)."""
    tokens = output.split("\0")
    found: list[tuple[str, str, str | None]] = []
    i = 0
    while i < len(tokens) and tokens[i]:
        letter = tokens[i]
        if letter[:1] in ("R", "C"):
            found.append((letter, tokens[i + 2], tokens[i + 1]))
            i += 3
        else:
            found.append((letter, tokens[i + 1], None))
            i += 2
    return found


def _parse_numstat(output: str) -> dict[str, tuple[int | None, int | None]]:
    """`12\\t3\\tpath\\0`, renames `1\\t0\\t\\0old\\0new\\0`, binary `-\\t-\\t…` → by new path."""
    tokens = output.split("\0")
    stats: dict[str, tuple[int | None, int | None]] = {}
    i = 0
    while i < len(tokens) and tokens[i]:
        added, deleted, path = tokens[i].split("\t", 2)
        if path == "":  # a rename: the two paths follow
            path = tokens[i + 2]
            i += 3
        else:
            i += 1
        stats[path] = (
            None if added == "-" else int(added),
            None if deleted == "-" else int(deleted),
        )
    return stats


async def _with_patches(
    worktree: Worktree, base: str, env: dict[str, str], files: list[FileDiff]
) -> tuple[list[FileDiff], bool]:
    """The files with their patches, as far as the limits go; and whether some were left out."""
    chosen: list[FileDiff] = []
    budget = MAX_TOTAL_PATCH_BYTES
    truncated = False
    for item in files:
        if item.binary or item.too_large:
            continue
        estimate = (item.additions + item.deletions + 10) * BYTES_PER_LINE
        if estimate > budget:
            truncated = True
            continue
        budget -= estimate
        chosen.append(item)
    patches = await _patches(worktree, base, env, chosen)
    result = []
    for item in files:
        patch = patches.get(item.path)
        if patch is not None and len(patch.encode()) > MAX_FILE_PATCH_BYTES:
            result.append(replace(item, too_large=True))
        elif patch is not None:
            result.append(replace(item, patch=patch))
        else:
            result.append(item)
    return result, truncated


async def _patches(
    worktree: Worktree, base: str, env: dict[str, str], files: list[FileDiff]
) -> dict[str, str]:
    """Each file's patch, from one git call (split on its `diff --git` lines, in git's order)."""
    if not files:
        return {}
    paths: list[str] = []
    for item in files:
        paths += [item.path] + ([item.old_path] if item.old_path else [])
    result = await run_git(
        worktree, "diff", "--cached", "-M", "--no-color", base, "--", *paths, env=env
    )
    sections = _split_patch(result.stdout)
    if len(sections) == len(files):
        return {item.path: section for item, section in zip(files, sections, strict=True)}
    # Git's order did not line up (an unusual path): ask file by file.
    found = {}
    for item in files:
        one = [item.path] + ([item.old_path] if item.old_path else [])
        each = await run_git(
            worktree, "diff", "--cached", "-M", "--no-color", base, "--", *one, env=env
        )
        found[item.path] = each.stdout
    return found


def _split_patch(text: str) -> list[str]:
    sections: list[list[str]] = []
    for line in text.splitlines(keepends=True):
        if line.startswith("diff --git ") or not sections:
            sections.append([line])
        else:
            sections[-1].append(line)
    return ["".join(lines) for lines in sections]


async def worktree_fingerprint(worktree: Worktree) -> str:
    """Changes whenever the worktree's changes do: HEAD, the status of every changed path and
    its size and modification time (an edited file that was changed already shows too)."""
    head = await run_git(worktree, "rev-parse", "HEAD", check=False)
    status = await run_git(worktree, "status", "--porcelain=v1", "-z", "--untracked-files=all")
    parts = [head.stdout.strip()]
    for entry in status.stdout.split("\0"):
        if len(entry) > 3:
            # The agent's file: a link is stat'ed itself, never what it points to (safefs).
            try:
                info = safefs.lstat(worktree.path, entry[3:])
            except (OSError, safefs.UnsafePath):
                info = None
            parts.append(f"{entry}:{info.st_size}:{info.st_mtime_ns}" if info else entry)
    return "\n".join(parts)
