"""What starting an attempt takes (its agent, prompt, branches, sandbox), and rewinding one."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field, field_validator

from paddock.domain.entities import AgentSpec
from paddock.web.inputs.sandbox import SandboxIn
from paddock.web.inputs.text import EnvName, EnvVars, Trimmed, TrimmedOrNone

DEFAULT_VARIANT = "default"


class AgentIn(BaseModel):
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
    agent: AgentIn = Field(default_factory=AgentIn)
    prompt: TrimmedOrNone = Field(default=None, description="Blank: the task's text")
    base_branch: TrimmedOrNone = Field(default=None, description="Blank: the project's")
    branch: TrimmedOrNone = Field(default=None, description="Blank: paddock/<id>-<slug>")
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
