"""Each app template, run as a build runs it: its files copied into a fresh folder, its setup,
its unit tests (JUnit written), its dev server, its e2e check against that server, then the
offline builder agent's rewrite of app.json, which the running server shows without a restart.

fastapi-htmx and vite-react install their packages from PyPI and npm: these tests need that
network, and fail (never skip) without it.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from importlib.resources import files
from pathlib import Path
from threading import Thread

import pytest

from paddock.domain.builder.templates import AppTemplate
from paddock.services.builder.templates import get_template, template_files

AGENT = Path(str(files("paddock.demo").joinpath("builder_agent.py")))
SETUP_SECONDS = 240
PREVIEW_KEY = "test-preview-key"
BRIEF = {
    "name": "Run club",
    "problem": "Our club plans runs in a group chat. Nobody finds the schedule.",
    "users": "Members of my running club",
    "features": [
        {"name": "Sign up for a run", "description": "Pick a date and a distance"},
        {"name": "Monthly leaderboard", "description": "Who ran the most"},
    ],
    "non_goals": [],
    "change": None,
}
# Where the running app shows its content: the static and Vite pages render it in the browser,
# so their served content file is what changes; FastAPI renders it into the page.
SHOWN_AT = {"static-site": "app.json", "fastapi-htmx": "", "vite-react": "app.json"}


def copy_template(name: str, folder: Path) -> None:
    for path, content in template_files(name).items():
        (folder / path).parent.mkdir(parents=True, exist_ok=True)
        (folder / path).write_bytes(content)


def run_script(script: str, folder: Path, timeout: float, **env: str) -> None:
    done = subprocess.run(
        ["bash", "-c", script],
        check=False,
        cwd=folder,
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    assert done.returncode == 0, f"{script!r} failed:\n{done.stdout}\n{done.stderr}"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def fetch(url: str) -> str:
    request = urllib.request.Request(url, headers={"Cache-Control": "no-cache"})
    with urllib.request.urlopen(request, timeout=10) as response:
        return response.read().decode("utf-8")  # type: ignore[no-any-return]


def wait_until_served(url: str, server: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        assert server.poll() is None, f"the dev server exited:\n{log.read_text()}"
        try:
            fetch(url)
            return
        except (urllib.error.URLError, ConnectionError):
            time.sleep(0.2)
    raise AssertionError(f"the dev server never answered at {url}:\n{log.read_text()}")


@contextmanager
def dev_server(template: AppTemplate, folder: Path) -> Iterator[str]:
    """The template's dev server, running in its own process group; yields its URL."""
    port = free_port()
    log = folder.parent / "dev.log"
    with log.open("wb") as out:
        server = subprocess.Popen(
            ["bash", "-c", template.scripts.dev],
            cwd=folder,
            env={**os.environ, "PORT": str(port)},
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    url = f"http://127.0.0.1:{port}/"
    try:
        wait_until_served(url, server, log)
        yield url
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        try:
            server.wait(timeout=10)
        except subprocess.TimeoutExpired:
            os.killpg(server.pid, signal.SIGKILL)
            server.wait(timeout=10)


def assert_junit_passed(report: Path) -> None:
    root = ET.parse(report).getroot()
    assert len(list(root.iter("testcase"))) >= 1
    assert not list(root.iter("failure")) and not list(root.iter("error"))


@pytest.mark.parametrize("name", ["static-site", "fastapi-htmx", "vite-react"])
def test_a_template_builds_tests_serves_and_shows_the_builder_s_change(
    name: str, tmp_path: Path
) -> None:
    template = get_template(name)
    app = tmp_path / "app"
    app.mkdir()
    copy_template(name, app)
    if template.scripts.setup:
        run_script(template.scripts.setup, app, SETUP_SECONDS)

    report = tmp_path / "results" / "unit.xml"
    report.parent.mkdir()
    run_script(template.scripts.unit_test, app, 120, JUNIT_OUTPUT=str(report))
    assert_junit_passed(report)

    with dev_server(template, app) as url:
        e2e_report = tmp_path / "results" / "e2e.xml"
        run_script(
            template.scripts.e2e_test,
            app,
            60,
            PREVIEW_URL=url,
            PADDOCK_PREVIEW_KEY=PREVIEW_KEY,
            JUNIT_OUTPUT=str(e2e_report),
        )
        assert_junit_passed(e2e_report)
        assert "Monthly leaderboard" not in fetch(url + SHOWN_AT[name])

        prompt = f"Build it.\n```paddock-brief\n{json.dumps(BRIEF)}\n```\n"
        run_script(
            f"{sys.executable} {AGENT}", app, 60, PADDOCK_PROMPT=prompt, BUILDER_AGENT_DELAY="0"
        )
        shown = fetch(url + SHOWN_AT[name])
        assert "Sign up for a run" in shown and "Monthly leaderboard" in shown
        assert "Run club" in shown


class GuardedPreview(BaseHTTPRequestHandler):
    """Test double of a preview behind Paddock's guard: the page and app.json, only to a
    request that carries the preview key."""

    def do_GET(self) -> None:
        if self.headers.get("X-Paddock-Preview-Key") != PREVIEW_KEY:
            self.send_error(403, "no preview key")
            return
        body = (
            json.dumps({"features": [{"name": "Sign up"}]})
            if self.path == "/app.json"
            else '<div id="root"></div><ul id="features"></ul>'
        ).encode()
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture
def guarded_preview() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), GuardedPreview)
    thread = Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/"
    finally:
        server.shutdown()
        server.server_close()


# The e2e checks need no installed package: python3 and node run them directly.
E2E_CHECKS = {
    "static-site": ["python3", "e2e_check.py"],
    "fastapi-htmx": ["python3", "e2e_check.py"],
    "vite-react": ["node", "e2e/check.mjs"],
}


@pytest.mark.parametrize("name", list(E2E_CHECKS))
def test_the_e2e_check_passes_the_preview_guard_with_its_key(
    name: str, tmp_path: Path, guarded_preview: str
) -> None:
    copy_template(name, tmp_path)

    def check(**env: str) -> int:
        inherited = {k: v for k, v in os.environ.items() if k != "PADDOCK_PREVIEW_KEY"}
        env = {**inherited, "PREVIEW_URL": guarded_preview, **env}
        done = subprocess.run(E2E_CHECKS[name], check=False, cwd=tmp_path, env=env, timeout=60)
        return done.returncode

    assert check(PADDOCK_PREVIEW_KEY=PREVIEW_KEY) == 0
    assert check() == 1
