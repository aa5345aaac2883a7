"""The previews' data plane (HAProxy, docs/decisions/018): what its fast path lets through is
exactly what Paddock's guard would, what it cannot clean exactly goes to Paddock, and it
survives its own death, its server's, a taken port and a machine without it."""

from __future__ import annotations

import json
import os
import signal
import socket
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.e2e.server import ServerProcess, make_repo, wait_for
from tests.e2e.test_preview_traffic import haproxy_pid
from tests.e2e.test_previews import PREVIEW_ENV, attempt_writing, key_of, project_with, start

# A dev server that answers every request with the headers it received, and sets cookies with
# as many Domain attributes as the test asks for.
ECHO = """
import json, os
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

class Echo(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def do_GET(self):
        body = json.dumps({k.lower(): v for k, v in self.headers.items()}).encode()
        self.send_response(200)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(body)))
        domains = "".join(f"; Domain=d{n}.localhost" for n in range(int(self.path[1:] or 0)))
        if domains:
            self.send_header("set-cookie", f"app=1{domains}; Path=/; HttpOnly")
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass

ThreadingHTTPServer(("127.0.0.1", int(os.environ["PORT"])), Echo).serve_forever()
"""


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    with ServerProcess(tmp_path_factory.mktemp("plane") / "data", env=PREVIEW_ENV) as srv:
        yield srv


@pytest.fixture(scope="module")
def preview(server: ServerProcess, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    repo = make_repo(tmp_path_factory.mktemp("echo") / "repo", {"echo.py": ECHO})
    project = project_with(server, repo, "python3 echo.py")
    [running] = start(server, attempt_writing(server, project, "true"))
    assert running["status"] == "running", running
    running["key"] = key_of(server, running)
    return running


def plane_get(
    server: ServerProcess, preview: dict[str, Any], path: str = "/", **headers: str
) -> Any:
    host = f"{preview['host']}.preview.localhost:{server.preview_port}"
    return server.plane_client.get(path, headers={"host": host, **headers})


def test_previews_are_served_by_haproxy_on_their_own_port(
    server: ServerProcess, preview: dict[str, Any]
) -> None:
    assert server.proc is not None
    assert haproxy_pid(server.proc.pid)
    assert preview["url"].endswith(f".preview.localhost:{server.preview_port}/")
    seen = plane_get(server, preview, cookie=f"paddock_preview={preview['key']}").json()
    assert "cookie" not in seen  # Paddock's cookie, its only one, never reaches the app


def test_paddock_cookies_never_reach_the_app_however_many_are_sent(
    server: ServerProcess, preview: dict[str, Any]
) -> None:
    """A preview's script can set cookies named like Paddock's on its own host: whatever their
    number and order, the app sees none of them (beyond two, HAProxy hands the request to
    Paddock, which cleans any number)."""
    key = preview["key"]
    for planted in range(4):
        junk = [f"paddock_preview=junk{n}" for n in range(planted)]
        for cookies in (
            [*junk, "a=1", f"paddock_preview={key}", "b=2"],
            [f"paddock_preview={key}", *junk, "paddock_preview_embed=x", "a=1"],
        ):
            answer = plane_get(server, preview, cookie="; ".join(cookies))
            assert answer.status_code == 200, (cookies, answer.text)
            sent = answer.json()["cookie"]
            assert "paddock" not in sent, (cookies, sent)
            assert {c.strip() for c in sent.split(";") if c.strip()} <= {"a=1", "b=2"}


def test_the_fast_path_lets_in_only_the_exact_key(
    server: ServerProcess, preview: dict[str, Any]
) -> None:
    key = preview["key"]
    refused = [
        {},
        {"cookie": f"paddock_preview={key[:-1]}"},
        {"cookie": f"paddock_preview={key}x"},
        {"cookie": f"xpaddock_preview={key}"},
        {"x-paddock-preview-key": key.upper()},
        {"x-paddock-preview-key": f"{key}, {key}"},
        {"cookie": f"paddock_preview_other={key}"},
    ]
    for headers in refused:
        answer = plane_get(server, preview, accept="application/json", **headers)
        assert answer.status_code == 401, headers
        assert answer.json()["code"] == "preview_unauthorized"  # Paddock's answer
    for headers in (
        {"x-paddock-preview-key": key},
        {"cookie": f"paddock_preview_embed={key}"},
        {"cookie": f"other=1; paddock_preview={key}"},
    ):
        answer = plane_get(server, preview, **headers)
        assert answer.status_code == 200, headers
        assert "x-paddock-preview-key" not in answer.json()


def test_two_key_headers_are_judged_by_paddock_and_neither_reaches_the_app(
    server: ServerProcess, preview: dict[str, Any]
) -> None:
    host = f"{preview['host']}.preview.localhost:{server.preview_port}"
    raw = (
        f"GET / HTTP/1.1\r\nHost: {host}\r\nx-paddock-preview-key: {preview['key']}\r\n"
        f"x-paddock-preview-key: {preview['key']}\r\nConnection: close\r\n\r\n"
    ).encode()
    with socket.create_connection(("127.0.0.1", server.preview_port)) as sock:
        sock.sendall(raw)
        answer = b""
        while chunk := sock.recv(65536):
            answer += chunk
    head, _, body = answer.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 200"), head
    assert "x-paddock-preview-key" not in json.loads(body)


def test_no_domain_survives_on_a_cookie_the_app_sets(
    server: ServerProcess, preview: dict[str, Any]
) -> None:
    for domains in (1, 2, 4, 6):
        cookie = plane_get(
            server, preview, f"/{domains}", **{"x-paddock-preview-key": preview["key"]}
        )
        value = cookie.headers["set-cookie"]
        assert value.startswith("app=1") and "domain" not in value.lower(), value


def test_requests_through_haproxy_count_as_the_previews_use(tmp_path: Path) -> None:
    """The idle TTL (6 s here; touches are written every 5 s) stops a preview nobody asks for,
    never one that HAProxy keeps serving."""
    env = {**PREVIEW_ENV, "PADDOCK_PREVIEW_IDLE_MINUTES": "0.1"}
    with ServerProcess(tmp_path / "data", env=env) as srv:
        repo = make_repo(tmp_path / "repo", {"echo.py": ECHO})
        project = project_with(srv, repo, "python3 echo.py")
        [running] = start(srv, attempt_writing(srv, project, "true"))
        key = key_of(srv, running)
        deadline = time.monotonic() + 16  # over two TTLs, with a request every second
        while time.monotonic() < deadline:
            assert plane_get(srv, running, **{"x-paddock-preview-key": key}).status_code == 200
            time.sleep(1)
        current = srv.api("GET", f"/api/previews/{running['id']}")
        assert current["status"] == "running" and current["last_access_at"] is not None

        def stopped() -> bool:
            return srv.api("GET", f"/api/previews/{running['id']}")["status"] == "stopped"

        wait_for(stopped, 30)  # left alone, it goes


def test_a_haproxy_that_dies_is_replaced_and_nothing_is_refused_meanwhile(
    server: ServerProcess, preview: dict[str, Any]
) -> None:
    assert server.proc is not None
    first = haproxy_pid(server.proc.pid)
    os.kill(first, signal.SIGKILL)  # its connections are reset; new ones wait in the backlog
    # The server serves the port itself at once, then HAProxy serves it again: every new
    # connection is answered.
    host = f"{preview['host']}.preview.localhost:{server.preview_port}"
    for _ in range(20):
        answer = httpx.get(
            f"http://127.0.0.1:{server.preview_port}/",
            headers={"host": host, "x-paddock-preview-key": preview["key"]},
            timeout=30,
        )
        assert answer.status_code == 200
    second = wait_for(lambda: _other_haproxy(server, first), 20)
    assert second != first
    assert (
        plane_get(server, preview, **{"x-paddock-preview-key": preview["key"]}).status_code == 200
    )
    assert "haproxy exited" in server.log()


def _other_haproxy(server: ServerProcess, old: int) -> int | None:
    assert server.proc is not None
    try:
        pid = haproxy_pid(server.proc.pid)
    except AssertionError:
        return None
    return pid if pid != old else None


def test_haproxy_and_the_bridges_die_with_a_killed_server(tmp_path: Path) -> None:
    with ServerProcess(tmp_path / "data", env=PREVIEW_ENV) as srv:
        repo = make_repo(tmp_path / "repo", {"echo.py": ECHO})
        project = project_with(srv, repo, "python3 echo.py")
        [running] = start(srv, attempt_writing(srv, project, "true"))
        assert running["status"] == "running"
        assert srv.proc is not None
        helpers = _helpers_of(srv.proc.pid)
        assert len(helpers) >= 2, helpers  # the previews' HAProxy and the preview's bridge
        srv.proc.kill()
        srv.proc.wait()
        wait_for(lambda: not any(Path(f"/proc/{pid}").exists() for pid in helpers), 10)


def _helpers_of(server_pid: int) -> list[int]:
    """The server's children that serve previews: HAProxy, network bridges."""
    children = Path(f"/proc/{server_pid}/task/{server_pid}/children").read_text().split()
    found = []
    for child in children:
        command = Path(f"/proc/{child}/cmdline").read_bytes().replace(b"\0", b" ")
        if b"haproxy" in command or b"netbridge" in command:
            found.append(int(child))
    return found


def test_without_haproxy_previews_stay_on_the_servers_port(tmp_path: Path) -> None:
    env = {**PREVIEW_ENV, "PADDOCK_PREVIEW_PLANE": "in_process"}
    with ServerProcess(tmp_path / "data", env=env) as srv:
        repo = make_repo(tmp_path / "repo", {"echo.py": ECHO})
        project = project_with(srv, repo, "python3 echo.py")
        [running] = start(srv, attempt_writing(srv, project, "true"))
        assert running["url"].endswith(f".preview.localhost:{srv.port}/")
        assert srv.proc is not None
        with pytest.raises(AssertionError, match="no haproxy"):
            haproxy_pid(srv.proc.pid)
        host = f"{running['host']}.preview.localhost:{srv.port}"
        key = key_of(srv, running)
        answer = srv.client.get("/", headers={"host": host, "x-paddock-preview-key": key})
        assert answer.status_code == 200 and "host" in answer.json()


def test_a_taken_plane_port_leaves_previews_on_the_servers_port(tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        env = {**PREVIEW_ENV, "PADDOCK_PREVIEW_PLANE_PORT": str(taken.getsockname()[1])}
        srv = ServerProcess(tmp_path / "data", env=env)
        srv.env["PADDOCK_PREVIEW_PLANE_PORT"] = str(taken.getsockname()[1])
        with srv:
            repo = make_repo(tmp_path / "repo", {"echo.py": ECHO})
            project = project_with(srv, repo, "python3 echo.py")
            [running] = start(srv, attempt_writing(srv, project, "true"))
            assert running["status"] == "running"
            assert running["url"].endswith(f".preview.localhost:{srv.port}/")
            assert "previews are served on the server's port: cannot listen" in srv.log()
