"""Resource samples: a process's CPU, memory and pids over time, numbered per process."""

from __future__ import annotations

from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from paddock.domain.entities import ResourceSample
from paddock.store.tables import ResourceSampleRow


def write_sample(session: Session, process_id: str, sample: ResourceSample) -> None:
    session.execute(
        insert(ResourceSampleRow).values(
            process_id=process_id,
            seq=sample.seq,
            ts=sample.ts,
            cpu_percent=sample.cpu_percent,
            memory_bytes=sample.memory_bytes,
            peak_bytes=sample.peak_bytes,
            pids=sample.pids,
        )
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
