"""The offline planner: no model, no network. It asks the fixed questions, puts the founder's
answers in place as the brief, and offers the templates themselves as the plan (the first
that needs no network recommended), so the builder works on a machine with no key at all.
For a change request it asks a fixed pair of questions and folds the answers in as they are;
it has no judgement of alignment (the lexical score stands alone), and leaves the chat to
its grammar (domain/builder/chat.py).
"""

from __future__ import annotations

from paddock.domain.builder.brief import OFFLINE_QUESTIONS, Answer, Brief, Question, assemble_brief
from paddock.domain.builder.changes import OFFLINE_CHANGE_QUESTIONS, assemble_clarified
from paddock.domain.builder.chat_context import ChatContext, Reply
from paddock.domain.builder.templates import AppTemplate, PlanOption, template_options
from paddock.planners.base import Judgement


class OfflinePlanner:
    name = "offline"
    offline = True

    async def questions(self, idea: str) -> list[Question]:
        return list(OFFLINE_QUESTIONS)

    async def brief(self, idea: str, questions: list[Question], answers: list[Answer]) -> Brief:
        return assemble_brief(idea, {answer.question_id: answer.text for answer in answers})

    async def plan(self, brief: Brief, templates: list[AppTemplate]) -> list[PlanOption]:
        return template_options(templates, offline=True)

    async def change_questions(self, brief: Brief, change: str) -> list[Question]:
        return list(OFFLINE_CHANGE_QUESTIONS)

    async def clarify_change(
        self, brief: Brief, change: str, questions: list[Question], answers: list[Answer]
    ) -> str:
        said = {answer.question_id: answer.text for answer in answers}
        return assemble_clarified(change, tuple(questions), said)

    async def judge_alignment(self, brief: Brief, changes: list[str]) -> Judgement | None:
        return None

    async def chat(self, context: ChatContext, message: str) -> Reply | None:
        return None
