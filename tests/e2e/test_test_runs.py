"""Test runs through the real server: a real pytest suite in the attempt's sandbox, its JUnit
report read into cases; reports that are missing or malformed; the artifacts a run leaves."""

from __future__ import annotations

import hashlib
import sys
from pathlib import Path
from typing import Any

import httpx

from tests.e2e.server import ServerProcess, make_repo, wait_for

PYTEST = f"{sys.executable} -m pytest -q -p no:cacheprovider --junitxml=$JUNIT_OUTPUT"

CALC = "def add(a, b):\n    return a + b + (1 if a == 2 else 0)\n"
TESTS = """import pytest

from calc import add


def test_adds():
    assert add(1, 2) == 3


def test_two_and_two():
    print("captured line from the test")
    assert add(2, 2) == 4, "two and two make four"


@pytest.mark.skip(reason="not today")
def test_later():
    pass
"""


def attempt_in(server: ServerProcess, repo: Path, **scripts: str) -> dict[str, Any]:
    """An idle attempt of a new project with these scripts (its agent changes nothing)."""
    project = server.api("POST", "/api/projects", json={"path": str(repo), "scripts": scripts})
    task = server.api("POST", f"/api/projects/{project['id']}/tasks", json={"title": "Calc"})
    attempt: dict[str, Any] = server.api(
        "POST", f"/api/tasks/{task['id']}/attempts", json={"agent": {"command": "true"}}
    )
    wait_for(
        lambda: server.api("GET", f"/api/attempts/{attempt['id']}")["status"] == "awaiting_review",
        60,
    )
    return attempt


def run_tests(server: ServerProcess, attempt: dict[str, Any], kind: str = "unit") -> dict[str, Any]:
    run: dict[str, Any] = server.api(
        "POST", f"/api/attempts/{attempt['id']}/test-runs", json={"kind": kind, "wait": True}
    )
    return run


def test_a_real_pytest_run_fails_then_passes_once_fixed(server: ServerProcess, tmp_path: Path):
    repo = make_repo(tmp_path / "repo", {"calc.py": CALC, "test_calc.py": TESTS})
    attempt = attempt_in(server, repo, unit_test=PYTEST)

    run = run_tests(server, attempt)
    assert run["status"] == "failed", run
    assert run["totals"] == {"passed": 1, "failed": 1, "skipped": 1, "errors": 0}
    assert run["error"] == "1 failed of 3"
    assert run["kind"] == "unit" and run["commit"] and run["duration_s"] is not None

    detail = server.api("GET", f"/api/test-runs/{run['id']}")  # one request: what failed, and why
    [failure] = detail["failures"]
    assert failure["name"] == "test_two_and_two" and failure["classname"] == "test_calc"
    assert "two and two make four" in failure["message"]
    assert "captured line from the test" in failure["output"]
    assert "assert 5 == 4" in failure["output"]
    cases = server.api("GET", f"/api/test-runs/{run['id']}/cases")
    assert [(c["name"], c["status"]) for c in cases] == [
        ("test_adds", "passed"),
        ("test_two_and_two", "failed"),
        ("test_later", "skipped"),
    ]
    skipped = server.api("GET", f"/api/test-runs/{run['id']}/cases", params={"status": "skipped"})
    assert [c["message"] for c in skipped] == ["not today"]

    # The report is an artifact of the run's process, byte for byte.
    [report] = server.api("GET", f"/api/processes/{run['process_id']}/artifacts")
    assert (report["name"], report["kind"]) == ("junit/results.xml", "junit")
    body = server.client.get(f"/api/artifacts/{report['id']}/download")
    assert body.status_code == 200 and b"<testsuite" in body.content
    assert hashlib.sha256(body.content).hexdigest() == report["sha256"]
    assert len(body.content) == report["size"]
    assert "attachment" in body.headers["content-disposition"]

    (Path(attempt["worktree_path"]) / "calc.py").write_text("def add(a, b):\n    return a + b\n")
    fixed = run_tests(server, attempt)
    assert fixed["status"] == "passed" and fixed["error"] is None
    assert fixed["totals"] == {"passed": 2, "failed": 0, "skipped": 1, "errors": 0}
    history = server.api("GET", f"/api/attempts/{attempt['id']}/test-runs")
    assert [r["id"] for r in history] == [fixed["id"], run["id"]]  # newest first
    by_task = server.api(
        "GET", f"/api/tasks/{attempt['task_id']}/test-runs", params={"kind": "unit"}
    )
    assert [r["id"] for r in by_task] == [fixed["id"], run["id"]]
    assert (
        server.api("GET", f"/api/tasks/{attempt['task_id']}/test-runs", params={"kind": "e2e"})
        == []
    )


TRUNCATED = '<testsuites><testsuite name="x"'
NO_CASES = '<testsuites><testsuite name="none" tests="0"/></testsuites>'


def suite(name: str) -> str:
    return f'<testsuite name="{name}"><testcase name="{name} works"/></testsuite>'


def test_reports_missing_or_malformed_make_an_error_run(server: ServerProcess, tmp_path: Path):
    repo = make_repo(tmp_path / "repo")
    broken = attempt_in(
        server,
        repo,
        unit_test=f"echo 'running the suite'; printf '{TRUNCATED}' > $JUNIT_OUTPUT",
    )
    run = run_tests(server, broken)
    assert run["status"] == "error"
    assert "results.xml" in run["error"] and "not well-formed" in run["error"], run["error"]
    assert run["error_code"] == "report_invalid"
    assert run["debug_id"] and run["debug_id"] in server.log()
    log = server.api("GET", f"/api/processes/{run['process_id']}/logs")["lines"]
    assert any(line["text"] == "running the suite" for line in log)  # its log is kept

    silent = attempt_in(server, make_repo(tmp_path / "repo2"), unit_test="echo no report")
    run = run_tests(server, silent)
    assert run["status"] == "error"
    assert run["error"] == "the test script wrote no JUnit report to $JUNIT_OUTPUT"
    assert run["error_code"] == "report_missing"

    empty = attempt_in(
        server,
        make_repo(tmp_path / "repo3"),
        unit_test=f"echo '{NO_CASES}' > $JUNIT_OUTPUT",
    )
    run = run_tests(server, empty)
    assert (run["status"], run["error"]) == ("error", "the JUnit report has no test cases")

    # Several files in JUNIT_OUTPUT_DIR count together; a non-zero exit with no failure fails.
    several = attempt_in(
        server,
        make_repo(tmp_path / "repo4"),
        unit_test=f"echo '{suite('a')}' > $JUNIT_OUTPUT_DIR/a.xml;"
        f"echo '{suite('b')}' > $JUNIT_OUTPUT_DIR/b.xml; exit 3",
    )
    run = run_tests(server, several)
    assert run["totals"]["passed"] == 2 and run["status"] == "failed"
    assert "exited with code 3" in run["error"]


def test_no_test_script_is_refused(server: ServerProcess, tmp_path: Path):
    attempt = attempt_in(server, make_repo(tmp_path / "repo"))
    response = server.client.post(f"/api/attempts/{attempt['id']}/test-runs", json={"kind": "e2e"})
    assert response.status_code == 422
    assert response.json()["code"] == "no_test_script"
    response = server.client.post(
        f"/api/attempts/{attempt['id']}/test-runs", json={"kind": "smoke"}
    )
    assert response.status_code == 422 and response.json()["code"] == "validation_error"


REPORTER = (
    'mkdir -p "$PADDOCK_ARTIFACTS/report/assets";'
    'echo "<html><script src=assets/app.js></script><h1>Report</h1></html>" '
    '> "$PADDOCK_ARTIFACTS/report/index.html";'
    'echo "console.log(1)" > "$PADDOCK_ARTIFACTS/report/assets/app.js";'
    'printf "\\x89PNG\\r\\n" > "$PADDOCK_ARTIFACTS/home.png";'
    'ln -s /etc/passwd "$PADDOCK_ARTIFACTS/passwd";'
    'mkfifo "$PADDOCK_ARTIFACTS/pipe";'
    "echo '<testsuite><testcase name=\"ok\"/></testsuite>' > $JUNIT_OUTPUT"
)


def test_artifacts_of_a_run_and_paths_that_stay_inside(server: ServerProcess, tmp_path: Path):
    attempt = attempt_in(server, make_repo(tmp_path / "repo"), unit_test=REPORTER)
    run = run_tests(server, attempt)
    assert run["status"] == "passed", run
    process = run["process_id"]
    found = {a["name"]: a for a in server.api("GET", f"/api/processes/{process}/artifacts")}
    assert set(found) == {
        "home.png",
        "junit/results.xml",
        "report/assets/app.js",
        "report/index.html",
    }  # the link to /etc/passwd and the fifo were left out
    assert found["home.png"]["kind"] == "screenshot"
    assert found["home.png"]["mime_type"] == "image/png"
    assert found["report/index.html"]["kind"] == "report"
    log = server.api("GET", f"/api/processes/{process}/logs")["lines"]
    assert any("left out passwd" in line["text"] for line in log)

    page = server.client.get(f"/api/processes/{process}/artifacts/files/report/index.html")
    assert page.status_code == 200 and b"<h1>Report</h1>" in page.content
    assert page.headers["content-type"].startswith("text/html")
    assert page.headers["content-security-policy"].startswith("sandbox")  # never Paddock's origin
    script = server.client.get(f"/api/processes/{process}/artifacts/files/report/assets/app.js")
    assert script.content == b"console.log(1)\n"

    for sneaky in ("report/%2e%2e/%2e%2e/secret.key", "%2e%2e/paddock.db", "report//index.html"):
        raw = httpx.URL(f"{server.url}/api/processes/{process}/artifacts/files/{sneaky}")
        response = server.client.get(raw)
        assert response.status_code in (404, 422), (sneaky, response.status_code)
        assert response.json()["code"] in ("bad_artifact_path", "not_found", "artifact_not_found")
        assert b"sqlite" not in response.content.lower()
    assert server.client.get("/api/artifacts/..%2Fpaddock.db/download").status_code in (404, 422)

    listed = server.api(
        "GET", f"/api/attempts/{attempt['id']}/artifacts", params={"kind": "report"}
    )
    assert {a["name"] for a in listed} == {"report/assets/app.js", "report/index.html"}
    png = found["home.png"]
    assert server.client.delete(f"/api/artifacts/{png['id']}").status_code == 204
    assert server.client.get(f"/api/artifacts/{png['id']}/download").status_code == 404
    assert server.client.get(f"/api/artifacts/{png['id']}").json()["code"] == "artifact_not_found"
    stored = list((server.data_dir / "artifacts").rglob("*"))
    assert not any(p.name == png["id"] for p in stored)
    assert not (server.data_dir / "artifact-staging" / process).exists()


def test_a_run_is_stopped(server: ServerProcess, tmp_path: Path):
    attempt = attempt_in(server, make_repo(tmp_path / "repo"), unit_test="echo started; sleep 60")
    run = server.api("POST", f"/api/attempts/{attempt['id']}/test-runs", json={"kind": "unit"})
    assert run["status"] == "running"
    again = server.client.post(f"/api/attempts/{attempt['id']}/test-runs", json={"kind": "unit"})
    assert again.status_code == 409 and again.json()["code"] == "test_run_running"
    wait_for(
        lambda: server.api("GET", f"/api/processes/{run['process_id']}")["status"] == "running"
    )
    stopped = server.api("POST", f"/api/test-runs/{run['id']}/stop")
    assert (stopped["status"], stopped["error"]) == ("error", "the test run was stopped")
    assert server.api("GET", f"/api/processes/{run['process_id']}")["status"] == "stopped"


def test_a_run_of_a_killed_server_ends_as_error(tmp_path: Path):
    with ServerProcess(tmp_path / "data") as server:
        attempt = attempt_in(server, make_repo(tmp_path / "repo"), unit_test="sleep 60")
        run = server.api("POST", f"/api/attempts/{attempt['id']}/test-runs", json={"kind": "unit"})
        server.kill9()
    with ServerProcess(tmp_path / "data") as again:
        after = again.api("GET", f"/api/test-runs/{run['id']}")["run"]
        assert after["status"] == "error"
        assert after["error"] == "the server stopped while the tests ran"
        assert not (again.data_dir / "artifact-staging").exists()
