"""Reaching a TCP server inside a sandbox whose network is "none" (loopback only).

A sandbox with network "none" has its own network namespace: its 127.0.0.1 is not the host's.
The bridge is a small process Paddock starts on the host side: it opens its listening socket in
the host's namespace first, then joins the sandbox's namespaces (`setns()` into
/proc/<pid>/ns/user when the sandbox has its own user namespace, then /proc/<pid>/ns/net), so
every connection it makes from then on starts inside the sandbox. Sockets keep the namespace
they were made in: one process relays between the two. Nothing runs inside the sandbox, the app
needs no change (a plain TCP dev server on 127.0.0.1:PORT), and the sandbox still reaches
nothing outside. See docs/decisions/007-network-none-bridge.md.

Run as `python -m paddock.runtime.sandbox.netbridge PID PORT LISTEN_PATH` (a Unix socket path).
"""

from __future__ import annotations

import asyncio
import contextlib
import ctypes
import os
import socket
import sys
from pathlib import Path

CLONE_NEWUSER = 0x10000000
CLONE_NEWNET = 0x40000000
READY = b"ready\n"


def _setns(path: str, kind: int) -> None:
    libc = ctypes.CDLL(None, use_errno=True)
    fd = os.open(path, os.O_RDONLY)
    try:
        if libc.setns(fd, kind) != 0:
            err = ctypes.get_errno()
            raise OSError(err, f"setns({path}): {os.strerror(err)}")
    finally:
        os.close(fd)


def join_network_of(pid: int) -> None:
    """Join the network namespace of `pid` (and first its user namespace, when it has its own:
    the network namespace belongs to it). Must run before any thread is started."""
    if os.stat(f"/proc/{pid}/ns/user").st_ino != os.stat("/proc/self/ns/user").st_ino:
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


def main(argv: list[str]) -> int:
    pid, port, path = int(argv[0]), int(argv[1]), Path(argv[2])
    path.unlink(missing_ok=True)
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    listener.bind(str(path))  # in the host's namespace: made before setns
    listener.listen(128)
    try:
        join_network_of(pid)
    except OSError as exc:
        print(f"netbridge: {exc}", file=sys.stderr, flush=True)
        return 1
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
        )
        assert process.stdout is not None and process.stderr is not None
        line = await process.stdout.readline()
        if line != READY:
            error = (await process.stderr.read()).decode(errors="replace").strip()
            await process.wait()
            raise OSError(f"the network bridge did not start: {error or 'no reason given'}")
        return cls(process, path)

    async def close(self) -> None:
        if self.process.returncode is None:
            self.process.kill()
        await self.process.wait()
        self.path.unlink(missing_ok=True)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
