"""The workspace's Tests, Artifacts and API tabs, and an attempt's API docs page.

The routes are thin: they call the test run, artifact and OpenAPI services and render. What
changes elsewhere (a run started through the API, a file a process left, a spec made by a board
automation) reaches the page through the workspace's fragment stream: `RunTabs.patch` renders
the tabs' live parts for the events of test runs, artifacts and API specs (`TAB_EVENTS`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any
from urllib.parse import quote

from fastapi import APIRouter, Depends, Query, Request
from starlette.responses import HTMLResponse, Response

from paddock.domain.artifact import Artifact, ArtifactKind
from paddock.domain.entities import Attempt, Event, Process
from paddock.domain.errors import PaddockError
from paddock.domain.events import EventType, Resource
from paddock.domain.preview import main_running
from paddock.domain.test_run import TestRun
from paddock.inputs import TestRunStart
from paddock.services.processes.processes import ProcessService
from paddock.services.testing.artifacts import ArtifactService
from paddock.services.testing.openapi import AttemptSpec, OpenApiService
from paddock.services.testing.test_runs import TestRunService
from paddock.web.deps import (
    ArtifactsDep,
    AttemptsDep,
    OpenApiDep,
    PreviewsDep,
    ProcessesDep,
    ProjectsDep,
    TasksDep,
    TestRunsDep,
)
from paddock.web.ui.forms import parse, sent
from paddock.web.ui.present import file_size
from paddock.web.ui.templating import render, render_fragment

router = APIRouter(include_in_schema=False)

# Events the three tabs follow; each carries its attempt's id as `attempt_id`.
TAB_EVENTS = EventType.for_resource(Resource.test_run, Resource.artifact, Resource.openapi)
CASES_SHOWN = 2000
CASE_FILTERS: tuple[tuple[str, str], ...] = (
    ("", "All"),
    ("passed", "Passed"),
    ("failed", "Failed"),
    ("skipped", "Skipped"),
    ("error", "Errors"),
)


# -- Tests ----------------------------------------------------------------------------------


async def tests_parts(test_runs: TestRunService, attempt: Attempt) -> dict[str, Any]:
    """The Tests tab's live part: the attempt's runs, newest first."""
    return {"test_runs": await test_runs.for_attempt(attempt.id)}


async def _run_detail(test_runs: TestRunService, run_id: str, status: str = "") -> dict[str, Any]:
    detail = await test_runs.detail(run_id)
    cases = await test_runs.cases(run_id, status=status or None, limit=CASES_SHOWN)
    return {
        "run": detail.run,
        "failures": detail.failures,
        "cases": cases,
        "case_status": status,
        "case_filters": CASE_FILTERS,
        "cases_limit": CASES_SHOWN,
    }


def _detail_html(**context: Any) -> HTMLResponse:
    return HTMLResponse(render_fragment("attempts/_tests_detail.html", **context))


@router.post("/ui/attempts/{attempt_id}/test-runs", response_class=HTMLResponse)
async def start_test_run(request: Request, attempt_id: str, test_runs: TestRunsDep) -> HTMLResponse:
    """Start a run (POST /api/attempts/{id}/test-runs); the answer is its detail (running),
    the table follows through the stream."""
    body = parse(TestRunStart, sent(await request.form(), "kind", "wait"))
    run = await test_runs.start(attempt_id, body.kind, wait=body.wait)
    return _detail_html(**await _run_detail(test_runs, run.id))


@router.get("/ui/test-runs/{run_id}", response_class=HTMLResponse)
async def test_run_detail(
    run_id: str, test_runs: TestRunsDep, status: Annotated[str, Query()] = ""
) -> HTMLResponse:
    return _detail_html(**await _run_detail(test_runs, run_id, _case_status(status)))


@router.get("/ui/test-runs/{run_id}/cases", response_class=HTMLResponse)
async def test_run_cases(
    run_id: str, test_runs: TestRunsDep, status: Annotated[str, Query()] = ""
) -> HTMLResponse:
    context = await _run_detail(test_runs, run_id, _case_status(status))
    return HTMLResponse(render_fragment("attempts/_tests_cases.html", **context))


def _case_status(status: str) -> str:
    return status if status in {value for value, _ in CASE_FILTERS} else ""


@router.post("/ui/test-runs/{run_id}/stop")
async def stop_test_run(run_id: str, test_runs: TestRunsDep) -> Response:
    await test_runs.stop(run_id)
    return Response(status_code=204)


# -- Artifacts ------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ArtifactRow:
    artifact: Artifact
    size: str  # for people: "1.2 KB"
    open_url: str | None  # an HTML report's page, viewed in place (a sandboxed origin)
    image_url: str | None  # a screenshot, shown as a thumbnail


@dataclass(frozen=True, slots=True)
class ArtifactGroup:
    key: str  # the process's id, or "paddock" for files Paddock made itself
    label: str
    process: Process | None
    rows: list[ArtifactRow]


def file_url(artifact: Artifact) -> str | None:
    if artifact.process_id is None:
        return None
    return f"/api/processes/{artifact.process_id}/artifacts/files/{quote(artifact.name)}"


def artifact_row(artifact: Artifact) -> ArtifactRow:
    url = file_url(artifact)
    is_page = artifact.kind is ArtifactKind.report and artifact.name.endswith("index.html")
    is_image = artifact.kind is ArtifactKind.screenshot
    return ArtifactRow(
        artifact, file_size(artifact.size), url if is_page else None, url if is_image else None
    )


def _group_label(process: Process | None) -> str:
    if process is None:
        return "Made by Paddock"
    return f"{process.reason.value.replace('_', ' ')} process"


async def artifact_parts(
    artifacts: ArtifactService, processes: ProcessService, attempt: Attempt
) -> dict[str, Any]:
    """The Artifacts tab: the attempt's files grouped by the process that left them, newest
    process first."""
    files = await artifacts.list_for_attempt(attempt.id)
    makers = {p.id: p for p in await processes.list_for_attempt(attempt.id, include_dropped=True)}
    groups: dict[str, ArtifactGroup] = {}
    for artifact in files:
        key = artifact.process_id or "paddock"
        if key not in groups:
            process = makers.get(artifact.process_id or "")
            groups[key] = ArtifactGroup(key, _group_label(process), process, [])
        groups[key].rows.append(artifact_row(artifact))
    for group in groups.values():
        group.rows.sort(key=lambda row: row.artifact.name)
    return {"artifact_groups": list(groups.values())}


@router.post("/ui/artifacts/{artifact_id}/delete", response_class=HTMLResponse)
async def delete_artifact(
    artifact_id: str, artifacts: ArtifactsDep, attempts: AttemptsDep, processes: ProcessesDep
) -> HTMLResponse:
    """Delete one file; the answer is the tab's list again (an out-of-band swap)."""
    artifact = await artifacts.delete(artifact_id)
    attempt = await attempts.get(artifact.attempt_id)
    parts = await artifact_parts(artifacts, processes, attempt)
    html = render_fragment("attempts/_artifacts_list.html", attempt=attempt, **parts, oob=True)
    return HTMLResponse(html)


# -- API ------------------------------------------------------------------------------------


async def latest_spec(openapi: OpenApiService, attempt_id: str) -> AttemptSpec | None:
    try:
        return await openapi.latest(attempt_id)
    except PaddockError as exc:
        if exc.code == "spec_not_found":
            return None
        raise


async def api_parts(openapi: OpenApiService, attempt: Attempt) -> dict[str, Any]:
    return {"spec": await latest_spec(openapi, attempt.id)}


def _problem(exc: PaddockError) -> dict[str, Any]:
    return {"code": exc.code, "message": exc.message, "debug_id": getattr(exc, "debug_id", None)}


@router.post("/ui/attempts/{attempt_id}/openapi", response_class=HTMLResponse)
async def generate_spec(
    attempt_id: str, attempts: AttemptsDep, openapi: OpenApiDep
) -> HTMLResponse:
    """Make the spec now. A failure is shown in the tab with what to do about it; a new spec
    replaces the summary (out of band, as the stream would)."""
    attempt = await attempts.get(attempt_id)
    try:
        spec = await openapi.generate(attempt_id)
    except PaddockError as exc:
        return HTMLResponse(
            render_fragment("attempts/_api_error.html", attempt=attempt, problem=_problem(exc))
        )
    count = f"{spec.endpoints} endpoint{'' if spec.endpoints == 1 else 's'}"
    done = f'<p class="small ok" role="status">Spec made: {count}.</p>'
    summary = render_fragment("attempts/_api_spec.html", attempt=attempt, spec=spec, oob=True)
    return HTMLResponse(done + summary)


@router.get("/ui/attempts/{attempt_id}/openapi/diff", response_class=HTMLResponse)
async def compare_spec(attempt_id: str, attempts: AttemptsDep, openapi: OpenApiDep) -> HTMLResponse:
    attempt = await attempts.get(attempt_id)
    try:
        comparison = await openapi.diff(attempt_id)
    except PaddockError as exc:
        problem = _problem(exc)
        html = render_fragment("attempts/_api_error.html", attempt=attempt, problem=problem)
        return HTMLResponse(html)
    return HTMLResponse(render_fragment("attempts/_api_diff.html", comparison=comparison))


@router.get("/attempts/{attempt_id}/api", response_class=HTMLResponse)
async def api_docs_page(
    request: Request,
    attempt_id: str,
    attempts: AttemptsDep,
    tasks: TasksDep,
    projects: ProjectsDep,
    openapi: OpenApiDep,
    previews: PreviewsDep,
) -> HTMLResponse:
    """Swagger UI for the attempt's spec; its requests go to the preview through the proxy's
    path fallback, with the preview's key (js/tests.js)."""
    attempt = await attempts.get(attempt_id)
    context = {
        "attempt": attempt,
        "task": await tasks.get(attempt.task_id),
        "project": await projects.get(attempt.project_id),
        "spec": await latest_spec(openapi, attempt_id),
        "preview": main_running(await previews.list_for_attempt(attempt_id)),
    }
    return render(request, "attempts/api_docs.html", context)


# -- the workspace --------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class RunTabs:
    """The Tests, Artifacts and API tabs (what the attempt's runs made), from the services they
    read."""

    test_runs: TestRunService
    artifacts: ArtifactService
    processes: ProcessService
    openapi: OpenApiService

    async def parts(self, attempt: Attempt) -> dict[str, Any]:
        """What the three tabs show when the workspace is rendered."""
        parts = {
            **await tests_parts(self.test_runs, attempt),
            **await artifact_parts(self.artifacts, self.processes, attempt),
            **await api_parts(self.openapi, attempt),
        }
        runs: list[TestRun] = parts["test_runs"]
        # The newest run's cases are shown at first.
        detail = await _run_detail(self.test_runs, runs[0].id) if runs else None
        html = render_fragment("attempts/_tests_detail.html", **detail) if detail else ""
        parts["test_detail"] = html
        return parts

    async def patch(self, attempt: Attempt, events: list[Event] | None) -> str:
        """The tabs' live parts that `events` touch (all of them after a gap), out of band."""
        kinds = None if events is None else {e.type.resource for e in events}

        def touched(*resources: Resource) -> bool:
            return kinds is None or any(r in kinds for r in resources)

        html = ""
        if touched(Resource.test_run):
            parts = await tests_parts(self.test_runs, attempt)
            html += render_fragment("attempts/_tests_runs.html", attempt=attempt, **parts, oob=True)
        if touched(Resource.test_run, Resource.artifact, Resource.openapi):
            parts = await artifact_parts(self.artifacts, self.processes, attempt)
            html += render_fragment(
                "attempts/_artifacts_list.html", attempt=attempt, **parts, oob=True
            )
        if touched(Resource.openapi):
            parts = await api_parts(self.openapi, attempt)
            html += render_fragment("attempts/_api_spec.html", attempt=attempt, **parts, oob=True)
        return html


async def run_tabs(
    test_runs: TestRunsDep, artifacts: ArtifactsDep, processes: ProcessesDep, openapi: OpenApiDep
) -> RunTabs:
    return RunTabs(test_runs, artifacts, processes, openapi)


RunTabsDep = Annotated[RunTabs, Depends(run_tabs)]
