"""The git module against real repositories made under tmp_path."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from paddock.domain.errors import Conflict, InvalidInput, Unavailable
from paddock.runtime import git
from paddock.runtime.git import staging, worktrees
from tests.runtime.plain_git import sh_git

pytestmark = pytest.mark.anyio


def plant_hook(repo: Path, name: str, marker: Path) -> None:
    hook = repo / ".git" / "hooks" / name
    hook.parent.mkdir(parents=True, exist_ok=True)
    hook.write_text(f"#!/bin/sh\ntouch '{marker}'\n")
    hook.chmod(hook.stat().st_mode | stat.S_IXUSR | stat.S_IXGRP | stat.S_IXOTH)


@pytest.fixture
def no_identity(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """No user.name/user.email anywhere: global and system config are out of the picture."""
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.setenv("GIT_CONFIG_GLOBAL", "/dev/null")
    monkeypatch.setenv("GIT_CONFIG_NOSYSTEM", "1")
    for var in ("GIT_AUTHOR_NAME", "GIT_AUTHOR_EMAIL", "GIT_COMMITTER_NAME", "EMAIL"):
        monkeypatch.delenv(var, raising=False)


# --- inspect_repo ------------------------------------------------------------------------------


async def test_inspect_normal_repo(repo: Path) -> None:
    info = await git.inspect_repo(repo)
    assert info.top_level == repo
    assert info.default_branch == "main"
    assert info.head_commit == sh_git(repo, "rev-parse", "HEAD")
    assert not info.detached
    assert (await git.inspect_repo(repo / "src")).top_level == repo


async def test_inspect_reports_the_checked_out_branch(repo: Path) -> None:
    sh_git(repo, "checkout", "-q", "-b", "trunk")
    assert (await git.inspect_repo(repo)).default_branch == "trunk"


async def test_inspect_detached_head_falls_back_to_main(repo: Path) -> None:
    sh_git(repo, "checkout", "-q", "--detach")
    info = await git.inspect_repo(repo)
    assert (info.default_branch, info.detached) == ("main", True)
    sh_git(repo, "branch", "-q", "-m", "main", "other")
    with pytest.raises(InvalidInput) as err:
        await git.inspect_repo(repo)
    assert err.value.code == "detached_head"


async def test_inspect_from_a_linked_worktree_sees_the_main_checkout(
    repo: Path, tmp_path: Path
) -> None:
    await worktrees.add_worktree(repo, tmp_path / "wt", "feature", "main")
    info = await git.inspect_repo(tmp_path / "wt")
    assert info.default_branch == "main"
    assert info.head_commit == sh_git(repo, "rev-parse", "HEAD")


@pytest.mark.parametrize(
    ("setup", "code"),
    [
        ("missing", "path_missing"),
        ("file", "path_missing"),
        ("plain", "not_a_git_repo"),
        ("bare", "bare_repo"),
        ("empty", "no_commits"),
        ("dotgit", "not_a_git_repo"),
    ],
)
async def test_inspect_rejects(tmp_path: Path, setup: str, code: str) -> None:
    path = tmp_path / "x"
    if setup == "file":
        path.write_text("not a dir")
    elif setup == "plain":
        path.mkdir()
    elif setup == "bare":
        sh_git(tmp_path, "init", "-q", "--bare", str(path))
    elif setup == "empty":
        sh_git(tmp_path, "init", "-q", str(path))
    elif setup == "dotgit":
        sh_git(tmp_path, "init", "-q", str(tmp_path / "r"))
        path = tmp_path / "r" / ".git"
    with pytest.raises(InvalidInput) as err:
        await git.inspect_repo(path)
    assert err.value.code == code


# --- init_repo ---------------------------------------------------------------------------------


async def test_init_repo_commits_the_files(tmp_path: Path) -> None:
    path = tmp_path / "deep" / "new"
    info = await git.init_repo(path, {"a.txt": "A\n", "d/e/b.txt": "B\n"}, branch="trunk")
    assert info.default_branch == "trunk"
    assert sh_git(path, "ls-files").splitlines() == ["a.txt", "d/e/b.txt"]
    assert sh_git(path, "status", "--porcelain") == ""
    assert sh_git(path, "log", "--format=%s") == "Initial commit"


async def test_init_repo_without_files_has_a_commit(tmp_path: Path) -> None:
    info = await git.init_repo(tmp_path / "r", message="Start")
    assert len(info.head_commit) == 40
    assert sh_git(tmp_path / "r", "log", "--format=%s") == "Start"


@pytest.mark.usefixtures("no_identity")
async def test_init_repo_falls_back_to_a_paddock_identity(tmp_path: Path) -> None:
    await git.init_repo(tmp_path / "r", {"a": "1"})
    assert sh_git(tmp_path / "r", "log", "--format=%an <%ae>") == "Paddock <paddock@localhost>"


async def test_init_repo_keeps_a_configured_identity(tmp_path: Path) -> None:
    await git.init_repo(tmp_path / "r", {"a": "1"})
    expected = (
        f"{sh_git(tmp_path, 'config', 'user.name')} <{sh_git(tmp_path, 'config', 'user.email')}>"
    )
    assert sh_git(tmp_path / "r", "log", "--format=%an <%ae>") == expected


@pytest.mark.parametrize("bad", ["../escape", "/abs", "a/../../b", ".git/config", ""])
async def test_init_repo_rejects_paths_outside(tmp_path: Path, bad: str) -> None:
    with pytest.raises(InvalidInput) as err:
        await git.init_repo(tmp_path / "r", {bad: "x"})
    assert err.value.code == "invalid_path"
    assert not (tmp_path / "r").exists()


async def test_init_repo_refuses_an_existing_repo(repo: Path) -> None:
    with pytest.raises(Conflict) as err:
        await git.init_repo(repo)
    assert err.value.code == "repo_exists"


# --- refs and files ----------------------------------------------------------------------------


async def test_rev_parse_and_branch_exists(repo: Path) -> None:
    head = sh_git(repo, "rev-parse", "HEAD")
    assert await git.rev_parse(repo, "main") == head
    assert await git.rev_parse(repo, head[:10]) == head
    assert await git.branch_exists(repo, "main")
    assert not await git.branch_exists(repo, "nope")
    for bad in ("nope", "--output=/tmp/x", "", "main:README.md"):
        with pytest.raises(InvalidInput) as err:
            await git.rev_parse(repo, bad)
        assert err.value.code == "unknown_ref"


async def test_resolve_revs(repo: Path) -> None:
    head = sh_git(repo, "rev-parse", "HEAD")
    sh_git(repo, "tag", "-a", "-m", "annotated", "v1")
    revs = ["refs/heads/main", "v1^{commit}", "refs/heads/nope", "--output=/tmp/x", "", "a\nb"]
    assert await git.resolve_revs(repo, *revs) == [head, head, None, None, None, None]
    assert await git.resolve_revs(repo, "main:src") == [sh_git(repo, "rev-parse", "main:src")]
    assert await git.resolve_revs(repo) == []


async def test_read_file_at(repo: Path) -> None:
    sh_git(repo, "checkout", "-q", "-b", "cfg")
    (repo / ".paddock.toml").write_text("[scripts]\ndev = 'x'\n")
    sh_git(repo, "add", ".paddock.toml")
    sh_git(repo, "commit", "-q", "-m", "cfg")
    assert await git.read_file_at(repo, "cfg", ".paddock.toml") == "[scripts]\ndev = 'x'\n"
    assert await git.read_file_at(repo, "main", ".paddock.toml") is None
    assert await git.read_file_at(repo, "main", "src/app.py") == "print('hi')\n"
    assert await git.read_file_at(repo, "main", "./src/app.py") == "print('hi')\n"
    assert await git.read_file_at(repo, "main", "src") is None  # a tree, not a file
    with pytest.raises(InvalidInput) as err:
        await git.read_file_at(repo, "nope", "README.md")
    assert err.value.code == "unknown_ref"


async def test_commit_all(repo: Path, tmp_path: Path) -> None:
    wt = tmp_path / "wt"
    await worktrees.add_worktree(repo, wt, "work", "main")
    assert (await staging.commit_all(wt, "nothing")).sha is None
    (wt / "new.txt").write_text("new\n")
    (wt / "README.md").unlink()
    sha = (await staging.commit_all(wt, "agent work")).sha
    assert sha is not None and sha == sh_git(wt, "rev-parse", "HEAD")
    assert await git.read_file_at(repo, "work", "new.txt") == "new\n"
    assert await git.read_file_at(repo, "work", "README.md") is None
    assert sh_git(repo, "log", "-1", "--format=%s", "work") == "agent work"
    assert sh_git(wt, "status", "--porcelain") == ""


@pytest.mark.usefixtures("no_identity")
async def test_commit_all_without_identity(repo: Path) -> None:
    (repo / "x").write_text("x")
    assert (await staging.commit_all(repo, "x")).sha is not None
    assert sh_git(repo, "log", "-1", "--format=%an <%ae>") == "Paddock <paddock@localhost>"


async def test_delete_branch(repo: Path, tmp_path: Path) -> None:
    sh_git(repo, "branch", "gone")
    assert await git.delete_branch(repo, "gone")
    assert not await git.branch_exists(repo, "gone")
    assert not await git.delete_branch(repo, "gone")
    await worktrees.add_worktree(repo, tmp_path / "wt", "busy", "main")
    with pytest.raises(git.GitError):  # checked out in a worktree
        await git.delete_branch(repo, "busy", force=True)
    with pytest.raises(InvalidInput) as err:
        await git.delete_branch(repo, "-D")
    assert err.value.code == "invalid_branch"


# --- repo_lock ---------------------------------------------------------------------------------


async def test_repo_lock_is_per_resolved_path(repo: Path, tmp_path: Path) -> None:
    (tmp_path / "link").symlink_to(repo)
    assert git.repo_lock(repo) is git.repo_lock(tmp_path / "link")
    assert git.repo_lock(repo) is git.repo_lock(f"{repo}/./")
    assert git.repo_lock(repo) is not git.repo_lock(tmp_path)


# --- host safety -------------------------------------------------------------------------------


async def test_planted_hooks_do_not_run(repo: Path, tmp_path: Path) -> None:
    marker = tmp_path / "hook-ran"
    for hook in (
        "post-checkout",
        "pre-commit",
        "commit-msg",
        "post-commit",
        "reference-transaction",
    ):
        plant_hook(repo, hook, marker)
    sh_git(repo, "checkout", "-q", "-b", "probe")  # the hook works for plain git ...
    assert marker.exists()
    sh_git(repo, "checkout", "-q", "main")
    marker.unlink()
    wt = tmp_path / "wt"
    await worktrees.add_worktree(repo, wt, "b", "main")  # ... but not for Paddock
    (wt / "f").write_text("f")
    await staging.commit_all(wt, "m")
    await worktrees.remove_worktree(repo, wt)
    await git.delete_branch(repo, "b", force=True)
    assert not marker.exists()


async def test_planted_fsmonitor_does_not_run(repo: Path, tmp_path: Path) -> None:
    marker = tmp_path / "fsmonitor-ran"
    script = tmp_path / "fsmonitor.sh"
    script.write_text(f"#!/bin/sh\ntouch '{marker}'\nexit 1\n")
    script.chmod(0o755)
    sh_git(repo, "config", "core.fsmonitor", str(script))
    sh_git(repo, "status")
    assert marker.exists()
    marker.unlink()
    (repo / "f").write_text("f")
    await staging.commit_all(repo, "m")
    await worktrees.add_worktree(repo, tmp_path / "wt", "b", "main")
    await git.inspect_repo(repo)
    assert not marker.exists()


async def test_git_errors_carry_command_and_stderr(repo: Path) -> None:
    with pytest.raises(git.GitError) as err:
        await git.run_git(repo, "checkout", "no-such-branch")
    assert err.value.code == "git_failed"
    assert err.value.command == ["checkout", "no-such-branch"]
    assert "no-such-branch" in err.value.stderr
    result = await git.run_git(repo, "checkout", "no-such-branch", check=False)
    assert result.returncode != 0


async def test_git_version() -> None:
    assert (await git.git_version())[0].isdigit()


async def test_missing_git_binary(
    repo: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PATH", str(tmp_path / "empty-bin"))
    with pytest.raises(Unavailable) as err:
        await git.inspect_repo(repo)
    assert err.value.code == "git_missing"


async def test_inherited_git_dir_is_ignored(
    repo: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    other = tmp_path / "other"
    await git.init_repo(other, {"other.txt": "x"})
    monkeypatch.setenv("GIT_DIR", str(other / ".git"))
    assert await git.read_file_at(repo, "main", "README.md") == "# demo\n"
    assert os.environ["GIT_DIR"]


# --- files too large for a commit --------------------------------------------------------------


def blob_sizes(repo: Path) -> list[int]:
    """The size of every blob in the repository's object store (loose and packed)."""
    out = sh_git(
        repo, "cat-file", "--batch-all-objects", "--batch-check=%(objecttype) %(objectsize)"
    )
    return [
        int(size) for kind, size in (line.split() for line in out.splitlines()) if kind == "blob"
    ]


async def test_files_over_the_limit_are_neither_committed_nor_hashed(
    repo: Path, tmp_path: Path
) -> None:
    wt = tmp_path / "wt"
    await worktrees.add_worktree(repo, wt, "work", "main")
    limit = 1 << 20
    big = limit + 1
    (wt / "normal.txt").write_text("kept\n")
    (wt / "big.bin").write_bytes(b"\x01" * big)
    (wt / "deep" / "dir").mkdir(parents=True)
    (wt / "deep" / "dir" / "big*[?].bin").write_bytes(b"\x02" * big)  # glob characters
    (wt / os.fsdecode(b"bad-\xff-name.bin")).write_bytes(b"\x03" * big)  # not UTF-8
    (wt / "exactly.bin").write_bytes(b"\x04" * limit)  # at the limit: taken
    (wt / "link-to-big").symlink_to("big.bin")  # a link is its own small blob
    tree = worktrees.linked(repo, wt)

    done = await staging.commit_all(tree, "agent work", max_file_bytes=limit)

    assert done.sha is not None
    assert sorted((f.path, f.size, f.limit, f.new) for f in done.left_out) == [
        ("bad-\ufffd-name.bin", big, limit, True),
        ("big.bin", big, limit, True),
        ("deep/dir/big*[?].bin", big, limit, True),
    ]
    committed = sh_git(wt, "ls-tree", "-r", "--name-only", "HEAD").splitlines()
    assert {"normal.txt", "exactly.bin", "link-to-big", "README.md"} <= set(committed)
    assert not [name for name in committed if "big" in name and name != "link-to-big"]
    assert big not in blob_sizes(repo)  # not in the commit, nor anywhere in the object store
    assert limit in blob_sizes(repo)
    # They stay in the worktree, untracked, for the user to look at.
    assert (wt / "big.bin").stat().st_size == big
    assert "?? big.bin" in sh_git(wt, "status", "--porcelain")


async def test_a_tracked_file_grown_past_the_limit_keeps_its_committed_version(
    repo: Path, tmp_path: Path
) -> None:
    wt = tmp_path / "wt"
    await worktrees.add_worktree(repo, wt, "work", "main")
    (wt / "README.md").write_bytes(b"x" * 3000)
    sh_git(wt, "add", "README.md")  # staged by hand before: unstaged again, never committed
    tree = worktrees.linked(repo, wt)
    done = await staging.commit_all(tree, "m", max_file_bytes=2000)
    assert [(f.path, f.new) for f in done.left_out] == [("README.md", False)]
    assert done.sha is None  # nothing else changed
    assert sh_git(wt, "show", "HEAD:README.md") == sh_git(repo, "show", "main:README.md")


async def test_without_a_limit_everything_is_committed(repo: Path, tmp_path: Path) -> None:
    wt = tmp_path / "wt"
    await worktrees.add_worktree(repo, wt, "work", "main")
    (wt / "big.bin").write_bytes(b"\x05" * 5000)
    done = await staging.commit_all(worktrees.linked(repo, wt), "m")
    assert done.left_out == [] and done.sha is not None
    assert 5000 in blob_sizes(repo)
