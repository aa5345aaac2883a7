"""An attempt's channel to Paddock: a Unix socket that exists while the attempt's agent runs a
turn, shown to that turn's sandbox alone (docs/decisions/021-attempt-mcp-channel.md).

The socket is the capability: whoever connects to it speaks for its attempt, and for nothing
else, so what it serves is fixed here by which socket a connection came in on, never by what
the connection says. What it serves is given by the layer above (`server`: mcp/attempt_channel.py
sets it when the web app starts); without one, or when the project turned its channel off
(`Project.agent_channel`), a turn gets none.

Where: `<data dir>/channels/<attempt id>/mcp.sock`. The data dir is hidden in every sandbox
(services/sandbox/sandboxing.py); the attempt's own channel dir is bound back into its turn's
sandbox, read-only (connecting to a socket needs no writable mount), at the same path. On the
host, `channels/` is the server's alone (0700); an attempt's dir and socket let the sandbox's
user in by group (0710 and 0660, as root) or are the server's own (0700 and 0600, when sandboxes
run as the server's user).
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
import socket
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path

import anyio
import anyio.abc

from paddock.agents.channel_relay import RELAY_NAME, relay_source
from paddock.domain.entities import Attempt
from paddock.services.context import Context, log
from paddock.store import projects as project_store

ChannelHandler = Callable[[anyio.abc.ByteStream], Awaitable[None]]
# Given an attempt's id, once per turn: what serves each connection of that attempt's channel.
ChannelServer = Callable[[str], ChannelHandler]

SOCKET_NAME = "mcp.sock"
MAX_CONNECTIONS = 8  # at once, per channel: a CLI opens one per session (and its sub-agents)


class AgentChannels:
    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx
        self.server: ChannelServer | None = None
        # Makes the server ready ahead for a CLI that will speak MCP on its channel (the
        # SDK's import): set with `server`.
        self.warm_up: Callable[[], None] | None = None
        self._open: set[str] = set()

    @property
    def root(self) -> Path:
        return self.ctx.settings.storage.data_dir / "channels"

    def path(self, attempt_id: str) -> Path:
        return self.root / attempt_id / SOCKET_NAME

    def reap_stale(self) -> None:
        """At start-up (blocking): no turn runs yet, so every channel left is a dead one's."""
        shutil.rmtree(self.root, ignore_errors=True)

    @contextlib.asynccontextmanager
    async def open(self, attempt: Attempt) -> AsyncIterator[Path | None]:
        """The attempt's channel, served while the context is open (one agent turn); None when
        there is none to offer. A turn of an attempt whose channel is open already (turns of
        one attempt do not overlap) shares it, and the first one closes it."""
        server = self.server
        if server is None or attempt.id in self._open:
            yield self.path(attempt.id) if attempt.id in self._open else None
            return
        project = await self.ctx.db.run(lambda s: project_store.get_project(s, attempt.project_id))
        if not project.agent_channel:
            yield None
            return
        sock = await anyio.to_thread.run_sync(self._bind, attempt.id)
        self._open.add(attempt.id)
        serving: asyncio.Task[None] | None = None
        try:
            listener = await anyio.abc.SocketListener.from_socket(sock)
            # A task of its own, not a task group around the turn: what the turn raises (a
            # vanished worktree, say) reaches its callers as itself, not in an ExceptionGroup.
            serving = asyncio.get_running_loop().create_task(
                self._serve(attempt.id, listener, server(attempt.id))
            )
            yield self.path(attempt.id)
        finally:
            self._open.discard(attempt.id)
            with anyio.CancelScope(shield=True):  # a cancelled turn's channel goes too
                if serving is not None:
                    serving.cancel()  # its connections end with the turn
                    with contextlib.suppress(asyncio.CancelledError):
                        await serving
                sock.close()
                await anyio.to_thread.run_sync(self._remove, attempt.id)

    def _bind(self, attempt_id: str) -> socket.socket:
        """The attempt's socket, listening, in a dir made for it (blocking)."""
        self.root.mkdir(mode=0o700, parents=True, exist_ok=True)
        os.chmod(self.root, 0o700)
        self._remove(attempt_id)  # a channel a killed turn left
        folder = self.path(attempt_id).parent
        folder.mkdir(mode=0o700)
        user = self.ctx.sandboxes.user if self.ctx.sandboxes.sandbox_uid() is not None else None
        fd = os.open(folder, os.O_PATH | os.O_DIRECTORY | os.O_NOFOLLOW)
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            _write_relay(fd, user.gid if user is not None else None)  # there before the socket
            # Through the dir's descriptor: a socket path is at most 107 bytes, a data dir's
            # may be longer.
            sock.bind(f"/proc/self/fd/{fd}/{SOCKET_NAME}")
            if user is not None:  # the sandbox's user gets in by group, and only connects
                os.chown(folder, -1, user.gid)
                os.chmod(folder, 0o710)
                os.chown(SOCKET_NAME, -1, user.gid, dir_fd=fd, follow_symlinks=False)
                os.chmod(SOCKET_NAME, 0o660, dir_fd=fd, follow_symlinks=False)
            else:
                os.chmod(SOCKET_NAME, 0o600, dir_fd=fd, follow_symlinks=False)
            sock.listen(MAX_CONNECTIONS)
        except BaseException:
            sock.close()
            raise
        finally:
            os.close(fd)
        return sock

    def _remove(self, attempt_id: str) -> None:
        shutil.rmtree(self.path(attempt_id).parent, ignore_errors=True)

    async def _serve(
        self, attempt_id: str, listener: anyio.abc.SocketListener, handler: ChannelHandler
    ) -> None:
        """Accept connections until the turn ends; each served in a task of its own, a
        failure of one logged, never the turn's."""
        limit = anyio.Semaphore(MAX_CONNECTIONS)
        async with listener, anyio.create_task_group() as group:
            while True:
                try:
                    stream = await listener.accept()
                except (OSError, anyio.BrokenResourceError) as exc:
                    log.warning("attempt %s: its channel stopped accepting: %s", attempt_id, exc)
                    return
                if limit.value == 0:  # more connections than any CLI opens: refused
                    await stream.aclose()
                    continue
                group.start_soon(self._connection, attempt_id, stream, handler, limit)

    async def _connection(
        self,
        attempt_id: str,
        stream: anyio.abc.ByteStream,
        handler: ChannelHandler,
        limit: anyio.Semaphore,
    ) -> None:
        async with limit, stream:
            try:
                await handler(stream)
            except Exception:
                log.exception("attempt %s: a connection of its channel failed", attempt_id)


def _write_relay(folder_fd: int, gid: int | None) -> None:
    """The relay's copy beside the socket, readable by the sandbox's user (by group) or by the
    server's own."""
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW
    fd = os.open(RELAY_NAME, flags, 0o600, dir_fd=folder_fd)
    try:
        os.write(fd, relay_source())
        if gid is not None:
            os.fchown(fd, -1, gid)
            os.fchmod(fd, 0o640)
    finally:
        os.close(fd)
