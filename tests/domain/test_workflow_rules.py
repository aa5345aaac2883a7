"""The workflow's pure rules: prompt templates, gates, test run outcomes, artifact names."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from paddock.domain.artifact import ArtifactKind, artifact_kind, check_name, mime_type
from paddock.domain.errors import InvalidInput
from paddock.domain.states import ProcessStatus, TestKind, TestRunStatus
from paddock.domain.test_run import TestRun, TestTotals, run_outcome
from paddock.domain.workflow import (
    check_color,
    check_gate,
    check_gate_kinds,
    check_template,
    render_prompt,
)

NOW = datetime(2026, 12, 4, tzinfo=UTC)


def a_run(
    kind: TestKind, status: TestRunStatus, commit: str = "abc123", error: str = ""
) -> TestRun:
    return TestRun(
        id=f"{kind.value}-run",
        attempt_id="a",
        task_id="t",
        kind=kind,
        status=status,
        process_id="p",
        commit=commit,
        totals=TestTotals(),
        duration_s=None,
        error=error or None,
        debug_id=None,
        preview_url=None,
        created_at=NOW,
        finished_at=None,
    )


def test_templates_name_known_variables_only():
    assert check_template("Fix {{ test_failures }} in {{task_title}}") is not None
    with pytest.raises(InvalidInput) as caught:
        check_template("{{ task_title }} {{ secrets }} {{ env }}")
    assert caught.value.code == "bad_prompt_template"
    assert "env, secrets" in caught.value.message


def test_rendering_replaces_each_variable_once():
    values = {"task_title": "Login {{ step_name }}", "step_name": "Build"}
    rendered = render_prompt("{{ step_name }}: {{task_title}} ({{ previous_summary }})", values)
    # A value that looks like a variable stays as it is; a missing one is empty.
    assert rendered == "Build: Login {{ step_name }} ()"


def test_a_gate_lists_every_reason():
    latest = {
        TestKind.unit: a_run(TestKind.unit, TestRunStatus.failed, error="1 failed of 3"),
    }
    failing = check_gate([TestKind.unit, TestKind.e2e], latest, head="abc123")
    assert [(f.kind, f.reason, f.test_run_id) for f in failing] == [
        (TestKind.unit, "the latest unit tests failed: 1 failed of 3", "unit-run"),
        (TestKind.e2e, "the e2e tests have not run in this attempt", None),
    ]


def test_a_gate_opens_on_a_pass_of_the_latest_commit_only():
    passed = {TestKind.e2e: a_run(TestKind.e2e, TestRunStatus.passed, commit="abc123")}
    assert check_gate([TestKind.e2e], passed, head="abc123") == []
    [stale] = check_gate([TestKind.e2e], passed, head="def456")
    assert stale.reason == "the e2e tests passed on abc123, not on the latest commit"
    running = {TestKind.e2e: a_run(TestKind.e2e, TestRunStatus.running)}
    assert check_gate([TestKind.e2e], running, head="abc123")[0].reason.endswith("still running")
    assert check_gate([], {}, head=None) == []


def test_gate_kinds_and_colours_are_checked():
    assert check_gate_kinds(["e2e", "unit", "e2e"]) == [TestKind.e2e, TestKind.unit]
    with pytest.raises(InvalidInput):
        check_gate_kinds(["smoke"])
    assert check_color("#A1B2C3") == "#a1b2c3"
    for bad in ("red", "#abc", "#12345g", ""):
        with pytest.raises(InvalidInput):
            check_color(bad)


@pytest.mark.parametrize(
    ("process", "code", "totals", "problem", "expected"),
    [
        (ProcessStatus.succeeded, 0, TestTotals(3, 0, 1, 0), None, (TestRunStatus.passed, None)),
        (
            ProcessStatus.failed,
            1,
            TestTotals(2, 1, 0, 1),
            None,
            (TestRunStatus.failed, "1 failed, 1 errors of 4"),
        ),
        (ProcessStatus.failed, 2, None, "x.xml: broken", (TestRunStatus.error, "x.xml: broken")),
        (
            ProcessStatus.succeeded,
            0,
            TestTotals(),
            None,
            (TestRunStatus.error, "the JUnit report has no test cases"),
        ),
        (
            ProcessStatus.stopped,
            -15,
            TestTotals(1, 0, 0, 0),
            None,
            (TestRunStatus.error, "the test run was stopped"),
        ),
    ],
)
def test_run_outcomes(process, code, totals, problem, expected):
    assert run_outcome(process, code, totals, problem) == expected


def test_a_clean_report_with_a_failing_exit_is_a_failure():
    status, error = run_outcome(ProcessStatus.failed, 2, TestTotals(1, 0, 0, 0), None)
    assert status is TestRunStatus.failed
    assert error == "the test script exited with code 2 though its report has no failures"


@pytest.mark.parametrize(
    ("name", "kind"),
    [
        ("junit/results.xml", ArtifactKind.junit),
        ("junit/sub/unit.xml", ArtifactKind.junit),
        ("results.xml", ArtifactKind.file),
        ("playwright-report/index.html", ArtifactKind.report),
        ("playwright-report/data/abc.md", ArtifactKind.report),
        ("screens/home.PNG", ArtifactKind.screenshot),
        ("test-results/trace.zip", ArtifactKind.trace),
        ("videos/run.webm", ArtifactKind.video),
        ("coverage/lcov-report/index.html", ArtifactKind.coverage),
        ("lcov.info", ArtifactKind.coverage),
        ("spec/openapi.json", ArtifactKind.spec),
        ("swagger.yaml", ArtifactKind.spec),
        ("notes.txt", ArtifactKind.file),
    ],
)
def test_artifact_kinds(name, kind):
    assert artifact_kind(name) is kind


def test_artifact_media_types():
    assert mime_type("report/index.html") == "text/html"
    assert mime_type("a.png") == "image/png"
    assert mime_type("spec.yaml") == "application/yaml"
    assert mime_type("run.log") == "text/plain"
    assert mime_type("blob.weird") == "application/octet-stream"


@pytest.mark.parametrize(
    "name", ["", "../x", "a/../../x", "/etc/passwd", "a//b", "./a", "a\\..\\b", "a/\x00"]
)
def test_artifact_names_never_leave_their_folder(name):
    with pytest.raises(InvalidInput) as caught:
        check_name(name)
    assert caught.value.code == "bad_artifact_path"


def test_plain_artifact_names_pass():
    assert check_name("report/assets/app.js") == "report/assets/app.js"
