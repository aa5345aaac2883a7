"""What the builder face's actions take: an idea, answers, a brief edit, a plan choice, a
build, a change request and its confirmation, a decision."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError
from pydantic.config import JsonDict

from paddock.domain.builder.brief import MAX_FEATURES, Brief, Feature
from paddock.domain.builder.changes import MAX_CHANGE
from paddock.domain.builder.chat_actions import ACTIONS, ActionKind
from paddock.domain.builder.chat_text import MAX_MESSAGE
from paddock.domain.builder.gates import MAX_REASON, GateChoice
from paddock.domain.errors import InvalidInput
from paddock.inputs.attempts import AgentIn
from paddock.inputs.scalars import Flag
from paddock.inputs.text import BRANCH_NAME, Trimmed, TrimmedOrNone, refused_blank
from paddock.services.builder.apps import MAX_IDEA


class AppCreate(BaseModel):
    idea: Trimmed = Field(
        description="What the founder wants to build, in their words",
        json_schema_extra=refused_blank(MAX_IDEA),
    )
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


# What the domain's Brief takes (domain/builder/brief.py), said in the document: features
# without a name are dropped, and at least one must be left.
_NAMED: JsonDict = {
    "type": "object",
    "properties": {"name": {"pattern": r"\S"}},
    "required": ["name"],
}


class BriefIn(BaseModel):
    """The whole brief, as the founder edited it."""

    name: Trimmed = Field(json_schema_extra=refused_blank(80))
    problem: Trimmed = Field(json_schema_extra=refused_blank(2000))
    users: Trimmed = Field(json_schema_extra=refused_blank(2000))
    features: list[FeatureIn] = Field(
        min_length=1,
        max_length=MAX_FEATURES,
        description="Each named once; unnamed ones are dropped",
        json_schema_extra={"contains": _NAMED},
    )
    non_goals: list[Trimmed] = Field(default_factory=list, max_length=MAX_FEATURES)

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
    description: Trimmed = Field(
        description="The change, in the founder's words",
        json_schema_extra=refused_blank(MAX_CHANGE),
    )


class ChangeConfirm(BaseModel):
    confirm_last: Flag = Field(
        default=False, description="Yes, use the tier's last iteration on this change"
    )


class GateDecision(BaseModel):
    choice: GateChoice
    reason: str = Field(default="", max_length=MAX_REASON, description="Why, in their words")


class VersionPush(BaseModel):
    remote: Trimmed = Field("origin", description="A remote of the app's repository")
    branch: Trimmed = Field(
        "main", description="The remote branch the version goes to", json_schema_extra=BRANCH_NAME
    )
    force: Flag = Field(False, description="Replace what the branch has (--force-with-lease)")


class ChatMessage(BaseModel):
    message: str = Field(max_length=MAX_MESSAGE, description="What the founder typed")


# What the services behind an action refuse in its parameters, besides their choices.
_PARAM_RULES: dict[tuple[ActionKind, str], JsonDict] = {
    (ActionKind.submit_change_request, "text"): refused_blank(MAX_CHANGE),
    (ActionKind.retry_build, "build_number"): {"pattern": "^[0-9]+$"},
    (ActionKind.cancel_build, "build_number"): {"pattern": "^[0-9]+$"},
}


def _parameters(kind: ActionKind) -> dict[str, Any]:
    schema = ACTIONS[kind].parameters_schema()
    properties: dict[str, dict[str, Any]] = schema["properties"]  # type: ignore[assignment]
    for name, prop in properties.items():
        prop.update(_PARAM_RULES.get((kind, name), {}))
    return schema


def _one_of_the_actions(schema: dict[str, Any]) -> None:
    """Each kind with exactly its parameters (domain/builder/chat_actions.py)."""
    schema["oneOf"] = [
        {
            "properties": {"kind": {"const": kind.value}, "params": _parameters(kind)},
            "required": ["kind", "params"] if spec.parameters else ["kind"],
        }
        for kind, spec in ACTIONS.items()
    ]


class ChatAction(BaseModel):
    """An action the chat proposed, confirmed by the founder."""

    model_config = ConfigDict(json_schema_extra=_one_of_the_actions)

    kind: ActionKind
    params: dict[str, str] = Field(default_factory=dict)
