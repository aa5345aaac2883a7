"""Running processes' resource use is sampled on one tick: one database write and the events of
all of them together, each with its own numbering, and a last sample at each one's end."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from paddock.domain.entities import AgentSpec, Event, ResourceSample
from paddock.domain.events import EventType
from paddock.domain.sandbox import Provider, SandboxConfig
from paddock.services.engine import Engine
from paddock.store import samples as sample_store
from tests.e2e.server import make_repo
from tests.services.processes.test_running_event import bwrap_or_fail

pytestmark = pytest.mark.anyio

AGENTS = 3


async def test_running_processes_are_sampled_together_in_one_write(
    engine: Engine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    bwrap_or_fail(engine)
    writes: list[list[tuple[str, ResourceSample]]] = []
    write = sample_store.write_samples

    def recorded(session: object, rows: list[tuple[str, ResourceSample]]) -> None:
        writes.append(list(rows))
        write(session, rows)  # type: ignore[arg-type]

    monkeypatch.setattr(sample_store, "write_samples", recorded)
    usage = engine.bus.subscribe(wanted=lambda e: e.type is EventType.resource_usage)
    with usage as sub:
        project = await engine.projects.register(str(make_repo(tmp_path / "repo")))
        attempts = []
        for i in range(AGENTS):
            task = await engine.tasks.create(project.id, title=f"Sampled {i}")
            attempts.append(
                await engine.attempts.start(
                    task.id,
                    agent=AgentSpec(command="sleep 30 & wait"),
                    sandbox=SandboxConfig(Provider.bwrap),
                )
            )
        agents = await running_agents(engine, [a.id for a in attempts])
        for _ in range(3000):  # a tick that samples all of them in one write
            if any(agents <= {process_id for process_id, _ in rows} for rows in writes):
                break
            await asyncio.sleep(0.01)
        else:
            raise AssertionError(f"no write held the {AGENTS} agents' samples: {writes}")
        for attempt in attempts:
            await engine.attempts.stop(attempt.id)
        published = [item.data["process_id"] for item in sub.drain() if isinstance(item, Event)]

    for process_id in agents:
        samples = await engine.ctx.db.run(
            lambda s, pid=process_id: sample_store.read_samples(s, pid)  # type: ignore[misc]
        )
        # Numbered per process from 1, the last taken at its end (after the shared ticks').
        assert [s.seq for s in samples] == list(range(1, len(samples) + 1))
        assert len(samples) >= 2
        assert published.count(process_id) == len(samples)


async def running_agents(engine: Engine, attempt_ids: list[str]) -> set[str]:
    for _ in range(3000):
        found = {
            p.id
            for attempt_id in attempt_ids
            for p in await engine.processes.list_for_attempt(attempt_id)
            if p.status.value == "running"
        }
        if len(found) == len(attempt_ids):
            return found
        await asyncio.sleep(0.01)
    raise AssertionError("the agents never ran")
