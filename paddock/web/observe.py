"""Every request's id and timing: the outermost layer of the app, around even the handler of
unexpected errors, so a 500's log line carries the id the answer's header names.

The id is the request's `X-Request-ID` when it sends a sane one (a proxy in front chose it),
else a new one; every answer of Paddock's own carries it back, and every log line written while
answering has it (runtime/server_log.py). A preview's answers are its app's: they get no header
(by host or by the path fallback `/preview/<id>/`).

The time goes into `paddock_http_request_duration_seconds` by the route's path template
(`/api/attempts/{attempt_id}`), never the raw path: its labels stay bounded however many
attempts there are.
"""

from __future__ import annotations

import re
import secrets
import time
from collections.abc import Callable
from typing import Any

from fastapi import FastAPI
from fastapi.routing import iter_route_contexts
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from paddock.domain.origins import host_name
from paddock.runtime.server_log import REQUEST_ID
from paddock.services import counters
from paddock.web import metrics
from paddock.web.proxy.routing import FALLBACK

HEADER = b"x-request-id"
_SANE_ID = re.compile(rb"[A-Za-z0-9._:-]{1,64}")
UNMATCHED = "(unmatched)"  # no route answered: a 404, or a guard refused the request first
PREVIEW = "(preview)"  # a request for a preview, answered by the preview proxy
# Any other method (anyone can send one, signed in or not) is "OTHER": labels stay bounded.
_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})


def _request_id(scope: Scope) -> str:
    for key, value in scope.get("headers") or ():
        if key == HEADER and _SANE_ID.fullmatch(value):
            return bytes(value).decode("ascii")
    return secrets.token_hex(8)


def route_templates(app: Any) -> dict[int, str]:
    """Each route's full path template by the route object the router puts in the scope: an
    included router's route knows its own path, not the prefix it was included under."""
    return {id(found.original_route): str(found.path) for found in iter_route_contexts(app.routes)}


def route_template(scope: Scope, templates: dict[int, str]) -> str:
    """The path template of what answered the request."""
    route = scope.get("route")
    if route is not None:
        return templates.get(id(route)) or str(getattr(route, "path", UNMATCHED))
    if scope.get("endpoint") is not None:  # a mount (the static files): its whole subtree
        return f"{scope.get('root_path', '')}/{{path}}"
    return UNMATCHED


class RequestObserver:
    """Names each HTTP request and times it."""

    def __init__(self, app: ASGIApp, preview_domain: str) -> None:
        self.app = app
        self.preview_suffix = "." + preview_domain.lower().strip(".")
        self._templates: dict[int, str] | None = None  # made by the first request

    def _is_preview(self, scope: Scope) -> bool:
        """Served by the preview proxy (web/proxy/routing.py): by its host, or the path
        fallback."""
        if str(scope["path"]).startswith(FALLBACK):
            return True
        for key, value in scope.get("headers") or ():
            if key == b"host":
                return host_name(value.decode("latin-1")).endswith(self.preview_suffix)
        return False

    def _route(self, scope: Scope) -> str:
        if self._templates is None:
            self._templates = route_templates(scope["app"])
        return route_template(scope, self._templates)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        request_id = _request_id(scope)
        token = REQUEST_ID.set(request_id)
        preview = self._is_preview(scope)
        status = 500  # unless an answer starts

        async def answer(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                if not preview:
                    headers = list(message.get("headers") or [])
                    headers.append((HEADER, request_id.encode()))
                    message = {**message, "headers": headers}
            await send(message)

        try:
            await self.app(scope, receive, answer)
        finally:
            REQUEST_ID.reset(token)
            method = scope["method"] if scope["method"] in _METHODS else "OTHER"
            route = PREVIEW if preview else self._route(scope)
            counters.REQUEST_SECONDS.observe(
                time.perf_counter() - started, method, route, str(status)
            )


def install_observability(app: FastAPI, preview_domain: str) -> None:
    """/metrics, and a RequestObserver around the app's whole middleware stack (Starlette's
    error handler included: `add_middleware` would put it inside that handler)."""
    app.include_router(metrics.router)
    build: Callable[[], ASGIApp] = app.build_middleware_stack

    def build_observed() -> ASGIApp:
        return RequestObserver(build(), preview_domain)

    app.build_middleware_stack = build_observed  # type: ignore[method-assign]
