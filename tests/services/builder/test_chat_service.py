"""The chat service on a real engine (SQLite and PostgreSQL): who answers a founder's message.

Without a model key the offline planner leaves it to the grammar; a planner that answers (here
a stand-in, a test double of a model planner) is the reply, its action only proposed; a planner
that fails gives the grammar's answer, said to be the offline one.
"""

from __future__ import annotations

import logging

import pytest

from paddock.config.groups import PlannerChoice
from paddock.domain.builder.apps import AppStage
from paddock.domain.builder.chat import ChatContext, Reply, reply, route
from paddock.domain.builder.chat_actions import navigate_to
from paddock.domain.builder.chat_intents import Page
from paddock.domain.errors import InvalidInput
from paddock.planners import PlannerFailed
from paddock.planners.base import KEY_REFUSED
from paddock.services.builder.chat import OFFLINE_NOTE
from paddock.services.engine import Engine

pytestmark = pytest.mark.anyio

IDEA = "A page where my choir finds its next concerts"
ANSWERS = {"users": "Singers", "features": "Concert list\nRehearsal times", "non_goals": ""}


class StandInPlanner:
    """A model planner's chat, scripted: it answers `said` (or raises `failure`) and keeps
    what it was asked."""

    name = "stand-in"
    offline = False

    def __init__(self, said: Reply | None = None, failure: PlannerFailed | None = None) -> None:
        self.said = said
        self.failure = failure
        self.asked: list[tuple[ChatContext, str]] = []

    async def chat(self, context: ChatContext, message: str) -> Reply | None:
        self.asked.append((context, message))
        if self.failure is not None:
            raise self.failure
        return self.said


async def briefed_app(engine: Engine) -> str:
    app = await engine.apps.create(IDEA)
    await engine.apps.answer(app.id, ANSWERS)
    return app.id


def use(engine: Engine, planner: StandInPlanner) -> None:
    engine.apps.planner = lambda: planner  # type: ignore[assignment,return-value]


async def test_offline_the_grammar_answers(engine: Engine) -> None:
    app_id = await briefed_app(engine)
    context = await engine.chat.open(app_id)
    said = await engine.chat.say(app_id, "start the build")
    assert said == reply(route("start the build"), context)
    assert said.text.startswith("There's nothing to build yet")  # a brief, no plan picked
    assert said.link == f"/apps/{app_id}#plan"


async def test_a_planners_reply_is_used_and_its_action_not_run(engine: Engine) -> None:
    app_id = await briefed_app(engine)
    action, link = navigate_to(app_id, Page.plan)
    planner = StandInPlanner(Reply("Your plan is next: pick one of the options.", action, link))
    use(engine, planner)
    said = await engine.chat.say(app_id, "what now?")
    assert said == Reply("Your plan is next: pick one of the options.", action, link)
    ((context, message),) = planner.asked
    assert message == "what now?"
    assert (context.app_id, context.stage) == (app_id, AppStage.brief)
    assert "Concert list" in context.features
    assert (await engine.apps.get(app_id)).stage is AppStage.brief  # nothing ran


async def test_a_planner_without_an_answer_leaves_it_to_the_grammar(engine: Engine) -> None:
    app_id = await briefed_app(engine)
    planner = StandInPlanner(None)
    use(engine, planner)
    said = await engine.chat.say(app_id, "open the timeline")
    assert len(planner.asked) == 1
    assert said.link == f"/apps/{app_id}#timeline"
    assert not said.text.startswith(OFFLINE_NOTE)


async def test_a_failing_planner_gives_the_offline_answer_with_a_note(
    engine: Engine, caplog: pytest.LogCaptureFixture
) -> None:
    app_id = await briefed_app(engine)
    context = await engine.chat.open(app_id)
    failure = PlannerFailed(KEY_REFUSED, detail="AuthenticationError: 401 invalid x-api-key")
    use(engine, StandInPlanner(failure=failure))
    with caplog.at_level(logging.WARNING, logger="paddock.builder.chat"):
        said = await engine.chat.say(app_id, "start the build")
    offline = reply(route("start the build"), context)
    first, rest = said.text.split("\n", 1)
    assert (
        first
        == OFFLINE_NOTE
        == "The assistant could not be reached, so this is the offline answer."
    )
    assert rest == offline.text
    assert (said.action, said.link) == (offline.action, offline.link)
    assert "The API key was refused" in caplog.text and "401 invalid x-api-key" in caplog.text


async def test_a_planner_named_without_its_key_answers_offline_with_the_note(
    engine: Engine,
) -> None:
    """The settings name a model API whose key is gone: the chat still answers."""
    app_id = await briefed_app(engine)
    context = await engine.chat.open(app_id)
    engine.settings.builder.planner = PlannerChoice.anthropic
    engine.settings.agents.anthropic_api_key = None
    said = await engine.chat.say(app_id, "open the timeline")
    assert said.text == f"{OFFLINE_NOTE}\n{reply(route('open the timeline'), context).text}"
    assert said.link == f"/apps/{app_id}#timeline"


async def test_a_message_past_the_cap_is_refused_before_any_planner(engine: Engine) -> None:
    app_id = await briefed_app(engine)
    planner = StandInPlanner(Reply("never"))
    use(engine, planner)
    with pytest.raises(InvalidInput) as caught:
        await engine.chat.say(app_id, "x" * 2001)
    assert caught.value.code == "message_too_long"
    assert planner.asked == []
