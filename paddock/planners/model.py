"""What the SDK planners share: the prompts, reading a model's answer, and the three asks.

A model is asked for one JSON object matching a Pydantic model's JSON schema (`Questions`,
`Brief`, `Plan`), put in the system prompt. Models do not always obey, so the object is taken
from the answer whether it is bare, inside a ```json fence or has prose around it; then it is
validated. Whatever cannot be used (not JSON, failing validation, a plan naming no template
Paddock has) is a `PlannerFailed` with the reason as its detail, never a crash.

No structured-output feature of any API is relied on for these (`response_format`, tools):
plain text in, plain text out works with every OpenAI-compatible server and with Anthropic
alike. The builder's chat is the exception: it offers its actions as tools (chat_tools.py), and
each SDK planner says how its API calls them (`complete_with_tools`).
"""

from __future__ import annotations

import json
import re
from abc import ABC, abstractmethod
from types import ModuleType
from typing import Any, TypeVar

from pydantic import BaseModel, Field, ValidationError

from paddock.domain.builder.brief import Answer, Brief, Question, Questions
from paddock.domain.builder.changes import MAX_CHANGE, MAX_CHANGE_QUESTIONS
from paddock.domain.builder.chat_context import ChatContext, Reply
from paddock.domain.builder.templates import AppTemplate, Plan, PlanOption, check_plan
from paddock.domain.errors import InvalidInput
from paddock.planners.base import (
    KEY_REFUSED,
    RATE_LIMITED,
    UNUSABLE,
    Judgement,
    PlannerFailed,
    Prompt,
    unreachable,
)
from paddock.planners.chat_tools import CHAT_TOOLS, Tool, ToolAnswer, chat_prompt, chat_reply

M = TypeVar("M", bound=BaseModel)

MAX_TOKENS = 2000
MAX_DETAIL = 2000  # characters of validation text kept in an error's detail
_MAX_STARTS = 50  # '{' positions tried when looking for the object in prose
_FENCE = re.compile(r"```[ \t]*(?:json|JSON)?[ \t]*\n(.*?)```", re.DOTALL)

SYSTEM = """\
You are helping a founder who does not program turn an idea into a small, working app.
Write for them: plain words, no jargon, short sentences.

{task}

Answer with one JSON object only: no prose before or after it, no comments. It must match
this JSON schema:
{schema}
"""


def system_prompt(task: str, model: type[BaseModel]) -> str:
    schema = json.dumps(model.model_json_schema(), indent=1)
    return SYSTEM.format(task=task, schema=schema)


def questions_prompt(idea: str) -> Prompt:
    task = (
        "Ask 3 to 5 short clarifying questions that decide the app's scope: who it is for, "
        "the few things it must do, what it must not do (for now). Each question has an id "
        "(lowercase letters, digits and _, e.g. users, features, non_goals), the question "
        "and a hint with an example answer."
    )
    return Prompt(system_prompt(task, Questions), f"The founder's idea:\n{idea.strip()}")


def brief_prompt(idea: str, questions: list[Question], answers: list[Answer]) -> Prompt:
    task = (
        "Write the app's brief from the founder's idea and answers: a short name for the "
        "app, the problem it solves, its users, its core features (at most 8, each with a "
        "short unique name and a one-sentence description) and its non-goals. Keep to what "
        "the founder said; add nothing they did not ask for."
    )
    said = {answer.question_id: answer.text for answer in answers}
    lines = [f"The founder's idea:\n{idea.strip()}", "", "Their answers:"]
    for question in questions:
        lines.append(f"- {question.text}\n  {said.get(question.id, '').strip() or '(no answer)'}")
    return Prompt(system_prompt(task, Brief), "\n".join(lines))


def plan_prompt(brief: Brief, templates: list[AppTemplate]) -> Prompt:
    names = ", ".join(t.name for t in templates)
    task = (
        "Offer 2 or 3 ways to build the app, each starting from one of the templates listed "
        f"(its `template` is the template's name, one of: {names}). Give each option a title, "
        "a one-sentence summary, its pros and cons for this app, and recommend exactly one: "
        "the simplest that does what the brief needs."
    )
    user = f"The brief:\n{brief.model_dump_json(indent=1)}\n\nThe templates:\n"
    user += "\n".join(template_lines(t) for t in templates)
    return Prompt(system_prompt(task, Plan), user)


class ChangeQuestions(BaseModel):
    """One or two clarifying questions about a change request."""

    questions: list[Question] = Field(min_length=1, max_length=MAX_CHANGE_QUESTIONS)


class ClarifiedChange(BaseModel):
    clarified: str = Field(min_length=1, max_length=MAX_CHANGE * 2)


def change_questions_prompt(brief: Brief, change: str) -> Prompt:
    task = (
        "The founder asks for a change to their app. Ask 1 or 2 short questions whose "
        "answers a developer needs to build it right (what it looks like when done, where in "
        "the app, what it must not break). Do not ask what the brief already says. Each "
        "question has an id (lowercase letters, digits and _), the question and a hint."
    )
    user = f"The brief:\n{brief.model_dump_json(indent=1)}\n\nThe change:\n{change.strip()}"
    return Prompt(system_prompt(task, ChangeQuestions), user)


def clarify_prompt(
    brief: Brief, change: str, questions: list[Question], answers: list[Answer]
) -> Prompt:
    task = (
        "Write the founder's change request again as one clear description a developer can "
        "build from: the change in their words, made precise by their answers. Keep to what "
        "they said; add nothing they did not ask for. `clarified` holds the description."
    )
    said = {answer.question_id: answer.text for answer in answers}
    lines = [f"The brief:\n{brief.model_dump_json(indent=1)}", f"\nThe change:\n{change.strip()}"]
    lines.append("\nTheir answers:")
    for question in questions:
        lines.append(f"- {question.text}\n  {said.get(question.id, '').strip() or '(no answer)'}")
    return Prompt(system_prompt(task, ClarifiedChange), "\n".join(lines))


def judgement_prompt(brief: Brief, changes: list[str]) -> Prompt:
    task = (
        "Score from 0 to 100 how well the founder's change requests keep to the brief's core "
        "features: 100 when every change improves a core feature, low when they add new "
        "capabilities or go against a non-goal. `reason` says which changes touch which "
        "features and which are new, in two or three plain sentences."
    )
    listed = "\n".join(f"{n}. {text.strip()}" for n, text in enumerate(changes, 1))
    user = f"The brief:\n{brief.model_dump_json(indent=1)}\n\nThe changes:\n{listed}"
    return Prompt(system_prompt(task, Judgement), user)


def template_lines(template: AppTemplate) -> str:
    return "\n".join(
        [
            f"- name: {template.name}",
            f"  label: {template.label}",
            f"  summary: {template.summary}",
            f"  stack: {', '.join(template.stack)}",
            f"  pros: {'; '.join(template.pros)}",
            f"  cons: {'; '.join(template.cons)}",
            f"  needs_network: {'yes' if template.needs_network else 'no'}",
        ]
    )


def json_object(text: str) -> dict[str, Any]:
    """The first JSON object in a model's answer: inside a fence first, else anywhere."""
    decoder = json.JSONDecoder()
    reason = "the answer holds no JSON object"
    for candidate in [*(m.group(1) for m in _FENCE.finditer(text)), text]:
        starts = [i for i, char in enumerate(candidate) if char == "{"][:_MAX_STARTS]
        for start in starts:
            try:
                value, _end = decoder.raw_decode(candidate, start)
            except json.JSONDecodeError as exc:
                reason = f"not JSON: {exc}"
                if exc.pos >= len(candidate.rstrip()):  # ran out of text: an inner '{' is no fix
                    reason = "the JSON object is cut off"
                    break
                continue
            if isinstance(value, dict):
                return value
    raise PlannerFailed(UNUSABLE, detail=f"{reason}; the answer began {text[:300]!r}")


def parsed(text: str, model: type[M]) -> M:
    """A model's answer validated as `model`; PlannerFailed says why it is not."""
    try:
        return model.model_validate(json_object(text))
    except ValidationError as exc:
        raise PlannerFailed(UNUSABLE, detail=str(exc)[:MAX_DETAIL]) from None


def usable_plan(plan: Plan, templates: list[AppTemplate]) -> list[PlanOption]:
    """The plan's options kept to known templates (check_plan), at most 3."""
    try:
        return check_plan(plan, templates)[:3]
    except InvalidInput as exc:
        named = ", ".join(option.template for option in plan.options)
        raise PlannerFailed(UNUSABLE, detail=f"{exc.message} (it named: {named})") from None


def scrubbed(text: str, secret: str) -> str:
    """`text` with `secret` masked: SDK errors may quote a request, and APIs echo keys."""
    return text.replace(secret, "***") if secret else text


class ModelPlanner(ABC):
    """A planner that asks a language model; subclasses say how to reach one (`complete`)."""

    name: str
    default_model: str
    offline = False

    def __init__(
        self,
        api_key: str,
        base_url: str | None = None,
        model: str | None = None,
        timeout: float = 60.0,
        *,
        max_retries: int = 2,
    ) -> None:
        self.model = model or self.default_model
        self._key = api_key
        self._base_url = base_url or None  # None: the SDK's own (the vendor's API)
        self._timeout = timeout
        self._max_retries = max_retries

    @abstractmethod
    async def complete(self, prompt: Prompt) -> str:
        """The model's text answer to `prompt`; PlannerFailed when there is none."""

    @abstractmethod
    async def complete_with_tools(self, prompt: Prompt, tools: tuple[Tool, ...]) -> ToolAnswer:
        """The model's answer to `prompt` with `tools` offered: its text and the tools it
        called, none of them run; PlannerFailed when the API gives no answer."""

    async def questions(self, idea: str) -> list[Question]:
        answer = await self.complete(questions_prompt(idea))
        return parsed(answer, Questions).questions

    async def brief(self, idea: str, questions: list[Question], answers: list[Answer]) -> Brief:
        answer = await self.complete(brief_prompt(idea, questions, answers))
        return parsed(answer, Brief)

    async def plan(self, brief: Brief, templates: list[AppTemplate]) -> list[PlanOption]:
        answer = await self.complete(plan_prompt(brief, templates))
        return usable_plan(parsed(answer, Plan), templates)

    async def change_questions(self, brief: Brief, change: str) -> list[Question]:
        answer = await self.complete(change_questions_prompt(brief, change))
        return parsed(answer, ChangeQuestions).questions

    async def clarify_change(
        self, brief: Brief, change: str, questions: list[Question], answers: list[Answer]
    ) -> str:
        answer = await self.complete(clarify_prompt(brief, change, questions, answers))
        return parsed(answer, ClarifiedChange).clarified.strip()

    async def judge_alignment(self, brief: Brief, changes: list[str]) -> Judgement | None:
        if not changes:
            return None
        answer = await self.complete(judgement_prompt(brief, changes))
        return parsed(answer, Judgement)

    async def chat(self, context: ChatContext, message: str) -> Reply | None:
        answer = await self.complete_with_tools(chat_prompt(context, message), CHAT_TOOLS)
        return chat_reply(context, answer)


def sdk_failure(sdk: ModuleType, exc: Exception, where: str, key: str) -> PlannerFailed:
    """An error of the `anthropic` or `openai` SDK (both name their errors alike) in plain
    words; the technical text, without the key, as its detail."""
    detail = scrubbed(f"{type(exc).__name__}: {exc}", key)
    if isinstance(exc, sdk.AuthenticationError | sdk.PermissionDeniedError):
        return PlannerFailed(KEY_REFUSED, detail=detail)
    if isinstance(exc, sdk.APITimeoutError):
        return PlannerFailed(unreachable(f"no answer from {where} in time."), detail=detail)
    if isinstance(exc, sdk.APIConnectionError):
        return PlannerFailed(unreachable(f"no connection to {where}."), detail=detail)
    if isinstance(exc, sdk.RateLimitError):
        return PlannerFailed(RATE_LIMITED, detail=detail)
    if isinstance(exc, sdk.APIStatusError):
        said = scrubbed(_api_message(exc.body, exc.status_code), key)
        return PlannerFailed(f"The assistant answered with an error: {said}", detail=detail)
    return PlannerFailed(UNUSABLE, detail=detail)


def _api_message(body: Any, status: int) -> str:
    """The API's own words for an error (`{"error": {"message": ...}}` or the error object
    itself, as an SDK hands it), else its status."""
    error = body.get("error", body) if isinstance(body, dict) else None
    message = error.get("message") if isinstance(error, dict) else None
    return f"{message} ({status})" if message else f"status {status}"
