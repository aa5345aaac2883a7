"""What starting an attempt takes (its agent, prompt, branches, sandbox), and rewinding one."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator

from paddock.domain.entities import AgentSpec
from paddock.inputs.agents import NEEDS_COMMAND, PROFILES
from paddock.inputs.sandbox import SandboxIn
from paddock.inputs.text import (
    BRANCH_NAME_OR_BLANK,
    EnvName,
    EnvVars,
    Trimmed,
    TrimmedOrNone,
)

DEFAULT_VARIANT = "default"


def _agent_schema(schema: dict[str, Any]) -> None:
    """The registry's rules, said in the document: a known profile; the script agent (the
    default) with a command (`unknown_agent`, `agent_command_missing`)."""
    schema["properties"]["profile"]["enum"] = PROFILES
    schema["if"] = {"properties": {"profile": {"enum": NEEDS_COMMAND}}}
    schema["then"] = {"required": ["command"], "properties": {"command": {"pattern": r"\S"}}}


class AgentIn(BaseModel):
    model_config = ConfigDict(json_schema_extra=_agent_schema)

    profile: Trimmed = "script"
    variant: Trimmed = Field(
        default=DEFAULT_VARIANT, description="One of the profile's variants; blank: default"
    )
    command: Trimmed = Field(default="", description="For the script agent: the shell command")
    env: EnvVars = Field(default_factory=dict)
    secret_env: list[EnvName] = Field(
        default_factory=list, description="Names in env whose values are secret"
    )

    @field_validator("variant")
    @classmethod
    def _blank_variant_is_default(cls, variant: str) -> str:
        return variant or DEFAULT_VARIANT

    def to_spec(self) -> AgentSpec:
        return AgentSpec(**self.model_dump())


class AttemptCreate(BaseModel):
    # Without an agent it is the script agent without a command, always refused
    # (`agent_command_missing`): the document says to send one.
    model_config = ConfigDict(json_schema_extra={"required": ["agent"]})

    agent: AgentIn = Field(default_factory=AgentIn)
    prompt: TrimmedOrNone = Field(default=None, description="Blank: the task's text")
    base_branch: TrimmedOrNone = Field(
        default=None, description="Blank: the project's", json_schema_extra=BRANCH_NAME_OR_BLANK
    )
    branch: TrimmedOrNone = Field(
        default=None,
        description="Blank: paddock/<id>-<slug>",
        json_schema_extra=BRANCH_NAME_OR_BLANK,
    )
    sandbox: SandboxIn | None = Field(
        default=None, description="Overrides the project's sandbox choice for this attempt"
    )

    def arguments(self) -> dict[str, Any]:
        """As AttemptService.start takes them."""
        return {
            "agent": self.agent.to_spec(),
            "prompt": self.prompt,
            "base_branch": self.base_branch,
            "branch": self.branch,
            "sandbox": self.sandbox.to_config() if self.sandbox else None,
        }


class RewindIn(BaseModel):
    process_id: Trimmed = Field(description="The agent turn to undo, with every process after it")
