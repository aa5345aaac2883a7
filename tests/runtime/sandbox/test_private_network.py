"""Network "private" in the bwrap launcher: a namespace of its own, up before the command runs,
no way to the host's loopback, and nothing of it (slirp4netns, the namespace) left after."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import socket
import subprocess
import sys
import threading
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest

from paddock.domain.sandbox import Network, Provider
from paddock.runtime import proctree
from paddock.runtime.launcher import InsideNetwork, LaunchError, LaunchSpec, SandboxSpec
from paddock.runtime.sandbox.bwrap import BwrapLauncher
from paddock.runtime.sandbox.bwrap_process import SandboxedProcess
from paddock.runtime.sandbox.private_network import OWNER_VARIABLE
from paddock.runtime.sandbox.sandbox_identity import find_user
from paddock.runtime.sandbox.sandboxes import Sandboxes

pytestmark = pytest.mark.anyio

PATH = {"PATH": "/usr/sbin:/usr/bin:/sbin:/bin"}


@pytest.fixture
def launcher() -> Iterator[BwrapLauncher]:
    made = BwrapLauncher(user=find_user("paddock-sandbox"), hierarchy=None)
    problem = made.problem() or made.network_problem(Network.private)
    assert problem is None, problem  # scripts/install sets both up on these machines
    try:
        yield made
    finally:
        made.close()


class HostListener:
    """A TCP listener on the host's loopback that counts its connections."""

    def __init__(self) -> None:
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(8)
        self.port: int = self.sock.getsockname()[1]
        self.accepted = 0
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            self.accepted += 1
            conn.close()


@pytest.fixture
def host_listener() -> Iterator[HostListener]:
    listener = HostListener()
    try:
        yield listener
    finally:
        listener.sock.close()


def private(script: str, **sandbox: object) -> LaunchSpec:
    return LaunchSpec(
        ["bash", "-c", script],
        Path("/"),
        dict(PATH),
        sandbox=SandboxSpec(Provider.bwrap, Network.private, **sandbox),  # type: ignore[arg-type]
    )


async def run(launcher: BwrapLauncher, spec: LaunchSpec) -> tuple[int, str, str]:
    launched = await launcher.launch(spec)
    out, err = await asyncio.gather(launched.stdout.read(), launched.stderr.read())
    code = await launched.wait()
    await launched.reap_leftovers(1.0)
    return code, out.decode(), err.decode()


def slirps_of(tag: str) -> list[int]:
    """slirp4netns processes serving the sandboxed process `tag`."""
    entry = f"{OWNER_VARIABLE}={tag}".encode()
    found = []
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        with contextlib.suppress(OSError):
            environ = Path(f"/proc/{name}/environ").read_bytes().split(b"\0")
            stat = proctree.read_stat(int(name))
            if entry in environ and stat is not None and stat.state not in "ZX":
                found.append(int(name))
    return found


def network_fds() -> int:
    """Network namespaces this process holds open."""
    count = 0
    for fd in os.listdir("/proc/self/fd"):
        with contextlib.suppress(OSError):
            count += os.readlink(f"/proc/self/fd/{fd}").startswith("net:[")
    return count


async def test_a_private_sandbox_has_its_own_network_and_not_the_hosts_loopback(
    launcher: BwrapLauncher, host_listener: HostListener
) -> None:
    port = host_listener.port
    script = f"""
grep : /proc/net/dev | cut -d: -f1 | tr -d ' ' | sort | tr '\\n' ' '; echo
awk '$2 == "00000000" {{print "default via", $1, $3}}' /proc/net/route
grep nameserver /etc/resolv.conf
(exec 3<>/dev/tcp/127.0.0.1/{port}) 2>/dev/null && echo loopback-reached || echo loopback-refused
(exec 3<>/dev/tcp/10.0.2.2/{port}) 2>/dev/null && echo gateway-reached || echo gateway-refused
"""
    code, out, err = await run(launcher, private(script))
    assert code == 0, err
    lines = out.splitlines()
    assert lines[0].split() == ["lo", "tap0"]
    assert lines[1] == "default via tap0 0202000A"  # 10.0.2.2, slirp's gateway
    assert lines[2] == "nameserver 10.0.2.3"  # slirp's resolver, not the host's
    assert lines[3:] == ["loopback-refused", "gateway-refused"]
    assert host_listener.accepted == 0


async def test_the_network_is_up_before_the_command_starts_and_its_hook_listens_inside(
    launcher: BwrapLauncher,
) -> None:
    """The hook runs before the command: a listener it makes inside is there at the first try
    (no retry in the script), and the host's same port is not it."""
    seen: list[str] = []
    served: list[bytes] = []
    port = 7421

    async def on_network(network: InsideNetwork) -> None:
        sock = await network.listen("127.0.0.1", port)

        async def answer(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            served.append(await reader.readline())
            writer.write(b"from-the-server\n")
            await writer.drain()
            writer.close()

        servers.append(await asyncio.start_server(answer, sock=sock))
        seen.append("hook")

    servers: list[asyncio.Server] = []
    script = f"""
exec 3<>/dev/tcp/127.0.0.1/{port} || exit 9
echo hello >&3
head -1 <&3
"""
    try:
        code, out, err = await run(launcher, private(script, on_network=on_network))
    finally:
        for server in servers:
            server.close()
    assert code == 0, err
    assert seen == ["hook"]
    assert out == "from-the-server\n" and served == [b"hello\n"]


async def test_nothing_of_the_network_outlives_the_sandbox(launcher: BwrapLauncher) -> None:
    before = network_fds()
    spec = private("sleep 30")
    launched = await launcher.launch(spec)
    assert isinstance(launched, SandboxedProcess)
    try:
        slirps = slirps_of(spec.tag)
        assert len(slirps) == 1, slirps
        assert proctree.command_name(slirps[0]) == "slirp4netns"
        assert network_fds() == before + 1
    finally:
        await launched.stop(1.0)
    assert slirps_of(spec.tag) == []
    assert network_fds() == before
    # Ended by itself too: slirp goes with the sandbox's exit.
    spec = private("true")
    assert (await run(launcher, spec))[0] == 0
    assert slirps_of(spec.tag) == [] and network_fds() == before


async def test_without_slirp4netns_private_is_refused_naming_the_fix(
    launcher: BwrapLauncher,
) -> None:
    launcher.slirp = None  # what `shutil.which` finds on a machine without the package
    problem = launcher.network_problem(Network.private)
    assert problem is not None and "slirp4netns is not installed" in problem
    assert "scripts/install" in problem
    assert launcher.network_problem(Network.none) is None
    with pytest.raises(LaunchError) as raised:
        await launcher.launch(private("true"))
    assert raised.value.code == "sandbox_unavailable"
    assert "scripts/install" in raised.value.message


def test_sandboxes_say_which_provider_can_have_a_private_network() -> None:
    bwrap = BwrapLauncher(user=find_user("paddock-sandbox"), hierarchy=None)
    sandboxes = Sandboxes(providers={Provider.bwrap: bwrap}, user=bwrap.user)
    try:
        # A plain process has no network of its own: nothing to refuse.
        assert sandboxes.network_problem(Provider.none, Network.private) is None
        bwrap.slirp = None
        problem = sandboxes.network_problem(Provider.bwrap, Network.private)
        assert problem is not None and "slirp4netns" in problem
        assert sandboxes.network_problem(Provider.bwrap, Network.host) is None
    finally:
        sandboxes.close()


# Run in a mount namespace of its own whose /etc/resolv.conf names a resolver of the test's on
# a loopback address (as systemd-resolved's 127.0.0.53): slirp forwards the sandbox's queries
# to 10.0.2.3 there. No query leaves the machine.
RESOLVE_THROUGH_SLIRP = """
import asyncio, json, socket, struct, sys, threading
from pathlib import Path
from paddock.domain.sandbox import Network, Provider
from paddock.runtime.sandbox.bwrap import BwrapLauncher
from paddock.runtime.sandbox.sandbox_identity import find_user
from paddock.runtime.launcher import LaunchSpec, SandboxSpec

asked = []

def resolver(sock):
    while True:
        data, peer = sock.recvfrom(512)
        question = data[12:12 + data[12:].index(b"\\0") + 5]
        labels, at = [], 0
        while question[at]:
            labels.append(question[at + 1 : at + 1 + question[at]].decode(errors="replace"))
            at += 1 + question[at]
        asked.append(".".join(labels))
        answer = b""
        if question[-4:-2] == b"\\0\\1":  # A
            record = struct.pack("!HHIH", 1, 1, 60, 4) + socket.inet_aton("10.213.7.9")
            answer = b"\\xc0\\x0c" + record
        counts = struct.pack("!HHHH", 1, 1 if answer else 0, 0, 0)
        sock.sendto(data[:2] + b"\\x81\\x80" + counts + question + answer, peer)

sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
sock.bind((sys.argv[1], 53))
threading.Thread(target=resolver, args=(sock,), daemon=True).start()

async def main():
    launcher = BwrapLauncher(user=find_user("paddock-sandbox"), hierarchy=None)
    script = "grep nameserver /etc/resolv.conf; getent ahostsv4 api.model.test | head -1"
    spec = LaunchSpec(["bash", "-c", script], Path("/"), {"PATH": "/usr/bin:/bin"},
                      sandbox=SandboxSpec(Provider.bwrap, Network.private))
    launched = await launcher.launch(spec)
    out, _ = await asyncio.gather(launched.stdout.read(), launched.stderr.read())
    await launched.wait()
    await launched.reap_leftovers(1.0)
    launcher.close()
    print(json.dumps({"out": out.decode(), "asked": asked}))

asyncio.run(main())
"""


def test_names_resolve_through_slirps_resolver(tmp_path: Path) -> None:
    resolver = f"127.{53 + os.getpid() % 100}.{os.getpid() % 250}.53"
    (tmp_path / "resolv.conf").write_text(f"nameserver {resolver}\n")
    (tmp_path / "resolve.py").write_text(RESOLVE_THROUGH_SLIRP)
    shell = (
        f"mount --bind {tmp_path / 'resolv.conf'} /etc/resolv.conf && "
        f"exec {sys.executable} {tmp_path / 'resolve.py'} {resolver}"
    )
    done = subprocess.run(
        ["unshare", "--mount", "--propagation", "private", "sh", "-c", shell],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    said = json.loads(done.stdout)
    lines = said["out"].splitlines()
    assert lines[0] == "nameserver 10.0.2.3"
    assert lines[1].split()[0] == "10.213.7.9" and "api.model.test" in lines[1]
    assert "api.model.test" in said["asked"]


async def test_a_network_made_ahead_is_the_one_its_launch_uses(launcher: BwrapLauncher) -> None:
    """`prepare` makes the network while the caller does other work; the launch of that tag
    claims it (one slirp, its own), and it goes with the sandbox as any other."""
    before = network_fds()
    spec = private("sleep 30")
    launcher.prepare(spec.tag, Network.private)
    for _ in range(500):  # up before any launch asked for it
        if slirps_of(spec.tag):
            break
        await asyncio.sleep(0.01)
    made = slirps_of(spec.tag)
    assert len(made) == 1
    launched = await launcher.launch(spec)
    try:
        assert slirps_of(spec.tag) == made  # claimed, not made again
        assert network_fds() == before + 1
    finally:
        await launched.stop(1.0)
    assert slirps_of(spec.tag) == [] and network_fds() == before


async def test_a_network_made_ahead_and_never_claimed_is_let_go(
    launcher: BwrapLauncher, monkeypatch: pytest.MonkeyPatch
) -> None:
    from paddock.runtime.sandbox import private_network

    before = network_fds()
    monkeypatch.setattr(private_network, "PREPARED_SECONDS", 0.3)
    launcher.prepare("never-launched", Network.private)
    for _ in range(200):
        if slirps_of("never-launched"):
            break
        await asyncio.sleep(0.01)
    assert slirps_of("never-launched")
    for _ in range(300):
        if not slirps_of("never-launched") and network_fds() == before:
            break
        await asyncio.sleep(0.01)
    assert slirps_of("never-launched") == [] and network_fds() == before
    # A launch that cannot even start lets its network go at once.
    spec = private("true")
    launcher.prepare(spec.tag, Network.private)
    with pytest.raises(LaunchError):
        await launcher.launch(replace(spec, argv=["no-such-command-here"]))
    for _ in range(300):
        if not slirps_of(spec.tag) and network_fds() == before:
            break
        await asyncio.sleep(0.01)
    assert slirps_of(spec.tag) == [] and network_fds() == before
