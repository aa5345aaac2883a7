"""The files the server and its sandboxes share, whatever the provider: what the server wrote
for a sandbox is handed over to the sandbox user (bwrap and containers run as that user when
Paddock runs as root), and what a sandbox left that could lead the server's own writes astray
(links, fifos, sockets) is cleared before the server writes there again."""

from __future__ import annotations

import contextlib
import os
from pathlib import Path

from paddock.runtime import safefs
from paddock.runtime.sandbox.sandbox_identity import SandboxUser


def hand_over(path: Path, user: SandboxUser | None) -> None:
    """Make `path` (a tree) the sandbox user's, so a sandbox can change what the server
    wrote there (worktree checkouts, a rewind, the agent's config). Only as root."""
    if user is None or os.geteuid() != 0:
        return
    # From directory fds (safefs.walk), each entry by name in its own directory: a
    # directory swapped for a link meanwhile cannot lead a chown (as root) to a host file.
    fd = safefs.open_root(path)
    try:
        if os.fstat(fd).st_uid != user.uid:
            os.fchown(fd, user.uid, user.gid)
    finally:
        os.close(fd)
    for entry in safefs.walk(path):
        if entry.info.st_uid != user.uid:
            with contextlib.suppress(FileNotFoundError):
                os.chown(entry.name, user.uid, user.gid, dir_fd=entry.dir_fd, follow_symlinks=False)


def clear_links(path: Path) -> int:
    """Remove every symlink under `path`, a sandbox's own dir, before the server writes
    there: no link a sandbox left can lead the server's writes (as root) to a host file.
    Fifos and sockets go too: the server reading one would wait forever. Run while no
    sandbox can write there. Returns how many were removed."""
    removed = 0
    for entry in safefs.walk(path):
        if not (entry.is_dir or entry.is_file):
            with contextlib.suppress(FileNotFoundError):
                os.unlink(entry.name, dir_fd=entry.dir_fd)
                removed += 1
    return removed
