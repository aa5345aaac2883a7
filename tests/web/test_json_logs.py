"""`log_format = "json"`: the server's log is one JSON object per line, each written while a
request was answered carries its request id (the `X-Request-ID` of its answer), and a failure's
line carries the `debug_id` its API answer gave."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from paddock.config import Settings
from paddock.runtime.server_log import REQUEST_ID, JsonFormatter
from paddock.web.app import create_app
from tests.e2e.server import ServerProcess, make_repo, wait_for

TOKEN = "j" * 32


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    data = tmp_path_factory.mktemp("json-logs") / "data"
    with ServerProcess(data, env={"PADDOCK_LOG_FORMAT": "json"}) as srv:
        yield srv


def log_lines(server: ServerProcess) -> list[dict[str, Any]]:
    """Every line of the server's log from its first JSON one (before it: the sign-in link
    `paddock serve` prints for the person who started it, not a log line)."""
    lines = server.log().splitlines()
    first = next(i for i, line in enumerate(lines) if line.startswith("{"))
    return [json.loads(line) for line in lines[first:] if line.strip()]


def failing_openapi_attempt(server: ServerProcess, repo: Path) -> dict[str, Any]:
    project = server.api(
        "POST", "/api/projects", json={"path": str(repo), "scripts": {"openapi": "exit 4"}}
    )
    task = server.api("POST", f"/api/projects/{project['id']}/tasks", json={"title": "Spec"})
    attempt: dict[str, Any] = server.api(
        "POST", f"/api/tasks/{task['id']}/attempts", json={"agent": {"command": "true"}}
    )
    wait_for(
        lambda: server.api("GET", f"/api/attempts/{attempt['id']}")["status"] == "awaiting_review",
        60,
    )
    return attempt


def test_a_failure_is_logged_with_its_debug_id_and_request_id(
    server: ServerProcess, tmp_path: Path
) -> None:
    attempt = failing_openapi_attempt(server, make_repo(tmp_path / "repo"))
    response = server.client.post(f"/api/attempts/{attempt['id']}/openapi")
    assert response.status_code == 500, response.text
    debug_id = response.json()["debug_id"]
    request_id = response.headers["x-request-id"]

    def logged() -> list[dict[str, Any]]:
        return [line for line in log_lines(server) if line.get("debug_id") == debug_id]

    lines = wait_for(logged)
    answer = next(line for line in lines if line["logger"] == "paddock.web")
    assert answer["level"] == "error" and "openapi_script_failed" in answer["message"]
    assert answer["request_id"] == request_id
    # The failed script's own line (services) was written while answering the same request.
    assert {line["logger"] for line in lines} == {"paddock", "paddock.web"}
    assert {line["request_id"] for line in lines} == {request_id}


def test_every_line_is_a_json_object_with_the_fields(server: ServerProcess) -> None:
    server.api("GET", "/api/projects")
    lines = log_lines(server)
    assert any(line["logger"].startswith("uvicorn") for line in lines)  # uvicorn's own, too
    for line in lines:
        assert {"time", "level", "logger", "message"} <= set(line), line
        assert line["time"].endswith("Z") and line["level"] in ("debug", "info", "warning", "error")


def test_a_request_id_sent_by_the_client_is_kept_and_logged(server: ServerProcess) -> None:
    # A request the access guard refuses (a foreign Origin), which it logs.
    headers = {"X-Request-ID": "trace-42.a", "Origin": "http://evil.example"}
    response = server.client.get("/api/projects", headers=headers)
    assert response.status_code == 403
    assert response.headers["x-request-id"] == "trace-42.a"
    refused = wait_for(
        lambda: [line for line in log_lines(server) if line.get("request_id") == "trace-42.a"]
    )
    assert "refused GET /api/projects" in refused[0]["message"]

    # An id that is not a sane token (too long, spaces) is replaced by one of the server's.
    for sent in ("x" * 65, "two words"):
        answer = server.client.get("/api/health", headers={"X-Request-ID": sent})
        assert answer.headers["x-request-id"] != sent
        assert len(answer.headers["x-request-id"]) == 16


@pytest.fixture
def captured() -> Iterator[io.StringIO]:
    """What Paddock's web layer logs, as JSON lines."""
    out = io.StringIO()
    handler = logging.StreamHandler(out)
    handler.setFormatter(JsonFormatter())
    web = logging.getLogger("paddock.web")
    web.addHandler(handler)
    try:
        yield out
    finally:
        web.removeHandler(handler)


def test_an_unexpected_error_is_logged_with_the_ids_its_answer_carries(
    tmp_path: Path, captured: io.StringIO
) -> None:
    """A 500 is answered by Starlette's outermost error handler: the request's id is set
    around it too, and its answer names the id."""
    app = create_app(Settings(data_dir=tmp_path / "data", token=TOKEN))

    async def boom() -> None:
        raise RuntimeError("a bug")

    app.add_api_route("/api/boom", boom)
    client = TestClient(
        app,
        base_url="http://127.0.0.1:8765",
        headers={"Authorization": f"Bearer {TOKEN}"},
        raise_server_exceptions=False,
    )
    response = client.get("/api/boom")
    assert response.status_code == 500 and response.json()["code"] == "internal_error"
    [line] = [json.loads(text) for text in captured.getvalue().splitlines()]
    assert line["debug_id"] == response.json()["debug_id"]
    assert line["request_id"] == response.headers["x-request-id"]
    assert "RuntimeError: a bug" in line["exception"]
    assert REQUEST_ID.get() is None  # nothing of the request outlives it


def test_the_formatter_takes_a_debug_id_from_the_record_or_its_message() -> None:
    formatter = JsonFormatter()
    record = logging.LogRecord("paddock", logging.WARNING, __file__, 1, "x %s", ("y",), None)
    assert json.loads(formatter.format(record)) == {
        "time": json.loads(formatter.format(record))["time"],
        "level": "warning",
        "logger": "paddock",
        "message": "x y",
    }
    record.debug_id = "abc123"
    assert json.loads(formatter.format(record))["debug_id"] == "abc123"
    said = logging.LogRecord(
        "paddock", logging.ERROR, __file__, 1, "failed [debug_id=%s]", ("d00d",), None
    )
    token = REQUEST_ID.set("r1")
    try:
        line = json.loads(formatter.format(said))
    finally:
        REQUEST_ID.reset(token)
    assert (line["debug_id"], line["request_id"]) == ("d00d", "r1")
