"""The offline planner: the fixed questions, the founder's answers as the brief, the templates
as the plan with one that needs no network recommended."""

from __future__ import annotations

import pytest

from paddock.domain.builder.brief import OFFLINE_QUESTIONS, Answer
from paddock.domain.builder.templates import AppTemplate
from paddock.planners import OfflinePlanner

pytestmark = pytest.mark.anyio

IDEA = "An app for my running club to sign up for runs"


async def test_questions_are_the_offline_questions() -> None:
    planner = OfflinePlanner()
    assert planner.name == "offline" and planner.offline
    assert await planner.questions(IDEA) == list(OFFLINE_QUESTIONS)


async def test_brief_puts_the_answers_in_place() -> None:
    planner = OfflinePlanner()
    questions = await planner.questions(IDEA)
    answers = [
        Answer(question_id="users", text="Members of my running club"),
        Answer(question_id="features", text="- Sign up: pick a date\n- See runs\n- Cancel"),
        Answer(question_id="non_goals", text="No payments"),
    ]
    brief = await planner.brief(IDEA, questions, answers)
    assert [f.name for f in brief.features] == ["Sign up", "See runs", "Cancel"]
    assert brief.features[0].description == "pick a date"
    assert brief.users == "Members of my running club"
    assert brief.non_goals == ["No payments"]
    assert brief.problem == IDEA


async def test_plan_recommends_a_template_that_needs_no_network(
    templates: list[AppTemplate],
) -> None:
    brief = await OfflinePlanner().brief(IDEA, [], [])
    options = await OfflinePlanner().plan(brief, templates)
    assert [o.template for o in options] == ["fullstack", "static-site", "api-only"]
    assert [o.template for o in options if o.recommended] == ["static-site"]
