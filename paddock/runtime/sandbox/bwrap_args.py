"""bubblewrap's command line for a sandbox: what it mounts, hides and binds, which namespaces
it makes, and `setpriv`'s options that drop root inside (see `bwrap` for why)."""

from __future__ import annotations

import os
from pathlib import Path

from paddock.domain.sandbox import Network
from paddock.runtime.launcher import SandboxSpec
from paddock.runtime.sandbox.sandbox_identity import SandboxUser

PRIVATE_DIRS = ("/tmp", "/var/tmp", "/dev/shm", "/run", "/root", "/home")
# Writable by every user, sticky, as on a host (bwrap run as root makes a tmpfs root's, 0755).
SHARED_TMP_DIRS = ("/tmp", "/var/tmp", "/dev/shm")
MIB = 1024 * 1024


def bwrap_args(
    sandbox: SandboxSpec,
    cwd: Path,
    tmp_mb: int,
    *,
    as_root: bool,
    resolv_conf: Path | None = None,
) -> list[str]:
    """bubblewrap's options for `sandbox`, up to (not including) `--`. Network "private": bwrap
    starts in the network made for it (and `resolv_conf` names that network's resolver)."""
    args = ["--ro-bind", "/", "/", "--dev", "/dev", "--proc", "/proc"]
    # Every tmpfs is bounded: its pages count against the sandbox's memory limit, but a
    # sandbox may have none, and an unbounded tmpfs may take half the host's memory.
    size = ["--size", str(tmp_mb * MIB)]
    for private in PRIVATE_DIRS:
        if private in SHARED_TMP_DIRS:
            args += ["--perms", "1777"]
        args += [*size, "--tmpfs", private]
    # bwrap applies its options in order: read-only binds, then hidden paths become empty, then
    # what lies inside a hidden path is bound again, then the sandbox's own paths read-write.
    # Paths are compared as tuples of their parts: pathlib's is_relative_to, called some
    # thousand times here, made this a few milliseconds of every launch.
    emptied = [Path(p).parts for p in PRIVATE_DIRS] + [
        p.parts for p in sandbox.hidden if p.is_dir()
    ]
    bound = [p.parts for p in (*sandbox.readable, *sandbox.writable)]
    hidden = [p.parts for p in sandbox.hidden]
    for path in sandbox.readable:
        args += [*_open_way(path, emptied, bound), "--ro-bind-try", str(path), str(path)]
    for path in sandbox.hidden:
        if path.is_dir():
            args += [*size, "--tmpfs", str(path)]
    for path in sandbox.readable:
        if any(_inside(path.parts, other) for other in hidden):
            args += [*_open_way(path, emptied, bound), "--ro-bind-try", str(path), str(path)]
    for path in sandbox.writable:
        args += [*_open_way(path, emptied, bound), "--bind", str(path), str(path)]
    args += [
        "--chdir",
        str(cwd),
        "--unshare-pid",
        "--unshare-ipc",
        "--unshare-uts",
        "--unshare-cgroup",
        "--hostname",
        "sandbox",
        "--die-with-parent",
        "--new-session",
    ]
    if not as_root:  # as root, setpriv drops the capabilities (it needs CAP_SETUID first)
        args += ["--unshare-user", "--disable-userns", "--cap-drop", "ALL"]
    if sandbox.network is Network.none:
        args.append("--unshare-net")
    if resolv_conf is not None:
        # Where the host's resolv.conf really is (a link into /run, emptied above, included).
        args += ["--ro-bind", str(resolv_conf), os.path.realpath("/etc/resolv.conf")]
    return args


def _inside(path: tuple[str, ...], other: tuple[str, ...]) -> bool:
    """Whether `path` is `other` or lies under it (both as `Path.parts`)."""
    return path[: len(other)] == other


def _open_way(
    path: Path, emptied: list[tuple[str, ...]], bound: list[tuple[str, ...]]
) -> list[str]:
    """bwrap makes the missing parents of a bind's destination with the modes of the host's
    (a 0700 root-owned parent would lock the sandbox's user out): make them 0755 first. Only
    parents inside an emptied dir (a tmpfs) and not inside another bind (the host's dirs)."""
    args: list[str] = []
    own = path.parts
    others = [other for other in bound if other != own]
    for depth in range(1, len(own)):
        parent = own[:depth]
        if any(_inside(parent, other) for other in others):
            continue
        if any(parent != root and _inside(parent, root) for root in emptied):
            args += ["--perms", "0755", "--dir", str(Path(*parent))]
    return args


def setpriv_args(user: SandboxUser) -> list[str]:
    return [
        f"--reuid={user.uid}",
        f"--regid={user.gid}",
        "--clear-groups",
        "--no-new-privs",
        "--inh-caps=-all",
        "--bounding-set=-all",
    ]
