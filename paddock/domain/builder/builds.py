"""A build: one run of an app through named stages on the app's attempt.

    queued → starting → scaffold → code → deps → checks → ready
                                                        ↘ failed | cancelled (from any stage)

- scaffold: the template into the repository (the first build), or the worktree back at the
  last version (later ones);
- code: an agent turn (the brief, or the change request), auto-committed;
- deps: the template's setup script in the sandbox;
- checks: unit tests (JUnit), the preview ready through the proxy, a screenshot of its home
  page, and the template's e2e test against the preview where it has one;
- ready: a version (v0.1, v0.2 ...) is tagged and the summary written.

A retry starts again at the start of the stage that failed (`retry_stage`), with what the
stages before it made kept.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum


class BuildStatus(StrEnum):
    queued = "queued"
    starting = "starting"
    scaffold = "scaffold"
    code = "code"
    deps = "deps"
    checks = "checks"
    ready = "ready"
    failed = "failed"
    cancelled = "cancelled"

    @property
    def finished(self) -> bool:
        return self in (BuildStatus.ready, BuildStatus.failed, BuildStatus.cancelled)

    @property
    def working(self) -> bool:
        """A stage runs (the build holds its app and a build slot)."""
        return self in STAGES

    @property
    def label(self) -> str:
        """The progress bar's words."""
        return _LABELS[self]


# The stages that do the work, in order.
STAGES: tuple[BuildStatus, ...] = (
    BuildStatus.starting,
    BuildStatus.scaffold,
    BuildStatus.code,
    BuildStatus.deps,
    BuildStatus.checks,
)

_LABELS = {
    BuildStatus.queued: "Waiting for its turn…",
    BuildStatus.starting: "Starting…",
    BuildStatus.scaffold: "Setting up the project…",
    BuildStatus.code: "Writing code…",
    BuildStatus.deps: "Installing dependencies…",
    BuildStatus.checks: "Running checks…",
    BuildStatus.ready: "Ready",
    BuildStatus.failed: "Something went wrong",
    BuildStatus.cancelled: "Cancelled",
}

# One sentence per stage, in plain words, for the failure card.
_FAILED_AT = {
    BuildStatus.queued: "We could not start the build.",
    BuildStatus.starting: "We could not start the build.",
    BuildStatus.scaffold: "We hit an issue setting up the project.",
    BuildStatus.code: "We hit an issue while writing the code.",
    BuildStatus.deps: "We hit an issue installing dependencies.",
    BuildStatus.checks: "The app was built, but some checks did not pass.",
}


def failure_sentence(stage: BuildStatus) -> str:
    """What the failure card says first, for a build that failed in `stage`."""
    return f"{_FAILED_AT.get(stage, 'Something went wrong.')} Want us to try again?"


def progress(status: BuildStatus, failed_stage: BuildStatus | None = None) -> int:
    """How far along the bar is, 0 to 100: each finished stage is an equal share."""
    if status is BuildStatus.ready:
        return 100
    at = failed_stage if status in (BuildStatus.failed, BuildStatus.cancelled) else status
    if at is None or at not in STAGES:
        return 0
    return round(100 * STAGES.index(at) / len(STAGES))


def retry_stage(failed_stage: BuildStatus | None) -> BuildStatus:
    """Where a retry starts: the start of the stage that failed (`starting` when unknown)."""
    return failed_stage if failed_stage in STAGES else BuildStatus.starting


def stages_from(stage: BuildStatus) -> tuple[BuildStatus, ...]:
    """The stages a build starting (or retried) at `stage` runs."""
    return STAGES[STAGES.index(stage) :]


class BuildKind(StrEnum):
    first = "first"  # from the brief, onto the template
    change = "change"  # a change request onto the last version


@dataclass(frozen=True, slots=True)
class StageTime:
    stage: BuildStatus
    started_at: datetime
    ended_at: datetime | None = None

    @property
    def seconds(self) -> float | None:
        if self.ended_at is None:
            return None
        return (self.ended_at - self.started_at).total_seconds()


@dataclass(frozen=True, slots=True)
class BuildSummary:
    """What a ready build made, shown before the preview link."""

    files_changed: tuple[str, ...]
    insertions: int
    deletions: int
    features: tuple[str, ...]  # the brief's features the build touched
    stack: tuple[str, ...]
    checks: tuple[str, ...]  # one line per check that ran ("3 unit tests passed")


@dataclass(frozen=True, slots=True)
class Build:
    id: str
    app_id: str
    number: int  # 1, 2 ... per app
    kind: BuildKind
    status: BuildStatus
    prompt: str  # what the code stage asks the agent
    created_at: datetime
    updated_at: datetime
    start_stage: BuildStatus = BuildStatus.starting  # where it (re)starts: a retry's stage
    failed_stage: BuildStatus | None = None
    error: str | None = None  # the plain sentence
    detail: str | None = None  # the technical details behind "Show details"
    debug_id: str | None = None
    retries: int = 0
    stage_times: tuple[StageTime, ...] = field(default_factory=tuple)
    base_commit: str | None = None  # where cancel puts the worktree back
    version: str | None = None  # the version a ready build made
    preview_id: str | None = None
    screenshot_id: str | None = None  # the artifact of the home page's screenshot
    summary: BuildSummary | None = None
    started_at: datetime | None = None
    ended_at: datetime | None = None

    @property
    def progress(self) -> int:
        return progress(self.status, self.failed_stage)
