"""The live pages subscribe by event type, from the catalogue; what they read from an event's
data is in its payload class."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime

from paddock.domain.entities import Event
from paddock.domain.events import EventType, Resource
from paddock.web.ui.board import BOARD_EVENTS, CARD_EVENTS
from paddock.web.ui.diff_views import DIFF_EVENTS
from paddock.web.ui.previews import PREVIEW_EVENTS
from paddock.web.ui.test_views import TAB_EVENTS
from paddock.web.ui.workspace import ATTEMPT_EVENTS, OWN_EVENTS, WHOLE_EVENTS, concerns


def fields(type_: EventType) -> set[str]:
    return {f.name for f in dataclasses.fields(type_.payload)}


def test_the_attempt_page_finds_its_attempt_in_every_event_it_follows() -> None:
    for type_ in OWN_EVENTS:
        assert "id" in fields(type_), type_
    for type_ in ATTEMPT_EVENTS:
        assert "attempt_id" in fields(type_), type_
    assert not OWN_EVENTS & ATTEMPT_EVENTS
    # Every event about an attempt's part reaches its page (a task's move names the attempt
    # it ran on, but is the task's; an app names the attempt its builds run in, but is the
    # builder's).
    about_attempts = {
        t
        for t in EventType
        if "attempt_id" in fields(t) and t.resource not in (Resource.task, Resource.app)
    }
    assert about_attempts <= ATTEMPT_EVENTS
    assert EventType.resource_usage in ATTEMPT_EVENTS
    assert {
        EventType.attempt_created,
        EventType.attempt_updated,
        EventType.attempt_deleted,
        EventType.process_created,
        EventType.process_updated,
        EventType.follow_up_created,
        EventType.follow_up_updated,
    } == WHOLE_EVENTS


def test_the_board_finds_the_card_in_every_event_that_refreshes_one() -> None:
    for type_ in CARD_EVENTS:
        assert "task_id" in fields(type_), type_
    # attempt.diff_changed carries no task: it is no card's business.
    assert EventType.attempt_diff_changed not in BOARD_EVENTS
    assert EventType.for_resource(Resource.task) <= BOARD_EVENTS
    assert {EventType.steps_updated, EventType.preview_updated} <= BOARD_EVENTS
    assert EventType.for_resource(Resource.test_run) <= CARD_EVENTS
    for type_ in (EventType.task_created, EventType.task_updated, EventType.task_deleted):
        assert "id" in fields(type_)


def test_the_tabs_follow_their_resources() -> None:
    assert {EventType.preview_updated} == PREVIEW_EVENTS
    assert {
        EventType.test_run_created,
        EventType.test_run_updated,
        EventType.artifacts_added,
        EventType.openapi_updated,
    } == TAB_EVENTS
    assert {
        EventType.attempt_diff_changed,
        EventType.attempt_updated,
        EventType.pull_request_created,
        EventType.pull_request_updated,
    } == DIFF_EVENTS


def test_the_workspace_follows_its_attempt_and_its_parts_only() -> None:
    def event(type_: EventType, **data: str) -> Event:
        return Event(1, type_, "p1", data, datetime.now(UTC))

    assert concerns("a1", event(EventType.attempt_updated, id="a1"))
    assert not concerns("a1", event(EventType.attempt_updated, id="a2"))
    assert concerns("a1", event(EventType.process_created, id="p", attempt_id="a1"))
    assert not concerns("a1", event(EventType.process_created, id="p", attempt_id="a2"))
    assert concerns("a1", event(EventType.test_run_updated, id="r", attempt_id="a1"))
    # A task's event is not the attempt's, whatever ids it carries.
    assert not concerns("a1", event(EventType.task_updated, id="a1", attempt_id="a1"))
