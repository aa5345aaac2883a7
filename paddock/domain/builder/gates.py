"""The decision gate: after the founder has seen a ready version's preview, the app asks
"You've seen your MVP. Ready to decide what's next?" — iterate (a change request), ship (deploy
readiness) or park (the app paused: its previews stopped, everything kept, resumable).

One gate is pending per app at most: asking for it again gives the pending one back. A gate is
resolved once; resolving it again is refused (`gate_resolved`), so a double click, a second tab
or a retried request never decides twice.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from paddock.domain.errors import Conflict

GATE_QUESTION = "You've seen your MVP. Ready to decide what's next?"
MAX_REASON = 1000


class GateChoice(StrEnum):
    iterate = "iterate"
    ship = "ship"
    park = "park"

    @property
    def label(self) -> str:
        return _CHOICE_LABELS[self][0]

    @property
    def explanation(self) -> str:
        return _CHOICE_LABELS[self][1]


_CHOICE_LABELS = {
    GateChoice.iterate: ("Iterate", "Ask for a change; we build the next version."),
    GateChoice.ship: ("Ship", "See what stands between this version and a deploy."),
    GateChoice.park: ("Park", "Pause the app: its preview stops, nothing is lost."),
}


class GateStatus(StrEnum):
    pending = "pending"
    resolved = "resolved"


@dataclass(frozen=True, slots=True)
class Gate:
    id: str
    app_id: str
    version: str  # the version whose preview was seen
    status: GateStatus
    created_at: datetime
    choice: GateChoice | None = None
    reason: str = ""  # the founder's own words, if they gave any
    resolved_at: datetime | None = None

    @property
    def question(self) -> str:
        return GATE_QUESTION


def check_resolvable(gate: Gate) -> None:
    """Refuse to decide a gate twice."""
    if gate.status is GateStatus.resolved:
        assert gate.choice is not None
        raise Conflict(
            f"this decision was made already: {gate.choice.label.lower()}",
            code="gate_resolved",
            gate_id=gate.id,
            choice=gate.choice.value,
        )


def decision_message(choice: GateChoice, version: str, reason: str) -> str:
    """The timeline's words for a decision."""
    said = {
        GateChoice.iterate: f"Decided to iterate on {version}",
        GateChoice.ship: f"Decided to ship {version}",
        GateChoice.park: f"Parked the app at {version}",
    }[choice]
    return f"{said}: {reason}" if reason else said
