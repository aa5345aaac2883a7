"""A diff never hashes a file larger than the auto-commit limit into the repository: the
throwaway index a diff builds writes blobs into the shared object store, like a commit."""

from __future__ import annotations

from pathlib import Path

import pytest

from paddock.domain.diff import FileStatus
from paddock.runtime.git import worktrees
from paddock.runtime.git.diff import worktree_diff
from tests.runtime.git.test_commands import blob_sizes
from tests.runtime.plain_git import sh_git

pytestmark = pytest.mark.anyio


async def test_a_big_file_is_listed_as_too_large_and_never_hashed(
    repo: Path, tmp_path: Path
) -> None:
    wt = tmp_path / "wt"
    await worktrees.add_worktree(repo, wt, "work", "main")
    (wt / "big.bin").write_bytes(b"\x07" * 3000)
    (wt / "README.md").write_bytes(b"y" * 4000)  # a tracked file grown past the limit
    (wt / "small.txt").write_text("small\n")
    tree = worktrees.linked(repo, wt)

    diff = await worktree_diff(tree, "main", max_file_bytes=2000)

    files = {f.path: f for f in diff.files}
    assert files["small.txt"].status is FileStatus.added and files["small.txt"].patch
    for path, status in (("big.bin", FileStatus.added), ("README.md", FileStatus.modified)):
        assert files[path].status is status
        assert files[path].too_large and files[path].binary and files[path].patch is None
    assert diff.uncommitted
    assert 3000 not in blob_sizes(repo) and 4000 not in blob_sizes(repo)
    assert sh_git(wt, "diff", "--cached", "--name-only") == ""  # the worktree's index: as it was
    only = await worktree_diff(tree, "main", only="big.bin", max_file_bytes=2000)
    assert [f.path for f in only.files] == ["big.bin"]
