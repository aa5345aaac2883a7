"""What the builder face's actions take: an idea, answers, a brief edit, a plan choice, a
build, a change request and its confirmation, a decision."""

from __future__ import annotations

from pydantic import BaseModel, Field, ValidationError

from paddock.domain.builder.brief import Brief, Feature
from paddock.domain.builder.chat_actions import ActionKind
from paddock.domain.builder.chat_text import MAX_MESSAGE
from paddock.domain.builder.gates import MAX_REASON, GateChoice
from paddock.domain.errors import InvalidInput
from paddock.web.inputs.attempts import AgentIn
from paddock.web.inputs.text import Trimmed, TrimmedOrNone


class AppCreate(BaseModel):
    idea: Trimmed = Field(description="What the founder wants to build, in their words")
    repo_path: TrimmedOrNone = Field(
        default=None,
        description="An existing git repository to build in; none: a new one in the data dir",
    )
    agent: AgentIn | None = Field(
        default=None, description="The agent of its builds; none: the builder_agent setting"
    )


class AnswersIn(BaseModel):
    answers: dict[str, str] = Field(description="Question id -> the founder's answer")


class FeatureIn(BaseModel):
    name: Trimmed
    description: str = ""


class BriefIn(BaseModel):
    """The whole brief, as the founder edited it."""

    name: Trimmed
    problem: Trimmed
    users: Trimmed
    features: list[FeatureIn] = Field(min_length=1, max_length=8)
    non_goals: list[Trimmed] = Field(default_factory=list)

    def brief(self) -> Brief:
        """The domain's brief; its rules (1 to 8 uniquely named features, lengths) refuse
        with `bad_brief` and what is wrong."""
        try:
            return Brief(
                name=self.name,
                problem=self.problem,
                users=self.users,
                features=[
                    Feature(name=f.name, description=f.description) for f in self.features if f.name
                ],
                non_goals=[n for n in self.non_goals if n],
            )
        except ValidationError as exc:
            said = "; ".join(
                f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in exc.errors()
            )
            raise InvalidInput(f"the brief is not complete: {said}", code="bad_brief") from None


class PlanChoice(BaseModel):
    template: Trimmed = Field(description="The plan option's template")


class BuildCreate(BaseModel):
    """The first build of an app (later ones are change requests: ChangeCreate)."""


class ChangeCreate(BaseModel):
    description: Trimmed = Field(description="The change, in the founder's words")


class ChangeConfirm(BaseModel):
    confirm_last: bool = Field(
        default=False, description="Yes, use the tier's last iteration on this change"
    )


class GateDecision(BaseModel):
    choice: GateChoice
    reason: str = Field(default="", max_length=MAX_REASON, description="Why, in their words")


class VersionPush(BaseModel):
    remote: Trimmed = Field("origin", description="A remote of the app's repository")
    branch: Trimmed = Field("main", description="The remote branch the version goes to")
    force: bool = Field(False, description="Replace what the branch has (--force-with-lease)")


class ChatMessage(BaseModel):
    message: str = Field(max_length=MAX_MESSAGE, description="What the founder typed")


class ChatAction(BaseModel):
    """An action the chat proposed, confirmed by the founder."""

    kind: ActionKind
    params: dict[str, str] = Field(default_factory=dict)
