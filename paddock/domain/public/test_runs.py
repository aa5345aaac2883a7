"""Public read models of a test run and its cases."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import ClassVar, Self

from pydantic import Field

from paddock.domain.public.model import PublicModel
from paddock.domain.states import TestKind, TestRunStatus
from paddock.domain.test_run import TestCaseResult, TestRun, TestTotals


class TestTotalsPublic(PublicModel):
    __test__: ClassVar[bool] = False  # not a pytest test class

    passed: int
    failed: int
    skipped: int
    errors: int

    @classmethod
    def of(cls, totals: TestTotals) -> Self:
        return cls.read(totals)


class TestRunPublic(PublicModel):
    """One run of a project's unit or e2e test script in an attempt."""

    __test__: ClassVar[bool] = False

    id: str
    attempt_id: str
    task_id: str
    kind: TestKind
    status: TestRunStatus
    process_id: str | None = Field(description="The script's process, once it started")
    commit: str | None = Field(description="The worktree's HEAD when the run started")
    totals: TestTotalsPublic
    duration_s: float | None = Field(description="What the report says the tests took")
    error: str | None = Field(description="Why the run is `error` or `failed`, for people")
    debug_id: str | None
    preview_url: str | None = Field(description="e2e: the preview it ran against")
    created_at: datetime
    finished_at: datetime | None
    error_code: str | None

    @classmethod
    def of(cls, run: TestRun) -> Self:
        return cls.read(run)


class TestCaseResultPublic(PublicModel):
    """One case of a run's report."""

    __test__: ClassVar[bool] = False

    id: int
    run_id: str
    suite: str
    classname: str
    name: str
    status: str = Field(description="passed, failed, skipped or error")
    duration_s: float
    message: str
    output: str
    file: str

    @classmethod
    def of(cls, case: TestCaseResult) -> Self:
        return cls.read(case)

    @classmethod
    def of_many(cls, cases: Iterable[TestCaseResult]) -> list[Self]:
        return cls.read_many(cases)
