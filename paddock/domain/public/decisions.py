"""The public read models of the builder's decisions: the gate after a preview, change
requests, the iteration budget and the app's alignment with its brief."""

from __future__ import annotations

from datetime import datetime
from typing import Self

from pydantic import Field, computed_field

from paddock.domain.builder.alignment import Alignment, AlignmentBand
from paddock.domain.builder.changes import ChangeRequest, ChangeStatus, IterationBudget
from paddock.domain.builder.gates import GATE_QUESTION, Gate, GateChoice, GateStatus
from paddock.domain.public.builder import AnswerPublic, QuestionPublic
from paddock.domain.public.model import PublicModel


class GateChoicePublic(PublicModel):
    choice: GateChoice
    label: str
    explanation: str


class GatePublic(PublicModel):
    """The decision after a version's preview was seen: iterate, ship or park."""

    id: str
    app_id: str
    version: str
    status: GateStatus
    choice: GateChoice | None
    reason: str
    created_at: datetime
    resolved_at: datetime | None
    question: str = GATE_QUESTION
    choices: list[GateChoicePublic] = Field(default_factory=list)

    @classmethod
    def of(cls, gate: Gate) -> Self:
        choices = [
            GateChoicePublic(choice=c, label=c.label, explanation=c.explanation) for c in GateChoice
        ]
        return cls.read(gate).model_copy(update={"choices": choices})


class PendingGatePublic(PublicModel):
    """The app's pending decision gate, or none."""

    gate: GatePublic | None


class FeatureFlagPublic(PublicModel):
    """A feature flag: whether it is on here, and whether the UI labels it "Beta"."""

    name: str
    description: str
    enabled: bool
    beta: bool


class ChangeRequestPublic(PublicModel):
    """A change in the founder's words, its clarifying questions and answers, and once
    confirmed, its iteration, alignment and build."""

    id: str
    app_id: str
    description: str
    version: str = Field(description="The version it changes")
    status: ChangeStatus
    questions: list[QuestionPublic]
    answers: list[AnswerPublic]
    clarified: str = Field(description="The description with the answers folded in")
    features: list[str] = Field(description="The brief's features it relates to")
    new_capability: bool
    against_non_goals: list[str]
    iteration: int | None
    tier: str
    tier_limit: int | None
    alignment_score: int | None = Field(description="The app's score with it counted, 0-100")
    scope_creep: bool
    model_score: int | None = Field(description="A model's judgement, beside the lexical score")
    model_reason: str
    build_id: str | None
    created_at: datetime
    updated_at: datetime

    @classmethod
    def of(cls, change: ChangeRequest) -> Self:
        return cls.read(change)


class IterationsPublic(PublicModel):
    """How many iterations the app used of its tier's limit (its first build counts)."""

    used: int
    limit: int
    tier: str
    label: str = Field(description="'Iteration 2 of 5 (Partner tier)'")
    exhausted: bool
    next_is_last: bool

    @classmethod
    def of(cls, budget: IterationBudget) -> Self:
        return cls.read(budget)


class RequestMatchPublic(PublicModel):
    request_id: str
    text: str
    features: list[str]
    against_non_goals: list[str]
    new_capability: bool


class AlignmentPublic(PublicModel):
    """The app's change requests against its brief: 0-100, green >= 80, yellow 60-79, red
    below (scope creep). It informs; it never blocks."""

    score: int
    band: AlignmentBand
    explanation: str
    requests: list[RequestMatchPublic]
    model_score: int | None
    model_reason: str

    @computed_field  # type: ignore[prop-decorator]
    @property
    def scope_creep(self) -> bool:
        return self.band.scope_creep

    @classmethod
    def of(cls, alignment: Alignment) -> Self:
        return cls.read(alignment)


__all__ = [
    "AlignmentPublic",
    "ChangeRequestPublic",
    "FeatureFlagPublic",
    "GateChoicePublic",
    "GatePublic",
    "IterationsPublic",
    "PendingGatePublic",
    "RequestMatchPublic",
]
