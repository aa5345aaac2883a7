"""The worktrees module against real repositories made under tmp_path."""

from __future__ import annotations

import asyncio
import shutil
from pathlib import Path
from typing import Any

import pytest

from paddock.domain.errors import Conflict, InvalidInput
from paddock.runtime import git
from paddock.runtime.git import worktrees
from tests.runtime.plain_git import sh_git

pytestmark = pytest.mark.anyio


async def test_add_worktree_creates_branch_and_checkout(repo: Path, tmp_path: Path) -> None:
    sh_git(repo, "checkout", "-q", "-b", "feature")
    (repo / "feature.txt").write_text("feature\n")
    sh_git(repo, "add", ".")
    sh_git(repo, "commit", "-q", "-m", "feature")
    sh_git(repo, "checkout", "-q", "main")
    wt = tmp_path / "worktrees" / "a1"
    base = await worktrees.add_worktree(repo, wt, "paddock/a1-task", "feature")
    assert base == sh_git(repo, "rev-parse", "feature")
    assert (wt / "feature.txt").read_text() == "feature\n"
    assert (wt / "src" / "app.py").read_text() == "print('hi')\n"
    assert sh_git(wt, "rev-parse", "--abbrev-ref", "HEAD") == "paddock/a1-task"
    assert await git.rev_parse(repo, "paddock/a1-task") == base
    assert sh_git(repo, "rev-parse", "--abbrev-ref", "HEAD") == "main"  # main checkout untouched


async def test_add_worktree_branch_clash_leaves_nothing(repo: Path, tmp_path: Path) -> None:
    sh_git(repo, "branch", "taken")
    taken = sh_git(repo, "rev-parse", "taken")
    with pytest.raises(Conflict) as err:
        await worktrees.add_worktree(repo, tmp_path / "wt", "taken", "main")
    assert err.value.code == "branch_exists"
    assert not (tmp_path / "wt").exists()
    assert sh_git(repo, "rev-parse", "taken") == taken
    assert len(await worktrees.list_worktrees(repo)) == 1


def count_git(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, ...]]:
    calls: list[tuple[str, ...]] = []
    run_git = git.run_git

    async def counted(cwd: Path, *args: str, **kwargs: Any) -> git.GitResult:
        calls.append(args)
        return await run_git(cwd, *args, **kwargs)

    monkeypatch.setattr("paddock.runtime.git.commands.run_git", counted)
    monkeypatch.setattr(worktrees, "run_git", counted)
    return calls


async def test_add_worktree_branch_clash_is_found_before_git_makes_anything(
    repo: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    sh_git(repo, "branch", "taken")
    sh_git(repo, "branch", "packed")
    sh_git(repo, "pack-refs", "--all")  # `packed` is a line of packed-refs now, not a file
    sh_git(repo, "branch", "taken-loose")
    calls = count_git(monkeypatch)
    for taken in ("taken", "packed", "taken-loose"):
        with pytest.raises(Conflict) as err:
            await worktrees.add_worktree(repo, tmp_path / "wt", taken, "main")
        assert err.value.code == "branch_exists"
        assert err.value.message == f"branch {taken!r} already exists"
    assert calls == []  # the refs are files: no git process to find the clash

    base = await worktrees.add_worktree(repo, tmp_path / "wt", "free", "main")
    assert base == sh_git(repo, "rev-parse", "main")
    assert [c[0] for c in calls] == ["worktree"]  # the work, and nothing else


async def test_add_worktree_asks_git_where_refs_are_not_files(
    repo: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A repository whose `.git` is a file (itself a linked worktree, a submodule) or keeps a
    reftable: one git process checks the branch and resolves the base, as before."""
    linked = tmp_path / "linked"
    sh_git(repo, "worktree", "add", "-q", "-b", "side", str(linked), "main")
    sh_git(repo, "branch", "taken")
    calls = count_git(monkeypatch)
    with pytest.raises(Conflict) as err:
        await worktrees.add_worktree(linked, tmp_path / "wt", "taken", "main")
    assert err.value.code == "branch_exists"
    assert [c[:2] for c in calls] == [("cat-file", "--batch-check=%(objectname)")]
    calls.clear()
    base = await worktrees.add_worktree(linked, tmp_path / "wt", "free", "main")
    assert base == sh_git(repo, "rev-parse", "main")
    assert [c[0] for c in calls] == ["cat-file", "worktree"]


async def test_add_worktree_never_passes_a_base_for_an_option(
    repo: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls = count_git(monkeypatch)
    for bad in ("-x", "--force", ""):
        with pytest.raises(InvalidInput) as err:
            await worktrees.add_worktree(repo, tmp_path / "wt", "b", bad)
        assert err.value.code == "unknown_ref"
    assert calls == []
    tree = sh_git(repo, "rev-parse", "main^{tree}")  # names an object, but no commit
    with pytest.raises(InvalidInput) as err:
        await worktrees.add_worktree(repo, tmp_path / "wt", "b", tree)
    assert err.value.code == "unknown_ref"
    assert not (tmp_path / "wt").exists() and not await git.branch_exists(repo, "b")


async def test_add_worktree_git_refusing_an_existing_branch_keeps_it(
    repo: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The branch appears after the check (made by someone not holding repo_lock): git's own
    # refusal answers with the same code, and the branch, not ours, is left alone.
    sh_git(repo, "branch", "late")
    taken = sh_git(repo, "rev-parse", "late")
    monkeypatch.setattr(worktrees, "_branch_on_file", lambda *_: False)  # a stale check
    with pytest.raises(Conflict) as err:
        await worktrees.add_worktree(repo, tmp_path / "wt", "late", "main")
    assert err.value.code == "branch_exists"
    assert sh_git(repo, "rev-parse", "late") == taken
    assert not (tmp_path / "wt").exists()
    assert len(await worktrees.list_worktrees(repo)) == 1


async def test_add_worktree_path_clash(repo: Path, tmp_path: Path) -> None:
    (tmp_path / "wt").mkdir()
    (tmp_path / "wt" / "keep").write_text("mine")
    with pytest.raises(Conflict) as err:
        await worktrees.add_worktree(repo, tmp_path / "wt", "b", "main")
    assert err.value.code == "worktree_exists"
    assert (tmp_path / "wt" / "keep").read_text() == "mine"
    assert not await git.branch_exists(repo, "b")


async def test_add_worktree_unknown_base_leaves_nothing(repo: Path, tmp_path: Path) -> None:
    with pytest.raises(InvalidInput) as err:
        await worktrees.add_worktree(repo, tmp_path / "wt", "b", "no-such-base")
    assert err.value.code == "unknown_ref"
    assert not (tmp_path / "wt").exists()
    assert not await git.branch_exists(repo, "b")
    assert len(await worktrees.list_worktrees(repo)) == 1


async def test_add_worktree_failing_midway_is_rolled_back(repo: Path, tmp_path: Path) -> None:
    # git creates the branch first, then fails to create the directory under a file: plain git
    # would leave the branch behind.
    (tmp_path / "afile").write_text("")
    with pytest.raises(git.GitError) as err:
        await worktrees.add_worktree(repo, tmp_path / "afile" / "wt", "half", "main")
    assert err.value.code == "git_failed"
    assert "worktree" in err.value.command and err.value.stderr
    assert not await git.branch_exists(repo, "half")
    assert (tmp_path / "afile").is_file()
    assert [w.path for w in await worktrees.list_worktrees(repo)] == [repo]
    assert not any((repo / ".git" / "worktrees").glob("*"))


async def test_add_worktree_rejects_bad_branch_names(repo: Path, tmp_path: Path) -> None:
    for bad in ("a..b", "-x", "with space", "end/"):
        with pytest.raises(InvalidInput) as err:
            await worktrees.add_worktree(repo, tmp_path / "wt", bad, "main")
        assert err.value.code == "invalid_branch"
    assert not (tmp_path / "wt").exists()


async def test_list_worktrees(repo: Path, tmp_path: Path) -> None:
    base = await worktrees.add_worktree(repo, tmp_path / "one", "one", "main")
    await worktrees.add_worktree(repo, tmp_path / "two", "two", "main")
    sh_git(tmp_path / "two", "checkout", "-q", "--detach")
    trees = await worktrees.list_worktrees(repo)
    assert [t.path for t in trees] == [repo, tmp_path / "one", tmp_path / "two"]
    assert [t.branch for t in trees] == ["main", "one", None]
    assert [t.detached for t in trees] == [False, False, True]
    assert all(t.head == base for t in trees)
    assert not any(t.prunable or t.bare or t.locked for t in trees)


async def test_remove_worktree_and_prune(repo: Path, tmp_path: Path) -> None:
    wt = tmp_path / "wt"
    await worktrees.add_worktree(repo, wt, "b", "main")
    (wt / "dirty.txt").write_text("uncommitted")
    (wt / "README.md").write_text("changed")
    (wt / "node_modules" / "x").mkdir(parents=True)
    sh_git(repo, "worktree", "lock", str(wt))
    await worktrees.remove_worktree(repo, wt)
    assert not wt.exists()
    assert len(await worktrees.list_worktrees(repo)) == 1
    assert await git.branch_exists(repo, "b")  # the branch is the caller's to delete
    await worktrees.remove_worktree(repo, wt)  # already gone: fine

    other = tmp_path / "other"
    await worktrees.add_worktree(repo, other, "c", "main")
    shutil.rmtree(other)
    assert [t.prunable for t in await worktrees.list_worktrees(repo)] == [False, True]
    await worktrees.prune_worktrees(repo)
    assert len(await worktrees.list_worktrees(repo)) == 1


async def test_remove_worktree_leftover_dir_after_prune(repo: Path, tmp_path: Path) -> None:
    wt = tmp_path / "wt"
    await worktrees.add_worktree(repo, wt, "b", "main")
    # The admin dir vanished (say, an earlier prune) but the checkout is still on disk.
    shutil.rmtree(repo / ".git" / "worktrees")
    await worktrees.remove_worktree(repo, wt)
    assert not wt.exists()


async def test_remove_worktree_refuses_what_is_not_a_worktree(repo: Path, tmp_path: Path) -> None:
    with pytest.raises(InvalidInput) as err:
        await worktrees.remove_worktree(repo, repo)
    assert err.value.code == "main_worktree"
    plain = tmp_path / "plain"
    plain.mkdir()
    (plain / "keep").write_text("x")
    with pytest.raises(InvalidInput) as err:
        await worktrees.remove_worktree(repo, plain)
    assert err.value.code == "not_a_worktree"
    assert (plain / "keep").exists()
    # A worktree of another repository is not ours either.
    other = tmp_path / "other-repo"
    await git.init_repo(other)
    await worktrees.add_worktree(other, tmp_path / "foreign", "f", "main")
    with pytest.raises(InvalidInput):
        await worktrees.remove_worktree(repo, tmp_path / "foreign")
    assert (tmp_path / "foreign" / ".git").exists()
    assert (repo / "README.md").exists()


async def test_concurrent_add_worktree_under_repo_lock(repo: Path, tmp_path: Path) -> None:
    async def add(i: int) -> str:
        async with git.repo_lock(repo):
            return await worktrees.add_worktree(repo, tmp_path / f"wt{i}", f"b{i}", "main")

    shas = await asyncio.gather(*(add(i) for i in range(8)))
    assert len(set(shas)) == 1
    trees = await worktrees.list_worktrees(repo)
    assert sorted(t.branch or "" for t in trees[1:]) == sorted(f"b{i}" for i in range(8))
    assert all((tmp_path / f"wt{i}" / "README.md").exists() for i in range(8))
