"""Every JSON answer leaves through `public_json`: no secret value in any response.

The services hand the web layer their entities whole (an attempt's agent with its env, which
the sandbox needs); what a client may see is decided here, once, on the way out, instead of in
each router. The event bus applies the same function to every event (runtime/events.py).

A JSON document (`application/json`, sent in one piece, as FastAPI renders every answer) that
may hold an `env` object is parsed, masked and written again; any other answer passes as it is.
A streamed body (a downloaded file) is not a document Paddock wrote and passes untouched.
"""

from __future__ import annotations

import json

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from paddock.domain.secrets import public_json

# Every object that can carry secret values has an `env` key (domain/secrets.py).
_MARKER = b'"env"'


def public_body(body: bytes) -> bytes:
    """`body` (a JSON document) with every secret value masked; itself when it holds none."""
    if _MARKER not in body:
        return body
    try:
        data = json.loads(body)
    except ValueError:
        return body
    shown = public_json(data)
    if shown is data:
        return body
    return json.dumps(shown, ensure_ascii=False, separators=(",", ":")).encode()


def _is_json(start: Message) -> bool:
    for name, value in start.get("headers", ()):
        if name.lower() == b"content-type":
            return bytes(value).split(b";")[0].strip().lower() == b"application/json"
    return False


class PublicJson:
    """ASGI middleware: JSON answers pass through `public_body`."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        held: Message | None = None

        async def send_public(message: Message) -> None:
            nonlocal held
            if message["type"] == "http.response.start" and _is_json(message):
                held = message  # sent with the body, once its length is known
                return
            if held is None or message["type"] != "http.response.body":
                await send(message)
                return
            start, held = held, None
            body = message.get("body", b"")
            if not message.get("more_body", False):
                shown = public_body(body)
                if shown is not body:
                    headers = [
                        (k, v) for k, v in start.get("headers", ()) if k != b"content-length"
                    ]
                    headers.append((b"content-length", str(len(shown)).encode()))
                    start = {**start, "headers": headers}
                    message = {**message, "body": shown}
            await send(start)
            await send(message)

        await self.app(scope, receive, send_public)
