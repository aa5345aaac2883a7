"""A live page's stream outlives a patch that cannot be rendered: the page gets the whole of
itself instead, and the stream (which the browser would otherwise reconnect, showing an error)
goes on; each failure is in the server's log with a debug id."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from types import SimpleNamespace
from typing import Any

import pytest
from starlette.requests import Request

from paddock.domain.entities import Event
from paddock.domain.events import DiffChanged, EventType
from paddock.runtime.events import EventBus
from paddock.services.events import EventService
from paddock.web.ui.live import fragment_stream

pytestmark = pytest.mark.anyio

PROJECT = "p1"


async def next_patch(body: AsyncIterator[Any]) -> str:
    chunk = await asyncio.wait_for(anext(body), 10)  # a hang guard, not a timing
    return chunk.decode() if isinstance(chunk, bytes) else str(chunk)


async def test_a_patch_that_fails_to_render_sends_the_whole_page_and_the_stream_goes_on(
    caplog: pytest.LogCaptureFixture,
) -> None:
    bus = EventBus()
    calls: list[list[Event] | None] = []
    fourth_render = asyncio.Event()
    failures = {"patch": 1, "whole": 0}

    async def render(events: list[Event] | None) -> str:
        calls.append(events)
        if len(calls) == 4:
            fourth_render.set()
        kind = "whole" if events is None else "patch"
        if failures[kind] > 0:
            failures[kind] -= 1
            raise LookupError(f"the {kind} could not be read")
        return f"<p>{kind}</p>"

    request = Request({"type": "http", "headers": [], "query_string": b"", "path": "/ui/x"})
    body = fragment_stream(
        request,
        EventService(SimpleNamespace(bus=bus)),  # type: ignore[arg-type]
        PROJECT,
        render,
        heartbeat=30,
    ).body_iterator
    first = asyncio.ensure_future(next_patch(body))
    # The bus tells no one of a new subscriber: look until the stream has one.
    while bus._topic.subscriber_count == 0:  # noqa: ASYNC110
        await asyncio.sleep(0.01)
    with caplog.at_level(logging.ERROR, logger="paddock.web"):
        event = bus.publish(EventType.attempt_diff_changed, PROJECT, DiffChanged("a1"))
        assert await first == f"id: {event.seq}\nevent: patch\ndata: <p>whole</p>\n\n"
    assert [c is None for c in calls] == [False, True]  # the patch, then the whole page
    assert "could not be rendered [debug_id=" in caplog.text

    # The whole page failing too sends nothing, and the stream still serves the next event.
    failures.update(patch=1, whole=1)
    bus.publish(EventType.attempt_diff_changed, PROJECT, DiffChanged("a1"))
    following = asyncio.ensure_future(next_patch(body))
    await asyncio.wait_for(fourth_render.wait(), 10)  # the stream took it in: both failed
    assert not following.done()
    newest = bus.publish(EventType.attempt_diff_changed, PROJECT, DiffChanged("a1"))
    assert await following == f"id: {newest.seq}\nevent: patch\ndata: <p>patch</p>\n\n"
    await body.aclose()  # type: ignore[attr-defined]
