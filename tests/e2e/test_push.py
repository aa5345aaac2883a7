"""Pushing an attempt's branch to a real remote on disk: the commit arrives, a push that would
drop the remote's commits is refused without force and goes through as --force-with-lease."""

from __future__ import annotations

import subprocess
from pathlib import Path

from tests.e2e.server import ServerProcess
from tests.e2e.test_merge import commit, git, setup


def test_push_to_a_bare_remote_then_find_the_commit_in_a_clone(
    server: ServerProcess, tmp_path: Path
) -> None:
    repo, attempt = setup(server, tmp_path, "echo v2 > app.txt")
    remote = tmp_path / "remote.git"
    subprocess.run(["git", "init", "-q", "--bare", str(remote)], check=True)
    git(repo, "remote", "add", "origin", str(remote))
    pushed = server.api("POST", f"/api/attempts/{attempt['id']}/push", json={})
    head = git(Path(attempt["worktree_path"]), "rev-parse", "HEAD")
    assert pushed == {
        "remote": "origin",
        "branch": attempt["branch"],
        "commit": head,
        "forced": False,
    }
    clone = tmp_path / "clone"
    subprocess.run(["git", "clone", "-q", str(remote), str(clone)], check=True)
    assert git(clone, "rev-parse", f"origin/{attempt['branch']}") == head
    assert git(clone, "show", f"origin/{attempt['branch']}:app.txt") == "v2"


def test_force_is_refused_without_the_flag(server: ServerProcess, tmp_path: Path) -> None:
    repo, attempt = setup(server, tmp_path, "echo v2 > app.txt")
    remote = tmp_path / "remote.git"
    subprocess.run(["git", "init", "-q", "--bare", str(remote)], check=True)
    git(repo, "remote", "add", "origin", str(remote))
    server.api("POST", f"/api/attempts/{attempt['id']}/push", json={})
    # Someone else pushes to the branch from another clone.
    other = tmp_path / "other"
    subprocess.run(
        ["git", "clone", "-q", "-b", attempt["branch"], str(remote), str(other)], check=True
    )
    commit(other, "theirs.txt", "theirs\n")
    git(other, "push", "-q", "origin", attempt["branch"])
    theirs = git(other, "rev-parse", "HEAD")
    # Meanwhile the attempt's branch is rewritten (as a rebase would).
    worktree = Path(attempt["worktree_path"])
    git(
        worktree,
        "-c",
        "user.name=t",
        "-c",
        "user.email=t@t",
        "commit",
        "-q",
        "--amend",
        "-m",
        "rewritten",
    )
    refused = server.client.post(f"/api/attempts/{attempt['id']}/push", json={})
    assert refused.status_code == 409 and refused.json()["code"] == "push_rejected"
    assert git(remote, "rev-parse", attempt["branch"]) == theirs  # nothing lost
    git(repo, "fetch", "-q", "origin")  # the lease: what this repository last saw of the remote
    forced = server.api("POST", f"/api/attempts/{attempt['id']}/push", json={"force": True})
    assert forced["forced"] is True
    assert git(remote, "rev-parse", attempt["branch"]) == git(worktree, "rev-parse", "HEAD")
    unknown = server.client.post(f"/api/attempts/{attempt['id']}/push", json={"remote": "nope"})
    assert unknown.status_code == 422 and unknown.json()["code"] == "unknown_remote"
