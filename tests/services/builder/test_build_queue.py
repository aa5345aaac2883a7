"""The build queue on a real engine (SQLite and PostgreSQL): every queued build starts once,
never more than `builder_max_builds` at a time, however many pumps run together."""

from __future__ import annotations

import asyncio

import pytest

from paddock.domain.builder.builds import Build
from paddock.services.engine import Engine

ANSWERS = {"users": "Fans", "features": "Next gigs\nTickets", "non_goals": ""}


async def planned_app(engine: Engine, idea: str) -> str:
    app = await engine.apps.create(idea)
    await engine.apps.answer(app.id, ANSWERS)
    await engine.apps.make_plan(app.id)
    await engine.apps.choose(app.id, "static-site")
    return app.id


@pytest.mark.anyio
async def test_pumps_running_together_start_each_build_once(engine: Engine) -> None:
    builds = engine.builds
    started: list[str] = []
    release = asyncio.Event()

    async def run(build: Build) -> None:  # the stages are not the point here: who starts
        started.append(build.id)
        await release.wait()

    builds._run = run  # type: ignore[method-assign]
    reading = builds._working

    async def slow_working() -> list[object]:  # a busy database: the pumps interleave
        await asyncio.sleep(0.05)
        return list(await reading())

    builds._working = slow_working  # type: ignore[method-assign,assignment]
    engine.settings.builder.max_builds = 2
    apps = [await planned_app(engine, f"A page for band number {n}") for n in range(3)]
    queued = [await builds.start(app_id) for app_id in apps]
    for _ in range(5):
        builds.pump()
    await asyncio.sleep(0.5)  # every pump ran
    assert sorted(started) == sorted({*started})  # none started twice
    assert len(started) == 2 and set(started) <= {b.id for b in queued}
    release.set()
