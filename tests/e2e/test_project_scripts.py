"""A project's scripts changed after its attempts started reach those attempts, through the real
server: the next test run and the next preview use the project's new script; a script an
attempt's branch sets in its own .paddock.toml stays its own."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.server import ServerProcess, make_repo, wait_for
from tests.e2e.test_merge import commit, git
from tests.e2e.test_previews import PREVIEW_ENV, STATIC, through_proxy
from tests.e2e.test_test_runs import run_tests

PASSING = (
    'printf \'<testsuite tests="1"><testcase classname="t" name="new"/></testsuite>\' '
    "> $JUNIT_OUTPUT"
)
OWN = "echo the branch's own; exit 3"


@pytest.fixture
def server(tmp_path: Path) -> Iterator[ServerProcess]:
    with ServerProcess(tmp_path / "data", env=PREVIEW_ENV) as srv:
        yield srv


def start(server: ServerProcess, project: dict[str, Any], base: str = "main") -> dict[str, Any]:
    task = server.api("POST", f"/api/projects/{project['id']}/tasks", json={"title": "Calc"})
    attempt: dict[str, Any] = server.api(
        "POST",
        f"/api/tasks/{task['id']}/attempts",
        json={"agent": {"command": "echo '<h1>attempt</h1>' > index.html"}, "base_branch": base},
    )
    wait_for(
        lambda: server.api("GET", f"/api/attempts/{attempt['id']}")["status"] == "awaiting_review",
        60,
    )
    return attempt


def scripts_of(server: ServerProcess, attempt: dict[str, Any]) -> dict[str, str]:
    scripts: dict[str, str] = server.api("GET", f"/api/attempts/{attempt['id']}")["scripts"]
    return scripts


def test_a_changed_test_script_reaches_the_attempts_that_took_it_from_the_project(
    server: ServerProcess, tmp_path: Path
) -> None:
    repo = make_repo(tmp_path / "repo", {"index.html": "<h1>main</h1>\n"})
    # A branch whose .paddock.toml sets its own unit_test script.
    git(repo, "checkout", "-q", "-b", "own-tests")
    commit(repo, ".paddock.toml", f'[scripts]\nunit_test = "{OWN}"\n')
    git(repo, "checkout", "-q", "main")
    body = {"path": str(repo), "scripts": {"unit_test": "echo no report"}}
    project = server.api("POST", "/api/projects", json=body)
    plain, own = start(server, project), start(server, project, base="own-tests")
    assert run_tests(server, plain)["status"] == "error"  # the old script wrote no JUnit
    assert scripts_of(server, own)["unit_test"] == OWN

    server.api("PATCH", f"/api/projects/{project['id']}", json={"scripts": {"unit_test": PASSING}})

    assert scripts_of(server, plain)["unit_test"] == PASSING
    run = run_tests(server, plain)
    assert run["status"] == "passed", run
    # The branch's own script stays: its .paddock.toml still wins.
    assert scripts_of(server, own)["unit_test"] == OWN
    assert run_tests(server, own)["status"] == "error"


def test_a_dev_script_set_later_reaches_an_attempt_started_without_one(
    server: ServerProcess, tmp_path: Path
) -> None:
    repo = make_repo(tmp_path / "repo", {"index.html": "<h1>main</h1>\n"})
    project = server.api("POST", "/api/projects", json={"path": str(repo)})
    attempt = start(server, project)
    refused = server.client.post(f"/api/attempts/{attempt['id']}/previews", json={"wait": True})
    assert refused.json()["code"] == "no_dev_script"  # nothing to preview yet

    server.api("PATCH", f"/api/projects/{project['id']}", json={"scripts": {"dev": STATIC}})

    assert scripts_of(server, attempt)["dev"] == STATIC
    previews = server.api("POST", f"/api/attempts/{attempt['id']}/previews", json={"wait": True})
    [preview] = previews
    assert preview["status"] == "running", preview
    key = server.api("POST", f"/api/previews/{preview['id']}/open")["key"]
    page = through_proxy(server, preview, headers={"x-paddock-preview-key": key})
    assert "<h1>attempt</h1>" in page.text
