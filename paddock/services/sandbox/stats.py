"""Live resource use of running processes: sampled every `stats_interval_seconds`, stored as a
small time series per process and published as `resource_usage` events."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

from paddock.domain.entities import Attempt, ResourceSample
from paddock.domain.events import EventType, ResourceUsage
from paddock.runtime.launcher import Launched
from paddock.runtime.sandbox.cgroups import Sample
from paddock.services.context import Context, log
from paddock.store import samples as store


class Sampler:
    """Samples one process until stopped; the last sample is taken at its exit."""

    def __init__(self, ctx: Context, attempt: Attempt, process_id: str, launched: Launched):
        self.ctx = ctx
        self.attempt = attempt
        self.process_id = process_id
        self.launched = launched
        self.seq = 0
        self._last: tuple[float, int] | None = None  # (monotonic time, cpu ns)
        self._peak = 0
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self._task = asyncio.get_running_loop().create_task(
            self._loop(), name=f"paddock-stats-{self.process_id}"
        )

    async def stop(self) -> None:
        """Stop sampling, with one last sample (the group still exists at the leader's exit)."""
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
        await self.take()

    async def _loop(self) -> None:
        interval = self.ctx.settings.sandbox.stats_interval_seconds
        while True:
            if not await self.take():
                return  # this provider does not measure
            await asyncio.sleep(interval)

    async def take(self) -> bool:
        try:
            reading = self.launched.sample()
        except OSError:
            reading = None
        if reading is None:
            return False
        sample = self._to_sample(reading)
        try:
            await self.ctx.db.run(lambda s: store.write_sample(s, self.process_id, sample))
        except Exception:  # the process may have been deleted meanwhile: stats are best effort
            log.debug("resource sample of %s not stored", self.process_id, exc_info=True)
            return False
        usage = ResourceUsage(
            process_id=self.process_id,
            attempt_id=self.attempt.id,
            seq=sample.seq,
            ts=sample.ts,
            cpu_percent=sample.cpu_percent,
            memory_bytes=sample.memory_bytes,
            peak_bytes=sample.peak_bytes,
            pids=sample.pids,
        )
        self.ctx.publish(EventType.resource_usage, self.attempt.project_id, usage)
        return True

    def _to_sample(self, reading: Sample) -> ResourceSample:
        now = asyncio.get_running_loop().time()
        cpu_percent = 0.0
        if self._last is not None and now > self._last[0]:
            used = max(0, reading.cpu_ns - self._last[1])
            cpu_percent = round(used / ((now - self._last[0]) * 1e9) * 100, 1)
        self._last = (now, reading.cpu_ns)
        self._peak = max(self._peak, reading.peak_bytes, reading.memory_bytes)
        self.seq += 1
        return ResourceSample(
            self.seq,
            datetime.now(UTC),
            cpu_percent,
            reading.memory_bytes,
            self._peak,
            reading.pids,
        )
