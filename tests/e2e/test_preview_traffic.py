"""What passes through the preview proxy, against a real FastAPI/uvicorn dev server in its
sandbox: SSE event by event, a 1 GB download with flat memory, uploads, WebSocket text and
binary frames, redirects and cookies rewritten, headers as a dev server expects them.

Each test runs twice: through the data plane (HAProxy on the previews' port, decision 018) and
through the server's own port (the in-process proxy)."""

from __future__ import annotations

import gzip
import hashlib
import socket
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from websockets.sync.client import connect

from tests.e2e.server import ServerProcess, make_repo
from tests.e2e.test_previews import PREVIEW_ENV, attempt_writing, key_of, project_with, start

APP = """
import asyncio, hashlib, os
from pathlib import Path
from fastapi import FastAPI, Request, WebSocket, WebSocketDisconnect
from fastapi.responses import (
    JSONResponse, PlainTextResponse, RedirectResponse, Response, StreamingResponse
)

app = FastAPI()
released = asyncio.Event()

@app.get("/")
async def home():
    return PlainTextResponse(Path("name.txt").read_text())

@app.get("/headers")
async def headers(request: Request):
    return JSONResponse(dict(request.headers))

@app.get("/events")
async def events():
    async def stream():
        yield "data: first\\n\\n"
        await released.wait()  # the test reads "first" before it lets the rest go
        for n in ("second", "third"):
            yield f"data: {n}\\n\\n"
    return StreamingResponse(stream(), media_type="text/event-stream")

@app.post("/release")
async def release():
    released.set()
    return {"ok": True}

@app.get("/big")
async def big(mb: int):
    block = b"\\x5a" * (1 << 20)
    async def stream():
        for _ in range(mb):
            yield block
    return StreamingResponse(stream(), media_type="application/octet-stream")

@app.post("/upload")
async def upload(request: Request):
    digest, size = hashlib.sha256(), 0
    async for chunk in request.stream():
        digest.update(chunk)
        size += len(chunk)
    return {"bytes": size, "sha256": digest.hexdigest()}

@app.get("/away")
async def away():
    return RedirectResponse(f"http://127.0.0.1:{os.environ['PORT']}/landed?x=1", status_code=302)

@app.get("/cookie")
async def cookie():
    response = PlainTextResponse("set")
    response.set_cookie("app", "1", domain="localhost", path="/")
    return response

@app.get("/peer")
async def peer(request: Request):
    return {"port": request.client.port}

@app.get("/gzip")
async def gzipped():
    import gzip
    body = gzip.compress(b"squeezed " * 1000, mtime=0)
    return Response(body, headers={"content-encoding": "gzip", "content-type": "text/plain"})

@app.get("/hops")
async def hops(request: Request):
    return JSONResponse(
        dict(request.headers),
        headers={"connection": "x-upstream-only", "x-upstream-only": "1", "x-kept": "1"},
    )

@app.websocket("/echo")
async def echo(ws: WebSocket):
    await ws.accept(subprotocol="echo-v1" if "echo-v1" in ws.scope["subprotocols"] else None)
    try:
        while True:
            message = await ws.receive()
            if message.get("bytes") is not None:
                await ws.send_bytes(message["bytes"])
            elif message.get("text") is not None:
                await ws.send_text(message["text"])
            else:
                return
    except WebSocketDisconnect:
        return
"""


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    with ServerProcess(tmp_path_factory.mktemp("traffic") / "data", env=PREVIEW_ENV) as srv:
        yield srv


@pytest.fixture(scope="module")
def preview(server: ServerProcess, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    repo = make_repo(tmp_path_factory.mktemp("app") / "repo", {"app.py": APP, "name.txt": "main"})
    dev = f"{sys.executable} -m uvicorn app:app --host 127.0.0.1 --port $PORT"
    project = project_with(server, repo, dev)
    attempt = attempt_writing(server, project, "printf attempt > name.txt")
    [running] = start(server, attempt)
    assert running["status"] == "running", running
    running["key"] = key_of(server, running)
    return running


@dataclass(frozen=True)
class Via:
    """One way in: the previews' data plane, or the server's own port."""

    port: int
    client: httpx.Client
    pid: int  # the process that relays the bytes

    def host(self, preview: dict[str, Any]) -> str:
        return f"{preview['host']}.preview.localhost:{self.port}"


@pytest.fixture(scope="module", params=["plane", "server"])
def via(request: pytest.FixtureRequest, server: ServerProcess, preview: dict[str, Any]) -> Via:
    assert server.proc is not None
    if request.param == "server":
        return Via(server.port, server.client, server.proc.pid)
    return Via(server.preview_port, server.plane_client, haproxy_pid(server.proc.pid))


def get(via: Via, preview: dict[str, Any], path: str, **kwargs: Any) -> Any:
    headers = {
        "host": via.host(preview),
        "x-paddock-preview-key": preview["key"],
        **kwargs.pop("headers", {}),
    }
    return via.client.request(
        kwargs.pop("method", "GET"), path, headers=headers, follow_redirects=False, **kwargs
    )


def test_the_app_sees_a_dev_servers_host_and_the_browsers_view(
    server: ServerProcess, via: Via, preview: dict[str, Any]
) -> None:
    assert get(via, preview, "/").text == "attempt"
    seen = get(
        via, preview, "/headers", headers={"cookie": f"paddock_preview={preview['key']}; a=b"}
    ).json()
    assert seen["host"] == f"localhost:{preview['port']}"  # what Vite's allowedHosts accepts
    assert seen["x-forwarded-host"] == via.host(preview)
    assert seen["x-forwarded-proto"] == "http" and seen["x-forwarded-for"] == "127.0.0.1"
    assert seen["cookie"] == "a=b"  # Paddock's own cookie never reaches the app
    assert "x-paddock-preview-key" not in seen


def test_the_path_fallback_serves_the_preview_as_an_opaque_origin(
    server: ServerProcess, via: Via, preview: dict[str, Any]
) -> None:
    base = f"/preview/{preview['id']}"
    key = {"x-paddock-preview-key": preview["key"]}
    page = via.client.get(f"{base}/", headers=key)
    assert page.text == "attempt"
    assert page.headers["content-security-policy"].startswith("sandbox ")
    seen = via.client.get(f"{base}/headers", headers=key).json()
    assert seen["x-forwarded-prefix"] == base
    assert via.client.get(f"{base}/").status_code == 401  # the guard holds here too
    moved = via.client.get(f"{base}/away", headers=key, follow_redirects=False)
    assert moved.headers["location"].endswith(f"{base}/landed?x=1")


def test_a_forged_host_reaches_no_other_port(
    server: ServerProcess, via: Via, preview: dict[str, Any]
) -> None:
    """Naming the dev server's own address in Host gets Paddock, not the dev server; the port
    in a preview Host is not used for routing."""
    direct = via.client.get("/api/health", headers={"host": f"127.0.0.1:{preview['port']}"})
    if via.port == server.port:
        assert direct.status_code == 200 and "status" in direct.json()
    else:  # the previews' port serves previews and nothing else
        assert direct.status_code == 404 and direct.json()["code"] == "not_found"
    other_port = get(via, preview, "/", headers={"host": f"{preview['host']}.preview.localhost:1"})
    assert other_port.text == "attempt"  # still this preview, whatever port is claimed


def test_server_sent_events_arrive_one_by_one(
    server: ServerProcess, via: Via, preview: dict[str, Any]
) -> None:
    headers = {
        "host": via.host(preview),
        "x-paddock-preview-key": preview["key"],
    }
    with via.client.stream("GET", "/events", headers=headers) as response:
        lines = response.iter_lines()
        assert next(lines) == "data: first"  # while the app still holds the rest back
        assert get(via, preview, "/release", method="POST").json() == {"ok": True}
        rest = [line for line in lines if line]
    assert rest == ["data: second", "data: third"]


def test_a_1_gb_download_passes_with_flat_memory(
    server: ServerProcess, via: Via, preview: dict[str, Any]
) -> None:
    before = rss_kb(via.pid)
    headers = {
        "host": via.host(preview),
        "x-paddock-preview-key": preview["key"],
    }
    size = 0
    digest = hashlib.sha256()
    with via.client.stream("GET", "/big?mb=1024", headers=headers) as response:
        assert response.status_code == 200
        for chunk in response.iter_raw(1 << 20):
            size += len(chunk)
            digest.update(chunk)
    assert size == 1 << 30
    assert digest.hexdigest() == hashlib.sha256(b"\x5a" * (1 << 30)).hexdigest()
    grown_mb = (peak_rss_kb(via.pid) - before) / 1024
    assert grown_mb < 64, f"the relay grew by {grown_mb:.0f} MB passing 1 GB"


def test_uploads_stream_to_the_app_with_and_without_a_length(
    server: ServerProcess, via: Via, preview: dict[str, Any]
) -> None:
    body = bytes(range(256)) * 40_000  # ~10 MB
    expected = {"bytes": len(body), "sha256": hashlib.sha256(body).hexdigest()}
    assert get(via, preview, "/upload", method="POST", content=body).json() == expected

    def pieces() -> Iterator[bytes]:  # no length: the proxy sends it on chunked
        for offset in range(0, len(body), 1 << 20):
            yield body[offset : offset + (1 << 20)]

    assert get(via, preview, "/upload", method="POST", content=pieces()).json() == expected


def test_redirects_to_the_upstream_and_cookie_domains_are_rewritten(
    server: ServerProcess, via: Via, preview: dict[str, Any]
) -> None:
    moved = get(via, preview, "/away")
    assert moved.status_code == 302
    origin = f"http://{via.host(preview)}"
    assert moved.headers["location"] == f"{origin}/landed?x=1"
    cookie = get(via, preview, "/cookie").headers["set-cookie"]
    assert cookie.startswith("app=1") and "domain" not in cookie.lower()


def test_upstream_connections_are_kept_alive_and_reused(
    server: ServerProcess, via: Via, preview: dict[str, Any]
) -> None:
    ports = {get(via, preview, "/peer").json()["port"] for _ in range(5)}
    assert len(ports) == 1  # one connection to the dev server carried all five


def test_compressed_bodies_pass_untouched(via: Via, preview: dict[str, Any]) -> None:
    headers = {
        "host": via.host(preview),
        "x-paddock-preview-key": preview["key"],
        "accept-encoding": "gzip",
    }
    with via.client.stream("GET", "/gzip", headers=headers) as response:
        raw = b"".join(response.iter_raw())
    assert response.headers["content-encoding"] == "gzip"
    assert raw == gzip.compress(b"squeezed " * 1000, mtime=0)  # byte for byte


def test_hop_by_hop_headers_and_those_named_in_connection_stay_on_their_hop(
    server: ServerProcess, via: Via, preview: dict[str, Any]
) -> None:
    answer = get(
        via,
        preview,
        "/hops",
        headers={"connection": "x-browser-only", "x-browser-only": "1", "x-sent": "1"},
    )
    seen = answer.json()
    assert "x-browser-only" not in seen and seen["x-sent"] == "1"
    assert "x-upstream-only" not in answer.headers and answer.headers["x-kept"] == "1"


def test_websocket_text_and_binary_frames_pass_both_ways(
    server: ServerProcess, via: Via, preview: dict[str, Any]
) -> None:
    uri = f"ws://{via.host(preview)}/echo"
    sock = socket.create_connection(("127.0.0.1", via.port))
    with connect(
        uri,
        sock=sock,
        subprotocols=["echo-v1"],  # type: ignore[list-item]
        additional_headers={"x-paddock-preview-key": preview["key"]},
    ) as ws:
        assert ws.subprotocol == "echo-v1"  # the one the app chose reaches the client
        ws.send("hello")
        assert ws.recv() == "hello"
        blob = bytes(range(256)) * 4096  # 1 MB binary frame
        ws.send(blob)
        assert ws.recv() == blob


def test_a_websocket_without_the_key_is_refused(
    server: ServerProcess, via: Via, preview: dict[str, Any]
) -> None:
    uri = f"ws://{via.host(preview)}/echo"
    sock = socket.create_connection(("127.0.0.1", via.port))
    with pytest.raises(Exception) as refused:
        connect(uri, sock=sock).close()
    assert "403" in str(refused.value) or "1008" in str(refused.value)


def haproxy_pid(server_pid: int) -> int:
    """The server's data plane (its HAProxy child serving the previews' port; bridges into
    sandboxes' networks may be HAProxy too), running once a preview ran."""
    for child in Path(f"/proc/{server_pid}/task/{server_pid}/children").read_text().split():
        command = Path(f"/proc/{child}/cmdline").read_bytes()
        if b"haproxy" in command and b"/paddock-plane-" in command:
            return int(child)
    raise AssertionError("the server runs no haproxy")


def rss_kb(pid: int) -> int:
    return _status_kb(pid, "VmRSS")


def peak_rss_kb(pid: int) -> int:
    return _status_kb(pid, "VmHWM")


def _status_kb(pid: int, field: str) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    raise AssertionError(f"no {field} for {pid}")
