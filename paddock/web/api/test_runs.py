"""Test runs: /api/attempts/{id}/test-runs, /api/tasks/{id}/test-runs, /api/test-runs/{id}."""

from __future__ import annotations

from typing import Annotated, ClassVar, Literal

from fastapi import APIRouter, Query, status
from pydantic import Field

from paddock.domain.public import PublicModel, TestCaseResultPublic, TestRunPublic
from paddock.domain.states import TestKind
from paddock.inputs import TestRunStart
from paddock.services.testing.test_runs import TestRunDetail
from paddock.web.deps import TasksDep, TestRunsDep
from paddock.web.error_docs import errors

router = APIRouter(tags=["tests"])

Kind = Annotated[TestKind | None, Query(description="Only runs of this kind")]


class TestRunDetailOut(PublicModel):
    """A run with its failing cases (message and output): what a failure needs, in one read."""

    __test__: ClassVar[bool] = False

    run: TestRunPublic
    failures: list[TestCaseResultPublic] = Field(description="The first 100 failing cases")

    @classmethod
    def of(cls, detail: TestRunDetail) -> TestRunDetailOut:
        return cls.read(detail)


@router.post(
    "/attempts/{attempt_id}/test-runs",
    status_code=status.HTTP_201_CREATED,
    operation_id="start_test_run",
    responses=errors(409, 500, 503),
)
async def start_test_run(
    attempt_id: str, body: TestRunStart, test_runs: TestRunsDep
) -> TestRunPublic:
    """Run the project's unit_test or e2e_test script in the attempt's sandbox. The script
    writes JUnit XML to $JUNIT_OUTPUT (or files in $JUNIT_OUTPUT_DIR); e2e gets the preview
    (started if needed) as $PREVIEW_URL and a key in $PADDOCK_PREVIEW_KEY. `error` when the
    report is missing, malformed or empty; `failed` when a case failed or the script exited
    non-zero."""
    return TestRunPublic.of(await test_runs.start(attempt_id, body.kind, wait=body.wait))


@router.get("/attempts/{attempt_id}/test-runs", operation_id="list_attempt_test_runs")
async def list_attempt_test_runs(
    attempt_id: str, test_runs: TestRunsDep, kind: Kind = None
) -> list[TestRunPublic]:
    """Newest first."""
    return [TestRunPublic.of(r) for r in await test_runs.for_attempt(attempt_id, kind)]


@router.get("/tasks/{task_id}/test-runs", operation_id="list_task_test_runs")
async def list_task_test_runs(
    task_id: str, tasks: TasksDep, test_runs: TestRunsDep, kind: Kind = None
) -> list[TestRunPublic]:
    """Every attempt's runs, newest first."""
    await tasks.get(task_id)
    return [TestRunPublic.of(r) for r in await test_runs.for_task(task_id, kind)]


@router.get("/test-runs/{run_id}", operation_id="get_test_run")
async def get_test_run(run_id: str, test_runs: TestRunsDep) -> TestRunDetailOut:
    """The run with its failing cases (the first 100), each with its message and output."""
    return TestRunDetailOut.of(await test_runs.detail(run_id))


@router.get("/test-runs/{run_id}/cases", operation_id="list_test_cases")
async def list_test_cases(
    run_id: str,
    test_runs: TestRunsDep,
    status: Annotated[
        Literal["passed", "failed", "skipped", "error"] | None, Query(description="Only these")
    ] = None,
    limit: Annotated[int, Query(ge=1, le=50_000)] = 10_000,
) -> list[TestCaseResultPublic]:
    """In report order."""
    found = await test_runs.cases(run_id, status=status, limit=limit)
    return TestCaseResultPublic.of_many(found)


@router.post("/test-runs/{run_id}/stop", operation_id="stop_test_run", responses=errors(409))
async def stop_test_run(run_id: str, test_runs: TestRunsDep) -> TestRunPublic:
    return TestRunPublic.of(await test_runs.stop(run_id))
