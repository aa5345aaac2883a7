"""The public read models of the builder's chat: the snapshot of the app it answers from, a
reply (with the action it proposes), and what a confirmed action did."""

from __future__ import annotations

from typing import Self

from pydantic import Field

from paddock.domain.builder.apps import AppStage
from paddock.domain.builder.builds import BuildStatus
from paddock.domain.builder.chat import ChatContext, Reply
from paddock.domain.builder.chat_actions import ActionKind
from paddock.domain.public.model import PublicModel


class ChatBuildPublic(PublicModel):
    number: int
    status: BuildStatus
    label: str
    error: str | None
    failed_stage: str | None
    retryable: bool
    cancellable: bool


class ChatIssuePublic(PublicModel):
    title: str
    fix: str


class ChatDeployPublic(PublicModel):
    light: str
    blockers: list[ChatIssuePublic]
    warnings: list[ChatIssuePublic]


class ChatContextPublic(PublicModel):
    """What the chat knows of the app: taken when the panel opens and after each action."""

    app_id: str
    app_name: str
    stage: AppStage
    stage_label: str
    features: list[str]
    non_goals: list[str]
    latest_version: str | None
    preview_url: str | None
    build: ChatBuildPublic | None = Field(description="The latest build")
    gate_pending: bool
    parked: bool
    iterations_used: int
    iteration_limit: int
    tier: str
    alignment_score: int | None
    alignment_band: str | None
    deploy: ChatDeployPublic | None = Field(description="The last deploy readiness checked")

    @classmethod
    def of(cls, context: ChatContext) -> Self:
        return cls.read(context)


class ProposedActionPublic(PublicModel):
    kind: ActionKind
    label: str = Field(description="The button's words")
    params: dict[str, str]
    confirm: str = Field(description="The question shown above the button")


class ChatReplyPublic(PublicModel):
    text: str
    action: ProposedActionPublic | None = Field(description="Runs only once confirmed")
    link: str | None = Field(description="A builder page the reply points to")

    @classmethod
    def of(cls, reply: Reply) -> Self:
        return cls.read(reply)


class ChatDonePublic(PublicModel):
    """A confirmed action, done: what happened, where to look, the app now."""

    text: str
    link: str | None
    context: ChatContextPublic


__all__ = [
    "ChatBuildPublic",
    "ChatContextPublic",
    "ChatDeployPublic",
    "ChatDonePublic",
    "ChatIssuePublic",
    "ChatReplyPublic",
    "ProposedActionPublic",
]
