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


class ProcessStatus(StrEnum):
    queued = "queued"
    running = "running"
    succeeded = "succeeded"
    failed = "failed"
    killed = "killed"
    lost = "lost"

    @property
    def finished(self) -> bool:
        return self in _PROCESS_FINAL


_PROCESS_FINAL = frozenset(
    {ProcessStatus.succeeded, ProcessStatus.failed, ProcessStatus.killed, ProcessStatus.lost}
)

_PROCESS_MOVES: dict[ProcessStatus, frozenset[ProcessStatus]] = {
    # queued -> failed: the process could not be spawned (missing binary, bad cwd).
    # queued -> killed: stopped before it ever ran.
    ProcessStatus.queued: frozenset(
        {ProcessStatus.running, ProcessStatus.failed, ProcessStatus.killed, ProcessStatus.lost}
    ),
    ProcessStatus.running: _PROCESS_FINAL,
}


class AttemptStatus(StrEnum):
    creating = "creating"  # branch and worktree being made
    setting_up = "setting_up"  # the project's setup script runs
    running = "running"  # the agent (or a follow-up) runs
    idle = "idle"  # nothing runs; the worktree waits for review
    failed = "failed"  # creation, setup or the agent failed; see `error`
    conflicted = "conflicted"  # a rebase stopped at conflicts: continue, abort, or ask the agent
    vanished = "vanished"  # the worktree is gone from disk (found at start-up)

    @property
    def busy(self) -> bool:
        return self in (AttemptStatus.creating, AttemptStatus.setting_up, AttemptStatus.running)


_ATTEMPT_MOVES: dict[AttemptStatus, frozenset[AttemptStatus]] = {
    AttemptStatus.creating: frozenset(
        {AttemptStatus.setting_up, AttemptStatus.running, AttemptStatus.failed, AttemptStatus.idle}
    ),
    AttemptStatus.setting_up: frozenset(
        {AttemptStatus.running, AttemptStatus.failed, AttemptStatus.idle}
    ),
    AttemptStatus.running: frozenset(
        {AttemptStatus.idle, AttemptStatus.failed, AttemptStatus.conflicted}
    ),
    AttemptStatus.idle: frozenset(
        {
            AttemptStatus.running,
            AttemptStatus.setting_up,
            AttemptStatus.conflicted,
            AttemptStatus.vanished,
        }
    ),
    AttemptStatus.failed: frozenset(
        {
            AttemptStatus.running,
            AttemptStatus.setting_up,
            AttemptStatus.conflicted,
            AttemptStatus.vanished,
        }
    ),
    # An agent may be asked to resolve the conflicts; continue or abort ends the rebase.
    AttemptStatus.conflicted: frozenset(
        {AttemptStatus.running, AttemptStatus.idle, AttemptStatus.vanished}
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
