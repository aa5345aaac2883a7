"""Process identity and tree termination, with real processes."""

from __future__ import annotations

import asyncio
import contextlib
import os
import subprocess
import sys
import time
from collections.abc import Iterator

import pytest

from paddock.domain.names import new_id
from paddock.runtime import proctree


def state(pid: int) -> str | None:
    """The /proc state letter, None if the pid is gone."""
    try:
        with open(f"/proc/{pid}/stat") as fh:
            return fh.read().rpartition(")")[2].split()[0]
    except FileNotFoundError:
        return None


def gone(pid: int) -> bool:
    """Exited: no such pid any more, or a zombie waiting for its parent."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    return state(pid) in ("Z", "X", None)


def wait_until(predicate: object, what: str, limit: float = 30.0) -> None:
    """Poll until true; the limit only turns a hang into a failure, it is not a timing assert."""
    deadline = time.monotonic() + limit
    while not predicate():  # type: ignore[operator]
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.01)


@pytest.fixture
def spawned() -> Iterator[list[subprocess.Popen[bytes]]]:
    procs: list[subprocess.Popen[bytes]] = []
    yield procs
    for proc in procs:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(proc.pid, 9)  # the group of those started with start_new_session
        if proc.poll() is None:
            proc.kill()
        proc.wait()


def spawn(
    procs: list[subprocess.Popen[bytes]],
    argv: list[str],
    tag: str | None = None,
    start_new_session: bool = False,
) -> subprocess.Popen[bytes]:
    env = dict(os.environ)
    if tag is not None:
        env[proctree.TAG_VARIABLE] = tag
    proc = subprocess.Popen(
        argv, env=env, stdout=subprocess.PIPE, start_new_session=start_new_session
    )
    procs.append(proc)
    return proc


def test_start_time_survives_a_hostile_comm(spawned: list[subprocess.Popen[bytes]]) -> None:
    code = (
        "import sys, time\n"
        "open('/proc/self/comm', 'w').write('a) 1 2 (b) Z')\n"
        "print('ready', flush=True)\n"
        "time.sleep(60)\n"
    )
    proc = spawn(spawned, [sys.executable, "-c", code], start_new_session=True)
    assert proc.stdout is not None and proc.stdout.readline() == b"ready\n"
    with open(f"/proc/{proc.pid}/comm") as fh:
        assert fh.read().startswith("a) 1 2 (b)")
    stat = proctree.read_stat(proc.pid)
    assert stat is not None
    assert stat.state in "RS"
    assert stat.pgrp == os.getpgid(proc.pid) == proc.pid
    assert stat.session == os.getsid(proc.pid) == proc.pid
    started = proctree.start_time(proc.pid)
    assert started == stat.start_time
    assert started is not None and started >= (proctree.start_time(os.getpid()) or 0)
    assert proctree.is_alive(proc.pid, started)
    assert proctree.is_alive(proc.pid, None)


def test_is_alive_detects_a_different_or_gone_process(
    spawned: list[subprocess.Popen[bytes]],
) -> None:
    proc = spawn(spawned, ["sleep", "60"])
    started = proctree.start_time(proc.pid)
    assert started is not None
    assert proctree.is_alive(proc.pid, started)
    assert not proctree.is_alive(proc.pid, started + 1)  # same pid, another process
    proc.kill()
    wait_until(lambda: state(proc.pid) == "Z", "a zombie")
    assert not proctree.is_alive(proc.pid, started)  # a zombie is not alive
    proc.wait()
    assert proctree.start_time(proc.pid) is None
    assert not proctree.is_alive(proc.pid, started)


def test_find_tagged_matches_exact_entries(spawned: list[subprocess.Popen[bytes]]) -> None:
    tag = new_id()
    mine = spawn(spawned, ["sleep", "60"], tag=tag)
    longer = spawn(spawned, ["sleep", "60"], tag=tag + "x")
    spawn(spawned, ["sleep", "60"])
    assert proctree.find_tagged(tag) == [mine.pid]
    assert proctree.find_tagged(tag + "x") == [longer.pid]
    assert proctree.find_tagged(tag[:-1]) == []
    mine.kill()
    mine.wait()
    assert proctree.find_tagged(tag) == []


def test_members_cover_group_session_and_tag(spawned: list[subprocess.Popen[bytes]]) -> None:
    tag = new_id()
    script = (
        f"{sys.executable} -c 'import os, time; os.setsid(); print(os.getpid(), flush=True); "
        "time.sleep(60)' &\n"
        "sleep 60 &\n"
        "echo $!\n"
        "wait\n"
    )
    leader = spawn(spawned, ["sh", "-c", script], tag=tag, start_new_session=True)
    assert leader.stdout is not None
    pids = {int(leader.stdout.readline()), int(leader.stdout.readline())}
    escaped = next(p for p in pids if os.getsid(p) == p)
    sleeper = next(p for p in pids if p != escaped)
    try:
        assert set(proctree.members(leader.pid, None)) == {leader.pid, sleeper}
        assert set(proctree.members(leader.pid, tag)) == {leader.pid, sleeper, escaped}
        # A leader pid recycled by another process: its group is not ours, only the tag counts.
        started = proctree.start_time(leader.pid)
        assert started is not None
        assert set(proctree.members(leader.pid, tag, leader_start=started + 1)) >= {escaped}
        assert sleeper not in proctree.members(leader.pid, None, leader_start=started + 1)
    finally:
        os.kill(escaped, 9)


@pytest.mark.anyio
async def test_kill_tree_ends_group_session_and_tagged(
    spawned: list[subprocess.Popen[bytes]],
) -> None:
    tag = new_id()
    script = (
        "trap '' TERM\n"  # the whole tree ignores SIGTERM: only SIGKILL ends it
        f"{sys.executable} -c 'import os, time; os.setsid(); print(os.getpid(), flush=True); "
        "time.sleep(60)' &\n"
        "(sleep 60 & echo $!)\n"
        "echo $$\n"
        "wait\n"
    )
    leader = spawn(spawned, ["sh", "-c", script], tag=tag, start_new_session=True)
    assert leader.stdout is not None
    pids = [int(leader.stdout.readline()) for _ in range(3)]
    assert leader.pid in pids
    await proctree.kill_tree(leader.pid, tag, 0.2)
    assert all(gone(pid) for pid in pids)
    assert leader.wait() == -9
    assert proctree.members(leader.pid, tag) == []


@pytest.mark.anyio
async def test_kill_tree_tolerates_a_vanished_tree() -> None:
    proc = await asyncio.create_subprocess_exec("true", start_new_session=True)
    await proc.wait()
    await proctree.kill_tree(proc.pid, new_id(), 0.1)


@pytest.mark.anyio
async def test_stop_orphans_ends_what_a_gone_server_left_and_spares_a_live_ones(
    spawned: list[subprocess.Popen[bytes]],
) -> None:
    """A git of a server killed with SIGKILL is found by its owner variable and stopped; one
    of a server still alive (here: this test) is not touched."""
    gone_server = "999999999-1"  # above any pid_max: that server cannot be alive
    assert not proctree.owner_alive(gone_server)
    assert proctree.owner_alive(proctree.owner_name())

    def owned(owner: str) -> subprocess.Popen[bytes]:
        env = {**os.environ, proctree.OWNER_VARIABLE: owner}
        proc = subprocess.Popen(["sleep", "60"], env=env)
        spawned.append(proc)
        return proc

    orphan = owned(gone_server)
    kept = owned(proctree.owner_name())
    wait_until(lambda: orphan.pid in proctree.find_orphans(), "the orphan to be found")
    assert kept.pid not in proctree.find_orphans()
    found = await proctree.stop_orphans(1.0)
    assert orphan.pid in found
    assert orphan.wait() == -15  # SIGTERM first: git removes its lock files on it
    assert kept.poll() is None
