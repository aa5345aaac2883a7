"""Usage totals per attempt, task and project from stored usage entries; a stopped agent gets
its CLI's own interrupt first, and one stopped while it launched is stopped once it has; the
store knows when a rewind happened since the last turn."""

from __future__ import annotations

import asyncio
import signal
import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest

from paddock.domain.entities import AgentSpec, Attempt
from paddock.domain.entries import AgentEntry, EntryKind
from paddock.domain.states import LogStream, ProcessStatus, RunReason
from paddock.domain.usage import Usage
from paddock.runtime.launcher import Launched, Launcher, LaunchSpec
from paddock.services.engine import Engine
from paddock.services.processes.process_request import ProcessRequest
from paddock.store import entries as entry_store
from paddock.store import processes as process_store
from tests.e2e.server import make_repo

pytestmark = pytest.mark.anyio


async def idle_attempt(engine: Engine, project_id: str, title: str) -> Attempt:
    task = await engine.tasks.create(project_id, title=title)
    attempt = await engine.attempts.start(task.id, agent=AgentSpec(command="true"))
    await engine.attempts.wait(attempt.id)
    return attempt


async def report_usage(engine: Engine, attempt: Attempt, *payloads: dict) -> None:
    (turn,) = await engine.processes.list_for_attempt(attempt.id)
    now = datetime.now(UTC)
    entries = [
        AgentEntry(turn.id, 100 + i, EntryKind.usage, payload, now)
        for i, payload in enumerate(payloads)
    ]
    await engine.ctx.db.run(lambda s: entry_store.write_entries(s, entries))


async def test_usage_per_attempt_task_and_project(engine: Engine, tmp_path: Path) -> None:
    project = await engine.projects.register(str(make_repo(tmp_path / "repo")))
    first = await idle_attempt(engine, project.id, "one")
    second = await idle_attempt(engine, project.id, "two")
    await idle_attempt(engine, project.id, "three")  # no usage reported at all
    await report_usage(engine, first, {"input_tokens": 1000, "output_tokens": 200, "cost_usd": 0.5})
    await report_usage(
        engine,
        second,
        {"input_tokens": 10, "output_tokens": 2, "cost_usd": None},
        {"input_tokens": 5, "output_tokens": 1, "cost_usd": 0.25},
    )

    assert await engine.usage.for_attempt(first.id) == Usage(1000, 200, 0.5, 1)
    assert await engine.usage.for_attempt(second.id) == Usage(15, 3, 0.25, 1)
    per_project = await engine.usage.for_project(project.id)
    assert per_project.total == Usage(1015, 203, 0.75, 2)
    assert {a.attempt_id: a.usage for a in per_project.attempts} == {
        first.id: Usage(1000, 200, 0.5, 1),
        second.id: Usage(15, 3, 0.25, 1),
    }
    assert await engine.usage.by_task(project.id) == {
        first.task_id: Usage(1000, 200, 0.5, 1),
        second.task_id: Usage(15, 3, 0.25, 1),
    }


# A stand-in for an agent CLI that saves its work when interrupted (SIGINT), as the real ones
# do; `ignore` makes one that ignores the interrupt, so only the group stop ends it.
CLI = """
import signal, sys, time
if sys.argv[1] == "ignore":
    signal.signal(signal.SIGINT, signal.SIG_IGN)
else:
    def interrupted(*_):
        print("interrupted: saving the session", flush=True)
        sys.exit(130)
    signal.signal(signal.SIGINT, interrupted)
print("working", flush=True)
time.sleep(120)
"""


async def printed(engine: Engine, process_id: str) -> list[str]:
    lines = await engine.logs.read(process_id, stream=LogStream.stdout)
    return [line.text for line in lines]


async def working(engine: Engine) -> str:
    """The id of the running process once it printed "working" (its handler is set)."""
    for _ in range(3000):
        running = engine.processes.running_ids()
        if running and "working" in await printed(engine, running[0]):
            return running[0]
        await asyncio.sleep(0.02)
    raise AssertionError("the stand-in CLI never started")


@pytest.mark.parametrize("mode", ["honour", "ignore"])
async def test_stop_sends_the_interrupt_first(engine: Engine, tmp_path: Path, mode: str) -> None:
    project = await engine.projects.register(str(make_repo(tmp_path / "repo")))
    attempt = await idle_attempt(engine, project.id, "stop me")
    argv = [sys.executable, "-c", CLI, mode]
    run = asyncio.ensure_future(
        engine.processes.run(
            attempt, ProcessRequest(RunReason.agent, argv, interrupt=signal.SIGINT)
        )
    )
    await engine.processes.stop(await working(engine))
    final = await run
    assert final.status is ProcessStatus.stopped
    saved = "interrupted: saving the session" in await printed(engine, final.id)
    assert saved is (mode == "honour")


class HeldLauncher:
    """A test double around the real launcher: each launch waits until the test lets it go,
    so a stop can land while a process is being launched (as under load)."""

    name = "held"

    def __init__(self, real: Launcher) -> None:
        self.real = real
        self.launching = asyncio.Event()
        self.go = asyncio.Event()

    async def launch(self, spec: LaunchSpec) -> Launched:
        self.launching.set()
        await self.go.wait()
        return await self.real.launch(spec)


async def test_a_stop_during_the_launch_stops_the_process_once_it_runs(
    engine: Engine, tmp_path: Path
) -> None:
    project = await engine.projects.register(str(make_repo(tmp_path / "repo")))
    attempt = await idle_attempt(engine, project.id, "stopped while launching")
    held = engine.ctx.launcher = HeldLauncher(engine.ctx.launcher)
    argv = [sys.executable, "-c", CLI, "ignore"]
    run = asyncio.ensure_future(
        engine.processes.run(
            attempt, ProcessRequest(RunReason.agent, argv, interrupt=signal.SIGINT)
        )
    )
    await asyncio.wait_for(held.launching.wait(), 30)
    (process_id,) = engine.processes.running_ids()
    stop = asyncio.ensure_future(engine.processes.stop(process_id))
    for _ in range(3000):  # until the stop has found it launching, and waits for its end
        if engine.processes._running[process_id].stopping:
            break
        await asyncio.sleep(0.01)
    assert not stop.done()
    held.go.set()
    # Before, the stop waited for the end of a process nobody stopped (its 120 s sleep).
    stopped = await asyncio.wait_for(stop, 60)
    assert stopped.status is ProcessStatus.stopped
    assert (await run).status is ProcessStatus.stopped


async def test_rewound_since_last_turn(engine: Engine, tmp_path: Path) -> None:
    project = await engine.projects.register(str(make_repo(tmp_path / "repo")))
    attempt = await idle_attempt(engine, project.id, "turns")
    await engine.attempts.follow_up(attempt.id, "again")
    await engine.attempts.wait(attempt.id)
    _, second = await engine.processes.list_for_attempt(attempt.id)

    def rewound() -> bool:
        return engine.ctx.db.run(lambda s: process_store.rewound_since_last_turn(s, attempt.id))

    assert await rewound() is False
    await engine.attempts.rewind(attempt.id, second.id)
    assert await rewound() is True
    await engine.attempts.follow_up(attempt.id, "after the rewind")
    await engine.attempts.wait(attempt.id)
    assert await rewound() is False  # the newest kept turn is after the dropped one
