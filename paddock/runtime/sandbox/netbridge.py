"""Reaching a TCP server inside a sandbox whose network is "none" (loopback only).

A sandbox with network "none" has its own network namespace: its 127.0.0.1 is not the host's.
The bridge is a small process Paddock starts on the host side: it opens its listening socket in
the host's namespace first, then joins the sandbox's namespaces (`setns()` into
/proc/<pid>/ns/user when the sandbox has its own user namespace, then /proc/<pid>/ns/net), so
every connection it makes from then on starts inside the sandbox. Sockets keep the namespace
they were made in: one process relays between the two. Nothing runs inside the sandbox, the app
needs no change (a plain TCP dev server on 127.0.0.1:PORT), and the sandbox still reaches
nothing outside. See docs/decisions/007-network-none-bridge.md.

The bytes are relayed by HAProxy when it is installed: in TCP mode on that socket (event-driven,
in C, one process however many connections: previews at native speed, docs/decisions/018). With
`nsenter` at hand (util-linux, as network "private" needs anyway) the server makes the listening
socket itself and hands it to `nsenter`, which joins the namespaces and execs HAProxy: no Python
interpreter starts on a preview's way to ready (that took ~80 ms of every bridged start). Else
this module runs as a process of its own: it makes the socket, joins the namespaces, then
becomes HAProxy, or (without HAProxy) relays the bytes itself on its asyncio loop.

Run as `python -m paddock.runtime.sandbox.netbridge PID PORT LISTEN_PATH` (a Unix socket path).
"""

from __future__ import annotations

import asyncio
import contextlib
import ctypes
import os
import shutil
import signal
import socket
import sys
from pathlib import Path

from paddock.runtime import haproxy, proctree

CLONE_NEWUSER = 0x10000000
CLONE_NEWNET = 0x40000000
READY = b"ready\n"
SOCAT_START_TIMEOUT = 5.0


def _setns(path: str, kind: int) -> None:
    libc = ctypes.CDLL(None, use_errno=True)
    fd = os.open(path, os.O_RDONLY)
    try:
        if libc.setns(fd, kind) != 0:
            err = ctypes.get_errno()
            raise OSError(err, f"setns({path}): {os.strerror(err)}")
    finally:
        os.close(fd)


def _own_user_namespace(pid: int) -> bool:
    return os.stat(f"/proc/{pid}/ns/user").st_ino != os.stat("/proc/self/ns/user").st_ino


def join_network_of(pid: int) -> None:
    """Join the network namespace of `pid` (and first its user namespace, when it has its own:
    the network namespace belongs to it). Must run before any thread is started."""
    if _own_user_namespace(pid):
        _setns(f"/proc/{pid}/ns/user", CLONE_NEWUSER)
    _setns(f"/proc/{pid}/ns/net", CLONE_NEWNET)


async def _pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    try:
        while data := await reader.read(65536):
            writer.write(data)
            await writer.drain()
    except (ConnectionError, OSError):
        pass
    finally:
        with contextlib.suppress(ConnectionError, OSError):
            writer.close()


async def _serve(listener: socket.socket, port: int) -> None:
    async def relay(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            inner_reader, inner_writer = await asyncio.open_connection("127.0.0.1", port)
        except OSError:
            writer.close()
            return
        await asyncio.gather(_pipe(reader, inner_writer), _pipe(inner_reader, writer))

    server = await asyncio.start_unix_server(relay, sock=listener)
    async with server:
        await server.serve_forever()


RELAY_CONFIG = """\
global
    log stderr format raw local0 err
defaults
    mode tcp
    # A refused connection is answered at once (readiness probes ask again); HAProxy's retries
    # would wait a second each.
    retries 0
    timeout connect 10s
    timeout client 24h
    timeout server 24h
    timeout client-fin 5s
    timeout server-fin 5s
listen bridge
    bind fd@{fd}
    server app 127.0.0.1:{port}
"""


def _become_haproxy(binary: str, listener: socket.socket, port: int, path: Path) -> None:
    """Exec HAProxy relaying `listener` (already listening) to 127.0.0.1:`port` in this
    process's network. READY first: connections wait in the backlog until HAProxy takes them."""
    config = path.with_name(path.name + ".cfg")
    config.write_text(RELAY_CONFIG.format(fd=listener.fileno(), port=port))
    listener.set_inheritable(True)
    sys.stdout.buffer.write(READY)
    sys.stdout.flush()
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, 1)
    os.dup2(devnull, 2)  # nobody reads the bridge's output any more
    os.execv(binary, [binary, "-f", str(config), "-db"])


def main(argv: list[str]) -> int:
    pid, port, path = int(argv[0]), int(argv[1]), Path(argv[2])
    relay = haproxy.binary()
    path.unlink(missing_ok=True)
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    listener.bind(str(path))  # in the host's namespace: made before setns
    listener.listen(128)
    try:
        join_network_of(pid)
    except OSError as exc:
        print(f"netbridge: {exc}", file=sys.stderr, flush=True)
        return 1
    if relay is not None:
        _become_haproxy(relay, listener, port, path)
    sys.stdout.buffer.write(READY)
    sys.stdout.flush()
    asyncio.run(_serve(listener, port))
    return 0


class Bridge:
    """The host side's handle: a Unix socket whose connections reach PORT in the sandbox."""

    def __init__(self, process: asyncio.subprocess.Process, path: Path) -> None:
        self.process = process
        self.path = path

    @classmethod
    async def open(cls, sandbox_pid: int, port: int, path: Path) -> Bridge:
        """Start the bridge to `port` inside the sandbox whose process is `sandbox_pid`."""
        relay, nsenter = haproxy.binary(), shutil.which("nsenter")
        if relay is not None and nsenter is not None:
            return await cls._open_entered(nsenter, relay, sandbox_pid, port, path)
        process = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "paddock.runtime.sandbox.netbridge",
            str(sandbox_pid),
            str(port),
            str(path),
            stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
            start_new_session=True,
            preexec_fn=proctree.die_with_parent,  # and none outlives the server
        )
        return await cls._ready(process, path)

    @classmethod
    async def _open_entered(
        cls, nsenter: str, relay: str, sandbox_pid: int, port: int, path: Path
    ) -> Bridge:
        """The bridge as `nsenter` → HAProxy: the listening socket made here, in the host's
        namespace, and inherited; `nsenter` joins the sandbox's user namespace (when it has
        its own: the network's owner) and network, then a shell says READY and execs HAProxy
        (connections wait in the backlog until it takes them). A sandbox gone meanwhile makes
        `nsenter` fail: no READY, an OSError."""
        namespaces = [f"--net=/proc/{sandbox_pid}/ns/net"]
        if _own_user_namespace(sandbox_pid):
            namespaces = [f"--user=/proc/{sandbox_pid}/ns/user", "--preserve-credentials"]
            namespaces.append(f"--net=/proc/{sandbox_pid}/ns/net")
        path.unlink(missing_ok=True)
        listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            listener.bind(str(path))
            listener.listen(128)
            config = path.with_name(path.name + ".cfg")
            config.write_text(RELAY_CONFIG.format(fd=listener.fileno(), port=port))
            # Nobody reads HAProxy's output: it goes nowhere (a full pipe would block it).
            script = 'printf "ready\\n"; exec "$0" "$@" >/dev/null 2>&1'
            process = await asyncio.create_subprocess_exec(
                nsenter,
                *namespaces,
                "--",
                "/bin/sh",
                "-c",
                script,
                relay,
                "-f",
                str(config),
                "-db",
                stdin=asyncio.subprocess.DEVNULL,
                stdout=asyncio.subprocess.PIPE,
                stderr=asyncio.subprocess.PIPE,
                pass_fds=(listener.fileno(),),
                start_new_session=True,
                preexec_fn=proctree.die_with_parent,  # and none outlives the server
            )
        except BaseException:
            _remove(path)
            raise
        finally:
            listener.close()  # HAProxy holds its own copy: it alone answers from now on
        return await cls._ready(process, path)

    @classmethod
    async def _ready(cls, process: asyncio.subprocess.Process, path: Path) -> Bridge:
        assert process.stdout is not None and process.stderr is not None
        line = await process.stdout.readline()
        if line != READY:
            error = (await process.stderr.read()).decode(errors="replace").strip()
            await process.wait()
            _remove(path)
            raise OSError(f"the network bridge did not start: {error or 'no reason given'}")
        return cls(process, path)

    async def close(self) -> None:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self.process.pid, signal.SIGKILL)
        await self.process.wait()
        _remove(self.path)


def _remove(path: Path) -> None:
    """A bridge's socket and its HAProxy config."""
    path.unlink(missing_ok=True)
    path.with_name(path.name + ".cfg").unlink(missing_ok=True)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
