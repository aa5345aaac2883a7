"""The container sandbox with real containers: rootful Podman through its Docker-compatible API,
started by the `podman_service` fixture, running Paddock's locally built base image."""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import tarfile
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from paddock.domain.sandbox import LimitHit, Limits, Network, Provider
from paddock.runtime import proctree
from paddock.runtime.launcher import LaunchError, LaunchSpec, SandboxSpec, Stdin
from paddock.runtime.proctree import TAG_VARIABLE
from paddock.runtime.sandbox.container import LABEL_SERVER, ContainerLauncher, ContainerProcess
from paddock.runtime.sandbox.container_engine import PodmanService
from paddock.runtime.sandbox.container_image import import_with_api
from tests.security.test_network import OutsideHost

pytestmark = pytest.mark.anyio

LIMIT = 60.0  # turns a hang into a failure; never a timing assertion
HOST_ENV = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "LANG": "C.UTF-8"}


@dataclass
class Run:
    code: int
    out: str
    err: str
    process: ContainerProcess


class Harness:
    def __init__(self, launcher: ContainerLauncher, root: Path) -> None:
        self.launcher = launcher
        self.root = root
        self.worktree = self.own(root / "worktree")
        self.started: list[ContainerProcess] = []

    def own(self, path: Path) -> Path:
        """A directory the sandbox user owns, as Paddock prepares a worktree."""
        path.mkdir(parents=True, exist_ok=True)
        user = self.launcher.user
        if os.geteuid() == 0 and user is not None:
            os.chown(path, user.uid, user.gid)
        return path

    def spec(
        self,
        argv: list[str],
        *,
        stdin: Stdin | None = None,
        env: dict[str, str] | None = None,
        network: Network = Network.none,
        limits: Limits = Limits(),
        readable: tuple[Path, ...] = (),
        hidden: tuple[Path, ...] = (),
        pass_env: frozenset[str] = frozenset(),
    ) -> LaunchSpec:
        sandbox = SandboxSpec(
            Provider.container,
            network=network,
            limits=limits,
            writable=(self.worktree,),
            readable=readable,
            hidden=hidden,
            pass_env=pass_env,
        )
        return LaunchSpec(argv, self.worktree, {**HOST_ENV, **(env or {})}, stdin, sandbox=sandbox)

    async def start(self, spec: LaunchSpec) -> ContainerProcess:
        process = await self.launcher.launch(spec)
        self.started.append(process)
        return process

    async def run(self, spec: LaunchSpec) -> Run:
        process = await self.start(spec)
        return await self.finish(process)

    async def sh(self, script: str, **options: object) -> Run:
        return await self.run(self.spec(["sh", "-c", script], **options))  # type: ignore[arg-type]

    async def finish(self, process: ContainerProcess) -> Run:
        async def body() -> Run:
            out, err, code = await asyncio.gather(
                process.stdout.read(), process.stderr.read(), process.wait()
            )
            await process.reap_leftovers(1.0)
            return Run(code, out.decode(), err.decode(), process)

        return await asyncio.wait_for(body(), LIMIT)


@pytest.fixture
async def h(container_launcher: ContainerLauncher, tmp_path: Path) -> AsyncIterator[Harness]:
    harness = Harness(container_launcher, tmp_path)
    yield harness
    for process in harness.started:
        await asyncio.wait_for(process.stop(0.5), LIMIT)


def exists(launcher: ContainerLauncher, container_id: str) -> bool:
    return any(c["Id"] == container_id for c in launcher.client().api.containers(all=True))


async def test_runs_in_the_worktree_and_its_files_belong_to_the_sandbox_user(h: Harness) -> None:
    run = await h.sh("pwd; id -u; echo made > made.txt")
    assert run.code == 0, run.err
    pwd, uid = run.out.split()
    assert pwd == str(h.worktree)
    made = h.worktree / "made.txt"
    assert made.read_text() == "made\n"
    if os.geteuid() == 0:
        assert h.launcher.user is not None
        assert int(uid) == h.launcher.user.uid
        assert made.stat().st_uid == h.launcher.user.uid
        assert made.stat().st_gid == h.launcher.user.gid
    else:
        assert made.stat().st_uid == os.getuid()


async def test_stdout_and_stderr_stay_apart(h: Harness) -> None:
    run = await h.sh("echo out1; echo err1 >&2; echo out2; echo err2 >&2")
    assert run.code == 0
    assert run.out == "out1\nout2\n"
    assert run.err == "err1\nerr2\n"


async def test_large_output_arrives_whole_on_both_streams(h: Harness) -> None:
    script = (
        "import sys\n"
        "for i in range(200):\n"
        "    sys.stdout.write('o' * 50_000 + '\\n')\n"
        "    sys.stderr.write('e' * 20_000 + '\\n')\n"
    )
    run = await h.run(h.spec(["python3", "-c", script]))
    assert run.code == 0
    assert run.out == ("o" * 50_000 + "\n") * 200
    assert run.err == ("e" * 20_000 + "\n") * 200


async def test_exit_codes(h: Harness) -> None:
    assert (await h.sh("exit 0")).code == 0
    assert (await h.sh("exit 7")).code == 7
    killed = await h.sh("kill -KILL $$")
    assert killed.code == 137  # the engine's 128+N: a signal it cannot tell from an exit
    assert killed.process.limit_hit() is None


async def test_a_missing_command_is_a_launch_error(h: Harness) -> None:
    with pytest.raises(LaunchError) as caught:
        await h.start(h.spec(["no-such-command-here"]))
    assert caught.value.message == "command not found: no-such-command-here"
    assert caught.value.details["program"] == "no-such-command-here"


async def test_stdin_is_written_then_closed(h: Harness) -> None:
    data = b"".join(b"line %d\n" % i for i in range(100_000))  # more than any pipe buffer
    run = await h.run(h.spec(["sh", "-c", "cat; echo end"], stdin=data))
    assert run.code == 0
    assert run.out.encode() == data + b"end\n"


async def test_stdin_known_later_is_written_once_known(h: Harness) -> None:
    later: asyncio.Future[bytes] = asyncio.get_running_loop().create_future()
    process = await h.start(h.spec(["sh", "-c", "echo started; cat; echo end"], stdin=later))
    assert await asyncio.wait_for(process.stdout.readline(), LIMIT) == b"started\n"
    later.set_result(b"the page\n")
    run = await h.finish(process)
    assert (run.code, run.out) == (0, "the page\nend\n")


async def test_a_command_that_never_reads_its_stdin_loses_no_output(h: Harness) -> None:
    """Podman cannot write the stdin of a command that exited without reading it: that must
    not cut the output short (it did, now and then: the last lines of a probe were lost)."""
    data = b"x" * (4 * 1024 * 1024)  # far more than a pipe holds: the engine is still writing
    for _ in range(3):
        run = await h.run(h.spec(["sh", "-c", "seq 1 2000; echo last"], stdin=data))
        assert run.code == 0
        assert run.out.splitlines()[-1] == "last", run.out[-200:] + run.err
        assert "broken pipe" not in run.err


async def test_without_stdin_it_reads_eof(h: Harness) -> None:
    run = await h.run(h.spec(["sh", "-c", "cat; echo end"]))
    assert (run.code, run.out) == (0, "end\n")


async def test_network_none_has_only_loopback(h: Harness) -> None:
    script = (
        "import os, socket\n"
        "print(sorted(os.listdir('/sys/class/net')))\n"
        "s = socket.socket()\n"
        "try:\n"
        "    s.connect(('1.1.1.1', 80))\n"
        "except OSError as e:\n"
        "    print(e.strerror)\n"
    )
    run = await h.run(h.spec(["python3", "-c", script], network=Network.none))
    assert run.code == 0, run.err
    assert run.out.splitlines() == ["['lo']", "Network is unreachable"]


async def test_network_host_shares_the_hosts_interfaces(h: Harness) -> None:
    run = await h.run(h.spec(["ls", "/sys/class/net"], network=Network.host))
    assert run.code == 0
    assert sorted(run.out.split()) == sorted(os.listdir("/sys/class/net"))


async def test_network_private_reaches_out_but_never_the_hosts_loopback(h: Harness) -> None:
    """Podman's slirp4netns without the host's loopback: a listener on the host's 127.0.0.1 is
    not reached directly nor through slirp's alias of it (10.0.2.2); another host (a namespace
    the test makes, over a veth pair) is."""
    assert h.launcher.network_problem(Network.private) is None
    assert h.launcher.config.network_mode(Network.private) == (
        "slirp4netns:allow_host_loopback=false"
    )
    host = socket.socket()
    host.bind(("127.0.0.1", 0))
    host.listen(4)
    port = host.getsockname()[1]
    outside = OutsideHost()
    try:
        script = (
            "import os, socket\n"
            "print(sorted(os.listdir('/sys/class/net')))\n"
            "for target in sys.argv[1:]:\n"
            "    address, port = target.rsplit(':', 1)\n"
            "    try:\n"
            "        socket.create_connection((address, int(port)), timeout=10).close()\n"
            "        print(target, 'reached')\n"
            "    except OSError as e:\n"
            "        print(target, 'refused')\n"
        )
        targets = [f"127.0.0.1:{port}", f"10.0.2.2:{port}", f"{outside.address}:{outside.port}"]
        spec = h.spec(["python3", "-c", "import sys\n" + script, *targets], network=Network.private)
        run = await h.run(spec)
    finally:
        outside.close()
        host.close()
    assert run.code == 0, run.err
    assert run.out.splitlines() == [
        "['lo', 'tap0']",
        f"127.0.0.1:{port} refused",
        f"10.0.2.2:{port} refused",
        f"{outside.address}:{outside.port} reached",
    ]


async def test_only_whitelisted_and_passed_variables_get_in(h: Harness) -> None:
    env = {"HOST_SECRET": "nope", "GIVEN": "yes", "TERM": "xterm"}
    spec = h.spec(["env"], env=env, pass_env=frozenset({"GIVEN"}))
    run = await h.run(spec)
    seen = dict(line.split("=", 1) for line in run.out.splitlines())
    assert "HOST_SECRET" not in seen
    assert seen["GIVEN"] == "yes"
    assert seen["TERM"] == "xterm"
    assert seen[TAG_VARIABLE] == spec.tag
    assert seen["HOME"] == "/tmp"
    assert "/usr/bin" in seen["PATH"].split(":")


async def test_the_root_filesystem_is_read_only_and_tmp_is_bounded(h: Harness) -> None:
    run = await h.sh("touch /etc/x 2>&1; touch /usr/x 2>&1; df -k /tmp | tail -1")
    lines = run.out.splitlines()
    assert "Read-only file system" in lines[0]
    assert "Read-only file system" in lines[1]
    assert int(lines[2].split()[1]) == 64 * 1024  # the launcher's tmp_mb


async def test_readable_is_read_only_hidden_and_unlisted_paths_are_invisible(h: Harness) -> None:
    shared = h.root / "shared"
    (shared / "secret").mkdir(parents=True)
    (shared / "doc.txt").write_text("readable\n")
    (shared / "secret" / "key").write_text("hidden\n")
    (h.root / "elsewhere").mkdir()
    spec = h.spec(
        [
            "sh",
            "-c",
            f"cat {shared}/doc.txt; touch {shared}/new 2>&1; ls -A {shared}/secret; "
            f"ls {h.root}/elsewhere 2>&1",
        ],
        readable=(shared,),
        hidden=(shared / "secret",),
    )
    run = await h.run(spec)
    lines = run.out.splitlines()
    assert lines[0] == "readable"
    assert "Read-only file system" in lines[1]
    assert "No such file or directory" in lines[2]  # `secret` is empty: ls printed nothing
    assert len(lines) == 3
    assert not (shared / "new").exists()


async def test_memory_limit_is_reported_as_oom_killed(h: Harness) -> None:
    hog = "b = []\nwhile True:\n    b.append(bytearray(1 << 20))\n"
    spec = h.spec(["python3", "-c", hog], limits=Limits(memory_mb=64))
    run = await h.run(spec)
    assert run.code == 137
    assert run.process.limit_hit() is LimitHit.oom_killed


async def test_a_fork_bomb_is_contained_and_reported(h: Harness) -> None:
    bomb = (
        "import os, sys, time\n"
        "while True:\n"
        "    try:\n"
        "        if os.fork() == 0:\n"
        "            time.sleep(300)\n"
        "            os._exit(0)\n"
        "    except OSError as e:\n"
        "        print('fork failed:', e.strerror, flush=True)\n"
        "        break\n"
        "time.sleep(300)\n"
    )
    process = await h.start(h.spec(["python3", "-c", bomb], limits=Limits(pids=32)))
    line = await asyncio.wait_for(process.stdout.readline(), LIMIT)
    assert line == b"fork failed: Resource temporarily unavailable\n"
    sample = process.sample()
    assert sample is not None
    assert sample.pids <= 32
    await asyncio.wait_for(process.stop(0.5), LIMIT)
    assert await process.wait() < 0  # stopped by us
    assert process.limit_hit() is LimitHit.pids_limit


async def test_a_pids_limit_hit_is_reported_even_when_it_exits_at_once(h: Harness) -> None:
    forker = (
        "import os, sys, time\n"
        "while True:\n"
        "    try:\n"
        "        if os.fork() == 0:\n"
        "            time.sleep(300)\n"
        "            os._exit(0)\n"
        "    except OSError:\n"
        "        sys.exit(3)\n"
    )
    run = await h.run(h.spec(["python3", "-c", forker], limits=Limits(pids=16)))
    assert run.code == 3
    assert run.process.limit_hit() is LimitHit.pids_limit


async def test_no_limit_hit_when_none_was_hit(h: Harness) -> None:
    run = await h.run(h.spec(["sh", "-c", "exit 1"], limits=Limits(memory_mb=64, pids=16)))
    assert run.code == 1
    assert run.process.limit_hit() is None


async def test_stop_kills_it_and_removes_the_container(h: Harness) -> None:
    process = await h.start(h.spec(["sh", "-c", "trap '' TERM; echo ready; sleep 300 & wait"]))
    assert await asyncio.wait_for(process.stdout.readline(), LIMIT) == b"ready\n"
    assert exists(h.launcher, process.id)
    await asyncio.wait_for(process.stop(0.5), LIMIT)
    assert await process.wait() == -signal.SIGKILL  # it ignored SIGTERM
    assert not exists(h.launcher, process.id)
    assert await process.stdout.read() == b""  # the output reached its end


async def test_stop_with_sigterm_obeyed(h: Harness) -> None:
    process = await h.start(h.spec(["sh", "-c", "echo ready; sleep 300"]))
    assert await asyncio.wait_for(process.stdout.readline(), LIMIT) == b"ready\n"
    await asyncio.wait_for(process.stop(30), LIMIT)
    assert await process.wait() == -signal.SIGTERM


async def test_send_reaches_the_command(h: Harness) -> None:
    script = "trap 'echo got INT; exit 5' INT; echo ready; sleep 300 & wait"
    process = await h.start(h.spec(["sh", "-c", script]))
    assert await asyncio.wait_for(process.stdout.readline(), LIMIT) == b"ready\n"
    process.send(signal.SIGINT)
    run = await h.finish(process)
    assert (run.code, run.out) == (5, "got INT\n")


async def test_sample_reads_the_containers_cgroup(h: Harness) -> None:
    process = await h.start(h.spec(["sh", "-c", "echo ready; sleep 300"], limits=Limits(pids=64)))
    assert await asyncio.wait_for(process.stdout.readline(), LIMIT) == b"ready\n"
    assert process.pid is not None  # the engine runs here: its init's host pid
    sample = process.sample()
    assert sample is not None
    assert sample.pids >= 2  # the init, sh (and sleep)
    assert sample.memory_bytes > 0
    assert sample.peak_bytes >= sample.memory_bytes
    await asyncio.wait_for(process.stop(0.5), LIMIT)
    assert process.sample() is None


async def test_stale_containers_of_a_dead_server_are_reaped(
    container_launcher: ContainerLauncher, h: Harness
) -> None:
    dead = ContainerLauncher(
        url=container_launcher.url,
        image=container_launcher.config.image,
        user=container_launcher.user,
        server="999999999-1",  # no such pid: a server that is gone
    )
    orphan = await dead.launch(h.spec(["sleep", "300"]))
    ours = await h.start(h.spec(["sleep", "300"]))
    try:
        removed = await asyncio.to_thread(container_launcher.reap_stale)
        assert f"paddock-{orphan.tag}" in removed
        assert not exists(container_launcher, orphan.id)
        assert exists(container_launcher, ours.id)  # a live server's container stays
        labels = container_launcher.client().api.inspect_container(ours.id)["Config"]["Labels"]
        assert labels[LABEL_SERVER] == container_launcher.server
    finally:
        await asyncio.wait_for(orphan.stop(0.5), LIMIT)


async def test_base_image_import_through_the_api(
    container_launcher: ContainerLauncher, tmp_path: Path
) -> None:
    tarball = tmp_path / "tiny.tar"
    (tmp_path / "hello.txt").write_text("hi\n")
    with tarfile.open(tarball, "w") as tar:
        tar.add(tmp_path / "hello.txt", arcname="hello.txt")
    image = f"paddock-test-import:{uuid.uuid4().hex[:8]}"
    client = container_launcher.client()
    import_with_api(client, tarball, image)
    try:
        found = client.api.inspect_image(image)
        assert "ENV LANG=C.UTF-8" not in str(found)  # config applied, not copied verbatim
        assert "LANG=C.UTF-8" in found["Config"]["Env"]
    finally:
        client.api.remove_image(image, force=True)


def test_problem_names_a_missing_socket(tmp_path: Path) -> None:
    launcher = ContainerLauncher(url=f"unix://{tmp_path}/none.sock", user=None)
    problem = launcher.problem()
    assert problem is not None
    assert f"no container engine socket at {tmp_path}/none.sock" in problem


def test_problem_names_a_missing_image(container_launcher: ContainerLauncher) -> None:
    launcher = ContainerLauncher(
        url=container_launcher.url, image="paddock-no-such-image:x", user=container_launcher.user
    )
    problem = launcher.problem()
    assert problem is not None
    assert "the container image paddock-no-such-image:x is missing" in problem


def test_the_podman_service_works_in_its_own_folder(
    tmp_path: Path, podman_service: PodmanService
) -> None:
    """conmon drops an `oom` file into its working directory when a container runs out of
    memory: started from a user's project folder, that would be the user's checkout."""
    path = tmp_path / "service" / "podman.sock"
    service = PodmanService.start(path)
    try:
        assert Path(f"/proc/{service.pid}/cwd").resolve() == path.parent.resolve()
    finally:
        service.stop()


def test_a_podman_service_left_by_a_dead_server_is_taken_over_and_stopped(
    tmp_path: Path, podman_service: PodmanService
) -> None:
    path = tmp_path / "podman.sock"
    left = PodmanService.start(path)  # as a server that is killed next would have
    try:
        taken = PodmanService.take_over(path)
        assert taken is not None and taken.pid == left.pid and taken.proc is None
        taken.stop()
        assert not proctree.is_alive(left.pid, left.start_time)
        assert not path.exists() and not PodmanService.pid_file(path).exists()
    finally:
        left.stop()
    # A pid file naming some other process is not taken for the service.
    PodmanService.pid_file(path).write_text(f"{os.getpid()} {proctree.start_time(os.getpid())}\n")
    assert PodmanService.take_over(path) is None
