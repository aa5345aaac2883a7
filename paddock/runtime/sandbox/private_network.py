"""Network "private": a network namespace of its own, out to the world through slirp4netns,
never to the host's loopback.

Each sandboxed process with network "private" gets a fresh network namespace, made by the
server before the sandbox starts: a short-lived thread of the server calls
`unshare(CLONE_NEWNET)`, brings `lo` up, and opens the namespace (the descriptor keeps it alive
after the thread ends). `slirp4netns` (user-mode networking: a TAP device inside, plain
sockets of its own outside) joins it, configures `tap0` (10.0.2.100, gateway 10.0.2.2, DNS
10.0.2.3) and says it is ready; only then does the launch start bwrap inside the namespace
(`nsenter --net=...`), so the command never runs before its network is up.

`--disable-host-loopback` makes slirp refuse connections to the gateway 10.0.2.2 (its alias
of the host's 127.0.0.1): the host's loopback services, Paddock's API among them, are out of
reach; the sandbox's own 127.0.0.1 is its own. (The host's other addresses are not: a service
listening on 0.0.0.0 is reached as from another machine.) slirp runs sandboxed
itself (`--enable-sandbox`: a mount namespace of its own, capabilities dropped;
`--enable-seccomp`: no execve, mount, ptrace, setns ...).

slirp dies with its sandbox: the server holds the write end of slirp's `--exit-fd` pipe and
closes it when the sandbox ended; a server that is killed closes it too (the kernel does).
See docs/decisions/012-private-sandbox-network.md. Needs root (making a network namespace of
the init user namespace, and letting slirp join it).
"""

from __future__ import annotations

import asyncio
import contextlib
import ctypes
import fcntl
import logging
import os
import shutil
import socket
import struct
import threading
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import TypeVar

from paddock.runtime.launcher import InsideNetwork

log = logging.getLogger(__name__)

CLONE_NEWNET = 0x40000000
SIOCGIFFLAGS = 0x8913
SIOCSIFFLAGS = 0x8914
IFF_UP = 0x1
TAP = "tap0"
MTU = 65520  # slirp's maximum is 65521; a large MTU is most of its throughput
GUEST_ADDRESS = "10.0.2.100"
GATEWAY = "10.0.2.2"  # slirp's alias of the host's loopback: refused (--disable-host-loopback)
DNS = "10.0.2.3"  # slirp forwards it to the host's resolver
RESOLV_CONF = f"# Paddock: network private (slirp4netns's resolver)\nnameserver {DNS}\n"
# Tells slirp (and its leftovers, should there be any) apart: the sandboxed process's id.
OWNER_VARIABLE = "PADDOCK_NETWORK_OF"
READY_TIMEOUT = 10.0
PREPARED_SECONDS = 60.0  # a network made ahead of its launch (NetworksAhead) waits this long
EXIT_TIMEOUT = 5.0
STDERR_KEEP = 4096

T = TypeVar("T")
# Opens a connection outside the sandbox (the server's side of a forward).
Opener = Callable[[], Awaitable[tuple[asyncio.StreamReader, asyncio.StreamWriter]]]


class NetworkError(OSError):
    """The private network could not be set up."""


def slirp_problem(slirp: str | None) -> str | None:
    """Why network "private" cannot run here; None when it can."""
    if slirp is None:
        return "slirp4netns is not installed (run scripts/install, or apt-get install slirp4netns)"
    if os.geteuid() != 0:
        return (
            "it needs Paddock to run as root (a network namespace per sandbox, joined by "
            "slirp4netns); choose network none, or host"
        )
    if not os.path.exists("/dev/net/tun"):
        return "/dev/net/tun is missing (the tun kernel module)"
    return None


def _libc() -> ctypes.CDLL:
    return ctypes.CDLL(None, use_errno=True)


def _check(result: int, what: str) -> None:
    if result != 0:
        err = ctypes.get_errno()
        raise OSError(err, f"{what}: {os.strerror(err)}")


def _loopback_up() -> None:
    """Bring `lo` up in the calling thread's network namespace (a new one has it down)."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        request = struct.pack("16sH22x", b"lo", 0)
        flags = struct.unpack("16sH22x", fcntl.ioctl(sock, SIOCGIFFLAGS, request))[1]
        fcntl.ioctl(sock, SIOCSIFFLAGS, struct.pack("16sH22x", b"lo", flags | IFF_UP))


async def in_own_thread(work: Callable[[], T], discard: Callable[[T], object] | None = None) -> T:
    """`work()` in a thread made for it and ended after it: a thread that changed its network
    namespace must never run anything else (a pool's thread would). What it made after the
    caller stopped waiting goes to `discard` (a descriptor to close)."""
    loop = asyncio.get_running_loop()
    done: asyncio.Future[T] = loop.create_future()

    def settle(outcome: T | None, error: BaseException | None) -> None:
        if done.cancelled():
            if error is None and discard is not None:
                discard(outcome)  # type: ignore[arg-type]
            return
        if error is not None:
            done.set_exception(error)
        else:
            done.set_result(outcome)  # type: ignore[arg-type]

    def run() -> None:
        try:
            outcome = work()
        except BaseException as exc:  # handed to the waiting coroutine
            loop.call_soon_threadsafe(settle, None, exc)
        else:
            loop.call_soon_threadsafe(settle, outcome, None)

    threading.Thread(target=run, name="paddock-netns", daemon=True).start()
    return await done


def _new_namespace() -> int:
    """(In a thread of its own.) A new network namespace with `lo` up: a descriptor on it."""
    _check(_libc().unshare(CLONE_NEWNET), "unshare(CLONE_NEWNET)")
    _loopback_up()
    return os.open("/proc/thread-self/ns/net", os.O_RDONLY | os.O_CLOEXEC)


def _setns(fd: int) -> None:
    _check(_libc().setns(fd, CLONE_NEWNET), "setns(network)")


def listen_inside(netns_fd: int, host: str, port: int, backlog: int = 128) -> socket.socket:
    """(In a thread of its own: it joins the namespace.) A TCP socket listening on
    `host:port` inside the namespace `netns_fd`."""
    _setns(netns_fd)
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((host, port))
        sock.listen(backlog)
        sock.setblocking(False)
    except BaseException:
        sock.close()
        raise
    return sock


class PrivateNetwork:
    """One sandbox's network namespace and the slirp4netns that serves it."""

    def __init__(
        self,
        netns_fd: int,
        slirp: asyncio.subprocess.Process,
        exit_fd: int,
        drain: asyncio.Task[bytes],
    ) -> None:
        self.netns_fd = netns_fd
        self.slirp = slirp
        self._exit_fd = exit_fd  # closing it tells slirp to exit
        self._drain = drain
        self.closed = False

    @property
    def path(self) -> str:
        """The namespace as a path another process of the server's user may open (nsenter)."""
        return f"/proc/{os.getpid()}/fd/{self.netns_fd}"

    @classmethod
    async def open(cls, owner: str, slirp: str | None = None) -> PrivateNetwork:
        """A new namespace whose slirp4netns is up; `owner` (the sandboxed process's id) goes
        in slirp's environment."""
        program = slirp or shutil.which("slirp4netns")
        problem = slirp_problem(program)
        if problem is not None:
            raise NetworkError(problem)
        assert program is not None
        netns_fd = await in_own_thread(_new_namespace, os.close)
        ready_r, ready_w = os.pipe()
        exit_r, exit_w = os.pipe()
        try:
            process = await asyncio.create_subprocess_exec(
                program,
                "--configure",
                f"--mtu={MTU}",
                "--disable-host-loopback",
                "--enable-sandbox",
                "--enable-seccomp",
                f"--ready-fd={ready_w}",
                f"--exit-fd={exit_r}",
                "--netns-type=path",
                f"/proc/self/fd/{netns_fd}",
                TAP,
                stdin=asyncio.subprocess.DEVNULL,
                stdout=asyncio.subprocess.DEVNULL,
                stderr=asyncio.subprocess.PIPE,
                pass_fds=(netns_fd, ready_w, exit_r),
                env={"PATH": os.environ.get("PATH", "/usr/bin:/bin"), OWNER_VARIABLE: owner},
                start_new_session=True,  # a Ctrl-C meant for the server is not slirp's
            )
        except BaseException as exc:
            for fd in (ready_r, ready_w, exit_r, exit_w, netns_fd):
                os.close(fd)
            if isinstance(exc, OSError):
                raise NetworkError(f"slirp4netns could not start: {exc}") from exc
            raise
        os.close(ready_w)
        os.close(exit_r)
        assert process.stderr is not None
        network = cls(netns_fd, process, exit_w, asyncio.create_task(_keep_tail(process.stderr)))
        try:
            said = await asyncio.wait_for(_read_once(ready_r), READY_TIMEOUT)
        except TimeoutError:
            said = b""
        except BaseException:  # cancelled: slirp goes, whatever it was doing
            await asyncio.shield(network.close())
            raise
        finally:
            os.close(ready_r)
        if said != b"1":
            await network.close()
            reason = (await network.stderr()).strip().splitlines()
            raise NetworkError(
                "slirp4netns did not bring the sandbox's network up: "
                + (reason[-1] if reason else f"exit code {process.returncode}")
            )
        return network

    async def listen(self, host: str, port: int) -> socket.socket:
        """A listening socket on `host:port` inside this network (the server's, there)."""
        return await in_own_thread(
            lambda: listen_inside(self.netns_fd, host, port), socket.socket.close
        )

    async def stderr(self) -> str:
        """What slirp said on stderr (its last few KiB), once it ended."""
        with contextlib.suppress(Exception):
            return (await self._drain).decode(errors="replace")
        return ""

    async def close(self) -> None:
        """End slirp (and wait for it); the namespace goes with its last user."""
        if self.closed:
            return
        self.closed = True
        os.close(self._exit_fd)
        try:
            await asyncio.wait_for(self.slirp.wait(), EXIT_TIMEOUT)
        except TimeoutError:
            log.warning("slirp4netns %s ignored its exit-fd: killing it", self.slirp.pid)
            with contextlib.suppress(ProcessLookupError):
                self.slirp.kill()
            await self.slirp.wait()
        os.close(self.netns_fd)


class NetworksAhead:
    """Private networks made before their launch asks (while the caller does other work),
    by the launch's tag: slirp is told that owner from its start, as for one made at the
    launch. One no launch claims in `PREPARED_SECONDS` is let go (one left at shutdown ends
    with the server: the kernel closes slirp's exit pipe)."""

    def __init__(self) -> None:
        self._making: dict[str, asyncio.Task[PrivateNetwork]] = {}
        self._closing: set[asyncio.Task[None]] = set()

    def make(self, owner: str, slirp: str | None) -> None:
        if owner in self._making:
            return
        loop = asyncio.get_running_loop()
        self._making[owner] = loop.create_task(PrivateNetwork.open(owner, slirp))
        loop.call_later(PREPARED_SECONDS, self.let_go, owner)

    def claim(self, owner: str) -> asyncio.Task[PrivateNetwork] | None:
        """`owner`'s network being made (or made), now the caller's; None without one."""
        return self._making.pop(owner, None)

    def let_go(self, owner: str) -> None:
        """`owner`'s network, unclaimed: cancelled while being made, else closed."""
        making = self._making.pop(owner, None)
        if making is None:
            return
        if not making.done():
            making.cancel()  # PrivateNetwork.open ends what it started
            return
        if not making.cancelled() and making.exception() is None:
            closing = asyncio.get_running_loop().create_task(making.result().close())
            self._closing.add(closing)
            closing.add_done_callback(self._closing.discard)


async def _read_once(fd: int) -> bytes:
    """One read of `fd` (a pipe) without blocking the loop."""
    loop = asyncio.get_running_loop()
    os.set_blocking(fd, False)
    got: asyncio.Future[bytes] = loop.create_future()

    def readable() -> None:
        if got.done():
            return
        try:
            got.set_result(os.read(fd, 16))
        except BlockingIOError:
            return
        except OSError as exc:
            got.set_exception(exc)

    loop.add_reader(fd, readable)
    try:
        return await got
    finally:
        loop.remove_reader(fd)


async def _keep_tail(stream: asyncio.StreamReader) -> bytes:
    """Read `stream` to its end (slirp must never block on a full pipe); its last bytes."""
    tail = b""
    while chunk := await stream.read(65536):
        tail = (tail + chunk)[-STDERR_KEEP:]
    return tail


def write_resolv_conf(directory: Path) -> Path:
    """A resolv.conf naming slirp's resolver, written once in `directory` (world-readable)."""
    path = directory / "resolv.conf"
    if not path.is_file() or path.read_text() != RESOLV_CONF:
        tmp = directory / f".resolv.conf.{os.getpid()}"
        tmp.write_text(RESOLV_CONF)
        tmp.chmod(0o644)
        tmp.replace(path)
    return path


async def forward_inside(network: InsideNetwork, port: int, opener: Opener) -> asyncio.Server:
    """Connections to 127.0.0.1:`port` inside the sandbox's network, relayed by the server to
    what `opener` connects to outside: one named endpoint (a preview's database on the host's
    loopback, another service of the attempt), never the host's loopback as a whole."""
    sock = await network.listen("127.0.0.1", port)

    async def relay(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            inner_reader, inner_writer = await opener()
        except OSError:
            writer.close()
            return
        await asyncio.gather(_pipe(reader, inner_writer), _pipe(inner_reader, writer))

    try:
        return await asyncio.start_server(relay, sock=sock)
    except BaseException:
        sock.close()
        raise


async def _pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    try:
        while data := await reader.read(65536):
            writer.write(data)
            await writer.drain()
    except OSError:
        pass
    finally:
        with contextlib.suppress(OSError):
            writer.close()
