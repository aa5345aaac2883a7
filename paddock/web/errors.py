"""Every error is JSON: {code, message} plus `debug_id` for failures inside a run."""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from fastapi.routing import iter_route_contexts
from starlette.exceptions import HTTPException
from starlette.routing import Match

from paddock.domain.errors import PaddockError, RunFailure
from paddock.domain.names import new_debug_id

log = logging.getLogger("paddock.web")

_HTTP_CODES = {404: "not_found", 405: "method_not_allowed", 401: "unauthorized"}


def error_body(code: str, message: str, **extra: Any) -> dict[str, Any]:
    return {"code": code, "message": message, **extra}


def _wants_page(request: Request) -> bool:
    """A browser navigating to a UI page (not the API, not an htmx request) gets HTML."""
    return (
        not request.url.path.startswith("/api/")
        and "hx-request" not in request.headers
        and "text/html" in request.headers.get("accept", "")
    )


def _respond(
    request: Request, body: dict[str, Any], status: int, headers: dict[str, str] | None = None
) -> Response:
    if _wants_page(request):
        from paddock.web.ui.templating import render

        return render(request, "error.html", {**body, "status": status}, status_code=status)
    return JSONResponse(body, status, headers=headers)


async def _paddock_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, PaddockError)
    extra = dict(exc.details)
    if isinstance(exc, RunFailure) or exc.http_status >= 500:
        # A failure inside a run (git, a process): the id ties the answer to the server log.
        debug_id = exc.debug_id if isinstance(exc, RunFailure) else new_debug_id()
        extra["debug_id"] = debug_id
        log.error("%s: %s %s [debug_id=%s]", exc.code, exc.message, exc.details, debug_id)
    return _respond(request, error_body(exc.code, exc.message, **extra), exc.http_status)


def validation_problem(
    errors: Sequence[Mapping[str, Any]], within: tuple[str, ...] = ()
) -> tuple[str, list[dict[str, str]]]:
    """A validation failure as every `validation_error` words it (the API's bodies and the
    UI's forms): the message and its `details`; `within` is put before each location."""
    details = [
        {
            "location": ".".join(str(p) for p in (*within, *err.get("loc", ()))),
            "message": str(err.get("msg", "")),
        }
        for err in errors
    ]
    summary = "; ".join(f"{d['location']}: {d['message']}" for d in details[:5])
    return f"invalid request: {summary}", details


async def _validation_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, RequestValidationError)
    message, details = validation_problem(exc.errors())
    body = error_body("validation_error", message, details=details)
    return _respond(request, body, 422)


def allowed_methods(request: Request) -> list[str]:
    """Every method some route answers on this path. Starlette's 405 names the methods of the
    first route whose path matched; GET and POST on one path are two routes."""
    found: set[str] = set()
    for route in iter_route_contexts(request.app.routes):
        methods = route.methods
        if methods and route.matches(request.scope)[0] is not Match.NONE:
            found |= methods
    return sorted(found)


async def _http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    code = _HTTP_CODES.get(exc.status_code, f"http_{exc.status_code}")
    headers = dict(getattr(exc, "headers", None) or {})
    if exc.status_code == 405:
        headers["Allow"] = ", ".join(allowed_methods(request)) or headers.get("Allow", "")
    return _respond(request, error_body(code, str(exc.detail)), exc.status_code, headers=headers)


async def _unexpected(request: Request, exc: Exception) -> Response:
    debug_id = new_debug_id()
    log.error(
        "unexpected error on %s %s [debug_id=%s]",
        request.method,
        request.url.path,
        debug_id,
        exc_info=exc,
    )
    message = "an unexpected error happened; the server log has details"
    body = error_body("internal_error", message, debug_id=debug_id)
    return _respond(request, body, 500)


def install_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(PaddockError, _paddock_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(HTTPException, _http_error)
    app.add_exception_handler(Exception, _unexpected)
