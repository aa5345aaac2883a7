"""The alignment score: change requests set against a brief's features and non-goals, the
score and its bands, and the explanation a founder reads."""

from __future__ import annotations

import pytest

from paddock.domain.builder.alignment import (
    Alignment,
    AlignmentBand,
    align,
    band_of,
    explain,
    relate,
    score_of,
)
from paddock.domain.builder.brief import Brief, Feature
from paddock.domain.builder.wording import SYNONYMS, stem

YOGA = Brief(
    name="Booking page for my yoga studio",
    problem="Students cannot see or book classes online",
    users="Students of the studio",
    features=[
        Feature(name="Schedule", description="this week's classes by day"),
        Feature(name="Book a class", description="pick one and a time"),
        Feature(name="My bookings", description="see and cancel what I booked"),
        Feature(name="Log in", description="with a magic link"),
    ],
    non_goals=["No payments", "No app store release"],
)
BAND = Brief(
    name="Gig page for The Lanterns",
    problem="Fans cannot find where we play next",
    users="Fans of the band",
    features=[
        Feature(name="Gig list", description="upcoming concerts with date, venue and tickets"),
        Feature(name="Listen", description="stream our songs"),
        Feature(name="Photos", description="pictures from past shows"),
        Feature(name="Mailing list", description="fans sign up for news"),
    ],
    non_goals=["No merch shop", "No user accounts"],
)
TEAM = Brief(
    name="Team todo board",
    problem="Our design team loses track of who does what",
    users="A small design team",
    features=[
        Feature(name="Task list", description="everyone's tasks in one place"),
        Feature(name="Assign tasks", description="give a task to a teammate"),
        Feature(name="Due dates", description="reminders before a task is due"),
        Feature(name="Edit a task", description="its title or notes"),
    ],
    non_goals=["No time tracking", "No chat"],
)
NEW: tuple[str, ...] = ()  # relates to no feature: a new capability


@pytest.mark.parametrize(
    ("brief", "text", "features", "non_goals"),
    [
        # a feature's own name
        (YOGA, "Make the schedule printable", ("Schedule",), ()),
        (BAND, "Make the gig list sortable", ("Gig list",), ()),
        # stems: substring matching finds neither "book a class" nor "log in" in these
        (YOGA, "Online booking for workshops", ("Book a class", "My bookings"), ()),
        (YOGA, "logins should remember me", ("Log in",), ()),
        (TEAM, "Teammates get reminded before deadlines", ("Assign tasks", "Due dates"), ()),
        # synonyms from the built-in table
        (YOGA, "Users should be able to Sign-In with Google", ("Log in",), ()),
        (YOGA, "Add a weekly timetable", ("Schedule",), ()),
        (BAND, "Gallery of pics from Leeds", ("Photos",), ()),
        (BAND, "Fans can register for the newsletter", ("Mailing list",), ()),
        (BAND, "Add a music player", ("Listen",), ()),
        (YOGA, "Cancel a reservation", ("My bookings",), ()),
        # a description's words are the feature's: time, and choose = pick
        (YOGA, "Let students choose a time slot", ("Book a class",), ()),
        (BAND, "Add tour dates for Berlin", ("Gig list",), ()),
        # several features at once
        (BAND, "Upload more images from the Leeds concert", ("Gig list", "Photos"), ()),
        (TEAM, "Sort the to-do list by due date", ("Task list", "Due dates"), ()),
        # a word every feature has counts a half: alone it is not enough, with an action it is
        (TEAM, "Tag tasks with colours", NEW, ()),
        (TEAM, "Rename a task", ("Edit a task",), ()),
        (TEAM, "Assign a task to two people", ("Assign tasks",), ()),
        # a bare action is not a feature; generic words never are
        (TEAM, "Change the header colour", NEW, ()),
        (YOGA, "Please add a new page with a button", NEW, ()),
        (BAND, "Make the app better, please!", NEW, ()),
        (BAND, "Add a lyrics page", NEW, ()),
        # non-goals: against them is scope creep, whatever else the request touches
        (YOGA, "Add Stripe checkout", NEW, ("No payments",)),
        (
            YOGA,
            "Let people pay by card when booking",
            ("Book a class", "My bookings"),
            ("No payments",),
        ),
        (YOGA, "Publish it on the App Store", NEW, ("No app store release",)),
        (BAND, "Sell t-shirts in a merch shop", NEW, ("No merch shop",)),
        (BAND, "Let fans create accounts", ("Mailing list",), ("No user accounts",)),
        (TEAM, "Track hours spent on each task", NEW, ("No time tracking",)),
        (TEAM, "A chat between teammates", ("Assign tasks",), ("No chat",)),
        # a feature touched only by words that touch another one more is left out; not otherwise
        (BAND, "Link the mailing list from the gig page", ("Gig list", "Mailing list"), ()),
        (YOGA, "Book two classes at once", ("Book a class",), ()),
        # case, punctuation, accents, emoji
        (YOGA, "SCHEDULE!!! for next week??", ("Schedule",), ()),
        (YOGA, "Café-style TIMETABLE 🧘‍♀️", ("Schedule",), ()),
        (BAND, "“Photos” — from the gig\u2019s after-party…", ("Gig list", "Photos"), ()),
    ],
)
def test_a_request_relates_to_the_features_it_touches(
    brief: Brief, text: str, features: tuple[str, ...], non_goals: tuple[str, ...]
) -> None:
    match = relate(brief, text, "r1")
    assert match.features == features
    assert match.against_non_goals == non_goals
    assert match.new_capability is (features == NEW)
    assert match.builds_on_brief is (bool(features) and not non_goals)
    assert set(match.matched_words) == set(features)
    assert all(match.matched_words.values())
    assert (match.request_id, match.text, match.blank) == ("r1", text, False)


@pytest.mark.parametrize("text", ["", "   \n\t ", "?!… —", "🧘‍♀️🎸"])
def test_a_blank_request_relates_to_nothing_and_is_no_new_capability(text: str) -> None:
    match = relate(YOGA, text)
    assert match.blank
    assert (match.features, match.against_non_goals, match.new_capability) == ((), (), False)
    assert match.summary == "nothing to relate yet"


def test_a_word_the_features_use_counts_a_half_against_a_non_goal() -> None:
    brief = YOGA.model_copy(update={"non_goals": ["No booking of private lessons"]})
    assert relate(brief, "Book a class for two").against_non_goals == ()
    assert relate(brief, "Book a private lesson").against_non_goals == (
        "No booking of private lessons",
    )
    assert relate(brief, "Private lessons").non_goal_words == {
        "No booking of private lessons": ("private", "lessons")
    }


def test_with_one_feature_no_word_is_shared_by_every_feature() -> None:
    brief = TEAM.model_copy(update={"features": [Feature(name="Task list")]})
    assert relate(brief, "Tag tasks with colours").features == ("Task list",)


def test_lexical_matching_beats_substring_matching() -> None:
    for text, feature in [("logins", "Log in"), ("online booking", "Book a class")]:
        assert feature.casefold() not in text  # a substring match would miss it
        assert feature in relate(YOGA, text).features
    # ... and a substring match would see "Log in" inside "catalog index": words do not
    text = "catalog index"
    assert "log in" in text
    assert relate(YOGA, text).features == ()


def test_the_matched_words_say_which_words_touched_what() -> None:
    match = relate(YOGA, "Let people pay by card when booking a class")
    assert match.matched_words == {"Book a class": ("booking", "class")}
    assert match.non_goal_words == {"No payments": ("pay",)}
    assert relate(YOGA, "Sign-in with Google").matched_words == {"Log in": ("sign in",)}


def test_the_classification_names_features_new_capabilities_and_non_goals() -> None:
    assert relate(YOGA, "Online booking").summary == "Book a class, My bookings"
    assert relate(BAND, "Add a lyrics page").summary == "new capability"
    assert relate(YOGA, "Add Stripe checkout").summary == (
        "new capability; against your non-goal 'No payments'"
    )


@pytest.mark.parametrize(
    ("word", "expected"),
    [
        ("bookings", "book"),
        ("booked", "book"),
        ("classes", "class"),
        ("scheduling", "schedul"),
        ("schedule", "schedul"),
        ("planner", "plan"),
        ("replies", "reply"),
        ("added", "add"),
        ("news", "news"),
        ("status", "status"),
    ],
)
def test_the_stemmer_folds_plurals_and_endings(word: str, expected: str) -> None:
    assert stem(word) == expected


def test_a_word_belongs_to_one_synonym_concept_only() -> None:
    concepts: dict[str, set[str]] = {}
    for concept, words in SYNONYMS.items():
        for word in words:
            concepts.setdefault(stem(word), set()).add(concept)
    assert {s: c for s, c in concepts.items() if len(c) > 1} == {}


ON = ("Online booking", "Add a weekly timetable", "logins should remember me")
OFF = ("Add a lyrics page", "Add Stripe checkout")


def requests(on: int, off: int) -> list[tuple[str, str]]:
    texts = [ON[i % len(ON)] for i in range(on)] + [OFF[i % len(OFF)] for i in range(off)]
    return [(f"cr{i}", text) for i, text in enumerate(texts)]


def test_with_no_change_requests_the_app_is_fully_aligned() -> None:
    alignment = align(YOGA, [])
    assert (alignment.score, alignment.band, alignment.requests) == (100, AlignmentBand.green, ())
    assert alignment.explanation == "No changes yet: the app is still exactly its brief."
    assert (alignment.model_score, alignment.model_reason) == (None, "")


@pytest.mark.parametrize(
    ("on", "off", "score", "band"),
    [
        (4, 1, 80, AlignmentBand.green),
        (11, 3, 79, AlignmentBand.yellow),  # 78.57 rounds up
        (3, 2, 60, AlignmentBand.yellow),
        (10, 7, 59, AlignmentBand.red),  # 58.82 rounds up
        (1, 1, 50, AlignmentBand.red),
        (1, 7, 13, AlignmentBand.red),  # 12.5 rounds half up
        (0, 3, 0, AlignmentBand.red),
    ],
)
def test_the_score_is_the_share_of_requests_on_the_brief(
    on: int, off: int, score: int, band: AlignmentBand
) -> None:
    alignment = align(YOGA, requests(on, off))
    assert (alignment.score, alignment.band) == (score, band)
    assert [m.request_id for m in alignment.requests] == [f"cr{i}" for i in range(on + off)]


@pytest.mark.parametrize(
    ("score", "band"),
    [(100, "green"), (80, "green"), (79, "yellow"), (60, "yellow"), (59, "red"), (0, "red")],
)
def test_the_bands(score: int, band: str) -> None:
    assert band_of(score) == AlignmentBand(band)
    assert band_of(score).scope_creep is (band == "red")


@pytest.mark.parametrize("score", [-1, 101])
def test_a_score_outside_0_to_100_is_refused(score: int) -> None:
    with pytest.raises(ValueError, match="0 to 100"):
        band_of(score)


def test_the_bands_have_labels() -> None:
    labels = [band.label for band in AlignmentBand]
    assert labels == ["On brief", "Drifting", "Scope creep"]


def test_a_request_against_a_non_goal_is_scope_creep_even_when_it_touches_a_feature() -> None:
    alignment = align(YOGA, [("cr1", "Let people pay by card when booking")])
    assert alignment.requests[0].features  # it touches Book a class ...
    assert (alignment.score, alignment.band) == (0, AlignmentBand.red)  # ... yet it is creep


def test_a_blank_request_is_not_counted() -> None:
    alignment = align(YOGA, [("cr1", "Online booking"), ("cr2", "  ")])
    assert alignment.score == 100
    assert alignment.explanation == (
        "1 of 1 change builds on your brief: 'Online booking' touches Book a class and "
        "My bookings. 1 empty request was not counted."
    )


def test_the_explanation_names_the_features_new_capabilities_and_non_goals() -> None:
    alignment = align(
        YOGA,
        [
            ("cr1", "Add a waitlist when a class is full."),
            ("cr2", "Let students choose a time slot"),
            ("cr3", "Add Stripe checkout!"),
        ],
    )
    assert alignment.score == 67 and alignment.band is AlignmentBand.yellow
    assert alignment.explanation == (
        "2 of 3 changes build on your brief: 'Add a waitlist when a class is full' touches "
        "Schedule and Book a class; 'Let students choose a time slot' touches Book a class; "
        "'Add Stripe checkout' is a new capability, and your brief says 'No payments'."
    )


def test_the_explanation_says_when_it_is_scope_creep() -> None:
    alignment = align(
        BAND,
        [
            ("cr1", "Let fans create accounts"),
            ("cr2", "Add a lyrics page"),
            ("cr3", "Add tour dates for Berlin " + "and all the other cities " * 5),
        ],
    )
    assert alignment.band.scope_creep
    assert alignment.explanation == (
        "1 of 3 changes builds on your brief: 'Let fans create accounts' touches Mailing list, "
        "but your brief says 'No user accounts'; 'Add a lyrics page' is a new capability; "
        "'Add tour dates for Berlin and all the other cities and all…' touches Gig list. "
        "That is scope creep: most changes go beyond the brief. It is your call."
    )
    assert explain(alignment.requests) == alignment.explanation
    assert score_of(alignment.requests) == alignment.score


def test_a_models_judgement_sits_beside_the_lexical_score() -> None:
    alignment = align(YOGA, requests(1, 1))
    judged = alignment.judged(85, "  Payments were always going to come.  ")
    assert isinstance(judged, Alignment)
    assert (judged.model_score, judged.model_reason) == (85, "Payments were always going to come.")
    assert (judged.score, judged.requests) == (alignment.score, alignment.requests)
    with pytest.raises(ValueError, match="0 to 100"):
        alignment.judged(120, "too sure")
