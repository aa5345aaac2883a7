"""Writing a file in a tree an agent wrote: to a new name first, renamed into place, so neither
a link nor a hard link at the destination is ever written through."""

from __future__ import annotations

import contextlib
import os
import secrets
import stat
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO

from paddock.runtime.safefs.beneath import UnsafePath, open_dir, parts_of

CHUNK = 1 << 20


def makedirs(root: Path, relative: str) -> None:
    """Make the directory `relative` under `root` and its parents, through no link."""
    with open_dir(root, parts_of(relative), relative, create=True):
        pass


def write_bytes(
    root: Path, relative: str, data: bytes, *, mode: int = 0o644, over_links: bool = False
) -> None:
    """Put `data` at `relative` under `root` (parents made), replacing a regular file there.
    Anything else there is refused (UnsafePath); with `over_links`, a link or special file is
    replaced too (itself, never what it points to). A directory there always fails."""
    with _writer(root, relative, mode, over_links=over_links) as fh:
        fh.write(data)


def copy_in(source: Path, root: Path, relative: str) -> None:
    """Copy the file `source` (the server's own) to `relative` under `root` (parents made),
    with its permission bits (no setuid) and times, as shutil.copy2 would, through no link."""
    with open(source, "rb") as src:
        info = os.fstat(src.fileno())
        with _writer(root, relative, stat.S_IMODE(info.st_mode) & 0o777) as dst:
            while chunk := src.read(CHUNK):
                dst.write(chunk)
            dst.flush()
            os.utime(dst.fileno(), ns=(info.st_atime_ns, info.st_mtime_ns))


@contextlib.contextmanager
def _writer(
    root: Path, relative: str, mode: int, *, over_links: bool = False
) -> Iterator[BinaryIO]:
    """A new file in the destination's directory, renamed over the destination once written:
    a link or a hard link there is replaced, never written through."""
    parts = parts_of(relative)
    if not parts:
        raise UnsafePath(f"{relative!r} names no file", path=relative)
    with open_dir(root, parts[:-1], relative, create=True) as dir_fd:
        name = parts[-1]
        if not over_links:
            _check_replaceable(dir_fd, name, relative)
        partial = f".paddock-{secrets.token_hex(6)}.partial"
        flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC
        fd = os.open(partial, flags, mode, dir_fd=dir_fd)
        try:
            with os.fdopen(fd, "wb") as fh:
                os.fchmod(fh.fileno(), mode)  # not narrowed by the umask: as copy2 keeps it
                yield fh
            if not over_links:
                _check_replaceable(dir_fd, name, relative)
            os.rename(partial, name, src_dir_fd=dir_fd, dst_dir_fd=dir_fd)
        except BaseException:
            with contextlib.suppress(OSError):
                os.unlink(partial, dir_fd=dir_fd)
            raise


def _check_replaceable(dir_fd: int, name: str, relative: str) -> None:
    try:
        info = os.stat(name, dir_fd=dir_fd, follow_symlinks=False)
    except FileNotFoundError:
        return
    if stat.S_ISLNK(info.st_mode):
        raise UnsafePath(
            f"{relative} is a symlink (Paddock never writes through links in an agent's files)",
            path=relative,
        )
    if not stat.S_ISREG(info.st_mode):
        raise UnsafePath(f"{relative} is there and is not a regular file", path=relative)
