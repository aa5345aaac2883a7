"""Real test runners through the real server, each in the attempt's sandbox: a Vitest project,
and a Playwright (Python) e2e suite against the attempt's preview, past its guard with the run's
own key."""

from __future__ import annotations

import shutil
import sys
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.e2e.server import ServerProcess, make_repo
from tests.e2e.test_test_runs import attempt_in, run_tests

FIXTURES = Path(__file__).parents[1] / "fixtures" / "vite" / "node_modules"
VITEST = FIXTURES / "vitest" / "vitest.mjs"
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"

SUM_TESTS = """
import { sum } from './sum.js'

describe('sum', () => {
  test('adds', () => { expect(sum(1, 2)).toBe(3) })
  test('adds negatives', () => { console.log('checking negatives'); expect(sum(-1, -2)).toBe(-4) })
  test.skip('adds strings', () => {})
})
"""


@pytest.fixture
def server(tmp_path: Path) -> Any:
    env = {"PADDOCK_PREVIEW_READY_TIMEOUT_S": "30", "PADDOCK_PREVIEW_IDLE_MINUTES": "0"}
    with ServerProcess(tmp_path / "data", env=env) as srv:
        yield srv


def test_a_vitest_project(server: ServerProcess, tmp_path: Path):
    assert VITEST.is_file(), "scripts/install --dev installs Vitest into tests/fixtures/vite"
    repo = make_repo(
        tmp_path / "repo",
        {
            "sum.js": "export const sum = (a, b) => a + b\n",
            "sum.test.js": SUM_TESTS,
            "package.json": '{"type": "module"}\n',
        },
    )
    script = f"node {VITEST} run --globals --reporter=junit --outputFile=$JUNIT_OUTPUT"
    attempt = attempt_in(server, repo, unit_test=script)
    run = run_tests(server, attempt)
    assert run["status"] == "failed", run
    assert run["totals"] == {"passed": 1, "failed": 1, "skipped": 1, "errors": 0}
    [failure] = server.api("GET", f"/api/test-runs/{run['id']}")["failures"]
    assert (failure["suite"], failure["name"]) == ("sum.test.js", "sum > adds negatives")
    assert failure["message"] == "expected -3 to be -4 // Object.is equality"
    assert "checking negatives" in failure["output"]
    assert "sum.test.js:6" in failure["output"]  # where it failed


E2E_TESTS = """
import os

import pytest
from playwright.sync_api import expect, sync_playwright

URL = os.environ["PREVIEW_URL"]
KEY = os.environ["PADDOCK_PREVIEW_KEY"]


@pytest.fixture(scope="module")
def page():
    with open(os.path.join(os.environ["PADDOCK_ARTIFACTS"], "key.txt"), "w") as fh:
        fh.write(KEY)  # kept as an artifact: the test checks the key dies with the run
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM, args=["--no-sandbox", "--disable-dev-shm-usage"]
        )
        context = browser.new_context(extra_http_headers={"X-Paddock-Preview-Key": KEY})
        page = context.new_page()
        page.goto(URL)
        yield page
        page.screenshot(path=os.path.join(os.environ["PADDOCK_ARTIFACTS"], "shop.png"))
        browser.close()


def test_title(page):
    assert page.title() == "Shop"


def test_button_says_clicked(page):
    page.click("#go")
    expect(page.locator("#out")).to_have_text("clicked")


def test_greets_by_name(page):
    expect(page.locator("#greeting")).to_have_text("Hello, Ada", timeout=1000)
"""

SHOP = """<!doctype html><title>Shop</title>
<h1 id="greeting">Hello</h1>
<button id="go" onclick="document.getElementById('out').textContent = 'clicked'">Go</button>
<p id="out"></p>
"""


def test_a_playwright_e2e_suite_against_the_preview(server: ServerProcess, tmp_path: Path):
    repo = make_repo(
        tmp_path / "repo",
        {
            "index.html": SHOP,
            "tests_e2e/test_shop.py": E2E_TESTS.replace("CHROMIUM", repr(CHROMIUM)),
        },
    )
    attempt = attempt_in(
        server,
        repo,
        dev="python3 -m http.server $PORT --bind 127.0.0.1",
        e2e_test=f"{sys.executable} -m pytest -q -p no:cacheprovider tests_e2e "
        "--junitxml=$JUNIT_OUTPUT",
    )
    assert server.api("GET", f"/api/attempts/{attempt['id']}/previews") == []
    run = run_tests(server, attempt, "e2e")
    assert run["status"] == "failed", (run, server.log()[-3000:])
    assert run["totals"] == {"passed": 2, "failed": 1, "skipped": 0, "errors": 0}
    [failure] = server.api("GET", f"/api/test-runs/{run['id']}")["failures"]
    assert failure["name"] == "test_greets_by_name"
    assert "Hello, Ada" in failure["message"] and "Hello" in failure["output"]

    [preview] = server.api("GET", f"/api/attempts/{attempt['id']}/previews")  # started for it
    assert preview["status"] == "running" and run["preview_url"] == preview["url"]

    found = {
        a["name"]: a for a in server.api("GET", f"/api/processes/{run['process_id']}/artifacts")
    }
    assert found["shop.png"]["kind"] == "screenshot" and found["shop.png"]["size"] > 1000
    key = server.client.get(f"/api/artifacts/{found['key.txt']['id']}/download").text
    assert key.startswith("run_")
    log = server.client.get(f"/api/processes/{run['process_id']}/logs/download").text
    assert key not in log  # a secret of the run: redacted

    # The run's key opened the preview only while the run ran.
    host = preview["url"].split("//", 1)[1].rstrip("/")
    response = httpx.get(
        server.url,
        headers={"Host": host, "X-Paddock-Preview-Key": key, "Accept": "application/json"},
    )
    assert response.status_code == 401 and response.json()["code"] == "preview_unauthorized"
