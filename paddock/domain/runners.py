"""Runners: the machines a team's Paddock runs attempts on (docs/scale-out.md).

A runner is made on the control plane, which shows its token once; the runner presents the
token to open a session and is then given credentials of its own for the engine between the
machines (docs/decisions/022). It beats every HEARTBEAT_S seconds with its capacity; one whose
last beat is older than LOST_AFTER_S is offline. Revoking a runner ends its access at once.
"""

from __future__ import annotations

import hashlib
import re
import secrets
from dataclasses import dataclass, field
from datetime import datetime

from paddock.domain.errors import InvalidInput

HEARTBEAT_S = 2.0
LOST_AFTER_S = 10.0
MAX_LABELS = 20
_LABEL = re.compile(r"[a-z0-9][a-z0-9_.-]{0,39}")
_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,62}")


@dataclass(frozen=True, slots=True)
class Runner:
    id: str
    name: str
    labels: list[str]
    created_at: datetime
    revoked_at: datetime | None = None

    @property
    def revoked(self) -> bool:
        return self.revoked_at is not None


@dataclass(frozen=True, slots=True)
class Capacity:
    """What a runner says it has, with each beat."""

    slots: int
    cpus: int
    memory_mb: int
    labels: list[str] = field(default_factory=list)


def check_runner_name(name: str) -> str:
    if not _NAME.fullmatch(name):
        raise InvalidInput(
            "a runner's name is 1-63 letters, digits, '.', '_' or '-', starting with a letter "
            "or digit",
            code="bad_runner_name",
        )
    return name


def check_labels(labels: list[str]) -> list[str]:
    if len(labels) > MAX_LABELS:
        raise InvalidInput(f"at most {MAX_LABELS} labels", code="bad_labels")
    for label in labels:
        if not _LABEL.fullmatch(label):
            raise InvalidInput(
                f"the label {label[:50]!r} is not 1-40 lowercase letters, digits, '.', '_' or '-'",
                code="bad_labels",
            )
    return sorted(set(labels))


def new_runner_token() -> str:
    return "pdr_" + secrets.token_urlsafe(32)


def token_hash(token: str) -> str:
    """What is stored of a runner's token: a token is random, so a plain hash is enough."""
    return hashlib.sha256(token.encode()).hexdigest()
