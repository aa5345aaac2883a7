"""Errors with stable codes. The web layer turns them into JSON; the CLI prints them."""

from __future__ import annotations

from typing import Any


class PaddockError(Exception):
    """A failure the user can act on. `code` is stable and documented; `message` is for people."""

    code = "paddock_error"
    http_status = 400

    def __init__(self, message: str, *, code: str | None = None, **details: Any) -> None:
        super().__init__(message)
        self.message = message
        if code is not None:
            self.code = code
        self.details = details


class Unauthorized(PaddockError):
    """A credential other than the user's (a runner's token) that is wrong or revoked."""

    code = "unauthorized"
    http_status = 401


class NotFound(PaddockError):
    code = "not_found"
    http_status = 404


class Conflict(PaddockError):
    code = "conflict"
    http_status = 409


class InvalidInput(PaddockError):
    code = "invalid_input"
    http_status = 422


class Unavailable(PaddockError):
    """Something Paddock depends on (a binary, an asset) is missing on this machine."""

    code = "unavailable"
    http_status = 503


class RunFailure(PaddockError):
    """A failure inside a run (git, a process); its debug_id is also in the server log."""

    code = "run_failed"
    http_status = 500

    def __init__(self, message: str, *, debug_id: str, code: str | None = None, **details: Any):
        super().__init__(message, code=code, **details)
        self.debug_id = debug_id
