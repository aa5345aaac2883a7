"""Change requests: how a founder iterates on a version, in conversation.

The founder writes the change in their words; the planner asks one or two clarifying questions
(offline: `OFFLINE_CHANGE_QUESTIONS`, a fixed and honest set); their answers make the clarified
description, which the founder confirms. A confirmed request is an *iteration*: a build that
patches the current version (a new agent turn in the app's attempt, the clarified change its
prompt) and makes the next version.

    draft (questions asked) → clarified (answers given) → confirmed (its build queued)
                        ↘ discarded (by the founder, before confirming)

Iterations are counted from the first build ("Iteration 1" is the MVP), up to the tier's limit:
"Iteration 2 of 5 (Partner tier)". The last one is confirmed explicitly; past the limit a change
is refused with a plain message. A confirmed request whose build was cancelled gives its
iteration back (it made nothing).
"""

from __future__ import annotations

from collections.abc import Iterable, Set
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from paddock.domain.builder.alignment import band_of
from paddock.domain.builder.brief import Answer, Brief, Question
from paddock.domain.errors import Conflict, InvalidInput

MAX_CHANGE = 4000  # characters of a change's description
MAX_CHANGE_QUESTIONS = 2


class ChangeStatus(StrEnum):
    draft = "draft"  # questions asked, not answered
    clarified = "clarified"  # answered: the clarified description awaits the founder's yes
    confirmed = "confirmed"  # its build is queued (or ran)
    discarded = "discarded"

    @property
    def open(self) -> bool:
        """Still being talked through: at most one per app."""
        return self in (ChangeStatus.draft, ChangeStatus.clarified)


@dataclass(frozen=True, slots=True)
class ChangeRequest:
    id: str
    app_id: str
    description: str  # the founder's words
    version: str  # the version it changes ("v0.1")
    status: ChangeStatus
    created_at: datetime
    updated_at: datetime
    questions: tuple[Question, ...] = ()
    answers: tuple[Answer, ...] = ()
    clarified: str = ""  # the description with the answers folded in
    features: tuple[str, ...] = ()  # the brief's features it relates to
    new_capability: bool = False  # relates to none of them
    against_non_goals: tuple[str, ...] = ()  # the brief's non-goals it goes against
    iteration: int | None = None  # set when confirmed: 2 for the first change
    tier: str = ""
    tier_limit: int | None = None
    alignment_score: int | None = None  # the app's score with this request counted
    model_score: int | None = None  # a model's judgement, beside the lexical score
    model_reason: str = ""
    build_id: str | None = None

    @property
    def scope_creep(self) -> bool:
        return self.alignment_score is not None and band_of(self.alignment_score).scope_creep

    @property
    def prompt(self) -> str:
        """What the iteration's agent turn is asked."""
        return self.clarified or self.description


# The offline planner asks these: they do not pretend to understand the change, they ask the
# founder for what an agent needs to get it right.
OFFLINE_CHANGE_QUESTIONS: tuple[Question, ...] = (
    Question(
        id="done_looks_like",
        text="When it is done, what will you see or be able to do?",
        hint="e.g. 'A Waitlist button under each full class; I get an email when someone joins'.",
    ),
    Question(
        id="where",
        text="Which part of the app does it change?",
        hint="One of your features, a page, or 'something new'.",
    ),
)


def check_description(text: str) -> str:
    text = text.strip()
    if not text:
        raise InvalidInput("describe the change you want", code="empty_change")
    if len(text) > MAX_CHANGE:
        raise InvalidInput(f"a change is at most {MAX_CHANGE} characters", code="change_too_long")
    return text


def assemble_clarified(
    description: str, questions: tuple[Question, ...], answers: dict[str, str]
) -> str:
    """The offline clarified description: the founder's words, then each answer under its
    question (questions left unanswered are left out)."""
    lines = [description.strip()]
    for question in questions:
        answer = answers.get(question.id, "").strip()
        if answer:
            lines.append(f"- {question.text} {answer}")
    return "\n".join(lines)


def brief_words(brief: Brief) -> str:
    """The brief's features, for a planner's question about which one a change touches."""
    return ", ".join(feature.name for feature in brief.features)


# -- iterations -------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class IterationBudget:
    """How many iterations an app has used of its tier's limit (the first build counts)."""

    used: int
    limit: int
    tier: str

    @property
    def next(self) -> int:
        return self.used + 1

    @property
    def exhausted(self) -> bool:
        return self.used >= self.limit

    @property
    def next_is_last(self) -> bool:
        return self.next == self.limit

    @property
    def label(self) -> str:
        """'Iteration 2 of 5 (Partner tier)': where the app stands."""
        return f"Iteration {min(self.used, self.limit)} of {self.limit} ({self.tier.title()} tier)"

    def check_next(self, *, confirmed_last: bool) -> int:
        """The number of the next iteration; refused past the limit, and for the last one
        unless the founder confirmed it is the last."""
        if self.exhausted:
            raise Conflict(
                f"You have used all {self.limit} iterations of the {self.tier.title()} tier. "
                "Ship this version, or roll back to an earlier one.",
                code="iteration_limit_reached",
                used=self.used,
                limit=self.limit,
            )
        if self.next_is_last and not confirmed_last:
            raise Conflict(
                f"This is your last iteration on the {self.tier.title()} tier "
                f"({self.next} of {self.limit}). Confirm to use it.",
                code="last_iteration_unconfirmed",
                iteration=self.next,
                limit=self.limit,
            )
        return self.next


def iterations_used(changes: Iterable[ChangeRequest], cancelled_builds: Set[str]) -> int:
    """Iterations used: the first build, plus each confirmed change but those whose build was
    cancelled (it made no version: the iteration is given back)."""
    counted = [
        change
        for change in changes
        if change.status is ChangeStatus.confirmed and change.build_id not in cancelled_builds
    ]
    return 1 + len(counted)
