"""Process identity and whole-tree termination, read from Linux /proc.

A supervised process is started as the leader of a new session (pgid == sid == its pid) with
`PADDOCK_PROCESS_ID=<tag>` in its environment. Its tree is then everything in that process group
or session, plus everything carrying the tag: a descendant that called `setsid()` leaves the
group and the session but keeps its environment. (A descendant that also clears its environment
escapes this net; only a pid namespace or a cgroup catches that: see the sandbox launchers.)

Pids are recycled: a pid alone does not name a process, (pid, start time) does.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import time
from dataclasses import dataclass

TAG_VARIABLE = "PADDOCK_PROCESS_ID"
_PROC = "/proc"
_GONE_STATES = frozenset("ZX")  # zombie, dead: already exited, only waiting to be reaped


@dataclass(frozen=True)
class Stat:
    """The few fields of /proc/<pid>/stat that matter here."""

    state: str
    pgrp: int
    session: int
    start_time: int  # clock ticks since boot


PR_SET_PDEATHSIG = 1


def die_with_parent() -> None:
    """For a child's preexec_fn: the kernel sends it SIGKILL when the server dies (however it
    dies: kill -9 included), and keeps that across exec. For the helpers the server runs
    beside its sandboxes (the previews' HAProxy, network bridges), not for sandboxed work,
    whose end the supervisor decides."""
    import ctypes

    ctypes.CDLL(None).prctl(PR_SET_PDEATHSIG, signal.SIGKILL)


def read_stat(pid: int) -> Stat | None:
    """Parse /proc/<pid>/stat; None if the process is gone or unreadable."""
    try:
        with open(f"{_PROC}/{pid}/stat", "rb") as fh:
            raw = fh.read().decode("ascii", "replace")
    except OSError:
        return None
    # comm (field 2) is in parentheses and may itself hold spaces and ')': split after the last.
    _, sep, rest = raw.rpartition(")")
    fields = rest.split()
    if not sep or len(fields) < 20:
        return None
    # rest starts at field 3 (state): field N is fields[N - 3].
    return Stat(
        state=fields[0], pgrp=int(fields[2]), session=int(fields[3]), start_time=int(fields[19])
    )


def start_time(pid: int) -> int | None:
    """Field 22 of /proc/<pid>/stat (start time in clock ticks since boot); None if gone."""
    stat = read_stat(pid)
    return None if stat is None else stat.start_time


def is_alive(pid: int, start_time: int | None) -> bool:
    """Whether `pid` is running (not a zombie) and, when `start_time` is given, is the same process
    that had that start time: a recycled pid is not mistaken for it."""
    stat = read_stat(pid)
    if stat is None or stat.state in _GONE_STATES:
        return False
    return start_time is None or stat.start_time == start_time


def _pids() -> list[int]:
    try:
        names = os.listdir(_PROC)
    except OSError:
        return []
    return [int(name) for name in names if name.isdigit()]


def _has_tag(pid: int, entry: bytes) -> bool:
    try:
        with open(f"{_PROC}/{pid}/environ", "rb") as fh:
            environ = fh.read()
    except OSError:  # gone, or not ours to read
        return False
    return entry in environ.split(b"\0")


def find_tagged(tag: str) -> list[int]:
    """Live pids whose environment holds exactly `PADDOCK_PROCESS_ID=<tag>`."""
    entry = f"{TAG_VARIABLE}={tag}".encode()
    me = os.getpid()
    found = []
    for pid in _pids():
        if pid != me and _has_tag(pid, entry):
            stat = read_stat(pid)
            if stat is not None and stat.state not in _GONE_STATES:
                found.append(pid)
    return found


def _group_is_ours(leader_pid: int, leader_start: int | None) -> bool:
    """Whether pgid/sid == leader_pid still designates the leader's group.

    Linux does not recycle a pid while a process group or session uses it as id, so the group is
    the leader's unless the leader is gone and its pid now belongs to another process (which
    would then own any group of that id)."""
    if leader_start is None:
        return True
    stat = read_stat(leader_pid)
    return stat is None or stat.start_time == leader_start


def members(leader_pid: int, tag: str | None, leader_start: int | None = None) -> list[int]:
    """Live (non-zombie) pids in the leader's process group or session, or carrying the tag."""
    entry = f"{TAG_VARIABLE}={tag}".encode() if tag else None
    group = _group_is_ours(leader_pid, leader_start)
    me = os.getpid()
    found = []
    for pid in _pids():
        if pid == me:
            continue
        stat = read_stat(pid)
        if stat is None or stat.state in _GONE_STATES:
            continue
        in_group = group and leader_pid in (stat.pgrp, stat.session)
        if in_group or (entry is not None and _has_tag(pid, entry)):
            found.append(pid)
    return found


def _signal_all(leader_pid: int, pids: list[int], sig: signal.Signals, group: bool) -> None:
    if group:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(leader_pid, sig)
    for pid in pids:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.kill(pid, sig)


async def kill_tree(
    leader_pid: int, tag: str | None, grace: float, *, leader_start: int | None = None
) -> None:
    """SIGTERM the leader's group, session and tagged processes; SIGKILL what is left after
    `grace` seconds. Returns once none is left (zombies count as gone), or gives up after a few
    SIGKILL rounds on processes it may not signal (another user's)."""
    group = _group_is_ours(leader_pid, leader_start)
    pids = await asyncio.to_thread(members, leader_pid, tag, leader_start)
    _signal_all(leader_pid, pids, signal.SIGTERM, group)
    _signal_all(leader_pid, pids, signal.SIGCONT, group)  # a stopped process cannot handle TERM
    deadline = time.monotonic() + grace
    delay = 0.01
    while pids and (left := deadline - time.monotonic()) > 0:
        await asyncio.sleep(min(delay, left))
        delay = min(delay * 2, 0.1)
        pids = await asyncio.to_thread(members, leader_pid, tag, leader_start)
    for _ in range(50):  # re-scan each round: the tree may have forked meanwhile
        pids = await asyncio.to_thread(members, leader_pid, tag, leader_start)
        if not pids:
            return
        _signal_all(leader_pid, pids, signal.SIGKILL, group)
        await asyncio.sleep(0.01)


def command_name(pid: int) -> str | None:
    """The process's command name (/proc/<pid>/comm); None once it is gone."""
    try:
        with open(f"{_PROC}/{pid}/comm") as fh:
            return fh.read().strip()
    except OSError:
        return None


# --- helpers a server starts outside supervision (git) -------------------------------------------

# Set in the environment of the short-lived commands a server runs itself (git): the server's
# pid and start time. Nothing kills them when a server is killed with SIGKILL, and a git left
# running would go on changing a repository under the next server: that one finds them by this
# variable (their server is gone) and stops them before it looks at any repository.
OWNER_VARIABLE = "PADDOCK_SERVER"
_owner: tuple[int, str] | None = None


def owner_name(pid: int | None = None) -> str:
    """`<pid>-<start time>` of a server (this process by default): unique across pid reuse."""
    global _owner
    if pid is None:
        me = os.getpid()
        if _owner is None or _owner[0] != me:  # computed once per process (a fork recomputes)
            _owner = (me, f"{me}-{start_time(me) or 0}")
        return _owner[1]
    return f"{pid}-{start_time(pid) or 0}"


def owner_alive(name: str) -> bool:
    pid = name.partition("-")[0]
    return pid.isdigit() and owner_name(int(pid)) == name


def find_orphans() -> list[int]:
    """Live pids carrying OWNER_VARIABLE of a server that is gone."""
    prefix = f"{OWNER_VARIABLE}=".encode()
    me = os.getpid()
    found = []
    for pid in _pids():
        if pid == me:
            continue
        try:
            with open(f"{_PROC}/{pid}/environ", "rb") as fh:
                entries = fh.read().split(b"\0")
        except OSError:
            continue
        owner = next((e[len(prefix) :] for e in entries if e.startswith(prefix)), None)
        if owner is None or owner_alive(owner.decode(errors="replace")):
            continue
        stat = read_stat(pid)
        if stat is not None and stat.state not in _GONE_STATES:
            found.append(pid)
    return found


async def stop_orphans(grace: float) -> list[int]:
    """SIGTERM what a gone server left running (git removes its lock files on SIGTERM), then
    SIGKILL what is left after `grace` seconds. Returns the pids found."""
    found = await asyncio.to_thread(find_orphans)
    _signal_all(0, found, signal.SIGTERM, group=False)
    deadline = time.monotonic() + grace
    left = found
    while left and time.monotonic() < deadline:
        await asyncio.sleep(0.02)
        left = [pid for pid in left if is_alive(pid, None)]
    for _ in range(50):
        left = await asyncio.to_thread(find_orphans)  # a child forked meanwhile is one too
        if not left:
            break
        _signal_all(0, left, signal.SIGKILL, group=False)
        await asyncio.sleep(0.01)
    return found
