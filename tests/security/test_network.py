"""Escapes through the network: with network "private" (the default) a sandbox reaches the
world but nothing on the host's loopback (not the Paddock API, no host service, no abstract
Unix socket of the host), and an e2e run there reaches its preview and nothing else; with
network "none" it has its own loopback and nothing else; network "host" shares the host's
network, by design."""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import socket
import subprocess
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from paddock.runtime.sandbox.private_network import OWNER_VARIABLE, listen_inside
from tests.e2e.server import ServerProcess, make_repo, wait_for
from tests.security.conftest import provider_problem
from tests.security.helpers import PRELUDE, Bench, Run, host_processes_with, token, wait_gone

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


# --- network "private" ------------------------------------------------------------------------


def _ip(*args: str) -> None:
    subprocess.run(["ip", *args], check=True, capture_output=True, text=True)


class OutsideHost:
    """Another machine, made up by the test: a network namespace of its own, joined to this
    one by a veth pair (10.213.N.1 on this side, 10.213.N.2 on the other), with a TCP listener
    there recording the lines it receives. Reaching it is reaching "the world" without a packet
    leaving this machine."""

    def __init__(self) -> None:
        suffix = token()[:6]
        self.netns = f"paddock-outside-{suffix}"
        self.link = f"pdo{suffix}"  # an interface name has at most 15 characters
        peer = f"pdi{suffix}"
        subnet = f"10.213.{20 + secrets.randbelow(200)}"
        self.address = f"{subnet}.2"
        self.received: list[str] = []
        self.sock: socket.socket | None = None
        _ip("netns", "add", self.netns)
        try:
            _ip("link", "add", self.link, "type", "veth", "peer", "name", peer, "netns", self.netns)
            _ip("addr", "add", f"{subnet}.1/30", "dev", self.link)
            _ip("link", "set", self.link, "up")
            _ip("-n", self.netns, "addr", "add", f"{self.address}/30", "dev", peer)
            _ip("-n", self.netns, "link", "set", peer, "up")
            self.sock = self._listen()
        except BaseException:
            self.close()
            raise
        self.port: int = self.sock.getsockname()[1]
        threading.Thread(target=self._serve, daemon=True).start()

    def _listen(self) -> socket.socket:
        """A listener made inside the namespace (by a thread that joins it, then ends)."""
        made: list[socket.socket | BaseException] = []

        def work() -> None:
            fd = os.open(f"/run/netns/{self.netns}", os.O_RDONLY)
            try:
                made.append(listen_inside(fd, self.address, 0))
            except BaseException as exc:
                made.append(exc)
            finally:
                os.close(fd)

        thread = threading.Thread(target=work)
        thread.start()
        thread.join()
        result = made[0]
        if isinstance(result, BaseException):
            raise result
        result.setblocking(True)
        return result

    def _serve(self) -> None:
        assert self.sock is not None
        while True:
            try:
                conn, _ = self.sock.accept()
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
        if self.sock is not None:
            with contextlib.suppress(OSError):
                self.sock.shutdown(socket.SHUT_RDWR)
            self.sock.close()
        with contextlib.suppress(subprocess.CalledProcessError):
            _ip("link", "del", self.link)
        with contextlib.suppress(subprocess.CalledProcessError):
            _ip("netns", "del", self.netns)


@pytest.fixture(scope="module")
def outside() -> Iterator[OutsideHost]:
    if os.geteuid() != 0:
        pytest.skip("making a network namespace for the test needs root (as network private)")
    host = OutsideHost()
    try:
        yield host
    finally:
        host.close()


def test_network_private_is_the_default_and_reaches_the_world_but_not_the_host(
    bench: Bench, server: ServerProcess, listener: Listener, outside: OutsideHost, provider: str
) -> None:
    """With no network chosen: Paddock's port and another host-loopback listener are refused,
    on 127.0.0.1 and on slirp's alias of the host (10.0.2.2); the host's abstract Unix sockets
    are another namespace's; a host elsewhere is reached through the default route."""
    lines = {name: f"{name}-{token()}" for name in ("tcp", "alias", "unix", "out")}
    run = bench.run(
        CONNECT
        + f"""
probe api connect 127.0.0.1 {server.port} "GET /api/health HTTP/1.0"
probe api_alias connect 10.0.2.2 {server.port} "GET /api/health HTTP/1.0"
probe host_tcp connect 127.0.0.1 {listener.port} {lines["tcp"]}
probe host_alias connect 10.0.2.2 {listener.port} {lines["alias"]}
probe abstract abstract {listener.abstract_name} {lines["unix"]}
probe outbound connect {outside.address} {outside.port} {lines["out"]}
probe route sh -c "awk '\\$2 == \\"00000000\\" {{print \\$1}}' /proc/net/route"
probe resolver grep nameserver /etc/resolv.conf
""",
        provider=provider,
        network=None,  # the server's default
    )
    run.refused("api", "Connection refused")
    unreachable = ("Network is unreachable", "Connection refused")
    run.refused("api_alias", *unreachable)
    run.refused("host_tcp", "Connection refused")
    run.refused("host_alias", *unreachable)
    run.refused("abstract", "Connection refused")
    assert run.allowed("route").out == "tap0"
    assert "nameserver 10.0.2.3" in run.allowed("resolver").out.split("|")
    run.allowed("outbound")
    wait_for(lambda: lines["out"] in outside.received)
    assert not {lines["tcp"], lines["alias"], lines["unix"]} & set(listener.received)
    assert server.client.get("/api/health").status_code == 200


def _slirps_of(process_id: str) -> list[int]:
    """The slirp4netns processes serving the sandboxed process `process_id`."""
    return [
        pid
        for pid in host_processes_with(f"{OWNER_VARIABLE}={process_id}")
        if Path(f"/proc/{pid}/comm").read_text().strip() == "slirp4netns"
    ]


def _bwrap() -> None:
    problem = provider_problem("bwrap")
    if problem is not None:
        pytest.skip(f"sandbox provider bwrap cannot run here: {problem}")


def test_nothing_of_a_private_network_outlives_its_sandbox(bench: Bench) -> None:
    """slirp4netns runs while its sandbox runs, and goes with it: when the turn ends, and when
    the turn is stopped."""
    _bwrap()
    ended = bench.start("while [ ! -e GO ]; do sleep 0.05; done", provider="bwrap", network=None)
    stopped = bench.start("sleep 600", provider="bwrap", network=None)
    ended_id = bench.agent_process(ended)["id"]
    stopped_id = bench.agent_process(stopped)["id"]
    wait_for(lambda: _slirps_of(ended_id) and _slirps_of(stopped_id), timeout=60)

    (Path(ended["worktree_path"]) / "GO").touch()
    assert bench.finish(ended).process["status"] == "succeeded"
    wait_gone(f"{OWNER_VARIABLE}={ended_id}")

    bench.server.api("POST", f"/api/processes/{stopped_id}/stop")
    assert bench.finish(stopped).process["status"] == "stopped"
    wait_gone(f"{OWNER_VARIABLE}={stopped_id}")


def test_slirp_dies_with_a_killed_server(host_dir: Path) -> None:
    _bwrap()
    server = ServerProcess(host_dir / f"data-{token()}").start()
    try:
        repo = make_repo(host_dir / f"repo-{token()}")
        project = server.api("POST", "/api/projects", json={"path": str(repo)})
        task = server.api("POST", f"/api/projects/{project['id']}/tasks", json={"title": "t"})
        attempt = server.api(
            "POST",
            f"/api/tasks/{task['id']}/attempts",
            json={"agent": {"command": "sleep 600"}, "sandbox": {"provider": "bwrap"}},
        )
        bench = Bench(server, project, repo)
        process_id = bench.agent_process(attempt)["id"]
        wait_for(lambda: _slirps_of(process_id), timeout=60)
        server.kill9()
        # The kernel closed the server's end of slirp's exit pipe: slirp ends by itself.
        wait_gone(f"{OWNER_VARIABLE}={process_id}")
    finally:
        server.stop()


# An e2e script: what it may reach from its private network, one probe per line.
GATE_PROBES = r"""
code() { curl -sS -m 10 -o /dev/null -w '%{http_code}' "$@"; }
KEY="X-Paddock-Preview-Key: $PADDOCK_PREVIEW_KEY"
probe preview curl -sS -m 10 -H "$KEY" "$PREVIEW_URL"
probe fallback curl -sS -m 10 -H "$KEY" "$PREVIEW_FALLBACK_URL"
probe preview_without_key code "$PREVIEW_URL"
probe health curl -sS -m 10 -w ' %{http_code}' http://127.0.0.1:PORT/api/health
probe health_with_key code -H "$KEY" -H 'Authorization: Bearer guess' http://127.0.0.1:PORT/api/health
probe health_by_path code -H "$KEY" "${PREVIEW_FALLBACK_URL}../../api/health" --path-as-is
probe ui code -H "$KEY" http://localhost:PORT/
probe start code -X POST -H "$KEY" -H 'Content-Type: application/json' -d BODY \
  http://127.0.0.1:PORT/api/tasks/$PADDOCK_TASK_ID/attempts
probe alias curl -sS -m 10 http://10.0.2.2:PORT/api/health
printf '<testsuite name="gate" tests="1"><testcase name="gate"/></testsuite>' > "$JUNIT_OUTPUT"
"""


def _server_network_fds(server: ServerProcess) -> int:
    """Network namespaces the server holds open (one per running private sandbox)."""
    assert server.proc is not None
    fds = Path(f"/proc/{server.proc.pid}/fd")
    count = 0
    for fd in fds.iterdir():
        with contextlib.suppress(OSError):
            count += os.readlink(fd).startswith("net:[")
    return count


def test_an_e2e_run_in_a_private_sandbox_reaches_its_preview_and_nothing_else(
    server: ServerProcess, host_dir: Path
) -> None:
    """Through the gate the server opens inside the run's network: the preview with the run's
    key; the API, the UI and a new attempt never (404 from the gate, whatever is sent)."""
    _bwrap()
    marker = f"preview-{token()}"
    body = json.dumps(
        {"agent": {"profile": "script", "command": "true"}, "sandbox": {"provider": "none"}}
    )
    script = PRELUDE + GATE_PROBES.replace("PORT", str(server.port)).replace("BODY", f"'{body}'")
    repo = make_repo(host_dir / f"gate-{token()}", {"index.html": f"{marker}\n"})
    scripts = {"dev": "python3 -m http.server $PORT --bind 127.0.0.1", "e2e_test": script}
    project = server.api("POST", "/api/projects", json={"path": str(repo), "scripts": scripts})
    task = server.api("POST", f"/api/projects/{project['id']}/tasks", json={"title": "gate"})
    attempt: dict[str, Any] = server.api(
        "POST",
        f"/api/tasks/{task['id']}/attempts",
        json={"agent": {"command": "true"}, "sandbox": {"provider": "bwrap"}},
    )
    wait_for(
        lambda: server.api("GET", f"/api/attempts/{attempt['id']}")["status"] == "awaiting_review"
    )
    with httpx_timeout(server, 120):
        run = server.api(
            "POST", f"/api/attempts/{attempt['id']}/test-runs", json={"kind": "e2e", "wait": True}
        )
    assert run["status"] == "passed", (run, server.log()[-3000:])
    page = server.api("GET", f"/api/processes/{run['process_id']}/logs", params={"limit": 1000})
    probes = Run(attempt, {}, [line["text"] for line in page["lines"]])
    assert probes.allowed("preview").out == marker
    assert probes.allowed("fallback").out == marker
    assert probes.allowed("preview_without_key").out == "401"
    assert probes.allowed("health").out == (
        '{"code": "not_found", "message": "only previews are served here"} 404'
    )
    for label in ("health_with_key", "health_by_path", "ui", "start"):
        assert probes.allowed(label).out == "404", label
    probes.refused("alias", "Failed to connect", "Couldn't connect")
    others = server.api("GET", f"/api/tasks/{task['id']}/attempts")
    assert [a["id"] for a in others] == [attempt["id"]], "an e2e run started an attempt"

    # The gate closed with the run: the server holds only the dev server's network now.
    wait_for(lambda: _server_network_fds(server) == 1)
    for preview in server.api("GET", f"/api/attempts/{attempt['id']}/previews"):
        server.api("DELETE", f"/api/previews/{preview['id']}")
    wait_for(lambda: _server_network_fds(server) == 0)


@contextlib.contextmanager
def httpx_timeout(server: ServerProcess, seconds: float) -> Iterator[None]:
    before = server.client.timeout
    server.client.timeout = seconds
    try:
        yield
    finally:
        server.client.timeout = before


# A dev service that, asked for /probe, says what it reaches from its sandbox: the attempt's
# other service (by the URL Paddock gave it) and the host addresses named in the query.
PROBING_SERVICE = """
import http.server, json, os, socket, sys, urllib.parse, urllib.request

class Handler(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        said = {"name": sys.argv[1]}
        if self.path.startswith("/probe"):
            query = urllib.parse.parse_qs(urllib.parse.urlsplit(self.path).query)
            with urllib.request.urlopen(os.environ["PADDOCK_SERVICE_API_URL"], timeout=10) as r:
                said["api"] = json.load(r)["name"]
            for target in query.get("t", []):
                host, port = target.rsplit(":", 1)
                try:
                    socket.create_connection((host, int(port)), timeout=10).close()
                    said[target] = "reached"
                except OSError as exc:
                    said[target] = exc.strerror or str(exc)
        body = json.dumps(said).encode()
        self.send_response(200)
        self.send_header("content-length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass

http.server.HTTPServer(("127.0.0.1", int(os.environ["PORT"])), Handler).serve_forever()
"""


def test_a_private_preview_reaches_its_other_services_and_nothing_else_of_the_host(
    server: ServerProcess, listener: Listener, host_dir: Path
) -> None:
    """Services of an attempt, each in a network of its own, reach each other at the URLs
    Paddock gives them (the server relays exactly those); Paddock's port and other host
    listeners stay out of reach, on 127.0.0.1 as on 10.0.2.2."""
    _bwrap()
    repo = make_repo(host_dir / f"services-{token()}", {"serve.py": PROBING_SERVICE})
    scripts = {"dev": "python3 serve.py web"}
    project = server.api("POST", "/api/projects", json={"path": str(repo), "scripts": scripts})
    server.api(
        "PATCH",
        f"/api/projects/{project['id']}",
        json={"services": {"api": "python3 serve.py api"}},
    )
    task = server.api("POST", f"/api/projects/{project['id']}/tasks", json={"title": "services"})
    attempt = server.api(
        "POST",
        f"/api/tasks/{task['id']}/attempts",
        json={"agent": {"command": "true"}, "sandbox": {"provider": "bwrap"}},
    )
    wait_for(
        lambda: server.api("GET", f"/api/attempts/{attempt['id']}")["status"] == "awaiting_review"
    )
    with httpx_timeout(server, 120):
        previews = server.api(
            "POST", f"/api/attempts/{attempt['id']}/previews", json={"wait": True}
        )
    web = next(p for p in previews if p["service"] == "web")
    assert all(p["status"] == "running" for p in previews), previews
    key = server.api("POST", f"/api/previews/{web['id']}/open")["key"]
    targets = [
        f"127.0.0.1:{server.port}",
        f"10.0.2.2:{server.port}",
        f"127.0.0.1:{listener.port}",
        f"10.0.2.2:{listener.port}",
    ]
    response = server.client.get(
        "/probe",
        params={"t": targets},
        headers={
            "host": f"{web['host']}.preview.localhost:{server.port}",
            "x-paddock-preview-key": key,
        },
        timeout=60,
    )
    assert response.status_code == 200, response.text
    said = response.json()
    assert said["name"] == "web" and said["api"] == "api"
    assert said[f"127.0.0.1:{server.port}"] == "Connection refused"
    assert said[f"127.0.0.1:{listener.port}"] == "Connection refused"
    for alias in targets[1::2]:
        assert said[alias] in ("Network is unreachable", "Connection refused"), said
    for preview in previews:
        server.api("DELETE", f"/api/previews/{preview['id']}")
