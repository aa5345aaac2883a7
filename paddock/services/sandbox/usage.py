"""Tokens and cost per attempt, per task and per project, from the turns' usage entries."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

from sqlalchemy.orm import Session

from paddock.domain.usage import Usage, UsageReport, per_turn, total
from paddock.services.context import Context
from paddock.store import attempts as attempt_store
from paddock.store import entries as entry_store
from paddock.store import projects as project_store


@dataclass(frozen=True, slots=True)
class AttemptUsage:
    attempt_id: str
    task_id: str
    usage: Usage


@dataclass(frozen=True, slots=True)
class ProjectUsage:
    total: Usage
    attempts: list[AttemptUsage]


def _by(reports: list[UsageReport], key: str) -> dict[str, Usage]:
    """Per-turn usage summed by the reports' `attempt_id` or `task_id`."""
    owner = {report.process_id: getattr(report, key) for report in reports}
    sums: dict[str, Usage] = defaultdict(Usage)
    for process_id, usage in per_turn(reports).items():
        sums[owner[process_id]] += usage
    return dict(sums)


class UsageService:
    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx

    async def for_attempt(self, attempt_id: str) -> Usage:
        def query(session: Session) -> list[UsageReport]:
            attempt_store.get_attempt(session, attempt_id)  # 404 for an unknown attempt
            return entry_store.usage_reports(session, attempt_id=attempt_id)

        return total(per_turn(await self.ctx.db.run(query)).values())

    async def for_project(self, project_id: str) -> ProjectUsage:
        reports = await self._project_reports(project_id)
        task_of = {report.attempt_id: report.task_id for report in reports}
        attempts = [
            AttemptUsage(attempt_id, task_of[attempt_id], usage)
            for attempt_id, usage in _by(reports, "attempt_id").items()
        ]
        return ProjectUsage(total(a.usage for a in attempts), attempts)

    async def by_task(self, project_id: str) -> dict[str, Usage]:
        """Totals per task of the project (tasks without usage are left out)."""
        return _by(await self._project_reports(project_id), "task_id")

    async def _project_reports(self, project_id: str) -> list[UsageReport]:
        def query(session: Session) -> list[UsageReport]:
            project_store.get_project(session, project_id)
            return entry_store.usage_reports(session, project_id=project_id)

        return await self.ctx.db.run(query)
