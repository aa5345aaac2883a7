"""safefs: reads and writes inside a tree an agent wrote never follow a link, whichever way the
path is resolved (openat2, or one component at a time where the kernel lacks it). Each case
points a link at a host file or directory outside the tree and checks that it was neither read
nor written."""

from __future__ import annotations

import contextlib
import os
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest

from paddock.runtime import safefs
from paddock.runtime.safefs import FileTooLarge, UnsafePath, beneath

MODES = ["openat2", "components"]


@pytest.fixture(params=MODES)
def mode(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    name: str = request.param
    if name == "openat2" and not beneath.HAVE_OPENAT2:
        pytest.skip("this kernel has no openat2 (or a seccomp filter hides it)")
    # Where paths are resolved (safefs/beneath.py) is where the choice is read.
    monkeypatch.setattr(beneath, "HAVE_OPENAT2", name == "openat2")
    yield name


@pytest.fixture
def host(tmp_path: Path) -> tuple[Path, Path]:
    """A host file and a host directory (holding a file of the same name) outside the tree."""
    outside = tmp_path / "host"
    outside.mkdir()
    victim = outside / "victim.txt"
    victim.write_bytes(b"host secret\n")
    folder = outside / "dir"
    folder.mkdir()
    (folder / "f.txt").write_bytes(b"host dir secret\n")
    return victim, folder


@pytest.fixture
def tree(tmp_path: Path, host: tuple[Path, Path]) -> Path:
    victim, folder = host
    root = tmp_path / "tree"
    (root / "sub").mkdir(parents=True)
    (root / "sub" / "f.txt").write_bytes(b"tree file\n")
    (root / "link.txt").symlink_to(victim)
    (root / "linkdir").symlink_to(folder)
    (root / "sub" / "up").symlink_to("../../host/dir")  # relative, still out of the tree
    return root


def state(path: Path) -> tuple[int, int, bytes]:
    info = path.lstat()
    return info.st_mode, info.st_uid, path.read_bytes()


# --- reading -------------------------------------------------------------------------------------


def test_reads_a_regular_file_in_the_tree(mode: str, tree: Path) -> None:
    assert safefs.read_bytes(tree, "sub/f.txt", limit=100) == b"tree file\n"
    assert safefs.read_bytes(tree, "./sub/./f.txt", limit=100) == b"tree file\n"
    with safefs.open_read(tree, "sub/f.txt") as fh:
        assert fh.read() == b"tree file\n"


@pytest.mark.parametrize("relative", ["link.txt", "linkdir/f.txt", "sub/up/f.txt"])
def test_a_link_on_the_way_is_never_read_through(mode: str, tree: Path, relative: str) -> None:
    with pytest.raises(UnsafePath) as caught:
        safefs.read_bytes(tree, relative, limit=100)
    assert caught.value.code == "unsafe_path"
    assert relative in caught.value.message


@pytest.mark.parametrize("relative", ["../host/victim.txt", "/etc/passwd", "sub/../../x"])
def test_a_path_out_of_the_tree_is_refused(mode: str, tree: Path, relative: str) -> None:
    with pytest.raises(UnsafePath):
        safefs.read_bytes(tree, relative, limit=100)


def test_a_fifo_is_refused_without_blocking(mode: str, tree: Path) -> None:
    os.mkfifo(tree / "pipe")  # no writer: a plain open would wait forever
    with pytest.raises(UnsafePath, match="not a regular file"):
        safefs.read_bytes(tree, "pipe", limit=100)


def test_a_directory_is_not_read_as_a_file(mode: str, tree: Path) -> None:
    with pytest.raises(UnsafePath, match="not a regular file"):
        safefs.read_bytes(tree, "sub", limit=100)


def test_reads_are_capped(mode: str, tree: Path) -> None:
    (tree / "big").write_bytes(b"x" * 101)
    assert safefs.read_bytes(tree, "big", limit=101) == b"x" * 101
    with pytest.raises(FileTooLarge) as caught:
        safefs.read_bytes(tree, "big", limit=100)
    assert caught.value.code == "file_too_large"


def test_a_missing_file_is_file_not_found(mode: str, tree: Path) -> None:
    with pytest.raises(FileNotFoundError):
        safefs.read_bytes(tree, "sub/nope", limit=100)
    with pytest.raises(FileNotFoundError):
        safefs.read_bytes(tree, "nope/f.txt", limit=100)


def test_lstat_sees_the_link_itself_and_refuses_a_linked_parent(mode: str, tree: Path) -> None:
    info = safefs.lstat(tree, "link.txt")
    assert info is not None and stat.S_ISLNK(info.st_mode)
    found = safefs.lstat(tree, "sub/f.txt")
    assert found is not None and found.st_size == len(b"tree file\n")
    assert safefs.lstat(tree, "nope") is None
    assert safefs.lstat(tree, "nope/deeper") is None
    with pytest.raises(UnsafePath):
        safefs.lstat(tree, "linkdir/f.txt")


# --- writing -------------------------------------------------------------------------------------


def test_writes_make_parents_and_replace_a_regular_file(mode: str, tree: Path) -> None:
    safefs.write_bytes(tree, "new/deeper/f.txt", b"one", mode=0o640)
    assert (tree / "new" / "deeper" / "f.txt").read_bytes() == b"one"
    assert stat.S_IMODE((tree / "new" / "deeper" / "f.txt").stat().st_mode) == 0o640
    safefs.write_bytes(tree, "sub/f.txt", b"two")
    assert (tree / "sub" / "f.txt").read_bytes() == b"two"
    assert sorted(os.listdir(tree / "sub")) == ["f.txt", "up"]  # no partial file left behind


def test_a_write_never_goes_through_a_link(mode: str, tree: Path, host: tuple[Path, Path]) -> None:
    victim, folder = host
    before, before_dir = state(victim), sorted(os.listdir(folder))
    with pytest.raises(UnsafePath, match=r"link\.txt is a symlink"):
        safefs.write_bytes(tree, "link.txt", b"pwned")
    for relative in ("linkdir/f.txt", "linkdir/new.txt", "sub/up/new/f.txt"):
        with pytest.raises(UnsafePath):
            safefs.write_bytes(tree, relative, b"pwned")
    with pytest.raises(UnsafePath):
        safefs.makedirs(tree, "linkdir/made")
    assert state(victim) == before
    assert sorted(os.listdir(folder)) == before_dir
    assert (folder / "f.txt").read_bytes() == b"host dir secret\n"


def test_a_write_never_goes_through_a_hard_link(
    mode: str, tree: Path, host: tuple[Path, Path]
) -> None:
    victim, _ = host
    os.link(victim, tree / "hard.txt")
    safefs.write_bytes(tree, "hard.txt", b"replaced")
    assert (tree / "hard.txt").read_bytes() == b"replaced"
    assert victim.read_bytes() == b"host secret\n"


def test_over_links_replaces_the_link_itself(
    mode: str, tree: Path, host: tuple[Path, Path]
) -> None:
    victim, _ = host
    safefs.write_bytes(tree, "link.txt", b"mine", over_links=True)
    assert not (tree / "link.txt").is_symlink()
    assert (tree / "link.txt").read_bytes() == b"mine"
    assert victim.read_bytes() == b"host secret\n"


def test_a_directory_where_a_file_goes_is_refused(mode: str, tree: Path) -> None:
    with pytest.raises(UnsafePath, match="not a regular file"):
        safefs.write_bytes(tree, "sub", b"x")


def test_copy_in_keeps_mode_and_times_and_follows_no_link(
    mode: str, tree: Path, tmp_path: Path, host: tuple[Path, Path]
) -> None:
    victim, folder = host
    source = tmp_path / "source.env"
    source.write_bytes(b"KEY=1\n")
    source.chmod(0o600)
    os.utime(source, ns=(1_000_000_000, 2_000_000_000))
    safefs.copy_in(source, tree, "conf/.env")
    copied = tree / "conf" / ".env"
    assert copied.read_bytes() == b"KEY=1\n"
    assert stat.S_IMODE(copied.stat().st_mode) == 0o600
    assert copied.stat().st_mtime_ns == 2_000_000_000
    with pytest.raises(UnsafePath):
        safefs.copy_in(source, tree, "link.txt")
    with pytest.raises(UnsafePath):
        safefs.copy_in(source, tree, "linkdir/.env")
    assert victim.read_bytes() == b"host secret\n"
    assert sorted(os.listdir(folder)) == ["f.txt"]


# --- walking -------------------------------------------------------------------------------------


def test_walk_lists_links_and_never_enters_them(mode: str, tree: Path) -> None:
    found = {}
    for entry in safefs.walk(tree):
        found[entry.path] = entry
        if entry.is_link:  # its directory's fd is valid while the walk is at it
            with pytest.raises(UnsafePath):
                entry.open()
    assert sorted(found) == ["link.txt", "linkdir", "sub", "sub/f.txt", "sub/up"]
    assert found["linkdir"].is_link and not found["linkdir"].is_dir
    assert found["sub"].is_dir and found["sub/f.txt"].is_file


def test_walk_reads_from_the_directory_it_listed_even_if_it_is_swapped_for_a_link(
    tree: Path, host: tuple[Path, Path]
) -> None:
    """The agent moves a directory away and puts a link to a host dir in its place while the
    server is reading it: what is read is still the tree's own file."""
    _, folder = host
    (tree / "sub" / "g.txt").write_bytes(b"tree g\n")
    (folder / "g.txt").write_bytes(b"host g\n")
    read = {}
    for entry in safefs.walk(tree):
        if entry.path == "sub/f.txt":
            os.rename(tree / "sub", tree / "moved")
            (tree / "sub").symlink_to(folder)
        if entry.path.startswith("sub/") and entry.is_file:
            with entry.open() as fh:
                read[entry.path] = fh.read()
    assert read == {"sub/f.txt": b"tree file\n", "sub/g.txt": b"tree g\n"}


def test_walk_does_not_enter_a_directory_swapped_for_a_link_before_it_is_opened(
    tree: Path, host: tuple[Path, Path]
) -> None:
    _, folder = host
    seen = []
    for entry in safefs.walk(tree):
        seen.append(entry.path)
        if entry.path == "sub":  # listed as a directory; a link by the time it is opened
            os.rename(tree / "sub", tree / "zz-moved")
            (tree / "sub").symlink_to(folder)
    assert not any(path.startswith("sub/") for path in seen), seen


def test_walk_refuses_a_tree_nested_too_deep(tmp_path: Path) -> None:
    deep = tmp_path / "deep"
    (deep / "a" / "b" / "c").mkdir(parents=True)
    assert [e.path for e in safefs.walk(deep, max_depth=3)] == ["a", "a/b", "a/b/c"]
    with pytest.raises(UnsafePath, match="nested too deep"):
        list(safefs.walk(deep, max_depth=2))


def test_entry_names_work_with_at_calls_while_walking(tree: Path) -> None:
    removed = []
    for entry in safefs.walk(tree):
        if entry.is_link:
            os.unlink(entry.name, dir_fd=entry.dir_fd)
            removed.append(entry.path)
    assert removed == ["link.txt", "linkdir", "sub/up"]
    assert sorted(os.listdir(tree)) == ["sub"]


def test_no_descriptor_is_left_open(mode: str, tree: Path, tmp_path: Path) -> None:
    """Refusals and successes alike close every directory fd they opened."""
    source = tmp_path / "source"
    source.write_bytes(b"s")
    before = len(os.listdir("/proc/self/fd"))
    for _ in range(3):
        for relative in ("link.txt", "linkdir/f.txt", "sub/up/f.txt", "sub/f.txt", "nope/x"):
            for operation in (
                lambda r=relative: safefs.read_bytes(tree, r, limit=100),
                lambda r=relative: safefs.lstat(tree, r),
                lambda r=relative: safefs.write_bytes(tree, f"{r}.w", b"w"),
                lambda r=relative: safefs.copy_in(source, tree, f"{r}.c"),
            ):
                with contextlib.suppress(OSError, UnsafePath):
                    operation()
        for _entry in safefs.walk(tree):
            pass
    assert len(os.listdir("/proc/self/fd")) == before


def test_openat2_is_what_resolves_paths_where_the_kernel_has_it(
    mode: str, tree: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls: list[str] = []
    real = beneath._openat2

    def counting(dir_fd: int, path: str, flags: int) -> int:
        calls.append(path)
        return real(dir_fd, path, flags)

    monkeypatch.setattr(beneath, "_openat2", counting)
    assert safefs.read_bytes(tree, "sub/f.txt", limit=100) == b"tree file\n"
    with pytest.raises(UnsafePath):
        safefs.read_bytes(tree, "linkdir/f.txt", limit=100)
    assert calls == (["sub/f.txt", "linkdir/f.txt"] if mode == "openat2" else [])
