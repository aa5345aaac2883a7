"""One run of a preview's dev service: a port, its process, readiness, what its log says.

The port comes from the configured range, reserved in the database and checked free; the dev
server gets it as PORT (and `{port}` in its command) with HOST=127.0.0.1. A server that says
its address is in use is started again on another port (up to three ports). One that ignores
PORT and prints its own local URL is followed there, once the port is seen to be its own (a
listener of its process tree: never a port some other program holds). With network "none" or
"private" the server is reached through a bridge into its sandbox (runtime/sandbox/netbridge.py).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy.orm import Session

from paddock.agents.script import shell_argv
from paddock.domain.entities import Attempt, Process
from paddock.domain.errors import Unavailable
from paddock.domain.names import new_debug_id, new_id
from paddock.domain.preview import (
    Preview,
    PreviewStatus,
    port_in_log,
    says_address_in_use,
    substitute_port,
)
from paddock.domain.states import LogStream, ProcessStatus, RunReason
from paddock.runtime import peers, proctree
from paddock.runtime.launcher import InsideNetwork
from paddock.runtime.linesplit import Piece
from paddock.runtime.ports import PortRange, free_ports
from paddock.runtime.readiness import Upstream, wait_until_ready
from paddock.runtime.sandbox.netbridge import Bridge
from paddock.runtime.sandbox.private_network import Opener, forward_inside
from paddock.services.context import Context
from paddock.services.processes.logs import LogService
from paddock.services.processes.process_request import ProcessObservers, ProcessRequest
from paddock.services.processes.processes import ProcessService
from paddock.store import previews as store

log = logging.getLogger("paddock.previews")

PORT_TRIES = 3
LAST_LINES = 20


@dataclass
class RunPlan:
    """What a run of one service needs."""

    attempt: Attempt
    command: str  # may hold {port}
    env: dict[str, str]  # DATABASE_URL, the other services' URLs
    writable: list[Path] = field(default_factory=list)
    own_network: bool = False  # network "none" or "private": reached through a bridge
    port: int | None = None  # already reserved (the services of a start share their ports)
    bridge_dir: Path | None = None  # where a bridged preview's socket goes
    # Network "private": what the server relays from the sandbox's 127.0.0.1:<port> (its
    # database on the host's loopback, the attempt's other services).
    forwards: dict[int, Opener] = field(default_factory=dict)


Changed = Callable[[Preview], Awaitable[None]]


class ServiceRun:
    """Runs one dev service until it ends; `upstream` is where the proxy reaches it."""

    def __init__(
        self,
        ctx: Context,
        processes: ProcessService,
        preview: Preview,
        plan: RunPlan,
        changed: Changed,
    ) -> None:
        self.ctx = ctx
        self.processes = processes
        self.preview = preview
        self.plan = plan
        self.changed = changed
        self.port: int | None = plan.port
        self.upstream: Upstream | None = None  # set once running
        self.process_id: str | None = None
        self.stopping = False
        self._stop_notice: str | None = None
        self._logged_port: int | None = None
        self._in_use = False
        self._bridge: Bridge | None = None
        self._forwards: list[asyncio.Server] = []
        self._process: asyncio.Task[Process] | None = None
        self._watcher: asyncio.Task[None] | None = None

    # -- start ---------------------------------------------------------------------------------

    async def start(self) -> Preview:
        """Start the dev server; return once it answers, or has failed."""
        try:
            return await self._start()
        except Exception as exc:
            log.exception("preview %s could not start", self.preview.id)
            return await self._failed(f"the preview could not start: {exc}")

    async def _start(self) -> Preview:
        for attempt_no in range(PORT_TRIES):
            if self.port is None:
                self.port = await reserve_port(self.ctx, self.preview.id)
            gone = await self._launch(self.port)
            target = self._target
            result = await wait_until_ready(
                target,
                gone=gone,
                timeout=self.ctx.settings.previews.ready_timeout_s,
                path=self.ctx.settings.previews.ready_path,
                statuses=frozenset(self.ctx.settings.previews.ready_statuses),
            )
            if self.stopping:
                return await self._ended(PreviewStatus.stopped)
            if result.ready:
                return await self._running()
            if gone.is_set() and self._in_use and attempt_no < PORT_TRIES - 1:
                log.info(
                    "preview %s: port %s was taken; trying another", self.preview.id, self.port
                )
                self.port = None
                await self._release_port()
                continue
            return await self._failed(result.reason)
        raise AssertionError("unreachable")

    async def _launch(self, port: int) -> asyncio.Event:
        self.process_id = new_id()
        self._logged_port, self._in_use = None, False
        self.preview = await self._update(process_id=self.process_id)
        gone = asyncio.Event()
        env = {**self.plan.env, "PORT": str(port), "HOST": "127.0.0.1"}
        forwards = {p: o for p, o in self.plan.forwards.items() if p != port}
        self._process = asyncio.create_task(
            self.processes.run(
                self.plan.attempt,
                ProcessRequest(
                    RunReason.dev_server,
                    shell_argv(substitute_port(self.plan.command, port)),
                    env=env,
                    writable=self.plan.writable,
                    process_id=self.process_id,
                    on_network=self._forwarder(forwards) if forwards else None,
                ),
                ProcessObservers(lines=self._observe),
            )
        )
        self._process.add_done_callback(lambda _: gone.set())
        self._process.add_done_callback(lambda _: self._close_forwards())
        return gone

    def _forwarder(self, forwards: dict[int, Opener]) -> Callable[[InsideNetwork], Awaitable[None]]:
        async def open_forwards(network: InsideNetwork) -> None:
            for inside, opener in forwards.items():
                self._forwards.append(await forward_inside(network, inside, opener))

        return open_forwards

    def _close_forwards(self) -> None:
        servers, self._forwards = self._forwards, []
        for server in servers:
            server.close()

    def _observe(self, stream: LogStream, pieces: list[Piece]) -> None:
        if stream is LogStream.system:
            return
        for piece in pieces:
            for line in piece.data.decode("utf-8", "replace").splitlines():
                if says_address_in_use(line):
                    self._in_use = True
                found = port_in_log(line)
                if found is not None and self._logged_port is None:
                    self._logged_port = found

    async def _target(self) -> Upstream | None:
        """Where to knock: the given port, or the one the server printed once it is its own."""
        port = self.port
        logged = self._logged_port
        if logged is not None and logged != port and self._owns(logged):
            port = logged
        if port is None:
            return None
        if not self.plan.own_network:
            return Upstream(port)
        return await self._bridged(port)

    def _owns(self, port: int) -> bool:
        if self.process_id is None:
            return False
        if self.plan.own_network:
            return True  # its own network: no one else's listener can be there
        return peers.listens_on(port, proctree.find_tagged(self.process_id))

    async def _bridged(self, port: int) -> Upstream | None:
        bridge = self._bridge
        if bridge is not None and bridge.path.name.endswith(f"-{port}.sock"):
            return Upstream(port, bridge.path)
        inside = self.processes.inside_pid(self.process_id or "")
        if inside is None:
            return None
        await self._close_bridge()
        assert self.plan.bridge_dir is not None
        # Short: a Unix socket's path has room for 107 bytes.
        path = self.plan.bridge_dir / f"{self.preview.id[:12]}-{port}.sock"
        try:
            self._bridge = await Bridge.open(inside, port, path)
        except OSError as exc:
            log.debug("preview %s: no bridge yet: %s", self.preview.id, exc)
            return None  # the sandbox's process went away meanwhile: next try
        return Upstream(port, path)

    async def _running(self) -> Preview:
        upstream = await self._target()
        assert upstream is not None
        self.upstream = upstream
        notice = None
        if upstream.port != self.port:
            notice = (
                f"the dev server ignored PORT={self.port} and listens on {upstream.port} "
                "(see docs/previews.md on writing dev scripts)"
            )
        self.preview = await self._update(status=PreviewStatus.running, notice=notice)
        self._watcher = asyncio.create_task(self._watch())
        return self.preview

    # -- while it runs --------------------------------------------------------------------------

    async def _watch(self) -> None:
        """The dev server's end ends the preview: stopped when asked to, else failed."""
        assert self._process is not None
        proc = await asyncio.shield(self._process)
        if self.stopping or proc.status is ProcessStatus.stopped:
            await self._ended(PreviewStatus.stopped)
        else:
            await self._failed(f"the dev server {proc.error or 'exited'}")

    async def stop(self, notice: str | None = None) -> None:
        """Stop the dev server (and wait for it); `notice` says why, with the stop itself."""
        self.stopping = True
        self._stop_notice = notice
        if self.process_id is not None and self._process is not None:
            with contextlib.suppress(Exception):
                await self.processes.stop(self.process_id)
            with contextlib.suppress(Exception):
                await asyncio.shield(self._process)
        if self._watcher is not None:
            await asyncio.wait([self._watcher])
        elif self.preview.status.active:
            await self._ended(PreviewStatus.stopped)

    # -- endings ---------------------------------------------------------------------------------

    async def _failed(self, reason: str) -> Preview:
        if self._process is not None and not self._process.done() and self.process_id:
            with contextlib.suppress(Exception):
                await self.processes.stop(self.process_id)
        tail = await self._last_lines()
        debug_id = new_debug_id()
        log.warning("preview %s failed: %s (debug id %s)", self.preview.id, reason, debug_id)
        error = reason + (f"\nlast lines of its log:\n{tail}" if tail else "")
        return await self._ended(PreviewStatus.failed, error=error, debug_id=debug_id)

    async def _ended(
        self, status: PreviewStatus, *, error: str | None = None, debug_id: str | None = None
    ) -> Preview:
        await self._close_bridge()
        self.upstream = None
        if self.preview.status == status:
            return self.preview
        changes: dict[str, object] = {"status": status, "error": error, "debug_id": debug_id}
        if status is PreviewStatus.stopped and self._stop_notice is not None:
            changes["notice"] = self._stop_notice  # in the same update: no moment without it
        self.preview = await self._update(**changes)
        return self.preview

    async def _last_lines(self) -> str:
        if self.process_id is None:
            return ""
        if self._process is not None:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(asyncio.shield(self._process), 5)
        lines = await LogService(self.ctx).tail(self.process_id, LAST_LINES)
        return "\n".join(line.text for line in lines)

    async def _close_bridge(self) -> None:
        if self._bridge is not None:
            bridge, self._bridge = self._bridge, None
            await bridge.close()

    async def _release_port(self) -> None:
        await self.ctx.db.run(lambda s: store.release_port(s, self.preview.id))

    async def _update(self, **changes: object) -> Preview:
        preview_id = self.preview.id
        preview = await self.ctx.db.run(
            lambda s: store.update_preview(s, preview_id, **changes)  # type: ignore[arg-type]
        )
        self.preview = preview
        await self.changed(preview)
        return preview


async def reserve_port(ctx: Context, preview_id: str) -> int:
    """A free port of the range, held for the preview in the database."""
    ports = PortRange.parse(ctx.settings.previews.ports)

    def reserve(session: Session) -> int | None:
        for port in free_ports(ports, store.taken_ports(session)):
            if store.reserve_port(session, preview_id, port):
                return port
        return None

    port = await ctx.db.run(reserve)
    if port is None:
        raise Unavailable(
            f"no free port left in {ctx.settings.previews.ports} (preview_ports)",
            code="no_free_port",
        )
    return port
