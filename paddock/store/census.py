"""How many processes, attempts and previews are in each state: what /metrics reports of the
database (services/metrics.py). Grouped counts, one query each, on indexed columns."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from paddock.store.tables.attempts import AttemptRow
from paddock.store.tables.previews import PreviewRow
from paddock.store.tables.processes import ProcessRow


@dataclass(frozen=True)
class Census:
    processes: dict[tuple[str, str], int]  # (status, sandbox provider) -> count
    attempts: dict[str, int]  # status -> count
    previews: dict[str, int]  # status -> count


def take_census(session: Session) -> Census:
    processes = session.execute(
        select(ProcessRow.status, ProcessRow.provider, func.count()).group_by(
            ProcessRow.status, ProcessRow.provider
        )
    )
    attempts = session.execute(select(AttemptRow.status, func.count()).group_by(AttemptRow.status))
    previews = session.execute(select(PreviewRow.status, func.count()).group_by(PreviewRow.status))
    return Census(
        processes={(status, provider): n for status, provider, n in processes},
        attempts={status: n for status, n in attempts},
        previews={status: n for status, n in previews},
    )
