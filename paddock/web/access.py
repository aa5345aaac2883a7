"""The doors in front of Paddock's UI and API (docs/security.md, decision 012).

`HostGuard` (outermost): a request whose `Host` is neither ours nor a preview's is refused
(421 `host_not_allowed`), so a website rebinding its DNS name to 127.0.0.1 gets nothing.

`AccessGuard` (in front of the app, behind the preview proxy): every request proves it comes
from Paddock's user, by `Authorization: Bearer <token>` or by the session cookie, and a browser's
request proves it comes from Paddock's own pages: a foreign `Origin` is refused on every method,
and a state-changing request that carries the session cookie must name our origin in `Origin`
(or `Referer`). The cookie is SameSite=Strict on top of that. Previews are on other hosts, so a
preview page is another origin; the path fallback's pages run as an opaque origin (`null`).
"""

from __future__ import annotations

import json
import logging
from urllib.parse import parse_qsl, quote, urlencode

from starlette.types import ASGIApp, Receive, Scope, Send

from paddock.domain.origins import (
    SAFE_METHODS,
    host_name,
    is_allowed_host,
    is_same_origin,
    origin_of,
)
from paddock.services.server_access import ServerAccess

log = logging.getLogger("paddock")

TOKEN_PARAM = "token"
LOGIN_PATH = "/login"
# Reachable without signing in: the sign-in page itself and the UI's static files.
_PUBLIC_PREFIXES = ("/static/",)
_PUBLIC_PATHS = frozenset({LOGIN_PATH, "/favicon.ico"})
RUNNER_SESSION_PATH = "/api/runner/session"  # web/api/runners.py


def _headers(scope: Scope) -> dict[bytes, bytes]:
    """The request's headers by lowercase name (the first of repeated ones)."""
    found: dict[bytes, bytes] = {}
    for key, value in scope.get("headers") or []:
        found.setdefault(key, value)
    return found


def cookie_values(raw: bytes | None, name: str) -> list[str]:
    """Every value a Cookie header gives `name`: a page on a sibling host (a preview) may have
    set one of its own for our name with a longer path, which the browser then sends first."""
    if raw is None:
        return []
    found = []
    for part in raw.decode("latin-1").split(";"):
        key, _, value = part.strip().partition("=")
        if key == name:
            found.append(value)
    return found


def cookie_value(raw: bytes | None, name: str) -> str | None:
    values = cookie_values(raw, name)
    return values[0] if values else None


def session_cookie(access: ServerAccess, value: str, *, secure: bool) -> str:
    attributes = f"Path=/; Max-Age={access.session_seconds}; HttpOnly; SameSite=Strict"
    return f"{access.cookie_name}={value}; {attributes}" + ("; Secure" if secure else "")


async def _respond(
    send: Send, status: int, body: bytes, headers: list[tuple[bytes, bytes]]
) -> None:
    headers = [*headers, (b"content-length", str(len(body)).encode())]
    headers.append((b"cache-control", b"no-store"))
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


async def _refuse(
    scope: Scope, send: Send, status: int, code: str, message: str, **extra: str
) -> None:
    if scope["type"] == "websocket":
        await send({"type": "websocket.close", "code": 1008})
        return
    body = json.dumps({"code": code, "message": message}).encode()
    headers = [(b"content-type", b"application/json")]
    headers += [(k.replace("_", "-").lower().encode(), v.encode()) for k, v in extra.items()]
    await _respond(send, status, body, headers)


class HostGuard:
    """Refuses any `Host` that is not Paddock's or a preview's (DNS rebinding)."""

    def __init__(self, app: ASGIApp, allowed_hosts: list[str], preview_domain: str) -> None:
        self.app = app
        self.allowed = list(allowed_hosts)
        self.preview_suffix = "." + preview_domain.lower().strip(".")

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] in ("http", "websocket"):
            name = host_name(_headers(scope).get(b"host", b"").decode("latin-1"))
            if not (name.endswith(self.preview_suffix) or is_allowed_host(name, self.allowed)):
                log.warning("refused a request for host %r", name[:200])
                await _refuse(
                    scope,
                    send,
                    421,
                    "host_not_allowed",
                    f"this server does not answer to the host {name[:200]!r}; add it to "
                    "PADDOCK_ALLOWED_HOSTS if it is yours",
                )
                return
        await self.app(scope, receive, send)


class AccessGuard:
    """Authentication and same-origin proof for everything that is not a preview."""

    def __init__(self, app: ASGIApp, access: ServerAccess) -> None:
        self.app = app
        self.access = access

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "websocket":  # Paddock's own pages use none; previews never get here
            await _refuse(scope, send, 403, "forbidden", "no WebSocket here")
            return
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = _headers(scope)
        method = str(scope["method"])
        path = str(scope["path"])
        cookies = cookie_values(headers.get(b"cookie"), self.access.cookie_name)
        problem = self._cross_site_problem(headers, method, has_cookie=bool(cookies))
        if problem is not None:
            log.warning("refused %s %s: %s", method, path, problem)
            await _refuse(scope, send, 403, "cross_origin_request", problem)
            return
        if path in _PUBLIC_PATHS or path.startswith(_PUBLIC_PREFIXES):
            await self.app(scope, receive, send)
            return
        if path == RUNNER_SESSION_PATH and method == "POST":
            # A runner's one door, with its own token: the route checks it, and a runner's
            # token opens nothing else (every other path wants the user's).
            await self.app(scope, receive, send)
            return
        bearer = _bearer(headers.get(b"authorization"))
        if bearer is not None:
            if self.access.token_valid(bearer):
                await self.app(scope, receive, send)
            else:
                await _refuse(scope, send, 401, "bad_token", "the API token is not valid")
            return
        if any(self.access.session_valid(cookie) for cookie in cookies):
            await self.app(scope, receive, send)
            return
        query = parse_qsl(bytes(scope.get("query_string") or b"").decode("latin-1"), True)
        token = next((v for k, v in query if k == TOKEN_PARAM), None)
        if method == "GET" and token is not None and self.access.token_valid(token):
            await self._sign_in(scope, send, path, query)
            return
        await self._unauthenticated(scope, send, headers, method, path)

    def _cross_site_problem(
        self, headers: dict[bytes, bytes], method: str, *, has_cookie: bool
    ) -> str | None:
        """Why this request may come from another site's page, or None."""
        host = headers.get(b"host", b"").decode("latin-1")
        origin = headers.get(b"origin", b"").decode("latin-1") or None
        if origin is not None and not is_same_origin(origin.lower(), host):
            return f"requests from the origin {origin[:200]!r} are refused"
        fetch_site = headers.get(b"sec-fetch-site", b"").decode("latin-1")
        navigating = headers.get(b"sec-fetch-mode", b"").decode("latin-1") == "navigate"
        if fetch_site in ("cross-site", "same-site") and (
            method not in SAFE_METHODS or not navigating
        ):
            return f"a {fetch_site} request is refused: use Paddock's own pages"
        if method in SAFE_METHODS or origin is not None:
            return None
        referer = origin_of(headers.get(b"referer", b"").decode("latin-1"))
        if referer is not None:
            return None if is_same_origin(referer, host) else "the Referer is another site"
        if has_cookie:
            return "a browser's request that changes something must carry its Origin"
        return None

    async def _sign_in(
        self, scope: Scope, send: Send, path: str, query: list[tuple[str, str]]
    ) -> None:
        """The URL `paddock serve` printed: set the session cookie, go to the clean URL."""
        rest = [(k, v) for k, v in query if k != TOKEN_PARAM]
        location = quote(path) + ("?" + urlencode(rest) if rest else "")
        cookie = session_cookie(
            self.access, self.access.new_session(), secure=scope.get("scheme") == "https"
        )
        await _respond(
            send,
            303,
            b"",
            [(b"location", location.encode("latin-1")), (b"set-cookie", cookie.encode())],
        )

    async def _unauthenticated(
        self, scope: Scope, send: Send, headers: dict[bytes, bytes], method: str, path: str
    ) -> None:
        query = bytes(scope.get("query_string") or b"").decode("latin-1")
        here = path + ("?" + query if query else "")
        login = f"{LOGIN_PATH}?{urlencode({'next': here})}"
        accept = headers.get(b"accept", b"").decode("latin-1")
        if b"hx-request" in headers:
            current = headers.get(b"hx-current-url", b"").decode("latin-1")
            target = f"{LOGIN_PATH}?{urlencode({'next': current})}" if current else LOGIN_PATH
            await _refuse(scope, send, 401, "unauthorized", "sign in again", HX_Redirect=target)
        elif method == "GET" and "text/html" in accept and not path.startswith("/api/"):
            await _respond(send, 303, b"", [(b"location", login.encode("latin-1"))])
        else:
            await _refuse(
                scope,
                send,
                401,
                "unauthorized",
                "sign in: send `Authorization: Bearer <token>` (the token is in the data "
                "dir's `token` file; `paddock token` prints it)",
                WWW_Authenticate="Bearer",
            )


def _bearer(raw: bytes | None) -> str | None:
    if raw is None:
        return None
    scheme, _, value = raw.decode("latin-1").strip().partition(" ")
    return value.strip() if scheme.lower() == "bearer" else ""
