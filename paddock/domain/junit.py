"""JUnit test reports as Paddock keeps them: cases with their status, bounded text, and the
budget the files of one test run share. Reading the XML is domain/junit_reader.py."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum

from paddock.domain.reports import DEFAULT_LIMITS, ReportLimits, ReportTooLarge

OUTPUT_LIMIT = 64 * 1024  # UTF-8 bytes of a case's output, marker included
MESSAGE_LIMIT = 2_000  # characters of a case's message
NAME_LIMIT = 1_000  # characters of a case's suite, class, name and file
SUITE_SEPARATOR = " \u203a "  # a single right-pointing angle quote, as Playwright prints a path


class CaseStatus(StrEnum):
    passed = "passed"
    failed = "failed"
    skipped = "skipped"
    error = "error"


@dataclass(frozen=True, slots=True)
class JUnitCase:
    suite: str  # the enclosing <testsuite> names, outer then inner; "" outside any suite
    classname: str
    name: str
    status: CaseStatus
    duration_s: float = 0.0
    message: str = ""  # why it failed, errored or was skipped; "" when it passed
    output: str = ""  # the failure's trace, then the case's stdout and stderr, bounded
    file: str = ""


@dataclass(frozen=True, slots=True)
class JUnitReport:
    cases: tuple[JUnitCase, ...] = ()
    duration_s: float = 0.0  # what the report says the run took (see `_duration`)

    @property
    def passed(self) -> int:
        return self._count(CaseStatus.passed)

    @property
    def failed(self) -> int:
        return self._count(CaseStatus.failed)

    @property
    def skipped(self) -> int:
        return self._count(CaseStatus.skipped)

    @property
    def errors(self) -> int:
        return self._count(CaseStatus.error)

    @property
    def total(self) -> int:
        return len(self.cases)

    def _count(self, status: CaseStatus) -> int:
        return sum(1 for case in self.cases if case.status == status)


class JUnitError(ValueError):
    """A file that is not a JUnit report; the message names the file and says why."""

    def __init__(self, reason: str, source: str = "") -> None:
        super().__init__(f"{source}: {reason}" if source else reason)
        self.reason = reason
        self.source = source


class JUnitTooLarge(JUnitError, ReportTooLarge):
    """A report past one of its limits (`limit` says which): its message says how to raise it."""

    def __init__(self, message: str, limit: str) -> None:
        super().__init__(message)
        self.limit = limit


class ReportBudget:
    """What one test run's reports may still hold: the files of a run share it, so that many
    files cannot add up to what one may not be."""

    def __init__(self, limits: ReportLimits = DEFAULT_LIMITS) -> None:
        self.limits = limits
        self.bytes = 0
        self.cases = 0
        self.elements = 0


def merge_reports(reports: Iterable[JUnitReport]) -> JUnitReport:
    """Several files' reports as one: cases in the given order, durations added."""
    cases: list[JUnitCase] = []
    duration = 0.0
    for report in reports:
        cases.extend(report.cases)
        duration += report.duration_s
    return JUnitReport(tuple(cases), duration)
