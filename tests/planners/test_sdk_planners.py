"""The Anthropic and OpenAI planners through their real SDKs, over real HTTP, against the
fake model server (tests/agents/fake_model.py, a test double) speaking each API's dialect.

Each planner is asked the three things; the fake answers what the test scripts (fenced JSON,
bare JSON, prose, nonsense), and every failure must come back as a PlannerFailed in plain
words: an unusable answer, a refused key (never quoted), an API that cannot be reached.
"""

from __future__ import annotations

import json
import socket
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import pytest

from paddock.domain.builder.brief import Answer, Brief, Question
from paddock.domain.builder.templates import AppTemplate
from paddock.planners import AnthropicPlanner, OpenAIPlanner, PlannerFailed
from paddock.planners.model import ModelPlanner
from tests.agents.dialects.anthropic import AnthropicDialect, RefusedKey
from tests.agents.dialects.openai_chat import OpenAIChat
from tests.agents.fake_model import (
    Conversation,
    Dialect,
    FakeModel,
    RecordedRequest,
    Response,
    Say,
    Script,
)

pytestmark = pytest.mark.anyio

KEY = "sk-test-4f1c9a-secret-key-value"
IDEA = "An app for my running club to sign up for runs"


class RefusedOpenAIKey(OpenAIChat):
    """Chat Completions to a wrong key: 401, the key quoted back as some servers do."""

    def respond(self, request: RecordedRequest, script: Script, root: str) -> Response:
        headers = {name.lower(): value for name, value in request.headers.items()}
        key = headers.get("authorization", "").removeprefix("Bearer ")
        error = {"message": f"Incorrect API key provided: {key}", "type": "invalid_request_error"}
        return Response.json({"error": error}, 401)


@dataclass(frozen=True)
class Api:
    """One SDK planner and the fake's dialects for it."""

    name: str
    make: Callable[[str, str], ModelPlanner]  # (base URL, key) -> planner
    dialect: Dialect
    refusing: Dialect
    path: str  # the route the SDK posts to

    def planner(self, url: str, key: str = KEY) -> ModelPlanner:
        return self.make(url, key)


APIS = [
    Api(
        "anthropic",
        lambda url, key: AnthropicPlanner(key, url, "claude-fake", 5.0, max_retries=0),
        AnthropicDialect(),
        RefusedKey(),
        "/v1/messages",
    ),
    Api(
        "openai",
        lambda url, key: OpenAIPlanner(key, f"{url}/v1", "gpt-fake", 5.0, max_retries=0),
        OpenAIChat(),
        RefusedOpenAIKey(),
        "/chat/completions",
    ),
]


def answering(text: str) -> Script:
    def script(_conversation: Conversation) -> Say:
        return Say(text)

    return script


@pytest.fixture
def brief() -> Brief:
    return Brief.model_validate(
        {
            "name": "Run club",
            "problem": "Signing up for runs by chat is a mess",
            "users": "Members of the club",
            "features": [{"name": "Sign up", "description": "Pick a run"}, {"name": "See runs"}],
        }
    )


QUESTIONS = {
    "questions": [
        {"id": "users", "text": "Who is it for?", "hint": "e.g. club members"},
        {"id": "features", "text": "What must it do?"},
    ]
}


def fenced(value: Any) -> str:
    return f"Here are my questions:\n```json\n{json.dumps(value, indent=2)}\n```\nGood luck!"


@pytest.mark.parametrize("wrap", [json.dumps, fenced], ids=["bare", "fenced"])
async def test_questions(api: Api, wrap: Callable[[Any], str]) -> None:
    with FakeModel(answering(wrap(QUESTIONS)), [api.dialect]) as fake:
        questions = await api.planner(fake.url).questions(IDEA)
        (request,) = fake.posts(api.path)
    assert [(q.id, q.text) for q in questions] == [
        ("users", "Who is it for?"),
        ("features", "What must it do?"),
    ]
    sent = request.json()
    assert not sent.get("stream")
    assert IDEA in json.dumps(sent["messages"])
    assert "one JSON object only" in json.dumps(sent)  # the system prompt went along
    headers = {name.lower(): value for name, value in request.headers.items()}
    assert KEY in headers.get("x-api-key", headers.get("authorization", ""))


async def test_brief(api: Api) -> None:
    answer = {
        "name": "Run club",
        "problem": "Signing up for runs by chat is a mess",
        "users": "Members of the club",
        "features": [{"name": "Sign up", "description": "Pick a run"}, {"name": "See runs"}],
        "non_goals": ["No payments"],
    }
    questions = [Question(id="users", text="Who is it for?")]
    answers = [Answer(question_id="users", text="Members of my club")]
    with FakeModel(answering(fenced(answer)), [api.dialect]) as fake:
        brief = await api.planner(fake.url).brief(IDEA, questions, answers)
        (request,) = fake.posts(api.path)
    assert [f.name for f in brief.features] == ["Sign up", "See runs"]
    assert brief.non_goals == ["No payments"]
    assert "Members of my club" in json.dumps(request.json()["messages"])


async def test_plan_keeps_known_templates_with_one_recommended(
    api: Api, brief: Brief, templates: list[AppTemplate]
) -> None:
    answer = {
        "options": [
            {"template": "static-site", "title": "A simple site", "recommended": True},
            {"template": "wordpress", "title": "Not a template Paddock has", "recommended": True},
            {"template": "fullstack", "title": "With a database", "cons": ["Slower to set up"]},
        ]
    }
    with FakeModel(answering(json.dumps(answer)), [api.dialect]) as fake:
        options = await api.planner(fake.url).plan(brief, templates)
        (request,) = fake.posts(api.path)
    assert [(o.template, o.recommended) for o in options] == [
        ("static-site", True),
        ("fullstack", False),
    ]
    assert "- name: api-only" in json.dumps(request.json()["messages"])


def failure(value: Any) -> str:
    return value if isinstance(value, str) else json.dumps(value)


@pytest.mark.parametrize(
    ("ask", "text", "reason"),
    [
        ("questions", "Sorry, I can only chat about running.", "no JSON object"),
        ("questions", '{"questions": [{"id": "users", "text": "Who?",}]}', "not JSON"),
        ("questions", '{"questions": [{"id": "users", "text": "Who?"}', "cut off"),
        ("questions", failure({"questions": [{"id": "Who?", "text": "x"}]}), "validation"),
        ("brief", failure({"name": "Club", "problem": "x", "users": "y"}), "features"),
        ("plan", failure({"options": [{"template": "wordpress", "title": "WP"}]}), "wordpress"),
    ],
    ids=[
        "not-json",
        "bad-json",
        "cut-off",
        "bad-question",
        "brief-without-features",
        "unknown-template",
    ],
)
async def test_an_unusable_answer_fails_plainly(
    api: Api, brief: Brief, templates: list[AppTemplate], ask: str, text: str, reason: str
) -> None:
    with FakeModel(answering(text), [api.dialect]) as fake:
        planner = api.planner(fake.url)
        with pytest.raises(PlannerFailed) as caught:
            if ask == "questions":
                await planner.questions(IDEA)
            elif ask == "brief":
                await planner.brief(IDEA, [], [])
            else:
                await planner.plan(brief, templates)
    assert caught.value.code == "planner_failed" and caught.value.http_status == 502
    assert caught.value.message == "The assistant's answer could not be used. Try again."
    assert reason in caught.value.detail


async def test_a_refused_key_is_said_without_the_key(api: Api) -> None:
    with FakeModel(answering(json.dumps(QUESTIONS)), [api.refusing]) as fake:
        with pytest.raises(PlannerFailed) as caught:
            await api.planner(fake.url).questions(IDEA)
        assert len(fake.posts(api.path)) == 1
    assert caught.value.code == "planner_failed"
    assert caught.value.message.startswith("The API key was refused")
    assert "401" in caught.value.detail
    assert KEY not in caught.value.message and KEY not in caught.value.detail
    assert KEY not in json.dumps(caught.value.details)


@pytest.fixture
def closed_port() -> Iterator[int]:
    """A port nothing listens on: bound, then closed (the OS does not reuse it at once)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    yield port


async def test_an_unreachable_api_is_said(api: Api, closed_port: int) -> None:
    with pytest.raises(PlannerFailed) as caught:
        await api.planner(f"http://127.0.0.1:{closed_port}").questions(IDEA)
    assert caught.value.code == "planner_failed"
    assert caught.value.message.startswith("The assistant could not be reached")
    assert f"127.0.0.1:{closed_port}" in caught.value.message
    assert "Connection" in caught.value.detail
