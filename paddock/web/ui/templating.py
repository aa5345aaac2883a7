"""The Jinja2 environment of the UI: templates, filters, and static URLs that change with the
package version so browsers never run stale scripts after an upgrade.

The environment is built on the first render: an idle server renders nothing, and Jinja2 with
Starlette's templating costs ~2 MB of its memory (bench/memory.py).
"""

from __future__ import annotations

from datetime import UTC, datetime
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from fastapi import Request
from starlette.responses import HTMLResponse

from paddock import __version__
from paddock.web.ui import present, sandbox_views

if TYPE_CHECKING:
    from starlette.templating import Jinja2Templates

TEMPLATES_DIR = Path(__file__).with_name("templates")


def ago(value: datetime | None, now: datetime | None = None) -> str:
    """ "3 min ago" and the like: short, for cards and lists."""
    if value is None:
        return ""
    seconds = int(((now or datetime.now(UTC)) - value).total_seconds())
    if seconds < 45:
        return "just now"
    for unit, size in (("d", 86400), ("h", 3600), ("min", 60)):
        if seconds >= size:
            return f"{seconds // size} {unit} ago"
    return f"{seconds} s ago"


def duration(start: datetime | None, end: datetime | None) -> str:
    if start is None:
        return ""
    seconds = ((end or datetime.now(UTC)) - start).total_seconds()
    if seconds < 1:
        return f"{seconds * 1000:.0f} ms"
    if seconds < 120:
        return f"{seconds:.1f} s"
    minutes, secs = divmod(int(seconds), 60)
    if minutes < 120:
        return f"{minutes} min {secs} s"
    return f"{minutes // 60} h {minutes % 60} min"


def iso(value: datetime | None) -> str:
    return "" if value is None else value.isoformat().replace("+00:00", "Z")


def static_url(path: str) -> str:
    return f"/static/{path}?v={__version__}"


@cache
def templates() -> Jinja2Templates:
    """The UI's templates, built on the first render."""
    from starlette.templating import Jinja2Templates

    built = Jinja2Templates(directory=TEMPLATES_DIR)
    built.env.filters.update(
        ago=ago,
        duration=duration,
        iso=iso,
        money=present.money,
        tokens=present.tokens,
        relative_path=present.relative_path,
        call_subject=present.call_subject,
        pretty_input=present.pretty_input,
        megabytes=present.megabytes,
        file_size=present.file_size,
        percent=present.percent,
        limit_hit=sandbox_views.limit_hit,
        limit_label=sandbox_views.limit_label,
    )
    built.env.globals.update(
        static=static_url, version=__version__, limit_fields=sandbox_views.LIMIT_FIELDS
    )
    # Templates ship with the package: no stat() of every included file on every render.
    built.env.auto_reload = False
    built.env.trim_blocks = True
    built.env.lstrip_blocks = True
    return built


def render(
    request: Request,
    name: str,
    context: dict[str, Any] | None = None,
    *,
    status_code: int = 200,
    headers: dict[str, str] | None = None,
) -> HTMLResponse:
    return templates().TemplateResponse(
        request, name, context or {}, status_code=status_code, headers=headers
    )


def render_fragment(name: str, **context: Any) -> str:
    """A template as a string, for server-sent fragments (no request around them)."""
    return templates().env.get_template(name).render(**context)
