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
