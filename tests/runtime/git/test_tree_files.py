"""Reading a commit's text files from git objects, against real repositories."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from paddock.domain.errors import InvalidInput
from paddock.runtime.git.tree_files import files_at
from tests.runtime.plain_git import sh_git

pytestmark = pytest.mark.anyio


def commit_all(repo: Path, message: str = "change") -> str:
    sh_git(repo, "add", "-A")
    sh_git(repo, "-c", "user.name=T", "-c", "user.email=t@x", "commit", "-q", "-m", message)
    return sh_git(repo, "rev-parse", "HEAD")


async def test_reads_the_committed_text_files(repo: Path) -> None:
    head = sh_git(repo, "rev-parse", "HEAD")
    assert await files_at(repo, head) == {"README.md": "# demo\n", "src/app.py": "print('hi')\n"}
    assert await files_at(repo, "main") == await files_at(repo, head)


async def test_a_symlink_is_never_followed(repo: Path) -> None:
    (repo / "passwd.txt").symlink_to("/etc/passwd")
    (repo / "inside.txt").symlink_to("README.md")
    files = await files_at(repo, commit_all(repo))
    assert "passwd.txt" not in files and "inside.txt" not in files
    assert not any("root:" in text for text in files.values())


async def test_binary_and_undecodable_files_are_skipped(repo: Path) -> None:
    (repo / "data.bin").write_bytes(b"abc\0def")
    (repo / "latin1.txt").write_bytes("café".encode("latin-1"))
    (repo / "logo.png").write_bytes(b"not really a png, but its name says binary")
    (repo / "ok.txt").write_text("fine\n")
    files = await files_at(repo, commit_all(repo))
    assert set(files) == {"README.md", "src/app.py", "ok.txt"}


async def test_files_over_the_size_limit_are_skipped(repo: Path) -> None:
    (repo / "big.txt").write_text("x" * 2000)
    (repo / "small.txt").write_text("y" * 1000)
    files = await files_at(repo, commit_all(repo), max_file_bytes=1000)
    assert "big.txt" not in files
    assert files["small.txt"] == "y" * 1000


async def test_the_total_budget_goes_to_shallow_paths_first(repo: Path) -> None:
    (repo / "deep" / "er").mkdir(parents=True)
    (repo / "deep" / "er" / "a.txt").write_text("a" * 100)
    (repo / "package.json").write_text("{}\n" + " " * 97)  # 100 bytes
    files = await files_at(repo, commit_all(repo), max_total_bytes=130)
    # README.md (7 bytes) + package.json (100) fit; src/app.py (12) too; deep/er/a.txt not.
    assert set(files) == {"README.md", "package.json", "src/app.py"}
    assert sum(len(t.encode()) for t in files.values()) <= 130


async def test_weird_file_names(repo: Path) -> None:
    names = [
        "new\nline.txt",
        "tab\there.txt",
        "quo\"te's.md",
        "ünïcødé/文件.py",
        "-dash.txt",
        " space .txt",
        "back\\slash.txt",
    ]
    for name in names:
        path = repo / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(f"content of {name!r}\n")
    files = await files_at(repo, commit_all(repo))
    for name in names:
        assert files[name] == f"content of {name!r}\n"


async def test_a_name_that_is_not_utf8_is_skipped(repo: Path) -> None:
    (repo / os.fsdecode(b"bad-\xff.txt")).write_text("hidden\n")
    files = await files_at(repo, commit_all(repo))
    assert set(files) == {"README.md", "src/app.py"}


async def test_working_tree_changes_are_not_read(repo: Path) -> None:
    head = sh_git(repo, "rev-parse", "HEAD")
    (repo / "README.md").write_text("# changed after the commit\n")
    (repo / "untracked.txt").write_text("not committed\n")
    (repo / "src" / "app.py").unlink()
    (repo / "src" / "app.py").symlink_to("/etc/passwd")
    files = await files_at(repo, head)
    assert files == {"README.md": "# demo\n", "src/app.py": "print('hi')\n"}


async def test_an_older_commit_reads_its_own_files(repo: Path) -> None:
    first = sh_git(repo, "rev-parse", "HEAD")
    sh_git(repo, "tag", "v0.1")
    (repo / "README.md").write_text("# v0.2\n")
    commit_all(repo)
    assert (await files_at(repo, "v0.1"))["README.md"] == "# demo\n"
    assert (await files_at(repo, first))["README.md"] == "# demo\n"
    assert (await files_at(repo, "HEAD"))["README.md"] == "# v0.2\n"


async def test_submodules_are_skipped(repo: Path) -> None:
    head = sh_git(repo, "rev-parse", "HEAD")
    sh_git(repo, "update-index", "--add", "--cacheinfo", f"160000,{head},vendor/lib")
    sh_git(repo, "-c", "user.name=T", "-c", "user.email=t@x", "commit", "-q", "-m", "sub")
    assert set(await files_at(repo, "HEAD")) == {"README.md", "src/app.py"}


async def test_an_unknown_commit_is_invalid_input(repo: Path) -> None:
    for bad in ("nope", "--output=/tmp/x", "HEAD\nmain"):
        with pytest.raises(InvalidInput) as err:
            await files_at(repo, bad)
        assert err.value.code == "unknown_ref"
