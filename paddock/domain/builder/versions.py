"""Versions: a ready build's name (v0.1, v0.2 ...), kept as a git tag on the app's branch.
A rollback makes a new version whose tree is an old one's; history is never rewritten."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime

from paddock.domain.builder.builds import BuildSummary

_VERSION = re.compile(r"^v(\d+)\.(\d+)$")


@dataclass(frozen=True, slots=True)
class Version:
    id: str
    app_id: str
    name: str  # "v0.1"
    commit: str
    created_at: datetime
    build_id: str | None = None  # the build that made it; None for a rollback
    rolled_back_to: str | None = None  # the version whose tree a rollback restored
    summary: BuildSummary | None = None
    screenshot_id: str | None = None


def parse_version(name: str) -> tuple[int, int] | None:
    found = _VERSION.match(name)
    return (int(found.group(1)), int(found.group(2))) if found else None


def next_version(existing: list[str]) -> str:
    """v0.1 first, then the highest minor + 1 (a name that is not a version is ignored)."""
    numbers = [n for n in map(parse_version, existing) if n is not None]
    if not numbers:
        return "v0.1"
    major, minor = max(numbers)
    return f"v{major}.{minor + 1}"


def tag_name(prefix: str, version: str) -> str:
    """The git tag of `version`: `v0.1` in a repository Paddock made for the app; in one the
    founder brought, under the app's prefix (`my-app/v0.1`), clear of their own tags."""
    return f"{prefix}{version}"
