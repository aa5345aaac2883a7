"""The doors around the sandbox: Paddock's API needs its token or the user's session, a
browser's state-changing request must come from Paddock's own pages, and only our host names
are served (DNS rebinding). Each case was an escape to root on the host before."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.e2e.server import ServerProcess
from tests.security.helpers import Bench, token

# A sandboxed process that picks its own source port: it first leaves sockets in TIME_WAIT on
# that port (the kernel lists those as uid 0), then asks the API from the same port.
SPOOF = r"""
import socket, sys, threading, time

paddock_port, body, path = int(sys.argv[1]), sys.argv[2], sys.argv[3]

def serve(listener):
    while True:
        conn, _ = listener.accept()
        conn.recv(1)
        conn.close()

listeners = []
for _ in range(24):
    ln = socket.socket()
    ln.bind(("127.0.0.1", 0))
    ln.listen(8)
    threading.Thread(target=serve, args=(ln,), daemon=True).start()
    listeners.append(ln)

def bound(port):
    s = socket.socket()
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind(("127.0.0.1", port))
    return s

first = bound(0)
port = first.getsockname()[1]
first.close()
for ln in listeners:  # we close first: our end waits in TIME_WAIT, listed as root's
    s = bound(port)
    s.connect(ln.getsockname())
    s.close()
time.sleep(0.3)
s = bound(port)
s.connect(("127.0.0.1", paddock_port))
request = (
    f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
    f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n{body}"
)
s.sendall(request.encode())
print(s.recv(200).split(b"\r\n", 1)[0].decode())
"""


def _unsandboxed_attempt_body(marker: Path) -> str:
    return json.dumps(
        {
            "agent": {"profile": "script", "command": f"touch {marker}"},
            "sandbox": {"provider": "none"},
        }
    )


def _other_attempts(server: ServerProcess, attempt: dict[str, Any]) -> list[dict[str, Any]]:
    return [
        a
        for a in server.api("GET", f"/api/tasks/{attempt['task_id']}/attempts")
        if a["id"] != attempt["id"]
    ]


def test_a_spoofed_source_port_does_not_open_the_api(
    bench: Bench, server: ServerProcess, provider: str, host_dir: Path
) -> None:
    """The sandbox guard looked up the first socket on the client's port: one in TIME_WAIT made
    the request pass as root's. Now the whole 4-tuple of a live connection must match, and
    without the token nothing passes anyway."""
    marker = host_dir / f"escaped-by-spoof-{token()}"
    script_path = f"/tmp/spoof-{token()}.py"
    script = f"""
cat > {script_path} <<'PYEOF'
{SPOOF}
PYEOF
probe spoof python3 {script_path} {server.port} '{_unsandboxed_attempt_body(marker)}' \
  "/api/tasks/$PADDOCK_TASK_ID/attempts"
"""
    run = bench.run(script, provider=provider, network="host")
    status = run.probe("spoof").out
    assert status.startswith("HTTP/1.1 403"), run.text  # the guard saw the sandbox's socket
    assert _other_attempts(server, run.attempt) == []
    assert not marker.exists(), "an agent left its sandbox through the API"


# --- authentication ----------------------------------------------------------------------------


RUNNER_DOOR = "/api/runner/session"  # tests/cluster/test_runners.py: the user's token fails it


def test_every_api_route_needs_the_token(server: ServerProcess) -> None:
    spec = server.api("GET", "/api/openapi.json")
    bare = httpx.Client(base_url=server.url, timeout=30)
    wrong = httpx.Client(
        base_url=server.url, headers={"Authorization": f"Bearer {token()}"}, timeout=30
    )
    checked = 0
    for path, operations in spec["paths"].items():
        concrete = re.sub(r"\{[^}]+\}", "0" * 32, path)
        for method in operations:
            expected = ((bare, "unauthorized"), (wrong, "bad_token"))
            if (method, path) == ("post", RUNNER_DOOR):  # a runner's token, not the user's
                expected = ((bare, "bad_runner_token"), (wrong, "bad_runner_token"))
            for client, code in expected:
                response = client.request(method.upper(), concrete, json={})
                assert response.status_code == 401, (method, path, response.text)
                assert response.json()["code"] == code
                checked += 1
    assert checked > 100  # every operation, both ways
    for path in ("/api/openapi.json", "/api/docs", "/api/events"):
        assert bare.get(path).status_code == 401
    # The UI too: a browser without a session is sent to sign in, its htmx calls get a 401.
    page = bare.get("/projects/x", headers={"Accept": "text/html"})
    assert page.status_code == 303 and page.headers["location"] == "/login?next=%2Fprojects%2Fx"
    fragment = bare.post("/ui/projects", data={"path": "/tmp"}, headers={"HX-Request": "true"})
    assert fragment.status_code == 401 and fragment.headers["hx-redirect"].startswith("/login")
    # What stays open: the sign-in page and the UI's static files.
    assert bare.get("/login").status_code == 200
    assert bare.get("/static/app.css").status_code == 200


def test_the_printed_link_signs_a_browser_in_with_a_strict_cookie(server: ServerProcess) -> None:
    with httpx.Client(base_url=server.url, timeout=30) as browser:
        signed = browser.get(f"/attempts/x?tab=logs&token={server.token}")
        assert signed.status_code == 303
        assert signed.headers["location"] == "/attempts/x?tab=logs"  # the token leaves the URL
        cookie = signed.headers["set-cookie"]
        name = f"paddock_session_{server.port}="
        assert cookie.startswith(name)
        assert "HttpOnly" in cookie and "SameSite=Strict" in cookie
        assert server.token not in cookie
        assert browser.get("/api/projects").status_code == 200  # the cookie now

        # A wrong token in the link signs nobody in; neither does a forged cookie.
        bare = httpx.Client(base_url=server.url, timeout=30)
        assert bare.get(f"/api/projects?token={token()}").status_code == 401
        forged = {"Cookie": f"paddock_session_{server.port}=s1.{10**10}.{'0' * 64}"}
        assert bare.get("/api/projects", headers=forged).status_code == 401

        # Signing in by the form: a wrong token is refused with the page, the right one works.
        origin = {"Origin": server.url}
        refused = bare.post("/login", data={"token": "nope"}, headers=origin)
        assert refused.status_code == 401 and 'data-code="bad_token"' in refused.text
        ok = bare.post(
            "/login", data={"token": server.token, "next": "//evil.example/"}, headers=origin
        )
        assert ok.status_code == 303 and ok.headers["location"] == "/"  # never off-site


def test_a_weak_token_is_refused_at_start(tmp_path: Path) -> None:
    server = ServerProcess(tmp_path / "data", env={"PADDOCK_TOKEN": "short"})
    with pytest.raises(RuntimeError, match="refusing to start: PADDOCK_TOKEN has 5 characters"):
        server.start()


# --- cross-site requests -----------------------------------------------------------------------


def _session(server: ServerProcess) -> dict[str, str]:
    """The Cookie header of a signed-in browser."""
    signed = httpx.get(f"{server.url}/?token={server.token}")
    return {"Cookie": signed.headers["set-cookie"].split(";", 1)[0]}


@pytest.mark.parametrize(
    ("origin", "fetch_site"),
    [
        ("http://evil.example", "cross-site"),
        # A preview page: same site as localhost, another origin.
        ("http://p1.preview.localhost:{port}", "same-site"),
        ("null", "cross-site"),  # a sandboxed page (the path fallback's CSP)
    ],
    ids=["other-site", "preview-page", "opaque"],
)
def test_a_form_posted_from_another_origin_changes_nothing(
    server: ServerProcess, repo: Path, origin: str, fetch_site: str
) -> None:
    before = server.api("GET", "/api/projects")
    headers = {
        **_session(server),
        "Origin": origin.format(port=server.port),
        "Sec-Fetch-Site": fetch_site,
    }
    response = httpx.post(f"{server.url}/ui/projects", data={"path": str(repo)}, headers=headers)
    assert response.status_code == 403 and response.json()["code"] == "cross_origin_request"
    # Without Fetch Metadata (an older browser) the Origin alone is enough.
    del headers["Sec-Fetch-Site"]
    response = httpx.post(f"{server.url}/ui/projects", data={"path": str(repo)}, headers=headers)
    assert response.status_code == 403
    assert server.api("GET", "/api/projects") == before


def test_json_with_a_foreign_origin_is_refused_even_with_the_token(
    server: ServerProcess, repo: Path
) -> None:
    response = server.client.post(
        "/api/projects", json={"path": str(repo)}, headers={"Origin": "http://evil.example"}
    )
    assert response.status_code == 403 and response.json()["code"] == "cross_origin_request"
    # A cross-origin read is refused as well (Paddock never answers CORS requests).
    read = server.client.get("/api/projects", headers={"Origin": "http://evil.example"})
    assert read.status_code == 403


def test_a_cookie_request_without_origin_or_referer_is_refused(server: ServerProcess) -> None:
    cookie = _session(server)
    bare = httpx.post(f"{server.url}/api/projects", json={"path": "/"}, headers=cookie)
    assert bare.status_code == 403 and bare.json()["code"] == "cross_origin_request"
    foreign = httpx.post(
        f"{server.url}/api/projects",
        json={"path": "/"},
        headers={**cookie, "Referer": "http://evil.example/page"},
    )
    assert foreign.status_code == 403
    # From Paddock's own page it goes through (and fails on its merits: / is no repository).
    own = httpx.post(
        f"{server.url}/api/projects",
        json={"path": "/"},
        headers={**cookie, "Origin": server.url, "Sec-Fetch-Site": "same-origin"},
    )
    assert own.status_code == 422, own.text


# --- host names --------------------------------------------------------------------------------


@pytest.mark.parametrize("host", ["evil.example.com", "evil.example.com:{port}", "localhost.evil"])
def test_a_foreign_host_gets_nothing(server: ServerProcess, host: str) -> None:
    """DNS rebinding: a site whose name resolves to 127.0.0.1 sends its own name as Host."""
    headers = {"Host": host.format(port=server.port)}
    for path in ("/api/projects", "/", "/preview/x/", "/static/app.css"):
        response = server.client.get(path, headers=headers)
        assert response.status_code == 421, (path, response.status_code)
        assert response.json()["code"] == "host_not_allowed"


def test_our_hosts_are_served(server: ServerProcess) -> None:
    for host in ("localhost", f"localhost:{server.port}", "127.0.0.1", f"[::1]:{server.port}"):
        assert server.client.get("/api/projects", headers={"Host": host}).status_code == 200
    # A preview's host goes to the preview proxy (there is no such preview).
    preview = server.client.get(
        "/", headers={"Host": f"nope.preview.localhost:{server.port}", "Accept": "application/json"}
    )
    assert preview.status_code == 404 and preview.json()["code"] == "preview_not_found"


def test_a_cookie_tossed_in_by_a_preview_does_not_sign_the_user_out(server: ServerProcess) -> None:
    """A preview page may set a cookie of Paddock's name for `localhost` with a longer path;
    the browser sends it first. The user's own session still counts."""
    own = _session(server)["Cookie"]
    name = own.split("=", 1)[0]
    tossed = {"Cookie": f"{name}=s1.1.{'0' * 64}; {own}"}
    assert httpx.get(f"{server.url}/api/projects", headers=tossed).status_code == 200
    only_tossed = {"Cookie": f"{name}=s1.1.{'0' * 64}"}
    assert httpx.get(f"{server.url}/api/projects", headers=only_tossed).status_code == 401
