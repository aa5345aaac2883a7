"""A container's output and input over its Docker Engine API attach stream.

The attach stream multiplexes stdout and stderr in frames (an 8-byte header: stream id, size).
A thread reads the frames and feeds two `asyncio.StreamReader`s on the loop, so the supervisor
reads a container exactly like a child process's pipes. Each reader is given a small transport
(`_Valve`) so its buffer limit pauses the thread, as a full pipe would pause a child: nothing
is buffered without bound when the supervisor falls behind.

Blocking socket work runs in threads of its own, never on the loop and never in the loop's
default executor (a long-lived read would hold one of its few workers for a process's life).
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
import threading
from collections.abc import Callable
from typing import Any

STDOUT, STDERR = 1, 2  # the attach stream's frame types


def run_in_thread(
    loop: asyncio.AbstractEventLoop, fn: Callable[[], Any], name: str
) -> asyncio.Future[Any]:
    """`fn()` in a new daemon thread; its result (or exception) in the returned future."""
    future: asyncio.Future[Any] = loop.create_future()

    def settle(result: Any, error: BaseException | None) -> None:
        if future.done():
            return
        if error is not None:
            future.set_exception(error)
        else:
            future.set_result(result)

    def body() -> None:
        try:
            result, error = fn(), None
        except BaseException as exc:
            result, error = None, exc
        with contextlib.suppress(RuntimeError):  # the loop is closed: nobody is waiting
            loop.call_soon_threadsafe(settle, result, error)

    threading.Thread(target=body, name=name, daemon=True).start()
    return future


class _Valve(asyncio.ReadTransport):
    """What a StreamReader thinks is its transport: pausing it holds the reader thread."""

    def __init__(self) -> None:
        super().__init__()
        self.open = threading.Event()
        self.open.set()

    def pause_reading(self) -> None:
        self.open.clear()

    def resume_reading(self) -> None:
        self.open.set()

    def is_reading(self) -> bool:
        return self.open.is_set()


def raw_socket(sock: Any) -> socket.socket:
    """The socket under what the SDK's `attach_socket` returns (a SocketIO over a Unix socket,
    a plain socket over TLS)."""
    return getattr(sock, "_sock", sock)  # type: ignore[no-any-return]


class AttachedOutput:
    """The demultiplexed output of one attach stream, fed from a reader thread."""

    def __init__(self, sock: Any, limit: int, loop: asyncio.AbstractEventLoop) -> None:
        self.sock = sock
        self._loop = loop
        self._limit = limit
        self._closed = threading.Event()
        # Bytes handed to the loop but not yet in a reader: bounded too, or the thread could
        # queue far more than the readers' limits before the loop gets to pause it.
        self._in_flight = 0
        self._landed = threading.Condition()
        with contextlib.suppress(OSError):
            # No timeout: a command may read its stdin or print nothing for a long while.
            raw_socket(sock).settimeout(None)
        self.stdout = asyncio.StreamReader(limit=limit, loop=loop)
        self.stderr = asyncio.StreamReader(limit=limit, loop=loop)
        self._valves = {STDOUT: _Valve(), STDERR: _Valve()}
        self.stdout.set_transport(self._valves[STDOUT])
        self.stderr.set_transport(self._valves[STDERR])
        self.done = run_in_thread(loop, self._pump, "paddock-container-output")

    def _pump(self) -> None:
        from docker.utils.socket import frames_iter  # type: ignore[import-untyped]

        readers = {STDOUT: self.stdout, STDERR: self.stderr}
        try:
            for stream, data in frames_iter(self.sock, False):
                reader = readers.get(stream)
                if reader is None or not data:
                    continue
                valve = self._valves[stream]
                while not valve.open.wait(0.2):
                    if self._closed.is_set():
                        return
                with self._landed:
                    while self._in_flight > self._limit and not self._closed.is_set():
                        self._landed.wait(0.2)
                    self._in_flight += len(data)
                self._loop.call_soon_threadsafe(self._land, reader, data)
        except Exception:
            pass  # the stream was closed under us (`close`), or the engine went away
        finally:
            for reader in readers.values():
                with contextlib.suppress(RuntimeError):
                    self._loop.call_soon_threadsafe(reader.feed_eof)

    def _land(self, reader: asyncio.StreamReader, data: bytes) -> None:
        """On the loop: hand `data` to its reader."""
        with self._landed:
            self._in_flight -= len(data)
            self._landed.notify()
        reader.feed_data(data)

    async def finish(self, timeout: float) -> None:
        """Let the remaining output arrive (the engine ends the stream when the container
        exits), for up to `timeout` seconds; then cut the stream."""
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(asyncio.shield(self.done), timeout)
        self.close()
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(asyncio.shield(self.done), 5)

    def close(self) -> None:
        self._closed.set()
        for valve in self._valves.values():
            valve.open.set()
        raw = raw_socket(self.sock)
        with contextlib.suppress(OSError):
            raw.shutdown(socket.SHUT_RDWR)  # wakes the reader thread: it sees EOF

    def release(self) -> None:
        """Close the socket itself, once the reader thread is done with it."""
        close_socket(self.sock)


def close_socket(sock: Any) -> None:
    """Close what `attach_socket` returned, and the socket under it (a thread still reading
    it sees EOF)."""
    raw = raw_socket(sock)
    with contextlib.suppress(OSError):
        raw.shutdown(socket.SHUT_RDWR)
    with contextlib.suppress(OSError):
        sock.close()
    if raw is not None and raw is not sock:
        with contextlib.suppress(OSError):
            raw.close()


def write_stdin(sock: Any, data: bytes) -> None:
    """Write `data` to the container's stdin, then half-close it: the command sees EOF (the
    container was created with StdinOnce, so the engine closes its stdin too)."""
    raw = raw_socket(sock)
    with contextlib.suppress(OSError):
        if data:
            raw.sendall(data)
    with contextlib.suppress(OSError):
        raw.shutdown(socket.SHUT_WR)


def discard_output(sock: Any) -> None:
    """Read an attach socket to its end and drop what comes: Podman sends the output to an
    attach that asked only for stdin too, and the command would block on a full one."""
    raw = raw_socket(sock)
    with contextlib.suppress(OSError):
        while raw.recv(65536):
            pass
