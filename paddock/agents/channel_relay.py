"""The agent's end of its attempt's channel (docs/decisions/021-attempt-mcp-channel.md): an
agent CLI starts an MCP server as a command speaking JSON-RPC lines on stdio; this is that
command, joining its stdin and stdout to the attempt's Unix socket, byte for byte.

It runs inside the sandbox, as `python -I <this file> <socket>` (Paddock's own Python, shown to
every sandbox read-only): the standard library only, no import of Paddock. The server behind
the socket serves one attempt; what the agent sends through here names nothing else.

A socket path is at most 107 bytes, and a data dir may be deep: the socket is reached through
its directory's descriptor (`/proc/self/fd/N/<name>`), which is short whatever the path.
"""

from __future__ import annotations

import contextlib
import os
import socket
import sys
import threading
from pathlib import Path

SERVER_NAME = "paddock"  # what each CLI's config calls the server (Claude Code: mcp__paddock__…)
CHUNK = 65536


# A copy of this file beside each channel's socket (services/attempts/agent_channel.py): the
# sandbox sees the channel's dir, never where Paddock is installed (which may be unreadable to
# the sandbox's user, under /root say).
RELAY_NAME = "relay.py"


def relay_source() -> bytes:
    with open(__file__, "rb") as fh:
        return fh.read()


def relay_command(channel: Path, python: str = sys.executable) -> list[str]:
    """The command an agent CLI runs to reach `channel` (a socket path): `python` (Paddock's
    own, or a container image's) in isolated mode (no PYTHON* variable, no user site), the copy
    of this file beside the socket, the socket."""
    return [python, "-I", str(channel.parent / RELAY_NAME), str(channel)]


def connect(path: str) -> socket.socket:
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    directory = os.open(os.path.dirname(path) or ".", os.O_PATH | os.O_DIRECTORY)
    try:
        sock.connect(f"/proc/self/fd/{directory}/{os.path.basename(path)}")
    except OSError:
        sock.close()
        raise
    finally:
        os.close(directory)
    return sock


def _up(sock: socket.socket) -> None:
    """stdin to the socket; at its end, the socket's write side closes (the server ends)."""
    with contextlib.suppress(OSError):
        while chunk := os.read(0, CHUNK):
            sock.sendall(chunk)
    with contextlib.suppress(OSError):
        sock.shutdown(socket.SHUT_WR)


def main(argv: list[str]) -> int:
    if len(argv) != 2:
        print("usage: channel_relay.py SOCKET", file=sys.stderr)
        return 2
    try:
        sock = connect(argv[1])
    except OSError as exc:
        print(f"paddock channel: cannot reach {argv[1]}: {exc}", file=sys.stderr, flush=True)
        return 1
    threading.Thread(target=_up, args=(sock,), daemon=True).start()
    try:
        while chunk := sock.recv(CHUNK):
            view = memoryview(chunk)
            while view:
                view = view[os.write(1, view) :]
    except OSError:
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
