"""The decision gate: its three choices in plain words, decided once, and the timeline's line."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from paddock.domain.builder.gates import (
    GATE_QUESTION,
    Gate,
    GateChoice,
    GateStatus,
    check_resolvable,
    decision_message,
)
from paddock.domain.errors import Conflict

AT = datetime(2026, 12, 7, 2, 0, tzinfo=UTC)


def pending() -> Gate:
    return Gate(id="g1", app_id="a1", version="v0.1", status=GateStatus.pending, created_at=AT)


def resolved(choice: GateChoice) -> Gate:
    return Gate(
        id="g1",
        app_id="a1",
        version="v0.1",
        status=GateStatus.resolved,
        created_at=AT,
        choice=choice,
        reason="looks good",
        resolved_at=AT,
    )


def test_each_choice_has_its_own_label_and_explanation() -> None:
    assert [c.label for c in GateChoice] == ["Iterate", "Ship", "Park"]
    explanations = [c.explanation for c in GateChoice]
    assert len(set(explanations)) == 3 and all(e.endswith(".") for e in explanations)
    assert "preview stops" in GateChoice.park.explanation
    assert GateChoice("ship") is GateChoice.ship


def test_a_gate_asks_the_question() -> None:
    assert pending().question == GATE_QUESTION
    assert GATE_QUESTION == "You've seen your MVP. Ready to decide what's next?"


def test_a_pending_gate_can_be_resolved() -> None:
    check_resolvable(pending())  # no error


@pytest.mark.parametrize("choice", list(GateChoice))
def test_a_resolved_gate_is_not_decided_twice(choice: GateChoice) -> None:
    with pytest.raises(Conflict) as caught:
        check_resolvable(resolved(choice))
    error = caught.value
    assert error.code == "gate_resolved" and error.http_status == 409
    assert error.message == f"this decision was made already: {choice.label.lower()}"
    assert error.details == {"gate_id": "g1", "choice": choice.value}


def test_the_timeline_says_the_decision_and_the_founders_reason() -> None:
    assert decision_message(GateChoice.iterate, "v0.2", "") == "Decided to iterate on v0.2"
    assert decision_message(GateChoice.ship, "v0.2", "") == "Decided to ship v0.2"
    assert decision_message(GateChoice.park, "v0.3", "") == "Parked the app at v0.3"
    assert (
        decision_message(GateChoice.ship, "v1.0", "the club loves it")
        == "Decided to ship v1.0: the club loves it"
    )
