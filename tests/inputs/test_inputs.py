"""The input models' rules, said once for the API and the UI (paddock/inputs), and how a
form's refusal is worded (paddock/web/ui/forms.py)."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from paddock.domain.entities import AgentSpec
from paddock.domain.errors import InvalidInput
from paddock.domain.sandbox import Limits, SandboxConfig
from paddock.domain.states import Automation
from paddock.inputs import (
    AgentIn,
    AttemptCreate,
    MergeIn,
    ProjectCreate,
    ProjectUpdate,
    PullRequestIn,
    StepUpdate,
    TaskCreate,
    TaskUpdate,
)
from paddock.web.ui.forms import checked, env_lines, parse, sent


def test_one_line_values_lose_the_spaces_around_them_and_free_text_keeps_them() -> None:
    task = TaskCreate.model_validate({"title": " \tA title \n", "description": "  as typed\n"})
    assert task.title == "A title" and task.description == "  as typed\n"
    # A required value left blank stays blank: the domain refuses it with its own code.
    assert TaskUpdate.model_validate({"title": "   "}).changes() == {"title": ""}


def test_a_blank_optional_value_means_the_default() -> None:
    attempt = AttemptCreate.model_validate(
        {"prompt": "  ", "base_branch": "\t", "branch": "", "agent": {"variant": " "}}
    )
    assert attempt.prompt is attempt.base_branch is attempt.branch is None
    assert attempt.agent.variant == "default"
    assert MergeIn.model_validate({"message": "  "}).message is None
    assert PullRequestIn.model_validate({"title": " Fix it ", "body": ""}).title == "Fix it"
    assert ProjectCreate.model_validate({"path": "/r", "name": "  "}).name is None
    # The step a card is created in, or moved to: blank is "no step given".
    assert TaskCreate.model_validate({"title": "t", "step_id": " "}).step_id is None


def test_lists_of_values_drop_blank_ones_and_scripts_are_known_by_name() -> None:
    update = ProjectUpdate.model_validate(
        {"copy_files": [" .env ", "", "  "], "scripts": {"dev": "  npm run dev\n"}}
    )
    assert update.changes() == {"copy_files": [".env"], "scripts": {"dev": "npm run dev"}}
    with pytest.raises(ValidationError):  # was a 500 (KeyError) in the store
        ProjectUpdate.model_validate({"scripts": {"deploy": "make"}})


def test_environment_names_follow_one_rule() -> None:
    agent = AgentIn.model_validate({"env": {"_OK_1": "x"}, "secret_env": ["_OK_1"]})
    assert agent.to_spec() == AgentSpec(env={"_OK_1": "x"}, secret_env=["_OK_1"])
    for bad in ("1ST", "A-B", "", "SPACE D"):
        with pytest.raises(ValidationError):
            AgentIn.model_validate({"env": {bad: "x"}})
        with pytest.raises(InvalidInput) as caught:
            env_lines(f"{bad}=x", "Environment")
        assert caught.value.code == "bad_env_line"


def test_a_step_update_changes_only_what_was_sent() -> None:
    assert StepUpdate.model_validate({"name": " N "}).changes() == {"name": "N"}
    cleared = StepUpdate.model_validate({"agent": None, "automation": None, "gate": []})
    assert cleared.changes() == {"agent": None, "automation": None, "gate": []}
    set_ = StepUpdate.model_validate(
        {"agent": {"profile": " script ", "command": " true "}, "automation": "run_agent"}
    )
    assert set_.changes() == {
        "agent": AgentSpec(profile="script", command="true"),
        "automation": Automation.run_agent,
    }


def test_the_sandbox_of_an_attempt_is_left_out_or_given() -> None:
    assert AttemptCreate().arguments()["sandbox"] is None
    given = AttemptCreate.model_validate({"sandbox": {"limits": {"pids": 64}, "image": "  "}})
    assert given.arguments()["sandbox"] == SandboxConfig(None, None, Limits(pids=64), None)


def test_a_form_refusal_is_the_apis_with_the_field_named() -> None:
    with pytest.raises(InvalidInput) as caught:
        parse(TaskCreate, {"description": "no title"})
    error = caught.value
    assert error.code == "validation_error" and error.http_status == 422
    assert error.message == "invalid request: body.title: Field required"
    assert error.details == {
        "details": [{"location": "body.title", "message": "Field required"}],
        "field": "title",
    }
    # A model field the form shows under another name.
    with pytest.raises(InvalidInput) as caught:
        parse(AttemptCreate, {"agent": {"profile": 7}}, fields={"agent.profile": "profile"})
    assert caught.value.details["field"] == "profile"


def test_a_form_sends_what_it_has_and_only_checked_boxes() -> None:
    form = {"title": " t ", "other": "x", "force": "true"}
    assert sent(form, "title", "description") == {"title": " t "}
    assert checked(form, "force") == "true" and checked(form, "remove_worktree") is False
