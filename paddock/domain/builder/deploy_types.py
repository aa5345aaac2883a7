"""The values deploy readiness is made of (deploy.py): a check's status and result, a secret
the scanner found, and the outcome of a run (tests, production build) the service made."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class CheckStatus(StrEnum):
    pass_ = "pass"
    warn = "warn"
    fail = "fail"


@dataclass(frozen=True, slots=True)
class DeployCheck:
    id: str  # stable: "readme", "env_documented", "start_command", "secrets", ...
    title: str
    status: CheckStatus
    message: str
    fix: str | None  # what to copy to fix it; None when the check passed


@dataclass(frozen=True, slots=True)
class SecretFinding:
    """Where the scanner saw a secret and what kind (never the secret itself)."""

    path: str
    line: int  # 1-based
    kind: str  # the scanner's name for it, e.g. "AWS Access Key"


@dataclass(frozen=True, slots=True)
class RunOutcome:
    """How a run at the version went: passed True / False, or None when it was not run (or
    there was nothing to run), with a one-line message for the founder."""

    passed: bool | None
    message: str = ""
