"""Test runs and their cases."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from paddock.domain.errors import NotFound
from paddock.domain.states import TestKind, TestRunStatus
from paddock.domain.test_run import TestCaseResult, TestRun, TestTotals
from paddock.store.attempts import run_by
from paddock.store.tables.base import utcnow
from paddock.store.tables.test_runs import TestCaseRow, TestRunRow


def to_run(row: TestRunRow) -> TestRun:
    return TestRun(
        id=row.id,
        attempt_id=row.attempt_id,
        task_id=row.task_id,
        kind=TestKind(row.kind),
        status=TestRunStatus(row.status),
        process_id=row.process_id,
        commit=row.commit,
        totals=TestTotals(row.passed, row.failed, row.skipped, row.errors),
        duration_s=row.duration_s,
        error=row.error,
        debug_id=row.debug_id,
        preview_url=row.preview_url,
        created_at=row.created_at,
        finished_at=row.finished_at,
        error_code=row.error_code,
    )


def to_case(row: TestCaseRow) -> TestCaseResult:
    return TestCaseResult(
        row.id,
        row.run_id,
        row.suite,
        row.classname,
        row.name,
        row.status,
        row.duration_s,
        row.message,
        row.output,
        row.file,
    )


def create_run(
    session: Session,
    *,
    run_id: str,
    attempt_id: str,
    task_id: str,
    kind: TestKind,
    process_id: str,
    commit: str | None,
) -> TestRun:
    row = TestRunRow(
        id=run_id,
        attempt_id=attempt_id,
        task_id=task_id,
        kind=kind.value,
        status=TestRunStatus.running.value,
        process_id=process_id,
        commit=commit,
        passed=0,
        failed=0,
        skipped=0,
        errors=0,
    )
    session.add(row)
    session.flush()
    return to_run(row)


def _row(session: Session, run_id: str) -> TestRunRow:
    row = session.get(TestRunRow, run_id)
    if row is None:
        raise NotFound(f"no test run {run_id}", code="test_run_not_found")
    return row


def get_run(session: Session, run_id: str) -> TestRun:
    return to_run(_row(session, run_id))


def set_preview_url(session: Session, run_id: str, url: str) -> TestRun:
    row = _row(session, run_id)
    row.preview_url = url
    session.flush()
    return to_run(row)


def finish_run(
    session: Session,
    run_id: str,
    *,
    status: TestRunStatus,
    totals: TestTotals | None,
    duration_s: float | None,
    error: str | None,
    debug_id: str | None,
    cases: Iterable[TestCaseRow] = (),
    error_code: str | None = None,
) -> TestRun:
    row = _row(session, run_id)
    row.status = status.value
    if totals is not None:
        row.passed, row.failed = totals.passed, totals.failed
        row.skipped, row.errors = totals.skipped, totals.errors
    row.duration_s = duration_s
    row.error = error
    row.error_code = error_code
    row.debug_id = debug_id
    row.finished_at = utcnow()
    for case in cases:
        case.run_id = run_id
        session.add(case)
    session.flush()
    return to_run(row)


def list_runs(
    session: Session,
    *,
    attempt_id: str | None = None,
    task_id: str | None = None,
    kind: TestKind | None = None,
    limit: int = 100,
) -> list[TestRun]:
    """Newest first."""
    query = select(TestRunRow)
    if attempt_id is not None:
        query = query.where(TestRunRow.attempt_id == attempt_id)
    if task_id is not None:
        query = query.where(TestRunRow.task_id == task_id)
    if kind is not None:
        query = query.where(TestRunRow.kind == kind.value)
    query = query.order_by(TestRunRow.created_at.desc(), TestRunRow.id).limit(limit)
    return [to_run(row) for row in session.scalars(query)]


def latest_by_kind(session: Session, attempt_id: str) -> dict[TestKind, TestRun]:
    latest: dict[TestKind, TestRun] = {}
    for kind in TestKind:
        runs = list_runs(session, attempt_id=attempt_id, kind=kind, limit=1)
        if runs:
            latest[kind] = runs[0]
    return latest


def latest_statuses(
    session: Session, attempt_ids: list[str]
) -> dict[str, dict[TestKind, TestRunStatus]]:
    """The status of the latest run of each kind, per attempt (the board's card badges)."""
    if not attempt_ids:
        return {}
    query = (
        select(TestRunRow.attempt_id, TestRunRow.kind, TestRunRow.status)
        .where(TestRunRow.attempt_id.in_(attempt_ids))
        .order_by(TestRunRow.created_at.desc())
    )
    found: dict[str, dict[TestKind, TestRunStatus]] = {}
    for attempt_id, kind, status in session.execute(query):
        found.setdefault(attempt_id, {}).setdefault(TestKind(kind), TestRunStatus(status))
    return found


def latest_finished(session: Session, attempt_id: str) -> TestRun | None:
    query = (
        select(TestRunRow)
        .where(TestRunRow.attempt_id == attempt_id, TestRunRow.status != "running")
        .order_by(TestRunRow.created_at.desc())
        .limit(1)
    )
    row = session.scalar(query)
    return to_run(row) if row else None


def list_cases(
    session: Session, run_id: str, *, status: str | None = None, limit: int = 10_000
) -> list[TestCaseResult]:
    """In report order; with `status`, only those (e.g. "failed")."""
    _row(session, run_id)
    query = select(TestCaseRow).where(TestCaseRow.run_id == run_id)
    if status is not None:
        query = query.where(TestCaseRow.status == status)
    return [to_case(row) for row in session.scalars(query.order_by(TestCaseRow.id).limit(limit))]


def failing_cases(session: Session, run_id: str, limit: int) -> list[TestCaseResult]:
    query = (
        select(TestCaseRow)
        .where(TestCaseRow.run_id == run_id, TestCaseRow.status.in_(("failed", "error")))
        .order_by(TestCaseRow.id)
        .limit(limit)
    )
    return [to_case(row) for row in session.scalars(query)]


def mark_interrupted(
    session: Session, cutoff: datetime, runner_id: str | None = None
) -> list[TestRun]:
    """Runs still `running` from before `cutoff` (a server that stopped), of the attempts
    `runner_id` runs (all: None): now `error`."""
    query = select(TestRunRow).where(
        TestRunRow.status == TestRunStatus.running.value,
        TestRunRow.created_at < cutoff,
        run_by(TestRunRow.attempt_id, runner_id),
    )
    rows = list(session.scalars(query))
    for row in rows:
        row.status = TestRunStatus.error.value
        row.error = "the server stopped while the tests ran"
        row.finished_at = utcnow()
    session.flush()
    return [to_run(row) for row in rows]
