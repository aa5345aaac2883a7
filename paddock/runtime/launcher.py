"""How a supervised process is started: the swap point for sandboxes (bubblewrap, containers).

A `Launcher` turns a `LaunchSpec` into a running `Launched` process whose output the supervisor
reads and whose whole tree it can stop. `PlainLauncher` runs the command as a plain child in a
new session (sandbox "none").
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

from paddock.domain.errors import PaddockError
from paddock.domain.names import new_id
from paddock.domain.sandbox import LimitHit, Limits, Network, Provider
from paddock.runtime import proctree
from paddock.runtime.proctree import TAG_VARIABLE
from paddock.runtime.sandbox.cgroups import Sample

DEFAULT_STREAM_LIMIT = 1024 * 1024  # StreamReader buffer: the longest line readline() accepts


class LaunchError(PaddockError):
    """The process could not be started at all."""

    code = "spawn_failed"


class InsideNetwork(Protocol):
    """A sandbox's own network (network "private"), as the server may use it."""

    async def listen(self, host: str, port: int) -> socket.socket:
        """A socket of the server's listening on `host:port` inside the sandbox's network."""
        ...


# Called once a sandbox's own network is up, before its command starts.
NetworkHook = Callable[[InsideNetwork], Awaitable[None]]


@dataclass(frozen=True, slots=True)
class SandboxSpec:
    """What a sandboxed process may see and use."""

    provider: Provider
    network: Network = Network.host
    limits: Limits = field(default_factory=Limits)
    writable: tuple[Path, ...] = ()  # the worktree, the agent's HOME
    readable: tuple[Path, ...] = ()  # e.g. the repository's .git, the agent CLIs' dir
    hidden: tuple[Path, ...] = ()  # e.g. Paddock's data dir, every attempt's worktrees
    pass_env: frozenset[str] = frozenset()  # variables Paddock sets; the host's are dropped
    image: str | None = None  # the container provider's image; None: its default
    # Network "private": called with the sandbox's network before the command starts (e.g. to
    # listen inside it); a launcher that cannot refuses the launch.
    on_network: NetworkHook | None = field(default=None, compare=False)


# What a process reads: bytes, or a future of them (written once it has them, e.g. what its
# caller learns after the start), then end-of-file. A future cancelled: end-of-file at once.
Stdin = bytes | asyncio.Future[bytes]


async def stdin_bytes(stdin: Stdin) -> bytes:
    if isinstance(stdin, bytes):
        return stdin
    try:
        return await asyncio.shield(stdin)
    except asyncio.CancelledError:
        if stdin.cancelled():
            return b""
        raise


@dataclass
class LaunchSpec:
    argv: list[str]
    cwd: Path
    env: dict[str, str]  # the complete environment; the launcher adds the tag
    stdin: Stdin | None = None  # written then closed; None: /dev/null
    tag: str = field(default_factory=new_id)  # the process id, as PADDOCK_PROCESS_ID
    sandbox: SandboxSpec | None = None  # None: a plain process
    # Descriptors of the server's the command inherits, under the same numbers (e.g. the pipe
    # bwrap reads its seccomp program from); the caller closes its own copies.
    pass_fds: tuple[int, ...] = ()


class Launched(Protocol):
    pid: int | None
    start_time: int | None
    stdout: asyncio.StreamReader
    stderr: asyncio.StreamReader

    async def started(self) -> bool:
        """Once the command itself runs (exec'd, inside its sandbox): True; False when it never
        will (its sandbox could not be made; the exit follows). What `running` waits for."""
        ...

    async def wait(self) -> int:
        """The leader's exit code (-N for signal N), as soon as it exits, even if processes it
        left behind still hold its output pipes."""
        ...

    async def stop(self, grace: float) -> None:
        """Stop the whole tree: SIGTERM, up to `grace` seconds, then SIGKILL."""
        ...

    def send(self, sig: int) -> None:
        """Send `sig` to the command alone (a CLI's own "stop now"); nothing if it is gone."""
        ...

    def limit_hit(self) -> LimitHit | None:
        """After the exit: which sandbox limit ended it, if one did."""
        ...

    def inside_pid(self) -> int | None:
        """A process on this host inside the sandbox's namespaces (its network's, for a bridge
        to a server inside); None when it shares the host's, or has ended."""
        ...

    def sample(self) -> Sample | None:
        """The tree's resource use now; None when not measured."""
        ...

    async def reap_leftovers(self, grace: float) -> None:
        """After the leader exited: stop whatever it left behind, so the pipes reach EOF."""
        ...


class Launcher(Protocol):
    name: str

    async def launch(self, spec: LaunchSpec) -> Launched: ...


class ExitWatch(asyncio.subprocess.SubprocessStreamProtocol):
    """asyncio's stream protocol, plus an event set when the process itself exits.

    `Process.wait()` only returns once the output pipes are closed too, which never happens while
    a backgrounded descendant holds them: the supervisor must learn of the exit before that."""

    def __init__(self, limit: int, loop: asyncio.AbstractEventLoop) -> None:
        super().__init__(limit=limit, loop=loop)
        self.exited = asyncio.Event()

    def process_exited(self) -> None:
        self.exited.set()
        super().process_exited()


class PlainProcess:
    """A child process in its own session, stopped as a tree via `proctree`."""

    def __init__(self, proc: asyncio.subprocess.Process, protocol: ExitWatch, tag: str) -> None:
        assert proc.stdout is not None and proc.stderr is not None
        self._proc = proc
        self._protocol = protocol
        self.tag = tag
        self.pid: int | None = proc.pid
        self.start_time: int | None = proctree.start_time(proc.pid)
        self.stdout: asyncio.StreamReader = proc.stdout
        self.stderr: asyncio.StreamReader = proc.stderr
        self._feeder: asyncio.Task[None] | None = None

    def feed(self, data: Stdin) -> None:
        assert self._proc.stdin is not None
        self._feeder = asyncio.create_task(_feed(self._proc.stdin, data))

    @property
    def returncode(self) -> int | None:
        return self._proc.returncode

    async def started(self) -> bool:
        # The spawn returned once the exec succeeded (subprocess waits for it).
        return True

    async def wait(self) -> int:
        await self._protocol.exited.wait()
        code = self._proc.returncode
        assert code is not None
        return code

    async def stop(self, grace: float) -> None:
        await self._kill_tree(grace)

    def send(self, sig: int) -> None:
        if self._proc.returncode is None:
            with contextlib.suppress(ProcessLookupError):
                self._proc.send_signal(sig)

    def limit_hit(self) -> LimitHit | None:
        return None

    def inside_pid(self) -> int | None:
        return None  # no namespace of its own: the host's network

    def sample(self) -> Sample | None:
        return None

    async def reap_leftovers(self, grace: float) -> None:
        await self._kill_tree(grace)

    async def _kill_tree(self, grace: float) -> None:
        assert self.pid is not None
        await proctree.kill_tree(self.pid, self.tag, grace, leader_start=self.start_time)
        if self._feeder is not None:
            if not self._feeder.done():
                self._feeder.cancel()
            # Awaited even when done, so its outcome is retrieved and never logged as lost.
            with contextlib.suppress(asyncio.CancelledError):
                await self._feeder


async def _feed(stdin: asyncio.StreamWriter, later: Stdin) -> None:
    """Write stdin then close it; a process that exits or never reads must not block anyone."""
    # A child that exits first closes the pipe under us: its transport may already be gone
    # (RuntimeError from the loop) or broken; either way there is nobody left to feed.
    gone = (BrokenPipeError, ConnectionResetError, RuntimeError)
    data = await stdin_bytes(later)
    if stdin.is_closing():
        return
    try:
        if data:
            stdin.write(data)
            await stdin.drain()
    except gone:
        pass
    finally:
        with contextlib.suppress(*gone):
            stdin.close()
            await stdin.wait_closed()


class PlainLauncher:
    """Sandbox "none": a plain child process, leader of its own session and process group."""

    name = "none"

    def __init__(self, stream_limit: int = DEFAULT_STREAM_LIMIT) -> None:
        self.stream_limit = stream_limit

    async def launch(self, spec: LaunchSpec) -> PlainProcess:
        if not spec.argv:
            raise LaunchError("empty command")
        env = {**spec.env, TAG_VARIABLE: spec.tag}
        stdin_pipe = spec.stdin is not None
        proc, protocol = await self.spawn(
            spec.argv, spec.cwd, env, stdin_pipe=stdin_pipe, pass_fds=spec.pass_fds
        )
        launched = PlainProcess(proc, protocol, spec.tag)
        if spec.stdin is not None:
            launched.feed(spec.stdin)
        return launched

    async def spawn(
        self,
        argv: list[str],
        cwd: Path,
        env: dict[str, str],
        *,
        stdin_pipe: bool,
        pass_fds: tuple[int, ...] = (),
    ) -> tuple[asyncio.subprocess.Process, ExitWatch]:
        """Start `argv` in a new session, output piped; errors as `LaunchError`."""
        if not _is_dir(cwd):
            raise LaunchError(f"working directory {cwd} does not exist", code="cwd_missing")
        loop = asyncio.get_running_loop()
        limit = self.stream_limit

        def protocol_factory() -> ExitWatch:
            return ExitWatch(limit, loop)

        program = argv[0]
        try:
            transport, protocol = await loop.subprocess_exec(
                protocol_factory,
                *argv,
                cwd=cwd,
                env=env,
                stdin=asyncio.subprocess.PIPE if stdin_pipe else asyncio.subprocess.DEVNULL,
                stdout=asyncio.subprocess.PIPE,
                stderr=asyncio.subprocess.PIPE,
                start_new_session=True,
                pass_fds=pass_fds,
            )
        except FileNotFoundError as exc:
            if not _is_dir(cwd):
                raise LaunchError(
                    f"working directory {cwd} does not exist", code="cwd_missing"
                ) from exc
            raise LaunchError(f"command not found: {program}", program=program) from exc
        except PermissionError as exc:
            raise LaunchError(f"permission denied running {program}", program=program) from exc
        except OSError as exc:
            raise LaunchError(
                f"cannot run {program}: {exc.strerror or exc}", program=program
            ) from exc
        return asyncio.subprocess.Process(transport, protocol, loop), protocol


def _is_dir(path: Path) -> bool:
    return Path(path).is_dir()
