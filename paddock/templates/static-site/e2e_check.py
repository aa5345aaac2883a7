"""End-to-end check of a running copy of the app (at $PREVIEW_URL): the home page is served
with its features list, and its content (app.json) is served and well-formed. Standard library
only. A guarded preview needs its key: sent as a header when $PADDOCK_PREVIEW_KEY is set.

`PREVIEW_URL=http://127.0.0.1:8000/ python3 e2e_check.py` exits 0 when every check passed, and
writes a JUnit XML report to $JUNIT_OUTPUT when set.
"""

from __future__ import annotations

import json
import os
import sys
import time
import traceback
import urllib.request
import xml.etree.ElementTree as ET
from collections.abc import Callable
from pathlib import Path
from urllib.parse import urljoin, urlsplit, urlunsplit

KEY_HEADER = "X-Paddock-Preview-Key"


def get(path: str) -> tuple[int, str]:
    """The status and body of GET `path` on the preview. A `*.localhost` host (how previews
    are served) is asked of 127.0.0.1 with that Host: browsers resolve such names, Python
    does not."""
    url = urlsplit(urljoin(os.environ.get("PREVIEW_URL", "http://127.0.0.1:8000/"), path))
    host = url.hostname or "127.0.0.1"
    if host.endswith(".localhost"):
        loopback = url._replace(netloc=f"127.0.0.1:{url.port}" if url.port else "127.0.0.1")
        request = urllib.request.Request(urlunsplit(loopback), headers={"Host": url.netloc})
    else:
        request = urllib.request.Request(urlunsplit(url))
    key = os.environ.get("PADDOCK_PREVIEW_KEY")
    if key:
        request.add_header(KEY_HEADER, key)
    with urllib.request.urlopen(request, timeout=15) as response:
        return response.status, response.read().decode("utf-8")


def expect(condition: bool, failure: str) -> None:
    # Not `assert`: the checks must hold under `python -O` too.
    if not condition:
        raise AssertionError(failure)


def check_home_page() -> None:
    status, body = get("")
    expect(status == 200, f"the home page answered HTTP {status}")
    expect('id="features"' in body, "the home page has no features list (id=features)")


def check_content() -> None:
    status, body = get("app.json")
    expect(status == 200, f"app.json answered HTTP {status}")
    app = json.loads(body)
    expect(isinstance(app.get("features"), list), "app.json has no features list")
    expect(bool(app["features"]), "app.json lists no feature")


CHECKS: list[Callable[[], None]] = [check_home_page, check_content]


def run(check: Callable[[], None]) -> tuple[str, float, str]:
    started = time.perf_counter()
    try:
        check()
    except Exception as exc:  # any failure is the check's result
        print(f"FAIL {check.__name__}: {exc}")
        return "failure", time.perf_counter() - started, traceback.format_exc()
    print(f"ok   {check.__name__}")
    return "passed", time.perf_counter() - started, ""


def write_junit(path: str, results: list[tuple[str, str, float, str]]) -> None:
    failed = sum(1 for r in results if r[1] == "failure")
    suite = ET.Element("testsuite", name="e2e", tests=str(len(results)), failures=str(failed))
    for name, outcome, took, detail in results:
        case = ET.SubElement(suite, "testcase", classname="e2e", name=name, time=f"{took:.3f}")
        if outcome == "failure":
            message = detail.strip().splitlines()[-1][:300]
            ET.SubElement(case, "failure", message=message).text = detail
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    ET.ElementTree(suite).write(path, encoding="utf-8", xml_declaration=True)


def main() -> int:
    results = [(check.__name__, *run(check)) for check in CHECKS]
    report = os.environ.get("JUNIT_OUTPUT")
    if report:
        write_junit(report, results)
    return 0 if all(r[1] == "passed" for r in results) else 1


if __name__ == "__main__":
    sys.exit(main())
