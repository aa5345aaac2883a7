"""Test runs: one run of a project's unit or e2e test script in an attempt, and its cases.

The rules here are pure: what a run's outcome is, given its exit and the report it wrote.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from paddock.domain.states import ProcessStatus, TestKind, TestRunStatus


@dataclass(frozen=True, slots=True)
class TestTotals:
    __test__ = False  # not a pytest test class

    passed: int = 0
    failed: int = 0
    skipped: int = 0
    errors: int = 0

    @property
    def total(self) -> int:
        return self.passed + self.failed + self.skipped + self.errors


@dataclass(frozen=True, slots=True)
class TestRun:
    __test__ = False

    id: str
    attempt_id: str
    task_id: str
    kind: TestKind
    status: TestRunStatus
    process_id: str | None  # the script's process, once it started
    commit: str | None  # the worktree's HEAD when the run started
    totals: TestTotals
    duration_s: float | None  # what the report says the tests took
    error: str | None  # why the run is `error` or `failed`, for people
    debug_id: str | None
    preview_url: str | None  # e2e: the preview it ran against
    created_at: datetime
    finished_at: datetime | None
    # A stable code for why it is `error`, when there is one (e.g. `report_too_large`).
    error_code: str | None = None


@dataclass(frozen=True, slots=True)
class TestCaseResult:
    __test__ = False

    id: int
    run_id: str
    suite: str
    classname: str
    name: str
    status: str  # passed, failed, skipped, error
    duration_s: float
    message: str
    output: str
    file: str


def run_outcome(
    process: ProcessStatus, exit_code: int | None, totals: TestTotals | None, problem: str | None
) -> tuple[TestRunStatus, str | None]:
    """A finished run's status and, unless it passed, why.

    `totals` is None when no report could be read (`problem` says why). A report with no
    cases is not a pass: a gate must never open on a suite that ran nothing.
    """
    if process is ProcessStatus.stopped:
        return TestRunStatus.error, "the test run was stopped"
    if totals is None:
        return TestRunStatus.error, problem or "the test script wrote no JUnit report"
    if totals.total == 0:
        return TestRunStatus.error, "the JUnit report has no test cases"
    bad = totals.failed + totals.errors
    if bad:
        parts = [f"{totals.failed} failed"] + ([f"{totals.errors} errors"] if totals.errors else [])
        return TestRunStatus.failed, f"{', '.join(parts)} of {totals.total}"
    if exit_code != 0:
        return TestRunStatus.failed, (
            f"the test script exited with code {exit_code} though its report has no failures"
        )
    return TestRunStatus.passed, None
