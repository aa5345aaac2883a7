"""An agent's files land in the user's repository only within limits (issue 13, class 7).

Every blob `git add` writes goes into the main repository's object store, shared by all its
worktrees, and stays there after the attempt is deleted. So the auto-commit after a turn leaves
files over `autocommit_max_file_mb` out — never staged, never hashed — and the turn's record
and the Agent tab say which and why; the worktree's disk use past `worktree_warn_mb` shows as a
warning on the attempt. Run for each sandbox provider (the commit happens on the host, after
the sandbox is gone, whatever ran it).
"""

from __future__ import annotations

import html
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.e2e.server import ServerProcess
from tests.security.conftest import HOST_ONLY_VARIABLE
from tests.security.helpers import Bench, git

MB = 1 << 20
BIG = 2 * MB  # over the 1 MiB limit the server gets below
# The agent writes a big file and a normal one, and stages both itself as well: inside a
# sandbox its own `git add` writes to a private object store, never the repository's.
AGENT = f"""
head -c {BIG} /dev/urandom > big.bin
mkdir -p data && head -c {BIG} /dev/urandom > data/dump.bin
echo "a normal file" > normal.txt
probe own-add git add -A
"""


@pytest.fixture(scope="module")
def server(host_dir: Path, host_secret: str) -> Iterator[ServerProcess]:
    data = host_dir / "data"
    data.mkdir(mode=0o700)
    env = {
        HOST_ONLY_VARIABLE: host_secret,
        "PADDOCK_AUTOCOMMIT_MAX_FILE_MB": "1",
        "PADDOCK_WORKTREE_WARN_MB": "1",
    }
    with ServerProcess(data, env=env) as srv:
        yield srv


def blob_sizes(repo: Path) -> list[int]:
    """Every blob's size in the repository's object store, loose and packed."""
    out = subprocess.run(
        ["git", "cat-file", "--batch-all-objects", "--batch-check=%(objecttype) %(objectsize)"],
        cwd=repo,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    return [
        int(size) for kind, size in (line.split() for line in out.splitlines()) if kind == "blob"
    ]


def test_files_over_the_limit_stay_out_of_the_commit_and_the_object_store(
    bench: Bench, provider: str, repo: Path
) -> None:
    server = bench.server
    run = bench.run(AGENT, provider=provider)
    proc = run.process
    assert proc["status"] == "succeeded", run.text
    run.allowed("own-add")  # the agent staged the big files too, in its own index

    # The normal file is committed; the big ones are not, and the turn says why.
    assert proc["commit_after"] and proc["commit_after"] != proc["commit_before"]
    committed = git(repo, "ls-tree", "-r", "--name-only", proc["commit_after"]).splitlines()
    assert "normal.txt" in committed
    assert "big.bin" not in committed and "data/dump.bin" not in committed
    assert sorted(proc["left_out"], key=lambda f: f["path"]) == [
        {"path": "big.bin", "size": BIG, "limit": MB, "reason": "too_large", "new": True},
        {"path": "data/dump.bin", "size": BIG, "limit": MB, "reason": "too_large", "new": True},
    ]
    # Not in the repository's object store either: not by the commit, not by the agent's own
    # `git add`, not by a diff of the attempt.
    diff = server.api("GET", f"/api/attempts/{run.attempt['id']}/diff")
    shown = {f["path"]: f for f in diff["files"]}
    assert shown["big.bin"]["too_large"] and shown["big.bin"]["status"] == "added"
    assert BIG not in blob_sizes(repo)
    # They stay in the worktree, for the user to look at.
    assert (run.worktree / "big.bin").stat().st_size == BIG

    # The Agent tab says it on the turn; the attempt warns about its worktree's size.
    attempt = server.api("GET", f"/api/attempts/{run.attempt['id']}")
    assert attempt["worktree_bytes"] >= 2 * BIG
    page = server.client.get(f"/attempts/{run.attempt['id']}")
    assert page.status_code == 200
    text = html.unescape(page.text)
    assert "left out of the commit:" in text
    assert "big.bin</span> (2.0 MB > 1.0 MB limit)" in text
    assert "over the 1.0 MB warning" in text

    # Deleting the attempt leaves nothing of them behind.
    server.client.delete(f"/api/attempts/{run.attempt['id']}").raise_for_status()
    assert BIG not in blob_sizes(repo)
