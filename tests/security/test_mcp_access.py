"""The user's MCP endpoint (/mcp) is a door to the same powers as the API: the same doors stand
in front of it (token or session, our host names, same-origin proof, no sandbox)."""

from __future__ import annotations

import json
import shlex

import httpx

from tests.e2e.server import ServerProcess
from tests.security.helpers import Bench, token

INITIALIZE = {
    "jsonrpc": "2.0",
    "id": 1,
    "method": "initialize",
    "params": {
        "protocolVersion": "2025-06-18",
        "capabilities": {},
        "clientInfo": {"name": "escape-suite", "version": "0"},
    },
}
MCP_HEADERS = {"Accept": "application/json, text/event-stream"}


def _post(server: ServerProcess, headers: dict[str, str]) -> httpx.Response:
    return httpx.post(
        f"{server.url}/mcp", json=INITIALIZE, headers={**MCP_HEADERS, **headers}, timeout=30
    )


def test_mcp_needs_the_token(server: ServerProcess) -> None:
    bare = _post(server, {})
    assert bare.status_code == 401 and bare.json()["code"] == "unauthorized"
    wrong = _post(server, {"Authorization": f"Bearer {token()}"})
    assert wrong.status_code == 401 and wrong.json()["code"] == "bad_token"
    stream = httpx.get(f"{server.url}/mcp", headers=MCP_HEADERS, timeout=30)
    assert stream.status_code == 401 and stream.json()["code"] == "unauthorized"
    # The token opens it: the 401s above were the guard's, not a missing endpoint's.
    ok = _post(server, server.auth)
    assert ok.status_code == 200, ok.text
    assert ok.headers.get("mcp-session-id")


def test_mcp_refuses_a_foreign_host(server: ServerProcess) -> None:
    for host in ("evil.example.com", f"evil.example.com:{server.port}"):
        response = _post(server, {**server.auth, "Host": host})
        assert response.status_code == 421 and response.json()["code"] == "host_not_allowed"


def test_mcp_refuses_a_cross_site_origin_even_with_the_token(server: ServerProcess) -> None:
    foreign = _post(server, {**server.auth, "Origin": "http://evil.example"})
    assert foreign.status_code == 403 and foreign.json()["code"] == "cross_origin_request"
    preview = _post(
        server,
        {
            **server.auth,
            "Origin": f"http://p1.preview.localhost:{server.port}",
            "Sec-Fetch-Site": "same-site",
        },
    )
    assert preview.status_code == 403 and preview.json()["code"] == "cross_origin_request"


def test_mcp_refuses_a_request_from_inside_a_sandbox(
    bench: Bench, server: ServerProcess, provider: str
) -> None:
    """With the host's network a sandbox reaches the loopback: the sandbox guard answers it
    before the token is even looked at (here it sends the user's, as if it had stolen it)."""
    body = json.dumps(INITIALIZE)
    headers = {**MCP_HEADERS, "Content-Type": "application/json", **server.auth}
    client = (
        "import http.client, sys\n"
        f"c = http.client.HTTPConnection('127.0.0.1', {server.port}, timeout=20)\n"
        f"c.request('POST', '/mcp', {body!r}, {headers!r})\n"
        "r = c.getresponse()\n"
        "print(r.status, r.read().decode())\n"
    )
    script = f"probe mcp python3 -c {shlex.quote(client)}"
    run = bench.run(script, provider=provider, network="host")
    answer = run.probe("mcp").out
    assert answer.startswith("403") and "sandboxed_client" in answer, run.text
