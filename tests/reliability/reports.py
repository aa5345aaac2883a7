"""A test script whose JUnit report takes the server a while to read: hundreds of thousands of
cases in suites nested 60 deep, so a test can stop the server (SIGKILL, SIGTERM) while it parses."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from tests.e2e.server import ServerProcess, make_repo

# Limits raised so that the report is read, not refused at once for its size.
REPORT_ENV = {"PADDOCK_REPORT_MAX_MB": "200", "PADDOCK_REPORT_MAX_CASES": "2000000"}

REPORT = """
import os
depth, cases = 60, 400_000  # suites nest up to 64 deep (junit_reader.py)
with open(os.environ["JUNIT_OUTPUT"], "w") as out:
    out.write("<testsuites>")
    for level in range(depth):
        out.write(f'<testsuite name="s{level}">')
    for n in range(cases):
        out.write(f'<testcase classname="c.k" name="t{n}" time="0.001">'
                  f'<system-out>case {n} said hello</system-out></testcase>')
    out.write("</testsuite>" * depth)
    out.write("</testsuites>")
print("report written")
"""


def big_report_repo(path: Path) -> Path:
    return make_repo(path, {"report.py": REPORT})


def parsing_started(server: ServerProcess, run: dict[str, Any]) -> bool:
    """The tests' process ended but the run is still `running`: its report is being read."""
    answer = server.client.get(f"/api/processes/{run['process_id']}")
    if answer.status_code == 404:  # not recorded yet
        return False
    process = answer.json()
    if process["status"] in ("queued", "running"):
        return False
    now = server.api("GET", f"/api/test-runs/{run['id']}")["run"]
    assert now["status"] == "running", f"the report was read before the test could stop it: {now}"
    return True
