"""The brief: an app's scope (problem, users, named core features, non-goals), made from the
founder's idea and their answers to a few clarifying questions. Later builds and change
requests are measured against its features, so each has a short, unique name.

The models validate what a planner (a language model) answered: a malformed answer is a
`ValidationError` the service turns into a friendly failure, never a crash. `assemble_brief`
is the offline planner's brief: the founder's own words, put in place.
"""

from __future__ import annotations

import re
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, field_validator

Text = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=2000)]
Name = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=80)]

MAX_FEATURES = 8
MAX_QUESTIONS = 6


class Question(BaseModel):
    model_config = ConfigDict(frozen=True)

    id: Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9_]{0,31}$")]
    text: Text
    hint: str = ""


class Answer(BaseModel):
    model_config = ConfigDict(frozen=True)

    question_id: str
    text: Annotated[str, StringConstraints(strip_whitespace=True, max_length=4000)]


class Feature(BaseModel):
    model_config = ConfigDict(frozen=True)

    name: Name
    description: Annotated[str, StringConstraints(strip_whitespace=True, max_length=500)] = ""


class Brief(BaseModel):
    """What the app is for and what it must do; the founder can edit every field."""

    model_config = ConfigDict(frozen=True)

    name: Name
    problem: Text
    users: Text
    features: list[Feature] = Field(min_length=1, max_length=MAX_FEATURES)
    non_goals: list[Text] = Field(default_factory=list, max_length=MAX_FEATURES)

    @field_validator("features")
    @classmethod
    def _unique_names(cls, features: list[Feature]) -> list[Feature]:
        seen: set[str] = set()
        for feature in features:
            key = feature.name.casefold()
            if key in seen:
                raise ValueError(f"two features are named {feature.name!r}")
            seen.add(key)
        return features


class Questions(BaseModel):
    """A planner's clarifying questions (2 to MAX_QUESTIONS, unique ids)."""

    questions: list[Question] = Field(min_length=2, max_length=MAX_QUESTIONS)

    @field_validator("questions")
    @classmethod
    def _unique_ids(cls, questions: list[Question]) -> list[Question]:
        if len({q.id for q in questions}) != len(questions):
            raise ValueError("two questions share an id")
        return questions


# The offline planner asks these; a model-backed one asks its own (the same ids help it).
OFFLINE_QUESTIONS: tuple[Question, ...] = (
    Question(
        id="users",
        text="Who is it for?",
        hint="The people who will use it, e.g. 'members of my running club'.",
    ),
    Question(
        id="features",
        text="What are the 3 to 5 things it must do?",
        hint="One per line, e.g. 'Sign up for a run: pick a date and a distance'.",
    ),
    Question(
        id="non_goals",
        text="What must it not do (for now)?",
        hint="One per line, e.g. 'No payments'. Leave empty if nothing comes to mind.",
    ),
)

_BULLET = re.compile(r"^\s*(?:[-*•]|\d+[.)])\s*")
_SPLIT = re.compile(r"[\n;]+")


def listed(text: str) -> list[str]:
    """The items of a list typed as lines (or `;`-separated), bullets and numbers removed."""
    items = (_BULLET.sub("", part).strip() for part in _SPLIT.split(text))
    return [item for item in items if item]


def feature_of(item: str) -> Feature:
    """'Sign up: pick a date' -> name 'Sign up', description 'pick a date'; a long item without
    a colon is named by its first words."""
    head, colon, rest = item.partition(":")
    if colon and head.strip() and len(head) <= 80:
        return Feature(name=head.strip(), description=rest.strip()[:500])
    words = item.split()
    name = " ".join(words[:6])
    return Feature(name=name[:80], description=item[:500] if len(words) > 6 else "")


def assemble_brief(idea: str, answers: dict[str, str]) -> Brief:
    """The offline planner's brief: the idea as the problem, the answers in their places. A
    feature named twice is kept once; with no feature given, the idea itself is the one."""
    features: list[Feature] = []
    for item in listed(answers.get("features", "")):
        feature = feature_of(item)
        if all(f.name.casefold() != feature.name.casefold() for f in features):
            features.append(feature)
    if not features:
        features = [feature_of(idea)]
    return Brief(
        name=app_name(idea),
        problem=idea.strip()[:2000],
        users=(answers.get("users") or "").strip()[:2000] or "Anyone who needs it",
        features=features[:MAX_FEATURES],
        non_goals=[item[:2000] for item in listed(answers.get("non_goals", ""))][:MAX_FEATURES],
    )


_FILLER = re.compile(
    r"^(?:(?:i|we)\s+(?:want|would like|need)\s+(?:to\s+)?(?:build|make|create|have)\s+|"
    r"(?:let'?s\s+)?(?:build|make|create)\s+|an?\s+|the\s+)+",
    re.IGNORECASE,
)
NAME_LENGTH = 40


def app_name(idea: str) -> str:
    """A short name for an app from its idea: its first line without "I want to build a",
    capitalised, cut at a word within NAME_LENGTH characters ("A booking page for my yoga
    studio" -> "Booking page for my yoga studio")."""
    first = (idea.strip().splitlines() or [""])[0]
    text = _FILLER.sub("", re.sub(r"\s+", " ", first)).strip(" .,;:!?-")
    if len(text) > NAME_LENGTH:
        text = text[: NAME_LENGTH + 1].rsplit(" ", 1)[0].rstrip(" .,;:!?-")
    return (text[:1].upper() + text[1:])[:NAME_LENGTH] or "My app"
