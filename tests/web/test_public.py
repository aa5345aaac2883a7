"""PublicJson: every JSON answer leaves with its secret values masked (web/public.py)."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator

from starlette.applications import Starlette
from starlette.responses import JSONResponse, PlainTextResponse, Response, StreamingResponse
from starlette.routing import Route
from starlette.testclient import TestClient

from paddock.domain.secrets import MASK
from paddock.web.public import PublicJson, public_body

AGENT = {"agent": {"env": {"MARKED": "hunter2-value", "PLAIN": "p"}, "secret_env": ["MARKED"]}}


def test_public_body_masks_and_leaves_the_rest_alone() -> None:
    shown = json.loads(public_body(json.dumps(AGENT).encode()))
    assert shown["agent"]["env"] == {"MARKED": MASK, "PLAIN": "p"}
    plain = b'{"id":"x","text":"no environment here"}'
    assert public_body(plain) is plain
    broken = b'{"env": oops'
    assert public_body(broken) is broken


def app() -> PublicJson:
    async def attempt(_request: object) -> Response:
        return JSONResponse(AGENT)

    async def text(_request: object) -> Response:
        return PlainTextResponse(json.dumps(AGENT))

    async def stream(_request: object) -> Response:
        async def chunks() -> AsyncIterator[bytes]:
            yield json.dumps(AGENT).encode()
            yield b""

        return StreamingResponse(chunks(), media_type="application/json")

    routes = [Route("/a", attempt), Route("/t", text), Route("/s", stream)]
    return PublicJson(Starlette(routes=routes))


def test_json_answers_are_masked_with_their_length_right() -> None:
    client = TestClient(app())
    response = client.get("/a")
    assert response.json()["agent"]["env"] == {"MARKED": MASK, "PLAIN": "p"}
    assert int(response.headers["content-length"]) == len(response.content)
    assert "hunter2-value" not in response.text


def test_other_answers_pass_as_they_are() -> None:
    client = TestClient(app())
    assert "hunter2-value" in client.get("/t").text  # not JSON: not an API document
    assert "hunter2-value" in client.get("/s").text  # streamed (a downloaded file)
