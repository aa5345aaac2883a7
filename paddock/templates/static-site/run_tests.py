"""Runs the app's unit tests (tests/) and writes a JUnit XML report where Paddock asks for
one ($JUNIT_OUTPUT), so its test results list every case. Standard library only.

`python3 run_tests.py` exits 0 when every test passed, 1 otherwise.
"""

from __future__ import annotations

import os
import sys
import time
import unittest
import xml.etree.ElementTree as ET
from pathlib import Path
from types import TracebackType
from typing import TypeAlias

ErrorInfo: TypeAlias = tuple[type[BaseException], BaseException, TracebackType | None]


class Recorder(unittest.TextTestResult):
    """The usual text output, plus each case's outcome, time and details."""

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self.cases: list[tuple[unittest.TestCase, str, float, str]] = []
        self._started = time.perf_counter()

    def startTest(self, test: unittest.TestCase) -> None:
        self._started = time.perf_counter()
        super().startTest(test)

    def _record(self, test: unittest.TestCase, outcome: str, detail: str = "") -> None:
        self.cases.append((test, outcome, time.perf_counter() - self._started, detail))

    def addSuccess(self, test: unittest.TestCase) -> None:
        super().addSuccess(test)
        self._record(test, "passed")

    def addFailure(self, test: unittest.TestCase, err: ErrorInfo) -> None:
        super().addFailure(test, err)
        self._record(test, "failure", self._exc_info_to_string(err, test))

    def addError(self, test: unittest.TestCase, err: ErrorInfo) -> None:
        super().addError(test, err)
        self._record(test, "error", self._exc_info_to_string(err, test))

    def addSkip(self, test: unittest.TestCase, reason: str) -> None:
        super().addSkip(test, reason)
        self._record(test, "skipped", reason)


def junit(cases: list[tuple[unittest.TestCase, str, float, str]], seconds: float) -> ET.Element:
    counts = {
        kind: sum(1 for c in cases if c[1] == kind) for kind in ("failure", "error", "skipped")
    }
    suite = ET.Element(
        "testsuite",
        name="unit",
        tests=str(len(cases)),
        failures=str(counts["failure"]),
        errors=str(counts["error"]),
        skipped=str(counts["skipped"]),
        time=f"{seconds:.3f}",
    )
    for test, outcome, took, detail in cases:
        classname, _, name = test.id().rpartition(".")
        case = ET.SubElement(suite, "testcase", classname=classname, name=name, time=f"{took:.3f}")
        if outcome in ("failure", "error"):
            last = detail.strip().splitlines()[-1] if detail.strip() else outcome
            ET.SubElement(case, outcome, message=last[:300]).text = detail
        elif outcome == "skipped":
            ET.SubElement(case, "skipped", message=detail)
    return suite


def main() -> int:
    root = Path(__file__).parent
    suite = unittest.defaultTestLoader.discover(str(root / "tests"), top_level_dir=str(root))
    runner = unittest.TextTestRunner(resultclass=Recorder, verbosity=2)
    started = time.perf_counter()
    result = runner.run(suite)
    assert isinstance(result, Recorder)
    report = os.environ.get("JUNIT_OUTPUT")
    if report:
        Path(report).parent.mkdir(parents=True, exist_ok=True)
        tree = ET.ElementTree(junit(result.cases, time.perf_counter() - started))
        tree.write(report, encoding="utf-8", xml_declaration=True)
        print(f"JUnit report: {report}")
    return 0 if result.wasSuccessful() else 1


if __name__ == "__main__":
    sys.exit(main())
