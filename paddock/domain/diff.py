"""What an attempt changed against its base: files with status and stats, patches within limits;
and what committing or discarding its uncommitted part by hand did."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum

from paddock.domain.autocommit import LeftOut

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
    untracked: bool = False  # a new file git does not know yet (the next commit takes it)


@dataclass(frozen=True, slots=True)
class Diff:
    base_commit: str  # the merge-base of the attempt's branch and its base branch
    head_commit: str  # the worktree's HEAD
    uncommitted: bool  # the worktree holds changes not committed yet (they are in the diff)
    files: list[FileDiff] = field(default_factory=list)
    truncated: bool = False  # some patches were left out to keep the whole within limits
    # Untracked paths that are ignored (.gitignore, generated files): in the worktree, never in
    # a commit nor in this diff; a folder ignored whole is one `dir/`. At most
    # MAX_IGNORED_LISTED (domain/generated.py) of `ignored_total`.
    ignored: list[str] = field(default_factory=list)
    ignored_total: int = 0

    @property
    def additions(self) -> int:
        return sum(f.additions for f in self.files)

    @property
    def deletions(self) -> int:
        return sum(f.deletions for f in self.files)


@dataclass(frozen=True, slots=True)
class ManualCommit:
    """The uncommitted changes, committed by hand."""

    commit: str  # the new commit on the attempt's branch
    left_out: list[LeftOut]  # files too large to commit: they stay uncommitted


@dataclass(frozen=True, slots=True)
class Discarded:
    """The uncommitted changes, undone."""

    files: list[str]  # the paths put back as committed, or removed
