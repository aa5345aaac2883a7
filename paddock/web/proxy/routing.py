"""The preview proxy in front of Paddock's app: requests for a preview host go to its dev
server, the rest to Paddock.

Routing is by the Host header alone (`<label>.<preview_domain>[:port]`): a client that cannot
resolve `*.localhost` connects to 127.0.0.1 and sends the preview's Host. The path fallback
`/preview/<id>/...` serves apps where host routing is impossible; its pages get a CSP
`sandbox` so they run as an opaque origin, not as Paddock's.

The guard: an Open link's one-time ticket (`?paddock_ticket=`) is redeemed for a cookie on the
preview's host and the browser is sent to the clean URL; after that the cookie (or the
`X-Paddock-Preview-Key` header) lets requests through. Anything else gets a 401 page from
Paddock and never reaches the app. The proxy only ever connects to the upstream of a running
preview it runs itself: never to a host or port taken from the request.
"""

from __future__ import annotations

import html
import json
from typing import Any
from urllib.parse import parse_qsl, quote, urlencode

from paddock.services.engine import Engine
from paddock.services.previews.preview_access import (
    COOKIE,
    EMBED_COOKIE,
    EMBED_PARAM,
    KEY_HEADER,
    TICKET_PARAM,
)
from paddock.services.previews.preview_run import ServiceRun
from paddock.services.server_access import session_cookie_name
from paddock.web.access import cookie_values
from paddock.web.proxy import http, websocket
from paddock.web.proxy.http import Receive, Scope, Send, Target

FALLBACK = "/preview/"
# Paddock's own pages: no preview (another origin) may frame them.
_NO_FRAMING = (b"x-frame-options", b"SAMEORIGIN")
_SANDBOX_CSP = b"sandbox allow-scripts allow-forms allow-popups allow-modals allow-downloads"


def _header(scope: Scope, name: bytes) -> bytes | None:
    headers = scope["headers"]
    assert isinstance(headers, list)
    for key, value in headers:
        if key == name:
            assert isinstance(value, bytes)
            return value
    return None


class PreviewProxy:
    def __init__(self, app: Any, engine: Engine) -> None:
        self.app = app
        self.engine = engine
        self.pool = http.Pool()
        self.suffix = "." + engine.settings.previews.domain.lower().strip(".")
        self.session_cookie = session_cookie_name(engine.settings)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        host = (_header(scope, b"host") or b"").decode("latin-1").lower()
        name = host.rsplit(":", 1)[0] if not host.endswith("]") else host
        if name.endswith(self.suffix):
            await self._serve(scope, receive, send, label=name[: -len(self.suffix)], host=host)
            return
        path = str(scope["path"])
        if path.startswith(FALLBACK):
            preview_id = path[len(FALLBACK) :].split("/", 1)[0]
            await self._serve(scope, receive, send, preview_id=preview_id, host=host)
            return
        scope = _only_cookie(scope, self.session_cookie)
        await self.app(scope, receive, _with_header(send, *_NO_FRAMING))

    async def _serve(
        self,
        scope: Scope,
        receive: Receive,
        send: Send,
        *,
        host: str,
        label: str | None = None,
        preview_id: str | None = None,
    ) -> None:
        previews = self.engine.previews
        run = previews.route(label) if label is not None else previews.run_of(preview_id or "")
        if run is None or run.upstream is None:
            await self._not_running(scope, send, label, preview_id)
            return
        prefix = f"{FALLBACK}{run.preview.id}" if label is None else ""
        if not await self._let_in(scope, send, run, prefix):
            return
        previews.touch(run.preview.id)
        scheme = self.engine.settings.previews.scheme
        target = Target(
            upstream=run.upstream,
            origin=f"{scheme}://{host}".encode("latin-1"),
            prefix=prefix.encode(),
            drop_cookies=(COOKIE.encode(), EMBED_COOKIE.encode()),
        )
        if scope["type"] == "websocket":
            await websocket.relay(scope, receive, send, target)
            return
        if prefix:
            send = _with_header(send, b"content-security-policy", _SANDBOX_CSP)
        try:
            await http.forward(scope, receive, send, target, self.pool)
        except http.UpstreamError as exc:
            await _page(scope, send, 502, "preview_unreachable", str(exc))

    async def _let_in(self, scope: Scope, send: Send, run: ServiceRun, prefix: str) -> bool:
        """Whether the request may pass; if not, the answer was sent."""
        access = self.engine.previews.access
        preview = run.preview
        query = scope.get("query_string") or b""
        assert isinstance(query, bytes)
        params = parse_qsl(query.decode("latin-1"), keep_blank_values=True)
        ticket = next((v for k, v in params if k == TICKET_PARAM), None)
        if ticket is not None and scope["type"] == "http":
            if await access.redeem(preview, ticket):
                await _redeemed(scope, send, access.key(preview), params, prefix)
            else:
                await _page(
                    scope,
                    send,
                    401,
                    "preview_ticket_used",
                    "This link was used already or has expired: open the preview again from "
                    "Paddock.",
                )
            return False
        # Every value: a preview's own script may have planted one for our name (with a longer
        # path, sent first); it cannot lock the user out, nor does it let anyone in.
        cookies = _header(scope, b"cookie")
        presented = [
            *cookie_values(cookies, COOKIE),
            *cookie_values(cookies, EMBED_COOKIE),
            (_header(scope, KEY_HEADER.encode()) or b"").decode("latin-1") or None,
        ]
        if any(access.allows(preview, value) for value in presented):
            return True
        if scope["type"] == "websocket":
            await send({"type": "websocket.close", "code": 1008})
        else:
            await _page(
                scope,
                send,
                401,
                "preview_unauthorized",
                "This preview is private: open it from Paddock (its Open button).",
            )
        return False

    async def _not_running(
        self, scope: Scope, send: Send, label: str | None, preview_id: str | None
    ) -> None:
        previews = self.engine.previews
        found = None
        if label is not None:
            found = await previews.find_by_host(label)
        elif preview_id:
            found = await previews.find(preview_id)
        if scope["type"] == "websocket":
            await send({"type": "websocket.close", "code": 1013 if found else 1008})
            return
        if found is None:
            await _page(scope, send, 404, "preview_not_found", "There is no preview here.")
            return
        await _page(
            scope,
            send,
            503,
            "preview_not_running",
            f"The preview of {found.service} is {found.status.value}: start it in Paddock."
            + (f"\n\n{found.error}" if found.error else ""),
        )


async def _redeemed(
    scope: Scope, send: Send, key: str, params: list[tuple[str, str]], prefix: str
) -> None:
    """Set the cookie and send the browser to the URL without the ticket."""
    # As the browser sent it (percent-encoded): a decoded path may not fit in a header.
    raw = scope.get("raw_path")
    path = raw.decode("latin-1") if isinstance(raw, bytes) else quote(str(scope["path"]))
    rest = [(k, v) for k, v in params if k not in (TICKET_PARAM, EMBED_PARAM)]
    location = path + ("?" + urlencode(rest) if rest else "")
    if any(k == EMBED_PARAM for k, _ in params):
        attributes = "SameSite=None; Secure; Partitioned"
        cookie = f"{EMBED_COOKIE}={key}; Path={prefix or '/'}; HttpOnly; {attributes}"
    else:
        cookie = f"{COOKIE}={key}; Path={prefix or '/'}; HttpOnly; SameSite=Lax"
    await send(
        {
            "type": "http.response.start",
            "status": 303,
            "headers": [
                (b"location", location.encode("latin-1")),
                (b"set-cookie", cookie.encode("latin-1")),
                (b"cache-control", b"no-store"),
                (b"content-length", b"0"),
            ],
        }
    )
    await send({"type": "http.response.body", "body": b""})


def _wants_json(scope: Scope) -> bool:
    accept = (_header(scope, b"accept") or b"").lower()
    return b"application/json" in accept and b"text/html" not in accept


async def _page(scope: Scope, send: Send, status: int, code: str, message: str) -> None:
    """An answer from Paddock itself (the app is never asked): JSON, or a small page."""
    if _wants_json(scope):
        body = json.dumps({"code": code, "message": message}).encode()
        kind = b"application/json"
    else:
        text = html.escape(message).replace("\n", "<br>")
        body = (
            "<!doctype html><meta charset=utf-8><title>Paddock preview</title>"
            "<body style='font:16px system-ui;margin:3rem;max-width:40rem'>"
            f"<h1>Paddock preview</h1><p>{text}</p><p><small>{code}</small></p>"
        ).encode()
        kind = b"text/html; charset=utf-8"
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", kind),
                (b"content-length", str(len(body)).encode()),
                (b"cache-control", b"no-store"),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})


def _with_header(send: Send, name: bytes, value: bytes) -> Send:
    async def wrapped(message: dict[str, object]) -> None:
        if message["type"] == "http.response.start":
            headers = list(message.get("headers") or [])  # type: ignore[call-overload]
            headers.append((name, value))
            message = {**message, "headers": headers}
        await send(message)

    return wrapped


def _only_cookie(scope: Scope, name: str) -> Scope:
    """Paddock's app sees its session cookie and no other: whatever else a browser sends its
    host (a preview's script may set cookies for `localhost`) never reaches it."""
    headers = scope["headers"]
    assert isinstance(headers, list)
    if not any(key == b"cookie" for key, _ in headers):
        return scope
    kept = [(k, v) for k, v in headers if k != b"cookie"]
    values = cookie_values(_header(scope, b"cookie"), name)
    if values:
        kept.append((b"cookie", "; ".join(f"{name}={v}" for v in values).encode("latin-1")))
    return {**scope, "headers": kept}
