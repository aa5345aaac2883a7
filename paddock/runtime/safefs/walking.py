"""Listing a tree an agent wrote from directory fds, so a directory swapped for a link between
listing and use cannot lead outside it."""

from __future__ import annotations

import errno
import os
import stat
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from paddock.runtime.safefs.beneath import DIR_FLAGS, READ_FLAGS, UnsafePath, open_root, refused
from paddock.runtime.safefs.reading import regular_file

MAX_DEPTH = 256  # levels `walk` descends (each holds a directory fd while it is walked)


@dataclass(frozen=True, slots=True)
class Entry:
    """One entry of a tree `walk` lists. `dir_fd` (its directory) is valid only until the walk
    moves on: use it with `name` for *at calls (os.chown(..., dir_fd=, follow_symlinks=False))."""

    path: str  # relative to the walked root, "/"-separated
    name: str
    dir_fd: int
    info: os.stat_result  # the entry itself (a link is not followed)

    @property
    def is_dir(self) -> bool:
        return stat.S_ISDIR(self.info.st_mode)

    @property
    def is_link(self) -> bool:
        return stat.S_ISLNK(self.info.st_mode)

    @property
    def is_file(self) -> bool:
        return stat.S_ISREG(self.info.st_mode)

    def open(self) -> BinaryIO:
        """The entry, open for reading: a regular file, never a link (else UnsafePath)."""
        try:
            fd = os.open(self.name, READ_FLAGS, dir_fd=self.dir_fd)
        except OSError as exc:
            if exc.errno == errno.ELOOP:
                raise refused(self.path, exc) from None
            raise
        return regular_file(fd, self.path)


def walk(root: Path, *, max_depth: int = MAX_DEPTH) -> Iterator[Entry]:
    """Every entry under `root` (not `root` itself), a directory before what it holds, sorted
    by name; links are listed, never followed. A directory that is gone or was swapped for
    something else by the time it is opened is passed over; one deeper than `max_depth` is
    refused (UnsafePath)."""
    fd = open_root(root)
    try:
        yield from _walk_dir(fd, "", max_depth)
    finally:
        os.close(fd)


def _walk_dir(fd: int, prefix: str, depth: int) -> Iterator[Entry]:
    for name in sorted(os.listdir(fd)):
        try:
            info = os.stat(name, dir_fd=fd, follow_symlinks=False)
        except FileNotFoundError:
            continue
        entry = Entry(prefix + name, name, fd, info)
        yield entry
        if not entry.is_dir:
            continue
        if depth <= 0:
            raise UnsafePath(f"{entry.path} is nested too deep", path=entry.path)
        try:
            child = os.open(name, DIR_FLAGS, dir_fd=fd)
        except OSError:  # gone, or no longer a directory (a link now): not followed
            continue
        try:
            again = os.fstat(child)
            if (again.st_dev, again.st_ino) == (info.st_dev, info.st_ino):
                yield from _walk_dir(child, entry.path + "/", depth - 1)
        finally:
            os.close(child)
