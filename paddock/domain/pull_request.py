"""Pull requests (merge requests on GitLab) opened for an attempt's branch on its forge."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from paddock.domain.errors import InvalidInput


class Forge(StrEnum):
    github = "github"
    gitlab = "gitlab"
    gitea = "gitea"


class PullRequestStatus(StrEnum):
    open = "open"
    merged = "merged"
    closed = "closed"


@dataclass(frozen=True, slots=True)
class PullRequest:
    id: str
    attempt_id: str
    forge: Forge
    repo: str  # owner/name (GitLab: the project's full path)
    number: int
    url: str
    status: PullRequestStatus
    via: str  # "gh", "glab" or "api": how it was opened (and is polled)
    created_at: datetime
    updated_at: datetime


_SCP = re.compile(r"^(?:[\w.-]+@)?(?P<host>[\w.-]+):(?P<path>[^/].*)$")  # git@host:owner/repo
_URL = re.compile(r"^[a-z+]+://(?:[^@/]+@)?(?P<host>[\w.-]+)(?::\d+)?/(?P<path>.+)$")


def parse_remote(url: str) -> tuple[str, str] | None:
    """(host, owner/repo) of a remote URL; None for a local path."""
    match = _URL.match(url) or (_SCP.match(url) if "://" not in url else None)
    if match is None:
        return None
    path = match.group("path").strip("/").removesuffix(".git")
    return (match.group("host").lower(), path) if "/" in path else None


def forge_of_host(host: str) -> Forge:
    if host == "github.com" or host.startswith("github."):
        return Forge.github
    if "gitlab" in host:
        return Forge.gitlab
    return Forge.gitea  # self-hosted forges are most often Gitea/Forgejo: say `forge` otherwise


def check_repo(repo: str) -> str:
    parts = repo.split("/")
    if len(parts) < 2 or any(
        p in ("", ".", "..") or not re.fullmatch(r"[\w.-]+", p) for p in parts
    ):
        raise InvalidInput(f"{repo!r} is not owner/name", code="bad_repo")
    return repo
