"""The alignment score: how well an app's change requests stay within its brief.

After the first version a founder asks for changes in their own words. Each request either
*relates* to some of the brief's core features (by the words they share) or is a *new
capability*; a request that touches one of the brief's non-goals is flagged as against it. The
score is the share of requests that build on the brief: a request counts 1 when it relates to a
feature and touches no non-goal, else 0; score = 100 x mean, rounded half up (100 with no
requests; a blank request is not counted). Bands: green >= 80, yellow 60-79, red < 60 = scope
creep. It never blocks, it informs, in plain words (`explain`).

How words are compared (lexical on purpose, so the explanation can name the words; the
words themselves are wording.py's):
- normalised: case-folded, accents and punctuation dropped ("Log-in!" is "log in"), a small
  stopword list dropped, a light English stemmer (plurals, -ing, -ed, -er, a final e: "bookings",
  "booked" and "book" are one word, so are "scheduling" and "schedule");
- common app words are one concept (`SYNONYMS`: log in = sign in = login, register = sign up,
  checkout = payment = Stripe, image = picture = photo, remove = delete, change = edit ...);
- a feature's words are those of its name and of its description: "Book a class: pick one and
  a time" is touched by "let students choose a time slot" (time; choose = pick);
- weights: a word counts 1, or a half when it is a bare action (edit, delete, pick, view ...) or
  when every feature has it (it tells no feature apart); generic words (app, page, button, make,
  add, please ...) count nothing. A request touches a feature at 1: one telling word, two halves;
  a feature whose touching words all touch another feature, with more, is left out ("make the gig
  list sortable" touches Gig list, not Mailing list, though both have "list");
- a non-goal ("No payments") is touched the same way, except that words the features also use
  count a half against it (the brief's own scope is not against it).

A language model's judgement can sit beside the lexical score (`model_score`, `model_reason`):
a service fills it in; this module calls no model.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from enum import StrEnum

from paddock.domain.builder.brief import Brief
from paddock.domain.builder.wording import (
    ACTION_CONCEPTS,
    Word,
    has_words,
    keys_of,
    words_of,
)

GREEN_FROM = 80
YELLOW_FROM = 60
TOUCH = 1.0  # what a request's words must weigh to touch a feature or a non-goal
HALF = 0.5  # a bare action, or a word every feature has


class AlignmentBand(StrEnum):
    green = "green"
    yellow = "yellow"
    red = "red"

    @property
    def scope_creep(self) -> bool:
        return self is AlignmentBand.red

    @property
    def label(self) -> str:
        return {"green": "On brief", "yellow": "Drifting", "red": "Scope creep"}[self.value]


@dataclass(frozen=True, slots=True)
class RequestMatch:
    """One change request set against the brief: what it touches and by which of its words."""

    request_id: str
    text: str
    features: tuple[str, ...]  # the names of the features it relates to, in the brief's order
    against_non_goals: tuple[str, ...]  # the non-goals it touches, as the brief words them
    new_capability: bool  # it relates to no feature (and is not blank)
    matched_words: dict[str, tuple[str, ...]]  # feature name -> the request's words touching it
    non_goal_words: dict[str, tuple[str, ...]] = field(default_factory=dict)
    blank: bool = False  # no words at all: nothing to relate, not counted in the score

    @property
    def builds_on_brief(self) -> bool:
        return bool(self.features) and not self.against_non_goals

    @property
    def summary(self) -> str:
        """The classification shown when a change request is made ("Book a class", "new
        capability", "new capability; against your non-goal 'No payments'")."""
        if self.blank:
            return "nothing to relate yet"
        related = ", ".join(self.features) if self.features else "new capability"
        if self.against_non_goals:
            return f"{related}; against your non-goal {_and(map(_quoted, self.against_non_goals))}"
        return related


@dataclass(frozen=True, slots=True)
class Alignment:
    score: int  # 0-100
    band: AlignmentBand
    requests: tuple[RequestMatch, ...]
    explanation: str
    model_score: int | None = None  # a model's judgement, filled in by a service
    model_reason: str = ""

    def judged(self, model_score: int, model_reason: str) -> Alignment:
        """This alignment with a model's score and reason beside the lexical one."""
        _check_score(model_score)
        return replace(self, model_score=model_score, model_reason=model_reason.strip())


def band_of(score: int) -> AlignmentBand:
    _check_score(score)
    if score >= GREEN_FROM:
        return AlignmentBand.green
    return AlignmentBand.yellow if score >= YELLOW_FROM else AlignmentBand.red


def _check_score(score: int) -> None:
    if not 0 <= score <= 100:
        raise ValueError(f"an alignment score is 0 to 100, not {score}")


# --- relating requests to the brief --------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Scope:
    """The brief's words, worked out once for all of an app's requests."""

    features: tuple[tuple[str, frozenset[str]], ...]  # name, keys
    feature_halves: frozenset[str]  # bare actions and the words every feature has
    non_goals: tuple[tuple[str, frozenset[str]], ...]
    non_goal_halves: frozenset[str]  # bare actions and the features' own words


def _scope_of(brief: Brief) -> _Scope:
    features = tuple((f.name, keys_of(f.name, f.description)) for f in brief.features)
    keys = [k for _, k in features]
    everywhere = frozenset.intersection(*keys) if len(keys) > 1 else frozenset()
    return _Scope(
        features=features,
        feature_halves=ACTION_CONCEPTS | everywhere,
        non_goals=tuple((goal, keys_of(goal)) for goal in brief.non_goals),
        non_goal_halves=ACTION_CONCEPTS | frozenset().union(*keys),
    )


def _touching(
    words: Sequence[Word], keys: frozenset[str], halves: frozenset[str]
) -> tuple[str, ...]:
    """The words that touch `keys` if together they weigh TOUCH (each key counted once), else ()."""
    hits = [word for word in words if word.key in keys]
    weight = sum(HALF if key in halves else 1.0 for key in {word.key for word in hits})
    return tuple(dict.fromkeys(word.surface for word in hits)) if weight >= TOUCH else ()


def _relate(scope: _Scope, text: str, request_id: str) -> RequestMatch:
    words = words_of(text)
    touched = {
        name: touching
        for name, keys in scope.features
        if (touching := _touching(words, keys, scope.feature_halves))
    }
    matched = _most_specific(touched)
    against = {
        goal: touching
        for goal, keys in scope.non_goals
        if (touching := _touching(words, keys, scope.non_goal_halves))
    }
    blank = not has_words(text)
    return RequestMatch(
        request_id=request_id,
        text=text,
        features=tuple(matched),
        against_non_goals=tuple(against),
        new_capability=not matched and not blank,
        matched_words=matched,
        non_goal_words=against,
        blank=blank,
    )


def _most_specific(touched: dict[str, tuple[str, ...]]) -> dict[str, tuple[str, ...]]:
    """Leaves out a feature whose touching words all touch another feature too, with more: "the
    gig list" is about the Gig list, not the Mailing list, though both have "list"."""
    return {
        name: words
        for name, words in touched.items()
        if not any(set(words) < set(other) for other in touched.values())
    }


def relate(brief: Brief, text: str, request_id: str = "") -> RequestMatch:
    """What one change request touches: the brief's features (or a new capability) and
    non-goals, with the words that touch each."""
    return _relate(_scope_of(brief), text, request_id)


def align(brief: Brief, requests: Sequence[tuple[str, str]]) -> Alignment:
    """The app's alignment: its requests (id, text: the clarified description if any), each
    related to the brief, the score, its band and the explanation."""
    scope = _scope_of(brief)
    matches = tuple(_relate(scope, text, request_id) for request_id, text in requests)
    score = score_of(matches)
    return Alignment(score, band_of(score), matches, explain(matches))


def score_of(matches: Sequence[RequestMatch]) -> int:
    """100 x the share of (non-blank) requests that build on the brief, rounded half up."""
    counted = [match for match in matches if not match.blank]
    if not counted:
        return 100
    on_brief = sum(match.builds_on_brief for match in counted)
    return (200 * on_brief + len(counted)) // (2 * len(counted))


# --- in plain words ----------------------------------------------------------------------------

QUOTE_LENGTH = 60


def explain(matches: Sequence[RequestMatch]) -> str:
    """For the founder: how many changes build on the brief, what each touches, which are new,
    which go against a non-goal ("2 of 3 changes build on your brief: 'Add a waitlist' touches
    Book a class; ...")."""
    counted = [match for match in matches if not match.blank]
    if not counted:
        return "No changes yet: the app is still exactly its brief."
    on_brief = sum(match.builds_on_brief for match in counted)
    changes = "change" if len(counted) == 1 else "changes"
    build = "builds" if on_brief == 1 else "build"
    sentences = "; ".join(_sentence(match) for match in counted)
    text = f"{on_brief} of {len(counted)} {changes} {build} on your brief: {sentences}."
    blank = len(matches) - len(counted)
    if blank:
        text += f" {blank} empty {'request was' if blank == 1 else 'requests were'} not counted."
    if band_of(score_of(matches)).scope_creep:
        text += " That is scope creep: most changes go beyond the brief. It is your call."
    return text


def _sentence(match: RequestMatch) -> str:
    what = f"touches {_and(match.features)}" if match.features else "is a new capability"
    sentence = f"{_quoted(match.text)} {what}"
    if match.against_non_goals:
        joint = "but" if match.features else "and"
        goals = _and(map(_quoted, match.against_non_goals))
        sentence += f", {joint} your brief says {goals}"
    return sentence


def _quoted(text: str) -> str:
    """One line, cut at a word within QUOTE_LENGTH characters, in single quotes."""
    line = " ".join(text.split())
    line = line.rstrip(" .;:!?") or line
    if len(line) > QUOTE_LENGTH:
        line = line[: QUOTE_LENGTH + 1].rsplit(" ", 1)[0].rstrip(" ,;:") + "…"
    return f"'{line}'"


def _and(items: Iterable[str]) -> str:
    """ "A", "A and B", "A, B and C"."""
    listed = list(items)
    if len(listed) <= 1:
        return "".join(listed)
    return f"{', '.join(listed[:-1])} and {listed[-1]}"
