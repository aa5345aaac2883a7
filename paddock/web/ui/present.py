"""Small formatting helpers for the templates (registered as Jinja filters)."""

from __future__ import annotations

import json
from pathlib import PurePosixPath
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from pydantic import SecretStr

from paddock.domain.secrets import is_secret_name

INPUT_CHARS = 20_000  # a tool call's input is shown up to this many characters
# Keys of a tool call's input that say what it does when it names no file.
SUBJECT_KEYS = ("command", "pattern", "query", "url", "description", "prompt")
# A key's last characters are shown only when the key is long enough for that to reveal little.
SHOW_TAIL_FROM = 16


def money(value: float | None) -> str:
    """$1.23, $0.03, $0.0042: cents once there are any, two significant digits below."""
    if value is None:
        return ""
    if value >= 0.01 or value == 0:
        return f"${value:,.2f}"
    return f"${value:.2g}" if value >= 0.0001 else "<$0.0001"


def tokens(value: int) -> str:
    if value >= 10_000:
        return f"{value / 1000:,.0f}k"
    return f"{value:,}"


def megabytes(value: int | None) -> str:
    """Memory as limits are given: MB of 2^20 bytes ("48.2 MB", "512 MB", "1.5 GB")."""
    if value is None:
        return ""
    mb = value / 2**20
    if mb >= 1024:
        return f"{mb / 1024:.1f} GB"
    return f"{mb:.0f} MB" if mb >= 100 else f"{mb:.1f} MB"


def percent(value: float | None) -> str:
    """CPU use, of one core (200% = two cores busy)."""
    if value is None:
        return ""
    return f"{value:.0f}%" if value >= 10 else f"{value:.1f}%"


def relative_path(path: str, root: str) -> str:
    """A path as the worktree sees it: relative when inside it."""
    try:
        return str(PurePosixPath(path).relative_to(root)) if root else path
    except ValueError:
        return path


def call_subject(payload: dict[str, Any]) -> str:
    """What a tool call is about when it names no file: its command, pattern, query, URL."""
    tool_input = payload.get("input")
    if isinstance(tool_input, dict):
        for key in SUBJECT_KEYS:
            value = tool_input.get(key)
            if isinstance(value, str) and value.strip():
                return value.strip().splitlines()[0][:200]
    elif isinstance(tool_input, str):
        return tool_input.strip().splitlines()[0][:200] if tool_input.strip() else ""
    return ""


def pretty_input(value: Any) -> str:
    if isinstance(value, str):
        text = value
    else:
        text = json.dumps(value, indent=2, ensure_ascii=False, default=str)
    return text if len(text) <= INPUT_CHARS else text[:INPUT_CHARS] + "\n…"


def masked_key(value: SecretStr | str | None) -> str:
    """An API key as the UI shows it: whether it is set, and at most its last four characters
    (only when it is long enough for those to give nothing away). Never the key."""
    raw = value.get_secret_value() if isinstance(value, SecretStr) else value
    if not raw:
        return "not set"
    if len(raw) >= SHOW_TAIL_FROM:
        return f"set — ends in …{raw[-4:]}"
    return "set"


def masked_url(url: str | None) -> str:
    """A base URL with any password, and the values of secret-looking query parameters,
    hidden (gateways sometimes take a key in the URL)."""
    if not url:
        return "not set (the CLI's default)"
    try:
        parts = urlsplit(url)
        netloc = parts.netloc
        if parts.password is not None:
            user = parts.username or ""
            host = netloc.rsplit("@", 1)[1]
            netloc = f"{user}:***@{host}"
        query = urlencode(
            [(k, "***" if is_secret_name(k) else v) for k, v in parse_qsl(parts.query, True)],
            safe="*",
        )
        return urlunsplit((parts.scheme, netloc, parts.path, query, parts.fragment))
    except ValueError:
        return "(not a valid URL)"


def file_size(size: int) -> str:
    """A file's size for people: "512 B", "1.2 KB", "3.4 MB"."""
    if size < 1024:
        return f"{size} B"
    value = size / 1024
    for unit in ("KB", "MB"):
        if value < 1024:
            return f"{value:.1f} {unit}"
        value /= 1024
    return f"{value:.1f} GB"
