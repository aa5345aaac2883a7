"""Unbounded parsing in the server (class 5): reports are hostile input.

A test script (an agent's code) writes a JUnit report bomb, an openapi script a spec bomb. The
server reads them within limits checked while it reads: the run (or the spec) fails with the
code `report_too_large`, the server answers `/api/health` throughout (a liveness check with a
1 s timeout, not a timing assert), its memory stays bounded, and SIGTERM stops it even with a
bomb on its plate.
"""

from __future__ import annotations

import signal
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.e2e.server import ServerProcess, make_repo, wait_for
from tests.security.helpers import FINISHED, Bench, token

CASES_BOMB = 400_000  # 15 MB: under the byte limit, 8 times the case limit
BYTES_BOMB = 3_000_000  # 114 MB: the attack as it was found (57 MB, 3 million cases, 8 GB)
MEMORY_BOUND_MB = 1024  # the server's peak: it took 8 GB before


def junit_bomb(cases: int) -> str:
    """A test script writing `cases` test cases, in a fraction of a second."""
    return (
        "{ echo '<testsuites><testsuite name=\"bomb\">'; "
        f'yes \'<testcase classname="bomb" name="t"/>\' | head -n {cases}; '
        "echo '</testsuite></testsuites>'; } > \"$JUNIT_OUTPUT\""
    )


def idle_attempt(server: ServerProcess, host_dir: Path, provider: str, **scripts: str) -> Any:
    """An idle attempt, in a `provider` sandbox, of a new project with these scripts."""
    repo = make_repo(host_dir / f"repo-{token()}", {"README.md": "# bombs\n"})
    project = server.api("POST", "/api/projects", json={"path": str(repo), "scripts": scripts})
    return Bench(server, project, repo).run("true", provider=provider, network="none").attempt


def healthy(server: ServerProcess) -> bool:
    """The server answers /api/health within 1 s: a liveness check, not a measure."""
    try:
        return bool(server.client.get("/api/health", timeout=1.0).status_code == 200)
    except httpx.TimeoutException:
        return False


class Prober(threading.Thread):
    """Asks the server for /api/health over and over, each time allowing it 1 s, until stopped:
    an event loop busy with a report for longer than that makes it miss."""

    def __init__(self, server: ServerProcess) -> None:
        super().__init__(daemon=True)
        self.client = httpx.Client(base_url=server.url, headers=server.client.headers, timeout=1)
        self.answered = 0
        self.missed: list[str] = []
        self.done = threading.Event()

    def run(self) -> None:
        while not self.done.is_set():
            try:
                status = self.client.get("/api/health").status_code
            except httpx.TimeoutException as exc:
                self.missed.append(repr(exc))
            else:
                if status == 200:
                    self.answered += 1
                else:
                    self.missed.append(f"status {status}")
            self.done.wait(0.05)

    def __enter__(self) -> Prober:
        self.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self.done.set()
        self.join()
        self.client.close()


def peak_memory_mb(server: ServerProcess) -> int:
    assert server.proc is not None
    status = Path(f"/proc/{server.proc.pid}/status").read_text()
    line = next(line for line in status.splitlines() if line.startswith("VmHWM:"))
    return int(line.split()[1]) // 1024


@pytest.mark.parametrize(
    ("cases", "limit", "message"),
    [
        (
            CASES_BOMB,
            "cases",
            "junit/results.xml: more than 50,000 test cases, the limit for a test run; raise "
            "`report_max_cases` (PADDOCK_REPORT_MAX_CASES) to read it",
        ),
        (
            BYTES_BOMB,
            "file_bytes",
            "junit/results.xml is too large: 114,000,062 bytes, over the 16 MB limit for a "
            "report file; raise `report_max_mb` (PADDOCK_REPORT_MAX_MB) to read it",
        ),
    ],
    ids=["cases", "bytes"],
)
def test_a_junit_bomb_ends_the_run_with_report_too_large_while_the_server_answers(
    server: ServerProcess, host_dir: Path, provider: str, cases: int, limit: str, message: str
) -> None:
    attempt = idle_attempt(server, host_dir, provider, unit_test=junit_bomb(cases))
    with Prober(server) as prober:
        path = f"/api/attempts/{attempt['id']}/test-runs"
        run = server.api("POST", path, json={"kind": "unit"})
        deadline = time.monotonic() + 300
        while run["status"] == "running":
            assert time.monotonic() < deadline, f"the run did not end: {run}"
            time.sleep(0.05)
            run = server.api("GET", f"/api/test-runs/{run['id']}")["run"]
    assert prober.missed == [], "the server did not answer /api/health while it read the bomb"
    assert prober.answered > 0 and healthy(server)

    assert run["status"] == "error", run
    assert run["error_code"] == "report_too_large", run
    assert run["error"] == message, (limit, run["error"])
    assert run["totals"] == {"passed": 0, "failed": 0, "skipped": 0, "errors": 0}
    assert server.api("GET", f"/api/test-runs/{run['id']}/cases") == []  # none kept
    listed = server.api("GET", f"/api/attempts/{attempt['id']}/test-runs")
    assert [(r["id"], r["error_code"]) for r in listed] == [(run["id"], "report_too_large")]
    # The report is still there to look at, as the artifact of the run's process.
    [report] = server.api("GET", f"/api/processes/{run['process_id']}/artifacts")
    assert report["name"] == "junit/results.xml" and report["size"] > 15_000_000
    assert peak_memory_mb(server) < MEMORY_BOUND_MB


SPEC_HEAD = (
    '{"openapi": "3.0.3", "info": {"title": "bomb", "version": "1"}, "paths": {}, "x-bomb": '
)


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (  # 100,000 lists within each other in 200 kB
            "head -c 100000 /dev/zero | tr '\\0' '['; head -c 100000 /dev/zero | tr '\\0' ']'",
            "openapi.json is nested too deeply: its maps and lists nest more than 100 levels "
            "deep; this limit is fixed, far above what a real report needs",
        ),
        (  # 2 million values in 4 MB
            "printf '['; yes '0,' | head -n 2000000 | tr -d '\\n'; printf '0]'",
            "openapi.json is too large: more than 1,048,576 values (65,536 per MB of the 16 MB "
            "limit for a report file); raise `report_max_mb` (PADDOCK_REPORT_MAX_MB) to read it",
        ),
        (  # 20 MB
            "printf '\"'; head -c 20000000 /dev/zero | tr '\\0' 'x'; printf '\"'",
            "spec/openapi.json is too large: 20,000,090 bytes, over the 16 MB limit for a "
            "report file; raise `report_max_mb` (PADDOCK_REPORT_MAX_MB) to read it",
        ),
    ],
    ids=["depth", "values", "bytes"],
)
def test_a_spec_bomb_is_refused_with_report_too_large(
    server: ServerProcess, host_dir: Path, provider: str, body: str, message: str
) -> None:
    script = f"{{ printf '%s' '{SPEC_HEAD}'; {body}; printf '}}'; }} > \"$OPENAPI_OUTPUT\""
    attempt = idle_attempt(server, host_dir, provider, openapi=script)

    response = server.client.post(f"/api/attempts/{attempt['id']}/openapi")

    assert response.status_code == 422, response.text
    assert response.json()["code"] == "report_too_large", response.text
    assert response.json()["message"] == message
    assert server.client.get(f"/api/attempts/{attempt['id']}/openapi").status_code == 404
    assert healthy(server)
    assert peak_memory_mb(server) < MEMORY_BOUND_MB


def test_sigterm_stops_the_server_with_a_bomb_on_its_plate(host_dir: Path, provider: str) -> None:
    """The bomb as it was found: once the script wrote it, the server reads it and is told to
    stop. It stops (SIGTERM was ignored before: the report was parsed on the event loop)."""
    data = host_dir / f"data-{token()}"
    data.mkdir(mode=0o700)
    with ServerProcess(data) as own:
        assert own.proc is not None
        attempt = idle_attempt(own, host_dir, provider, unit_test=junit_bomb(BYTES_BOMB))
        run = own.api("POST", f"/api/attempts/{attempt['id']}/test-runs", json={"kind": "unit"})

        def script_ended() -> bool:
            process = own.client.get(f"/api/processes/{run['process_id']}")
            return process.status_code == 200 and process.json()["status"] in FINISHED

        wait_for(script_ended, 120)
        own.proc.send_signal(signal.SIGTERM)
        try:
            code = own.proc.wait(60)  # generous: the server's own grace period is 35 s
        except subprocess.TimeoutExpired:
            pytest.fail(f"SIGTERM did not stop the server; its log:\n{own.log()[-3000:]}")
        # uvicorn re-raises SIGTERM once it stopped; the watchdog exits with 128 + 15.
        assert code in (-signal.SIGTERM, 128 + signal.SIGTERM), (code, own.log()[-3000:])


# A server whose shutdown hangs for ever: only the watchdog (cli/serving.py) can end it. Its
# grace period here is 1 s for requests + 1 s for closing + 1 s of margin.
HANGING_SHUTDOWN = """
import asyncio
from paddock.cli import serving

serving.CLOSE_TIMEOUT_S = 1.0
serving.MARGIN_S = 1.0


async def app(scope, receive, send):
    assert scope["type"] == "lifespan"
    while True:
        message = await receive()
        if message["type"] == "lifespan.startup":
            await send({"type": "lifespan.startup.complete"})
            print("started", flush=True)
        else:
            print("shutting down", flush=True)
            await asyncio.Event().wait()


serving.run_server(app, host="127.0.0.1", port=0, log_level="warning", timeout_graceful_shutdown=1)
"""


def hanging_server() -> subprocess.Popen[str]:
    proc = subprocess.Popen(
        [sys.executable, "-c", HANGING_SHUTDOWN],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert proc.stdout is not None
    assert proc.stdout.readline() == "started\n", proc.stderr
    return proc


def ended(proc: subprocess.Popen[str]) -> tuple[int, str]:
    try:
        code = proc.wait(60)
    except subprocess.TimeoutExpired:
        proc.kill()
        pytest.fail("SIGTERM did not stop a server whose shutdown hangs")
    assert proc.stderr is not None
    return code, proc.stderr.read()


def test_sigterm_stops_a_server_whose_shutdown_hangs_once_its_grace_period_passed() -> None:
    proc = hanging_server()
    proc.send_signal(signal.SIGTERM)
    code, stderr = ended(proc)
    assert code == 128 + signal.SIGTERM
    assert "the server did not stop within 3 s of SIGTERM: exiting now" in stderr


def test_a_second_sigterm_stops_the_server_at_once() -> None:
    proc = hanging_server()
    proc.send_signal(signal.SIGTERM)
    assert proc.stdout is not None
    assert proc.stdout.readline() == "shutting down\n"
    proc.send_signal(signal.SIGTERM)
    code, stderr = ended(proc)
    assert code == 128 + signal.SIGTERM
    assert "a second SIGTERM: stopping at once" in stderr
