"""Reading a file in a tree an agent wrote, through no link and capped (FileTooLarge)."""

from __future__ import annotations

import os
import stat
from pathlib import Path
from typing import BinaryIO

from paddock.domain.errors import InvalidInput
from paddock.runtime.safefs.beneath import (
    READ_FLAGS,
    UnsafePath,
    open_beneath,
    open_dir,
    open_root,
    parts_of,
)


class FileTooLarge(InvalidInput):
    code = "file_too_large"


def open_read(root: Path, relative: str) -> BinaryIO:
    """The regular file `relative` under `root`, open for reading (UnsafePath: a link on the
    way, or not a regular file; FileNotFoundError: nothing there)."""
    root_fd = open_root(root)
    try:
        fd = open_beneath(root_fd, parts_of(relative), READ_FLAGS, relative)
    finally:
        os.close(root_fd)
    return regular_file(fd, relative)


def regular_file(fd: int, relative: str) -> BinaryIO:
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            raise UnsafePath(f"{relative} is not a regular file", path=relative)
        os.set_blocking(fd, True)
        return os.fdopen(fd, "rb")
    except BaseException:
        os.close(fd)
        raise


def read_bytes(root: Path, relative: str, *, limit: int) -> bytes:
    """The content of the regular file `relative` under `root`, at most `limit` bytes
    (FileTooLarge past it)."""
    with open_read(root, relative) as fh:
        data = fh.read(limit + 1)
    if len(data) > limit:
        raise FileTooLarge(
            f"{relative} is larger than {limit} bytes", path=relative, limit_bytes=limit
        )
    return data


def lstat(root: Path, relative: str) -> os.stat_result | None:
    """What is at `relative` under `root` (a link itself, not what it points to); None when
    nothing is. UnsafePath when a directory on the way is a link."""
    parts = parts_of(relative)
    if not parts:
        return os.stat(root, follow_symlinks=False)
    try:
        with open_dir(root, parts[:-1], relative) as fd:
            return os.stat(parts[-1], dir_fd=fd, follow_symlinks=False)
    except (FileNotFoundError, NotADirectoryError):
        return None
