"""The event bus keeps and sends each payload's public read model: no secret value enters it.
It takes only the catalogue's event types, each with its own payload class."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from paddock.domain.entities import AgentSpec, Attempt, Scripts
from paddock.domain.events import Deleted, EventType, UnknownEventType, WrongEventPayload
from paddock.domain.secrets import MASK
from paddock.domain.states import AttemptStatus
from paddock.runtime.events import EventBus

pytestmark = pytest.mark.anyio


def an_attempt(agent: AgentSpec) -> Attempt:
    now = datetime(2026, 1, 1, tzinfo=UTC)
    return Attempt(
        id="a1",
        task_id="t1",
        project_id="p1",
        status=AttemptStatus.creating,
        branch="paddock/a1",
        base_branch="main",
        base_commit="0" * 40,
        worktree_path="/nowhere",
        agent=agent,
        prompt="",
        scripts=Scripts(),
        error=None,
        debug_id=None,
        created_at=now,
        updated_at=now,
    )


async def test_published_events_carry_no_secret_value() -> None:
    bus = EventBus()
    agent = AgentSpec(
        env={"MARKED": "the-secret", "GITHUB_TOKEN": "ghp-x", "A": "b"},
        secret_env=["MARKED"],
    )
    with bus.subscribe() as sub:
        event = bus.publish(EventType.attempt_created, "p1", an_attempt(agent))
        live = await sub.get(1)
    replayed = bus.replay(0)
    assert replayed is not None
    for seen in (event, live, replayed[0]):
        assert seen.data["agent"]["env"] == {"MARKED": MASK, "GITHUB_TOKEN": MASK, "A": "b"}
    assert agent.env["MARKED"] == "the-secret"  # the publisher's own data is left as it was


async def test_the_bus_refuses_a_type_the_catalogue_does_not_define() -> None:
    bus = EventBus()
    with bus.subscribe() as sub:
        for name in ("attempt.updatd", "attempt.", "attempt", "sync", ""):
            with pytest.raises(UnknownEventType):
                bus.publish(name, "p1", Deleted("a1"))  # type: ignore[arg-type]
        assert sub.drain() == []  # nothing went out
    assert bus.last_seq == 0 and bus.replay(0) == []  # and nothing was numbered or kept


async def test_the_bus_refuses_a_payload_of_another_class() -> None:
    bus = EventBus()
    with pytest.raises(WrongEventPayload):
        bus.publish(EventType.attempt_deleted, "p1", Deleted("a1"))  # needs its task_id
    with pytest.raises(WrongEventPayload):
        bus.publish(EventType.project_deleted, "p1", {"id": "p1"})  # a bare dict is no payload
    assert bus.last_seq == 0


async def test_an_event_keeps_its_catalogue_type() -> None:
    bus = EventBus()
    event = bus.publish(EventType.task_deleted, "p1", Deleted("t1"))
    assert event.type is EventType.task_deleted
    assert event.type.resource.value == "task"
    assert event.data == {"id": "t1"}


async def test_a_subscription_gets_only_the_events_it_wants_of_its_project() -> None:
    bus = EventBus()
    wanted = {EventType.task_deleted}
    with (
        bus.subscribe("p1", lambda e: e.type in wanted) as picky,
        bus.subscribe(None, lambda e: e.type in wanted) as everywhere,
    ):
        bus.publish(EventType.project_deleted, "p1", Deleted("p1"))  # not wanted
        mine = bus.publish(EventType.task_deleted, "p1", Deleted("t1"))
        other = bus.publish(EventType.task_deleted, "p2", Deleted("t2"))  # another project's
        assert picky.drain() == [mine]
        assert everywhere.drain() == [mine, other]
