"""What an attempt changed against its base: files with status and stats, patches within limits."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum

# Patch text beyond these is left out, with a marker: a diff never hangs a page or a client.
MAX_FILE_PATCH_BYTES = 512 * 1024
MAX_TOTAL_PATCH_BYTES = 4 * 1024 * 1024
MAX_FILE_CHANGED_LINES = 20_000  # bigger changes are not even asked of git for their patch


class FileStatus(StrEnum):
    added = "added"
    modified = "modified"
    deleted = "deleted"
    renamed = "renamed"
    copied = "copied"
    type_changed = "type_changed"


_LETTERS = {
    "A": FileStatus.added,
    "M": FileStatus.modified,
    "D": FileStatus.deleted,
    "R": FileStatus.renamed,
    "C": FileStatus.copied,
    "T": FileStatus.type_changed,
}


def status_of(letter: str) -> FileStatus:
    """From git's --name-status letter (R and C carry a similarity score: R087)."""
    return _LETTERS.get(letter[:1], FileStatus.modified)


@dataclass(frozen=True, slots=True)
class FileDiff:
    path: str
    status: FileStatus
    old_path: str | None = None  # renamed or copied from
    additions: int = 0
    deletions: int = 0
    binary: bool = False  # listed, never dumped
    too_large: bool = False  # its patch is left out (see the limits)
    patch: str | None = None  # unified diff of this file; None: binary, too large, or not asked


@dataclass(frozen=True, slots=True)
class Diff:
    base_commit: str  # the merge-base of the attempt's branch and its base branch
    head_commit: str  # the worktree's HEAD
    uncommitted: bool  # the worktree holds changes not committed yet (they are in the diff)
    files: list[FileDiff] = field(default_factory=list)
    truncated: bool = False  # some patches were left out to keep the whole within limits

    @property
    def additions(self) -> int:
        return sum(f.additions for f in self.files)

    @property
    def deletions(self) -> int:
        return sum(f.deletions for f in self.files)
