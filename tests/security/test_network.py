"""Escapes through the network: with network "none" a sandbox has its own loopback and nothing
else (no host service, not the Paddock API, no abstract Unix socket of the host); network
"host" shares the host's network, by design."""

from __future__ import annotations

import contextlib
import json
import socket
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.e2e.server import ServerProcess, wait_for
from tests.security.helpers import Bench, token

UNROUTABLE = "192.0.2.1"  # TEST-NET-1: no route to it from a private network namespace

# connect HOST PORT [LINE]: open a TCP connection with bash alone (no curl in every image).
CONNECT = r"""
connect() {
  exec 3<>"/dev/tcp/$1/$2" || return 1
  [ -n "$3" ] && printf '%s\n' "$3" >&3
  exec 3>&-
}
# abstract NAME LINE: connect to a Unix socket in the abstract namespace (perl-base has it).
abstract() {
  perl -MIO::Socket::UNIX -e '
    my $s = IO::Socket::UNIX->new(Peer => "\0" . $ARGV[0]) or die "connect: $!\n";
    print $s "$ARGV[1]\n";' "$1" "$2"
}
"""


class Listener:
    """A TCP server on the host's loopback, and one in the abstract Unix namespace, each
    recording the lines it receives."""

    def __init__(self) -> None:
        self.tcp = socket.socket()
        self.tcp.bind(("127.0.0.1", 0))
        self.tcp.listen(16)
        self.port: int = self.tcp.getsockname()[1]
        self.abstract_name = f"paddock-escape-{token()}"
        self.unix = socket.socket(socket.AF_UNIX)
        self.unix.bind("\0" + self.abstract_name)
        self.unix.listen(16)
        self.received: list[str] = []
        self._threads = [
            threading.Thread(target=self._serve, args=(sock,), daemon=True)
            for sock in (self.tcp, self.unix)
        ]
        for thread in self._threads:
            thread.start()

    def _serve(self, sock: socket.socket) -> None:
        while True:
            try:
                conn, _ = sock.accept()
            except OSError:
                return
            with conn:
                conn.settimeout(5)
                data = b""
                with contextlib.suppress(OSError):
                    while chunk := conn.recv(4096):
                        data += chunk
                self.received += data.decode(errors="replace").split()

    def close(self) -> None:
        for sock in (self.tcp, self.unix):
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
            sock.close()


@pytest.fixture(scope="module")
def listener() -> Iterator[Listener]:
    server = Listener()
    try:
        yield server
    finally:
        server.close()


def test_network_none_reaches_nothing_of_the_host(
    bench: Bench, listener: Listener, provider: str
) -> None:
    tcp_line, unix_line = f"tcp-{token()}", f"unix-{token()}"
    run = bench.run(
        CONNECT
        + f"""
probe host_tcp connect 127.0.0.1 {listener.port} {tcp_line}
probe outside timeout 10 bash -c 'exec 3<>/dev/tcp/{UNROUTABLE}/80'
probe abstract abstract {listener.abstract_name} {unix_line}
probe interfaces sh -c "grep : /proc/net/dev | cut -d: -f1 | tr -d ' '"
probe own_loopback bash -c 'exec 3<>/dev/tcp/127.0.0.1/1'
""",
        provider=provider,
        network="none",
    )
    run.refused("host_tcp", "Connection refused")
    run.refused("outside", "Network is unreachable")
    run.refused("abstract", "Connection refused")
    assert run.allowed("interfaces").out == "lo"
    run.refused("own_loopback", "Connection refused")  # a loopback of its own, working
    assert tcp_line not in listener.received and unix_line not in listener.received


def test_network_host_shares_the_hosts_network(
    bench: Bench, listener: Listener, provider: str
) -> None:
    """The control for the test above: the same probes reach the host with network "host"."""
    tcp_line, unix_line = f"tcp-{token()}", f"unix-{token()}"
    run = bench.run(
        CONNECT
        + f"""
probe host_tcp connect 127.0.0.1 {listener.port} {tcp_line}
probe abstract abstract {listener.abstract_name} {unix_line}
""",
        provider=provider,
        network="host",
    )
    run.allowed("host_tcp")
    run.allowed("abstract")
    wait_for(lambda: tcp_line in listener.received and unix_line in listener.received)


def test_the_paddock_api_is_unreachable_from_network_none(
    bench: Bench, server: ServerProcess, provider: str
) -> None:
    data = server.data_dir
    run = bench.run(
        CONNECT
        + f"""
probe api connect 127.0.0.1 {server.port} "GET /api/health HTTP/1.0"
probe api_http sh -c 'command -v curl >/dev/null || exit 7; curl -sS -m 10 {server.url}/api/health'
probe engine_socket ls -l {data}/podman.sock
""",
        provider=provider,
        network="none",
    )
    run.refused("api", "Connection refused")
    result = run.probe("api_http")
    assert not result.ok and "ok" not in result.out.lower(), result
    run.refused("engine_socket", "No such file or directory")
    assert server.client.get("/api/health").status_code == 200


def _escape_through_the_api(
    bench: Bench, server: ServerProcess, marker: Path, header: str = ""
) -> str:
    """An agent script that asks the Paddock API for an attempt of its own task with sandbox
    "none", whose command writes `marker` on the host (sending `header` too)."""
    body = json.dumps(
        {
            "agent": {"profile": "script", "command": f"touch {marker}"},
            "sandbox": {"provider": "none"},
        }
    )
    return f"""
post() {{
  exec 3<>/dev/tcp/127.0.0.1/{server.port} || return 1
  printf 'POST %s HTTP/1.1\\r\\nHost: 127.0.0.1\\r\\n{header}' "$1" >&3
  printf 'Content-Type: application/json\\r\\n' >&3
  printf 'Content-Length: %s\\r\\nConnection: close\\r\\n\\r\\n%s' "${{#2}}" "$2" >&3
  head -1 <&3
}}
probe escape post "/api/tasks/$PADDOCK_TASK_ID/attempts" '{body}'
"""


@pytest.mark.parametrize(
    "header",
    ["", "X-Forwarded-For: 203.0.113.9\\r\\nX-Forwarded-Proto: https\\r\\n"],
    ids=["plain", "claims-to-be-proxied"],
)
def test_the_paddock_api_cannot_be_used_to_leave_a_host_network_sandbox(
    bench: Bench, server: ServerProcess, provider: str, host_dir: Path, header: str
) -> None:
    """The sandbox shares the host's loopback (network "host"), where the API listens: its
    requests are refused (its socket belongs to the sandbox's user; web/guard.py), also when
    they claim to come through a proxy from another address."""
    marker = host_dir / f"escaped-through-api-{token()}"
    run = bench.run(_escape_through_the_api(bench, server, marker, header), provider=provider)
    assert run.probe("escape").out.startswith("HTTP/1.1 403"), run.text
    others = [
        a
        for a in server.api("GET", f"/api/tasks/{run.attempt['task_id']}/attempts")
        if a["id"] != run.attempt["id"]
    ]
    assert others == [], "an agent started an attempt through the API"
    assert not marker.exists(), "an agent left its sandbox through the API"
