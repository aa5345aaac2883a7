"""Resource samples: a process's CPU, memory and pids over time, numbered per process."""

from __future__ import annotations

from sqlalchemy import func, insert, select
from sqlalchemy.orm import Session

from paddock.domain.entities import ResourceSample
from paddock.store.tables.processes import ResourceSampleRow


def write_samples(session: Session, rows: list[tuple[str, ResourceSample]]) -> None:
    """Samples of several processes (process id, sample), in one statement."""
    session.execute(
        insert(ResourceSampleRow),
        [
            {
                "process_id": process_id,
                "seq": sample.seq,
                "ts": sample.ts,
                "cpu_percent": sample.cpu_percent,
                "memory_bytes": sample.memory_bytes,
                "peak_bytes": sample.peak_bytes,
                "pids": sample.pids,
            }
            for process_id, sample in rows
        ],
    )


def read_samples(
    session: Session, process_id: str, *, after: int = 0, limit: int = 3600
) -> list[ResourceSample]:
    query = (
        select(ResourceSampleRow)
        .where(ResourceSampleRow.process_id == process_id, ResourceSampleRow.seq > after)
        .order_by(ResourceSampleRow.seq)
        .limit(limit)
    )
    return [
        ResourceSample(r.seq, r.ts, r.cpu_percent, r.memory_bytes, r.peak_bytes, r.pids)
        for r in session.scalars(query)
    ]


def latest_samples(session: Session, process_ids: list[str]) -> dict[str, ResourceSample]:
    """The newest sample of each of the processes that has one."""
    if not process_ids:
        return {}
    newest = (
        select(ResourceSampleRow.process_id, func.max(ResourceSampleRow.seq).label("seq"))
        .where(ResourceSampleRow.process_id.in_(process_ids))
        .group_by(ResourceSampleRow.process_id)
        .subquery()
    )
    query = select(ResourceSampleRow).join(
        newest,
        (ResourceSampleRow.process_id == newest.c.process_id)
        & (ResourceSampleRow.seq == newest.c.seq),
    )
    return {
        r.process_id: ResourceSample(
            r.seq, r.ts, r.cpu_percent, r.memory_bytes, r.peak_bytes, r.pids
        )
        for r in session.scalars(query)
    }
