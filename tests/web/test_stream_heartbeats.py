"""Heartbeats of the event streams that pick a few events out of a busy project: the events they
ignore (another attempt's diff, resource use of every running process) must not hold back the
heartbeat, or a proxy closes the quiet stream and a gone client is never noticed."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from starlette.requests import Request

from paddock.config import Settings
from paddock.domain.entities import Event
from paddock.domain.events import DiffChanged, EventType
from paddock.runtime.events import EventBus
from paddock.services.events import EventService
from paddock.web.api.diffs import stream_attempt_diff_changes
from paddock.web.api.events import stream_events
from paddock.web.sse import HEARTBEAT
from paddock.web.ui.live import fragment_stream

pytestmark = pytest.mark.anyio

BEAT = 0.2  # seconds: the streams' heartbeat
NOISE = BEAT / 10  # an ignored event this often, so that one is always on its way
PROJECT = "p1"


class Attempts:
    async def get(self, attempt_id: str) -> Any:
        return SimpleNamespace(id=attempt_id, project_id=PROJECT)


class Watch:
    """Stands for DiffWatch: no worktree to poll."""

    @contextlib.asynccontextmanager
    async def watching(self, attempt_id: str) -> AsyncIterator[None]:
        yield


@contextlib.asynccontextmanager
async def noise(bus: EventBus) -> AsyncIterator[None]:
    """Another attempt of the project keeps changing its worktree."""

    async def publish() -> None:
        while True:
            bus.publish(EventType.attempt_diff_changed, PROJECT, DiffChanged("other"))
            await asyncio.sleep(NOISE)

    task = asyncio.create_task(publish())
    try:
        yield
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


async def next_chunk(body: AsyncIterator[Any]) -> bytes:
    # Bounded far above the heartbeat: a stream whose heartbeat is held back fails here.
    chunk = await asyncio.wait_for(anext(body), BEAT * 25)
    return chunk if isinstance(chunk, bytes) else str(chunk).encode()


@pytest.fixture
def settings(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Settings:
    monkeypatch.setenv("PADDOCK_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("PADDOCK_SSE_HEARTBEAT_SECONDS", str(BEAT))
    return Settings()


async def test_the_diff_stream_heartbeats_while_other_attempts_change(settings: Settings) -> None:
    bus = EventBus()
    response = await stream_attempt_diff_changes(
        "a1",
        attempts=Attempts(),  # type: ignore[arg-type]
        diff_watch=Watch(),  # type: ignore[arg-type]
        events=EventService(SimpleNamespace(bus=bus)),  # type: ignore[arg-type]
        settings=settings,
    )
    body = response.body_iterator
    async with noise(bus):
        assert await next_chunk(body) == HEARTBEAT
        assert await next_chunk(body) == HEARTBEAT
        # Its own attempt's change still gets through, amid the others'.
        mine = bus.publish(EventType.attempt_diff_changed, PROJECT, DiffChanged("a1"))
        chunk = await next_chunk(body)
        while chunk == HEARTBEAT:
            chunk = await next_chunk(body)
        assert chunk == f'id: {mine.seq}\nevent: diff_changed\ndata: {{"id":"a1"}}\n\n'.encode()
    await body.aclose()  # type: ignore[attr-defined]


async def test_a_live_page_heartbeats_while_events_it_ignores_go_by() -> None:
    bus = EventBus()
    rendered: list[list[Event] | None] = []

    async def render(events: list[Event] | None) -> str:
        rendered.append(events)
        return "<p>patch</p>"

    request = Request({"type": "http", "headers": [], "query_string": b""})
    wanted = {EventType.task_updated}
    response = fragment_stream(
        request,
        EventService(SimpleNamespace(bus=bus)),  # type: ignore[arg-type]
        PROJECT,
        render,
        heartbeat=BEAT,
        wanted=lambda e: e.type in wanted,
    )
    body = response.body_iterator
    async with noise(bus):
        assert await next_chunk(body) == HEARTBEAT
        assert await next_chunk(body) == HEARTBEAT
    assert rendered == []  # nothing it wanted came
    await body.aclose()  # type: ignore[attr-defined]
    assert bus._topic.subscriber_count == 0  # closing the stream ends its subscription


async def test_events_published_together_go_out_in_one_write(settings: Settings) -> None:
    """A burst (a tick's resource samples, a turn's end) is one write of the stream, not one
    per event: each write is a send on the server's loop."""
    bus = EventBus()
    request = Request({"type": "http", "headers": [], "query_string": b""})
    response = await stream_events(
        request,
        EventService(SimpleNamespace(bus=bus)),  # type: ignore[arg-type]
        settings,
        project_id=None,
        after=None,
    )
    body = response.body_iterator
    first = asyncio.ensure_future(next_chunk(body))
    await asyncio.sleep(BEAT / 4)  # the stream waits for its first event
    for attempt_id in ("a1", "a2", "a3"):
        bus.publish(EventType.attempt_diff_changed, PROJECT, DiffChanged(attempt_id))
    chunk = await first
    assert chunk.count(b"event: attempt.diff_changed") == 3, chunk
    assert [line for line in chunk.split(b"\n") if line.startswith(b"id: ")] == [
        b"id: 1",
        b"id: 2",
        b"id: 3",
    ]
