"""A process's environment: what Paddock gives it (the attempt's identity, where its artifacts
go) on top of the host's, without Paddock's own settings."""

from __future__ import annotations

import os

from paddock.domain.entities import Attempt
from paddock.domain.states import RunReason

ARTIFACTS_ENV = "PADDOCK_ARTIFACTS"  # the folder whose files are kept as the process's artifacts


def given_env(attempt: Attempt, reason: RunReason, extra: dict[str, str]) -> dict[str, str]:
    """What Paddock gives a process: the attempt's identity, plus `extra`."""
    return {
        "PADDOCK_PROJECT_ID": attempt.project_id,
        "PADDOCK_TASK_ID": attempt.task_id,
        "PADDOCK_ATTEMPT_ID": attempt.id,
        "PADDOCK_WORKTREE": attempt.worktree_path,
        "PADDOCK_BRANCH": attempt.branch,
        "PADDOCK_RUN_REASON": reason.value,
        **extra,
    }


def process_env(given: dict[str, str]) -> dict[str, str]:
    """The host environment without Paddock's own settings, plus what Paddock gives. (A
    sandbox keeps only whitelisted host variables: see runtime/sandbox/sandbox_identity.py.)"""
    env = {k: v for k, v in os.environ.items() if not k.startswith("PADDOCK_")}
    env.update(given)
    return env
