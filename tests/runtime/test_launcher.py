"""PlainLauncher with real processes: output, exit codes, stdin, and stopping whole trees."""

from __future__ import annotations

import asyncio
import os
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from paddock.runtime import proctree
from paddock.runtime.launcher import Launched, LaunchError, LaunchSpec, PlainLauncher, Stdin

pytestmark = pytest.mark.anyio

PY = sys.executable
LIMIT = 30.0  # turns a hang into a failure; never a timing assertion


def state(pid: int) -> str | None:
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


def running(pid: int) -> bool:
    return not gone(pid)


class Harness:
    def __init__(self, cwd: Path) -> None:
        self.cwd = cwd
        self.launcher = PlainLauncher()
        self.launched: list[Launched] = []

    async def run(self, argv: list[str], stdin: Stdin | None = None, **env: str) -> Launched:
        spec = LaunchSpec(argv, self.cwd, {**os.environ, **env}, stdin)
        launched = await self.launcher.launch(spec)
        self.launched.append(launched)
        return launched

    async def sh(self, script: str, stdin: Stdin | None = None) -> Launched:
        return await self.run(["sh", "-c", script], stdin)


@pytest.fixture
async def h(tmp_path: Path) -> AsyncIterator[Harness]:
    harness = Harness(tmp_path)
    yield harness
    for launched in harness.launched:  # whatever a failed test left running
        await launched.stop(0)


async def wait(launched: Launched) -> int:
    return await asyncio.wait_for(launched.wait(), LIMIT)


async def read_all(stream: asyncio.StreamReader) -> bytes:
    return await asyncio.wait_for(stream.read(), LIMIT)


async def read_line(stream: asyncio.StreamReader) -> bytes:
    return await asyncio.wait_for(stream.readline(), LIMIT)


async def test_stdout_stderr_and_exit_code(h: Harness) -> None:
    p = await h.sh("echo out; echo err >&2; printf partial; exit 3")
    out, err = await asyncio.gather(read_all(p.stdout), read_all(p.stderr))
    assert (out, err) == (b"out\npartial", b"err\n")
    assert await wait(p) == 3
    assert await wait(p) == 3  # waiting twice is fine


async def test_killed_by_a_signal_reports_its_negative_number(h: Harness) -> None:
    p = await h.sh("kill -9 $$")
    assert await wait(p) == -9


async def test_environment_carries_the_tag_and_cwd(h: Harness, tmp_path: Path) -> None:
    spec = LaunchSpec(
        ["sh", "-c", 'echo "$PADDOCK_PROCESS_ID $FOO"; pwd'],
        tmp_path,
        {"PATH": os.environ["PATH"], "FOO": "bar"},
        tag="proc-123",
    )
    p = await h.launcher.launch(spec)
    assert await read_all(p.stdout) == f"proc-123 bar\n{tmp_path}\n".encode()
    assert await wait(p) == 0
    assert "PADDOCK_PROCESS_ID" not in spec.env  # the spec is not modified


async def test_missing_binary(h: Harness) -> None:
    with pytest.raises(LaunchError) as err:
        await h.run(["no-such-binary-paddock", "--help"])
    assert err.value.code == "spawn_failed"
    assert "no-such-binary-paddock" in err.value.message


async def test_missing_cwd(h: Harness, tmp_path: Path) -> None:
    spec = LaunchSpec(["true"], tmp_path / "nope", dict(os.environ))
    with pytest.raises(LaunchError) as err:
        await h.launcher.launch(spec)
    assert err.value.code == "cwd_missing"


async def test_permission_denied(h: Harness, tmp_path: Path) -> None:
    script = tmp_path / "not-executable.sh"
    script.write_text("#!/bin/sh\necho hi\n")
    script.chmod(0o644)
    with pytest.raises(LaunchError) as err:
        await h.run([str(script)])
    assert err.value.code == "spawn_failed"
    assert "not-executable.sh" in err.value.message


async def test_stdin_is_delivered_then_closed(h: Harness) -> None:
    p = await h.run(["cat"], stdin=b"hello\nworld\n")
    assert await read_all(p.stdout) == b"hello\nworld\n"
    assert await wait(p) == 0  # cat saw EOF


async def test_stdin_known_later_is_written_once_known(h: Harness) -> None:
    """A process started before its input exists (a browser warming up before its page is
    known) gets it once it is, then end-of-file."""
    later: asyncio.Future[bytes] = asyncio.get_running_loop().create_future()
    p = await h.sh("echo started; cat", stdin=later)
    assert await read_line(p.stdout) == b"started\n"  # running, its input not yet there
    later.set_result(b"the page\n")
    assert await read_all(p.stdout) == b"the page\n"
    assert await wait(p) == 0


async def test_stdin_that_never_comes_is_end_of_file(h: Harness) -> None:
    later: asyncio.Future[bytes] = asyncio.get_running_loop().create_future()
    p = await h.sh("echo started; cat; echo eof", stdin=later)
    assert await read_line(p.stdout) == b"started\n"
    later.cancel()
    assert await read_all(p.stdout) == b"eof\n"
    assert await wait(p) == 0


async def test_no_stdin_means_dev_null(h: Harness) -> None:
    p = await h.run(["cat"])
    assert await read_all(p.stdout) == b""
    assert await wait(p) == 0


async def test_a_process_that_never_reads_stdin_does_not_block(h: Harness) -> None:
    big = b"x" * (4 * 1024 * 1024)  # far more than a pipe buffer
    p = await h.sh("echo done", stdin=big)
    assert await read_all(p.stdout) == b"done\n"
    assert await wait(p) == 0
    q = await h.sh("echo ready; exec sleep 60", stdin=big)
    assert await read_line(q.stdout) == b"ready\n"
    await q.stop(5)
    assert await wait(q) == -15


async def test_stop_with_sigterm(h: Harness) -> None:
    p = await h.sh("echo ready; exec sleep 60")
    assert await read_line(p.stdout) == b"ready\n"
    await p.stop(10)
    assert await wait(p) == -15
    assert await read_all(p.stdout) == b""


async def test_ignoring_sigterm_gets_sigkill_after_the_grace(h: Harness) -> None:
    code = (
        "import signal, time\n"
        "signal.signal(signal.SIGTERM, signal.SIG_IGN)\n"
        "print('ready', flush=True)\n"
        "time.sleep(60)\n"
    )
    p = await h.run([PY, "-c", code])
    assert await read_line(p.stdout) == b"ready\n"
    await p.stop(0.3)
    assert await wait(p) == -9


async def test_stop_kills_a_double_forked_orphan_that_outlived_the_leader(h: Harness) -> None:
    # The subshell forks sleep and exits: sleep is orphaned, still in the leader's group.
    p = await h.sh("(sleep 60 >/dev/null 2>&1 & echo $!)")
    orphan = int(await read_line(p.stdout))
    assert await wait(p) == 0
    assert running(orphan)
    assert os.getpgid(orphan) == p.pid
    await p.stop(5)
    assert gone(orphan)


async def test_stop_kills_a_grandchild_that_escaped_with_setsid(h: Harness) -> None:
    code = "import os, time; os.setsid(); print(os.getpid(), flush=True); time.sleep(60)"
    p = await h.sh(f"{PY} -c '{code}' & wait")
    escaped = int(await read_line(p.stdout))
    assert os.getsid(escaped) == escaped != p.pid  # out of the leader's group and session
    assert escaped not in proctree.members(p.pid or 0, None)
    await p.stop(5)
    assert gone(escaped)
    assert await wait(p) == -15
    assert await read_all(p.stdout) == b""  # nothing holds the pipe any more


async def test_reap_leftovers_after_the_leader_exited(h: Harness) -> None:
    p = await h.sh("sleep 60 & echo $!")
    sleeper = int(await read_line(p.stdout))
    assert await wait(p) == 0  # returns although the sleeper still holds stdout
    assert running(sleeper)
    await p.reap_leftovers(5)
    assert gone(sleeper)
    assert await read_all(p.stdout) == b""  # EOF: the pipe's last writer is gone
    assert await read_all(p.stderr) == b""


async def test_start_time_identifies_the_process(h: Harness) -> None:
    p = await h.sh("echo ready; exec sleep 60")
    assert await read_line(p.stdout) == b"ready\n"
    assert p.pid is not None and p.start_time is not None
    assert p.start_time == proctree.start_time(p.pid)
    assert proctree.is_alive(p.pid, p.start_time)
    assert not proctree.is_alive(p.pid, p.start_time - 1)
    await p.stop(5)
    await wait(p)
    assert not proctree.is_alive(p.pid, p.start_time)


async def test_stop_after_exit_is_harmless(h: Harness) -> None:
    p = await h.sh("exit 0")
    assert await wait(p) == 0
    await p.stop(1)
    await p.reap_leftovers(1)
    assert await wait(p) == 0
