"""What creating, changing and ordering workflow steps takes, and moving a task between them
(the steps API and the UI's workflow manager)."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field
from pydantic.config import JsonDict

from paddock.domain.states import Automation, StepRole, TestKind
from paddock.domain.workflow import PROMPT_VARIABLES
from paddock.inputs.attempts import AgentIn
from paddock.inputs.scalars import Flag, Index
from paddock.inputs.text import Trimmed, refused_blank

STEP_NAME = refused_blank(100)  # domain/workflow.py's rules (`bad_step_name`, `bad_color`)
COLOR: JsonDict = {"pattern": r"^\s*#[0-9a-fA-F]{6}\s*$"}

_TEMPLATE_HELP = "Variables, as {{ name }}: " + ", ".join(PROMPT_VARIABLES)
_ROLE_HELP = (
    "What the card flow uses the step for: in_progress (a card goes there when an attempt "
    "starts), review (when the agent's turn ends), done (when its attempt is merged); taking "
    "a role takes it from the step that had it"
)


class StepAgentIn(AgentIn):
    profile: Trimmed


class StepCreate(BaseModel):
    name: Trimmed = Field(json_schema_extra=STEP_NAME)
    color: Trimmed = Field("#64748b", description="#rrggbb", json_schema_extra=COLOR)
    position: Index | None = Field(None, description="0 = first; none = last")
    agent: StepAgentIn | None = Field(None, description="none: the attempt's own agent")
    prompt_template: str = Field("", description=_TEMPLATE_HELP)
    automation: Automation | None = Field(None, description="What entering the step runs")
    gate: list[TestKind] = Field(
        default_factory=list,
        description="Test kinds whose latest run (on the attempt's latest commit) must pass",
    )
    role: StepRole | None = Field(None, description=_ROLE_HELP)

    def arguments(self) -> dict[str, Any]:
        """As WorkflowService.create takes them."""
        return {
            "name": self.name,
            "color": self.color,
            "position": self.position,
            "agent": self.agent.to_spec() if self.agent else None,
            "prompt_template": self.prompt_template,
            "automation": self.automation,
            "gate": [kind.value for kind in self.gate],
            "role": self.role,
        }


class StepUpdate(BaseModel):
    name: Trimmed | None = Field(None, json_schema_extra=STEP_NAME)
    color: Trimmed | None = Field(None, json_schema_extra=COLOR)
    agent: StepAgentIn | None = None
    prompt_template: str | None = Field(None, description=_TEMPLATE_HELP)
    automation: Automation | None = None
    gate: list[TestKind] | None = None
    role: StepRole | None = Field(None, description=_ROLE_HELP + "; null: none")

    def changes(self) -> dict[str, Any]:
        """The fields sent, as WorkflowService.update takes them (`agent`, `automation`,
        `role` sent as null clear them)."""
        # null name, color or template: as if not sent (they are never empty)
        changes = {
            field: value
            for field, value in self.model_dump(
                exclude_unset=True, exclude={"agent", "gate"}
            ).items()
            if value is not None or field not in {"name", "color", "prompt_template"}
        }
        if "agent" in self.model_fields_set:
            changes["agent"] = self.agent.to_spec() if self.agent else None
        if "gate" in self.model_fields_set:
            changes["gate"] = [kind.value for kind in self.gate or []]
        return changes


class StepOrder(BaseModel):
    step_ids: list[str] = Field(description="Every step of the project, in its new order")


class TaskMoveIn(BaseModel):
    step_id: Trimmed
    position: Index | None = Field(None, description="Place within the step; none = last")
    below: str | None = Field(None, description='Just below this card ("" = at the top)')
    force: Flag = Field(False, description="Past a failing gate (needs a reason; recorded)")
    reason: Trimmed = ""


class StepPromptIn(BaseModel):
    prompt: str = Field(description=_TEMPLATE_HELP)
