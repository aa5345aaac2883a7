"""The brief's rules: the offline planner's brief from the founder's words, names, limits."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from paddock.domain.builder.brief import (
    Brief,
    Feature,
    Question,
    Questions,
    app_name,
    assemble_brief,
    feature_of,
    listed,
)


def test_a_list_typed_as_lines_bullets_or_semicolons() -> None:
    assert listed("- one\n* two\n3. three; four\n\n  •five ") == [
        "one",
        "two",
        "three",
        "four",
        "five",
    ]
    assert listed("") == []


def test_a_feature_is_named_by_what_comes_before_its_colon_or_its_first_words() -> None:
    assert feature_of("Book a class: pick one and a time") == Feature(
        name="Book a class", description="pick one and a time"
    )
    long = "members see every run of the week with its distance and its pace"
    named = feature_of(long)
    assert named.name == "members see every run of the" and named.description == long
    assert feature_of("Search").description == ""


def test_the_offline_brief_puts_the_founders_answers_in_their_places() -> None:
    brief = assemble_brief(
        "A booking page for my yoga studio",
        {
            "users": " Students ",
            "features": "Schedule: this week\nBook: a class\nschedule: twice",
            "non_goals": "No payments\nNo app store",
        },
    )
    assert brief.name == "Booking page for my yoga studio"
    assert brief.problem == "A booking page for my yoga studio"
    assert brief.users == "Students"
    assert [f.name for f in brief.features] == ["Schedule", "Book"]  # named twice: once
    assert brief.non_goals == ["No payments", "No app store"]


def test_with_no_feature_given_the_idea_is_the_one() -> None:
    brief = assemble_brief("A page that lists my gigs", {})
    assert [f.name for f in brief.features] == ["A page that lists my gigs"]
    assert brief.users == "Anyone who needs it" and brief.non_goals == []


@pytest.mark.parametrize(
    ("idea", "name"),
    [
        ("A booking page for my yoga studio", "Booking page for my yoga studio"),
        ("I want to build an app that tracks my running club", "App that tracks my running club"),
        ("let's make the best todo list!", "Best todo list"),
        ("  \n", "My app"),
        ("x" * 60, "X" + "x" * 39),
    ],
)
def test_an_apps_name_from_its_idea(idea: str, name: str) -> None:
    assert app_name(idea) == name


def test_a_brief_refuses_twin_features_and_none_at_all() -> None:
    with pytest.raises(ValidationError, match="two features are named"):
        Brief(
            name="n",
            problem="p",
            users="u",
            features=[Feature(name="Book"), Feature(name="book ")],
        )
    with pytest.raises(ValidationError):
        Brief(name="n", problem="p", users="u", features=[])


def test_questions_need_unique_well_formed_ids() -> None:
    with pytest.raises(ValidationError, match="share an id"):
        Questions(questions=[Question(id="a", text="x"), Question(id="a", text="y")])
    with pytest.raises(ValidationError):
        Question(id="Not An Id", text="x")
