"""Status enums and the transitions each allows."""

from __future__ import annotations

from enum import StrEnum

from paddock.domain.errors import Conflict


class RunReason(StrEnum):
    setup = "setup"
    agent = "agent"
    follow_up = "follow_up"
    dev_server = "dev_server"
    unit_test = "unit_test"
    e2e_test = "e2e_test"
    openapi = "openapi"
    cleanup = "cleanup"
    screenshot = "screenshot"  # a browser's picture of the preview (a build's checks)
    build = "build"  # a production build at a version (deploy readiness)
    custom = "custom"


class TestKind(StrEnum):
    """Which of the project's test scripts a test run runs."""

    __test__ = False  # not a pytest test class

    unit = "unit"
    e2e = "e2e"

    @property
    def reason(self) -> RunReason:
        return RunReason.unit_test if self is TestKind.unit else RunReason.e2e_test


class TestRunStatus(StrEnum):
    __test__ = False

    running = "running"
    passed = "passed"  # every case passed (or was skipped) and the script exited 0
    failed = "failed"  # a case failed or errored, or the script exited non-zero
    error = "error"  # no result to trust: no report, a malformed one, no cases, or stopped

    @property
    def finished(self) -> bool:
        return self is not TestRunStatus.running


class Automation(StrEnum):
    """What entering a workflow step runs in the task's current attempt."""

    run_agent = "run_agent"
    run_unit_tests = "run_unit_tests"
    run_e2e_tests = "run_e2e_tests"

    @property
    def test_kind(self) -> TestKind | None:
        return {
            Automation.run_unit_tests: TestKind.unit,
            Automation.run_e2e_tests: TestKind.e2e,
        }.get(self)


class StepRole(StrEnum):
    """What a workflow step is to the card flow; at most one step of a project has each."""

    in_progress = "in_progress"  # a card goes here when an attempt starts (card flow)
    review = "review"  # a card goes here when the agent's turn ends (card flow)
    done = "done"  # a card goes here when its attempt is merged


class ProcessStatus(StrEnum):
    queued = "queued"
    running = "running"
    succeeded = "succeeded"
    failed = "failed"
    # Someone stopped it: a user, its attempt's stop, a preview's stop, the server shutting
    # down, or a restart that found it still running. Not a failure: it carries no error.
    stopped = "stopped"
    lost = "lost"

    @property
    def finished(self) -> bool:
        return self in _PROCESS_FINAL


_PROCESS_FINAL = frozenset(
    {ProcessStatus.succeeded, ProcessStatus.failed, ProcessStatus.stopped, ProcessStatus.lost}
)

_PROCESS_MOVES: dict[ProcessStatus, frozenset[ProcessStatus]] = {
    # queued -> failed: the process could not be spawned (missing binary, bad cwd).
    # queued -> stopped: stopped before it ever ran.
    ProcessStatus.queued: frozenset(
        {ProcessStatus.running, ProcessStatus.failed, ProcessStatus.stopped, ProcessStatus.lost}
    ),
    ProcessStatus.running: _PROCESS_FINAL,
}


class AttemptStatus(StrEnum):
    creating = "creating"  # branch and worktree being made
    setting_up = "setting_up"  # the project's setup script runs
    running = "running"  # the agent (or a follow-up) runs
    awaiting_review = "awaiting_review"  # the agent's turn ended: its work waits for review
    stopped = "stopped"  # someone stopped its setup or agent turn; nothing runs
    failed = "failed"  # creation, setup or the agent failed; see `error`
    merged = "merged"  # it landed on its base branch (`merged` says how); nothing runs
    conflicted = "conflicted"  # a rebase stopped at conflicts: continue, abort, or ask the agent
    vanished = "vanished"  # the worktree is gone from disk (found at start-up, or by its run)

    @property
    def busy(self) -> bool:
        return self in (AttemptStatus.creating, AttemptStatus.setting_up, AttemptStatus.running)

    @property
    def settled(self) -> bool:
        """Nothing runs and its worktree is there to work with: a follow-up, a rebase or a
        merge may start."""
        return self in _ATTEMPT_SETTLED

    @property
    def label(self) -> str:
        """The words people read: "awaiting review", "setting up"."""
        return self.value.replace("_", " ")

    @property
    def meaning(self) -> str:
        """One sentence on what the status means, for a badge's tooltip."""
        return _ATTEMPT_MEANINGS[self]


_ATTEMPT_SETTLED = frozenset(
    {
        AttemptStatus.awaiting_review,
        AttemptStatus.stopped,
        AttemptStatus.failed,
        AttemptStatus.merged,
    }
)

_ATTEMPT_MEANINGS = {
    AttemptStatus.creating: "Its branch and worktree are being made",
    AttemptStatus.setting_up: "The project's setup script runs",
    AttemptStatus.running: "The agent is working",
    AttemptStatus.awaiting_review: "The agent's turn ended: its work waits for your review",
    AttemptStatus.stopped: "Someone stopped it; nothing runs",
    AttemptStatus.failed: "Its setup or agent failed: see why",
    AttemptStatus.merged: "It landed on its base branch",
    AttemptStatus.conflicted: "A rebase stopped at conflicts: continue, abort or ask the agent",
    AttemptStatus.vanished: "Its worktree is gone from disk",
}

# From each status, the statuses it may become. Settled attempts may run again (a follow-up),
# rebase (awaiting review, or conflicted) and merge; a rewind or a rebase leaves them awaiting
# review.
_ATTEMPT_MOVES: dict[AttemptStatus, frozenset[AttemptStatus]] = {
    AttemptStatus.creating: frozenset(
        {AttemptStatus.setting_up, AttemptStatus.running, AttemptStatus.failed}
    ),
    AttemptStatus.setting_up: frozenset(
        {
            AttemptStatus.running,
            AttemptStatus.failed,
            AttemptStatus.stopped,
            AttemptStatus.vanished,  # its worktree was taken away while it ran
        }
    ),
    AttemptStatus.running: frozenset(
        {
            AttemptStatus.awaiting_review,
            AttemptStatus.stopped,
            AttemptStatus.failed,
            AttemptStatus.conflicted,  # a turn asked to resolve a rebase left it waiting
            AttemptStatus.vanished,
        }
    ),
    AttemptStatus.awaiting_review: frozenset(
        {
            AttemptStatus.running,
            AttemptStatus.setting_up,
            AttemptStatus.merged,
            AttemptStatus.conflicted,
            AttemptStatus.vanished,
        }
    ),
    AttemptStatus.stopped: frozenset(
        {
            AttemptStatus.running,
            AttemptStatus.awaiting_review,
            AttemptStatus.merged,
            AttemptStatus.conflicted,
            AttemptStatus.vanished,
        }
    ),
    AttemptStatus.failed: frozenset(
        {
            AttemptStatus.running,
            AttemptStatus.setting_up,
            AttemptStatus.awaiting_review,
            AttemptStatus.merged,
            AttemptStatus.conflicted,
            AttemptStatus.vanished,
        }
    ),
    # Merged work may go on: a follow-up, or a rebase onto the base that moved since.
    AttemptStatus.merged: frozenset(
        {
            AttemptStatus.running,
            AttemptStatus.awaiting_review,
            AttemptStatus.conflicted,
            AttemptStatus.vanished,
        }
    ),
    # An agent may be asked to resolve the conflicts; continue or abort ends the rebase.
    AttemptStatus.conflicted: frozenset(
        {AttemptStatus.running, AttemptStatus.awaiting_review, AttemptStatus.vanished}
    ),
    AttemptStatus.vanished: frozenset(),
}


class FollowUpStatus(StrEnum):
    queued = "queued"  # waits for the agent's current turn to end (survives restarts)
    running = "running"
    done = "done"
    failed = "failed"  # its turn failed, or the server stopped while it ran
    cancelled = "cancelled"


class LogStream(StrEnum):
    stdout = "stdout"
    stderr = "stderr"
    system = "system"  # lines Paddock itself writes into a process log (spawn, exit, errors)


def can_move_process(current: ProcessStatus, new: ProcessStatus) -> bool:
    return new in _PROCESS_MOVES.get(current, frozenset())


def check_process_move(current: ProcessStatus, new: ProcessStatus) -> None:
    if not can_move_process(current, new):
        raise Conflict(f"a {current} process cannot become {new}", code="invalid_transition")


def can_move_attempt(current: AttemptStatus, new: AttemptStatus) -> bool:
    return current == new or new in _ATTEMPT_MOVES[current]


def check_attempt_move(current: AttemptStatus, new: AttemptStatus) -> None:
    if not can_move_attempt(current, new):
        raise Conflict(f"a {current} attempt cannot become {new}", code="invalid_transition")
