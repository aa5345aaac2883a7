"""The builder's chat with a model key: the Anthropic and OpenAI planners, through their real
SDKs over real HTTP against the fake model server (tests/agents/fake_model.py, a test double),
offer the chat's actions as tools and turn the model's answer into a Reply.

A tool call is a proposal only (one request, nothing run); the button's words come from the
code; a call that is not exactly an action of the set is left out with a plain sentence.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from paddock.domain.builder.apps import AppStage
from paddock.domain.builder.builds import BuildStatus
from paddock.domain.builder.chat import ACTIONS, ActionKind, BuildView, ChatContext
from paddock.domain.builder.chat_actions import ProposedAction
from paddock.planners import OfflinePlanner, PlannerFailed
from paddock.planners.chat_tools import BAD_DETAILS, UNKNOWN_ACTION, context_json
from tests.agents.fake_model import CallTool, Conversation, FakeModel, RecordedRequest, Say, Script
from tests.planners.test_sdk_planners import KEY, Api

pytestmark = pytest.mark.anyio

APP = ChatContext(
    app_id="app-7",
    app_name="Run club",
    stage=AppStage.mvp_built,
    stage_label=AppStage.mvp_built.label,
    features=("Sign up for a run", "See the runs"),
    non_goals=("No payments",),
    latest_version="v0.2",
    build=BuildView(
        3,
        BuildStatus.failed,
        BuildStatus.failed.label,
        error="The dependencies could not be installed.",
        failed_stage=BuildStatus.deps.label,
        retryable=True,
    ),
    gate_pending=True,
    iterations_used=1,
    iteration_limit=3,
    tier="Starter",
)
BUILDS = "/apps/app-7#builds"


def answering(reply: Say | CallTool) -> Script:
    def script(_conversation: Conversation) -> Say | CallTool:
        return reply

    return script


def sent_tools(api: Api, request: RecordedRequest) -> dict[str, dict[str, Any]]:
    """The tools a request offered, by name, each as {description, schema}."""
    body = request.json()
    if api.name == "anthropic":
        return {
            t["name"]: {"description": t["description"], "schema": t["input_schema"]}
            for t in body["tools"]
        }
    assert all(t["type"] == "function" for t in body["tools"])
    return {
        t["function"]["name"]: {
            "description": t["function"]["description"],
            "schema": t["function"]["parameters"],
        }
        for t in body["tools"]
    }


def system_text(api: Api, request: RecordedRequest) -> str:
    body = request.json()
    if api.name == "anthropic":
        return str(body["system"])
    (system,) = [m["content"] for m in body["messages"] if m["role"] == "system"]
    return str(system)


async def test_a_text_answer_is_the_reply(api: Api) -> None:
    said = "Build 3 stopped while installing dependencies. You can try it again."
    with FakeModel(answering(Say(said)), [api.dialect]) as fake:
        reply = await api.planner(fake.url).chat(APP, "what went wrong?")
        (request,) = fake.posts(api.path)
    assert reply is not None
    assert (reply.text, reply.action, reply.link) == (said, None, None)
    assert "what went wrong?" in json.dumps(request.json()["messages"])


async def test_the_request_offers_the_actions_and_the_apps_state(api: Api) -> None:
    with FakeModel(answering(Say("It's at MVP built.")), [api.dialect]) as fake:
        await api.planner(fake.url).chat(APP, "where are we?")
        (request,) = fake.posts(api.path)
    tools = sent_tools(api, request)
    assert set(tools) == {kind.value for kind in ActionKind}
    for kind, spec in ACTIONS.items():
        assert tools[kind.value] == {
            "description": spec.description,
            "schema": spec.parameters_schema(),
        }
    assert tools["resolve_gate"]["schema"]["properties"]["decision"]["enum"] == [
        "iterate",
        "ship",
        "park",
    ]
    system = system_text(api, request)
    assert context_json(APP) in system
    assert "does not program" in system and "never guess or invent" in system
    assert not request.json().get("stream")


def test_the_state_is_compact_json_without_unknowns() -> None:
    state = json.loads(context_json(APP))
    assert state["app_name"] == "Run club" and state["stage"] == "mvp_built"
    assert state["features"] == ["Sign up for a run", "See the runs"]
    assert state["build"]["number"] == 3 and state["build"]["status"] == "failed"
    assert state["iterations_left"] == 2 and state["building"] is False
    assert "preview_url" not in state and "deploy" not in state  # None: not known
    assert "alignment_score" not in state
    text = context_json(APP)
    assert "\n" not in text and '": ' not in text and '", "' not in text  # compact


CHANGE = "Add a page with the club's rules"
VALID_CALLS = [
    (
        "start_build",
        {},
        ProposedAction(
            ActionKind.start_build, "Start build 4", {}, "Start a new build of Run club?"
        ),
        BUILDS,
    ),
    (
        "retry_build",
        {"build_number": "3"},
        ProposedAction(
            ActionKind.retry_build,
            "Retry build 3",
            {"build_number": "3"},
            "Try build 3 of Run club again?",
        ),
        BUILDS,
    ),
    (
        "cancel_build",
        {"build_number": "3"},
        ProposedAction(
            ActionKind.cancel_build,
            "Stop build 3",
            {"build_number": "3"},
            "Stop build 3 of Run club? The code goes back to where it was before this build.",
        ),
        BUILDS,
    ),
    (
        "submit_change_request",
        {"text": CHANGE},
        ProposedAction(
            ActionKind.submit_change_request,
            "Submit this change",
            {"text": CHANGE},
            f"Submit “{CHANGE}” as your next change request?",
        ),
        None,
    ),
    (
        "resolve_gate",
        {"decision": "ship"},
        ProposedAction(
            ActionKind.resolve_gate, "Ship it", {"decision": "ship"}, "Ship Run club v0.2?"
        ),
        None,
    ),
    (
        "resume_app",
        {},
        ProposedAction(
            ActionKind.resume_app,
            "Resume Run club",
            {},
            "Pick Run club back up where you left it?",
        ),
        BUILDS,
    ),
    (
        "navigate",
        {"page": "deploy"},
        ProposedAction(
            ActionKind.navigate,
            "Open deploy check",
            {"page": "deploy"},
            "Go to the deploy check page?",
        ),
        "/apps/app-7#deploy",
    ),
]


def test_every_kind_has_a_valid_call_case() -> None:
    assert {name for name, *_ in VALID_CALLS} == {kind.value for kind in ActionKind}


@pytest.mark.parametrize(
    ("name", "arguments", "action", "link"), VALID_CALLS, ids=[c[0] for c in VALID_CALLS]
)
async def test_a_tool_call_is_proposed_not_run(
    api: Api, name: str, arguments: dict[str, str], action: ProposedAction, link: str | None
) -> None:
    call = CallTool(name, arguments, text="Sure, here you go.")
    with FakeModel(answering(call), [api.dialect]) as fake:
        reply = await api.planner(fake.url).chat(APP, "do it")
        assert len(fake.requests) == 1  # no tool result went back: nothing ran
    assert reply is not None
    assert reply.text == "Sure, here you go."
    assert reply.action == action
    assert reply.link == link


async def test_the_buttons_words_are_not_the_models(api: Api) -> None:
    """A label or question the model slips into its arguments is an extra parameter."""
    call = CallTool("start_build", {"label": "Delete everything"}, text="Starting.")
    with FakeModel(answering(call), [api.dialect]) as fake:
        reply = await api.planner(fake.url).chat(APP, "build it")
    assert reply is not None and reply.action is None
    assert "Delete everything" not in reply.text


@pytest.mark.parametrize(
    ("name", "said"),
    [("navigate", "Here's the deploy check page."), ("resolve_gate", "Ship Run club v0.2?")],
)
async def test_a_call_without_text_gets_a_short_one(api: Api, name: str, said: str) -> None:
    arguments = {"page": "deploy"} if name == "navigate" else {"decision": "ship"}
    with FakeModel(answering(CallTool(name, arguments)), [api.dialect]) as fake:
        reply = await api.planner(fake.url).chat(APP, "ship it")
    assert reply is not None and reply.action is not None
    assert reply.text.startswith(said)
    if name == "resolve_gate":
        assert "Press “Ship it” to go ahead." in reply.text


@pytest.mark.parametrize(
    ("name", "arguments", "sentence"),
    [
        ("delete_app", {}, UNKNOWN_ACTION),
        ("retry_build", {"build_number": "3", "force": "yes"}, BAD_DETAILS),
        ("resolve_gate", {"decision": "sell"}, BAD_DETAILS),
        ("navigate", {"page": "admin"}, BAD_DETAILS),
        ("retry_build", {}, BAD_DETAILS),
        ("retry_build", {"build_number": "7"}, BAD_DETAILS),  # the app has no build 7
        ("retry_build", {"build_number": 3}, BAD_DETAILS),  # not a string
        ("submit_change_request", {"text": "  "}, BAD_DETAILS),
    ],
    ids=[
        "unknown-tool",
        "extra-param",
        "bad-decision",
        "bad-page",
        "missing-param",
        "unknown-build",
        "number-not-string",
        "empty-change",
    ],
)
async def test_a_bad_call_is_left_out_plainly(
    api: Api, name: str, arguments: dict[str, Any], sentence: str
) -> None:
    call = CallTool(name, arguments, text="Done!")
    with FakeModel(answering(call), [api.dialect]) as fake:
        reply = await api.planner(fake.url).chat(APP, "do something")
    assert reply is not None
    assert reply.action is None and reply.link is None
    assert reply.text == f"Done!\n\n{sentence}"


async def test_a_bad_call_without_text_is_only_the_sentence(api: Api) -> None:
    with FakeModel(answering(CallTool("format_disk", {})), [api.dialect]) as fake:
        reply = await api.planner(fake.url).chat(APP, "wipe it")
    assert reply is not None and reply.action is None
    assert reply.text == UNKNOWN_ACTION


async def test_an_empty_answer_is_a_planner_failure(api: Api) -> None:
    with (
        FakeModel(answering(Say("")), [api.dialect]) as fake,
        pytest.raises(PlannerFailed) as caught,
    ):
        await api.planner(fake.url).chat(APP, "hello?")
    assert caught.value.message == "The assistant's answer could not be used. Try again."
    assert "no text and no tool call" in caught.value.detail


async def test_a_long_answer_is_capped(api: Api) -> None:
    with FakeModel(answering(Say("word " * 1000)), [api.dialect]) as fake:
        reply = await api.planner(fake.url).chat(APP, "tell me everything")
    assert reply is not None
    assert len(reply.text) == 2000 and reply.text.endswith("…")


async def test_a_refused_key_is_a_planner_failure_without_the_key(api: Api) -> None:
    with FakeModel(answering(Say("never sent")), [api.refusing]) as fake:
        with pytest.raises(PlannerFailed) as caught:
            await api.planner(fake.url).chat(APP, "hello")
        assert len(fake.posts(api.path)) == 1
    assert caught.value.message.startswith("The API key was refused")
    assert KEY not in caught.value.message and KEY not in json.dumps(caught.value.details)


async def test_the_offline_planner_leaves_the_chat_to_the_grammar() -> None:
    assert await OfflinePlanner().chat(APP, "ship it") is None
