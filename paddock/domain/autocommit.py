"""What Paddock's auto-commit of an agent turn takes, and what it leaves out.

An agent's files land in the user's repository: every blob `git add` writes goes into the
main repository's object store (shared by all its worktrees) and stays there after the attempt
is deleted. So files larger than the limit (`autocommit_max_file_mb`) are never staged — not
even hashed — and the turn's record lists them with the reason. They stay in the worktree,
untracked (or modified), for the user to look at.

A worktree's disk use is measured at the end of each turn and shown with a warning past
`worktree_warn_mb`; it is not a quota (docs/security.md).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

MB = 1024 * 1024


class LeftOutReason(StrEnum):
    too_large = "too_large"  # larger than the auto-commit's file size limit


@dataclass(frozen=True, slots=True)
class LeftOut:
    """A file a commit did not take, and why."""

    path: str  # relative to the worktree, "/"-separated
    size: int  # bytes, when it was looked at
    limit: int  # the limit it passed, in bytes
    reason: LeftOutReason = LeftOutReason.too_large
    new: bool = True  # an untracked file; False: a change to a tracked one


def limit_bytes(max_file_mb: float) -> int | None:
    """The limit in bytes; None (no limit) for 0 or less."""
    return int(max_file_mb * MB) if max_file_mb > 0 else None


def too_large(path: str, size: int, limit: int | None, *, new: bool = True) -> LeftOut | None:
    """A regular file of `size` bytes at `path`: left out when it is larger than `limit`."""
    if limit is None or size <= limit:
        return None
    return LeftOut(path, size, limit, new=new)


def over_warning(used: int | None, warn_mb: float) -> bool:
    """Whether a worktree's measured disk use (bytes) passed the warning (0: never warn)."""
    return used is not None and warn_mb > 0 and used > warn_mb * MB
