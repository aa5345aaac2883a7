"""What a commit of a worktree takes: never ignored files, whether the project's .gitignore
names them or they are generated files Paddock knows (domain/generated.py)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from paddock.runtime import git
from paddock.runtime.git import staging, worktrees
from tests.runtime.plain_git import sh_git

pytestmark = pytest.mark.anyio

GENERATED = {
    "__pycache__/app.cpython-311.pyc": "bytecode",
    "src/__pycache__/app.cpython-311.pyc": "bytecode",
    "src/stray.pyc": "bytecode",
    ".pytest_cache/v/cache/nodeids": "[]",
    "node_modules/left-pad/index.js": "module.exports = 1\n",
    "web/node_modules/x/index.js": "x\n",
    ".aider.tags.cache.v4/cache.db": "sqlite",
    ".mypy_cache/3.11/app.meta.json": "{}",
    ".DS_Store": "finder",
}


def write(root: Path, files: dict[str, str]) -> None:
    for name, text in files.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(text)


def committed(where: Path, rev: str = "HEAD") -> set[str]:
    return set(sh_git(where, "ls-tree", "-r", "--name-only", rev).splitlines())


async def test_generated_files_are_never_committed_even_without_a_gitignore(
    repo: Path, tmp_path: Path
) -> None:
    wt = tmp_path / "wt"
    await worktrees.add_worktree(repo, wt, "work", "main")
    assert not (wt / ".gitignore").exists()
    write(wt, GENERATED)
    assert (await staging.commit_all(wt, "only caches")).sha is None  # nothing to commit
    assert not await git.has_changes(wt)  # and nothing that stops a merge

    write(wt, {"src/new.py": "x = 1\n", "src/__pycache__/new.cpython-311.pyc": "bc"})
    assert await git.has_changes(wt)
    done = await staging.commit_all(wt, "agent work")
    assert done.sha is not None
    assert committed(wt) == {"README.md", "src/app.py", "src/new.py"}
    # The caches stay in the worktree, untracked and ignored.
    assert (wt / "node_modules/left-pad/index.js").is_file()
    assert not await git.has_changes(wt)


async def test_the_projects_own_ignore_rules_still_apply(repo: Path) -> None:
    write(repo, {".gitignore": "build/\n*.log\n"})
    sh_git(repo, "add", ".gitignore")
    sh_git(repo, "commit", "-qm", "ignore")
    write(repo, {"build/out.js": "x", "debug.log": "x", "kept.txt": "kept\n"})
    await staging.commit_all(repo, "work")
    assert committed(repo) == {".gitignore", "README.md", "src/app.py", "kept.txt"}


async def test_a_tracked_file_matching_a_pattern_is_still_committed(repo: Path) -> None:
    """As with .gitignore: the patterns say what new files to leave out, not which of the
    project's own files to stop following (a vendored module committed on purpose)."""
    write(repo, {"node_modules/vendored.js": "v1\n"})
    sh_git(repo, "add", "-f", "node_modules/vendored.js")
    sh_git(repo, "commit", "-qm", "vendor")
    write(repo, {"node_modules/vendored.js": "v2\n", "node_modules/other.js": "new\n"})
    assert await git.has_changes(repo)
    await staging.commit_all(repo, "bump")
    assert sh_git(repo, "show", "HEAD:node_modules/vendored.js") == "v2"
    assert "node_modules/other.js" not in committed(repo)


async def test_ignored_paths_name_each_ignored_folder_once(repo: Path) -> None:
    write(repo, {".gitignore": "dist/\n"})
    write(repo, {**GENERATED, "dist/a.js": "a", "dist/b/c.js": "c", "only/x.pyc": "bc"})
    write(repo, {"mixed/keep.txt": "keep", "mixed/drop.pyc": "bc"})
    assert await staging.ignored_paths(repo) == [
        ".DS_Store",
        ".aider.tags.cache.v4/",
        ".mypy_cache/",
        ".pytest_cache/",
        "__pycache__/",
        "dist/",
        "mixed/drop.pyc",
        "node_modules/",
        "only/",
        "src/__pycache__/",
        "src/stray.pyc",
        "web/",  # all it holds is ignored
    ]


def test_outermost_drops_what_a_listed_folder_holds() -> None:
    assert staging.outermost(["b/x.pyc", "a/", "b/", "a/deep/y", "c/d/", "c/e"]) == [
        "a/",
        "b/",
        "c/d/",
        "c/e",
    ]


async def test_discard_all_puts_the_worktree_back_but_what_is_ignored(repo: Path) -> None:
    write(repo, {".gitignore": "dist/\n"})
    sh_git(repo, "add", ".gitignore")
    sh_git(repo, "commit", "-qm", "ignore")
    assert await staging.discard_all(repo) == []  # nothing to discard
    write(repo, {"README.md": "changed\n", "new/deep/file.txt": "x", "dist/app.js": "built"})
    write(repo, GENERATED)
    (repo / "src" / "app.py").unlink()
    (repo / "inner").mkdir()
    sh_git(repo / "inner", "init", "-q")  # a repository made inside: never removed
    assert await staging.discard_all(repo) == ["README.md", "new/deep/file.txt", "src/app.py"]
    assert (repo / "README.md").read_text() == "# demo\n"
    assert (repo / "src" / "app.py").is_file()
    assert not (repo / "new").exists()
    assert (repo / "dist" / "app.js").is_file() and (repo / "inner" / ".git").is_dir()
    assert all((repo / name).is_file() for name in GENERATED)
    shutil.rmtree(repo / "inner")  # (an untracked repository still counts as a change)
    assert not await git.has_changes(repo)
