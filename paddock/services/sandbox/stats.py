"""Live resource use of running processes: sampled every `stats_interval_seconds`, stored as a
small time series per process and published as `resource_usage` events.

Every running process is sampled on one shared tick (`Sampling`): one database write and the
events of all of them together, rather than a timer, a transaction and a stream write per
process each second (with twenty agents and their dev servers, forty of each a second on the
server's loop and its database)."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

from paddock.domain.entities import Attempt, ResourceSample
from paddock.domain.events import EventType, ResourceUsage
from paddock.runtime.launcher import Launched
from paddock.runtime.sandbox.cgroups import Sample
from paddock.services.context import Context, log
from paddock.store import samples as store


class Sampling:
    """The tick that samples every started `Sampler` together, while there is one."""

    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx
        self._samplers: dict[str, Sampler] = {}
        self._task: asyncio.Task[None] | None = None

    def add(self, sampler: Sampler) -> None:
        self._samplers[sampler.process_id] = sampler
        if self._task is None or self._task.done():
            self._task = asyncio.get_running_loop().create_task(self._loop(), name="paddock-stats")

    def discard(self, sampler: Sampler) -> None:
        if self._samplers.get(sampler.process_id) is sampler:
            del self._samplers[sampler.process_id]

    async def _loop(self) -> None:
        interval = self.ctx.settings.sandbox.stats_interval_seconds
        while self._samplers:
            try:
                await self.take(list(self._samplers.values()))
            except Exception:  # stats are best effort: one bad tick must not end them all
                log.exception("resource samples not taken")
            await asyncio.sleep(interval)

    async def take(self, samplers: list[Sampler]) -> None:
        """A sample of each of `samplers`, stored in one write and then published; one whose
        provider does not measure is sampled no more."""
        # Files of each one's cgroup (four or five each): read beside the loop, not on it.
        readings = await asyncio.to_thread(lambda: [sampler.measure() for sampler in samplers])
        taken: list[tuple[Sampler, ResourceSample]] = []
        for sampler, reading in zip(samplers, readings, strict=True):
            if reading is None:
                self.discard(sampler)
            else:
                taken.append((sampler, sampler.sample_of(reading)))
        if not taken:
            return
        rows = [(sampler.process_id, sample) for sampler, sample in taken]
        try:
            await self.ctx.db.run(lambda s: store.write_samples(s, rows))
        except Exception:  # a process deleted meanwhile fails them all: each on its own then
            for sampler, sample in taken:
                if not await sampler.store(sample):
                    self.discard(sampler)
            return
        for sampler, sample in taken:
            sampler.publish(sample)


class Sampler:
    """Samples one process on the shared tick until stopped; the last sample is taken at its
    exit."""

    def __init__(self, sampling: Sampling, attempt: Attempt, process_id: str, launched: Launched):
        self.sampling = sampling
        self.attempt = attempt
        self.process_id = process_id
        self.launched = launched
        self.seq = 0
        self._last: tuple[float, int] | None = None  # (monotonic time, cpu ns)
        self._peak = 0

    def start(self) -> None:
        self.sampling.add(self)

    async def stop(self) -> None:
        """Stop sampling, with one last sample (the group still exists at the leader's exit)."""
        self.sampling.discard(self)
        sample = self.read()
        if sample is not None and await self.store(sample):
            self.publish(sample)

    def read(self) -> ResourceSample | None:
        """A sample now; None when the process's provider does not measure (or it is gone)."""
        reading = self.measure()
        return self.sample_of(reading) if reading is not None else None

    def measure(self) -> Sample | None:
        """Its resource use now, as the sandbox reads it (no state of the sampler changes)."""
        try:
            return self.launched.sample()
        except OSError:
            return None

    async def store(self, sample: ResourceSample) -> bool:
        try:
            await self.sampling.ctx.db.run(
                lambda s: store.write_samples(s, [(self.process_id, sample)])
            )
        except Exception:  # the process may have been deleted meanwhile: stats are best effort
            log.debug("resource sample of %s not stored", self.process_id, exc_info=True)
            return False
        return True

    def publish(self, sample: ResourceSample) -> None:
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
        self.sampling.ctx.publish(EventType.resource_usage, self.attempt.project_id, usage)

    def sample_of(self, reading: Sample) -> ResourceSample:
        """The next sample of the series from `reading` (its CPU share since the last one)."""
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
