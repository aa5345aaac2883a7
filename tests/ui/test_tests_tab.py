"""The workspace's Tests, Artifacts and API tabs and an attempt's API docs page, in a real
browser against the real server: a real pytest suite run from the tab (its failing case and
why), a run started through the API appearing live; the files a run left, viewed, opened and
deleted; an attempt's spec made from its running preview, its docs page sending "Try it out"
to the preview through Paddock's proxy with the preview's key."""

from __future__ import annotations

import json
import re
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser, Locator, Page, expect

from tests.e2e.server import ServerProcess, make_repo, wait_for
from tests.e2e.test_previews import PREVIEW_ENV, attempt_writing
from tests.e2e.test_test_runs import CALC, PYTEST, TESTS, attempt_in
from tests.ui.conftest import screenshot
from tests.ui.test_accessibility import assert_every_control_named
from tests.ui.test_agent_tab import open_workspace
from tests.ui.test_board import page_expecting_errors

# Left in $PADDOCK_ARTIFACTS by the test script: a real PNG and an HTML report.
MAKE_ARTIFACTS = """import base64, os
folder = os.environ["PADDOCK_ARTIFACTS"]
PNG = (
    "iVBORw0KGgoAAAANSUhEUgAAAAQAAAAECAIAAAAmkwkpAAAAEElEQVR4nGP4z8AARwzEcQCukw/"
    "x0F8jngAAAABJRU5ErkJggg=="
)
with open(os.path.join(folder, "shot.png"), "wb") as fh:
    fh.write(base64.b64decode(PNG))
os.makedirs(os.path.join(folder, "report"), exist_ok=True)
with open(os.path.join(folder, "report", "index.html"), "w") as fh:
    fh.write("<!doctype html><title>Report</title><h1>the test report</h1>")
"""
UNIT = f"{PYTEST}; code=$?; {sys.executable} make_artifacts.py; exit $code"

# A tiny JSON API with its own OpenAPI document, served on $PORT.
API_APP = """import json, os
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

SPEC = {
    "openapi": "3.0.3",
    "info": {"title": "Hello API", "version": "1.2.3"},
    "paths": {"/hello": {"get": {
        "summary": "Say hello",
        "operationId": "hello",
        "responses": {"200": {"description": "A greeting", "content": {"application/json": {
            "schema": {"type": "object", "properties": {"hello": {"type": "string"}}}}}}},
    }}},
}


class Handler(BaseHTTPRequestHandler):
    def do_GET(self):
        path = self.path.split("?")[0]
        if path == "/openapi.json":
            body = SPEC
        elif path == "/hello":
            body = {"hello": "world"}
        else:
            self.send_error(404)
            return
        data = json.dumps(body).encode()
        self.send_response(200)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)


ThreadingHTTPServer(("127.0.0.1", int(os.environ["PORT"])), Handler).serve_forever()
"""


@pytest.fixture
def server(tmp_path: Path) -> Iterator[ServerProcess]:
    with ServerProcess(tmp_path / "data", env=PREVIEW_ENV) as srv:
        yield srv


def calc_attempt(server: ServerProcess, tmp_path: Path) -> dict[str, Any]:
    """An attempt whose unit tests are a real pytest suite: one passes, one fails, one is
    skipped; the script also leaves a screenshot and an HTML report."""
    files = {"calc.py": CALC, "test_calc.py": TESTS, "make_artifacts.py": MAKE_ARTIFACTS}
    return attempt_in(server, make_repo(tmp_path / "repo", files), unit_test=UNIT)


def open_tab(page: Page, server: ServerProcess, attempt: dict[str, Any], name: str) -> Locator:
    open_workspace(page, server, attempt)  # its live stream is connected
    page.get_by_role("tab", name=name, exact=True).click()
    panel = page.get_by_role("tabpanel", name=name, exact=True)
    expect(panel).to_be_visible()
    return panel


def run_rows(page: Page) -> Locator:
    return page.locator("#test-runs .test-run-row")


def check_case_filter(page: Page) -> None:
    """Every case of the shown run, then only those of one status."""
    cases = page.locator("#test-cases .test-case")
    expect(cases).to_have_text(["test_adds", "test_two_and_two", "test_later"])
    page.get_by_role("button", name="Passed", exact=True).click()
    expect(cases).to_have_text(["test_adds"])
    expect(page.get_by_role("button", name="Passed", exact=True)).to_have_attribute(
        "aria-pressed", "true"
    )
    page.get_by_role("button", name="Skipped", exact=True).click()
    expect(cases).to_have_text(["test_later"])
    page.get_by_role("button", name="Errors", exact=True).click()
    expect(page.locator("#test-cases")).to_contain_text("No error case in this run")


def test_unit_tests_run_from_the_tab_and_a_run_from_the_api_shows_live(
    server: ServerProcess, tmp_path: Path, page: Page
) -> None:
    attempt = calc_attempt(server, tmp_path)
    panel = open_tab(page, server, attempt, "Tests")
    expect(panel).to_contain_text("No test run yet")
    e2e = page.get_by_role("button", name="Run e2e tests")
    expect(e2e).to_be_disabled()  # the project has no e2e script, and says so
    expect(e2e).to_have_accessible_description(re.compile("No e2e_test script"))
    assert_every_control_named(page)

    page.get_by_role("button", name="Run unit tests").click()
    expect(run_rows(page)).to_have_count(1)
    row = run_rows(page).first
    expect(row.locator(".test-status")).to_have_text("failed", timeout=60_000)  # live
    expect(row.locator("td.passed")).to_have_text("1")
    expect(row.locator("td.failed")).to_have_text("1")
    expect(row.locator("td.skipped")).to_have_text("1")
    [run] = server.api("GET", f"/api/attempts/{attempt['id']}/test-runs")
    assert run["status"] == "failed" and run["id"] == row.get_attribute("data-run-id")
    expect(row.locator("code")).to_have_text(run["commit"][:8])

    # The detail pane followed the run from running to failed: its failing case, and why.
    detail = page.locator("#test-run-detail .test-run-detail")
    expect(detail).to_have_attribute("data-status", "failed")
    expect(page.get_by_role("button", name="Show run #1 unit")).to_have_attribute(
        "aria-pressed", "true"
    )
    failure = page.get_by_role("list", name="Failing cases").get_by_role("listitem")
    expect(failure).to_have_count(1)
    expect(failure).to_contain_text("test_two_and_two")
    expect(failure.locator(".test-message")).to_contain_text("two and two make four")
    expect(failure.locator(".test-message")).to_be_visible()
    output = failure.locator("details pre")
    expect(output).to_be_hidden()
    failure.get_by_text("Output of test_two_and_two").click()
    expect(output).to_contain_text("captured line from the test")
    expect(detail.locator("[aria-label='Why run failed']")).to_have_text("1 failed of 3")

    check_case_filter(page)
    assert_every_control_named(page)
    screenshot(page, "tests-tab")

    # A run started elsewhere (the JSON API) appears and finishes without a reload.
    other = server.api(
        "POST", f"/api/attempts/{attempt['id']}/test-runs", json={"kind": "unit", "wait": False}
    )
    expect(run_rows(page)).to_have_count(2)
    newest = page.locator(f"#test-run-{other['id']}")
    expect(newest).to_be_visible()
    expect(newest.locator(".test-status")).to_have_text("failed", timeout=60_000)
    expect(newest.locator("td.failed")).to_have_text("1")
    expect(page.get_by_role("button", name="Stop run #2 unit")).to_have_count(0)  # finished

    # Its log, in the Logs tab.
    newest.get_by_role("button", name="Log of run #2 unit").click()
    expect(page.get_by_role("tabpanel", name="Logs")).to_be_visible()
    pick = page.locator(f"#process-list .process-pick[data-process-id='{other['process_id']}']")
    expect(pick).to_have_attribute("aria-pressed", "true")


def test_a_running_run_can_be_stopped_and_shows_its_error(
    server: ServerProcess, tmp_path: Path, browser: Browser
) -> None:
    repo = make_repo(tmp_path / "repo")
    attempt = attempt_in(server, repo, unit_test="echo 'suite starting'; sleep 600")
    with page_expecting_errors(browser) as page:  # the refused start answers 409
        open_tab(page, server, attempt, "Tests")
        page.get_by_role("button", name="Run unit tests").click()
        row = run_rows(page).first
        expect(row.locator(".test-status")).to_have_text("running")
        expect(page.locator("#test-run-detail")).to_contain_text("Running…")
        page.get_by_role("button", name="Stop run #1 unit").click()
        expect(row.locator(".test-status")).to_have_text("error", timeout=30_000)
        [run] = server.api("GET", f"/api/attempts/{attempt['id']}/test-runs")
        assert run["status"] == "error" and run["debug_id"], run
        expect(row.locator(".test-run-error")).to_contain_text("the test run was stopped")
        expect(row.locator(".test-run-error")).to_contain_text(run["debug_id"])
        problem = page.locator("#test-run-detail [aria-label='Why run failed']")
        expect(problem).to_contain_text("the test run was stopped")  # the pane followed
        expect(problem).to_contain_text(run["debug_id"])
        # Another start runs again; one more while it runs is refused, and says why.
        page.get_by_role("button", name="Run unit tests").click()
        expect(run_rows(page)).to_have_count(2)
        page.get_by_role("button", name="Run unit tests").click()
        expect(page.locator("#tests-start-error")).to_contain_text("running already")
        expect(run_rows(page)).to_have_count(2)
    running = server.api("GET", f"/api/attempts/{attempt['id']}/test-runs")[0]
    server.api("POST", f"/api/test-runs/{running['id']}/stop")


def group_of(page: Page, process_id: str) -> Locator:
    return page.locator(f"section[aria-labelledby='artifact-group-{process_id}']")


def test_the_artifacts_tab_lists_opens_and_deletes_a_runs_files(
    server: ServerProcess, tmp_path: Path, page: Page
) -> None:
    attempt = calc_attempt(server, tmp_path)
    panel = open_tab(page, server, attempt, "Artifacts")
    expect(panel).to_contain_text("No artifact yet")

    run = server.api(
        "POST", f"/api/attempts/{attempt['id']}/test-runs", json={"kind": "unit", "wait": True}
    )
    group = group_of(page, run["process_id"])  # live: artifacts.added
    names = group.locator(".artifact-name .mono")
    expect(names).to_have_text(["junit/results.xml", "report/index.html", "shot.png"])
    expect(group.get_by_role("heading")).to_have_text("unit test process")
    stored = {
        a["name"]: a for a in server.api("GET", f"/api/processes/{run['process_id']}/artifacts")
    }
    junit = group.locator(f"#artifact-{stored['junit/results.xml']['id']}")
    expect(junit.locator(".artifact-kind")).to_have_text("junit")
    expect(junit.locator("code")).to_have_text(stored["junit/results.xml"]["sha256"][:12])
    expect(junit.get_by_role("link", name="Download junit/results.xml")).to_have_attribute(
        "href", f"/api/artifacts/{stored['junit/results.xml']['id']}/download"
    )
    files = f"/api/processes/{run['process_id']}/artifacts/files"

    # The screenshot shows as a thumbnail (the image really loads).
    thumbnail = group.get_by_role("img", name="Screenshot shot.png")
    expect(thumbnail).to_have_attribute("src", f"{files}/shot.png")
    wait_for(lambda: thumbnail.evaluate("img => img.complete && img.naturalWidth") == 4, 10)

    # The report opens in a new tab, from the artifact store.
    opened_link = group.get_by_role("link", name="Open the report report/index.html")
    expect(opened_link).to_have_attribute("href", f"{files}/report/index.html")
    with page.context.expect_page() as opened:
        opened_link.click()
    expect(opened.value.locator("h1")).to_have_text("the test report")
    opened.value.close()
    assert_every_control_named(page)
    screenshot(page, "artifacts-tab")

    # Delete, after a confirmation.
    page.once("dialog", lambda dialog: dialog.accept())
    group.get_by_role("button", name="Delete shot.png").click()
    expect(names).to_have_text(["junit/results.xml", "report/index.html"])
    left = server.api("GET", f"/api/processes/{run['process_id']}/artifacts")
    assert sorted(a["name"] for a in left) == ["junit/results.xml", "report/index.html"]
    gone = server.client.get(f"/api/artifacts/{stored['shot.png']['id']}")
    assert gone.status_code == 404
    page.once("dialog", lambda dialog: dialog.dismiss())  # a refusal keeps the file
    group.get_by_role("button", name="Delete report/index.html").click()
    expect(names).to_have_count(2)


def api_attempt(server: ServerProcess, tmp_path: Path) -> dict[str, Any]:
    repo = make_repo(tmp_path / "repo", {"app.py": API_APP})
    return attempt_in(server, repo, dev="python3 app.py")


def web_preview(server: ServerProcess, attempt: dict[str, Any]) -> dict[str, Any] | None:
    previews = server.api("GET", f"/api/attempts/{attempt['id']}/previews")
    return next((p for p in previews if p["status"] == "running"), None)


def try_hello(page: Page, preview_id: str) -> None:
    """GET /hello in Swagger UI: Try it out, Execute; the preview's own answer shows."""
    page.locator(".opblock-summary", has_text="/hello").first.click()
    page.get_by_role("button", name="Try it out").click()
    page.get_by_role("button", name="Execute").click()
    responses = page.locator(".live-responses-table")
    expect(responses).to_contain_text('"hello": "world"')
    expect(responses.locator("tbody .response-col_status").first).to_have_text("200")
    expect(page.locator(".request-url")).to_contain_text(f"/preview/{preview_id}/hello")


def test_the_api_tab_makes_the_spec_and_its_docs_try_the_preview(
    server: ServerProcess, tmp_path: Path, page: Page
) -> None:
    attempt = api_attempt(server, tmp_path)
    panel = open_tab(page, server, attempt, "API")
    expect(panel).to_contain_text("No spec yet")

    # No preview runs: the tab says so and offers to start it.
    panel.get_by_role("button", name="Generate spec").click()
    problem = panel.locator(".api-problem")
    expect(problem).to_have_attribute("data-code", "preview_not_running")
    expect(problem).to_contain_text("start the preview")
    problem.get_by_role("button", name="Start the preview").click()
    preview = wait_for(lambda: web_preview(server, attempt), 30)

    panel.get_by_role("button", name="Generate spec").click()
    expect(panel.locator(".api-endpoints")).to_have_text("1")
    expect(panel.locator("#api-generate-result")).to_have_text("Spec made: 1 endpoint.")
    expect(panel.locator(".api-title")).to_have_text("Hello API")
    expect(panel.locator(".api-version")).to_have_text("1.2.3")
    expect(panel.locator(".api-source")).to_have_text("the running preview")
    expect(panel.locator(".api-problem")).to_have_count(0)
    info = server.api("GET", f"/api/attempts/{attempt['id']}/openapi/info")
    expect(panel.get_by_role("link", name="Download the spec (JSON)")).to_have_attribute(
        "href", f"/api/artifacts/{info['artifact']['id']}/download"
    )
    docs = panel.get_by_role("link", name="Open API docs")
    expect(docs).to_have_attribute("href", f"/attempts/{attempt['id']}/api")

    # Compare with base: this project has no openapi script, and the tab says what to do.
    panel.get_by_role("button", name="Compare with main").click()
    compared = panel.locator("#api-diff .api-problem")
    expect(compared).to_have_attribute("data-code", "no_base_spec")
    expect(compared).to_contain_text("has none")
    assert_every_control_named(page)
    screenshot(page, "api-tab")

    # The docs, in a new tab: Try it out reaches the preview through the proxy, with its key.
    with page.context.expect_page() as opened:
        docs.click()
    docs_page = opened.value
    expect(docs_page.locator("#api-docs")).to_have_attribute("data-ready", "true")
    expect(docs_page.locator("#api-docs-target")).to_contain_text("preview of web")
    expect(docs_page.get_by_role("button", name="Start the preview")).to_be_hidden()
    try_hello(docs_page, preview["id"])
    assert_every_control_named(docs_page)
    screenshot(docs_page, "api-docs")
    docs_page.close()

    # With the preview stopped the docs stay readable; Start brings Try it out back.
    server.api("DELETE", f"/api/previews/{preview['id']}")
    server.open(page, f"/attempts/{attempt['id']}/api")
    expect(page.locator("#api-docs-target")).to_contain_text("No preview of this attempt")
    expect(page.locator(".opblock-summary", has_text="/hello")).to_be_visible()
    page.get_by_role("button", name="Start the preview").click()
    expect(page.locator("#api-docs")).to_have_attribute("data-ready", "true", timeout=30_000)
    expect(page.locator("#api-docs-target")).to_contain_text("preview of web")
    try_hello(page, preview["id"])


def test_the_docs_page_without_a_spec_offers_to_make_one(
    server: ServerProcess, tmp_path: Path, page: Page
) -> None:
    attempt = api_attempt(server, tmp_path)
    server.api("POST", f"/api/attempts/{attempt['id']}/previews", json={"wait": True})
    server.open(page, f"/attempts/{attempt['id']}/api")
    expect(page.get_by_role("heading", name="No API spec yet")).to_be_visible()
    expect(page.locator("#swagger-ui")).to_have_count(0)
    page.get_by_role("button", name="Generate spec").click()
    expect(page.locator(".opblock-summary", has_text="/hello")).to_be_visible(timeout=30_000)
    expect(page.locator(".api-docs-facts")).to_have_text("Hello API 1.2.3 · 1 endpoint")


def spec_of(paths: dict[str, Any], version: str) -> str:
    info = {"title": "Shop", "version": version}
    return json.dumps({"openapi": "3.0.3", "info": info, "paths": paths})


def operation(summary: str) -> dict[str, Any]:
    return {"get": {"summary": summary, "responses": {"200": {"description": "OK"}}}}


def test_compare_with_base_lists_what_the_attempt_changed_in_the_api(
    server: ServerProcess, tmp_path: Path, page: Page
) -> None:
    base = spec_of({"/hello": operation("Say hello"), "/old": operation("Old")}, "1.0.0")
    head = spec_of({"/hello": operation("Say hi"), "/bye": operation("Say bye")}, "1.1.0")
    repo = make_repo(tmp_path / "repo", {"spec.json": base, "spec_v2.json": head})
    scripts = {"openapi": "cp spec.json $OPENAPI_OUTPUT"}
    project = server.api("POST", "/api/projects", json={"path": str(repo), "scripts": scripts})
    attempt = attempt_writing(server, project, "cp spec_v2.json spec.json")
    panel = open_tab(page, server, attempt, "API")
    panel.get_by_role("button", name="Generate spec").click()
    expect(panel.locator(".api-source")).to_have_text("the openapi script")
    expect(panel.locator(".api-version")).to_have_text("1.1.0")
    panel.get_by_role("button", name="Compare with main").click()
    diff = panel.locator("#api-diff .api-diff-result")
    expect(diff).to_contain_text("version 1.0.0 → 1.1.0", timeout=30_000)
    expect(diff.get_by_role("list", name="Endpoints added")).to_have_text(re.compile(r"GET\s+/bye"))
    expect(diff.get_by_role("list", name="Endpoints removed")).to_have_text(
        re.compile(r"GET\s+/old")
    )
    changed = diff.get_by_role("list", name="Endpoints changed")
    expect(changed).to_contain_text("/hello")
    expect(changed.locator(".api-change-lines li")).to_have_text(["summary changed"])
    assert_every_control_named(page)
