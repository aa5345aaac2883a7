"""A planner's asks about a change request: one or two clarifying questions, the clarified
change, and (a model only) a judgement of alignment. The offline planner answers with its fixed
questions and folds the answers in; the SDK planners go over real HTTP to the fake model server
(tests/agents/fake_model.py), as in test_sdk_planners.py."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest

from paddock.domain.builder.brief import Answer, Brief, Question
from paddock.domain.builder.changes import OFFLINE_CHANGE_QUESTIONS
from paddock.planners import OfflinePlanner, PlannerFailed
from paddock.planners.base import Judgement
from paddock.planners.model import (
    ChangeQuestions,
    ClarifiedChange,
    change_questions_prompt,
    clarify_prompt,
    judgement_prompt,
)
from tests.agents.fake_model import FakeModel, RecordedRequest
from tests.planners.test_sdk_planners import Api, answering, fenced

pytestmark = pytest.mark.anyio

CHANGE = "  Add a waitlist to full runs  "
QUESTIONS = [
    Question(id="done_looks_like", text="When it is done, what will you see?"),
    Question(id="where", text="Which part of the app does it change?"),
]
ANSWERS = [Answer(question_id="done_looks_like", text="A Waitlist button on full runs")]


@pytest.fixture
def brief() -> Brief:
    return Brief.model_validate(
        {
            "name": "Run club",
            "problem": "Signing up for runs by chat is a mess",
            "users": "Members of the club",
            "features": [{"name": "Sign up", "description": "Pick a run"}, {"name": "See runs"}],
            "non_goals": ["No payments"],
        }
    )


def user_message(request: RecordedRequest) -> str:
    """The user's message the SDK sent (both APIs send it as plain text)."""
    (content,) = [m["content"] for m in request.json()["messages"] if m["role"] == "user"]
    assert isinstance(content, str)
    return content


# -- offline ----------------------------------------------------------------------------------


async def test_offline_asks_its_fixed_questions(brief: Brief) -> None:
    questions = await OfflinePlanner().change_questions(brief, CHANGE)
    assert questions == list(OFFLINE_CHANGE_QUESTIONS)


async def test_offline_folds_the_answers_in(brief: Brief) -> None:
    clarified = await OfflinePlanner().clarify_change(brief, CHANGE, QUESTIONS, ANSWERS)
    assert clarified == (
        "Add a waitlist to full runs\n"
        "- When it is done, what will you see? A Waitlist button on full runs"
    )


async def test_offline_has_no_judgement(brief: Brief) -> None:
    assert await OfflinePlanner().judge_alignment(brief, ["Add a waitlist"]) is None


# -- the prompts ------------------------------------------------------------------------------


def test_the_prompts_carry_the_brief_and_the_change(brief: Brief) -> None:
    brief_json = brief.model_dump_json(indent=1)
    asks = change_questions_prompt(brief, CHANGE)
    clarify = clarify_prompt(brief, CHANGE, QUESTIONS, ANSWERS)
    judge = judgement_prompt(brief, [CHANGE, "Dark mode"])
    for prompt in (asks, clarify, judge):
        assert brief_json in prompt.user
        assert "Add a waitlist to full runs" in prompt.user
        assert "one JSON object only" in prompt.system
    assert asks.user.endswith("The change:\nAdd a waitlist to full runs")
    assert json.dumps(ChangeQuestions.model_json_schema(), indent=1) in asks.system
    assert json.dumps(ClarifiedChange.model_json_schema(), indent=1) in clarify.system
    assert json.dumps(Judgement.model_json_schema(), indent=1) in judge.system
    # Each question with its answer, or said to have none.
    assert "- When it is done, what will you see?\n  A Waitlist button on full runs" in clarify.user
    assert "- Which part of the app does it change?\n  (no answer)" in clarify.user
    assert judge.user.endswith("1. Add a waitlist to full runs\n2. Dark mode")


# -- SDK planners -----------------------------------------------------------------------------

TWO_QUESTIONS = {
    "questions": [
        {"id": "done_looks_like", "text": "What will you see?", "hint": "e.g. a button"},
        {"id": "where", "text": "Which page?"},
    ]
}


@pytest.mark.parametrize("wrap", [json.dumps, fenced], ids=["bare", "fenced"])
async def test_change_questions(api: Api, brief: Brief, wrap: Callable[[Any], str]) -> None:
    with FakeModel(answering(wrap(TWO_QUESTIONS)), [api.dialect]) as fake:
        questions = await api.planner(fake.url).change_questions(brief, CHANGE)
        (request,) = fake.posts(api.path)
    assert [(q.id, q.text, q.hint) for q in questions] == [
        ("done_looks_like", "What will you see?", "e.g. a button"),
        ("where", "Which page?", ""),
    ]
    sent = user_message(request)
    assert brief.model_dump_json(indent=1) in sent
    assert sent.endswith("The change:\nAdd a waitlist to full runs")
    assert "Ask 1 or 2 short questions" in json.dumps(request.json())


async def test_one_change_question_is_enough(api: Api, brief: Brief) -> None:
    one = {"questions": [{"id": "where", "text": "Which page?"}]}
    with FakeModel(answering(json.dumps(one)), [api.dialect]) as fake:
        questions = await api.planner(fake.url).change_questions(brief, CHANGE)
    assert [q.id for q in questions] == ["where"]


@pytest.mark.parametrize(
    ("answer", "reason"),
    [
        ({"questions": [{"id": f"q{n}", "text": f"Question {n}?"} for n in range(3)]}, "at most 2"),
        ({"questions": []}, "at least 1"),
        ({"questions": [{"id": "Where?", "text": "Which page?"}]}, "pattern"),
    ],
    ids=["three", "none", "bad-id"],
)
async def test_unusable_change_questions_fail_plainly(
    api: Api, brief: Brief, answer: Any, reason: str
) -> None:
    with (
        FakeModel(answering(json.dumps(answer)), [api.dialect]) as fake,
        pytest.raises(PlannerFailed) as caught,
    ):
        await api.planner(fake.url).change_questions(brief, CHANGE)
    assert caught.value.code == "planner_failed"
    assert caught.value.message == "The assistant's answer could not be used. Try again."
    assert reason in caught.value.detail


async def test_clarify_change_returns_the_text_stripped(api: Api, brief: Brief) -> None:
    answer = {"clarified": "\n  Add a Waitlist button to each full run.  \n"}
    with FakeModel(answering(fenced(answer)), [api.dialect]) as fake:
        clarified = await api.planner(fake.url).clarify_change(brief, CHANGE, QUESTIONS, ANSWERS)
        (request,) = fake.posts(api.path)
    assert clarified == "Add a Waitlist button to each full run."
    sent = user_message(request)
    assert brief.model_dump_json(indent=1) in sent
    assert "The change:\nAdd a waitlist to full runs" in sent
    assert "A Waitlist button on full runs" in sent and "(no answer)" in sent


@pytest.mark.parametrize("answer", [{"clarified": ""}, {"text": "Add it"}], ids=["empty", "none"])
async def test_an_unusable_clarification_fails(api: Api, brief: Brief, answer: Any) -> None:
    with (
        FakeModel(answering(json.dumps(answer)), [api.dialect]) as fake,
        pytest.raises(PlannerFailed, match="could not be used"),
    ):
        await api.planner(fake.url).clarify_change(brief, CHANGE, QUESTIONS, ANSWERS)


async def test_judge_alignment_parses_the_score_and_reason(api: Api, brief: Brief) -> None:
    answer = {"score": 50, "reason": "The waitlist improves Sign up; dark mode is new."}
    with FakeModel(answering(json.dumps(answer)), [api.dialect]) as fake:
        judgement = await api.planner(fake.url).judge_alignment(brief, [CHANGE, "Dark mode"])
        (request,) = fake.posts(api.path)
    assert judgement == Judgement(score=50, reason=answer["reason"])
    sent = user_message(request)
    assert brief.model_dump_json(indent=1) in sent
    assert sent.endswith("The changes:\n1. Add a waitlist to full runs\n2. Dark mode")


async def test_no_changes_ask_no_model(api: Api, brief: Brief) -> None:
    with FakeModel(answering(json.dumps({"score": 100, "reason": "x"})), [api.dialect]) as fake:
        assert await api.planner(fake.url).judge_alignment(brief, []) is None
        assert fake.posts(api.path) == []


@pytest.mark.parametrize(
    ("answer", "reason"),
    [({"score": 101, "reason": "x"}, "less than or equal to 100"), ({"score": 80}, "reason")],
    ids=["over-100", "no-reason"],
)
async def test_an_unusable_judgement_fails(
    api: Api, brief: Brief, answer: Any, reason: str
) -> None:
    with (
        FakeModel(answering(json.dumps(answer)), [api.dialect]) as fake,
        pytest.raises(PlannerFailed) as caught,
    ):
        await api.planner(fake.url).judge_alignment(brief, [CHANGE])
    assert caught.value.code == "planner_failed"
    assert reason in caught.value.detail
