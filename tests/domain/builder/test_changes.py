"""Change requests: the iteration budget and its refusals, which changes count as iterations,
the clarified description, and a request's prompt and scope-creep flag."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime

import pytest

from paddock.domain.builder.brief import Question
from paddock.domain.builder.changes import (
    MAX_CHANGE,
    OFFLINE_CHANGE_QUESTIONS,
    ChangeRequest,
    ChangeStatus,
    IterationBudget,
    assemble_clarified,
    check_description,
    iterations_used,
)
from paddock.domain.errors import Conflict, InvalidInput

AT = datetime(2026, 12, 7, 2, 0, tzinfo=UTC)


def change(
    status: ChangeStatus = ChangeStatus.draft, build_id: str | None = None, **fields: object
) -> ChangeRequest:
    base = ChangeRequest(
        id="c1",
        app_id="a1",
        description="Add a waitlist to full runs",
        version="v0.1",
        status=status,
        created_at=AT,
        updated_at=AT,
        build_id=build_id,
    )
    return replace(base, **fields)  # type: ignore[arg-type]


# -- the budget -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("used", "limit", "tier", "label"),
    [
        (1, 5, "partner", "Iteration 1 of 5 (Partner tier)"),
        (2, 5, "partner", "Iteration 2 of 5 (Partner tier)"),
        (3, 3, "starter", "Iteration 3 of 3 (Starter tier)"),
        # A tier lowered under what was used already never shows "7 of 5".
        (7, 5, "partner", "Iteration 5 of 5 (Partner tier)"),
    ],
)
def test_the_label_says_where_the_app_stands(used: int, limit: int, tier: str, label: str) -> None:
    assert IterationBudget(used, limit, tier).label == label


def test_a_normal_iteration_is_numbered_next() -> None:
    budget = IterationBudget(used=1, limit=5, tier="partner")
    assert (budget.next, budget.next_is_last, budget.exhausted) == (2, False, False)
    assert budget.check_next(confirmed_last=False) == 2
    assert budget.check_next(confirmed_last=True) == 2


def test_the_last_iteration_must_be_confirmed() -> None:
    budget = IterationBudget(used=4, limit=5, tier="partner")
    assert budget.next_is_last and not budget.exhausted
    with pytest.raises(Conflict) as caught:
        budget.check_next(confirmed_last=False)
    error = caught.value
    assert error.code == "last_iteration_unconfirmed" and error.http_status == 409
    assert "last iteration on the Partner tier (5 of 5)" in error.message
    assert error.details == {"iteration": 5, "limit": 5}
    assert budget.check_next(confirmed_last=True) == 5


@pytest.mark.parametrize("used", [5, 6])
def test_past_the_limit_a_change_is_refused_even_confirmed(used: int) -> None:
    budget = IterationBudget(used=used, limit=5, tier="studio")
    assert budget.exhausted and not budget.next_is_last
    for confirmed in (False, True):
        with pytest.raises(Conflict) as caught:
            budget.check_next(confirmed_last=confirmed)
        error = caught.value
        assert error.code == "iteration_limit_reached"
        assert error.message.startswith("You have used all 5 iterations of the Studio tier.")
        assert error.details == {"used": used, "limit": 5}


def test_a_one_iteration_tier_has_none_left_after_the_first_build() -> None:
    budget = IterationBudget(used=1, limit=1, tier="trial")
    assert budget.exhausted
    with pytest.raises(Conflict, match="all 1 iterations of the Trial tier"):
        budget.check_next(confirmed_last=True)


def test_iterations_count_the_first_build_and_each_confirmed_change() -> None:
    assert iterations_used([], set()) == 1
    changes = [
        change(ChangeStatus.draft, id="c1"),
        change(ChangeStatus.clarified, id="c2"),
        change(ChangeStatus.discarded, id="c3"),
        change(ChangeStatus.confirmed, "b2", id="c4"),
        change(ChangeStatus.confirmed, "b3", id="c5"),
        change(ChangeStatus.confirmed, None, id="c6"),  # confirmed, its build not yet made
    ]
    assert iterations_used(changes, set()) == 4


def test_a_cancelled_build_gives_its_iteration_back() -> None:
    changes = [
        change(ChangeStatus.confirmed, "b2", id="c1"),
        change(ChangeStatus.confirmed, "b3", id="c2"),
        change(ChangeStatus.discarded, "b4", id="c3"),
    ]
    assert iterations_used(changes, {"b3"}) == 2
    assert iterations_used(changes, {"b2", "b3", "b4"}) == 1
    assert iterations_used(iter(changes), frozenset({"unrelated"})) == 3


def test_only_draft_and_clarified_are_open() -> None:
    assert [s for s in ChangeStatus if s.open] == [ChangeStatus.draft, ChangeStatus.clarified]


# -- the description --------------------------------------------------------------------------


def test_a_description_is_stripped() -> None:
    assert check_description("  Add a waitlist\n") == "Add a waitlist"
    assert check_description("x" * MAX_CHANGE) == "x" * MAX_CHANGE


@pytest.mark.parametrize("text", ["", "   \n\t"])
def test_an_empty_description_is_refused(text: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        check_description(text)
    assert caught.value.code == "empty_change" and caught.value.http_status == 422


def test_a_too_long_description_is_refused() -> None:
    with pytest.raises(InvalidInput) as caught:
        check_description("x" * (MAX_CHANGE + 1))
    assert caught.value.code == "change_too_long"
    assert str(MAX_CHANGE) in caught.value.message


def test_the_clarified_description_folds_answers_in_and_drops_unanswered() -> None:
    questions = (
        Question(id="done", text="When done, what will you see?"),
        Question(id="where", text="Which part of the app?"),
        Question(id="blank", text="Anything else?"),
    )
    answers = {"done": "  A Waitlist button ", "blank": "   ", "stray": "not asked"}
    assert assemble_clarified("  Add a waitlist  ", questions, answers) == (
        "Add a waitlist\n- When done, what will you see? A Waitlist button"
    )
    assert assemble_clarified("Add a waitlist", questions, {}) == "Add a waitlist"


def test_the_offline_questions_are_two_with_hints() -> None:
    assert [q.id for q in OFFLINE_CHANGE_QUESTIONS] == ["done_looks_like", "where"]
    assert all(q.hint for q in OFFLINE_CHANGE_QUESTIONS)


# -- the request ------------------------------------------------------------------------------


def test_the_prompt_is_the_clarified_description_when_there_is_one() -> None:
    assert change().prompt == "Add a waitlist to full runs"
    assert change(clarified="Add a waitlist; email me").prompt == "Add a waitlist; email me"


@pytest.mark.parametrize(
    ("score", "creep"), [(None, False), (0, True), (59, True), (60, False), (100, False)]
)
def test_scope_creep_is_the_red_band(score: int | None, creep: bool) -> None:
    assert change(alignment_score=score).scope_creep is creep
