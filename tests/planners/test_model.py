"""Reading a model's answer: the JSON object found bare, fenced or in prose, then validated;
anything unusable is a PlannerFailed with the reason as its detail."""

from __future__ import annotations

import json

import pytest

from paddock.domain.builder.brief import Brief, Questions
from paddock.domain.builder.templates import AppTemplate, Plan
from paddock.planners import PlannerFailed
from paddock.planners.model import json_object, parsed, plan_prompt, questions_prompt, usable_plan

OBJECT = {"a": {"b": [1, 2]}}


@pytest.mark.parametrize(
    "text",
    [
        json.dumps(OBJECT),
        f"```json\n{json.dumps(OBJECT)}\n```",
        f"Here it is:\n```\n{json.dumps(OBJECT, indent=2)}\n```\nHope this helps!",
        f"Sure! {json.dumps(OBJECT)} That is all.",
        f"Braces {{like these}} first, then {json.dumps(OBJECT)}",
    ],
    ids=["bare", "fenced", "fence-no-language", "prose", "stray-brace"],
)
def test_the_object_is_found(text: str) -> None:
    assert json_object(text) == OBJECT


@pytest.mark.parametrize("text", ["I cannot help with that.", "[1, 2]", '{"a": '])
def test_no_object_is_a_planner_failure(text: str) -> None:
    with pytest.raises(PlannerFailed) as caught:
        json_object(text)
    assert caught.value.code == "planner_failed" and caught.value.http_status == 502
    assert caught.value.message == "The assistant's answer could not be used. Try again."
    assert text[:10] in caught.value.detail


def test_validation_text_is_the_detail() -> None:
    with pytest.raises(PlannerFailed) as caught:
        parsed('{"questions": [{"id": "Bad Id", "text": "Who?"}]}', Questions)
    assert "questions" in caught.value.detail
    assert caught.value.details["detail"] == caught.value.detail


def test_a_plan_naming_no_known_template_fails(templates: list[AppTemplate]) -> None:
    plan = Plan.model_validate({"options": [{"template": "wordpress", "title": "WordPress"}]})
    with pytest.raises(PlannerFailed) as caught:
        usable_plan(plan, templates)
    assert "wordpress" in caught.value.detail


def test_prompts_carry_the_schema_and_the_templates(templates: list[AppTemplate]) -> None:
    asked = questions_prompt("A club app")
    assert "non-programmer" in asked.system or "does not program" in asked.system
    assert json.dumps(Questions.model_json_schema(), indent=1) in asked.system
    assert "A club app" in asked.user
    brief = Brief.model_validate(
        {"name": "Club", "problem": "Runs", "users": "Members", "features": [{"name": "Sign up"}]}
    )
    plan = plan_prompt(brief, templates)
    assert json.dumps(Plan.model_json_schema(), indent=1) in plan.system
    for t in templates:
        assert f"- name: {t.name}" in plan.user and t.summary in plan.user
    assert "needs_network: yes" in plan.user and "needs_network: no" in plan.user
