"""The owner of a local connection's client socket, as the sandbox guard asks it for every
request: by the kernel's exact lookup of that socket (sock_diag), agreeing with its tables."""

from __future__ import annotations

import os
import socket
import subprocess
from collections.abc import Iterator

import pytest

from paddock.runtime import peers

NOBODY = 65534

# Run by the system's python3 (the test's own may be in a directory another user cannot read).
# Connects to the port it is given, prints its own address, and holds the connection.
CLIENT = """
import socket, sys, time
sock = socket.create_connection(("127.0.0.1", int(sys.argv[1])))
print("%s %d" % sock.getsockname(), flush=True)
time.sleep(60)
"""


@pytest.fixture
def listener() -> Iterator[socket.socket]:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen()
        yield sock


def connect_as(
    uid: int, server: socket.socket
) -> tuple[subprocess.Popen[str], socket.socket, tuple[str, int]]:
    """A client process of `uid` connected to `server`: it, the server's end, its address."""
    as_root = os.getuid() == 0
    proc = subprocess.Popen(
        ["/usr/bin/python3", "-c", CLIENT, str(server.getsockname()[1])],
        stdout=subprocess.PIPE,
        text=True,
        user=uid if as_root else None,
    )
    assert proc.stdout is not None
    host, port = proc.stdout.readline().split()
    return proc, server.accept()[0], (host, int(port))


def test_the_owner_of_another_users_client_socket(listener: socket.socket) -> None:
    uid = NOBODY if os.getuid() == 0 else os.getuid()
    proc, accepted, client = connect_as(uid, listener)
    try:
        server = listener.getsockname()
        assert peers._asked_owner(client, server) == uid  # the kernel's lookup answered
        assert peers._listed_owner(client, server) == uid
        assert peers.socket_owner(client, server) == uid
    finally:
        accepted.close()
        proc.kill()
        proc.wait()


def test_no_owner_for_a_connection_that_is_not_there(listener: socket.socket) -> None:
    server = listener.getsockname()
    with pytest.raises(peers._NotAnswered):
        peers._asked_owner(("127.0.0.1", 1), server)
    assert peers.socket_owner(("127.0.0.1", 1), server) is None
    assert peers.socket_owner(("not an address", 1), server) is None
