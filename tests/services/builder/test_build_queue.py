"""The build queue on a real engine (SQLite and PostgreSQL): every queued build starts once,
never more than `builder_max_builds` at a time, however many pumps run together."""

from __future__ import annotations

import asyncio

import pytest

from paddock.domain.builder.apps import App
from paddock.domain.builder.builds import Build, BuildStatus
from paddock.domain.entities import AgentSpec
from paddock.domain.states import FollowUpStatus, RunReason
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


@pytest.mark.anyio
async def test_a_cancel_landing_before_the_agents_turn_starts_still_stops_it(
    engine: Engine,
) -> None:
    """The code stage is entered a moment before the agent's turn is queued: a cancel's stop
    that lands in between finds nothing to stop, and the turn (a long one) must not run on."""
    app = await engine.apps.create(
        "A page for my band", agent=AgentSpec(profile="script", command="sleep 120")
    )
    await engine.apps.answer(app.id, ANSWERS)
    await engine.apps.make_plan(app.id)
    await engine.apps.choose(app.id, "static-site")
    attempts = engine.attempts
    turn_asked, first_stop_done = asyncio.Event(), asyncio.Event()
    follow_up, stop = attempts.follow_up, attempts.stop

    async def late_follow_up(attempt_id: str, prompt: str) -> object:
        turn_asked.set()
        await first_stop_done.wait()  # the cancel's stop came and went
        return await follow_up(attempt_id, prompt)

    async def noted_stop(attempt_id: str) -> object:
        stopped = await stop(attempt_id)
        first_stop_done.set()
        return stopped

    attempts.follow_up = late_follow_up  # type: ignore[method-assign,assignment]
    attempts.stop = noted_stop  # type: ignore[method-assign,assignment]
    build = await engine.builds.start(app.id)
    await asyncio.wait_for(turn_asked.wait(), 60)
    # A guard against a hang, not a timing: the agent would sleep for two minutes.
    cancelled = await asyncio.wait_for(engine.builds.cancel(build.id), 60)
    assert cancelled.status is BuildStatus.cancelled
    processes = await engine.processes.list_for_attempt(app_attempt(await engine.apps.get(app.id)))
    # The turn was stopped, or cancelled before it ran: nothing of it runs on.
    assert all(p.status.finished for p in processes if p.reason is RunReason.agent)
    turns = await engine.attempts.list_follow_ups(app_attempt(await engine.apps.get(app.id)))
    assert turns and not any(
        t.status in (FollowUpStatus.queued, FollowUpStatus.running) for t in turns
    )


def app_attempt(app: App) -> str:
    assert app.attempt_id is not None
    return app.attempt_id
