"""A test run's JUnit report, read: every report file its script left in its artifact folder
(`JUNIT_OUTPUT_DIR`), read in chunks within the run's limits in a worker thread and merged
into one report, or why there is none; and what a finished run keeps of it (its totals, its
cases as rows)."""

from __future__ import annotations

import contextlib
import threading
from dataclasses import dataclass

from paddock.domain.artifact import Artifact, ArtifactKind
from paddock.domain.junit import (
    JUnitError,
    JUnitReport,
    JUnitTooLarge,
    ReportBudget,
    merge_reports,
)
from paddock.domain.junit_reader import read_junit
from paddock.domain.reports import (
    CHUNK_SIZE,
    REPORT_INVALID,
    REPORT_MISSING,
    REPORT_TOO_LARGE,
    ReportLimits,
    ReportTooLarge,
    file_too_large,
)
from paddock.domain.test_run import TestTotals
from paddock.services.context import Context
from paddock.services.testing.artifacts import ArtifactService
from paddock.services.testing.parsing import Parser, report_limits, until_stopped
from paddock.store.tables.test_runs import TestCaseRow


@dataclass(frozen=True, slots=True)
class Reading:
    """A run's report as read: the report, or why there is none (with a code when it has one)."""

    report: JUnitReport | None
    problem: str | None = None
    code: str | None = None


class ReportReader:
    """Reads runs' reports off the event loop, one at a time."""

    def __init__(self, ctx: Context, artifacts: ArtifactService) -> None:
        self.ctx = ctx
        self.artifacts = artifacts
        self._parser = Parser()

    async def read(self, process_id: str) -> Reading:
        artifacts = await self.artifacts.list_for_process(process_id)
        junit = [a for a in artifacts if a.kind is ArtifactKind.junit]
        if not junit:
            message = "the test script wrote no JUnit report to $JUNIT_OUTPUT"
            return Reading(None, message, REPORT_MISSING)
        limits = report_limits(self.ctx.settings)
        try:
            report = await self._parser.run(lambda stop: self._parse(junit, limits, stop))
        except ReportTooLarge as exc:
            return Reading(None, str(exc), REPORT_TOO_LARGE)
        except JUnitError as exc:
            return Reading(None, str(exc), REPORT_INVALID)
        return Reading(report)

    def _parse(
        self, junit: list[Artifact], limits: ReportLimits, stop: threading.Event
    ) -> JUnitReport:
        """Blocking (a worker thread): the run's report files as one report, read in chunks
        within the run's limits; it gives up at its next chunk once `stop` is set."""
        budget = ReportBudget(limits)
        reports = []
        for artifact in junit:
            if artifact.size > limits.file_bytes:  # its stored size says so: not even opened
                message = file_too_large(artifact.name, artifact.size, limits)
                raise JUnitTooLarge(message, "file_bytes")
            with contextlib.closing(self.artifacts.chunks(artifact, CHUNK_SIZE)) as chunks:
                reports.append(read_junit(until_stopped(stop, chunks), artifact.name, budget))
        return merge_reports(reports)


def report_totals(report: JUnitReport | None) -> TestTotals | None:
    if report is None:
        return None
    return TestTotals(report.passed, report.failed, report.skipped, report.errors)


def case_rows(report: JUnitReport | None) -> list[TestCaseRow]:
    if report is None:
        return []
    return [
        TestCaseRow(
            suite=case.suite,
            classname=case.classname,
            name=case.name,
            status=case.status.value,
            duration_s=case.duration_s,
            message=case.message,
            output=case.output,
            file=case.file,
        )
        for case in report.cases
    ]
