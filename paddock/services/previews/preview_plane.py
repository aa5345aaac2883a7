"""The previews' data plane: where a browser's requests to `<host>.<domain>:<plane port>` are
served (docs/decisions/018-a-native-preview-data-plane.md).

At start the server binds the plane's port (the server's port + 1 unless `preview_plane_port`
says otherwise) and serves it with its own preview gate. The first running preview starts
HAProxy on the same socket (runtime/haproxy.py); from then on HAProxy serves it, and every
running preview is published to it: its host, its key, its upstream. A request HAProxy may not
let through itself goes to the gate (a Unix socket), so tickets, test runs' keys and error pages
stay Paddock's. Without HAProxy (not installed, `preview_plane = "in_process"`, the port taken)
previews are served by the server itself on its own port, as before.
"""

from __future__ import annotations

import asyncio
import contextlib
import csv
import io
import logging
import shutil
import socket
import tempfile
from dataclasses import dataclass
from pathlib import Path

from paddock.config import Settings
from paddock.domain.preview import Preview
from paddock.runtime import haproxy
from paddock.runtime.haproxy import HAProxy, PlaneConfig, PlaneError
from paddock.runtime.readiness import Upstream
from paddock.services.previews.preview_gate import PreviewGate, Served

log = logging.getLogger("paddock.plane")

DIR_PREFIX = "paddock-plane-"
# Idle upstream connections kept for reuse (dynamic servers keep none unless told).
SERVER_OPTIONS = "pool-max-conn 1024 pool-purge-delay 30s"


@dataclass(slots=True)
class _Published:
    slot: int
    server: str
    host: str
    key: str
    upstream: Upstream


class PreviewPlane:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.gate: PreviewGate | None = None  # set by the web layer
        self.port: int | None = None  # the plane's port, once bound
        self.problem = ""  # why HAProxy does not serve the previews, when it does not
        self._listener: socket.socket | None = None
        self._in_process: Served | None = None  # the gate on the plane's port, until HAProxy
        self._gate_socket: Served | None = None  # the gate behind HAProxy
        self._dir: Path | None = None
        self._haproxy: HAProxy | None = None
        self._published: dict[str, _Published] = {}  # preview id → its entry
        self._retired: list[str] = []  # "s<slot>/<server>" in maintenance, to delete
        self._servers = 0
        self._lock = asyncio.Lock()
        self._watch: asyncio.Task[None] | None = None
        self._closing = False

    # -- start and stop ----------------------------------------------------------------------------

    async def open(self) -> None:
        """Bind the plane's port, when HAProxy can serve it; else previews stay on the
        server's port."""
        chosen = self.settings.previews.plane
        if chosen == "in_process" or self.gate is None:
            self.problem = "preview_plane is in_process" if self.gate else "no preview gate"
            return
        if haproxy.binary() is None:
            self.problem = "haproxy is not installed"
            if chosen == "haproxy":
                raise PlaneError("preview_plane is haproxy, but haproxy is not installed")
            log.info("previews are served in process: %s", self.problem)
            return
        port = self.settings.previews.plane_port
        if port is None:
            port = self.settings.server.port + 1
        try:
            self._listener = _listen(self.settings.server.host, port)
        except OSError as exc:
            self.problem = f"cannot listen on port {port}: {exc.strerror or exc}"
            if chosen == "haproxy":
                raise PlaneError(self.problem) from exc
            log.warning("previews are served on the server's port: %s", self.problem)
            return
        self.port = self._listener.getsockname()[1]
        self.settings.previews.serving_port = self.port
        # Until the first preview runs: no HAProxy yet.
        self._in_process = await self.gate.serve(self._listener.dup())
        for stale in haproxy.stale_directories(Path(tempfile.gettempdir()), DIR_PREFIX):
            shutil.rmtree(stale, ignore_errors=True)

    async def close(self) -> None:
        self._closing = True
        if self._watch is not None:
            self._watch.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._watch
        async with self._lock:
            for served in (self._in_process, self._gate_socket):
                if served is not None:
                    await served.close()
            self._in_process = self._gate_socket = None
            if self._haproxy is not None:
                await self._haproxy.close()
                self._haproxy = None
            if self._listener is not None:
                self._listener.close()
                self._listener = None
            if self._dir is not None:
                shutil.rmtree(self._dir, ignore_errors=True)
                self._dir = None
            self._published.clear()

    # -- what is served ----------------------------------------------------------------------------

    async def warm(self) -> None:
        """Start HAProxy now, if it will serve previews and does not run yet."""
        if self._listener is None or self.gate is None:
            return
        async with self._lock:
            with contextlib.suppress(PlaneError, OSError):
                await self._running_plane()

    async def publish(self, preview: Preview, key: str, upstream: Upstream) -> None:
        """Serve `preview` (running at `upstream`) through HAProxy."""
        if self._listener is None or self.gate is None:
            return
        host = f"{preview.host}.{self.settings.previews.domain}".lower().strip(".")
        async with self._lock:
            try:
                plane = await self._running_plane()
            except (PlaneError, OSError) as exc:
                self.problem = f"haproxy did not start: {exc}"
                log.warning("previews stay served in process: %s", self.problem)
                return
            current = self._published.get(preview.id)
            if current is not None and (current.key, current.upstream) == (key, upstream):
                return
            if current is not None:
                await self._withdraw(plane, preview.id)
            slot = self._free_slot()
            if slot is None:
                slots = self.settings.previews.plane_slots
                log.warning("all %d plane slots are taken: %s is served in process", slots, host)
                return
            self._servers += 1
            entry = _Published(slot, f"p{self._servers}", host, key, upstream)
            try:
                await self._add(plane, entry)
            except PlaneError as exc:
                log.warning("preview %s is served in process: %s", preview.id, exc)
                return
            self._published[preview.id] = entry

    async def withdraw(self, preview_id: str) -> None:
        """Stop serving a preview through HAProxy (its requests go to Paddock, which says why)."""
        async with self._lock:
            if self._haproxy is not None and preview_id in self._published:
                with contextlib.suppress(PlaneError, OSError):
                    await self._withdraw(self._haproxy, preview_id)

    async def recently_used(self, seconds: float) -> list[str]:
        """The published previews HAProxy sent a request to in the last `seconds`."""
        plane = self._haproxy
        if plane is None or not self._published:
            return []
        try:
            stats = await plane.command("show stat -1 4 -1")
        except OSError:
            return []
        since: dict[str, int] = {}
        for row in csv.DictReader(io.StringIO(stats.lstrip("# "))):
            lastsess = row.get("lastsess") or ""
            if lastsess.lstrip("-").isdigit():
                since[f"{row['pxname']}/{row['svname']}"] = int(lastsess)
        return [
            preview_id
            for preview_id, entry in self._published.items()
            if 0 <= since.get(f"s{entry.slot}/{entry.server}", -1) <= seconds
        ]

    # -- internals ---------------------------------------------------------------------------------

    async def _running_plane(self) -> HAProxy:
        plane = self._haproxy
        if plane is not None and plane.running():
            return plane
        if plane is not None:
            await plane.close()
            self._haproxy = None
            self._retired.clear()
        assert self._listener is not None and self.gate is not None
        if self._dir is None:
            self._dir = Path(tempfile.mkdtemp(prefix=DIR_PREFIX))
        gate_path = self._dir / "gate.sock"
        if self._gate_socket is None:
            gate_path.unlink(missing_ok=True)
            unix = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            unix.bind(str(gate_path))
            unix.listen(1024)
            self._gate_socket = await self.gate.serve(unix)
        config = PlaneConfig(
            directory=self._dir,
            gate=gate_path,
            slots=self.settings.previews.plane_slots,
            listen_fd=self._listener.fileno(),
            scheme=self.settings.previews.scheme,
        )
        self._haproxy = plane = await HAProxy.start(config)
        for preview_id, entry in list(self._published.items()):  # after a restart
            try:
                await self._add(plane, entry)
            except PlaneError as exc:
                log.warning("preview %s is served in process: %s", preview_id, exc)
                del self._published[preview_id]
        if self._in_process is not None:  # HAProxy accepts on the socket now
            in_process, self._in_process = self._in_process, None
            await in_process.close()
        self.problem = ""
        self._watch = asyncio.create_task(self._restart_when_gone(plane))
        log.info("haproxy serves the previews on port %s", self.port)
        return plane

    async def _restart_when_gone(self, plane: HAProxy) -> None:
        """HAProxy died: the server serves the port itself at once, then starts it again."""
        code = await plane.process.wait()
        if self._closing:
            return
        log.warning("haproxy exited with %s: serving previews in process, restarting it", code)
        async with self._lock:
            if self._haproxy is not plane or self._listener is None or self.gate is None:
                return
            if self._in_process is None:
                self._in_process = await self.gate.serve(self._listener.dup())
            try:
                await self._running_plane()
            except (PlaneError, OSError) as exc:
                self.problem = f"haproxy did not start again: {exc}"
                log.warning("previews stay served in process: %s", self.problem)

    def _free_slot(self) -> int | None:
        taken = {entry.slot for entry in self._published.values()}
        return next((s for s in range(self.settings.previews.plane_slots) if s not in taken), None)

    async def _add(self, plane: HAProxy, entry: _Published) -> None:
        name = f"s{entry.slot}/{entry.server}"
        address = haproxy.server_address(entry.upstream)
        added = f"add server {name} {address} {SERVER_OPTIONS}"
        await _expect(plane, added, "New server registered")
        await _expect(plane, f"enable server {name}", "")
        value = f"s{entry.slot}/{entry.key}/{entry.upstream.port}"
        assert self._dir is not None
        await _expect(plane, f"add map {self._dir / 'hosts.map'} {entry.host} {value}", "")

    async def _withdraw(self, plane: HAProxy, preview_id: str) -> None:
        entry = self._published.pop(preview_id)
        name = f"s{entry.slot}/{entry.server}"
        assert self._dir is not None
        await plane.command(f"del map {self._dir / 'hosts.map'} {entry.host}")
        await plane.command(f"set server {name} state maint")
        await plane.command(f"shutdown sessions server {name}")
        self._retired.append(name)
        await self._delete_retired(plane)

    async def _delete_retired(self, plane: HAProxy) -> None:
        """Servers go once HAProxy has no connection left to them."""
        kept = []
        for name in self._retired:
            answer = await plane.command(f"del server {name}")
            if "Server deleted" not in answer:
                kept.append(name)
        self._retired = kept


async def _expect(plane: HAProxy, command: str, answer: str) -> None:
    got = (await plane.command(command)).strip()
    if answer not in got or (not answer and got):
        raise PlaneError(f"haproxy refused {command.split(' ', 2)[:2]}: {got}")


def _listen(host: str, port: int) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
        sock.listen(1024)
    except OSError:
        sock.close()
        raise
    sock.set_inheritable(False)
    return sock
