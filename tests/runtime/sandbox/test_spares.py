"""Spare shells: a bwrap launch taken over by a shell that joined its cgroup ahead of time must
be indistinguishable, from inside, from one that joined on the way."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from paddock.domain.sandbox import Limits, Network, Provider
from paddock.runtime.launcher import LaunchSpec, SandboxSpec
from paddock.runtime.sandbox.bwrap import BwrapLauncher
from paddock.runtime.sandbox.bwrap_process import SandboxedProcess
from paddock.runtime.sandbox.cgroups import Hierarchy
from paddock.runtime.sandbox.sandbox_identity import find_user
from paddock.runtime.sandbox.spares import SparePool

pytestmark = pytest.mark.anyio

TRICKY = 'it\'s "quoted"\n$(touch /tmp/pwned) `id` ; exit 3 \\ ü'


def make_launcher(*, spares: bool) -> BwrapLauncher:
    hierarchy = Hierarchy()
    if not hierarchy.available:
        pytest.skip(f"no cgroups here: {hierarchy.problem}")
    launcher = BwrapLauncher(user=find_user("paddock-sandbox"), hierarchy=hierarchy, spares=spares)
    problem = launcher.problem()
    assert problem is None, problem
    return launcher


def spec(cwd: Path, argv: list[str], **kwargs: object) -> LaunchSpec:
    limits = Limits(memory_mb=256, pids=64)
    env = {"PATH": "/usr/bin:/bin", "LANG": "C.UTF-8", "PADDOCK_TRICKY": TRICKY}
    sandbox = SandboxSpec(
        Provider.bwrap,
        Network.host,
        limits,
        writable=(cwd,),
        pass_env=frozenset({"PADDOCK_TRICKY"}),
    )
    return LaunchSpec(argv, cwd, env, sandbox=sandbox, **kwargs)  # type: ignore[arg-type]


async def run(launcher: BwrapLauncher, launch: LaunchSpec) -> tuple[int, bytes, bytes]:
    launched = await launcher.launch(launch)
    out, err = await asyncio.gather(launched.stdout.read(), launched.stderr.read())
    code = await launched.wait()
    await launched.reap_leftovers(1.0)
    return code, out, err


async def ready_pool(launcher: BwrapLauncher) -> SparePool:
    pool = launcher.spares
    assert pool is not None
    pool.fill_later()
    for _ in range(500):
        if pool.ready:
            return pool
        await asyncio.sleep(0.01)
    raise AssertionError(f"no spare became ready: {pool.problem}")


def cgroup_of(pid: int, controller: str) -> str:
    for line in Path(f"/proc/{pid}/cgroup").read_text().splitlines():
        _, controllers, path = line.split(":", 2)
        if controller in controllers.split(","):
            return path
    raise AssertionError(f"{pid} has no {controller} cgroup")


@pytest.fixture
def worktree(tmp_path: Path) -> Path:
    os.chmod(tmp_path, 0o755)
    path = tmp_path / "wt"
    path.mkdir()
    (path / "hello.txt").write_text("hi\n")
    os.chown(path, *_sandbox_ids())
    return path


def _sandbox_ids() -> tuple[int, int]:
    user = find_user("paddock-sandbox")
    return (user.uid, user.gid) if user is not None else (os.getuid(), os.getgid())


async def test_a_spare_launch_looks_the_same_inside_as_a_direct_one(worktree: Path) -> None:
    script = "pwd; env | sort; ls /proc/self/fd; cat; echo done >&2"
    argv = ["/bin/sh", "-c", script]
    direct = make_launcher(spares=False)
    spared = make_launcher(spares=True)
    try:
        await ready_pool(spared)
        code_a, out_a, err_a = await run(direct, spec(worktree, argv, stdin=b"fed\n", tag="same"))
        code_b, out_b, err_b = await run(spared, spec(worktree, argv, stdin=b"fed\n", tag="same"))
    finally:
        await spared.settle()  # no spare left half-made at the loop's end
        spared.close()
    assert (code_b, err_b) == (code_a, err_a) == (0, b"done\n")
    assert out_b == out_a  # cwd, the whole environment, open descriptors, stdin
    text = out_b.decode()
    assert text.startswith(f"{worktree}\n") and text.endswith("fed\n")
    assert "PADDOCK_TRICKY=it's" in text and "SHLVL" not in text
    assert not Path("/tmp/pwned").exists()


async def test_a_launch_with_no_input_reads_end_of_file(worktree: Path) -> None:
    launcher = make_launcher(spares=True)
    try:
        await ready_pool(launcher)
        code, out, _ = await run(launcher, spec(worktree, ["/bin/sh", "-c", "cat; echo end"]))
    finally:
        await launcher.settle()  # no spare left half-made at the loop's end
        launcher.close()
    assert (code, out) == (0, b"end\n")


async def test_a_spare_takes_the_sandboxes_limits_in_its_own_group(worktree: Path) -> None:
    launcher = make_launcher(spares=True)
    try:
        pool = await ready_pool(launcher)
        launched = await launcher.launch(spec(worktree, ["sleep", "30"]))
        assert isinstance(launched, SandboxedProcess) and launched.pid is not None
        group = cgroup_of(launched.pid, "memory")
        assert "/spare-" in group  # the spare's group, joined before the launch
        memory = Path("/sys/fs/cgroup/memory") / group.lstrip("/")
        assert int((memory / "memory.limit_in_bytes").read_text()) == 256 * 1024 * 1024
        pids = Path("/sys/fs/cgroup/pids") / cgroup_of(launched.pid, "pids").lstrip("/")
        assert (pids / "pids.max").read_text().strip() == "64"
        assert pool.ready in {0, 1}  # another is on its way
        await launched.stop(1.0)
        for _ in range(200):  # the group goes with the sandbox
            if not memory.exists():
                break
            await asyncio.sleep(0.025)
        assert not memory.exists()
    finally:
        await launcher.settle()  # no spare left half-made at the loop's end
        launcher.close()


async def test_a_dead_spare_is_passed_over(worktree: Path) -> None:
    launcher = make_launcher(spares=True)
    try:
        pool = await ready_pool(launcher)
        pids = pool.pids()
        for pid in pids:
            os.kill(pid, 9)
        for _ in range(200):
            if not any(_alive(pid) for pid in pids):
                break
            await asyncio.sleep(0.01)
        code, out, _ = await run(launcher, spec(worktree, ["cat", "hello.txt"]))
        assert (code, out) == (0, b"hi\n")
    finally:
        await launcher.settle()  # no spare left half-made at the loop's end
        launcher.close()


async def test_closing_ends_the_spares_and_removes_their_groups() -> None:
    launcher = make_launcher(spares=True)
    pool = await ready_pool(launcher)
    pids = pool.pids()
    groups = [Path("/sys/fs/cgroup/memory") / cgroup_of(pid, "memory").lstrip("/") for pid in pids]
    assert pids and all(group.is_dir() for group in groups)
    await launcher.settle()
    await asyncio.to_thread(launcher.close)
    for _ in range(200):
        if not any(Path(f"/proc/{pid}").exists() for pid in pids):
            break
        await asyncio.sleep(0.025)
    assert not any(Path(f"/proc/{pid}").exists() for pid in pids)
    assert not any(group.exists() for group in groups)


async def test_a_spare_cancelled_before_it_is_ready_is_ended(tmp_path: Path) -> None:
    """The loop shutting down while a spare starts (its fill cancelled) leaves no shell behind:
    one would wait on its pipe forever, and a thread of asyncio's with it."""
    launcher = make_launcher(spares=True)
    pool = launcher.spares
    assert pool is not None
    started = tmp_path / "pid"
    slow_shell = tmp_path / "slow-bash"  # says where it is, then is slow to say `ready`
    # Its sleep holds none of the spare's pipes: only the shell does (as a real spare).
    slow_shell.write_text(
        f'#!/bin/sh\necho $$ > {started}\nsleep 30 </dev/null >/dev/null 2>&1\nexec bash "$@"\n'
    )
    slow_shell.chmod(0o755)
    pool.shell = str(slow_shell)
    try:
        pool.fill_later()
        filling = pool._filling
        assert filling is not None
        for _ in range(500):
            if started.exists() and started.read_text().strip():
                break
            await asyncio.sleep(0.01)
        pid = int(started.read_text())
        filling.cancel()
        with pytest.raises(asyncio.CancelledError):
            await filling
        for _ in range(200):
            if not _alive(pid):
                break
            await asyncio.sleep(0.01)
        assert not _alive(pid)
    finally:
        await launcher.settle()  # no spare left half-made at the loop's end
        launcher.close()


async def test_settling_lets_the_spare_being_made_finish_and_makes_no_more(
    tmp_path: Path,
) -> None:
    """At shutdown, on the loop: the spare being started is waited for (a spawn cancelled
    half-way by the loop's end hangs it) and ended, and no other is started."""
    launcher = make_launcher(spares=True)
    pool = launcher.spares
    assert pool is not None
    started = tmp_path / "pid"
    slow_shell = tmp_path / "slow-bash"
    slow_shell.write_text(f'#!/bin/sh\necho $$ > {started}\nsleep 0.5\nexec bash "$@"\n')
    slow_shell.chmod(0o755)
    pool.shell = str(slow_shell)
    try:
        pool.fill_later()
        for _ in range(500):
            if started.exists() and started.read_text().strip():
                break
            await asyncio.sleep(0.01)
        pid = int(started.read_text())
        await launcher.settle()
        assert pool._filling is None and pool.ready == 0
        for _ in range(200):
            if not _alive(pid):
                break
            await asyncio.sleep(0.01)
        assert not _alive(pid)
        pool.fill_later()
        assert pool._filling is None  # settled: none is made any more
    finally:
        launcher.close()


def test_a_spare_ends_with_its_server() -> None:
    """A server killed outright closes the command pipe: its spare exits on its own."""
    server = textwrap.dedent(
        """
        import asyncio, os, sys
        from paddock.runtime.sandbox.bwrap import BwrapLauncher
        from paddock.runtime.sandbox.sandbox_identity import find_user
        from paddock.runtime.sandbox.cgroups import Hierarchy

        async def main():
            launcher = BwrapLauncher(user=find_user("paddock-sandbox"), hierarchy=Hierarchy())
            launcher.spares.fill_later()
            while not launcher.spares.ready:
                await asyncio.sleep(0.01)
            print(*launcher.spares.pids(), flush=True)
            await asyncio.sleep(60)

        asyncio.run(main())
        """
    )
    if not Hierarchy().available:
        pytest.skip("no cgroups here")
    proc = subprocess.Popen([sys.executable, "-c", server], stdout=subprocess.PIPE, text=True)
    try:
        assert proc.stdout is not None
        pids = [int(word) for word in proc.stdout.readline().split()]
        assert pids and all(Path(f"/proc/{pid}").exists() for pid in pids)
    finally:
        proc.kill()
        proc.wait()
    for _ in range(200):
        if not any(_alive(pid) for pid in pids):
            break
        subprocess.run(["sleep", "0.025"], check=True)
    assert not any(_alive(pid) for pid in pids)
    Hierarchy().reap_stale()  # the dead server's groups


def _alive(pid: int) -> bool:
    """Running (a zombie waiting for its reaper counts as ended)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rpartition(")")[2].split()[0] != "Z"
