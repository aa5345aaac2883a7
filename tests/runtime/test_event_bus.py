"""The event bus keeps and sends what public_json shows: no secret value enters it."""

from __future__ import annotations

import pytest

from paddock.domain.secrets import MASK
from paddock.runtime.events import EventBus

pytestmark = pytest.mark.anyio


async def test_published_events_carry_no_secret_value() -> None:
    bus = EventBus()
    agent = {
        "env": {"MARKED": "the-secret", "GITHUB_TOKEN": "ghp-x", "A": "b"},
        "secret_env": ["MARKED"],
    }
    with bus.subscribe() as sub:
        event = bus.publish("attempt.created", "p1", {"id": "a1", "agent": agent})
        live = await sub.get(1)
    replayed = bus.replay(0)
    assert replayed is not None
    for seen in (event, live, replayed[0]):
        assert seen.data["agent"]["env"] == {"MARKED": MASK, "GITHUB_TOKEN": MASK, "A": "b"}
    assert agent["env"]["MARKED"] == "the-secret"  # the publisher's own data is left as it was
