"""What a planner is: the assistant behind the builder's questions, brief, plan and changes.

A planner answers three asks in turn: a few clarifying questions about the founder's idea, the
brief (scope) made from the idea and the answers, and 2 or 3 plan options, each naming a
template Paddock ships. Later, for each change request: one or two clarifying questions, the
clarified change, and (a model only) a judgement of how well the changes keep to the brief.
The offline planner does this without a model; the SDK planners ask one (Anthropic,
OpenAI-compatible) and validate what it answered.

With a model, the planner also answers the builder's chat (chat_tools.py): the app's state
and the founder's message in, text and at most one proposed action (a tool call) out.

A model's unusable answer, a refused key or an unreachable API is a `PlannerFailed`: a plain
message for the founder, the technical detail kept in the error's details (never the key).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from pydantic import BaseModel, ConfigDict, Field

from paddock.domain.builder.brief import Answer, Brief, Question
from paddock.domain.builder.chat_context import ChatContext, Reply
from paddock.domain.builder.templates import AppTemplate, PlanOption
from paddock.domain.errors import PaddockError

UNUSABLE = "The assistant's answer could not be used. Try again."
KEY_REFUSED = "The API key was refused. Check it in the settings."
RATE_LIMITED = "The assistant is busy (too many requests). Wait a minute and try again."


def unreachable(why: str) -> str:
    return f"The assistant could not be reached: {why}"


class Judgement(BaseModel):
    """A model's alignment score of an app's changes against its brief, and why."""

    model_config = ConfigDict(frozen=True)

    score: int = Field(ge=0, le=100)
    reason: str = Field(max_length=2000)


@dataclass(frozen=True)
class Prompt:
    """One ask of a model: its system prompt and the user's message."""

    system: str
    user: str


class PlannerFailed(PaddockError):
    """The planner gave no usable answer; `detail` (in `details`) says what went wrong."""

    code = "planner_failed"
    http_status = 502

    def __init__(self, message: str = UNUSABLE, *, detail: str = "") -> None:
        super().__init__(message, detail=detail)

    @property
    def detail(self) -> str:
        return str(self.details.get("detail", ""))


class Planner(Protocol):
    """Turns an idea into questions, a brief and plan options."""

    name: str  # "offline", "anthropic", "openai"
    offline: bool  # True when it needs no network (and no key)

    async def questions(self, idea: str) -> list[Question]: ...

    async def brief(self, idea: str, questions: list[Question], answers: list[Answer]) -> Brief: ...

    async def plan(self, brief: Brief, templates: list[AppTemplate]) -> list[PlanOption]:
        """At most 3 options, each naming one of `templates`, exactly one recommended."""
        ...

    async def change_questions(self, brief: Brief, change: str) -> list[Question]:
        """One or two questions that make a change request clear enough to build."""
        ...

    async def clarify_change(
        self, brief: Brief, change: str, questions: list[Question], answers: list[Answer]
    ) -> str:
        """The change described again with the answers in it: what the agent is asked."""
        ...

    async def judge_alignment(self, brief: Brief, changes: list[str]) -> Judgement | None:
        """A model's view of how well `changes` keep to the brief (None: no model)."""
        ...

    async def chat(self, context: ChatContext, message: str) -> Reply | None:
        """The builder chat's reply to one founder message about the app in `context`, an
        action in it only proposed, never run (None: no model; the chat's grammar answers)."""
        ...
