"""Previews: a running dev server of an attempt, reached through the proxy at a stable host.

The rules here are pure: host names, the command a service runs, what a dev server's log says
about its port, and the preview's states.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from paddock.domain.errors import Conflict, InvalidInput

DEFAULT_SERVICE = "web"  # the project's dev script
PORT_PLACEHOLDER = "{port}"
# A DNS label: what a service name may be, so that `<service>-<slug>` is a host name.
SERVICE_NAME = re.compile(r"^[a-z][a-z0-9-]{0,19}$")
_ANSI = re.compile(r"\x1b\[[0-9;?]*[ -/]*[@-~]|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)")
# URLs a dev server prints for where it listens (Vite's "Local: http://localhost:5173/").
_LOCAL_URL = re.compile(
    r"\bhttps?://(?:localhost|127\.0\.0\.1|0\.0\.0\.0|\[::1?\]|\[::\]):(\d{2,5})\b", re.I
)
_ADDRESS_IN_USE = re.compile(
    r"EADDRINUSE|address already in use|port \d+ is (?:already )?in use|"
    r"port is already allocated|Only one usage of each socket address",
    re.I,
)


class PreviewStatus(StrEnum):
    starting = "starting"  # the dev server runs; not answering yet
    running = "running"  # it answered: the proxy serves it
    stopped = "stopped"  # stopped by a user, its TTL, or its attempt
    failed = "failed"  # it exited or never answered; see `error`

    @property
    def active(self) -> bool:
        return self in (PreviewStatus.starting, PreviewStatus.running)


_MOVES: dict[PreviewStatus, frozenset[PreviewStatus]] = {
    PreviewStatus.starting: frozenset(
        {PreviewStatus.running, PreviewStatus.stopped, PreviewStatus.failed}
    ),
    PreviewStatus.running: frozenset(
        {PreviewStatus.starting, PreviewStatus.stopped, PreviewStatus.failed}
    ),
    PreviewStatus.stopped: frozenset({PreviewStatus.starting}),
    PreviewStatus.failed: frozenset({PreviewStatus.starting}),
}


def check_preview_move(current: PreviewStatus, new: PreviewStatus) -> None:
    if new != current and new not in _MOVES[current]:
        raise Conflict(
            f"a preview cannot go from {current.value} to {new.value}", code="bad_preview_state"
        )


@dataclass(frozen=True, slots=True)
class Service:
    """A dev service of a project: `web` is the dev script; more may be declared."""

    name: str
    command: str


@dataclass(frozen=True, slots=True)
class Preview:
    id: str
    attempt_id: str
    project_id: str
    service: str
    command: str
    host: str  # the host label under the preview domain: "<slug>" or "<service>-<slug>"
    port: int | None  # held while starting or running; None once stopped
    process_id: str | None  # the dev server's current process
    status: PreviewStatus
    error: str | None  # why it failed, with the dev server's last log lines
    debug_id: str | None
    notice: str | None  # what the user should know, e.g. the app ignored PORT
    token_hash: str  # sha256 of the preview's token (tests pass the guard with the token)
    last_access_at: datetime | None
    created_at: datetime
    updated_at: datetime


@dataclass(frozen=True, slots=True)
class PreviewView:
    """A preview as the API and events show it: its URL, never its token hash."""

    id: str
    attempt_id: str
    project_id: str
    service: str
    command: str
    host: str
    url: str
    port: int | None
    process_id: str | None
    status: PreviewStatus
    error: str | None
    debug_id: str | None
    notice: str | None
    last_access_at: datetime | None
    created_at: datetime
    updated_at: datetime


def main_running(previews: list[Preview]) -> Preview | None:
    """The running preview an attempt's API is reached at: its web service's, else any."""
    running = [p for p in previews if p.status is PreviewStatus.running]
    return next((p for p in running if p.service == DEFAULT_SERVICE), None) or next(
        iter(running), None
    )


# What the preview tab's address bar may send: a path on the preview's own host (never
# another host: the link is the preview's URL with this appended), no control characters.
MAX_PATH_CHARS = 2048
_UNSAFE_PATH = re.compile(r"[\x00-\x20\x7f\\]")


@dataclass(frozen=True, slots=True)
class PreviewPath:
    """A place inside a preview: its path (with its query), and a fragment kept apart (a link's
    ticket goes in the query, before it)."""

    path: str = "/"
    fragment: str = ""

    @classmethod
    def of(cls, raw: str) -> PreviewPath:
        text = raw.strip()
        if len(text) > MAX_PATH_CHARS:
            raise InvalidInput(
                f"a preview path has at most {MAX_PATH_CHARS} characters", code="bad_preview_path"
            )
        if _UNSAFE_PATH.search(text.replace(" ", "%20")):
            raise InvalidInput(
                "a preview path has no control characters nor backslashes", code="bad_preview_path"
            )
        path, _, fragment = text.replace(" ", "%20").partition("#")
        return cls("/" + path.lstrip("/"), fragment)

    def link(self, base: str, *params: tuple[str, str]) -> str:
        """`base` (the preview's URL, ending in "/") at this place, with `params` added to the
        query (the fragment after them)."""
        path, _, query = self.path.partition("?")
        extra = "&".join(f"{k}={v}" for k, v in params)
        query = "&".join(q for q in (query, extra) if q)
        return (
            base.rstrip("/")
            + path
            + (f"?{query}" if query else "")
            + (f"#{self.fragment}" if self.fragment else "")
        )


def check_service_name(name: str) -> None:
    if not SERVICE_NAME.match(name):
        raise InvalidInput(
            f"service name {name!r} must be lowercase letters, digits and '-' (up to 20), "
            "starting with a letter",
            code="bad_service_name",
        )


def preview_slug(attempt_id: str) -> str:
    """The attempt's part of its preview hosts: stable for the attempt's life."""
    return attempt_id[:10].lower()


def host_label(attempt_id: str, service: str, *, only_service: bool) -> str:
    """`<slug>` for a project's single dev service, `<service>-<slug>` when there are several."""
    slug = preview_slug(attempt_id)
    return slug if only_service and service == DEFAULT_SERVICE else f"{service}-{slug}"


def service_env_name(service: str) -> str:
    """The variable another service finds this one's URL in: PADDOCK_SERVICE_API_URL."""
    return f"PADDOCK_SERVICE_{service.upper().replace('-', '_')}_URL"


def substitute_port(command: str, port: int) -> str:
    return command.replace(PORT_PLACEHOLDER, str(port))


def strip_ansi(text: str) -> str:
    return _ANSI.sub("", text)


def port_in_log(line: str) -> int | None:
    """The port of a local URL a dev server printed, if the line has one."""
    match = _LOCAL_URL.search(strip_ansi(line))
    if match is None:
        return None
    port = int(match.group(1))
    return port if 0 < port < 65536 else None


def says_address_in_use(line: str) -> bool:
    return _ADDRESS_IN_USE.search(strip_ansi(line)) is not None
